/*
 * delivery.c: the webhook delivery worker (see delivery.h). The loop: claim what is due when woken
 * (NOTIFY hdf_outbox, the next due time, a free slot after a full claim, a short poll while work
 * keeps coming, or a 30 s safety net), start one curl easy handle per claimed delivery, wait in
 * curl_multi_poll on the transfers and on the database socket, and record each finished attempt
 * (webhook_attempts) with the delivery's new state in one statement fenced by the claim's token.
 * Awake and asleep: writers NOTIFY only while some worker sleeps (migrations/0009_outbox_wakeup.sql:
 * a NOTIFY per change serializes the commits of every writer), so a worker that found work keeps
 * claiming at growing intervals (5 ms doubling to 320 ms) and sleeps only when those found nothing;
 * see "Awake and asleep" below. SSRF: the URL is vetted again, and every
 * address curl is about to connect to is classified in the open-socket callback, which refuses
 * those the configuration does not allow: the check sees the address actually connected to, so
 * DNS rebinding and numeric tricks in names do not get around it. Nothing secret or any body is
 * logged.
 */
#include <curl/curl.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "outbox/delivery.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/util.h"
#include "db/sqlstate.h"
#include "db/statements.h"
#include "webhook/backoff.h"
#include "webhook/event.h"
#include "webhook/secretbox.h"
#include "webhook/signature.h"
#include "webhook/ssrf.h"

#define CLAIM_BATCH 64
#define SAFETY_CLAIM_MS 30000
#define STATS_EVERY_MS 5000
#define SLA_EVERY_MS 2000
#define NEXT_DUE_RETRY_MS 50
#define SLA_BATCH "500"
#define RECONNECT_MS 1000
#define POLL_MAX_MS 5000
#define DRAIN_MS (HDF_DELIVERY_TIMEOUT_MS + 1000)
#define IDLE_POLL_MIN_MS 5
#define IDLE_POLL_MAX_MS 320
#define SETTLE_MAX_MS 1000

enum worker_state {
    AWAKE,    /* claims again at growing intervals while work keeps coming; writers do not NOTIFY */
    SETTLING, /* registered in webhook_sleepers; waiting for the writers that may have missed it */
    ASLEEP,   /* registered; woken by NOTIFY, a due retry, the SLA timer or the safety net */
};

/* One attempt being sent. */
struct transfer {
    struct transfer *next, *prev; /* in the loop's list of transfers in flight */
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    size_t body_len;
    char id[24], claims[16], url[HDF_URL_MAX + 1];
    int attempt, flags;
    int64_t started_us;
    char resp[HDF_DELIVERY_BODY_KEEP + 1];
    size_t resp_len;
    char refused[160]; /* why the open-socket callback refused an address */
    char errbuf[CURL_ERROR_SIZE];
    /* the outcome, once finished (waiting in the loop's finished list to be recorded) */
    const char *outcome; /* ok | retry | fail */
    int64_t delay_ms, duration_ms;
    long status;
    int failed;
    char error[CURL_ERROR_SIZE + 160];
};

