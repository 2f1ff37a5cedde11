/* Declarations shared only inside linkflow/: the embedded assets of the hosted pages. */
#ifndef ROSTER_LF_INT_H
#define ROSTER_LF_INT_H

#include <stddef.h>

/* One file of linkflow/assets/, compiled in (cmake/embed_assets.cmake). */
struct lf_asset {
    const char *name;          /* file name, e.g. "link.css" */
    const unsigned char *data; /* len bytes, followed by a NUL */
    size_t len;
};

/* Every asset, ending with an entry whose name is NULL. */
extern const struct lf_asset lf_assets[];

#endif
