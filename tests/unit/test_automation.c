/*
 * test_automation.c: tests automation/ (rule parsing and validation paths, every op, all/any,
 * ordering and ties, once per pass, effects visible to later rules, conflicts, change sets and
 * notes, the rules cache).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "automation/automation.h"
#include "automation/rules_cache.h"

#define TICKET                                                                                                                     \
    "{\"subject\": \"Refund for ORDER 42\", \"status\": \"new\", \"priority\": \"normal\", \"channel\": \"email\","                \
    " \"customer_id\": 7, \"team_id\": null, \"assignee_id\": 3, \"tags\": [\"billing\", \"vip\"],"                                \
    " \"custom_fields\": {\"tier\": \"gold\", \"seats\": 12, \"renewal\": \"2026-03-01\", \"trial\": false}}"
#define CUSTOMER                                                                                                                   \
    "{\"email\": \"ada@example.com\", \"name\": \"Ada\", \"tags\": [\"enterprise\"], \"custom_fields\": {\"plan\": \"pro\"}}"

static json_t *parse(const char *s)
{
    json_error_t err;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &err);
    if (j == NULL)
        fail_msg("bad test JSON: %s: %s", err.text, s);
    return j;
}

/* A ruleset from "[{id, rule}, ...]" text where every rule must parse. */
static struct hdf_auto_ruleset *ruleset(const char *rules)
{
    json_t *j = parse(rules);
    size_t skipped;
    struct hdf_auto_ruleset *rs = automation_ruleset_build(j, 1, &skipped);
    json_decref(j);
    assert_int_equal(skipped, 0);
    return rs;
}

/* One rule {id 1, events [event], conditions: {all: [cond]}, actions: set a tag "hit"}. */
static char *one_rule(const char *event, const char *cond)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf),
             "[{\"id\": 1, \"rule\": {\"name\": \"r\", \"events\": [\"%s\"], \"conditions\": {\"all\": [%s]},"
             " \"actions\": [{\"type\": \"add_tags\", \"value\": [\"hit\"]}]}}]",
             event, cond);
    return buf;
}

struct run {
    json_t *ticket, *previous, *customer;
    struct hdf_auto_result res;
    int rc;
};

static void run_full(struct run *run, const char *rules, unsigned ev, const char *ticket, const char *previous, const char *message)
{
    struct hdf_auto_ruleset *rs = ruleset(rules);
    run->ticket = parse(ticket);
    run->previous = previous != NULL ? parse(previous) : NULL;
    run->customer = parse(CUSTOMER);
    struct hdf_auto_subject s = {.ticket = run->ticket,
                                 .previous = run->previous,
                                 .customer = run->customer,
                                 .message_text = message,
                                 .message_author_type = "customer"};
    run->rc = automation_run(rs, ev, &s, 1, &run->res);
    automation_ruleset_release(rs);
}

static void run_free(struct run *run)
{
    json_decref(run->ticket);
    json_decref(run->previous);
    json_decref(run->customer);
    automation_result_free(&run->res);
}

/* Whether the one-rule set with this condition matches on a create (message given). */
static int matches_ev(const char *event, unsigned ev, const char *cond, const char *ticket, const char *previous)
{
    struct run run;
    run_full(&run, one_rule(event, cond), ev, ticket, previous, "Hello <b>world</b>, I need a REFUND");
    assert_int_equal(run.rc, 0);
    int m = json_array_size(run.res.matched) == 1;
    run_free(&run);
    return m;
}

static int matches(const char *cond)
{
    return matches_ev("ticket.created", HDF_AUTO_EV_TICKET_CREATED, cond, TICKET, NULL);
}

static void test_ops_eq_ne_in(void **state)
{
    (void)state;
    assert_true(matches("{\"field\": \"status\", \"op\": \"eq\", \"value\": \"new\"}"));
    assert_false(matches("{\"field\": \"status\", \"op\": \"eq\", \"value\": \"open\"}"));
    assert_true(matches("{\"field\": \"priority\", \"op\": \"ne\", \"value\": \"high\"}"));
    assert_true(matches("{\"field\": \"team_id\", \"op\": \"eq\", \"value\": null}"));
    assert_true(matches("{\"field\": \"assignee_id\", \"op\": \"eq\", \"value\": 3}"));
    assert_true(matches("{\"field\": \"custom_fields.seats\", \"op\": \"eq\", \"value\": 12.0}"));
    assert_true(matches("{\"field\": \"custom_fields.missing\", \"op\": \"eq\", \"value\": null}"));
    assert_true(matches("{\"field\": \"channel\", \"op\": \"in\", \"value\": [\"web\", \"email\"]}"));
    assert_false(matches("{\"field\": \"channel\", \"op\": \"not_in\", \"value\": [\"web\", \"email\"]}"));
    assert_true(matches("{\"field\": \"assignee_id\", \"op\": \"in\", \"value\": [1, 3]}"));
    assert_false(matches("{\"field\": \"team_id\", \"op\": \"in\", \"value\": [1, 3]}"));
    assert_true(matches("{\"field\": \"team_id\", \"op\": \"not_in\", \"value\": [1, 3]}"));
    assert_true(matches("{\"field\": \"customer.email\", \"op\": \"eq\", \"value\": \"ada@example.com\"}"));
    assert_true(matches("{\"field\": \"customer.custom_fields.plan\", \"op\": \"in\", \"value\": [\"pro\"]}"));
    assert_true(matches("{\"field\": \"message.author_type\", \"op\": \"eq\", \"value\": \"customer\"}"));
    assert_true(matches("{\"field\": \"message.internal\", \"op\": \"eq\", \"value\": false}"));
    assert_false(matches("{\"field\": \"custom_fields.trial\", \"op\": \"ne\", \"value\": false}"));
}

