/* Shared by the study commands: database, login, passwords, `field=value` arguments. */
#include "cli/store_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "base/fmt.h"
#include "base/strbuf.h"
#include "cli/commands.h"
#include "core/derive.h"
#include "core/sitetime.h"
#include "formats/json_out.h"
#include "report/dataset.h"
#include "store/sessions.h"

const struct cli_opt_spec cmd_common_opts[] = {STORE_CLI_COMMON_OPTS, {NULL, false}};

int cli_store_open(const struct cli_args *a, struct store **st, struct err *e)
{
    int rc = store_open(cli_db_path(a), st, e);
    /* the site's zone for every conversion (core/sitetime.h), as `ioheme serve` sets it: a
     * "today" bound checked by an import is the ward's date, not the machine's */
    char zone[STORE_TZ_LEN];
    if (!rc && (store_site_timezone(*st, zone, NULL, e) != 0 || sitetime_use(zone, e) != 0)) {
        rc = e->code;
        store_close(*st);
        *st = NULL;
    }
    return rc;
}

/* One line from f without its newline: 0, -1 at the end of input, -2 when the line does not
 * fit in buf (len - 1 characters). */
static int read_line(FILE *f, char *buf, size_t len)
{
    if (!fgets(buf, (int)len, f))
        return -1;
    size_t n = strcspn(buf, "\r\n");
    bool whole = buf[n] != '\0' || feof(f);
    buf[n] = '\0';
    return whole ? 0 : -2;
}

/* Asks "<what><who>: " on the terminal and reads the answer without echo; as read_line. */
static int tty_password(const char *what, const char *who, char *buf, size_t len)
{
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty)
        return -1;
    int fd = fileno(tty);
    struct termios old, quiet;
    bool echo_off = tcgetattr(fd, &old) == 0;
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    (void)fprintf(tty, "%s%s: ", what, who);
    (void)fflush(tty);
    int rc = read_line(tty, buf, len);
    if (echo_off)
        tcsetattr(fd, TCSAFLUSH, &old);
    (void)fclose(tty);
    return rc;
}

static int too_long(size_t len, struct err *e)
{
    return err_set(e, ERR_USAGE, "the password is longer than %zu characters", len - 1);
}

int cli_read_password(const char *what, const char *who, bool env_ok, bool confirm, char *buf,
                      size_t len, struct err *e)
{
    const char *env = env_ok ? getenv("IOHEME_PASSWORD") : NULL;
    if (env) {
        if (strlen(env) >= len)
            return too_long(len, e);
        memcpy(buf, env, strlen(env) + 1);
        return 0;
    }
    int rc = tty_password(what, who, buf, len);
    if (rc == -2)
        return too_long(len, e);
    if (rc != 0)
        return err_set(e, ERR_AUTH, "no password: set IOHEME_PASSWORD or run on a terminal");
    if (confirm) {
        char again[256];
        if (tty_password("Again", "", again, sizeof again) != 0 || strcmp(again, buf) != 0) {
            sodium_memzero(again, sizeof again);
            return err_set(e, ERR_USAGE, "the passwords do not match");
        }
        sodium_memzero(again, sizeof again);
    }
    return 0;
}

int cli_read_new_password(const char *who, char *buf, size_t len, struct err *e)
{
    if (!isatty(STDIN_FILENO)) {
        int rc = read_line(stdin, buf, len);
        if (rc == -2)
            return too_long(len, e);
        if (rc != 0)
            return err_set(e, ERR_USAGE, "expected %s's password on standard input", who);
        return 0;
    }
    return cli_read_password("New password for ", who, false, true, buf, len, e);
}

/* Signs in with the API token $IOHEME_TOKEN (store/sessions.h): its user, who must be user when
 * one is named. No argon2id check and no "login" row: a token is a session already issued (and
 * audited as api_token), as on the API, where a request with a token writes none either. */
static int token_login(struct store *st, const char *token, const char *user, struct store_user *u,
                       struct err *e)
{
    if (store_session_verify(st, token, true, u, e) != 0)
        return e->code == ERR_AUTH ? err_set(e, ERR_AUTH,
                                             "IOHEME_TOKEN is no valid API token (unknown, "
                                             "revoked, expired, or its user is disabled or locked)")
                                   : e->code;
    if (user && *user && strcmp(user, u->name) != 0)
        return err_set(e, ERR_AUTH,
                       "IOHEME_TOKEN signs in %s, not %s: unset IOHEME_TOKEN, or give no user",
                       u->name, user);
    return 0;
}

