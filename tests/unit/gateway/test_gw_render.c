/*
 * Unit tests for gateway/gw_render.c: stored rows spliced into Merge objects (Roster's members
 * around the stored JSON, remote_data only when asked), and rows read from a binary result
 * built by hand with libpq (no server).
 */
#include "gw_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roster/rs_time.h"

#define ROW_ID "0958cbc6-6040-430a-848e-aafacbadf4ae"
/* 2021-09-15T00:00:00Z and 2021-10-16T12:34:56.789012Z */
#define CREATED_US  INT64_C(1631664000000000)
#define MODIFIED_US INT64_C(1634387696789012)

static struct gw_row sample_row(const char *normalized, const char *remote_data)
{
    struct gw_row row;

    memset(&row, 0, sizeof(row));
    assert_int_equal(rs_uuid_parse(ROW_ID, &row.id), RS_OK);
    row.remote_id = "19202938";
    row.created_us = CREATED_US;
    row.modified_us = MODIFIED_US;
    row.normalized = normalized;
    row.normalized_len = strlen(normalized);
    row.remote_data = remote_data;
    row.remote_data_len = remote_data ? strlen(remote_data) : 0;
    return row;
}

/* Renders row; returns the text (caller frees) after checking that it parses. */
static char *render(const struct gw_row *row, bool include_remote_data, json_t **parsed)
{
    struct rs_buf out;
    json_error_t jerr;
    char *text;

    rs_buf_init(&out, 1 << 20);
    assert_int_equal(gw_render_row(row, include_remote_data, &out), RS_OK);
    text = rs_buf_steal(&out);
    *parsed = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!*parsed)
        fail_msg("not JSON (%s): %s", jerr.text, text);
    return text;
}

static void assert_keys(const json_t *obj, const char *const *keys)
{
    const char *key;
    json_t *value;
    size_t i = 0;

    json_object_foreach((json_t *)obj, key, value)
    {
        if (!keys[i] || strcmp(key, keys[i]) != 0)
            fail_msg("key %zu is %s, expected %s", i, key, keys[i] ? keys[i] : "(end)");
        i++;
    }
    if (keys[i])
        fail_msg("missing key %s", keys[i]);
}

static void test_splice_order(void **state)
{
    static const char *const keys[] = {
        "id",          "remote_id",          "created_at",     "modified_at", "name",
        "parent_team", "remote_was_deleted", "field_mappings", "remote_data", NULL};
    struct gw_row row = sample_row("{\"name\":\"Engineering\",\"parent_team\":null}",
                                   "[{\"path\":\"/teams\",\"data\":[\"Varies by platform\"]}]");
    json_t *obj, *mappings;
    char *text;

    (void)state;
    text = render(&row, false, &obj);
    assert_keys(obj, keys);
    assert_string_equal(json_string_value(json_object_get(obj, "id")), ROW_ID);
    assert_string_equal(json_string_value(json_object_get(obj, "remote_id")), "19202938");
    assert_string_equal(json_string_value(json_object_get(obj, "created_at")),
                        "2021-09-15T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(obj, "modified_at")),
                        "2021-10-16T12:34:56.789012Z");
    assert_string_equal(json_string_value(json_object_get(obj, "name")), "Engineering");
    assert_true(json_is_false(json_object_get(obj, "remote_was_deleted")));
    mappings = json_object_get(obj, "field_mappings");
    assert_true(json_is_object(json_object_get(mappings, "organization_defined_targets")));
    assert_true(json_is_object(json_object_get(mappings, "linked_account_defined_targets")));
    assert_int_equal(json_object_size(mappings), 2);
    /* stored but not asked for: null */
    assert_true(json_is_null(json_object_get(obj, "remote_data")));
    /* the stored bytes are spliced, not re-encoded */
    assert_non_null(strstr(text, ",\"name\":\"Engineering\",\"parent_team\":null,"));
    free(text);
    json_decref(obj);

    text = render(&row, true, &obj);
    assert_keys(obj, keys);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(obj, "remote_data"), 0), "path")),
                        "/teams");
    assert_non_null(strstr(text, "\"remote_data\":[{\"path\":\"/teams\",\"data\":[\"Varies by "
                                 "platform\"]}]}"));
    free(text);
    json_decref(obj);
}

