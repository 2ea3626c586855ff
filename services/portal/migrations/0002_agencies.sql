-- T1 (issue 27): the agencies a staff member, evaluator or expert acts for (their tokens name them), and the
-- agencies an invitation came from (the invited person gets the inviter's). A company's account is one across
-- agencies; its `agencies` only say which agencies' staff see it in the accounts list. New staff, evaluator and
-- expert accounts must name at least one agency; accounts from before are checked when next set (NOT VALID).
ALTER TABLE accounts ADD COLUMN IF NOT EXISTS agencies text[] NOT NULL DEFAULT '{}';
ALTER TABLE invites ADD COLUMN IF NOT EXISTS agencies text[] NOT NULL DEFAULT '{}';
ALTER TABLE accounts ADD CONSTRAINT staff_act_for_agencies CHECK (role = 'company' OR cardinality(agencies) > 0)
    NOT VALID;
