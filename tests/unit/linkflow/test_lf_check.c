/* Unit tests for linkflow/lf_check.c: the classification of a provider's answer into a
   category and a sentence, and the test run driven through a fake HTTP seam with the real
   BambooHR adapter and its fixtures. */
#include "roster/lf_check.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rt_fixture.h"

#define FIXTURES "tests/unit/providers/fixtures/bamboohr"

static void expect_class(enum rs_err err, long status, bool unresolved, enum lf_check_result want,
                         const char *sentence_part)
{
    const struct prov_ops *ops = prov_find("bamboohr");
    struct lf_check_outcome out;

    memset(&out, 0, sizeof(out));
    lf_check_classify(ops, err, status, unresolved, &out);
    if (out.result != want || !strstr(out.sentence, sentence_part))
        fail_msg("err=%d status=%ld: got %s \"%s\", want %s with \"%s\"", err, status,
                 lf_check_result_name(out.result), out.sentence, lf_check_result_name(want),
                 sentence_part);
}

static void test_classify(void **state)
{
    (void)state;
    expect_class(RS_OK, 200, false, LF_CHECK_OK, "Connected to BambooHR");
    expect_class(RS_OK, 401, false, LF_CHECK_WRONG_CREDENTIALS,
                 "BambooHR did not accept the API key");
    expect_class(RS_OK, 401, false, LF_CHECK_WRONG_CREDENTIALS, "Company subdomain");
    expect_class(RS_OK, 403, false, LF_CHECK_MISSING_PERMISSION, "permission to view employees");
    expect_class(RS_OK, 404, false, LF_CHECK_NOT_FOUND, "Check the Company subdomain");
    expect_class(RS_ERR_UPSTREAM, 0, true, LF_CHECK_NOT_FOUND, "could not find this company");
    expect_class(RS_ERR_FORBIDDEN, 0, false, LF_CHECK_NOT_FOUND, "not allowed to reach");
    expect_class(RS_OK, 429, false, LF_CHECK_RATE_LIMITED, "limiting requests");
    expect_class(RS_ERR_RATELIMIT, 429, false, LF_CHECK_RATE_LIMITED, "Wait a minute");
    expect_class(RS_OK, 500, false, LF_CHECK_PROVIDER_DOWN, "having problems");
    expect_class(RS_OK, 503, false, LF_CHECK_PROVIDER_DOWN, "Nothing was saved");
    expect_class(RS_ERR_TIMEOUT, 0, false, LF_CHECK_PROVIDER_DOWN, "did not answer in time");
    expect_class(RS_ERR_UPSTREAM, 0, false, LF_CHECK_PROVIDER_DOWN, "try again");
    expect_class(RS_OK, 400, false, LF_CHECK_BAD_RESPONSE, "unexpected way (HTTP 400)");
    expect_class(RS_OK, 302, false, LF_CHECK_BAD_RESPONSE, "HTTP 302");
    expect_class(RS_ERR_NOMEM, 0, false, LF_CHECK_ERROR, "problem on its side");
    assert_string_equal(lf_check_result_name(LF_CHECK_MISSING_PERMISSION), "missing_permission");
    assert_string_equal(lf_check_result_name(LF_CHECK_PROVIDER_DOWN), "provider_down");
}

/* A provider whose every field is secret: "not found" cannot point at a field. */
static void test_classify_secret_only(void **state)
{
    static const struct prov_field fields[] = {{"token", "Token", "", NULL, true},
                                               {"secret", "Secret", "", NULL, true},
                                               {"key", "Key", "", NULL, true}};
    static const struct prov_ops ops = {.slug = "x", .name = "Xhr", .fields = fields, .nfields = 3};
    struct lf_check_outcome out;

    (void)state;
    lf_check_classify(&ops, RS_OK, 401, false, &out);
    assert_non_null(strstr(out.sentence, "Xhr did not accept the Token, Secret and Key."));
    lf_check_classify(&ops, RS_OK, 404, false, &out);
    assert_non_null(strstr(out.sentence, "the company these credentials belong to"));
}

/* The fake seam: scripted answers, and what was asked. */
struct script {
    struct {
        enum rs_err err;
        long status;
        bool unresolved;
        const char *body;
    } steps[6];
    int n, next;
    char urls[6][256];
    char user[6][64];
};

