/*
 * customers.c: /v1/customers (CONTRACT.md, Customers): upsert by normalised email (POST: 201
 * created, 200 merged into the existing one), read, list (email, tag, updated_since), PATCH.
 * Every effective change bumps `version` and writes one audit row in the same statement
 * (db/statements.c, CUSTOMER_WRITE); a change that changes nothing writes nothing.
 *
 * Merging: given members replace (name, phone, tags; email on PATCH), custom_fields and metadata
 * merge key by key at the top level (null deletes a key), external_profiles are added or replace
 * the one with the same (provider, external_id) on POST and are the whole new list on PATCH.
 * An email change to an address another live customer has merges: the PATCHed customer is merged
 * into the one that has the address (customer_merge.c), then the rest of the PATCH is applied to
 * that survivor, all in one transaction; the answer is the survivor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "handlers/admin_common.h"
#include "handlers/customer_merge.h"
#include "http/list.h"
#include "http/respond.h"
#include "common/json_util.h"
#include "model/custom_field.h"
#include "model/email.h"
#include "model/tags.h"

#define CUSTOMERS_CURSOR_KIND "cu"
#define CUSTOMERS_COLLECTION "/v1/customers"
#define CUSTOMER_NAME_MAX 200
#define CUSTOMER_PHONE_MAX 50
#define CUSTOMER_METADATA_MAX 16384
#define CUSTOMER_PROFILES_MAX 20
#define PROFILE_PROVIDER_MAX 50
#define PROFILE_EXTERNAL_ID_MAX 200
#define PROFILE_URL_MAX 2000
/* A write that lost a race (see CUSTOMER_WRITE) runs again; each round at least one writer wins. */
#define CUSTOMER_WRITE_ATTEMPTS 25

/* What a write needs across its callbacks; lives in the request's pool (r->handler_data). */
struct customer_write {
    enum hdf_stmt stmt;
    char workspace[24], target[HDF_EMAIL_MAX + 1]; /* $2: the email (upsert) or the id (PATCH) */
    char *change;                                  /* $3: the JSON object of given members */
    int attempts;
    int merged; /* a PATCH's email change merged this customer away: the write goes to the survivor */
};

/* ---- reading a body ---- */

static void customer_read_email(json_t *body, int required, json_t *change, hdf_field_errors_t *fe)
{
    const char *raw;
    char email[HDF_EMAIL_MAX + 1];
    if (json_get_string(body, "email", "email", 1, SIZE_MAX, required, &raw, fe) <= 0)
        return;
    enum hdf_email_result res = email_normalize(raw, strlen(raw), email);
    if (res == HDF_EMAIL_OK)
        json_object_set_new(change, "email", json_string(email));
    else
        field_errors_add(fe, "email",
                         res == HDF_EMAIL_TOO_LONG ? "too_long"
                         : res == HDF_EMAIL_EMPTY  ? "too_short"
                                                   : "invalid",
                         "email %s", email_result_message(res));
}

static int phone_is_valid(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= '0' && *s <= '9') || strchr(" +-().", *s) != NULL))
            return 0;
    return 1;
}

/* name and phone: a string, or null to clear. */
static void customer_read_contact(json_t *body, json_t *change, hdf_field_errors_t *fe)
{
    const char *name, *phone;
    int n = admin_get_nullable_string(body, "name", CUSTOMER_NAME_MAX, &name, fe);
    if (n == 1 && *name == '\0')
        field_errors_add(fe, "name", "too_short", "name must be at least 1 character (null clears it)");
    else if (n > 0 || n == 2)
        json_object_set_new(change, "name", name != NULL ? json_string(name) : json_null());
    int p = admin_get_nullable_string(body, "phone", CUSTOMER_PHONE_MAX, &phone, fe);
    if (p == 1 && (*phone == '\0' || !phone_is_valid(phone)))
        field_errors_add(fe, "phone", "invalid", "phone may hold only digits, spaces and + - ( ) . (null clears it)");
    else if (p > 0 || p == 2)
        json_object_set_new(change, "phone", phone != NULL ? json_string(phone) : json_null());
}

