/* `ioheme user add|list|report|disable|unlock|passwd`: user management (role admin); report is
 * the user-access report for periodic review (P11-07). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"

const char CMD_USER_USAGE[] =
    "usage: ioheme user add NAME --role ROLE [--full-name \"PRINTED NAME\"] [--sites CODE,...]\n"
    "       ioheme user list [--json]\n"
    "       ioheme user report [--json]\n"
    "       ioheme user disable NAME\n"
    "       ioheme user unlock NAME\n"
    "       ioheme user passwd NAME\n"
    "       ioheme user role NAME ROLE --reason TEXT\n"
    "       ioheme user sites NAME [CODE[,CODE...] | - | --all] [--reason TEXT] [--json]\n"
    "       ioheme user policy [--max-age DAYS] [--history N] [--reason TEXT] [--json]\n"
    "\n"
    "Manages the users of a study database. Roles: admin, investigator, coordinator, monitor,\n"
    "data_manager, statistician. Names are [a-z0-9_.-], 2 to 32 characters, and are never\n"
    "reused (disable a user instead of deleting). Passwords have at least 8 characters of at\n"
    "least two kinds (letters, digits, others such as a space or a hyphen) and are not the user\n"
    "name; a new password is read from standard input when it is not a terminal, else asked\n"
    "twice. The password policy (`policy`) sets a maximum age (an expired password signs in\n"
    "only to change itself) and how many earlier passwords may not be used again (default 5).\n"
    "unlock clears a lockout after 5 failed logins. sites: a user works at every site of a\n"
    "multi-centre study unless given some (user add --sites, user sites): then they see and\n"
    "change only those sites' records. report is the user-access report for\n"
    "periodic review: every user's role, state, creation, last sign-in and number of sign-ins,\n"
    "last failed sign-in and number of failures, from the audit trail (CSV, or --json).\n"
    "\n"
    "Every subcommand, list included, needs an admin (user_manage; --user NAME or\n"
    "$IOHEME_USER; password from $IOHEME_PASSWORD or asked); a user may change their own\n"
    "password.\n"
    "  --db FILE   database (default $IOHEME_DB, else ./ioheme.db)\n";

const struct cli_opt_spec cmd_user_opts[] = {
    STORE_CLI_COMMON_OPTS, {"role", true},    {"full-name", true},
    {"reason", true},      {"max-age", true}, {"history", true},
    {"sites", true},       {"all", false},    {NULL, false}};

const struct cli_sub cmd_user_subs[] = {
    {"add", NULL,
     "usage: ioheme user add NAME --role ROLE [--full-name NAME] [--db FILE] [--user ADMIN]\n"
     "Adds a user; the new password is read from stdin (not a terminal) or asked twice.\n",
     NULL},
    {"list", NULL,
     "usage: ioheme user list [--db FILE] [--user ADMIN] [--json]\n"
     "Lists users, roles and state (admin only: the list is a user-access report).\n",
     NULL},
    {"report", NULL,
     "usage: ioheme user report [--db FILE] [--user ADMIN] [--json]\n"
     "The user-access report for periodic review (P11-07), as CSV on standard output (or\n"
     "--json): user, role, state, created_at, last_login, logins, last_failed_login,\n"
     "failed_logins, failed_in_a_row. Sign-ins are counted once per session (docs/security.md);\n"
     "times are UTC, empty when none. Admin only.\n",
     NULL},
    {"disable", NULL,
     "usage: ioheme user disable NAME [--db FILE] [--user ADMIN]\n"
     "Disables a user: they can no longer log in. Their name is never reused.\n",
     NULL},
    {"unlock", NULL,
     "usage: ioheme user unlock NAME [--db FILE] [--user ADMIN]\n"
     "Clears a lockout after too many failed logins.\n",
     NULL},
    {"passwd", NULL,
     "usage: ioheme user passwd NAME [--db FILE] [--user NAME]\n"
     "Sets NAME's password (admin, or NAME themselves; an expired password signs in for this).\n"
     "It may not be one of NAME's last passwords (the policy's history).\n",
     NULL},
    {"role", NULL,
     "usage: ioheme user role NAME ROLE --reason TEXT [--db FILE] [--user ADMIN]\n"
     "Gives NAME another role (admin only; audited as user_role with the old and new role).\n"
     "The last active admin keeps the admin role.\n",
     NULL},
    {"sites", NULL,
     "usage: ioheme user sites NAME [CODE[,CODE...] | --all] [--reason TEXT] [--db FILE]\n"
     "                        [--user ADMIN] [--json]\n"
     "Shows the sites NAME works at, or sets them (admin; a reason is required; audited as\n"
     "user_sites): CODE,CODE for those sites only (NAME then sees and changes only their\n"
     "records), '-' for none, --all for every site (the default, a study-wide role).\n",
     NULL},
    {"policy", NULL,
     "usage: ioheme user policy [--max-age DAYS] [--history N] [--reason TEXT] [--json]\n"
     "Shows the password policy, or sets it (admin; audited as password_policy):\n"
     "  --max-age DAYS   a password expires DAYS after it was set (0: never; the default)\n"
     "  --history N      a new password may not be any of the user's last N (0 to 24; 5)\n",
     NULL},
    {NULL, NULL, NULL, NULL},
};

static const char *user_state(const struct store_user *u)
{
    return u->is_disabled ? "disabled" : u->is_locked_out ? "locked" : "active";
}

static int list_users(struct store *st, bool json)
{
    struct store_user *us = NULL;
    size_t n = 0;
    struct err e = {0};
    if (store_user_list(st, &us, &n, &e))
        return cli_fail("user list", &e);
    /* where each works (docs/sites.md): "all", "A, B" or "(none)" */
    struct strbuf *sites = calloc(n ? n : 1, sizeof *sites);
    int rc = sites ? 0 : err_set(&e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++)
        rc = store_user_sites_text(st, us[i].name, &sites[i], &e);
    if (!rc && json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:b, s:b, s:i, s:s, s:s}", "name", us[i].name, "role",
                               us[i].role, "disabled", us[i].is_disabled, "locked_out",
                               us[i].is_locked_out, "failed_logins", us[i].failed_logins,
                               "created_at", us[i].created_at, "sites", strbuf_str(&sites[i])));
        cli_json_print(arr);
    } else if (!rc) {
        printf("%-20s %-14s %-10s %-25s %s\n", "NAME", "ROLE", "STATE", "CREATED", "SITES");
        for (size_t i = 0; i < n; i++)
            printf("%-20s %-14s %-10s %-25s %s\n", us[i].name, us[i].role, user_state(&us[i]),
                   us[i].created_at, strbuf_str(&sites[i]));
    }
    for (size_t i = 0; sites && i < n; i++)
        strbuf_release(&sites[i]);
    free(sites);
    free(us);
    return rc ? cli_fail("user list", &e) : 0;
}

