-- 0012: settings made in the web UI. The storage limits and the indoor
-- chime are rows of hub_settings (made in 0004): 'storage_budget',
-- 'min_free', 'chime_enabled', 'chime_device', 'chime_volume'; a row wins
-- over the config file and flags (docs/storage.md). Here: each notification
-- target's quiet hours.

-- 'off', 'nothing' (no notification at all) or 'rings_only'; quiet_hours is
-- a weekly window as JSON like schedule (days, from, to; hub local time).
ALTER TABLE notification_targets ADD COLUMN quiet_mode TEXT NOT NULL DEFAULT 'off'
    CHECK (quiet_mode IN ('off', 'nothing', 'rings_only'));
ALTER TABLE notification_targets ADD COLUMN quiet_hours TEXT NOT NULL DEFAULT '';
