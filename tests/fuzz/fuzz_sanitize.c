/*
 * fuzz_sanitize.c: libFuzzer target for the HTML sanitizer. It does not just run it: every
 * output must pass tests/unit/sanitize_check.h (allowlist, schemes, no event handlers, parses
 * back to the same tree) and be a fixed point (sanitizing it again gives it back byte for
 * byte); any violation aborts. The text extraction runs too, and must not contain NUL.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sanitize/sanitize.h"
#include "../unit/sanitize_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *in, size_t len, const char *out)
{
    fprintf(stderr, "sanitizer property violated: %s\ninput: %.*s\noutput: %s\n", what, (int)len, in, out);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char *out = NULL, *again = NULL, *text = NULL;
    size_t outlen = 0, againlen = 0, textlen = 0;
    int rc = sanitize_html(in, size, &out, &outlen);
    if (rc == SANITIZE_TOO_COMPLEX)
        return 0;
    if (rc != SANITIZE_OK)
        fail("sanitize_html failed", in, size, "");
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
