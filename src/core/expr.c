/* The REDCap logic language, front half: lexer and recursive-descent parser building the AST
 * of expr_int.h, the walk over field references, and the value helpers (truth, formatting,
 * number recognition) that the evaluator and the dictionary loader share.
 *
 * Precedence, lowest first: or (||), and (&&), not (!), comparison (= == <> != < <= > >=),
 * + -, * /, unary - +, ^ (right-associative, so -2^2 = -4 and 2^3^2 = 512). Keywords and
 * function names are case-insensitive, as in REDCap. */
#include "core/expr.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/fmt.h"
#include "core/expr_int.h"

/* Deep enough for any real logic; shallow enough that the recursive evaluator, emitter and
 * parser cannot exhaust the stack on hostile input. */
#define EXPR_MAX_DEPTH 200

const struct expr_fn_info expr_fns[FN__COUNT] = {
    [FN_IF] = {"if", 3, 3, "iif"},
    [FN_DATEDIFF] = {"datediff", 3, 5, "datediff"},
    [FN_ROUND] = {"round", 1, 2, "round"},
    [FN_ROUNDDOWN] = {"rounddown", 1, 2, "rounddown"},
    [FN_ROUNDUP] = {"roundup", 1, 2, "roundup"},
    [FN_ABS] = {"abs", 1, 1, "abs"},
    [FN_MIN] = {"min", 1, 0, "min"},
    [FN_MAX] = {"max", 1, 0, "max"},
    [FN_SUM] = {"sum", 1, 0, "sum"},
    [FN_MEAN] = {"mean", 1, 0, "mean"},
    [FN_MEDIAN] = {"median", 1, 0, "median"},
    [FN_SQRT] = {"sqrt", 1, 1, "sqrt"},
    [FN_ISNUMBER] = {"isnumber", 1, 1, "isnumber"},
    [FN_ISBLANKORMISSINGCODE] = {"isblankormissingcode", 1, 1, "isblank"},
    [FN_ISINTEGER] = {"isinteger", 1, 1, "isinteger"},
    [FN_LOG] = {"log", 1, 2, "log"},
    [FN_STDEV] = {"stdev", 1, 0, "stdev"},
    [FN_CONCAT] = {"concat", 1, 0, "concat"},
    [FN_CONTAINS] = {"contains", 2, 2, "contains"},
    [FN_STARTS_WITH] = {"starts_with", 2, 2, "starts_with"},
    [FN_ENDS_WITH] = {"ends_with", 2, 2, "ends_with"},
    [FN_YEAR] = {"year", 1, 1, "year"},
    [FN_MONTH] = {"month", 1, 1, "month"},
    [FN_DAY] = {"day", 1, 1, "day"},
    [FN_LEFT] = {"left", 2, 2, "left"},
    [FN_RIGHT] = {"right", 2, 2, "right"},
    [FN_MID] = {"mid", 3, 3, "mid"},
    [FN_LENGTH] = {"length", 1, 1, "length"},
    [FN_FIND] = {"find", 2, 2, "find"},
    [FN_UPPER] = {"upper", 1, 1, "upper"},
    [FN_LOWER] = {"lower", 1, 1, "lower"},
    [FN_TRIM] = {"trim", 1, 1, "trim"},
    [FN_CONCAT_WS] = {"concat_ws", 2, 0, "concat_ws"},
    [FN_REPLACE_TEXT] = {"replace_text", 3, 3, "replace_text"},
    [FN_CALCTEXT] = {"calctext", 1, 1, "calctext"},
    [FN_NOT_CONTAIN] = {"not_contain", 2, 2, "not_contain"},
    [FN_MOD] = {"mod", 2, 2, "mod"},
    [FN_EXPONENTIAL] = {"exponential", 1, 1, "exponential"},
    [FN_ISBLANKNOTMISSINGCODE] = {"isblanknotmissingcode", 1, 1, "isblank"},
    [FN_ISMISSINGCODE] = {"ismissingcode", 1, 1, "ismissingcode"},
    [FN_HASMISSINGCODE] = {"hasmissingcode", 2, 2, "ismissingcode"},
};

