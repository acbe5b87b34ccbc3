/*
 * test_errors.c: tests common/errors.c: the errors.def table (status, code, slug, title of every
 * row), status -> error mapping, problem_build members, and field_errors (including that a very
 * long or multibyte field name still yields a valid UTF-8 entry rather than being dropped).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <string.h>
#include "common/errors.h"
#include "common/util.h"

struct def_row {
    hdf_error_t e;
    const char *name;
    int status;
    const char *slug, *title;
};

static const struct def_row def_rows[] = {
#define X(name, status, slug, title) {HDF_E_##name, #name, status, slug, title},
#include "common/errors.def"
#undef X
};

static void test_every_row_is_consistent(void **state)
{
    (void)state;
    assert_int_equal(HDF_ARRAY_SIZE(def_rows), HDF_E__COUNT - 1);
    for (size_t i = 0; i < HDF_ARRAY_SIZE(def_rows); i++) {
        const struct def_row *d = &def_rows[i];
        char lower[64];
        size_t k;
        for (k = 0; d->name[k] != '\0' && k + 1 < sizeof(lower); k++)
            lower[k] = (char)tolower((unsigned char)d->name[k]);
        lower[k] = '\0';
        assert_string_equal(hdf_error_code(d->e), lower);
        assert_int_equal(hdf_error_status(d->e), d->status);
        assert_true(d->status >= 400 && d->status <= 599);
        assert_string_equal(hdf_error_slug(d->e), d->slug);
        assert_string_equal(hdf_error_title(d->e), d->title);
        assert_true(strlen(d->title) > 0);
        /* slugs go into a URL: lower-case letters and dashes only */
        assert_true(strlen(d->slug) > 0);
        for (const char *p = d->slug; *p != '\0'; p++)
            assert_true((*p >= 'a' && *p <= 'z') || *p == '-');
    }
}

static void test_codes_and_slugs_unique(void **state)
{
    (void)state;
    for (int a = 1; a < HDF_E__COUNT; a++) {
        for (int b = a + 1; b < HDF_E__COUNT; b++) {
            assert_string_not_equal(hdf_error_code((hdf_error_t)a), hdf_error_code((hdf_error_t)b));
            assert_string_not_equal(hdf_error_slug((hdf_error_t)a), hdf_error_slug((hdf_error_t)b));
        }
    }
}

static void test_contract_codes(void **state)
{
    (void)state;
    assert_string_equal(hdf_error_code(HDF_E_VALIDATION_FAILED), "validation_failed");
    assert_string_equal(hdf_error_slug(HDF_E_VALIDATION_FAILED), "validation");
    assert_int_equal(hdf_error_status(HDF_E_VALIDATION_FAILED), 400);
    assert_string_equal(hdf_error_code(HDF_E_API_KEY_IN_QUERY), "api_key_in_query");
    assert_string_equal(hdf_error_slug(HDF_E_API_KEY_IN_QUERY), "api-key-in-query");
    assert_int_equal(hdf_error_status(HDF_E_UNAUTHENTICATED), 401);
    assert_int_equal(hdf_error_status(HDF_E_METHOD_NOT_ALLOWED), 405);
    assert_int_equal(hdf_error_status(HDF_E_VERSION_MISMATCH), 412);
    assert_int_equal(hdf_error_status(HDF_E_IDEMPOTENCY_KEY_REUSED), 422);
    assert_int_equal(hdf_error_status(HDF_E_RATE_LIMITED), 429);
    assert_int_equal(hdf_error_status(HDF_E_UNAVAILABLE), 503);
}

static void test_out_of_range_is_internal(void **state)
{
    (void)state;
    assert_int_equal(hdf_error_status(HDF_E__COUNT), 500);
    assert_string_equal(hdf_error_code(HDF_E__COUNT), "internal");
    assert_string_equal(hdf_error_slug((hdf_error_t)-1), "internal");
    assert_string_equal(hdf_error_title((hdf_error_t)9999), hdf_error_title(HDF_E_INTERNAL));
}

