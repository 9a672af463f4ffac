-- 0004: what notifies (modes, cooldowns) and where (ntfy, webhooks), with a
-- persistent outbox.

-- Hub-wide settings as key/value text. 'mode': home | away | disarmed.
CREATE TABLE hub_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO hub_settings (key, value) VALUES ('mode', 'home');

-- Which event types notify in which mode. Events are stored whatever the
-- mode; the mode only decides whether anyone is told.
CREATE TABLE mode_notifications (
    mode TEXT NOT NULL CHECK (mode IN ('home', 'away', 'disarmed')),
    type TEXT NOT NULL,
    PRIMARY KEY (mode, type)
) WITHOUT ROWID;
INSERT INTO mode_notifications (mode, type) VALUES
    ('home', 'ring'), ('home', 'tamper'), ('home', 'offline'), ('home', 'low_battery'),
    ('away', 'ring'), ('away', 'motion'), ('away', 'pir'), ('away', 'person'),
    ('away', 'package'), ('away', 'tamper'), ('away', 'offline'), ('away', 'online'),
    ('away', 'low_battery');

-- Minimum time between two notifications of one type from one doorbell;
-- device_id '*' is the default for every doorbell. Without a row: no cooldown.
CREATE TABLE event_cooldowns (
    device_id TEXT NOT NULL,
    type      TEXT NOT NULL,
    seconds   INTEGER NOT NULL CHECK (seconds BETWEEN 0 AND 86400),
    PRIMARY KEY (device_id, type)
) WITHOUT ROWID;
INSERT INTO event_cooldowns (device_id, type, seconds) VALUES
    ('*', 'motion', 60), ('*', 'pir', 60), ('*', 'person', 60), ('*', 'low_battery', 3600);

-- When a doorbell's motion counts (motion, pir, person events): a weekly
-- schedule as JSON (events/weekly_schedule.h); no row = always.
CREATE TABLE motion_schedules (
    device_id TEXT PRIMARY KEY,
    schedule  TEXT NOT NULL
) WITHOUT ROWID;

-- What became of each event's notification: '' (not decided yet), 'sent'
-- (queued for the targets and the open UIs), 'cooldown', 'mode'.
ALTER TABLE events ADD COLUMN notify TEXT NOT NULL DEFAULT '';
-- The few events still going on, for the housekeeping that ends silent ones.
CREATE INDEX events_active ON events(end_ms) WHERE active;

-- Where notifications go.
CREATE TABLE notification_targets (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    kind        TEXT NOT NULL CHECK (kind IN ('ntfy', 'webhook')),
    url         TEXT NOT NULL CHECK (length(url) BETWEEN 8 AND 512), -- ntfy: server; webhook: endpoint
    topic       TEXT NOT NULL DEFAULT '',  -- ntfy topic
    token       TEXT NOT NULL DEFAULT '',  -- ntfy access token (Bearer)
    username    TEXT NOT NULL DEFAULT '',  -- ntfy basic auth
    password    TEXT NOT NULL DEFAULT '',
    secret      TEXT NOT NULL DEFAULT '',  -- webhook signing secret, "whsec_<base64>"
    event_types TEXT NOT NULL DEFAULT '',  -- comma-separated; '' = every type
    device_ids  TEXT NOT NULL DEFAULT '',  -- comma-separated; '' = every doorbell
    schedule    TEXT NOT NULL DEFAULT '',  -- JSON (see docs/api.md); '' = always
    actions     INTEGER NOT NULL DEFAULT 1, -- ntfy action buttons (view live, view clip)
    insecure_tls INTEGER NOT NULL DEFAULT 0, -- https without certificate checks (LAN self-signed)
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL
);

-- One row per (event, target): delivered at most once. A test message has
-- no event. 'sending' survives a crash only as 'unknown' (never resent, so
-- nothing is sent twice); every failure is kept for the UI.
CREATE TABLE notification_outbox (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER REFERENCES events(id) ON DELETE CASCADE,
    target_id       INTEGER NOT NULL REFERENCES notification_targets(id) ON DELETE CASCADE,
    message_id      TEXT NOT NULL UNIQUE,  -- webhook-id, the same on every attempt
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'delivered',
                                                   'failed', 'unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    created_ms      INTEGER NOT NULL,
    last_attempt_ms INTEGER,               -- when the last attempt started
    delivered_ms    INTEGER,
    last_status     INTEGER,               -- HTTP status of the last attempt
    last_error      TEXT NOT NULL DEFAULT '',
    UNIQUE (event_id, target_id)
);
CREATE INDEX notification_outbox_due ON notification_outbox(state, next_attempt_ms);
