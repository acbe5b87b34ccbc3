"""Database-side security: the hdf_server role's privileges, the hdf_admin functions, how keys are
stored, and that a non-superuser login role in hdf_server can run the server."""
import hashlib
import re
import secrets

import pytest

from hdf import SESSION_TOKENS, TOKEN_ANYWHERE_RE, TOKEN_RE, PsqlError, create_key, sql_literal, wait_until

LIST_COLUMNS = ['key_id', 'label', 'role', 'allowed_cidrs', 'expires_at', 'created_at', 'last_used_at', 'revoked_at']


def as_server(pg, sql):
    return pg.psql('SET ROLE hdf_server;\n' + sql)


def test_hdf_server_role_is_nologin(pg, migrated):
    assert pg.psql("SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = 'hdf_server'") == [('f', 'f')]


@pytest.mark.parametrize('sql', [
    "SELECT * FROM hdf_admin.create_workspace('x-{r}', 'y')",
    "SELECT * FROM hdf_admin.create_api_key('{slug}', 'admin', 'evil')",
    "SELECT hdf_admin.revoke_api_key({key_id})",
    "SELECT * FROM hdf_admin.list_api_keys('{slug}')",
])
def test_hdf_server_cannot_call_admin_functions(pg, workspace, admin_key, sql):
    q = sql.format(r=secrets.token_hex(3), slug=workspace.slug, key_id=admin_key.key_id)
    with pytest.raises(PsqlError, match='permission denied'):
        as_server(pg, q)
    assert pg.scalar(f'SELECT revoked_at IS NULL FROM api_keys WHERE id = {admin_key.key_id}') == 't'


