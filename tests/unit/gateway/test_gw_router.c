/*
 * Unit tests for gateway/gw_router.c: route matching on a request that never touches a
 * socket: trailing slashes, {id} captures, groups/types before groups/{id}, 404 versus 405.
 */
#include "gw_int.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <event2/http_struct.h>

/* Matches method + path; returns the route's name or "404"/"405", and the capture in id. */
static const char *match(enum evhttp_cmd_type method, const char *path, char id[128])
{
    struct evhttp_request *ev = evhttp_request_new(NULL, NULL);
    struct gw_req req;
    const struct gw_route *route;
    enum rs_err err = RS_OK;
    static char result[64];

    assert_non_null(ev);
    ev->type = method;
    memset(&req, 0, sizeof(req));
    req.ev = ev;
    snprintf(req.path, sizeof(req.path), "%s", path);
    route = gw_router_match(&req, &err);
    id[0] = '\0';
    if (route) {
        assert_int_equal(err, RS_OK);
        snprintf(result, sizeof(result), "%s", route->name);
        if (req.params[0])
            snprintf(id, 128, "%s", req.params[0]);
        /* captures point into req.captures; req.path stays whole for the access log */
        if (req.params[0])
            assert_true(req.params[0] >= req.captures &&
                        req.params[0] < req.captures + sizeof(req.captures));
        assert_string_equal(req.path, path);
    } else {
        assert_true(err == RS_ERR_NOTFOUND || err == RS_ERR_METHOD);
        snprintf(result, sizeof(result), "%s", err == RS_ERR_NOTFOUND ? "404" : "405");
    }
    evhttp_request_free(ev);
    return result;
}

static void expect(enum evhttp_cmd_type method, const char *path, const char *name, const char *id)
{
    char got_id[128];
    const char *got = match(method, path, got_id);

    if (strcmp(got, name) != 0)
        fail_msg("%s: matched %s, expected %s", path, got, name);
    if (strcmp(got_id, id) != 0)
        fail_msg("%s: captured \"%s\", expected \"%s\"", path, got_id, id);
}

#define G EVHTTP_REQ_GET
#define H "/api/hris/v1/"

static void test_list_and_retrieve(void **state)
{
    (void)state;
    expect(G, H "employees", "employees.list", "");
    expect(G, H "employees/", "employees.list", "");
    expect(G, H "employees/0958cbc6-6040-430a-848e-aafacbadf4ae", "employees.retrieve",
           "0958cbc6-6040-430a-848e-aafacbadf4ae");
    expect(G, H "employees/abc/", "employees.retrieve", "abc");
    expect(G, H "employments/x", "employments.retrieve", "x");
    expect(G, H "teams", "teams.list", "");
    expect(G, H "locations/L1", "locations.retrieve", "L1");
    expect(G, H "companies/", "companies.list", "");
    expect(G, "/api/admin/v1/linked-accounts/acc-1", "admin.linked-accounts.get", "acc-1");
    expect(EVHTTP_REQ_DELETE, "/api/admin/v1/linked-accounts/acc-1/",
           "admin.linked-accounts.delete", "acc-1");
    expect(EVHTTP_REQ_POST, "/api/admin/v1/linked-accounts", "admin.linked-accounts.create", "");
    expect(G, H "account-details", "account-details", "");
    expect(G, H "linked-accounts/", "linked-accounts", "");
    expect(G, "/healthz", "healthz", "");
    expect(G, "/readyz/", "readyz", "");
    expect(G, "/metrics", "metrics", "");
}

static void test_group_types_before_group_id(void **state)
{
    (void)state;
    expect(G, H "groups/types", "groups.types", "");
    expect(G, H "groups/types/", "groups.types", "");
    expect(G, H "groups/typesx", "groups.retrieve", "typesx");
    expect(G, H "groups/7f0d", "groups.retrieve", "7f0d");
    expect(G, H "groups", "groups.list", "");
    expect(EVHTTP_REQ_POST, H "groups/types", "405", "");
}

static void test_not_found(void **state)
{
    (void)state;
    expect(G, "/", "404", "");
    expect(G, "", "404", "");
    expect(G, H "employee", "404", "");
    expect(G, H "employeesx", "404", "");
    expect(G, H "employees//", "404", "");
    expect(G, H "employees/a/b", "404", "");
    expect(G, H "employees/a//", "404", "");
    expect(G, "/healthz//", "404", "");
    expect(G, "/api/hris/v2/employees", "404", "");
    expect(G, "/API/hris/v1/employees", "404", "");
    expect(G, H "pay-groups", "404", "");
    expect(EVHTTP_REQ_POST, H "pay-groups", "404", "");
}

static void test_method_not_allowed(void **state)
{
    (void)state;
    expect(EVHTTP_REQ_POST, H "employees", "405", "");
    expect(EVHTTP_REQ_DELETE, H "employees/abc", "405", "");
    expect(EVHTTP_REQ_PUT, "/api/admin/v1/linked-accounts/x", "405", "");
    expect(EVHTTP_REQ_POST, "/healthz", "405", "");
    expect(EVHTTP_REQ_PATCH, H "account-details/", "405", "");
    /* HEAD is served by the GET route */
    expect(EVHTTP_REQ_HEAD, "/healthz", "healthz", "");
    expect(EVHTTP_REQ_HEAD, H "teams/t1", "teams.retrieve", "t1");
}

/* The route table is consistent: names unique, each model's routes bound to its model. */
static void test_route_table(void **state)
{
    size_t n = 0;
    const struct gw_route *routes = gw_router_routes(&n);
    int lists[RS_MODEL_COUNT] = {0}, retrieves[RS_MODEL_COUNT] = {0};

    (void)state;
    assert_true(n > 10);
    for (size_t i = 0; i < n; i++) {
        const char *pattern = routes[i].pattern;

        assert_non_null(routes[i].handler);
        assert_non_null(routes[i].name);
        for (size_t k = i + 1; k < n; k++)
            assert_string_not_equal(routes[i].name, routes[k].name);
        if (routes[i].handler == gw_handle_list || routes[i].handler == gw_handle_retrieve) {
            const char *seg = pattern + strlen(H);
            size_t len = strcspn(seg, "/");
            const struct rs_model *model = rs_model_by_path(seg, len);

            assert_int_equal(strncmp(pattern, H, strlen(H)), 0);
            assert_non_null(model);
            assert_int_equal(routes[i].model, model->kind);
            assert_int_equal(routes[i].auth, GW_AUTH_ACCOUNT);
            if (routes[i].handler == gw_handle_list)
                lists[model->kind]++;
            else
                retrieves[model->kind]++;
        }
    }
    for (int k = 0; k < RS_MODEL_COUNT; k++) {
        assert_int_equal(lists[k], 1);
        assert_int_equal(retrieves[k], 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_and_retrieve),
        cmocka_unit_test(test_group_types_before_group_id),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_method_not_allowed),
        cmocka_unit_test(test_route_table),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