static void test_from_status(void **state)
{
    (void)state;
    assert_int_equal(hdf_error_from_status(400), HDF_E_MALFORMED_JSON);
    assert_int_equal(hdf_error_from_status(404), HDF_E_NOT_FOUND);
    assert_int_equal(hdf_error_from_status(405), HDF_E_METHOD_NOT_ALLOWED);
    assert_int_equal(hdf_error_from_status(413), HDF_E_BODY_TOO_LARGE);
    assert_int_equal(hdf_error_from_status(415), HDF_E_UNSUPPORTED_MEDIA_TYPE);
    assert_int_equal(hdf_error_from_status(503), HDF_E_UNAVAILABLE);
    assert_int_equal(hdf_error_from_status(502), HDF_E_INTERNAL);
    assert_int_equal(hdf_error_from_status(0), HDF_E_INTERNAL);
}

static void test_problem_build_members(void **state)
{
    (void)state;
    json_t *p = problem_build(HDF_E_NOT_FOUND, "no such key", "req-1", NULL);
    assert_non_null(p);
    assert_string_equal(json_string_value(json_object_get(p, "type")), "https://helpdeskflow.dev/problems/not-found");
    assert_string_equal(json_string_value(json_object_get(p, "title")), "Not found");
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 404);
    assert_true(json_is_integer(json_object_get(p, "status")));
    assert_string_equal(json_string_value(json_object_get(p, "code")), "not_found");
    assert_string_equal(json_string_value(json_object_get(p, "detail")), "no such key");
    assert_string_equal(json_string_value(json_object_get(p, "request_id")), "req-1");
    assert_null(json_object_get(p, "errors"));
    assert_int_equal(json_object_size(p), 6);
    json_decref(p);
}

static void test_problem_build_defaults(void **state)
{
    (void)state;
    json_t *p = problem_build(HDF_E_UNAVAILABLE, NULL, NULL, NULL);
    assert_non_null(p);
    /* detail falls back to the title; request_id is omitted when unknown */
    assert_string_equal(json_string_value(json_object_get(p, "detail")), hdf_error_title(HDF_E_UNAVAILABLE));
    assert_null(json_object_get(p, "request_id"));
    json_decref(p);

    p = problem_build((hdf_error_t)1234, "x", NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 500);
    assert_string_equal(json_string_value(json_object_get(p, "code")), "internal");
    json_decref(p);
}

static void test_problem_build_attaches_errors(void **state)
{
    (void)state;
    hdf_field_errors_t fe = {NULL};
    assert_int_equal(field_errors_count(&fe), 0);
    field_errors_add(&fe, "label", "too_long", "%s exceeds %d characters", "label", 200);
    field_errors_add(&fe, "extra", "unknown_field", "extra is not a known field");
    assert_int_equal(field_errors_count(&fe), 2);
    json_t *p = problem_build(HDF_E_VALIDATION_FAILED, "bad", "r", fe.list);
    fe.list = NULL; /* ownership moved */
    json_t *errs = json_object_get(p, "errors");
    assert_true(json_is_array(errs));
    assert_int_equal(json_array_size(errs), 2);
    json_t *e0 = json_array_get(errs, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "field")), "label");
    assert_string_equal(json_string_value(json_object_get(e0, "code")), "too_long");
    assert_string_equal(json_string_value(json_object_get(e0, "message")), "label exceeds 200 characters");
    json_t *e1 = json_array_get(errs, 1);
    assert_string_equal(json_string_value(json_object_get(e1, "field")), "extra");
    assert_string_equal(json_string_value(json_object_get(e1, "code")), "unknown_field");
    json_decref(p);
}

static void test_field_errors_clear(void **state)
{
    (void)state;
    hdf_field_errors_t fe = {NULL};
    field_errors_clear(&fe); /* clearing an empty set is fine */
    field_errors_add(&fe, "a", "required", "a is required");
    assert_int_equal(field_errors_count(&fe), 1);
    field_errors_clear(&fe);
    assert_null(fe.list);
    assert_int_equal(field_errors_count(&fe), 0);
}

