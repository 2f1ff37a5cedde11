/*
 * The connect form: inputs generated from an adapter's prov_field table, the POSIX patterns
 * turned into HTML pattern attributes, and the posted form decoded and checked on the server.
 */
#include "roster/lf_form.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "linkflow/lf_int.h"

/* ---- HTML ---- */

enum rs_err lf_html_append(struct rs_buf *out, const char *text)
{
    enum rs_err err = RS_OK;
    const char *run = text;

    for (const char *p = text; err == RS_OK; p++) {
        const char *entity = NULL;

        switch (*p) {
        case '&':
            entity = "&amp;";
            break;
        case '<':
            entity = "&lt;";
            break;
        case '>':
            entity = "&gt;";
            break;
        case '"':
            entity = "&quot;";
            break;
        case '\'':
            entity = "&#39;";
            break;
        case '\0':
            return rs_buf_append(out, run, (size_t)(p - run));
        default:
            continue;
        }
        err = rs_buf_append(out, run, (size_t)(p - run));
        if (err == RS_OK)
            err = rs_buf_append_str(out, entity);
        run = p + 1;
    }
    return err;
}

/* ---- patterns ---- */

/* What a POSIX character class name stands for inside an ECMAScript class. */
static const char *posix_class(const char *name, size_t len)
{
    static const struct {
        const char *name, *js;
    } classes[] = {
        {"alnum", "A-Za-z0-9"}, {"alpha", "A-Za-z"}, {"digit", "0-9"},        {"space", "\\s"},
        {"upper", "A-Z"},       {"lower", "a-z"},    {"xdigit", "0-9A-Fa-f"},
    };

    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        if (strlen(classes[i].name) == len && strncmp(classes[i].name, name, len) == 0)
            return classes[i].js;
    }
    return NULL;
}

struct pattern_out {
    char *out;
    size_t len, cap;
    bool ok;
};

static void emit(struct pattern_out *o, const char *s, size_t n)
{
    if (!o->ok || o->len + n >= o->cap) {
        o->ok = false;
        return;
    }
    memcpy(o->out + o->len, s, n);
    o->len += n;
    o->out[o->len] = '\0';
}

/* One literal character inside a class: syntax characters, "/" and "-" are escaped. */
static void emit_class_char(struct pattern_out *o, char c)
{
    char pair[2] = {'\\', c};

    if (strchr("^$\\.*+?()[]{}|/-", c))
        emit(o, pair, 2);
    else
        emit(o, &c, 1);
}

/* Translates the bracket expression at p (just after "["); returns what follows it. */
static const char *translate_class(const char *p, struct pattern_out *o)
{
    const char *start;

    emit(o, "[", 1);
    if (*p == '^') {
        emit(o, "^", 1);
        p++;
    }
    start = p;
    for (; *p && o->ok; p++) {
        if (*p == ']' && p != start) {
            emit(o, "]", 1);
            return p + 1;
        }
        if (p[0] == '[' && p[1] == ':') {
            const char *end = strstr(p + 2, ":]");
            const char *js = end ? posix_class(p + 2, (size_t)(end - p - 2)) : NULL;

            if (!js)
                break;
            emit(o, js, strlen(js));
            p = end + 1;
        } else if (*p == '-' && p != start && p[1] != ']' && p[-1] != '[') {
            emit(o, "-", 1); /* a range between the characters around it */
        } else if (p[0] == p[1] && p[0] && strchr("&!#$%*+,.:;<=>?@^`~", p[0])) {
            break; /* a doubled punctuator is reserved in a `v` class */
        } else {
            emit_class_char(o, *p);
        }
    }
    o->ok = false; /* unterminated or untranslatable */
    return p;
}

bool lf_form_pattern(const char *posix, char *out, size_t outlen)
{
    struct pattern_out o = {out, 0, outlen, outlen > 0};

    if (!posix || outlen == 0)
        return false;
    out[0] = '\0';
    for (const char *p = posix; *p && o.ok;) {
        if (*p == '[') {
            p = translate_class(p + 1, &o);
        } else if (*p == '\\' && p[1]) {
            emit(&o, p, 2);
            p += 2;
        } else {
            emit(&o, p, 1);
            p++;
        }
    }
    return o.ok;
}

/* ---- rendering ---- */

static enum rs_err field_input(const struct prov_field *f, const char *value, bool invalid,
                               struct rs_buf *out)
{
    char pattern[512];
    enum rs_err err = rs_buf_append_str(out, "<input id=\"f-");

