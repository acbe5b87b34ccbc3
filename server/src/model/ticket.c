/*
 * ticket.c: ticket and message request validation (see ticket.h).
 */
#include <string.h>
#include "model/ticket.h"
#include "model/tags.h"
#include "common/json_util.h"
#include "common/util.h"
#include "sanitize/sanitize.h"

/* Whether a JSON array of strings holds s (a NULL array holds nothing). */
static int json_array_contains_string(const json_t *a, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) if (json_is_string(v) && strcmp(json_string_value(v), s) == 0) return 1;
    return 0;
}

const char *const hdf_ticket_statuses[] = {"new", "open", "pending", "on_hold", "solved", "closed", NULL};
const char *const hdf_ticket_priorities[] = {"low", "normal", "high", "urgent", NULL};
const char *const hdf_ticket_channels[] = {"api", "email", "web", "chat", NULL};

int ticket_get_body(json_t *obj, const char *field, int required, const char **out, size_t *len, hdf_field_errors_t *fe)
{
    json_t *v = json_object_get(obj, field);
    *out = NULL;
    *len = 0;
    if (v == NULL) {
        if (required)
            field_errors_add(fe, field, "required", "%s is required", field);
        return required ? -1 : 0;
    }
    if (!json_is_string(v)) {
        field_errors_add(fe, field, "invalid_type", "%s must be a string of HTML", field);
        return -1;
    }
    /* counted on the input, in characters, before sanitizing (CONTRACT.md) */
    if (utf8_length(json_string_value(v), json_string_length(v)) > HDF_BODY_MAX_CHARS) {
        field_errors_add(fe, field, "too_long", "%s exceeds %d characters", field, HDF_BODY_MAX_CHARS);
        return -1;
    }
    *out = json_string_value(v);
    *len = json_string_length(v);
    return 1;
}

static void customer_fields(json_t *c, struct hdf_ticket_create *t, hdf_field_errors_t *fe)
{
    static const char *const allowed[] = {"email", "name", "custom_fields", "tags", NULL};
    const char *email = NULL;
    json_reject_unknown(c, allowed, "customer.", fe);
    if (json_get_string(c, "email", "customer.email", 1, 1000, 1, &email, fe) > 0) {
        enum hdf_email_result er = email_normalize(email, strlen(email), t->customer_email);
        if (er != HDF_EMAIL_OK)
            field_errors_add(fe, "customer.email", er == HDF_EMAIL_TOO_LONG ? "too_long" : "invalid", "customer.email %s",
                             email_result_message(er));
    }
    json_get_string(c, "name", "customer.name", 0, HDF_NAME_MAX_CHARS, 0, &t->customer_name, fe);
    json_t *tags = json_object_get(c, "tags");
    if (tags != NULL)
        t->customer_tags = tags_normalize(tags, "customer.tags", fe);
    t->customer_custom_fields = json_object_get(c, "custom_fields");
    if (t->customer_custom_fields != NULL && !json_is_object(t->customer_custom_fields))
        field_errors_add(fe, "customer.custom_fields", "invalid_type", "customer.custom_fields must be an object");
}

int ticket_validate_create(json_t *body, struct hdf_ticket_create *t, hdf_field_errors_t *fe)
{
    static const char *const allowed[] = {"subject",       "customer", "body",        "priority", "status", "tags",
                                          "custom_fields", "team_id",  "assignee_id", "channel",  NULL};
    memset(t, 0, sizeof(*t));
    if (!json_is_object(body)) {
        field_errors_add(fe, "body", body == NULL ? "required" : "invalid_type", "the request body must be a JSON object");
        return -1;
    }
    json_reject_unknown(body, allowed, "", fe);
    json_get_string(body, "subject", "subject", 1, HDF_SUBJECT_MAX_CHARS, 1, &t->subject, fe);
    json_t *c = json_object_get(body, "customer");
    if (c == NULL)
        field_errors_add(fe, "customer.email", "required", "customer.email is required");
    else if (!json_is_object(c))
        field_errors_add(fe, "customer", "invalid_type", "customer must be an object");
    else
        customer_fields(c, t, fe);
    ticket_get_body(body, "body", 0, &t->body, &t->body_len, fe);
    json_get_enum(body, "status", "status", hdf_ticket_statuses, "new", &t->status, fe);
    json_get_enum(body, "priority", "priority", hdf_ticket_priorities, "normal", &t->priority, fe);
    json_get_enum(body, "channel", "channel", hdf_ticket_channels, "api", &t->channel, fe);
    json_t *tags = json_object_get(body, "tags");
    t->tags = tags != NULL ? tags_normalize(tags, "tags", fe) : json_array();
    t->custom_fields = json_object_get(body, "custom_fields");
    if (t->custom_fields != NULL && !json_is_object(t->custom_fields))
        field_errors_add(fe, "custom_fields", "invalid_type", "custom_fields must be an object");
    json_get_id(body, "team_id", "team_id", &t->team_id, fe);
    json_get_id(body, "assignee_id", "assignee_id", &t->assignee_id, fe);
    return field_errors_count(fe) > 0 ? -1 : 0;
}

