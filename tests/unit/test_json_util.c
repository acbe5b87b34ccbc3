/*
 * test_json_util.c: tests common/json_util.c: json_parse_body (UTF-8 offsets, nesting limit and
 * how depth is counted around strings, NUL in strings named by path, syntax errors with byte
 * offsets, duplicate keys, non-object bodies), json_get_string (required, type, lengths counted in
 * characters), json_reject_unknown and json_dump_compact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/json_util.h"
#include "common/util.h"

struct parsed {
    json_t *j;
    hdf_error_t err;
    char detail[256];
    hdf_field_errors_t fe;
};

static void parse(struct parsed *p, const char *buf, size_t len)
{
    memset(p, 0, sizeof(*p));
    p->err = HDF_OK;
    p->j = json_parse_body(buf, len, &p->err, p->detail, sizeof(p->detail), &p->fe);
}

static void parsed_free(struct parsed *p)
{
    json_decref(p->j);
    field_errors_clear(&p->fe);
}

#define PARSE_LIT(p, lit) parse(p, lit, sizeof(lit) - 1)

/* Returns N from "at byte N" in detail, or -1. */
static long byte_offset(const char *detail)
{
    const char *at = strstr(detail, "at byte ");
    if (at == NULL)
        return -1;
    return strtol(at + 8, NULL, 10);
}

static char *nested(int depth, const char *open, const char *close, const char *inner)
{
    size_t n = (strlen(open) + strlen(close)) * (size_t)depth + strlen(inner) + 1;
    char *s = malloc(n);
    s[0] = '\0';
    for (int i = 0; i < depth; i++)
        strcat(s, open);
    strcat(s, inner);
    for (int i = 0; i < depth; i++)
        strcat(s, close);
    return s;
}

/* ---- json_parse_body ---------------------------------------------------------------------- */

static void test_parse_object(void **state)
{
    (void)state;
    struct parsed p;
    PARSE_LIT(&p, "{\"label\":\"h\xc3\xa9llo\",\"n\":[1,2,{\"x\":null}]}");
    assert_non_null(p.j);
    assert_true(json_is_object(p.j));
    assert_string_equal(json_string_value(json_object_get(p.j, "label")), "h\xc3\xa9llo");
    assert_int_equal(field_errors_count(&p.fe), 0);
    parsed_free(&p);
}

static void test_parse_invalid_utf8_offset(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
        long at;
    } cases[] = {
        {"{\"label\":\"\xff\"}", 13, 10},         {"{\"label\":\"ok \xc0\xaf\"}", 17, 13},
        {"{\"label\":\"\xed\xa0\x80\"}", 15, 10}, {"{\"label\":\"abc\xe2\x82\"}", 17, 13},
        {"{\"label\":\"x\"}\x80", 14, 13},        {"\xef\xbb\xbf{}", 5, -2}, /* BOM: valid UTF-8, refused by the parser instead */
    };
    for (size_t i = 0; i < HDF_ARRAY_SIZE(cases); i++) {
        struct parsed p;
        parse(&p, cases[i].s, cases[i].len);
        assert_null(p.j);
        assert_int_equal(p.err, HDF_E_MALFORMED_JSON);
        if (cases[i].at >= 0) {
            char expect[64];
            snprintf(expect, sizeof(expect), "invalid UTF-8 at byte %ld", cases[i].at);
            assert_string_equal(p.detail, expect);
        } else {
            assert_null(strstr(p.detail, "UTF-8"));
        }
        parsed_free(&p);
    }
}

static void test_parse_depth_limit(void **state)
{
    (void)state;
    struct parsed p;
    char *s = nested(HDF_JSON_MAX_DEPTH, "[", "]", "");
    parse(&p, s, strlen(s));
    assert_non_null(p.j);
    parsed_free(&p);
    free(s);

    s = nested(HDF_JSON_MAX_DEPTH + 1, "[", "]", "");
    parse(&p, s, strlen(s));
    assert_null(p.j);
    assert_int_equal(p.err, HDF_E_MALFORMED_JSON);
    assert_non_null(strstr(p.detail, "nesting"));
    parsed_free(&p);
    free(s);

    /* objects count the same as arrays: {"a":{"a":...}} */
    s = nested(HDF_JSON_MAX_DEPTH, "{\"a\":", "}", "1");
    parse(&p, s, strlen(s));
    assert_non_null(p.j);
    parsed_free(&p);
    free(s);
    s = nested(HDF_JSON_MAX_DEPTH + 1, "{\"a\":", "}", "1");
    parse(&p, s, strlen(s));
    assert_null(p.j);
    assert_int_equal(p.err, HDF_E_MALFORMED_JSON);
    parsed_free(&p);
    free(s);

    /* the API test's shape: the outer object counts as 1 */
    s = nested(HDF_JSON_MAX_DEPTH - 1, "[", "]", "");
    char body[256];
    snprintf(body, sizeof(body), "{\"label\":%s}", s);
    parse(&p, body, strlen(body));
    assert_non_null(p.j);
    parsed_free(&p);
    free(s);
}

