-- Roster's first schema: tenants, credentials, linked accounts and the normalized HRIS model.
-- Every table of linked-account data is keyed by linked_account_id first (Citus-ready).

CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored only as SHA-256 hashes of the secret shown once at creation.
CREATE TABLE api_keys (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    key_hash         bytea NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz
);
CREATE INDEX api_keys_org ON api_keys (organization_id);

CREATE TABLE linked_accounts (
    id                          uuid PRIMARY KEY,
    organization_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    integration                 text NOT NULL,
    category                    text NOT NULL DEFAULT 'hris',
    end_user_origin_id          text NOT NULL,
    end_user_organization_name  text NOT NULL,
    end_user_email_address      text NOT NULL,
    status                      text NOT NULL
        CHECK (status IN ('COMPLETE', 'INCOMPLETE', 'RELINK_NEEDED', 'IDLE')),
    account_token_hash          bytea UNIQUE,      -- SHA-256 of the account token
    credentials                 bytea,             -- sealed by the vault (AAD = id)
    base_url                    text,              -- override of the provider's host (sandbox, tests)
    created_at                  timestamptz NOT NULL DEFAULT now(),
    modified_at                 timestamptz NOT NULL DEFAULT now(),
    completed_at                timestamptz
);
CREATE INDEX linked_accounts_org ON linked_accounts (organization_id, id);
-- One linked account per end user and integration (the admin API answers 409 to a second).
CREATE UNIQUE INDEX linked_accounts_origin
    ON linked_accounts (organization_id, end_user_origin_id, integration);

-- Normalized models. Common columns:
--   id               UUIDv5(linked_account_id, "<model>:" || remote_id), deterministic
--   normalized       the model's own fields as rendered JSON, served byte for byte
--   remote_data      the provider's raw record(s) as a JSON array of {path, data}
--   content_hash     hash of normalized + remote_data; modified_at moves only when it changes
-- The remaining columns copy fields out of `normalized` for filtering.

CREATE TABLE companies (
    linked_account_id   uuid NOT NULL REFERENCES linked_accounts (id) ON DELETE CASCADE,
    id                  uuid NOT NULL,
    remote_id           text NOT NULL,
    normalized          text NOT NULL,
    remote_data         text,
    content_hash        bytea NOT NULL,
    remote_was_deleted  boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    modified_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (linked_account_id, id),
    UNIQUE (linked_account_id, remote_id)
);
CREATE INDEX companies_keyset ON companies (linked_account_id, modified_at, id);
CREATE INDEX companies_created ON companies (linked_account_id, created_at);

CREATE TABLE locations (
    linked_account_id   uuid NOT NULL REFERENCES linked_accounts (id) ON DELETE CASCADE,
    id                  uuid NOT NULL,
    remote_id           text NOT NULL,
    normalized          text NOT NULL,
    remote_data         text,
    content_hash        bytea NOT NULL,
    remote_was_deleted  boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    modified_at         timestamptz NOT NULL DEFAULT now(),
    location_type       text,
    PRIMARY KEY (linked_account_id, id),
    UNIQUE (linked_account_id, remote_id)
);
CREATE INDEX locations_keyset ON locations (linked_account_id, modified_at, id);
CREATE INDEX locations_created ON locations (linked_account_id, created_at);
CREATE INDEX locations_type ON locations (linked_account_id, location_type);

CREATE TABLE teams (
    linked_account_id   uuid NOT NULL REFERENCES linked_accounts (id) ON DELETE CASCADE,
    id                  uuid NOT NULL,
    remote_id           text NOT NULL,
    normalized          text NOT NULL,
    remote_data         text,
    content_hash        bytea NOT NULL,
    remote_was_deleted  boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    modified_at         timestamptz NOT NULL DEFAULT now(),
    parent_team_id      uuid,
    PRIMARY KEY (linked_account_id, id),
    UNIQUE (linked_account_id, remote_id)
);
CREATE INDEX teams_keyset ON teams (linked_account_id, modified_at, id);
CREATE INDEX teams_created ON teams (linked_account_id, created_at);
CREATE INDEX teams_parent ON teams (linked_account_id, parent_team_id);

