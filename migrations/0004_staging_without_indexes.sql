-- Staging tables are filled by COPY and read whole by one apply (hash joins on fresh
-- statistics); an index on them only slows every staged row down.
DROP INDEX sync_stage_companies_key;
DROP INDEX sync_stage_locations_key;
DROP INDEX sync_stage_teams_key;
DROP INDEX sync_stage_groups_key;
DROP INDEX sync_stage_employees_key;
DROP INDEX sync_stage_employments_key;
