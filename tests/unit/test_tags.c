/*
 * test_tags.c: tests model/tags.c: lower-casing, the pattern, de-duplication keeping the first
 * position, the 50-tag limit, error fields and codes, and the Postgres array literal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "model/tags.h"

static json_t *parse(const char *s)
{
    json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
    assert_non_null(j);
    return j;
}

/* The normalised array as compact JSON text (freed by the caller), or NULL on error. */
static char *normalize_text(const char *in, hdf_field_errors_t *fe)
{
    json_t *tags = parse(in);
    json_t *out = tags_normalize(tags, "tags", fe);
    json_decref(tags);
    if (out == NULL)
        return NULL;
    char *s = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return s;
}

static void assert_normalizes(const char *in, const char *want)
{
    hdf_field_errors_t fe = {0};
    char *got = normalize_text(in, &fe);
    assert_non_null(got);
    assert_string_equal(got, want);
    assert_int_equal(field_errors_count(&fe), 0);
    free(got);
}

/* Exactly one error, with this field and code. */
static void assert_refused(const char *in, const char *field, const char *code)
{
    hdf_field_errors_t fe = {0};
    assert_null(normalize_text(in, &fe));
    assert_int_equal(field_errors_count(&fe), 1);
    json_t *e = json_array_get(fe.list, 0);
    assert_string_equal(json_string_value(json_object_get(e, "field")), field);
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    field_errors_clear(&fe);
}

static void test_normalize(void **state)
{
    (void)state;
    assert_normalizes("[]", "[]");
    assert_normalizes("[\"VIP\", \"billing:EU\", \"a_b-c\"]", "[\"vip\",\"billing:eu\",\"a_b-c\"]");
    assert_normalizes("[\"0\", \"9x\"]", "[\"0\",\"9x\"]");
}

static void test_dedupe_keeps_first(void **state)
{
    (void)state;
    assert_normalizes("[\"b\", \"A\", \"B\", \"a\", \"c\", \"b\"]", "[\"b\",\"a\",\"c\"]");
}

static void test_pattern(void **state)
{
    (void)state;
    char in[200], want[80];
    memset(want, 'a', 64);
    want[64] = '\0';
    snprintf(in, sizeof(in), "[\"%s\"]", want);
    assert_normalizes(in, in);
    snprintf(in, sizeof(in), "[\"%sa\"]", want);
    assert_refused(in, "tags[0]", "invalid");
    assert_refused("[\"\"]", "tags[0]", "invalid");
    assert_refused("[\"ok\", \"-x\"]", "tags[1]", "invalid");
    assert_refused("[\"_x\"]", "tags[0]", "invalid");
    assert_refused("[\":x\"]", "tags[0]", "invalid");
    assert_refused("[\"a b\"]", "tags[0]", "invalid");
    assert_refused("[\"a.b\"]", "tags[0]", "invalid");
    assert_refused("[\"caf\\u00e9\"]", "tags[0]", "invalid");
    assert_refused("[\"\\u00c9t\\u00e9\"]", "tags[0]", "invalid");
}

static void test_types(void **state)
{
    (void)state;
    assert_refused("\"vip\"", "tags", "invalid_type");
    assert_refused("{}", "tags", "invalid_type");
    assert_refused("null", "tags", "invalid_type");
    assert_refused("[\"a\", 1]", "tags[1]", "invalid_type");
    assert_refused("[null]", "tags[0]", "invalid_type");
    /* every failing element is reported */
    hdf_field_errors_t fe = {0};
    assert_null(normalize_text("[1, \"ok\", \"bad tag\", []]", &fe));
    assert_int_equal(field_errors_count(&fe), 3);
    field_errors_clear(&fe);
}

static void test_limit(void **state)
{
    (void)state;
    char in[1024];
    size_t n = 0;
    n += (size_t)snprintf(in + n, sizeof(in) - n, "[");
    for (int i = 0; i < 51; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "%s\"t%d\"", i > 0 ? "," : "", i);
    snprintf(in + n, sizeof(in) - n, "]");
    assert_refused(in, "tags", "too_many");
    /* 50 distinct are fine; the limit counts elements as given, before de-duplication */
    char *cut = strstr(in, ",\"t50\"");
    assert_non_null(cut);
    memcpy(cut, "]", 2);
    hdf_field_errors_t fe = {0};
    char *got = normalize_text(in, &fe);
    assert_non_null(got);
    free(got);
}

static void test_field_name(void **state)
{
    (void)state;
    hdf_field_errors_t fe = {0};
    json_t *tags = parse("[\"ok\", 3]");
    assert_null(tags_normalize(tags, "customer.tags", &fe));
    assert_string_equal(json_string_value(json_object_get(json_array_get(fe.list, 0), "field")), "customer.tags[1]");
    json_decref(tags);
    field_errors_clear(&fe);
}

static void test_pg_array(void **state)
{
    (void)state;
    json_t *t = parse("[\"a\", \"b:c\", \"x-y_z\"]");
    char *s = tags_to_pg_array(t);
    assert_string_equal(s, "{\"a\",\"b:c\",\"x-y_z\"}");
    free(s);
    json_decref(t);
    t = parse("[]");
    s = tags_to_pg_array(t);
    assert_string_equal(s, "{}");
    free(s);
    json_decref(t);
    t = parse("[\"q\\\"\\\\\"]"); /* not a valid tag, but still a safe literal */
    s = tags_to_pg_array(t);
    assert_string_equal(s, "{\"q\\\"\\\\\"}");
    free(s);
    json_decref(t);
    t = parse("[1]");
    assert_null(tags_to_pg_array(t));
    json_decref(t);
    assert_null(tags_to_pg_array(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize), cmocka_unit_test(test_dedupe_keeps_first),
        cmocka_unit_test(test_pattern),   cmocka_unit_test(test_types),
        cmocka_unit_test(test_limit),     cmocka_unit_test(test_field_name),
        cmocka_unit_test(test_pg_array),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
