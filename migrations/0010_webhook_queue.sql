-- Webhook delivery state apart from the messages: a message (its payload, written once with
-- the change that causes it) stays as it is until retention removes it; its delivery state
-- is a narrow row of webhook_queue, which exists from the message's insert until it is
-- delivered (DELETE, the cheapest write there is), or which stays DEAD. Claiming a message
-- only writes its lease (columns no index names, on pages with room: a HOT update), so a
-- delivery costs PostgreSQL a lease, a delete and its attempt's row. See
-- docs/design/webhooks.md.

CREATE TABLE webhook_queue (
    endpoint_id          uuid NOT NULL,
    id                   uuid NOT NULL,     -- the message (webhook_messages.id)
    linked_account_id    uuid,              -- copied from the message: the order check
    grp                  bigint NOT NULL,
    status               text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DEAD')),
    attempts             integer NOT NULL DEFAULT 0,  -- every attempt, for the log's numbering
    failures             integer NOT NULL DEFAULT 0,  -- failed attempts of the current schedule
    next_attempt_at      timestamptz NOT NULL DEFAULT now(),  -- when due; 'infinity': its
                                            -- endpoint is disabled
    lease_id             uuid,              -- the claim holding it (the outcome of a claim whose
                                            -- lease ended and was taken over is ignored)
    lease_until          timestamptz,       -- its lease's end: due again then if not recorded
    PRIMARY KEY (endpoint_id, id)
) WITH (fillfactor = 50);                   -- room on each page for the leases' new versions
-- what is due, per endpoint
CREATE INDEX webhook_queue_due ON webhook_queue (endpoint_id, next_attempt_at)
    WHERE status = 'PENDING';
-- what blocks a later group of the same account and endpoint
CREATE INDEX webhook_queue_order ON webhook_queue (endpoint_id, linked_account_id, grp)
    WHERE status = 'PENDING';

INSERT INTO webhook_queue (endpoint_id, id, linked_account_id, grp, status, attempts, failures,
                           next_attempt_at)
    SELECT endpoint_id, id, linked_account_id, grp, status, attempts, failures, next_attempt_at
    FROM webhook_messages WHERE status <> 'DELIVERED';

DROP INDEX webhook_messages_due;
DROP INDEX webhook_messages_order;
ALTER TABLE webhook_messages DROP COLUMN status, DROP COLUMN attempts, DROP COLUMN failures,
    DROP COLUMN next_attempt_at, DROP COLUMN lease_id, DROP COLUMN delivered_at;

-- Every message is queued by the statement that inserts it, whichever it is (a sync's apply,
-- a single event, an organization's Issue event): one statement per insert statement.
CREATE FUNCTION roster_webhook_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_queue (endpoint_id, id, linked_account_id, grp)
        SELECT endpoint_id, id, linked_account_id, grp FROM inserted;
    RETURN NULL;
END
$$;
CREATE TRIGGER webhook_messages_enqueue AFTER INSERT ON webhook_messages
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION roster_webhook_enqueue();

-- An endpoint's queue and attempts go with it (neither has a foreign key: they are written in
-- bulk, and a key's check per row would cost more than the row).
CREATE FUNCTION roster_webhook_endpoint_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM webhook_queue q USING deleted d WHERE q.endpoint_id = d.id;
    DELETE FROM webhook_attempts a USING deleted d WHERE a.endpoint_id = d.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER webhook_endpoints_gone AFTER DELETE ON webhook_endpoints
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT
    EXECUTE FUNCTION roster_webhook_endpoint_gone();
