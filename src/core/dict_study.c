/* The protocol loader, ioheme's own files: study.csv (the study's facts: target enrolment, the
 * schedule's anchor), schedule.csv (when each event falls due after the anchor) and sdv.csv (the
 * source data verification plan). All are optional; their defaults, described in dict.h, are the
 * facts the engine had built in before the files existed, so databases created then open with the
 * same dashboard.
 *
 * Errors go through dict_add_error like the other files' ("study.csv:3:2: unknown field
 * 'att_start'"), so `ioheme protocol check` lists them with the rest. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "core/dict_int.h"
#include "core/perm.h"

#define MIN_PER_DAY 1440LL

/* ---- study.csv ---- */

enum study_key {
    K_TARGET,
    K_ANCHOR_FIELD,
    K_ANCHOR_RULE,
    K_FALLBACK_FIELD,
    K_FALLBACK_RULE,
    K_ID_FORMAT,
    K_COUNTRY,
    K_TITLE,
    K__N
};

static const char *const key_names[K__N] = {"target_enrolment", "anchor_field",  "anchor_rule",
                                            "fallback_field",   "fallback_rule", "study_id_format",
                                            "country",          "title"};

#define ID_FORMAT_DEFAULT "IOH-{seq:3}"

/* Walks a study ID format: calls out for each literal run and each placeholder. Returns NULL
 * when fmt is well formed (exactly one {seq}/{seq:N}, at most one {site}, literals of letters,
 * digits, '-' and '_'), else what is wrong. */
static const char *id_format_walk(const char *fmt, const char *site, long long seq,
                                  struct strbuf *out)
{
    int nseq = 0, nsite = 0;
    for (const char *p = fmt; *p;) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (!end)
                return "a '{' without its '}'";
            size_t n = (size_t)(end - p + 1);
            if (n == 6 && strncmp(p, "{site}", 6) == 0) {
                nsite++;
                if (out)
                    strbuf_addf(out, "%s", site ? site : "");
            } else if ((n == 5 && strncmp(p, "{seq}", 5) == 0) ||
                       (n == 7 && strncmp(p, "{seq:", 5) == 0 && p[5] >= '1' && p[5] <= '6')) {
                nseq++;
                if (out)
                    strbuf_addf(out, "%0*lld", n == 7 ? p[5] - '0' : 1, seq);
            } else {
                return "an unknown placeholder (known: {seq}, {seq:N} with N 1-6, {site})";
            }
            p = end + 1;
            continue;
        }
        char c = *p++;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return "a character other than a letter, digit, '-', '_' or a placeholder";
        if (out)
            strbuf_addf(out, "%c", c);
    }
    if (nseq != 1)
        return "not exactly one {seq}";
    if (nsite > 1)
        return "{site} more than once";
    return NULL;
}

bool dict_study_id_format(const struct dict_study *s, const char *site, long long seq, char out[16])
{
    struct strbuf sb = STRBUF_INIT;
    const char *fmt = s->id_format[0] ? s->id_format : ID_FORMAT_DEFAULT;
    bool ok = id_format_walk(fmt, site, seq, &sb) == NULL && strlen(strbuf_str(&sb)) <= 15;
    if (ok)
        memcpy(out, strbuf_str(&sb), strlen(strbuf_str(&sb)) + 1);
    strbuf_release(&sb);
    return ok;
}

bool dict_study_id_has_site(const struct dict_study *s)
{
    return strstr(s->id_format, "{site}") != NULL;
}

static const char *const rule_names[] = {
    [DICT_ANCHOR_EARLIEST] = "earliest", [DICT_ANCHOR_FIRST_INSTANCE] = "first_instance"};

static bool is_datetime(const struct dict_field *f)
{
    return f && f->type == FT_TEXT &&
           (f->vtype == VT_DATETIME_YMD || f->vtype == VT_DATETIME_SECONDS_YMD);
}

