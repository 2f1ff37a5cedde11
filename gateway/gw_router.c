/*
 * The route table: every endpoint rosterd serves, who may call it, and its handler. Reading
 * this table answers "where is this request authenticated" (the auth column; gw_req_dispatch
 * enforces it before any handler runs).
 */
#include "gw_int.h"
#include "wh_int.h"

#include <string.h>

#define GET   EVHTTP_REQ_GET
#define POST  EVHTTP_REQ_POST
#define DEL   EVHTTP_REQ_DELETE
#define PATCH EVHTTP_REQ_PATCH
#define PUT   EVHTTP_REQ_PUT
#define HRIS  "/api/hris/v1/"
#define ADMIN "/api/admin/v1/"
#define MODEL_ROUTES(path, kind)                                                                   \
    {GET, HRIS path, GW_AUTH_ACCOUNT, gw_handle_list, path ".list", kind},                         \
    {                                                                                              \
        GET, HRIS path "/{id}", GW_AUTH_ACCOUNT, gw_handle_retrieve, path ".retrieve", kind        \
    }

static const struct gw_route routes[] = {
    {GET, "/healthz", GW_AUTH_NONE, gw_handle_healthz, "healthz", RS_MODEL_NONE},
    {GET, "/readyz", GW_AUTH_NONE, gw_handle_readyz, "readyz", RS_MODEL_NONE},
    {GET, "/metrics", GW_AUTH_NONE, gw_handle_metrics, "metrics", RS_MODEL_NONE},
    /* before groups/{id}, which would otherwise take "types" as an id */
    {GET, HRIS "groups/types", GW_AUTH_ACCOUNT, gw_handle_group_types, "groups.types",
     RS_MODEL_GROUP},
    MODEL_ROUTES("employees", RS_MODEL_EMPLOYEE),
    MODEL_ROUTES("employments", RS_MODEL_EMPLOYMENT),
    MODEL_ROUTES("groups", RS_MODEL_GROUP),
    MODEL_ROUTES("teams", RS_MODEL_TEAM),
    MODEL_ROUTES("locations", RS_MODEL_LOCATION),
    MODEL_ROUTES("companies", RS_MODEL_COMPANY),
    {GET, HRIS "account-details", GW_AUTH_ACCOUNT, gw_handle_account_details, "account-details",
     RS_MODEL_NONE},
    {GET, HRIS "linked-accounts", GW_AUTH_ORG, gw_handle_linked_accounts, "linked-accounts",
     RS_MODEL_NONE},
    {POST, ADMIN "linked-accounts", GW_AUTH_ORG, gw_handle_admin_account_create,
     "admin.linked-accounts.create", RS_MODEL_NONE},
    {GET, ADMIN "linked-accounts", GW_AUTH_ORG, gw_handle_admin_account_list,
     "admin.linked-accounts.list", RS_MODEL_NONE},
    {GET, ADMIN "linked-accounts/{id}", GW_AUTH_ORG, gw_handle_admin_account_get,
     "admin.linked-accounts.get", RS_MODEL_NONE},
    {DEL, ADMIN "linked-accounts/{id}", GW_AUTH_ORG, gw_handle_admin_account_delete,
     "admin.linked-accounts.delete", RS_MODEL_NONE},
    {PUT, ADMIN "oauth-clients/{id}", GW_AUTH_ORG, gw_handle_admin_oauth_client_put,
     "admin.oauth-clients.put", RS_MODEL_NONE},
    {GET, ADMIN "oauth-clients/{id}", GW_AUTH_ORG, gw_handle_admin_oauth_client_get,
     "admin.oauth-clients.get", RS_MODEL_NONE},
    {DEL, ADMIN "oauth-clients/{id}", GW_AUTH_ORG, gw_handle_admin_oauth_client_delete,
     "admin.oauth-clients.delete", RS_MODEL_NONE},
    {GET, HRIS "sync-status", GW_AUTH_ACCOUNT, gw_handle_sync_status, "sync-status", RS_MODEL_NONE},
    {POST, HRIS "sync-status/resync", GW_AUTH_ACCOUNT, gw_handle_sync_resync, "sync-status.resync",
     RS_MODEL_NONE},
    {POST, HRIS "link-token", GW_AUTH_ORG, gw_handle_link_token, "link-token", RS_MODEL_NONE},
    /* before account-token/{id}, which would otherwise take "regenerate" as a token */
    {POST, HRIS "account-token/regenerate", GW_AUTH_ACCOUNT, gw_handle_account_token_regenerate,
     "account-token.regenerate", RS_MODEL_NONE},
    {GET, HRIS "account-token/{id}", GW_AUTH_ORG, gw_handle_account_token, "account-token",
     RS_MODEL_NONE},
    {POST, HRIS "delete-account", GW_AUTH_ACCOUNT, gw_handle_delete_account, "delete-account",
     RS_MODEL_NONE},
    {POST, ADMIN "linked-accounts/{id}/test", GW_AUTH_ORG, gw_handle_admin_account_test,
     "admin.linked-accounts.test", RS_MODEL_NONE},
    {POST, ADMIN "linked-accounts/{id}/deactivate", GW_AUTH_ORG, gw_handle_admin_account_deactivate,
     "admin.linked-accounts.deactivate", RS_MODEL_NONE},
    {POST, ADMIN "linked-accounts/{id}/activate", GW_AUTH_ORG, gw_handle_admin_account_activate,
     "admin.linked-accounts.activate", RS_MODEL_NONE},
    {GET, ADMIN "link-tokens", GW_AUTH_ORG, gw_handle_admin_links_list, "admin.link-tokens.list",
     RS_MODEL_NONE},
    {GET, ADMIN "link-tokens/{id}", GW_AUTH_ORG, gw_handle_admin_link_get, "admin.link-tokens.get",
     RS_MODEL_NONE},
    {POST, ADMIN "link-tokens/{id}/revoke", GW_AUTH_ORG, gw_handle_admin_link_revoke,
     "admin.link-tokens.revoke", RS_MODEL_NONE},
    {POST, ADMIN "link-tokens/{id}/reissue", GW_AUTH_ORG, gw_handle_admin_link_reissue,
     "admin.link-tokens.reissue", RS_MODEL_NONE},
    {GET, ADMIN "link-settings", GW_AUTH_ORG, gw_handle_admin_link_settings_get,
     "admin.link-settings.get", RS_MODEL_NONE},
    {PATCH, ADMIN "link-settings", GW_AUTH_ORG, gw_handle_admin_link_settings_patch,
     "admin.link-settings.update", RS_MODEL_NONE},
    /* the hosted connect pages: no API key, the link token in the path is the session;
       static files and the OAuth callback first, so "static" and "oauth" are never taken for
       a token (the callback's session is the one its state was stored with) */
    {GET, "/link/static/{id}", GW_AUTH_NONE, gw_handle_link_asset, "link.static", RS_MODEL_NONE},
    {GET, "/link/oauth/callback", GW_AUTH_NONE, gw_handle_link_oauth_callback,
     "link.oauth.callback", RS_MODEL_NONE},
    {GET, "/link/{id}/{id}/oauth", GW_AUTH_NONE, gw_handle_link_oauth_page, "link.oauth.page",
     RS_MODEL_NONE},
    {POST, "/link/{id}/{id}/oauth", GW_AUTH_NONE, gw_handle_link_oauth_start, "link.oauth.start",
     RS_MODEL_NONE},
    {GET, "/link/{id}", GW_AUTH_NONE, gw_handle_link_page, "link.page", RS_MODEL_NONE},
    {GET, "/link/{id}/{id}", GW_AUTH_NONE, gw_handle_link_form, "link.form", RS_MODEL_NONE},
    {POST, "/link/{id}/{id}", GW_AUTH_NONE, gw_handle_link_submit, "link.submit", RS_MODEL_NONE},
    {GET, ADMIN "linked-accounts/{id}/sync-settings", GW_AUTH_ORG,
     gw_handle_admin_sync_settings_get, "admin.sync-settings.get", RS_MODEL_NONE},
    {PATCH, ADMIN "linked-accounts/{id}/sync-settings", GW_AUTH_ORG,
     gw_handle_admin_sync_settings_patch, "admin.sync-settings.update", RS_MODEL_NONE},
    {GET, ADMIN "linked-accounts/{id}/syncs", GW_AUTH_ORG, gw_handle_admin_syncs_list,
     "admin.syncs.list", RS_MODEL_NONE},
    {POST, ADMIN "linked-accounts/{id}/syncs", GW_AUTH_ORG, gw_handle_admin_syncs_create,
     "admin.syncs.create", RS_MODEL_NONE},
    {POST, ADMIN "linked-accounts/{id}/syncs/{id}/approve", GW_AUTH_ORG,
     gw_handle_admin_sync_approve, "admin.syncs.approve", RS_MODEL_NONE},
    {POST, ADMIN "linked-accounts/{id}/syncs/{id}/discard", GW_AUTH_ORG,
     gw_handle_admin_sync_discard, "admin.syncs.discard", RS_MODEL_NONE},
    {POST, ADMIN "webhook-endpoints", GW_AUTH_ORG, wh_handle_endpoint_create,
     "admin.webhook-endpoints.create", RS_MODEL_NONE},
    {GET, ADMIN "webhook-endpoints", GW_AUTH_ORG, wh_handle_endpoint_list,
     "admin.webhook-endpoints.list", RS_MODEL_NONE},
    {GET, ADMIN "webhook-endpoints/{id}", GW_AUTH_ORG, wh_handle_endpoint_get,
     "admin.webhook-endpoints.get", RS_MODEL_NONE},
    {PATCH, ADMIN "webhook-endpoints/{id}", GW_AUTH_ORG, wh_handle_endpoint_patch,
     "admin.webhook-endpoints.update", RS_MODEL_NONE},
    {DEL, ADMIN "webhook-endpoints/{id}", GW_AUTH_ORG, wh_handle_endpoint_delete,
     "admin.webhook-endpoints.delete", RS_MODEL_NONE},
    {POST, ADMIN "webhook-endpoints/{id}/rotate-secret", GW_AUTH_ORG, wh_handle_endpoint_rotate,
     "admin.webhook-endpoints.rotate-secret", RS_MODEL_NONE},
    {POST, ADMIN "webhook-endpoints/{id}/replay", GW_AUTH_ORG, wh_handle_endpoint_replay,
     "admin.webhook-endpoints.replay", RS_MODEL_NONE},
    {GET, ADMIN "webhook-endpoints/{id}/deliveries", GW_AUTH_ORG, wh_handle_deliveries,
     "admin.webhook-endpoints.deliveries", RS_MODEL_NONE},
    {GET, ADMIN "webhook-endpoints/{id}/messages/{id}", GW_AUTH_ORG, wh_handle_message_get,
     "admin.webhook-messages.get", RS_MODEL_NONE},
    {GET, ADMIN "webhook-endpoints/{id}/messages/{id}/attempts", GW_AUTH_ORG,
     wh_handle_message_attempts, "admin.webhook-messages.attempts", RS_MODEL_NONE},
    {POST, ADMIN "webhook-endpoints/{id}/messages/{id}/replay", GW_AUTH_ORG,
     wh_handle_message_replay, "admin.webhook-messages.replay", RS_MODEL_NONE},
};

