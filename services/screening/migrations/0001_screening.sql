-- Screening's own tables: one row per application, the lookups asked of the registries, operator rulings,
-- X11 re-checks, participation restrictions (X10) and an audit trail of every decision.
CREATE TABLE screenings (
    application_id       text PRIMARY KEY,
    program_id           text        NOT NULL,
    brn                  char(10),
    revision             int         NOT NULL,
    status               text        NOT NULL,  -- screening | supplement-requested | manual-review | passed | rejected | withdrawn
    submitted_at         timestamptz,
    started_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    decided_at           timestamptz,
    content              jsonb,
    required_evidence    jsonb,
    supplement_deadline  timestamptz,
    decision             jsonb,                 -- the last decision: findings, documents, questions, waiting_on
    decided_by           text
);
-- E6: the supplement timer lives in the database, so it survives restarts.
CREATE INDEX screenings_supplement_due ON screenings (supplement_deadline) WHERE status = 'supplement-requested';
CREATE INDEX screenings_by_program ON screenings (program_id, status);

CREATE TABLE lookups (
    lookup_id       text PRIMARY KEY,
    application_id  text        NOT NULL REFERENCES screenings,
    purpose         text        NOT NULL,       -- screening | recheck:<request id>
    registry        text        NOT NULL,
    requested_at    timestamptz NOT NULL,
    answered_at     timestamptz,
    verdict         text,
    findings        jsonb,
    attempts        int,
    superseded      boolean     NOT NULL DEFAULT false  -- the question changed or the application was decided
);
CREATE INDEX lookups_waiting ON lookups (registry, requested_at) WHERE answered_at IS NULL AND NOT superseded;
CREATE INDEX lookups_by_application ON lookups (application_id, purpose);

CREATE TABLE rulings (
    id              bigserial PRIMARY KEY,
    application_id  text        NOT NULL REFERENCES screenings,
    purpose         text        NOT NULL,
    rule            text        NOT NULL,
    exclude         boolean     NOT NULL,
    operator        text        NOT NULL,
    reason          text        NOT NULL,
    at              timestamptz NOT NULL
);
CREATE INDEX rulings_by_application ON rulings (application_id, purpose);

CREATE TABLE rechecks (
    request_id      text PRIMARY KEY,
    application_id  text        NOT NULL,
    program_id      text        NOT NULL,
    requested_at    timestamptz NOT NULL,
    status          text        NOT NULL,       -- waiting | manual-review | clear | excluded
    completed_at    timestamptz,
    decision        jsonb
);
CREATE INDEX rechecks_by_application ON rechecks (application_id);

CREATE TABLE restrictions (
    brn             char(10)    NOT NULL,
    application_id  text        NOT NULL,
    approved_on     date        NOT NULL,
    restricted_until date,
    PRIMARY KEY (brn, application_id)
);

CREATE TABLE audit (
    id              bigserial PRIMARY KEY,
    application_id  text        NOT NULL,
    at              timestamptz NOT NULL,
    actor           text        NOT NULL,       -- rules | operator:<subject> | system
    action          text        NOT NULL,
    detail          jsonb
);
CREATE INDEX audit_by_application ON audit (application_id, id);
