/*
 * test_ticket.c: tests model/ticket.c: ticket_validate_create (defaults, normalisation, every
 * failing field at once, unknown fields, body length in characters), ticket_apply_patch (tags
 * replace/add/remove order and de-duplication, the 50-tag limit after adds, custom_fields merge and
 * null deletes, ids set/unset/invalid, unknown fields) and message_validate_create.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "model/ticket.h"
#include "sanitize/sanitize.h"

static json_t *parse(const char *s)
{
    json_error_t err;
    json_t *j = json_loads(s, JSON_DECODE_ANY, &err);
    if (j == NULL)
        fail_msg("bad JSON in test: %s (%s)", s, err.text);
    return j;
}

/* Whether fe holds an error for field (with code, when code is not NULL). */
static int has_error(const hdf_field_errors_t *fe, const char *field, const char *code)
{
    size_t i;
    json_t *e;
    json_array_foreach(fe->list, i, e)
    {
        const char *f = json_string_value(json_object_get(e, "field")), *c = json_string_value(json_object_get(e, "code"));
        if (f != NULL && strcmp(f, field) == 0 && (code == NULL || (c != NULL && strcmp(c, code) == 0)))
            return 1;
    }
    return 0;
}

static void assert_error(const hdf_field_errors_t *fe, const char *field, const char *code)
{
    if (!has_error(fe, field, code)) {
        char *s = fe->list != NULL ? json_dumps(fe->list, JSON_COMPACT) : NULL;
        fail_msg("no error %s/%s in %s", field, code, s != NULL ? s : "[]");
    }
}

/* Validates a create body; returns the number of errors (fe and t are the caller's to free). */
static size_t create_errors(const char *body, struct hdf_ticket_create *t, hdf_field_errors_t *fe)
{
    json_t *j = parse(body);
    int rc = ticket_validate_create(j, t, fe);
    assert_int_equal(rc == 0, field_errors_count(fe) == 0);
    json_decref(j);
    return field_errors_count(fe);
}

/* One create body that must fail with field/code. */
static void assert_create_fails(const char *body, const char *field, const char *code)
{
    struct hdf_ticket_create t;
    hdf_field_errors_t fe = {0};
    json_t *j = parse(body);
    assert_int_equal(ticket_validate_create(j, &t, &fe), -1);
    assert_error(&fe, field, code);
    ticket_create_free(&t);
    field_errors_clear(&fe);
    json_decref(j);
}

static char *dump(const json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
}

static void assert_json(const json_t *j, const char *want)
{
    json_t *w = parse(want);
    if (!json_equal((json_t *)j, w)) {
        char *got = dump(j);
        fail_msg("got %s, want %s", got != NULL ? got : "NULL", want);
    }
    json_decref(w);
}

/* ---- ticket_validate_create ---- */

static void create_minimal_gets_defaults(void **state)
{
    (void)state;
    json_t *j = parse("{\"subject\": \"Help\", \"customer\": {\"email\": \"  Bob@Example.COM \"}}");
    struct hdf_ticket_create t;
    hdf_field_errors_t fe = {0};
    assert_int_equal(ticket_validate_create(j, &t, &fe), 0);
    assert_string_equal(t.subject, "Help");
    assert_string_equal(t.customer_email, "bob@example.com");
    assert_null(t.customer_name);
    assert_null(t.customer_tags);
    assert_null(t.customer_custom_fields);
    assert_null(t.body);
    assert_string_equal(t.status, "new");
    assert_string_equal(t.priority, "normal");
    assert_string_equal(t.channel, "api");
    assert_json(t.tags, "[]");
    assert_null(t.custom_fields);
    assert_int_equal(t.team_id, 0);
    assert_int_equal(t.assignee_id, 0);
    ticket_create_free(&t);
    json_decref(j);
}

