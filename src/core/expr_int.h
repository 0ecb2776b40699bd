/* The AST of the REDCap logic language, shared by the parser (expr.c), the evaluator
 * (expr_eval.c) and the JavaScript emitter (expr_js.c). Private to core/: callers outside see
 * struct expr as opaque through expr.h. */
#ifndef IOHEME_CORE_EXPR_INT_H
#define IOHEME_CORE_EXPR_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/expr.h"

enum expr_op {
    EX_NUM,
    EX_STR,
    EX_REF,
    EX_NEG,
    EX_NOT,
    EX_ADD,
    EX_SUB,
    EX_MUL,
    EX_DIV,
    EX_POW,
    EX_EQ,
    EX_NE,
    EX_LT,
    EX_LE,
    EX_GT,
    EX_GE,
    EX_AND,
    EX_OR,
    EX_CALL
};

enum expr_fn {
    FN_IF,
    FN_DATEDIFF,
    FN_ROUND,
    FN_ROUNDDOWN,
    FN_ROUNDUP,
    FN_ABS,
    FN_MIN,
    FN_MAX,
    FN_SUM,
    FN_MEAN,
    FN_MEDIAN,
    FN_SQRT,
    FN_ISNUMBER,
    FN_ISBLANKORMISSINGCODE,
    FN_ISINTEGER,
    FN_LOG,
    FN_STDEV,
    FN_CONCAT,
    FN_CONTAINS,
    FN_STARTS_WITH,
    FN_ENDS_WITH,
    FN_YEAR,
    FN_MONTH,
    FN_DAY,
    FN_LEFT,
    FN_RIGHT,
    FN_MID,
    FN_LENGTH,
    FN_FIND,
    FN_UPPER,
    FN_LOWER,
    FN_TRIM,
    FN_CONCAT_WS,
    FN_REPLACE_TEXT,
    FN_CALCTEXT,
    FN_NOT_CONTAIN,
    FN_MOD,
    FN_EXPONENTIAL,
    FN_ISBLANKNOTMISSINGCODE,
    FN_ISMISSINGCODE,
    FN_HASMISSINGCODE,
    FN__COUNT
};

/* One row per function: name as written (matched case-insensitively), arity bounds, and the
 * name of the helper in src/web/logic.js. */
struct expr_fn_info {
    const char *name;
    size_t min_args, max_args; /* max_args 0 = unbounded */
    const char *js;
};
extern const struct expr_fn_info expr_fns[FN__COUNT];

struct expr {
    enum expr_op op;
    size_t pos;         /* 1-based column of the token that starts this node */
    double num;         /* EX_NUM */
    const char *str;    /* EX_STR: the literal's text; EX_NUM: the digits as written */
    const char *event;  /* EX_REF: NULL for [field] */
    const char *field;  /* EX_REF */
    const char *code;   /* EX_REF: checkbox option, or NULL */
    int instance;       /* EX_REF: 0, N > 0 or EXPR_INST_* (expr.h) */
    enum expr_fn fn;    /* EX_CALL */
    struct expr **args; /* operands (unary: 1, binary: 2) or call arguments */
    size_t nargs;
    size_t depth; /* height of the subtree, bounded so evaluation cannot overflow */
};

/* REDCap's idea of a number held in text: optional sign, digits with an optional decimal part
 * (or a leading '.'), optional exponent, surrounding spaces allowed. logic.js uses the same
 * rule (IOHEME_LOGIC.num). */
bool expr_str_is_number(const char *s, double *out);

/* Writes x as REDCap shows a number (see expr_value_format) into buf; "" when not finite. */
void expr_fmt_num(double x, char buf[64]);

/* A date, date-time ("YYYY-MM-DD HH:MM[:SS]") or, with fmt "mdy"/"dmy", "MM-DD-YYYY" /
 * "DD-MM-YYYY", as seconds since 1970-01-01 UTC. Values beginning YYYY- are always read as
 * ymd (that is how they are stored). False for anything that is not a real calendar date. */
bool expr_parse_date(const char *s, const char *fmt, double *secs);

#endif