static enum rs_err fake_send(void *arg, const struct rs_http_request *req,
                             struct rs_http_response *resp, struct rs_errbuf *eb)
{
    struct script *s = arg;
    int i = s->next++;

    (void)eb;
    if (i >= s->n)
        fail_msg("an unexpected request %d to %s", i, req->url);
    snprintf(s->urls[i], sizeof(s->urls[i]), "%s", req->url);
    snprintf(s->user[i], sizeof(s->user[i]), "%s", req->basic_user ? req->basic_user : "");
    resp->status = s->steps[i].status;
    resp->unresolved = s->steps[i].unresolved;
    if (s->steps[i].body)
        assert_int_equal(rs_buf_append_str(&resp->body, s->steps[i].body), RS_OK);
    return s->steps[i].err;
}

static void run(struct script *s, const char *base_url, struct lf_check_outcome *out)
{
    json_t *credentials = json_pack("{s:s, s:s}", "subdomain", "acme", "api_key", "k3y-value");
    struct lf_check_options opts = {.send = fake_send, .send_arg = s};

    assert_int_equal(lf_check_run(prov_find("bamboohr"), credentials, base_url, &opts, out), RS_OK);
    assert_int_equal(out->requests, s->next);
    assert_null(strstr(out->sentence, "k3y-value"));
    json_decref(credentials);
}

static void test_run_ok(void **state)
{
    char *lists = rt_fixture_read(FIXTURES, "meta_lists.json", NULL);
    char *page = rt_fixture_read(FIXTURES, "dataset_page1.json", NULL);
    struct script s = {.n = 2};
    struct lf_check_outcome out;

    (void)state;
    s.steps[0].status = 200;
    s.steps[0].body = lists;
    s.steps[1].status = 200;
    s.steps[1].body = page;
    run(&s, "http://127.0.0.1:9/bamboohr", &out);
    assert_int_equal(out.result, LF_CHECK_OK);
    assert_int_equal(s.next, 2); /* stops after the first page of employees */
    assert_string_equal(s.urls[0], "http://127.0.0.1:9/bamboohr/api/v1/meta/lists");
    assert_string_equal(s.user[0], "k3y-value");
    free(lists);
    free(page);
}

static void test_run_failures(void **state)
{
    char *lists = rt_fixture_read(FIXTURES, "meta_lists.json", NULL);
    struct script s;
    struct lf_check_outcome out;

    (void)state;
    /* the key is refused on the first request */
    s = (struct script){.n = 1};
    s.steps[0].status = 401;
    run(&s, NULL, &out);
    assert_int_equal(out.result, LF_CHECK_WRONG_CREDENTIALS);
    assert_int_equal(out.http_status, 401);
    assert_string_equal(s.urls[0], "https://acme.bamboohr.com/api/v1/meta/lists");
    /* lists readable, employees not: missing permission */
    s = (struct script){.n = 2};
    s.steps[0].status = 200;
    s.steps[0].body = lists;
    s.steps[1].status = 403;
    run(&s, NULL, &out);
    assert_int_equal(out.result, LF_CHECK_MISSING_PERMISSION);
    /* a host that does not resolve: a wrong subdomain */
    s = (struct script){.n = 1};
    s.steps[0].err = RS_ERR_UPSTREAM;
    s.steps[0].unresolved = true;
    run(&s, NULL, &out);
    assert_int_equal(out.result, LF_CHECK_NOT_FOUND);
    /* a 200 that is not the documented shape */
    s = (struct script){.n = 1};
    s.steps[0].status = 200;
    s.steps[0].body = "{\"not\":";
    run(&s, NULL, &out);
    assert_int_equal(out.result, LF_CHECK_BAD_RESPONSE);
    /* a first page too large to read whole still proves the credentials */
    s = (struct script){.n = 2};
    s.steps[0].status = 200;
    s.steps[0].body = lists;
    s.steps[1].status = 200;
    s.steps[1].err = RS_ERR_TOOBIG;
    run(&s, NULL, &out);
    assert_int_equal(out.result, LF_CHECK_OK);
    free(lists);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_classify_secret_only),
        cmocka_unit_test(test_run_ok),
        cmocka_unit_test(test_run_failures),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