static void create_full(void **state)
{
    (void)state;
    json_t *j = parse("{\"subject\": \"S\", \"customer\": {\"email\": \"a@example.com\", \"name\": \"Ann\","
                      " \"tags\": [\"VIP\", \"vip\"], \"custom_fields\": {\"tier\": \"gold\"}},"
                      " \"body\": \"<p>x</p>\", \"priority\": \"urgent\", \"status\": \"on_hold\", \"channel\": \"chat\","
                      " \"tags\": [\"B\", \"a\", \"b\", \"x:y-z_1\"], \"custom_fields\": {\"k\": 1},"
                      " \"team_id\": 7, \"assignee_id\": 9223372036854775807}");
    struct hdf_ticket_create t;
    hdf_field_errors_t fe = {0};
    assert_int_equal(ticket_validate_create(j, &t, &fe), 0);
    assert_string_equal(t.customer_name, "Ann");
    assert_json(t.customer_tags, "[\"vip\"]");
    assert_json(t.customer_custom_fields, "{\"tier\": \"gold\"}");
    assert_string_equal(t.body, "<p>x</p>");
    assert_int_equal(t.body_len, 8);
    assert_string_equal(t.priority, "urgent");
    assert_string_equal(t.status, "on_hold");
    assert_string_equal(t.channel, "chat");
    assert_json(t.tags, "[\"b\", \"a\", \"x:y-z_1\"]");
    assert_json(t.custom_fields, "{\"k\": 1}");
    assert_int_equal(t.team_id, 7);
    assert_true(t.assignee_id == INT64_MAX);
    ticket_create_free(&t);
    json_decref(j);
}

static void create_null_ids_are_none(void **state)
{
    (void)state;
    struct hdf_ticket_create t;
    hdf_field_errors_t fe = {0};
    assert_int_equal(create_errors("{\"subject\": \"S\", \"customer\": {\"email\": \"a@example.com\"}, \"team_id\": null,"
                                   " \"assignee_id\": null}",
                                   &t, &fe),
                     0);
    assert_int_equal(t.team_id, 0);
    assert_int_equal(t.assignee_id, 0);
    ticket_create_free(&t);
}

static void create_single_field_errors(void **state)
{
    (void)state;
#define OK_CUSTOMER "\"customer\": {\"email\": \"a@example.com\"}"
    assert_create_fails("{" OK_CUSTOMER "}", "subject", "required");
    assert_create_fails("{\"subject\": \"\", " OK_CUSTOMER "}", "subject", "too_short");
    assert_create_fails("{\"subject\": 3, " OK_CUSTOMER "}", "subject", "invalid_type");
    assert_create_fails("{\"subject\": \"s\"}", "customer.email", "required");
    assert_create_fails("{\"subject\": \"s\", \"customer\": {}}", "customer.email", "required");
    assert_create_fails("{\"subject\": \"s\", \"customer\": []}", "customer", "invalid_type");
    assert_create_fails("{\"subject\": \"s\", \"customer\": {\"email\": \"nope\"}}", "customer.email", "invalid");
    assert_create_fails("{\"subject\": \"s\", \"customer\": {\"email\": \"a@example.com\", \"phone\": \"1\"}}", "customer.phone",
                        "unknown_field");
    assert_create_fails("{\"subject\": \"s\", \"customer\": {\"email\": \"a@example.com\", \"tags\": [\"-\"]}}", "customer.tags[0]",
                        "invalid");
    assert_create_fails("{\"subject\": \"s\", \"customer\": {\"email\": \"a@example.com\", \"custom_fields\": 1}}",
                        "customer.custom_fields", "invalid_type");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"priority\": \"p0\"}", "priority", "invalid");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"status\": \"x\"}", "status", "invalid");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"channel\": \"fax\"}", "channel", "invalid");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"tags\": \"a\"}", "tags", "invalid_type");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"tags\": [\"a b\"]}", "tags[0]", "invalid");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"custom_fields\": []}", "custom_fields", "invalid_type");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"team_id\": 0}", "team_id", "invalid");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"assignee_id\": -5}", "assignee_id", "invalid");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"team_id\": \"7\"}", "team_id", "invalid_type");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"body\": 1}", "body", "invalid_type");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"id\": 1}", "id", "unknown_field");
    assert_create_fails("{\"subject\": \"s\", " OK_CUSTOMER ", \"version\": 1}", "version", "unknown_field");
    assert_create_fails("[]", "body", "invalid_type");
#undef OK_CUSTOMER
}

static void create_reports_every_error_at_once(void **state)
{
    (void)state;
    struct hdf_ticket_create t;
    hdf_field_errors_t fe = {0};
    size_t n = create_errors("{\"subject\": \"\", \"customer\": {\"email\": \"x\", \"zip\": 1}, \"priority\": \"p\","
                             " \"status\": 1, \"tags\": [\"ok\", \"-no\"], \"team_id\": 0, \"foo\": true}",
                             &t, &fe);
    assert_int_equal(n, 8);
    assert_error(&fe, "subject", "too_short");
    assert_error(&fe, "customer.email", "invalid");
    assert_error(&fe, "customer.zip", "unknown_field");
    assert_error(&fe, "priority", "invalid");
    assert_error(&fe, "status", "invalid_type");
    assert_error(&fe, "tags[1]", "invalid");
    assert_error(&fe, "team_id", "invalid");
    assert_error(&fe, "foo", "unknown_field");
    ticket_create_free(&t);
    field_errors_clear(&fe);
}