static void test_parse_depth_huge_unbalanced(void **state)
{
    (void)state;
    size_t n = 300000;
    char *s = malloc(n);
    memset(s, '[', n);
    struct parsed p;
    parse(&p, s, n);
    assert_null(p.j);
    assert_int_equal(p.err, HDF_E_MALFORMED_JSON);
    parsed_free(&p);
    free(s);
}

/* Brackets inside strings are not nesting, and an escaped quote does not end a string. */
static void test_depth_ignores_strings(void **state)
{
    (void)state;
    char many[200];
    memset(many, '[', 100);
    memset(many + 100, '{', 99);
    many[199] = '\0';
    char body[512];
    snprintf(body, sizeof(body), "{\"a\":\"%s\"}", many);
    struct parsed p;
    parse(&p, body, strlen(body));
    assert_non_null(p.j);
    parsed_free(&p);

    /* "\"[[[..." : the escaped quote keeps the brackets inside the string */
    snprintf(body, sizeof(body), "{\"a\":\"\\\"%s\\\"\"}", many);
    parse(&p, body, strlen(body));
    assert_non_null(p.j);
    parsed_free(&p);

    /* but "\\" ends with a real quote: what follows is structure again */
    char *deep = nested(HDF_JSON_MAX_DEPTH, "[", "]", "");
    snprintf(body, sizeof(body), "{\"a\":\"\\\\\",\"b\":%s}", deep);
    assert_int_equal(json_nesting_exceeds(body, strlen(body), HDF_JSON_MAX_DEPTH), 1);
    parse(&p, body, strlen(body));
    assert_null(p.j);
    assert_int_equal(p.err, HDF_E_MALFORMED_JSON);
    assert_non_null(strstr(p.detail, "nesting"));
    parsed_free(&p);
    free(deep);

    /* brackets in keys do not count either */
    snprintf(body, sizeof(body), "{\"%s\":1}", many);
    parse(&p, body, strlen(body));
    assert_non_null(p.j);
    parsed_free(&p);
}

static void test_nesting_exceeds_direct(void **state)
{
    (void)state;
    assert_int_equal(json_nesting_exceeds("", 0, 0), 0);
    assert_int_equal(json_nesting_exceeds("[]", 2, 0), 1);
    assert_int_equal(json_nesting_exceeds("[]", 2, 1), 0);
    assert_int_equal(json_nesting_exceeds("[][][]", 6, 1), 0); /* siblings do not add up */
    assert_int_equal(json_nesting_exceeds("[[]]", 4, 1), 1);
    assert_int_equal(json_nesting_exceeds("{\"[\":\"]\"}", 9, 1), 0);
    assert_int_equal(json_nesting_exceeds("[\"\\\"[\"]", 7, 1), 0);
    /* only len bytes are scanned */
    assert_int_equal(json_nesting_exceeds("[[[", 1, 1), 0);
}

static void test_parse_nul_in_string(void **state)
{
    (void)state;
    static const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"label\":\"a\\u0000b\"}", "label"},
        {"{\"label\":\"\\u0000\"}", "label"},
        {"{\"customer\":{\"tags\":[\"x\",\"a\\u0000\"]}}", "customer.tags[1]"},
        {"{\"ok\":\"fine\",\"bad\":[[\"\\u0000\"]]}", "bad[0][0]"},
        {"[\"ok\",\"\\u0000\"]", "[1]"},
    };
    for (size_t i = 0; i < HDF_ARRAY_SIZE(cases); i++) {
        struct parsed p;
        parse(&p, cases[i].body, strlen(cases[i].body));
        assert_null(p.j);
        assert_int_equal(p.err, HDF_E_VALIDATION_FAILED);
        assert_non_null(strstr(p.detail, "NUL"));
        assert_int_equal(field_errors_count(&p.fe), 1);
        json_t *row = json_array_get(p.fe.list, 0);
        assert_string_equal(json_string_value(json_object_get(row, "field")), cases[i].field);
        assert_string_equal(json_string_value(json_object_get(row, "code")), "nul_character");
        parsed_free(&p);
    }
}

