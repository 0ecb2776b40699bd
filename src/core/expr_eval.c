/* The REDCap logic language, evaluation: walks the AST of expr_int.h against a lookup
 * callback, with REDCap's blank semantics (see expr.h), and the date arithmetic of datediff.
 *
 * Blank is one thing here: EV_BLANK. A lookup answering EV_STR "" and the literal "" are
 * turned into EV_BLANK on the way in, so `[x] = ""` and "x is blank" are the same test. */
#include "base/civil.h"
#include "base/fmt.h"
#include "core/expr.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/expr_int.h"
#include "core/sitetime.h"

struct evalctx {
    expr_lookup_fn lookup;
    void *ctx;
    long long now_ms;
    struct arena *ar;
    struct err *e;
};

static const struct expr_value blank = {EV_BLANK, 0, NULL};

static struct expr_value num(double d)
{
    if (!isfinite(d))
        return blank;
    struct expr_value v = {EV_NUM, d, NULL};
    return v;
}

static bool is_blank(const struct expr_value *v)
{
    return v->kind == EV_BLANK || (v->kind == EV_STR && (!v->str || !v->str[0]));
}

static bool as_num(const struct expr_value *v, double *d)
{
    if (v->kind == EV_NUM) {
        *d = v->num;
        return isfinite(v->num);
    }
    return v->kind == EV_STR && v->str && expr_str_is_number(v->str, d);
}

/* The text of v for string comparison; buf holds formatted numbers. */
static const char *as_text(const struct expr_value *v, char buf[64])
{
    if (v->kind == EV_STR)
        return v->str ? v->str : "";
    if (v->kind == EV_NUM) {
        expr_fmt_num(v->num, buf);
        return buf;
    }
    return "";
}

/* Reads exactly n digits at *s. */
static bool digits(const char **s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*s)[i]))
            return false;
        v = v * 10 + (unsigned)((*s)[i] - '0');
    }
    *s += n;
    *out = v;
    return true;
}

bool expr_parse_date(const char *s, const char *fmt, double *secs)
{
    unsigned y, m, d, hh = 0, mi = 0, ss = 0;
    const char *p = s;
    bool ymd = isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
               isdigit((unsigned char)s[2]) && isdigit((unsigned char)s[3]) && s[4] == '-';
    if (ymd || !fmt || strcmp(fmt, "ymd") == 0) {
        if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &m) || *p++ != '-' ||
            !digits(&p, 2, &d))
            return false;
    } else if (strcmp(fmt, "mdy") == 0 || strcmp(fmt, "dmy") == 0) {
        unsigned a, b;
        if (!digits(&p, 2, &a) || *p++ != '-' || !digits(&p, 2, &b) || *p++ != '-' ||
            !digits(&p, 4, &y))
            return false;
        m = fmt[0] == 'm' ? a : b;
        d = fmt[0] == 'm' ? b : a;
    } else {
        return false;
    }
    if (*p == ' ' || *p == 'T') {
        p++;
        if (!digits(&p, 2, &hh) || *p++ != ':' || !digits(&p, 2, &mi))
            return false;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &ss))
                return false;
        }
    }
    if (*p || m < 1 || m > 12 || d < 1 || d > (unsigned)civil_days_in_month(y, (int)m) || hh > 23 ||
        mi > 59 || ss > 59)
        return false;
    *secs = (double)civil_days(y, (int)m, (int)d) * 86400.0 + hh * 3600.0 + mi * 60.0 + ss;
    return true;
}

static int eval(struct evalctx *c, const struct expr *x, struct expr_value *out);

/* datediff(d1, d2, unit[, fmt][, signed]): d2 - d1 in unit, absolute unless signed. REDCap's
 * divisors: a year is 365.2425 days, a month 30.44 days. Not rounded. */
