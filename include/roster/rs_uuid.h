/* UUIDs: random (v4), name-based (v5, SHA-1), parsing and formatting. */
#ifndef ROSTER_RS_UUID_H
#define ROSTER_RS_UUID_H

#include <stddef.h>
#include <stdint.h>

#include "roster/rs_err.h"

#define RS_UUID_STR_LEN 37 /* 36 characters and a NUL */

struct rs_uuid {
    uint8_t b[16];
};

/* A random (version 4) UUID from libsodium's CSPRNG. */
void rs_uuid_v4(struct rs_uuid *out);
/* RFC 4122 version 5: SHA-1 of namespace bytes followed by the name bytes. */
void rs_uuid_v5(const struct rs_uuid *ns, const char *name, size_t name_len, struct rs_uuid *out);
/*
 * Parses the canonical 8-4-4-4-12 hex form (either case), nothing before or after. Returns
 * RS_ERR_INVALID otherwise.
 */
enum rs_err rs_uuid_parse(const char *text, struct rs_uuid *out) RS_MUST_CHECK;
/* Lower-case canonical form into out (RS_UUID_STR_LEN bytes). Returns out. */
char *rs_uuid_format(const struct rs_uuid *uuid, char out[RS_UUID_STR_LEN]);
/* True when both are equal (not constant time: UUIDs are not secrets). */
int rs_uuid_equal(const struct rs_uuid *a, const struct rs_uuid *b);

#endif