/* The anchor field named in the value cell, or NULL after reporting why it cannot be one. */
static const struct dict_field *anchor_field(struct loader *L, const char *name, size_t line,
                                             size_t col)
{
    const struct dict_field *f = dict_field(L->d, name);
    if (!f)
        dict_add_error(L, "study.csv", line, col, "unknown field '%s'", name);
    else if (!is_datetime(f))
        dict_add_error(L, "study.csv", line, col,
                       "field '%s' is a %s field (validation %s); an anchor is a text field "
                       "validated as datetime_ymd or datetime_seconds_ymd",
                       name, dict_field_type_name(f->type), dict_val_type_name(f->vtype));
    return is_datetime(f) ? f : NULL;
}

static bool rule_from_name(const char *s, enum dict_anchor_rule *out)
{
    for (size_t i = 0; i < sizeof rule_names / sizeof rule_names[0]; i++)
        if (strcmp(rule_names[i], s) == 0) {
            *out = (enum dict_anchor_rule)i;
            return true;
        }
    return false;
}

/* The defaults of dict.h: a field only when the dictionary has it as a datetime. */
static void study_defaults(struct dict *d)
{
    const struct dict_field *a = dict_field(d, "att_start_dt");
    const struct dict_field *f = dict_field(d, "iop_decision_dt");
    d->study.target_enrolment = 52;
    memcpy(d->study.id_format, ID_FORMAT_DEFAULT, sizeof ID_FORMAT_DEFAULT);
    d->study.anchor = (struct dict_anchor){is_datetime(a) ? a : NULL, DICT_ANCHOR_EARLIEST};
    d->study.fallback = (struct dict_anchor){is_datetime(f) ? f : NULL, DICT_ANCHOR_FIRST_INSTANCE};
}

