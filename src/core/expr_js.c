/* The REDCap logic language, JavaScript emitter: turns an AST into one JavaScript expression
 * for live branching logic and calculations in the browser.
 *
 * Every operator and function becomes a call to a helper of src/web/logic.js on the object
 * `L` (IOHEME_LOGIC.compile binds it), never a native JS operator, so blanks, number-vs-text
 * comparison and rounding follow expr_eval exactly: `[age] >= 18` becomes
 * `L.ge(L.v(null,"age",null),18)`. Strings are emitted as JSON-style literals with <, >, &,
 * U+2028 and U+2029 escaped, so the output is safe inside a <script> element. */
#include "core/expr.h"

#include <math.h>
#include <stdio.h>

#include "core/expr_int.h"

static void js_string(struct strbuf *out, const char *s)
{
    strbuf_addc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            strbuf_addc(out, '\\');
            strbuf_addc(out, (char)*p);
        } else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&' || *p == 0x7f) {
            strbuf_addf(out, "\\u%04x", *p);
        } else if (p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
            strbuf_addf(out, "\\u%04x", p[2] == 0xA8 ? 0x2028 : 0x2029);
            p += 2;
        } else {
            strbuf_addc(out, (char)*p);
        }
    }
    strbuf_addc(out, '"');
}

static void js_opt_string(struct strbuf *out, const char *s)
{
    if (s)
        js_string(out, s);
    else
        strbuf_adds(out, "null");
}

static const char *op_helper(enum expr_op op)
{
    switch (op) {
    case EX_NEG:
        return "neg";
    case EX_NOT:
        return "not";
    case EX_ADD:
        return "add";
    case EX_SUB:
        return "sub";
    case EX_MUL:
        return "mul";
    case EX_DIV:
        return "div";
    case EX_POW:
        return "pow";
    case EX_EQ:
        return "eq";
    case EX_NE:
        return "ne";
    case EX_LT:
        return "lt";
    case EX_LE:
        return "le";
    case EX_GT:
        return "gt";
    case EX_GE:
        return "ge";
    case EX_AND:
        return "and";
    case EX_OR:
        return "or";
    default:
        return NULL;
    }
}

static void emit(const struct expr *x, struct strbuf *out)
{
    switch (x->op) {
    case EX_NUM:
        /* %.17g round-trips the double; never a leading-zero literal JS might misread */
        strbuf_addf(out, "%.17g", x->num);
        return;
    case EX_STR:
        js_string(out, x->str);
        return;
    case EX_REF:
        strbuf_adds(out, "L.v(");
        js_opt_string(out, x->event);
        strbuf_addc(out, ',');
        js_string(out, x->field);
        strbuf_addc(out, ',');
        js_opt_string(out, x->code);
        if (x->instance > 0) /* the instance: a number, or the qualifier's word */
            strbuf_addf(out, ",%d", x->instance);
        else if (x->instance < 0) {
            strbuf_addc(out, ',');
            js_string(out, expr_instance_name(x->instance));
        }
        strbuf_addc(out, ')');
        return;
    case EX_CALL:
        strbuf_addf(out, "L.%s(", expr_fns[x->fn].js);
        break;
    default:
        strbuf_addf(out, "L.%s(", op_helper(x->op));
        break;
    }
    for (size_t i = 0; i < x->nargs; i++) {
        if (i)
            strbuf_addc(out, ',');
        emit(x->args[i], out);
    }
    strbuf_addc(out, ')');
}

int expr_to_js(const struct expr *x, struct strbuf *out, struct err *e)
{
    if (!x)
        return err_set(e, ERR_INTERNAL, "no expression to emit");
    emit(x, out);
    if (out->failed)
        return err_set(e, ERR_NOMEM, "out of memory emitting JavaScript");
    return 0;
}
