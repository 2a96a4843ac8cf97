-- A read refused because the record is outside the caller's scope (the
-- caller was told "not found") is an access too: someone guessing ids must
-- show up for the mediator (issue 20, finding 9).
ALTER TABLE access_log ADD COLUMN outcome TEXT NOT NULL DEFAULT 'shown' CHECK (outcome IN ('shown', 'refused'));