enum tok_kind {
    T_EOF,
    T_NUM,
    T_STR,
    T_REF,
    T_WORD,
    T_LP,
    T_RP,
    T_COMMA,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_PLUS,
    T_MINUS,
    T_STAR,
    T_SLASH,
    T_CARET,
    T_AND,
    T_OR,
    T_NOT
};

struct tok {
    enum tok_kind kind;
    size_t pos;        /* 1-based column */
    const char *start; /* T_NUM, T_WORD: the text; T_STR: the literal's contents */
    size_t len;
    const char *event, *field, *code; /* T_REF, in the arena */
    int instance;                     /* T_REF: 0, N or EXPR_INST_* */
};

struct parser {
    const char *src;
    size_t at;      /* byte offset of the next character */
    struct tok tok; /* current token */
    struct arena *ar;
    struct err *e;
    size_t err_col;
    int failed;
    size_t nest; /* recursion depth */
};

static int fail(struct parser *p, size_t col, const char *fmt, const char *arg)
{
    if (p->failed)
        return p->failed;
    p->failed = ERR_INVALID;
    p->err_col = col;
    char what[600];
    fmt_text(what, sizeof what, fmt, arg ? arg : "");
    err_set(p->e, ERR_INVALID, "column %zu: %s", col, what);
    return p->failed;
}

