/* Test helper: a capturing prov_sink that checks each record as the store would take it. */
#include "rt_capture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "roster/rs_buf.h"

/* Above any record the adapters make, huge-string tests included. */
#define RENDER_CEILING (1 << 22)

void rt_capture_init(struct rt_capture *cap)
{
    memset(cap, 0, sizeof(*cap));
    cap->records = json_array();
    cap->skipped = json_array();
    assert_non_null(cap->records);
    assert_non_null(cap->skipped);
}

void rt_capture_cleanup(struct rt_capture *cap)
{
    json_decref(cap->records);
    json_decref(cap->skipped);
    memset(cap, 0, sizeof(*cap));
}

void rt_capture_clear(struct rt_capture *cap)
{
    assert_int_equal(json_array_clear(cap->records), 0);
    assert_int_equal(json_array_clear(cap->skipped), 0);
}

void rt_capture_fail_at(struct rt_capture *cap, size_t n)
{
    cap->fail_at = n;
    cap->delivered = 0;
}

static enum rs_err capture_record(void *arg, enum rs_model_kind kind,
                                  const struct rs_record *record)
{
    struct rt_capture *cap = arg;
    struct rs_buf out;
    struct rs_errbuf eb;
    enum rs_err err;

    if (cap->fail_at && ++cap->delivered == cap->fail_at)
        return RS_ERR_DB;
    assert_non_null(record->remote_id);
    assert_true(record->remote_id[0] != '\0');
    assert_true(strlen(record->remote_id) <= RS_MODEL_REMOTE_ID_MAX);
    /* every record must render as the model it claims to be (typed refs, dates, enums) */
    rs_buf_init(&out, RENDER_CEILING);
    err = rs_model_render(rs_model_get(kind), record->fields, &out, &eb);
    rs_buf_cleanup(&out);
    if (err != RS_OK)
        fail_msg("a %s record (%s) does not render: %s", rs_model_get(kind)->name,
                 record->remote_id, eb.msg);
    assert_int_equal(
        json_array_append_new(cap->records,
                              json_pack("{s:i, s:s, s:O, s:O?}", "kind", (int)kind, "remote_id",
                                        record->remote_id, "fields", record->fields, "remote_data",
                                        record->remote_data)),
        0);
    return RS_OK;
}

static void capture_skipped(void *arg, enum rs_model_kind kind, const char *why)
{
    struct rt_capture *cap = arg;

    assert_non_null(why);
    assert_int_equal(
        json_array_append_new(cap->skipped, json_pack("{s:i, s:s}", "kind", (int)kind, "why", why)),
        0);
}

struct prov_sink rt_capture_sink(struct rt_capture *cap)
{
    struct prov_sink sink = {.record = capture_record, .skipped = capture_skipped, .arg = cap};

    return sink;
}

/* Which entries of records or skipped a look-up wants; NULL strings match anything. */
struct match {
    enum rs_model_kind kind; /* or RT_CAPTURE_ANY */
    const char *remote_id;   /* records: equal to */
    const char *needle;      /* skipped: contained in the reason */
};

static bool matches(const json_t *entry, const struct match *want)
{
    const char *remote_id = json_string_value(json_object_get(entry, "remote_id"));
    const char *why = json_string_value(json_object_get(entry, "why"));

    if (want->kind != RT_CAPTURE_ANY &&
        json_integer_value(json_object_get(entry, "kind")) != want->kind)
        return false;
    if (want->remote_id && (!remote_id || strcmp(remote_id, want->remote_id) != 0))
        return false;
    return !want->needle || (why && strstr(why, want->needle));
}

/* The last entry of array that matches (the last delivered wins, as in the store), and *n
   (may be NULL) how many do. */
static const json_t *last_match(const json_t *array, const struct match *want, size_t *n)
{
    size_t i, count = 0;
    const json_t *entry, *found = NULL;

    json_array_foreach(array, i, entry)
    {
        if (matches(entry, want)) {
            found = entry;
            count++;
        }
    }
    if (n)
        *n = count;
    return found;
}

const json_t *rt_capture_record(const struct rt_capture *cap, enum rs_model_kind kind,
                                const char *remote_id)
{
    struct match want = {.kind = kind, .remote_id = remote_id};
    const json_t *found = last_match(cap->records, &want, NULL);

    if (!found)
        fail_msg("no %s record with remote id %s", rs_model_get(kind)->name, remote_id);
    return found;
}

const json_t *rt_capture_find(const struct rt_capture *cap, enum rs_model_kind kind,
                              const char *remote_id)
{
    return json_object_get(rt_capture_record(cap, kind, remote_id), "fields");
}

size_t rt_capture_count(const struct rt_capture *cap, enum rs_model_kind kind)
{
    struct match want = {.kind = kind};
    size_t n;

    (void)last_match(cap->records, &want, &n);
    return n;
}

size_t rt_capture_count_remote_id(const struct rt_capture *cap, enum rs_model_kind kind,
                                  const char *remote_id)
{
    struct match want = {.kind = kind, .remote_id = remote_id};
    size_t n;

    (void)last_match(cap->records, &want, &n);
    return n;
}

size_t rt_capture_count_skipped(const struct rt_capture *cap, enum rs_model_kind kind)
{
    struct match want = {.kind = kind};
    size_t n;

    (void)last_match(cap->skipped, &want, &n);
    return n;
}

const char *rt_capture_skip_why(const struct rt_capture *cap, size_t index)
{
    return json_string_value(json_object_get(json_array_get(cap->skipped, index), "why"));
}

size_t rt_capture_skipped_with(const struct rt_capture *cap, const char *needle)
{
    struct match want = {.kind = RT_CAPTURE_ANY, .needle = needle};
    size_t n;

    (void)last_match(cap->skipped, &want, &n);
    return n;
}
