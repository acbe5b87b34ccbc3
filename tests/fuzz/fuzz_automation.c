/*
 * fuzz_automation.c: libFuzzer target for automation/ (rule parsing, ruleset building and one
 * pass). The input is one JSON object {rules: [rule definitions], event: 1|2|4, ticket, previous,
 * customer, message}. Beyond not crashing or leaking, it checks: a rule that parses yields refs
 * arrays; a pass returns 0 without a conflict or 1 with one; matched rules are at most the rules,
 * effects and notes come from matched rules only; every effect changes something; a second pass
 * over a fresh copy of the same state gives the same final state and result (no hidden state).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "automation/automation.h"

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (!(cond))                                                                                                               \
            abort();                                                                                                               \
    } while (0)

/* The definitions that parse, as the [{id, rule}] rows a ruleset is built from. */
static json_t *valid_rules(const json_t *defs)
{
    json_t *rows = json_array(), *def;
    size_t i;
    json_array_foreach(defs, i, def)
    {
        struct hdf_auto_rule r;
        struct hdf_auto_refs refs;
        hdf_field_errors_t fe = {0};
        if (automation_rule_parse(def, (int64_t)i + 1, &r, &refs, &fe) == 0) {
            CHECK(field_errors_count(&fe) == 0 && r.nactions > 0 && json_is_array(refs.team_ids));
            json_array_append_new(rows, json_pack("{s:I, s:O}", "id", (json_int_t)i + 1, "rule", def));
            automation_rule_free(&r);
        } else {
            CHECK(field_errors_count(&fe) > 0);
        }
        automation_refs_free(&refs);
        field_errors_clear(&fe);
    }
    return rows;
}

static int run_once(const struct hdf_auto_ruleset *rs, const json_t *in, unsigned ev, json_t **final, char **result)
{
    json_t *ticket = json_deep_copy(json_object_get(in, "ticket"));
    if (!json_is_object(ticket)) {
        json_decref(ticket);
        ticket = json_object();
    }
    json_t *msg = json_object_get(in, "message");
    struct hdf_auto_subject s = {.ticket = ticket,
                                 .previous = json_object_get(in, "previous"),
                                 .customer = json_object_get(in, "customer"),
                                 .message_text = json_is_string(msg) ? json_string_value(msg) : NULL,
                                 .message_author_type = "agent"};
    struct hdf_auto_result res;
    int rc = automation_run(rs, ev, &s, 1, &res);
    CHECK(rc == 0 || rc == 1);
    CHECK((rc == 1) == (res.conflict != NULL));
    CHECK(json_array_size(res.matched) <= rs->n && json_array_size(res.trace) <= rs->n);
    CHECK(json_array_size(res.effects) <= json_array_size(res.matched));
    size_t i;
    json_t *e;
    json_array_foreach(res.effects, i, e) CHECK(json_object_size(json_object_get(e, "changes")) > 0);
    json_t *all = json_pack("{s:O, s:O, s:O, s:O?}", "matched", res.matched, "effects", res.effects, "notes", res.notes, "conflict",
                            res.conflict);
    *result = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(all);
    automation_result_free(&res);
    *final = ticket;
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!json_is_object(in) || !json_is_array(json_object_get(in, "rules"))) {
        json_decref(in);
        return 0;
    }
    json_t *rows = valid_rules(json_object_get(in, "rules"));
    size_t skipped;
    struct hdf_auto_ruleset *rs = automation_ruleset_build(rows, 1, &skipped);
    CHECK(skipped == 0 && rs->n <= json_array_size(rows));
    json_int_t evn = json_integer_value(json_object_get(in, "event"));
    unsigned ev = evn == 2 ? HDF_AUTO_EV_TICKET_UPDATED : evn == 4 ? HDF_AUTO_EV_MESSAGE_CREATED : HDF_AUTO_EV_TICKET_CREATED;
    json_t *f1, *f2;
    char *r1, *r2;
    int rc1 = run_once(rs, in, ev, &f1, &r1), rc2 = run_once(rs, in, ev, &f2, &r2);
    CHECK(rc1 == rc2 && strcmp(r1, r2) == 0);
    CHECK(rc1 == 1 || json_equal(f1, f2));
    free(r1);
    free(r2);
    json_decref(f1);
    json_decref(f2);
    automation_ruleset_release(rs);
    json_decref(rows);
    json_decref(in);
    return 0;
}