int cli_login(struct store *st, const struct cli_args *a, enum perm_action action, bool is_renewal,
              struct store_ctx *who, char name_buf[STORE_USERNAME_MAX + 1], struct err *e)
{
    const char *user = cli_get(a, "user");
    if (!user || !*user)
        user = getenv("IOHEME_USER");
    /* a password given wins: `IOHEME_USER=pi IOHEME_PASSWORD=...` works beside a token */
    const char *token = getenv("IOHEME_TOKEN"), *pwenv = getenv("IOHEME_PASSWORD");
    struct store_user u; /* filled by a sign-in with the right password, expired or not */
    memset(&u, 0, sizeof u);
    int rc;
    if (token && *token && !(pwenv && *pwenv)) {
        rc = token_login(st, token, user, &u, e);
        user = u.name;
    } else if (!user || !*user) {
        return err_set(e, ERR_AUTH,
                       "who is acting? give --user NAME or set IOHEME_USER (or IOHEME_TOKEN)");
    } else {
        char pw[256];
        rc = cli_read_password("Password for ", user, true, false, pw, sizeof pw, e);
        /* The name as given, whatever its length (a longer one is nobody's, and its attempt is
         * audited like any other); name_buf holds it once it has signed in. */
        struct store_ctx as_given = {user, "cli", NULL, NULL};
        if (!rc)
            rc = store_authenticate(st, &as_given, user, pw, &u, e);
        sodium_memzero(pw, sizeof pw);
        if (rc == ERR_PASSWORD_EXPIRED && is_renewal)
            rc = 0; /* signed in to change it, and only that */
        else if (rc == ERR_PASSWORD_EXPIRED)
            fmt_text(e->msg + strlen(e->msg), sizeof e->msg - strlen(e->msg),
                     " with `ioheme user passwd %s`", user);
    }
    if (!rc && strlen(user) > STORE_USERNAME_MAX)
        rc = err_set(e, ERR_INTERNAL, "user name '%s' longer than %d characters", user,
                     STORE_USERNAME_MAX);
    struct store_ctx cli = {NULL, "cli", NULL, NULL};
    if (!rc) {
        memcpy(name_buf, user, strlen(user) + 1);
        cli.user = name_buf;
    }
    if (!rc && action != PERM_NONE)
        rc = store_authorize(st, &cli, action, e);
    enum role role;
    if (!rc && role_from_name(u.role, &role) == 0)
        /* identifier fields in clear for roles that may (keys.c); the user's sites (sites.c) */
        rc = store_set_reader(st, role, cli.user, e);
    /* --site CODE (the commands that take it): records created now belong to that site, and
     * reads see that site's records alone (a report, an export, a list by site) */
    const char *site = cli_get(a, "site");
    if (!rc && site) {
        cli.site = site;
        rc = store_set_site_filter(st, site, e);
    }
    if (!rc)
        *who = cli;
    return rc;
}

void cli_add_basename(struct strbuf *sb, const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    strbuf_add(sb, path + start, n - start);
}

int cli_audit_dataset_export(struct store *st, const struct store_ctx *who, const char *what,
                             const char *out, const struct adataset *ds, json_t *files,
                             struct err *e)
{
    struct strbuf sb = STRBUF_INIT;
    cli_add_basename(&sb, out);
    strbuf_addc(&sb, ':');
    for (size_t i = 0; i < ADS_NTABLES; i++)
        strbuf_addf(&sb, "%s %s %zu", i ? "," : "", derive_ads_names[i], derive_nrows(ds, (int)i));
    size_t k;
    json_t *f;
    json_array_foreach(files, k, f)
    {
        strbuf_addf(&sb, "%s %s %s", k ? "," : ";", json_string_value(json_object_get(f, "file")),
                    json_string_value(json_object_get(f, "sha256")));
    }
    int rc = sb.failed ? err_set(e, ERR_NOMEM, "out of memory")
                       : store_audit_access(st, who, "export", what, strbuf_str(&sb), e);
    strbuf_release(&sb);
    return rc;
}

void cli_note_sites(struct store *st)
{
    struct strbuf sb = STRBUF_INIT;
    struct err e = {0};
    if (store_reads_sites(st, &sb, &e) == 0 && sb.len)
        (void)fprintf(stderr, "ioheme: note: %s only, not the whole study\n", strbuf_str(&sb));
    strbuf_release(&sb);
}

