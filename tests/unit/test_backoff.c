/*
 * test_backoff.c: tests webhook/backoff.c: the give-up point (3 attempts), ceilings that double up
 * to the cap and never decrease, full and decorrelated jitter staying within their bounds for
 * pinned and random sources, the exact values for pinned sources, saturation with huge bases,
 * and the unbiased uniform draw (rejection of the top of the range).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "webhook/backoff.h"

static uint64_t rnd_const(void *ctx)
{
    return *(uint64_t *)ctx;
}

/* Returns the values of a list in turn. */
typedef struct {
    const uint64_t *v;
    int i;
} seq_t;

static uint64_t rnd_seq(void *ctx)
{
    seq_t *s = ctx;
    return s->v[s->i++];
}

static void test_give_up_after_three(void **state)
{
    (void)state;
    hdf_backoff_policy_t p = backoff_policy_default(HDF_BACKOFF_DEFAULT_BASE_MS);
    assert_int_equal(p.max_attempts, 3);
    assert_int_equal(p.base_ms, 1000);
    assert_int_equal(p.jitter, HDF_JITTER_FULL);
    int64_t d = -1;
    assert_int_equal(backoff_next(&p, 1, 0, backoff_random_system, NULL, &d), HDF_BACKOFF_RETRY);
    assert_in_range(d, 0, 1000);
    assert_int_equal(backoff_next(&p, 2, d, backoff_random_system, NULL, &d), HDF_BACKOFF_RETRY);
    assert_in_range(d, 0, 2000);
    d = -5;
    assert_int_equal(backoff_next(&p, 3, 0, backoff_random_system, NULL, &d), HDF_BACKOFF_GIVE_UP);
    assert_int_equal(d, -5); /* untouched */
    assert_int_equal(backoff_next(&p, 4, 0, backoff_random_system, NULL, &d), HDF_BACKOFF_GIVE_UP);
    p.jitter = HDF_JITTER_DECORRELATED;
    assert_int_equal(backoff_next(&p, 3, 0, backoff_random_system, NULL, &d), HDF_BACKOFF_GIVE_UP);
    /* a base above the default cap raises the cap */
    hdf_backoff_policy_t big = backoff_policy_default(2 * HDF_BACKOFF_DEFAULT_CAP_MS);
    assert_int_equal(big.cap_ms, 2 * HDF_BACKOFF_DEFAULT_CAP_MS);
}

static void test_ceilings_monotone(void **state)
{
    (void)state;
    hdf_backoff_policy_t p = {1000, 60000, HDF_JITTER_FULL, 100};
    assert_int_equal(backoff_ceiling_ms(&p, 0), 1000);
    assert_int_equal(backoff_ceiling_ms(&p, 1), 1000);
    assert_int_equal(backoff_ceiling_ms(&p, 2), 2000);
    assert_int_equal(backoff_ceiling_ms(&p, 3), 4000);
    assert_int_equal(backoff_ceiling_ms(&p, 6), 32000);
    assert_int_equal(backoff_ceiling_ms(&p, 7), 60000);
    int64_t prev = 0;
    for (int n = 1; n < 200; n++) {
        int64_t c = backoff_ceiling_ms(&p, n);
        assert_true(c >= prev);
        assert_true(c <= p.cap_ms);
        prev = c;
    }
    /* saturation: no overflow with a huge base and cap */
    hdf_backoff_policy_t huge = {INT64_MAX / 4, INT64_MAX, HDF_JITTER_FULL, 100};
    prev = 0;
    for (int n = 1; n < 100; n++) {
        int64_t c = backoff_ceiling_ms(&huge, n);
        assert_true(c >= prev && c > 0);
        prev = c;
    }
    assert_int_equal(prev, INT64_MAX);
}

