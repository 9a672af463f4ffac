-- 0013: timeline previews count in the storage budget. Each segment's
-- previews file (<start>.previews beside <start>.mp4) takes preview_bytes;
-- the hub writes it when it closes the file and, at start-up, for every
-- previews file on disk (files from before this column included).
ALTER TABLE recordings ADD COLUMN preview_bytes INTEGER NOT NULL DEFAULT 0
    CHECK (preview_bytes >= 0);