static void customer_read_tags(json_t *body, json_t *change, hdf_field_errors_t *fe)
{
    json_t *tags = json_object_get(body, "tags");
    if (tags == NULL)
        return;
    json_t *norm = tags_normalize(tags, "tags", fe);
    if (norm != NULL)
        json_object_set_new(change, "tags", norm);
}

/* metadata: an object of at most 16 KiB serialised (compactly here; as stored, after merging,
 * the statement checks again). custom_fields: an object, checked against definitions later. */
static void customer_read_objects(json_t *body, json_t *change, hdf_field_errors_t *fe)
{
    json_t *md = json_object_get(body, "metadata"), *cf = json_object_get(body, "custom_fields");
    if (md != NULL && !json_is_object(md)) {
        field_errors_add(fe, "metadata", "invalid_type", "metadata must be an object");
    } else if (md != NULL) {
        size_t len;
        char *s = json_dump_compact(md, &len);
        free(s);
        if (len > CUSTOMER_METADATA_MAX)
            field_errors_add(fe, "metadata", "too_long", "metadata exceeds %d bytes serialised", CUSTOMER_METADATA_MAX);
        else
            json_object_set(change, "metadata", md);
    }
    if (cf != NULL && !json_is_object(cf))
        field_errors_add(fe, "custom_fields", "invalid_type", "custom_fields must be an object");
    else if (cf != NULL)
        json_object_set(change, "custom_fields", cf);
}

