"""Customer merge (CONTRACT.md, Customers): POST /v1/customers/{id}/merge {"source_customer_id": N}
and the PATCH that gives a customer another live customer's email. Tickets (with their own audit
entries), external profiles, tags, custom fields and metadata move to the survivor in one
transaction; the source answers 404 with merged_into; both customers are audited; validation,
roles, workspaces, idempotency, the tag and metadata limits, row locks, and concurrent merges of
one pair (same and opposite directions: one wins, never a deadlock or a 500)."""
import json
import threading
import time
import uuid

import pytest

from hdf import assert_field_error, assert_problem, wait_until


def upsert(api, token, **body):
    r = api.post('/v1/customers', token=token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def merge(api, token, survivor, source, **kw):
    return api.post(f'/v1/customers/{survivor}/merge', token=token, json={'source_customer_id': source}, **kw)


def ticket(api, token, email, subject='Help'):
    r = api.post('/v1/tickets', token=token, json={'subject': subject, 'customer': {'email': email}})
    assert r.status_code == 201, r.text
    return r.json()


def audit_rows(pg, object_type, object_id):
    rows = pg.psql(f"SELECT version, actor_type, actor_id, source, request_id, changes::text FROM audit_log "
                   f"WHERE object_type = '{object_type}' AND object_id = {int(object_id)} ORDER BY id")
    return [(int(v), at, int(ai) if ai else None, s, rid, json.loads(ch)) for v, at, ai, s, rid, ch in rows]


@pytest.fixture
def agent_key(workspace, make_key):
    return make_key(workspace.slug, 'agent')


@pytest.fixture
def readonly_key(workspace, make_key):
    return make_key(workspace.slug, 'readonly')


def test_merge_moves_everything(api, admin_key, pg):
    tok = admin_key.token
    api.post('/v1/custom-fields', token=tok, json={'object': 'customer', 'key': 'tier', 'type': 'text'})
    api.post('/v1/custom-fields', token=tok, json={'object': 'customer', 'key': 'region', 'type': 'text'})
    keep = upsert(api, tok, email='keep@example.com', name='Keep', tags=['vip', 'b2b'],
                  custom_fields={'tier': 'gold'}, metadata={'plan': 'pro', 'seats': 3},
                  external_profiles=[{'provider': 'crm', 'external_id': 'k1'}])
    gone = upsert(api, tok, email='gone@example.com', name='Gone', phone='+1 555', tags=['b2b', 'churn-risk', 'eu'],
                  custom_fields={'tier': 'silver', 'region': 'eu'}, metadata={'plan': 'free', 'source': 'import'},
                  external_profiles=[{'provider': 'stripe', 'external_id': 'cus_9', 'url': 'https://s.example/9'}])
    t1 = ticket(api, tok, 'gone@example.com', 'one')
    t2 = ticket(api, tok, 'gone@example.com', 'two')
    t3 = ticket(api, tok, 'keep@example.com', 'three')
    r = merge(api, tok, keep['id'], gone['id'])
    assert r.status_code == 200, r.text
    assert r.headers['Content-Type'].split(';')[0] == 'application/json'
    s = r.json()
    assert s['id'] == keep['id'] and s['email'] == 'keep@example.com'
    assert s['name'] == 'Keep' and s['phone'] == '+1 555'  # the survivor's win; a null is filled
    assert s['tags'] == ['vip', 'b2b', 'churn-risk', 'eu']
    assert s['custom_fields'] == {'tier': 'gold', 'region': 'eu'}
    assert s['metadata'] == {'plan': 'pro', 'seats': 3, 'source': 'import'}
    assert s['external_profiles'] == [{'provider': 'crm', 'external_id': 'k1', 'url': None},
                                      {'provider': 'stripe', 'external_id': 'cus_9', 'url': 'https://s.example/9'}]
    assert s['version'] == keep['version'] + 1
    assert api.get(f'/v1/customers/{keep["id"]}', token=tok).json() == s
    # the source is gone: 404 with merged_into, not listed, not patchable, its email free again
    body = assert_problem(api.get(f'/v1/customers/{gone["id"]}', token=tok), 404, 'not_found')
    assert body['merged_into'] == keep['id']
    ids = [c['id'] for c in api.get('/v1/customers', token=tok).json()['data']]
    assert keep['id'] in ids and gone['id'] not in ids
    assert api.get('/v1/customers?email=gone@example.com', token=tok).json()['data'] == []
    assert_problem(api.patch(f'/v1/customers/{gone["id"]}', token=tok, json={'name': 'x'}), 404, 'not_found')
    # tickets moved, each with a version and an audit entry; the survivor's own ticket untouched
    for t in (t1, t2):
        g = api.get(f'/v1/tickets/{t["id"]}', token=tok)
        assert g.json()['customer']['id'] == keep['id'] and g.json()['customer']['email'] == 'keep@example.com'
        assert g.json()['version'] == 2 and g.headers['ETag'] == '"2"'
        entries = api.get(f'/v1/tickets/{t["id"]}/audit', token=tok).json()['data']
        assert entries[-1]['changes'] == {'customer_id': {'from': gone['id'], 'to': keep['id']}}
        assert entries[-1]['version'] == 2 and entries[-1]['request_id'] == r.headers['X-Request-Id']
    assert api.get(f'/v1/tickets/{t3["id"]}', token=tok).json()['version'] == 1
    assert pg.scalar(f"SELECT count(*) FROM tickets WHERE customer_id = {gone['id']}") == '0'
    assert pg.scalar(f"SELECT count(*) FROM customer_external_profiles WHERE customer_id = {gone['id']}") == '0'
    # both audited, with the request's actor
    rid = r.headers['X-Request-Id']
    sv = audit_rows(pg, 'customer', keep['id'])[-1]
    assert sv[:5] == (keep['version'] + 1, 'api_key', admin_key.key_id, 'api', rid)
    assert sv[5] == {'merged_from': {'from': None, 'to': gone['id']},
                     'phone': {'from': None, 'to': '+1 555'},
                     'tags': {'from': ['vip', 'b2b'], 'to': ['vip', 'b2b', 'churn-risk', 'eu']},
                     'custom_fields': {'from': {'tier': 'gold'}, 'to': {'tier': 'gold', 'region': 'eu'}},
                     'metadata': {'from': {'plan': 'pro', 'seats': 3},
                                  'to': {'plan': 'pro', 'seats': 3, 'source': 'import'}},
                     'external_profiles': {'from': [{'provider': 'crm', 'external_id': 'k1', 'url': None}],
                                           'to': s['external_profiles']}}
    src = audit_rows(pg, 'customer', gone['id'])[-1]
    assert src[:5] == (gone['version'] + 1, 'api_key', admin_key.key_id, 'api', rid)
    assert src[5] == {'merged_into': {'from': None, 'to': keep['id']}}
    # the released email makes a new customer; a new ticket for the survivor's email goes to it
    assert upsert(api, tok, email='gone@example.com')['id'] not in (keep['id'], gone['id'])
    assert ticket(api, tok, 'keep@example.com')['customer']['id'] == keep['id']


def test_merge_without_anything_to_move(api, agent_key, pg):
    a = upsert(api, agent_key.token, email='a@example.com', tags=['x'])
    b = upsert(api, agent_key.token, email='b@example.com', tags=['x'])
    r = merge(api, agent_key.token, a['id'], b['id'])
    assert r.status_code == 200, r.text
    assert r.json()['tags'] == ['x'] and r.json()['version'] == 2
    assert audit_rows(pg, 'customer', a['id'])[-1][5] == {'merged_from': {'from': None, 'to': b['id']}}


def test_merged_ids_answer_404_with_merged_into(api, admin_key):
    tok = admin_key.token
    a, b, c = (upsert(api, tok, email=f'{n}@example.com') for n in 'abc')
    assert merge(api, tok, a['id'], b['id']).status_code == 200
    # merging again, in either direction or through the merged id: 404 with merged_into
    body = assert_problem(merge(api, tok, a['id'], b['id']), 404, 'not_found')
    assert body['merged_into'] == a['id']
    assert_field_error(body, 'source_customer_id', 'merged')
    body = assert_problem(merge(api, tok, b['id'], a['id']), 404, 'not_found')
    assert body['merged_into'] == a['id'] and 'errors' not in body
    body = assert_problem(merge(api, tok, b['id'], c['id']), 404, 'not_found')
    assert body['merged_into'] == a['id']
    # chains: a merged survivor's own merge is followed by hand
    assert merge(api, tok, c['id'], a['id']).status_code == 200
    assert assert_problem(api.get(f'/v1/customers/{a["id"]}', token=tok), 404, 'not_found')['merged_into'] == c['id']
    assert assert_problem(api.get(f'/v1/customers/{b["id"]}', token=tok), 404, 'not_found')['merged_into'] == a['id']


def test_missing_and_cross_workspace(api, admin_key, make_workspace, make_key):
    a = upsert(api, admin_key.token, email='a@example.com')
    body = assert_problem(merge(api, admin_key.token, a['id'], 987654321), 404, 'not_found')
    assert_field_error(body, 'source_customer_id', 'not_found')
    body = assert_problem(merge(api, admin_key.token, 987654321, a['id']), 404, 'not_found')
    assert 'merged_into' not in body
    ws2 = make_workspace()
    k2 = make_key(ws2.slug, 'admin')
    other = upsert(api, k2.token, email='a@example.com')
    assert_field_error(assert_problem(merge(api, admin_key.token, a['id'], other['id']), 404, 'not_found'),
                       'source_customer_id', 'not_found')
    assert_problem(merge(api, k2.token, a['id'], other['id']), 404, 'not_found')
    assert api.get(f'/v1/customers/{a["id"]}', token=admin_key.token).json() == a
    assert api.get(f'/v1/customers/{other["id"]}', token=k2.token).json() == other


def test_roles(api, admin_key, agent_key, readonly_key):
    a = upsert(api, admin_key.token, email='a@example.com')
    b = upsert(api, admin_key.token, email='b@example.com')
    c = upsert(api, admin_key.token, email='c@example.com')
    assert_problem(merge(api, readonly_key.token, a['id'], b['id']), 403, 'forbidden')
    assert api.get(f'/v1/customers/{b["id"]}', token=admin_key.token).status_code == 200
    assert merge(api, agent_key.token, a['id'], b['id']).status_code == 200
    assert merge(api, admin_key.token, a['id'], c['id']).status_code == 200
    assert api.post(f'/v1/customers/{a["id"]}/merge', json={'source_customer_id': 1}).status_code == 401
    r = api.get(f'/v1/customers/{a["id"]}/merge', token=admin_key.token)
    assert_problem(r, 405, 'method_not_allowed')
    assert 'POST' in r.headers['Allow']


@pytest.mark.parametrize('body,field,code', [
    ({}, 'source_customer_id', 'required'),
    ({'source_customer_id': None}, 'source_customer_id', 'invalid_type'),
    ({'source_customer_id': '12'}, 'source_customer_id', 'invalid_type'),
    ({'source_customer_id': 1.5}, 'source_customer_id', 'invalid_type'),
    ({'source_customer_id': True}, 'source_customer_id', 'invalid_type'),
    ({'source_customer_id': 0}, 'source_customer_id', 'invalid'),
    ({'source_customer_id': -4}, 'source_customer_id', 'invalid'),
    ({'source_customer_id': 'SELF'}, 'source_customer_id', 'invalid'),
    ({'source_customer_id': 5, 'merged_into': 1}, 'merged_into', 'unknown_field'),
    ([1], 'body', 'invalid_type'),
])
def test_validation(api, admin_key, body, field, code):
    a = upsert(api, admin_key.token, email='v@example.com')
    if isinstance(body, dict) and body.get('source_customer_id') == 'SELF':
        body = {'source_customer_id': a['id']}
    b = assert_problem(api.post(f'/v1/customers/{a["id"]}/merge', token=admin_key.token, json=body), 400,
                       'validation_failed')
    assert_field_error(b, field, code)
    assert api.get(f'/v1/customers/{a["id"]}', token=admin_key.token).json() == a


def test_validation_of_path_and_encoding(api, admin_key):
    a = upsert(api, admin_key.token, email='v@example.com')
    assert_field_error(assert_problem(api.post('/v1/customers/abc/merge', token=admin_key.token,
                                               json={'source_customer_id': a['id']}), 400, 'validation_failed'), 'id')
    assert_problem(api.post(f'/v1/customers/{a["id"]}/merge', token=admin_key.token, data='{"source_customer_id": ',
                            headers={'Content-Type': 'application/json'}), 400, 'malformed_json')
    assert_problem(api.post(f'/v1/customers/{a["id"]}/merge', token=admin_key.token, data='source_customer_id=1',
                            headers={'Content-Type': 'text/plain'}), 415, 'unsupported_media_type')
    b = assert_problem(api.post(f'/v1/customers/{a["id"]}/merge', token=admin_key.token), 400, 'validation_failed')
    assert_field_error(b, 'body', 'required')


def test_too_many_tags_refused_and_nothing_written(api, admin_key, pg):
    tok = admin_key.token
    a = upsert(api, tok, email='a@example.com', tags=[f'a{i}' for i in range(30)] + ['shared'])
    b = upsert(api, tok, email='b@example.com', tags=['shared'] + [f'b{i}' for i in range(25)])
    t = ticket(api, tok, 'b@example.com')
    body = assert_problem(merge(api, tok, a['id'], b['id']), 409, 'conflict', detail='50 tags')
    assert_field_error(body, 'tags', 'too_many')
    assert '56 tags' in body['errors'][0]['message']
    assert api.get(f'/v1/customers/{a["id"]}', token=tok).json() == a
    assert api.get(f'/v1/customers/{b["id"]}', token=tok).json() == b
    assert api.get(f'/v1/tickets/{t["id"]}', token=tok).json()['customer']['id'] == b['id']
    assert len(audit_rows(pg, 'customer', a['id'])) == 1 and len(audit_rows(pg, 'customer', b['id'])) == 1
    # exactly 50 is fine
    c = upsert(api, tok, email='c@example.com', tags=['shared'] + [f'c{i}' for i in range(19)])
    r = merge(api, tok, a['id'], c['id'])
    assert r.status_code == 200 and len(r.json()['tags']) == 50


def test_metadata_over_limit_refused(api, admin_key):
    tok = admin_key.token
    a = upsert(api, tok, email='a@example.com', metadata={'a': 'x' * 9000})
    b = upsert(api, tok, email='b@example.com', metadata={'b': 'y' * 9000})
    body = assert_problem(merge(api, tok, a['id'], b['id']), 409, 'conflict')
    assert_field_error(body, 'metadata', 'too_long')
    assert api.get(f'/v1/customers/{b["id"]}', token=tok).json() == b
    # the survivor's key wins, so overlapping keys do not add up
    c = upsert(api, tok, email='c@example.com', metadata={'a': 'z' * 9000})
    r = merge(api, tok, a['id'], c['id'])
    assert r.status_code == 200 and r.json()['metadata'] == {'a': 'x' * 9000}


def test_acting_agent_is_audited(api, admin_key, pg):
    agent = api.post('/v1/agents', token=admin_key.token, json={'name': 'Ann', 'email': 'ann@example.com'}).json()
    a = upsert(api, admin_key.token, email='a@example.com')
    b = upsert(api, admin_key.token, email='b@example.com')
    t = ticket(api, admin_key.token, 'b@example.com')
    r = merge(api, admin_key.token, a['id'], b['id'], headers={'X-Acting-Agent-Id': str(agent['id'])})
    assert r.status_code == 200, r.text
    for kind, oid in (('customer', a['id']), ('customer', b['id']), ('ticket', t['id'])):
        assert audit_rows(pg, kind, oid)[-1][1:4] == ('agent', agent['id'], 'agent')


def test_idempotency(api, admin_key, pg):
    tok = admin_key.token
    a = upsert(api, tok, email='a@example.com', tags=['a'])
    b = upsert(api, tok, email='b@example.com', tags=['b'])
    h = {'Idempotency-Key': uuid.uuid4().hex}
    r1 = merge(api, tok, a['id'], b['id'], headers=h)
    assert r1.status_code == 200, r1.text
    r2 = merge(api, tok, a['id'], b['id'], headers=h)
    assert r2.status_code == 200 and r2.headers.get('Idempotent-Replayed') == 'true'
    assert r2.json() == r1.json()
    assert len(audit_rows(pg, 'customer', a['id'])) == 2 and len(audit_rows(pg, 'customer', b['id'])) == 2
    c = upsert(api, tok, email='c@example.com')
    assert_problem(merge(api, tok, a['id'], c['id'], headers=h), 422, 'idempotency_key_reused')
    # a refused merge gives its key back: the same key may be used again
    h2 = {'Idempotency-Key': uuid.uuid4().hex}
    assert_problem(merge(api, tok, a['id'], 987654321, headers=h2), 404, 'not_found')
    assert merge(api, tok, a['id'], c['id'], headers=h2).status_code == 200


def test_idempotent_concurrent_same_key(api, admin_key, pg):
    tok = admin_key.token
    a = upsert(api, tok, email='a@example.com')
    b = upsert(api, tok, email='b@example.com')
    h = {'Idempotency-Key': uuid.uuid4().hex}
    out = []
    threads = [threading.Thread(target=lambda: out.append(merge(api, tok, a['id'], b['id'], headers=h)))
               for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    codes = sorted(r.status_code for r in out)
    assert set(codes) <= {200, 409}, [(r.status_code, r.text[:200]) for r in out]
    assert 200 in codes
    for r in out:
        if r.status_code == 409:
            assert_problem(r, 409, 'idempotency_in_flight')
    assert len(audit_rows(pg, 'customer', b['id'])) == 2


def wait_for_lock_holder(pg):
    def held():
        rows = pg.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%FOR UPDATE%pg_sleep%' "
                       "AND state = 'active' AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()")
        return rows[0][0] != '0'
    wait_until(held, 10, what='the row lock')


@pytest.mark.parametrize('locked', ['survivor', 'source', 'ticket'])
def test_lock_timeout(api, admin_key, pg, locked):
    tok = admin_key.token
    a = upsert(api, tok, email='a@example.com')
    b = upsert(api, tok, email='b@example.com')
    t = ticket(api, tok, 'b@example.com')
    row = {'survivor': f'customers WHERE id = {a["id"]}', 'source': f'customers WHERE id = {b["id"]}',
           'ticket': f'tickets WHERE id = {t["id"]}'}[locked]
    holder = pg.psql_background(f'BEGIN; SELECT 1 FROM {row} FOR UPDATE; SELECT pg_sleep(2); COMMIT')
    try:
        wait_for_lock_holder(pg)
        started = time.monotonic()
        r = merge(api, tok, a['id'], b['id'])
        elapsed = time.monotonic() - started
        assert_problem(r, 409, 'lock_timeout')
        assert elapsed < 1.5, f'409 lock_timeout took {elapsed:.2f}s'
    finally:
        out, err = holder.communicate(timeout=30)
    assert holder.returncode == 0, err
    assert api.get(f'/v1/customers/{b["id"]}', token=tok).json() == b
    assert api.get(f'/v1/tickets/{t["id"]}', token=tok).json()['customer']['id'] == b['id']
    assert merge(api, tok, a['id'], b['id']).status_code == 200


def run_concurrently(fns):
    barrier = threading.Barrier(len(fns))
    out = [None] * len(fns)

    def run(i):
        barrier.wait()
        out[i] = fns[i]()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fns))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return out


