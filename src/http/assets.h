/* Static files of the web UI (CSS, JS, icons), embedded at build time by scripts/embed-assets.
 * The table ends with a row whose name is NULL. */
#ifndef IOHEME_HTTP_ASSETS_H
#define IOHEME_HTTP_ASSETS_H

#include <stddef.h>

struct web_asset {
    const char *name;          /* file name, e.g. "app.css" */
    const unsigned char *data; /* bytes (NUL-terminated for convenience) */
    size_t len;
};

extern const struct web_asset web_assets[];

#endif
