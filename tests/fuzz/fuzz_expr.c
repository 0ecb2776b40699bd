/* libFuzzer target for the REDCap logic language: any bytes as an expression through
 * expr_parse, then (when it parses) expr_foreach_ref, expr_eval with a lookup that answers
 * numbers, text, dates and blanks, expr_value_format and expr_to_js. Looks for crashes,
 * overflows, leaks and undefined behaviour; see README.md here for how to run it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/expr.h"

static int count_ref(void *ctx, const char *event, const char *field, const char *code, size_t pos)
{
    (void)event;
    (void)field;
    (void)code;
    (void)pos;
    (*(size_t *)ctx)++;
    return 0;
}

/* Answers by the field name's first letter, so inputs can steer the kinds of values. */
static int lookup(void *ctx, const char *event, const char *field, const char *code, int instance,
                  struct expr_value *out, struct err *e)
{
    (void)instance;
    (void)ctx;
    (void)event;
    (void)e;
    static const char *const texts[] = {"12", "-3.5",  "abc", "2024-02-29", "2023-12-31 23:59",
                                        "0",  "1e308", ""};
    out->kind = EV_STR;
    out->str = code ? "1" : texts[(unsigned char)field[0] % 8];
    if (field[0] == 'z')
        out->kind = EV_BLANK;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size + 1);
    if (!src)
        return 0;
    memcpy(src, data, size);
    src[size] = '\0';
    struct arena ar = ARENA_INIT;
    struct expr *x;
    struct err e;
    size_t col;
    if (expr_parse(src, &ar, &x, &col, &e) == 0) {
        size_t nrefs = 0;
        expr_foreach_ref(x, count_ref, &nrefs);
        struct expr_value v;
        if (expr_eval(x, lookup, NULL, 1709294400000LL, &ar, &v, &e) == 0) {
            struct strbuf sb = STRBUF_INIT;
            expr_value_format(&v, &sb);
            (void)expr_truthy(&v);
            strbuf_release(&sb);
        }
        struct strbuf js = STRBUF_INIT;
        expr_to_js(x, &js, &e);
        strbuf_release(&js);
    } else if (col == 0 || col > size + 1) {
        abort(); /* an error must point inside the input (or just past its end) */
    }
    arena_free(&ar);
    free(src);
    return 0;
}
