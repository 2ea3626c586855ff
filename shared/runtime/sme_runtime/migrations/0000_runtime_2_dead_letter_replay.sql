-- Dead letters an operator can act on: who replayed one, when, and why (issue 13).
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS replayed_at timestamptz;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS replayed_by text;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS replay_reason text;
