/*
 * test_event.c: tests webhook/event.c: event id encoding (fixed width, ASCII order = numeric =
 * time order, round trip, the largest 128-bit value, refusal of malformed ids), generation
 * (prefix, time carried, uniqueness), and the envelope's exact bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "webhook/event.h"

static void test_id_encode(void **state)
{
    (void)state;
    uint8_t raw[16] = {0}, back[16];
    char id[HDF_EVENT_ID_BUFSZ];
    event_id_encode(raw, id);
    assert_string_equal(id, "evt_0000000000000000000000");
    raw[15] = 61;
    event_id_encode(raw, id);
    assert_string_equal(id, "evt_000000000000000000000z");
    raw[15] = 62;
    event_id_encode(raw, id);
    assert_string_equal(id, "evt_0000000000000000000010");
    memset(raw, 0xff, sizeof(raw));
    event_id_encode(raw, id); /* 2^128 - 1 in base62 */
    assert_string_equal(id, "evt_7n42DGM5Tflk9n8mt7Fhc7");
    assert_int_equal(event_id_decode(id, strlen(id), back), 0);
    assert_memory_equal(raw, back, 16);
    /* one more than 2^128 - 1 does not fit */
    assert_int_equal(event_id_decode("evt_7n42DGM5Tflk9n8mt7Fhc8", 26, back), -1);
    assert_int_equal(event_id_decode("evt_zzzzzzzzzzzzzzzzzzzzzz", 26, back), -1);
}

static void test_id_decode_invalid(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "evt_",
        "evt_000000000000000000000",
        "evt_00000000000000000000000",
        "EVT_0000000000000000000000",
        "evx_0000000000000000000000",
        "evt_000000000000000000000-",
        "evt_000000000000000000000 ",
        "msg_0000000000000000000000",
    };
    uint8_t raw[16];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(event_id_decode(bad[i], strlen(bad[i]), raw), -1);
    assert_int_equal(event_id_decode("evt_000000000000000000000\0", 26, raw), -1);
}

static void test_id_order_and_generate(void **state)
{
    (void)state;
    char a[HDF_EVENT_ID_BUFSZ], b[HDF_EVENT_ID_BUFSZ];
    uint8_t raw[16];
    int64_t t = 1764000000123LL;
    event_id_generate(t, a);
    assert_int_equal(strlen(a), HDF_EVENT_ID_LEN);
    assert_int_equal(event_id_decode(a, strlen(a), raw), 0);
    assert_int_equal(event_id_time_ms(raw), t);
    for (int i = 0; i < 1000; i++) {
        event_id_generate(t + 1 + i, b);
        assert_true(strcmp(a, b) < 0); /* later ms, larger id, whatever the random bits */
        memcpy(a, b, sizeof(a));
    }
    /* the same ms: different ids */
    char c[HDF_EVENT_ID_BUFSZ], d[HDF_EVENT_ID_BUFSZ];
    event_id_generate(t, c);
    event_id_generate(t, d);
    assert_string_not_equal(c, d);
    /* clamped times */
    event_id_generate(-5, c);
    event_id_decode(c, 26, raw);
    assert_int_equal(event_id_time_ms(raw), 0);
    event_id_generate(INT64_MAX, c);
    event_id_decode(c, 26, raw);
    assert_int_equal(event_id_time_ms(raw), (INT64_C(1) << 48) - 1);
    /* ordering of encodings follows the numbers: two raw values one apart */
    uint8_t r1[16] = {0}, r2[16] = {0};
    r1[5] = 1;
    r2[4] = 1;
    event_id_encode(r1, c);
    event_id_encode(r2, d);
    assert_true(strcmp(c, d) < 0);
}

static void test_types(void **state)
{
    (void)state;
    assert_true(event_type_is_known("ticket.created"));
    assert_true(event_type_is_known("sla.breached"));
    assert_false(event_type_is_known("ticket.deleted"));
    assert_false(event_type_is_known(""));
    assert_false(event_type_is_known(NULL));
    int n = 0;
    while (hdf_event_types[n] != NULL)
        n++;
    assert_int_equal(n, 8);
}

static void test_envelope_bytes(void **state)
{
    (void)state;
    json_t *data = json_pack("{s:I, s:s, s:{s:[s,s]}}", "id", (json_int_t)7, "subject", "Caf\xc3\xa9 \"x\"", "changes", "status",
                             "open", "pending");
    size_t len = 0;
    char *s = event_envelope_serialize("evt_0000000000000000000010", "ticket.updated", 1764000000123LL, 3, data, &len);
    assert_non_null(s);
    assert_string_equal(s, "{\"id\":\"evt_0000000000000000000010\",\"type\":\"ticket.updated\",\"schema_version\":1,"
                           "\"occurred_at\":\"2025-11-24T16:00:00.123Z\",\"workspace_id\":3,\"data\":{\"id\":7,"
                           "\"subject\":\"Caf\xc3\xa9 \\\"x\\\"\",\"changes\":{\"status\":[\"open\",\"pending\"]}}}");
    assert_int_equal(len, strlen(s));
    free(s);
    /* refusals */
    assert_null(event_envelope_serialize("evt_bad", "ticket.updated", 0, 3, data, &len));
    assert_null(event_envelope_serialize(NULL, "ticket.updated", 0, 3, data, &len));
    assert_null(event_envelope_serialize("evt_0000000000000000000010", "ticket.exploded", 0, 3, data, &len));
    assert_null(event_envelope_serialize("evt_0000000000000000000010", "ticket.updated", 0, 0, data, &len));
    assert_null(event_envelope_serialize("evt_0000000000000000000010", "ticket.updated", -1, 3, data, &len));
    json_t *arr = json_array();
    assert_null(event_envelope_serialize("evt_0000000000000000000010", "ticket.updated", 0, 3, arr, &len));
    assert_null(event_envelope_serialize("evt_0000000000000000000010", "ticket.updated", 0, 3, NULL, &len));
    json_decref(arr);
    /* data is borrowed, not stolen */
    assert_int_equal(data->refcount, 1);
    json_decref(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_encode), cmocka_unit_test(test_id_decode_invalid), cmocka_unit_test(test_id_order_and_generate),
        cmocka_unit_test(test_types),     cmocka_unit_test(test_envelope_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