static int url_is_valid(const char *s)
{
    size_t skip = strncasecmp(s, "https://", 8) == 0 ? 8 : strncasecmp(s, "http://", 7) == 0 ? 7 : 0;
    if (skip == 0 || s[skip] == '\0' || s[skip] == '/')
        return 0;
    for (; *s != '\0'; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* One string member of external_profiles[i]: 1..max characters. */
static const char *profile_string(json_t *o, const char *key, const char *at, size_t max, int required, hdf_field_errors_t *fe)
{
    char field[64];
    const char *v;
    snprintf(field, sizeof(field), "%s.%s", at, key);
    return json_get_string(o, key, field, 1, max, required, &v, fe) > 0 ? v : NULL;
}

/* external_profiles[i] as {provider, external_id, url}, or NULL (reported). */
static json_t *profile_read(json_t *profiles, size_t i, hdf_field_errors_t *fe)
{
    static const char *const fields[] = {"provider", "external_id", "url", NULL};
    json_t *o = json_array_get(profiles, i);
    char at[40], prefix[48], url_field[48];
    snprintf(at, sizeof(at), "external_profiles[%zu]", i);
    if (!json_is_object(o)) {
        field_errors_add(fe, at, "invalid_type", "%s must be an object {provider, external_id, url?}", at);
        return NULL;
    }
    size_t before = field_errors_count(fe);
    snprintf(prefix, sizeof(prefix), "%s.", at);
    json_reject_unknown(o, fields, prefix, fe);
    const char *provider = profile_string(o, "provider", at, PROFILE_PROVIDER_MAX, 1, fe);
    const char *external_id = profile_string(o, "external_id", at, PROFILE_EXTERNAL_ID_MAX, 1, fe);
    const char *url = NULL;
    snprintf(url_field, sizeof(url_field), "%s.url", at);
    if (!json_is_null(json_object_get(o, "url")) && json_get_string(o, "url", url_field, 1, PROFILE_URL_MAX, 0, &url, fe) > 0 &&
        !url_is_valid(url))
        field_errors_add(fe, url_field, "invalid", "%s must be an http or https URL", url_field);
    if (field_errors_count(fe) > before)
        return NULL;
    return json_pack("{s:s, s:s, s:s?}", "provider", provider, "external_id", external_id, "url", url);
}

/* Whether out already has a profile with p's provider and external_id. */
static int profile_repeats(json_t *out, json_t *p)
{
    size_t i;
    json_t *q;
    json_array_foreach(out, i, q)
    {
        if (json_equal(json_object_get(q, "provider"), json_object_get(p, "provider")) &&
            json_equal(json_object_get(q, "external_id"), json_object_get(p, "external_id")))
            return 1;
    }
    return 0;
}

static void customer_read_profiles(json_t *body, json_t *change, hdf_field_errors_t *fe)
{
    json_t *profiles = json_object_get(body, "external_profiles");
    if (profiles == NULL)
        return;
    if (!json_is_array(profiles)) {
        field_errors_add(fe, "external_profiles", "invalid_type", "external_profiles must be an array");
        return;
    }
    if (json_array_size(profiles) > CUSTOMER_PROFILES_MAX) {
        field_errors_add(fe, "external_profiles", "too_many", "external_profiles may hold at most %d profiles",
                         CUSTOMER_PROFILES_MAX);
        return;
    }
    size_t before = field_errors_count(fe);
    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(profiles); i++) {
        json_t *p = profile_read(profiles, i, fe);
        if (p != NULL && profile_repeats(out, p)) {
            char at[40];
            snprintf(at, sizeof(at), "external_profiles[%zu]", i);
            field_errors_add(fe, at, "duplicate", "%s repeats an earlier provider and external_id", at);
        }
        json_array_append_new(out, p != NULL ? p : json_null());
    }
    if (field_errors_count(fe) == before)
        json_object_set(change, "external_profiles", out);
    json_decref(out);
}

/* Reads the body into a change object (decref'd by the caller); create requires email. */
static json_t *customer_read(struct hdf_req *r, int create, hdf_field_errors_t *fe)
{
    static const char *const fields[] = {"email", "name", "phone", "custom_fields", "tags", "metadata", "external_profiles", NULL};
    json_t *body = admin_body(r, fields, fe), *change = json_object();
    if (body == NULL)
        return change;
    customer_read_email(body, create, change, fe);
    customer_read_contact(body, change, fe);
    customer_read_tags(body, change, fe);
    customer_read_objects(body, change, fe);
    customer_read_profiles(body, change, fe);
    return change;
}

/* ---- writing ---- */

static void on_written(struct hdf_req *r, PGresult *res);

static void customer_write_run(struct hdf_req *r)
{
    struct customer_write *w = r->handler_data;
    char actor_id[24];
    snprintf(actor_id, sizeof(actor_id), "%lld", (long long)request_actor_id(r));
    const char *params[] = {w->workspace, w->target, w->change, request_actor_type(r), actor_id, request_source(r), r->request_id};
    request_query(r, w->stmt, params, NULL, on_written);
}

static void customer_patch_merge(struct hdf_req *r, int64_t owner);

/* A write the statement refused: metadata too large as stored (400), a profile or the email
 * another customer's (409). A PATCH to another live customer's email merges instead (the rest of
 * the PATCH is then checked again, against the survivor). */
static void customer_write_refused(struct hdf_req *r, PGresult *res)
{
    struct customer_write *w = r->handler_data;
    hdf_field_errors_t fe = {0};
    if (w->stmt == HDF_STMT_CUSTOMER_UPDATE && !w->merged && !PQgetisnull(res, 0, 3)) {
        customer_patch_merge(r, strtoll(PQgetvalue(res, 0, 3), NULL, 10));
        return;
    }
    if (strcmp(PQgetvalue(res, 0, 2), "t") == 0) {
        field_errors_add(&fe, "metadata", "too_long", "metadata would exceed %d bytes as stored once merged",
                         CUSTOMER_METADATA_MAX);
        respond_field_errors(r, &fe);
        return;
    }
    if (!PQgetisnull(res, 0, 3)) {
        const char *other = PQgetvalue(res, 0, 3);
        field_errors_add(&fe, "email", "duplicate", "customer %s already has this email", other);
        char detail[256];
        snprintf(detail, sizeof(detail),
                 "customer %s already has this email; to make them one customer, merge them with POST /v1/customers/{id}/merge",
                 other);
        respond_problem(r, HDF_E_CONFLICT, detail, fe.list);
        return;
    }
    const char *p = PQgetvalue(res, 0, 1); /* "{0,3}": positions of profiles taken */
    for (char *end; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            continue;
        char at[40];
        snprintf(at, sizeof(at), "external_profiles[%lld]", strtoll(p, &end, 10));
        field_errors_add(&fe, at, "duplicate", "%s belongs to another customer of this workspace", at);
        p = end - 1;
    }
    respond_problem(r, HDF_E_CONFLICT, "an external profile belongs to another customer of this workspace", fe.list);
}

/* The merged PATCH is written: commit, then answer with the survivor. */
static void customer_commit_answer(struct hdf_req *r, const char *json, size_t len)
{
    request_commit_respond(r, 200, json, len);
}

/* (outcome, taken positions, metadata too large, email owner, id, json) */
static void on_written(struct hdf_req *r, PGresult *res)
{
    struct customer_write *w = r->handler_data;
    if (PQntuples(res) == 0) {
        admin_not_found(r, "customer");
        return;
    }
    const char *outcome = PQgetvalue(res, 0, 0);
    if (strcmp(outcome, "retry") == 0) {
        if (++w->attempts < CUSTOMER_WRITE_ATTEMPTS)
            customer_write_run(r);
        else
            respond_problem(r, HDF_E_CONFLICT, "the customer keeps changing concurrently; retry", NULL);
        return;
    }
    if (strcmp(outcome, "refused") == 0) {
        customer_write_refused(r, res);
        return;
    }
    if (w->merged)
        customer_commit_answer(r, h2o_strdup(&r->req->pool, PQgetvalue(res, 0, 5), (size_t)PQgetlength(res, 0, 5)).base,
                               (size_t)PQgetlength(res, 0, 5));
    else if (strcmp(outcome, "created") == 0)
        admin_respond_created(r, res, CUSTOMERS_COLLECTION, 4, 5);
    else
        admin_respond_one(r, res, 5, "customer");
}

/* custom_fields given: check them against the workspace's customer definitions first. */
static void on_defs(struct hdf_req *r, PGresult *res)
{
    hdf_field_errors_t fe = {0};
    json_t *defs = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    custom_fields_check_values(json_object_get(r->body, "custom_fields"), defs, "custom_fields", &fe);
    json_decref(defs);
    if (admin_fail(r, &fe) == 0)
        customer_write_run(r);
}

/* Validates the body and starts the write (stmt, $2 target). */
static void customer_write_start(struct hdf_req *r, enum hdf_stmt stmt, int create, const char *target)
{
    hdf_field_errors_t fe = {0};
    json_t *change = customer_read(r, create, &fe);
    if (admin_fail(r, &fe) != 0) {
        json_decref(change);
        return;
    }
    struct customer_write *w = h2o_mem_alloc_pool(&r->req->pool, sizeof(*w));
    memset(w, 0, sizeof(*w));
    w->stmt = stmt;
    admin_workspace_text(r, w->workspace);
    strlcpy(w->target, target != NULL ? target : json_string_value(json_object_get(change, "email")), sizeof(w->target));
    size_t len;
    char *text = json_dump_compact(change, &len);
    w->change = request_strdup(r, text);
    free(text);
    json_decref(change);
    r->handler_data = w;
    if (json_object_get(r->body, "custom_fields") == NULL) {
        customer_write_run(r);
        return;
    }
    const char *params[] = {w->workspace, "customer"};
    request_query(r, HDF_STMT_CUSTOM_FIELD_DEFS, params, NULL, on_defs);
}

void customer_upsert(struct hdf_req *r)
{
    customer_write_start(r, HDF_STMT_CUSTOMER_UPSERT, 1, NULL);
}

/* The email's owner survived the merge: the rest of the PATCH (all but the email, which the
 * survivor has) is applied to it in the same transaction, or nothing more when there is no rest. */
static void on_patch_merged(struct hdf_req *r, const char *json, size_t len)
{
    struct customer_write *w = r->handler_data;
    json_t *change = json_loads(w->change, 0, NULL);
    json_object_del(change, "email");
    if (json_object_size(change) == 0) {
        json_decref(change);
        customer_commit_answer(r, json, len);
        return;
    }
    size_t clen;
    char *text = json_dump_compact(change, &clen);
    json_decref(change);
    w->change = request_strdup(r, text);
    free(text);
    customer_write_run(r);
}

/* PATCH {email} names owner's address: the PATCHed customer (w->target) is the source, owner the
 * survivor (see docs/architecture.md, Merging customers). */
static void customer_patch_merge(struct hdf_req *r, int64_t owner)
{
    struct customer_write *w = r->handler_data;
    json_t *change = json_loads(w->change, 0, NULL);
    const char *email = json_string_value(json_object_get(change, "email"));
    if (email == NULL) { /* only an email change can collide: cannot happen */
        json_decref(change);
        respond_problem(r, HDF_E_CONFLICT, "another customer has this customer's email; retry", NULL);
        return;
    }
    struct hdf_customer_merge *m = h2o_mem_alloc_pool(&r->req->pool, sizeof(*m));
    memset(m, 0, sizeof(*m));
    m->survivor = owner;
    m->source = strtoll(w->target, NULL, 10);
    m->survivor_email = request_strdup(r, email);
    m->caller_data = w;
    m->done = on_patch_merged;
    json_decref(change);
    w->merged = 1;
    w->attempts = 0;
    snprintf(w->target, sizeof(w->target), "%lld", (long long)owner);
    customer_merge_start(r, m);
}

void customer_update(struct hdf_req *r)
{
    struct hdf_admin_target t;
    if (admin_target(r, &t) != 0)
        return;
    customer_write_start(r, HDF_STMT_CUSTOMER_UPDATE, 0, t.id_text);
}

/* ---- reading ---- */

/* (merged_into, json): a merged customer is gone, and says where to. */
static void on_get(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        admin_respond_one(r, res, 1, "customer");
        return;
    }
    struct hdf_admin_target *t = r->handler_data;
    customer_respond_merged(r, t->id, strtoll(PQgetvalue(res, 0, 0), NULL, 10), NULL);
}

