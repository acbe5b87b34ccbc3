"""Idempotency-Key on POST and PATCH (CONTRACT.md, Idempotency), exercised on PATCH
/v1/api-keys/{id}: replays, different requests with one key, keys in flight, released keys,
expiry, clients that go away mid-request, concurrency, and the purge of expired records. Whether a request wrote
is read from the row's xmin, which every UPDATE changes."""
import concurrent.futures
import socket
import threading
import time

import pytest

from hdf import assert_field_error, assert_problem, wait_until


def xmin(pg, key_id):
    return pg.scalar(f'SELECT xmin FROM api_keys WHERE id = {key_id}')


def patch_label(api, admin_key, target_id, label, idem, **kw):
    headers = {'Idempotency-Key': idem} if idem is not None else {}
    return api.patch(f'/v1/api-keys/{target_id}', token=admin_key.token, headers=headers, json={'label': label}, **kw)


def record(pg, workspace, idem):
    return pg.psql(f"SELECT state, response_status FROM idempotency_keys WHERE workspace_id = {workspace.id} "
                   f"AND idem_key = '{idem}'")


def test_replay_returns_stored_response_and_writes_nothing(api, pg, workspace, admin_key):
    r1 = patch_label(api, admin_key, admin_key.key_id, 'first', 'k-replay')
    assert r1.status_code == 200, r1.text
    assert 'Idempotent-Replayed' not in r1.headers
    written = xmin(pg, admin_key.key_id)
    assert record(pg, workspace, 'k-replay') == [('done', '200')]
    r2 = patch_label(api, admin_key, admin_key.key_id, 'first', 'k-replay')
    assert r2.status_code == 200
    assert r2.headers['Idempotent-Replayed'] == 'true'
    assert r2.headers['Content-Type'] == r1.headers['Content-Type']
    assert r2.json() == r1.json()
    assert r2.headers['X-Request-Id'] != r1.headers['X-Request-Id']
    assert xmin(pg, admin_key.key_id) == written


def test_same_key_different_request_is_422(api, pg, workspace, admin_key, make_key):
    other = make_key(workspace.slug, 'agent')
    assert patch_label(api, admin_key, admin_key.key_id, 'a', 'k-reuse').status_code == 200
    written = xmin(pg, admin_key.key_id)
    assert_problem(patch_label(api, admin_key, admin_key.key_id, 'b', 'k-reuse'), 422, 'idempotency_key_reused')
    assert_problem(patch_label(api, admin_key, other.key_id, 'a', 'k-reuse'), 422, 'idempotency_key_reused')
    assert xmin(pg, admin_key.key_id) == written
    assert pg.scalar(f'SELECT label FROM api_keys WHERE id = {other.key_id}') != 'a'


def test_invalid_keys_are_400(api, admin_key):
    for bad in ('x' * 256, 'tab\there', 'caf\u00e9'):
        try:
            r = patch_label(api, admin_key, admin_key.key_id, 'x', bad)
        except ValueError:  # requests refuses to send some header values itself
            continue
        assert_field_error(assert_problem(r, 400, 'validation_failed'), 'Idempotency-Key', 'invalid')
    assert patch_label(api, admin_key, admin_key.key_id, 'ok', 'y' * 255).status_code == 200


def test_failed_request_gives_the_key_back(api, pg, workspace, admin_key):
    r = patch_label(api, admin_key, admin_key.key_id, '', 'k-release')  # too short
    assert_problem(r, 400, 'validation_failed')
    assert record(pg, workspace, 'k-release') == []
    r = patch_label(api, admin_key, admin_key.key_id, 'fixed', 'k-release')
    assert r.status_code == 200 and 'Idempotent-Replayed' not in r.headers
    r = api.patch('/v1/api-keys/999999999', token=admin_key.token, headers={'Idempotency-Key': 'k-404'},
                  json={'label': 'x'})
    assert_problem(r, 404, 'not_found')
    assert record(pg, workspace, 'k-404') == []


def test_keys_are_per_workspace(api, pg, make_workspace, make_key):
    a, b = make_workspace(), make_workspace()
    ka, kb = make_key(a.slug, 'admin'), make_key(b.slug, 'admin')
    assert patch_label(api, ka, ka.key_id, 'in a', 'shared-key').status_code == 200
    r = patch_label(api, kb, kb.key_id, 'in b', 'shared-key')
    assert r.status_code == 200 and 'Idempotent-Replayed' not in r.headers
    assert pg.scalar(f'SELECT label FROM api_keys WHERE id = {kb.key_id}') == 'in b'


def test_get_ignores_the_header(api, admin_key):
    for _ in range(2):
        r = api.get('/v1/me', token=admin_key.token, headers={'Idempotency-Key': 'k-get'})
        assert r.status_code == 200 and 'Idempotent-Replayed' not in r.headers


def waiting_on_lock(pg):
    return pg.scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                     "AND application_name = 'helpdeskflow'") != '0'


