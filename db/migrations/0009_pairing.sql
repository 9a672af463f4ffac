-- Pairing (SPAKE2+ with the doorbell's setup code): a paired doorbell
-- authenticates its link with an ECDSA P-256 key it made itself; the hub
-- keeps only the public half (65 bytes, 04 || x || y) and no secret.
-- Doorbells added with `doorstep device add` keep their secret (auth
-- 'secret') until they are paired.
ALTER TABLE devices ADD COLUMN auth TEXT NOT NULL DEFAULT 'secret'
    CHECK (auth IN ('secret', 'key'));
ALTER TABLE devices ADD COLUMN public_key BLOB
    CHECK (public_key IS NULL OR length(public_key) = 65);

-- A 'key' device has a public key and never a secret. (A 'secret' device
-- without a secret stays possible, as before: it cannot authenticate.)
CREATE TRIGGER devices_auth_insert BEFORE INSERT ON devices
WHEN NEW.auth = 'key' AND (NEW.secret IS NOT NULL OR NEW.public_key IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'devices: auth does not match secret and public_key');
END;
CREATE TRIGGER devices_auth_update BEFORE UPDATE OF auth, secret, public_key ON devices
WHEN NEW.auth = 'key' AND (NEW.secret IS NOT NULL OR NEW.public_key IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'devices: auth does not match secret and public_key');
END;