void customer_get(struct hdf_req *r)
{
    struct hdf_admin_target *t = h2o_mem_alloc_pool(&r->req->pool, sizeof(*t));
    if (admin_target(r, t) != 0)
        return;
    r->handler_data = t;
    const char *params[] = {t->workspace, t->id_text};
    request_query(r, HDF_STMT_CUSTOMER_GET, params, NULL, on_get);
}

/* email (normalised) and tag (lower-cased) filters, reported into fe when malformed. */
static void customers_read_filters(struct hdf_req *r, char email[HDF_EMAIL_MAX + 1], const char **email_out, char *tag,
                                   const char **tag_out, hdf_field_errors_t *fe)
{
    const char *e = query_get(&r->query, "email"), *t = query_get(&r->query, "tag");
    *email_out = *tag_out = NULL;
    if (e != NULL && email_normalize(e, strlen(e), email) != HDF_EMAIL_OK)
        field_errors_add(fe, "email", "invalid", "email is not a valid email address");
    else if (e != NULL)
        *email_out = email;
    if (t == NULL)
        return;
    size_t n = strlen(t);
    for (size_t i = 0; i < n && i <= HDF_TAG_MAX_CHARS; i++)
        tag[i] = (t[i] >= 'A' && t[i] <= 'Z') ? (char)(t[i] - 'A' + 'a') : t[i];
    if (n > HDF_TAG_MAX_CHARS || (tag[n] = '\0', !tag_is_valid(tag, n)))
        field_errors_add(fe, "tag", "invalid", "tag must match [a-z0-9][a-z0-9_:-]{0,63} once lower-cased");
    else
        *tag_out = tag;
}

void customers_list(struct hdf_req *r)
{
    static const char *const filters[] = {"email", "tag", "updated_since", NULL};
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    char email_buf[HDF_EMAIL_MAX + 1], tag_buf[HDF_TAG_MAX_CHARS + 1];
    const char *email, *tag;
    list_read_page(r, CUSTOMERS_CURSOR_KIND, filters, &page, &fe);
    customers_read_filters(r, email_buf, &email, tag_buf, &tag, &fe);
    const char *since = list_read_time(r, "updated_since", &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {page.workspace, page.after_text, page.fetch_text, email, tag, since};
    list_query(r, CUSTOMERS_CURSOR_KIND, &page, HDF_STMT_CUSTOMERS_LIST, params);
}
