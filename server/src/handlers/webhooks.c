/*
 * webhooks.c: /v1/webhooks (admin keys): subscriptions {url, events, description, enabled}, their
 * secret (returned once, on create and on rotate-secret; stored sealed with HDF_SECRET_KEY, the
 * subscription id as context) and attempt log; and /v1/events: the durable feed (any key) and
 * redelivery (admin). URLs are vetted with ssrf_parse_url: https unless HDF_WEBHOOK_ALLOW_HTTP,
 * literal private addresses only with HDF_WEBHOOK_ALLOW_PRIVATE (names are vetted again by the
 * worker against the address it actually connects to).
 */
#include <stdio.h>
#include <string.h>
#include "handlers/admin_common.h"
#include "http/list.h"
#include "http/respond.h"
#include "common/cursor.h"
#include "common/json_util.h"
#include "http/query.h"
#include "webhook/event.h"
#include "webhook/signature.h"
#include "webhook/ssrf.h"
#include "worker.h"

#define WEBHOOKS_CURSOR_KIND "wh"
#define ATTEMPTS_CURSOR_KIND "wa"
#define EVENTS_CURSOR_KIND "ev"
#define WEBHOOKS_COLLECTION "/v1/webhooks"
#define WEBHOOK_DESCRIPTION_MAX 1000
#define WEBHOOK_EVENTS_MAX 8

static const char *const webhook_fields[] = {"url", "events", "description", "enabled", NULL};

struct webhook_input {
    const char *url, *description;
    const char *events; /* a JSON array of the types (request pool); NULL when absent */
    int has_description, has_enabled, enabled;
};

/* State of a create or rotate across its statements. */
struct webhook_secret_op {
    char workspace[24], id_text[24];
    char secret[HDF_WEBHOOK_SECRET_BUFSZ];
    char sealed[HDF_SECRETBOX_SEALED_MAX];
    struct webhook_input in;
};

static const struct hdf_config *cfg_of(struct hdf_req *r)
{
    return r->worker->cfg;
}

static void read_url(struct hdf_req *r, json_t *body, int create, struct webhook_input *in, hdf_field_errors_t *fe)
{
    if (json_get_string(body, "url", "url", 1, HDF_URL_MAX, create, &in->url, fe) != 1)
        return;
    hdf_webhook_url_t u;
    char why[160];
    if (ssrf_parse_url(in->url, strlen(in->url), cfg_of(r)->webhook_flags, &u, why, sizeof(why)) != 0) {
        field_errors_add(fe, "url", "invalid", "url is refused: %s", why);
        in->url = NULL;
        return;
    }
    in->url = request_strdup(r, u.canonical);
}

/* events: 1..8 distinct known event types. */
static void read_events(struct hdf_req *r, json_t *body, int create, struct webhook_input *in, hdf_field_errors_t *fe)
{
    json_t *ev = json_object_get(body, "events");
    if (ev == NULL) {
        if (create)
            field_errors_add(fe, "events", "required", "events is required: the event types to deliver");
        return;
    }
    if (!json_is_array(ev) || json_array_size(ev) < 1 || json_array_size(ev) > WEBHOOK_EVENTS_MAX) {
        field_errors_add(fe, "events", "invalid_type", "events must be an array of 1 to %d event types", WEBHOOK_EVENTS_MAX);
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(ev, i, v)
    {
        if (!json_is_string(v) || !event_type_is_known(json_string_value(v))) {
            field_errors_add(fe, "events", "invalid", "events[%zu] is not an event type (ticket.created, ...)", i);
            return;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(json_string_value(json_array_get(ev, k)), json_string_value(v)) == 0) {
                field_errors_add(fe, "events", "duplicate", "events[%zu] repeats %s", i, json_string_value(v));
                return;
            }
        }
    }
    char *text = json_dumps(ev, JSON_COMPACT);
    in->events = text != NULL ? request_strdup(r, text) : NULL;
    free(text);
}

static void webhook_read(struct hdf_req *r, int create, struct webhook_input *in, hdf_field_errors_t *fe)
{
    json_t *body = admin_body(r, webhook_fields, fe);
    *in = (struct webhook_input){.enabled = 1};
    if (body == NULL)
        return;
    read_url(r, body, create, in, fe);
    read_events(r, body, create, in, fe);
    in->has_description = admin_get_nullable_string(body, "description", WEBHOOK_DESCRIPTION_MAX, &in->description, fe) > 0;
    in->has_enabled = json_get_bool(body, "enabled", "enabled", 1, &in->enabled, fe) == 1;
}

