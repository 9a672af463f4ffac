-- 0005: motion detection settings per doorbell (docs/storage.md).

-- The settings the hub sends to a doorbell (link command set_motion) when
-- they change and whenever it connects: the JSON object of
-- firmware/motion/motion_config.h, as the shared parser normalises it. A
-- doorbell without a row gets the defaults.
CREATE TABLE motion_settings (
    device_id  TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
    config     TEXT NOT NULL CHECK (json_valid(config)),
    updated_at INTEGER NOT NULL  -- ms since the Unix epoch
);
