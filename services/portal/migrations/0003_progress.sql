-- Issue 32: the status each event sets, in the company's words (portal.progress), kept with its timeline line;
-- the pages fold an application's lines into one status. Lines from before carry none (NULL): they are skipped.
ALTER TABLE timeline ADD COLUMN IF NOT EXISTS status_step text;
ALTER TABLE timeline ADD COLUMN IF NOT EXISTS status_words text;
ALTER TABLE timeline ADD COLUMN IF NOT EXISTS status_ended boolean NOT NULL DEFAULT false;
