"""Admin resource /v1/custom-fields: POST, GET (list with object filter, one), PATCH (enum options
only; object, key and type are immutable), DELETE; validation, roles, isolation, duplicate keys."""
import pytest

from hdf import PsqlError, assert_field_error, assert_problem, method_set, parse_time

CF_FIELDS = {'id', 'object', 'key', 'type', 'options', 'created_at', 'updated_at'}


def create_field(api, token, **body):
    body.setdefault('object', 'ticket')
    body.setdefault('key', 'plan')
    body.setdefault('type', 'text')
    r = api.post('/v1/custom-fields', token=token, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_create_every_type(api, admin_key):
    made = []
    for obj in ('ticket', 'customer'):
        for typ in ('text', 'number', 'boolean', 'date'):
            f = create_field(api, admin_key.token, object=obj, key=f'f_{typ}', type=typ)
            assert set(f) == CF_FIELDS and f['options'] is None and (f['object'], f['type']) == (obj, typ)
            parse_time(f['created_at'])
            made.append(f)
        r = api.post('/v1/custom-fields', token=admin_key.token,
                     json={'object': obj, 'key': 'tier', 'type': 'enum', 'options': ['gold', 'silver', 'Gold']})
        assert r.status_code == 201, r.text
        f = r.json()
        assert f['options'] == ['gold', 'silver', 'Gold']
        assert r.headers['Location'] == f'/v1/custom-fields/{f["id"]}'
        assert api.get(r.headers['Location'], token=admin_key.token).json() == f
        made.append(f)
    # options: null is accepted for non-enum types
    made.append(create_field(api, admin_key.token, key='notes', options=None))
    assert api.get('/v1/custom-fields', token=admin_key.token, params={'limit': 100}).json() == \
        {'data': made, 'next_cursor': None}


@pytest.mark.parametrize('key', ['a', 'a' * 64, 'x_1', 'z9_'])
def test_valid_keys(api, admin_key, key):
    assert create_field(api, admin_key.token, key=key)['key'] == key


@pytest.mark.parametrize('body,field,code', [
    ({'key': 'k', 'type': 'text'}, 'object', 'required'),
    ({'object': 'ticket', 'type': 'text'}, 'key', 'required'),
    ({'object': 'ticket', 'key': 'k'}, 'type', 'required'),
    ({'object': 'order', 'key': 'k', 'type': 'text'}, 'object', 'invalid'),
    ({'object': 1, 'key': 'k', 'type': 'text'}, 'object', 'invalid_type'),
    ({'object': 'ticket', 'key': 'K', 'type': 'text'}, 'key', 'invalid'),
    ({'object': 'ticket', 'key': '1a', 'type': 'text'}, 'key', 'invalid'),
    ({'object': 'ticket', 'key': '_a', 'type': 'text'}, 'key', 'invalid'),
    ({'object': 'ticket', 'key': 'a-b', 'type': 'text'}, 'key', 'invalid'),
    ({'object': 'ticket', 'key': 'é', 'type': 'text'}, 'key', 'invalid'),
    ({'object': 'ticket', 'key': '', 'type': 'text'}, 'key', 'too_short'),
    ({'object': 'ticket', 'key': 'a' * 65, 'type': 'text'}, 'key', 'too_long'),
    ({'object': 'ticket', 'key': ['k'], 'type': 'text'}, 'key', 'invalid_type'),
    ({'object': 'ticket', 'key': 'k', 'type': 'string'}, 'type', 'invalid'),
    ({'object': 'ticket', 'key': 'k', 'type': None}, 'type', 'invalid_type'),
    ({'object': 'ticket', 'key': 'k', 'type': 'enum'}, 'options', 'required'),
    ({'object': 'ticket', 'key': 'k', 'type': 'enum', 'options': None}, 'options', 'required'),
    ({'object': 'ticket', 'key': 'k', 'type': 'enum', 'options': []}, 'options', 'too_short'),
    ({'object': 'ticket', 'key': 'k', 'type': 'enum', 'options': 'a,b'}, 'options', 'invalid_type'),
    ({'object': 'ticket', 'key': 'k', 'type': 'enum', 'options': ['o'] * 0 + [str(i) for i in range(101)]},
     'options', 'too_long'),
    ({'object': 'ticket', 'key': 'k', 'type': 'enum', 'options': ['a', 1]}, 'options[1]', 'invalid_type'),
    ({'object': 'ticket', 'key': 'k', 'type': 'enum', 'options': ['a', '']}, 'options[1]', 'too_short'),
    ({'object': 'ticket', 'key': 'k', 'type': 'enum', 'options': ['x' * 101]}, 'options[0]', 'too_long'),
    ({'object': 'ticket', 'key': 'k', 'type': 'enum', 'options': ['a', 'b', 'a']}, 'options[2]', 'duplicate'),
    ({'object': 'ticket', 'key': 'k', 'type': 'text', 'options': ['a']}, 'options', 'invalid'),
    ({'object': 'ticket', 'key': 'k', 'type': 'text', 'label': 'K'}, 'label', 'unknown_field'),
    ({'object': 'ticket', 'key': 'k', 'type': 'text', 'id': 1}, 'id', 'unknown_field'),
])
def test_create_validation(api, pg, workspace, admin_key, body, field, code):
    r = api.post('/v1/custom-fields', token=admin_key.token, json=body)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert pg.scalar(f'SELECT count(*) FROM custom_fields WHERE workspace_id = {workspace.id}') == '0'


def test_boundaries(api, admin_key):
    opts = [f'{i:03d}' + 'é' * 97 for i in range(100)]
    f = create_field(api, admin_key.token, key='big', type='enum', options=opts)
    assert f['options'] == opts


def test_create_reports_every_field(api, admin_key):
    r = api.post('/v1/custom-fields', token=admin_key.token,
                 json={'object': 'x', 'key': 'Bad', 'type': 'y', 'options': ['a', 'a'], 'z': 1})
    body = assert_problem(r, 400, 'validation_failed')
    for field, code in (('object', 'invalid'), ('key', 'invalid'), ('type', 'invalid'),
                        ('options[1]', 'duplicate'), ('z', 'unknown_field')):
        assert_field_error(body, field, code)


def test_duplicate_key_409(api, make_workspace, make_key, admin_key):
    create_field(api, admin_key.token, key='plan')
    r = api.post('/v1/custom-fields', token=admin_key.token, json={'object': 'ticket', 'key': 'plan', 'type': 'number'})
    body = assert_problem(r, 409, 'conflict', detail='custom field with this key already exists')
    assert_field_error(body, 'key', 'duplicate')
    # Unique per object and per workspace.
    create_field(api, admin_key.token, object='customer', key='plan')
    create_field(api, make_key(make_workspace().slug, 'admin').token, key='plan')


def test_patch_options(api, pg, admin_key):
    f = create_field(api, admin_key.token, key='size', type='enum', options=['s', 'm'])
    r = api.patch(f'/v1/custom-fields/{f["id"]}', token=admin_key.token, json={'options': ['s', 'm', 'l']})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got['options'] == ['s', 'm', 'l'] and got['key'] == 'size' and got['created_at'] == f['created_at']
    assert parse_time(got['updated_at']) >= parse_time(f['updated_at'])
    assert api.get(f'/v1/custom-fields/{f["id"]}', token=admin_key.token).json() == got
    xmin = pg.scalar(f'SELECT xmin FROM custom_fields WHERE id = {f["id"]}')
    for body in ({}, {'options': ['s', 'm', 'l']}):
        r = api.patch(f'/v1/custom-fields/{f["id"]}', token=admin_key.token, json=body)
        assert r.status_code == 200 and r.json() == got
    assert pg.scalar(f'SELECT xmin FROM custom_fields WHERE id = {f["id"]}') == xmin


@pytest.mark.parametrize('body,field,code', [
    ({'key': 'other'}, 'key', 'immutable'),
    ({'type': 'text'}, 'type', 'immutable'),
    ({'object': 'customer'}, 'object', 'immutable'),
    ({'key': 'size'}, 'key', 'immutable'),
    ({'options': []}, 'options', 'too_short'),
    ({'options': None}, 'options', 'invalid_type'),
    ({'options': ['a', 'a']}, 'options[1]', 'duplicate'),
    ({'options': ['x' * 101]}, 'options[0]', 'too_long'),
    ({'id': 1}, 'id', 'unknown_field'),
])
def test_patch_validation(api, admin_key, body, field, code):
    f = create_field(api, admin_key.token, key='size', type='enum', options=['s', 'm'])
    r = api.patch(f'/v1/custom-fields/{f["id"]}', token=admin_key.token, json=body)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)
    assert api.get(f'/v1/custom-fields/{f["id"]}', token=admin_key.token).json() == f


