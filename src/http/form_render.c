/* Forms from the dictionary: one input per field, chosen by field type and validation type,
 * with the field note as the unit, the choices, and data- attributes that src/web/form.js
 * reads for live branching logic, calc fields and range hints. The logic itself reaches the
 * browser as code in /forms/{form}/logic.js (page_form.c), never inline (the CSP forbids it).
 * A tablet gets inputmode=numeric/decimal for numbers, and every control is at least 44 px high
 * (app.css). */
#include "http/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fmt.h"
#include "core/validate.h"
#include "http/html.h"

static int value_cb(void *ctx, const struct store_value *v)
{
    struct req *r = ((void **)ctx)[0];
    struct page_values *pv = ((void **)ctx)[1];
    struct page_value *nv = arena_grow(&r->ar, pv->v, pv->n, &pv->cap, sizeof *nv, 64);
    if (!nv)
        return ERR_NOMEM;
    pv->v = nv;
    struct page_value *p = &pv->v[pv->n++];
    p->event = arena_strdup(&r->ar, v->event);
    p->instance = v->instance;
    p->field = arena_strdup(&r->ar, v->field);
    p->code = v->code ? arena_strdup(&r->ar, v->code) : NULL;
    p->value = arena_strdup(&r->ar, v->value ? v->value : "");
    p->flag = v->flag ? arena_strdup(&r->ar, v->flag) : NULL;
    p->version = v->version;
    return p->event && p->field && p->value ? 0 : ERR_NOMEM;
}

