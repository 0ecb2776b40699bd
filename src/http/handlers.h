/* Every route handler, for the route table (routes.c). A handler gets a request the router has
 * already authenticated and authorised, and leaves a response in it; it returns 0. */
#ifndef IOHEME_HTTP_HANDLERS_H
#define IOHEME_HTTP_HANDLERS_H

#include "http/http_int.h"

/* static.c */
int static_get(struct req *r);
int api_health_get(struct req *r);

/* auth.c */
int api_login_post(struct req *r);
int api_logout_post(struct req *r);
int api_me_get(struct req *r);
int api_tokens_post(struct req *r);
int api_tokens_get(struct req *r);             /* the caller's own API tokens */
int api_token_revoke_post(struct req *r);      /* revokes one of the caller's own */
int api_user_tokens_get(struct req *r);        /* user {name}'s tokens (user_manage) */
int api_user_token_revoke_post(struct req *r); /* revokes one of {name}'s (user_manage) */
/* helpers shared with the login page */
int auth_start_session(struct req *r, const char *user, struct err *e);
int auth_end_session(struct req *r, struct err *e);
/* Checks username + password (lockout and failures are the store's, and audited there), filling
 * r->user. With new_password (may be NULL) the user's password is then changed to it, which is
 * how an expired password (ERR_PASSWORD_EXPIRED without one) is renewed at sign-in. */
int auth_password(struct req *r, const char *user, const char *password, const char *new_password,
                  struct err *e);
/* The user as JSON (new reference; caller owns it). */
json_t *auth_user_json(const struct store_user *u);

/* api_meta.c: protocol metadata, users */
int api_protocol_get(struct req *r);
int api_users_get(struct req *r);
int api_users_post(struct req *r);
int api_user_unlock_post(struct req *r);
int api_user_disable_post(struct req *r);

/* api_records.c: screening, eligibility, enrolment, records */
int api_screening_get(struct req *r);
int api_screening_post(struct req *r);
int api_eligibility_get(struct req *r);
int api_enrol_post(struct req *r);
int api_records_get(struct req *r);
int api_record_get(struct req *r);
/* POST {"reason"?, "event"?, "form"?, "instance"?}: lock / unlock the record or one form of it */
int api_record_lock_post(struct req *r);
int api_record_unlock_post(struct req *r);

/* api_values.c: values, form status, history, audit */
/* Turns a JSON object {"field": value, "checkbox___code": "1", ...} into store changes at
 * (event, instance), allocated in r->ar. Values may be strings, numbers or null (clears). */
int api_changes_from_json(struct req *r, json_t *values, const char *event, int instance,
                          struct store_change **out, size_t *n, struct err *e);
/* The optional "expect" object of a write's body: for fields it changes, the value the client
 * read before ({"hd_hr": 120}, null for none), written as values are; the write path refuses
 * the set (409, rule "conflict") when another save changed one meanwhile (store_change.expect).
 * Each key must be one of ch's. */
int api_expected_values(struct req *r, json_t *expect, const char *event, int instance,
                        struct store_change *ch, size_t n, struct err *e);
/* Replies to a write: on rc == 0 status (200/201) with extra (stolen, may be NULL) plus the
 * counts and soft issues of res; otherwise the error with every issue of res. */
int api_put_reply(struct req *r, int rc, int status, const struct err *e,
                  const struct store_put_result *res, json_t *extra);
/* A body's "instance": absent or null is 0, else a whole number in range (dict_instance_check). */
int api_body_instance(json_t *body, int *out, struct err *e);
/* A body member that must be a string when present: *out NULL when absent or null, else the
 * string (owned by body); ERR_INVALID naming the key when it is another type. */
int api_body_str(json_t *body, const char *key, const char **out, struct err *e);
/* api_sites.c */
int api_sites_get(struct req *r);
int api_sites_post(struct req *r);
int api_record_site_post(struct req *r);
int api_user_sites_get(struct req *r);
int api_user_sites_post(struct req *r);
/* A record as JSON (new reference). */
json_t *api_record_json(const struct store_record *rec);
int api_form_get(struct req *r);
int api_values_post(struct req *r);
int api_form_status_post(struct req *r);
int api_field_history_get(struct req *r);
int api_record_audit_get(struct req *r);

/* api_redcap.c: REDCap's API (POST /api/, token in the body) */
int api_redcap_post(struct req *r);

/* api_queries.c: queries (discrepancy notes) */
int api_queries_get(struct req *r);
int api_queries_post(struct req *r);
int api_query_get(struct req *r);
int api_query_answer_post(struct req *r);
int api_query_close_post(struct req *r);
int api_query_reopen_post(struct req *r);

/* page_queries.c */
int page_queries(struct req *r);
int page_queries_post(struct req *r);
int page_query(struct req *r);
int page_query_answer_post(struct req *r);
int page_query_close_post(struct req *r);
int page_query_reopen_post(struct req *r);

/* api_sdv.c: source data verification */
int api_sdv_get(struct req *r);
int api_record_sdv_get(struct req *r);
int api_record_sdv_post(struct req *r);
/* page_sdv.c */
int page_form_sdv_post(struct req *r);

/* page_lock.c: POSTs from the lock buttons (reason in the body; a form's instance in the query) */
int page_record_lock_post(struct req *r);
int page_record_unlock_post(struct req *r);
int page_form_lock_post(struct req *r);
int page_form_unlock_post(struct req *r);

/* api_stopwatch.c: the IO stopwatch's state and taps */
struct page_io_state;
/* The stopwatch's state of record (its latest placement with the taps) as the API answers it;
 * new reference. */
json_t *api_stopwatch_state(struct req *r, const char *record, const struct page_io_state *s);
int api_stopwatch_get(struct req *r);
int api_stopwatch_post(struct req *r);

/* api_signatures.c, page_signatures.c: electronic signatures */
int api_record_signatures_get(struct req *r);
int api_record_signatures_post(struct req *r);
int page_sign_post(struct req *r);

/* page_*.c */
int page_login_get(struct req *r);
int page_login_post(struct req *r);
int page_logout_post(struct req *r);
int page_dashboard(struct req *r);
int page_screening(struct req *r);
int page_screening_new(struct req *r);
int page_screening_post(struct req *r);
int page_subject(struct req *r);
int page_enrol_post(struct req *r);
int page_form(struct req *r);
int page_form_post(struct req *r);
int form_logic_js(struct req *r);
int page_stopwatch(struct req *r);
int page_history(struct req *r);
int page_casebook(struct req *r);
int page_users(struct req *r);
int page_users_post(struct req *r);

/* api_db.c: the database's state, the pre-lock checklist and the four transitions (JSON) */
int api_db_get(struct req *r);
int api_db_freeze_post(struct req *r);
int api_db_unfreeze_post(struct req *r);
int api_db_lock_post(struct req *r);
int api_db_unlock_post(struct req *r);
/* page_study.c: the same on the /study page */
int page_study(struct req *r);
int page_study_freeze_post(struct req *r);
int page_study_unfreeze_post(struct req *r);
int page_study_sign_post(struct req *r); /* a study signature (store_sign, record NULL) */
int page_study_lock_post(struct req *r);
int page_study_unlock_post(struct req *r);

#endif