def test_patch_reports_every_immutable_field(api, admin_key):
    f = create_field(api, admin_key.token)
    r = api.patch(f'/v1/custom-fields/{f["id"]}', token=admin_key.token,
                  json={'object': 'customer', 'key': 'k2', 'type': 'date'})
    body = assert_problem(r, 400, 'validation_failed')
    for field in ('object', 'key', 'type'):
        assert_field_error(body, field, 'immutable')


def test_options_of_non_enum_refused(api, admin_key):
    f = create_field(api, admin_key.token, type='number')
    r = api.patch(f'/v1/custom-fields/{f["id"]}', token=admin_key.token, json={'options': ['a']})
    assert_field_error(assert_problem(r, 400, 'validation_failed'), 'options', 'invalid')
    assert api.patch(f'/v1/custom-fields/{f["id"]}', token=admin_key.token, json={}).json() == f


def test_database_keeps_definitions_immutable(pg, api, admin_key):
    f = create_field(api, admin_key.token)
    with pytest.raises(PsqlError, match='permission denied'):
        pg.psql(f"SET ROLE hdf_server;\nUPDATE custom_fields SET key = 'x' WHERE id = {f['id']}")
    with pytest.raises(PsqlError) as e:
        pg.psql(f"UPDATE custom_fields SET options = '{{a,a}}' WHERE id = {f['id']}")
    assert e.value.sqlstate == '23514'


