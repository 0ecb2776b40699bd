/* `ioheme serve`: runs the web application and JSON API on the study database until SIGTERM
 * or SIGINT. `--routes` prints the route table as JSON (used by the authorisation-matrix test
 * and to check docs/api.md) without starting anything. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "http/http.h"

const char CMD_SERVE_USAGE[] =
    "usage: ioheme serve [--db FILE] [--listen ADDR:PORT] [--tls-cert PEM --tls-key PEM]\n"
    "                    [--threads N] [--access-log FILE] [--idle-timeout S]\n"
    "                    [--max-conns-per-ip N] [--busy-wait MS] [--route-stats]\n"
    "                    [--no-read-cache]\n"
    "       ioheme serve --routes\n"
    "\n"
    "Serves the study's web application and JSON API (/api/v1/...) until SIGTERM or SIGINT,\n"
    "then finishes the requests in flight and exits 0.\n"
    "\n"
    "  --db FILE          study database (default $IOHEME_DB, else ./ioheme.db)\n"
    "  --listen ADDR:PORT IPv4 address and port, or [IPv6]:PORT ([::1]:8080)\n"
    "                     (default 127.0.0.1:8080)\n"
    "  --tls-cert PEM     serve HTTPS with this certificate (with --tls-key); session\n"
    "  --tls-key PEM      cookies are then marked Secure\n"
    "  --threads N        worker threads, one database connection each\n"
    "                     (default: 2 per CPU, at least 4)\n"
    "  --access-log FILE  append the access log here (default: standard error); one line\n"
    "                     per request: time, method, route pattern, status, bytes, duration\n"
    "                     in microseconds, user id -- never record IDs or patient data\n"
    "  --idle-timeout S   sign a web session out after S seconds without a request\n"
    "                     (default 1800 = 30 minutes; audited as a logout)\n"
    "  --max-conns-per-ip N  connections one client address may hold open at once\n"
    "                     (default 64; the server takes 1000 in all). Behind a reverse\n"
    "                     proxy every request comes from the proxy's address: raise it\n"
    "  --busy-wait MS     how long a request waits for another writer (an import, a\n"
    "                     backup, a second server) before it answers 503 with\n"
    "                     Retry-After (default 15000)\n"
    "  --route-stats      at stop, write one line per route (calls, failures, mean\n"
    "                     time) to the access log\n"
    "  --no-read-cache    on a PostgreSQL study, read every answer from the database;\n"
    "                     by default a record's answers are kept in memory until any\n"
    "                     server, command or client changes them (docs/operations.md,\n"
    "                     \"Several servers\")\n"
    "  --routes           print the route table as JSON and exit\n"
    "\n"
    "A connection that sends nothing for 15 s is closed (docs/operations.md, \"Limits\").\n";

/* --name N within lo..hi into *out (0 when the option is absent); 2 (usage error printed)
 * otherwise. */
static int int_opt(const struct cli_args *a, const char *name, long long lo, long long hi,
                   long long *out)
{
    *out = 0;
    const char *s = cli_get(a, name);
    if (!s)
        return 0;
    if (!fmt_parse_int(s, lo, hi, out))
        return cli_usage_error("serve", "--%s '%s': expected %lld..%lld", name, s, lo, hi);
    return 0;
}

const struct cli_opt_spec cmd_serve_opts[] = {
    {"db", true},        {"listen", true},       {"tls-cert", true},
    {"tls-key", true},   {"threads", true},      {"access-log", true},
    {"routes", false},   {"idle-timeout", true}, {"max-conns-per-ip", true},
    {"busy-wait", true}, {"route-stats", false}, {"no-read-cache", false},
    {NULL, false},
};

int cmd_serve(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (a->npos)
        return cli_usage_error("serve", "unexpected argument '%s'", a->pos[0]);
    if (cli_has(a, "routes")) {
        struct strbuf sb = STRBUF_INIT;
        http_routes_json(&sb);
        (void)fputs(strbuf_str(&sb), stdout);
        strbuf_release(&sb);
        return 0;
    }
    struct http_config cfg = {
        .db_path = cli_db_path(a),
        .listen = cli_get(a, "listen") ? cli_get(a, "listen") : "127.0.0.1:8080",
        .tls_cert = cli_get(a, "tls-cert"),
        .tls_key = cli_get(a, "tls-key"),
    };
    long long n;
    if (int_opt(a, "threads", 1, 256, &n))
        return 2;
    cfg.threads = (unsigned)n;
    if (int_opt(a, "idle-timeout", 1, 86400, &n))
        return 2;
    cfg.idle_s = n;
    if (int_opt(a, "max-conns-per-ip", 1, HTTP_MAX_CONNECTIONS, &n))
        return 2;
    cfg.max_conns_per_ip = (unsigned)n;
    if (int_opt(a, "busy-wait", 1, 600000, &n))
        return 2;
    cfg.busy_wait_ms = n;
    cfg.route_stats = cli_has(a, "route-stats");
    cfg.no_read_cache = cli_has(a, "no-read-cache");
    FILE *log = NULL;
    const char *log_path = cli_get(a, "access-log");
    if (log_path) {
        log = fopen(log_path, "a");
        if (!log) {
            struct err e;
            err_set(&e, ERR_IO, "%s: %s", log_path, "cannot open for appending");
            return cli_fail("serve", &e);
        }
        cfg.access_log = log;
    }
    struct err e;
    err_clear(&e);
    int rc = http_serve(&cfg, &e);
    if (log && fclose(log) != 0 && !rc)
        (void)fprintf(stderr, "ioheme serve: closing the access log: %s\n", strerror(errno));
    return rc ? cli_fail("serve", &e) : 0;
}
