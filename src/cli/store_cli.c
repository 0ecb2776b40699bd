/* Shared by the study commands: database, login, passwords, `field=value` arguments. */
#include "cli/store_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "base/strbuf.h"
#include "core/derive.h"
#include "formats/json_out.h"

int cli_store_open(const struct cli_args *a, struct store **st, struct err *e)
{
    return store_open(cli_db_path(a), st, e);
}

/* One line from f without its newline. */
static int read_line(FILE *f, char *buf, size_t len)
{
    if (!fgets(buf, (int)len, f))
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

static int tty_password(const char *prompt, char *buf, size_t len)
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
    fputs(prompt, tty);
    fflush(tty);
    int rc = read_line(tty, buf, len);
    if (echo_off)
        tcsetattr(fd, TCSAFLUSH, &old);
    fclose(tty);
    return rc;
}

int cli_read_password(const char *prompt, bool env_ok, bool confirm, char *buf, size_t len,
                      struct err *e)
{
    const char *env = env_ok ? getenv("IOHEME_PASSWORD") : NULL;
    if (env) {
        snprintf(buf, len, "%s", env);
        return 0;
    }
    if (tty_password(prompt, buf, len) != 0)
        return err_set(e, ERR_AUTH, "no password: set IOHEME_PASSWORD or run on a terminal");
    if (confirm) {
        char again[256];
        if (tty_password("Again: ", again, sizeof again) != 0 || strcmp(again, buf) != 0) {
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
        if (read_line(stdin, buf, len) != 0)
            return err_set(e, ERR_USAGE, "expected %s's password on standard input", who);
        return 0;
    }
    char prompt[128];
    snprintf(prompt, sizeof prompt, "New password for %s: ", who);
    return cli_read_password(prompt, false, true, buf, len, e);
}

int cli_login(struct store *st, const struct cli_args *a, enum perm_action action,
              struct store_ctx *who, char name_buf[STORE_USERNAME_MAX + 1], struct err *e)
{
    const char *user = cli_get(a, "user");
    if (!user || !*user)
        user = getenv("IOHEME_USER");
    if (!user || !*user)
        return err_set(e, ERR_AUTH, "who is acting? give --user NAME or set IOHEME_USER");
    snprintf(name_buf, STORE_USERNAME_MAX + 1, "%s", user);
    char pw[256], prompt[96];
    snprintf(prompt, sizeof prompt, "Password for %s: ", name_buf);
    int rc = cli_read_password(prompt, true, false, pw, sizeof pw, e);
    struct store_ctx cli = {name_buf, "cli", NULL};
    if (!rc)
        rc = store_authenticate(st, &cli, name_buf, pw, NULL, e);
    sodium_memzero(pw, sizeof pw);
    if (!rc && action != PERM_NONE)
        rc = store_authorize(st, &cli, action, e);
    if (!rc)
        *who = cli;
    return rc;
}

int cli_open_as(const struct cli_args *a, enum perm_action action, struct store **st,
                struct store_ctx *who, char name_buf[STORE_USERNAME_MAX + 1], struct err *e)
{
    *st = NULL;
    int rc = cli_store_open(a, st, e);
    if (!rc)
        rc = cli_login(*st, a, action, who, name_buf, e);
    if (rc) {
        store_close(*st);
        *st = NULL;
    }
    return rc;
}

const char *cli_basename(const char *path, char *buf, size_t len)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(buf, len, "%.*s", (int)(n - start), path + start);
    return buf;
}

int cli_audit_dataset_export(struct store *st, const struct store_ctx *who, const char *what,
                             const char *out, const struct adataset *ds, struct err *e)
{
    char name[256];
    struct strbuf sb = STRBUF_INIT;
    strbuf_addf(&sb, "%s:", cli_basename(out, name, sizeof name));
    for (size_t i = 0; i < ADS_NTABLES; i++)
        strbuf_addf(&sb, "%s %s %zu", i ? "," : "", derive_ads_names[i], ds->t[i].nrows);
    int rc = sb.failed ? err_set(e, ERR_NOMEM, "out of memory")
                       : store_audit_access(st, who, "export", what, strbuf_str(&sb), e);
    strbuf_release(&sb);
    return rc;
}

void cli_print_dataset_written(const char *dir, const struct adataset *ds)
{
    printf("wrote %s/:", dir);
    for (size_t i = 0; i < ADS_NTABLES; i++)
        printf("%s %s.csv (%zu rows)", i ? "," : "", derive_ads_names[i], ds->t[i].nrows);
    printf(", dataset_dictionary.csv\n");
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
        fprintf(out, "  %s %s: %s [%s]\n", is->level == STORE_ISSUE_HARD ? "rejected" : "flagged",
                is->field, is->msg, is->rule);
    }
}

int cli_fail_put(const char *cmd, const struct err *e, const struct store_put_result *res)
{
    int st = cli_fail(cmd, e);
    if (res && res->nissues > 1)
        cli_print_issues(stderr, res);
    return st;
}
