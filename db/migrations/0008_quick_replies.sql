-- Quick replies: short spoken messages a doorbell plays to the visitor.
-- The audio lives in data_dir/replies/<id>.reply (20 ms Opus packets, see
-- common/reply_clip.h); version grows when the audio changes, so a
-- doorbell's cached copy is known to be stale.
CREATE TABLE quick_replies (
    id          INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: doorbells cache by id
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    duration_ms INTEGER NOT NULL CHECK (duration_ms BETWEEN 20 AND 30000),
    stock       INTEGER NOT NULL DEFAULT 0,  -- generated at build time (espeak-ng)
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL, -- NULL for stock replies
    created_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);

-- Auto-reply: in a mode, when nobody opens live view within delay_s of a
-- ring, the doorbell plays reply_id. No row: no auto-reply.
CREATE TABLE auto_replies (
    device_id TEXT NOT NULL,
    mode      TEXT NOT NULL CHECK (mode IN ('home', 'away', 'disarmed')),
    reply_id  INTEGER NOT NULL REFERENCES quick_replies(id) ON DELETE CASCADE,
    delay_s   INTEGER NOT NULL CHECK (delay_s BETWEEN 1 AND 600),
    PRIMARY KEY (device_id, mode)
);

-- The quick reply the doorbell played by itself after a ring (NULL: none).
ALTER TABLE events ADD COLUMN auto_reply_id INTEGER;
