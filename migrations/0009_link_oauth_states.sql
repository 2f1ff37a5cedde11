-- OAuth authorizations the hosted connect pages started and the provider has not yet sent back
-- (docs/design/link-flow.md#oauth). `state` travels through the admin's browser and the
-- provider, so only its SHA-256 is stored: a copy of the database cannot answer a callback.
-- The PKCE verifier must be sent back at the code exchange, so it cannot be hashed: it is
-- sealed by the vault, with the link token (for the pages' links back) and the pre-authorize
-- fields, as one JSON object, AAD "<id>/oauth-state" (core/rs_sealed.c). A row is deleted by
-- the callback that takes it (single use) and lives at most `expires_at` (10 minutes).
CREATE TABLE link_oauth_states (
    id               uuid PRIMARY KEY,
    state_hash       bytea NOT NULL UNIQUE,     -- SHA-256 of the state
    link_session_id  uuid NOT NULL REFERENCES link_sessions (id) ON DELETE CASCADE,
    integration      text NOT NULL,
    redirect_uri     text NOT NULL,             -- sent again, unchanged, at the code exchange
    secrets          bytea NOT NULL,            -- sealed {"code_verifier", "link_token", "fields"}
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL
);
CREATE INDEX link_oauth_states_expiry ON link_oauth_states (expires_at);
