-- 0001: accounts, sessions, doorbells, audit log.
-- Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE
                  CHECK (length(username) BETWEEN 1 AND 64),
    password_hash TEXT NOT NULL,             -- argon2id encoded string
    role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

-- Browser sessions. Only a SHA-256 of the cookie token is stored, so a copy
-- of the database does not hand out live sessions.
CREATE TABLE sessions (
    token_hash    BLOB PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    remote_address TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE INDEX sessions_by_expiry ON sessions(expires_at);

-- Doorbells known to the hub. `secret` is the pre-pairing device secret
-- (32 random bytes) the device proves with HMAC; NULL once revoked.
CREATE TABLE devices (
    id            TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 63),
    name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    secret        BLOB,
    created_at    INTEGER NOT NULL,
    revoked_at    INTEGER,
    last_seen_at  INTEGER,
    firmware      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- Which doorbells a viewer may see. Admins see every doorbell.
CREATE TABLE user_devices (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, device_id)
) WITHOUT ROWID;

-- Who did what: logins, setup, device changes, later views and exports.
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    user_id        INTEGER,          -- NULL for the system or an unknown user
    username       TEXT NOT NULL DEFAULT '',
    action         TEXT NOT NULL,
    target         TEXT NOT NULL DEFAULT '',
    detail         TEXT NOT NULL DEFAULT '',
    remote_address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_by_time ON audit_log(at);