static int nomem(struct parser *p)
{
    if (!p->failed) {
        p->failed = ERR_NOMEM;
        p->err_col = p->at + 1;
        err_set(p->e, ERR_NOMEM, "column %zu: out of memory", p->at + 1);
    }
    return p->failed;
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static const char *const SMART[] = {"event-name",
                                    "event-label",
                                    "previous-event-name",
                                    "next-event-name",
                                    "first-event-name",
                                    "last-event-name",
                                    "current-instance",
                                    "record-name",
                                    "record-dag-name",
                                    "user-dag-name",
                                    NULL};

bool expr_is_smart_event(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n >= 10 && strcmp(name + n - 10, "event-name") == 0 && expr_is_smart(name);
}

const char *expr_smart_name(size_t i)
{
    return i < sizeof SMART / sizeof SMART[0] ? SMART[i] : NULL;
}

bool expr_is_smart(const char *name)
{
    /* each has a '-', which no field name has: most names are settled by that (this runs for
     * every field reference a logic evaluation reads) */
    if (!name || !strchr(name, '-'))
        return false;
    for (size_t i = 0; SMART[i]; i++)
        if (strcmp(SMART[i], name) == 0)
            return true;
    return false;
}

static bool is_code_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

/* The error for a field reference that stops at s[i]: the string ended inside "[...", or a
 * character that cannot be in a name. */
static int bad_name_char(struct parser *p, size_t open, size_t i)
{
    const char *s = p->src;
    if (s[i] == '\0')
        return fail(p, open + 1, "unterminated field reference '['", NULL);
    char bad[8];
    fmt_exact(bad, sizeof bad, "%c", s[i]);
    return fail(p, i + 1,
                "invalid character '%s' in a field name (lowercase letters, digits and _ only)",
                bad);
}

static const struct {
    const char *name;
    int instance;
} INSTANCE_WORDS[] = {{"first-instance", EXPR_INST_FIRST},
                      {"last-instance", EXPR_INST_LAST},
                      {"previous-instance", EXPR_INST_PREVIOUS},
                      {"next-instance", EXPR_INST_NEXT},
                      {"current-instance", EXPR_INST_CURRENT}};

const char *expr_instance_name(int instance)
{
    for (size_t i = 0; i < sizeof INSTANCE_WORDS / sizeof INSTANCE_WORDS[0]; i++)
        if (INSTANCE_WORDS[i].instance == instance)
            return INSTANCE_WORDS[i].name;
    return NULL;
}

/* When the bracket at p->at is an instance qualifier ([2], [last-instance], ...), reads it into
 * *instance and returns 1; 0 when it is something else (nothing read); the parser's error code
 * for a number out of range. */
static int lex_instance(struct parser *p, int *instance)
{
    const char *s = p->src;
    size_t i = p->at;
    if (s[i] != '[')
        return 0;
    if (isdigit((unsigned char)s[i + 1])) {
        size_t k = i + 1;
        long long n = 0;
        while (isdigit((unsigned char)s[k]) && n <= EXPR_INST_MAX)
            n = n * 10 + (s[k++] - '0');
        if (s[k] != ']')
            return 0; /* a field name that starts with a digit: not an instance */
        if (n < 1 || n > EXPR_INST_MAX)
            return fail(p, i + 2, "instance [%s] is not a whole number from 1 to 1000000",
                        arena_strndup(p->ar, s + i + 1, k - i - 1));
        *instance = (int)n;
        p->at = k + 1;
        return 1;
    }
    for (size_t w = 0; w < sizeof INSTANCE_WORDS / sizeof INSTANCE_WORDS[0]; w++) {
        size_t n = strlen(INSTANCE_WORDS[w].name);
        if (strncmp(s + i + 1, INSTANCE_WORDS[w].name, n) == 0 && s[i + 1 + n] == ']') {
            *instance = INSTANCE_WORDS[w].instance;
            p->at = i + n + 2;
            return 1;
        }
    }
    return 0;
}

/* Reads "name" or "name(code)" after a '[' up to the ']'. */
static int lex_bracket(struct parser *p, const char **name, const char **code)
{
    const char *s = p->src;
    size_t open = p->at;
    size_t i = open + 1;
    size_t n0 = i;
    bool hyphen = false;
    while (is_name_char(s[i]) || (s[i] == '-' && i > n0 && is_name_char(s[i + 1]))) {
        hyphen |= s[i] == '-';
        i++;
    }
    if (i == n0)
        return bad_name_char(p, open, i);
    *name = arena_strndup(p->ar, s + n0, i - n0);
    *code = NULL;
    if (!*name)
        return nomem(p);
    if (hyphen && !expr_is_smart(*name))
        return fail(p, open + 1,
                    "'[%s]' is not a field name (lowercase letters, digits and _) nor a smart "
                    "variable ioheme knows (event-name, event-label, previous-event-name, "
                    "next-event-name, current-instance, record-name, record-dag-name, "
                    "user-dag-name)",
                    *name);
    if (s[i] == '(') {
        size_t c0 = ++i;
        while (is_code_char(s[i]))
            i++;
        if (i == c0 || s[i] != ')')
            return fail(p, i + 1, "expected a checkbox code and ')' in [%s(code)]", *name);
        *code = arena_strndup(p->ar, s + c0, i - c0);
        if (!*code)
            return nomem(p);
        i++;
    }
    if (s[i] != ']')
        return bad_name_char(p, open, i);
    p->at = i + 1;
    return 0;
}

/* Whether only blanks stand between the start of the line and position at. */
static bool at_line_start(const char *s, size_t at)
{
    while (at > 0 && (s[at - 1] == ' ' || s[at - 1] == '\t'))
        at--;
    return at == 0 || s[at - 1] == '\n' || s[at - 1] == '\r';
}

static int lex(struct parser *p)
{
    const char *s = p->src;
    for (;;) {
        while (s[p->at] == ' ' || s[p->at] == '\t' || s[p->at] == '\n' || s[p->at] == '\r')
            p->at++;
        bool is_comment = s[p->at] == '#' || (s[p->at] == '/' && s[p->at + 1] == '/');
        if (!is_comment || !at_line_start(s, p->at))
            break;
        while (s[p->at] && s[p->at] != '\n') /* a comment line, as REDCap allows in logic */
            p->at++;
    }
    struct tok *t = &p->tok;
    memset(t, 0, sizeof *t);
    t->pos = p->at + 1;
    t->start = s + p->at;
    char c = s[p->at];
    char d = c ? s[p->at + 1] : '\0';
    if (c == '\0') {
        t->kind = T_EOF;
        return 0;
    }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)d))) {
        size_t i = p->at;
        while (isdigit((unsigned char)s[i]))
            i++;
        if (s[i] == '.') {
            i++;
            while (isdigit((unsigned char)s[i]))
                i++;
        }
        if ((s[i] == 'e' || s[i] == 'E') &&
            (isdigit((unsigned char)s[i + 1]) ||
             ((s[i + 1] == '+' || s[i + 1] == '-') && isdigit((unsigned char)s[i + 2])))) {
            i += 2;
            while (isdigit((unsigned char)s[i]))
                i++;
        }
        if (isalpha((unsigned char)s[i]) || s[i] == '_')
            return fail(p, i + 1, "unexpected character after a number", NULL);
        t->kind = T_NUM;
        t->len = i - p->at;
        p->at = i;
        return 0;
    }
    if (c == '"' || c == '\'') {
        const char *end = strchr(s + p->at + 1, c);
        if (!end)
            return fail(p, t->pos, "unterminated string", NULL);
        t->kind = T_STR;
        t->start = s + p->at + 1;
        t->len = (size_t)(end - t->start);
        p->at = (size_t)(end - s) + 1;
        return 0;
    }
    if (c == '[') {
        const char *a, *acode;
        if (lex_bracket(p, &a, &acode))
            return p->failed;
        t->kind = T_REF;
        t->field = a;
        t->code = acode;
        t->instance = 0;
        /* an event-valued smart variable may stand for the event: [previous-event-name][f] */
        if (expr_is_smart(a) && (acode || (s[p->at] == '[' && !expr_is_smart_event(a))))
            return fail(p, t->pos, "smart variable [%s] takes no code, event or instance", a);
        int q = lex_instance(p, &t->instance); /* [field][N] */
        if (q < 0)
            return q;
        if (q > 0 && expr_is_smart(a))
            return fail(p, t->pos, "smart variable [%s] takes no code, event or instance", a);
        if (q == 0 && s[p->at] == '[') { /* [event][field] */
            if (acode)
                return fail(p, t->pos, "an event name cannot have a checkbox code", NULL);
            const char *b, *bcode;
            if (lex_bracket(p, &b, &bcode))
                return p->failed;
            if (expr_is_smart(b))
                return fail(p, t->pos, "smart variable [%s] takes no event", b);
            t->event = a;
            t->field = b;
            t->code = bcode;
            q = lex_instance(p, &t->instance); /* [event][field][N] */
            if (q < 0)
                return q;
        }
        if (s[p->at] == '[')
            return fail(p, p->at + 1,
                        "a bracket after a field reference that is not an instance ([2], "
                        "[first-instance], [last-instance], [previous-instance], "
                        "[next-instance], [current-instance])",
                        NULL);
        return 0;
    }
    if (isalpha((unsigned char)c)) {
        size_t i = p->at;
        while (isalnum((unsigned char)s[i]) || s[i] == '_')
            i++;
        t->len = i - p->at;
        p->at = i;
        if (t->len == 3 && strncasecmp(t->start, "and", 3) == 0)
            t->kind = T_AND;
        else if (t->len == 2 && strncasecmp(t->start, "or", 2) == 0)
            t->kind = T_OR;
        else if (t->len == 3 && strncasecmp(t->start, "not", 3) == 0)
            t->kind = T_NOT;
        else
            t->kind = T_WORD;
        return 0;
    }
    static const struct {
        const char *s;
        enum tok_kind k;
    } ops[] = {
        {"<>", T_NE},  {"!=", T_NE},   {"<=", T_LE},  {">=", T_GE},   {"==", T_EQ},
        {"&&", T_AND}, {"||", T_OR},   {"=", T_EQ},   {"<", T_LT},    {">", T_GT},
        {"+", T_PLUS}, {"-", T_MINUS}, {"*", T_STAR}, {"/", T_SLASH}, {"^", T_CARET},
        {"!", T_NOT},  {"(", T_LP},    {")", T_RP},   {",", T_COMMA},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].s);
        if (strncmp(s + p->at, ops[i].s, n) == 0) {
            t->kind = ops[i].k;
            t->len = n;
            p->at += n;
            return 0;
        }
    }
    char bad[8];
    fmt_exact(bad, sizeof bad, "%c", c);
    return fail(p, t->pos, "unexpected character '%s'", bad);
}

