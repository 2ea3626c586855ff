-- T1: the program a dead letter's body names (NULL when none can be read), so operators see their agencies'
-- dead letters only, and the platform's operations team those of no program (issue 27).
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS program_id text;
CREATE INDEX IF NOT EXISTS dead_letters_by_program ON dead_letters (program_id, id);