/* A JSON document {"subject": ..., "customer": ..., "<field>": "<n copies of unit>"} (caller frees). */
static char *body_of(const char *field, const char *unit, size_t n)
{
    size_t ul = strlen(unit), cap = n * ul + 200;
    char *s = malloc(cap);
    assert_non_null(s);
    int off = snprintf(s, cap, "{\"subject\": \"s\", \"customer\": {\"email\": \"a@example.com\"}, \"%s\": \"", field);
    for (size_t i = 0; i < n; i++)
        memcpy(s + off + i * ul, unit, ul);
    strcpy(s + off + n * ul, "\"}");
    return s;
}

static void body_limit_counts_characters(void **state)
{
    (void)state;
    struct hdf_ticket_create t;
    hdf_field_errors_t fe = {0};
    char *ok = body_of("body", "\xc3\xa9", HDF_BODY_MAX_CHARS); /* 50,000 x e-acute: 100,000 bytes */
    assert_int_equal(create_errors(ok, &t, &fe), 0);
    assert_int_equal(t.body_len, 2 * HDF_BODY_MAX_CHARS);
    ticket_create_free(&t);
    free(ok);
    char *over = body_of("body", "\xc3\xa9", HDF_BODY_MAX_CHARS + 1);
    assert_int_equal(create_errors(over, &t, &fe), 1);
    assert_error(&fe, "body", "too_long");
    ticket_create_free(&t);
    field_errors_clear(&fe);
    free(over);
}

static void subject_limit_counts_characters(void **state)
{
    (void)state;
    char s[4 * HDF_SUBJECT_MAX_CHARS + 8];
    for (int n = HDF_SUBJECT_MAX_CHARS; n <= HDF_SUBJECT_MAX_CHARS + 1; n++) {
        size_t off = 0;
        for (int i = 0; i < n; i++) {
            memcpy(s + off, "\xc3\xa9", 2);
            off += 2;
        }
        s[off] = '\0';
        json_t *j = json_pack("{s:s, s:{s:s}}", "subject", s, "customer", "email", "a@example.com");
        struct hdf_ticket_create t;
        hdf_field_errors_t fe = {0};
        int rc = ticket_validate_create(j, &t, &fe);
        if (n == HDF_SUBJECT_MAX_CHARS) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -1);
            assert_error(&fe, "subject", "too_long");
        }
        ticket_create_free(&t);
        field_errors_clear(&fe);
        json_decref(j);
    }
}

static void create_tags_limit(void **state)
{
    (void)state;
    json_t *tags = json_array();
    char name[16];
    for (int i = 0; i < 51; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        json_array_append_new(tags, json_string(name));
    }
    json_t *j = json_pack("{s:s, s:{s:s}, s:o}", "subject", "s", "customer", "email", "a@example.com", "tags", tags);
    struct hdf_ticket_create t;
    hdf_field_errors_t fe = {0};
    assert_int_equal(ticket_validate_create(j, &t, &fe), -1);
    assert_error(&fe, "tags", "too_many");
    ticket_create_free(&t);
    field_errors_clear(&fe);
    json_array_remove(json_object_get(j, "tags"), 0); /* 50 */
    assert_int_equal(ticket_validate_create(j, &t, &fe), 0);
    assert_int_equal(json_array_size(t.tags), 50);
    ticket_create_free(&t);
    json_decref(j);
}

/* ---- ticket_apply_patch ---- */

#define FIELDS                                                                                                                     \
    "{\"subject\": \"S\", \"status\": \"new\", \"priority\": \"normal\", \"channel\": \"api\", \"customer_id\": 3,"                \
    " \"team_id\": null, \"assignee_id\": 5, \"tags\": [\"a\", \"b\", \"c\"], \"custom_fields\": {\"x\": 1, \"y\": \"two\"}}"