static json_t *json_opt(const char *s)
{
    return s[0] ? json_string(s) : json_null();
}

static int access_report(struct store *st, bool json)
{
    struct store_user_access *us = NULL;
    size_t n = 0;
    struct err e = {0};
    if (store_user_access_report(st, &us, &n, &e))
        return cli_fail("user report", &e);
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++) {
            const struct store_user_access *a = &us[i];
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:o, s:I, s:i}", "user",
                               a->user.name, "role", a->user.role, "state", user_state(&a->user),
                               "created_at", a->user.created_at, "last_login",
                               json_opt(a->last_login), "logins", (json_int_t)a->logins,
                               "last_failed_login", json_opt(a->last_failed_login), "failed_logins",
                               (json_int_t)a->failed_logins_total, "failed_in_a_row",
                               a->user.failed_logins));
        }
        free(us);
        cli_json_print(arr);
        return 0;
    }
    struct strbuf sb = STRBUF_INIT;
    strbuf_adds(&sb, "user,role,state,created_at,last_login,logins,last_failed_login,"
                     "failed_logins,failed_in_a_row\n");
    for (size_t i = 0; i < n; i++) {
        const struct store_user_access *a = &us[i];
        const char *cells[] = {a->user.name, a->user.role, user_state(&a->user), a->user.created_at,
                               a->last_login};
        for (size_t c = 0; c < sizeof cells / sizeof cells[0]; c++) {
            strbuf_add_csv(&sb, cells[c]);
            strbuf_addc(&sb, ',');
        }
        strbuf_addf(&sb, "%lld,", a->logins);
        strbuf_add_csv(&sb, a->last_failed_login);
        strbuf_addf(&sb, ",%lld,%d\n", a->failed_logins_total, a->user.failed_logins);
    }
    free(us);
    if (sb.failed) {
        strbuf_release(&sb);
        err_set(&e, ERR_NOMEM, "out of memory writing the report");
        return cli_fail("user report", &e);
    }
    (void)fwrite(sb.buf, 1, sb.len, stdout);
    strbuf_release(&sb);
    return 0;
}

