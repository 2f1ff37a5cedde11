/* A growable byte buffer with a ceiling; always NUL-terminated for convenience. */
#ifndef ROSTER_RS_BUF_H
#define ROSTER_RS_BUF_H

#include <stddef.h>

#include "roster/rs_err.h"

struct rs_buf {
    char *data; /* NULL until the first append; then NUL-terminated */
    size_t len;
    size_t cap;
    size_t max; /* appends that would make len exceed max fail with RS_ERR_TOOBIG */
};

/* Initializes an empty buffer that will never hold more than max bytes. */
void rs_buf_init(struct rs_buf *buf, size_t max);
/* Frees the storage; the buffer is empty and reusable afterwards. */
void rs_buf_cleanup(struct rs_buf *buf);
/* Empties the buffer, keeping the storage. */
void rs_buf_reset(struct rs_buf *buf);

enum rs_err rs_buf_append(struct rs_buf *buf, const void *bytes, size_t n) RS_MUST_CHECK;
enum rs_err rs_buf_append_str(struct rs_buf *buf, const char *str) RS_MUST_CHECK;
enum rs_err rs_buf_appendf(struct rs_buf *buf, const char *fmt, ...) RS_PRINTF(2, 3) RS_MUST_CHECK;
/* Appends str as a JSON string literal, quotes included (UTF-8 passed through, controls escaped).
 */
enum rs_err rs_buf_append_json_str(struct rs_buf *buf, const char *str, size_t n) RS_MUST_CHECK;

/* Hands the storage to the caller (free() it) and empties the buffer; NULL if nothing was added. */
char *rs_buf_steal(struct rs_buf *buf);

#endif
