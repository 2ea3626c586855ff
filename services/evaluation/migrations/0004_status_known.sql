-- The statuses evaluation.status names, and no other (tests/unit/test_statuses.py keeps the two the same).
ALTER TABLE candidates ADD CONSTRAINT candidates_status_known
    CHECK (status IN ('awaiting-round', 'in-round', 'below-pass-mark', 'waitlisted', 'rechecking', 'selected',
                      'excluded', 'released'));
ALTER TABLE rounds ADD CONSTRAINT rounds_status_known CHECK (status IN ('open', 'closed'));
