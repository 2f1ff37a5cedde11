-- The sync engine: per-account sync settings, the sync jobs (queue, leases, history) and the
-- staging tables a sync fills page by page before it is applied in one transaction.

ALTER TABLE linked_accounts
    ADD COLUMN sync_interval_s integer NOT NULL DEFAULT 3600
        CHECK (sync_interval_s BETWEEN 300 AND 86400),
    ADD COLUMN next_sync_at timestamptz,          -- when the scheduler queues the next sync
    ADD COLUMN last_full_sync_at timestamptz,     -- start of the last applied full sync
    ADD COLUMN last_sync_since timestamptz,       -- incremental syncs fetch changes after this
    ADD COLUMN sync_scope jsonb NOT NULL DEFAULT '{}',  -- {"group_ids": [...], "exclude_emails": [...]}
    ADD COLUMN guard_max_share real NOT NULL DEFAULT 0.2
        CHECK (guard_max_share > 0 AND guard_max_share <= 1),
    ADD COLUMN guard_min_count integer NOT NULL DEFAULT 5 CHECK (guard_min_count >= 1),
    ADD COLUMN access_token bytea,                -- sealed cached provider token (vault)
    ADD COLUMN status_detail text;                -- why the account is not COMPLETE

CREATE INDEX linked_accounts_due ON linked_accounts (next_sync_at) WHERE status = 'COMPLETE';
-- accounts linked before syncing existed get their first sync at once
UPDATE linked_accounts SET next_sync_at = now() WHERE status = 'COMPLETE';

CREATE TABLE syncs (
    linked_account_id  uuid NOT NULL REFERENCES linked_accounts (id) ON DELETE CASCADE,
    id                 uuid NOT NULL,
    kind               text NOT NULL CHECK (kind IN ('FULL', 'INCREMENTAL')),
    trigger            text NOT NULL CHECK (trigger IN ('INITIAL', 'SCHEDULE', 'MANUAL')),
    status             text NOT NULL
        CHECK (status IN ('QUEUED', 'SYNCING', 'DONE', 'FAILED', 'PAUSED', 'DISCARDED')),
    run_after          timestamptz NOT NULL DEFAULT now(),
    lease_owner        text,
    lease_expires_at   timestamptz,
    attempts           integer NOT NULL DEFAULT 0,
    queued_at          timestamptz NOT NULL DEFAULT now(),
    started_at         timestamptz,
    finished_at        timestamptz,
    since_at           timestamptz,               -- incremental: changes after this time
    stage_id           uuid,                      -- staging key of the attempt that finished
    reason             text,                      -- why FAILED or PAUSED
    stats              jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (linked_account_id, id)
);
-- at most one sync per account is queued, running or waiting for approval
CREATE UNIQUE INDEX syncs_one_active ON syncs (linked_account_id)
    WHERE status IN ('QUEUED', 'SYNCING', 'PAUSED');
CREATE INDEX syncs_queued ON syncs (run_after) WHERE status = 'QUEUED';
CREATE INDEX syncs_leased ON syncs (lease_expires_at) WHERE status = 'SYNCING';
CREATE INDEX syncs_history ON syncs (linked_account_id, queued_at DESC);
CREATE UNIQUE INDEX syncs_id ON syncs (id);

-- Staging: UNLOGGED (a crash loses them; a sync restarts from scratch anyway), one per model.
CREATE UNLOGGED TABLE sync_stage_companies (sync_id uuid NOT NULL,
    rs_seq bigint GENERATED ALWAYS AS IDENTITY, in_scope boolean NOT NULL DEFAULT true,
    LIKE companies INCLUDING DEFAULTS);
CREATE UNLOGGED TABLE sync_stage_locations (sync_id uuid NOT NULL,
    rs_seq bigint GENERATED ALWAYS AS IDENTITY, in_scope boolean NOT NULL DEFAULT true,
    LIKE locations INCLUDING DEFAULTS);
CREATE UNLOGGED TABLE sync_stage_teams (sync_id uuid NOT NULL,
    rs_seq bigint GENERATED ALWAYS AS IDENTITY, in_scope boolean NOT NULL DEFAULT true,
    LIKE teams INCLUDING DEFAULTS);
CREATE UNLOGGED TABLE sync_stage_groups (sync_id uuid NOT NULL,
    rs_seq bigint GENERATED ALWAYS AS IDENTITY, in_scope boolean NOT NULL DEFAULT true,
    LIKE groups INCLUDING DEFAULTS);
CREATE UNLOGGED TABLE sync_stage_employees (sync_id uuid NOT NULL,
    rs_seq bigint GENERATED ALWAYS AS IDENTITY, in_scope boolean NOT NULL DEFAULT true,
    LIKE employees INCLUDING DEFAULTS);
CREATE UNLOGGED TABLE sync_stage_employments (sync_id uuid NOT NULL,
    rs_seq bigint GENERATED ALWAYS AS IDENTITY, in_scope boolean NOT NULL DEFAULT true,
    LIKE employments INCLUDING DEFAULTS);
CREATE INDEX sync_stage_companies_key ON sync_stage_companies (sync_id, id);
CREATE INDEX sync_stage_locations_key ON sync_stage_locations (sync_id, id);
CREATE INDEX sync_stage_teams_key ON sync_stage_teams (sync_id, id);
CREATE INDEX sync_stage_groups_key ON sync_stage_groups (sync_id, id);
CREATE INDEX sync_stage_employees_key ON sync_stage_employees (sync_id, id);
CREATE INDEX sync_stage_employments_key ON sync_stage_employments (sync_id, id);
