/*
 * action_parse.c: the actions of an automation rule ({type, value} and {type: set_custom_field,
 * field, value}), validated with paths like `actions[0].value` and normalised once (tags
 * lower-cased and deduplicated, notes escaped to HTML) so that evaluation only copies values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "automation/rule_internal.h"
#include "common/json_util.h"
#include "common/util.h"
#include "model/custom_field.h"
#include "model/tags.h"
#include "model/ticket.h"

void automation_action_target(const struct hdf_auto_action *a, char *out, size_t outsz)
{
    static const char *const targets[] = {"priority", "status", "tags", "tags", "team_id", "assignee_id", "internal_note", NULL};
    if (a->type == HDF_AA_SET_CUSTOM_FIELD)
        snprintf(out, outsz, "custom_fields.%s", a->key);
    else
        snprintf(out, outsz, "%s", targets[a->type]);
}

/* A note is text: escaped once here, so the stored message is HTML that shows exactly it. */
static json_t *note_html(const char *s)
{
    size_t n = 0;
    for (const char *p = s; *p != '\0'; p++)
        n += *p == '&' ? 5 : *p == '<' || *p == '>' ? 4 : *p == '"' ? 6 : 1;
    char *out = malloc(n + 1), *o = out;
    for (const char *p = s; *p != '\0'; p++) {
        const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" : *p == '"' ? "&quot;" : NULL;
        if (rep != NULL) {
            memcpy(o, rep, strlen(rep));
            o += strlen(rep);
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    json_t *j = json_string(out);
    free(out);
    return j;
}

static void refs_add_id(json_t *list, const json_t *v, const char *path)
{
    if (list != NULL && json_is_integer(v))
        json_array_append_new(list, json_pack("[I, s]", json_integer_value(v), path));
}

/* The value of one action (path ends in `.value`). */
static int action_value(struct hdf_auto_action *a, const json_t *v, const char *path, struct hdf_auto_refs *refs,
                        hdf_field_errors_t *fe)
{
    const char *const *values = a->type == HDF_AA_SET_PRIORITY ? hdf_ticket_priorities : hdf_ticket_statuses;
    switch (a->type) {
    case HDF_AA_SET_PRIORITY:
    case HDF_AA_SET_STATUS:
        for (size_t i = 0; json_is_string(v) && values[i] != NULL; i++)
            if (strcmp(values[i], json_string_value(v)) == 0)
                a->value = json_incref((json_t *)v);
        break;
    case HDF_AA_ADD_TAGS:
    case HDF_AA_REMOVE_TAGS:
        if (json_is_array(v) && json_array_size(v) == 0)
            break;
        if (v != NULL && (a->value = tags_normalize(v, path, fe)) == NULL)
            return -1;
        break;
    case HDF_AA_ASSIGN_TEAM:
    case HDF_AA_ASSIGN_AGENT:
        if (json_is_null(v) || (json_is_integer(v) && json_integer_value(v) > 0))
            a->value = json_incref((json_t *)v);
        if (refs != NULL)
            refs_add_id(a->type == HDF_AA_ASSIGN_TEAM ? refs->team_ids : refs->agent_ids, v, path);
        break;
    case HDF_AA_ADD_INTERNAL_NOTE:
        if (json_is_string(v) && json_string_length(v) > 0 &&
            utf8_length(json_string_value(v), json_string_length(v)) <= HDF_AUTO_NOTE_MAX)
            a->value = note_html(json_string_value(v));
        break;
    case HDF_AA_SET_CUSTOM_FIELD:
        if (json_is_string(v) || json_is_number(v) || json_is_boolean(v) || json_is_null(v))
            a->value = json_incref((json_t *)v);
        break;
    }
    if (a->value != NULL)
        return 0;
    static const char *const expected[] = {"low, normal, high or urgent",
                                           "new, open, pending, on_hold, solved or closed",
                                           "a non-empty array of tags",
                                           "a non-empty array of tags",
                                           "a team id or null",
                                           "an agent id or null",
                                           "a string of 1 to 10000 characters",
                                           "a string, number, boolean or null"};
    field_errors_add(fe, path, v == NULL ? "required" : "invalid", "%s must be %s", path, expected[a->type]);
    return -1;
}

static int action_parse(const json_t *j, const char *apath, struct hdf_auto_action *a, struct hdf_auto_refs *refs,
                        hdf_field_errors_t *fe)
{
    static const char *const members[] = {"type", "value", NULL}, *const cf_members[] = {"type", "field", "value", NULL};
    char path[64];
    if (!json_is_object(j)) {
        field_errors_add(fe, apath, "invalid_type", "%s must be an object {type, value}", apath);
        return -1;
    }
    json_t *type = json_object_get(j, "type");
    int t = json_is_string(type) ? automation_action_index(json_string_value(type)) : -1;
    snprintf(path, sizeof(path), "%s.", apath);
    json_reject_unknown((json_t *)j, t == HDF_AA_SET_CUSTOM_FIELD ? cf_members : members, path, fe);
    snprintf(path, sizeof(path), "%s.type", apath);
    if (t < 0) {
        field_errors_add(fe, path, type == NULL ? "required" : "invalid",
                         "%s must be one of set_priority, set_status, "
                         "add_tags, remove_tags, assign_team, assign_agent, add_internal_note, set_custom_field",
                         path);
        return -1;
    }
    a->type = (enum hdf_auto_action_type)t;
    if (a->type == HDF_AA_SET_CUSTOM_FIELD) {
        json_t *f = json_object_get(j, "field");
        snprintf(path, sizeof(path), "%s.field", apath);
        if (!json_is_string(f) || !custom_field_key_is_valid(json_string_value(f))) {
            field_errors_add(fe, path, f == NULL ? "required" : "invalid", "%s must be a custom field key", path);
            return -1;
        }
        a->key = strdup(json_string_value(f));
    }
    snprintf(path, sizeof(path), "%s.value", apath);
    if (action_value(a, json_object_get(j, "value"), path, refs, fe) != 0)
        return -1;
    if (a->type == HDF_AA_SET_CUSTOM_FIELD && refs != NULL) {
        json_array_append_new(refs->custom_values, json_pack("[s, O, s]", a->key, a->value, path));
        snprintf(path, sizeof(path), "%s.field", apath); /* a field the rule sets is one it refers to (its delete is refused) */
        refs_add_key(refs->ticket_fields, a->key, path);
    }
    return 0;
}

/* One rule setting one field twice, or adding and removing one tag, contradicts itself: refused
 * when written rather than answered as a conflict on every request. */
static void actions_check_duplicates(const struct hdf_auto_rule *r, hdf_field_errors_t *fe)
{
    for (size_t i = 1; i < r->nactions; i++) {
        const struct hdf_auto_action *a = &r->actions[i];
        for (size_t k = 0; k < i; k++) {
            const struct hdf_auto_action *b = &r->actions[k];
            char ta[96], tb[96], path[40];
            automation_action_target(a, ta, sizeof(ta));
            automation_action_target(b, tb, sizeof(tb));
            if (strcmp(ta, tb) != 0 || a->type == HDF_AA_ADD_INTERNAL_NOTE)
                continue;
            if (a->type == b->type && (a->type == HDF_AA_ADD_TAGS || a->type == HDF_AA_REMOVE_TAGS))
                continue; /* two lists of the same kind simply add up */
            if (a->type != b->type && a->value != NULL && b->value != NULL) {
                size_t x, y;
                json_t *u, *w;
                int overlap = 0;
                json_array_foreach(a->value, x, u) json_array_foreach(b->value, y, w) overlap |= json_equal(u, w);
                if (!overlap)
                    continue;
            }
            snprintf(path, sizeof(path), "actions[%zu]", i);
            field_errors_add(fe, path, "duplicate", "%s changes %s, which actions[%zu] of the same rule changes too", path, ta, k);
            break;
        }
    }
}

int actions_parse(const json_t *j, struct hdf_auto_rule *r, struct hdf_auto_refs *refs, hdf_field_errors_t *fe)
{
    if (!json_is_array(j) || json_array_size(j) == 0 || json_array_size(j) > HDF_AUTO_ACTIONS_MAX) {
        field_errors_add(fe, "actions", j == NULL ? "required" : "invalid_type", "actions must be an array of 1 to %d actions",
                         HDF_AUTO_ACTIONS_MAX);
        return -1;
    }
    r->nactions = json_array_size(j);
    r->actions = calloc(r->nactions, sizeof(*r->actions));
    int rc = 0;
    for (size_t i = 0; i < r->nactions; i++) {
        char apath[32];
        snprintf(apath, sizeof(apath), "actions[%zu]", i);
        if (action_parse(json_array_get(j, i), apath, &r->actions[i], refs, fe) != 0)
            rc = -1;
    }
    if (rc == 0)
        actions_check_duplicates(r, fe);
    return rc;
}
