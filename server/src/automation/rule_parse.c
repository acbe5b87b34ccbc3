/*
 * rule_parse.c: an automation rule's JSON -> struct hdf_auto_rule, validating every member and
 * reporting each failure with its path (automation.h; the rules are in docs/automation.md). A
 * rule is parsed once when written (the API's 400s) and again when a thread loads its
 * workspace's rules, so evaluation never looks at JSON shapes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "automation/automation.h"
#include "automation/rule_internal.h"
#include "common/json_util.h"
#include "common/util.h"
#include "model/custom_field.h"
#include "model/tags.h"
#include "model/ticket.h"

static const char *const event_names[] = {"ticket.created", "ticket.updated", "message.created", NULL};
static const char *const author_types[] = {"customer", "agent", "system", NULL};

/* kind: the value type a field holds, which decides its ops and the values they take */
enum field_kind { FK_TEXT, FK_ENUM, FK_LIST, FK_ID, FK_BOOL, FK_CUSTOM };

struct field_def {
    const char *name; /* for custom fields: the prefix, including the final dot */
    enum hdf_auto_field field;
    enum field_kind kind;
    const char *const *values; /* FK_ENUM */
    int on_ticket;             /* a ticket field: changed/changed_to apply */
    int on_message;            /* a message field: not in ticket.updated rules */
};

static const struct field_def field_defs[] = {
    {"subject", HDF_AF_SUBJECT, FK_TEXT, NULL, 1, 0},
    {"status", HDF_AF_STATUS, FK_ENUM, hdf_ticket_statuses, 1, 0},
    {"priority", HDF_AF_PRIORITY, FK_ENUM, hdf_ticket_priorities, 1, 0},
    {"channel", HDF_AF_CHANNEL, FK_ENUM, hdf_ticket_channels, 1, 0},
    {"tags", HDF_AF_TAGS, FK_LIST, NULL, 1, 0},
    {"team_id", HDF_AF_TEAM_ID, FK_ID, NULL, 1, 0},
    {"assignee_id", HDF_AF_ASSIGNEE_ID, FK_ID, NULL, 1, 0},
    {"custom_fields.", HDF_AF_CUSTOM_FIELD, FK_CUSTOM, NULL, 1, 0},
    {"customer.email", HDF_AF_CUSTOMER_EMAIL, FK_TEXT, NULL, 0, 0},
    {"customer.name", HDF_AF_CUSTOMER_NAME, FK_TEXT, NULL, 0, 0},
    {"customer.tags", HDF_AF_CUSTOMER_TAGS, FK_LIST, NULL, 0, 0},
    {"customer.custom_fields.", HDF_AF_CUSTOMER_CUSTOM_FIELD, FK_CUSTOM, NULL, 0, 0},
    {"message.body", HDF_AF_MESSAGE_BODY, FK_TEXT, NULL, 0, 1},
    {"message.author_type", HDF_AF_MESSAGE_AUTHOR_TYPE, FK_ENUM, author_types, 0, 1},
    {"message.internal", HDF_AF_MESSAGE_INTERNAL, FK_BOOL, NULL, 0, 1},
};
#define NFIELDS (sizeof(field_defs) / sizeof(field_defs[0]))

static const char *const op_names[] = {"eq",  "ne", "in",  "not_in",  "contains",   "not_contains", "starts_with", "gt",
                                       "gte", "lt", "lte", "changed", "changed_to", "is_set",       NULL};
static const char *const action_names[] = {"set_priority", "set_status",        "add_tags",         "remove_tags", "assign_team",
                                           "assign_agent", "add_internal_note", "set_custom_field", NULL};

