/*
 * Declarations shared only inside linkflow/: the embedded assets of the hosted pages, decoding
 * of form-encoded text, and the pieces of lf_page.c the OAuth pages (lf_page_oauth.c) reuse.
 */
#ifndef ROSTER_LF_INT_H
#define ROSTER_LF_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "roster/lf_page.h"
#include "roster/prov.h"
#include "roster/rs_buf.h"
#include "roster/rs_err.h"

/* One file of linkflow/assets/, compiled in (cmake/embed_assets.cmake). */
struct lf_asset {
    const char *name;          /* file name, e.g. "link.css" */
    const unsigned char *data; /* len bytes, followed by a NUL */
    size_t len;
};

/* Every asset, ending with an entry whose name is NULL. */
extern const struct lf_asset lf_assets[];

/*
 * lf_form.c: decodes one application/x-www-form-urlencoded component (n bytes: '+' is a space,
 * %XX a byte) into out, NUL-terminated; false when malformed, holding a NUL, or too long.
 */
bool lf_form_decode(const char *s, size_t n, char *out, size_t outlen);

/* lf_page.c: the layout with {{title}} (escaped) and {{{main}}} (main_html) filled in. */
enum rs_err lf_page_wrap(const char *title, const struct rs_buf *main_html,
                         struct rs_buf *out) RS_MUST_CHECK;
/* lf_page.c: appends fmt with each "%s" replaced by the next of n args, HTML-escaped. */
enum rs_err lf_page_fmt(struct rs_buf *out, const char *fmt, const char *const *args,
                        size_t n) RS_MUST_CHECK;
/*
 * lf_page.c: the back link to the picker (unless the link is for one provider), the heading
 * "Connect <Provider>", and, when ops can be connected both ways, the switch between them with
 * `current` marked.
 */
enum rs_err lf_page_head(const struct lf_page_ctx *ctx, const struct prov_ops *ops,
                         enum lf_connect current, struct rs_buf *out) RS_MUST_CHECK;

#endif
