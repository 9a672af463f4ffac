-- Rights per doorbell grant: a viewer's grant carries four separate rights,
-- live (live view, snapshots of now), recordings (timeline, recordings,
-- playback, events and their pictures), export (MP4 clips) and talk
-- (talk-back, quick replies; added earlier). Existing grants keep
-- live, recordings and export. A grant with no right is no grant.
ALTER TABLE user_devices ADD COLUMN live INTEGER NOT NULL DEFAULT 1 CHECK (live IN (0, 1));
ALTER TABLE user_devices ADD COLUMN recordings INTEGER NOT NULL DEFAULT 1
    CHECK (recordings IN (0, 1));
ALTER TABLE user_devices ADD COLUMN export INTEGER NOT NULL DEFAULT 1 CHECK (export IN (0, 1));

-- One-time invites: an admin hands out a link; whoever opens it first
-- picks a username and password and gets the role and grants. Only the
-- SHA-256 of the link's token is kept.
CREATE TABLE invites (
    id           INTEGER PRIMARY KEY,
    token_hash   BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    role         TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    note         TEXT NOT NULL DEFAULT '',
    created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    used_at      INTEGER,
    used_by      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    withdrawn_at INTEGER
);

-- The doorbell grants an invite hands out (as user_devices).
CREATE TABLE invite_grants (
    invite_id  INTEGER NOT NULL REFERENCES invites(id) ON DELETE CASCADE,
    device_id  TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    live       INTEGER NOT NULL CHECK (live IN (0, 1)),
    recordings INTEGER NOT NULL CHECK (recordings IN (0, 1)),
    export     INTEGER NOT NULL CHECK (export IN (0, 1)),
    talk       INTEGER NOT NULL CHECK (talk IN (0, 1)),
    PRIMARY KEY (invite_id, device_id)
) WITHOUT ROWID;
