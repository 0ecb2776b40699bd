/* `ioheme sign`: electronic signatures — sign a record's casebook or the study with a meaning
 * from the protocol (signatures.csv), re-entering the password; list signatures and whether
 * each still holds. The store checks the password, the role and what is signed (store.h,
 * "electronic signatures"). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/store_cli.h"
#include "formats/json_out.h"

const char CMD_SIGN_USAGE[] =
    "usage: ioheme sign RECORD --meaning MEANING\n"
    "       ioheme sign --study --meaning MEANING\n"
    "       ioheme sign --list [--record RECORD] [--json]\n"
    "\n"
    "Signs electronically, as the acting user, with a meaning defined in the protocol's\n"
    "signatures.csv (e.g. casebook_review: the investigator's review of a record's casebook;\n"
    "db_lock_approval: signed for the whole study). The attestation is printed, and the\n"
    "password is asked again (from $IOHEME_PASSWORD when set); a wrong one counts toward the\n"
    "lockout. The signature stores the signer, the printed name, the UTC time, the meaning\n"
    "and the SHA-256 of exactly what was signed. Any later change to the signed record\n"
    "invalidates it (audited; sign again). --list shows every signature and whether it holds.\n"
    "\n"
    "  --meaning M     the signature's meaning (signatures.csv)\n"
    "  --study         sign for the whole study (a meaning with scope study)\n"
    "  --list          list signatures (of RECORD with --record)\n"
    "  --db FILE --user NAME --json   as for every command\n";

const struct cli_opt_spec cmd_sign_opts[] = {STORE_CLI_COMMON_OPTS, {"meaning", true},
                                             {"study", false},      {"list", false},
                                             {"record", true},      {NULL, false}};

int cmd_sign_check(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (cli_has(a, "list")) {
        if (a->npos)
            return cli_usage_error("sign", "--list takes no RECORD (use --record)");
        ctx->action = PERM_DATA_READ;
        return 0;
    }
    if (!cli_get(a, "meaning"))
        return cli_usage_error("sign", "--meaning MEANING is required");
    if (cli_has(a, "study") ? a->npos != 0 : a->npos != 1)
        return cli_usage_error("sign", "expects one RECORD, or --study");
    ctx->action = PERM_SIGN;
    return 0;
}

static int sign_list(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    struct err e = {0};
    struct store_signature *g = NULL;
    size_t n = 0;
    if (store_signatures(ctx->st, cli_get(a, "record"), &g, &n, &e))
        return cli_fail("sign --list", &e);
    if (cli_has(a, "json")) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_out_signature(&g[i]));
        cli_json_print(arr);
    } else {
        for (size_t i = 0; i < n; i++) {
            printf("%-4lld %-9s %-20s %-24s %s  %s\n", g[i].id,
                   g[i].record[0] ? g[i].record : "(study)", g[i].meaning, g[i].printed_name,
                   g[i].signed_at, g[i].is_valid ? "valid" : "INVALID");
            if (!g[i].is_valid)
                printf("     invalidated %s: %s\n", g[i].invalidated_at, g[i].invalidated_reason);
        }
        printf("%zu signature(s)\n", n);
    }
    free(g);
    return 0;
}

int cmd_sign(struct cmd_ctx *ctx)
{
    const struct cli_args *a = &ctx->args;
    if (cli_has(a, "list"))
        return sign_list(ctx);
    const struct dict_sig_meaning *m = dict_sig_meaning(store_dict(ctx->st), cli_get(a, "meaning"));
    if (m && !cli_has(a, "json"))
        printf("Signing: %s\n%s\n", m->label, m->attestation);
    struct err e = {0};
    char pw[256];
    if (cli_read_password("Password to sign as ", ctx->who.user, true, false, pw, sizeof pw, &e))
        return cli_fail("sign", &e);
    long long id = 0;
    const char *record = cli_has(a, "study") ? NULL : a->pos[0];
    int rc = store_sign(ctx->st, &ctx->who, pw, cli_get(a, "meaning"), record, &id, &e);
    sodium_memzero(pw, sizeof pw);
    if (rc)
        return cli_fail("sign", &e);
    if (cli_has(a, "json"))
        cli_json_print(json_pack("{s:I, s:s, s:o}", "id", (json_int_t)id, "meaning",
                                 cli_get(a, "meaning"), "record",
                                 record ? json_string(record) : json_null()));
    else
        printf("signature %lld: %s signed %s\n", id, ctx->who.user, record ? record : "the study");
    return 0;
}
