-- 0014: person events. The hub's person detector looks at pictures the
-- doorbell sends while a motion or PIR event is active; an event it
-- confirms becomes type 'person'. trigger_type keeps what the doorbell
-- reported (motion, pir, ring, ...), so the event is still found by its
-- trigger while it goes on, and a "motion" filter still lists it.
ALTER TABLE events ADD COLUMN trigger_type TEXT NOT NULL DEFAULT '';
UPDATE events SET trigger_type = type;
CREATE INDEX events_by_device_event ON events(device_id, device_event_id);