static struct expr *node(struct parser *p, enum expr_op op, size_t pos, size_t nargs)
{
    struct expr *x = arena_alloc(p->ar, sizeof *x);
    if (!x) {
        nomem(p);
        return NULL;
    }
    x->op = op;
    x->pos = pos;
    x->nargs = nargs;
    x->depth = 1;
    if (nargs) {
        x->args = arena_calloc(p->ar, nargs, sizeof *x->args);
        if (!x->args) {
            nomem(p);
            return NULL;
        }
    }
    return x;
}

/* Recomputes x->depth from its children and fails when the tree is too tall. */
static struct expr *sealed(struct parser *p, struct expr *x)
{
    if (!x)
        return NULL;
    for (size_t i = 0; i < x->nargs; i++)
        if (x->args[i]->depth + 1 > x->depth)
            x->depth = x->args[i]->depth + 1;
    if (x->depth > EXPR_MAX_DEPTH) {
        fail(p, x->pos, "expression nested too deeply", NULL);
        return NULL;
    }
    return x;
}

static struct expr *binary(struct parser *p, enum expr_op op, size_t pos, struct expr *l,
                           struct expr *r)
{
    if (!l || !r)
        return NULL;
    struct expr *x = node(p, op, pos, 2);
    if (!x)
        return NULL;
    x->args[0] = l;
    x->args[1] = r;
    return sealed(p, x);
}

