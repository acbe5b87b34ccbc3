/*
 * eval.c: one automation pass (automation.h, docs/automation.md). Rules run in (position, id)
 * order, each at most once, over the state the rules before it left: a single loop, so no rule can
 * trigger another and no loop is possible. A field set by two rules to different values is a
 * conflict, never a silent override. Conditions read the state in place: a rule that does not
 * match allocates nothing.
 */
/* strcasestr: _GNU_SOURCE comes from CMakeLists.txt */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "automation/automation.h"
#include "automation/rule_internal.h"
#include "model/tags.h"
#include "model/ticket.h"

/* Where a condition's field lives: the ticket (now or before the user's change), the customer or
 * the message. */
static const json_t *field_value(const struct hdf_auto_cond *c, const json_t *ticket, const json_t *customer, const json_t *message)
{
    static const char *const names[] = {[HDF_AF_SUBJECT] = "subject",
                                        [HDF_AF_STATUS] = "status",
                                        [HDF_AF_PRIORITY] = "priority",
                                        [HDF_AF_CHANNEL] = "channel",
                                        [HDF_AF_TAGS] = "tags",
                                        [HDF_AF_TEAM_ID] = "team_id",
                                        [HDF_AF_ASSIGNEE_ID] = "assignee_id",
                                        [HDF_AF_CUSTOMER_EMAIL] = "email",
                                        [HDF_AF_CUSTOMER_NAME] = "name",
                                        [HDF_AF_CUSTOMER_TAGS] = "tags",
                                        [HDF_AF_MESSAGE_BODY] = "body",
                                        [HDF_AF_MESSAGE_AUTHOR_TYPE] = "author_type",
                                        [HDF_AF_MESSAGE_INTERNAL] = "internal"};
    switch (c->field) {
    case HDF_AF_CUSTOM_FIELD:
        return json_object_get(json_object_get(ticket, "custom_fields"), c->key);
    case HDF_AF_CUSTOMER_CUSTOM_FIELD:
        return json_object_get(json_object_get(customer, "custom_fields"), c->key);
    case HDF_AF_CUSTOMER_EMAIL:
    case HDF_AF_CUSTOMER_NAME:
    case HDF_AF_CUSTOMER_TAGS:
        return json_object_get(customer, names[c->field]);
    case HDF_AF_MESSAGE_BODY:
    case HDF_AF_MESSAGE_AUTHOR_TYPE:
    case HDF_AF_MESSAGE_INTERNAL:
        return json_object_get(message, names[c->field]);
    default:
        return json_object_get(ticket, names[c->field]);
    }
}

/* Equality as a user means it: 3 equals 3.0; a missing value equals null. */
static int values_equal(const json_t *a, const json_t *b)
{
    int an = a == NULL || json_is_null(a), bn = b == NULL || json_is_null(b);
    if (an || bn)
        return an && bn;
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal((json_t *)a, (json_t *)b);
}

static int value_in(const json_t *v, const json_t *list)
{
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e) if (values_equal(v, e)) return 1;
    return 0;
}

/* contains: membership on a list, a case-insensitive substring on text */
static int value_contains(const json_t *v, const json_t *needle)
{
    if (json_is_array(v))
        return value_in(needle, v);
    return json_is_string(v) && strcasestr(json_string_value(v), json_string_value(needle)) != NULL;
}

static int priority_rank(const json_t *v)
{
    for (int i = 0; json_is_string(v) && hdf_ticket_priorities[i] != NULL; i++)
        if (strcmp(hdf_ticket_priorities[i], json_string_value(v)) == 0)
            return i;
    return -1;
}

/* gt/gte/lt/lte: -2 when the values do not compare (a missing value, mixed types), else <0 0 >0 */
static int value_compare(const struct hdf_auto_cond *c, const json_t *v)
{
    if (c->field == HDF_AF_PRIORITY) {
        int a = priority_rank(v), b = priority_rank(c->value);
        return a < 0 ? -2 : (a > b) - (a < b);
    }
    if (json_is_number(v) && json_is_number(c->value)) {
        double a = json_number_value(v), b = json_number_value(c->value);
        return (a > b) - (a < b);
    }
    if (json_is_string(v) && json_is_string(c->value)) {
        int d = strcmp(json_string_value(v), json_string_value(c->value));
        return (d > 0) - (d < 0);
    }
    return -2;
}

static int value_is_set(const json_t *v)
{
    if (v == NULL || json_is_null(v))
        return 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    return 1;
}

