/*
 * fuzz_sanitize.c: libFuzzer target for the HTML sanitizer. It does not just run it: every
 * output must pass tests/unit/sanitize_check.h (allowlist, schemes, no event handlers, parses
 * back to the same tree) and be a fixed point (sanitizing it again gives it back byte for
 * byte); any violation aborts. The text extraction runs too, and must not contain NUL.
 *
 * Two more properties: the nesting pre-scan's bound is never below the depth of the tree gumbo
 * actually builds (it is what keeps deep bodies away from the parser), and a body that takes
 * the plain-text fast path gives the output the parser would (checked by appending a comment,
 * which forces the parser and changes no text).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sanitize/sanitize.h"
#include "../unit/sanitize_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *in, size_t len, const char *out)
{
    fprintf(stderr, "sanitizer property violated: %s\ninput: %.*s\noutput: %s\n", what, (int)len, in, out);
    abort();
}

/* The input with every "</body" and "</html" (then a space, '/' or '>') made a bogus comment,
 * as sanitize_html does where they are end tags: gumbo aborts on some inputs with them. Done
 * everywhere here, which changes no structure (elsewhere they are text). */
static char *without_body_end(const char *in, size_t len)
{
    char *s = malloc(len + 1);
    if (s == NULL)
        abort();
    memcpy(s, in, len);
    for (size_t i = 0; i + 6 < len; i++) {
        char c = s[i + 6];
        if (s[i] == '<' && s[i + 1] == '/' && (strncasecmp(s + i + 2, "body", 4) == 0 || strncasecmp(s + i + 2, "html", 4) == 0) &&
            (c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '/' || c == '>'))
            s[i + 1] = '!';
    }
    return s;
}

/* Greatest depth of an element below the root of gumbo's tree for the body, iteratively. */
static size_t tree_depth(const char *raw, size_t len)
{
    char *in = without_body_end(raw, len);
    GumboOptions opts = kGumboDefaultOptions;
    opts.fragment_context = GUMBO_TAG_BODY;
    opts.max_errors = 0;
    GumboOutput *doc = gumbo_parse_with_options(&opts, in, len);
    size_t cap = 64, n = 0, max = 0;
    struct {
        const GumboNode *node;
        size_t depth;
    } *stack = malloc(cap * sizeof(*stack));
    if (stack == NULL)
        abort();
    stack[n].node = doc->root;
    stack[n++].depth = 0;
    while (n > 0) {
        const GumboNode *node = stack[--n].node;
        size_t d = stack[n].depth;
        max = d > max ? d : max;
        const GumboVector *kids = &node->v.element.children;
        for (unsigned i = 0; i < kids->length; i++) {
            const GumboNode *k = kids->data[i];
            if (k->type != GUMBO_NODE_ELEMENT && k->type != GUMBO_NODE_TEMPLATE)
                continue;
            if (n == cap && (stack = realloc(stack, (cap *= 2) * sizeof(*stack))) == NULL)
                abort();
            stack[n].node = k;
            stack[n++].depth = d + 1;
        }
    }
    free(stack);
    gumbo_destroy_output(&opts, doc);
    free(in);
    return max;
}

static void check_nesting_bound(const char *in, size_t len)
{
    size_t bound = sanitize_nesting_bound(in, len);
    if (bound > SANITIZE_MAX_NESTING)
        return;
    size_t depth = tree_depth(in, len);
    if (depth > bound) {
        char what[96];
        snprintf(what, sizeof(what), "nesting bound %zu below the parser's depth %zu", bound, depth);
        fail(what, in, len, "");
    }
}

/* Plain text (no '<', no '&'): the fast path must agree with the parser. */
static void check_plain_text(const char *in, size_t len, const char *out, size_t outlen)
{
    if (memchr(in, '<', len) != NULL || memchr(in, '&', len) != NULL)
        return;
    char *forced = malloc(len + 8), *slow = NULL;
    size_t slowlen = 0;
    if (forced == NULL)
        abort();
    memcpy(forced, in, len);
    memcpy(forced + len, "<!---->", 7);
    if (sanitize_html(forced, len + 7, &slow, &slowlen) != SANITIZE_OK || slowlen != outlen || memcmp(slow, out, outlen) != 0)
        fail("plain-text fast path differs from the parser", in, len, out);
    free(slow);
    free(forced);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char *out = NULL, *again = NULL, *text = NULL;
    size_t outlen = 0, againlen = 0, textlen = 0;
    check_nesting_bound(in, size);
    int rc = sanitize_html(in, size, &out, &outlen);
    if (rc == SANITIZE_TOO_COMPLEX)
        return 0;
    if (rc != SANITIZE_OK)
        fail("sanitize_html failed", in, size, "");
    check_plain_text(in, size, out, outlen);
    const char *why = sancheck_output(out, outlen);
    if (why != NULL)
        fail(why, in, size, out);
    if (sanitize_html(out, outlen, &again, &againlen) != SANITIZE_OK || againlen != outlen || memcmp(out, again, outlen) != 0)
        fail("not idempotent", in, size, out);
    if (sanitize_text_content(in, size, &text, &textlen) != SANITIZE_OK || strlen(text) != textlen)
        fail("text content", in, size, out);
    free(out);
    free(again);
    free(text);
    return 0;
}