void cli_note_export_cache(const struct dataset_cache_stats *s)
{
    if (s->used && s->kept)
        printf("%zu record(s) unchanged since the last export taken from the export cache, %zu "
               "derived\n",
               s->kept, s->derived);
}

void cli_print_dataset_written(const char *dir, const struct adataset *ds)
{
    printf("wrote %s/:", dir);
    for (size_t i = 0; i < ADS_NTABLES; i++)
        printf("%s %s.csv (%zu rows)", i ? "," : "", derive_ads_names[i], derive_nrows(ds, (int)i));
    printf(", dataset_dictionary.csv%s\n", ds->is_synthetic ? ", " DATASET_SYNTHETIC_FILE
                                                              " (SYNTHETIC data: a training/demo "
                                                              "database)"
                                                            : "");
    if (ds->nhidden_ignored)
        printf("left out %zu stored value(s) that branching logic hides ('ioheme quality' lists "
               "them)\n",
               ds->nhidden_ignored);
}

const char *cli_form_event(const struct dict *d, const char *form)
{
    int fi = dict_form_index(d, form);
    for (size_t ev = 0; fi >= 0 && ev < d->nevents; ev++)
        if (d->form_at_event[ev * d->nforms + (size_t)fi])
            return d->events[ev].name;
    return NULL;
}

int cli_parse_assignment(const struct dict *d, struct arena *ar, const char *arg, const char *event,
                         int instance, struct store_change *c, struct err *e)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return err_set(e, ERR_USAGE, "'%s' is not field=value", arg);
    char *name = arena_strndup(ar, arg, (size_t)(eq - arg));
    if (!name)
        return err_set(e, ERR_NOMEM, "out of memory");
    /* REDCap logic's spelling of an option, field(code), is accepted as field___code */
    char *paren = strchr(name, '(');
    if (paren && name[strlen(name) - 1] == ')') {
        name[strlen(name) - 1] = '\0';
        *paren = '\0';
        name = arena_printf(ar, "%s___%s", name, paren + 1);
        if (!name)
            return err_set(e, ERR_NOMEM, "out of memory");
    }
    struct dict_key k;
    enum dict_key_kind kind = dict_key_parse(d, name, &k);
    memset(c, 0, sizeof *c);
    c->field = name;
    if (k.code) {
        c->field = arena_strdup(ar, k.name);
        if (!c->field)
            return err_set(e, ERR_NOMEM, "out of memory");
        c->code = *k.code ? k.code : NULL;
    }
    c->value = eq + 1;
    c->instance = instance;
    c->event = event;
    if (!event) {
        c->event = kind != DICT_KEY_UNKNOWN ? cli_form_event(d, k.form->name) : NULL;
        if (!c->event)
            return err_set_field(e, ERR_INVALID, name, "field '%s' is not in the dictionary", name);
    }
    return 0;
}

void cli_json_print(json_t *v)
{
    char *s = v ? json_out_dumps(v, JSON_INDENT(2)) : NULL;
    if (s)
        puts(s);
    free(s);
    json_decref(v);
}

void cli_print_issues(FILE *out, const struct store_put_result *res)
{
    for (size_t i = 0; res && i < res->nissues; i++) {
        const struct store_issue *is = &res->issues[i];
        (void)fprintf(out, "  %s %s: %s [%s]\n",
                      is->level == STORE_ISSUE_HARD ? "rejected" : "flagged", is->field, is->msg,
                      is->rule);
    }
}

int cli_fail_put(const char *cmd, const struct err *e, const struct store_put_result *res)
{
    int st = cli_fail(cmd, e);
    if (res && res->nissues > 1)
        cli_print_issues(stderr, res);
    return st;
}

int cli_parse_event_arg(const struct dict *d, struct arena *ar, const char *arg, const char **event,
                        int *instance, struct err *e)
{
    *event = NULL;
    *instance = 0;
    char *ev = arena_strdup(ar, arg);
    if (!ev)
        return err_set(e, ERR_NOMEM, "out of memory");
    char *colon = strchr(ev, ':');
    if (colon) {
        *colon = '\0';
        struct err ie = {0};
        if (dict_instance_parse(colon + 1, "instance", instance, &ie) != 0)
            return err_set(e, ERR_USAGE, "'%s' is not EVENT:INSTANCE: %s", arg, ie.msg);
    }
    const char *found = dict_event_find(d, ev);
    *event = found ? found : ev;
    return 0;
}
