/*
 * admin_custom_fields.c: /v1/custom-fields (admin keys): the typed fields tickets and customers
 * may carry in custom_fields. {object: ticket|customer, key, type: text|number|boolean|date|enum,
 * options (enum only)}; the rules are in model/custom_field.c. object, key and type never change
 * once created (a PATCH naming them is refused as `immutable`); an enum's options may. Deleting a
 * definition leaves stored values alone: they are simply no longer validated.
 */
#include <stdlib.h>
#include <string.h>
#include "handlers/admin_common.h"
#include "http/list.h"
#include "http/respond.h"
#include "common/json_util.h"
#include "model/custom_field.h"

#define CUSTOM_FIELDS_CURSOR_KIND "cf"
#define CUSTOM_FIELDS_COLLECTION "/v1/custom-fields"

static const char *const custom_field_members[] = {"object", "key", "type", "options", NULL};

struct custom_field_input {
    const char *object, *key, *type;
    char *options; /* the JSON array, malloc'd; NULL when absent or null */
};

/* A string member that must be one of a closed set (checked by valid). */
static void cf_read_word(json_t *body, const char *name, size_t max, int (*valid)(const char *), const char *expected,
                         const char **out, hdf_field_errors_t *fe)
{
    if (json_get_string(body, name, name, 1, max, 1, out, fe) > 0 && !valid(*out)) {
        field_errors_add(fe, name, "invalid", "%s must be %s", name, expected);
        *out = NULL;
    }
}

static void cf_read_options(json_t *body, const char *type, struct custom_field_input *in, hdf_field_errors_t *fe)
{
    json_t *options = json_object_get(body, "options");
    int is_enum = type != NULL && strcmp(type, "enum") == 0;
    if (options == NULL || json_is_null(options)) {
        if (is_enum)
            field_errors_add(fe, "options", "required", "options is required for enum fields");
        return;
    }
    if (type != NULL && !is_enum) {
        field_errors_add(fe, "options", "invalid", "options are only for enum fields");
        return;
    }
    if (custom_field_check_options(options, fe) == 0) {
        size_t len;
        in->options = json_dump_compact(options, &len);
    }
}

static void cf_read_create(struct hdf_req *r, struct custom_field_input *in, hdf_field_errors_t *fe)
{
    json_t *body = admin_body(r, custom_field_members, fe);
    memset(in, 0, sizeof(*in));
    if (body == NULL)
        return;
    cf_read_word(body, "object", 16, custom_field_object_is_valid, "ticket or customer", &in->object, fe);
    cf_read_word(body, "key", HDF_CF_KEY_MAX, custom_field_key_is_valid,
                 "1 to 64 characters of a-z, 0-9 and _, starting with a letter", &in->key, fe);
    cf_read_word(body, "type", 16, custom_field_type_is_valid, "text, number, boolean, date or enum", &in->type, fe);
    json_t *options = json_object_get(body, "options");
    if (in->type != NULL)
        cf_read_options(body, in->type, in, fe);
    else if (options != NULL && !json_is_null(options))
        custom_field_check_options(options, fe); /* type missing or invalid: options' own shape only */
}

/* PATCH: only options; object, key and type are reported as immutable. */
static void cf_read_update(struct hdf_req *r, struct custom_field_input *in, hdf_field_errors_t *fe)
{
    static const char *const immutable[] = {"object", "key", "type"};
    json_t *body = admin_body(r, custom_field_members, fe);
    memset(in, 0, sizeof(*in));
    if (body == NULL)
        return;
    for (size_t i = 0; i < sizeof(immutable) / sizeof(immutable[0]); i++)
        if (json_object_get(body, immutable[i]) != NULL)
            field_errors_add(fe, immutable[i], "immutable", "%s cannot be changed once the field exists", immutable[i]);
    json_t *options = json_object_get(body, "options");
    if (options != NULL && custom_field_check_options(options, fe) == 0) {
        size_t len;
        in->options = json_dump_compact(options, &len);
    }
}

void custom_fields_list(struct hdf_req *r)
{
    static const char *const filters[] = {"object", NULL};
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    list_read_page(r, CUSTOM_FIELDS_CURSOR_KIND, filters, &page, &fe);
    const char *object = query_get(&r->query, "object");
    if (object != NULL && !custom_field_object_is_valid(object))
        field_errors_add(&fe, "object", "invalid", "object must be ticket or customer");
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {page.workspace, page.after_text, page.fetch_text, object};
    list_query(r, CUSTOM_FIELDS_CURSOR_KIND, &page, HDF_STMT_CUSTOM_FIELDS_LIST, params);
}

static void on_created(struct hdf_req *r, PGresult *res)
{
    admin_respond_created(r, res, CUSTOM_FIELDS_COLLECTION, 0, 1);
}

void custom_field_create(struct hdf_req *r)
{
    struct custom_field_input in;
    hdf_field_errors_t fe = {0};
    cf_read_create(r, &in, &fe);
    if (admin_fail(r, &fe) != 0) {
        free(in.options);
        return;
    }
    char ws[24];
    admin_workspace_text(r, ws);
    const char *params[] = {ws, in.object, in.key, in.type, in.options};
    request_query(r, HDF_STMT_CUSTOM_FIELD_CREATE, params, NULL, on_created);
    free(in.options);
}

void custom_field_get(struct hdf_req *r)
{
    admin_get(r, HDF_STMT_CUSTOM_FIELD_GET, "custom field");
}

/* (type, json). handler_arg: whether the request set options, which only enums have. */
static void on_updated(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) > 0 && r->handler_arg && strcmp(PQgetvalue(res, 0, 0), "enum") != 0) {
        hdf_field_errors_t fe = {0};
        field_errors_add(&fe, "options", "invalid", "options are only for enum fields (this one is %s)", PQgetvalue(res, 0, 0));
        respond_field_errors(r, &fe);
        return;
    }
    admin_respond_one(r, res, 1, "custom field");
}

void custom_field_update(struct hdf_req *r)
{
    struct hdf_admin_target t;
    struct custom_field_input in;
    hdf_field_errors_t fe = {0};
    if (admin_target(r, &t) != 0)
        return;
    cf_read_update(r, &in, &fe);
    if (admin_fail(r, &fe) != 0) {
        free(in.options);
        return;
    }
    const char *params[] = {t.workspace, t.id_text, in.options};
    r->handler_arg = in.options != NULL;
    request_query(r, HDF_STMT_CUSTOM_FIELD_UPDATE, params, NULL, on_updated);
    free(in.options);
}

void custom_field_delete(struct hdf_req *r)
{
    admin_delete_referenced(r, HDF_STMT_CUSTOM_FIELD_DELETE, "custom field");
}
