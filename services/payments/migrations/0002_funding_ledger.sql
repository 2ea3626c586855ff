-- Programs as data (issue 14): signed agreements (the commitment, L3), instalments (I1: an advance and the
-- balance, one row each) and the ledger of each funding source's commitments, releases, payments and clawbacks
-- (L1–L4) from which the settlement report (정산) is made.
CREATE TABLE signed_agreements (
    application_id  text PRIMARY KEY,
    program_id      text        NOT NULL,
    agreement_id    text        NOT NULL,
    brn             char(10),
    agreed_amount   bigint      NOT NULL,   -- latest known: at signing, then as the accepted report states it
    signed_at       timestamptz NOT NULL,
    program_version int,                    -- V1: the version the application applied under
    ended           text                    -- terminated | given-up: nothing more will be owed
);

ALTER TABLE accepted_reports ADD COLUMN program_version int;
ALTER TABLE payments ADD COLUMN instalment text;  -- advance | balance for a subsidy; NULL for an allowance
UPDATE payments SET instalment = 'balance' WHERE purpose = 'subsidy';
ALTER TABLE payments DROP CONSTRAINT payments_application_id_key;
CREATE UNIQUE INDEX payments_one_instalment ON payments (application_id, instalment) WHERE application_id IS NOT NULL;

CREATE TABLE ledger (
    id              bigserial PRIMARY KEY,
    program_id      text        NOT NULL,
    application_id  text        NOT NULL,
    source          text        NOT NULL,   -- national | provincial | city | district | other (L1)
    kind            text        NOT NULL CHECK (kind IN ('commitment', 'release', 'payment', 'clawback')),
    amount          bigint      NOT NULL CHECK (amount > 0),
    payment_id      text,
    reason          text        NOT NULL,
    at              timestamptz NOT NULL
);
CREATE INDEX ledger_by_application ON ledger (application_id);
CREATE INDEX ledger_by_program ON ledger (program_id, source, kind);
