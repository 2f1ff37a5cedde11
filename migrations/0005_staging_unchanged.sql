-- A staged row whose content hash equals the stored row's is staged as a marker: the apply
-- still sees the record (so it is neither swept nor counted as a deactivation, and its scope
-- still propagates to its employments), but its JSON columns are left out, which makes a
-- no-change resync cheap to stage and to apply (docs/design/store.md).
ALTER TABLE sync_stage_companies ADD COLUMN unchanged boolean NOT NULL DEFAULT false;
ALTER TABLE sync_stage_locations ADD COLUMN unchanged boolean NOT NULL DEFAULT false;
ALTER TABLE sync_stage_teams ADD COLUMN unchanged boolean NOT NULL DEFAULT false;
ALTER TABLE sync_stage_groups ADD COLUMN unchanged boolean NOT NULL DEFAULT false;
ALTER TABLE sync_stage_employees ADD COLUMN unchanged boolean NOT NULL DEFAULT false;
ALTER TABLE sync_stage_employments ADD COLUMN unchanged boolean NOT NULL DEFAULT false;