/* Seals op->secret (a fresh one) under the subscription id; answers 500 and returns -1 on failure. */
static int seal_new_secret(struct hdf_req *r, struct webhook_secret_op *op)
{
    char ctx[64];
    int n = snprintf(ctx, sizeof(ctx), "webhook_subscriptions.secret:%s", op->id_text);
    webhook_secret_generate(op->secret, NULL);
    if (secretbox_seal(&cfg_of(r)->secret_keys[0], ctx, (size_t)n, op->secret, strlen(op->secret), op->sealed, sizeof(op->sealed)) <
        0) {
        respond_problem(r, HDF_E_INTERNAL, "the secret could not be sealed", NULL);
        return -1;
    }
    return 0;
}

/* The object's JSON with "secret" added: the one time the secret is shown. */
static void respond_with_secret(struct hdf_req *r, int status, const char *json, struct webhook_secret_op *op)
{
    json_t *obj = json_loads(json, 0, NULL);
    if (obj == NULL) {
        respond_problem(r, HDF_E_INTERNAL, NULL, NULL);
        return;
    }
    json_object_set_new(obj, "secret", json_string(op->secret));
    respond_json_obj(r, status, obj); /* takes obj */
    explicit_bzero(op->secret, sizeof(op->secret));
}

static int require_secret_key(struct hdf_req *r)
{
    if (cfg_of(r)->nsecret_keys > 0)
        return 0;
    respond_problem(r, HDF_E_UNAVAILABLE, "webhooks need HDF_SECRET_KEY, which this server was started without", NULL);
    return -1;
}

