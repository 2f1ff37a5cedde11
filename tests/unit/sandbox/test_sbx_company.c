/* Unit tests for sandbox/sbx_company.c: determinism from (N, seed) and the company's invariants. */
#include "sbx_test.h"

static struct sbx_company *make(int n, uint64_t seed)
{
    struct sbx_company *c = NULL;

    assert_int_equal(sbx_company_new(n, seed, &c), RS_OK);
    assert_non_null(c);
    assert_int_equal(c->count, (size_t)n);
    return c;
}

static void test_same_inputs_same_company(void **state)
{
    struct sbx_company *a = make(700, 42), *b = make(700, 42);

    (void)state;
    assert_int_equal(a->t0_us, b->t0_us);
    assert_memory_equal(a->people, b->people, a->count * sizeof(struct sbx_person));
    assert_memory_equal(a->units, b->units, sizeof(a->units));
    sbx_company_free(a);
    sbx_company_free(b);
}

static void test_other_seed_other_company(void **state)
{
    struct sbx_company *a = make(300, 1), *b = make(300, 2);
    int same_names = 0;

    (void)state;
    assert_true(a->t0_us != b->t0_us);
    for (size_t i = 0; i < a->count; i++)
        same_names += strcmp(a->people[i].first_name, b->people[i].first_name) == 0 &&
                      strcmp(a->people[i].last_name, b->people[i].last_name) == 0;
    assert_true(same_names < 30);
    sbx_company_free(a);
    sbx_company_free(b);
}

static void test_manager_tree(void **state)
{
    struct sbx_company *c = make(3000, 7);
    int roots = 0, max_depth = 0;

    (void)state;
    for (size_t i = 0; i < c->count; i++) {
        int depth = 0, m = c->people[i].manager;

        roots += m < 0;
        while (m >= 0) {
            assert_true((size_t)m < c->count);
            assert_true(++depth <= (int)c->count); /* a cycle would never end */
            m = c->people[m].manager;
        }
        if (depth > max_depth)
            max_depth = depth;
    }
    assert_int_equal(roots, 1);
    assert_int_equal(c->people[0].manager, -1);
    assert_true(max_depth >= 3 && max_depth <= 8); /* a shallow, real-looking org */
    sbx_company_free(c);
}

static void test_terminations(void **state)
{
    struct sbx_company *c = make(4000, 11);
    int32_t t0_day = sbx_time_day(c->t0_us);
    int terminated = 0, leave = 0;
    int *reports = NULL;

    (void)state;
    assert_int_equal(sbx_company_report_counts(c, &reports), RS_OK);
    for (size_t i = 0; i < c->count; i++) {
        const struct sbx_person *p = &c->people[i];

        leave += p->state == SBX_STATE_LEAVE;
        if (p->state != SBX_STATE_TERMINATED)
            continue;
        terminated++;
        assert_true(p->term_day > p->hire_day);
        assert_true(p->term_day <= t0_day);
        assert_int_equal(reports[i], 0); /* leavers manage nobody */
    }
    assert_true(terminated >= 4000 * 3 / 100 && terminated <= 4000 * 7 / 100);
    assert_true(leave > 0);
    free(reports);
    sbx_company_free(c);
}

static bool non_ascii(const char *text)
{
    for (; *text; text++)
        if ((unsigned char)*text >= 0x80)
            return true;
    return false;
}

