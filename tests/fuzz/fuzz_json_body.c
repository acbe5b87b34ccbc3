/*
 * fuzz_json_body.c: libFuzzer target for common/json_util.c (json_parse_body, then
 * json_reject_unknown and json_get_string on an object). Checks, beyond not crashing: a parsed
 * body was valid UTF-8 within the depth limit and survives a dump/reparse round trip; a refusal
 * has a known code and a detail that is valid UTF-8 (it goes into the problem body) with the
 * byte offset the contract promises; a NUL refusal names one field; json_reject_unknown reports
 * exactly the unknown members; json_get_string's answer agrees with the value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "common/json_util.h"
#include "common/util.h"

#define CHECK(cond)                                                                                                                \
    do {                                                                                                                           \
        if (!(cond))                                                                                                               \
            abort();                                                                                                               \
    } while (0)

static const char *const allowed[] = {"label", "role", "expires_at", NULL};

static int is_allowed(const char *key)
{
    for (const char *const *a = allowed; *a != NULL; a++)
        if (strcmp(*a, key) == 0)
            return 1;
    return 0;
}

static void check_fields_valid(const hdf_field_errors_t *fe)
{
    for (size_t i = 0; i < field_errors_count(fe); i++) {
        json_t *row = json_array_get(fe->list, i);
        const char *f = json_string_value(json_object_get(row, "field"));
        const char *c = json_string_value(json_object_get(row, "code"));
        const char *m = json_string_value(json_object_get(row, "message"));
        CHECK(f != NULL && c != NULL && m != NULL);
        CHECK(utf8_find_invalid(f, strlen(f)) == -1);
    }
}

static void check_object(json_t *j)
{
    hdf_field_errors_t fe = {NULL};
    size_t unknown = 0;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        unknown += !is_allowed(key);
    }
    json_reject_unknown(j, allowed, "", &fe);
    CHECK(field_errors_count(&fe) == unknown);
    check_fields_valid(&fe);
    field_errors_clear(&fe);

    const char *out = NULL;
    json_t *label = json_object_get(j, "label");
    int rc = json_get_string(j, "label", "label", 1, 20, 1, &out, &fe);
    if (label == NULL) {
        CHECK(rc == -1 && out == NULL && field_errors_count(&fe) == 1);
    } else if (!json_is_string(label)) {
        CHECK(rc == -1 && out == NULL && field_errors_count(&fe) == 1);
    } else {
        size_t chars = utf8_length(json_string_value(label), json_string_length(label));
        if (chars >= 1 && chars <= 20)
            CHECK(rc == 1 && out == json_string_value(label) && field_errors_count(&fe) == 0);
        else
            CHECK(rc == -1 && out == NULL && field_errors_count(&fe) == 1);
    }
    check_fields_valid(&fe);
    field_errors_clear(&fe);
    rc = json_get_string(j, "role", "role", 0, SIZE_MAX, 0, &out, &fe);
    CHECK(rc == (json_object_get(j, "role") == NULL ? 0 : json_is_string(json_object_get(j, "role")) ? 1 : -1));
    field_errors_clear(&fe);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size > 0 ? size : 1);
    memcpy(buf, data, size);
    hdf_error_t err = HDF_OK;
    char detail[256];
    hdf_field_errors_t fe = {NULL};
    json_t *j = json_parse_body(buf, size, &err, detail, sizeof(detail), &fe);
    if (j != NULL) {
        CHECK(field_errors_count(&fe) == 0);
        CHECK(utf8_find_invalid(buf, size) == -1);
        CHECK(!json_nesting_exceeds(buf, size, HDF_JSON_MAX_DEPTH));
        /* round trip: what we parsed dumps to JSON that parses back equal */
        size_t dlen;
        char *dump = json_dump_compact(j, &dlen);
        hdf_error_t err2;
        hdf_field_errors_t fe2 = {NULL};
        json_t *j2 = json_parse_body(dump, dlen, &err2, detail, sizeof(detail), &fe2);
        CHECK(j2 != NULL && json_equal(j, j2));
        json_decref(j2);
        free(dump);
        if (json_is_object(j))
            check_object(j);
        json_decref(j);
    } else {
        size_t dl = strnlen(detail, sizeof(detail));
        CHECK(dl > 0 && dl < sizeof(detail));
        CHECK(utf8_find_invalid(detail, dl) == -1);
        if (err == HDF_E_MALFORMED_JSON) {
            CHECK(field_errors_count(&fe) == 0);
            /* the last "at byte": jansson's "near '...'" can quote input that says "at byte" */
            const char *at = NULL;
            for (const char *q = strstr(detail, "at byte "); q != NULL; q = strstr(q + 1, "at byte "))
                at = q;
            if (strncmp(detail, "JSON nesting deeper", 19) != 0) {
                CHECK(at != NULL);
                long off = strtol(at + 8, NULL, 10);
                CHECK(off >= 0 && (size_t)off <= size);
            }
        } else {
            CHECK(err == HDF_E_VALIDATION_FAILED);
            CHECK(memchr(buf, '\\', size) != NULL); /* only an escaped \u0000 gets this far */
            CHECK(field_errors_count(&fe) == 1);
            check_fields_valid(&fe);
        }
        /* the problem body keeps the detail */
        json_t *p = problem_build(err, detail, "fuzz", fe.list);
        fe.list = NULL;
        CHECK(p != NULL && json_is_string(json_object_get(p, "detail")));
        json_decref(p);
    }
    field_errors_clear(&fe);
    free(buf);
    return 0;
}