static struct expr *parse_or(struct parser *p);
static struct expr *parse_unary(struct parser *p);

static int advance(struct parser *p)
{
    return lex(p);
}

/* Units and formats of datediff written as literals are checked now, not found blank later. */
static bool datediff_literals_ok(struct parser *p, struct expr **args, size_t n)
{
    static const char *const units[] = {"y", "M", "d", "h", "m", "s"};
    static const char *const fmts[] = {"ymd", "mdy", "dmy"};
    const struct expr *u = args[2];
    if (u->op == EX_STR) {
        bool ok = false;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
            ok |= strcmp(u->str, units[i]) == 0;
        if (!ok) {
            fail(p, u->pos, "datediff unit '%s' is not one of y, M, d, h, m, s", u->str);
            return false;
        }
    }
    if (n >= 4 && args[3]->op == EX_STR) {
        bool ok = strcmp(args[3]->str, "true") == 0 || strcmp(args[3]->str, "false") == 0;
        for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
            ok |= strcmp(args[3]->str, fmts[i]) == 0;
        if (!ok) {
            fail(p, args[3]->pos, "datediff format '%s' is not one of ymd, mdy, dmy", args[3]->str);
            return false;
        }
    }
    return true;
}

static struct expr *parse_call(struct parser *p)
{
    struct tok name = p->tok;
    int fn = -1;
    for (int i = 0; i < FN__COUNT; i++)
        if (strlen(expr_fns[i].name) == name.len &&
            strncasecmp(expr_fns[i].name, name.start, name.len) == 0)
            fn = i;
    char word[80];
    fmt_exact(word, sizeof word, "%.*s", (int)(name.len > 60 ? 60 : name.len), name.start);
    if (advance(p))
        return NULL;
    if (fn < 0 && p->tok.kind != T_LP &&
        (strcasecmp(word, "true") == 0 || strcasecmp(word, "false") == 0)) {
        struct expr *b = node(p, EX_NUM, name.pos, 0); /* datediff's signed flag */
        if (!b)
            return NULL;
        b->num = (word[0] == 't' || word[0] == 'T') ? 1 : 0;
        b->str = b->num ? "1" : "0";
        return b;
    }
    if (fn < 0) {
        if (p->tok.kind == T_LP)
            fail(p, name.pos, "unknown function '%s'", word);
        else
            fail(p, name.pos,
                 "unexpected word '%s' (field names go in [brackets], text in "
                 "quotes)",
                 word);
        return NULL;
    }
    if (p->tok.kind != T_LP) {
        fail(p, p->tok.pos, "expected '(' after %s", word);
        return NULL;
    }
    if (advance(p))
        return NULL;
    struct expr *args[64] = {0};
    size_t n = 0;
    if (p->tok.kind != T_RP) {
        for (;;) {
            if (n == sizeof args / sizeof args[0]) {
                fail(p, p->tok.pos, "too many arguments to %s", word);
                return NULL;
            }
            struct expr *a = parse_or(p);
            if (!a)
                return NULL;
            args[n++] = a;
            if (p->tok.kind == T_COMMA) {
                if (advance(p))
                    return NULL;
                continue;
            }
            if (p->tok.kind == T_RP)
                break;
            fail(p, p->tok.pos, "expected ',' or ')' in the arguments of %s", word);
            return NULL;
        }
    }
    const struct expr_fn_info *fi = &expr_fns[fn];
    if (n < fi->min_args || (fi->max_args && n > fi->max_args)) {
        char msg[160];
        if (fi->max_args == fi->min_args)
            fmt_text(msg, sizeof msg, "%%s takes %zu argument%s, got %zu", fi->min_args,
                     fi->min_args == 1 ? "" : "s", n);
        else if (fi->max_args)
            fmt_text(msg, sizeof msg, "%%s takes %zu to %zu arguments, got %zu", fi->min_args,
                     fi->max_args, n);
        else
            fmt_text(msg, sizeof msg, "%%s takes at least %zu argument, got %zu", fi->min_args, n);
        fail(p, name.pos, msg, fi->name);
        return NULL;
    }
    if (fn == FN_DATEDIFF && !datediff_literals_ok(p, args, n))
        return NULL;
    struct expr *x = node(p, EX_CALL, name.pos, n);
    if (!x)
        return NULL;
    x->fn = (enum expr_fn)fn;
    memcpy(x->args, args, n * sizeof *args);
    if (advance(p))
        return NULL;
    return sealed(p, x);
}

