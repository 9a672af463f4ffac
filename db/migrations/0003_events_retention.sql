-- 0003: events, per-doorbell recording settings, retention history.

-- One row per event a doorbell reported (ring, motion, pir, tamper, ...).
-- start_ms/end_ms are the event itself (end grows while it is ongoing);
-- clip_start_ms/clip_end_ms the footage it refers to: pre-roll before,
-- post-roll after. In 24/7 mode that footage is the continuous segments
-- overlapping the clip, which retention keeps as long as the event's own
-- retention says (or for ever while the event is starred).
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    device_id       TEXT NOT NULL,
    type            TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 32),
    device_event_id INTEGER NOT NULL DEFAULT 0,  -- the doorbell's own counter
    active          INTEGER NOT NULL DEFAULT 0,  -- still ongoing
    start_ms        INTEGER NOT NULL,
    end_ms          INTEGER NOT NULL,
    clip_start_ms   INTEGER NOT NULL,
    clip_end_ms     INTEGER NOT NULL,
    score           REAL NOT NULL DEFAULT 0,
    boxes           TEXT NOT NULL DEFAULT '[]',  -- JSON [{x,y,w,h}] normalised 0..1
    starred         INTEGER NOT NULL DEFAULT 0,
    snapshot        BLOB                          -- JPEG at the event, NULL until it arrives
);
CREATE INDEX events_by_device_time ON events(device_id, start_ms);
CREATE INDEX events_by_start ON events(start_ms);
CREATE INDEX events_starred ON events(device_id, clip_start_ms) WHERE starred;

-- Recording settings per doorbell; a doorbell without a row uses the
-- defaults below (the hub inserts nothing until an admin changes one).
CREATE TABLE recording_settings (
    device_id         TEXT PRIMARY KEY,
    mode              TEXT NOT NULL DEFAULT 'continuous'
                      CHECK (mode IN ('continuous', 'events', 'off')),
    continuous_days   INTEGER NOT NULL DEFAULT 7  CHECK (continuous_days BETWEEN 1 AND 3650),
    event_days        INTEGER NOT NULL DEFAULT 30 CHECK (event_days BETWEEN 1 AND 3650),
    pre_roll_seconds  INTEGER NOT NULL DEFAULT 5  CHECK (pre_roll_seconds BETWEEN 0 AND 30),
    post_roll_seconds INTEGER NOT NULL DEFAULT 10 CHECK (post_roll_seconds BETWEEN 0 AND 300)
) WITHOUT ROWID;

-- Each time retention had to delete footage that its days would still have
-- kept (disk budget or free space), so the UI can say so.
CREATE TABLE retention_cuts (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    device_id     TEXT NOT NULL,
    reason        TEXT NOT NULL CHECK (reason IN ('budget', 'free_space')),
    segments      INTEGER NOT NULL,
    bytes         INTEGER NOT NULL,
    footage_to_ms INTEGER NOT NULL   -- footage before this instant is gone
);
CREATE INDEX retention_cuts_by_device ON retention_cuts(device_id, at);
