/*
 * test_body.c: tests http/body.c: which Content-Type values count as JSON (case, parameters,
 * quoted charset, whitespace) and which are refused (other types, look-alike types, charsets
 * other than UTF-8).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "http/body.h"

static int is_json(const char *ct)
{
    return body_content_type_is_json(ct, strlen(ct));
}

static void test_accepted(void **state)
{
    (void)state;
    static const char *const ok[] = {"application/json",
                                     "Application/JSON",
                                     "APPLICATION/JSON; CHARSET=utf-8",
                                     "Application/JSON; charset=UTF-8",
                                     "application/json;charset=UTF-8",
                                     "application/json; charset=utf-8",
                                     "application/json;charset=\"utf-8\"",
                                     "application/json; charset=\"UTF-8\"",
                                     "application/json; charset=utf8",
                                     "application/json ; charset=utf-8",
                                     "application/json;",
                                     "application/json; charset=utf-8 ",
                                     " application/json",
                                     "application/json\t",
                                     "application/json; foo=bar",
                                     "application/json; foo=bar; charset=utf-8",
                                     "application/json; charset=utf-8; foo=bar"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (!is_json(ok[i]))
            fail_msg("refused \"%s\"", ok[i]);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"",
                                      "text/plain",
                                      "application/jsonx",
                                      "application/json-patch+json",
                                      "application/json5",
                                      "application/jso",
                                      "application/problem+json",
                                      "application/x-www-form-urlencoded",
                                      "multipart/form-data; boundary=x",
                                      "json",
                                      "application/json; charset=latin1",
                                      "application/json; charset=iso-8859-1",
                                      "application/json; charset=utf-16",
                                      "application/json; charset=\"latin1\"",
                                      "application/json; charset=",
                                      "application/json; charset=\"\"",
                                      "application/json; charset=utf-8x",
                                      "application/json; charset=utf-8; charset=latin1",
                                      "application/json, text/plain",
                                      "xapplication/json"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (is_json(bad[i]))
            fail_msg("accepted \"%s\"", bad[i]);
}

/* The header value is len bytes, not NUL-terminated. */
static void test_len_bounded(void **state)
{
    (void)state;
    assert_true(body_content_type_is_json("application/jsonXYZ", 16));
    assert_false(body_content_type_is_json("application/json", 15));
    assert_true(body_content_type_is_json("application/json; charset=utf-8junk", 31));
    assert_false(body_content_type_is_json("application/json; charset=latin1", 30)); /* "latin" */
    assert_false(body_content_type_is_json("application/js\0on", 18));
    assert_false(body_content_type_is_json("", 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_len_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
