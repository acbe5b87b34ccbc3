/*
 * sanitize_bench.c: micro-benchmark of the HTML sanitizer (tests/bench/sanitize.sh builds it in
 * Release and runs it; results go to docs/benchmarks.md, section "Sanitizer").
 *
 * Usage: sanitize_bench FILE.html...  (realistic emails; tests/bench/data/ has some)
 * Prints, in Markdown: throughput per file and overall (MB/s of input), the median and p99 time
 * for a realistic 50,000-character body (the API's limit) built from the same emails, the time
 * to refuse pathological 50,000-character bodies (nesting past SANITIZE_MAX_NESTING), the time
 * for bodies nested right at the limit and padded with text to 50,000 characters, and the
 * plain-text fast path against the same text forced through the parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "common/util.h"
#include "sanitize/sanitize.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap);
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    *len = n;
    return buf;
}

/* What the next runs must return; anything else exits: a benchmark of errors is no use. */
static int expect_rc = SANITIZE_OK;

/* One run: seconds spent in sanitize_html. */
static double time_one(const char *in, size_t len)
{
    char *out = NULL;
    size_t outlen = 0;
    double t0 = now_s();
    int rc = sanitize_html(in, len, &out, &outlen);
    double t = now_s() - t0;
    if (rc != expect_rc) {
        fprintf(stderr, "sanitize_html returned %d, not %d\n", rc, expect_rc);
        exit(1);
    }
    free(out);
    return t;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median and p99 over runs. */
static void time_many(const char *in, size_t len, int runs, double *median, double *p99)
{
    double *t = malloc(sizeof(double) * (size_t)runs);
    for (int i = 0; i < runs; i++)
        t[i] = time_one(in, len);
    qsort(t, (size_t)runs, sizeof(double), cmp_double);
    *median = t[runs / 2];
    *p99 = t[(runs * 99) / 100];
    free(t);
}

/* MB/s over at least a second of repeated runs. */
static double throughput(const char *in, size_t len)
{
    double spent = 0;
    size_t bytes = 0;
    while (spent < 1.0) {
        spent += time_one(in, len);
        bytes += len;
    }
    return (double)bytes / spent / 1e6;
}

/* Concatenates the emails up to exactly HDF_BODY_MAX_CHARS code points. */
static char *body_at_limit(char **docs, size_t *lens, int ndocs, size_t *len)
{
    char *s = malloc((size_t)HDF_BODY_MAX_CHARS * 4 + 1);
    size_t n = 0, chars = 0;
    for (int d = 0;; d = (d + 1) % ndocs)
        for (size_t i = 0; i < lens[d]; i++) {
            int lead = ((unsigned char)docs[d][i] & 0xC0) != 0x80;
            if (lead && chars == HDF_BODY_MAX_CHARS) {
                s[n] = '\0';
                *len = n;
                return s;
            }
            chars += (size_t)lead;
            s[n++] = docs[d][i];
        }
}

/* n copies of unit, then tail repeated up to 50,000 bytes (all ASCII: bytes are characters). */
static char *build(const char *unit, size_t n, const char *tail, size_t *len)
{
    size_t ul = strlen(unit), tl = strlen(tail), k = 0;
    char *s = malloc(HDF_BODY_MAX_CHARS + 1);
    for (size_t i = 0; i < n && k + ul <= HDF_BODY_MAX_CHARS; i++, k += ul)
        memcpy(s + k, unit, ul);
    while (tl > 0 && k + tl <= HDF_BODY_MAX_CHARS) {
        memcpy(s + k, tail, tl);
        k += tl;
    }
    s[k] = '\0';
    *len = k;
    return s;
}

static void row(const char *label, const char *unit, size_t n, const char *tail, int rc)
{
    size_t len;
    char *s = build(unit, n, tail, &len);
    double med, p99;
    expect_rc = rc;
    time_many(s, len, 21, &med, &p99);
    expect_rc = SANITIZE_OK;
    printf("| %s (%zu bytes%s) | %.3f ms | %.3f ms |\n", label, len, rc == SANITIZE_OK ? "" : ", refused", med * 1e3, p99 * 1e3);
    free(s);
}

static void pathological(const char *name, const char *unit)
{
    char label[128];
    size_t n = HDF_BODY_MAX_CHARS / strlen(unit);
    snprintf(label, sizeof(label), "pathological: %s × %zu", name, n);
    row(label, unit, n, "", SANITIZE_TOO_COMPLEX);
}

static void at_limit(const char *name, const char *unit, size_t n)
{
    char label[128];
    snprintf(label, sizeof(label), "at the limit: %s × %zu, then text", name, n);
    row(label, unit, n, "lorem ipsum dolor sit amet ", SANITIZE_OK);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.html...\n", argv[0]);
        return 2;
    }
    int ndocs = argc - 1;
    char **docs = calloc((size_t)ndocs, sizeof(char *));
    size_t *lens = calloc((size_t)ndocs, sizeof(size_t)), total = 0;
    double spent = 0;
    printf("| input | bytes | MB/s |\n|---|---|---|\n");
    for (int i = 0; i < ndocs; i++) {
        if ((docs[i] = read_file(argv[i + 1], &lens[i])) == NULL) {
            perror(argv[i + 1]);
            return 1;
        }
        double mbs = throughput(docs[i], lens[i]);
        printf("| %s | %zu | %.1f |\n", strrchr(argv[i + 1], '/') ? strrchr(argv[i + 1], '/') + 1 : argv[i + 1], lens[i], mbs);
        total += lens[i];
        spent += (double)lens[i] / (mbs * 1e6);
    }
    printf("| all (weighted by size) | %zu | %.1f |\n\n", total, (double)total / spent / 1e6);
    size_t blen;
    char *body = body_at_limit(docs, lens, ndocs, &blen);
    double med, p99;
    time_many(body, blen, 501, &med, &p99);
    printf("| body | median | p99 |\n|---|---|---|\n");
    printf("| realistic email HTML, 50,000 chars (%zu bytes), 501 runs | %.3f ms | %.3f ms |\n", blen, med * 1e3, p99 * 1e3);
    pathological("`<div>`", "<div>");
    pathological("`<ul><li>`", "<ul><li>");
    pathological("`<b>`", "<b>");
    at_limit("`<div>`", "<div>", SANITIZE_MAX_NESTING);
    at_limit("`<ul><li>`", "<ul><li>", SANITIZE_MAX_NESTING / 2);
    at_limit("`<b>`", "<b>", SANITIZE_MAX_NESTING);
    at_limit("`<table><td>`", "<table><td>", SANITIZE_MAX_NESTING / 4);
    row("plain text, fast path", "", 0, "lorem ipsum dolor sit amet\n", SANITIZE_OK);
    row("plain text through the parser (`<br>` first)", "<br>", 1, "lorem ipsum dolor sit amet\n", SANITIZE_OK);
    free(body);
    for (int i = 0; i < ndocs; i++)
        free(docs[i]);
    free(docs);
    free(lens);
    return 0;
}
