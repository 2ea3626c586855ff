-- Payments' own tables: accepted result reports (P1), terminations (C7), the payments themselves — subsidies
-- (서식4, P2, P3) and evaluator allowances (P5) — with their adjustments (P4), and an audit trail.
-- Bank account numbers are stored encrypted (Fernet, key PAYMENTS_ACCOUNT_KEY) and never published.
CREATE TABLE accepted_reports (
    application_id  text PRIMARY KEY,
    program_id      text        NOT NULL,
    agreement_id    text        NOT NULL,
    brn             char(10),
    agreed_amount   bigint      NOT NULL,
    accepted_at     timestamptz NOT NULL
);

CREATE TABLE terminations (
    application_id  text PRIMARY KEY,
    program_id      text        NOT NULL,
    agreement_id    text        NOT NULL,
    reason          text        NOT NULL,
    clawback        boolean     NOT NULL,
    terminated_at   timestamptz NOT NULL
);

CREATE TABLE payments (
    payment_id          text PRIMARY KEY,
    purpose             text        NOT NULL,   -- subsidy | evaluator-allowance
    program_id          text        NOT NULL,
    application_id      text UNIQUE,            -- subsidy: one request per application
    brn                 char(10),
    evaluator_id        text,
    round_id            text,
    payee_name          text        NOT NULL,
    amount              bigint      NOT NULL,   -- owed now (after P4 adjustments)
    status              text        NOT NULL,   -- due | paid | cancelled | clawed-back
    request_received_on date        NOT NULL,
    due_on              date        NOT NULL,   -- received + payment_due_days (P3)
    breakdown           jsonb,                  -- P2, as computed at the request
    documents           jsonb,                  -- P1: quote, transaction statement, tax invoice, deposit receipt, bankbook
    bank                text,
    account_holder      text,
    account_ciphertext  bytea,
    account_last4       text,
    filed_by            text        NOT NULL,
    created_at          timestamptz NOT NULL,
    overdue_at          timestamptz,            -- PaymentOverdue raised (once per due date)
    paid_on             date,
    recorded_by         text,
    recorded_at         timestamptz,
    clawback_amount     bigint,
    clawed_back_at      timestamptz
);
CREATE INDEX payments_due ON payments (due_on) WHERE status = 'due';
CREATE INDEX payments_by_program ON payments (program_id, purpose);

CREATE TABLE adjustments (
    id           bigserial PRIMARY KEY,
    payment_id   text        NOT NULL REFERENCES payments,
    changes      jsonb       NOT NULL,          -- {field: [before, after]}
    reason       text        NOT NULL,
    recorded_by  text        NOT NULL,
    recorded_at  timestamptz NOT NULL
);

CREATE TABLE audit (
    id          bigserial PRIMARY KEY,
    payment_id  text,
    application_id text,
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    action      text        NOT NULL,
    detail      jsonb
);
CREATE INDEX audit_by_payment ON audit (payment_id);