/* The confirmation of a user change: a line, or with --json {"user", "done", "role"}. */
static void user_done(const struct cli_args *a, const char *name, const char *done,
                      const char *role)
{
    if (cli_has(a, "json")) {
        json_t *o = json_pack("{s:s, s:s}", "user", name, "done", done);
        if (o && role && json_object_set_new(o, "role", json_string(role)) != 0) {
            json_decref(o);
            o = NULL;
        }
        cli_json_print(o);
    } else if (strcmp(done, "added") == 0) {
        printf("added user '%s' (%s)\n", name, role);
    } else if (strcmp(done, "role_changed") == 0) {
        printf("user '%s' now has the role %s\n", name, role);
    } else if (strcmp(done, "password_changed") == 0) {
        printf("password changed for '%s'\n", name);
    } else {
        printf("%s user '%s'\n", done, name);
    }
}

/* An option that must be a whole number when given. */
static int opt_int(const struct cmd_ctx *ctx, const char *key, int *out)
{
    const char *v = cli_get(&ctx->args, key);
    if (!v)
        return 0;
    long long n;
    if (!fmt_parse_int(v, 0, 100000, &n))
        return cli_usage_error(ctx->name, "--%s expects a whole number, not '%s'", key, v);
    *out = (int)n;
    return 0;
}

static int policy(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    struct err e = {0};
    struct store_password_policy p;
    if (store_password_policy(ctx->st, &p, &e))
        return cli_fail(ctx->name, &e);
    if (cli_get(a, "max-age") || cli_get(a, "history")) {
        int rc = opt_int(ctx, "max-age", &p.max_age_days);
        if (!rc)
            rc = opt_int(ctx, "history", &p.history);
        if (rc)
            return rc;
        if (store_set_password_policy(ctx->st, &ctx->who, &p, cli_get(a, "reason"), &e))
            return cli_fail(ctx->name, &e);
    }
    if (cli_has(a, "json"))
        cli_json_print(
            json_pack("{s:i, s:i}", "max_age_days", p.max_age_days, "history", p.history));
    else if (p.max_age_days)
        printf("passwords expire after: %d days\nearlier passwords refused: %d\n", p.max_age_days,
               p.history);
    else
        printf("passwords expire after: never\nearlier passwords refused: %d\n", p.history);
    return 0;
}

/* Sets name's sites from "A,B" ("-": none), or every site. */
static int set_sites(struct store *st, const struct store_ctx *who, const char *name,
                     const char *list, bool all, const char *reason, struct err *e)
{
    const char *codes[STORE_USER_SITES_MAX + 1];
    size_t n = 0;
    char buf[STORE_USER_SITES_MAX * (STORE_SITE_CODE_MAX + 1) + 1];
    if (!all && !fmt_fits(buf, sizeof buf, "%s", list))
        return err_set_field(e, ERR_INVALID, "site", "at most %d sites per user",
                             STORE_USER_SITES_MAX);
    if (!all && strcmp(buf, "-") != 0)
        for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok && n <= STORE_USER_SITES_MAX;
             tok = strtok_r(NULL, ",", &save))
            codes[n++] = tok;
    return store_user_set_sites(st, who, name, all, codes, n, reason, e);
}

static int user_sites(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *name = a->pos[0];
    struct err e = {0};
    int rc = 0;
    if (a->npos == 2 || cli_has(a, "all"))
        rc = set_sites(ctx->st, &ctx->who, name, a->npos == 2 ? a->pos[1] : NULL, cli_has(a, "all"),
                       cli_get(a, "reason"), &e);
    bool all = false;
    struct store_site *v = NULL;
    size_t n = 0;
    if (!rc)
        rc = store_user_sites(ctx->st, name, &all, &v, &n, &e);
    if (rc)
        return cli_fail(ctx->name, &e);
    if (cli_has(a, "json")) {
        cli_json_print(json_out_user_sites(name, all, v, n));
    } else if (all) {
        printf("%s works at every site\n", name);
    } else {
        printf("%s works at %s", name, n ? "" : "no site");
        for (size_t i = 0; i < n; i++)
            printf("%s%s (%s)", i ? ", " : "", v[i].code, v[i].name);
        printf("\n");
    }
    free(v);
    return 0;
}

