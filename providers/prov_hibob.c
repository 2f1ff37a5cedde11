/* HiBob adapter (service user over HTTP Basic). See docs/providers/hibob.md. */
#include "providers/prov_int.h"

static const struct prov_field fields[] = {
    {"service_user_id", "Service user ID",
     "In Bob: Settings > Integrations > Service Users > create one with People read access.",
     "^[^[:space:]]{4,200}$", false},
    {"service_user_token", "Service user token", "Shown once when the service user is created.",
     "^[^[:space:]]{6,400}$", true},
};

const struct prov_ops prov_hibob_ops = {
    .slug = "hibob",
    .name = "HiBob",
    .color = "#E42C64",
    .auth = PROV_AUTH_BASIC,
    .fields = fields,
    .nfields = sizeof(fields) / sizeof(fields[0]),
};
