/*
 * Unit tests for core/rs_model.c: every model renders every field in Merge's order (the lists
 * below are copied from merge-hris-api.md §1, not from the model table), values are typed and
 * normalized, wrong types are refused naming the field, and deterministic ids are stable.
 */
#include "roster/rs_model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ACCOUNT_A "0f8fad5b-d9cb-469f-a165-70867728950e"
#define ACCOUNT_B "7c9e6679-7425-40de-944b-e07fc1f90ae7"
#define UUID_1    "21a54124-397f-494d-985e-3c5b330b8a68"
#define UUID_2    "17a54124-287f-494d-965e-3c5b330c9a68"

/*
 * Merge's field order per model (SDK serializers), without the members Roster adds around the
 * stored object (id, remote_id, created_at, modified_at, remote_was_deleted, field_mappings,
 * remote_data): gw_render splices those in.
 */
static const char *const employee_order[] = {"employee_number",
                                             "company",
                                             "first_name",
                                             "last_name",
                                             "preferred_name",
                                             "display_full_name",
                                             "username",
                                             "groups",
                                             "work_email",
                                             "personal_email",
                                             "mobile_phone_number",
                                             "employments",
                                             "home_location",
                                             "work_location",
                                             "manager",
                                             "team",
                                             "pay_group",
                                             "ssn",
                                             "gender",
                                             "ethnicity",
                                             "marital_status",
                                             "date_of_birth",
                                             "hire_date",
                                             "start_date",
                                             "remote_created_at",
                                             "employment_status",
                                             "termination_date",
                                             "avatar",
                                             "custom_fields",
                                             NULL};
static const char *const employment_order[] = {
    "employee",       "job_title",       "pay_rate",  "pay_period",
    "pay_frequency",  "pay_currency",    "pay_group", "flsa_status",
    "effective_date", "employment_type", NULL};
static const char *const team_order[] = {"name", "parent_team", NULL};
static const char *const group_order[] = {"parent_group", "name", "type",
                                          "is_commonly_used_as_team", NULL};
static const char *const location_order[] = {
    "name",  "phone_number", "street_1", "street_2",      "city",
    "state", "zip_code",     "country",  "location_type", NULL};
static const char *const company_order[] = {"legal_name", "display_name", "eins", NULL};

struct model_case {
    enum rs_model_kind kind;
    const char *name, *model_id, *path;
    const char *const *order;
};

static const struct model_case cases[] = {
    {RS_MODEL_EMPLOYEE, "Employee", "hris.Employee", "employees", employee_order},
    {RS_MODEL_EMPLOYMENT, "Employment", "hris.Employment", "employments", employment_order},
    {RS_MODEL_GROUP, "Group", "hris.Group", "groups", group_order},
    {RS_MODEL_TEAM, "Team", "hris.Team", "teams", team_order},
    {RS_MODEL_LOCATION, "Location", "hris.Location", "locations", location_order},
    {RS_MODEL_COMPANY, "Company", "hris.Company", "companies", company_order},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* Renders record (a JSON text) for kind; returns the parsed output, failing on any error. */
static json_t *render_ok(enum rs_model_kind kind, const char *record_text, char **text_out)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_buf out;
    json_error_t jerr;
    json_t *record = json_loads(record_text, 0, &jerr);
    json_t *parsed;
    enum rs_err err;

    if (!record)
        fail_msg("bad test record %s: %s", record_text, jerr.text);
    rs_buf_init(&out, 1 << 20);
    err = rs_model_render(rs_model_get(kind), record, &out, &eb);
    if (err != RS_OK)
        fail_msg("render %s: %s (%s)", record_text, rs_err_name(err), eb.msg);
    parsed = json_loadb(out.data, out.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!parsed)
        fail_msg("output is not JSON: %s (%s)", out.data, jerr.text);
    if (text_out)
        *text_out = rs_buf_steal(&out);
    rs_buf_cleanup(&out);
    json_decref(record);
    return parsed;
}

