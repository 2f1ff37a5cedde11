/*
 * Unit tests for core/rs_url.c: URL shape and every refused address range. Only literal
 * addresses and localhost names are used, so nothing here needs DNS.
 */
#include "roster/rs_url.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void expect(const char *url, bool allow_private, enum rs_err expected)
{
    struct rs_errbuf eb;
    enum rs_err err;

    rs_errbuf_clear(&eb);
    err = rs_url_check_upstream(url, allow_private, &eb);
    if (err != expected)
        fail_msg("%s (allow_private=%d): got %s, expected %s (%s)", url ? url : "(null)",
                 allow_private, rs_err_name(err), rs_err_name(expected), eb.msg);
    if (err != RS_OK)
        assert_true(eb.msg[0] != '\0');
}

static void test_public_literals_allowed(void **state)
{
    static const char *const ok[] = {
        "http://93.184.216.34/",
        "https://93.184.216.34",
        "https://93.184.216.34:8443/api/v1?company=acme&x=1",
        "HTTPS://93.184.216.34/Path",
        "https://[2606:4700::1111]/",
        "https://[2606:4700::1111]:443/v1",
        "http://8.8.8.8/",
        /* just outside each refused IPv4 range */
        "http://9.255.255.255/",
        "http://11.0.0.0/",
        "http://100.63.255.255/",
        "http://100.128.0.0/",
        "http://126.255.255.255/",
        "http://128.0.0.0/",
        "http://169.253.255.255/",
        "http://169.255.0.0/",
        "http://172.15.255.255/",
        "http://172.32.0.0/",
        "http://192.167.255.255/",
        "http://192.169.0.0/",
        "http://223.255.255.255/",
        "http://1.0.0.0/",
        /* just outside the refused IPv6 ranges */
        "http://[fbff:ffff::1]/",
        "http://[fe00::1]/",
        "http://[2001:db8::1]/",
        "http://[::ffff:93.184.216.34]/",
        "http://[64:ff9b::93.184.216.34]/",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        expect(ok[i], false, RS_OK);
        expect(ok[i], true, RS_OK);
    }
}

/* Refused unless allow_private; each range at both of its ends where that is meaningful. */
static const char *const private_urls[] = {
    "http://127.0.0.1/",
    "http://127.255.255.254:8080/",
    "http://0.0.0.0/",
    "http://0.1.2.3/",
    "http://10.0.0.1/",
    "http://10.255.255.255/",
    "http://172.16.0.1/",
    "http://172.31.255.255/",
    "http://192.168.0.1/",
    "http://192.168.255.255/",
    "http://169.254.0.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://100.127.255.255/",
    "http://224.0.0.1/",
    "http://239.255.255.255/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    /* the same loopback written the other ways resolvers accept */
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    /* IPv6 */
    "http://[::]/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]:8080/",
    "http://[fc00::1]/",
    "http://[fdff:ffff::1]/",
    "http://[fe80::1]/",
    "http://[febf:ffff::1]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[ff0e::1]/",
    /* IPv4-mapped, -compatible and NAT64 forms of private addresses */
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:10.1.2.3]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:7f00:1]/",
    "http://[::127.0.0.1]/",
    "http://[64:ff9b::10.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",
};

static const char *const localhost_urls[] = {
    "http://localhost/",    "http://localhost:8080/x", "http://LOCALHOST/",
    "http://localhost./",   "http://api.localhost/",   "https://a.b.LocalHost:443/",
    "http://x.localhost./",
};

static void test_private_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(private_urls) / sizeof(private_urls[0]); i++)
        expect(private_urls[i], false, RS_ERR_INVALID);
}

static void test_allow_private(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(private_urls) / sizeof(private_urls[0]); i++)
        expect(private_urls[i], true, RS_OK);
    for (size_t i = 0; i < sizeof(localhost_urls) / sizeof(localhost_urls[0]); i++)
        expect(localhost_urls[i], true, RS_OK);
}

static void test_detail_names_the_address(void **state)
{
    struct rs_errbuf eb;

    (void)state;
    assert_int_equal(rs_url_check_upstream("http://[::ffff:10.1.2.3]/", false, &eb),
                     RS_ERR_INVALID);
    assert_non_null(strstr(eb.msg, "10.1.2.3"));
    /* refused by name, before any lookup */
    for (size_t i = 0; i < sizeof(localhost_urls) / sizeof(localhost_urls[0]); i++) {
        rs_errbuf_clear(&eb);
        assert_int_equal(rs_url_check_upstream(localhost_urls[i], false, &eb), RS_ERR_INVALID);
        assert_string_equal(eb.msg, "host must not be localhost");
    }
    assert_int_equal(rs_url_check_upstream("http://10.0.0.1/", false, NULL), RS_ERR_INVALID);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "93.184.216.34",
        "93.184.216.34/path",
        "//93.184.216.34/",
        "ftp://93.184.216.34/",
        "file:///etc/passwd",
        "gopher://93.184.216.34/",
        "javascript:alert(1)",
        "http://",
        "http://user@93.184.216.34/",
        "http://user:pw@93.184.216.34/",
        "http://:pw@93.184.216.34/",
        "http://93.184.216.34/#fragment",
        "http://93.184.216.34/#",
        "http://93.184.216.34 /",
        "http://93.184.216.34/a b",
        "http://93.184.216.34:99999/",
        "http://93.184.216.34:port/",
        "http://[2606:4700::1111/",
        "http://[fe80::1%25eth0]/",
        "http://93.184.216.34/\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        expect(bad[i], false, RS_ERR_INVALID);
        expect(bad[i], true, RS_ERR_INVALID);
    }
    expect(NULL, true, RS_ERR_INVALID);
}

static void test_length_limit(void **state)
{
    char *url = malloc(4096);
    const char *prefix = "https://93.184.216.34/";
    size_t plen = strlen(prefix);

    (void)state;
    assert_non_null(url);
    memcpy(url, prefix, plen);
    memset(url + plen, 'a', 2048 - plen);
    url[2048] = '\0';
    expect(url, false, RS_OK); /* exactly 2048 */
    url[2048] = 'a';
    url[2049] = '\0';
    expect(url, false, RS_ERR_INVALID);
    expect(url, true, RS_ERR_INVALID);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_public_literals_allowed),
        cmocka_unit_test(test_private_refused),
        cmocka_unit_test(test_allow_private),
        cmocka_unit_test(test_detail_names_the_address),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
