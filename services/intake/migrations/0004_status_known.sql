-- The statuses intake.domain.Status names, and no other (tests/unit/test_statuses.py keeps the two the same).
ALTER TABLE applications ADD CONSTRAINT applications_status_known
    CHECK (status IN ('submitted', 'screening', 'supplement', 'passed', 'rejected', 'withdrawn'));
