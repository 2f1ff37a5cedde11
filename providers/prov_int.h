/* Declarations shared only inside providers/: the adapters the registry lists. */
#ifndef ROSTER_PROV_INT_H
#define ROSTER_PROV_INT_H

#include "roster/prov.h"

extern const struct prov_ops prov_bamboohr_ops;
extern const struct prov_ops prov_personio_ops;
extern const struct prov_ops prov_hibob_ops;

#endif
