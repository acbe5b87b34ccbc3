/*
 * sqlstate.c: SQLSTATE -> API error (see sqlstate.h).
 */
#include <stdio.h>
#include <string.h>
#include "db/sqlstate.h"
#include "common/log.h"

hdf_error_t db_error_from_result(const PGresult *res)
{
    if (res == NULL)
        return HDF_E_UNAVAILABLE;
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return HDF_OK;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (state == NULL)
        return HDF_E_INTERNAL;
    if (strcmp(state, "55P03") == 0) /* lock_not_available: SET LOCAL lock_timeout expired */
        return HDF_E_LOCK_TIMEOUT;
    /* 23505 unique and 23503 foreign-key violations: db_conflict_describe says which */
    if (strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0 || strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
        return HDF_E_CONFLICT;
    /* HD001: a limit a migration enforces (the constraint name says which) */
    if (strcmp(state, "HD001") == 0)
        return HDF_E_CONFLICT;
    /* connection exceptions, admin shutdown, crash recovery, too many connections, and a schema
     * that is not migrated yet: the service is not available, retrying later can succeed */
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 || strcmp(state, "53300") == 0 ||
        strcmp(state, "42P01") == 0 || strcmp(state, "57014") == 0)
        return HDF_E_UNAVAILABLE;
    return HDF_E_INTERNAL;
}

/* Constraint -> what the caller is told. Names are Postgres's defaults or set in migrations/. */
static const struct {
    const char *constraint, *field, *code, *detail;
} conflicts[] = {
    {"teams_workspace_name_key", "name", "duplicate",
     "a team with this name already exists in this workspace (names are compared case-insensitively)"},
    {"agents_workspace_email_key", "email", "duplicate", "an agent with this email already exists in this workspace"},
    {"custom_fields_workspace_object_key_key", "key", "duplicate", "a custom field with this key already exists for this object"},
    {"sla_policies_workspace_priority_key", "priority", "duplicate",
     "an SLA policy for this priority already exists in this workspace (one per priority)"},
    {"agent_teams_team_id_fkey", "team_ids", "not_found", "a team in team_ids was deleted while the agent was being saved"},
    /* customers: races the customer statements' own checks lost to a concurrent write */
    {"customers_workspace_email_key", "email", "duplicate", "another customer took this email concurrently; retry"},
    {"customer_external_profiles_provider_key", "external_profiles", "duplicate",
     "an external profile was attached to another customer concurrently; retry"},
    /* Seam for tickets (ON DELETE RESTRICT): deleting a team or agent that tickets refer to. */
    {"tickets_team_fkey", NULL, NULL, "tickets refer to this team; reassign or delete them first"},
    {"automation_rules_per_workspace", NULL, NULL, "a workspace has at most 200 automation rules; delete or combine some first"},
    {"automation_rule_teams_team_fkey", "team_ids", "not_found",
     "an automation rule and this team changed concurrently: a rule refers to the team, or the team it names was deleted"},
    {"automation_rule_agents_agent_fkey", "agent_ids", "not_found",
     "an automation rule and this agent changed concurrently: a rule refers to the agent, or the agent it names was deleted"},
    {"automation_rule_fields_field_fkey", "key", "not_found",
     "an automation rule and this custom field changed concurrently: a rule refers to the field, or the field it names was "
     "deleted"},
    {"tickets_assignee_fkey", NULL, NULL, "tickets are assigned to this agent; reassign them first"},
};

void db_conflict_describe(const PGresult *res, struct hdf_db_conflict *out)
{
    const char *cons = res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *table = res != NULL ? PQresultErrorField(res, PG_DIAG_TABLE_NAME) : NULL;
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    out->field = out->code = NULL;
    for (size_t i = 0; cons != NULL && i < sizeof(conflicts) / sizeof(conflicts[0]); i++) {
        if (strcmp(cons, conflicts[i].constraint) == 0) {
            out->field = conflicts[i].field;
            out->code = conflicts[i].code;
            strlcpy(out->detail, conflicts[i].detail, sizeof(out->detail));
            return;
        }
    }
    if (state != NULL && strcmp(state, "23503") == 0 && table != NULL)
        snprintf(out->detail, sizeof(out->detail), "rows of %s still refer to this object", table);
    else if (state != NULL && strcmp(state, "23505") == 0)
        strlcpy(out->detail, "an object with these values already exists", sizeof(out->detail));
    else
        strlcpy(out->detail, "the request conflicts with a concurrent change; retry", sizeof(out->detail));
}

void db_log_error(const char *what, const PGresult *res)
{
    char msg[256] = "", constraint[128] = "";
    const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *cons = res != NULL ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    /* the primary message of a check or type error can quote input; only the SQLSTATE class
     * for data exceptions (22xxx) and integrity violations (23xxx) */
    if (primary != NULL && state != NULL && strncmp(state, "22", 2) != 0 && strncmp(state, "23", 2) != 0)
        log_escape(primary, msg, sizeof(msg));
    if (cons != NULL)
        log_escape(cons, constraint, sizeof(constraint));
    log_line(HDF_LOG_ERROR, "database error", "\"what\":\"%s\",\"sqlstate\":\"%s\",\"constraint\":\"%s\",\"message\":\"%s\"", what,
             state != NULL ? state : "", constraint, msg);
}

const char *db_sqlstate(const PGresult *res)
{
    const char *st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return st != NULL ? st : "";
}