static void test_ops_text(void **state)
{
    (void)state;
    assert_true(matches("{\"field\": \"subject\", \"op\": \"contains\", \"value\": \"order\"}"));
    assert_false(matches("{\"field\": \"subject\", \"op\": \"not_contains\", \"value\": \"ORDER\"}"));
    assert_true(matches("{\"field\": \"subject\", \"op\": \"not_contains\", \"value\": \"invoice\"}"));
    assert_true(matches("{\"field\": \"subject\", \"op\": \"starts_with\", \"value\": \"refund\"}"));
    assert_false(matches("{\"field\": \"subject\", \"op\": \"starts_with\", \"value\": \"order\"}"));
    assert_true(matches("{\"field\": \"message.body\", \"op\": \"contains\", \"value\": \"refund\"}"));
    assert_true(matches("{\"field\": \"customer.name\", \"op\": \"starts_with\", \"value\": \"a\"}"));
    assert_true(matches("{\"field\": \"custom_fields.tier\", \"op\": \"contains\", \"value\": \"OL\"}"));
    /* contains on a list is membership, not substring */
    assert_true(matches("{\"field\": \"tags\", \"op\": \"contains\", \"value\": \"VIP\"}"));
    assert_false(matches("{\"field\": \"tags\", \"op\": \"contains\", \"value\": \"vi\"}"));
    assert_true(matches("{\"field\": \"tags\", \"op\": \"not_contains\", \"value\": \"spam\"}"));
    assert_true(matches("{\"field\": \"customer.tags\", \"op\": \"contains\", \"value\": \"enterprise\"}"));
    /* a missing value contains nothing */
    assert_false(matches("{\"field\": \"custom_fields.nope\", \"op\": \"contains\", \"value\": \"x\"}"));
    assert_true(matches("{\"field\": \"custom_fields.nope\", \"op\": \"not_contains\", \"value\": \"x\"}"));
}

static void test_ops_compare(void **state)
{
    (void)state;
    assert_true(matches("{\"field\": \"custom_fields.seats\", \"op\": \"gt\", \"value\": 10}"));
    assert_false(matches("{\"field\": \"custom_fields.seats\", \"op\": \"gt\", \"value\": 12}"));
    assert_true(matches("{\"field\": \"custom_fields.seats\", \"op\": \"gte\", \"value\": 12}"));
    assert_true(matches("{\"field\": \"custom_fields.seats\", \"op\": \"lt\", \"value\": 12.5}"));
    assert_true(matches("{\"field\": \"custom_fields.seats\", \"op\": \"lte\", \"value\": 12}"));
    assert_false(matches("{\"field\": \"custom_fields.seats\", \"op\": \"lte\", \"value\": \"12\"}")); /* mixed types */
    assert_true(matches("{\"field\": \"custom_fields.renewal\", \"op\": \"lt\", \"value\": \"2026-04-01\"}"));
    assert_false(matches("{\"field\": \"custom_fields.none\", \"op\": \"lt\", \"value\": 5}"));
    /* priorities compare by rank: low < normal < high < urgent */
    assert_true(matches("{\"field\": \"priority\", \"op\": \"gt\", \"value\": \"low\"}"));
    assert_true(matches("{\"field\": \"priority\", \"op\": \"lte\", \"value\": \"normal\"}"));
    assert_false(matches("{\"field\": \"priority\", \"op\": \"gte\", \"value\": \"high\"}"));
    assert_true(matches("{\"field\": \"priority\", \"op\": \"lt\", \"value\": \"urgent\"}"));
}

