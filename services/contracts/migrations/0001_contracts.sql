-- Contracts' own tables: the parties as screening verified them, the selections evaluation notified, the
-- three-party agreements (서식3) with their signatures, sessions, amendments, result reports, and an audit trail.
CREATE TABLE parties (
    application_id      text PRIMARY KEY,
    program_id          text        NOT NULL,
    revision            int         NOT NULL,   -- the application revision that passed (the latest wins)
    brn                 char(10)    NOT NULL,
    company_name        text        NOT NULL,
    ceo_name            text        NOT NULL,
    expert_name         text,
    expert_affiliation  text,
    consulting_cost     bigint      NOT NULL    -- planned, excl. VAT
);

CREATE TABLE selections (
    application_id   text PRIMARY KEY,
    program_id       text        NOT NULL,
    round_id         text        NOT NULL,
    planned_subsidy  bigint      NOT NULL,
    selected_at      timestamptz NOT NULL,
    via              text        NOT NULL       -- round-close | waitlist-promotion
);

CREATE TABLE agreements (
    agreement_id        text PRIMARY KEY,
    application_id      text        NOT NULL UNIQUE,
    program_id          text        NOT NULL,
    brn                 char(10)    NOT NULL,
    company_name        text        NOT NULL,
    ceo_name            text        NOT NULL,
    expert_name         text,
    expert_affiliation  text,
    term_start          date        NOT NULL,
    term_end            date        NOT NULL,   -- within the program year (C2)
    agreed_amount       bigint      NOT NULL,   -- at most the planned subsidy (C2, P2)
    minimum_sessions    int         NOT NULL,
    follow_up_sessions  int         NOT NULL,
    status              text        NOT NULL,   -- drafted | in-force | completed | given-up | terminated
    drafted_at          timestamptz NOT NULL,
    sign_by             timestamptz NOT NULL,   -- past it, unsigned agreements are flagged to operators
    signed_at           timestamptz,            -- the last of the three signatures (C1)
    give_up_requested_at timestamptz,
    give_up_reason      text,
    ended_at            timestamptz,            -- given up, terminated
    ended_reason        text,
    restricted_until    date,                   -- C6
    accepted_at         timestamptz             -- ReportAccepted (C8)
);
CREATE INDEX agreements_by_brn ON agreements (brn);
CREATE INDEX agreements_by_program ON agreements (program_id, status);

CREATE TABLE signatures (
    agreement_id  text        NOT NULL REFERENCES agreements,
    party         text        NOT NULL,         -- center | company | expert
    signed_by     text        NOT NULL,
    signed_at     timestamptz NOT NULL,
    PRIMARY KEY (agreement_id, party)
);

CREATE TABLE sessions (
    id            bigserial PRIMARY KEY,
    agreement_id  text        NOT NULL REFERENCES agreements,
    held_on       date        NOT NULL,
    hours         int         NOT NULL,
    kind          text        NOT NULL,         -- on-site | follow-up (C3: counted separately)
    place         text        NOT NULL,
    notes         text        NOT NULL,
    photo_refs    jsonb       NOT NULL,
    logged_by     text        NOT NULL,
    logged_at     timestamptz NOT NULL
);
CREATE INDEX sessions_by_agreement ON sessions (agreement_id, held_on);

CREATE TABLE amendments (
    id            bigserial PRIMARY KEY,
    agreement_id  text        NOT NULL REFERENCES agreements,
    changes       jsonb       NOT NULL,         -- {field: [before, after]}
    reason        text        NOT NULL,
    agreed_by     jsonb       NOT NULL,         -- the parties who agreed (C5)
    recorded_by   text        NOT NULL,
    recorded_at   timestamptz NOT NULL
);

CREATE TABLE reports (
    agreement_id      text        NOT NULL REFERENCES agreements,
    revision          int         NOT NULL,
    status            text        NOT NULL,     -- submitted | accepted | returned
    report_ref        text        NOT NULL,
    log_refs          jsonb       NOT NULL,
    fee_evidence_refs jsonb       NOT NULL,
    submitted_by      text        NOT NULL,
    submitted_at      timestamptz NOT NULL,
    reviewed_by       text,
    reviewed_at       timestamptz,
    return_reasons    jsonb,
    PRIMARY KEY (agreement_id, revision)
);

CREATE TABLE audit (
    id            bigserial PRIMARY KEY,
    agreement_id  text,
    application_id text,
    at            timestamptz NOT NULL,
    actor         text        NOT NULL,
    action        text        NOT NULL,
    detail        jsonb
);
CREATE INDEX audit_by_agreement ON audit (agreement_id);
