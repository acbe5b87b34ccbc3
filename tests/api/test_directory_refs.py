"""Teams and agents that tickets refer to cannot be deleted: 409 naming how many tickets refer
to them (issue 5, "What tickets refer to"); once no ticket does, the delete succeeds."""
from hdf import assert_problem


def test_delete_refused_while_tickets_refer(api, admin_key):
    h = {'token': admin_key.token}
    team = api.post('/v1/teams', json={'name': 'Billing'}, **h).json()
    agent = api.post('/v1/agents', json={'name': 'Ann', 'email': 'ann@agents.example'}, **h).json()
    ids = []
    for n in range(2):
        r = api.post('/v1/tickets', json={'subject': f's{n}', 'customer': {'email': 'c@example.com'},
                                          'team_id': team['id'], 'assignee_id': agent['id']}, **h)
        assert r.status_code == 201, r.text
        ids.append(r.json()['id'])
    p = assert_problem(api.delete(f"/v1/teams/{team['id']}", **h), 409, 'conflict')
    assert p['detail'].startswith('2 tickets refer to this team'), p
    p = assert_problem(api.delete(f"/v1/agents/{agent['id']}", **h), 409, 'conflict')
    assert p['detail'].startswith('2 tickets refer to this agent'), p
    assert api.patch(f'/v1/tickets/{ids[0]}', json={'team_id': None, 'assignee_id': None}, **h).status_code == 200
    p = assert_problem(api.delete(f"/v1/teams/{team['id']}", **h), 409, 'conflict')
    assert p['detail'].startswith('1 ticket refers to this team'), p
    assert api.patch(f'/v1/tickets/{ids[1]}', json={'team_id': None, 'assignee_id': None}, **h).status_code == 200
    assert api.delete(f"/v1/teams/{team['id']}", **h).status_code == 204
    assert api.delete(f"/v1/agents/{agent['id']}", **h).status_code == 204
    assert_problem(api.get(f"/v1/teams/{team['id']}", **h), 404, 'not_found')