def test_request_in_flight_is_409_then_replayed(api, pg, workspace, admin_key, make_key):
    target = make_key(workspace.slug, 'readonly')
    holder = pg.psql_background(f'BEGIN; SELECT 1 FROM api_keys WHERE id = {target.key_id} FOR UPDATE; '
                                'SELECT pg_sleep(1.5); COMMIT;')
    try:
        wait_until(lambda: pg.scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(1.5)%' "
                                     "AND state = 'active' AND pid <> pg_backend_pid()") == '1', 5,
                   what='lock holder running')
        first = {}
        t = threading.Thread(target=lambda: first.update(r=patch_label(api, admin_key, target.key_id, 'slow',
                                                                       'k-flight', timeout=30)))
        t.start()
        wait_until(lambda: waiting_on_lock(pg), 5, what='the first request blocked inside its transaction')
        # its claim is uncommitted, invisible to others, but a second claim waits on it: 409
        assert record(pg, workspace, 'k-flight') == []
        assert_problem(patch_label(api, admin_key, target.key_id, 'slow', 'k-flight'), 409, 'idempotency_in_flight')
        t.join(30)
    finally:
        holder.wait(30)
    assert first['r'].status_code == 200 and 'Idempotent-Replayed' not in first['r'].headers
    again = patch_label(api, admin_key, target.key_id, 'slow', 'k-flight')
    assert again.status_code == 200 and again.headers['Idempotent-Replayed'] == 'true'


def test_client_gone_mid_request_gets_the_result_on_retry(api, pg, workspace, admin_key, make_key):
    """A client that disconnects while its request waits (h2o 2.2.5 notices only when it writes the
    answer) retries with the same key and gets the one result, applied once."""
    target = make_key(workspace.slug, 'readonly')
    holder = pg.psql_background(f'BEGIN; SELECT 1 FROM api_keys WHERE id = {target.key_id} FOR UPDATE; '
                                'SELECT pg_sleep(1); COMMIT;')
    try:
        wait_until(lambda: pg.scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(1)%' "
                                     "AND state = 'active' AND pid <> pg_backend_pid()") == '1', 5,
                   what='lock holder running')
        body = '{"label":"gone"}'
        raw = (f'PATCH /v1/api-keys/{target.key_id} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin_key.token}\r\n'
               f'Content-Type: application/json\r\nIdempotency-Key: k-gone\r\nContent-Length: {len(body)}\r\n\r\n{body}')
        s = socket.create_connection((api.host, api.port))
        s.sendall(raw.encode())
        wait_until(lambda: waiting_on_lock(pg), 5, what='the request blocked inside its transaction')
        s.close()
    finally:
        holder.wait(30)
    wait_until(lambda: record(pg, workspace, 'k-gone') == [('done', '200')], 10, what='the request completed')
    before = xmin(pg, target.key_id)
    r = api.patch(f'/v1/api-keys/{target.key_id}', token=admin_key.token, data=body,
                  headers={'Idempotency-Key': 'k-gone', 'Content-Type': 'application/json'})
    assert r.status_code == 200 and r.headers['Idempotent-Replayed'] == 'true', r.text
    assert r.json()['label'] == 'gone'
    assert xmin(pg, target.key_id) == before


def test_concurrent_requests_with_one_key_write_once(api, pg, workspace, admin_key):
    before = xmin(pg, admin_key.key_id)
    with concurrent.futures.ThreadPoolExecutor(12) as ex:
        results = list(ex.map(lambda _: patch_label(api, admin_key, admin_key.key_id, 'race', 'k-race', close=True),
                              range(24)))
    executed = [r for r in results if r.status_code == 200 and 'Idempotent-Replayed' not in r.headers]
    assert len(executed) == 1, [(r.status_code, dict(r.headers)) for r in results]
    for r in results:
        assert r.status_code in (200, 409), r.text
        if r.status_code == 409:
            assert_problem(r, 409, 'idempotency_in_flight')
    assert xmin(pg, admin_key.key_id) != before
    assert record(pg, workspace, 'k-race') == [('done', '200')]


def test_expired_keys_can_be_used_again(api, pg, workspace, admin_key):
    assert patch_label(api, admin_key, admin_key.key_id, 'one', 'k-expired').status_code == 200
    pg.psql(f"UPDATE idempotency_keys SET expires_at = now() - interval '1 second' "
            f"WHERE workspace_id = {workspace.id} AND idem_key = 'k-expired'")
    r = patch_label(api, admin_key, admin_key.key_id, 'two', 'k-expired')
    assert r.status_code == 200 and 'Idempotent-Replayed' not in r.headers
    assert r.json()['label'] == 'two'


def test_expired_records_are_purged(pg, workspace, start_server):
    pg.psql(f"INSERT INTO idempotency_keys (workspace_id, idem_key, request_hash, claim_token, state, "
            f"response_status, response_body, expires_at) VALUES ({workspace.id}, 'k-old', sha256('x'), 't', 'done', "
            f"200, '{{}}', now() - interval '1 hour')")
    start_server()  # worker 0 purges on its first tick, then every minute
    wait_until(lambda: record(pg, workspace, 'k-old') == [], 10, what='expired key purged')
