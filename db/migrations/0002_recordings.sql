-- 0002: recorded segments and deferred deletions.

-- One row per segment file (fragmented MP4) under data_dir/recordings/.
-- A row is inserted as soon as the file exists with its init segment
-- ('open'); `bytes` and the times grow after every fsync; 'closed' once the
-- file is final. Start-up reconciliation repairs 'open' rows left by a crash.
CREATE TABLE recordings (
    id             INTEGER PRIMARY KEY,
    device_id      TEXT NOT NULL,
    path           TEXT NOT NULL UNIQUE,    -- relative to data_dir/recordings
    class          TEXT NOT NULL DEFAULT 'continuous' CHECK (class IN ('continuous', 'event')),
    state          TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    start_ms       INTEGER NOT NULL,        -- capture time of the first frame
    end_ms         INTEGER NOT NULL,        -- capture time after the last durable frame
    bytes          INTEGER NOT NULL,        -- durable bytes of the file
    video_frames   INTEGER NOT NULL DEFAULT 0,
    audio_packets  INTEGER NOT NULL DEFAULT 0,
    width          INTEGER NOT NULL DEFAULT 0,
    height         INTEGER NOT NULL DEFAULT 0,
    keyframe_index BLOB NOT NULL DEFAULT x''  -- segment_index.c encoding
);
CREATE INDEX recordings_by_device_time ON recordings(device_id, start_ms);
CREATE INDEX recordings_by_start ON recordings(start_ms);

-- Files to delete: written before the recordings row goes, removed after the
-- file is unlinked, so a crash in between never leaves a row without a file
-- or an unlisted file.
CREATE TABLE pending_deletions (
    path         TEXT PRIMARY KEY,          -- relative to data_dir/recordings
    requested_at INTEGER NOT NULL
) WITHOUT ROWID;
