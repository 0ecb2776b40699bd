/* Pages: locking and unlocking a record, or one form of it at one event and instance
 * (store_record_lock, store_form_lock). The lock state and its buttons — on the subject page
 * for the record, under a data-entry form for that form — for the roles that may; and the POSTs
 * the buttons send. The store decides; this file renders and redirects back. */
#include <string.h>

#include "http/handlers.h"
#include "http/html.h"
#include "http/page.h"

const struct store_form_lock *page_form_lock_find(const struct store_form_lock *fl, size_t n,
                                                  const char *event, const char *form, int instance)
{
    for (size_t i = 0; i < n; i++)
        if ((instance < 0 || fl[i].instance == instance) && strcmp(fl[i].form, form) == 0 &&
            strcmp(fl[i].event, event) == 0)
            return &fl[i];
    return NULL;
}

/* The form that posts a lock or unlock of the record (fm NULL) or of fm at (event, instance). */
static void lock_form(struct req *r, const struct store_record *rec, const char *event,
                      int instance, const struct dict_form *fm, bool lock)
{
    const char *what = fm ? "form" : "record";
    html_raw(r, "<form method=\"post\" class=\"lock\" action=\"/records/");
    html_url(r, store_record_name(rec));
    if (fm) {
        html_raw(r, "/forms/");
        html_text(r, event);
        html_raw(r, "/");
        html_text(r, fm->name);
    }
    html_raw(r, lock ? "/lock" : "/unlock");
    if (fm && instance)
        html_rawf(r, "?instance=%d", instance);
    html_raw(r, "\">");
    html_csrf(r);
    html_rawf(r,
              "<label>Reason%s <input type=\"text\" name=\"reason\" maxlength=\"500\"%s></label> ",
              lock ? " (optional)" : "", lock ? "" : " required");
    html_rawf(r, "<button type=\"submit\">%s this %s</button></form>", lock ? "Lock" : "Unlock",
              what);
}

void page_lock_section(struct req *r, const struct store_record *rec, const char *event,
                       int instance, const struct dict_form *fm, const struct store_form_lock *held)
{
    bool locked = fm ? held != NULL : rec->is_locked;
    bool may = page_may(r, locked ? PERM_UNLOCK : PERM_LOCK);
    if (fm && rec->is_locked) { /* the record's lock says it all; it is undone on its page */
        html_notice(r, "warn",
                    "This record is locked: no form of it can be changed until it "
                    "is unlocked (on the record's page).");
        return;
    }
    if (!locked && !may)
        return;
    html_raw(r, "<section class=\"lock-state\" id=\"lock\">");
    if (locked && fm) {
        html_raw(r, "<p class=\"notice warn\"><span aria-hidden=\"true\">&#128274;</span> This "
                    "form is locked (by ");
        html_text(r, held->locked_by);
        html_raw(r, ", ");
        html_text(r, html_time(r, held->locked_at, false));
        html_raw(r, "): it cannot be changed until it is unlocked.</p>");
    } else if (locked) {
        html_raw(r, "<p class=\"notice warn\"><span aria-hidden=\"true\">&#128274;</span> This "
                    "record is locked: none of its data can be changed until it is unlocked.</p>");
    }
    if (may)
        lock_form(r, rec, event, instance, fm, !locked);
    html_raw(r, "</section>");
}

/* A lock or unlock posted from a page; back to the page it came from. */
static int lock_post(struct req *r, bool is_form, bool lock)
{
    struct err e;
    err_clear(&e);
    const char *record = req_param(r, "id"), *reason = req_form_opt(r, "reason");
    const char *event = req_param(r, "event"), *form = req_param(r, "form");
    struct store_ctx who = req_who(r);
    int instance = 0, rc = 0;
    const char *inst = req_query(r, "instance");
    if (is_form && inst)
        rc = dict_instance_parse(inst, "instance", &instance, &e);
    if (!rc && is_form)
        rc = store_form_lock(r->st, &who, record, event, form, instance, lock, reason, &e);
    else if (!rc)
        rc = lock ? store_record_lock(r->st, &who, record, reason, &e)
                  : store_record_unlock(r->st, &who, record, reason, &e);
    if (rc) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    if (!is_form)
        return resp_redirect(r,
                             arena_printf(&r->ar, "/records/%s", http_url_encode(&r->ar, record)));
    char *back = arena_printf(&r->ar, "/records/%s/forms/%s/%s", http_url_encode(&r->ar, record),
                              event, form);
    if (instance)
        back = arena_printf(&r->ar, "%s?instance=%d", back, instance);
    return resp_redirect(r, back);
}

int page_record_lock_post(struct req *r)
{
    return lock_post(r, false, true);
}

int page_record_unlock_post(struct req *r)
{
    return lock_post(r, false, false);
}

int page_form_lock_post(struct req *r)
{
    return lock_post(r, true, true);
}

int page_form_unlock_post(struct req *r)
{
    return lock_post(r, true, false);
}
