-- Intake's own tables. Contact details stay here; events carry the rest.
CREATE TABLE applications (
    application_id      text PRIMARY KEY,
    program_id          text        NOT NULL,
    brn                 char(10)    NOT NULL,
    status              text        NOT NULL,
    revision            int         NOT NULL,
    channel             text        NOT NULL,
    submitted_at        timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    content             jsonb       NOT NULL,
    contacts            jsonb,
    source_system       text,
    external_reference  text,
    submitted_by        text        NOT NULL,
    status_reason       text
);
-- A2: at most one live application per company and program, even under concurrent double submissions.
CREATE UNIQUE INDEX applications_one_live ON applications (program_id, brn)
    WHERE status IN ('submitted', 'screening', 'passed');
CREATE UNIQUE INDEX applications_external ON applications (source_system, external_reference)
    WHERE source_system IS NOT NULL;
CREATE INDEX applications_by_company ON applications (brn);

CREATE TABLE idempotency_keys (
    principal       text        NOT NULL,
    key             text        NOT NULL,
    request_hash    text        NOT NULL,
    status_code     int         NOT NULL,
    response        jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

CREATE TABLE application_history (
    id              bigserial PRIMARY KEY,
    application_id  text        NOT NULL REFERENCES applications,
    revision        int         NOT NULL,
    action          text        NOT NULL,
    actor           text        NOT NULL,
    at              timestamptz NOT NULL,
    detail          jsonb
);
