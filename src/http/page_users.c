/* User administration page (admins): the list with lockout state, adding a user, unlocking a
 * locked-out account and disabling one. Every change is audited by the store. */
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "core/perm.h"
#include "http/html.h"

/* The role holding the fewest actions of the permission table: what "Add a user" offers
 * first, so an admin who does not choose gives the least. */
static enum role least_privileged_role(void)
{
    enum role best = ROLE__COUNT;
    int fewest = PERM__COUNT + 1;
    for (int ro = 0; ro < ROLE__COUNT; ro++) {
        int n = 0;
        for (int a = 0; a < PERM__COUNT; a++)
            n += perm_allows((enum role)ro, (enum perm_action)a);
        if (n < fewest) {
            fewest = n;
            best = (enum role)ro;
        }
    }
    return best;
}

static void users_page(struct req *r, const char *error, const char *notice)
{
    struct err e;
    err_clear(&e);
    struct store_user *users = NULL;
    size_t n = 0;
    html_begin(r, "Users");
    html_raw(r, "<h1>Users</h1>");
    if (error)
        html_notice(r, "error", error);
    if (notice)
        html_notice(r, "ok", notice);
    if (store_user_list(r->st, &users, &n, &e) != 0)
        html_notice(r, "error", html_err_msg(r, &e));
    const char *const cols[] = {"User",
                                "Role",
                                "State",
                                "Failed sign-ins",
                                arena_printf(&r->ar, "Created (%s)", html_time_zone(r)),
                                "Sites",
                                "Actions"};
    struct html_table t;
    html_table_begin(r, &t, "users", cols, 7);
    for (size_t i = 0; i < n; i++) {
        const struct store_user *u = &users[i];
        html_table_row(r, &t, NULL);
        html_cell(r, &t, u->name);
        html_cell(r, &t, u->role);
        html_cell(r, &t, u->is_disabled ? "disabled" : u->is_locked_out ? "locked out" : "active");
        html_cell(r, &t, arena_printf(&r->ar, "%d", u->failed_logins));
        html_cell(r, &t, html_time(r, u->created_at, false));
        struct strbuf sites = STRBUF_INIT; /* where they work (docs/sites.md) */
        struct err se;
        err_clear(&se);
        html_cell(r, &t,
                  store_user_sites_text(r->st, u->name, &sites, &se) == 0 ? strbuf_str(&sites)
                                                                          : se.msg);
        strbuf_release(&sites);
        html_cell_open(r, &t, "actions");
        if (!u->is_disabled) {
            html_raw(r, "<form method=\"post\" action=\"/users\" class=\"inline\">");
            html_csrf(r);
            html_raw(r, "<input type=\"hidden\" name=\"name\" value=\"");
            html_text(r, u->name);
            html_raw(r, "\">");
            if (u->is_locked_out)
                html_raw(r, "<button name=\"action\" value=\"unlock\">Unlock</button>");
            html_raw(r, "<button name=\"action\" value=\"disable\" class=\"danger\">Disable"
                        "</button></form>");
        }
        html_raw(r, "</td>");
        html_table_row_end(r, &t);
    }
    html_table_end(r, &t, NULL);
    free(users);
    html_raw(r, "</tbody></table><section class=\"card\"><h2>Add a user</h2>"
                "<form method=\"post\" action=\"/users\">");
    html_csrf(r);
    html_raw(
        r, "<input type=\"hidden\" name=\"action\" value=\"add\">"
           "<label for=\"u-name\">Username</label><input id=\"u-name\" name=\"name\" type=\"text\" "
           "required autocapitalize=\"none\" pattern=\"[a-z0-9_.\\-]{2,32}\">"
           "<label for=\"u-role\">Role</label><select id=\"u-role\" name=\"role\">");
    enum role dflt = least_privileged_role();
    for (int ro = 0; ro < ROLE__COUNT; ro++) {
        html_raw(r, ro == (int)dflt ? "<option selected>" : "<option>");
        html_text(r, role_name((enum role)ro));
        html_raw(r, "</option>");
    }
    html_raw(r, "</select><label for=\"u-pw\">Initial password (8 characters or more)</label>"
                "<input id=\"u-pw\" name=\"password\" type=\"password\" minlength=\"8\" "
                "autocomplete=\"new-password\" required><button class=\"primary\" "
                "type=\"submit\">Add user</button></form></section>");
    html_end(r, NULL);
}

int page_users(struct req *r)
{
    users_page(r, NULL, NULL);
    return 0;
}

int page_users_post(struct req *r)
{
    struct err e;
    err_clear(&e);
    const char *action = req_form(r, "action"), *name = req_form(r, "name");
    struct store_ctx who = req_who(r);
    int rc;
    if (!action || !name || !*name)
        rc = err_set(&e, ERR_INVALID, "name and action are required");
    else if (strcmp(action, "add") == 0)
        rc = store_user_add(r->st, &who, name, req_form(r, "role") ? req_form(r, "role") : "",
                            req_form(r, "password") ? req_form(r, "password") : "", &e);
    else if (strcmp(action, "unlock") == 0)
        rc = store_user_unlock(r->st, &who, name, &e);
    else if (strcmp(action, "disable") == 0)
        rc = store_user_disable(r->st, &who, name, &e);
    else
        rc = err_set(&e, ERR_INVALID, "unknown action");
    if (rc) {
        users_page(r, html_err_msg(r, &e), NULL);
        r->status = err_info(e.code)->http_status;
        return 0;
    }
    users_page(r, NULL, "Done.");
    return 0;
}
