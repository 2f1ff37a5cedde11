/*
 * Rendering of stored rows as Merge objects. The stored `normalized` JSON is spliced between
 * the columns Roster owns (id, remote_id, timestamps, deletion flag) without being parsed, so
 * a list page costs one copy of the bytes PostgreSQL returned.
 */
#include "gw_int.h"

#include <arpa/inet.h>
#include <string.h>

#include "roster/rs_time.h"

#define FIELD_MAPPINGS "{\"organization_defined_targets\":{},\"linked_account_defined_targets\":{}}"

static int64_t read_be64(const char *p)
{
    uint64_t v = 0;

    for (int i = 0; i < 8; i++)
        v = (v << 8) | (uint8_t)p[i];
    return (int64_t)v;
}

void gw_row_from_result(const PGresult *res, int i, struct gw_row *row)
{
    memcpy(row->id.b, PQgetvalue(res, i, 0), 16);
    row->remote_id = PQgetvalue(res, i, 1);
    row->created_us = read_be64(PQgetvalue(res, i, 2)) + RS_TIME_PG_EPOCH_US;
    row->modified_us = read_be64(PQgetvalue(res, i, 3)) + RS_TIME_PG_EPOCH_US;
    row->normalized = PQgetvalue(res, i, 4);
    row->normalized_len = (size_t)PQgetlength(res, i, 4);
    row->remote_was_deleted = PQgetvalue(res, i, 5)[0] != 0;
    row->remote_data = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6);
    row->remote_data_len = row->remote_data ? (size_t)PQgetlength(res, i, 6) : 0;
}

enum rs_err gw_render_time(int64_t us, struct rs_buf *out)
{
    char text[RS_TIME_ISO_LEN];

    return rs_buf_appendf(out, "\"%s\"", rs_time_format(us, text));
}

enum rs_err gw_render_row(const struct gw_row *row, bool include_remote_data, struct rs_buf *out)
{
    char id[RS_UUID_STR_LEN];
    enum rs_err err;

    err = rs_buf_appendf(out, "{\"id\":\"%s\",\"remote_id\":", rs_uuid_format(&row->id, id));
    if (err == RS_OK)
        err = rs_buf_append_json_str(out, row->remote_id, strlen(row->remote_id));
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"created_at\":");
    if (err == RS_OK)
        err = gw_render_time(row->created_us, out);
    if (err == RS_OK)
        err = rs_buf_append_str(out, ",\"modified_at\":");
    if (err == RS_OK)
        err = gw_render_time(row->modified_us, out);
    /* the stored object without its braces: `{"a":1,"b":2}` → `,"a":1,"b":2` */
    if (err == RS_OK && row->normalized_len > 2) {
        err = rs_buf_append(out, ",", 1);
        if (err == RS_OK)
            err = rs_buf_append(out, row->normalized + 1, row->normalized_len - 2);
    }
    if (err == RS_OK)
        err = rs_buf_appendf(out,
                             ",\"remote_was_deleted\":%s,\"field_mappings\":" FIELD_MAPPINGS
                             ",\"remote_data\":",
                             row->remote_was_deleted ? "true" : "false");
    if (err == RS_OK) {
        if (include_remote_data && row->remote_data)
            err = rs_buf_append(out, row->remote_data, row->remote_data_len);
        else
            err = rs_buf_append(out, "null", 4);
    }
    return err == RS_OK ? rs_buf_append(out, "}", 1) : err;
}

json_t *gw_render_row_json(const struct gw_row *row, bool include_remote_data)
{
    struct rs_buf text;
    json_t *obj = NULL;

    rs_buf_init(&text, 64 << 20);
    if (gw_render_row(row, include_remote_data, &text) == RS_OK)
        obj = json_loadb(text.data, text.len, 0, NULL);
    rs_buf_cleanup(&text);
    return obj;
}
