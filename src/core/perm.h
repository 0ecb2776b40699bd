/* Roles and what each may do: one table, role x action (perm.c), the only place permissions
 * are decided. The HTTP router and the CLI look a route's or command's action up here.
 *
 *   action          admin  investigator  coordinator  monitor  data_manager  statistician
 *   user_manage       x
 *   protocol_read     x         x             x          x          x             x
 *   screen            x         x             x
 *   enroll            x         x             x
 *   data_read         x         x             x          x          x             x (1)
 *   data_write        x         x             x
 *   form_status       x         x             x
 *   reason_change     x         x             x
 *   audit_read        x         x                        x          x
 *   audit_verify      x                                             x
 *   export            x                                             x             x (1)
 *   analyse           x                                                           x
 *   query_raise       x                                  x          x
 *   query_answer      x         x             x
 *   query_close       x                                  x          x
 *   sdv               x                                  x
 *   sign                        x
 *   lock              x                                             x
 *   unlock            x                                             x
 *   settings          x
 *   site_manage       x
 *
 * sign is the investigator's alone: an electronic signature attests the signer's own review,
 * so not even admin holds it. (1) The statistician should see no direct identifiers; that is
 * a property of the data served (de-identified exports), not of this table, and is not
 * enforced yet. docs/security.md keeps the same matrix for people. */
#ifndef IOHEME_CORE_PERM_H
#define IOHEME_CORE_PERM_H

#include <stdbool.h>

enum role {
    ROLE_ADMIN,
    ROLE_INVESTIGATOR,
    ROLE_COORDINATOR,
    ROLE_MONITOR,
    ROLE_DATA_MANAGER,
    ROLE_STATISTICIAN,
    ROLE__COUNT
};

enum perm_action {
    PERM_USER_MANAGE,
    PERM_PROTOCOL_READ,
    PERM_SCREEN,
    PERM_ENROLL,
    PERM_DATA_READ,
    PERM_DATA_WRITE,
    PERM_FORM_STATUS,
    PERM_REASON_CHANGE,
    PERM_AUDIT_READ,
    PERM_AUDIT_VERIFY,
    PERM_EXPORT,
    PERM_ANALYSE,
    PERM_QUERY_RAISE,
    PERM_QUERY_ANSWER,
    PERM_QUERY_CLOSE,
    PERM_SDV,
    PERM_SIGN,
    PERM_LOCK,
    PERM_UNLOCK,
    PERM_SETTINGS,       /* the study's settings: the site time zone */
    PERM_REDACT,         /* redact personal data typed into a value (ioheme redact) */
    PERM_IDENTIFIERS,    /* see identifier fields in clear (others see them masked) */
    PERM_PROTOCOL_AMEND, /* apply a protocol amendment (a new protocol version) */
    PERM_SITE_MANAGE,    /* add sites, move a record to another site */
    PERM__COUNT,
    PERM_NONE = PERM__COUNT /* no action beyond being signed in (a route, a command) */
};

/* Whether role may do action; false for values out of range. */
bool perm_allows(enum role role, enum perm_action action);

/* Names as stored and typed: "data_manager", "query_raise". Static strings; "?" when out of
 * range. */
const char *role_name(enum role role);
const char *perm_action_name(enum perm_action action);
/* What the action lets a person do, in words for messages and pages: "manage users",
 * "change data on a complete form". Static strings; "?" when out of range. */
const char *perm_action_label(enum perm_action action);

/* Name to enum: 0 and *out set, or ERR_NOT_FOUND (-3) for an unknown name. */
int role_from_name(const char *name, enum role *out);
int perm_action_from_name(const char *name, enum perm_action *out);

#endif