int page_values_load(struct req *r, const char *record, struct page_values *pv, struct err *e)
{
    memset(pv, 0, sizeof *pv);
    void *ctx[2] = {r, pv};
    int rc = store_record_values(r->st, record, value_cb, ctx, e);
    if (rc == ERR_NOMEM && e && !e->code)
        err_set(e, ERR_NOMEM, "out of memory");
    return rc;
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

const struct page_value *page_values_get(const struct page_values *pv, const char *event,
                                         int instance, const char *field, const char *code)
{
    for (size_t i = 0; pv && i < pv->n; i++) {
        const struct page_value *p = &pv->v[i];
        if (p->instance == instance && strcmp(p->field, field) == 0 && same(p->code, code) &&
            (!event || strcmp(p->event, event) == 0))
            return p;
    }
    return NULL;
}

/* True when the signed-in user's role holds action (core/perm.h decides). */
bool page_may(const struct req *r, enum perm_action act)
{
    enum role role;
    return r->has_user && role_from_name(r->user.role, &role) == 0 && perm_allows(role, act);
}

/* Form statuses -1 (no data), 0, 1, 2 in words and as a mark (page.h). */
static const struct {
    const char *label, *mark;
} form_statuses[] = {{"No data", "–"}, {"Incomplete", "…"}, {"Unverified", "?"}, {"Complete", "✓"}};

const char *page_status_label(int status)
{
    return form_statuses[status >= 0 && status <= 2 ? status + 1 : 0].label;
}

const char *page_status_mark(int status)
{
    return form_statuses[status >= 0 && status <= 2 ? status + 1 : 0].mark;
}

const char *page_record_status_label(enum store_record_status s)
{
    switch (s) {
    case STORE_REC_SCREENED:
        return "Screened";
    case STORE_REC_SCREEN_FAILURE:
        return "Screen failure";
    case STORE_REC_ENROLLED:
        return "Enrolled";
    case STORE_REC_WITHDRAWN:
        return "Withdrawn";
    }
    return "Unknown";
}

void page_record_heading(struct req *r, const struct store_record *rec, const char *subtitle)
{
    html_raw(r, "<div class=\"rec-head\"><h1><a href=\"/records/");
    html_url(r, store_record_name(rec));
    html_raw(r, "\">");
    html_text(r, store_record_name(rec));
    html_raw(r, "</a>");
    if (rec->study_id[0]) {
        html_raw(r, " <span class=\"muted\">(");
        html_text(r, rec->screening_no);
        html_raw(r, ")</span>");
    }
    html_raw(r, "</h1><span class=\"badge st-");
    html_text(r, store_record_status_name(rec->status));
    html_raw(r, "\">");
    html_text(r, page_record_status_label(rec->status));
    html_raw(r, "</span>");
    if (rec->is_locked)
        html_raw(r, " <span class=\"badge locked\">locked</span>");
    if (subtitle) {
        html_raw(r, "<p class=\"subtitle\">");
        html_text(r, subtitle);
        html_raw(r, "</p>");
    }
    html_raw(r, "</div>");
}

/* ---- what the page showed: a save changes only what the user changed ----
 * Each input goes out with a hidden "__orig.KEY" holding the value stored when the page was made
 * (KEY: the field, or field___code for a checkbox option; "__orig.__status" for the form
 * status). A save sends as changes only the inputs the user altered, each with that value as
 * store_change.expect: a value someone else saved meanwhile is neither overwritten by an input
 * the user left alone nor silently replaced by one they changed (the store refuses that save,
 * "conflict", and the page shows what is stored now). */

/* What the posted page said KEY held when it was made, or NULL (a page without it). */
static const char *posted_orig(struct req *r, const char *key)
{
    char name[320];
    return fmt_fits(name, sizeof name, "__orig.%s", key) ? req_form(r, name) : NULL;
}

/* Whether text a and b are the same but for the CR a browser puts before each LF of a
 * textarea's value. */
static bool same_but_cr(const char *a, const char *b)
{
    for (;;) {
        if (*a == '\r' && a[1] == '\n')
            a++;
        if (*b == '\r' && b[1] == '\n')
            b++;
        if (*a != *b)
            return false;
        if (!*a)
            return true;
        a++, b++;
    }
}

/* Whether posted, from an input of field f that showed stored value orig, leaves it as it was:
 * the same text, orig as the form showed it (a date of a _dmy / _mdy field), or the same but
 * for a textarea's CRs; an unticked checkbox option is "0" or no value. */
static bool left_as_shown(const struct dict_field *f, const char *posted, const char *orig)
{
    posted = posted ? posted : "";
    if (same_but_cr(posted, orig))
        return true;
    if (f->type == FT_CHECKBOX)
        return strcmp(posted, "0") == 0 && !*orig;
    char shown[32];
    return validate_display(f->vtype, orig, shown, sizeof shown) && strcmp(posted, shown) == 0;
}

/* The key of field f (option code, or NULL) as the form posts it, into key[300]. */
static const char *post_key(const struct dict_field *f, const char *code, char key[300])
{
    if (code)
        return dict_key_format(f->name, code, key, 300);
    return fmt_fits(key, 300, "%s", f->name) ? key : NULL;
}

/* What the request posted for field f (option code, or NULL): a checkbox option "1" or "0". */
static const char *posted_value(struct req *r, const struct dict_field *f, const char *code)
{
    char key[300];
    if (code)
        return post_key(f, code, key) && req_form(r, key) ? "1" : "0";
    return req_form(r, f->name);
}

/* Whether the posted form left field f (option code, or NULL) as the page showed it: such an
 * input is no change, and after a refused save it shows what is stored now. */
static bool form_post_left_as_shown(struct req *r, const struct dict_field *f, const char *code)
{
    char key[300];
    const char *orig = post_key(f, code, key) ? posted_orig(r, key) : NULL;
    return orig && left_as_shown(f, posted_value(r, f, code), orig);
}

/* The value to show for field f (code for checkbox options): after a refused save, what the
 * user changed as they typed it, and what they left alone as it is stored now. */
static const char *shown(struct req *r, const struct form_source *src, const struct dict_field *f,
                         const char *code, const char **flag)
{
    *flag = NULL;
    if (src->from_post && !form_post_left_as_shown(r, f, code))
        return posted_value(r, f, code);
    const struct page_value *p =
        page_values_get(src->stored, src->event, src->instance, f->name, code);
    if (!p)
        return NULL;
    *flag = p->flag;
    return p->value;
}

bool form_is_conflict(const struct store_put_result *res, const char *key)
{
    for (size_t i = 0; res && i < res->nissues; i++)
        if (strcmp(res->issues[i].rule, "conflict") == 0 && strcmp(res->issues[i].field, key) == 0)
            return true;
    return false;
}

/* The hidden __orig input of field f (option code, or NULL): the value stored now, except for
 * an input the user changed before a refused save and that was not in conflict — that one is
 * still judged against what they first saw. */
static void orig_input(struct req *r, const struct dict_field *f, const char *code,
                       const struct form_source *src)
{
    char key[300];
    if (!post_key(f, code, key))
        return;
    const char *orig = src->from_post ? posted_orig(r, key) : NULL;
    if (!orig || left_as_shown(f, posted_value(r, f, code), orig) ||
        form_is_conflict(src->res, key)) {
        const struct page_value *p =
            page_values_get(src->stored, src->event, src->instance, f->name, code);
        orig = p ? p->value : "";
    }
    html_raw(r, "<input type=\"hidden\" name=\"__orig.");
    html_text(r, key);
    html_raw(r, "\" value=\"");
    html_text(r, orig);
    html_raw(r, "\">");
}

/* The issue the last save reported for field (any option of a checkbox), or NULL. */
static const struct store_issue *issue_for(struct req *r, const struct form_source *src,
                                           const char *field)
{
    const struct dict *d = store_dict(r->st);
    for (size_t i = 0; src->res && i < src->res->nissues; i++) {
        struct dict_key k;
        dict_key_parse(d, src->res->issues[i].field, &k);
        if (strcmp(k.name, field) == 0)
            return &src->res->issues[i];
    }
    return NULL;
}

static const char *inputmode(enum val_type t)
{
    switch (t) {
    case VT_INTEGER:
        return "numeric";
    case VT_NUMBER:
    case VT_NUMBER_1DP:
    case VT_NUMBER_2DP:
    case VT_NUMBER_3DP:
    case VT_NUMBER_4DP:
        return "decimal";
    case VT_PHONE:
        return "tel";
    case VT_EMAIL:
        return "email";
    default:
        return NULL;
    }
}

static void attr(struct req *r, const char *name, const char *value)
{
    if (!value)
        return;
    html_raw(r, " ");
    html_raw(r, name);
    html_raw(r, "=\"");
    html_text(r, value);
    html_raw(r, "\"");
}

static void choice_inputs(struct req *r, const struct dict_field *f, const char *type,
                          const struct form_source *src, bool readonly)
{
    html_raw(r, "<div class=\"choices\">");
    for (size_t i = 0; i < f->nchoices; i++) {
        const struct dict_choice *c = &f->choices[i];
        const char *flag, *v;
        bool checked;
        char name[300];
        if (type[0] == 'c') {
            v = shown(r, src, f, c->code, &flag);
            checked = v && strcmp(v, "1") == 0;
            if (!dict_key_format(f->name, c->code, name, sizeof name))
                continue; /* longer than any dictionary name */
        } else {
            v = shown(r, src, f, NULL, &flag);
            checked = v && strcmp(v, c->code) == 0;
            fmt_exact(name, sizeof name, "%s", f->name); /* names <= 100 */
        }
        const char *id = arena_printf(&r->ar, "i-%s-%s", f->name, c->code);
        html_raw(r, "<label class=\"choice\"><input type=\"");
        html_raw(r, type[0] == 'c' ? "checkbox" : "radio");
        html_raw(r, "\"");
        attr(r, "name", name);
        attr(r, "id", id);
        attr(r, "value", type[0] == 'c' ? "1" : c->code);
        if (checked)
            html_raw(r, " checked");
        if (readonly)
            html_raw(r, " disabled");
        html_raw(r, "><span>");
        html_text(r, c->label);
        html_raw(r, "</span></label>");
    }
    html_raw(r, "</div>");
}

/* After a conflict: what field f holds now, as its input would show it. */
static void conflict_now(struct req *r, const struct dict_field *f, const struct form_source *src)
{
    html_raw(r, " Stored now: ");
    size_t n = 0;
    for (size_t i = 0; i < (f->type == FT_CHECKBOX ? f->nchoices : 1); i++) {
        const char *code = f->type == FT_CHECKBOX ? f->choices[i].code : NULL;
        const struct page_value *p =
            page_values_get(src->stored, src->event, src->instance, f->name, code);
        if (!p || !p->value[0] || (code && strcmp(p->value, "1") != 0))
            continue;
        const char *label = code ? f->choices[i].label : dict_choice_label(f, p->value);
        char shown[32];
        if (!label && validate_display(f->vtype, p->value, shown, sizeof shown))
            label = shown;
        html_raw(r, n++ ? ", " : "“");
        html_text(r, label ? label : p->value);
    }
    html_raw(r, n ? "”." : "nothing (blank).");
}

static void render_field(struct req *r, const struct dict_field *f, const struct form_source *src)
{
    if (f->section_header && *f->section_header) {
        html_raw(r, "<h2 class=\"section\">");
        html_text(r, f->section_header);
        html_raw(r, "</h2>");
    }
    const char *flag = NULL;
    const char *value = f->type == FT_CHECKBOX ? NULL : shown(r, src, f, NULL, &flag);
    const struct store_issue *iss = issue_for(r, src, f->name);
    bool readonly = f->is_readonly || f->type == FT_CALC;
    bool grouped = f->type == FT_RADIO || f->type == FT_YESNO || f->type == FT_TRUEFALSE ||
                   f->type == FT_CHECKBOX;

    html_raw(r, grouped ? "<fieldset" : "<div");
    html_raw(r, " class=\"field");
    if (f->is_hidden)
        html_raw(r, " hidden-tag");
    if (iss)
        html_raw(r, iss->level == STORE_ISSUE_HARD ? " has-error" : " has-warning");
    else if (flag)
        html_raw(r, " has-warning");
    html_raw(r, "\"");
    attr(r, "id", arena_printf(&r->ar, "f-%s", f->name));
    attr(r, "data-field", f->name);
    attr(r, "data-type", dict_field_type_name(f->type));
    if (f->branching)
        html_raw(r, " data-branching=\"1\"");
    if (f->type == FT_CALC)
        html_raw(r, " data-calc=\"1\"");
    if (f->vtype != VT_NONE)
        attr(r, "data-validation", dict_val_type_name(f->vtype));
    /* as written: "today" / "now" are read on the site's clock (form.js) */
    attr(r, "data-min", dict_field_bound(f, false));
    attr(r, "data-max", dict_field_bound(f, true));
    if (f->force_minmax)
        html_raw(r, " data-hard-range=\"1\"");
    html_raw(r, ">");

    html_raw(r, grouped ? "<legend>" : "<label");
    if (!grouped) {
        attr(r, "for", arena_printf(&r->ar, "i-%s", f->name));
        html_raw(r, ">");
    }
    html_text(r, f->label);
    if (f->is_required)
        html_raw(r, " <span class=\"req\" title=\"required\">*</span>");
    html_raw(r, grouped ? "</legend>" : "</label>");
    if (!src->from_post && src->stored && f->type != FT_DESCRIPTIVE && req_param(r, "id")) {
        html_raw(r, "<a class=\"hist\" href=\"/records/");
        html_url(r, req_param(r, "id"));
        html_raw(r, "/history/");
        html_text(r, f->name);
        html_raw(r, "\" aria-label=\"history of ");
        html_text(r, f->label);
        html_raw(r, "\">history</a>");
    }

    const char *id = arena_printf(&r->ar, "i-%s", f->name);
    switch (f->type) {
    case FT_NOTES:
        html_raw(r, "<textarea");
        attr(r, "id", id);
        attr(r, "name", f->name);
        html_raw(r, " rows=\"3\"");
        if (readonly)
            html_raw(r, " readonly");
        html_raw(r, ">");
        html_text(r, value ? value : "");
        html_raw(r, "</textarea>");
        break;
    case FT_DROPDOWN:
        html_raw(r, "<select");
        attr(r, "id", id);
        attr(r, "name", f->name);
        if (readonly)
            html_raw(r, " disabled");
        html_raw(r, "><option value=\"\"></option>");
        for (size_t i = 0; i < f->nchoices; i++) {
            html_raw(r, "<option");
            attr(r, "value", f->choices[i].code);
            if (value && strcmp(value, f->choices[i].code) == 0)
                html_raw(r, " selected");
            html_raw(r, ">");
            html_text(r, f->choices[i].label);
            html_raw(r, "</option>");
        }
        html_raw(r, "</select>");
        break;
    case FT_RADIO:
    case FT_YESNO:
    case FT_TRUEFALSE:
        choice_inputs(r, f, "radio", src, readonly);
        if (!readonly)
            html_raw(r, "<button type=\"button\" class=\"link clear\">clear</button>");
        break;
    case FT_CHECKBOX:
        choice_inputs(r, f, "checkbox", src, readonly);
        break;
    case FT_DESCRIPTIVE:
        break;
    default: /* text, calc, slider, file (entered as text) */
        html_raw(r, "<input type=\"text\"");
        attr(r, "id", id);
        attr(r, "name", f->type == FT_CALC ? NULL : f->name);
        char shown[32]; /* a date of a _mdy / _dmy field in its own order; stored ISO */
        attr(r, "value",
             value && validate_display(f->vtype, value, shown, sizeof shown) ? shown
             : value                                                         ? value
                                                                             : "");
        attr(r, "inputmode", inputmode(f->vtype));
        attr(r, "placeholder", validate_entry_shape(f->vtype));
        html_raw(r, " autocomplete=\"off\"");
        if (readonly)
            html_raw(r, " readonly");
        html_raw(r, ">");
        /* a date, date-time or time of day (not a duration, MM:SS), unless @HIDEBUTTON */
        if (!readonly && !f->hide_button && validate_entry_shape(f->vtype) &&
            f->vtype != VT_TIME_MM_SS)
            html_raw(r, "<button type=\"button\" class=\"now\">Now</button>");
        break;
    }
    if (f->note && *f->note) {
        html_raw(r, "<span class=\"note\">");
        html_text(r, f->note);
        html_raw(r, "</span>");
    }
    /* the value each input showed, posted back with it (above); a read-only input posts none */
    if (!readonly && f->type != FT_DESCRIPTIVE) {
        if (f->type == FT_CHECKBOX)
            for (size_t i = 0; i < f->nchoices; i++)
                orig_input(r, f, f->choices[i].code, src);
        else
            orig_input(r, f, NULL, src);
    }
    html_raw(r, "<p class=\"msg\" aria-live=\"polite\">");
    if (iss)
        html_text(r, iss->msg);
    if (iss && strcmp(iss->rule, "conflict") == 0)
        conflict_now(r, f, src);
    else if (flag) {
        const char *lo = dict_field_bound(f, false), *hi = dict_field_bound(f, true);
        html_text(r, arena_printf(&r->ar,
                                  "Saved, flagged for review: outside the expected range"
                                  " %s–%s.",
                                  lo ? lo : "", hi ? hi : ""));
    }
    html_raw(r, "</p>");
    html_raw(r, grouped ? "</fieldset>" : "</div>");
}

void form_render_fields(struct req *r, const struct dict_form *fm, const struct form_source *src)
{
    const struct dict *d = store_dict(r->st);
    for (size_t i = 0; i < fm->nfields; i++) {
        const struct dict_field *f = &d->fields[fm->first_field + i];
        if (fm->first_field + i == 0)
            continue; /* the record id is the store's, not a form input */
        render_field(r, f, src);
    }
}

int form_changes_from_post(struct req *r, const struct dict_form *fm, const char *event,
                           int instance, struct store_change **out, size_t *n, struct err *e)
{
    const struct dict *d = store_dict(r->st);
    size_t cap = 0;
    for (size_t i = 0; i < fm->nfields; i++) {
        const struct dict_field *f = &d->fields[fm->first_field + i];
        cap += f->type == FT_CHECKBOX ? f->nchoices : 1;
    }
    struct store_change *ch = arena_calloc(&r->ar, cap ? cap : 1, sizeof *ch);
    if (!ch)
        return err_set(e, ERR_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < fm->nfields; i++) {
        const struct dict_field *f = &d->fields[fm->first_field + i];
        if (fm->first_field + i == 0 || f->type == FT_CALC || f->type == FT_DESCRIPTIVE ||
            f->is_readonly)
            continue;
        if (f->type == FT_CHECKBOX) {
            for (size_t c = 0; c < f->nchoices; c++) {
                char kb[300];
                const char *key = dict_key_format(f->name, f->choices[c].code, kb, sizeof kb);
                if (form_post_left_as_shown(r, f, f->choices[c].code))
                    continue;
                ch[k++] = (struct store_change){.event = event,
                                                .instance = instance,
                                                .field = f->name,
                                                .code = f->choices[c].code,
                                                .value = key && req_form(r, key) ? "1" : "0",
                                                .expect = key ? posted_orig(r, key) : NULL};
            }
            continue;
        }
        if (form_post_left_as_shown(r, f, NULL))
            continue;
        const char *v = req_form(r, f->name);
        ch[k++] = (struct store_change){.event = event,
                                        .instance = instance,
                                        .field = f->name,
                                        .value = v ? v : "",
                                        .expect = posted_orig(r, f->name)};
    }
    *out = ch;
    *n = k;
    return 0;
}
