/*
 * event.h: event ids and the JSON envelope that is delivered and signed.
 *
 * An event id is "evt_" + 22 base62 characters encoding 128 bits: 48 bits of Unix milliseconds
 * followed by 80 random bits (the layout of UUIDv7 and ULID). Receivers dedupe on it, so it must
 * never repeat: 80 fresh random bits per millisecond make a collision among even a billion events
 * in one millisecond unlikely (about 2^-21). The time prefix makes ids sort by creation (base62
 * digits are written in ASCII order 0-9A-Za-z, fixed width), which keeps the outbox's unique
 * index appending at its right edge instead of touching random pages, and reads well in logs. It
 * reveals when the event happened, which occurred_at says anyway.
 *
 * The envelope is {"id","type","schema_version":1,"occurred_at","workspace_id","data"} in that
 * order, compact, UTF-8 as is: event_envelope_serialize returns the exact bytes that are sent and
 * signed. Keep those bytes (or re-serialize the same way): a jsonb round trip reorders keys and
 * changes numbers' text, and the signature is over bytes.
 */
#ifndef HDF_WEBHOOK_EVENT_H
#define HDF_WEBHOOK_EVENT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define HDF_EVENT_ID_LEN 26 /* "evt_" + 22 */
#define HDF_EVENT_ID_BUFSZ (HDF_EVENT_ID_LEN + 1)
#define HDF_EVENT_SCHEMA_VERSION 1

/* The event types of the contract; NULL-terminated. */
extern const char *const hdf_event_types[];
int event_type_is_known(const char *type);

/* The id of raw (16 bytes, big-endian: 6 bytes of ms then 10 random bytes). */
void event_id_encode(const uint8_t raw[16], char out[HDF_EVENT_ID_BUFSZ]);
/* 0 and the 16 bytes when s is an event id (exactly HDF_EVENT_ID_LEN characters), else -1. */
int event_id_decode(const char *s, size_t len, uint8_t raw[16]);
/* A new id at unix_ms (0 .. 2^48-1; clamped) with 80 bits from arc4random_buf. */
void event_id_generate(int64_t unix_ms, char out[HDF_EVENT_ID_BUFSZ]);
/* The milliseconds an id carries. */
int64_t event_id_time_ms(const uint8_t raw[16]);

/* The envelope's bytes (malloc'd, NUL-terminated, *len without the NUL), or NULL when id is not an
 * event id, type is not known, workspace_id < 1, occurred_at_ms < 0 or data is not an object. */
char *event_envelope_serialize(const char *id, const char *type, int64_t occurred_at_ms, int64_t workspace_id, json_t *data,
                               size_t *len);

#endif
