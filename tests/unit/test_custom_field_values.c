/*
 * test_custom_field_values.c: tests custom_fields_check_values (model/custom_field.c): values
 * checked against a workspace's definitions, type by type, unknown keys, null as a deletion,
 * calendar dates, enum options, error fields and codes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/custom_field.h"

static const char DEFS[] = "[{\"key\":\"plan\",\"type\":\"enum\",\"options\":[\"free\",\"pro\"]},"
                           "{\"key\":\"note\",\"type\":\"text\",\"options\":null},"
                           "{\"key\":\"seats\",\"type\":\"number\",\"options\":null},"
                           "{\"key\":\"vip\",\"type\":\"boolean\",\"options\":null},"
                           "{\"key\":\"since\",\"type\":\"date\",\"options\":null}]";

/* Number of errors for values; the first one's field and code when want_field is given. */
static size_t check(const char *values, const char *want_field, const char *want_code)
{
    json_t *defs = json_loads(DEFS, 0, NULL), *v = json_loads(values, JSON_DECODE_ANY, NULL);
    assert_non_null(defs);
    assert_non_null(v);
    hdf_field_errors_t fe = {0};
    custom_fields_check_values(v, defs, "custom_fields", &fe);
    size_t n = field_errors_count(&fe);
    if (want_field != NULL) {
        assert_true(n >= 1);
        json_t *e = json_array_get(fe.list, 0);
        assert_string_equal(json_string_value(json_object_get(e, "field")), want_field);
        assert_string_equal(json_string_value(json_object_get(e, "code")), want_code);
    }
    field_errors_clear(&fe);
    json_decref(defs);
    json_decref(v);
    return n;
}

static void test_valid(void **state)
{
    (void)state;
    assert_int_equal(check("{}", NULL, NULL), 0);
    assert_int_equal(check("{\"plan\":\"pro\",\"note\":\"hi\",\"seats\":3,\"vip\":false,\"since\":\"2024-02-29\"}", NULL, NULL), 0);
    assert_int_equal(check("{\"seats\":2.5}", NULL, NULL), 0);
    assert_int_equal(check("{\"seats\":-1e3}", NULL, NULL), 0);
    /* null deletes a value, whatever the type */
    assert_int_equal(check("{\"plan\":null,\"note\":null,\"seats\":null,\"vip\":null,\"since\":null}", NULL, NULL), 0);
}

static void test_not_object(void **state)
{
    (void)state;
    assert_int_equal(check("[]", "custom_fields", "invalid_type"), 1);
    assert_int_equal(check("\"x\"", "custom_fields", "invalid_type"), 1);
    assert_int_equal(check("null", "custom_fields", "invalid_type"), 1);
}

static void test_unknown(void **state)
{
    (void)state;
    assert_int_equal(check("{\"nope\":1}", "custom_fields.nope", "unknown_field"), 1);
    assert_int_equal(check("{\"nope\":null}", "custom_fields.nope", "unknown_field"), 1);
    json_t *v = json_loads("{\"plan\":\"pro\"}", 0, NULL), *defs = json_array();
    hdf_field_errors_t fe = {0};
    custom_fields_check_values(v, defs, "customer.custom_fields", &fe);
    assert_string_equal(json_string_value(json_object_get(json_array_get(fe.list, 0), "field")), "customer.custom_fields.plan");
    field_errors_clear(&fe);
    json_decref(v);
    json_decref(defs);
}

static void test_types(void **state)
{
    (void)state;
    assert_int_equal(check("{\"note\":1}", "custom_fields.note", "invalid_type"), 1);
    assert_int_equal(check("{\"seats\":\"3\"}", "custom_fields.seats", "invalid_type"), 1);
    assert_int_equal(check("{\"vip\":\"true\"}", "custom_fields.vip", "invalid_type"), 1);
    assert_int_equal(check("{\"vip\":0}", "custom_fields.vip", "invalid_type"), 1);
    assert_int_equal(check("{\"since\":20240101}", "custom_fields.since", "invalid_type"), 1);
    assert_int_equal(check("{\"plan\":[\"pro\"]}", "custom_fields.plan", "invalid_type"), 1);
    assert_int_equal(check("{\"note\":{}}", "custom_fields.note", "invalid_type"), 1);
    /* every failing member is reported */
    assert_int_equal(check("{\"note\":1,\"seats\":true,\"vip\":null,\"x\":1}", NULL, NULL), 3);
}

static void test_text_length(void **state)
{
    (void)state;
    char buf[3100];
    /* 1000 characters of 2 bytes each are fine; 1001 are not */
    size_t n = (size_t)snprintf(buf, sizeof(buf), "{\"note\":\"");
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\xc3\xa9");
    snprintf(buf + n, sizeof(buf) - n, "\"}");
    assert_int_equal(check(buf, NULL, NULL), 0);
    snprintf(buf + n, sizeof(buf) - n, "x\"}");
    assert_int_equal(check(buf, "custom_fields.note", "too_long"), 1);
}

static void test_dates(void **state)
{
    (void)state;
    static const char *const good[] = {"2024-02-29", "2000-02-29", "2023-12-31", "0001-01-01", "9999-12-31"};
    static const char *const bad[] = {"2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "2024-00-10",
                                      "2024-01-00", "2024-1-01",  "24-01-01",   "2024/01/01", "2024-01-01T00:00:00Z",
                                      "0000-01-01", "",           "abcd-ef-gh", "2024-01-1x"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(custom_field_date_is_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(custom_field_date_is_valid(bad[i], strlen(bad[i])));
    assert_int_equal(check("{\"since\":\"2023-02-29\"}", "custom_fields.since", "invalid"), 1);
}

static void test_enum(void **state)
{
    (void)state;
    assert_int_equal(check("{\"plan\":\"enterprise\"}", "custom_fields.plan", "invalid_option"), 1);
    assert_int_equal(check("{\"plan\":\"Pro\"}", "custom_fields.plan", "invalid_option"), 1);
    assert_int_equal(check("{\"plan\":\"free\"}", NULL, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid), cmocka_unit_test(test_not_object),  cmocka_unit_test(test_unknown),
        cmocka_unit_test(test_types), cmocka_unit_test(test_text_length), cmocka_unit_test(test_dates),
        cmocka_unit_test(test_enum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
