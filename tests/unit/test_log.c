/*
 * test_log.c: tests common/log.c: log_format_request yields one valid JSON object with the
 * contract's fields, log_escape escapes quotes, backslashes and control characters and stays
 * valid (JSON and UTF-8) when it truncates, log_line / log_request write one line each and honour
 * the level.
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
#include <unistd.h>
#include <jansson.h>
#include "common/log.h"
#include "common/util.h"

static json_t *parse_line(const char *buf, size_t len)
{
    json_error_t je;
    json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
    if (j == NULL)
        fail_msg("not JSON (%s): %.*s", je.text, (int)len, buf);
    return j;
}

static void check_ts(const char *ts)
{
    regex_t re;
    assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$", REG_EXTENDED), 0);
    assert_int_equal(regexec(&re, ts, 0, NULL, 0), 0);
    regfree(&re);
}

static void test_format_request(void **state)
{
    (void)state;
    struct hdf_request_log r = {"abc123", 42, "PATCH", "/v1/api-keys/{id}", 200, 1.2345};
    char buf[512];
    size_t n = log_format_request(&r, buf, sizeof(buf));
    assert_int_equal(n, strlen(buf));
    json_t *j = parse_line(buf, n);
    check_ts(json_string_value(json_object_get(j, "ts")));
    assert_string_equal(json_string_value(json_object_get(j, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(j, "msg")), "request");
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), "abc123");
    assert_true(json_is_integer(json_object_get(j, "key_id")));
    assert_int_equal(json_integer_value(json_object_get(j, "key_id")), 42);
    assert_string_equal(json_string_value(json_object_get(j, "method")), "PATCH");
    assert_string_equal(json_string_value(json_object_get(j, "route")), "/v1/api-keys/{id}");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    assert_true(json_is_number(json_object_get(j, "duration_ms")));
    assert_true(json_number_value(json_object_get(j, "duration_ms")) > 1.233 &&
                json_number_value(json_object_get(j, "duration_ms")) < 1.236);
    assert_int_equal(json_object_size(j), 9);
    json_decref(j);
}

static void test_format_request_no_key(void **state)
{
    (void)state;
    char rid[HDF_REQUEST_ID_MAX + 1];
    memset(rid, 'x', HDF_REQUEST_ID_MAX);
    memcpy(rid, "a.b:c+d/e=f-_", 13);
    rid[HDF_REQUEST_ID_MAX] = '\0';
    assert_true(request_id_is_sane(rid, strlen(rid)));
    struct hdf_request_log r = {rid, 0, "GET", "unmatched", 404, 0};
    char buf[512];
    size_t n = log_format_request(&r, buf, sizeof(buf));
    json_t *j = parse_line(buf, n);
    assert_true(json_is_null(json_object_get(j, "key_id")));
    assert_string_equal(json_string_value(json_object_get(j, "request_id")), rid);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
    json_decref(j);
}

static void test_format_request_truncates(void **state)
{
    (void)state;
    struct hdf_request_log r = {"abc", 1, "GET", "/v1/me", 200, 1};
    char buf[20];
    memset(buf, 'X', sizeof(buf));
    size_t n = log_format_request(&r, buf, sizeof(buf));
    assert_int_equal(n, sizeof(buf) - 1);
    assert_int_equal(strlen(buf), n);
}

static void check_escape(const char *in, const char *expect)
{
    char out[256];
    log_escape(in, out, sizeof(out));
    assert_string_equal(out, expect);
    /* in quotes, it is a JSON string equal to the input */
    char quoted[300];
    snprintf(quoted, sizeof(quoted), "[\"%s\"]", out);
    json_t *j = parse_line(quoted, strlen(quoted));
    assert_string_equal(json_string_value(json_array_get(j, 0)), in);
    json_decref(j);
}

static void test_escape(void **state)
{
    (void)state;
    check_escape("", "");
    check_escape("plain text", "plain text");
    check_escape("say \"hi\"", "say \\\"hi\\\"");
    check_escape("C:\\path", "C:\\\\path");
    check_escape("a\nb\rc\td", "a\\u000ab\\u000dc\\u0009d");
    check_escape("\x01\x1f", "\\u0001\\u001f");
    check_escape("\x7f", "\x7f");
    check_escape("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80", "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80");
    check_escape("\"\\\"\n", "\\\"\\\\\\\"\\u000a");
    check_escape("</script>", "</script>");
}

/* Whatever the buffer size, the output is a complete JSON string body: no half escape. */
static void test_escape_truncation_ascii(void **state)
{
    (void)state;
    const char *in = "ab\"cd\\ef\ngh\x01ij";
    for (size_t sz = 1; sz <= 40; sz++) {
        char out[64];
        memset(out, 'X', sizeof(out));
        log_escape(in, out, sz);
        assert_true(strlen(out) < sz);
        char quoted[80];
        snprintf(quoted, sizeof(quoted), "[\"%s\"]", out);
        json_t *j = parse_line(quoted, strlen(quoted));
        const char *got = json_string_value(json_array_get(j, 0));
        assert_memory_equal(got, in, strlen(got)); /* a prefix of the input */
        json_decref(j);
    }
}