static struct expr *parse_primary(struct parser *p)
{
    struct tok t = p->tok;
    struct expr *x;
    switch (t.kind) {
    case T_NUM:
        x = node(p, EX_NUM, t.pos, 0);
        if (!x)
            return NULL;
        x->str = arena_strndup(p->ar, t.start, t.len);
        if (!x->str) {
            nomem(p);
            return NULL;
        }
        x->num = strtod(x->str, NULL);
        if (!isfinite(x->num)) {
            fail(p, t.pos, "number out of range", NULL);
            return NULL;
        }
        return advance(p) ? NULL : x;
    case T_STR:
        x = node(p, EX_STR, t.pos, 0);
        if (!x)
            return NULL;
        x->str = arena_strndup(p->ar, t.start, t.len);
        if (!x->str) {
            nomem(p);
            return NULL;
        }
        return advance(p) ? NULL : x;
    case T_REF:
        x = node(p, EX_REF, t.pos, 0);
        if (!x)
            return NULL;
        x->event = t.event;
        x->field = t.field;
        x->code = t.code;
        x->instance = t.instance;
        return advance(p) ? NULL : x;
    case T_WORD:
        return parse_call(p);
    case T_LP:
        if (advance(p))
            return NULL;
        x = parse_or(p);
        if (!x)
            return NULL;
        if (p->tok.kind != T_RP) {
            char col[32];
            fmt_exact(col, sizeof col, "%zu", t.pos);
            fail(p, p->tok.pos,
                 p->tok.kind == T_EOF ? "missing ')' for the '(' at column %s"
                                      : "expected ')' to close the '(' at column %s",
                 col);
            return NULL;
        }
        return advance(p) ? NULL : x;
    case T_EOF:
        fail(p, t.pos, "unexpected end of expression", NULL);
        return NULL;
    default: {
        char tokt[64];
        fmt_exact(tokt, sizeof tokt, "%.*s", (int)(t.len > 40 ? 40 : t.len), t.start);
        fail(p, t.pos, "unexpected '%s'", tokt);
        return NULL;
    }
    }
}

