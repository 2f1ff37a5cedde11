/*
 * Events the gateway writes through the outbox (core/rs_outbox.c): LinkedAccount.deleted, with
 * the account kept for the envelopes of its pending events, and LinkedAccount.sync_completed.
 */
#include "wh_int.h"

#include <stdlib.h>
#include <string.h>

#include "roster/rs_outbox.h"
#include "roster/rs_time.h"

#define SQL_ACCOUNT "SELECT " GW_ACCOUNT_COLUMNS " FROM linked_accounts la WHERE la.id = $1::uuid"
/* only an organization with endpoints can have messages that need it */
#define SQL_KEEP                                                                                   \
    "INSERT INTO webhook_deleted_accounts (linked_account_id, organization_id, account) "          \
    "SELECT la.id, la.organization_id, $2 FROM linked_accounts la WHERE la.id = $1::uuid AND "     \
    "EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.organization_id = la.organization_id) "     \
    "ON CONFLICT (linked_account_id) DO UPDATE SET account = EXCLUDED.account, deleted_at = now()"

enum rs_err wh_event_account_deleted(struct rs_db *db, const char *account, struct rs_errbuf *eb)
{
    const char *params[2] = {account, NULL};
    struct rs_buf json;
    enum rs_err err;
    PGresult *res = rs_db_exec(db, SQL_ACCOUNT, 1, params, false, true, &err);

    rs_buf_init(&json, 1 << 20);
    if (!res)
        err = rs_errbuf_set(eb, err, "cannot read the linked account");
    else if (PQntuples(res) != 1)
        err = rs_errbuf_set(eb, RS_ERR_NOTFOUND, "no linked account with this id");
    else
        err = gw_render_account(res, 0, GW_ACCOUNT_DETAILS, &json);
    PQclear(res);
    res = NULL;
    params[1] = json.data;
    if (err == RS_OK && !(res = rs_db_exec(db, SQL_KEEP, 2, params, false, true, &err)))
        rs_errbuf_set(eb, err, "cannot keep the deleted account for its events");
    PQclear(res);
    if (err == RS_OK)
        err = rs_outbox_emit(db, account, RS_EVENT_DELETED, json.data, NULL, eb);
    rs_buf_cleanup(&json);
    return err;
}

enum rs_err wh_event_sync_completed(struct rs_db *db, const char *account,
                                    const char *integration_name, const char *integration_slug,
                                    bool initial, int64_t started_us, struct rs_errbuf *eb)
{
    char finished[RS_TIME_ISO_LEN], fresh[RS_TIME_ISO_LEN];
    struct rs_buf data;
    enum rs_err err;

    rs_time_format(rs_time_now_us(), finished);
    rs_time_format(started_us, fresh);
    rs_buf_init(&data, 1 << 16);
    err = rs_buf_appendf(
        &data, "{\"is_initial_sync\":%s,\"integration_name\":", initial ? "true" : "false");
    if (err == RS_OK)
        err = rs_buf_append_json_str(&data, integration_name, strlen(integration_name));
    if (err == RS_OK)
        err = rs_buf_append_str(&data, ",\"integration_id\":");
    if (err == RS_OK)
        err = rs_buf_append_json_str(&data, integration_slug, strlen(integration_slug));
    if (err == RS_OK)
        err = rs_buf_append_str(&data, ",\"sync_status\":{");
    for (int k = 0; k < RS_MODEL_COUNT && err == RS_OK; k++)
        err = rs_buf_appendf(&data,
                             "%s\"%s\":{\"last_sync_finished\":\"%s\",\"last_sync_result\":"
                             "\"DONE\",\"data_fresh_as_of\":\"%s\",\"sync_status_reason\":null}",
                             k ? "," : "", rs_model_get((enum rs_model_kind)k)->model_id, finished,
                             fresh);
    if (err == RS_OK)
        err = rs_buf_append_str(&data, "}}");
    if (err == RS_OK)
        err = rs_outbox_emit(db, account, RS_EVENT_SYNC_COMPLETED, data.data, NULL, eb);
    rs_buf_cleanup(&data);
    return err;
}
