/*
 * automation.h: automation rules (CONTRACT.md, Admin resources: automations; docs/automation.md).
 * Parsing and validation of a rule's JSON into a compact form, and one evaluation pass of a
 * workspace's rules over a proposed ticket state. Pure C (jansson only): no h2o, no libpq, no
 * global state, so unit tests and the fuzzer call it directly and each server thread may cache
 * parsed rules (automation/rules_cache.h).
 *
 * Ticket state is the hdf_ticket_fields() object of migrations/0004 (subject, status, priority,
 * channel, customer_id, team_id, assignee_id, tags, custom_fields): the same JSON the PATCH path
 * computes, so rule effects and user changes are audited in one form.
 */
#ifndef HDF_AUTOMATION_H
#define HDF_AUTOMATION_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "common/errors.h"

#define HDF_AUTO_EV_TICKET_CREATED 1u
#define HDF_AUTO_EV_TICKET_UPDATED 2u
#define HDF_AUTO_EV_MESSAGE_CREATED 4u

#define HDF_AUTO_NAME_MAX 200
#define HDF_AUTO_CONDITIONS_MAX 50 /* in all, and in any */
#define HDF_AUTO_ACTIONS_MAX 20
#define HDF_AUTO_IN_MAX 100
#define HDF_AUTO_TEXT_MAX 1000 /* a condition's text value */
#define HDF_AUTO_NOTE_MAX 10000
#define HDF_AUTO_POSITION_MAX 1000000

/* What a condition looks at. */
enum hdf_auto_field {
    HDF_AF_SUBJECT,
    HDF_AF_STATUS,
    HDF_AF_PRIORITY,
    HDF_AF_CHANNEL,
    HDF_AF_TAGS,
    HDF_AF_TEAM_ID,
    HDF_AF_ASSIGNEE_ID,
    HDF_AF_CUSTOM_FIELD, /* custom_fields.<key> */
    HDF_AF_CUSTOMER_EMAIL,
    HDF_AF_CUSTOMER_NAME,
    HDF_AF_CUSTOMER_TAGS,
    HDF_AF_CUSTOMER_CUSTOM_FIELD, /* customer.custom_fields.<key> */
    HDF_AF_MESSAGE_BODY,
    HDF_AF_MESSAGE_AUTHOR_TYPE,
    HDF_AF_MESSAGE_INTERNAL,
};

enum hdf_auto_op {
    HDF_AO_EQ,
    HDF_AO_NE,
    HDF_AO_IN,
    HDF_AO_NOT_IN,
    HDF_AO_CONTAINS,
    HDF_AO_NOT_CONTAINS,
    HDF_AO_STARTS_WITH,
    HDF_AO_GT,
    HDF_AO_GTE,
    HDF_AO_LT,
    HDF_AO_LTE,
    HDF_AO_CHANGED,
    HDF_AO_CHANGED_TO,
    HDF_AO_IS_SET,
};

enum hdf_auto_action_type {
    HDF_AA_SET_PRIORITY,
    HDF_AA_SET_STATUS,
    HDF_AA_ADD_TAGS,
    HDF_AA_REMOVE_TAGS,
    HDF_AA_ASSIGN_TEAM,
    HDF_AA_ASSIGN_AGENT,
    HDF_AA_ADD_INTERNAL_NOTE,
    HDF_AA_SET_CUSTOM_FIELD,
};

struct hdf_auto_cond {
    enum hdf_auto_field field;
    enum hdf_auto_op op;
    char *key;     /* custom field key, or NULL */
    json_t *value; /* normalised (tags lower-cased); NULL for changed */
    int want_set;  /* is_set: whether the field must be set */
};

struct hdf_auto_action {
    enum hdf_auto_action_type type;
    char *key;     /* set_custom_field */
    json_t *value; /* normalised: tags arrays lower-cased and deduplicated; notes as escaped HTML */
};

struct hdf_auto_rule {
    int64_t id;
    int64_t position;
    char *name;
    unsigned events; /* HDF_AUTO_EV_* */
    int enabled;
    struct hdf_auto_cond *all, *any;
    size_t nall, nany;
    struct hdf_auto_action *actions;
    size_t nactions;
};

/* Which fields, ops and actions a rule's parse may use, and what it refers to: collected so that
 * the handler can check the references (and store them for the refusal of deletes). */