static void test_remote_data_absent_and_deleted(void **state)
{
    struct gw_row row = sample_row("{\"legal_name\":\"Acme\"}", NULL);
    json_t *obj;
    char *text;

    (void)state;
    row.remote_was_deleted = true;
    text = render(&row, true, &obj);
    assert_true(json_is_null(json_object_get(obj, "remote_data")));
    assert_true(json_is_true(json_object_get(obj, "remote_was_deleted")));
    free(text);
    json_decref(obj);
}

/* A model object with no fields: no stray comma. */
static void test_empty_stored_object(void **state)
{
    static const char *const keys[] = {"id",
                                       "remote_id",
                                       "created_at",
                                       "modified_at",
                                       "remote_was_deleted",
                                       "field_mappings",
                                       "remote_data",
                                       NULL};
    struct gw_row row = sample_row("{}", NULL);
    json_t *obj;
    char *text;

    (void)state;
    text = render(&row, false, &obj);
    assert_keys(obj, keys);
    free(text);
    json_decref(obj);
}

static void test_remote_id_escaped(void **state)
{
    const char *weird = "a\"b\\c\td\ne/f \xc3\xa9\xe6\x97\xa5\x01";
    struct gw_row row = sample_row("{\"name\":null}", NULL);
    json_t *obj;
    char *text;

    (void)state;
    row.remote_id = weird;
    text = render(&row, false, &obj);
    assert_string_equal(json_string_value(json_object_get(obj, "remote_id")), weird);
    free(text);
    json_decref(obj);
}

static void test_render_row_json(void **state)
{
    struct gw_row row = sample_row("{\"first_name\":\"Zoë\",\"groups\":[]}",
                                   "[{\"path\":\"/people\",\"data\":{}}]");
    json_t *obj = gw_render_row_json(&row, true), *with_nothing;

    (void)state;
    assert_non_null(obj);
    assert_string_equal(json_string_value(json_object_get(obj, "first_name")), "Zoë");
    assert_true(json_is_array(json_object_get(obj, "remote_data")));
    json_decref(obj);
    with_nothing = gw_render_row_json(&row, false);
    assert_true(json_is_null(json_object_get(with_nothing, "remote_data")));
    json_decref(with_nothing);
    /* broken stored JSON yields NULL rather than a half object */
    row = sample_row("{\"first_name\":", NULL);
    assert_null(gw_render_row_json(&row, false));
}

static void test_render_time(void **state)
{
    struct rs_buf out;

    (void)state;
    rs_buf_init(&out, 256);
    assert_int_equal(gw_render_time(0, &out), RS_OK);
    assert_string_equal(out.data, "\"1970-01-01T00:00:00Z\"");
    rs_buf_reset(&out);
    assert_int_equal(gw_render_time(MODIFIED_US, &out), RS_OK);
    assert_string_equal(out.data, "\"2021-10-16T12:34:56.789012Z\"");
    rs_buf_cleanup(&out);
}

/* The output buffer's ceiling is reported, not overrun. */
static void test_ceiling(void **state)
{
    struct gw_row row = sample_row("{\"name\":\"Engineering\"}", NULL);
    struct rs_buf out;

    (void)state;
    rs_buf_init(&out, 64);
    assert_int_equal(gw_render_row(&row, false, &out), RS_ERR_TOOBIG);
    rs_buf_cleanup(&out);
}

static void put_be64(char out[8], int64_t value)
{
    uint64_t v = (uint64_t)value;

    for (int i = 7; i >= 0; i--) {
        out[i] = (char)(v & 0xff);
        v >>= 8;
    }
}