struct loop {
    struct hdf_delivery_worker *w;
    const struct hdf_config *cfg;
    CURLM *multi;
    PGconn *pg;
    struct transfer *sending;  /* in flight */
    struct transfer *finished; /* done, to be recorded by record_finished (one statement) */
    int in_flight;
    int want_claim;
    int64_t next_due_ms, next_safety_ms, next_stats_ms, next_sla_ms;
    hdf_backoff_policy_t policy;
    enum worker_state state;
    int64_t poll_ms;      /* AWAKE: the interval of the next claim that nothing asked for */
    int64_t next_poll_ms; /* that claim (AWAKE), or the next settle probe (SETTLING); 0: none */
    int64_t settle_ms;    /* SETTLING: the probe's interval, doubling up to SETTLE_MAX_MS */
    char xid_bound[24];   /* SETTLING: a transaction id handed out right after registering */
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ms(void)
{
    return now_us() / 1000;
}

/* The statements of db/statements.c this worker runs, prepared when it connects (a claim every few
 * milliseconds while awake: planning each one cost more than running it). */
static const enum hdf_stmt worker_statements[] = {
    HDF_STMT_DELIVERY_CLAIM, HDF_STMT_DELIVERY_COMPLETE,  HDF_STMT_DELIVERY_NEXT_DUE,
    HDF_STMT_DELIVERY_SLEEP, HDF_STMT_DELIVERY_XID_BOUND, HDF_STMT_DELIVERY_SETTLED,
    HDF_STMT_DELIVERY_WAKE,  HDF_STMT_OUTBOX_STATS,       HDF_STMT_SLA_TICK,
};

/* Runs a statement of db/statements.c (prepared by db_connect) on the worker's connection. */
static PGresult *exec_stmt(struct loop *l, enum hdf_stmt stmt, const char *const *params)
{
    const struct hdf_statement *s = &hdf_statements[stmt];
    PGresult *res = PQexecPrepared(l->pg, s->name, s->nparams, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        log_line(HDF_LOG_WARN, "webhook worker: statement failed", "\"statement\":\"%s\",\"sqlstate\":\"%s\"", s->name,
                 db_sqlstate(res));
        PQclear(res);
        return NULL;
    }
    return res;
}

static int exec_simple(PGconn *pg, const char *sql)
{
    PGresult *res = PQexec(pg, sql);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok ? 0 : -1;
}

static int prepare_all(PGconn *pg)
{
    for (size_t i = 0; i < sizeof(worker_statements) / sizeof(worker_statements[0]); i++) {
        const struct hdf_statement *s = &hdf_statements[worker_statements[i]];
        PGresult *res = PQprepare(pg, s->name, s->sql, s->nparams, NULL);
        int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok)
            log_line(HDF_LOG_WARN, "webhook worker: prepare failed", "\"statement\":\"%s\",\"sqlstate\":\"%s\"", s->name,
                     db_sqlstate(res));
        PQclear(res);
        if (!ok)
            return -1;
    }
    return 0;
}

static int db_connect(struct loop *l)
{
    if (l->pg != NULL)
        PQfinish(l->pg);
    l->pg = PQconnectdb(l->cfg->database_url);
    if (PQstatus(l->pg) != CONNECTION_OK || exec_simple(l->pg, hdf_session_setup_sql) != 0 || prepare_all(l->pg) != 0 ||
        exec_simple(l->pg, "LISTEN hdf_outbox") != 0) {
        PQfinish(l->pg);
        l->pg = NULL;
        return -1;
    }
    l->want_claim = 1; /* notifications sent while disconnected were lost */
    l->state = AWAKE;  /* a registration went with the old backend (removed by the next sleeper) */
    l->poll_ms = IDLE_POLL_MIN_MS;
    return 0;
}

/* ---- sending ---- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct transfer *t = arg;
    size_t len = size * n, room = HDF_DELIVERY_BODY_KEEP - t->resp_len;
    memcpy(t->resp + t->resp_len, data, len < room ? len : room);
    t->resp_len += len < room ? len : room;
    return len; /* the rest is read and dropped */
}

/* Every address curl connects to (after DNS, for each happy-eyeballs candidate) passes here. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct transfer *t = arg;
    hdf_addr_class_t c = ssrf_classify(&a->addr, a->addrlen);
    (void)purpose;
    if (!ssrf_class_allowed(c, t->flags)) {
        snprintf(t->refused, sizeof(t->refused), "refused to connect to a %s address (HDF_WEBHOOK_ALLOW_PRIVATE is not set)",
                 ssrf_class_name(c));
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

static struct curl_slist *add_header(struct curl_slist *h, const char *name, const char *value)
{
    char line[512];
    snprintf(line, sizeof(line), "%s: %s", name, value);
    return curl_slist_append(h, line);
}

/* Opens a sealed secret of subscription sub into key; 0 or -1. */
static int open_secret(struct loop *l, const char *sub, const char *sealed, hdf_webhook_key_t *key)
{
    char ctx[64];
    unsigned char pt[HDF_SECRETBOX_MAX_PLAINTEXT];
    size_t ptlen = 0;
    int ki = 0, n = snprintf(ctx, sizeof(ctx), "webhook_subscriptions.secret:%s", sub);
    if (l->cfg->nsecret_keys == 0 || secretbox_open(l->cfg->secret_keys, l->cfg->nsecret_keys, ctx, (size_t)n, sealed,
                                                    strlen(sealed), pt, sizeof(pt), &ptlen, &ki) != HDF_SB_OK)
        return -1;
    const char *why;
    int rc = webhook_secret_parse((const char *)pt, ptlen, key, &why);
    explicit_bzero(pt, sizeof(pt));
    return rc;
}

