-- K1/K2: a program's calls (or a rolling call's rounds): each application belongs to the call open when it was
-- submitted; rounds are per call and select within the call's share of the budget. Rows from before are the one
-- call of their program ('main').
ALTER TABLE candidates ADD COLUMN call_id text NOT NULL DEFAULT 'main';
ALTER TABLE rounds ADD COLUMN call_id text NOT NULL DEFAULT 'main';
CREATE INDEX candidates_by_call ON candidates (program_id, call_id, status);