static int index_of(const char *const *names, const char *s)
{
    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

unsigned automation_event_bit(const char *name)
{
    int i = index_of(event_names, name);
    return i < 0 ? 0 : 1u << i;
}

/* The field definition of name, and the custom field key after the prefix (*key). */
static const struct field_def *field_lookup(const char *name, const char **key)
{
    *key = NULL;
    for (size_t i = 0; i < NFIELDS; i++) {
        const struct field_def *d = &field_defs[i];
        size_t n = strlen(d->name);
        if (d->kind == FK_CUSTOM && strncmp(name, d->name, n) == 0) {
            *key = name + n;
            return d;
        }
        if (d->kind != FK_CUSTOM && strcmp(name, d->name) == 0)
            return d;
    }
    return NULL;
}

/* Whether op applies to fields of this definition. */
static int op_applies(const struct field_def *d, enum hdf_auto_op op)
{
    switch (op) {
    case HDF_AO_CHANGED:
    case HDF_AO_CHANGED_TO:
        return d->on_ticket && (op == HDF_AO_CHANGED || d->kind != FK_LIST);
    case HDF_AO_IS_SET:
        return 1;
    case HDF_AO_CONTAINS:
    case HDF_AO_NOT_CONTAINS:
        return d->kind == FK_TEXT || d->kind == FK_LIST || d->kind == FK_CUSTOM;
    case HDF_AO_STARTS_WITH:
        return d->kind == FK_TEXT || d->kind == FK_CUSTOM;
    case HDF_AO_GT:
    case HDF_AO_GTE:
    case HDF_AO_LT:
    case HDF_AO_LTE:
        return d->kind == FK_CUSTOM || d->field == HDF_AF_PRIORITY;
    default: /* eq ne in not_in */
        return d->kind != FK_LIST;
    }
}

/* A scalar value for eq/ne/changed_to/in of a field of this kind; 0 when acceptable. */
static int scalar_ok(const struct field_def *d, const json_t *v, int allow_null)
{
    switch (d->kind) {
    case FK_TEXT:
        return json_is_string(v) && utf8_length(json_string_value(v), json_string_length(v)) <= HDF_AUTO_TEXT_MAX ? 0 : -1;
    case FK_ENUM:
        return json_is_string(v) && index_of(d->values, json_string_value(v)) >= 0 ? 0 : -1;
    case FK_ID:
        return (allow_null && json_is_null(v)) || (json_is_integer(v) && json_integer_value(v) > 0) ? 0 : -1;
    case FK_BOOL:
        return json_is_boolean(v) ? 0 : -1;
    case FK_CUSTOM:
        if (json_is_string(v))
            return utf8_length(json_string_value(v), json_string_length(v)) <= HDF_AUTO_TEXT_MAX ? 0 : -1;
        return json_is_number(v) || json_is_boolean(v) || (allow_null && json_is_null(v)) ? 0 : -1;
    default:
        return -1;
    }
}

static const char *scalar_expected(const struct field_def *d)
{
    switch (d->kind) {
    case FK_TEXT:
        return "a string of at most 1000 characters";
    case FK_ENUM:
        return "one of the field's values";
    case FK_ID:
        return "a positive integer id or null";
    case FK_BOOL:
        return "true or false";
    default:
        return "a string, number, boolean or null";
    }
}

static int in_list_ok(const struct field_def *d, const json_t *v, const char *path, hdf_field_errors_t *fe)
{
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > HDF_AUTO_IN_MAX) {
        field_errors_add(fe, path, "invalid_type", "%s must be an array of 1 to %d values", path, HDF_AUTO_IN_MAX);
        return -1;
    }
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) if (scalar_ok(d, e, 0) != 0)
    {
        field_errors_add(fe, path, "invalid", "%s[%zu] must be %s", path, i, scalar_expected(d));
        return -1;
    }
    return 0;
}

/* Whether v has the JSON type of the field's values (then a refusal is "invalid", else
 * "invalid_type"). */
static int json_type_fits(const struct field_def *d, const json_t *v)
{
    switch (d->kind) {
    case FK_TEXT:
    case FK_ENUM:
    case FK_LIST:
        return json_is_string(v);
    case FK_ID:
        return json_is_integer(v) || json_is_null(v);
    case FK_BOOL:
        return json_is_boolean(v);
    default:
        return !json_is_object(v) && !json_is_array(v);
    }
}