void ticket_create_free(struct hdf_ticket_create *t)
{
    json_decref(t->customer_tags);
    json_decref(t->tags);
    t->customer_tags = t->tags = NULL;
}

static void patch_tags(json_t *out, json_t *patch, hdf_field_errors_t *fe)
{
    json_t *tags = json_object_get(patch, "tags"), *add = json_object_get(patch, "add_tags"),
           *remove = json_object_get(patch, "remove_tags");
    json_t *cur = tags != NULL ? tags_normalize(tags, "tags", fe) : json_incref(json_object_get(out, "tags"));
    json_t *adds = add != NULL ? tags_normalize(add, "add_tags", fe) : NULL;
    json_t *removes = remove != NULL ? tags_normalize(remove, "remove_tags", fe) : NULL;
    if (cur != NULL && field_errors_count(fe) == 0) {
        size_t i;
        json_t *v;
        json_array_foreach(adds, i, v) if (!json_array_contains_string(cur, json_string_value(v))) json_array_append(cur, v);
        json_t *kept = json_array();
        json_array_foreach(cur, i, v) if (!json_array_contains_string(removes, json_string_value(v))) json_array_append(kept, v);
        if (json_array_size(kept) > HDF_TAGS_MAX)
            field_errors_add(fe, "tags", "too_many", "a ticket has at most %d tags", HDF_TAGS_MAX);
        json_object_set_new(out, "tags", kept);
    }
    json_decref(cur);
    json_decref(adds);
    json_decref(removes);
}

static void patch_custom_fields(json_t *out, json_t *patch, hdf_field_errors_t *fe)
{
    json_t *cf = json_object_get(patch, "custom_fields");
    if (cf == NULL)
        return;
    if (!json_is_object(cf)) {
        field_errors_add(fe, "custom_fields", "invalid_type", "custom_fields must be an object");
        return;
    }
    json_t *merged = json_deep_copy(json_object_get(out, "custom_fields"));
    const char *key;
    json_t *v;
    json_object_foreach(cf, key, v)
    {
        if (json_is_null(v))
            json_object_del(merged, key);
        else
            json_object_set(merged, key, v);
    }
    json_object_set_new(out, "custom_fields", merged);
}

static void patch_id(json_t *out, json_t *patch, const char *key, hdf_field_errors_t *fe)
{
    int64_t id;
    if (json_object_get(patch, key) != NULL && json_get_id(patch, key, key, &id, fe) >= 0)
        json_object_set_new(out, key, id > 0 ? json_integer((json_int_t)id) : json_null());
}

json_t *ticket_apply_patch(const json_t *fields, json_t *patch, hdf_field_errors_t *fe)
{
    static const char *const allowed[] = {"subject", "status",   "priority",    "team_id",       "assignee_id",
                                          "tags",    "add_tags", "remove_tags", "custom_fields", NULL};
    if (!json_is_object(patch)) {
        field_errors_add(fe, "body", patch == NULL ? "required" : "invalid_type", "the request body must be a JSON object");
        return NULL;
    }
    json_reject_unknown(patch, allowed, "", fe);
    json_t *out = json_deep_copy(fields);
    const char *v;
    if (json_get_string(patch, "subject", "subject", 1, HDF_SUBJECT_MAX_CHARS, 0, &v, fe) > 0)
        json_object_set_new(out, "subject", json_string(v));
    if (json_get_enum(patch, "status", "status", hdf_ticket_statuses, NULL, &v, fe) > 0)
        json_object_set_new(out, "status", json_string(v));
    if (json_get_enum(patch, "priority", "priority", hdf_ticket_priorities, NULL, &v, fe) > 0)
        json_object_set_new(out, "priority", json_string(v));
    patch_id(out, patch, "team_id", fe);
    patch_id(out, patch, "assignee_id", fe);
    patch_tags(out, patch, fe);
    patch_custom_fields(out, patch, fe);
    if (field_errors_count(fe) > 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

int message_validate_create(json_t *body, struct hdf_message_create *m, hdf_field_errors_t *fe)
{
    static const char *const allowed[] = {"body", "author_type", "internal", NULL};
    static const char *const author_types[] = {"agent", "customer", NULL};
    memset(m, 0, sizeof(*m));
    if (!json_is_object(body)) {
        field_errors_add(fe, "body", body == NULL ? "required" : "invalid_type", "the request body must be a JSON object");
        return -1;
    }
    json_reject_unknown(body, allowed, "", fe);
    ticket_get_body(body, "body", 1, &m->body, &m->body_len, fe);
    json_get_enum(body, "author_type", "author_type", author_types, "agent", &m->author_type, fe);
    if (json_get_bool(body, "internal", "internal", 0, &m->internal, fe) > 0 && m->internal && strcmp(m->author_type, "agent") != 0)
        field_errors_add(fe, "internal", "invalid", "only agents' messages may be internal");
    return field_errors_count(fe) > 0 ? -1 : 0;
}