/* Renders record and expects RS_ERR_INVALID naming field (in param and message). */
static void render_refused(enum rs_model_kind kind, const char *record_text, const char *field)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_buf out;
    json_t *record = json_loads(record_text, 0, NULL);
    enum rs_err err;

    assert_non_null(record);
    rs_buf_init(&out, 1 << 20);
    err = rs_model_render(rs_model_get(kind), record, &out, &eb);
    if (err != RS_ERR_INVALID)
        fail_msg("%s should be refused, got %s: %s", record_text, rs_err_name(err),
                 out.data ? out.data : "");
    assert_string_equal(eb.param, field);
    if (!strstr(eb.msg, field))
        fail_msg("message \"%s\" does not name %s", eb.msg, field);
    rs_buf_cleanup(&out);
    json_decref(record);
}

static void assert_key_order(const json_t *obj, const char *const *order)
{
    const char *key;
    json_t *value;
    size_t i = 0;

    json_object_foreach((json_t *)obj, key, value)
    {
        if (!order[i])
            fail_msg("unexpected extra key %s", key);
        if (strcmp(key, order[i]) != 0)
            fail_msg("key %zu is %s, Merge has %s", i, key, order[i]);
        i++;
    }
    if (order[i])
        fail_msg("missing key %s", order[i]);
}

static void test_descriptors(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCASES; c++) {
        const struct rs_model *model = rs_model_get(cases[c].kind);

        assert_int_equal(model->kind, cases[c].kind);
        assert_string_equal(model->name, cases[c].name);
        assert_string_equal(model->model_id, cases[c].model_id);
        assert_string_equal(model->path, cases[c].path);
        assert_ptr_equal(rs_model_by_path(cases[c].path, strlen(cases[c].path)), model);
        for (size_t i = 0; cases[c].order[i]; i++)
            assert_non_null(rs_model_field(model, cases[c].order[i]));
        assert_null(rs_model_field(model, "id"));
        assert_null(rs_model_field(model, "remote_data"));
    }
    /* lengths are honoured: a prefix or an extension is not a model */
    assert_null(rs_model_by_path("employeesx", 10));
    assert_null(rs_model_by_path("employees", 8));
    assert_ptr_equal(rs_model_by_path("employees/123", 9), rs_model_get(RS_MODEL_EMPLOYEE));
    assert_null(rs_model_by_path("pay-groups", 10));
}

/* An empty record renders every field, in Merge's order, all null. */
static void test_every_field_in_order_null_when_missing(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCASES; c++) {
        json_t *out = render_ok(cases[c].kind, "{}", NULL);
        const char *key;
        json_t *value;

        assert_key_order(out, cases[c].order);
        json_object_foreach(out, key, value)
        {
            if (!json_is_null(value))
                fail_msg("%s.%s should be null", cases[c].name, key);
        }
        json_decref(out);
    }
}