def test_public_cannot_call_admin_functions(pg, workspace):
    role = f'nobody_{secrets.token_hex(3)}'
    pg.psql(f'CREATE ROLE {role} NOLOGIN')
    for q in (f"SELECT * FROM hdf_admin.create_workspace('z-{secrets.token_hex(3)}', 'z')",
              f"SELECT * FROM hdf_admin.create_api_key({sql_literal(workspace.slug)}, 'admin', 'evil')",
              f"SELECT * FROM hdf_admin.list_api_keys({sql_literal(workspace.slug)})"):
        with pytest.raises(PsqlError, match='permission denied'):
            pg.psql(f'SET ROLE {role};\n{q}')
    with pytest.raises(PsqlError, match='permission denied'):
        pg.psql(f'SET ROLE {role};\nSELECT key_hash FROM api_keys')
    # Function EXECUTE is revoked from PUBLIC (not only hidden behind schema USAGE).
    rows = pg.psql("SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                   "WHERE n.nspname = 'hdf_admin' AND has_function_privilege('public', p.oid, 'EXECUTE')")
    assert rows == [], f'PUBLIC may execute {rows}'


def test_hdf_server_table_privileges(pg, workspace, admin_key):
    kid = admin_key.key_id
    # What the server needs works...
    as_server(pg, f'SELECT id, key_hash, role, allowed_cidrs, expires_at, revoked_at FROM api_keys WHERE id = {kid}')
    as_server(pg, 'SELECT id, slug, name FROM workspaces LIMIT 1')
    as_server(pg, 'SELECT max(version) FROM schema_migrations')
    as_server(pg, f"UPDATE api_keys SET last_used_at = now(), label = label WHERE id = {kid}")
    # ...and nothing else does.
    for q in (f'UPDATE api_keys SET revoked_at = now() WHERE id = {kid}',
              f"UPDATE api_keys SET role = 'admin' WHERE id = {kid}",
              f'UPDATE api_keys SET expires_at = NULL WHERE id = {kid}',
              f'UPDATE api_keys SET allowed_cidrs = NULL WHERE id = {kid}',
              f"UPDATE api_keys SET key_hash = '\\x00' WHERE id = {kid}",
              f'UPDATE api_keys SET workspace_id = workspace_id WHERE id = {kid}',
              f'DELETE FROM api_keys WHERE id = {kid}',
              f"INSERT INTO api_keys (workspace_id, key_hash, role, label) VALUES ({workspace.id}, '\\x00', 'admin', 'x')",
              f"UPDATE workspaces SET name = 'x' WHERE id = {workspace.id}",
              f"INSERT INTO workspaces (slug, name) VALUES ('evil-{secrets.token_hex(3)}', 'x')",
              'DELETE FROM schema_migrations',
              'TRUNCATE api_keys',
              'CREATE TABLE hdf_server_was_here (x int)'):
        with pytest.raises(PsqlError, match='permission denied'):
            as_server(pg, q)
    assert pg.scalar(f'SELECT revoked_at IS NULL FROM api_keys WHERE id = {kid}') == 't'


def test_token_format_and_uniqueness(pg, workspace):
    rows = pg.psql(f"SELECT t.key_id, t.token FROM generate_series(1, 200) g, "
                   f"LATERAL hdf_admin.create_api_key({sql_literal(workspace.slug)}, 'readonly', 'bulk ' || g) t")
    SESSION_TOKENS.update(t for _, t in rows)
    assert len(rows) == 200
    tokens = [t for _, t in rows]
    for t in tokens:
        assert TOKEN_RE.match(t), t
    assert len(set(tokens)) == 200
    assert len({k for k, _ in rows}) == 200
    # Not obviously low-entropy: every base62 class shows up across 200 tokens.
    joined = ''.join(t[4:] for t in tokens)
    assert re.search('[a-z]', joined) and re.search('[A-Z]', joined) and re.search('[0-9]', joined)
    assert len(set(joined)) == 62


def test_keys_stored_as_sha256_only(pg, workspace):
    key = create_key(pg, workspace.slug, 'agent', label='hash check')
    row = pg.psql(f"SELECT octet_length(key_hash), encode(key_hash, 'hex') FROM api_keys WHERE id = {key.key_id}")
    assert row == [('32', hashlib.sha256(key.token.encode()).hexdigest())]
    # No plaintext token anywhere in the database.
    dump = pg.dump()
    assert key.token not in dump and key.token[4:] not in dump
    found = TOKEN_ANYWHERE_RE.findall(dump)
    assert not found, f'token-like strings in the database dump: {found[:3]}'
    assert not any(t in dump for t in SESSION_TOKENS)


def test_list_api_keys_columns(pg, make_workspace):
    ws, other = make_workspace(), make_workspace()
    k1 = create_key(pg, ws.slug, 'admin', label='first', allowed_cidrs=['10.0.0.0/8'])
    k2 = create_key(pg, ws.slug, 'readonly', label='second', expires_at='2099-01-01T00:00:00Z')
    create_key(pg, other.slug, 'admin', label='other')
    rows = pg.psql(f'SELECT * FROM hdf_admin.list_api_keys({sql_literal(ws.slug)})', header=True)
    assert list(rows[0]) == LIST_COLUMNS
    data = [dict(zip(LIST_COLUMNS, r)) for r in rows[1:]]
    assert sorted(int(d['key_id']) for d in data) == [k1.key_id, k2.key_id]
    by_id = {int(d['key_id']): d for d in data}
    assert by_id[k1.key_id]['label'] == 'first' and by_id[k1.key_id]['role'] == 'admin'
    assert by_id[k1.key_id]['allowed_cidrs'] == '{10.0.0.0/8}'
    assert by_id[k2.key_id]['expires_at'] is not None and by_id[k2.key_id]['revoked_at'] is None
    text = repr(rows)
    assert k1.token not in text and hashlib.sha256(k1.token.encode()).hexdigest() not in text


def test_revoke_api_key(pg, workspace):
    key = create_key(pg, workspace.slug, 'agent')
    assert pg.scalar(f'SELECT hdf_admin.revoke_api_key({key.key_id})') == 't'
    first = pg.scalar(f'SELECT revoked_at FROM api_keys WHERE id = {key.key_id}')
    assert first is not None
    assert pg.scalar(f'SELECT hdf_admin.revoke_api_key({key.key_id})') == 'f'
    assert pg.scalar(f'SELECT revoked_at FROM api_keys WHERE id = {key.key_id}') == first
    missing = int(pg.scalar('SELECT max(id) + 1000 FROM api_keys'))
    assert pg.scalar(f'SELECT hdf_admin.revoke_api_key({missing})') == 'f'


@pytest.mark.parametrize('slug', ['Bad', '-abc', 'a_b', '', 'a' * 64, 'ab c', 'caf\u00e9', 'a.b', 'a/b', ' ab'])
def test_create_workspace_rejects_bad_slug(pg, migrated, slug):
    with pytest.raises(PsqlError):
        pg.psql(f"SELECT * FROM hdf_admin.create_workspace({sql_literal(slug)}, 'x')")
    assert pg.scalar(f'SELECT count(*) FROM workspaces WHERE slug = {sql_literal(slug)}') == '0'


def test_create_workspace_good_and_duplicate_slugs(pg, migrated):
    for slug in ('z' + secrets.token_hex(31)[:62], '0' + secrets.token_hex(4), f'q{secrets.token_hex(3)}-'):
        rows = pg.psql(f"SELECT workspace_id, slug, name FROM hdf_admin.create_workspace({sql_literal(slug)}, 'N')")
        assert len(rows) == 1 and rows[0][1] == slug and rows[0][2] == 'N'
    with pytest.raises(PsqlError) as e:
        pg.psql(f"SELECT * FROM hdf_admin.create_workspace({sql_literal(slug)}, 'again')")
    assert e.value.sqlstate == '23505', e.value.stderr


def test_create_api_key_rejects_bad_input(pg, workspace):
    with pytest.raises(PsqlError):
        pg.psql(f"SELECT * FROM hdf_admin.create_api_key({sql_literal(workspace.slug)}, 'superuser', 'x')")
    with pytest.raises(PsqlError):
        pg.psql(f"SELECT * FROM hdf_admin.create_api_key('no-such-{secrets.token_hex(3)}', 'admin', 'x')")


def test_server_runs_as_non_superuser_login_role(pg, start_server, workspace, make_key):
    role = f'hdf_app_{secrets.token_hex(3)}'
    pg.psql(f'CREATE ROLE {role} LOGIN IN ROLE hdf_server')
    srv = start_server(env={'DATABASE_URL': pg.url(user=role)})
    api = srv.api()
    admin = make_key(workspace.slug, 'admin')
    agent = make_key(workspace.slug, 'agent')
    assert api.get('/readyz').status_code == 200
    assert api.get('/v1/me', token=agent.token).status_code == 200
    assert api.get('/v1/api-keys', token=admin.token).status_code == 200
    r = api.patch(f'/v1/api-keys/{agent.key_id}', token=admin.token, json={'label': 'set by hdf_app'})
    assert r.status_code == 200, r.text
    assert pg.scalar(f'SELECT label FROM api_keys WHERE id = {agent.key_id}') == 'set by hdf_app'
    wait_until(lambda: pg.scalar(f'SELECT last_used_at IS NOT NULL FROM api_keys WHERE id = {agent.key_id}') == 't',
               7, interval=0.2, what='last_used_at written by the non-superuser server')
