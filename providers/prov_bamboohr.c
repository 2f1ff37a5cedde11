/* BambooHR adapter (API key over HTTP Basic). See docs/providers/bamboohr.md. */
#include "providers/prov_int.h"

static const struct prov_field fields[] = {
    {"subdomain", "Company subdomain",
     "The part before .bamboohr.com in the address you use to sign in.",
     "^[A-Za-z0-9][A-Za-z0-9-]{0,62}$", false},
    {"api_key", "API key", "In BambooHR: your name (top right) > API Keys > Add New Key.",
     "^[^[:space:]]{6,200}$", true},
};

const struct prov_ops prov_bamboohr_ops = {
    .slug = "bamboohr",
    .name = "BambooHR",
    .color = "#73C41D",
    .auth = PROV_AUTH_BASIC,
    .fields = fields,
    .nfields = sizeof(fields) / sizeof(fields[0]),
};