/* The path of a NUL under a long multibyte key is cut to fit: it must be cut between characters,
 * or the field error is dropped and the 400 names no field. */
static void test_parse_nul_under_long_multibyte_key(void **state)
{
    (void)state;
    char body[1024];
    size_t o = (size_t)snprintf(body, sizeof(body), "{\"");
    for (int i = 0; i < 200; i++)
        o += (size_t)snprintf(body + o, sizeof(body) - o, "\xc3\xa9");
    snprintf(body + o, sizeof(body) - o, "\":{\"tags\":[\"x\",\"a\\u0000\"]}}");
    struct parsed p;
    parse(&p, body, strlen(body));
    assert_null(p.j);
    assert_int_equal(p.err, HDF_E_VALIDATION_FAILED);
    size_t count = field_errors_count(&p.fe);
    char field[512] = "";
    if (count == 1)
        strlcpy(field, json_string_value(json_object_get(json_array_get(p.fe.list, 0), "field")), sizeof(field));
    parsed_free(&p);
    if (count != 1)
        fail_msg("expected 1 nul_character error, got %zu: the response would name no field", count);
    assert_int_equal(utf8_find_invalid(field, strlen(field)), -1);
    assert_memory_equal(field, "\xc3\xa9", 2);
}

/* NUL in a key or a raw NUL byte: refused one way or the other, never accepted. */
static void test_parse_nul_elsewhere(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        size_t len;
    } cases[] = {
        {"{\"label\":\"x\",\"a\\u0000b\":1}", 26},
        {"{\"label\":\"a\0b\"}", 15},
        {"{\"label\":\"x\"}\0", 14},
        {"\0", 1},
    };
    for (size_t i = 0; i < HDF_ARRAY_SIZE(cases); i++) {
        struct parsed p;
        parse(&p, cases[i].s, cases[i].len);
        assert_null(p.j);
        assert_true(p.err == HDF_E_MALFORMED_JSON || p.err == HDF_E_VALIDATION_FAILED);
        assert_true(strlen(p.detail) > 0);
        parsed_free(&p);
    }
}

static void test_parse_syntax_errors(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "{\"label\": }",
        "{\"label\":\"x\"",
        "{\"label\":\"x\"} trailing",
        "{label:\"x\"}",
        "{\"label\":\"x\",}",
        "nul",
        "{\"label\":\"\\x\"}",
        "{'label':'x'}",
        "{\"label\":\"x\"}}",
        "{\"label\":NaN}",
        "{\"label\":\"a\nb\"}",
        "{",
        "}",
        "[1,]",
        "{\"a\":01}",
        "{\"a\":\"\\ud800\"}",
        " ",
        "{\"a\" 1}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":-}",
    };
    for (size_t i = 0; i < HDF_ARRAY_SIZE(cases); i++) {
        struct parsed p;
        size_t len = strlen(cases[i]);
        parse(&p, cases[i], len);
        assert_null(p.j);
        assert_int_equal(p.err, HDF_E_MALFORMED_JSON);
        long at = byte_offset(p.detail);
        if (at < 0 || (size_t)at > len)
            fail_msg("case %zu (%s): detail lacks a byte offset within the body: %s", i, cases[i], p.detail);
        assert_int_equal(field_errors_count(&p.fe), 0);
        parsed_free(&p);
    }
}

/* The detail goes into the problem body, so it must be valid UTF-8 even when jansson quotes the
 * byte after a backslash: for "\\é" its "near '...'" text holds only the first byte of é. */
static void test_parse_detail_is_valid_utf8(void **state)
{
    (void)state;
    static const char *const cases[] = {"{\"label\":\"\\\xc3\xa9\"}", "\"\\\xde\xa3\"", "{\"label\":\"\\\xe2\x82\xac\"}",
                                        "{\"l\\\xf1\x88\x88\x86\":1}", "[\"\\u\xef\xbc\x91\"]"};
    for (size_t i = 0; i < HDF_ARRAY_SIZE(cases); i++) {
        struct parsed p;
        parse(&p, cases[i], strlen(cases[i]));
        assert_null(p.j);
        assert_int_equal(p.err, HDF_E_MALFORMED_JSON);
        ptrdiff_t bad = utf8_find_invalid(p.detail, strlen(p.detail));
        json_t *problem = problem_build(p.err, p.detail, "rid", NULL);
        int has_detail = json_is_string(json_object_get(problem, "detail"));
        json_decref(problem);
        parsed_free(&p);
        if (bad != -1)
            fail_msg("case %zu: detail is invalid UTF-8 at byte %td: \"%.*s<bad byte>...\"", i, bad, (int)bad, p.detail);
        assert_true(has_detail);
        assert_true(byte_offset(p.detail) >= 0);
    }
}

