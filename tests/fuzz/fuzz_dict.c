/* libFuzzer target for the protocol loader: the input is split at NUL bytes into
 * dictionary.csv, events.csv, form_events.csv and repeating.csv (missing parts are NULL) and
 * loaded with dict_load_mem_full, which must either build a dictionary or report errors,
 * never crash or leak. A loaded dictionary is walked through its lookups. See README.md. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    const char *part[4] = {buf, NULL, NULL, NULL};
    size_t n = 1;
    for (size_t i = 0; i < size && n < 4; i++)
        if (buf[i] == '\0')
            part[n++] = buf + i + 1;
    struct dict d;
    struct err e;
    struct strbuf errors = STRBUF_INIT;
    size_t nerrors;
    int rc = dict_load_mem_full(part[0], part[1], part[2], part[3], &d, &errors, &nerrors, &e);
    if (rc == 0) {
        if (nerrors != 0)
            abort();
        for (size_t i = 0; i < d.nfields; i++) {
            const struct dict_field *f = &d.fields[i];
            if (dict_field(&d, f->name) != f)
                abort(); /* names are unique and indexed */
            for (size_t c = 0; c < f->nchoices; c++)
                (void)dict_choice_label(f, f->choices[c].code);
        }
        for (size_t i = 0; i < d.nforms; i++) {
            char name[128];
            dict_complete_field(&d.forms[i], name, sizeof name);
        }
        dict_free(&d);
    } else if (rc == ERR_INVALID && (nerrors == 0 || !e.msg[0])) {
        abort(); /* an invalid protocol always says why */
    }
    strbuf_release(&errors);
    free(buf);
    return 0;
}