/* Applies patch to FIELDS; returns the new fields (caller decrefs) or NULL with errors in fe. */
static json_t *apply(const char *patch, hdf_field_errors_t *fe)
{
    json_t *fields = parse(FIELDS), *p = parse(patch);
    json_t *out = ticket_apply_patch(fields, p, fe);
    json_decref(p);
    /* the input is left alone */
    json_t *again = parse(FIELDS);
    assert_true(json_equal(fields, again));
    json_decref(again);
    json_decref(fields);
    return out;
}

static void assert_patch_member(const char *patch, const char *member, const char *want)
{
    hdf_field_errors_t fe = {0};
    json_t *out = apply(patch, &fe);
    if (out == NULL) {
        char *s = dump(fe.list);
        fail_msg("patch %s failed: %s", patch, s);
    }
    assert_json(json_object_get(out, member), want);
    json_decref(out);
}

static void assert_patch_fails(const char *patch, const char *field, const char *code)
{
    hdf_field_errors_t fe = {0};
    json_t *out = apply(patch, &fe);
    assert_null(out);
    assert_error(&fe, field, code);
    field_errors_clear(&fe);
}

static void patch_empty_changes_nothing(void **state)
{
    (void)state;
    hdf_field_errors_t fe = {0};
    json_t *out = apply("{}", &fe);
    assert_non_null(out);
    json_t *want = parse(FIELDS);
    assert_true(json_equal(out, want));
    json_decref(want);
    json_decref(out);
    out = apply("{\"status\": \"new\", \"tags\": [\"A\", \"b\", \"c\", \"a\"], \"custom_fields\": {\"x\": 1}}", &fe);
    want = parse(FIELDS);
    assert_true(json_equal(out, want));
    json_decref(want);
    json_decref(out);
}

static void patch_scalars(void **state)
{
    (void)state;
    hdf_field_errors_t fe = {0};
    json_t *out = apply("{\"subject\": \"New\", \"status\": \"solved\", \"priority\": \"low\"}", &fe);
    assert_non_null(out);
    assert_json(out, "{\"subject\": \"New\", \"status\": \"solved\", \"priority\": \"low\", \"channel\": \"api\","
                     " \"customer_id\": 3, \"team_id\": null, \"assignee_id\": 5, \"tags\": [\"a\", \"b\", \"c\"],"
                     " \"custom_fields\": {\"x\": 1, \"y\": \"two\"}}");
    json_decref(out);
}

static void patch_tags(void **state)
{
    (void)state;
    assert_patch_member("{\"tags\": [\"Z\", \"y\", \"z\"]}", "tags", "[\"z\", \"y\"]");
    assert_patch_member("{\"tags\": []}", "tags", "[]");
    assert_patch_member("{\"add_tags\": [\"d\", \"B\", \"e\", \"d\"]}", "tags", "[\"a\", \"b\", \"c\", \"d\", \"e\"]");
    assert_patch_member("{\"remove_tags\": [\"B\", \"nope\"]}", "tags", "[\"a\", \"c\"]");
    /* tags first, then adds, then removes */
    assert_patch_member("{\"tags\": [\"k\"], \"add_tags\": [\"l\", \"m\"], \"remove_tags\": [\"k\"]}", "tags", "[\"l\", \"m\"]");
    assert_patch_member("{\"add_tags\": [\"q\"], \"remove_tags\": [\"q\", \"a\"]}", "tags", "[\"b\", \"c\"]");
}

static void patch_tags_limit_after_adds(void **state)
{
    (void)state;
    json_t *fields = parse(FIELDS), *tags = json_array();
    char name[16];
    for (int i = 0; i < 49; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        json_array_append_new(tags, json_string(name));
    }
    json_object_set_new(fields, "tags", tags);
    hdf_field_errors_t fe = {0};
    json_t *p = parse("{\"add_tags\": [\"n1\", \"n2\"]}");
    assert_null(ticket_apply_patch(fields, p, &fe));
    assert_error(&fe, "tags", "too_many");
    field_errors_clear(&fe);
    json_decref(p);
    /* a repeat of a present tag does not count; a remove in the same patch makes room */
    p = parse("{\"add_tags\": [\"n1\", \"t0\"]}");
    json_t *out = ticket_apply_patch(fields, p, &fe);
    assert_non_null(out);
    assert_int_equal(json_array_size(json_object_get(out, "tags")), 50);
    json_decref(out);
    json_decref(p);
    p = parse("{\"add_tags\": [\"n1\", \"n2\"], \"remove_tags\": [\"t3\"]}");
    out = ticket_apply_patch(fields, p, &fe);
    assert_non_null(out);
    assert_int_equal(json_array_size(json_object_get(out, "tags")), 50);
    assert_string_equal(json_string_value(json_array_get(json_object_get(out, "tags"), 49)), "n2");
    json_decref(out);
    json_decref(p);
    json_decref(fields);
}

