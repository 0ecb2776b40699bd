/* Embedded static files (CSS, JS, icons) and the health check.
 *
 * The files are compiled into the binary (scripts/embed-assets → web_assets[]), so the UI
 * works offline and needs no CDN. Each is served with its MIME type, an ETag (FNV-1a of the
 * bytes, computed once) and `Cache-Control: no-cache`, so a browser revalidates cheaply and a
 * new binary's assets are picked up at once. */
#include "base/fmt.h"
#include "base/hash.h"
#include "http/handlers.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "http/assets.h"

#define MAX_ASSETS 64

static char etags[MAX_ASSETS][24];
static pthread_once_t etags_once = PTHREAD_ONCE_INIT;

static void compute_etags(void)
{
    for (size_t i = 0; web_assets[i].name && i < MAX_ASSETS; i++) {
        uint64_t h = hash_bytes(HASH_INIT, web_assets[i].data, web_assets[i].len);
        fmt_exact(etags[i], sizeof etags[i], "\"%016llx\"", (unsigned long long)h);
    }
}

static const char *mime_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return "application/octet-stream";
    if (strcmp(dot, ".css") == 0)
        return "text/css; charset=utf-8";
    if (strcmp(dot, ".js") == 0)
        return "text/javascript; charset=utf-8";
    if (strcmp(dot, ".svg") == 0)
        return "image/svg+xml";
    return "application/octet-stream";
}

int static_get(struct req *r)
{
    pthread_once(&etags_once, compute_etags);
    const char *name = req_param(r, "name");
    for (size_t i = 0; name && web_assets[i].name && i < MAX_ASSETS; i++) {
        if (strcmp(web_assets[i].name, name) != 0)
            continue;
        resp_header(r, "ETag", etags[i]);
        resp_header(r, "Cache-Control", "no-cache");
        const char *inm = req_header(r, "If-None-Match");
        if (inm && strcmp(inm, etags[i]) == 0) {
            r->status = 304;
            return 0;
        }
        r->status = 200;
        r->content_type = mime_of(name);
        r->static_body = web_assets[i].data;
        r->static_len = web_assets[i].len;
        return 0;
    }
    return resp_errf(r, ERR_NOT_FOUND, NULL, "no static file '%s'", name ? name : "");
}

int api_health_get(struct req *r)
{
    return resp_json(r, 200, json_pack("{s:s, s:s}", "status", "ok", "version", IOHEME_VERSION));
}