static void test_ops_is_set(void **state)
{
    (void)state;
    assert_true(matches("{\"field\": \"assignee_id\", \"op\": \"is_set\"}"));
    assert_false(matches("{\"field\": \"team_id\", \"op\": \"is_set\", \"value\": true}"));
    assert_true(matches("{\"field\": \"team_id\", \"op\": \"is_set\", \"value\": false}"));
    assert_true(matches("{\"field\": \"tags\", \"op\": \"is_set\"}"));
    assert_false(matches("{\"field\": \"custom_fields.x\", \"op\": \"is_set\"}"));
    assert_true(matches("{\"field\": \"message.body\", \"op\": \"is_set\"}"));
}

#define UPD(cond, ticket, prev) matches_ev("ticket.updated", HDF_AUTO_EV_TICKET_UPDATED, cond, ticket, prev)

static void test_ops_changed(void **state)
{
    (void)state;
    const char *prev = "{\"status\": \"new\", \"priority\": \"low\", \"team_id\": null, \"tags\": [\"billing\", \"vip\"],"
                       " \"custom_fields\": {\"tier\": \"silver\", \"seats\": 12}}";
    assert_true(UPD("{\"field\": \"priority\", \"op\": \"changed\"}", TICKET, prev));
    assert_false(UPD("{\"field\": \"status\", \"op\": \"changed\"}", TICKET, prev));
    assert_true(UPD("{\"field\": \"priority\", \"op\": \"changed_to\", \"value\": \"normal\"}", TICKET, prev));
    assert_false(UPD("{\"field\": \"priority\", \"op\": \"changed_to\", \"value\": \"high\"}", TICKET, prev));
    assert_true(UPD("{\"field\": \"custom_fields.tier\", \"op\": \"changed_to\", \"value\": \"gold\"}", TICKET, prev));
    assert_false(UPD("{\"field\": \"custom_fields.seats\", \"op\": \"changed\"}", TICKET, prev));
    assert_false(UPD("{\"field\": \"tags\", \"op\": \"changed\"}", TICKET, prev));
    assert_true(UPD("{\"field\": \"assignee_id\", \"op\": \"changed\"}", TICKET, prev)); /* missing before: null -> 3 */
    /* no previous state: nothing changed */
    assert_false(UPD("{\"field\": \"priority\", \"op\": \"changed\"}", TICKET, NULL));
}

static int rule_matches_text(const char *rules)
{
    struct run run;
    run_full(&run, rules, HDF_AUTO_EV_TICKET_CREATED, TICKET, NULL, NULL);
    int m = (int)json_array_size(run.res.matched);
    run_free(&run);
    return m;
}

/* The rule sets below are JSON glued from macros; clang-format cannot lay them out stably. */
/* clang-format off */
static void test_all_any(void **state)
{
    (void)state;
#define R(conds)                                                                                                                   \
    "[{\"id\": 1, \"rule\": {\"name\": \"r\", \"events\": [\"ticket.created\"], \"conditions\": " conds                            \
    ", \"actions\": [{\"type\": \"set_status\", \"value\": \"open\"}]}}]"
#define T "{\"field\": \"status\", \"op\": \"eq\", \"value\": \"new\"}"
#define F "{\"field\": \"status\", \"op\": \"eq\", \"value\": \"open\"}"
    assert_int_equal(rule_matches_text(R("{}")), 1);
    assert_int_equal(rule_matches_text("[{\"id\": 1, \"rule\": {\"name\": \"r\", \"events\": [\"ticket.created\"], \"actions\": "
                                       "[{\"type\": \"set_status\", \"value\": \"open\"}]}}]"),
                     1);
    assert_int_equal(rule_matches_text(R("{\"all\": []}")), 1);
    assert_int_equal(rule_matches_text(R("{\"any\": []}")), 1);
    assert_int_equal(rule_matches_text(R("{\"all\": [" T ", " T "]}")), 1);
    assert_int_equal(rule_matches_text(R("{\"all\": [" T ", " F "]}")), 0);
    assert_int_equal(rule_matches_text(R("{\"any\": [" F ", " T "]}")), 1);
    assert_int_equal(rule_matches_text(R("{\"any\": [" F ", " F "]}")), 0);
    assert_int_equal(rule_matches_text(R("{\"all\": [" T "], \"any\": [" F "]}")), 0);
    assert_int_equal(rule_matches_text(R("{\"all\": [" F "], \"any\": [" T "]}")), 0);
    assert_int_equal(rule_matches_text(R("{\"all\": [" T "], \"any\": [" F ", " T "]}")), 1);
#undef R
}

#define RULE(id, pos, conds, actions)                                                                                              \
    "{\"id\": " #id ", \"rule\": {\"name\": \"rule " #id "\", \"position\": " #pos ", \"events\": [\"ticket.created\"],"           \
    " \"conditions\": " conds ", \"actions\": " actions "}}"