static bool enter(struct parser *p)
{
    if (++p->nest > EXPR_MAX_DEPTH) {
        fail(p, p->tok.pos, "expression nested too deeply", NULL);
        return false;
    }
    return true;
}

static struct expr *parse_pow(struct parser *p)
{
    struct expr *l = parse_primary(p);
    if (!l || p->tok.kind != T_CARET)
        return l;
    size_t pos = p->tok.pos;
    if (advance(p) || !enter(p))
        return NULL;
    struct expr *r = parse_unary(p); /* right-associative; allows 2^-1 */
    p->nest--;
    return binary(p, EX_POW, pos, l, r);
}

static struct expr *parse_unary(struct parser *p)
{
    if (p->tok.kind != T_MINUS && p->tok.kind != T_PLUS) {
        if (!enter(p))
            return NULL;
        struct expr *x = parse_pow(p);
        p->nest--;
        return x;
    }
    struct tok t = p->tok;
    if (advance(p) || !enter(p))
        return NULL;
    struct expr *a = parse_unary(p);
    p->nest--;
    if (!a || t.kind == T_PLUS)
        return a;
    struct expr *x = node(p, EX_NEG, t.pos, 1);
    if (!x)
        return NULL;
    x->args[0] = a;
    return sealed(p, x);
}

/* The binary levels, lowest precedence first; level L_NOT is the prefix `not`, and below the
 * last level come unary minus and ^. All binary levels are left-associative. */
struct binop {
    enum tok_kind tok;
    enum expr_op op;
};
static const struct binop ops_or[] = {{T_OR, EX_OR}};
static const struct binop ops_and[] = {{T_AND, EX_AND}};
static const struct binop ops_cmp[] = {{T_EQ, EX_EQ}, {T_NE, EX_NE}, {T_LT, EX_LT},
                                       {T_LE, EX_LE}, {T_GT, EX_GT}, {T_GE, EX_GE}};
static const struct binop ops_add[] = {{T_PLUS, EX_ADD}, {T_MINUS, EX_SUB}};
static const struct binop ops_mul[] = {{T_STAR, EX_MUL}, {T_SLASH, EX_DIV}};
enum { L_OR, L_AND, L_NOT, L_CMP, L_ADD, L_MUL, L_COUNT };
static const struct {
    const struct binop *ops;
    size_t n;
} levels[L_COUNT] = {
    [L_OR] = {ops_or, 1},   [L_AND] = {ops_and, 1}, [L_NOT] = {NULL, 0},
    [L_CMP] = {ops_cmp, 6}, [L_ADD] = {ops_add, 2}, [L_MUL] = {ops_mul, 2},
};

static struct expr *parse_level(struct parser *p, int level);

static struct expr *parse_not(struct parser *p)
{
    if (p->tok.kind != T_NOT)
        return parse_level(p, L_NOT + 1);
    size_t pos = p->tok.pos;
    if (advance(p) || !enter(p))
        return NULL;
    struct expr *a = parse_not(p);
    p->nest--;
    if (!a)
        return NULL;
    struct expr *x = node(p, EX_NOT, pos, 1);
    if (!x)
        return NULL;
    x->args[0] = a;
    return sealed(p, x);
}

static struct expr *parse_level(struct parser *p, int level)
{
    if (level == L_COUNT)
        return parse_unary(p);
    if (level == L_NOT)
        return parse_not(p);
    struct expr *l = parse_level(p, level + 1);
    while (l) {
        const struct binop *b = NULL;
        for (size_t i = 0; i < levels[level].n; i++)
            if (levels[level].ops[i].tok == p->tok.kind)
                b = &levels[level].ops[i];
        if (!b)
            break;
        size_t pos = p->tok.pos;
        if (advance(p))
            return NULL;
        l = binary(p, b->op, pos, l, parse_level(p, level + 1));
    }
    return l;
}

static struct expr *parse_or(struct parser *p)
{
    if (!enter(p))
        return NULL;
    struct expr *l = parse_level(p, L_OR);
    p->nest--;
    return l;
}