CREATE TABLE groups (
    linked_account_id         uuid NOT NULL REFERENCES linked_accounts (id) ON DELETE CASCADE,
    id                        uuid NOT NULL,
    remote_id                 text NOT NULL,
    normalized                text NOT NULL,
    remote_data               text,
    content_hash              bytea NOT NULL,
    remote_was_deleted        boolean NOT NULL DEFAULT false,
    created_at                timestamptz NOT NULL DEFAULT now(),
    modified_at               timestamptz NOT NULL DEFAULT now(),
    name                      text,
    type                      text,
    is_commonly_used_as_team  boolean,
    parent_group_id           uuid,
    PRIMARY KEY (linked_account_id, id),
    UNIQUE (linked_account_id, remote_id)
);
CREATE INDEX groups_keyset ON groups (linked_account_id, modified_at, id);
CREATE INDEX groups_created ON groups (linked_account_id, created_at);
CREATE INDEX groups_name ON groups (linked_account_id, name);
CREATE INDEX groups_type ON groups (linked_account_id, type);

CREATE TABLE employees (
    linked_account_id   uuid NOT NULL REFERENCES linked_accounts (id) ON DELETE CASCADE,
    id                  uuid NOT NULL,
    remote_id           text NOT NULL,
    normalized          text NOT NULL,
    remote_data         text,
    content_hash        bytea NOT NULL,
    remote_was_deleted  boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    modified_at         timestamptz NOT NULL DEFAULT now(),
    employee_number     text,
    company_id          uuid,
    first_name          text,
    last_name           text,
    display_full_name   text,
    group_ids           uuid[] NOT NULL DEFAULT '{}',
    work_email          text,
    personal_email      text,
    home_location_id    uuid,
    work_location_id    uuid,
    manager_id          uuid,
    team_id             uuid,
    pay_group_id        uuid,
    employment_status   text,
    start_date          timestamptz,
    termination_date    timestamptz,
    PRIMARY KEY (linked_account_id, id),
    UNIQUE (linked_account_id, remote_id)
);
CREATE INDEX employees_keyset ON employees (linked_account_id, modified_at, id);
CREATE INDEX employees_created ON employees (linked_account_id, created_at);
CREATE INDEX employees_status ON employees (linked_account_id, employment_status, modified_at, id);
CREATE INDEX employees_number ON employees (linked_account_id, employee_number);
CREATE INDEX employees_company ON employees (linked_account_id, company_id);
CREATE INDEX employees_first_name ON employees (linked_account_id, first_name);
CREATE INDEX employees_last_name ON employees (linked_account_id, last_name);
CREATE INDEX employees_display_name ON employees (linked_account_id, display_full_name);
CREATE INDEX employees_groups ON employees USING gin (group_ids);
CREATE INDEX employees_work_email ON employees (linked_account_id, work_email);
CREATE INDEX employees_personal_email ON employees (linked_account_id, personal_email);
CREATE INDEX employees_home_location ON employees (linked_account_id, home_location_id);
CREATE INDEX employees_work_location ON employees (linked_account_id, work_location_id);
CREATE INDEX employees_manager ON employees (linked_account_id, manager_id);
CREATE INDEX employees_team ON employees (linked_account_id, team_id);
CREATE INDEX employees_pay_group ON employees (linked_account_id, pay_group_id);
CREATE INDEX employees_start ON employees (linked_account_id, start_date);
CREATE INDEX employees_termination ON employees (linked_account_id, termination_date);

CREATE TABLE employments (
    linked_account_id   uuid NOT NULL REFERENCES linked_accounts (id) ON DELETE CASCADE,
    id                  uuid NOT NULL,
    remote_id           text NOT NULL,
    normalized          text NOT NULL,
    remote_data         text,
    content_hash        bytea NOT NULL,
    remote_was_deleted  boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    modified_at         timestamptz NOT NULL DEFAULT now(),
    employee_id         uuid,
    job_title           text,
    employment_type     text,
    pay_group_id        uuid,
    effective_date      timestamptz,
    PRIMARY KEY (linked_account_id, id),
    UNIQUE (linked_account_id, remote_id)
);
CREATE INDEX employments_keyset ON employments (linked_account_id, modified_at, id);
CREATE INDEX employments_created ON employments (linked_account_id, created_at);
CREATE INDEX employments_employee ON employments (linked_account_id, employee_id);
CREATE INDEX employments_effective ON employments (linked_account_id, effective_date, id);
CREATE INDEX employments_type ON employments (linked_account_id, employment_type);
CREATE INDEX employments_job_title ON employments (linked_account_id, job_title);