/* The entry for a field must exist and its strings must be valid UTF-8 of bounded size. Clears fe
 * before asserting, so that a failure reports the bug and not a leak. */
static void check_single_entry(hdf_field_errors_t *fe, const char *expect_prefix)
{
    size_t count = field_errors_count(fe);
    char field[1024] = "", message[1024] = "";
    int field_ok = 0, message_ok = 0;
    if (count == 1) {
        json_t *row = json_array_get(fe->list, 0);
        const char *f = json_string_value(json_object_get(row, "field"));
        const char *m = json_string_value(json_object_get(row, "message"));
        field_ok = f != NULL && strlcpy(field, f, sizeof(field)) < sizeof(field);
        message_ok = m != NULL && strlcpy(message, m, sizeof(message)) < sizeof(message);
    }
    field_errors_clear(fe);
    if (count != 1)
        fail_msg("expected 1 field error, got %zu (the entry was dropped)", count);
    assert_true(field_ok && message_ok);
    assert_int_equal(utf8_find_invalid(field, strlen(field)), -1);
    assert_int_equal(utf8_find_invalid(message, strlen(message)), -1);
    assert_true(strlen(field) > 0 && strlen(field) < 160);
    assert_true(strlen(message) < 512);
    assert_memory_equal(field, expect_prefix, strlen(expect_prefix));
}

static void test_field_errors_long_ascii_name(void **state)
{
    (void)state;
    char name[1000];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    hdf_field_errors_t fe = {NULL};
    field_errors_add(&fe, name, "unknown_field", "%s is not a known field", name);
    check_single_entry(&fe, "aaaa");
}

/* A 2-byte character repeated: the 160-byte name buffer cuts at byte 159, inside a character. */
static void test_field_errors_long_multibyte_name(void **state)
{
    (void)state;
    char name[401];
    for (int i = 0; i < 200; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2); /* U+00E9 */
    name[400] = '\0';
    hdf_field_errors_t fe = {NULL};
    field_errors_add(&fe, name, "unknown_field", "%s is not a known field", name);
    check_single_entry(&fe, "\xc3\xa9");
}

/* 3- and 4-byte characters, and a message that overflows the 512-byte buffer mid-character. */
static void test_field_errors_long_multibyte_message(void **state)
{
    (void)state;
    char name[1201];
    for (int i = 0; i < 300; i++)
        memcpy(name + 4 * i, "\xf0\x9f\x98\x80", 4); /* U+1F600 */
    name[1200] = '\0';
    hdf_field_errors_t fe = {NULL};
    field_errors_add(&fe, "ok", "too_long", "x%s", name); /* 1 + 1200 bytes: cut inside a character */
    check_single_entry(&fe, "ok");

    char three[301];
    for (int i = 0; i < 100; i++)
        memcpy(three + 3 * i, "\xe2\x82\xac", 3); /* U+20AC */
    three[300] = '\0';
    field_errors_add(&fe, three, "unknown_field", "%s", three);
    check_single_entry(&fe, "\xe2\x82\xac");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row_is_consistent),
        cmocka_unit_test(test_codes_and_slugs_unique),
        cmocka_unit_test(test_contract_codes),
        cmocka_unit_test(test_out_of_range_is_internal),
        cmocka_unit_test(test_from_status),
        cmocka_unit_test(test_problem_build_members),
        cmocka_unit_test(test_problem_build_defaults),
        cmocka_unit_test(test_problem_build_attaches_errors),
        cmocka_unit_test(test_field_errors_clear),
        cmocka_unit_test(test_field_errors_long_ascii_name),
        cmocka_unit_test(test_field_errors_long_multibyte_name),
        cmocka_unit_test(test_field_errors_long_multibyte_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
