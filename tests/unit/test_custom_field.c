/*
 * test_custom_field.c: tests model/custom_field.c: objects, types, the key pattern and enum
 * options (shape, count, lengths in characters, duplicates, every failing element reported).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "model/custom_field.h"

static void test_objects_and_types(void **state)
{
    (void)state;
    assert_true(custom_field_object_is_valid("ticket"));
    assert_true(custom_field_object_is_valid("customer"));
    assert_false(custom_field_object_is_valid("Ticket"));
    assert_false(custom_field_object_is_valid(""));
    static const char *const types[] = {"text", "number", "boolean", "date", "enum"};
    for (size_t i = 0; i < 5; i++)
        assert_true(custom_field_type_is_valid(types[i]));
    assert_false(custom_field_type_is_valid("string"));
    assert_false(custom_field_type_is_valid("enum "));
}

static void test_keys(void **state)
{
    (void)state;
    char k64[65], k65[66];
    memset(k64, 'a', 64);
    k64[64] = '\0';
    memset(k65, 'a', 65);
    k65[65] = '\0';
    static const char *const good[] = {"a", "plan", "x_1", "z9_", "a_b_c"};
    static const char *const bad[] = {"", "A", "1a", "_a", "a-b", "a b", "a.b", "\xc3\xa9", "aB"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_true(custom_field_key_is_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(custom_field_key_is_valid(bad[i]));
    assert_true(custom_field_key_is_valid(k64));
    assert_false(custom_field_key_is_valid(k65));
}

/* Runs the options check on JSON text; returns the errors (caller decrefs) and the result. */
static json_t *check(const char *text, int *rc)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    hdf_field_errors_t fe = {0};
    *rc = custom_field_check_options(j, &fe);
    json_decref(j);
    return fe.list;
}

static void assert_one_error(const char *text, const char *field, const char *code)
{
    int rc;
    json_t *errs = check(text, &rc);
    assert_int_equal(rc, -1);
    assert_int_equal(json_array_size(errs), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "field")), field);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "code")), code);
    json_decref(errs);
}

static void test_options(void **state)
{
    (void)state;
    int rc;
    assert_null(check("[\"a\", \"A\", \"b c\"]", &rc));
    assert_int_equal(rc, 0);
    assert_one_error("\"a\"", "options", "invalid_type");
    assert_one_error("null", "options", "invalid_type");
    assert_one_error("[]", "options", "too_short");
    assert_one_error("[\"a\", 1]", "options[1]", "invalid_type");
    assert_one_error("[\"a\", \"\"]", "options[1]", "too_short");
    assert_one_error("[\"a\", \"b\", \"a\"]", "options[2]", "duplicate");
    /* 100 characters (not bytes) is the limit */
    char buf[2048];
    int n = snprintf(buf, sizeof(buf), "[\"");
    for (int i = 0; i < 100; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\xc3\xa9");
    snprintf(buf + n, sizeof(buf) - (size_t)n, "\"]");
    assert_null(check(buf, &rc));
    assert_int_equal(rc, 0);
    snprintf(buf + n, sizeof(buf) - (size_t)n, "x\"]");
    assert_one_error(buf, "options[0]", "too_long");
}

static void test_option_count(void **state)
{
    (void)state;
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "[");
    for (int i = 0; i < 100; i++)
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s\"%d\"", i ? "," : "", i);
    snprintf(buf + n, sizeof(buf) - (size_t)n, "]");
    int rc;
    assert_null(check(buf, &rc));
    assert_int_equal(rc, 0);
    snprintf(buf + n, sizeof(buf) - (size_t)n, ",\"x\"]");
    assert_one_error(buf, "options", "too_long");
}

static void test_every_element_reported(void **state)
{
    (void)state;
    int rc;
    json_t *errs = check("[1, \"\", \"a\", \"a\", null]", &rc);
    assert_int_equal(rc, -1);
    assert_int_equal(json_array_size(errs), 4);
    json_decref(errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objects_and_types),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_option_count),
        cmocka_unit_test(test_every_element_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