@pytest.mark.parametrize('direction', ['same', 'opposite'])
def test_concurrent_merges_of_one_pair(api, admin_key, pg, direction):
    tok = admin_key.token
    for round_ in range(8):
        a = upsert(api, tok, email=f'a{round_}@example.com', tags=['a'])
        b = upsert(api, tok, email=f'b{round_}@example.com', tags=['b'])
        ta = ticket(api, tok, a['email'])
        tb = ticket(api, tok, b['email'])
        pairs = [(a['id'], b['id']), (a['id'], b['id']) if direction == 'same' else (b['id'], a['id'])]
        out = run_concurrently([lambda p=p: merge(api, tok, *p) for p in pairs])
        ok = [i for i, r in enumerate(out) if r.status_code == 200]
        assert len(ok) >= 1 or all(r.status_code == 409 for r in out), [(r.status_code, r.text) for r in out]
        for r in out:
            assert r.status_code in (200, 404, 409), r.text
            if r.status_code == 404:
                assert 'merged_into' in assert_problem(r, 404, 'not_found')
            elif r.status_code == 409:
                assert_problem(r, 409, 'lock_timeout')
        assert len(ok) <= 1, 'both merges of one pair succeeded'
        live = [c['id'] for c in api.get('/v1/customers', token=tok).json()['data'] if c['id'] in (a['id'], b['id'])]
        if not ok:
            assert sorted(live) == sorted([a['id'], b['id']])
            continue
        survivor = pairs[ok[0]][0]
        assert live == [survivor]
        for t in (ta, tb):
            assert api.get(f'/v1/tickets/{t["id"]}', token=tok).json()['customer']['id'] == survivor
        assert sorted(api.get(f'/v1/customers/{survivor}', token=tok).json()['tags']) == ['a', 'b']
    assert pg.scalar("SELECT count(*) FROM customers c JOIN customers d ON d.id = c.merged_into "
                     "WHERE d.merged_into IS NOT NULL AND c.workspace_id = d.workspace_id "
                     f"AND c.workspace_id = (SELECT workspace_id FROM customers WHERE id = {a['id']})") == '0'