static void test_order_ties_and_visibility(void **state)
{
    (void)state;
    /* rule 5 (position 1) sets high; rule 9 (position 2) sees high and adds a tag; rule 2 at
     * position 3 (lower id than both) runs last; rule 1 and rule 3 tie at position 0: id order */
    const char *rules =
        "[" RULE(9, 2, "{\"all\": [{\"field\": \"priority\", \"op\": \"eq\", \"value\": \"high\"}]}", "[{\"type\": \"add_tags\", \"value\": [\"escalated\"]}]") ", " RULE(
            5, 1, "{}",
            "[{\"type\": \"set_priority\", \"value\": \"high\"}]") ", " RULE(2, 3,
                                                                             "{\"all\": [{\"field\": \"tags\", \"op\": "
                                                                             "\"contains\", "
                                                                             "\"value\": \"escalated\"}]}",
                                                                             "[{\"type\": \"assign_team\", \"value\": "
                                                                             "4}]") ", " RULE(3, 0, "{}",
                                                                                              "[{\"type\": "
                                                                                              "\"add_internal_note\", "
                                                                                              "\"value\": "
                                                                                              "\"<first>\"}]") ","
                                                                                                               " " RULE(1, 0, "{}",
                                                                                                                        "[{"
                                                                                                                        "\"type\": "
                                                                                                                        "\"remove_"
                                                                                                                        "tags\", "
                                                                                                                        "\"value\":"
                                                                                                                        " [\"vip\"]"
                                                                                                                        "}]") "]";
    struct run run;
    run_full(&run, rules, HDF_AUTO_EV_TICKET_CREATED, TICKET, NULL, NULL);
    assert_int_equal(run.rc, 0);
    char *trace = json_dumps(run.res.trace, JSON_COMPACT);
    assert_string_equal(trace, "[{\"rule_id\":1,\"name\":\"rule 1\",\"position\":0,\"matched\":true},"
                               "{\"rule_id\":3,\"name\":\"rule 3\",\"position\":0,\"matched\":true},"
                               "{\"rule_id\":5,\"name\":\"rule 5\",\"position\":1,\"matched\":true},"
                               "{\"rule_id\":9,\"name\":\"rule 9\",\"position\":2,\"matched\":true},"
                               "{\"rule_id\":2,\"name\":\"rule 2\",\"position\":3,\"matched\":true}]");
    free(trace);
    assert_string_equal(json_string_value(json_object_get(run.ticket, "priority")), "high");
    assert_int_equal(json_integer_value(json_object_get(run.ticket, "team_id")), 4);
    char *tags = json_dumps(json_object_get(run.ticket, "tags"), JSON_COMPACT);
    assert_string_equal(tags, "[\"billing\",\"escalated\"]");
    free(tags);
    /* effects: one per rule that changed a field, with from/to as the rule saw them; the note is
     * escaped HTML, not an effect */
    char *eff = json_dumps(run.res.effects, JSON_COMPACT);
    assert_string_equal(eff, "[{\"rule_id\":1,\"changes\":{\"tags\":{\"from\":[\"billing\",\"vip\"],\"to\":[\"billing\"]}}},"
                             "{\"rule_id\":5,\"changes\":{\"priority\":{\"from\":\"normal\",\"to\":\"high\"}}},"
                             "{\"rule_id\":9,\"changes\":{\"tags\":{\"from\":[\"billing\"],\"to\":[\"billing\",\"escalated\"]}}},"
                             "{\"rule_id\":2,\"changes\":{\"team_id\":{\"from\":null,\"to\":4}}}]");
    free(eff);
    char *notes = json_dumps(run.res.notes, JSON_COMPACT);
    assert_string_equal(notes, "[{\"rule_id\":3,\"body\":\"&lt;first&gt;\"}]");
    free(notes);
    run_free(&run);
}

static void test_once_per_pass(void **state)
{
    (void)state;
    /* rule 1 makes rule 2's condition true and rule 2 makes rule 1's true again: each still runs
     * at most once, in order; rule 1 does not run again after rule 2 */
    const char *rules = "[" RULE(
        1, 0, "{\"all\": [{\"field\": \"tags\", \"op\": \"not_contains\", \"value\": \"b\"}]}",
        "[{\"type\": \"add_tags\", \"value\": [\"a\"]}]") ", " RULE(2, 1,
                                                                    "{\"all\": [{\"field\": \"tags\", \"op\": "
                                                                    "\"contains\", \"value\": \"a\"}]}",
                                                                    "[{\"type\": \"add_tags\", \"value\": [\"b\"]}, {\"type\": "
                                                                    "\"set_custom_field\", \"field\": \"n\", \"value\": 1}]") "]";
    struct run run;
    run_full(&run, rules, HDF_AUTO_EV_TICKET_CREATED, TICKET, NULL, NULL);
    assert_int_equal(run.rc, 0);
    assert_int_equal(json_array_size(run.res.matched), 2);
    assert_int_equal(json_array_size(run.res.trace), 2);
    char *tags = json_dumps(json_object_get(run.ticket, "tags"), JSON_COMPACT);
    assert_string_equal(tags, "[\"billing\",\"vip\",\"a\",\"b\"]");
    free(tags);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(run.ticket, "custom_fields"), "n")), 1);
    run_free(&run);
}

