/*
 * ticket_rules.c: automation rules on the request path (ticket_rules.h). Evaluation is pure C over
 * the per-thread cache (automation/rules_cache.h); the only query is the load after a write
 * statement found the cached version stale, so a request whose rules are current costs none.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "automation/rules_cache.h"
#include "common/json_util.h"
#include "common/log.h"
#include "handlers/ticket_rules.h"
#include "http/respond.h"

struct hdf_auto_ruleset *ticket_rules_get(struct hdf_req *r)
{
    struct hdf_auto_ruleset *rs = rules_cache_get(r->auth.workspace_id);
    if (rs != NULL)
        return rs;
    json_t *none = json_array();
    size_t skipped;
    rs = automation_ruleset_build(none, 0, &skipped);
    json_decref(none);
    rules_cache_put(r->auth.workspace_id, rs);
    return rs;
}

void ticket_rules_query(struct hdf_req *r, hdf_query_done_fn done)
{
    char ws[24];
    snprintf(ws, sizeof(ws), "%lld", (long long)r->auth.workspace_id);
    const char *params[] = {ws};
    request_query(r, HDF_STMT_AUTOMATION_RULES_LOAD, params, NULL, done);
}

void ticket_rules_store(struct hdf_req *r, PGresult *res)
{
    json_t *rules = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    size_t skipped;
    struct hdf_auto_ruleset *rs = automation_ruleset_build(rules, strtoll(PQgetvalue(res, 0, 0), NULL, 10), &skipped);
    json_decref(rules);
    if (skipped > 0) /* they were validated when written: a rule that no longer parses is a bug */
        log_line(HDF_LOG_WARN, "automation rules skipped", "\"workspace_id\":%lld,\"skipped\":%zu", (long long)r->auth.workspace_id,
                 skipped);
    rules_cache_put(r->auth.workspace_id, rs);
    automation_ruleset_release(rs);
}

struct hdf_auto_ruleset *ticket_rules_reload(struct hdf_req *r, PGresult *res, struct hdf_auto_ruleset *old)
{
    ticket_rules_store(r, res);
    automation_ruleset_release(old);
    return ticket_rules_get(r);
}

static const char *dump_or_null(struct hdf_req *r, const json_t *a)
{
    if (json_array_size(a) == 0)
        return NULL;
    size_t len;
    char *s = json_dump_compact(a, &len), *copy = request_strdup(r, s);
    free(s);
    return copy;
}

int ticket_rules_run(struct hdf_req *r, const struct hdf_auto_ruleset *rs, unsigned event, struct hdf_auto_subject *s, int fresh,
                     struct hdf_rules_out *out)
{
    struct hdf_auto_result res;
    memset(out, 0, sizeof(*out));
    if (!(rs->events & event))
        return 0;
    if (automation_run(rs, event, s, 0, &res) != 0) {
        json_t *c = res.conflict;
        if (!fresh) {
            automation_result_free(&res);
            return 1;
        }
        respond_problem_member(r, HDF_E_AUTOMATION_CONFLICT, json_string_value(json_object_get(c, "detail")), "rule_ids",
                               json_incref(json_object_get(c, "rule_ids")));
        automation_result_free(&res);
        return -1;
    }
    out->effects = dump_or_null(r, res.effects);
    out->notes = dump_or_null(r, res.notes);
    automation_result_free(&res);
    return 0;
}