struct hdf_auto_refs {
    json_t *team_ids, *agent_ids;            /* arrays of [id, "path"] */
    json_t *ticket_fields, *customer_fields; /* arrays of [key, "path"] */
    json_t *custom_values;                   /* set_custom_field: array of [key, value, "path"] */
};

/*
 * Parses and validates a rule: {name, position, enabled, events, conditions, actions} (CONTRACT.md).
 * Every failure is reported into fe with its path (`events[1]`, `conditions.all[2].op`,
 * `actions[0].value`). id is stored as given. When refs is non-NULL it receives what the rule
 * refers to (the caller json_decref's its members through automation_refs_free). Returns 0 and
 * fills rule (release with automation_rule_free), or -1.
 */
int automation_rule_parse(const json_t *def, int64_t id, struct hdf_auto_rule *rule, struct hdf_auto_refs *refs,
                          hdf_field_errors_t *fe);
void automation_rule_free(struct hdf_auto_rule *rule);
void automation_refs_free(struct hdf_auto_refs *refs);

/* A workspace's enabled rules in evaluation order (position, then id). */
struct hdf_auto_ruleset {
    struct hdf_auto_rule *rules;
    size_t n;
    int64_t version;          /* the workspace's rules version these were loaded at */
    unsigned events;          /* union of the enabled rules' events */
    int needs_customer;       /* some rule reads a customer field other than customer.email */
    unsigned customer_events; /* the events of the rules that do */
    int needs_message_text;   /* some rule reads message.body (its text: the HTML is parsed for it) */
    int refs;                 /* owners: the thread's cache, and each request using it (one thread only) */
};

/* Builds a ruleset from a JSON array of stored rules ([{id, rule: {name, position, enabled, events,
 * conditions, actions}}]); rules that no longer parse (they were validated on write) are skipped
 * and counted in *skipped. Disabled rules are left out. Sorted by (position, id). One reference. */
struct hdf_auto_ruleset *automation_ruleset_build(const json_t *rules, int64_t version, size_t *skipped);
/* Reference counting (not atomic: a ruleset never leaves the thread that built it). */
struct hdf_auto_ruleset *automation_ruleset_retain(struct hdf_auto_ruleset *rs);
void automation_ruleset_release(struct hdf_auto_ruleset *rs);

/* What a pass looks at. ticket is modified in place (the final state when the pass returns 0). */
struct hdf_auto_subject {
    json_t *ticket;           /* hdf_ticket_fields form */
    const json_t *previous;   /* ticket.updated: the state before the user's change; else NULL */
    const json_t *customer;   /* {email, name, tags, custom_fields}; NULL: unknown (all null) */
    const char *message_text; /* message.created, or a create's first message: its text; else NULL */
    const char *message_author_type;
    int message_internal;
};

/* One rule's effect: the audit entry's changes, {field: {from, to}} in hdf_changes form. */
struct hdf_auto_effect {
    int64_t rule_id;
    json_t *changes;
};

struct hdf_auto_result {
    json_t *trace;    /* [{rule_id, name, position, matched}] for every rule evaluated, in order; NULL unless asked */
    json_t *matched;  /* [{rule_id, name, position}] */
    json_t *effects;  /* [{rule_id, changes}] of the matched rules that changed a ticket field */
    json_t *notes;    /* [{rule_id, body}]: internal notes to add (HTML) */
    json_t *conflict; /* NULL, or {rule_ids: [earlier, later], field, detail} */
};

/* Runs one pass of the rules listening to event (one HDF_AUTO_EV_*) over s. Each rule is
 * evaluated at most once, in order, against the state left by the rules before it. trace: whether
 * to fill out->trace (dry-run; the request path leaves it off, so a rule that does not match costs
 * no allocation). Returns 0, or 1 on a conflict (out->conflict set; s->ticket is then
 * unspecified). Release the result with automation_result_free. */
int automation_run(const struct hdf_auto_ruleset *rs, unsigned event, struct hdf_auto_subject *s, int trace,
                   struct hdf_auto_result *out);
void automation_result_free(struct hdf_auto_result *out);

/* The event's bit for its name ("ticket.created", ...), or 0. */
unsigned automation_event_bit(const char *name);

#endif
