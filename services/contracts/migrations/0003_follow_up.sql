-- 사후관리 (M1–M3): what each company owes after its result report was accepted — the satisfaction survey and the
-- outcome reports up to a year on — with the reminders sent (M2) and the answers.
CREATE TABLE follow_ups (
    agreement_id          text        NOT NULL,
    kind                  text        NOT NULL,   -- survey | outcome-<n>m
    application_id        text        NOT NULL,
    program_id            text        NOT NULL,
    program_version       int,
    brn                   char(10)    NOT NULL,
    due_on                date        NOT NULL,
    reminded_due_soon_at  timestamptz,
    reminded_overdue_at   timestamptz,
    answers               jsonb,
    submitted_by          text,
    submitted_at          timestamptz,
    PRIMARY KEY (agreement_id, kind)
);
CREATE INDEX follow_ups_open ON follow_ups (due_on) WHERE submitted_at IS NULL;
CREATE INDEX follow_ups_by_program ON follow_ups (program_id);
