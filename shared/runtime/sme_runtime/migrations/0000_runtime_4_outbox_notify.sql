-- Issue 30: the relay waits for a notification instead of polling an empty outbox 20 times a second (a fifth of
-- evaluation's CPU while nothing happened). NOTIFY is delivered at commit, once per transaction and channel, so a
-- batch's outbox rows wake the relay once, and only when they can be read.
CREATE OR REPLACE FUNCTION outbox_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('sme_outbox', '');
  RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS outbox_written ON outbox;
CREATE TRIGGER outbox_written AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_written();