# ---- merge by email change (PATCH) --------------------------------------------------------

def test_patch_email_of_another_customer_merges(api, admin_key, pg):
    tok = admin_key.token
    owner = upsert(api, tok, email='owner@example.com', name='Owner', tags=['vip'], metadata={'k': 1})
    dup = upsert(api, tok, email='dup@example.com', name='Dup', tags=['new'], metadata={'k': 2, 'm': 3},
                 external_profiles=[{'provider': 'zendesk', 'external_id': '77'}])
    t = ticket(api, tok, 'dup@example.com')
    r = api.patch(f'/v1/customers/{dup["id"]}', token=tok, json={'email': ' OWNER@example.com '})
    assert r.status_code == 200, r.text
    s = r.json()
    # the customer who had the email survives; the PATCHed one is merged into it
    assert s['id'] == owner['id'] and s['email'] == 'owner@example.com' and s['name'] == 'Owner'
    assert s['tags'] == ['vip', 'new'] and s['metadata'] == {'k': 1, 'm': 3}
    assert s['external_profiles'] == [{'provider': 'zendesk', 'external_id': '77', 'url': None}]
    assert s['version'] == 2
    assert assert_problem(api.get(f'/v1/customers/{dup["id"]}', token=tok), 404, 'not_found')['merged_into'] == owner['id']
    assert api.get(f'/v1/tickets/{t["id"]}', token=tok).json()['customer']['id'] == owner['id']
    assert audit_rows(pg, 'customer', owner['id'])[-1][5]['merged_from'] == {'from': None, 'to': dup['id']}
    assert audit_rows(pg, 'customer', dup['id'])[-1][5] == {'merged_into': {'from': None, 'to': owner['id']}}
    assert api.get('/v1/customers?email=owner@example.com', token=tok).json()['data'] == [s]