static int cond_holds(const struct hdf_auto_cond *c, const struct hdf_auto_subject *s, const json_t *message)
{
    const json_t *v = field_value(c, s->ticket, s->customer, message);
    int cmp;
    switch (c->op) {
    case HDF_AO_EQ:
        return values_equal(v, c->value);
    case HDF_AO_NE:
        return !values_equal(v, c->value);
    case HDF_AO_IN:
        return v != NULL && !json_is_null(v) && value_in(v, c->value);
    case HDF_AO_NOT_IN:
        return !(v != NULL && !json_is_null(v) && value_in(v, c->value));
    case HDF_AO_CONTAINS:
        return value_contains(v, c->value);
    case HDF_AO_NOT_CONTAINS:
        return !value_contains(v, c->value);
    case HDF_AO_STARTS_WITH:
        return json_is_string(v) &&
               strncasecmp(json_string_value(v), json_string_value(c->value), json_string_length(c->value)) == 0;
    case HDF_AO_GT:
        return (cmp = value_compare(c, v)) != -2 && cmp > 0;
    case HDF_AO_GTE:
        return (cmp = value_compare(c, v)) != -2 && cmp >= 0;
    case HDF_AO_LT:
        return (cmp = value_compare(c, v)) != -2 && cmp < 0;
    case HDF_AO_LTE:
        return (cmp = value_compare(c, v)) != -2 && cmp <= 0;
    case HDF_AO_CHANGED:
    case HDF_AO_CHANGED_TO:
        if (s->previous == NULL || values_equal(field_value(c, s->previous, NULL, NULL), v))
            return 0;
        return c->op == HDF_AO_CHANGED || values_equal(v, c->value);
    case HDF_AO_IS_SET:
        return value_is_set(v) == c->want_set;
    }
    return 0;
}

/* An omitted or empty `all` holds; an omitted or empty `any` holds (docs/automation.md). */
static int rule_matches(const struct hdf_auto_rule *r, const struct hdf_auto_subject *s, const json_t *message)
{
    for (size_t i = 0; i < r->nall; i++)
        if (!cond_holds(&r->all[i], s, message))
            return 0;
    for (size_t i = 0; i < r->nany; i++)
        if (cond_holds(&r->any[i], s, message))
            return 1;
    return r->nany == 0;
}

/* ---- effects and conflicts ---- */

/* What a rule set in this pass: target (a field, or "tags:<tag>"), to what, by which rule. */
struct claim {
    char target[96];
    const json_t *value; /* for tags: json_true() added, json_false() removed */
    int64_t rule_id;
};

struct pass {
    struct claim *claims;
    size_t nclaims, cap;
    struct hdf_auto_result *out;
};

static void conflict_set(struct pass *p, const struct claim *earlier, int64_t rule_id, const char *field, const json_t *value)
{
    char detail[512], *was = json_dumps(earlier->value, JSON_ENCODE_ANY | JSON_COMPACT),
                      *now = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
    if (strncmp(earlier->target, "tags:", 5) == 0)
        snprintf(detail, sizeof(detail), "rule %lld %s tag %s %s tags, which rule %lld %s in the same pass", (long long)rule_id,
                 json_is_true(value) ? "adds" : "removes", earlier->target + 5, json_is_true(value) ? "to" : "from",
                 (long long)earlier->rule_id, json_is_true(earlier->value) ? "added" : "removed");
    else
        snprintf(detail, sizeof(detail), "rule %lld sets %s to %s, which rule %lld set to %s in the same pass", (long long)rule_id,
                 field, now != NULL ? now : "?", (long long)earlier->rule_id, was != NULL ? was : "?");
    free(was);
    free(now);
    p->out->conflict = json_pack("{s:[I, I], s:s, s:s}", "rule_ids", (json_int_t)earlier->rule_id, (json_int_t)rule_id, "field",
                                 field, "detail", detail);
}

/* Records target=value for rule_id; 1 (and the conflict) when an earlier rule set it otherwise. */
static int claim(struct pass *p, const char *target, const char *field, const json_t *value, int64_t rule_id)
{
    for (size_t i = 0; i < p->nclaims; i++) {
        struct claim *c = &p->claims[i];
        if (strcmp(c->target, target) != 0 || c->rule_id == rule_id)
            continue;
        if (values_equal(c->value, value))
            return 0;
        conflict_set(p, c, rule_id, field, value);
        return 1;
    }
    if (p->nclaims == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->claims = realloc(p->claims, p->cap * sizeof(*p->claims));
    }
    struct claim *c = &p->claims[p->nclaims++];
    snprintf(c->target, sizeof(c->target), "%s", target);
    c->value = value;
    c->rule_id = rule_id;
    return 0;
}

