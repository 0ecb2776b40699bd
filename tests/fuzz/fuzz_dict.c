/* libFuzzer target for the protocol loader: the input is split at NUL bytes into the protocol
 * folder's eight files in dict_protocol_files' order (dictionary.csv, events.csv,
 * form_events.csv, repeating.csv, study.csv, schedule.csv, sdv.csv, signatures.csv; missing
 * parts are NULL) and loaded with dict_load_files, which must either build a dictionary or
 * report errors, never crash or leak. A loaded protocol is walked through its lookups: fields,
 * choices, forms, the study ID format, the SDV plan and the signature meanings. See README.md. */
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
    const char *part[DICT_NFILES] = {buf};
    size_t n = 1;
    for (size_t i = 0; i < size && n < DICT_NFILES; i++)
        if (buf[i] == '\0')
            part[n++] = buf + i + 1;
    struct dict d;
    struct err e;
    struct strbuf errors = STRBUF_INIT;
    size_t nerrors;
    int rc = dict_load_files(part, &d, &errors, &nerrors, &e);
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
        char id[16];
        if (!dict_study_id_format(&d.study, "X", 9999, id))
            abort(); /* the loader refuses a format whose 9999th ID at site X does not fit */
        for (size_t i = 0; i < d.nsdv; i++)
            if (!(d.sdv[i].rate > 0 && d.sdv[i].rate <= 1) || !d.sdv[i].form)
                abort();
        for (size_t i = 0; i < d.nfields; i++) {
            double rate = dict_sdv_rate(&d, &d.fields[i]);
            if (rate < 0 || rate > 1)
                abort();
            (void)dict_sdv_selected(rate, "IOH-001");
        }
        for (size_t i = 0; i < d.nsigs; i++)
            if (!d.sigs[i].name || !d.sigs[i].role)
                abort();
        dict_free(&d);
    } else if (rc == ERR_INVALID && (nerrors == 0 || !e.msg[0])) {
        abort(); /* an invalid protocol always says why */
    }
    strbuf_release(&errors);
    free(buf);
    return 0;
}
