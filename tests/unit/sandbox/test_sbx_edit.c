/* Unit tests for sandbox/sbx_edit.c: hire, change, terminate, rehire and delete. */
#include "sbx_test.h"

static json_t *parse(const char *text)
{
    json_t *root = json_loads(text, 0, NULL);

    assert_non_null(root);
    return root;
}

static enum rs_err hire(struct sbx_company *c, const char *body, int64_t now, int *index)
{
    json_t *root = parse(body);
    struct rs_errbuf eb;
    enum rs_err err = sbx_edit_hire(c, root, now, index, &eb);

    json_decref(root);
    return err;
}

static enum rs_err patch(struct sbx_company *c, long index, const char *body, int64_t now)
{
    json_t *root = parse(body);
    struct rs_errbuf eb;
    enum rs_err err = sbx_edit_patch(c, index, root, now, &eb);

    json_decref(root);
    return err;
}

static void test_hire(void **state)
{
    struct sbx_company *c = NULL;
    int64_t now = rs_time_now_us();
    const struct sbx_person *p;
    int index = -1;

    (void)state;
    assert_int_equal(sbx_company_new(10, 1, &c), RS_OK);
    assert_int_equal(hire(c,
                          "{\"first_name\":\"Zoë\",\"last_name\":\"Ångström\",\"email\":"
                          "\"zoe@x.example\",\"department\":\"Quantum\",\"title\":\"Physicist\","
                          "\"manager\":2,\"employment_type\":\"Part-Time\",\"start_date\":"
                          "\"2099-01-01\"}",
                          now, &index),
                     RS_OK);
    assert_int_equal(index, 10);
    p = &c->people[10];
    assert_string_equal(p->first_name, "Zoë");
    assert_string_equal(sbx_company_unit_name(c, SBX_UNIT_DEPARTMENT, p->department), "Quantum");
    assert_int_equal(p->manager, 2);
    assert_int_equal(p->kind, SBX_KIND_PART_TIME);
    assert_int_equal(p->state, SBX_STATE_ONBOARDING);
    assert_int_equal(p->changed_us, now);
    assert_int_equal(p->created_us, now);
    assert_int_equal(hire(c, "{\"first_name\":\"A\"}", now, &index), RS_ERR_INVALID);
    assert_int_equal(
        hire(c, "{\"first_name\":\"A\",\"last_name\":\"B\",\"manager\":99}", now, &index),
        RS_ERR_INVALID);
    assert_int_equal(
        hire(c, "{\"first_name\":\"A\",\"last_name\":\"B\",\"start_date\":\"2024-13-01\"}", now,
             &index),
        RS_ERR_INVALID);
    assert_int_equal(hire(c, "{\"first_name\":\"A\",\"last_name\":\"B\",\"employment_type\":\"x\"}",
                          now, &index),
                     RS_ERR_INVALID);
    assert_int_equal(c->count, 11); /* failed hires add nobody */
    sbx_company_free(c);
}

static void test_patch(void **state)
{
    struct sbx_company *c = NULL;
    int64_t now = rs_time_now_us();

    (void)state;
    assert_int_equal(sbx_company_new(40, 1, &c), RS_OK);
    assert_int_equal(patch(c, 20,
                           "{\"title\":\"Boss\",\"email\":\"b@x.example\",\"team\":null,"
                           "\"location\":\"Lisboa\",\"preferred_name\":null}",
                           now),
                     RS_OK);
    assert_string_equal(c->people[20].title, "Boss");
    assert_string_equal(c->people[20].work_email, "b@x.example");
    assert_int_equal(c->people[20].team, -1);
    assert_string_equal(sbx_company_unit_name(c, SBX_UNIT_LOCATION, c->people[20].location),
                        "Lisboa");
    assert_int_equal(c->people[20].changed_us, now);
    /* the CEO cannot report to someone below her */
    assert_int_equal(patch(c, 0, "{\"manager\":20}", now), RS_ERR_CONFLICT);
    assert_int_equal(patch(c, 20, "{\"manager\":20}", now), RS_ERR_CONFLICT);
    assert_int_equal(c->people[0].manager, -1);
    assert_int_equal(patch(c, 20, "{\"manager\":null}", now), RS_OK);
    assert_int_equal(c->people[20].manager, -1);
    assert_int_equal(patch(c, 20, "{\"salary\":1}", now), RS_ERR_INVALID);
    assert_int_equal(patch(c, 20, "{\"first_name\":\"\"}", now), RS_ERR_INVALID);
    assert_int_equal(patch(c, 99, "{\"title\":\"x\"}", now), RS_ERR_NOTFOUND);
    /* a failed patch changes nothing, not even part of the body */
    assert_int_equal(patch(c, 21, "{\"title\":\"New\",\"manager\":9999}", now), RS_ERR_INVALID);
    assert_string_not_equal(c->people[21].title, "New");
    sbx_company_free(c);
}

static void test_terminate_rehire_delete(void **state)
{
    struct sbx_company *c = NULL;
    int64_t now = rs_time_now_us();
    struct rs_errbuf eb;
    json_t *body;
    struct sbx_person *p;

    (void)state;
    assert_int_equal(sbx_company_new(30, 1, &c), RS_OK);
    p = &c->people[25];
    body = parse("{\"date\":\"1990-01-01\"}");
    assert_int_equal(sbx_edit_terminate(c, 25, body, now, &eb), RS_ERR_INVALID); /* before hire */
    json_decref(body);
    body = parse("{}");
    assert_int_equal(sbx_edit_rehire(c, 25, body, now, &eb), RS_ERR_CONFLICT); /* not gone */
    assert_int_equal(sbx_edit_terminate(c, 25, body, now - 86400000000LL, &eb), RS_OK);
    assert_int_equal(p->state, SBX_STATE_TERMINATED);
    assert_int_equal(p->term_day, sbx_time_day(now - 86400000000LL));
    assert_int_equal(sbx_edit_rehire(c, 25, body, now, &eb), RS_OK);
    assert_int_equal(p->state, SBX_STATE_ACTIVE);
    assert_int_equal(p->hire_day, sbx_time_day(now));
    assert_int_equal(sbx_edit_delete(c, 25, now, &eb), RS_OK);
    assert_true(p->deleted);
    assert_false(sbx_company_listed(c, p));
    assert_int_equal(sbx_edit_delete(c, 25, now, &eb), RS_ERR_NOTFOUND);
    assert_int_equal(sbx_edit_terminate(c, 25, body, now, &eb), RS_ERR_NOTFOUND);
    json_decref(body);
    sbx_company_free(c);
}

/* Reports of a deleted manager show no manager instead of a dangling reference. */
static void test_deleted_manager(void **state)
{
    struct sbx_company *c = NULL;
    struct rs_errbuf eb;
    int report = -1;

    (void)state;
    assert_int_equal(sbx_company_new(100, 1, &c), RS_OK);
    for (size_t i = 1; i < c->count && report < 0; i++)
        if (c->people[i].manager > 0)
            report = (int)i;
    assert_true(report > 0);
    assert_non_null(sbx_company_manager(c, &c->people[report]));
    assert_int_equal(sbx_edit_delete(c, c->people[report].manager, rs_time_now_us(), &eb), RS_OK);
    assert_null(sbx_company_manager(c, &c->people[report]));
    sbx_company_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hire),
        cmocka_unit_test(test_patch),
        cmocka_unit_test(test_terminate_rehire_delete),
        cmocka_unit_test(test_deleted_manager),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
