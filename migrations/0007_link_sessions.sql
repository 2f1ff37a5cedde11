-- The link flow: link sessions (one per link token / magic link), the public token a completed
-- session hands to the app, per-organization settings of the hosted pages, and deactivation of
-- linked accounts. Every secret (link token, public token) is stored only as its SHA-256.

CREATE TABLE link_sessions (
    id                          uuid PRIMARY KEY,
    organization_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    token_hash                  bytea NOT NULL UNIQUE,       -- SHA-256 of the link token
    end_user_origin_id          text NOT NULL,
    end_user_organization_name  text NOT NULL,
    end_user_email_address      text NOT NULL,
    integration                 text,                        -- preselected provider slug
    base_url                    text,                        -- provider host override (sandbox)
    magic_link                  boolean NOT NULL DEFAULT false,
    expiry_mins                 integer NOT NULL CHECK (expiry_mins BETWEEN 30 AND 10080),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    expires_at                  timestamptz NOT NULL,
    used_at                     timestamptz,                 -- a connection completed
    revoked_at                  timestamptz,
    reissued_from               uuid,                        -- the session this one replaced
    -- the account the session relinks (known at creation) or created/relinked (at completion)
    linked_account_id           uuid REFERENCES linked_accounts (id) ON DELETE SET NULL,
    public_token_hash           bytea UNIQUE,                -- SHA-256, once completed
    public_token_expires_at     timestamptz,
    public_token_used_at        timestamptz                  -- exchanged for an account token
);
CREATE INDEX link_sessions_org ON link_sessions (organization_id, created_at DESC, id DESC);

-- Where the hosted pages send the admin after a connection, and who may receive the public
-- token by postMessage (default: the return URL's origin).
ALTER TABLE organizations
    ADD COLUMN link_return_url text,
    ADD COLUMN link_opener_origin text;

-- A deactivated account has status IDLE (no syncs are scheduled or run) and keeps its data and
-- credentials; activating it makes it COMPLETE again and due for a sync at once.
ALTER TABLE linked_accounts ADD COLUMN deactivated_at timestamptz;
