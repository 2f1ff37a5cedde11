-- Webhooks: an organization's endpoints, the outbox of messages (one row per event and
-- endpoint, written in the transaction of the change that causes it), the log of delivery
-- attempts, and the issues (connection problems) that Issue.* events announce.
-- See docs/design/webhooks.md.

-- A time-ordered UUID (version 7: milliseconds since the epoch, then random bits), so that
-- messages and attempts go into their indexes in order and a listing by id is by time.
CREATE FUNCTION roster_uuid7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
    SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) PLACING
        substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
        FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;

CREATE TABLE webhook_endpoints (
    id                       uuid PRIMARY KEY,
    organization_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    url                      text NOT NULL,
    events                   text[],            -- event types it wants; NULL = every type
    enabled                  boolean NOT NULL DEFAULT true,
    initial_sync_events      boolean NOT NULL DEFAULT true,  -- .added for a first sync
    secret                   bytea NOT NULL,    -- sealed "whsec_…" (AAD "<id>/webhook")
    previous_secret          bytea,             -- sealed; still signs until it expires
    previous_expires_at      timestamptz,
    disabled_reason          text,              -- why rosterd disabled it (NULL: it did not)
    failing_since            timestamptz,       -- first failed attempt since the last success
    created_at               timestamptz NOT NULL DEFAULT now(),
    modified_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (organization_id, created_at, id);

-- Commit order of an account's events: every transaction that writes events for an account
-- first increments this counter (which locks the account's row until it commits), and its
-- messages carry the new value as their group; so groups grow in commit order.
ALTER TABLE linked_accounts ADD COLUMN webhook_seq bigint NOT NULL DEFAULT 0;

CREATE TABLE webhook_messages (
    endpoint_id          uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    id                   uuid NOT NULL,     -- webhook-id, the same on every attempt (UUIDv7)
    linked_account_id    uuid,              -- no foreign key: LinkedAccount.deleted outlives it;
                                            -- NULL for organization events
    grp                  bigint NOT NULL,   -- ordering group (linked_accounts.webhook_seq)
    event_type           text NOT NULL,
    data                 text,              -- the event's data (JSON), except model events:
    record_id            uuid,              -- model events: the row as it was stored, rendered
    remote_id            text,              -- at delivery exactly as the read API renders it
    record_created_at    timestamptz,
    record_modified_at   timestamptz,
    normalized           text,
    remote_was_deleted   boolean,
    status               text NOT NULL DEFAULT 'PENDING'
        CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
    attempts             integer NOT NULL DEFAULT 0,  -- every attempt, for the log's numbering
    failures             integer NOT NULL DEFAULT 0,  -- failed attempts of the current schedule
    next_attempt_at      timestamptz NOT NULL DEFAULT now(),  -- when due; while a dispatcher
                                            -- holds it, the end of its lease; 'infinity': its
                                            -- endpoint is disabled
    lease_id             uuid,              -- the claim holding it (the outcome of a claim whose
                                            -- lease ended and was taken over is ignored)
    created_at           timestamptz NOT NULL DEFAULT now(),
    delivered_at         timestamptz,
    PRIMARY KEY (endpoint_id, id)
);
-- what is due, per endpoint
CREATE INDEX webhook_messages_due ON webhook_messages (endpoint_id, next_attempt_at)
    WHERE status = 'PENDING';
-- what blocks a later group of the same account and endpoint
CREATE INDEX webhook_messages_order ON webhook_messages (endpoint_id, linked_account_id, grp)
    WHERE status = 'PENDING';

-- One row per attempt; written by the dispatchers in batches (no foreign key: the delete of an
-- endpoint removes its attempts itself).
CREATE TABLE webhook_attempts (
    endpoint_id      uuid NOT NULL,
    message_id       uuid NOT NULL,
    attempt          integer NOT NULL,
    attempted_at     timestamptz NOT NULL,
    result           text NOT NULL CHECK (result IN ('SUCCESS', 'FAILURE')),
    status_code      integer,                -- NULL: no HTTP answer (error says why)
    latency_ms       integer NOT NULL,
    response         text,                   -- the start of the answer's body, bounded
    error            text,
    PRIMARY KEY (endpoint_id, message_id, attempt)
);

-- The linked_account object of a deleted account's envelope (its pending events still go out).
CREATE TABLE webhook_deleted_accounts (
    linked_account_id  uuid PRIMARY KEY,
    organization_id    uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account            text NOT NULL,       -- JSON, as account-details rendered it
    deleted_at         timestamptz NOT NULL DEFAULT now()
);

-- Connection problems (Merge's Issue): at most one ongoing issue per subject and kind.
CREATE TABLE issues (
    id                   uuid PRIMARY KEY,
    organization_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    linked_account_id    uuid REFERENCES linked_accounts (id) ON DELETE CASCADE,
    subject_id           uuid NOT NULL,      -- the linked account, or the webhook endpoint
    kind                 text NOT NULL
        CHECK (kind IN ('CREDENTIALS', 'SYNC_FAILING', 'MASS_CHANGE', 'ENDPOINT_DISABLED')),
    status               text NOT NULL CHECK (status IN ('ONGOING', 'RESOLVED')),
    error_description    text NOT NULL,
    first_incident_time  timestamptz NOT NULL DEFAULT now(),
    last_incident_time   timestamptz NOT NULL DEFAULT now(),
    resolved_at          timestamptz
);
CREATE UNIQUE INDEX issues_one_ongoing ON issues (subject_id, kind) WHERE status = 'ONGOING';
CREATE INDEX issues_org ON issues (organization_id, first_incident_time DESC);
