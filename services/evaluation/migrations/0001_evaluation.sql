-- Evaluation's own tables: the applications that passed screening (candidates) with their document score,
-- the evaluator pool, rounds and their committees, conflict declarations, scores, X11 re-checks, evaluator
-- allowances and an audit trail of every score and decision.
CREATE TABLE candidates (
    application_id      text PRIMARY KEY,
    program_id          text        NOT NULL,
    round_id            text,                   -- NULL: no round of the program open when it passed
    brn                 char(10)    NOT NULL,
    company_name        text        NOT NULL,
    facts               jsonb       NOT NULL,   -- VerifiedFacts of ScreeningPassed (incl. the plan evaluators read)
    expert_grade        text,
    passed_at           timestamptz NOT NULL,
    submitted_at        timestamptz NOT NULL,
    quantitative        int         NOT NULL,   -- Q1–Q7
    quantitative_detail jsonb       NOT NULL,   -- the breakdown with the Q7 resolution
    planned_subsidy     bigint      NOT NULL,   -- F4
    status              text        NOT NULL,   -- awaiting-round | in-round | below-pass-mark | waitlisted |
                                                -- rechecking | selected | excluded | released
    rank                int,
    qualitative         numeric(8,4),
    qualitative_raw     numeric(8,4),
    final               numeric(8,4),
    valid_evaluators    int,
    outcome             text,                   -- at the round's close: selected | waitlisted | below-pass-mark
    selected_via        text,                   -- round-close | waitlist-promotion
    selected_at         timestamptz,            -- notified (ApplicationSelected) after the X11 re-check
    updated_at          timestamptz NOT NULL
);
CREATE INDEX candidates_by_program ON candidates (program_id, status);
CREATE INDEX candidates_by_round ON candidates (round_id, rank);

CREATE TABLE evaluators (
    evaluator_id   text PRIMARY KEY,
    name           text        NOT NULL,
    affiliation    text        NOT NULL,
    kind           text        NOT NULL,        -- external | center-staff
    fields         jsonb       NOT NULL,        -- fields of expertise
    employers      jsonb       NOT NULL,        -- [{brn, name, since, until}] for F6
    registered_at  timestamptz NOT NULL,
    registered_by  text        NOT NULL
);

CREATE TABLE rounds (
    round_id    text PRIMARY KEY,
    program_id  text        NOT NULL,
    status      text        NOT NULL,           -- open | closed
    as_of       date        NOT NULL,           -- F6 is judged on this day (KST)
    opened_at   timestamptz NOT NULL,
    opened_by   text        NOT NULL,
    closed_at   timestamptz,
    closed_by   text
);
CREATE UNIQUE INDEX one_open_round_per_program ON rounds (program_id) WHERE status = 'open';

CREATE TABLE seats (
    round_id      text NOT NULL REFERENCES rounds,
    evaluator_id  text NOT NULL REFERENCES evaluators,
    role          text NOT NULL,                -- chair | member | secretary
    PRIMARY KEY (round_id, evaluator_id)
);

CREATE TABLE declarations (
    application_id  text        NOT NULL REFERENCES candidates,
    evaluator_id    text        NOT NULL REFERENCES evaluators,
    conflicted      boolean     NOT NULL,
    relation        text,
    detail          text,
    declared_at     timestamptz NOT NULL,
    PRIMARY KEY (application_id, evaluator_id)
);

CREATE TABLE scores (
    application_id  text        NOT NULL REFERENCES candidates,
    evaluator_id    text        NOT NULL REFERENCES evaluators,
    levels          jsonb       NOT NULL,       -- S1: item code -> chosen level
    raw_total       int         NOT NULL,       -- S2: before normalisation
    normalised      numeric(8,4) NOT NULL,      -- S2: shown; the exact value is recomputed from the levels
    submitted_at    timestamptz NOT NULL,
    revisions       int         NOT NULL DEFAULT 1,
    PRIMARY KEY (application_id, evaluator_id)
);

CREATE TABLE rechecks (
    request_id      text PRIMARY KEY,
    application_id  text        NOT NULL REFERENCES candidates,
    via             text        NOT NULL,       -- round-close | waitlist-promotion
    requested_at    timestamptz NOT NULL,
    completed_at    timestamptz,
    outcome         text                        -- clear | excluded
);
CREATE INDEX rechecks_waiting ON rechecks (requested_at) WHERE completed_at IS NULL;

CREATE TABLE allowances (
    round_id             text    NOT NULL REFERENCES rounds,
    evaluator_id         text    NOT NULL REFERENCES evaluators,
    program_id           text    NOT NULL,
    applications_scored  int     NOT NULL,
    amount               bigint  NOT NULL,
    PRIMARY KEY (round_id, evaluator_id)
);

CREATE TABLE audit (
    id              bigserial PRIMARY KEY,
    round_id        text,
    application_id  text,
    at              timestamptz NOT NULL,
    actor           text        NOT NULL,
    action          text        NOT NULL,
    detail          jsonb
);
CREATE INDEX audit_by_application ON audit (application_id);
CREATE INDEX audit_by_round ON audit (round_id);
