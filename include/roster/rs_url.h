/* Upstream URL checks: what a linked account's base_url (and later webhook targets) may be. */
#ifndef ROSTER_RS_URL_H
#define ROSTER_RS_URL_H

#include <stdbool.h>

#include <sys/socket.h>

#include "roster/rs_err.h"

/*
 * Validates an absolute http(s) URL for use as an upstream: scheme http or https, a host, no
 * user-info, no fragment, at most 2048 characters. Unless allow_private, refuses hosts that are
 * (or resolve, via getaddrinfo, to) loopback, private (RFC 1918, fc00::/7), link-local,
 * unspecified, CGNAT (100.64/10) or multicast addresses, and the name "localhost". Detail in eb.
 * Returns RS_OK or RS_ERR_INVALID.
 */
enum rs_err rs_url_check_upstream(const char *url, bool allow_private,
                                  struct rs_errbuf *eb) RS_MUST_CHECK;

/*
 * True when sa (AF_INET or AF_INET6, borrowed) is one of the addresses rs_url_check_upstream
 * refuses: loopback, private, link-local, unspecified, CGNAT, multicast or reserved, also in
 * IPv4-mapped, IPv4-compatible and NAT64 form. Any other family counts as refused (true). For
 * checks at connect time, when the address a name resolved to is known.
 */
bool rs_url_addr_is_private(const struct sockaddr *sa);

#endif