def test_patch_email_merge_applies_the_rest_to_the_survivor(api, agent_key, pg):
    tok = agent_key.token
    owner = upsert(api, tok, email='owner@example.com', name='Owner', tags=['vip'])
    dup = upsert(api, tok, email='dup@example.com', tags=['x'])
    r = api.patch(f'/v1/customers/{dup["id"]}', token=tok,
                  json={'email': 'owner@example.com', 'name': 'Olivia Owner', 'phone': '+44 20', 'metadata': {'z': 1}})
    assert r.status_code == 200, r.text
    s = r.json()
    assert s['id'] == owner['id'] and s['name'] == 'Olivia Owner' and s['phone'] == '+44 20'
    assert s['tags'] == ['vip', 'x'] and s['metadata'] == {'z': 1} and s['version'] == 3
    rows = audit_rows(pg, 'customer', owner['id'])
    assert [v for v, *_ in rows] == [1, 2, 3]
    assert 'merged_from' in rows[1][5] and set(rows[2][5]) == {'name', 'phone', 'metadata'}
    assert rows[1][4] == rows[2][4] == r.headers['X-Request-Id']
    assert api.get(f'/v1/customers/{owner["id"]}', token=tok).json() == s


def test_patch_email_merge_refused_writes_nothing(api, admin_key, pg):
    tok = admin_key.token
    owner = upsert(api, tok, email='owner@example.com', tags=[f'o{i}' for i in range(40)])
    dup = upsert(api, tok, email='dup@example.com', tags=[f'd{i}' for i in range(20)])
    t = ticket(api, tok, 'dup@example.com')
    body = assert_problem(api.patch(f'/v1/customers/{dup["id"]}', token=tok, json={'email': 'owner@example.com'}),
                          409, 'conflict')
    assert_field_error(body, 'tags', 'too_many')
    # the rest of the PATCH is checked against the survivor: a profile of a third customer refuses it all
    third = upsert(api, tok, email='third@example.com', external_profiles=[{'provider': 'p', 'external_id': '1'}])
    small = upsert(api, tok, email='small@example.com')
    body = assert_problem(api.patch(f'/v1/customers/{small["id"]}', token=tok,
                                    json={'email': 'owner@example.com',
                                          'external_profiles': [{'provider': 'p', 'external_id': '1'}]}),
                          409, 'conflict')
    assert_field_error(body, 'external_profiles[0]', 'duplicate')
    for c in (owner, dup, small, third):
        assert api.get(f'/v1/customers/{c["id"]}', token=tok).json() == c
    assert api.get(f'/v1/tickets/{t["id"]}', token=tok).json()['customer']['id'] == dup['id']
    assert len(audit_rows(pg, 'customer', owner['id'])) == 1