static void assert_conflict(const char *rules, const char *field, int64_t a, int64_t b)
{
    struct run run;
    run_full(&run, rules, HDF_AUTO_EV_TICKET_CREATED, TICKET, NULL, NULL);
    assert_int_equal(run.rc, 1);
    assert_non_null(run.res.conflict);
    assert_string_equal(json_string_value(json_object_get(run.res.conflict, "field")), field);
    json_t *ids = json_object_get(run.res.conflict, "rule_ids");
    assert_int_equal(json_integer_value(json_array_get(ids, 0)), a);
    assert_int_equal(json_integer_value(json_array_get(ids, 1)), b);
    assert_non_null(strstr(json_string_value(json_object_get(run.res.conflict, "detail")), field));
    run_free(&run);
}

static void test_conflicts(void **state)
{
    (void)state;
    assert_conflict("[" RULE(1, 0, "{}", "[{\"type\": \"set_priority\", \"value\": \"high\"}]") ", " RULE(
                        2, 1, "{}", "[{\"type\": \"set_priority\", \"value\": \"low\"}]") "]",
                    "priority", 1, 2);
    assert_conflict("[" RULE(4, 0, "{}", "[{\"type\": \"add_tags\", \"value\": [\"x\"]}]") ", " RULE(
                        3, 5, "{}", "[{\"type\": \"remove_tags\", \"value\": [\"x\"]}]") "]",
                    "tags", 4, 3);
    assert_conflict("[" RULE(1, 0, "{}", "[{\"type\": \"set_custom_field\", \"field\": \"tier\", \"value\": \"a\"}]") ", " RULE(
                        2, 0, "{}", "[{\"type\": \"set_custom_field\", \"field\": \"tier\", \"value\": null}]") "]",
                    "custom_fields.tier", 1, 2);
    assert_conflict("[" RULE(1, 0, "{}", "[{\"type\": \"assign_agent\", \"value\": 3}]") ", " RULE(
                        2, 0, "{}", "[{\"type\": \"assign_agent\", \"value\": 4}]") "]",
                    "assignee_id", 1, 2);
    /* the same value twice, different custom fields, and a tag both add: no conflict */
    struct run run;
    run_full(
        &run,
        "[" RULE(
            1, 0, "{}",
            "[{\"type\": \"set_status\", \"value\": \"open\"}, {\"type\": \"add_tags\", \"value\": [\"x\"]}]") ", " RULE(2, 1, "{}",
                                                                                                                         "[{"
                                                                                                                         "\"ty"
                                                                                                                         "pe\""
                                                                                                                         ": "
                                                                                                                         "\"se"
                                                                                                                         "t_"
                                                                                                                         "stat"
                                                                                                                         "us\""
                                                                                                                         ", "
                                                                                                                         "\"va"
                                                                                                                         "lue"
                                                                                                                         "\": "
                                                                                                                         "\"op"
                                                                                                                         "en\""
                                                                                                                         "}, "
                                                                                                                         "{\"t"
                                                                                                                         "ype"
                                                                                                                         "\": "
                                                                                                                         "\"ad"
                                                                                                                         "d_"
                                                                                                                         "tags"
                                                                                                                         "\", "
                                                                                                                         "\"va"
                                                                                                                         "lue"
                                                                                                                         "\": "
                                                                                                                         "[\"x"
                                                                                                                         "\", "
                                                                                                                         "\"y"
                                                                                                                         "\"]}"
                                                                                                                         "]") "]",
        HDF_AUTO_EV_TICKET_CREATED, TICKET, NULL, NULL);
    assert_int_equal(run.rc, 0);
    assert_null(run.res.conflict);
    assert_int_equal(json_array_size(run.res.effects), 2); /* rule 2 changed tags (y) only */
    assert_null(json_object_get(json_object_get(json_array_get(run.res.effects, 1), "changes"), "status"));
    run_free(&run);
}

/* clang-format on */

