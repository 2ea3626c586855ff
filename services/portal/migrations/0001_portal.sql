-- The portal's own tables: the people who sign in (one account per company, expert engagement, evaluator and
-- staff member), their sessions, invitations, uploaded files, each application's timeline as the events told it,
-- and the notices sent to people. Passwords are argon2id hashes; session and invitation tokens are kept only as
-- SHA-256 hashes, so a copy of this database signs nobody in.
CREATE TABLE accounts (
    account_id      bigserial PRIMARY KEY,
    login           text        NOT NULL UNIQUE,
    role            text        NOT NULL CHECK (role IN ('company', 'expert', 'evaluator', 'operator')),
    display_name    text        NOT NULL,
    email           text        NOT NULL,
    brn             char(10),       -- a company's own number, or the company an expert's engagement is with
    evaluator_id    text,           -- an evaluator's id in evaluation's pool
    password_hash   text        NOT NULL,
    failed_signins  integer     NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL,
    invited_by      text,
    CHECK (role <> 'company' OR brn IS NOT NULL),
    CHECK (role <> 'expert' OR brn IS NOT NULL),
    CHECK (role <> 'evaluator' OR evaluator_id IS NOT NULL)
);

CREATE TABLE web_sessions (
    token_hash      bytea       PRIMARY KEY,
    account_id      bigint      NOT NULL REFERENCES accounts ON DELETE CASCADE,
    csrf_token      text        NOT NULL,
    created_at      timestamptz NOT NULL,
    last_seen_at    timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions (account_id);

CREATE TABLE invites (
    token_hash      bytea       PRIMARY KEY,
    role            text        NOT NULL,
    login           text        NOT NULL,
    display_name    text        NOT NULL,
    email           text        NOT NULL,
    brn             char(10),
    evaluator_id    text,
    invited_by      text        NOT NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    accepted_at     timestamptz
);

CREATE TABLE uploads (
    upload_id       text        PRIMARY KEY,
    account_id      bigint      NOT NULL REFERENCES accounts,
    brn             char(10),
    filename        text        NOT NULL,
    media_type      text        NOT NULL,
    size_bytes      integer     NOT NULL,
    sha256          char(64)    NOT NULL,
    purpose         text        NOT NULL DEFAULT 'evidence',  -- evidence, session-photo, report-draft, 서식4 …
    agreement_id    text,
    uploaded_at     timestamptz NOT NULL
);
CREATE INDEX uploads_account ON uploads (account_id);

-- Who an application belongs to, as ApplicationSubmitted said (the notices' recipients)
CREATE TABLE application_owners (
    application_id  text        PRIMARY KEY,
    program_id      text        NOT NULL,
    brn             char(10)    NOT NULL,
    company_name    text        NOT NULL,
    submitted_at    timestamptz NOT NULL
);
CREATE INDEX application_owners_brn ON application_owners (brn);

CREATE TABLE timeline (
    event_id        text        PRIMARY KEY,
    application_id  text        NOT NULL,
    at              timestamptz NOT NULL,
    stage           text        NOT NULL,
    title           text        NOT NULL,
    detail          text        NOT NULL DEFAULT ''
);
CREATE INDEX timeline_application ON timeline (application_id, at);

-- One row per person (or group) and event: a replayed event adds nothing (UNIQUE), an e-mail is sent once
-- and marked; a failed send is tried again later.
CREATE TABLE notifications (
    notification_id bigserial   PRIMARY KEY,
    event_id        text        NOT NULL,
    recipient       text        NOT NULL,   -- company:<brn>, expert:<brn>, evaluator:<id>, operators
    application_id  text,
    kind            text        NOT NULL,
    subject         text        NOT NULL,
    body            text        NOT NULL,
    link            text,
    created_at      timestamptz NOT NULL,
    read_at         timestamptz,
    emailed_at      timestamptz,
    email_attempts  integer     NOT NULL DEFAULT 0,
    email_next_at   timestamptz,            -- a failed send waits until then (backoff)
    email_error     text,
    UNIQUE (event_id, recipient)
);
CREATE INDEX notifications_recipient ON notifications (recipient, created_at DESC);
CREATE INDEX notifications_unsent ON notifications (notification_id) WHERE emailed_at IS NULL;

-- Long work an operator started (closing a round): its steps as they happen, so the page shows progress
CREATE TABLE jobs (
    job_id          text        PRIMARY KEY,
    kind            text        NOT NULL,
    title           text        NOT NULL,
    account_id      bigint      NOT NULL REFERENCES accounts,
    status          text        NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
    steps           jsonb       NOT NULL DEFAULT '[]',
    result_link     text,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz
);
