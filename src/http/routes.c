/* The route table: every URL the server answers, with what the router must check before its
 * handler runs (router.c). Adding a page or an API call is adding a row here and a function.
 *
 * Permissions are core/perm.h actions; NONE means any signed-in user. RT_CSRF marks every
 * state-changing row; RT_RECORD_LOCK every row that writes to record {id}. Max body is in KiB
 * (0: the route takes no body). `ioheme serve --routes` prints this table as JSON, and the
 * authorisation-matrix test (tests/e2e/http_authz.sh) calls every row as every role. */
#include "http/handlers.h"

#include <stdio.h>
#include <stdlib.h>

#include "formats/json_out.h"
#include "http/http.h"

/* core/perm.h actions; NONE: any signed-in user (or anyone, on a public route) */
#define NONE PERM_NONE
#define P_PROTO PERM_PROTOCOL_READ
#define P_VIEW PERM_DATA_READ
#define P_SCREEN PERM_SCREEN
#define P_ENROL PERM_ENROLL
#define P_ENTER PERM_DATA_WRITE
#define P_STATUS PERM_FORM_STATUS
#define P_AUDIT PERM_AUDIT_READ
#define P_USERS PERM_USER_MANAGE
#define P_SITES PERM_SITE_MANAGE
#define P_QRAISE PERM_QUERY_RAISE
#define P_QANSWER PERM_QUERY_ANSWER
#define P_QCLOSE PERM_QUERY_CLOSE
#define P_SDV PERM_SDV
#define P_SIGN PERM_SIGN
#define P_LOCK PERM_LOCK
#define P_UNLOCK PERM_UNLOCK

#define PUB RT_PUBLIC
#define CSRF RT_CSRF
#define LOCK RT_RECORD_LOCK
#define HTML RT_HTML
#define REDCAP RT_REDCAP
#define NODB RT_NO_DB
#define CACHE RT_CACHE

