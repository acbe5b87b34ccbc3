"""GET /v1/customers/{id}/tickets (CONTRACT.md, Customers): a customer's tickets as the tickets
list gives them, 404 for a missing or other workspace's customer, 404 with merged_into for a
merged one, whose tickets the survivor now lists."""
from hdf import assert_field_error, assert_problem
from ticket_helpers import create_ticket, new_email


def listed(api, token, customer_id, query=''):
    r = api.get(f'/v1/customers/{customer_id}/tickets?{query}', token=token)
    assert r.status_code == 200, r.text
    return [t['id'] for t in r.json()['data']]


def test_lists_only_that_customers_tickets(api, admin_key, make_key, workspace):
    email = new_email()
    mine = [create_ticket(api, admin_key.token, customer={'email': email}, subject=f'm{i}') for i in range(3)]
    create_ticket(api, admin_key.token)  # someone else's
    cid = mine[0]['customer']['id']
    assert listed(api, admin_key.token, cid) == [t['id'] for t in reversed(mine)]
    assert listed(api, admin_key.token, cid, 'sort=created_at') == [t['id'] for t in mine]
    r = api.get(f'/v1/customers/{cid}/tickets?limit=2', token=admin_key.token)
    page = r.json()
    assert len(page['data']) == 2 and page['next_cursor'] and 'Link' in r.headers
    rest = api.get(f"/v1/customers/{cid}/tickets?limit=2&cursor={page['next_cursor']}", token=admin_key.token).json()
    assert [t['id'] for t in page['data'] + rest['data']] == [t['id'] for t in reversed(mine)]
    readonly = make_key(workspace.slug, 'readonly')
    assert listed(api, readonly.token, cid) == [t['id'] for t in reversed(mine)]


def test_missing_other_workspace_and_bad_parameters(api, admin_key, make_workspace, make_key):
    t = create_ticket(api, admin_key.token)
    other = make_key(make_workspace().slug, 'admin')
    assert_problem(api.get(f"/v1/customers/{t['customer']['id']}/tickets", token=other.token), 404, 'not_found')
    assert_problem(api.get('/v1/customers/999999999/tickets', token=admin_key.token), 404, 'not_found')
    assert_field_error(assert_problem(api.get('/v1/customers/abc/tickets', token=admin_key.token), 400,
                                      'validation_failed'), 'id')
    r = api.get(f"/v1/customers/{t['customer']['id']}/tickets?customer_id=1", token=admin_key.token)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'customer_id')


def test_merged_customer_is_404_with_merged_into(api, admin_key):
    a = create_ticket(api, admin_key.token)
    b = create_ticket(api, admin_key.token)
    src, dst = a['customer']['id'], b['customer']['id']
    r = api.post(f'/v1/customers/{dst}/merge', token=admin_key.token, json={'source_customer_id': src})
    assert r.status_code == 200, r.text
    p = assert_problem(api.get(f'/v1/customers/{src}/tickets', token=admin_key.token), 404, 'not_found')
    assert p['merged_into'] == dst
    assert sorted(listed(api, admin_key.token, dst)) == sorted([a['id'], b['id']])