def test_patch_email_merge_idempotent(api, admin_key, pg):
    tok = admin_key.token
    owner = upsert(api, tok, email='owner@example.com')
    dup = upsert(api, tok, email='dup@example.com')
    h = {'Idempotency-Key': uuid.uuid4().hex}
    r1 = api.patch(f'/v1/customers/{dup["id"]}', token=tok, json={'email': 'owner@example.com'}, headers=h)
    assert r1.status_code == 200, r1.text
    r2 = api.patch(f'/v1/customers/{dup["id"]}', token=tok, json={'email': 'owner@example.com'}, headers=h)
    assert r2.status_code == 200 and r2.headers.get('Idempotent-Replayed') == 'true' and r2.json() == r1.json()
    assert len(audit_rows(pg, 'customer', owner['id'])) == 2
    # without the key, the merged customer is gone
    body = assert_problem(api.patch(f'/v1/customers/{dup["id"]}', token=tok, json={'email': 'owner@example.com'}),
                          404, 'not_found')
    assert body is not None


def test_patch_email_merges_race(api, admin_key):
    """Two customers given each other's email at once: one merge wins; never a deadlock or 500."""
    tok = admin_key.token
    for i in range(6):
        a = upsert(api, tok, email=f'x{i}@example.com')
        b = upsert(api, tok, email=f'y{i}@example.com')
        out = run_concurrently([
            lambda: api.patch(f'/v1/customers/{a["id"]}', token=tok, json={'email': b['email']}),
            lambda: api.patch(f'/v1/customers/{b["id"]}', token=tok, json={'email': a['email']}),
        ])
        assert all(r.status_code in (200, 404, 409) for r in out), [(r.status_code, r.text) for r in out]
        live = [c for c in (a, b) if api.get(f'/v1/customers/{c["id"]}', token=tok).status_code == 200]
        assert len(live) >= 1
        if any(r.status_code == 200 for r in out):
            assert len(live) == 1