/* The signing keys of a claimed row: the current one, and the previous one during overlap. */
static int row_keys(struct loop *l, PGresult *res, int i, hdf_webhook_key_t keys[2])
{
    const char *sub = PQgetvalue(res, i, 8);
    if (PQgetisnull(res, i, 10) || open_secret(l, sub, PQgetvalue(res, i, 10), &keys[0]) != 0)
        return -1;
    if (!PQgetisnull(res, i, 11) && open_secret(l, sub, PQgetvalue(res, i, 11), &keys[1]) == 0)
        return 2;
    return 1;
}

static void sign_headers(struct transfer *t, const char *event_id, const char *type, const hdf_webhook_key_t *keys, int nkeys)
{
    char hdf[HDF_WEBHOOK_HDF_SIG_BUFSZ], std[HDF_WEBHOOK_STD_SIG_BUFSZ], ts[24], attempt[16];
    int64_t now = (int64_t)time(NULL);
    snprintf(ts, sizeof(ts), "%lld", (long long)now);
    snprintf(attempt, sizeof(attempt), "%d", t->attempt);
    webhook_sign_hdf(keys, nkeys, now, t->body, t->body_len, hdf, sizeof(hdf));
    webhook_sign_standard(keys, nkeys, event_id, now, t->body, t->body_len, std, sizeof(std));
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    h = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
    h = add_header(h, "X-HDF-Event-Id", event_id);
    h = add_header(h, "X-HDF-Event-Type", type);
    h = add_header(h, "X-HDF-Delivery-Attempt", attempt);
    h = add_header(h, "X-HDF-Signature", hdf);
    h = add_header(h, "webhook-id", event_id);
    h = add_header(h, "webhook-timestamp", ts);
    h = add_header(h, "webhook-signature", std);
    t->headers = h;
}

static void configure_easy(struct loop *l, struct transfer *t)
{
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, t->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)t->body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)HDF_DELIVERY_TIMEOUT_MS);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, (l->cfg->webhook_flags & HDF_SSRF_ALLOW_HTTP) ? "http,https" : "https");
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* a proxy would be the address vetted, not the target */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "helpdeskflow-webhooks/" HDF_VERSION);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
}

static void transfer_free(struct transfer *t)
{
    if (t->easy != NULL)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->body);
    free(t);
}

static void unlink_transfer(struct loop *l, struct transfer *t)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        l->sending = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
}

/* ---- recording an attempt ---- */

/* Postgres text (and jansson) take strict UTF-8 without NUL: every other byte of a kept body or
 * error becomes '?' (common/util.h's validator: no overlongs, no surrogates, <= U+10FFFF). */
static void text_sanitize(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0')
            s[i] = '?';
    ptrdiff_t bad;
    for (size_t at = 0; at < len && (bad = utf8_find_invalid(s + at, len - at)) >= 0; at += (size_t)bad + 1)
        s[at + (size_t)bad] = '?';
}