static void test_events_filter(void **state)
{
    (void)state;
    const char *rules = "[{\"id\": 1, \"rule\": {\"name\": \"m\", \"events\": [\"message.created\"],"
                        " \"conditions\": {\"all\": [{\"field\": \"message.body\", \"op\": \"contains\", \"value\": \"urgent\"}]},"
                        " \"actions\": [{\"type\": \"set_priority\", \"value\": \"urgent\"}]}}]";
    struct run run;
    run_full(&run, rules, HDF_AUTO_EV_MESSAGE_CREATED, TICKET, NULL, "this is URGENT");
    assert_int_equal(json_array_size(run.res.matched), 1);
    run_free(&run);
    run_full(&run, rules, HDF_AUTO_EV_TICKET_CREATED, TICKET, NULL, "this is URGENT");
    assert_int_equal(json_array_size(run.res.matched), 0);
    run_free(&run);
    run_full(&run, rules, HDF_AUTO_EV_MESSAGE_CREATED, TICKET, NULL, NULL); /* no message: body unset */
    assert_int_equal(json_array_size(run.res.matched), 0);
    run_free(&run);
}

/* ---- validation ---- */

/* Parses the rule; asserts it fails with an error at field with code. */
static void assert_invalid(const char *def, const char *field, const char *code)
{
    json_t *j = parse(def);
    struct hdf_auto_rule r;
    hdf_field_errors_t fe = {0};
    assert_int_equal(automation_rule_parse(j, 1, &r, NULL, &fe), -1);
    size_t i;
    json_t *e;
    int found = 0;
    json_array_foreach(fe.list, i, e) found |= strcmp(json_string_value(json_object_get(e, "field")), field) == 0 &&
                                               strcmp(json_string_value(json_object_get(e, "code")), code) == 0;
    if (!found) {
        char *s = json_dumps(fe.list, JSON_COMPACT);
        fail_msg("expected %s/%s, got %s", field, code, s);
    }
    field_errors_clear(&fe);
    json_decref(j);
}

#define V(conds, actions) "{\"name\": \"n\", \"events\": [\"ticket.created\"], \"conditions\": " conds ", \"actions\": " actions "}"
#define OKA "[{\"type\": \"set_status\", \"value\": \"open\"}]"
#define C1(c)                                                                                                                      \
    "{\"all\": [{\"field\": \"status\", \"op\": \"eq\", \"value\": \"new\"}, {\"field\": \"status\", \"op\": \"eq\", \"value\": "  \
    "\"new\"}, " c "]}"

