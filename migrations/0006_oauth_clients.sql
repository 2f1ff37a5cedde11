-- OAuth2 clients: the client id and secret an organization registered with a provider, used
-- by the link flow (authorize, code exchange) and by token refreshes of its linked accounts.
-- The secret is sealed by the vault with AAD "<organization id>/oauth/<integration>"
-- (core/rs_sealed.c lists every sealed column). Vault values sealed before this migration
-- already carry their key id (format "RV1"), so nothing stored needs rewriting here.
CREATE TABLE oauth_clients (
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    integration      text NOT NULL,
    client_id        text NOT NULL,
    client_secret    bytea NOT NULL,
    scopes           text,         -- NULL: the adapter's default scopes
    redirect_uri     text,         -- NULL: rosterd's own callback under ROSTER_PUBLIC_URL
    created_at       timestamptz NOT NULL DEFAULT now(),
    modified_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, integration)
);
