/* Electronic signatures on the pages: the signature block of a casebook (every signature with
 * its printed name, UTC time and meaning, and whether it still holds), and signing from it —
 * the attestation shown, the password entered again. The store checks password, role and
 * what is signed (store.h, "electronic signatures"). */
#include "http/handlers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/html.h"
#include "http/page.h"

void page_signatures_section(struct req *r, const char *record, const char *error)
{
    struct err e;
    err_clear(&e);
    struct store_signature *g = NULL;
    size_t n = 0;
    const struct dict *d = store_dict(r->st);
    html_raw(r, "<section class=\"signatures\" id=\"signatures\"><h2>Signatures</h2>");
    if (error)
        html_notice(r, "error", error);
    int rc = store_signatures(r->st, record, &g, &n, &e);
    size_t kept = 0; /* the study's page lists the study signatures only */
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (record || !g[i].record[0])
            g[kept++] = g[i];
    n = kept;
    if (rc != 0) {
        html_notice(r, "error", html_err_msg(r, &e));
    } else if (n == 0) {
        html_raw(r, "<p class=\"muted\">Not signed.</p>");
    } else {
        html_raw(r, "<table class=\"list sigs\"><thead><tr><th>Meaning</th><th>Signed by</th>"
                    "<th>When</th><th>Status</th></tr></thead><tbody>");
        for (size_t i = 0; i < n; i++) {
            const struct dict_sig_meaning *m = dict_sig_meaning(d, g[i].meaning);
            html_raw(r, g[i].is_valid ? "<tr class=\"sig-valid\">" : "<tr class=\"sig-invalid\">");
            html_td(r, m ? m->label : g[i].meaning);
            html_raw(r, "<td>");
            html_text(r, g[i].printed_name);
            html_raw(r, " (");
            html_text(r, g[i].signer);
            html_raw(r, ")</td>");
            html_td(r, html_time_utc(r, g[i].signed_at));
            html_raw(r, "<td>");
            if (g[i].is_valid) {
                html_raw(r, "✔ valid");
            } else {
                html_raw(r, "✘ INVALID — ");
                html_text(r, g[i].invalidated_reason);
                html_raw(r, " (");
                html_text(r, html_time_utc(r, g[i].invalidated_at));
                html_raw(r, ")");
            }
            html_raw(r, "</td></tr>");
        }
        html_raw(r, "</tbody></table>");
    }
    free(g);
    if (page_may(r, PERM_SIGN)) {
        for (size_t i = 0; i < d->nsigs; i++) {
            const struct dict_sig_meaning *m = &d->sigs[i];
            if (m->scope != (record ? DICT_SIG_RECORD : DICT_SIG_STUDY) ||
                strcmp(m->role, r->user.role) != 0)
                continue;
            html_raw(r, "<form method=\"post\" class=\"qaction noprint\" action=\"");
            if (record) {
                html_raw(r, "/records/");
                html_url(r, record);
                html_raw(r, "/sign");
            } else {
                html_raw(r, "/study/sign");
            }
            html_raw(r, "\"><h3>Sign: ");
            html_text(r, m->label);
            html_raw(r, "</h3><p class=\"attestation\">");
            html_text(r, m->attestation);
            html_raw(r, "</p>");
            html_csrf(r);
            html_raw(r, "<input type=\"hidden\" name=\"meaning\" value=\"");
            html_text(r, m->name);
            html_raw(r, "\"><label for=\"sig-pw-");
            html_text(r, m->name);
            html_raw(r, "\">Your password, to sign as ");
            html_text(r, r->user.name);
            html_raw(r, "</label><input type=\"password\" autocomplete=\"current-password\" "
                        "name=\"password\" required id=\"sig-pw-");
            html_text(r, m->name);
            html_raw(r, "\"><button class=\"primary\" type=\"submit\">Sign</button></form>");
        }
    }
    html_raw(r, "</section>");
}

int page_sign_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    const char *record = req_param(r, "id");
    struct store_ctx who = req_who(r);
    const char *pw = req_form(r, "password");
    int rc = store_sign(r->st, &who, pw, req_form(r, "meaning"), record, NULL, &e);
    if (rc == 0)
        return resp_redirect(r, arena_printf(&r->ar, "/records/%s/casebook#signatures",
                                             http_url_encode(&r->ar, record)));
    /* back to the casebook with the reason: a wrong password is a refusal, not a sign-out */
    int status = err_info(e.code)->http_status;
    page_casebook_render(r, html_err_msg(r, &e));
    r->status = status == 401 ? 403 : status;
    return 0;
}