void dict_load_study(struct loader *L, const struct csv_table *t)
{
    struct dict_study *s = &L->d->study;
    if (!t) {
        study_defaults(L->d);
        return;
    }
    *s = (struct dict_study){.has_file = true, .id_format = ID_FORMAT_DEFAULT};
    static const char *const names[] = {"key", "value"};
    int c[2];
    if (!dict_need_cols(L, t, "study.csv", names, c, 2))
        return;
    size_t seen[K__N] = {0}; /* line of each key's row, 0: not given */
    for (size_t r = 0; r < t->nrows; r++) {
        const char *key = t->rows[r][c[0]], *val = t->rows[r][c[1]];
        size_t line = t->line[r], kcol = (size_t)c[0] + 1, vcol = (size_t)c[1] + 1;
        size_t k = 0;
        while (k < K__N && strcmp(key_names[k], key) != 0)
            k++;
        if (k == K__N) {
            dict_add_error(L, "study.csv", line, kcol,
                           "unknown key '%s' (known: target_enrolment, anchor_field, "
                           "anchor_rule, fallback_field, fallback_rule, study_id_format, "
                           "country, title)",
                           key);
            continue;
        }
        if (seen[k]) {
            dict_add_error(L, "study.csv", line, kcol, "key '%s' given twice (first on line %zu)",
                           key, seen[k]);
            continue;
        }
        seen[k] = line;
        switch ((enum study_key)k) {
        case K_TARGET:
            if (!*val || !dict_cell_int(val, 0, &s->target_enrolment) || s->target_enrolment < 1) {
                dict_add_error(L, "study.csv", line, vcol,
                               "target_enrolment '%s' is not a whole number of at least 1", val);
                s->target_enrolment = 0;
            }
            break;
        case K_ANCHOR_FIELD:
            s->anchor.field = anchor_field(L, val, line, vcol);
            break;
        case K_FALLBACK_FIELD:
            s->fallback.field = anchor_field(L, val, line, vcol);
            break;
        case K_ANCHOR_RULE:
        case K_FALLBACK_RULE: {
            struct dict_anchor *a = k == K_ANCHOR_RULE ? &s->anchor : &s->fallback;
            if (!rule_from_name(val, &a->rule))
                dict_add_error(L, "study.csv", line, vcol,
                               "%s '%s' is not one of: earliest, first_instance", key, val);
            break;
        }
        case K_ID_FORMAT: {
            const char *why = id_format_walk(val, "", 1, NULL);
            char probe[16];
            if (!why && strlen(val) >= sizeof s->id_format)
                why = "longer than 31 characters";
            if (!why) {
                memcpy(s->id_format, val, strlen(val) + 1);
                /* the longest number a study could reach, with a one-character site code */
                if (!dict_study_id_format(s, "X", 9999, probe))
                    why = "study IDs longer than 15 characters";
            }
            if (why) {
                dict_add_error(L, "study.csv", line, vcol, "study_id_format '%s': %s", val, why);
                memcpy(s->id_format, ID_FORMAT_DEFAULT, sizeof ID_FORMAT_DEFAULT);
            }
            break;
        }
        case K_COUNTRY: /* three capital letters, as ISO 3166-1 alpha-3 writes them */
            if (strlen(val) == 3 && isupper((unsigned char)val[0]) &&
                isupper((unsigned char)val[1]) && isupper((unsigned char)val[2]))
                memcpy(s->country, val, 4);
            else
                dict_add_error(L, "study.csv", line, vcol,
                               "country '%s' is not an ISO 3166-1 alpha-3 code (three capital "
                               "letters, e.g. CHN, FRA, USA)",
                               val);
            break;
        case K_TITLE:
            if (*val && strlen(val) < sizeof s->title)
                memcpy(s->title, val, strlen(val) + 1);
            else
                dict_add_error(L, "study.csv", line, vcol, "title: %s",
                               *val ? "longer than 255 bytes" : "empty");
            break;
        case K__N:
            break;
        }
    }
    /* a rule needs its field, a fallback needs the anchor it stands in for */
    static const struct {
        enum study_key given, needs;
    } deps[] = {{K_ANCHOR_RULE, K_ANCHOR_FIELD},
                {K_FALLBACK_RULE, K_FALLBACK_FIELD},
                {K_FALLBACK_FIELD, K_ANCHOR_FIELD}};
    for (size_t i = 0; i < sizeof deps / sizeof deps[0]; i++)
        if (seen[deps[i].given] && !seen[deps[i].needs])
            dict_add_error(L, "study.csv", seen[deps[i].given], (size_t)c[0] + 1, "%s without %s",
                           key_names[deps[i].given], key_names[deps[i].needs]);
}

/* ---- schedule.csv ---- */

/* Before schedule.csv existed, same-day time points were read from event names: t15min_arm_1
 * falls due 15 minutes after the anchor, t6h_arm_1 6 hours. Kept for those databases only. */
static void legacy_due_from_name(struct dict_event *ev)
{
    const char *p = ev->name;
    if (p[0] != 't' || p[1] < '0' || p[1] > '9')
        return;
    char *end;
    long n = strtol(p + 1, &end, 10);
    if (strncmp(end, "min_", 4) == 0)
        ev->due_min = n;
    else if (strncmp(end, "h_", 2) == 0)
        ev->due_min = n * 60LL;
}