def test_delete(api, admin_key):
    f = create_field(api, admin_key.token, key='gone')
    r = api.delete(f'/v1/custom-fields/{f["id"]}', token=admin_key.token)
    assert r.status_code == 204 and r.content == b''
    assert_problem(api.get(f'/v1/custom-fields/{f["id"]}', token=admin_key.token), 404, 'not_found')
    assert_problem(api.delete(f'/v1/custom-fields/{f["id"]}', token=admin_key.token), 404, 'not_found')
    assert_problem(api.patch(f'/v1/custom-fields/{f["id"]}', token=admin_key.token, json={}), 404, 'not_found')
    create_field(api, admin_key.token, key='gone')


def test_filter_and_pagination(api, admin_key):
    fields = [create_field(api, admin_key.token, object='ticket' if i % 3 else 'customer', key=f'k{i}')
              for i in range(7)]

    def ids(params):
        seen, cursor = [], None
        for _ in range(20):
            p = dict(params, limit=2, **({'cursor': cursor} if cursor else {}))
            body = api.get('/v1/custom-fields', token=admin_key.token, params=p).json()
            seen += [f['id'] for f in body['data']]
            cursor = body['next_cursor']
            if cursor is None:
                return seen
        raise AssertionError('pagination does not end')
    assert ids({}) == [f['id'] for f in fields]
    assert ids({'object': 'customer'}) == [f['id'] for f in fields if f['object'] == 'customer']
    assert ids({'object': 'ticket'}) == [f['id'] for f in fields if f['object'] == 'ticket']


@pytest.mark.parametrize('params,field,code', [
    ({'object': 'order'}, 'object', 'invalid'), ({'type': 'enum'}, 'type', 'unknown_parameter'),
    ({'limit': '-1'}, 'limit', 'out_of_range'), ({'cursor': 'abc'}, 'cursor', 'invalid'),
])
def test_list_parameters(api, admin_key, params, field, code):
    r = api.get('/v1/custom-fields', token=admin_key.token, params=params)
    assert_field_error(assert_problem(r, 400, 'validation_failed'), field, code)


@pytest.mark.parametrize('role', ['agent', 'readonly'])
def test_non_admin_forbidden(api, workspace, admin_key, make_key, role):
    f = create_field(api, admin_key.token)
    token = make_key(workspace.slug, role).token
    assert_problem(api.get('/v1/custom-fields', token=token), 403, 'forbidden')
    assert_problem(api.get(f'/v1/custom-fields/{f["id"]}', token=token), 403, 'forbidden')
    assert_problem(api.post('/v1/custom-fields', token=token,
                            json={'object': 'ticket', 'key': 'x', 'type': 'text'}), 403, 'forbidden')
    assert_problem(api.patch(f'/v1/custom-fields/{f["id"]}', token=token, json={}), 403, 'forbidden')
    assert_problem(api.delete(f'/v1/custom-fields/{f["id"]}', token=token), 403, 'forbidden')
    assert api.get(f'/v1/custom-fields/{f["id"]}', token=admin_key.token).json() == f


def test_cross_workspace_404(api, make_workspace, make_key):
    a, b = make_workspace(), make_workspace()
    ta, tb = make_key(a.slug, 'admin').token, make_key(b.slug, 'admin').token
    fb = create_field(api, tb, type='enum', options=['x'])
    assert_problem(api.get(f'/v1/custom-fields/{fb["id"]}', token=ta), 404, 'not_found',
                   detail='no custom field with this id')
    assert_problem(api.patch(f'/v1/custom-fields/{fb["id"]}', token=ta, json={'options': ['y']}), 404, 'not_found')
    assert_problem(api.delete(f'/v1/custom-fields/{fb["id"]}', token=ta), 404, 'not_found')
    assert api.get('/v1/custom-fields', token=ta).json()['data'] == []
    assert api.get(f'/v1/custom-fields/{fb["id"]}', token=tb).json() == fb


@pytest.mark.parametrize('bad_id', ['0', 'k', '1e2'])
def test_bad_id(api, admin_key, bad_id):
    for method, kw in (('GET', {}), ('PATCH', {'json': {}}), ('DELETE', {})):
        r = api.request(method, f'/v1/custom-fields/{bad_id}', token=admin_key.token, **kw)
        assert_field_error(assert_problem(r, 400, 'validation_failed'), 'id', 'invalid')


def test_wrong_methods(api, admin_key):
    r = api.put('/v1/custom-fields', token=admin_key.token, json={})
    assert_problem(r, 405, 'method_not_allowed')
    assert method_set(r.headers.get('Allow')) == {'GET', 'POST'}
