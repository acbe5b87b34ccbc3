/*
 * test_query.c: tests http/query.c: splitting and percent-decoding of query strings ('+' as
 * space), malformed escapes, %00 and invalid UTF-8 refused, the parameter limit, query_get,
 * credential-looking parameters (case-insensitive) and query_first_unknown.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/query.h"

/* A malloc allocator that remembers its blocks so each test frees them. */
struct arena {
    void *blocks[8];
    size_t n, last_size;
};

static void *arena_alloc(void *ctx, size_t size)
{
    struct arena *a = ctx;
    assert_true(a->n < 8);
    a->last_size = size;
    a->blocks[a->n] = malloc(size);
    assert_non_null(a->blocks[a->n]);
    return a->blocks[a->n++];
}

static void arena_free(struct arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->blocks[i]);
    a->n = 0;
}

static int parse(const char *qs, struct hdf_query *q, struct arena *a)
{
    return query_parse(qs, strlen(qs), q, arena_alloc, a);
}

static void test_basic(void **state)
{
    (void)state;
    struct arena a = {0};
    struct hdf_query q;
    assert_int_equal(parse("limit=25&cursor=abc", &q, &a), 0);
    assert_int_equal(q.n, 2);
    assert_string_equal(q.params[0].name, "limit");
    assert_string_equal(q.params[0].value, "25");
    assert_string_equal(q.params[1].name, "cursor");
    assert_string_equal(q.params[1].value, "abc");
    assert_string_equal(query_get(&q, "limit"), "25");
    assert_string_equal(query_get(&q, "cursor"), "abc");
    assert_null(query_get(&q, "nope"));
    assert_null(query_get(&q, "LIMIT")); /* names are case-sensitive */
    arena_free(&a);
}

static void test_empty_and_odd_shapes(void **state)
{
    (void)state;
    struct arena a = {0};
    struct hdf_query q;
    assert_int_equal(query_parse("", 0, &q, arena_alloc, &a), 0);
    assert_int_equal(q.n, 0);
    arena_free(&a);

    assert_int_equal(parse("&&&", &q, &a), 0);
    assert_int_equal(q.n, 0);
    arena_free(&a);

    assert_int_equal(parse("flag&x=&=v&&y=1=2", &q, &a), 0);
    assert_int_equal(q.n, 4);
    assert_string_equal(q.params[0].name, "flag");
    assert_string_equal(q.params[0].value, "");
    assert_string_equal(q.params[1].name, "x");
    assert_string_equal(q.params[1].value, "");
    assert_string_equal(q.params[2].name, "");
    assert_string_equal(q.params[2].value, "v");
    assert_string_equal(q.params[3].name, "y");
    assert_string_equal(q.params[3].value, "1=2");
    arena_free(&a);

    /* repeated names: query_get returns the first */
    assert_int_equal(parse("a=1&a=2", &q, &a), 0);
    assert_int_equal(q.n, 2);
    assert_string_equal(query_get(&q, "a"), "1");
    arena_free(&a);
}

static void test_decoding(void **state)
{
    (void)state;
    struct arena a = {0};
    struct hdf_query q;
    assert_int_equal(parse("q=hello+world&p=%2B&s=a%20b&n%61me=%41%42%43&e=%e2%82%AC&r=%25", &q, &a), 0);
    assert_int_equal(q.n, 6);
    assert_string_equal(query_get(&q, "q"), "hello world");
    assert_string_equal(query_get(&q, "p"), "+");
    assert_string_equal(query_get(&q, "s"), "a b");
    assert_string_equal(query_get(&q, "name"), "ABC");
    assert_string_equal(query_get(&q, "e"), "\xe2\x82\xac");
    assert_string_equal(query_get(&q, "r"), "%");
    arena_free(&a);

    /* '&' and '=' only split before decoding */
    assert_int_equal(parse("a=%26b%3Dc", &q, &a), 0);
    assert_int_equal(q.n, 1);
    assert_string_equal(query_get(&q, "a"), "&b=c");
    arena_free(&a);

    /* raw UTF-8 passes through */
    assert_int_equal(parse("x=\xc3\xa9", &q, &a), 0);
    assert_string_equal(query_get(&q, "x"), "\xc3\xa9");
    arena_free(&a);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "%",       "a=%",   "a=%4",     "a=%4g",       "a=%g4",    "a=%%41",         "%zz=1",  "a=1&b=%", "a=%00", "%00=1",
        "a=x%00y", "a=%ff", "a=%c0%af", "a=%ed%a0%80", "a=%e2%82", "a=%f4%90%80%80", "a=\xff", "\xc3=1",  "a=%C3", "a=%80",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct arena a = {0};
        struct hdf_query q;
        if (parse(bad[i], &q, &a) != -1)
            fail_msg("accepted \"%s\"", bad[i]);
        arena_free(&a);
    }
}