/* One finished attempt as an element of DELIVERY_COMPLETE's array; NULL when out of memory. */
static json_t *attempt_json(struct transfer *t, int with_body)
{
    int answered = t->status > 0;
    return json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:o, s:I, s:s, s:i}", "id", t->id, "claims", t->claims, "outcome", t->outcome,
                     "delay", (json_int_t)t->delay_ms, "status", answered ? json_integer(t->status) : json_null(), "error",
                     t->failed ? json_string(t->error) : json_null(), "body",
                     answered && with_body ? json_stringn(t->resp, t->resp_len) : json_null(), "duration",
                     (json_int_t)t->duration_ms, "url", t->url, "attempt", t->attempt);
}

/* Runs DELIVERY_COMPLETE on every finished attempt (in delivery id order, so that two workers
 * meeting on a taken-over claim lock rows in the same order); NULL on failure. */
static PGresult *complete_finished(struct loop *l, int with_body)
{
    json_t *a = json_array();
    for (struct transfer *t = l->finished; t != NULL; t = t->next) {
        json_t *e = attempt_json(t, with_body);
        if (e == NULL && with_body)
            e = attempt_json(t, 0);
        if (e == NULL || json_array_append_new(a, e) != 0)
            log_line(HDF_LOG_WARN, "webhook attempt not recorded: out of memory", "\"delivery\":%s", t->id);
    }
    char *text = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    if (text == NULL)
        return NULL;
    const char *params[] = {text};
    PGresult *res = exec_stmt(l, HDF_STMT_DELIVERY_COMPLETE, params);
    free(text);
    return res;
}

/* Records the finished attempts and their deliveries' next states in one statement (one round
 * trip and one commit for a whole poll's worth), then frees them. Retried once without the
 * response bodies: a body Postgres refuses must not keep the deliveries claimed. An attempt whose
 * claim expired and was taken over (its token moved on) is not recorded. */
static void record_finished(struct loop *l)
{
    if (l->finished == NULL)
        return;
    PGresult *res = complete_finished(l, 1);
    if (res == NULL && PQstatus(l->pg) == CONNECTION_OK)
        res = complete_finished(l, 0);
    while (l->finished != NULL) {
        struct transfer *t = l->finished;
        int recorded = 0;
        for (int i = 0; res != NULL && i < PQntuples(res) && !recorded; i++)
            recorded = strcmp(PQgetvalue(res, i, 0), t->id) == 0;
        if (res != NULL && !recorded)
            log_line(HDF_LOG_WARN, "webhook attempt not recorded: the claim expired and was taken over", "\"delivery\":%s", t->id);
        l->finished = t->next;
        transfer_free(t);
    }
    PQclear(res);
}

/* The outcome of a finished (or never started) attempt; the transfer moves to the finished list. */
static void finish_attempt(struct loop *l, struct transfer *t, int ok, long status, const char *error)
{
    int64_t duration_us = now_us() - t->started_us, delay = 0;
    const char *outcome = "ok";
    enum hdf_wh_outcome m = HDF_WH_SUCCEEDED;
    if (!ok) {
        int give_up = backoff_next(&l->policy, t->attempt, 0, backoff_random_system, NULL, &delay) == HDF_BACKOFF_GIVE_UP;
        outcome = give_up ? "fail" : "retry";
        m = give_up ? HDF_WH_FAILED : HDF_WH_RETRIED;
        if (!give_up && (l->next_due_ms == 0 || now_ms() + delay < l->next_due_ms))
            l->next_due_ms = now_ms() + delay;
    }
    metrics_observe_delivery(m, (uint64_t)duration_us);
    log_line(ok ? HDF_LOG_DEBUG : HDF_LOG_INFO, "webhook attempt",
             "\"delivery\":%s,\"attempt\":%d,\"outcome\":\"%s\",\"status\":%ld,\"duration_ms\":%lld", t->id, t->attempt, outcome,
             status, (long long)(duration_us / 1000));
    t->outcome = outcome;
    t->delay_ms = delay;
    t->duration_ms = duration_us / 1000;
    t->status = status;
    t->failed = error != NULL;
    snprintf(t->error, sizeof(t->error), "%s", error != NULL ? error : "");
    text_sanitize(t->error, strlen(t->error));
    text_sanitize(t->resp, t->resp_len);
    struct transfer **at = &l->finished; /* kept in delivery id order */
    while (*at != NULL && strtoll((*at)->id, NULL, 10) < strtoll(t->id, NULL, 10))
        at = &(*at)->next;
    t->next = *at;
    t->prev = NULL;
    *at = t;
}