static void patch_custom_fields(void **state)
{
    (void)state;
    assert_patch_member("{\"custom_fields\": {\"z\": true}}", "custom_fields", "{\"x\": 1, \"y\": \"two\", \"z\": true}");
    assert_patch_member("{\"custom_fields\": {\"x\": null, \"y\": 3}}", "custom_fields", "{\"y\": 3}");
    assert_patch_member("{\"custom_fields\": {\"absent\": null}}", "custom_fields", "{\"x\": 1, \"y\": \"two\"}");
    assert_patch_member("{\"custom_fields\": {}}", "custom_fields", "{\"x\": 1, \"y\": \"two\"}");
    assert_patch_fails("{\"custom_fields\": [1]}", "custom_fields", "invalid_type");
    assert_patch_fails("{\"custom_fields\": null}", "custom_fields", "invalid_type");
}

static void patch_ids(void **state)
{
    (void)state;
    assert_patch_member("{\"team_id\": 4}", "team_id", "4");
    assert_patch_member("{\"assignee_id\": null}", "assignee_id", "null");
    assert_patch_member("{\"team_id\": 9223372036854775807}", "team_id", "9223372036854775807");
    assert_patch_member("{\"subject\": \"x\"}", "assignee_id", "5"); /* untouched when absent */
    assert_patch_fails("{\"team_id\": 0}", "team_id", "invalid");
    assert_patch_fails("{\"assignee_id\": -1}", "assignee_id", "invalid");
    assert_patch_fails("{\"team_id\": \"4\"}", "team_id", "invalid_type");
    assert_patch_fails("{\"assignee_id\": 1.5}", "assignee_id", "invalid_type");
}

static void patch_errors(void **state)
{
    (void)state;
    assert_patch_fails("{\"subject\": \"\"}", "subject", "too_short");
    assert_patch_fails("{\"subject\": null}", "subject", "invalid_type");
    assert_patch_fails("{\"status\": \"gone\"}", "status", "invalid");
    assert_patch_fails("{\"priority\": 1}", "priority", "invalid_type");
    assert_patch_fails("{\"tags\": \"a\"}", "tags", "invalid_type");
    assert_patch_fails("{\"add_tags\": [\"ok\", \"-x\"]}", "add_tags[1]", "invalid");
    assert_patch_fails("{\"remove_tags\": [1]}", "remove_tags[0]", "invalid_type");
    assert_patch_fails("{\"channel\": \"email\"}", "channel", "unknown_field");
    assert_patch_fails("{\"customer_id\": 4}", "customer_id", "unknown_field");
    assert_patch_fails("{\"version\": 2}", "version", "unknown_field");
    hdf_field_errors_t fe = {0};
    json_t *fields = parse(FIELDS);
    assert_null(ticket_apply_patch(fields, NULL, &fe));
    assert_error(&fe, "body", "required");
    field_errors_clear(&fe);
    json_t *arr = parse("[]");
    assert_null(ticket_apply_patch(fields, arr, &fe));
    assert_error(&fe, "body", "invalid_type");
    field_errors_clear(&fe);
    json_decref(arr);
    /* every error at once */
    json_t *p = parse("{\"status\": \"x\", \"priority\": \"y\", \"tags\": [\"-\"], \"team_id\": 0, \"foo\": 1}");
    assert_null(ticket_apply_patch(fields, p, &fe));
    assert_int_equal(field_errors_count(&fe), 5);
    assert_error(&fe, "status", "invalid");
    assert_error(&fe, "priority", "invalid");
    assert_error(&fe, "tags[0]", "invalid");
    assert_error(&fe, "team_id", "invalid");
    assert_error(&fe, "foo", "unknown_field");
    field_errors_clear(&fe);
    json_decref(p);
    json_decref(fields);
}

/* ---- message_validate_create ---- */

static void assert_message_fails(const char *body, const char *field, const char *code)
{
    struct hdf_message_create m;
    hdf_field_errors_t fe = {0};
    json_t *j = parse(body);
    assert_int_equal(message_validate_create(j, &m, &fe), -1);
    assert_error(&fe, field, code);
    field_errors_clear(&fe);
    json_decref(j);
}

