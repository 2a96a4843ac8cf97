-- A caseworker works the mediator's desk or a party's bureau (DESIGN.md's
-- roles table), so a caseworker's account and its tokens may carry a party:
-- required for a party officer, optional for a caseworker, refused for the
-- other roles. The old checks were unnamed; they are found by their text.
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conrelid::regclass AS tbl, conname FROM pg_constraint
             WHERE contype = 'c'
               AND ((conrelid = 'account'::regclass AND pg_get_constraintdef(oid) LIKE '%(party IS NOT NULL)%')
                 OR (conrelid = 'api_token'::regclass AND pg_get_constraintdef(oid) LIKE '%(scope_party IS NOT NULL)%'))
    LOOP
        EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', c.tbl, c.conname);
    END LOOP;
END $$;

ALTER TABLE account ADD CONSTRAINT account_party_by_role
    CHECK (CASE role WHEN 'party_officer' THEN party IS NOT NULL WHEN 'caseworker' THEN true ELSE party IS NULL END);
ALTER TABLE api_token ADD CONSTRAINT api_token_party_by_role
    CHECK (CASE scope_role WHEN 'party_officer' THEN scope_party IS NOT NULL WHEN 'caseworker' THEN true
                           ELSE scope_party IS NULL END);
