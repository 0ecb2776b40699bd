/* The REDCap logic language: branching logic, calculated fields, eligibility criteria.
 *
 * An expression is parsed once into an AST (allocated in a caller-given arena, so it lives as
 * long as the arena) and evaluated many times against a lookup callback that supplies field
 * values. The grammar and semantics follow REDCap:
 *   [field]  [event][field]  [checkbox(code)]  numbers  "text" 'text'
 *   an instance after a field: [field][2]  [field][first-instance]  [field][last-instance]
 *   [field][previous-instance]  [field][next-instance]  [field][current-instance]  (and after
 *   [event][field] too); on a form that does not repeat there, the instance is ignored
 *   = <> != < <= > >=   and or not (also && || !)   + - * / ^ unary -   ( )
 *   if(c, a, b)  datediff(d1, d2, "unit"[, "fmt"][, signed])  round(x[, dp])  rounddown(x[, dp])
 *   roundup(x[, dp])  abs(x)  min(...)  max(...)  sum(...)  mean(...)  sqrt(x)  isnumber(x)
 *   isblankormissingcode(x)  isinteger(x)  log(x[, base])  stdev(...)  concat(...)
 *   contains(text, part)  starts_with(text, part)  ends_with(text, part)  year(d)  month(d)
 *   day(d)  "today" / "now" as datediff arguments
 *   left(t, n)  right(t, n)  mid(t, start, n)  length(t)  find(part, t)  upper(t)  lower(t)
 *   trim(t)  concat_ws(sep, ...)  replace_text(t, search, replacement)  not_contain(t, part)
 *   calctext(x)  mod(a, b)  exponential(x)  isblanknotmissingcode(x)  ismissingcode(x)
 *   hasmissingcode(x, codes)
 * lines starting with # or // are comments; and, beyond that list: median(...), `==` for `=`,
 * `true` / `false` (1 / 0, for datediff's signed flag). datediff is d2 - d1 (absolute unless
 * signed), unrounded, a year being 365.2425 days and a month 30.44 days; "today" is the UTC date of
 * now_ms. round* take dp (default 0, may be negative) and round half away from zero after cutting
 * to 15 significant digits, as PHP does. stdev is the sample standard deviation (blank under two
 * values); log's base is e unless given; contains/starts_with/ends_with compare the text of their
 * arguments ignoring ASCII case and give 1 / 0; concat joins the text of its arguments (blank adds
 * nothing); isinteger is 1 for whole-number text ("12", "-3"), 0 otherwise ("1.0", blank);
 * year/month/day read a YYYY-MM-DD date, blank for anything else. The text functions count
 * characters (UTF-8), not bytes, and give blank for an empty result: left/right take n characters
 * (n < 1: blank), mid from the start-th (from 1), length of blank is 0, find is where part starts
 * (from 1, ASCII case ignored; 0 when nowhere), upper/lower change ASCII letters only, trim drops
 * spaces, tabs and line ends at both ends, concat_ws puts sep between the arguments that are not
 * blank, replace_text replaces every occurrence (case as written), not_contain is contains'
 * opposite, calctext its argument as text. mod is the remainder with the dividend's sign (blank for
 * 0), exponential e to the x. There are no missing-data codes here: isblanknotmissingcode is
 * isblank, ismissingcode and hasmissingcode are 0. Strings have no escapes: a quote ends the
 * string. Blanks: a blank value is "" (EV_BLANK). Arithmetic with a blank gives blank (a calc field
 * with a blank input is blank). `=` / `<>` compare as numbers when both sides are numbers (or
 * numeric strings), otherwise as text, and blank equals "" only. `<` `<=` `>` `>=` with a blank
 * side are false. min/max/sum/mean skip blanks. Logical operators treat blank as false.
 * Checkbox [f(code)] is "1" when ticked, "0" otherwise. */
#ifndef IOHEME_CORE_EXPR_H
#define IOHEME_CORE_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "base/strbuf.h"

struct expr; /* an AST node; opaque */

enum expr_kind_value { EV_BLANK, EV_NUM, EV_STR };

struct expr_value {
    enum expr_kind_value kind;
    double num;      /* EV_NUM */
    const char *str; /* EV_STR (memory owned by the lookup's provider or the eval arena) */
};