/* Database messages can be long and non-ASCII: the cut must not split a character. */
static void test_escape_truncation_multibyte(void **state)
{
    (void)state;
    char in[600];
    size_t o = 0;
    for (int i = 0; i < 100; i++) {
        memcpy(in + o, i % 2 ? "\xc3\xa9" : "\xe2\x82\xac", i % 2 ? 2 : 3);
        o += i % 2 ? 2 : 3;
    }
    in[o] = '\0';
    for (size_t sz = 1; sz <= 64; sz++) {
        char out[300];
        log_escape(in, out, sz);
        size_t n = strlen(out);
        assert_true(n < sz);
        if (utf8_find_invalid(out, n) != -1)
            fail_msg("log_escape(outsz=%zu) split a character: invalid UTF-8 at byte %td of %zu", sz, utf8_find_invalid(out, n), n);
    }
    char out[256];
    log_escape(in, out, sizeof(out)); /* the size pool.c uses */
    assert_int_equal(utf8_find_invalid(out, strlen(out)), -1);
}

static void test_levels(void **state)
{
    (void)state;
    log_set_level(HDF_LOG_WARN);
    assert_false(log_enabled(HDF_LOG_DEBUG));
    assert_false(log_enabled(HDF_LOG_INFO));
    assert_true(log_enabled(HDF_LOG_WARN));
    assert_true(log_enabled(HDF_LOG_ERROR));
    log_set_level(HDF_LOG_DEBUG);
    assert_true(log_enabled(HDF_LOG_DEBUG));
    log_set_level(HDF_LOG_INFO);
    assert_false(log_enabled(HDF_LOG_DEBUG));
    assert_true(log_enabled(HDF_LOG_INFO));
}

/* Runs fn with stdout redirected to a temporary file; returns what was written (malloc'd). */
static char *capture(void (*fn)(void))
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDOUT_FILENO);
    dup2(fileno(tmp), STDOUT_FILENO);
    fn();
    dup2(saved, STDOUT_FILENO);
    close(saved);
    off_t n = lseek(fileno(tmp), 0, SEEK_END);
    char *buf = calloc(1, (size_t)n + 1);
    lseek(fileno(tmp), 0, SEEK_SET);
    assert_int_equal(read(fileno(tmp), buf, (size_t)n), (ssize_t)n);
    fclose(tmp);
    return buf;
}

static void write_lines(void)
{
    log_set_level(HDF_LOG_INFO);
    log_line(HDF_LOG_DEBUG, "hidden", NULL);
    log_line(HDF_LOG_WARN, "database connection failed", "\"reason\":\"%s\",\"n\":%d", "timeout", 3);
    log_line(HDF_LOG_ERROR, "plain", NULL);
    struct hdf_request_log r = {"rid-1", 7, "GET", "/v1/me", 200, 0.5};
    log_request(&r);
    log_set_level(HDF_LOG_WARN);
    log_request(&r); /* request lines are info: filtered out */
    log_set_level(HDF_LOG_INFO);
}

static void test_log_line_output(void **state)
{
    (void)state;
    char *out = capture(write_lines);
    char *save = NULL;
    int lines = 0;
    for (char *line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save), lines++) {
        json_t *j = parse_line(line, strlen(line));
        check_ts(json_string_value(json_object_get(j, "ts")));
        const char *msg = json_string_value(json_object_get(j, "msg"));
        if (lines == 0) {
            assert_string_equal(json_string_value(json_object_get(j, "level")), "warn");
            assert_string_equal(msg, "database connection failed");
            assert_string_equal(json_string_value(json_object_get(j, "reason")), "timeout");
            assert_int_equal(json_integer_value(json_object_get(j, "n")), 3);
        } else if (lines == 1) {
            assert_string_equal(json_string_value(json_object_get(j, "level")), "error");
            assert_string_equal(msg, "plain");
            assert_int_equal(json_object_size(j), 3);
        } else {
            assert_string_equal(msg, "request");
            assert_string_equal(json_string_value(json_object_get(j, "request_id")), "rid-1");
        }
        json_decref(j);
    }
    assert_int_equal(lines, 3);
    free(out);
}

static void write_long_line(void)
{
    char big[3000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    log_line(HDF_LOG_ERROR, "long", "\"x\":\"%s\"", big);
}

/* An over-long line is cut but still ends with one newline (one write, no interleaving). */
static void test_log_line_long(void **state)
{
    (void)state;
    char *out = capture(write_long_line);
    size_t n = strlen(out);
    assert_true(n > 0 && n <= 2048);
    assert_int_equal(out[n - 1], '\n');
    assert_null(memchr(out, '\n', n - 1));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_request),
        cmocka_unit_test(test_format_request_no_key),
        cmocka_unit_test(test_format_request_truncates),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_escape_truncation_ascii),
        cmocka_unit_test(test_escape_truncation_multibyte),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_log_line_output),
        cmocka_unit_test(test_log_line_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