static void on_done(struct loop *l, CURL *easy, CURLcode code)
{
    struct transfer *t = NULL;
    long status = 0;
    char error[CURL_ERROR_SIZE + 128];
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    int ok = code == CURLE_OK && status >= 200 && status < 300;
    if (code == CURLE_OK)
        snprintf(error, sizeof(error), "HTTP %ld", status);
    else if (t->refused[0] != '\0')
        snprintf(error, sizeof(error), "%s", t->refused);
    else
        snprintf(error, sizeof(error), "%s%s%s", curl_easy_strerror(code), t->errbuf[0] != '\0' ? ": " : "", t->errbuf);
    curl_multi_remove_handle(l->multi, easy);
    unlink_transfer(l, t);
    l->in_flight--;
    metrics_add(&hdf_metrics.wh_in_flight, -1);
    finish_attempt(l, t, ok, code == CURLE_OK ? status : 0, ok ? NULL : error);
}

/* ---- awake and asleep ---- */

/* When nothing was left to claim: when the next delivery falls due. */
static void schedule_next_due(struct loop *l)
{
    PGresult *res = exec_stmt(l, HDF_STMT_DELIVERY_NEXT_DUE, NULL);
    l->next_due_ms = 0;
    if (res != NULL && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        long long ms = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        /* due already, yet not claimed just now: another worker's claim holds it; look again soon */
        l->next_due_ms = now_ms() + (ms > 0 ? ms + 1 : NEXT_DUE_RETRY_MS);
    }
    PQclear(res);
}

/* Back to AWAKE (a claim found work, or a NOTIFY came): leave webhook_sleepers, so that writers
 * stop notifying unless another worker sleeps. */
static void wake(struct loop *l)
{
    if (l->state != AWAKE) {
        PQclear(exec_stmt(l, HDF_STMT_DELIVERY_WAKE, NULL));
        l->state = AWAKE;
    }
    l->poll_ms = IDLE_POLL_MIN_MS;
}

/* AWAKE -> SETTLING: register, then take a transaction id. A writer that looked for sleepers
 * before the registration committed had its own id by then (it looks after its row change), so a
 * lower one: once every transaction below the bound has ended, a claim sees whatever such a writer
 * queued. Probes (settled, then claim) run until then. */
static void begin_sleep(struct loop *l)
{
    PGresult *res = exec_stmt(l, HDF_STMT_DELIVERY_SLEEP, NULL);
    PGresult *xid = res != NULL ? exec_stmt(l, HDF_STMT_DELIVERY_XID_BOUND, NULL) : NULL;
    PQclear(res);
    l->state = SETTLING;
    if (xid == NULL || PQntuples(xid) != 1) {
        wake(l); /* stay awake; try again at the slowest poll */
        l->poll_ms = IDLE_POLL_MAX_MS;
        l->next_poll_ms = now_ms() + IDLE_POLL_MAX_MS;
    } else {
        snprintf(l->xid_bound, sizeof(l->xid_bound), "%s", PQgetvalue(xid, 0, 0));
        l->settle_ms = 1;
        l->next_poll_ms = now_ms(); /* the first probe at once */
    }
    PQclear(xid);
}

/* SETTLING: 1 when every transaction below the bound has ended, so that a claim from now on sees
 * whatever they queued. */
static int settled(struct loop *l)
{
    const char *params[] = {l->xid_bound};
    PGresult *res = exec_stmt(l, HDF_STMT_DELIVERY_SETTLED, params);
    int done = res != NULL && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    PQclear(res);
    return done;
}

/* After a claim that found n rows (full: all it asked for): when to claim next, and when to sleep.
 * settled_before: SETTLING, and settled() held just before the claim. */