static void test_parse_duplicates_refused(void **state)
{
    (void)state;
    struct parsed p;
    PARSE_LIT(&p, "{\"label\":\"a\",\"label\":\"b\"}");
    assert_null(p.j);
    assert_int_equal(p.err, HDF_E_MALFORMED_JSON);
    assert_non_null(strstr(p.detail, "duplicate"));
    assert_true(byte_offset(p.detail) >= 0);
    parsed_free(&p);

    PARSE_LIT(&p, "{\"o\":{\"k\":1,\"k\":1}}");
    assert_null(p.j);
    assert_int_equal(p.err, HDF_E_MALFORMED_JSON);
    parsed_free(&p);

    /* different escapes of the same key are the same key */
    PARSE_LIT(&p, "{\"a\":1,\"\\u0061\":2}");
    assert_null(p.j);
    parsed_free(&p);
}

/* Contract: "a body that is not an object where an object is expected -> 400 validation_failed".
 * A scalar is valid JSON (RFC 8259), so json_parse_body must not call it malformed; the handler's
 * object check then answers validation_failed, as for "[]". */
static void test_parse_scalar_bodies_are_json(void **state)
{
    (void)state;
    static const char *const cases[] = {"1", "\"label\"", "null", "true", "[]", "[{\"label\":\"x\"}]"};
    for (size_t i = 0; i < HDF_ARRAY_SIZE(cases); i++) {
        struct parsed p;
        parse(&p, cases[i], strlen(cases[i]));
        if (p.j == NULL && p.err == HDF_E_MALFORMED_JSON)
            fail_msg("valid JSON %s refused as malformed_json (%s); the contract wants validation_failed", cases[i], p.detail);
        assert_true(p.j != NULL || p.err == HDF_E_VALIDATION_FAILED);
        assert_false(json_is_object(p.j));
        parsed_free(&p);
    }
}

static void test_parse_detail_truncated_safely(void **state)
{
    (void)state;
    char detail[8];
    hdf_error_t err;
    hdf_field_errors_t fe = {NULL};
    memset(detail, 'X', sizeof(detail));
    assert_null(json_parse_body("{\"a\":}", 6, &err, detail, sizeof(detail), &fe));
    assert_int_equal(err, HDF_E_MALFORMED_JSON);
    assert_true(strlen(detail) < sizeof(detail));
}

/* ---- json_get_string ---------------------------------------------------------------------- */

static json_t *obj_of(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    return j;
}

static void expect_one_error(hdf_field_errors_t *fe, const char *field, const char *code)
{
    assert_int_equal(field_errors_count(fe), 1);
    json_t *row = json_array_get(fe->list, 0);
    assert_string_equal(json_string_value(json_object_get(row, "field")), field);
    assert_string_equal(json_string_value(json_object_get(row, "code")), code);
    assert_true(strlen(json_string_value(json_object_get(row, "message"))) > 0);
    field_errors_clear(fe);
}

static void test_get_string_present(void **state)
{
    (void)state;
    json_t *o = obj_of("{\"label\":\"hello\"}");
    hdf_field_errors_t fe = {NULL};
    const char *out = (const char *)1;
    assert_int_equal(json_get_string(o, "label", "label", 1, 200, 1, &out, &fe), 1);
    assert_string_equal(out, "hello");
    assert_int_equal(field_errors_count(&fe), 0);
    json_decref(o);
}

static void test_get_string_absent(void **state)
{
    (void)state;
    json_t *o = obj_of("{}");
    hdf_field_errors_t fe = {NULL};
    const char *out = (const char *)1;
    assert_int_equal(json_get_string(o, "label", "label", 1, 200, 0, &out, &fe), 0);
    assert_null(out);
    assert_int_equal(field_errors_count(&fe), 0);
    assert_int_equal(json_get_string(o, "label", "label", 1, 200, 1, &out, &fe), -1);
    assert_null(out);
    expect_one_error(&fe, "label", "required");
    json_decref(o);
}

