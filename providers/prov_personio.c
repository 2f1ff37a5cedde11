/* Personio adapter (client credentials exchanged for a bearer token). See
 * docs/providers/personio.md. */
#include "providers/prov_int.h"

static const struct prov_field fields[] = {
    {"client_id", "Client ID",
     "In Personio: Settings > Integrations > API credentials > Generate new credential.",
     "^[^[:space:]]{6,200}$", false},
    {"client_secret", "Client secret", "Shown once next to the client ID when it is generated.",
     "^[^[:space:]]{6,200}$", true},
};

const struct prov_ops prov_personio_ops = {
    .slug = "personio",
    .name = "Personio",
    .color = "#1B1B1B",
    .auth = PROV_AUTH_OAUTH2_CLIENT,
    .fields = fields,
    .nfields = sizeof(fields) / sizeof(fields[0]),
};
