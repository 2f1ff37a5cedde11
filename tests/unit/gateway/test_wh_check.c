/*
 * Unit tests for gateway/wh_check.c: webhook target URLs (http(s) only, no private or loopback
 * hosts unless allowed, no user-info, bounded) and event filters (known types only, the
 * offending value named, duplicates dropped, absent = every type).
 */
#include "wh_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "roster/rs_outbox.h"

static enum rs_err check_url(const char *url, bool allow_private, struct rs_errbuf *eb)
{
    json_t *value = json_string(url);
    const char *out = NULL;
    enum rs_err err;

    rs_errbuf_clear(eb);
    err = wh_check_url(value, allow_private, &out, eb);
    if (err == RS_OK)
        assert_string_equal(out, url);
    else
        assert_string_equal(eb->param, "url");
    json_decref(value);
    return err;
}

static void test_url_accepted(void **state)
{
    struct rs_errbuf eb;

    (void)state;
    assert_int_equal(check_url("https://93.184.216.34/hooks/roster", false, &eb), RS_OK);
    assert_int_equal(check_url("http://93.184.216.34:8080/x?y=1", false, &eb), RS_OK);
    /* loopback and private hosts only when private upstreams are allowed */
    assert_int_equal(check_url("http://127.0.0.1:9999/hook", true, &eb), RS_OK);
    assert_int_equal(check_url("http://10.1.2.3/hook", true, &eb), RS_OK);
}

static void test_url_refused(void **state)
{
    static const char *const refused[] = {
        "ftp://93.184.216.34/hook",
        "file:///etc/passwd",
        "gopher://93.184.216.34/",
        "http://127.0.0.1:9999/hook",
        "http://localhost/",
        "http://10.1.2.3/hook",
        "http://192.168.1.10/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fc00::1]/",
        "https://user:pw@93.184.216.34/",
        "https://93.184.216.34/#frag",
        "93.184.216.34/hook",
        "https://",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
    };
    struct rs_errbuf eb;

    (void)state;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (check_url(refused[i], false, &eb) != RS_ERR_INVALID)
            fail_msg("accepted %s", refused[i]);
        assert_true(eb.msg[0] != '\0');
    }
    /* the scheme is refused even when private hosts are allowed */
    assert_int_equal(check_url("ftp://127.0.0.1/hook", true, &eb), RS_ERR_INVALID);
}

static void test_url_shape(void **state)
{
    struct rs_errbuf eb;
    const char *out = NULL;
    char *long_url = malloc(WH_URL_MAX + 64);
    json_t *value;

    (void)state;
    assert_int_equal(wh_check_url(NULL, true, &out, &eb), RS_ERR_INVALID);
    value = json_integer(3);
    assert_int_equal(wh_check_url(value, true, &out, &eb), RS_ERR_INVALID);
    json_decref(value);
    assert_int_equal(check_url("", true, &eb), RS_ERR_INVALID);
    memcpy(long_url, "https://93.184.216.34/", 22);
    memset(long_url + 22, 'a', WH_URL_MAX);
    long_url[22 + WH_URL_MAX] = '\0';
    assert_int_equal(check_url(long_url, false, &eb), RS_ERR_INVALID);
    free(long_url);
}

/* Parses events (JSON text, or NULL for absent); the literal or NULL in *literal. */
static enum rs_err events(const char *json, char **literal, struct rs_errbuf *eb)
{
    json_t *value = json ? json_loads(json, JSON_DECODE_ANY, NULL) : NULL;
    enum rs_err err;

    if (json)
        assert_non_null(value);
    rs_errbuf_clear(eb);
    err = wh_check_events(value, literal, eb);
    json_decref(value);
    return err;
}

static void test_events_all(void **state)
{
    struct rs_errbuf eb;
    char *literal = (char *)"sentinel";

    (void)state;
    assert_int_equal(events(NULL, &literal, &eb), RS_OK);
    assert_null(literal);
    literal = (char *)"sentinel";
    assert_int_equal(events("null", &literal, &eb), RS_OK);
    assert_null(literal);
}

