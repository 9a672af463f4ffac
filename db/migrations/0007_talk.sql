-- 0007: the talk right per user and doorbell (docs/storage.md).

-- A viewer may speak through a doorbell's speaker only where an admin
-- granted it: talk = 1 on the viewer's grant of that doorbell. Admins may
-- always talk. Withdrawing the grant of the doorbell withdraws talk too.
ALTER TABLE user_devices ADD COLUMN talk INTEGER NOT NULL DEFAULT 0 CHECK (talk IN (0, 1));