static void test_names_and_optional_fields(void **state)
{
    struct sbx_company *c = make(1000, 5);
    int wide = 0, no_pref = 0, no_home = 0, no_mobile = 0, no_team = 0;

    (void)state;
    for (size_t i = 0; i < c->count; i++) {
        const struct sbx_person *p = &c->people[i];

        wide += non_ascii(p->first_name) || non_ascii(p->last_name);
        no_pref += !p->preferred_name[0];
        no_home += !p->home_email[0];
        no_mobile += !p->mobile[0];
        no_team += p->team < 0;
        assert_false(non_ascii(p->work_email)); /* local parts are transliterated */
        assert_non_null(strchr(p->work_email, '@'));
    }
    assert_true(wide > 100);
    assert_true(no_pref > 500 && no_pref < 1000);
    assert_true(no_home > 100 && no_home < 600);
    assert_true(no_mobile > 50 && no_mobile < 400);
    assert_true(no_team > 10);
    sbx_company_free(c);
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_emails_unique(void **state)
{
    struct sbx_company *c = make(5000, 9);
    const char **emails = calloc(c->count, sizeof(*emails));

    (void)state;
    assert_non_null(emails);
    for (size_t i = 0; i < c->count; i++)
        emails[i] = c->people[i].work_email;
    qsort(emails, c->count, sizeof(*emails), compare_strings);
    for (size_t i = 1; i < c->count; i++)
        assert_string_not_equal(emails[i - 1], emails[i]);
    free(emails);
    sbx_company_free(c);
}

static void test_kinds_dates_units(void **state)
{
    struct sbx_company *c = make(2000, 3);
    int kinds[4] = {0}, future = 0, locations = 0;
    int32_t first = INT32_MAX, last = INT32_MIN, t0_day = sbx_time_day(c->t0_us);

    (void)state;
    for (size_t i = 0; i < c->count; i++) {
        const struct sbx_person *p = &c->people[i];

        kinds[p->kind]++;
        if (p->kind == SBX_KIND_PART_TIME)
            assert_true(p->weekly_hours < 40);
        future += p->state == SBX_STATE_ONBOARDING;
        assert_true((p->state == SBX_STATE_ONBOARDING) == (p->hire_day > t0_day));
        first = p->hire_day < first ? p->hire_day : first;
        last = p->hire_day > last ? p->hire_day : last;
        assert_int_equal(p->changed_us, c->t0_us);
        assert_true(p->created_us < c->t0_us);
        assert_true(p->department >= 0 && p->department < c->nunits[SBX_UNIT_DEPARTMENT]);
        assert_true(sbx_company_division_of(c, p->department) >= 0);
        locations |= 1 << p->location;
    }
    for (int k = 0; k < 4; k++)
        assert_true(kinds[k] > 20);
    assert_true(future > 0);
    assert_true(last - first > 8 * 365);
    assert_int_equal(locations, (1 << c->nunits[SBX_UNIT_LOCATION]) - 1);
    assert_int_equal(c->nunits[SBX_UNIT_DEPARTMENT], 8);
    assert_string_equal(sbx_company_unit_name(c, SBX_UNIT_LOCATION, 0), "München");
    sbx_company_free(c);
}

static void test_provider_ids(void **state)
{
    char hibob[24];

    (void)state;
    for (int i = 0; i < 100000; i += 997) {
        char bamboo[24];

        snprintf(bamboo, sizeof(bamboo), "%ld", sbx_company_bamboohr_id(i));
        assert_int_equal(sbx_company_index_from_bamboohr(bamboo), i);
        assert_int_equal(sbx_company_index_from_personio(sbx_company_personio_id(i)), i);
        sbx_company_hibob_id(i, hibob);
        assert_int_equal(sbx_company_index_from_hibob(hibob), i);
    }
    assert_int_equal(sbx_company_index_from_bamboohr("0"), -1);
    assert_int_equal(sbx_company_index_from_bamboohr("12x"), -1);
    assert_int_equal(sbx_company_index_from_bamboohr(NULL), -1);
    assert_int_equal(sbx_company_index_from_hibob("3000000000000000001"), -1);
    assert_int_equal(sbx_company_index_from_personio(5), -1);
}

static void test_bounds_and_empty(void **state)
{
    struct sbx_company *c = NULL;

    (void)state;
    assert_int_equal(sbx_company_new(-1, 1, &c), RS_ERR_INVALID);
    assert_int_equal(sbx_company_new(SBX_EMPLOYEES_MAX + 1, 1, &c), RS_ERR_INVALID);
    c = make(0, 1);
    assert_null(sbx_company_get(c, 0));
    sbx_company_free(c);
    c = make(3, 1);
    assert_true(sbx_company_listed(c, &c->people[1]));
    c->empty = true;
    assert_false(sbx_company_listed(c, &c->people[1]));
    sbx_company_free(c);
    sbx_company_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_inputs_same_company),
        cmocka_unit_test(test_other_seed_other_company),
        cmocka_unit_test(test_manager_tree),
        cmocka_unit_test(test_terminations),
        cmocka_unit_test(test_names_and_optional_fields),
        cmocka_unit_test(test_emails_unique),
        cmocka_unit_test(test_kinds_dates_units),
        cmocka_unit_test(test_provider_ids),
        cmocka_unit_test(test_bounds_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
