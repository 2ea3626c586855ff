-- K1: rounds are per call, and handlers.open_round refuses a second open round of the same call (S3, 409). The
-- index from before calls allowed one open round per program, so opening the second call's round while the first
-- call's was still open failed as a 500; it now says what the handler says: one open round per call.
DROP INDEX IF EXISTS one_open_round_per_program;
CREATE UNIQUE INDEX one_open_round_per_call ON rounds (program_id, call_id) WHERE status = 'open';
