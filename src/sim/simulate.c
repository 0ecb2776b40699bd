/* The simulator's writer (see simulate.h). */
#include "sim/simulate.h"

#include <stdlib.h>
#include <string.h>

#include "sim/cohort.h"
#include "sim/sim_write.h"

static void count_flags(struct sim_summary *s, const struct store_put_result *res)
{
    for (size_t i = 0; i < res->nissues; i++)
        if (res->issues[i].level == STORE_ISSUE_SOFT)
            s->soft_flags++;
}

static int write_patient(struct store *st, const struct store_ctx *who, const struct sim_patient *p,
                         struct sim_summary *s, struct err *e)
{
    struct arena ar = ARENA_INIT;
    struct sim_changes ch;
    struct store_put_result res;
    char scr[16], id[STORE_RECORD_ID_MAX + 1];
    int rc = sim_changes_screening(p, &ar, &ch);
    if (rc != 0) {
        err_set(e, rc, "out of memory building patient %ld", p->index + 1);
        goto out;
    }
    store_put_result_init(&res);
    rc = store_screen_create(st, who, ch.v, ch.n, scr, &res, e);
    count_flags(s, &res);
    store_put_result_free(&res);
    if (rc != 0)
        goto fail;
    s->screened++;
    s->changes += (long)ch.n;
    if (!p->is_enrolled) {
        s->screen_failures++;
        goto out;
    }
    if ((rc = sim_changes_consent(p, &ar, &ch)) != 0) {
        err_set(e, rc, "out of memory building patient %ld", p->index + 1);
        goto out;
    }
    store_put_result_init(&res);
    rc = store_enroll(st, who, scr, ch.v, ch.n, id, &res, e);
    count_flags(s, &res);
    store_put_result_free(&res);
    if (rc != 0)
        goto fail;
    s->changes += (long)ch.n;
    if ((rc = sim_changes_course(p, &ar, &ch)) != 0) {
        err_set(e, rc, "out of memory building patient %ld", p->index + 1);
        goto out;
    }
    store_put_result_init(&res);
    rc = store_put_changes(st, who, id, ch.v, ch.n, NULL, &res, e);
    count_flags(s, &res);
    store_put_result_free(&res);
    if (rc != 0)
        goto fail;
    s->changes += (long)ch.n;
    s->enrolled++;
    goto out;
fail:
    err_prefix(e, "simulated patient %ld (screened #%ld)", s->enrolled + 1, p->index + 1);
out:
    arena_free(&ar);
    return rc;
}

int sim_run(struct store *st, const struct store_ctx *who, uint64_t seed, long patients,
            long batch_size, const double *site_mix, struct sim_summary *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    if (patients < 1)
        return err_set_field(e, ERR_USAGE, "patients", "--patients must be at least 1");
    bool is_synthetic = false;
    int src = store_is_synthetic(st, &is_synthetic, e);
    if (src)
        return src;
    if (!is_synthetic)
        return err_set(e, ERR_CONFLICT,
                       "this is a study database, not a training/demo one: synthetic patients "
                       "go only into a database created with 'ioheme init --synthetic', never "
                       "next to real ones");
    struct sim_cohort c;
    sim_cohort_init(&c, seed, patients, site_mix);
    struct sim_patient *p = malloc(sizeof *p);
    if (!p)
        return err_set(e, ERR_NOMEM, "out of memory");
    int rc = 0;
    long in_batch = 0;
    while (sim_cohort_next(&c, p)) {
        if (batch_size > 0 && in_batch == 0 && (rc = store_batch_begin_whole(st, e)) != 0)
            break;
        rc = write_patient(st, who, p, out, e);
        if (rc != 0) {
            if (batch_size > 0) /* the whole open batch goes, as documented */
                store_batch_rollback(st);
            in_batch = 0;
            break;
        }
        if (batch_size > 0 && ++in_batch >= batch_size) {
            in_batch = 0;
            if ((rc = store_batch_commit(st, e)) != 0)
                break;
        }
    }
    if (rc == 0 && batch_size > 0 && in_batch > 0)
        rc = store_batch_commit(st, e);
    free(p);
    return rc;
}