void dict_load_schedule(struct loader *L, const struct csv_table *t)
{
    struct dict *d = L->d;
    for (size_t i = 0; i < d->nevents; i++) {
        struct dict_event *ev = &d->events[i];
        ev->due_min = ev->day_offset * MIN_PER_DAY;
        ev->window_before_min = ev->offset_min * MIN_PER_DAY;
        ev->window_after_min = (ev->offset_max + 1LL) * MIN_PER_DAY;
        if (!t)
            legacy_due_from_name(ev);
    }
    if (!t)
        return;
    static const char *const names[] = {"unique_event_name", "due_min", "window_before_min",
                                        "window_after_min"};
    int c[4];
    if (!dict_need_cols(L, t, "schedule.csv", names, c, 4))
        return;
    size_t *seen = arena_calloc(&d->arena, d->nevents ? d->nevents : 1, sizeof *seen);
    if (!seen) {
        L->nomem = true;
        return;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->rows[r];
        size_t line = t->line[r];
        int ev = dict_event_index(d, row[c[0]]);
        if (ev < 0) {
            dict_add_error(L, "schedule.csv", line, (size_t)c[0] + 1, "unknown event '%s'",
                           row[c[0]]);
            continue;
        }
        if (seen[ev]) {
            dict_add_error(L, "schedule.csv", line, (size_t)c[0] + 1,
                           "event '%s' scheduled twice (first on line %zu)", row[c[0]], seen[ev]);
            continue;
        }
        seen[ev] = line;
        int v[3];
        bool ok = true;
        for (size_t k = 0; k < 3; k++) {
            const char *cell = row[c[k + 1]];
            if (!*cell || !dict_cell_int(cell, 0, &v[k]) || (k > 0 && v[k] < 0)) {
                dict_add_error(L, "schedule.csv", line, (size_t)c[k + 1] + 1,
                               k ? "%s '%s' is not a whole number of minutes, 0 or more"
                                 : "%s '%s' is not a whole number of minutes",
                               names[k + 1], cell);
                ok = false;
            }
        }
        if (ok) {
            d->events[ev].due_min = v[0];
            d->events[ev].window_before_min = v[1];
            d->events[ev].window_after_min = v[2];
        }
    }
}

/* ---- sdv.csv ---- */

void dict_load_sdv(struct loader *L, const struct csv_table *t)
{
    struct dict *d = L->d;
    static const char *const names[] = {"form", "field", "rate", "why"};
    int c[4];
    if (!dict_need_cols(L, t, "sdv.csv", names, c, 4))
        return;
    d->sdv = arena_calloc(&d->arena, t->nrows ? t->nrows : 1, sizeof *d->sdv);
    if (!d->sdv) {
        L->nomem = true;
        return;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->rows[r];
        size_t line = t->line[r];
        const struct dict_form *fm = dict_form(d, row[c[0]]);
        if (!fm) {
            dict_add_error(L, "sdv.csv", line, (size_t)c[0] + 1, "unknown form '%s'", row[c[0]]);
            continue;
        }
        const struct dict_field *f = NULL;
        if (*row[c[1]]) {
            f = dict_field(d, row[c[1]]);
            if (!f || strcmp(f->form, fm->name) != 0) {
                dict_add_error(L, "sdv.csv", line, (size_t)c[1] + 1,
                               "field '%s' is not on form '%s'", row[c[1]], fm->name);
                continue;
            }
            if (f->type == FT_CALC || f->type == FT_DESCRIPTIVE) {
                dict_add_error(L, "sdv.csv", line, (size_t)c[1] + 1,
                               "field '%s' is a %s field: nothing to verify against source",
                               f->name, dict_field_type_name(f->type));
                continue;
            }
        }
        char *end;
        const char *cell = row[c[2]];
        double rate = strtod(cell, &end);
        if (!*cell || *end || !(rate > 0 && rate <= 1)) {
            dict_add_error(L, "sdv.csv", line, (size_t)c[2] + 1,
                           "rate '%s' is not a share of records above 0 and at most 1 (1: every "
                           "record, 0.2: a fifth)",
                           cell);
            continue;
        }
        for (size_t k = 0; k < d->nsdv; k++)
            if (d->sdv[k].form == fm && d->sdv[k].field == f) {
                dict_add_error(L, "sdv.csv", line, (size_t)c[0] + 1,
                               "form '%s'%s%s is planned twice", fm->name, f ? " field " : "",
                               f ? f->name : "");
                f = NULL;
                fm = NULL;
                break;
            }
        if (!fm)
            continue;
        d->sdv[d->nsdv++] = (struct dict_sdv_rule){
            .form = fm, .field = f, .rate = rate, .why = dict_dup(L, row[c[3]])};
    }
}