static void after_claim(struct loop *l, int n, int full, int settled_before)
{
    int64_t now = now_ms();
    l->next_poll_ms = 0;
    if (n > 0) {
        wake(l);
        if (full)
            l->want_claim = 1; /* perhaps more: claim again when slots are free */
        else
            l->next_poll_ms = now + l->poll_ms;
        return;
    }
    switch (l->state) {
    case AWAKE:
        l->poll_ms *= 2;
        if (l->poll_ms <= IDLE_POLL_MAX_MS)
            l->next_poll_ms = now + l->poll_ms;
        else
            begin_sleep(l);
        break;
    case SETTLING:
        if (!settled_before) {
            l->settle_ms = l->settle_ms * 2 < SETTLE_MAX_MS ? l->settle_ms * 2 : SETTLE_MAX_MS;
            l->next_poll_ms = now + l->settle_ms;
            break;
        }
        l->state = ASLEEP;
        atomic_fetch_add(&hdf_metrics.wh_sleeps, 1);
        schedule_next_due(l);
        break;
    case ASLEEP:
        schedule_next_due(l);
        break;
    }
}

/* ---- claiming ---- */

/* Builds the attempt of claimed row i; on a problem that sending cannot fix (no key, a URL the
 * configuration now refuses) the attempt is recorded as failed without sending. */
static void start_row(struct loop *l, PGresult *res, int i)
{
    struct transfer *t = calloc(1, sizeof(*t));
    hdf_webhook_key_t keys[2];
    hdf_webhook_url_t u;
    char why[160];
    snprintf(t->id, sizeof(t->id), "%s", PQgetvalue(res, i, 0));
    snprintf(t->claims, sizeof(t->claims), "%s", PQgetvalue(res, i, 1));
    snprintf(t->url, sizeof(t->url), "%s", PQgetvalue(res, i, 9));
    t->attempt = (int)strtol(PQgetvalue(res, i, 2), NULL, 10);
    t->flags = l->cfg->webhook_flags;
    t->started_us = now_us();
    const char *event_id = PQgetvalue(res, i, 3), *type = PQgetvalue(res, i, 4);
    json_t *data = json_loads(PQgetvalue(res, i, 7), 0, NULL);
    t->body = event_envelope_serialize(event_id, type, strtoll(PQgetvalue(res, i, 5), NULL, 10),
                                       strtoll(PQgetvalue(res, i, 6), NULL, 10), data, &t->body_len);
    json_decref(data);
    int nkeys = row_keys(l, res, i, keys);
    const char *problem = t->body == NULL ? "the event could not be serialized"
                          : nkeys < 0 ? "the secret could not be opened (HDF_SECRET_KEY changed without HDF_SECRET_KEY_PREVIOUS?)"
                                      : NULL;
    if (problem == NULL && ssrf_parse_url(t->url, strlen(t->url), t->flags, &u, why, sizeof(why)) != 0)
        problem = why;
    if (problem != NULL) {
        finish_attempt(l, t, 0, 0, problem);
        return;
    }
    snprintf(t->url, sizeof(t->url), "%s", u.canonical);
    sign_headers(t, event_id, type, keys, nkeys);
    explicit_bzero(keys, sizeof(keys));
    t->easy = curl_easy_init();
    configure_easy(l, t);
    curl_multi_add_handle(l->multi, t->easy);
    t->next = l->sending;
    if (t->next != NULL)
        t->next->prev = t;
    l->sending = t;
    l->in_flight++;
    metrics_add(&hdf_metrics.wh_in_flight, 1);
}