static void test_employee_values(void **state)
{
    const char *record =
        "{\"employee_number\":\"2\",\"company\":\"" UUID_1 "\",\"first_name\":\"Greg\","
        "\"last_name\":\"Hirsch\",\"preferred_name\":\"Greg the egg\","
        "\"display_full_name\":\"Cousin Greg Hirsch\",\"username\":\"cousingreg\","
        "\"groups\":[\"" UUID_1 "\",\"" UUID_2 "\"],\"work_email\":\"greg@merge.dev\","
        "\"personal_email\":null,\"mobile_phone_number\":\"+1234567890\","
        "\"employments\":[],\"home_location\":\"" UUID_2 "\","
        "\"manager\":\"21A54124-397F-494D-985E-3C5B330B8A68\",\"ssn\":\"123\","
        "\"gender\":\"MALE\",\"ethnicity\":\"WHITE\",\"marital_status\":\"SINGLE\","
        "\"date_of_birth\":\"1990-11-10\",\"hire_date\":\"2020-10-11T00:00:00Z\","
        "\"start_date\":\"2020-10-11T02:30:00+02:00\","
        "\"remote_created_at\":\"2020-10-11T00:00:00.250-0130\","
        "\"employment_status\":\"ACTIVE\",\"termination_date\":\"2021-10-12 08:00:00\","
        "\"avatar\":\"http://alturl.com/h2h8m\",\"custom_fields\":{\"z\":1,\"a\":[true]}}";
    json_t *out = render_ok(RS_MODEL_EMPLOYEE, record, NULL);

    (void)state;
    assert_key_order(out, employee_order);
    assert_string_equal(json_string_value(json_object_get(out, "first_name")), "Greg");
    assert_string_equal(json_string_value(json_object_get(out, "company")), UUID_1);
    assert_int_equal(json_array_size(json_object_get(out, "groups")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "groups"), 1)),
                        UUID_2);
    assert_true(json_is_array(json_object_get(out, "employments")));
    assert_int_equal(json_array_size(json_object_get(out, "employments")), 0);
    assert_true(json_is_null(json_object_get(out, "personal_email")));
    assert_true(json_is_null(json_object_get(out, "work_location")));
    /* ids come out lower-case, whatever case the provider used */
    assert_string_equal(json_string_value(json_object_get(out, "manager")), UUID_1);
    /* datetimes: a date alone is midnight UTC, offsets become Z, fractions are kept */
    assert_string_equal(json_string_value(json_object_get(out, "date_of_birth")),
                        "1990-11-10T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(out, "hire_date")),
                        "2020-10-11T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(out, "start_date")),
                        "2020-10-11T00:30:00Z");
    assert_string_equal(json_string_value(json_object_get(out, "remote_created_at")),
                        "2020-10-11T01:30:00.250000Z");
    assert_string_equal(json_string_value(json_object_get(out, "termination_date")),
                        "2021-10-12T08:00:00Z");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(out, "custom_fields"), "z")), 1);
    json_decref(out);
}

static void test_other_model_values(void **state)
{
    char *text = NULL;
    json_t *out;

    (void)state;
    out = render_ok(RS_MODEL_EMPLOYMENT,
                    "{\"employee\":\"" UUID_1 "\",\"job_title\":\"Engineer\",\"pay_rate\":50000.5,"
                    "\"pay_period\":\"YEAR\",\"pay_frequency\":\"MONTHLY\",\"pay_currency\":"
                    "\"EUR\",\"pay_group\":\"" UUID_2 "\",\"flsa_status\":\"EXEMPT\","
                    "\"effective_date\":\"2024-01-15T09:30:00-05:00\",\"employment_type\":"
                    "\"FULL_TIME\"}",
                    NULL);
    assert_key_order(out, employment_order);
    assert_true(json_is_real(json_object_get(out, "pay_rate")));
    assert_true(json_real_value(json_object_get(out, "pay_rate")) == 50000.5);
    assert_string_equal(json_string_value(json_object_get(out, "effective_date")),
                        "2024-01-15T14:30:00Z");
    assert_string_equal(json_string_value(json_object_get(out, "pay_group")), UUID_2);
    json_decref(out);

    out = render_ok(RS_MODEL_EMPLOYMENT, "{\"pay_rate\":42}", NULL);
    assert_int_equal(json_integer_value(json_object_get(out, "pay_rate")), 42);
    json_decref(out);

    out = render_ok(RS_MODEL_GROUP,
                    "{\"parent_group\":\"" UUID_2 "\",\"name\":\"COST_CENTER_US\",\"type\":"
                    "\"TEAM\",\"is_commonly_used_as_team\":false}",
                    &text);
    assert_key_order(out, group_order);
    assert_true(json_is_false(json_object_get(out, "is_commonly_used_as_team")));
    /* compact: no whitespace, exactly as stored and spliced later */
    assert_string_equal(text, "{\"parent_group\":\"" UUID_2 "\",\"name\":\"COST_CENTER_US\","
                              "\"type\":\"TEAM\",\"is_commonly_used_as_team\":false}");
    free(text);
    json_decref(out);

    out = render_ok(RS_MODEL_TEAM, "{\"name\":\"Engineering\",\"parent_team\":\"" UUID_1 "\"}",
                    &text);
    assert_string_equal(text, "{\"name\":\"Engineering\",\"parent_team\":\"" UUID_1 "\"}");
    free(text);
    json_decref(out);

    out = render_ok(RS_MODEL_LOCATION,
                    "{\"name\":\"NYC Office\",\"city\":\"New York \",\"country\":\"US\","
                    "\"location_type\":\"HOME\"}",
                    NULL);
    assert_key_order(out, location_order);
    assert_string_equal(json_string_value(json_object_get(out, "city")), "New York ");
    assert_true(json_is_null(json_object_get(out, "street_1")));
    json_decref(out);

    out = render_ok(RS_MODEL_COMPANY,
                    "{\"legal_name\":\"Acme \\\"Example\\\" GmbH\\n\",\"display_name\":"
                    "\"Ümlaut ☃\",\"eins\":[\"12-3456789\",\"98\"]}",
                    NULL);
    assert_key_order(out, company_order);
    assert_string_equal(json_string_value(json_object_get(out, "legal_name")),
                        "Acme \"Example\" GmbH\n");
    assert_string_equal(json_string_value(json_object_get(out, "display_name")), "Ümlaut ☃");
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "eins"), 1)), "98");
    json_decref(out);
}

