-- E6: while screening asks for documents the application stays live and only its evidence may change.
ALTER TABLE applications ADD COLUMN supplement_deadline timestamptz;
DROP INDEX applications_one_live;
CREATE UNIQUE INDEX applications_one_live ON applications (program_id, brn)
    WHERE status IN ('submitted', 'screening', 'supplement', 'passed');
