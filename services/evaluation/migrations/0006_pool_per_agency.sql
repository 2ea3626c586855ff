-- T1 (issue 27): each agency keeps its own evaluator pool. A person who evaluates for two agencies has an entry in
-- each (one id, one account whose token names both); one agency's staff never see or change another's entries.
-- A round's committee comes from its program's agency's pool (rounds.agency). Entries and rounds from before
-- belong to no agency ('') and keep their committees; staff register their evaluators again to use them.
ALTER TABLE evaluators ADD COLUMN IF NOT EXISTS agency text NOT NULL DEFAULT '';
ALTER TABLE rounds ADD COLUMN IF NOT EXISTS agency text NOT NULL DEFAULT '';
ALTER TABLE seats DROP CONSTRAINT IF EXISTS seats_evaluator_id_fkey;
ALTER TABLE declarations DROP CONSTRAINT IF EXISTS declarations_evaluator_id_fkey;
ALTER TABLE scores DROP CONSTRAINT IF EXISTS scores_evaluator_id_fkey;
ALTER TABLE allowances DROP CONSTRAINT IF EXISTS allowances_evaluator_id_fkey;
ALTER TABLE evaluators DROP CONSTRAINT IF EXISTS evaluators_pkey;
ALTER TABLE evaluators ADD PRIMARY KEY (agency, evaluator_id);
ALTER TABLE evaluators ALTER COLUMN agency DROP DEFAULT;
ALTER TABLE rounds ALTER COLUMN agency DROP DEFAULT;
