-- The statuses payments.status names, and no other (tests/unit/test_statuses.py keeps the two the same).
ALTER TABLE payments ADD CONSTRAINT payments_status_known
    CHECK (status IN ('due', 'paid', 'cancelled', 'clawed-back'));
