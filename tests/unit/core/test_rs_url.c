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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

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

/* rs_url_addr_is_private on a literal address, through the socket address of its family. */
static bool addr_private(const char *text)
{
    struct sockaddr_in v4 = {.sin_family = AF_INET};
    struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};

    if (inet_pton(AF_INET, text, &v4.sin_addr) == 1)
        return rs_url_addr_is_private((const struct sockaddr *)&v4);
    if (inet_pton(AF_INET6, text, &v6.sin6_addr) != 1)
        fail_msg("not an address literal: %s", text);
    return rs_url_addr_is_private((const struct sockaddr *)&v6);
}

static void test_addr_is_private(void **state)
{
    static const char *const refused[] = {
        "127.0.0.1",
        "127.255.255.254",
        "0.0.0.0",
        "10.0.0.1",
        "10.255.255.255",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.255",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fc00::1",
        "fdff:ffff::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::127.0.0.1",
        "64:ff9b::10.0.0.1",
    };
    static const char *const allowed[] = {
        "93.184.216.34",        "8.8.8.8",
        "9.255.255.255",        "11.0.0.0",
        "100.63.255.255",       "100.128.0.0",
        "172.32.0.0",           "192.169.0.0",
        "223.255.255.255",      "2606:4700::1111",
        "2001:db8::1",          "fe00::1",
        "::ffff:93.184.216.34", "64:ff9b::93.184.216.34",
    };
    struct sockaddr_un local = {.sun_family = AF_UNIX};

    (void)state;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
        if (!addr_private(refused[i]))
            fail_msg("%s should count as private", refused[i]);
    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
        if (addr_private(allowed[i]))
            fail_msg("%s should count as public", allowed[i]);
    /* an unknown family is refused rather than let through */
    assert_true(rs_url_addr_is_private((const struct sockaddr *)&local));
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
        cmocka_unit_test(test_addr_is_private),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
