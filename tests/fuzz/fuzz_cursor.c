/*
 * fuzz_cursor.c: libFuzzer target for common/cursor.c. The first byte picks the list kind and
 * the payload buffer size, the rest (up to a NUL) is the cursor text. Checks, beyond not
 * crashing: only base64url text of an allowed length decodes; at most one kind accepts a cursor;
 * a decoded payload fits its buffer; re-encoding a decoded payload (within cursor_encode's
 * documented size) yields a canonical cursor that decodes to the same payload and re-encodes to
 * itself; cursor_decode_id agrees with cursor_decode + parse_id and round-trips through
 * cursor_encode_id.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/cursor.h"
#include "common/util.h"

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (!(cond))                                                                                                               \
            abort();                                                                                                               \
    } while (0)

static const char *const kinds[] = {"ak", "tk", "tickets", "customers", ""};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static int is_b64url(const char *s)
{
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static void check_round_trip(const char *kind, const char *payload)
{
    /* cursor_encode takes "<kind>:<payload>" up to 179 bytes; payloads of lists are < 150 */
    if (strlen(kind) + 1 + strlen(payload) >= 180)
        return;
    char c2[HDF_CURSOR_MAX], p2[HDF_CURSOR_MAX], c3[HDF_CURSOR_MAX];
    cursor_encode(kind, payload, c2);
    CHECK(strlen(c2) <= HDF_CURSOR_MAX - 1 && is_b64url(c2));
    CHECK(cursor_decode(kind, c2, p2, sizeof(p2)) == 0);
    CHECK(strcmp(p2, payload) == 0);
    cursor_encode(kind, p2, c3);
    CHECK(strcmp(c2, c3) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *kind = kinds[data[0] % NKINDS];
    size_t payloadsz = (size_t)(data[0] >> 3) * 8 + 1; /* 1..249 */
    char *s = malloc(size);
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';

    char *payload = malloc(payloadsz);
    int rc = cursor_decode(kind, s, payload, payloadsz);
    if (rc == 0) {
        size_t len = strlen(s);
        CHECK(len > 0 && len <= HDF_CURSOR_MAX && len % 4 != 1 && is_b64url(s));
        size_t pl = strnlen(payload, payloadsz);
        CHECK(pl < payloadsz);
        check_round_trip(kind, payload);
        /* no other kind accepts the same cursor */
        for (size_t k = 0; k < NKINDS; k++) {
            char other[HDF_CURSOR_MAX];
            if (strcmp(kinds[k], kind) != 0)
                CHECK(cursor_decode(kinds[k], s, other, sizeof(other)) == -1);
        }
    } else {
        CHECK(rc == -1);
    }

    /* with a full-size buffer, decode_id is decode + parse_id */
    char full[HDF_CURSOR_MAX];
    int64_t id = -7;
    int idrc = cursor_decode_id(kind, s, &id);
    if (idrc == 0) {
        CHECK(id >= 1);
        CHECK(cursor_decode(kind, s, full, sizeof(full)) == 0);
        CHECK(parse_id(full, strlen(full)) == id);
        char c2[HDF_CURSOR_MAX];
        int64_t id2 = -7;
        cursor_encode_id(kind, id, c2);
        CHECK(cursor_decode_id(kind, c2, &id2) == 0 && id2 == id);
    } else {
        CHECK(idrc == -1);
        if (cursor_decode(kind, s, full, sizeof(full)) == 0 && strlen(full) < 32)
            CHECK(parse_id(full, strlen(full)) == -1);
    }

    /* any bytes as a payload (up to a NUL) round-trip through encode/decode */
    check_round_trip(kind, s);
    free(payload);
    free(s);
    return 0;
}