static void claim(struct loop *l)
{
    int want = HDF_DELIVERY_MAX_IN_FLIGHT - l->in_flight;
    if (want <= 0)
        return;
    char limit[16], lease[16];
    snprintf(limit, sizeof(limit), "%d", want < CLAIM_BATCH ? want : CLAIM_BATCH);
    snprintf(lease, sizeof(lease), "%d", HDF_DELIVERY_LEASE_MS);
    const char *params[] = {limit, lease};
    int settled_before = l->state == SETTLING && settled(l);
    PGresult *res = exec_stmt(l, HDF_STMT_DELIVERY_CLAIM, params);
    atomic_fetch_add(&hdf_metrics.wh_claims, 1);
    l->want_claim = 0;
    l->next_safety_ms = now_ms() + SAFETY_CLAIM_MS;
    if (res == NULL) {
        l->next_poll_ms = now_ms() + IDLE_POLL_MAX_MS;
        return;
    }
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        start_row(l, res, i);
    PQclear(res);
    record_finished(l); /* rows that could not be sent */
    after_claim(l, n, n == (int)strtol(limit, NULL, 10), settled_before);
}

static void update_stats(struct loop *l)
{
    l->next_stats_ms = now_ms() + STATS_EVERY_MS;
    PGresult *res = exec_stmt(l, HDF_STMT_OUTBOX_STATS, NULL);
    if (res == NULL)
        return;
    atomic_store(&hdf_metrics.wh_outbox_depth, strtoll(PQgetvalue(res, 0, 0), NULL, 10));
    atomic_store(&hdf_metrics.wh_oldest_age_ms, (int64_t)(strtod(PQgetvalue(res, 0, 1), NULL) * 1000));
    PQclear(res);
}

/* SLA warnings and breaches that fell due (an index probe on sla_timers.fire_at); the events they
 * write wake sleeping workers through NOTIFY like any other, and this one claims them. A full
 * batch runs again at once. */
static void sla_tick(struct loop *l)
{
    const char *params[] = {SLA_BATCH};
    PGresult *res = exec_stmt(l, HDF_STMT_SLA_TICK, params);
    long n = res != NULL && PQntuples(res) == 1 ? strtol(PQgetvalue(res, 0, 0), NULL, 10) : 0;
    l->next_sla_ms = now_ms() + (n >= strtol(SLA_BATCH, NULL, 10) ? 0 : SLA_EVERY_MS);
    if (n > 0)
        l->want_claim = 1;
    PQclear(res);
}

/* ---- the loop ---- */

static void drain_notifications(struct loop *l)
{
    if (!PQconsumeInput(l->pg))
        return;
    PGnotify *n;
    int woken = 0;
    while ((n = PQnotifies(l->pg)) != NULL) {
        woken = 1;
        PQfreemem(n);
    }
    if (woken) {
        atomic_fetch_add(&hdf_metrics.wh_notified, 1);
        l->want_claim = 1;
        /* leave webhook_sleepers now, even if another worker claims it all: a worker that stayed
         * registered would make every write notify */
        wake(l);
    }
}

static int poll_timeout(struct loop *l, int stopping)
{
    int64_t now = now_ms(), until = now + POLL_MAX_MS;
    if (stopping)
        until = now + 100;
    if (l->want_claim && l->in_flight < HDF_DELIVERY_MAX_IN_FLIGHT)
        until = now;
    if (l->next_due_ms != 0 && l->next_due_ms < until)
        until = l->next_due_ms;
    if (l->next_poll_ms != 0 && l->next_poll_ms < until)
        until = l->next_poll_ms;
    if (l->next_safety_ms < until)
        until = l->next_safety_ms;
    if (!stopping && l->next_sla_ms < until)
        until = l->next_sla_ms;
    return until > now ? (int)(until - now) : 0;
}

static void collect_done(struct loop *l)
{
    int running, left;
    CURLMsg *m;
    curl_multi_perform(l->multi, &running);
    while ((m = curl_multi_info_read(l->multi, &left)) != NULL) {
        if (m->msg == CURLMSG_DONE)
            on_done(l, m->easy_handle, m->data.result);
    }
    record_finished(l);
}

