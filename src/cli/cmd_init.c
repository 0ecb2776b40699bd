/* `ioheme init`: a new study database with its protocol and first admin. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/commands.h"
#include "cli/store_cli.h"
#include "core/sitetime.h"

const char CMD_INIT_USAGE[] =
    "usage: ioheme init --db FILE --admin NAME [--protocol DIR] [--timezone ZONE] [--synthetic]\n"
    "\n"
    "Creates a new study database FILE (refuses to overwrite an existing file), copies the\n"
    "protocol's files (dictionary.csv, events.csv, form_events.csv, repeating.csv, study.csv,\n"
    "schedule.csv, sdv.csv, signatures.csv) into it so the database is self-contained, and\n"
    "creates the first user NAME with role admin.\n"
    "The admin's password comes from $IOHEME_PASSWORD, else it is asked twice on the terminal.\n"
    "\n"
    "  --db FILE        the database to create (default $IOHEME_DB, else ./ioheme.db)\n"
    "  --admin NAME     first user, [a-z0-9_.-], 2 to 32 characters\n"
    "  --protocol DIR   protocol folder (default $IOHEME_PROTOCOL, else ./protocols/io-heme,\n"
    "                   else the one in the ioheme source tree)\n"
    "  --timezone ZONE  the site's time zone, an IANA name (Europe/London): data date-times are\n"
    "                   its wall-clock (docs/operations.md); without it the study runs on UTC\n"
    "                   until an admin sets one with 'ioheme timezone'\n"
    "  --synthetic      a training/demo database: the only kind 'ioheme simulate' fills; its\n"
    "                   web pages, datasets and reports say \"synthetic\" (audited)\n";

static const char *protocol_dir(const struct cli_args *a)
{
    const char *p = cli_get(a, "protocol");
    if (p && *p)
        return p;
    p = getenv("IOHEME_PROTOCOL");
    if (p && *p)
        return p;
    if (access("protocols/io-heme/dictionary.csv", R_OK) == 0)
        return "protocols/io-heme";
    return IOHEME_SOURCE_DIR "/protocols/io-heme";
}

const struct cli_opt_spec cmd_init_opts[] = {STORE_CLI_COMMON_OPTS, {"admin", true},
                                             {"protocol", true},    {"timezone", true},
                                             {"synthetic", false},  {NULL, false}};

/* No CLI_DB: init creates the database, and its admin is the first user there is. */
int cmd_init(struct cmd_ctx *ctx)
{
    const struct cli_args a = ctx->args;
    const char *admin = cli_get(&a, "admin");
    if (!admin || !*admin)
        return cli_usage_error("init", "--admin NAME is required");
    if (a.npos)
        return cli_usage_error("init", "unexpected argument '%s'", a.pos[0]);
    struct err e = {0};
    const char *zone = cli_get(&a, "timezone");
    if (zone && sitetime_name_check(zone, &e))
        return cli_fail("init", &e);
    const char *db = cli_db_path(&a);
    if (access(db, F_OK) == 0) {
        err_set(&e, ERR_CONFLICT, "%s already exists (refusing to overwrite)", db);
        return cli_fail("init", &e);
    }
    char pw[256];
    if (cli_read_password("Password for ", admin, true, true, pw, sizeof pw, &e))
        return cli_fail("init", &e);
    struct store *st = NULL;
    const char *proto = protocol_dir(&a);
    int rc = store_create(db, proto, admin, pw, &st, &e);
    sodium_memzero(pw, sizeof pw);
    if (rc)
        return cli_fail("init", &e);
    bool is_synthetic = cli_has(&a, "synthetic");
    struct store_ctx who = {admin, "cli", NULL, NULL};
    if ((zone && store_set_site_timezone(st, &who, zone, "set at init", &e)) ||
        (is_synthetic && store_mark_synthetic(st, &who, &e))) {
        store_close(st);
        unlink(db); /* never left behind half made */
        return cli_fail("init", &e);
    }
    const struct dict *d = store_dict(st);
    if (cli_has(&a, "json"))
        cli_json_print(json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:b}", "db", db, "admin", admin,
                                 "fields", (json_int_t)d->nfields, "forms", (json_int_t)d->nforms,
                                 "events", (json_int_t)d->nevents, "timezone",
                                 zone ? zone : SITETIME_DEFAULT, "synthetic", is_synthetic));
    else
        printf("created %s%s: protocol %s (%zu fields, %zu forms, %zu events); admin '%s'; site "
               "time zone %s\n",
               db, is_synthetic ? " (synthetic: a training/demo database)" : "", proto, d->nfields,
               d->nforms, d->nevents, admin,
               zone ? zone : SITETIME_DEFAULT " (none given: set one with 'ioheme timezone')");
    store_close(st);
    return 0;
}
