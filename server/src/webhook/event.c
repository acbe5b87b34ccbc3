/*
 * event.c: event ids and the signed envelope (see event.h).
 */
#include <stdlib.h>
#include <string.h>
#include "common/json_util.h"
#include "common/util.h"
#include "webhook/event.h"

#define ID_PREFIX "evt_"
#define ID_DIGITS 22

static const char base62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const char *const hdf_event_types[] = {"ticket.created",   "ticket.updated",   "message.created",
                                       "customer.created", "customer.updated", "customer.merged",
                                       "sla.warning",      "sla.breached",     NULL};

int event_type_is_known(const char *type)
{
    for (size_t i = 0; type != NULL && hdf_event_types[i] != NULL; i++)
        if (strcmp(type, hdf_event_types[i]) == 0)
            return 1;
    return 0;
}

static int base62_value(char c)
{
    const char *p = c != '\0' ? strchr(base62, c) : NULL;
    return p != NULL ? (int)(p - base62) : -1;
}

void event_id_encode(const uint8_t raw[16], char out[HDF_EVENT_ID_BUFSZ])
{
    uint8_t n[16];
    memcpy(n, raw, sizeof(n));
    memcpy(out, ID_PREFIX, 4);
    /* repeated long division of the 128-bit big-endian number by 62, least significant digit last */
    for (int d = ID_DIGITS - 1; d >= 0; d--) {
        unsigned rem = 0;
        for (size_t i = 0; i < sizeof(n); i++) {
            unsigned cur = rem << 8 | n[i];
            n[i] = (uint8_t)(cur / 62);
            rem = cur % 62;
        }
        out[4 + d] = base62[rem];
    }
    out[HDF_EVENT_ID_LEN] = '\0';
}

int event_id_decode(const char *s, size_t len, uint8_t raw[16])
{
    if (len != HDF_EVENT_ID_LEN || memcmp(s, ID_PREFIX, 4) != 0)
        return -1;
    uint8_t n[16] = {0};
    for (int d = 0; d < ID_DIGITS; d++) {
        int v = base62_value(s[4 + d]);
        if (v < 0)
            return -1;
        unsigned carry = (unsigned)v; /* n = n * 62 + v */
        for (int i = 15; i >= 0; i--) {
            unsigned cur = n[i] * 62u + carry;
            n[i] = (uint8_t)cur;
            carry = cur >> 8;
        }
        if (carry != 0) /* 62^22 > 2^128: the top ids do not fit */
            return -1;
    }
    memcpy(raw, n, sizeof(n));
    return 0;
}

int64_t event_id_time_ms(const uint8_t raw[16])
{
    int64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | raw[i];
    return ms;
}

void event_id_generate(int64_t unix_ms, char out[HDF_EVENT_ID_BUFSZ])
{
    const int64_t max = (INT64_C(1) << 48) - 1;
    uint64_t ms = (uint64_t)(unix_ms < 0 ? 0 : unix_ms > max ? max : unix_ms);
    uint8_t raw[16];
    for (int i = 0; i < 6; i++)
        raw[i] = (uint8_t)(ms >> (8 * (5 - i)));
    arc4random_buf(raw + 6, 10);
    event_id_encode(raw, out);
}

char *event_envelope_serialize(const char *id, const char *type, int64_t occurred_at_ms, int64_t workspace_id, json_t *data,
                               size_t *len)
{
    uint8_t raw[16];
    if (id == NULL || event_id_decode(id, strlen(id), raw) != 0 || !event_type_is_known(type) || workspace_id < 1 ||
        occurred_at_ms < 0 || !json_is_object(data))
        return NULL;
    char when[HDF_TIME_BUFSZ];
    time_format_ms(occurred_at_ms, when);
    json_t *env = json_pack("{s:s, s:s, s:i, s:s, s:I, s:O}", "id", id, "type", type, "schema_version", HDF_EVENT_SCHEMA_VERSION,
                            "occurred_at", when, "workspace_id", (json_int_t)workspace_id, "data", data);
    if (env == NULL)
        return NULL;
    char *out = json_dump_compact(env, len);
    json_decref(env);
    return out;
}