static void test_full_jitter_bounds(void **state)
{
    (void)state;
    hdf_backoff_policy_t p = {250, 5000, HDF_JITTER_FULL, 50};
    uint64_t zero = 0;
    for (int n = 1; n < 40; n++) {
        int64_t d;
        assert_int_equal(backoff_next(&p, n, 0, rnd_const, &zero, &d), HDF_BACKOFF_RETRY);
        assert_int_equal(d, 0);
        for (int k = 0; k < 50; k++) {
            assert_int_equal(backoff_next(&p, n, 0, backoff_random_system, NULL, &d), HDF_BACKOFF_RETRY);
            assert_in_range(d, 0, backoff_ceiling_ms(&p, n));
        }
    }
    /* exact values: uniform over [0, ceil] is v % (ceil + 1) */
    uint64_t v = 1234567;
    int64_t d;
    backoff_next(&p, 1, 0, rnd_const, &v, &d);
    assert_int_equal(d, 1234567 % 251);
    backoff_next(&p, 3, 0, rnd_const, &v, &d);
    assert_int_equal(d, 1234567 % 1001);
    backoff_next(&p, 10, 0, rnd_const, &v, &d);
    assert_int_equal(d, 1234567 % 5001);
}

static void test_decorrelated_bounds(void **state)
{
    (void)state;
    hdf_backoff_policy_t p = {1000, 30000, HDF_JITTER_DECORRELATED, 50};
    int64_t prev = 0;
    for (int n = 1; n < 49; n++) {
        int64_t d;
        assert_int_equal(backoff_next(&p, n, prev, backoff_random_system, NULL, &d), HDF_BACKOFF_RETRY);
        int64_t hi = 3 * (prev > p.base_ms ? prev : p.base_ms);
        assert_in_range(d, p.base_ms, hi < p.cap_ms ? hi : p.cap_ms);
        prev = d;
    }
    /* pinned: the first retry draws from [base, 3 * base] */
    uint64_t v = 0;
    int64_t d;
    backoff_next(&p, 1, 0, rnd_const, &v, &d);
    assert_int_equal(d, 1000);
    v = 2000;
    backoff_next(&p, 1, 0, rnd_const, &v, &d);
    assert_int_equal(d, 3000);
    v = 2001;
    backoff_next(&p, 1, 0, rnd_const, &v, &d);
    assert_int_equal(d, 1000);
    /* a long previous delay is capped, and 3 * prev cannot overflow */
    v = 29000;
    backoff_next(&p, 2, 25000, rnd_const, &v, &d);
    assert_int_equal(d, 30000);
    backoff_next(&p, 2, INT64_MAX, rnd_const, &v, &d);
    assert_in_range(d, 1000, 30000);
    /* a cap below base (misconfigured) still yields base */
    hdf_backoff_policy_t odd = {1000, 10, HDF_JITTER_DECORRELATED, 3};
    backoff_next(&odd, 1, 0, rnd_const, &v, &d);
    assert_int_equal(d, 1000);
}

static void test_uniform_unbiased(void **state)
{
    (void)state;
    /* span 3: 2^64 mod 3 = 1, so the single top value UINT64_MAX is drawn again */
    uint64_t vals[] = {UINT64_MAX, 7};
    seq_t s = {vals, 0};
    assert_int_equal(backoff_uniform(10, 12, rnd_seq, &s), 10 + 7 % 3);
    assert_int_equal(s.i, 2);
    /* span 10: 2^64 mod 10 = 6: the top 6 values are drawn again */
    uint64_t lim = UINT64_MAX - UINT64_MAX % 10;
    uint64_t vals2[] = {lim, lim + 3, lim - 1};
    seq_t s2 = {vals2, 0};
    assert_int_equal(backoff_uniform(0, 9, rnd_seq, &s2), (int64_t)((lim - 1) % 10));
    assert_int_equal(s2.i, 3);
    /* degenerate and full ranges */
    assert_int_equal(backoff_uniform(5, 5, rnd_seq, &s2), 5);
    assert_int_equal(backoff_uniform(5, 4, rnd_seq, &s2), 5);
    uint64_t big = (uint64_t)INT64_MAX + 5; /* span 2^63 divides 2^64: nothing is rejected */
    assert_int_equal(backoff_uniform(0, INT64_MAX, rnd_const, &big), 4);
    /* a rough histogram of the system source */
    int hist[4] = {0};
    for (int i = 0; i < 4000; i++)
        hist[backoff_uniform(0, 3, backoff_random_system, NULL)]++;
    for (int i = 0; i < 4; i++)
        assert_in_range(hist[i], 800, 1200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_give_up_after_three), cmocka_unit_test(test_ceilings_monotone),
        cmocka_unit_test(test_full_jitter_bounds),  cmocka_unit_test(test_decorrelated_bounds),
        cmocka_unit_test(test_uniform_unbiased),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