static void test_len_bounded(void **state)
{
    (void)state;
    struct arena a = {0};
    struct hdf_query q;
    /* the escape is cut by len: malformed */
    assert_int_equal(query_parse("a=%41", 4, &q, arena_alloc, &a), -1);
    arena_free(&a);
    assert_int_equal(query_parse("a=1&b=2", 3, &q, arena_alloc, &a), 0);
    assert_int_equal(q.n, 1);
    assert_string_equal(q.params[0].value, "1");
    arena_free(&a);
}

static void test_param_limit(void **state)
{
    (void)state;
    char qs[1024];
    size_t o = 0;
    for (int i = 0; i < HDF_QUERY_MAX_PARAMS; i++)
        o += (size_t)snprintf(qs + o, sizeof(qs) - o, "%sp%d=%d", i ? "&" : "", i, i);
    struct arena a = {0};
    struct hdf_query q;
    assert_int_equal(parse(qs, &q, &a), 0);
    assert_int_equal(q.n, HDF_QUERY_MAX_PARAMS);
    assert_string_equal(query_get(&q, "p31"), "31");
    arena_free(&a);

    /* empty segments do not count */
    char with_empty[1100];
    snprintf(with_empty, sizeof(with_empty), "&&%s&&", qs);
    assert_int_equal(parse(with_empty, &q, &a), 0);
    assert_int_equal(q.n, HDF_QUERY_MAX_PARAMS);
    arena_free(&a);

    snprintf(qs + o, sizeof(qs) - o, "&one=more");
    assert_int_equal(parse(qs, &q, &a), -1);
    arena_free(&a);
}

/* The decoded strings fit the one buffer even in the worst case (many tiny params). */
static void test_buffer_is_big_enough(void **state)
{
    (void)state;
    static const char *const cases[] = {"a", "a&b&c&d&e&f&g&h", "=&=&=&=", "a=&b=&c=", "%41=%42&%43"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena a = {0};
        struct hdf_query q;
        assert_int_equal(parse(cases[i], &q, &a), 0);
        for (size_t k = 0; k < q.n; k++) {
            char *base = a.blocks[0];
            assert_true(q.params[k].name >= base && q.params[k].name + strlen(q.params[k].name) < base + a.last_size);
            assert_true(q.params[k].value >= base && q.params[k].value + strlen(q.params[k].value) < base + a.last_size);
        }
        arena_free(&a);
    }
}

static void test_has_credential(void **state)
{
    (void)state;
    static const char *const yes[] = {
        "api_key=x",       "API_KEY=x", "Api_Key=",  "token=abc",   "TOKEN",     "access_token=1",           "Access_Token=1",
        "limit=1&token=t", "apikey=x",  "api-key=x", "api%5Fkey=x", "%74oken=x", "a=1&b=2&c=3&api_key=hdf_x"};
    static const char *const no[] = {"",           "limit=1",        "tokens=x",     "x=api_key", "api_keys=1",
                                     "my_token=1", "access-token=1", "cursor=token", "api key=1"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        struct arena a = {0};
        struct hdf_query q;
        assert_int_equal(parse(yes[i], &q, &a), 0);
        if (!query_has_credential(&q))
            fail_msg("missed the credential in \"%s\"", yes[i]);
        arena_free(&a);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        struct arena a = {0};
        struct hdf_query q;
        assert_int_equal(parse(no[i], &q, &a), 0);
        if (query_has_credential(&q))
            fail_msg("saw a credential in \"%s\"", no[i]);
        arena_free(&a);
    }
}

static void test_first_unknown(void **state)
{
    (void)state;
    static const char *const allowed[] = {"limit", "cursor", NULL};
    static const char *const none[] = {NULL};
    struct arena a = {0};
    struct hdf_query q;
    assert_int_equal(parse("limit=1&cursor=x", &q, &a), 0);
    assert_null(query_first_unknown(&q, allowed));
    assert_string_equal(query_first_unknown(&q, none), "limit");
    arena_free(&a);

    assert_int_equal(parse("limit=1&foo=2&bar=3", &q, &a), 0);
    assert_string_equal(query_first_unknown(&q, allowed), "foo");
    arena_free(&a);

    assert_int_equal(parse("LIMIT=1", &q, &a), 0);
    assert_string_equal(query_first_unknown(&q, allowed), "LIMIT");
    arena_free(&a);

    assert_int_equal(parse("", &q, &a), 0);
    assert_null(query_first_unknown(&q, none));
    arena_free(&a);

    assert_int_equal(parse("%6cimit=5", &q, &a), 0); /* decoded before comparing */
    assert_null(query_first_unknown(&q, allowed));
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_empty_and_odd_shapes),
        cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_len_bounded),
        cmocka_unit_test(test_param_limit),
        cmocka_unit_test(test_buffer_is_big_enough),
        cmocka_unit_test(test_has_credential),
        cmocka_unit_test(test_first_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