static void test_get_string_wrong_types(void **state)
{
    (void)state;
    static const char *const bodies[] = {"{\"label\":12}",      "{\"label\":null}",          "{\"label\":true}",
                                         "{\"label\":[\"x\"]}", "{\"label\":{\"a\":\"b\"}}", "{\"label\":1.5}"};
    for (size_t i = 0; i < HDF_ARRAY_SIZE(bodies); i++) {
        json_t *o = obj_of(bodies[i]);
        hdf_field_errors_t fe = {NULL};
        const char *out;
        assert_int_equal(json_get_string(o, "label", "body.label", 1, 200, 1, &out, &fe), -1);
        assert_null(out);
        expect_one_error(&fe, "body.label", "invalid_type");
        json_decref(o);
    }
}

/* Lengths are characters: 200 'é' (400 bytes) fit a 200-character limit; 201 do not. */
static void test_get_string_lengths_in_characters(void **state)
{
    (void)state;
    char text[2048];
    hdf_field_errors_t fe = {NULL};
    const char *out;
    for (int count = 199; count <= 201; count++) {
        size_t o = (size_t)snprintf(text, sizeof(text), "{\"label\":\"");
        for (int i = 0; i < count; i++)
            o += (size_t)snprintf(text + o, sizeof(text) - o, "\xc3\xa9");
        snprintf(text + o, sizeof(text) - o, "\"}");
        json_t *obj = obj_of(text);
        int rc = json_get_string(obj, "label", "label", 1, 200, 1, &out, &fe);
        if (count <= 200) {
            assert_int_equal(rc, 1);
            assert_int_equal(strlen(out), 2 * (size_t)count);
        } else {
            assert_int_equal(rc, -1);
            expect_one_error(&fe, "label", "too_long");
        }
        json_decref(obj);
    }
    /* 4-byte characters: 3 emoji are 3 characters */
    json_t *obj = obj_of("{\"e\":\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"}");
    assert_int_equal(json_get_string(obj, "e", "e", 3, 3, 1, &out, &fe), 1);
    assert_int_equal(json_get_string(obj, "e", "e", 4, 10, 1, &out, &fe), -1);
    expect_one_error(&fe, "e", "too_short");
    assert_int_equal(json_get_string(obj, "e", "e", 0, 2, 1, &out, &fe), -1);
    expect_one_error(&fe, "e", "too_long");
    json_decref(obj);
}

static void test_get_string_empty(void **state)
{
    (void)state;
    json_t *o = obj_of("{\"label\":\"\"}");
    hdf_field_errors_t fe = {NULL};
    const char *out;
    assert_int_equal(json_get_string(o, "label", "label", 1, 200, 1, &out, &fe), -1);
    expect_one_error(&fe, "label", "too_short");
    assert_int_equal(json_get_string(o, "label", "label", 0, 200, 1, &out, &fe), 1);
    assert_string_equal(out, "");
    json_decref(o);
}

static void test_get_string_collects_errors(void **state)
{
    (void)state;
    json_t *o = obj_of("{\"a\":1,\"b\":\"toolong\"}");
    hdf_field_errors_t fe = {NULL};
    const char *out;
    assert_int_equal(json_get_string(o, "a", "a", 0, 10, 1, &out, &fe), -1);
    assert_int_equal(json_get_string(o, "b", "b", 0, 3, 1, &out, &fe), -1);
    assert_int_equal(json_get_string(o, "c", "c", 0, 3, 1, &out, &fe), -1);
    assert_int_equal(field_errors_count(&fe), 3);
    field_errors_clear(&fe);
    json_decref(o);
}

/* ---- json_reject_unknown ------------------------------------------------------------------ */

static void test_reject_unknown(void **state)
{
    (void)state;
    static const char *const allowed[] = {"label", "role", NULL};
    json_t *o = obj_of("{\"label\":\"x\",\"extra\":1,\"role\":\"a\",\"Label\":2}");
    hdf_field_errors_t fe = {NULL};
    json_reject_unknown(o, allowed, "", &fe);
    assert_int_equal(field_errors_count(&fe), 2);
    int saw_extra = 0, saw_label = 0;
    for (size_t i = 0; i < 2; i++) {
        json_t *row = json_array_get(fe.list, i);
        const char *f = json_string_value(json_object_get(row, "field"));
        assert_string_equal(json_string_value(json_object_get(row, "code")), "unknown_field");
        saw_extra |= strcmp(f, "extra") == 0;
        saw_label |= strcmp(f, "Label") == 0; /* names are case-sensitive */
    }
    assert_true(saw_extra && saw_label);
    field_errors_clear(&fe);

    json_reject_unknown(o, allowed, "custom_fields.", &fe);
    assert_int_equal(field_errors_count(&fe), 2);
    const char *f0 = json_string_value(json_object_get(json_array_get(fe.list, 0), "field"));
    assert_memory_equal(f0, "custom_fields.", 14);
    field_errors_clear(&fe);
    json_decref(o);
}