static int rule_claims(struct pass *p, const struct hdf_auto_rule *r)
{
    for (size_t i = 0; i < r->nactions; i++) {
        const struct hdf_auto_action *a = &r->actions[i];
        char target[96];
        automation_action_target(a, target, sizeof(target));
        if (a->type == HDF_AA_ADD_INTERNAL_NOTE)
            continue;
        if (a->type != HDF_AA_ADD_TAGS && a->type != HDF_AA_REMOVE_TAGS) {
            if (claim(p, target, target, a->value, r->id))
                return 1;
            continue;
        }
        size_t k;
        json_t *tag;
        json_array_foreach(a->value, k, tag)
        {
            char t[96];
            snprintf(t, sizeof(t), "tags:%s", json_string_value(tag));
            if (claim(p, t, "tags", a->type == HDF_AA_ADD_TAGS ? json_true() : json_false(), r->id))
                return 1;
        }
    }
    return 0;
}

/* New tags: the current ones plus adds (up to HDF_TAGS_MAX) minus removes, order kept. */
static json_t *tags_edit(const json_t *cur, const json_t *tags, int add)
{
    json_t *out = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(cur, i, v) if (add || !value_in(v, tags)) json_array_append(out, v);
    json_array_foreach(tags, i, v) if (add && !value_in(v, out) && json_array_size(out) < HDF_TAGS_MAX) json_array_append(out, v);
    return out;
}

static const char *action_key(const struct hdf_auto_action *a)
{
    static const char *const keys[] = {"priority", "status", "tags", "tags", "team_id", "assignee_id", NULL, "custom_fields"};
    return keys[a->type];
}

static void action_apply(json_t *t, const struct hdf_auto_action *a)
{
    json_t *cf;
    switch (a->type) {
    case HDF_AA_ADD_TAGS:
    case HDF_AA_REMOVE_TAGS:
        json_object_set_new(t, "tags", tags_edit(json_object_get(t, "tags"), a->value, a->type == HDF_AA_ADD_TAGS));
        break;
    case HDF_AA_SET_CUSTOM_FIELD:
        cf = json_copy(json_object_get(t, "custom_fields"));
        cf = cf != NULL ? cf : json_object();
        if (json_is_null(a->value))
            json_object_del(cf, a->key);
        else
            json_object_set(cf, a->key, a->value);
        json_object_set_new(t, "custom_fields", cf);
        break;
    case HDF_AA_ADD_INTERNAL_NOTE:
        break;
    default:
        json_object_set(t, action_key(a), a->value);
    }
}

/* Applies a matched rule's actions; its changes (hdf_changes form) and notes go to out. Values are
 * replaced, never edited in place, so holding a reference is enough to remember the old one. */
static void rule_apply(struct hdf_auto_subject *s, const struct hdf_auto_rule *r, struct hdf_auto_result *out)
{
    const char *keys[HDF_AUTO_ACTIONS_MAX];
    json_t *before[HDF_AUTO_ACTIONS_MAX];
    size_t n = 0;
    for (size_t i = 0; i < r->nactions; i++) {
        const struct hdf_auto_action *a = &r->actions[i];
        const char *key = action_key(a);
        if (key == NULL) {
            json_array_append_new(out->notes, json_pack("{s:I, s:O}", "rule_id", (json_int_t)r->id, "body", a->value));
            continue;
        }
        size_t k = 0;
        while (k < n && strcmp(keys[k], key) != 0)
            k++;
        if (k == n) {
            keys[n] = key;
            before[n++] = json_incref(json_object_get(s->ticket, key));
        }
        action_apply(s->ticket, a);
    }
    json_t *changes = json_object();
    for (size_t k = 0; k < n; k++) {
        json_t *now = json_object_get(s->ticket, keys[k]);
        if (!json_equal(before[k], now))
            json_object_set_new(changes, keys[k], json_pack("{s:O?, s:O?}", "from", before[k], "to", now));
        json_decref(before[k]);
    }
    if (json_object_size(changes) > 0)
        json_array_append_new(out->effects, json_pack("{s:I, s:o}", "rule_id", (json_int_t)r->id, "changes", changes));
    else
        json_decref(changes);
}

