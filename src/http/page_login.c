/* Sign-in and sign-out pages. The sign-in form posts username and password; a success starts a
 * cookie session (auth.c) and goes to the dashboard; a failure says only that the sign-in
 * failed (never which part was wrong) and after 5 failures the account is locked — both
 * decided and audited by the store. */
#include "http/handlers.h"

#include <string.h>

#include "http/html.h"

/* The sign-in form; is_expired: the password was right but has expired, so the form asks
 * for it again with a new one, twice. */
static void login_form(struct req *r, const char *user, const char *error, bool is_expired)
{
    html_begin(r, "Sign in");
    html_raw(r, "<section class=\"login card\"><h1>Sign in</h1>"
                "<p class=\"muted\">Application of Intraosseous Infusion in Hematologic Critical "
                "Patients</p>");
    if (error)
        html_notice(r, is_expired ? "warn" : "error", error);
    html_raw(r, "<form method=\"post\" action=\"/login\">"
                "<label for=\"username\">Username</label>"
                "<input id=\"username\" name=\"username\" type=\"text\" autocomplete=\"username\" "
                "autocapitalize=\"none\" spellcheck=\"false\" required value=\"");
    html_text(r, user ? user : "");
    html_raw(r, "\"><label for=\"password\">Password</label>"
                "<input id=\"password\" name=\"password\" type=\"password\" "
                "autocomplete=\"current-password\" required>");
    if (is_expired)
        html_raw(r, "<label for=\"new_password\">New password (8 characters or more, of two "
                    "kinds: letters, digits, others)</label>"
                    "<input id=\"new_password\" name=\"new_password\" type=\"password\" "
                    "minlength=\"8\" autocomplete=\"new-password\" required>"
                    "<label for=\"new_password2\">New password again</label>"
                    "<input id=\"new_password2\" name=\"new_password2\" type=\"password\" "
                    "minlength=\"8\" autocomplete=\"new-password\" required>");
    html_raw(r, is_expired ? "<button class=\"primary\" type=\"submit\">Change password and "
                             "sign in</button></form>"
                           : "<button class=\"primary\" type=\"submit\">Sign in</button></form>");
    html_raw(r, "<p class=\"muted small\">Sessions end after 30 minutes without activity. "
                "Five failed sign-ins lock the account until an administrator unlocks it.</p>"
                "</section>");
    html_end(r, NULL);
}

int page_login_get(struct req *r)
{
    if (r->has_user)
        return resp_redirect(r, "/");
    login_form(r, NULL, NULL, false);
    return 0;
}

int page_login_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    const char *user = req_form(r, "username");
    const char *npw = req_form_opt(r, "new_password"), *npw2 = req_form_opt(r, "new_password2");
    int rc = npw && (!npw2 || strcmp(npw, npw2) != 0)
                 ? err_set_field(&e, ERR_INVALID, "new_password", "the new passwords differ")
                 : auth_password(r, user, req_form(r, "password"), npw, &e);
    if (rc == 0)
        rc = auth_start_session(r, r->user.name, &e);
    if (rc) {
        r->has_user = false;
        /* the expired password was right: ask for a new one; a refused new one asks again */
        bool ask_new = e.code == ERR_PASSWORD_EXPIRED || (npw && e.code == ERR_INVALID);
        login_form(r, user,
                   e.code == ERR_AUTH ? "Sign-in failed: wrong username or password, "
                                        "or the account is locked or disabled."
                                      : html_err_msg(r, &e),
                   ask_new);
        r->status = err_info(e.code)->http_status;
        return 0;
    }
    return resp_redirect(r, "/");
}

int page_logout_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    if (auth_end_session(r, &e) != 0) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    return resp_redirect(r, "/login");
}
