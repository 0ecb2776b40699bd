/* The IO-procedure stopwatch: a tablet screen with large touch targets to mark the decision to
 * use IO, each attempt's start and end with its outcome, site and side, placement confirmed,
 * and the first infusion, showing the time elapsed since the decision.
 *
 * The page is only the frame: src/web/stopwatch.js keeps every mark in localStorage until the
 * server has confirmed it (a reload or a dropped connection loses nothing) and saves them
 * through the JSON API into the protocol's IO placement (io_procedure) and attempt
 * (io_attempt) repeating forms, whose instance numbers are fixed at the first save so a retry
 * rewrites the same instances. The field names used are the protocol's (iop_*, att_*); the page
 * refuses to run when the dictionary lacks them. */
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "formats/json_out.h"
#include "http/html.h"
#include "http/page.h"

static const char *const needed[] = {
    "iop_number",  "iop_decision_dt", "iop_site",         "iop_side",      "iop_n_attempts",
    "iop_success", "iop_confirm_dt",  "iop_inf_start_dt", "att_placement", "att_number",
    "att_site",    "att_side",        "att_start_dt",     "att_end_dt",    "att_outcome",
};

static void choices_json(struct req *r, const struct dict_field *f)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < f->nchoices; i++)
        json_array_append_new(a, json_pack("[s,s]", f->choices[i].code, f->choices[i].label));
    char *s = a ? json_out_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    html_text(r, s ? s : "[]");
    free(s);
}

int page_stopwatch(struct req *r)
{
    struct err e;
    err_clear(&e);
    struct store_record rec;
    const char *id = req_param(r, "id");
    if (store_record_get(r->st, id, &rec, &e) != 0) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    if (rec.status != STORE_REC_ENROLLED) {
        html_error_page(r, 409, "the stopwatch is for enrolled subjects; enrol the patient first");
        return 0;
    }
    const struct dict *d = store_dict(r->st);
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++)
        if (!dict_field(d, needed[i])) {
            html_error_page(r, 404, "this protocol has no IO procedure/attempt forms");
            return 0;
        }
    int fproc = dict_form_index(d, dict_field(d, "iop_number")->form);
    int fatt = dict_form_index(d, dict_field(d, "att_number")->form);
    const char *event = NULL;
    for (size_t ev = 0; ev < d->nevents && !event; ev++)
        if (d->form_at_event[ev * d->nforms + (size_t)fatt])
            event = d->events[ev].name;
    int next_proc = 1, next_att = 1;
    if (!event ||
        store_next_instance(r->st, store_record_name(&rec), event, d->forms[fproc].name, &next_proc,
                            &e) != 0 ||
        store_next_instance(r->st, store_record_name(&rec), event, d->forms[fatt].name, &next_att,
                            &e) != 0) {
        html_error_page(r, err_info(e.code ? e.code : ERR_NOT_FOUND)->http_status,
                        e.msg[0] ? e.msg : "no event collects the IO attempt form");
        return 0;
    }
    html_begin(r, arena_printf(&r->ar, "IO stopwatch %s", store_record_name(&rec)));
    page_record_heading(r, &rec, "IO procedure stopwatch");
    html_raw(r, "<div id=\"stopwatch\" class=\"stopwatch\" data-record=\"");
    html_text(r, store_record_name(&rec));
    html_raw(r, "\" data-event=\"");
    html_text(r, event);
    html_raw(r, "\" data-csrf=\"");
    html_text(r, r->csrf);
    html_rawf(r, "\" data-next-placement=\"%d\" data-next-attempt=\"%d\" data-sites=\"", next_proc,
              next_att);
    choices_json(r, dict_field(d, "att_site"));
    html_raw(r, "\" data-sides=\"");
    choices_json(r, dict_field(d, "att_side"));
    html_raw(r, "\">"
                "<div class=\"clock\" aria-live=\"off\"><span class=\"clock-label\">since decision"
                "</span><span id=\"elapsed\" class=\"elapsed\">--:--</span></div>"
                "<p id=\"phase\" class=\"phase\" aria-live=\"polite\"></p>"
                "<div class=\"pick\"><p class=\"pick-label\" id=\"site-label\">Site</p>"
                "<div id=\"sites\" class=\"seg\" role=\"group\" aria-labelledby=\"site-label\">"
                "</div><p class=\"pick-label\" id=\"side-label\">Side</p><div id=\"sides\" "
                "class=\"seg\" role=\"group\" aria-labelledby=\"side-label\"></div></div>"
                "<div class=\"marks\">"
                "<button type=\"button\" class=\"mark\" data-mark=\"decision\">Decision to use IO"
                "</button>"
                "<button type=\"button\" class=\"mark\" data-mark=\"start\">Skin puncture — "
                "attempt starts</button>"
                "<button type=\"button\" class=\"mark ok\" data-mark=\"success\">Attempt "
                "succeeded</button>"
                "<button type=\"button\" class=\"mark bad\" data-mark=\"failure\">Attempt "
                "failed</button>"
                "<button type=\"button\" class=\"mark\" data-mark=\"confirmed\">Placement "
                "confirmed</button>"
                "<button type=\"button\" class=\"mark\" data-mark=\"infusion\">First infusion "
                "started</button></div>"
                "<ol id=\"log\" class=\"log\"></ol>"
                "<div class=\"savebar\"><button type=\"button\" id=\"undo\">Undo last mark</button>"
                "<button type=\"button\" id=\"save\" class=\"primary\">Save to the record</button>"
                "<button type=\"button\" id=\"reset\" class=\"danger\">New placement</button></div>"
                "<p id=\"sync\" class=\"sync\" role=\"status\"></p></div>");
    static const char *const scripts[] = {"stopwatch.js", NULL};
    html_end(r, scripts);
    return 0;
}