static int fn_datediff(struct evalctx *c, const struct expr *x, struct expr_value *out)
{
    struct expr_value a[5];
    for (size_t i = 0; i < x->nargs; i++) {
        int rc = eval(c, x->args[i], &a[i]);
        if (rc)
            return rc;
    }
    *out = blank;
    const char *fmt = "ymd";
    bool is_signed = false;
    for (size_t i = 3; i < x->nargs; i++) {
        if (i == 3 && a[i].kind == EV_STR &&
            (!strcmp(a[i].str, "ymd") || !strcmp(a[i].str, "mdy") || !strcmp(a[i].str, "dmy")))
            fmt = a[i].str;
        else
            is_signed = expr_truthy(&a[i]) || (a[i].kind == EV_STR && !strcmp(a[i].str, "true"));
    }
    double t[2];
    for (int i = 0; i < 2; i++) {
        if (is_blank(&a[i]) || a[i].kind != EV_STR)
            return 0;
        /* 'today' and 'now' are the site's wall clock (core/sitetime.h), the scale of the
         * dates and times the data hold: the ward's date, whatever the machine's zone */
        if (strcmp(a[i].str, "today") == 0)
            t[i] = floor((double)sitetime_wall_from_ms(c->now_ms) / 86400.0) * 86400.0;
        else if (strcmp(a[i].str, "now") == 0)
            t[i] = (double)sitetime_wall_from_ms(c->now_ms);
        else if (!expr_parse_date(a[i].str, fmt, &t[i]))
            return 0;
    }
    if (a[2].kind != EV_STR || strlen(a[2].str) != 1)
        return 0;
    double div;
    switch (a[2].str[0]) {
    case 'y':
        div = 86400.0 * 365.2425;
        break;
    case 'M':
        div = 86400.0 * 30.44;
        break;
    case 'd':
        div = 86400.0;
        break;
    case 'h':
        div = 3600.0;
        break;
    case 'm':
        div = 60.0;
        break;
    case 's':
        div = 1.0;
        break;
    default:
        return 0;
    }
    double diff = (t[1] - t[0]) / div;
    *out = num(is_signed ? diff : fabs(diff));
    return 0;
}

/* round/rounddown/roundup to dp places. The scaled value is first cut to 15 significant
 * digits, as PHP's round() pre-rounds, so round(1.005, 2) is 1.01 and rounddown(0.29, 2) is
 * 0.29 despite binary representation. Half rounds away from zero. */