int cmd_user_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *sub = ctx->sub->name;
    bool is_list =
        strcmp(sub, "list") == 0 || strcmp(sub, "report") == 0 || strcmp(sub, "policy") == 0;
    if (strcmp(sub, "role") == 0) {
        if (a->npos != 2)
            return cli_usage_error(ctx->name, "expects NAME ROLE");
    } else if (strcmp(sub, "sites") == 0) {
        if (a->npos < 1 || a->npos > 2 || (a->npos == 2 && cli_has(a, "all")))
            return cli_usage_error(ctx->name, "expects NAME and CODE[,CODE...], '-' or --all");
    } else if (is_list ? a->npos != 0 : a->npos != 1) {
        return cli_usage_error(ctx->name, is_list ? "takes no NAME" : "expects one NAME");
    }
    /* a user may change their own password; everything else is user management */
    const char *user = cli_get(a, "user") ? cli_get(a, "user") : getenv("IOHEME_USER");
    if (strcmp(sub, "passwd") == 0 && user && strcmp(user, a->pos[0]) == 0) {
        ctx->action = PERM_NONE;
        ctx->is_password_renewal = true;
    }
    return 0;
}

int cmd_user(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    const char *sub = ctx->sub->name;
    const char *cmd = ctx->name;
    struct store *st = ctx->st;
    const struct store_ctx *who = &ctx->who;
    if (strcmp(sub, "list") == 0)
        return list_users(st, cli_has(a, "json"));
    if (strcmp(sub, "report") == 0)
        return access_report(st, cli_has(a, "json"));
    if (strcmp(sub, "policy") == 0)
        return policy(ctx);
    if (strcmp(sub, "sites") == 0)
        return user_sites(ctx);
    struct err e = {0};
    const char *name = a->pos[0];
    int rc = 0;
    char pw[256] = "";
    if (strcmp(sub, "add") == 0) {
        const char *role = cli_get(a, "role");
        if (!role)
            return cli_usage_error(cmd, "--role ROLE is required");
        rc = cli_read_new_password(name, pw, sizeof pw, &e);
        /* the user, the printed name signatures show (the username until one is set) and the
         * sites, all or none: a refused name or site leaves no user behind */
        bool batch = !rc && (cli_get(a, "full-name") || cli_get(a, "sites"));
        if (batch)
            batch = (rc = store_batch_begin(st, &e)) == 0;
        if (!rc)
            rc = store_user_add(st, who, name, role, pw, &e);
        if (!rc && cli_get(a, "full-name"))
            rc = store_user_set_full_name(st, who, name, cli_get(a, "full-name"), &e);
        if (!rc && cli_get(a, "sites"))
            rc =
                set_sites(st, who, name, cli_get(a, "sites"), false, "sites given at creation", &e);
        if (batch && !rc)
            rc = store_batch_commit(st, &e);
        else if (batch)
            store_batch_rollback(st);
        if (!rc)
            user_done(a, name, "added", role);
    } else if (strcmp(sub, "disable") == 0) {
        rc = store_user_disable(st, who, name, &e);
        if (!rc)
            user_done(a, name, "disabled", NULL);
    } else if (strcmp(sub, "role") == 0) {
        rc = store_user_set_role(st, who, name, a->pos[1], cli_get(a, "reason"), &e);
        if (!rc)
            user_done(a, name, "role_changed", a->pos[1]);
    } else if (strcmp(sub, "unlock") == 0) {
        rc = store_user_unlock(st, who, name, &e);
        if (!rc)
            user_done(a, name, "unlocked", NULL);
    } else {
        rc = cli_read_new_password(name, pw, sizeof pw, &e);
        if (!rc)
            rc = store_user_set_password(st, who, name, pw, &e);
        if (!rc)
            user_done(a, name, "password_changed", NULL);
    }
    sodium_memzero(pw, sizeof pw);
    return rc ? cli_fail(cmd, &e) : 0;
}