/* Keys the model does not know change nothing: same bytes as without them. */
static void test_unknown_keys_ignored(void **state)
{
    char *with = NULL, *without = NULL;
    json_t *a, *b;

    (void)state;
    a = render_ok(RS_MODEL_TEAM,
                  "{\"name\":\"T\",\"id\":\"" UUID_1 "\",\"department\":42,\"remote_data\":[1],"
                  "\"Name\":7,\"parent_team\":null}",
                  &with);
    b = render_ok(RS_MODEL_TEAM, "{\"name\":\"T\"}", &without);
    assert_string_equal(with, without);
    json_decref(a);
    json_decref(b);
    free(with);
    free(without);
}

static void test_wrong_types_refused(void **state)
{
    (void)state;
    render_refused(RS_MODEL_EMPLOYEE, "{\"first_name\":42}", "first_name");
    render_refused(RS_MODEL_EMPLOYEE, "{\"first_name\":\"x\",\"last_name\":true}", "last_name");
    render_refused(RS_MODEL_EMPLOYEE, "{\"manager\":\"not-a-uuid\"}", "manager");
    render_refused(RS_MODEL_EMPLOYEE, "{\"manager\":42}", "manager");
    render_refused(RS_MODEL_EMPLOYEE, "{\"company\":{\"id\":\"" UUID_1 "\"}}", "company");
    render_refused(RS_MODEL_EMPLOYEE, "{\"start_date\":\"2024-02-30\"}", "start_date");
    render_refused(RS_MODEL_EMPLOYEE, "{\"hire_date\":\"yesterday\"}", "hire_date");
    render_refused(RS_MODEL_EMPLOYEE, "{\"date_of_birth\":19901110}", "date_of_birth");
    render_refused(RS_MODEL_EMPLOYEE, "{\"termination_date\":\"2021-10-12T25:00:00Z\"}",
                   "termination_date");
    render_refused(RS_MODEL_EMPLOYEE, "{\"groups\":\"" UUID_1 "\"}", "groups");
    render_refused(RS_MODEL_EMPLOYEE, "{\"groups\":[\"" UUID_1 "\",\"nope\"]}", "groups");
    render_refused(RS_MODEL_EMPLOYEE, "{\"employments\":[7]}", "employments");
    render_refused(RS_MODEL_EMPLOYEE, "{\"custom_fields\":[1,2]}", "custom_fields");
    render_refused(RS_MODEL_EMPLOYMENT, "{\"pay_rate\":\"50000\"}", "pay_rate");
    render_refused(RS_MODEL_GROUP, "{\"is_commonly_used_as_team\":\"true\"}",
                   "is_commonly_used_as_team");
    render_refused(RS_MODEL_GROUP, "{\"parent_group\":\"" UUID_1 "x\"}", "parent_group");
    render_refused(RS_MODEL_COMPANY, "{\"eins\":[\"1\",2]}", "eins");
    render_refused(RS_MODEL_COMPANY, "{\"eins\":\"12-3456789\"}", "eins");
    render_refused(RS_MODEL_LOCATION, "{\"zip_code\":10027}", "zip_code");
}

