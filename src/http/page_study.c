/* The study database page (/study): its state (available, frozen, locked with the lock's
 * identifier and audit head), the pre-lock checklist with each check's finding, and the
 * transitions the signed-in role may make. The router checks the permission of each POST and
 * the store decides whether the transition holds (store.h, "database freeze and lock"); this
 * page only renders and passes the form on. */
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "http/html.h"
#include "http/page.h"

static void state_line(struct req *r, const struct store_db_status *s)
{
    html_raw(r, "<p class=\"db-state\" id=\"db-state\">State: <strong>");
    html_text(r, store_db_state_name(s->state));
    html_raw(r, "</strong>");
    if (s->state == STORE_DB_AVAILABLE) {
        html_raw(r, " — data entry is open.</p>");
        return;
    }
    if (s->state == STORE_DB_FROZEN) {
        html_raw(r, " since ");
        html_text(r, s->frozen_at);
        html_raw(r, " (UTC) — no data entry; queries, SDV and signatures go on.</p>");
        return;
    }
    html_raw(r, " as <code class=\"lock-id\">");
    html_text(r, s->lock_id);
    html_raw(r, "</code> since ");
    html_text(r, s->locked_at);
    html_raw(r, " (UTC) — nothing changes. Audit head at the lock: <code class=\"lock-head\">");
    html_text(r, s->lock_head);
    html_raw(r, "</code></p>");
}

static void checklist_table(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_checklist cl;
    html_raw(r, "<section class=\"card\" id=\"checklist\"><h2>Pre-lock checklist</h2>");
    if (store_db_checklist(r->st, &cl, &e) != 0) {
        html_notice(r, "error", html_err_msg(r, &e));
        html_raw(r, "</section>");
        return;
    }
    html_raw(r, "<table class=\"list\"><thead><tr><th>Check</th><th>Result</th><th>Found</th>"
                "</tr></thead><tbody>");
    for (int i = 0; i < STORE_NCHECKS; i++) {
        const struct store_check *c = &cl.item[i];
        if (!c->name)
            continue;
        html_raw(r, c->passed ? "<tr class=\"check-passed\">" : "<tr class=\"check-failed\">");
        html_td(r, c->name);
        html_raw(r, c->passed ? "<td>✔ passed</td>" : "<td>✘ failed</td>");
        html_td(r, c->detail);
        html_raw(r, "</tr>");
    }
    html_raw(r, "</tbody></table><p id=\"checklist-result\">");
    html_raw(r, cl.passed ? "The checklist passes."
                          : "The checklist does not pass: locking needs "
                            "an override with a reason.");
    html_raw(r, "</p></section>");
}

/* One transition's form: what it asks (reason, override, password) and its button. */
static void step_form(struct req *r, const char *step, const char *title, const char *fields,
                      const char *button)
{
    html_raw(r, "<section class=\"card\"><form method=\"post\" action=\"/study/");
    html_raw(r, step);
    html_raw(r, "\" id=\"db-");
    html_raw(r, step);
    html_raw(r, "\"><h2>");
    html_raw(r, title);
    html_raw(r, "</h2>");
    html_csrf(r);
    html_raw(r, fields);
    html_raw(r, "<button class=\"primary\" type=\"submit\">");
    html_raw(r, button);
    html_raw(r, "</button></form></section>");
}

static void study_page(struct req *r, const char *error, const char *notice)
{
    struct err e;
    err_clear(&e);
    struct store_db_status s;
    html_begin(r, "Study database");
    html_raw(r, "<h1>Study database</h1>");
    if (error)
        html_notice(r, "error", error);
    if (notice)
        html_notice(r, "ok", notice);
    if (store_db_status(r->st, &s, &e) != 0) {
        html_notice(r, "error", html_err_msg(r, &e));
        html_end(r, NULL);
        return;
    }
    state_line(r, &s);
    checklist_table(r);
    page_signatures_section(r, NULL, NULL); /* the PI's db_lock_approval is signed here */
    if (s.state == STORE_DB_AVAILABLE && page_may(r, PERM_LOCK))
        step_form(r, "freeze", "Freeze the database",
                  "<label for=\"db-reason\">Reason (optional)</label>"
                  "<input id=\"db-reason\" name=\"reason\">",
                  "Freeze");
    if (s.state == STORE_DB_FROZEN && page_may(r, PERM_LOCK))
        step_form(r, "lock", "Lock the database",
                  "<label for=\"db-override\">Override reason (only when a check fails: it is "
                  "audited with what failed)</label><input id=\"db-override\" name=\"override\">",
                  "Lock");
    if (s.state == STORE_DB_FROZEN && page_may(r, PERM_UNLOCK))
        step_form(r, "unfreeze", "Unfreeze the database",
                  "<label for=\"db-unfreeze-reason\">Reason</label>"
                  "<input id=\"db-unfreeze-reason\" name=\"reason\" required>",
                  "Unfreeze");
    if (s.state == STORE_DB_LOCKED && page_may(r, PERM_UNLOCK)) {
        html_raw(r, "<p class=\"muted\">Unlocking needs a reason and your password again (");
        html_text(r, r->user.name);
        html_raw(r, ").</p>");
        step_form(r, "unlock", "Unlock the database",
                  "<label for=\"db-unlock-reason\">Reason</label>"
                  "<input id=\"db-unlock-reason\" name=\"reason\" required>"
                  "<label for=\"db-unlock-pw\">Your password</label><input id=\"db-unlock-pw\" "
                  "type=\"password\" name=\"password\" autocomplete=\"current-password\" required>",
                  "Unlock");
    }
    html_end(r, NULL);
}

int page_study(struct req *r)
{
    study_page(r, NULL, NULL);
    return 0;
}

static int study_post(struct req *r, const char *step)
{
    struct err e;
    err_clear(&e);
    struct store_ctx who = req_who(r);
    const char *reason = req_form_opt(r, "reason");
    int rc;
    if (strcmp(step, "freeze") == 0)
        rc = store_db_freeze(r->st, &who, reason, &e);
    else if (strcmp(step, "unfreeze") == 0)
        rc = store_db_unfreeze(r->st, &who, reason, &e);
    else if (strcmp(step, "sign") == 0)
        rc = store_sign(r->st, &who, req_form(r, "password"), req_form(r, "meaning"), NULL, NULL,
                        &e);
    else if (strcmp(step, "lock") == 0)
        rc = store_db_lock(r->st, &who, req_form_opt(r, "override"), NULL, &e);
    else if (!req_form_opt(r, "password"))
        rc = err_set_field(&e, ERR_INVALID, "password", "password is required to unlock");
    else
        rc = store_db_unlock(r->st, &who, req_form_opt(r, "password"), reason, &e);
    if (rc) {
        int status = err_info(e.code)->http_status;
        study_page(r, html_err_msg(r, &e), NULL);
        r->status = status == 401 ? 403 : status; /* a wrong password is not a sign-out */
        return 0;
    }
    return resp_redirect(r, "/study");
}

int page_study_freeze_post(struct req *r)
{
    return study_post(r, "freeze");
}

int page_study_unfreeze_post(struct req *r)
{
    return study_post(r, "unfreeze");
}

int page_study_sign_post(struct req *r)
{
    return study_post(r, "sign");
}

int page_study_lock_post(struct req *r)
{
    return study_post(r, "lock");
}

int page_study_unlock_post(struct req *r)
{
    return study_post(r, "unlock");
}
