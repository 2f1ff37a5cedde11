/*
 * Upstream URL checks, so that a linked account's base_url cannot point the gateway at itself,
 * its database or anything else on a private network (server-side request forgery).
 */
#include "roster/rs_url.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define URL_MAX_LEN 2048

/* IPv4 networks that are not the public internet. */
static const struct {
    uint32_t net;
    unsigned bits;
} refused_v4[] = {
    {0x00000000, 8},  /* 0.0.0.0/8 "this network" */
    {0x0A000000, 8},  /* 10/8 private */
    {0x64400000, 10}, /* 100.64/10 CGNAT */
    {0x7F000000, 8},  /* 127/8 loopback */
    {0xA9FE0000, 16}, /* 169.254/16 link-local (cloud metadata) */
    {0xAC100000, 12}, /* 172.16/12 private */
    {0xC0A80000, 16}, /* 192.168/16 private */
    {0xE0000000, 4},  /* 224/4 multicast */
    {0xF0000000, 4},  /* 240/4 reserved, broadcast */
};

static bool v4_refused(const uint8_t a[4])
{
    uint32_t addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];

    for (size_t i = 0; i < sizeof(refused_v4) / sizeof(refused_v4[0]); i++) {
        uint32_t mask = UINT32_MAX << (32 - refused_v4[i].bits);

        if ((addr & mask) == refused_v4[i].net)
            return true;
    }
    return false;
}

static bool v6_refused(const uint8_t b[16])
{
    static const uint8_t zeros[10] = {0};
    static const uint8_t nat64[12] = {0x00, 0x64, 0xff, 0x9b};

    /* ::/96 (::, ::1, IPv4-compatible), ::ffff:0:0/96 (IPv4-mapped), 64:ff9b::/96 (NAT64) */
    if (memcmp(b, zeros, 10) == 0 && b[10] == b[11] && (b[10] == 0 || b[10] == 0xff))
        return v4_refused(b + 12);
    if (memcmp(b, nat64, 12) == 0)
        return v4_refused(b + 12);
    if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
        return true;
    if (b[0] == 0xfe && (b[1] & 0x80) == 0x80) /* fe80::/10 link-local, fec0::/10 site-local */
        return true;
    return b[0] == 0xff; /* ff00::/8 multicast */
}

bool rs_url_addr_is_private(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return v4_refused((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr);
    if (sa->sa_family == AF_INET6)
        return v6_refused(((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr);
    return true;
}

/* "localhost", "*.localhost", with or without the final dot, in any case. */
static bool is_localhost_name(const char *host)
{
    size_t len = strlen(host);
    const size_t name_len = sizeof("localhost") - 1;

    if (len > 0 && host[len - 1] == '.')
        len--;
    if (len < name_len || strncasecmp(host + len - name_len, "localhost", name_len) != 0)
        return false;
    return len == name_len || host[len - name_len - 1] == '.';
}

/* Every address the name resolves to must be public: one private answer is enough to refuse. */
static enum rs_err check_addresses(const char *name, struct rs_errbuf *eb)
{
    enum rs_err err = RS_ERR_INVALID;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char shown[INET6_ADDRSTRLEN];

    if (getaddrinfo(name, NULL, &hints, &res) != 0 || !res) {
        rs_errbuf_set(eb, err, "host does not resolve");
        goto out;
    }
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        const struct sockaddr *sa = ai->ai_addr;
        const void *raw = sa->sa_family == AF_INET6
                              ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                              : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

        if (!rs_url_addr_is_private(sa))
            continue;
        if (!inet_ntop(sa->sa_family, raw, shown, sizeof(shown)))
            shown[0] = '\0';
        rs_errbuf_set(eb, err, "host is or resolves to a non-public address (%s)", shown);
        goto out;
    }
    err = RS_OK;
out:
    if (res)
        freeaddrinfo(res);
    return err;
}

/* host as curl returns it: IPv6 literals keep their brackets, which are removed in place. */
static enum rs_err check_host(char *host, struct rs_errbuf *eb)
{
    size_t len = strlen(host);

    if (is_localhost_name(host))
        return rs_errbuf_set(eb, RS_ERR_INVALID, "host must not be localhost");
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        host[len - 1] = '\0';
        host++;
    }
    return check_addresses(host, eb);
}

/* True when curl has the part (user, password, zone id) in this URL. */
static bool url_has(CURLU *h, CURLUPart part)
{
    char *value = NULL;
    bool has = curl_url_get(h, part, &value, 0) == CURLUE_OK;

    curl_free(value);
    return has;
}

static enum rs_err check_parts(CURLU *h, const char *url, struct rs_errbuf *eb)
{
    enum rs_err err = RS_ERR_INVALID;
    char *scheme = NULL;

    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        rs_errbuf_set(eb, err, "url scheme must be http or https");
    else if (url_has(h, CURLUPART_USER) || url_has(h, CURLUPART_PASSWORD))
        rs_errbuf_set(eb, err, "url must not contain user info");
    else if (strchr(url, '#'))
        rs_errbuf_set(eb, err, "url must not contain a fragment");
    else if (url_has(h, CURLUPART_ZONEID))
        rs_errbuf_set(eb, err, "url must not contain an IPv6 zone id");
    else
        err = RS_OK;
    curl_free(scheme);
    return err;
}

enum rs_err rs_url_check_upstream(const char *url, bool allow_private, struct rs_errbuf *eb)
{
    enum rs_err err = RS_ERR_INVALID;
    CURLU *h = NULL;
    CURLUcode uc;
    char *host = NULL;

    if (!url || !url[0]) {
        rs_errbuf_set(eb, err, "url is empty");
        goto out;
    }
    if (strnlen(url, URL_MAX_LEN + 1) > URL_MAX_LEN) {
        rs_errbuf_set(eb, err, "url is longer than %d characters", URL_MAX_LEN);
        goto out;
    }
    h = curl_url();
    if (!h) {
        err = RS_ERR_NOMEM;
        goto out;
    }
    uc = curl_url_set(h, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        rs_errbuf_set(eb, err, "url is not a valid absolute URL (%s)", curl_url_strerror(uc));
        goto out;
    }
    err = check_parts(h, url, eb);
    if (err != RS_OK || allow_private)
        goto out;
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        err = rs_errbuf_set(eb, RS_ERR_INVALID, "url has no host");
        goto out;
    }
    err = check_host(host, eb);
out:
    curl_free(host);
    curl_url_cleanup(h);
    return err;
}