int expr_parse(const char *src, struct arena *ar, struct expr **out, size_t *err_col, struct err *e)
{
    struct parser p = {.src = src ? src : "", .ar = ar, .e = e};
    *out = NULL;
    if (err_col)
        *err_col = 0;
    struct expr *x = NULL;
    if (lex(&p) == 0) {
        if (p.tok.kind == T_EOF)
            fail(&p, 1, "empty expression", NULL);
        else
            x = parse_or(&p);
    }
    if (x && p.tok.kind != T_EOF) {
        char tokt[64];
        fmt_exact(tokt, sizeof tokt, "%.*s", (int)(p.tok.len > 40 ? 40 : p.tok.len), p.tok.start);
        fail(&p, p.tok.pos,
             p.tok.kind == T_RP ? "unmatched '%s'"
                                : "unexpected '%s' (missing operator, or 'and'/'or'?)",
             tokt);
    }
    if (p.failed) {
        if (err_col)
            *err_col = p.err_col;
        return p.failed;
    }
    *out = x;
    return 0;
}

static int foreach_ref(const struct expr *x, expr_ref_fn fn, void *ctx)
{
    if (x->op == EX_REF) /* a smart event is decided as the logic runs: any event, for fn */
        return expr_is_smart(x->field)
                   ? 0
                   : fn(ctx, expr_is_smart(x->event) ? NULL : x->event, x->field, x->code, x->pos);
    for (size_t i = 0; i < x->nargs; i++) {
        int rc = foreach_ref(x->args[i], fn, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

int expr_foreach_ref(const struct expr *x, expr_ref_fn fn, void *ctx)
{
    return x ? foreach_ref(x, fn, ctx) : 0;
}

bool expr_str_is_number(const char *s, double *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    const char *b = s;
    if (*s == '+' || *s == '-')
        s++;
    size_t digits = 0;
    while (isdigit((unsigned char)*s)) {
        s++;
        digits++;
    }
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            s++;
            digits++;
        }
    }
    if (!digits)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (!isdigit((unsigned char)*s))
            return false;
        while (isdigit((unsigned char)*s))
            s++;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s)
        return false;
    double v = strtod(b, NULL);
    if (!isfinite(v))
        return false;
    if (out)
        *out = v;
    return true;
}

bool expr_truthy(const struct expr_value *v)
{
    double d;
    switch (v->kind) {
    case EV_NUM:
        return v->num != 0 && !isnan(v->num);
    case EV_STR:
        return v->str && expr_str_is_number(v->str, &d) && d != 0;
    default:
        return false;
    }
}

void expr_value_format(const struct expr_value *v, struct strbuf *out)
{
    if (v->kind == EV_STR) {
        strbuf_adds(out, v->str ? v->str : "");
        return;
    }
    if (v->kind != EV_NUM || !isfinite(v->num))
        return;
    char buf[64];
    expr_fmt_num(v->num, buf);
    strbuf_adds(out, buf);
}

void expr_fmt_num(double x, char buf[64])
{
    buf[0] = '\0';
    if (!isfinite(x))
        return;
    if (x == 0) { /* also -0 */
        fmt_exact(buf, 64, "0");
        return;
    }
    /* 15 significant digits hide binary noise (0.1 + 0.2 -> "0.3"), like PHP's precision=14
     * does for REDCap; plain notation from 1e-6 up to 1e15, as a coordinator expects. */
    if (fabs(x) < 1e15 && fabs(x) >= 1e-6) {
        int intdigits = fabs(x) >= 1 ? (int)floor(log10(fabs(x))) + 1 : 0;
        int dp = 15 - intdigits;
        if (dp < 0)
            dp = 0;
        fmt_exact(buf, 64, "%.*f", dp, x); /* |x| < 1e15: at most 33 characters */
        if (strchr(buf, '.')) {
            char *end = buf + strlen(buf) - 1;
            while (*end == '0')
                *end-- = '\0';
            if (*end == '.')
                *end = '\0';
        }
        if (strcmp(buf, "-0") == 0)
            fmt_exact(buf, 64, "0");
    } else {
        fmt_exact(buf, 64, "%.15g", x);
    }
}