static struct expr_value fn_round(enum expr_fn fn, double v, double dp)
{
    dp = trunc(dp);
    if (dp > 15 || dp < -15)
        return blank;
    double p10 = pow(10.0, fabs(dp));
    double scaled = dp >= 0 ? v * p10 : v / p10;
    char buf[64];
    fmt_exact(buf, sizeof buf, "%.15g", scaled);
    scaled = strtod(buf, NULL);
    double r = fn == FN_ROUND ? round(scaled) : fn == FN_ROUNDDOWN ? floor(scaled) : ceil(scaled);
    return num(dp >= 0 ? r / p10 : r * p10);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* min, max, sum, mean, median over the numeric arguments; blanks and text are skipped. */
static int fn_aggregate(struct evalctx *c, const struct expr *x, struct expr_value *out)
{
    double vals[64];
    size_t n = 0;
    for (size_t i = 0; i < x->nargs; i++) {
        struct expr_value v;
        int rc = eval(c, x->args[i], &v);
        if (rc)
            return rc;
        double d;
        if (as_num(&v, &d))
            vals[n++] = d;
    }
    *out = blank;
    if (!n)
        return 0;
    double acc = vals[0];
    for (size_t i = 1; i < n; i++) {
        switch (x->fn) {
        case FN_MIN:
            acc = vals[i] < acc ? vals[i] : acc;
            break;
        case FN_MAX:
            acc = vals[i] > acc ? vals[i] : acc;
            break;
        default:
            acc += vals[i];
            break;
        }
    }
    if (x->fn == FN_MEAN)
        acc /= (double)n;
    if (x->fn == FN_STDEV) { /* the sample standard deviation, as REDCap's stdev() */
        if (n < 2)
            return 0;
        double mean = acc / (double)n, ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += (vals[i] - mean) * (vals[i] - mean);
        acc = sqrt(ss / (double)(n - 1));
    }
    if (x->fn == FN_MEDIAN) {
        qsort(vals, n, sizeof vals[0], cmp_double);
        acc = n % 2 ? vals[n / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2;
    }
    *out = num(acc);
    return 0;
}

/* ASCII case-insensitive: whether needle is in hay (at its start, at its end, anywhere). */
static bool text_has(const char *hay, const char *needle, enum expr_fn fn)
{
    size_t nh = strlen(hay), nn = strlen(needle);
    if (nn > nh)
        return false;
    size_t from = fn == FN_ENDS_WITH ? nh - nn : 0, to = fn == FN_CONTAINS ? nh - nn : from;
    for (size_t i = from; i <= to; i++)
        if (strncasecmp(hay + i, needle, nn) == 0)
            return true;
    return false;
}

/* The number of UTF-8 characters in s, and where the k-th (from 0) starts (the end past the
 * last): the text functions count characters, not bytes, as the browser's do (logic.js). */
static size_t u8_count(const char *s, const char *end)
{
    size_t n = 0;
    for (; s < end; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static const char *u8_at(const char *s, size_t k)
{
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80 && k-- == 0)
            return s;
    return s;
}

/* *out the text in sb (copied into the evaluation's arena), blank when there is none. */
static int text_result(struct evalctx *c, const struct strbuf *sb, struct expr_value *out)
{
    *out = blank;
    if (sb->failed)
        return err_set(c->e, ERR_NOMEM, "out of memory");
    if (!sb->len)
        return 0;
    out->kind = EV_STR;
    out->str = arena_strdup(c->ar, strbuf_str(sb));
    return out->str ? 0 : err_set(c->e, ERR_NOMEM, "out of memory");
}

/* A whole number of characters from argument i (truncated), or false when it is no number. */
static int arg_count(struct evalctx *c, const struct expr *x, size_t i, double *n, bool *ok)
{
    struct expr_value v;
    int rc = eval(c, x->args[i], &v);
    *ok = rc == 0 && as_num(&v, n) && fabs(*n) < 1e15;
    if (*ok)
        *n = trunc(*n);
    return rc;
}

/* The text functions beyond concat and contains: left, right, mid, length, find, upper,
 * lower, trim, concat_ws, replace_text, calctext (see expr.h). */
static int fn_string(struct evalctx *c, const struct expr *x, struct expr_value *out)
{
    struct expr_value a;
    char buf[64];
    *out = blank;
    int rc = eval(c, x->args[0], &a);
    if (rc)
        return rc;
    struct strbuf sb = STRBUF_INIT;
    const char *t = is_blank(&a) ? "" : as_text(&a, buf);
    double n = 0, m = 0;
    bool ok = true, ok2 = true;
    switch (x->fn) {
    case FN_LENGTH:
        *out = num((double)u8_count(t, t + strlen(t)));
        return 0;
    case FN_LEFT:
    case FN_RIGHT: {
        if ((rc = arg_count(c, x, 1, &n, &ok)) || !ok || n <= 0)
            return rc;
        size_t len = u8_count(t, t + strlen(t)), k = n < (double)len ? (size_t)n : len;
        const char *from = x->fn == FN_LEFT ? t : u8_at(t, len - k);
        const char *to = x->fn == FN_LEFT ? u8_at(t, k) : t + strlen(t);
        strbuf_add(&sb, from, (size_t)(to - from));
        break;
    }
    case FN_MID: /* mid(text, start, count): start counts from 1 */
        if ((rc = arg_count(c, x, 1, &n, &ok)) || (rc = arg_count(c, x, 2, &m, &ok2)) || !ok ||
            !ok2 || n < 1 || m <= 0)
            return rc;
        {
            const char *from = u8_at(t, (size_t)n - 1), *to = u8_at(from, (size_t)m);
            strbuf_add(&sb, from, (size_t)(to - from));
        }
        break;
    case FN_FIND: { /* find(needle, haystack): where needle starts, from 1; 0 when nowhere */
        struct expr_value h;
        char hbuf[64];
        if ((rc = eval(c, x->args[1], &h)))
            return rc;
        const char *hay = is_blank(&h) ? "" : as_text(&h, hbuf);
        size_t nn = strlen(t), nh = strlen(hay);
        *out = num(0);
        for (size_t i = 0; nn && i + nn <= nh; i++)
            if (strncasecmp(hay + i, t, nn) == 0) {
                *out = num((double)u8_count(hay, hay + i) + 1);
                break;
            }
        return 0;
    }
    case FN_UPPER:
    case FN_LOWER: /* ASCII letters, as contains() compares them */
        for (const char *p = t; *p; p++)
            strbuf_addc(&sb, (char)(x->fn == FN_UPPER ? toupper((unsigned char)*p)
                                                      : tolower((unsigned char)*p)));
        break;
    case FN_TRIM: {
        size_t b = strspn(t, " \t\r\n"), e = strlen(t);
        while (e > b && strchr(" \t\r\n", t[e - 1]))
            e--;
        strbuf_add(&sb, t + b, e - b);
        break;
    }
    case FN_CONCAT_WS: /* the separator between the arguments that are not blank */
        for (size_t i = 1, k = 0; i < x->nargs; i++) {
            struct expr_value v;
            char vbuf[64];
            if ((rc = eval(c, x->args[i], &v)))
                break;
            if (is_blank(&v))
                continue;
            if (k++)
                strbuf_adds(&sb, t);
            strbuf_adds(&sb, as_text(&v, vbuf));
        }
        break;
    case FN_REPLACE_TEXT: { /* every occurrence of search (case as written) by replacement */
        struct expr_value s, r;
        char sbuf[64], rbuf[64];
        if ((rc = eval(c, x->args[1], &s)) || (rc = eval(c, x->args[2], &r)))
            break;
        const char *find = is_blank(&s) ? "" : as_text(&s, sbuf);
        const char *with = is_blank(&r) ? "" : as_text(&r, rbuf);
        size_t nf = strlen(find);
        for (const char *p = t; *p;) {
            if (nf && strncmp(p, find, nf) == 0) {
                strbuf_adds(&sb, with);
                p += nf;
            } else
                strbuf_addc(&sb, *p++);
        }
        break;
    }
    default: /* FN_CALCTEXT: its argument as text */
        strbuf_adds(&sb, t);
        break;
    }
    if (!rc)
        rc = text_result(c, &sb, out);
    strbuf_release(&sb);
    return rc;
}

/* concat, contains, not_contain, starts_with, ends_with: on the text of their arguments (blank
 * is ""). */
static int fn_text(struct evalctx *c, const struct expr *x, struct expr_value *out)
{
    struct strbuf sb = STRBUF_INIT;
    const char *first = NULL;
    char buf[64];
    int rc = 0;
    for (size_t i = 0; i < x->nargs && !rc; i++) {
        struct expr_value a;
        if ((rc = eval(c, x->args[i], &a)))
            break;
        const char *t = as_text(&a, buf);
        if (x->fn == FN_CONCAT) {
            strbuf_adds(&sb, t);
        } else if (i == 0) {
            strbuf_adds(&sb, t);
            first = strbuf_str(&sb);
        } else if (x->fn == FN_NOT_CONTAIN) {
            *out = num(text_has(first, t, FN_CONTAINS) ? 0 : 1);
        } else {
            *out = num(text_has(first, t, x->fn) ? 1 : 0);
        }
    }
    if (!rc && x->fn == FN_CONCAT)
        rc = text_result(c, &sb, out);
    strbuf_release(&sb);
    return rc;
}

/* The functions of one argument beyond abs/sqrt: isinteger, log (with an optional base, e by
 * default), and year / month / day of a date ("YYYY-MM-DD[ ...]"). */
static int fn_one(struct evalctx *c, const struct expr *x, struct expr_value *out)
{
    struct expr_value a, b;
    double d, base = exp(1.0);
    int rc = eval(c, x->args[0], &a);
    if (rc)
        return rc;
    *out = blank;
    switch (x->fn) {
    case FN_ISINTEGER: {
        char buf[64];
        const char *t = as_text(&a, buf);
        while (*t == ' ')
            t++;
        t += *t == '-' || *t == '+';
        size_t nd = strspn(t, "0123456789");
        while (t[nd] == ' ')
            nd++;
        *out = num(nd && !t[nd] && as_num(&a, &d) ? 1 : 0);
        return 0;
    }
    case FN_LOG:
        if (x->nargs == 2) {
            if ((rc = eval(c, x->args[1], &b)))
                return rc;
            if (!as_num(&b, &base) || base <= 0 || base == 1)
                return 0;
        }
        if (as_num(&a, &d) && d > 0)
            *out = num(log(d) / log(base));
        return 0;
    default: { /* FN_YEAR, FN_MONTH, FN_DAY */
        char buf[64];
        const char *t = as_text(&a, buf);
        double secs;
        if (a.kind != EV_STR || !expr_parse_date(t, "ymd", &secs))
            return 0;
        size_t at = x->fn == FN_YEAR ? 0 : x->fn == FN_MONTH ? 5 : 8;
        *out = num(strtod(t + at, NULL));
        return 0;
    }
    }
}

static int eval_call(struct evalctx *c, const struct expr *x, struct expr_value *out)
{
    struct expr_value a, b;
    double d, dp = 0;
    int rc;
    switch (x->fn) {
    case FN_IF:
        if ((rc = eval(c, x->args[0], &a)))
            return rc;
        return eval(c, x->args[expr_truthy(&a) ? 1 : 2], out);
    case FN_DATEDIFF:
        return fn_datediff(c, x, out);
    case FN_ROUND:
    case FN_ROUNDDOWN:
    case FN_ROUNDUP:
        if ((rc = eval(c, x->args[0], &a)))
            return rc;
        *out = blank;
        if (x->nargs == 2) {
            if ((rc = eval(c, x->args[1], &b)))
                return rc;
            if (!as_num(&b, &dp))
                return 0;
        }
        if (as_num(&a, &d))
            *out = fn_round(x->fn, d, dp);
        return 0;
    case FN_CONCAT:
    case FN_CONTAINS:
    case FN_NOT_CONTAIN:
    case FN_STARTS_WITH:
    case FN_ENDS_WITH:
        return fn_text(c, x, out);
    case FN_LEFT:
    case FN_RIGHT:
    case FN_MID:
    case FN_LENGTH:
    case FN_FIND:
    case FN_UPPER:
    case FN_LOWER:
    case FN_TRIM:
    case FN_CONCAT_WS:
    case FN_REPLACE_TEXT:
    case FN_CALCTEXT:
        return fn_string(c, x, out);
    case FN_MOD: /* the remainder with the dividend's sign (C's fmod, JavaScript's %) */
        if ((rc = eval(c, x->args[0], &a)) || (rc = eval(c, x->args[1], &b)))
            return rc;
        *out = blank;
        if (as_num(&a, &d) && as_num(&b, &dp) && dp != 0)
            *out = num(fmod(d, dp));
        return 0;
    case FN_ISMISSINGCODE:
    case FN_HASMISSINGCODE: /* a study here has no missing-data codes: never one */
        for (size_t i = 0; i < x->nargs; i++)
            if ((rc = eval(c, x->args[i], &a)))
                return rc;
        *out = num(0);
        return 0;
    case FN_ISINTEGER:
    case FN_LOG:
    case FN_YEAR:
    case FN_MONTH:
    case FN_DAY:
        return fn_one(c, x, out);
    case FN_ABS:
    case FN_SQRT:
    case FN_EXPONENTIAL:
    case FN_ISNUMBER:
    case FN_ISBLANKORMISSINGCODE:
    case FN_ISBLANKNOTMISSINGCODE:
        if ((rc = eval(c, x->args[0], &a)))
            return rc;
        if (x->fn == FN_ISNUMBER)
            *out = num(as_num(&a, &d) ? 1 : 0);
        else if (x->fn == FN_ISBLANKORMISSINGCODE || x->fn == FN_ISBLANKNOTMISSINGCODE)
            *out = num(is_blank(&a) ? 1 : 0); /* no missing-data codes here: blank is blank */
        else if (!as_num(&a, &d) || (x->fn == FN_SQRT && d < 0))
            *out = blank;
        else
            *out = num(x->fn == FN_ABS ? fabs(d) : x->fn == FN_SQRT ? sqrt(d) : exp(d));
        return 0;
    default:
        return fn_aggregate(c, x, out);
    }
}

/* = and <>: numbers when both sides are numbers, else text; blank equals only blank. */
static bool values_equal(const struct expr_value *a, const struct expr_value *b)
{
    if (is_blank(a) || is_blank(b))
        return is_blank(a) && is_blank(b);
    double x, y;
    if (as_num(a, &x) && as_num(b, &y))
        return x == y;
    char ba[64], bb[64];
    return strcmp(as_text(a, ba), as_text(b, bb)) == 0;
}

/* < <= > >=: false with a blank side; numbers when both are, else byte-wise text order. */
static bool values_order(enum expr_op op, const struct expr_value *a, const struct expr_value *b)
{
    if (is_blank(a) || is_blank(b))
        return false;
    double x, y;
    int cmp;
    if (as_num(a, &x) && as_num(b, &y)) {
        cmp = (x > y) - (x < y);
    } else {
        char ba[64], bb[64];
        cmp = strcmp(as_text(a, ba), as_text(b, bb));
    }
    switch (op) {
    case EX_LT:
        return cmp < 0;
    case EX_LE:
        return cmp <= 0;
    case EX_GT:
        return cmp > 0;
    default:
        return cmp >= 0;
    }
}

static struct expr_value arith(enum expr_op op, const struct expr_value *a,
                               const struct expr_value *b)
{
    double x, y;
    if (!as_num(a, &x) || !as_num(b, &y))
        return blank;
    switch (op) {
    case EX_ADD:
        return num(x + y);
    case EX_SUB:
        return num(x - y);
    case EX_MUL:
        return num(x * y);
    case EX_DIV:
        return y == 0 ? blank : num(x / y);
    default:
        return num(pow(x, y));
    }
}

static int eval(struct evalctx *c, const struct expr *x, struct expr_value *out)
{
    struct expr_value a, b;
    double d;
    int rc;
    switch (x->op) {
    case EX_NUM:
        *out = num(x->num);
        return 0;
    case EX_STR:
        if (!x->str[0]) {
            *out = blank;
        } else {
            out->kind = EV_STR;
            out->num = 0;
            out->str = x->str;
        }
        return 0;
    case EX_REF: {
        *out = blank;
        const char *event = x->event;
        if (event && expr_is_smart(event)) { /* [previous-event-name][f]: the event it names */
            struct expr_value ev = blank;
            if ((rc = c->lookup(c->ctx, NULL, event, NULL, 0, &ev, c->e)))
                return rc;
            if (ev.kind != EV_STR || !ev.str[0])
                return 0; /* no such event here: blank */
            event = ev.str;
        }
        rc = c->lookup(c->ctx, event, x->field, x->code, x->instance, out, c->e);
        if (rc)
            return rc;
        if (is_blank(out) || (out->kind == EV_NUM && !isfinite(out->num)))
            *out = blank;
        return 0;
    }
    case EX_NEG:
        if ((rc = eval(c, x->args[0], &a)))
            return rc;
        *out = as_num(&a, &d) ? num(-d) : blank;
        return 0;
    case EX_NOT:
        if ((rc = eval(c, x->args[0], &a)))
            return rc;
        *out = num(expr_truthy(&a) ? 0 : 1);
        return 0;
    case EX_AND:
    case EX_OR:
        if ((rc = eval(c, x->args[0], &a)))
            return rc;
        if (expr_truthy(&a) == (x->op == EX_OR)) {
            *out = num(x->op == EX_OR ? 1 : 0);
            return 0;
        }
        if ((rc = eval(c, x->args[1], &b)))
            return rc;
        *out = num(expr_truthy(&b) ? 1 : 0);
        return 0;
    case EX_CALL:
        return eval_call(c, x, out);
    default:
        break;
    }
    if ((rc = eval(c, x->args[0], &a)) || (rc = eval(c, x->args[1], &b)))
        return rc;
    switch (x->op) {
    case EX_EQ:
    case EX_NE:
        *out = num(values_equal(&a, &b) == (x->op == EX_EQ) ? 1 : 0);
        return 0;
    case EX_LT:
    case EX_LE:
    case EX_GT:
    case EX_GE:
        *out = num(values_order(x->op, &a, &b) ? 1 : 0);
        return 0;
    default:
        *out = arith(x->op, &a, &b);
        return 0;
    }
}

int expr_eval(const struct expr *x, expr_lookup_fn lookup, void *ctx, long long now_ms,
              struct arena *ar, struct expr_value *out, struct err *e)
{
    struct evalctx c = {lookup, ctx, now_ms, ar, e};
    *out = blank;
    if (!x)
        return err_set(e, ERR_INTERNAL, "no expression to evaluate");
    int rc = eval(&c, x, out);
    if (rc)
        *out = blank;
    return rc;
}