static void test_reject_unknown_all_known_or_none_allowed(void **state)
{
    (void)state;
    static const char *const allowed[] = {"label", NULL};
    static const char *const none[] = {NULL};
    json_t *o = obj_of("{\"label\":\"x\"}");
    hdf_field_errors_t fe = {NULL};
    json_reject_unknown(o, allowed, "", &fe);
    assert_int_equal(field_errors_count(&fe), 0);
    json_reject_unknown(o, none, "", &fe);
    expect_one_error(&fe, "label", "unknown_field");
    json_decref(o);
    o = obj_of("{}");
    json_reject_unknown(o, none, "", &fe);
    assert_int_equal(field_errors_count(&fe), 0);
    json_decref(o);
}

/* An unknown member whose (caller-chosen) name is long and multibyte must still be reported:
 * if its error were dropped, the request would pass validation with an unknown field. */
static void test_reject_unknown_long_multibyte_key(void **state)
{
    (void)state;
    static const char *const allowed[] = {"label", NULL};
    char text[1024];
    size_t o = (size_t)snprintf(text, sizeof(text), "{\"label\":\"x\",\"");
    for (int i = 0; i < 150; i++)
        o += (size_t)snprintf(text + o, sizeof(text) - o, "\xc3\xa9");
    snprintf(text + o, sizeof(text) - o, "\":1}");
    json_t *obj = obj_of(text);
    hdf_field_errors_t fe = {NULL};
    json_reject_unknown(obj, allowed, "", &fe);
    json_decref(obj);
    size_t count = field_errors_count(&fe);
    char field[512] = "";
    if (count == 1)
        strlcpy(field, json_string_value(json_object_get(json_array_get(fe.list, 0), "field")), sizeof(field));
    field_errors_clear(&fe);
    if (count != 1)
        fail_msg("expected 1 unknown_field error, got %zu: the unknown member would pass validation", count);
    assert_int_equal(utf8_find_invalid(field, strlen(field)), -1);
}

/* ---- json_dump_compact -------------------------------------------------------------------- */

static void test_dump_compact(void **state)
{
    (void)state;
    json_t *o = obj_of("{ \"a\" : [ 1 , 2 ] , \"b\" : \"\xc3\xa9\" }");
    size_t len;
    char *s = json_dump_compact(o, &len);
    assert_string_equal(s, "{\"a\":[1,2],\"b\":\"\xc3\xa9\"}");
    assert_int_equal(len, strlen(s));
    free(s);
    json_decref(o);
    json_t *n = json_integer(7);
    s = json_dump_compact(n, &len);
    assert_string_equal(s, "7");
    free(s);
    json_decref(n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_object),
        cmocka_unit_test(test_parse_invalid_utf8_offset),
        cmocka_unit_test(test_parse_depth_limit),
        cmocka_unit_test(test_parse_depth_huge_unbalanced),
        cmocka_unit_test(test_depth_ignores_strings),
        cmocka_unit_test(test_nesting_exceeds_direct),
        cmocka_unit_test(test_parse_nul_in_string),
        cmocka_unit_test(test_parse_nul_under_long_multibyte_key),
        cmocka_unit_test(test_parse_nul_elsewhere),
        cmocka_unit_test(test_parse_syntax_errors),
        cmocka_unit_test(test_parse_detail_is_valid_utf8),
        cmocka_unit_test(test_parse_duplicates_refused),
        cmocka_unit_test(test_parse_scalar_bodies_are_json),
        cmocka_unit_test(test_parse_detail_truncated_safely),
        cmocka_unit_test(test_get_string_present),
        cmocka_unit_test(test_get_string_absent),
        cmocka_unit_test(test_get_string_wrong_types),
        cmocka_unit_test(test_get_string_lengths_in_characters),
        cmocka_unit_test(test_get_string_empty),
        cmocka_unit_test(test_get_string_collects_errors),
        cmocka_unit_test(test_reject_unknown),
        cmocka_unit_test(test_reject_unknown_all_known_or_none_allowed),
        cmocka_unit_test(test_reject_unknown_long_multibyte_key),
        cmocka_unit_test(test_dump_compact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