static void test_validation_paths(void **state)
{
    (void)state;
    assert_invalid("[]", "body", "invalid_type");
    assert_invalid("{\"events\": [\"ticket.created\"], \"actions\": " OKA "}", "name", "required");
    assert_invalid("{\"name\": \"n\", \"events\": [\"ticket.created\"], \"actions\": " OKA ", \"id\": 3}", "id", "unknown_field");
    assert_invalid("{\"name\": \"n\", \"events\": [], \"actions\": " OKA "}", "events", "invalid_type");
    assert_invalid("{\"name\": \"n\", \"events\": [\"ticket.created\", \"ticket.deleted\"], \"actions\": " OKA "}", "events[1]",
                   "invalid");
    assert_invalid("{\"name\": \"n\", \"events\": [\"ticket.created\", \"ticket.created\"], \"actions\": " OKA "}", "events[1]",
                   "duplicate");
    assert_invalid("{\"name\": \"n\", \"position\": -1, \"events\": [\"ticket.created\"], \"actions\": " OKA "}", "position",
                   "invalid");
    assert_invalid("{\"name\": \"n\", \"enabled\": 1, \"events\": [\"ticket.created\"], \"actions\": " OKA "}", "enabled",
                   "invalid_type");
    assert_invalid(V("{\"none\": []}", OKA), "conditions.none", "unknown_field");
    assert_invalid(V(C1("{\"field\": \"status\", \"op\": \"like\", \"value\": \"x\"}"), OKA), "conditions.all[2].op", "invalid");
    assert_invalid(V(C1("{\"field\": \"colour\", \"op\": \"eq\", \"value\": \"x\"}"), OKA), "conditions.all[2].field", "invalid");
    assert_invalid(V(C1("{\"field\": \"custom_fields.Bad\", \"op\": \"eq\", \"value\": \"x\"}"), OKA), "conditions.all[2].field",
                   "invalid");
    assert_invalid(V(C1("{\"field\": \"status\", \"op\": \"eq\", \"value\": \"nope\"}"), OKA), "conditions.all[2].value",
                   "invalid");
    assert_invalid(V(C1("{\"field\": \"status\", \"op\": \"eq\"}"), OKA), "conditions.all[2].value", "required");
    assert_invalid(V(C1("{\"field\": \"team_id\", \"op\": \"eq\", \"value\": \"4\"}"), OKA), "conditions.all[2].value",
                   "invalid_type");
    assert_invalid(V(C1("{\"field\": \"status\", \"op\": \"gt\", \"value\": \"new\"}"), OKA), "conditions.all[2].op", "invalid");
    assert_invalid(V(C1("{\"field\": \"tags\", \"op\": \"eq\", \"value\": \"a\"}"), OKA), "conditions.all[2].op", "invalid");
    assert_invalid(V(C1("{\"field\": \"tags\", \"op\": \"contains\", \"value\": \"a b\"}"), OKA), "conditions.all[2].value",
                   "invalid");
    assert_invalid(V(C1("{\"field\": \"status\", \"op\": \"in\", \"value\": []}"), OKA), "conditions.all[2].value", "invalid_type");
    assert_invalid(V(C1("{\"field\": \"status\", \"op\": \"is_set\", \"value\": \"yes\"}"), OKA), "conditions.all[2].value",
                   "invalid_type");
    assert_invalid(V(C1("{\"field\": \"status\", \"op\": \"eq\", \"value\": \"new\", \"x\": 1}"), OKA), "conditions.all[2].x",
                   "unknown_field");
    /* changed/changed_to: only in rules whose events are only ticket.updated */
    assert_invalid(V(C1("{\"field\": \"status\", \"op\": \"changed\"}"), OKA), "conditions.all[2].op", "invalid");
    assert_invalid("{\"name\": \"n\", \"events\": [\"ticket.updated\", \"message.created\"], \"conditions\": {\"any\": "
                   "[{\"field\": \"status\", \"op\": \"changed_to\", \"value\": \"open\"}]}, \"actions\": " OKA "}",
                   "conditions.any[0].op", "invalid");
    assert_invalid("{\"name\": \"n\", \"events\": [\"ticket.updated\"], \"conditions\": {\"any\": "
                   "[{\"field\": \"customer.email\", \"op\": \"changed\"}]}, \"actions\": " OKA "}",
                   "conditions.any[0].op", "invalid");
    assert_invalid("{\"name\": \"n\", \"events\": [\"ticket.updated\"], \"conditions\": {\"any\": "
                   "[{\"field\": \"message.body\", \"op\": \"contains\", \"value\": \"x\"}]}, \"actions\": " OKA "}",
                   "conditions.any[0].field", "invalid");
    /* actions */
    assert_invalid(V("{}", "[]"), "actions", "invalid_type");
    assert_invalid(V("{}", "[{\"type\": \"close\"}]"), "actions[0].type", "invalid");
    assert_invalid(V("{}", "[{\"type\": \"set_priority\", \"value\": \"meh\"}]"), "actions[0].value", "invalid");
    assert_invalid(V("{}", "[{\"type\": \"set_status\"}]"), "actions[0].value", "required");
    assert_invalid(
        V("{}", "[{\"type\": \"set_status\", \"value\": \"open\"}, {\"type\": \"add_tags\", \"value\": [\"ok\", \"no way\"]}]"),
        "actions[1].value[1]", "invalid");
    assert_invalid(V("{}", "[{\"type\": \"add_tags\", \"value\": []}]"), "actions[0].value", "invalid");
    assert_invalid(V("{}", "[{\"type\": \"assign_team\", \"value\": 0}]"), "actions[0].value", "invalid");
    assert_invalid(V("{}", "[{\"type\": \"add_internal_note\", \"value\": \"\"}]"), "actions[0].value", "invalid");
    assert_invalid(V("{}", "[{\"type\": \"set_custom_field\", \"value\": 1}]"), "actions[0].field", "required");
    assert_invalid(V("{}", "[{\"type\": \"set_custom_field\", \"field\": \"k\", \"value\": [1]}]"), "actions[0].value", "invalid");
    assert_invalid(V("{}", "[{\"type\": \"set_status\", \"value\": \"open\", \"field\": \"x\"}]"), "actions[0].field",
                   "unknown_field");
    assert_invalid(V("{}", "[{\"type\": \"set_status\", \"value\": \"open\"}, {\"type\": \"set_status\", \"value\": \"new\"}]"),
                   "actions[1]", "duplicate");
    assert_invalid(V("{}", "[{\"type\": \"add_tags\", \"value\": [\"a\"]}, {\"type\": \"remove_tags\", \"value\": [\"A\"]}]"),
                   "actions[1]", "duplicate");
}