    if (err == RS_OK)
        err = lf_html_append(out, f->name);
    if (err == RS_OK)
        err = rs_buf_append_str(out, "\" name=\"f_");
    if (err == RS_OK)
        err = lf_html_append(out, f->name);
    if (err == RS_OK)
        err = rs_buf_appendf(out,
                             "\" type=\"%s\" required autocomplete=\"off\" autocapitalize=\"off\" "
                             "spellcheck=\"false\" aria-describedby=\"h-",
                             f->secret ? "password" : "text");
    if (err == RS_OK)
        err = lf_html_append(out, f->name);
    if (err == RS_OK && invalid)
        err = rs_buf_append_str(out, " e-field\" aria-invalid=\"true");
    if (err == RS_OK && f->pattern && lf_form_pattern(f->pattern, pattern, sizeof(pattern))) {
        err = rs_buf_append_str(out, "\" pattern=\"");
        if (err == RS_OK)
            err = lf_html_append(out, pattern);
    }
    if (err == RS_OK && value && !f->secret) {
        err = rs_buf_append_str(out, "\" value=\"");
        if (err == RS_OK)
            err = lf_html_append(out, value);
    }
    return err == RS_OK ? rs_buf_append_str(out, "\">\n") : err;
}

static enum rs_err field_block(const struct prov_field *f, const char *value, bool invalid,
                               const char *error, struct rs_buf *out)
{
    enum rs_err err = rs_buf_append_str(out, "<div class=\"field\">\n<label for=\"f-");

    if (err == RS_OK)
        err = lf_html_append(out, f->name);
    if (err == RS_OK)
        err = rs_buf_append_str(out, "\">");
    if (err == RS_OK)
        err = lf_html_append(out, f->label);
    if (err == RS_OK)
        err = rs_buf_append_str(out, "</label>\n");
    if (err == RS_OK)
        err = field_input(f, value, invalid, out);
    if (err == RS_OK && invalid && error && *error) {
        err = rs_buf_append_str(out, "<p class=\"field-error\" id=\"e-field\">");
        if (err == RS_OK)
            err = lf_html_append(out, error);
        if (err == RS_OK)
            err = rs_buf_append_str(out, "</p>\n");
    }
    if (err == RS_OK)
        err = rs_buf_append_str(out, "<p class=\"help\" id=\"h-");
    if (err == RS_OK)
        err = lf_html_append(out, f->name);
    if (err == RS_OK)
        err = rs_buf_append_str(out, "\">");
    if (err == RS_OK)
        err = lf_html_append(out, f->help ? f->help : "");
    return err == RS_OK ? rs_buf_append_str(out, "</p>\n</div>\n") : err;
}

/* The fields one form of a provider asks for: its API-key form's, or its OAuth form's. */
struct form_spec {
    const char *provider; /* ops->name, for messages */
    const struct prov_field *fields;
    size_t nfields;
};

static struct form_spec api_key_spec(const struct prov_ops *ops)
{
    return (struct form_spec){ops->name, ops->fields, ops->nfields};
}

static struct form_spec oauth_spec(const struct prov_ops *ops)
{
    if (!ops->oauth)
        return (struct form_spec){ops->name, NULL, 0};
    return (struct form_spec){ops->name, ops->oauth->fields, ops->oauth->nfields};
}

static enum rs_err spec_fields(const struct form_spec *spec, const json_t *values, int bad_field,
                               const char *field_error, struct rs_buf *out)
{
    enum rs_err err = RS_OK;

    for (size_t i = 0; i < spec->nfields && err == RS_OK; i++) {
        const struct prov_field *f = &spec->fields[i];
        const char *value = json_string_value(json_object_get(values, f->name));

        err = field_block(f, value, bad_field == (int)i, field_error, out);
    }
    return err;
}

enum rs_err lf_form_fields(const struct prov_ops *ops, const json_t *values, int bad_field,
                           const char *field_error, struct rs_buf *out)
{
    struct form_spec spec = api_key_spec(ops);

    return spec_fields(&spec, values, bad_field, field_error, out);
}

enum rs_err lf_form_oauth_fields(const struct prov_ops *ops, const json_t *values, int bad_field,
                                 const char *field_error, struct rs_buf *out)
{
    struct form_spec spec = oauth_spec(ops);

    return spec_fields(&spec, values, bad_field, field_error, out);
}

/* ---- reading a post ---- */

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool lf_form_decode(const char *s, size_t n, char *out, size_t outlen)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hex_value(s[i + 1]) : -1,
                lo = i + 2 < n ? hex_value(s[i + 2]) : -1;

            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= outlen)
            return false;
        out[o++] = c;
    }
    out[o] = '\0';
    return true;
}

/* Removes leading and trailing ASCII white space in place. */
static char *trim(char *s)
{
    size_t len;

    while (*s && isspace((unsigned char)*s))
        s++;
    len = strlen(s);
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = '\0';
    return s;
}