static void test_record_not_an_object(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_buf out;
    json_t *array = json_array();

    (void)state;
    rs_buf_init(&out, 1024);
    assert_int_equal(rs_model_render(rs_model_get(RS_MODEL_TEAM), array, &out, &eb),
                     RS_ERR_INVALID);
    assert_int_equal(rs_model_render(rs_model_get(RS_MODEL_TEAM), NULL, &out, &eb), RS_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "Team"));
    rs_buf_cleanup(&out);
    json_decref(array);
}

/* The ceiling of the output buffer is honoured. */
static void test_output_ceiling(void **state)
{
    struct rs_errbuf eb = {{0}, {0}};
    struct rs_buf out;
    json_t *record = json_pack("{s:s}", "name", "a name that does not fit in 32 bytes at all");

    (void)state;
    rs_buf_init(&out, 32);
    assert_int_equal(rs_model_render(rs_model_get(RS_MODEL_TEAM), record, &out, &eb),
                     RS_ERR_TOOBIG);
    rs_buf_cleanup(&out);
    json_decref(record);
}

static void check_id(const char *account_text, enum rs_model_kind kind, const char *remote_id,
                     const char *expected)
{
    struct rs_uuid account, id;
    char text[RS_UUID_STR_LEN];

    assert_int_equal(rs_uuid_parse(account_text, &account), RS_OK);
    assert_int_equal(rs_model_id(&account, kind, remote_id, &id), RS_OK);
    assert_string_equal(rs_uuid_format(&id, text), expected);
}

/* Vectors computed with Python: uuid.uuid5(UUID(account), "<prefix>:<remote_id>"). */
static void test_model_id_vectors(void **state)
{
    char long_id[301];

    (void)state;
    check_id(ACCOUNT_A, RS_MODEL_EMPLOYEE, "E1", "ce99ef40-ee95-5cbc-a0d0-e4ea48e20a05");
    check_id(ACCOUNT_A, RS_MODEL_EMPLOYMENT, "E1", "b763fe1c-745c-54e2-8905-5bb083335365");
    check_id(ACCOUNT_A, RS_MODEL_GROUP, "E1", "ef4c84e3-155b-5bf5-8d79-fe68ec2de502");
    check_id(ACCOUNT_A, RS_MODEL_TEAM, "E1", "707d459a-ad32-54c5-bcd1-5b73c08491d1");
    check_id(ACCOUNT_A, RS_MODEL_LOCATION, "E1", "e3851d3b-9c01-5a90-afd4-1eee6087d325");
    check_id(ACCOUNT_A, RS_MODEL_COMPANY, "E1", "5ba18964-f332-5175-83e3-572a7b52a8d8");
    check_id(ACCOUNT_A, RS_MODEL_EMPLOYEE, "ñ/日本\t1", "380eaf3b-9258-5df2-899d-b1a672a1e591");
    check_id(ACCOUNT_B, RS_MODEL_EMPLOYEE, "E1", "b7d0e203-6e5d-5f53-962a-e9a15984930a");
    check_id(ACCOUNT_B, RS_MODEL_COMPANY, "E1", "f375c97e-27d7-56cd-9eb5-0172861a5f2c");
    check_id(ACCOUNT_B, RS_MODEL_EMPLOYEE, "ñ/日本\t1", "5aed43f3-ff12-51c9-a707-1671968cb8ea");
    /* longer than the function's stack buffer */
    memset(long_id, 'x', 300);
    long_id[300] = '\0';
    check_id(ACCOUNT_A, RS_MODEL_EMPLOYEE, long_id, "cd097523-44ae-5a46-9602-36dce682af1a");
    check_id(ACCOUNT_B, RS_MODEL_EMPLOYEE, long_id, "be13e907-2c5a-52ea-a2d8-c055af0f4ce6");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_every_field_in_order_null_when_missing),
        cmocka_unit_test(test_employee_values),
        cmocka_unit_test(test_other_model_values),
        cmocka_unit_test(test_unknown_keys_ignored),
        cmocka_unit_test(test_wrong_types_refused),
        cmocka_unit_test(test_record_not_an_object),
        cmocka_unit_test(test_output_ceiling),
        cmocka_unit_test(test_model_id_vectors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