/* gw_row_from_result reads the binary columns of GW_ROW_COLUMNS. */
static void test_row_from_binary_result(void **state)
{
    PGresAttDesc attrs[7];
    static const char *const names[] = {"id",          "remote_id",  "created_at",
                                        "modified_at", "normalized", "remote_was_deleted",
                                        "remote_data"};
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
    struct rs_uuid id;
    char created[8], modified[8], deleted = 1, text[RS_UUID_STR_LEN];
    const char *normalized = "{\"name\":\"T\"}";
    struct gw_row row;

    (void)state;
    assert_non_null(res);
    memset(attrs, 0, sizeof(attrs));
    for (int i = 0; i < 7; i++) {
        attrs[i].name = (char *)names[i];
        attrs[i].format = 1;
        attrs[i].typlen = -1;
    }
    assert_true(PQsetResultAttrs(res, 7, attrs));
    assert_int_equal(rs_uuid_parse(ROW_ID, &id), RS_OK);
    put_be64(created, CREATED_US - RS_TIME_PG_EPOCH_US);
    put_be64(modified, MODIFIED_US - RS_TIME_PG_EPOCH_US);
    assert_true(PQsetvalue(res, 0, 0, (char *)id.b, 16));
    assert_true(PQsetvalue(res, 0, 1, (char *)"R-1", 3));
    assert_true(PQsetvalue(res, 0, 2, created, 8));
    assert_true(PQsetvalue(res, 0, 3, modified, 8));
    assert_true(PQsetvalue(res, 0, 4, (char *)normalized, (int)strlen(normalized)));
    assert_true(PQsetvalue(res, 0, 5, &deleted, 1));
    assert_true(PQsetvalue(res, 0, 6, NULL, -1));
    /* a second row: before 2000 (negative PostgreSQL time), not deleted, with remote data */
    put_be64(created, INT64_C(-1000000) - RS_TIME_PG_EPOCH_US);
    deleted = 0;
    assert_true(PQsetvalue(res, 1, 0, (char *)id.b, 16));
    assert_true(PQsetvalue(res, 1, 1, (char *)"", 0));
    assert_true(PQsetvalue(res, 1, 2, created, 8));
    assert_true(PQsetvalue(res, 1, 3, modified, 8));
    assert_true(PQsetvalue(res, 1, 4, (char *)"{}", 2));
    assert_true(PQsetvalue(res, 1, 5, &deleted, 1));
    assert_true(PQsetvalue(res, 1, 6, (char *)"[]", 2));

    gw_row_from_result(res, 0, &row);
    assert_string_equal(rs_uuid_format(&row.id, text), ROW_ID);
    assert_string_equal(row.remote_id, "R-1");
    assert_true(row.created_us == CREATED_US);
    assert_true(row.modified_us == MODIFIED_US);
    assert_int_equal(row.normalized_len, strlen(normalized));
    assert_memory_equal(row.normalized, normalized, row.normalized_len);
    assert_true(row.remote_was_deleted);
    assert_null(row.remote_data);
    assert_int_equal(row.remote_data_len, 0);

    gw_row_from_result(res, 1, &row);
    assert_string_equal(row.remote_id, "");
    assert_true(row.created_us == INT64_C(-1000000));
    assert_false(row.remote_was_deleted);
    assert_non_null(row.remote_data);
    assert_int_equal(row.remote_data_len, 2);
    PQclear(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splice_order),
        cmocka_unit_test(test_remote_data_absent_and_deleted),
        cmocka_unit_test(test_empty_stored_object),
        cmocka_unit_test(test_remote_id_escaped),
        cmocka_unit_test(test_render_row_json),
        cmocka_unit_test(test_render_time),
        cmocka_unit_test(test_ceiling),
        cmocka_unit_test(test_row_from_binary_result),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
