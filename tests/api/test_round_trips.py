"""Round trips to the database per request (docs/architecture.md, "Round trips per request"):
hdf_db_round_trips_total and hdf_db_statements_total by route, read before and after one request.
BEGIN and SET LOCAL lock_timeout travel with the statement after them (pipeline mode), so a PATCH
is three round trips: [BEGIN, lock_timeout, SELECT ... FOR UPDATE], [UPDATE ... answering the
view], [COMMIT]."""
import pytest

import hdf
from ticket_helpers import create_ticket, new_email

TICKET = '/v1/tickets/{id}'


def cost(api, route, method, fn):
    """(round trips, statements) that fn's one request of route/method took."""
    before = hdf.fetch_metrics(api)
    fn()
    after = hdf.fetch_metrics(api)
    return tuple(int(after.value(name, route=route, method=method) - before.value(name, route=route, method=method))
                 for name in ('hdf_db_round_trips_total', 'hdf_db_statements_total'))


@pytest.fixture
def warm_key(api, admin_key):
    """A key whose lookup is cached, so the costs below are the handler's alone."""
    assert api.get('/v1/me', token=admin_key.token).status_code == 200
    return admin_key


def test_get_and_list_are_one_statement(api, warm_key):
    t = create_ticket(api, warm_key.token)
    assert cost(api, TICKET, 'GET', lambda: api.get(f'/v1/tickets/{t["id"]}', token=warm_key.token)) == (1, 1)
    assert cost(api, '/v1/tickets', 'GET', lambda: api.get('/v1/tickets?limit=25', token=warm_key.token)) == (1, 1)


def test_create_is_one_statement(api, warm_key):
    def create():
        assert api.post('/v1/tickets', token=warm_key.token,
                        json={'subject': 's', 'body': '<p>hi</p>', 'tags': ['a'],
                              'customer': {'email': new_email()}}).status_code == 201
    assert cost(api, '/v1/tickets', 'POST', create) == (1, 1)


def test_patch_pipelines_begin_lock_timeout_and_lock(api, warm_key):
    t = create_ticket(api, warm_key.token)
    url = f'/v1/tickets/{t["id"]}'

    def patch(body, headers=None):
        def go():
            r = api.patch(url, token=warm_key.token, json=body, headers=headers)
            assert r.status_code == 200, r.text
        return go
    # [BEGIN, lock_timeout, lock] [update + view] [COMMIT]
    assert cost(api, TICKET, 'PATCH', patch({'priority': 'high'})) == (3, 5)
    # nothing changes: [BEGIN, lock_timeout, lock] [view] [COMMIT]
    assert cost(api, TICKET, 'PATCH', patch({'priority': 'high'})) == (3, 5)
    # with an Idempotency-Key: [BEGIN, claim] [lock_timeout, lock] [update + view] [store] [COMMIT]
    assert cost(api, TICKET, 'PATCH', patch({'priority': 'low'}, {'Idempotency-Key': 'rt-1'})) == (5, 7)


def test_message_is_two_round_trips(api, warm_key):
    t = create_ticket(api, warm_key.token)

    def post():
        r = api.post(f'/v1/tickets/{t["id"]}/messages', token=warm_key.token, json={'body': 'hello'})
        assert r.status_code == 201, r.text
    # [BEGIN, lock_timeout, insert] [COMMIT]
    assert cost(api, '/v1/tickets/{id}/messages', 'POST', post) == (2, 4)


def test_automation_costs(api, warm_key):
    """message.created rules lock the ticket like a PATCH; a dry run is one read; ticket.created
    rules reading stored customer fields look the customer up first."""
    from test_automations import create_rule
    t = create_ticket(api, warm_key.token)
    create_rule(api, warm_key.token, events=['message.created'], conditions=None,
                actions=[{'type': 'add_tags', 'value': ['seen']}])
    create_rule(api, warm_key.token, name='vip', conditions={'all': [
        {'field': 'customer.tags', 'op': 'contains', 'value': 'vip'}]})
    # warm every thread's rules cache (a stale cache costs one reload)
    for _ in range(8):
        api.post(f'/v1/tickets/{t["id"]}/messages', token=warm_key.token, json={'body': 'warm'})
        create_ticket(api, warm_key.token)

    def post():
        r = api.post(f'/v1/tickets/{t["id"]}/messages', token=warm_key.token, json={'body': 'hello'})
        assert r.status_code == 201, r.text
    # [BEGIN, lock_timeout, lock] [message + ticket + audit + notes] [COMMIT]
    assert cost(api, '/v1/tickets/{id}/messages', 'POST', post) == (3, 5)
    # [stored customer] [create]
    assert cost(api, '/v1/tickets', 'POST', lambda: create_ticket(api, warm_key.token)) == (2, 2)

    def dry():
        r = api.post('/v1/automations/dry-run', token=warm_key.token,
                     json={'event': 'ticket.updated', 'ticket_id': t['id'], 'changes': {'priority': 'high'}})
        assert r.status_code == 200, r.text
    assert cost(api, '/v1/automations/dry-run', 'POST', dry) == (1, 1)