/* clang-format off */
const struct route http_routes[] = {
    /* method     pattern                                          handler               permission flags                KiB */
    {HTTP_GET,  "/healthz",                                        api_health_get,           NONE,    PUB | NODB,            0},
    {HTTP_GET,  "/static/{name}",                                  static_get,           NONE,    PUB | NODB,            0},

    {HTTP_POST, "/api/v1/login",                                   api_login_post,       NONE,    PUB,                   4},
    {HTTP_POST, "/api/v1/logout",                                  api_logout_post,      NONE,    CSRF,                  1},
    {HTTP_GET,  "/api/v1/me",                                      api_me_get,           NONE,    0,                     0},
    {HTTP_POST, "/api/v1/tokens",                                  api_tokens_post,      NONE,    CSRF,                  1},
    {HTTP_GET,  "/api/v1/tokens",                                  api_tokens_get,       NONE,    0,                     0},
    {HTTP_POST, "/api/v1/tokens/{token}/revoke",                   api_token_revoke_post, NONE,   CSRF,                  1},
    {HTTP_GET,  "/api/v1/protocol",                                api_protocol_get,     P_PROTO,  0,                     0},
    {HTTP_GET,  "/api/v1/screening",                               api_screening_get,    P_VIEW,  0,                     0},
    {HTTP_POST, "/api/v1/screening",                               api_screening_post,   P_SCREEN, CSRF,                64},
    {HTTP_GET,  "/api/v1/records",                                 api_records_get,      P_VIEW,  0,                     0},
    {HTTP_GET,  "/api/v1/records/{id}",                            api_record_get,       P_VIEW,  CACHE,                 0},
    {HTTP_GET,  "/api/v1/records/{id}/eligibility",                api_eligibility_get,  P_VIEW,  0,                     0},
    {HTTP_POST, "/api/v1/records/{id}/enrol",                      api_enrol_post,       P_ENROL, CSRF | LOCK,          16},
    {HTTP_GET,  "/api/v1/records/{id}/forms/{form}",               api_form_get,         P_VIEW,  CACHE,                 0},
    {HTTP_POST, "/api/v1/records/{id}/values",                     api_values_post,      P_ENTER, CSRF | LOCK,          64},
    {HTTP_POST, "/api/v1/records/{id}/lock",                       api_record_lock_post, P_LOCK,  CSRF | LOCK,           4},
    {HTTP_POST, "/api/v1/records/{id}/unlock",                     api_record_unlock_post, P_UNLOCK, CSRF,                4},
    {HTTP_GET,  "/api/v1/records/{id}/stopwatch",                  api_stopwatch_get,    P_VIEW,  0,                     0},
    {HTTP_POST, "/api/v1/records/{id}/stopwatch",                  api_stopwatch_post,   P_ENTER, CSRF | LOCK,           4},
    {HTTP_POST, "/api/v1/records/{id}/forms/{form}/status",        api_form_status_post, P_STATUS, CSRF | LOCK,           4},
    {HTTP_GET,  "/api/v1/records/{id}/history/{field}",            api_field_history_get, P_VIEW,  0,                    0},
    {HTTP_GET,  "/api/v1/records/{id}/audit",                      api_record_audit_get, P_AUDIT, 0,                     0},
    {HTTP_GET,  "/api/v1/records/{id}/signatures",                 api_record_signatures_get, P_VIEW, 0,                0},
    {HTTP_POST, "/api/v1/records/{id}/signatures",                 api_record_signatures_post, P_SIGN, CSRF | LOCK,     4},
    {HTTP_GET,  "/api/v1/sdv",                                     api_sdv_get,          P_VIEW,  0,                     0},
    {HTTP_GET,  "/api/v1/records/{id}/sdv",                        api_record_sdv_get,   P_VIEW,  0,                     0},
    {HTTP_POST, "/api/v1/records/{id}/sdv",                        api_record_sdv_post,  P_SDV,   CSRF | LOCK,           4},
    {HTTP_GET,  "/api/v1/queries",                                 api_queries_get,      P_VIEW,  0,                     0},
    {HTTP_POST, "/api/v1/queries",                                 api_queries_post,     P_QRAISE, CSRF,                 8},
    {HTTP_GET,  "/api/v1/queries/{qid}",                           api_query_get,        P_VIEW,  0,                     0},
    {HTTP_POST, "/api/v1/queries/{qid}/answer",                    api_query_answer_post, P_QANSWER, CSRF,              64},
    {HTTP_POST, "/api/v1/queries/{qid}/close",                     api_query_close_post, P_QCLOSE, CSRF,                 8},
    {HTTP_POST, "/api/v1/queries/{qid}/reopen",                    api_query_reopen_post, P_QCLOSE, CSRF,                8},
    {HTTP_GET,  "/api/v1/users",                                   api_users_get,        P_USERS, 0,                     0},
    {HTTP_POST, "/api/v1/users",                                   api_users_post,       P_USERS, CSRF,                  4},
    {HTTP_POST, "/api/v1/users/{name}/unlock",                     api_user_unlock_post, P_USERS, CSRF,                  1},
    {HTTP_POST, "/api/v1/users/{name}/disable",                    api_user_disable_post, P_USERS, CSRF,                 1},
    {HTTP_GET,  "/api/v1/users/{name}/tokens",                     api_user_tokens_get,  P_USERS, 0,                     0},
    {HTTP_POST, "/api/v1/users/{name}/tokens/{token}/revoke",      api_user_token_revoke_post, P_USERS, CSRF,            1},
    {HTTP_GET,  "/api/v1/sites",                                   api_sites_get,        P_PROTO, 0,                     0},
    {HTTP_POST, "/api/v1/sites",                                   api_sites_post,       P_SITES, CSRF,                  1},
    {HTTP_POST, "/api/v1/records/{id}/site",                       api_record_site_post, P_SITES, CSRF | LOCK,           1},
    {HTTP_GET,  "/api/v1/users/{name}/sites",                      api_user_sites_get,   P_USERS, 0,                     0},
    {HTTP_POST, "/api/v1/users/{name}/sites",                      api_user_sites_post,  P_USERS, CSRF,                  4},
    {HTTP_GET,  "/api/v1/db",                                      api_db_get,           P_VIEW,  0,                     0},
    {HTTP_POST, "/api/v1/db/freeze",                               api_db_freeze_post,   P_LOCK,  CSRF,                  4},
    {HTTP_POST, "/api/v1/db/unfreeze",                             api_db_unfreeze_post, P_UNLOCK, CSRF,                 4},
    {HTTP_POST, "/api/v1/db/lock",                                 api_db_lock_post,     P_LOCK,  CSRF,                  4},
    {HTTP_POST, "/api/v1/db/unlock",                               api_db_unlock_post,   P_UNLOCK, CSRF,                 4},

    /* REDCap's API: public here, the handler checks the body's token= and each content's
     * permission (api_redcap.c); a body up to 32 MiB (REDCap's recommended post_max_size: an
     * import of a few thousand records), read before the token can be checked
     * (docs/operations.md, "Limits") */
    {HTTP_POST, "/api/",                                           api_redcap_post,      NONE,    PUB | REDCAP,      32768},

    {HTTP_GET,  "/login",                                          page_login_get,       NONE,    PUB | HTML,            0},
    {HTTP_POST, "/login",                                          page_login_post,      NONE,    PUB | HTML,            4},
    {HTTP_POST, "/logout",                                         page_logout_post,     NONE,    CSRF | HTML,           1},
    {HTTP_GET,  "/",                                               page_dashboard,       P_VIEW,  HTML,                  0},
    {HTTP_GET,  "/screening",                                      page_screening,       P_VIEW,  HTML,                  0},
    {HTTP_GET,  "/screening/new",                                  page_screening_new,   P_SCREEN, HTML,                 0},
    {HTTP_POST, "/screening/new",                                  page_screening_post,  P_SCREEN, CSRF | HTML,         64},
    {HTTP_GET,  "/records/{id}",                                   page_subject,         P_VIEW,  HTML,                  0},
    {HTTP_POST, "/records/{id}/enrol",                             page_enrol_post,      P_ENROL, CSRF | LOCK | HTML,   16},
    {HTTP_GET,  "/records/{id}/forms/{event}/{form}",              page_form,            P_VIEW,  HTML,                  0},
    {HTTP_POST, "/records/{id}/forms/{event}/{form}",              page_form_post,       P_ENTER, CSRF | LOCK | HTML,   64},
    {HTTP_GET,  "/forms/{form}/logic.js",                          form_logic_js,        P_PROTO, 0,                     0},
    {HTTP_GET,  "/records/{id}/stopwatch",                         page_stopwatch,       P_ENTER, HTML,                  0},
    {HTTP_GET,  "/records/{id}/history/{field}",                   page_history,         P_VIEW,  HTML,                  0},
    {HTTP_GET,  "/records/{id}/casebook",                          page_casebook,        P_VIEW,  HTML,                  0},
    {HTTP_POST, "/records/{id}/lock",                              page_record_lock_post, P_LOCK, CSRF | LOCK | HTML,     1},
    {HTTP_POST, "/records/{id}/unlock",                            page_record_unlock_post, P_UNLOCK, CSRF | HTML,        1},
    {HTTP_POST, "/records/{id}/forms/{event}/{form}/lock",         page_form_lock_post,  P_LOCK,  CSRF | LOCK | HTML,    1},
    {HTTP_POST, "/records/{id}/forms/{event}/{form}/unlock",       page_form_unlock_post, P_UNLOCK, CSRF | HTML,         1},
    {HTTP_POST, "/records/{id}/forms/{event}/{form}/sdv",          page_form_sdv_post,   P_SDV,   CSRF | LOCK | HTML,    4},
    {HTTP_POST, "/records/{id}/sign",                              page_sign_post,       P_SIGN,  CSRF | LOCK | HTML,    4},
    {HTTP_GET,  "/queries",                                        page_queries,         P_VIEW,  HTML,                  0},
    {HTTP_POST, "/queries",                                        page_queries_post,    P_QRAISE, CSRF | HTML,          8},
    {HTTP_GET,  "/queries/{qid}",                                  page_query,           P_VIEW,  HTML,                  0},
    {HTTP_POST, "/queries/{qid}/answer",                           page_query_answer_post, P_QANSWER, CSRF | HTML,      16},
    {HTTP_POST, "/queries/{qid}/close",                            page_query_close_post, P_QCLOSE, CSRF | HTML,         8},
    {HTTP_POST, "/queries/{qid}/reopen",                           page_query_reopen_post, P_QCLOSE, CSRF | HTML,        8},
    {HTTP_GET,  "/users",                                          page_users,           P_USERS, HTML,                  0},
    {HTTP_POST, "/users",                                          page_users_post,      P_USERS, CSRF | HTML,           4},
    {HTTP_GET,  "/study",                                          page_study,           P_VIEW,  HTML,                  0},
    {HTTP_POST, "/study/freeze",                                   page_study_freeze_post, P_LOCK, CSRF | HTML,          4},
    {HTTP_POST, "/study/unfreeze",                                 page_study_unfreeze_post, P_UNLOCK, CSRF | HTML,      4},
    {HTTP_POST, "/study/sign",                                     page_study_sign_post, P_SIGN,  CSRF | HTML,           4},
    {HTTP_POST, "/study/lock",                                     page_study_lock_post, P_LOCK,  CSRF | HTML,           4},
    {HTTP_POST, "/study/unlock",                                   page_study_unlock_post, P_UNLOCK, CSRF | HTML,        4},
};
/* clang-format on */

const size_t http_nroutes = sizeof http_routes / sizeof http_routes[0];

void http_routes_json(struct strbuf *out)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < http_nroutes; i++) {
        const struct route *rt = &http_routes[i];
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:o, s:b, s:b, s:b, s:b, s:i}", "method",
                         http_method_name(rt->method), "pattern", rt->pattern, "permission",
                         rt->permission != PERM_NONE ? json_string(perm_action_name(rt->permission))
                                                     : json_null(),
                         "public", (rt->flags & RT_PUBLIC) != 0, "csrf", (rt->flags & RT_CSRF) != 0,
                         "record_lock", (rt->flags & RT_RECORD_LOCK) != 0, "html",
                         (rt->flags & RT_HTML) != 0, "max_body", (int)rt->max_body_kib * 1024));
    }
    char *s = a ? json_out_dumps(a, JSON_INDENT(1)) : NULL;
    json_decref(a);
    if (s) {
        strbuf_adds(out, s);
        strbuf_addc(out, '\n');
        free(s);
    }
}
