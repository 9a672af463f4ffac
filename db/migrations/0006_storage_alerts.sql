-- Recording that stops on its own (a full disk, a full database, a write
-- error) is an event of the doorbell, and it notifies in every mode.
INSERT INTO mode_notifications (mode, type) VALUES
    ('home', 'disk_full'), ('home', 'database_full'), ('home', 'recording_stopped'),
    ('away', 'disk_full'), ('away', 'database_full'), ('away', 'recording_stopped'),
    ('disarmed', 'disk_full'), ('disarmed', 'database_full'), ('disarmed', 'recording_stopped');
