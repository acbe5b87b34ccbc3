/*
 * test_ratelimit.c: the pure parts of rate limiting: the two-bucket window arithmetic (bucket
 * boundaries, clocks stepping back and forward, long idle, time until room for Reset and
 * Retry-After), route -> category, HDF_RATE_LIMIT_* parsing and the soft-throttle state machine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "config.h"
#include "ratelimit/category.h"
#include "ratelimit/throttle.h"
#include "ratelimit/window.h"

#define W 60000 /* a 60 s window */

static int64_t take_all(struct hdf_window *w, int64_t limit, int64_t now)
{
    return window_take(w, limit, 1000000, now);
}

static void test_fresh_window_admits_limit(void **state)
{
    (void)state;
    struct hdf_window w;
    window_init(&w, W, 10 * W + 5);
    assert_int_equal(window_available(&w, 10), 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(window_take(&w, 10, 1, 10 * W + 5 + i), 1);
    assert_int_equal(window_take(&w, 10, 1, 10 * W + 100), 0);
    assert_int_equal(window_available(&w, 10), 0);
}

static void test_previous_bucket_decays_linearly(void **state)
{
    (void)state;
    struct hdf_window w;
    window_init(&w, W, 0);
    assert_int_equal(take_all(&w, 10, W - 1), 10); /* all at the very end of bucket 0 */
    /* at the start of bucket 1 the previous bucket weighs (W - e)/W: nothing fits */
    assert_int_equal(window_take(&w, 10, 1, W), 0);
    /* a quarter in: 10 * 3/4 = 7.5 counted, floor(10 - 7.5) = 2 fit */
    assert_int_equal(take_all(&w, 10, W + W / 4), 2);
    /* half-way: 5 + 2 counted, 3 more */
    assert_int_equal(take_all(&w, 10, W + W / 2), 3);
    /* the estimate never exceeds the limit at any point of the bucket */
    for (int64_t t = W + W / 2; t < 2 * W; t += 997) {
        window_take(&w, 10, 1000, t);
        int64_t e = t - W;
        assert_true(w.prev * (W - e) + w.curr * W <= 10 * (int64_t)W);
    }
}

static void test_boundary_exactness(void **state)
{
    (void)state;
    struct hdf_window w;
    window_init(&w, W, 0);
    assert_int_equal(take_all(&w, 3, 0), 3);
    assert_int_equal(take_all(&w, 3, W - 1), 0);         /* last ms of bucket 0 */
    assert_int_equal(take_all(&w, 3, W), 0);             /* first ms of bucket 1: prev weighs fully */
    assert_int_equal(take_all(&w, 3, W + W / 3 - 1), 0); /* 3 * (W - e)/W > 2 still */
    assert_int_equal(take_all(&w, 3, W + W / 3), 1);     /* exactly 2 counted: one fits */
}

static void test_long_idle_forgets_everything(void **state)
{
    (void)state;
    struct hdf_window w;
    window_init(&w, W, 0);
    assert_int_equal(take_all(&w, 5, 10), 5);
    assert_int_equal(take_all(&w, 5, 2 * W), 5); /* two buckets later: prev is empty */
    assert_int_equal(take_all(&w, 5, 1000 * W + 7), 5);
    assert_int_equal(w.prev, 0);
}

static void test_clock_going_back_grants_no_burst(void **state)
{
    (void)state;
    struct hdf_window w;
    window_init(&w, W, 5 * W + 10);
    assert_int_equal(take_all(&w, 4, 5 * W + 10), 4);
    /* the clock steps back a whole bucket and more: the window stays where it was */
    assert_int_equal(take_all(&w, 4, 4 * W), 0);
    assert_int_equal(take_all(&w, 4, 0), 0);
    assert_int_equal(w.bucket, 5);
    assert_int_equal(w.now_ms, 5 * W + 10);
    /* and resumes from there when time catches up */
    assert_int_equal(take_all(&w, 4, 5 * W + 500), 0);
    assert_int_equal(take_all(&w, 4, 7 * W), 4);
}

static void test_clock_step_forward_is_elapsed_time(void **state)
{
    (void)state;
    struct hdf_window w;
    window_init(&w, W, 0);
    assert_int_equal(take_all(&w, 4, 0), 4);
    /* a step of one bucket behaves like a bucket of real time: prev decays from there */
    assert_int_equal(take_all(&w, 4, W), 0);
    assert_int_equal(take_all(&w, 4, W + W / 2), 2);
}

static void test_ms_until_room(void **state)
{
    (void)state;
    struct hdf_window w;
    window_init(&w, W, 0);
    assert_int_equal(window_ms_until_room(&w, 3), 0);
    take_all(&w, 3, 1000); /* 3 in bucket 0 at 1 s */
    /* full in this bucket; in bucket 1 prev = 3 must decay to 2: W/3 into it */
    assert_int_equal(window_ms_until_room(&w, 3), (W - 1000) + W / 3);
    /* and at that moment one does fit, one ms earlier none does */
    struct hdf_window later = w;
    assert_int_equal(take_all(&later, 3, W + W / 3 - 1), 0);
    assert_int_equal(take_all(&later, 3, W + W / 3), 1);
    /* limit 1: the last request's bucket must pass entirely */
    window_init(&w, W, 0);
    take_all(&w, 1, 10);
    assert_int_equal(window_ms_until_room(&w, 1), (W - 10) + W);
    /* room later in the same bucket */
    window_init(&w, W, 0);
    take_all(&w, 4, W - 1);
    window_advance(&w, W);
    assert_int_equal(window_ms_until_room(&w, 4), W / 4);
}

static void test_seconds_ceil(void **state)
{
    (void)state;
    assert_int_equal(window_seconds_ceil(0), 0);
    assert_int_equal(window_seconds_ceil(1), 1);
    assert_int_equal(window_seconds_ceil(1000), 1);
    assert_int_equal(window_seconds_ceil(1001), 2);
    assert_int_equal(window_floor_div(-1, 60), -1);
    assert_int_equal(window_floor_div(-60, 60), -1);
    assert_int_equal(window_floor_div(59, 60), 0);
}

static void test_retry_after_room_holds_for_every_offset(void **state)
{
    (void)state;
    /* whatever the phase, after ms_until_room one request fits, and not before */
    for (int64_t start = 0; start < 2 * 2000; start += 37) {
        struct hdf_window w;
        window_init(&w, 2000, start);
        take_all(&w, 2, start);
        int64_t wait = window_ms_until_room(&w, 2);
        assert_true(wait > 0 && wait <= 2000 + 1000);
        struct hdf_window a = w, b = w;
        assert_int_equal(take_all(&a, 2, start + wait - 1), 0);
        assert_int_equal(window_take(&b, 2, 1, start + wait), 1);
    }
}

static void test_categories(void **state)
{
    (void)state;
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_TICKET_CREATE, HDF_POST), HDF_RL_TICKET_CREATE);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_TICKET_UPDATE, HDF_PATCH), HDF_RL_TICKET_UPDATE);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_MESSAGE_CREATE, HDF_POST), HDF_RL_TICKET_UPDATE);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_CUSTOMER_UPSERT, HDF_POST), HDF_RL_CUSTOMER);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_CUSTOMERS_LIST, HDF_GET), HDF_RL_CUSTOMER);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_CUSTOMER_TICKETS, HDF_GET), HDF_RL_CUSTOMER);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_CUSTOMER_MERGE, HDF_POST), HDF_RL_CUSTOMER);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_TICKET_GET, HDF_GET), HDF_RL_READ);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_TICKET_GET, HDF_HEAD), HDF_RL_READ);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_ME_GET, HDF_GET), HDF_RL_READ);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_TICKETS_LIST, HDF_GET), HDF_RL_READ);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_TEAMS_LIST, HDF_GET), HDF_RL_ADMIN);
    assert_int_equal(ratelimit_category_of(HDF_ROUTE_API_KEY_UPDATE, HDF_PATCH), HDF_RL_ADMIN);
    /* every route has a category, and every write route one that limits writes */
    for (int r = 0; r < HDF_ROUTE__COUNT; r++) {
        enum hdf_rl_category c = ratelimit_category_of((hdf_route_id_t)r, hdf_routes[r].method);
        assert_true(c < HDF_RL__COUNT);
        if (hdf_routes[r].method != HDF_GET && hdf_routes[r].method != HDF_HEAD)
            assert_int_not_equal(c, HDF_RL_READ);
    }
}

