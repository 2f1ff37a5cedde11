/*
 * The credential form of the hosted connect pages, generated from an adapter's declared fields
 * (struct prov_field): a labelled input per field with its help text, the validation pattern as
 * an HTML pattern attribute, secrets as password inputs; and the posted form read back into a
 * credentials object, checked field by field on the server with the same patterns.
 */
#ifndef ROSTER_LF_FORM_H
#define ROSTER_LF_FORM_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "roster/lf_token.h"
#include "roster/prov.h"
#include "roster/rs_buf.h"
#include "roster/rs_err.h"

#define LF_FORM_MAX_VALUE 1024 /* bytes of one field's value */

/* A posted connect form. */
struct lf_form_input {
    json_t *credentials; /* {field name: trimmed value} of every field posted (owned) */
    char form_token[LF_FORM_TOKEN_LEN + 4];
    int bad_field;   /* index into ops->fields of the field in error, or -1 */
    char error[256]; /* what is wrong, for the page (no value in it) */
};

/*
 * Translates a prov_field pattern (POSIX extended regex) into the value of an HTML pattern
 * attribute (ECMAScript, valid with the `v` and the `u` flag). false when the pattern uses
 * something this translation does not handle; the form then leaves the attribute out and only
 * the server checks the value.
 */
bool lf_form_pattern(const char *posix, char *out, size_t outlen);

/*
 * Appends, for every field of ops, a label, an input and its help text. values (may be NULL)
 * prefills non-secret fields (secrets are never written back into a page); bad_field (-1:
 * none) is marked aria-invalid with field_error shown under it. Input names are "f_<name>".
 */
enum rs_err lf_form_fields(const struct prov_ops *ops, const json_t *values, int bad_field,
                           const char *field_error, struct rs_buf *out) RS_MUST_CHECK;

/* The same for the fields ops asks before an OAuth sign-in (ops->oauth->fields; none: nothing). */
enum rs_err lf_form_oauth_fields(const struct prov_ops *ops, const json_t *values, int bad_field,
                                 const char *field_error, struct rs_buf *out) RS_MUST_CHECK;

/*
 * Reads an application/x-www-form-urlencoded body (len bytes) posted from the form of ops
 * into in (cleaned up by the caller even on error): RS_OK when every field is present and
 * matches its pattern; RS_ERR_INVALID with in->error (and in->bad_field when one field is to
 * blame) otherwise; RS_ERR_NOMEM. Values are trimmed of surrounding white space (pasted keys
 * often carry a newline). Unknown names are ignored; a name given twice is invalid.
 */
enum rs_err lf_form_read(const struct prov_ops *ops, const char *body, size_t len,
                         struct lf_form_input *in) RS_MUST_CHECK;
/*
 * The same for the OAuth form of ops: in->credentials receives the prov_oauth fields (an empty
 * object when there are none); in->bad_field indexes ops->oauth->fields.
 */
enum rs_err lf_form_oauth_read(const struct prov_ops *ops, const char *body, size_t len,
                               struct lf_form_input *in) RS_MUST_CHECK;
void lf_form_input_cleanup(struct lf_form_input *in);

/* A copy of credentials without the secret fields of ops (new reference; NULL: no memory). */
json_t *lf_form_public_values(const struct prov_ops *ops, const json_t *credentials);

/* Appends text HTML-escaped (& < > " ' escaped), for element content and attribute values. */
enum rs_err lf_html_append(struct rs_buf *out, const char *text) RS_MUST_CHECK;

#endif