static void test_events_list(void **state)
{
    struct rs_errbuf eb;
    char *literal = NULL;

    (void)state;
    assert_int_equal(events("[\"Employee.added\",\"LinkedAccount.sync_completed\","
                            "\"Employee.added\",\"Issue.new\"]",
                            &literal, &eb),
                     RS_OK);
    assert_string_equal(literal, "{Employee.added,LinkedAccount.sync_completed,Issue.new}");
    free(literal);
}

static void test_events_every_known_type(void **state)
{
    struct rs_errbuf eb;
    size_t n = 0;
    const char *const *types = rs_outbox_event_types(&n);
    json_t *all = json_array();
    char *literal = NULL;

    (void)state;
    assert_int_equal(n, 5 + 6 * 3); /* account, sync, issue events + 3 per model */
    for (size_t i = 0; i < n; i++)
        json_array_append_new(all, json_string(types[i]));
    assert_int_equal(wh_check_events(all, &literal, &eb), RS_OK);
    assert_non_null(literal);
    free(literal);
    json_decref(all);
    /* every model's three events are known, under the model's own name */
    for (int k = 0; k < RS_MODEL_COUNT; k++) {
        char name[RS_EVENT_NAME_MAX];

        assert_true(rs_outbox_event_known(
            rs_outbox_model_event((enum rs_model_kind)k, RS_OUTBOX_REMOVED, name)));
        assert_true(rs_outbox_event_known(
            rs_outbox_model_event((enum rs_model_kind)k, RS_OUTBOX_ADDED, name)));
        assert_true(rs_outbox_event_known(
            rs_outbox_model_event((enum rs_model_kind)k, RS_OUTBOX_CHANGED, name)));
    }
}

static void test_events_refused(void **state)
{
    struct rs_errbuf eb;
    char *literal = NULL;

    (void)state;
    assert_int_equal(events("[\"Employee.added\",\"Employee.hired\"]", &literal, &eb),
                     RS_ERR_INVALID);
    assert_string_equal(eb.param, "events");
    assert_non_null(strstr(eb.msg, "\"Employee.hired\""));
    assert_null(literal);
    /* names are exact: case and wildcards are not matched */
    assert_int_equal(events("[\"employee.added\"]", &literal, &eb), RS_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "employee.added"));
    assert_int_equal(events("[\"Employee.*\"]", &literal, &eb), RS_ERR_INVALID);
    assert_int_equal(events("[]", &literal, &eb), RS_ERR_INVALID);
    assert_int_equal(events("\"Employee.added\"", &literal, &eb), RS_ERR_INVALID);
    assert_int_equal(events("[1]", &literal, &eb), RS_ERR_INVALID);
    assert_int_equal(events("[\"Employee.added\",\"x,y}\"]", &literal, &eb), RS_ERR_INVALID);
    assert_string_equal(eb.param, "events");
    assert_null(literal);
}

static void test_members(void **state)
{
    static const char *const allowed[] = {"url", "events", NULL};
    struct rs_errbuf eb;
    json_t *body = json_pack("{s:s, s:n}", "url", "https://x", "events");

    (void)state;
    assert_int_equal(wh_check_members(body, allowed, &eb), RS_OK);
    json_object_set_new(body, "event", json_string("Employee.added"));
    assert_int_equal(wh_check_members(body, allowed, &eb), RS_ERR_INVALID);
    assert_string_equal(eb.param, "event");
    json_decref(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_accepted),   cmocka_unit_test(test_url_refused),
        cmocka_unit_test(test_url_shape),      cmocka_unit_test(test_events_all),
        cmocka_unit_test(test_events_list),    cmocka_unit_test(test_events_every_known_type),
        cmocka_unit_test(test_events_refused), cmocka_unit_test(test_members),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
