/* Shared between the derivation files (derive.c, derive_hd.c); not a public interface. */
#ifndef IOHEME_CORE_DERIVE_INT_H
#define IOHEME_CORE_DERIVE_INT_H

#include "core/derive.h"

#define EV_SCREEN "screening_arm_1"
#define EV_BASE "baseline_arm_1"
#define EV_PROC "io_procedure_arm_1"
#define EV_REMOVAL "removal_arm_1"
#define EV_EFF "t24h_arm_1"
#define EV_EOS "end_of_study_arm_1"

/* What derive.c has worked out about a subject and the haemodynamic derivations need. */
struct derive_subject {
    const char *id;
    bool has_t0;
    double t0;  /* seconds since the epoch */
    size_t row; /* row in the subjects table */
};

/* A value as a number (helper over vtab_num). */
bool derive_dv_num(struct vtab *v, const char *event, int instance, const char *field, double *out);
/* An integer-valued field (numbers, codes, instance references): true when present and a
 * whole number within ±1,000,000 (anything else cannot be a count or a code). */
bool derive_dv_int(struct vtab *v, const char *event, int instance, const char *field, int *out);
/* A yes/no (or any 0/1) field: 1, 0, or -1 when missing. */
int derive_dv_bool(struct vtab *v, const char *event, int instance, const char *field);
/* A date or date-time field as seconds since the epoch (derive_parse_time). */
bool derive_dv_time(struct vtab *v, const char *event, int instance, const char *field,
                    double *out);

/* derive_hd.c: haemodynamics rows, the efficacy columns and the complications rows. */
int derive_haemodynamics(struct adataset *ds, struct vtab *v, const struct derive_subject *s);
int derive_efficacy(struct adataset *ds, struct vtab *v, const struct derive_subject *s);
int derive_complications(struct adataset *ds, struct vtab *v, const struct derive_subject *s);

#endif