double dict_sdv_rate(const struct dict *d, const struct dict_field *f)
{
    if (!f || f->type == FT_CALC || f->type == FT_DESCRIPTIVE)
        return 0;
    const struct dict_form *fm = &d->forms[f->form_index];
    double form_rate = 0;
    for (size_t i = 0; i < d->nsdv; i++) {
        if (d->sdv[i].field == f)
            return d->sdv[i].rate;
        if (!d->sdv[i].field && d->sdv[i].form == fm)
            form_rate = d->sdv[i].rate;
    }
    return form_rate;
}

bool dict_sdv_selected(double rate, const char *record)
{
    if (rate >= 1)
        return true;
    if (rate <= 0 || !record)
        return false;
    uint32_t h = 2166136261u; /* FNV-1a, 32 bits */
    for (const unsigned char *p = (const unsigned char *)record; *p; p++)
        h = (h ^ *p) * 16777619u;
    return (double)(h % 10000u) < rate * 10000.0;
}

/* ---- signatures.csv ---- */

void dict_load_signatures(struct loader *L, const struct csv_table *t)
{
    struct dict *d = L->d;
    static const char *const names[] = {"meaning", "label", "role", "scope", "attestation"};
    int c[5];
    if (!dict_need_cols(L, t, "signatures.csv", names, c, 5))
        return;
    d->sigs = arena_calloc(&d->arena, t->nrows ? t->nrows : 1, sizeof *d->sigs);
    if (!d->sigs) {
        L->nomem = true;
        return;
    }
    for (size_t r = 0; r < t->nrows; r++) {
        char **row = t->rows[r];
        size_t line = t->line[r];
        bool ok = true;
        if (!dict_valid_name(row[c[0]])) {
            dict_add_error(L, "signatures.csv", line, (size_t)c[0] + 1, "meaning '%s': %s",
                           row[c[0]], dict_name_problem(row[c[0]]));
            ok = false;
        } else if (dict_sig_meaning(d, row[c[0]])) {
            dict_add_error(L, "signatures.csv", line, (size_t)c[0] + 1,
                           "meaning '%s' is defined twice", row[c[0]]);
            ok = false;
        }
        enum role role;
        if (role_from_name(row[c[2]], &role) != 0 || !perm_allows(role, PERM_SIGN)) {
            dict_add_error(L, "signatures.csv", line, (size_t)c[2] + 1,
                           "role '%s' may not sign (only roles with the sign permission may)",
                           row[c[2]]);
            ok = false;
        }
        bool is_study = strcmp(row[c[3]], "study") == 0;
        if (!is_study && strcmp(row[c[3]], "record") != 0) {
            dict_add_error(L, "signatures.csv", line, (size_t)c[3] + 1,
                           "scope '%s' is not record or study", row[c[3]]);
            ok = false;
        }
        for (int k = 1; k <= 4; k += 3)
            if (!*row[c[k]]) {
                dict_add_error(L, "signatures.csv", line, (size_t)c[k] + 1, "%s is empty",
                               names[k]);
                ok = false;
            }
        if (ok)
            d->sigs[d->nsigs++] =
                (struct dict_sig_meaning){.name = dict_dup(L, row[c[0]]),
                                          .label = dict_dup(L, row[c[1]]),
                                          .role = dict_dup(L, row[c[2]]),
                                          .scope = is_study ? DICT_SIG_STUDY : DICT_SIG_RECORD,
                                          .attestation = dict_dup(L, row[c[4]])};
    }
}

const struct dict_sig_meaning *dict_sig_meaning(const struct dict *d, const char *name)
{
    for (size_t i = 0; name && i < d->nsigs; i++)
        if (strcmp(d->sigs[i].name, name) == 0)
            return &d->sigs[i];
    return NULL;
}