static void message_defaults_and_values(void **state)
{
    (void)state;
    struct hdf_message_create m;
    hdf_field_errors_t fe = {0};
    json_t *j = parse("{\"body\": \"<p>hi</p>\"}");
    assert_int_equal(message_validate_create(j, &m, &fe), 0);
    assert_string_equal(m.body, "<p>hi</p>");
    assert_int_equal(m.body_len, 9);
    assert_string_equal(m.author_type, "agent");
    assert_int_equal(m.internal, 0);
    json_decref(j);
    j = parse("{\"body\": \"n\", \"internal\": true}");
    assert_int_equal(message_validate_create(j, &m, &fe), 0);
    assert_int_equal(m.internal, 1);
    assert_string_equal(m.author_type, "agent");
    json_decref(j);
    j = parse("{\"body\": \"c\", \"author_type\": \"customer\", \"internal\": false}");
    assert_int_equal(message_validate_create(j, &m, &fe), 0);
    assert_string_equal(m.author_type, "customer");
    assert_int_equal(m.internal, 0);
    json_decref(j);
}

static void message_errors(void **state)
{
    (void)state;
    assert_message_fails("{}", "body", "required");
    assert_message_fails("{\"body\": null}", "body", "invalid_type");
    assert_message_fails("{\"body\": \"x\", \"author_type\": \"system\"}", "author_type", "invalid");
    assert_message_fails("{\"body\": \"x\", \"internal\": 1}", "internal", "invalid_type");
    assert_message_fails("{\"body\": \"x\", \"author_type\": \"customer\", \"internal\": true}", "internal", "invalid");
    assert_message_fails("{\"body\": \"x\", \"author_id\": 1}", "author_id", "unknown_field");
    assert_message_fails("7", "body", "invalid_type");
    struct hdf_message_create m;
    hdf_field_errors_t fe = {0};
    json_t *j = parse("{\"author_type\": \"bot\", \"internal\": \"yes\", \"x\": 1}");
    assert_int_equal(message_validate_create(j, &m, &fe), -1);
    assert_int_equal(field_errors_count(&fe), 4);
    assert_error(&fe, "body", "required");
    assert_error(&fe, "author_type", "invalid");
    assert_error(&fe, "internal", "invalid_type");
    assert_error(&fe, "x", "unknown_field");
    field_errors_clear(&fe);
    json_decref(j);
}

static void message_body_limit_counts_characters(void **state)
{
    (void)state;
    size_t n = HDF_BODY_MAX_CHARS;
    char *s = malloc(2 * (n + 1) + 1);
    assert_non_null(s);
    for (size_t i = 0; i <= n; i++)
        memcpy(s + 2 * i, "\xc3\xa9", 2);
    struct hdf_message_create m;
    hdf_field_errors_t fe = {0};
    s[2 * n] = '\0';
    json_t *j = json_pack("{s:s}", "body", s);
    assert_int_equal(message_validate_create(j, &m, &fe), 0);
    json_decref(j);
    memcpy(s + 2 * n, "\xc3\xa9", 2);
    s[2 * (n + 1)] = '\0';
    j = json_pack("{s:s}", "body", s);
    assert_int_equal(message_validate_create(j, &m, &fe), -1);
    assert_error(&fe, "body", "too_long");
    field_errors_clear(&fe);
    json_decref(j);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_minimal_gets_defaults),
        cmocka_unit_test(create_full),
        cmocka_unit_test(create_null_ids_are_none),
        cmocka_unit_test(create_single_field_errors),
        cmocka_unit_test(create_reports_every_error_at_once),
        cmocka_unit_test(body_limit_counts_characters),
        cmocka_unit_test(subject_limit_counts_characters),
        cmocka_unit_test(create_tags_limit),
        cmocka_unit_test(patch_empty_changes_nothing),
        cmocka_unit_test(patch_scalars),
        cmocka_unit_test(patch_tags),
        cmocka_unit_test(patch_tags_limit_after_adds),
        cmocka_unit_test(patch_custom_fields),
        cmocka_unit_test(patch_ids),
        cmocka_unit_test(patch_errors),
        cmocka_unit_test(message_defaults_and_values),
        cmocka_unit_test(message_errors),
        cmocka_unit_test(message_body_limit_counts_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