const struct gw_route *gw_router_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}

/*
 * Matches path against pattern segment by segment; "{id}" takes one non-empty segment.
 * A single trailing slash on the path is accepted (Merge's docs use both forms).
 */
static bool path_matches(const char *pattern, char *path, const char *params[2])
{
    size_t nparams = 0;
    const char *p = pattern;
    char *s = path;

    while (*p) {
        if (strncmp(p, "{id}", 4) == 0) {
            char *end = strchr(s, '/');
            size_t len = end ? (size_t)(end - s) : strlen(s);

            if (len == 0 || nparams == 2)
                return false;
            params[nparams++] = s;
            s += len;
            p += 4;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (!(*s == '\0' || (s[0] == '/' && s[1] == '\0')))
        return false;
    /* terminate the captures in place now that the whole path matched */
    for (size_t i = 0; i < nparams; i++) {
        char *end = strchr((char *)params[i], '/');
        if (end)
            *end = '\0';
    }
    return true;
}

const struct gw_route *gw_router_match(struct gw_req *req, enum rs_err *err)
{
    enum evhttp_cmd_type method = evhttp_request_get_command(req->ev);
    bool path_known = false;

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const char *params[2] = {NULL, NULL};

        /* the captures are cut in place, so match on a copy and keep req->path whole */
        memcpy(req->captures, req->path, sizeof(req->captures));
        if (!path_matches(routes[i].pattern, req->captures, params))
            continue;
        path_known = true;
        if (routes[i].method != method && !(method == EVHTTP_REQ_HEAD && routes[i].method == GET))
            continue;
        req->params[0] = params[0];
        req->params[1] = params[1];
        return &routes[i];
    }
    *err = path_known ? RS_ERR_METHOD : RS_ERR_NOTFOUND;
    return NULL;
}
