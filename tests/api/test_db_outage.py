"""Database outage: the server stays up, answers 503 where it needs the database, and recovers by
itself when Postgres is back. conftest.py runs this module after all others (it stops Postgres);
the finally block restarts Postgres whatever happens, so later modules still have a database."""
import time

import requests

from hdf import assert_problem, assert_unauthenticated, fetch_metrics, wait_until


def test_database_outage_and_recovery(api, pg, server, workspace, make_key, expect_server_errors):
    expect_server_errors()  # connection failures may be logged as errors; sanitizer reports still fail
    used = make_key(workspace.slug, 'admin')
    fresh = make_key(workspace.slug, 'agent')  # never used: no cache entry anywhere
    assert api.get('/v1/me', token=used.token).status_code == 200
    assert api.get('/readyz').status_code == 200
    reconnects_before = fetch_metrics(api).value('hdf_db_reconnects_total')

    pg.stop('fast')
    try:
        time.sleep(1.2)  # let any cached key lookup expire (HDF_AUTH_CACHE_MS <= 1000)
        for _ in range(3):
            r = api.get('/readyz', timeout=5)
            assert_problem(r, 503, 'unavailable', detail='database unreachable')
            assert r.headers.get('Retry-After') == '1', r.headers
        assert api.get('/healthz', timeout=5).status_code == 200
        assert api.get('/metrics', timeout=5).status_code == 200
        for token in (fresh.token, used.token, 'hdf_' + 'Q' * 40):
            for close in (False, True):
                r = api.get('/v1/me', token=token, close=close, timeout=5)
                assert_problem(r, 503, 'unavailable')
                retry = r.headers.get('Retry-After', '')
                assert retry.isdigit() and int(retry) >= 1, r.headers
        r = api.get('/v1/api-keys', token=used.token, timeout=5)
        assert_problem(r, 503, 'unavailable')
        # A token that cannot be valid needs no database to refuse.
        assert_unauthenticated(api.get('/v1/me', token='hdf_short', timeout=5))
        # Still routing without the database.
        assert_problem(api.get('/nope', timeout=5), 404, 'not_found')
        assert server.alive()
    finally:
        if not pg.running:
            pg.start()

    def ready():
        try:
            return api.get('/readyz', timeout=5).status_code == 200
        except requests.RequestException:
            return False
    t0 = time.monotonic()
    wait_until(ready, 10, interval=0.1, what='/readyz 200 after Postgres came back')
    assert time.monotonic() - t0 < 10
    assert api.get('/readyz').json()['status'] == 'ready'
    for token in (used.token, fresh.token):
        wait_until(lambda: api.get('/v1/me', token=token).status_code == 200, 5,
                   what='/v1/me 200 after recovery')
    # Every connection of the pool comes back, not just one.
    for _ in range(20):
        assert api.get('/v1/me', token=fresh.token, close=True).status_code == 200
    assert fetch_metrics(api).value('hdf_db_reconnects_total') > reconnects_before
