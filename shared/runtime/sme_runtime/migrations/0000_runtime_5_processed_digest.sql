-- Issue 31: an event id already applied, arriving again with another body, was skipped as a duplicate with no
-- record anywhere. The digest of the body applied is kept beside its id, so a second body under the same id is
-- dead-lettered as a conflict instead (rows from before this migration have none and compare with nothing).
ALTER TABLE processed_events ADD COLUMN IF NOT EXISTS body_digest bytea;