/* The instance a reference names (REDCap's instance qualifiers, [field][2],
 * [event][field][last-instance]): 0 for none (the reading rule, dict_ref_instance), a number
 * N > 0, or one of these. */
enum {
    EXPR_INST_FIRST = -1,    /* [first-instance]: the lowest instance holding data */
    EXPR_INST_LAST = -2,     /* [last-instance]: the highest */
    EXPR_INST_PREVIOUS = -3, /* [previous-instance]: the current one less one */
    EXPR_INST_NEXT = -4,     /* [next-instance]: the current one plus one */
    EXPR_INST_CURRENT = -5,  /* [current-instance] after a field */
};
#define EXPR_INST_MAX 1000000 /* the largest [field][N] that parses */

/* Supplies a field's current value. event is NULL for [field] (the "current" event), code is
 * NULL unless the reference is a checkbox option [f(code)], instance 0 unless the reference
 * names one (EXPR_INST_*, or N > 0). Must set *out (EV_BLANK when no value) and return 0, or
 * return a negative err code (e.g. unknown field) after filling e. */
typedef int (*expr_lookup_fn)(void *ctx, const char *event, const char *field, const char *code,
                              int instance, struct expr_value *out, struct err *e);
/* The keyword of an instance qualifier ("last-instance"), NULL for 0 and numbers. */
const char *expr_instance_name(int instance);

/* Called for each field reference in source order; pos is the 1-based column of the '['. A
 * non-zero return stops the walk and is returned by expr_foreach_ref. */
typedef int (*expr_ref_fn)(void *ctx, const char *event, const char *field, const char *code,
                           size_t pos);

/* Parses src. On error returns ERR_INVALID, sets *err_col to the 1-based column of the fault and
 * e->msg to "column N: what is wrong". The AST is allocated in ar. */
int expr_parse(const char *src, struct arena *ar, struct expr **out, size_t *err_col,
               struct err *e);

/* Evaluates x. Strings produced during evaluation are allocated in ar. Division by zero and
 * sqrt of a negative give blank, as in REDCap. `today`/`now` use now_ms (UTC ms since epoch) so
 * evaluation is deterministic in tests. */
int expr_eval(const struct expr *x, expr_lookup_fn lookup, void *ctx, long long now_ms,
              struct arena *ar, struct expr_value *out, struct err *e);

/* REDCap's truth: EV_NUM non-zero, EV_STR that parses as a non-zero number; blank is false. */
bool expr_truthy(const struct expr_value *v);

/* Formats a value as REDCap stores it: numbers without trailing zeros ("12", "0.5"), blank "". */
void expr_value_format(const struct expr_value *v, struct strbuf *out);

/* REDCap smart variables the evaluator knows: [event-name] (the unique name of the event the
 * expression is evaluated at), [event-label], [previous-event-name] and [next-event-name] (in the
 * protocol's event order; blank at either end), [first-event-name] and [last-event-name] (the
 * protocol's first and last event; blank without events), [current-instance] (blank when the form
 * does not repeat), [record-name], [record-dag-name] (the record's site's code, docs/sites.md;
 * blank without one) and [user-dag-name] (the user's site's code when they work at exactly one,
 * else blank). They parse as references whose field is the smart name, with no event and no code;
 * every lookup answers them through dict_smart_value; expr_foreach_ref skips them (they are no
 * field). Any other [name-with-hyphens] is a parse error naming it. */
bool expr_is_smart(const char *name);
/* Whether name is a smart variable whose value is an event's unique name ([event-name],
 * [previous-event-name], [next-event-name], [first-event-name], [last-event-name]): such a
 * variable may stand in a reference for its event, [previous-event-name][weight], which reads
 * the field at the event the variable names where the logic runs (blank when it names none). */
bool expr_is_smart_event(const char *name);
/* The i-th smart variable's name (0, 1, ...), NULL past the last. */
const char *expr_smart_name(size_t i);

/* Walks every field reference (smart variables are not field references). */
int expr_foreach_ref(const struct expr *x, expr_ref_fn fn, void *ctx);

/* Emits the expression as a JavaScript expression for live branching/calc in the browser. The
 * emitted code calls helper functions of src/web/logic.js (v(event, field, code) for values,
 * and one function per operator/function with the same blank semantics as expr_eval). */
int expr_to_js(const struct expr *x, struct strbuf *out, struct err *e);

#endif
