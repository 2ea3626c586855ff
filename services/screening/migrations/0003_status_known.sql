-- The statuses screening.status names, and no other (tests/unit/test_statuses.py keeps the two the same).
ALTER TABLE screenings ADD CONSTRAINT screenings_status_known
    CHECK (status IN ('screening', 'supplement-requested', 'manual-review', 'passed', 'rejected', 'withdrawn'));
ALTER TABLE rechecks ADD CONSTRAINT rechecks_status_known
    CHECK (status IN ('waiting', 'manual-review', 'clear', 'excluded'));
