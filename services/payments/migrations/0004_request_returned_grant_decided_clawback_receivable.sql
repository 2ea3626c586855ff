-- Issue 26, P3 and 교부결정: a deficient 서식4 is returned with reasons and the 30 days start again when the
-- complete request is received ('returned' stops the clock: the overdue sweep reads only 'due'); the center's
-- grant decision (교부결정 통지) is its own recorded step before the subsidy is paid.
ALTER TABLE payments DROP CONSTRAINT payments_status_known;
ALTER TABLE payments ADD CONSTRAINT payments_status_known
    CHECK (status IN ('due', 'returned', 'paid', 'cancelled', 'clawed-back'));
ALTER TABLE payments ADD COLUMN returned_reasons jsonb;         -- the latest return's reasons
ALTER TABLE payments ADD COLUMN returned_at      timestamptz;
ALTER TABLE payments ADD COLUMN returns          int NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN grant_decided_on date;          -- 교부결정일 (KST)
ALTER TABLE payments ADD COLUMN grant_decided_by text;

-- C7/P4 with 협약 ⑧-2: a clawback is a receivable. Decided, it is demanded with a notice and a due date
-- (clawback_amount, clawed_back_at, recovery_due_on); the ledger's clawback is posted when the money comes back
-- (recovered_amount, recovered_on), part or whole, not when it was decided.
ALTER TABLE payments ADD COLUMN recovery_due_on  date;
ALTER TABLE payments ADD COLUMN recovered_amount bigint NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN recovered_on     date;
-- clawbacks decided before this migration were posted to the ledger when decided: count them recovered then
UPDATE payments SET recovered_amount = clawback_amount, recovered_on = (clawed_back_at AT TIME ZONE 'Asia/Seoul')::date,
                    recovery_due_on = (clawed_back_at AT TIME ZONE 'Asia/Seoul')::date
 WHERE clawback_amount IS NOT NULL;
