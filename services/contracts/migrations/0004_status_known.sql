-- The statuses contracts.status names, and no other (tests/unit/test_statuses.py keeps the two the same).
ALTER TABLE agreements ADD CONSTRAINT agreements_status_known
    CHECK (status IN ('drafted', 'in-force', 'completed', 'given-up', 'terminated'));
ALTER TABLE reports ADD CONSTRAINT reports_status_known CHECK (status IN ('submitted', 'accepted', 'returned'));
