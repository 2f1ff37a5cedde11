/*
 * Opaque pagination cursors: a keyset position (modified_at, id) and a direction, encoded as
 * base64url and authenticated with HMAC-SHA256 over the position and a context string (the
 * linked account or organization and the endpoint), so a tampered cursor or one issued for
 * another account or endpoint fails to decode instead of leaking or crashing.
 */
#ifndef ROSTER_RS_CURSOR_H
#define ROSTER_RS_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster/rs_err.h"
#include "roster/rs_uuid.h"

#define RS_CURSOR_KEY_LEN 32
/* Longest encoded cursor, NUL included. */
#define RS_CURSOR_MAX_LEN 80

struct rs_cursor {
    bool backward;     /* true: the page before `pos`; false: the page after it */
    int64_t sort_us;   /* modified_at of the boundary row, microseconds since the Unix epoch */
    struct rs_uuid id; /* id of the boundary row (tie-breaker) */
};

/*
 * Encodes cur for `context` (any bytes; e.g. "<account uuid>/employees") into out
 * (RS_CURSOR_MAX_LEN bytes). Returns out.
 */
char *rs_cursor_encode(const struct rs_cursor *cur, const char *context,
                       const uint8_t key[RS_CURSOR_KEY_LEN], char out[RS_CURSOR_MAX_LEN]);

/*
 * Decodes text issued by rs_cursor_encode for the same context and key. Returns
 * RS_ERR_INVALID for anything else: bad base64url, wrong length or version, a MAC that does
 * not verify (tampered, other context, other key).
 */
enum rs_err rs_cursor_decode(const char *text, const char *context,
                             const uint8_t key[RS_CURSOR_KEY_LEN],
                             struct rs_cursor *out) RS_MUST_CHECK;

#endif