static int field_index(const struct form_spec *spec, const char *name)
{
    for (size_t i = 0; i < spec->nfields; i++) {
        if (strcmp(spec->fields[i].name, name) == 0)
            return (int)i;
    }
    return -1;
}

/* Stores one decoded pair; RS_ERR_INVALID for a repeated name. */
static enum rs_err take_pair(const struct form_spec *spec, const char *name, char *value,
                             struct lf_form_input *in)
{
    int i;

    if (strcmp(name, "form_token") == 0) {
        size_t len = strlen(value);

        /* a token that does not fit is not ours: refused, never cut to a prefix */
        if (in->form_token[0] || len >= sizeof(in->form_token))
            return RS_ERR_INVALID;
        memcpy(in->form_token, value, len + 1);
        return RS_OK;
    }
    if (strncmp(name, "f_", 2) != 0 || (i = field_index(spec, name + 2)) < 0)
        return RS_OK; /* not ours: ignored */
    if (json_object_get(in->credentials, name + 2))
        return RS_ERR_INVALID;
    return json_object_set_new(in->credentials, name + 2, json_string(trim(value))) == 0
               ? RS_OK
               : RS_ERR_INVALID; /* not UTF-8 */
}

static enum rs_err read_pairs(const struct form_spec *spec, const char *body, size_t len,
                              struct lf_form_input *in)
{
    char name[128], value[LF_FORM_MAX_VALUE + 1];
    const char *end = body + len;

    for (const char *p = body; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p)), *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        enum rs_err err;

        if (stop > p) {
            if (!eq || !lf_form_decode(p, (size_t)(eq - p), name, sizeof(name)) ||
                !lf_form_decode(eq + 1, (size_t)(stop - eq - 1), value, sizeof(value)))
                err = RS_ERR_INVALID;
            else
                err = take_pair(spec, name, value, in);
            sodium_memzero(value, sizeof(value));
            if (err != RS_OK) {
                snprintf(in->error, sizeof(in->error),
                         "The form could not be read. Reload the page and try again.");
                return err;
            }
        }
        p = stop + 1;
    }
    return RS_OK;
}

/* Every field present and matching its pattern; the first that is not is named. */
static enum rs_err check_fields(const struct form_spec *spec, struct lf_form_input *in)
{
    for (size_t i = 0; i < spec->nfields; i++) {
        const struct prov_field *f = &spec->fields[i];
        const char *value = json_string_value(json_object_get(in->credentials, f->name));

        if (!value || !*value) {
            in->bad_field = (int)i;
            snprintf(in->error, sizeof(in->error), "Enter the %s.", f->label);
            return RS_ERR_INVALID;
        }
        if (!prov_field_matches(f, value)) {
            in->bad_field = (int)i;
            snprintf(in->error, sizeof(in->error), "This does not look like a %s %s.",
                     spec->provider, f->label);
            return RS_ERR_INVALID;
        }
    }
    return RS_OK;
}

static enum rs_err spec_read(const struct form_spec *spec, const char *body, size_t len,
                             struct lf_form_input *in)
{
    enum rs_err err;

    memset(in, 0, sizeof(*in));
    in->bad_field = -1;
    if (!(in->credentials = json_object()))
        return RS_ERR_NOMEM;
    if ((err = read_pairs(spec, body ? body : "", body ? len : 0, in)) != RS_OK)
        return err;
    return check_fields(spec, in);
}

enum rs_err lf_form_read(const struct prov_ops *ops, const char *body, size_t len,
                         struct lf_form_input *in)
{
    struct form_spec spec = api_key_spec(ops);

    return spec_read(&spec, body, len, in);
}

enum rs_err lf_form_oauth_read(const struct prov_ops *ops, const char *body, size_t len,
                               struct lf_form_input *in)
{
    struct form_spec spec = oauth_spec(ops);

    return spec_read(&spec, body, len, in);
}

void lf_form_input_cleanup(struct lf_form_input *in)
{
    const char *key;
    json_t *value;

    if (!in->credentials)
        return;
    /* the values may be secrets: wipe them before jansson frees them */
    json_object_foreach(in->credentials, key, value)
    {
        if (json_is_string(value))
            memset((char *)json_string_value(value), 0, json_string_length(value));
    }
    json_decref(in->credentials);
    in->credentials = NULL;
}

json_t *lf_form_public_values(const struct prov_ops *ops, const json_t *credentials)
{
    json_t *out = json_object();

    for (size_t i = 0; out && i < ops->nfields; i++) {
        const json_t *value = json_object_get(credentials, ops->fields[i].name);

        if (!ops->fields[i].secret && json_is_string(value) &&
            json_object_set_new(out, ops->fields[i].name, json_copy((json_t *)value)) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}
