/* The permission table: one row per action, one column per role (see perm.h for the matrix
 * as a picture and the reasons). */
#include "core/perm.h"

#include <string.h>

#include "base/err.h"

static const char *const role_names[ROLE__COUNT] = {
    [ROLE_ADMIN] = "admin",
    [ROLE_INVESTIGATOR] = "investigator",
    [ROLE_COORDINATOR] = "coordinator",
    [ROLE_MONITOR] = "monitor",
    [ROLE_DATA_MANAGER] = "data_manager",
    [ROLE_STATISTICIAN] = "statistician",
};

/* clang-format off */
static const struct {
    const char *name;
    bool allow[ROLE__COUNT]; /* admin, investigator, coordinator, monitor, data_manager, stat */
    const char *label;
} actions[PERM__COUNT] = {
    /*                                        adm inv coo mon dm  sta */
    [PERM_USER_MANAGE] = {"user_manage",     {1,  0,  0,  0,  0,  0}, "manage users"},
    [PERM_PROTOCOL_READ] = {"protocol_read", {1,  1,  1,  1,  1,  1}, "read the protocol"},
    [PERM_SCREEN] = {"screen",               {1,  1,  1,  0,  0,  0}, "screen patients"},
    [PERM_ENROLL] = {"enroll",               {1,  1,  1,  0,  0,  0}, "enrol patients"},
    [PERM_DATA_READ] = {"data_read",         {1,  1,  1,  1,  1,  1}, "read study data"},
    [PERM_DATA_WRITE] = {"data_write",       {1,  1,  1,  0,  0,  0}, "enter or change data"},
    [PERM_FORM_STATUS] = {"form_status",     {1,  1,  1,  0,  0,  0}, "mark forms complete or incomplete"},
    [PERM_REASON_CHANGE] = {"reason_change", {1,  1,  1,  0,  0,  0}, "change data on a complete form"},
    [PERM_AUDIT_READ] = {"audit_read",       {1,  1,  0,  1,  1,  0}, "read the audit trail"},
    [PERM_AUDIT_VERIFY] = {"audit_verify",   {1,  0,  0,  0,  1,  0}, "verify the whole audit trail"},
    [PERM_EXPORT] = {"export",               {1,  0,  0,  0,  1,  1}, "export data"},
    [PERM_ANALYSE] = {"analyse",             {1,  0,  0,  0,  0,  1}, "run the analysis"},
    [PERM_QUERY_RAISE] = {"query_raise",     {1,  0,  0,  1,  1,  0}, "raise queries"},
    [PERM_QUERY_ANSWER] = {"query_answer",   {1,  1,  1,  0,  0,  0}, "answer queries"},
    [PERM_QUERY_CLOSE] = {"query_close",     {1,  0,  0,  1,  1,  0}, "close queries"},
    [PERM_SDV] = {"sdv",                     {1,  0,  0,  1,  0,  0}, "verify data against source documents"},
    [PERM_SIGN] = {"sign",                   {0,  1,  0,  0,  0,  0}, "sign casebooks"},
    [PERM_LOCK] = {"lock",                   {1,  0,  0,  0,  1,  0}, "lock records"},
    [PERM_UNLOCK] = {"unlock",               {1,  0,  0,  0,  1,  0}, "unlock records"},
    [PERM_SETTINGS] = {"settings",           {1,  0,  0,  0,  0,  0}, "change the study's settings (the site time zone)"},
    [PERM_IDENTIFIERS] = {"identifiers",     {1,  1,  1,  1,  0,  0}, "see identifier fields (hospital number) in clear"},
    [PERM_REDACT] = {"redact",               {1,  0,  0,  0,  0,  0}, "redact personal data from values and the views of the trail"},
    [PERM_PROTOCOL_AMEND] = {"protocol_amend", {1, 0,  0,  0,  0,  0}, "amend the protocol: a new protocol version on the live database"},
    [PERM_SITE_MANAGE] = {"site_manage",     {1,  0,  0,  0,  0,  0}, "add sites and move records between sites"},
};
/* clang-format on */

bool perm_allows(enum role role, enum perm_action action)
{
    if ((unsigned)role >= ROLE__COUNT || (unsigned)action >= PERM__COUNT)
        return false;
    return actions[action].allow[role];
}

const char *role_name(enum role role)
{
    return (unsigned)role < ROLE__COUNT ? role_names[role] : "?";
}

const char *perm_action_name(enum perm_action action)
{
    return (unsigned)action < PERM__COUNT ? actions[action].name : "?";
}

const char *perm_action_label(enum perm_action action)
{
    return (unsigned)action < PERM__COUNT ? actions[action].label : "?";
}

int role_from_name(const char *name, enum role *out)
{
    for (int i = 0; i < ROLE__COUNT; i++)
        if (strcmp(role_names[i], name) == 0) {
            *out = (enum role)i;
            return 0;
        }
    return ERR_NOT_FOUND;
}

int perm_action_from_name(const char *name, enum perm_action *out)
{
    for (int i = 0; i < PERM__COUNT; i++)
        if (strcmp(actions[i].name, name) == 0) {
            *out = (enum perm_action)i;
            return 0;
        }
    return ERR_NOT_FOUND;
}
