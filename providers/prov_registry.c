/* The registry of provider adapters, and the credential checks every adapter shares. */
#include "roster/prov.h"

#include <regex.h>
#include <string.h>

#include "providers/prov_int.h"

static const struct prov_ops *const adapters[] = {
    &prov_bamboohr_ops,
    &prov_personio_ops,
    &prov_hibob_ops,
    &prov_factorial_ops,
};

const struct prov_ops *const *prov_list(size_t *n)
{
    *n = sizeof(adapters) / sizeof(adapters[0]);
    return adapters;
}

const struct prov_ops *prov_find(const char *slug)
{
    for (size_t i = 0; i < sizeof(adapters) / sizeof(adapters[0]); i++) {
        if (strcmp(adapters[i]->slug, slug) == 0)
            return adapters[i];
    }
    return NULL;
}

bool prov_field_matches(const struct prov_field *field, const char *value)
{
    regex_t re;
    bool ok;

    if (!field->pattern)
        return true;
    if (regcomp(&re, field->pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    ok = regexec(&re, value, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static const struct prov_field *find_field(const struct prov_field *fields, size_t n,
                                           const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(fields[i].name, name) == 0)
            return &fields[i];
    }
    return NULL;
}

static enum rs_err check_fields(const struct prov_ops *ops, const struct prov_field *fields,
                                size_t n, const json_t *credentials, struct rs_errbuf *eb)
{
    const char *key;
    json_t *value;

    if (!json_is_object(credentials))
        return rs_errbuf_param(eb, RS_ERR_INVALID, "credentials", "credentials must be an object");
    json_object_foreach((json_t *)credentials, key, value)
    {
        if (!find_field(fields, n, key))
            return rs_errbuf_param(eb, RS_ERR_INVALID, "credentials",
                                   "%s takes no credential named %.40s", ops->name, key);
    }
    for (size_t i = 0; i < n; i++) {
        const struct prov_field *field = &fields[i];
        const json_t *given = json_object_get(credentials, field->name);

        if (!json_is_string(given) || json_string_length(given) == 0)
            return rs_errbuf_param(eb, RS_ERR_INVALID, "credentials",
                                   "credentials.%s is required (a non-empty string)", field->name);
        if (!prov_field_matches(field, json_string_value(given)))
            return rs_errbuf_param(eb, RS_ERR_INVALID, "credentials",
                                   "credentials.%s does not look like a %s %s", field->name,
                                   ops->name, field->label);
    }
    return RS_OK;
}

enum rs_err prov_check_credentials(const struct prov_ops *ops, const json_t *credentials,
                                   struct rs_errbuf *eb)
{
    return check_fields(ops, ops->fields, ops->nfields, credentials, eb);
}

enum rs_err prov_check_oauth_credentials(const struct prov_ops *ops, const json_t *credentials,
                                         struct rs_errbuf *eb)
{
    if (!ops->oauth)
        return rs_errbuf_param(eb, RS_ERR_INVALID, "integration",
                               "%s cannot be connected with OAuth", ops->name);
    return check_fields(ops, ops->oauth->fields, ops->oauth->nfields, credentials, eb);
}