static void test_parse_rate_limit(void **state)
{
    (void)state;
    struct hdf_rate_limit rl;
    assert_int_equal(config_parse_rate_limit("300/60", &rl), 0);
    assert_int_equal(rl.limit, 300);
    assert_int_equal(rl.window_s, 60);
    assert_int_equal(config_parse_rate_limit("off", &rl), 0);
    assert_int_equal(rl.limit, 0);
    assert_int_equal(config_parse_rate_limit("OFF", &rl), 0);
    assert_int_equal(config_parse_rate_limit("1000000000/86400", &rl), 0);
    const char *bad[] = {"",
                         "300",
                         "/60",
                         "300/",
                         "0/60",
                         "300/0",
                         "300/86401",
                         "1000000001/60",
                         "-1/60",
                         "3 /60",
                         "3/6/0",
                         "x/60",
                         "12345678901234567890/60"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(config_parse_rate_limit(bad[i], &rl), -1);
}

static void test_throttle_starts_and_ends(void **state)
{
    (void)state;
    throttle_configure(10000, 5000); /* over for > 10 s starts it; 5 s under ends it */
    int64_t t = 1000000;
    assert_false(throttle_is_active(7, t));
    for (int64_t dt = 0; dt <= 10000; dt += 1000)
        throttle_note_rejection(7, t + dt);
    assert_false(throttle_is_active(7, t + 10000)); /* exactly 10 s: not yet */
    throttle_note_rejection(7, t + 10001);
    assert_true(throttle_is_active(7, t + 10001));
    assert_false(throttle_is_active(8, t + 10001)); /* other workspaces are not */
    assert_int_equal(throttle_active_count(), 1);
    /* still throttled while rejections keep coming, and for up to 5 s after the last */
    assert_true(throttle_is_active(7, t + 15001));
    assert_false(throttle_is_active(7, t + 15002));
    assert_int_equal(throttle_active_count(), 0);
}

static void test_throttle_needs_continuous_rejections(void **state)
{
    (void)state;
    throttle_configure(10000, 5000);
    int64_t t = 0;
    /* rejections 6 s apart: each starts a new run, never 10 s of being over */
    for (int i = 0; i < 10; i++)
        throttle_note_rejection(3, t + i * 6000);
    assert_false(throttle_is_active(3, t + 54000));
    /* the sweep forgets quiet workspaces and ends throttles */
    throttle_configure(0, 1000);
    throttle_note_rejection(4, 100);
    throttle_note_rejection(4, 101);
    assert_true(throttle_is_active(4, 101));
    throttle_sweep(5000);
    assert_int_equal(throttle_active_count(), 0);
    assert_false(throttle_is_active(4, 5000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_window_admits_limit),
        cmocka_unit_test(test_previous_bucket_decays_linearly),
        cmocka_unit_test(test_boundary_exactness),
        cmocka_unit_test(test_long_idle_forgets_everything),
        cmocka_unit_test(test_clock_going_back_grants_no_burst),
        cmocka_unit_test(test_clock_step_forward_is_elapsed_time),
        cmocka_unit_test(test_ms_until_room),
        cmocka_unit_test(test_seconds_ceil),
        cmocka_unit_test(test_retry_after_room_holds_for_every_offset),
        cmocka_unit_test(test_categories),
        cmocka_unit_test(test_parse_rate_limit),
        cmocka_unit_test(test_throttle_starts_and_ends),
        cmocka_unit_test(test_throttle_needs_continuous_rejections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