static json_t *rule_ref(const struct hdf_auto_rule *r)
{
    return json_pack("{s:I, s:s, s:I}", "rule_id", (json_int_t)r->id, "name", r->name, "position", (json_int_t)r->position);
}

int automation_run(const struct hdf_auto_ruleset *rs, unsigned event, struct hdf_auto_subject *s, int trace,
                   struct hdf_auto_result *out)
{
    memset(out, 0, sizeof(*out));
    out->matched = json_array();
    out->effects = json_array();
    out->notes = json_array();
    out->trace = trace ? json_array() : NULL;
    json_t *message = s->message_text == NULL ? NULL
                                              : json_pack("{s:s, s:s, s:b}", "body", s->message_text, "author_type",
                                                          s->message_author_type != NULL ? s->message_author_type : "customer",
                                                          "internal", s->message_internal);
    struct pass p = {.out = out};
    int rc = 0;
    for (size_t i = 0; rs != NULL && i < rs->n && rc == 0; i++) {
        const struct hdf_auto_rule *r = &rs->rules[i];
        if (!(r->events & event))
            continue;
        int m = rule_matches(r, s, message);
        if (trace) {
            json_t *t = rule_ref(r);
            json_object_set_new(t, "matched", json_boolean(m));
            json_array_append_new(out->trace, t);
        }
        if (!m)
            continue;
        json_array_append_new(out->matched, rule_ref(r));
        if ((rc = rule_claims(&p, r)) == 0)
            rule_apply(s, r, out);
    }
    free(p.claims);
    json_decref(message);
    return rc;
}

void automation_result_free(struct hdf_auto_result *out)
{
    json_decref(out->trace);
    json_decref(out->matched);
    json_decref(out->effects);
    json_decref(out->notes);
    json_decref(out->conflict);
    memset(out, 0, sizeof(*out));
}

/* ---- rulesets ---- */

static int rule_order(const void *a, const void *b)
{
    const struct hdf_auto_rule *x = a, *y = b;
    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Whether a condition of r reads a field of fields[0..n). */
static int rule_reads(const struct hdf_auto_rule *r, const enum hdf_auto_field *fields, size_t n)
{
    for (size_t i = 0; i < r->nall + r->nany; i++) {
        enum hdf_auto_field f = i < r->nall ? r->all[i].field : r->any[i - r->nall].field;
        for (size_t k = 0; k < n; k++)
            if (f == fields[k])
                return 1;
    }
    return 0;
}

static const enum hdf_auto_field customer_fields[] = {HDF_AF_CUSTOMER_NAME, HDF_AF_CUSTOMER_TAGS, HDF_AF_CUSTOMER_CUSTOM_FIELD};
static const enum hdf_auto_field message_body_field[] = {HDF_AF_MESSAGE_BODY};

struct hdf_auto_ruleset *automation_ruleset_build(const json_t *rules, int64_t version, size_t *skipped)
{
    struct hdf_auto_ruleset *rs = calloc(1, sizeof(*rs));
    size_t n = json_array_size(rules), i;
    json_t *row;
    rs->version = version;
    rs->refs = 1;
    rs->rules = calloc(n + 1, sizeof(*rs->rules));
    *skipped = 0;
    json_array_foreach(rules, i, row)
    {
        hdf_field_errors_t fe = {0};
        json_t *id = json_object_get(row, "id");
        struct hdf_auto_rule *r = &rs->rules[rs->n];
        if (!json_is_integer(id) ||
            automation_rule_parse(json_object_get(row, "rule"), json_integer_value(id), r, NULL, &fe) != 0) {
            (*skipped)++;
            field_errors_clear(&fe);
            continue;
        }
        if (!r->enabled) {
            automation_rule_free(r);
            continue;
        }
        rs->events |= r->events;
        if (rule_reads(r, customer_fields, 3)) {
            rs->needs_customer = 1;
            rs->customer_events |= r->events;
        }
        rs->needs_message_text |= rule_reads(r, message_body_field, 1);
        rs->n++;
    }
    qsort(rs->rules, rs->n, sizeof(*rs->rules), rule_order);
    return rs;
}

struct hdf_auto_ruleset *automation_ruleset_retain(struct hdf_auto_ruleset *rs)
{
    if (rs != NULL)
        rs->refs++;
    return rs;
}

void automation_ruleset_release(struct hdf_auto_ruleset *rs)
{
    if (rs == NULL || --rs->refs > 0)
        return;
    for (size_t i = 0; i < rs->n; i++)
        automation_rule_free(&rs->rules[i]);
    free(rs->rules);
    free(rs);
}