void webhooks_list(struct hdf_req *r)
{
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    list_read_page(r, WEBHOOKS_CURSOR_KIND, NULL, &page, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {page.workspace, page.after_text, page.fetch_text};
    list_query(r, WEBHOOKS_CURSOR_KIND, &page, HDF_STMT_WEBHOOKS_LIST, params);
}

static void on_created(struct hdf_req *r, PGresult *res)
{
    struct webhook_secret_op *op = r->handler_data;
    char location[64];
    snprintf(location, sizeof(location), WEBHOOKS_COLLECTION "/%s", PQgetvalue(res, 0, 0));
    respond_add_header(r, "location", location);
    respond_with_secret(r, 201, PQgetvalue(res, 0, 1), op);
}

static void on_id(struct hdf_req *r, PGresult *res)
{
    struct webhook_secret_op *op = r->handler_data;
    snprintf(op->id_text, sizeof(op->id_text), "%s", PQgetvalue(res, 0, 0));
    if (seal_new_secret(r, op) != 0)
        return;
    const char *params[] = {
        op->workspace, op->id_text, op->in.url, op->in.events, op->in.description, op->in.enabled ? "true" : "false", op->sealed};
    request_query(r, HDF_STMT_WEBHOOK_CREATE, params, NULL, on_created);
}

void webhook_create(struct hdf_req *r)
{
    struct webhook_secret_op *op = h2o_mem_alloc_pool(&r->req->pool, sizeof(*op));
    hdf_field_errors_t fe = {0};
    *op = (struct webhook_secret_op){0};
    webhook_read(r, 1, &op->in, &fe);
    if (admin_fail(r, &fe) != 0 || require_secret_key(r) != 0)
        return;
    admin_workspace_text(r, op->workspace);
    r->handler_data = op;
    request_query(r, HDF_STMT_WEBHOOK_NEXT_ID, NULL, NULL, on_id);
}

void webhook_get(struct hdf_req *r)
{
    admin_get(r, HDF_STMT_WEBHOOK_GET, "webhook");
}

static void on_updated(struct hdf_req *r, PGresult *res)
{
    admin_respond_one(r, res, 0, "webhook");
}

void webhook_update(struct hdf_req *r)
{
    struct hdf_admin_target t;
    struct webhook_input in;
    hdf_field_errors_t fe = {0};
    if (admin_target(r, &t) != 0)
        return;
    webhook_read(r, 0, &in, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {t.workspace,
                            t.id_text,
                            in.url,
                            in.events,
                            in.has_description ? "true" : "false",
                            in.description,
                            in.has_enabled ? (in.enabled ? "true" : "false") : NULL};
    request_query(r, HDF_STMT_WEBHOOK_UPDATE, params, NULL, on_updated);
}

void webhook_delete(struct hdf_req *r)
{
    admin_delete(r, HDF_STMT_WEBHOOK_DELETE, "webhook");
}

static void on_rotated(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0) {
        admin_not_found(r, "webhook");
        return;
    }
    respond_with_secret(r, 200, PQgetvalue(res, 0, 0), r->handler_data);
}

void webhook_rotate_secret(struct hdf_req *r)
{
    struct hdf_admin_target t;
    if (admin_target(r, &t) != 0 || require_secret_key(r) != 0)
        return;
    struct webhook_secret_op *op = h2o_mem_alloc_pool(&r->req->pool, sizeof(*op));
    *op = (struct webhook_secret_op){0};
    memcpy(op->workspace, t.workspace, sizeof(op->workspace));
    memcpy(op->id_text, t.id_text, sizeof(op->id_text));
    if (seal_new_secret(r, op) != 0)
        return;
    char overlap[24];
    snprintf(overlap, sizeof(overlap), "%lld", (long long)cfg_of(r)->secret_overlap_s);
    r->handler_data = op;
    const char *params[] = {op->workspace, op->id_text, op->sealed, overlap};
    request_query(r, HDF_STMT_WEBHOOK_ROTATE, params, NULL, on_rotated);
}

void webhook_deliveries_list(struct hdf_req *r)
{
    struct hdf_admin_target t;
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    if (admin_target(r, &t) != 0)
        return;
    list_read_page(r, ATTEMPTS_CURSOR_KIND, NULL, &page, &fe);
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {page.workspace, page.after_text, page.fetch_text, t.id_text};
    list_query(r, ATTEMPTS_CURSOR_KIND, &page, HDF_STMT_WEBHOOK_ATTEMPTS, params);
}

/* GET /v1/events?after=<cursor>&type=<type>: `after` is the next_cursor of the previous page
 * (`cursor` is accepted too, like every other list). */
void events_list(struct hdf_req *r)
{
    static const char *const filters[] = {"after", "type", NULL};
    struct hdf_list_page page;
    hdf_field_errors_t fe = {0};
    list_read_page(r, EVENTS_CURSOR_KIND, filters, &page, &fe);
    const char *after = query_get(&r->query, "after"), *type = query_get(&r->query, "type");
    if (after != NULL) {
        if (cursor_decode_id(EVENTS_CURSOR_KIND, after, &page.after) != 0)
            field_errors_add(&fe, "after", "invalid", "after is not a cursor this feed returned");
        snprintf(page.after_text, sizeof(page.after_text), "%lld", (long long)page.after);
    }
    if (type != NULL && !event_type_is_known(type))
        field_errors_add(&fe, "type", "invalid", "type is not an event type (ticket.created, ...)");
    if (admin_fail(r, &fe) != 0)
        return;
    const char *params[] = {page.workspace, page.after_text, page.fetch_text, type};
    list_query(r, EVENTS_CURSOR_KIND, &page, HDF_STMT_EVENTS_LIST, params);
}

static void on_redelivered(struct hdf_req *r, PGresult *res)
{
    if (PQntuples(res) == 0) {
        admin_not_found(r, "event");
        return;
    }
    json_t *deliveries = json_loads(PQgetvalue(res, 0, 1), 0, NULL);
    json_t *obj = json_pack("{s:s,s:o*}", "event_id", PQgetvalue(res, 0, 0), "deliveries", deliveries);
    respond_json_obj(r, 202, obj); /* takes obj */
}

void event_redeliver(struct hdf_req *r)
{
    const char *id = r->match.params[0].base;
    size_t len = r->match.params[0].len;
    uint8_t raw[16];
    if (event_id_decode(id, len, raw) != 0) {
        hdf_field_errors_t fe = {0};
        field_errors_add(&fe, "id", "invalid", "id must be an event id (evt_...)");
        admin_fail(r, &fe);
        return;
    }
    char ws[24], idbuf[HDF_EVENT_ID_BUFSZ];
    memcpy(idbuf, id, len);
    idbuf[len] = '\0';
    admin_workspace_text(r, ws);
    const char *params[] = {ws, idbuf};
    request_query(r, HDF_STMT_EVENT_REDELIVER, params, NULL, on_redelivered);
}