static void test_refs(void **state)
{
    (void)state;
    json_t *j = parse("{\"name\": \"n\", \"events\": [\"ticket.created\"], \"conditions\": {\"all\": ["
                      "{\"field\": \"custom_fields.tier\", \"op\": \"eq\", \"value\": \"gold\"},"
                      "{\"field\": \"customer.custom_fields.plan\", \"op\": \"is_set\"}]},"
                      " \"actions\": [{\"type\": \"assign_team\", \"value\": 4}, {\"type\": \"assign_agent\", \"value\": 9},"
                      " {\"type\": \"set_custom_field\", \"field\": \"seats\", \"value\": 3}]}");
    struct hdf_auto_rule r;
    struct hdf_auto_refs refs;
    hdf_field_errors_t fe = {0};
    assert_int_equal(automation_rule_parse(j, 1, &r, &refs, &fe), 0);
    char *s = json_dumps(refs.team_ids, JSON_COMPACT);
    assert_string_equal(s, "[[4,\"actions[0].value\"]]");
    free(s);
    s = json_dumps(refs.agent_ids, JSON_COMPACT);
    assert_string_equal(s, "[[9,\"actions[1].value\"]]");
    free(s);
    s = json_dumps(refs.ticket_fields, JSON_COMPACT);
    /* a field a rule sets is one it refers to, like one it reads */
    assert_string_equal(s, "[[\"tier\",\"conditions.all[0]\"],[\"seats\",\"actions[2].field\"]]");
    free(s);
    s = json_dumps(refs.customer_fields, JSON_COMPACT);
    assert_string_equal(s, "[[\"plan\",\"conditions.all[1]\"]]");
    free(s);
    s = json_dumps(refs.custom_values, JSON_COMPACT);
    assert_string_equal(s, "[[\"seats\",3,\"actions[2].value\"]]");
    free(s);
    automation_refs_free(&refs);
    automation_rule_free(&r);
    json_decref(j);
}

static void test_ruleset_build(void **state)
{
    (void)state;
    json_t *j =
        parse("[{\"id\": 1, \"rule\": {\"name\": \"off\", \"enabled\": false, \"events\": [\"ticket.created\"], \"actions\": " OKA
              "}}, {\"id\": 2, \"rule\": {\"broken\": true}}, {\"id\": 3, \"rule\": {\"name\": \"c\", \"events\": "
              "[\"message.created\"], \"conditions\": {\"any\": [{\"field\": \"customer.name\", \"op\": \"is_set\"}]},"
              " \"actions\": " OKA "}}]");
    size_t skipped;
    struct hdf_auto_ruleset *rs = automation_ruleset_build(j, 42, &skipped);
    assert_int_equal(skipped, 1);
    assert_int_equal(rs->n, 1);
    assert_int_equal(rs->version, 42);
    assert_int_equal(rs->events, HDF_AUTO_EV_MESSAGE_CREATED);
    assert_true(rs->needs_customer);
    /* the cache holds its own reference; replacing an entry releases the old ruleset */
    rules_cache_put(7, rs);
    struct hdf_auto_ruleset *got = rules_cache_get(7);
    assert_ptr_equal(got, rs);
    assert_int_equal(rs->refs, 3);
    automation_ruleset_release(got);
    automation_ruleset_release(rs);
    assert_null(rules_cache_get(8));
    json_t *empty = json_array();
    struct hdf_auto_ruleset *rs2 = automation_ruleset_build(empty, 43, &skipped);
    rules_cache_put(7, rs2);
    automation_ruleset_release(rs2);
    got = rules_cache_get(7);
    assert_int_equal(got->version, 43);
    automation_ruleset_release(got);
    rules_cache_clear();
    json_decref(empty);
    json_decref(j);
}

static void test_tags_limit(void **state)
{
    (void)state;
    char ticket[4096], *p = ticket;
    p += snprintf(p, sizeof(ticket), "{\"status\": \"new\", \"tags\": [");
    for (int i = 0; i < 50; i++)
        p += snprintf(p, sizeof(ticket) - (size_t)(p - ticket), "%s\"t%d\"", i ? "," : "", i);
    snprintf(p, sizeof(ticket) - (size_t)(p - ticket), "], \"custom_fields\": {}}");
    struct run run;
    run_full(&run, "[" RULE(1, 0, "{}", "[{\"type\": \"add_tags\", \"value\": [\"extra\"]}]") "]", HDF_AUTO_EV_TICKET_CREATED,
             ticket, NULL, NULL);
    assert_int_equal(run.rc, 0);
    assert_int_equal(json_array_size(json_object_get(run.ticket, "tags")), 50);
    assert_int_equal(json_array_size(run.res.effects), 0);
    run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops_eq_ne_in),
        cmocka_unit_test(test_ops_text),
        cmocka_unit_test(test_ops_compare),
        cmocka_unit_test(test_ops_is_set),
        cmocka_unit_test(test_ops_changed),
        cmocka_unit_test(test_all_any),
        cmocka_unit_test(test_order_ties_and_visibility),
        cmocka_unit_test(test_once_per_pass),
        cmocka_unit_test(test_conflicts),
        cmocka_unit_test(test_events_filter),
        cmocka_unit_test(test_validation_paths),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_ruleset_build),
        cmocka_unit_test(test_tags_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