static void step(struct loop *l, int stopping)
{
    drain_notifications(l); /* some may have arrived during a statement */
    if (!stopping) {
        if (l->next_due_ms != 0 && now_ms() >= l->next_due_ms) {
            l->next_due_ms = 0;
            l->want_claim = 1;
        }
        if (l->next_poll_ms != 0 && now_ms() >= l->next_poll_ms) {
            l->next_poll_ms = 0;
            l->want_claim = 1;
        }
        if (now_ms() >= l->next_safety_ms)
            l->want_claim = 1;
        if (l->want_claim)
            claim(l);
        if (now_ms() >= l->next_stats_ms)
            update_stats(l);
        if (now_ms() >= l->next_sla_ms)
            sla_tick(l);
    }
    /* a notification read along with a statement's result sits in libpq, not on the socket */
    drain_notifications(l);
    struct curl_waitfd fd = {.fd = PQsocket(l->pg), .events = CURL_WAIT_POLLIN};
    int numfds = 0;
    curl_multi_poll(l->multi, &fd, 1, poll_timeout(l, stopping), &numfds);
    if (fd.revents != 0)
        drain_notifications(l);
    collect_done(l);
}

static void run(struct loop *l)
{
    int64_t drain_until = 0;
    for (;;) {
        int stopping = atomic_load(&l->w->stop);
        if (stopping && drain_until == 0)
            drain_until = now_ms() + DRAIN_MS;
        if (stopping && (l->in_flight == 0 || now_ms() >= drain_until))
            return;
        if ((l->pg == NULL || PQstatus(l->pg) != CONNECTION_OK) && db_connect(l) != 0) {
            if (stopping)
                return;
            log_line(HDF_LOG_WARN, "webhook worker: database unreachable; retrying", NULL);
            usleep(RECONNECT_MS * 1000);
            continue;
        }
        step(l, stopping);
        log_flush();
    }
}

static void *delivery_main(void *arg)
{
    struct hdf_delivery_worker *w = arg;
    struct loop l = {.w = w, .cfg = w->cfg, .multi = w->multi, .want_claim = 1, .poll_ms = IDLE_POLL_MIN_MS};
    l.policy = backoff_policy_default(w->cfg->webhook_backoff_ms);
    log_batch_start();
    log_line(HDF_LOG_INFO, "webhook worker started", "\"max_in_flight\":%d", HDF_DELIVERY_MAX_IN_FLIGHT);
    run(&l);
    /* abandoned transfers (stop's drain timed out): their claims expire and another worker retries */
    while (l.sending != NULL) {
        struct transfer *t = l.sending;
        curl_multi_remove_handle(l.multi, t->easy);
        unlink_transfer(&l, t);
        metrics_add(&hdf_metrics.wh_in_flight, -1);
        transfer_free(t);
    }
    if (l.pg != NULL && PQstatus(l.pg) == CONNECTION_OK)
        wake(&l); /* writers need not notify a worker that is gone */
    if (l.pg != NULL)
        PQfinish(l.pg);
    log_line(HDF_LOG_INFO, "webhook worker stopped", "\"claims\":%ju,\"sleeps\":%ju,\"notified\":%ju",
             (uintmax_t)atomic_load(&hdf_metrics.wh_claims), (uintmax_t)atomic_load(&hdf_metrics.wh_sleeps),
             (uintmax_t)atomic_load(&hdf_metrics.wh_notified));
    log_flush();
    return NULL;
}

int delivery_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void delivery_global_cleanup(void)
{
    curl_global_cleanup();
}

int delivery_start(struct hdf_delivery_worker *w, const struct hdf_config *cfg)
{
    w->cfg = cfg;
    atomic_store(&w->stop, 0);
    w->multi = curl_multi_init();
    if (w->multi == NULL)
        return -1;
    curl_multi_setopt(w->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
    if (pthread_create(&w->tid, NULL, delivery_main, w) != 0) {
        curl_multi_cleanup(w->multi);
        w->multi = NULL;
        return -1;
    }
    return 0;
}

void delivery_stop(struct hdf_delivery_worker *w)
{
    if (w->multi == NULL)
        return;
    atomic_store(&w->stop, 1);
    curl_multi_wakeup(w->multi);
    pthread_join(w->tid, NULL);
    curl_multi_cleanup(w->multi);
    w->multi = NULL;
}
