/* The IO-procedure stopwatch: a tablet screen with large touch targets to mark the decision to
 * use IO, each attempt's start and end with its outcome, site and side, placement confirmed,
 * and the first infusion, showing the time elapsed since the decision.
 *
 * The page is only the frame: src/web/stopwatch.js loads the latest placement and its taps
 * from the stopwatch API (api_stopwatch.c), continues it, and sends each tap as an instant that
 * the server writes as the site's wall-clock into the protocol's IO placement (io_procedure)
 * and attempt (io_attempt) repeating forms; taps wait in localStorage until the server has
 * them. The field names used are the protocol's (iop_*, att_*); the page refuses to run when
 * the dictionary lacks them (io_state.c). */
#include "http/handlers.h"

#include <stdlib.h>
#include <string.h>

#include "formats/json_out.h"
#include "http/html.h"
#include "http/io_state.h"
#include "http/page.h"

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
    struct page_io_state io;
    if (page_io_load(r, store_record_name(&rec), &io, &e) != 0) {
        html_error_page(r, err_info(e.code)->http_status, html_err_msg(r, &e));
        return 0;
    }
    html_begin(r, arena_printf(&r->ar, "IO stopwatch %s", store_record_name(&rec)));
    page_record_heading(r, &rec, "IO procedure stopwatch");
    html_raw(r, "<div id=\"stopwatch\" class=\"stopwatch\" data-record=\"");
    html_text(r, store_record_name(&rec));
    html_raw(r, "\" data-csrf=\"");
    html_text(r, r->csrf);
    html_raw(r, "\" data-sites=\"");
    choices_json(r, dict_field(d, "att_site"));
    html_raw(r, "\" data-sides=\"");
    choices_json(r, dict_field(d, "att_side"));
    /* the state as the API gives it, so the first paint already shows the running clock */
    json_t *state = api_stopwatch_state(r, store_record_name(&rec), &io);
    char *js = state ? json_out_dumps(state, JSON_COMPACT) : NULL;
    json_decref(state);
    html_raw(r, "\" data-state=\"");
    html_text(r, js ? js : "null");
    free(js);
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