/* A tag for contains/not_contains on a tags field: lower-cased, in the tag pattern. */
static json_t *tag_value(const json_t *v)
{
    if (!json_is_string(v))
        return NULL;
    char buf[HDF_TAG_MAX_CHARS + 1];
    size_t n = json_string_length(v);
    if (n == 0 || n > HDF_TAG_MAX_CHARS)
        return NULL;
    for (size_t i = 0; i <= n; i++) {
        char c = json_string_value(v)[i];
        buf[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return tag_is_valid(buf, n) ? json_string(buf) : NULL;
}

/* The value of a condition (path is the condition's, `.value` is appended). */
static int cond_value(const struct field_def *d, struct hdf_auto_cond *c, const json_t *v, const char *cpath,
                      hdf_field_errors_t *fe)
{
    char path[96];
    snprintf(path, sizeof(path), "%s.value", cpath);
    switch (c->op) {
    case HDF_AO_CHANGED:
        if (v != NULL)
            field_errors_add(fe, path, "unknown_field", "changed takes no value");
        return v != NULL ? -1 : 0;
    case HDF_AO_IS_SET:
        if (v != NULL && !json_is_boolean(v)) {
            field_errors_add(fe, path, "invalid_type", "%s must be true or false", path);
            return -1;
        }
        c->want_set = v == NULL || json_is_true(v);
        return 0;
    default:
        break;
    }
    if (v == NULL) {
        field_errors_add(fe, path, "required", "%s is required", path);
        return -1;
    }
    if (c->op == HDF_AO_IN || c->op == HDF_AO_NOT_IN) {
        if (in_list_ok(d, v, path, fe) != 0)
            return -1;
        c->value = json_deep_copy(v);
        return 0;
    }
    if ((c->op == HDF_AO_CONTAINS || c->op == HDF_AO_NOT_CONTAINS) && d->kind == FK_LIST) {
        if ((c->value = tag_value(v)) == NULL)
            field_errors_add(fe, path, "invalid", "%s must be a tag matching [a-z0-9][a-z0-9_:-]{0,63}", path);
        return c->value != NULL ? 0 : -1;
    }
    int ok;
    const char *expected;
    if (c->op == HDF_AO_CONTAINS || c->op == HDF_AO_NOT_CONTAINS || c->op == HDF_AO_STARTS_WITH) {
        ok = json_is_string(v) && json_string_length(v) > 0 &&
             utf8_length(json_string_value(v), json_string_length(v)) <= HDF_AUTO_TEXT_MAX;
        expected = "a non-empty string of at most 1000 characters";
    } else if (c->op >= HDF_AO_GT && c->op <= HDF_AO_LTE) {
        ok = d->kind == FK_ENUM ? scalar_ok(d, v, 0) == 0 : (json_is_number(v) || json_is_string(v)) && scalar_ok(d, v, 0) == 0;
        expected = d->kind == FK_ENUM ? "a priority" : "a number or a string";
    } else { /* eq ne changed_to */
        ok = scalar_ok(d, v, 1) == 0;
        expected = scalar_expected(d);
    }
    if (!ok) {
        field_errors_add(fe, path, json_type_fits(d, v) ? "invalid" : "invalid_type", "%s must be %s", path, expected);
        return -1;
    }
    c->value = json_incref((json_t *)v);
    return 0;
}

/* The field of a condition: known, and allowed for the rule's events. */
static const struct field_def *cond_field(const json_t *f, unsigned events, const char *cpath, const char **key,
                                          hdf_field_errors_t *fe)
{
    char path[96];
    snprintf(path, sizeof(path), "%s.field", cpath);
    if (!json_is_string(f)) {
        field_errors_add(fe, path, f == NULL ? "required" : "invalid_type", "%s must be a string", path);
        return NULL;
    }
    const struct field_def *d = field_lookup(json_string_value(f), key);
    if (d == NULL || (*key != NULL && !custom_field_key_is_valid(*key))) {
        field_errors_add(fe, path, "invalid", "%s: unknown field %s", path, json_string_value(f));
        return NULL;
    }
    if (d->on_message && (events & HDF_AUTO_EV_TICKET_UPDATED)) {
        field_errors_add(fe, path, "invalid", "%s: message fields are not available to ticket.updated rules", path);
        return NULL;
    }
    return d;
}

void refs_add_key(json_t *list, const char *key, const char *path)
{
    if (list != NULL)
        json_array_append_new(list, json_pack("[s, s]", key, path));
}

/* Stored emails are lower-cased (model/email.c): so are the values compared with them, or
 * customer.email eq "VIP@Example.com" could never hold. ASCII letters only, as email.c does. */
static json_t *email_fold(const json_t *v)
{
    if (!json_is_string(v))
        return json_incref((json_t *)v);
    size_t len = json_string_length(v);
    char *s = malloc(len + 1);
    memcpy(s, json_string_value(v), len + 1);
    for (size_t i = 0; i < len; i++)
        if (s[i] >= 'A' && s[i] <= 'Z')
            s[i] = (char)(s[i] - 'A' + 'a');
    json_t *out = json_stringn_nocheck(s, len);
    free(s);
    return out;
}

static void email_values_fold(struct hdf_auto_cond *c)
{
    json_t *folded;
    if (json_is_array(c->value)) {
        size_t i;
        json_t *e;
        folded = json_array();
        json_array_foreach(c->value, i, e) json_array_append_new(folded, email_fold(e));
    } else {
        folded = email_fold(c->value);
    }
    json_decref(c->value);
    c->value = folded;
}

static int cond_parse(const json_t *j, unsigned events, const char *cpath, struct hdf_auto_cond *c, struct hdf_auto_refs *refs,
                      hdf_field_errors_t *fe)
{
    static const char *const members[] = {"field", "op", "value", NULL};
    char path[96];
    if (!json_is_object(j)) {
        field_errors_add(fe, cpath, "invalid_type", "%s must be an object {field, op, value}", cpath);
        return -1;
    }
    snprintf(path, sizeof(path), "%s.", cpath);
    json_reject_unknown((json_t *)j, members, path, fe);
    const char *key = NULL;
    const struct field_def *d = cond_field(json_object_get(j, "field"), events, cpath, &key, fe);
    json_t *op = json_object_get(j, "op");
    snprintf(path, sizeof(path), "%s.op", cpath);
    int o = json_is_string(op) ? index_of(op_names, json_string_value(op)) : -1;
    if (o < 0) {
        field_errors_add(fe, path, op == NULL ? "required" : "invalid",
                         "%s must be one of eq, ne, in, not_in, contains, "
                         "not_contains, starts_with, gt, gte, lt, lte, changed, changed_to, is_set",
                         path);
        return -1;
    }
    if (d == NULL)
        return -1;
    c->field = d->field;
    c->op = (enum hdf_auto_op)o;
    if (!op_applies(d, c->op)) {
        field_errors_add(fe, path, "invalid", "%s: %s does not apply to this field", path, op_names[o]);
        return -1;
    }
    if ((c->op == HDF_AO_CHANGED || c->op == HDF_AO_CHANGED_TO) && events != HDF_AUTO_EV_TICKET_UPDATED) {
        field_errors_add(fe, path, "invalid", "%s: %s is only allowed in rules whose events are only ticket.updated", path,
                         op_names[o]);
        return -1;
    }
    if (key != NULL) {
        c->key = strdup(key);
        refs_add_key(refs == NULL                      ? NULL
                     : d->field == HDF_AF_CUSTOM_FIELD ? refs->ticket_fields
                                                       : refs->customer_fields,
                     key, cpath);
    }
    if (cond_value(d, c, json_object_get(j, "value"), cpath, fe) != 0)
        return -1;
    if (c->field == HDF_AF_CUSTOMER_EMAIL)
        email_values_fold(c);
    return 0;
}

static int conds_parse(const json_t *list, const char *name, unsigned events, struct hdf_auto_cond **out, size_t *n,
                       struct hdf_auto_refs *refs, hdf_field_errors_t *fe)
{
    char path[24]; /* name is "all" or "any" */
    snprintf(path, sizeof(path), "conditions.%.3s", name);
    if (list == NULL)
        return 0;
    if (!json_is_array(list) || json_array_size(list) > HDF_AUTO_CONDITIONS_MAX) {
        field_errors_add(fe, path, "invalid_type", "%s must be an array of at most %d conditions", path, HDF_AUTO_CONDITIONS_MAX);
        return -1;
    }
    *n = json_array_size(list);
    *out = calloc(*n + 1, sizeof(**out));
    int rc = 0;
    for (size_t i = 0; i < *n; i++) {
        char cpath[80];
        snprintf(cpath, sizeof(cpath), "%s[%zu]", path, i);
        if (cond_parse(json_array_get(list, i), events, cpath, &(*out)[i], refs, fe) != 0)
            rc = -1;
    }
    return rc;
}

static int conditions_parse(const json_t *j, struct hdf_auto_rule *r, struct hdf_auto_refs *refs, hdf_field_errors_t *fe)
{
    static const char *const members[] = {"all", "any", NULL};
    if (j == NULL || json_is_null(j)) /* null: no conditions, as when omitted */
        return 0;
    if (!json_is_object(j)) {
        field_errors_add(fe, "conditions", "invalid_type", "conditions must be an object {all, any}");
        return -1;
    }
    json_reject_unknown((json_t *)j, members, "conditions.", fe);
    int a = conds_parse(json_object_get(j, "all"), "all", r->events, &r->all, &r->nall, refs, fe);
    int b = conds_parse(json_object_get(j, "any"), "any", r->events, &r->any, &r->nany, refs, fe);
    return a || b ? -1 : 0;
}

static int events_parse(const json_t *j, unsigned *events, hdf_field_errors_t *fe)
{
    size_t i;
    json_t *e;
    *events = 0;
    if (!json_is_array(j) || json_array_size(j) == 0) {
        field_errors_add(fe, "events", j == NULL ? "required" : "invalid_type",
                         "events must be a non-empty array of ticket.created, ticket.updated, message.created");
        return -1;
    }
    json_array_foreach(j, i, e)
    {
        unsigned bit = json_is_string(e) ? automation_event_bit(json_string_value(e)) : 0;
        char path[32];
        snprintf(path, sizeof(path), "events[%zu]", i);
        if (bit == 0 || (*events & bit)) {
            field_errors_add(fe, path, bit == 0 ? "invalid" : "duplicate",
                             "%s must be a distinct one of ticket.created, "
                             "ticket.updated, message.created",
                             path);
            return -1;
        }
        *events |= bit;
    }
    return 0;
}

static void rule_header(const json_t *def, struct hdf_auto_rule *r, hdf_field_errors_t *fe)
{
    const char *name;
    if (json_get_string((json_t *)def, "name", "name", 1, HDF_AUTO_NAME_MAX, 1, &name, fe) > 0)
        r->name = strdup(name);
    json_t *pos = json_object_get(def, "position");
    if (pos != NULL && (!json_is_integer(pos) || json_integer_value(pos) < 0 || json_integer_value(pos) > HDF_AUTO_POSITION_MAX))
        field_errors_add(fe, "position", json_is_integer(pos) ? "invalid" : "invalid_type",
                         "position must be an integer from 0 to %d", HDF_AUTO_POSITION_MAX);
    r->position = json_is_integer(pos) ? json_integer_value(pos) : 0;
    json_get_bool((json_t *)def, "enabled", "enabled", 1, &r->enabled, fe);
}

int automation_rule_parse(const json_t *def, int64_t id, struct hdf_auto_rule *rule, struct hdf_auto_refs *refs,
                          hdf_field_errors_t *fe)
{
    static const char *const members[] = {"name", "position", "enabled", "events", "conditions", "actions", NULL};
    size_t before = field_errors_count(fe);
    memset(rule, 0, sizeof(*rule));
    rule->id = id;
    if (refs != NULL) {
        refs->team_ids = json_array();
        refs->agent_ids = json_array();
        refs->ticket_fields = json_array();
        refs->customer_fields = json_array();
        refs->custom_values = json_array();
    }
    if (!json_is_object(def)) {
        field_errors_add(fe, "body", def == NULL ? "required" : "invalid_type", "a rule must be a JSON object");
        return -1;
    }
    json_reject_unknown((json_t *)def, members, "", fe);
    rule_header(def, rule, fe);
    if (events_parse(json_object_get(def, "events"), &rule->events, fe) == 0)
        conditions_parse(json_object_get(def, "conditions"), rule, refs, fe);
    actions_parse(json_object_get(def, "actions"), rule, refs, fe);
    if (field_errors_count(fe) > before) {
        automation_rule_free(rule);
        return -1;
    }
    return 0;
}

static void conds_free(struct hdf_auto_cond *c, size_t n)
{
    for (size_t i = 0; c != NULL && i < n; i++) {
        free(c[i].key);
        json_decref(c[i].value);
    }
    free(c);
}

void automation_rule_free(struct hdf_auto_rule *rule)
{
    conds_free(rule->all, rule->nall);
    conds_free(rule->any, rule->nany);
    for (size_t i = 0; rule->actions != NULL && i < rule->nactions; i++) {
        free(rule->actions[i].key);
        json_decref(rule->actions[i].value);
    }
    free(rule->actions);
    free(rule->name);
    memset(rule, 0, sizeof(*rule));
}

void automation_refs_free(struct hdf_auto_refs *refs)
{
    json_decref(refs->team_ids);
    json_decref(refs->agent_ids);
    json_decref(refs->ticket_fields);
    json_decref(refs->customer_fields);
    json_decref(refs->custom_values);
    memset(refs, 0, sizeof(*refs));
}

const char *automation_action_name(enum hdf_auto_action_type t)
{
    return action_names[t];
}

int automation_action_index(const char *name)
{
    return index_of(action_names, name);
}
