"""Runs last (conftest orders test_zz_* after everything): the logs of every server process this
session started contain no token and no secret, and stdout is JSON lines only."""
import json

from hdf import LOG_FILES, RFC3339_MS_RE, SECRET_KEY, SESSION_TOKENS, TOKEN_ANYWHERE_RE


def test_logs_never_contain_tokens_or_secrets(server, make_key, workspace, api):
    # Make sure at least one token went through every kind of request path of the main server.
    key = make_key(workspace.slug, 'admin')
    api.get('/v1/me', token=key.token)
    api.get('/v1/me', params={'api_key': key.token})
    api.get('/v1/me', token=key.token + 'x')
    api.patch(f'/v1/api-keys/{key.key_id}', token=key.token, data=b'{"label": "' + key.token.encode() + b'"',
              headers={'Content-Type': 'application/json'})
    api.get('/nope/' + key.token)
    assert SESSION_TOKENS, 'no tokens recorded'
    assert LOG_FILES, 'no log files recorded'
    for path in LOG_FILES:
        try:
            text = path.read_text(errors='replace')
        except FileNotFoundError:
            continue
        for tok in SESSION_TOKENS:
            assert tok not in text, f'a token ({tok[:8]}…) appears in {path}'
            assert tok[4:] not in text, f'a token body ({tok[4:10]}…) appears in {path}'
        found = TOKEN_ANYWHERE_RE.findall(text)
        assert not found, f'token-like strings in {path}: {[f[:8] for f in found]}'
        assert SECRET_KEY not in text, f'HDF_SECRET_KEY appears in {path}'


def test_main_stdout_is_json_lines(server, api):
    assert api.get('/healthz').status_code == 200
    lines = [line for line in server.stdout_text().splitlines() if line.strip()]
    assert lines, 'the server logged nothing on stdout'
    requests_seen = 0
    bad = []
    for line in lines:
        rec = json.loads(line)  # every stdout line is one JSON object
        assert isinstance(rec, dict), line
        assert RFC3339_MS_RE.match(rec.get('ts', '')), line
        assert rec.get('level') in ('debug', 'info', 'warn', 'error'), line
        assert isinstance(rec.get('msg'), str) and rec['msg'], line
        if rec['msg'] == 'request':
            requests_seen += 1
            missing = [f for f in ('request_id', 'key_id', 'method', 'route', 'status', 'duration_ms') if f not in rec]
            if missing:
                bad.append(f'lacks {missing}: {line}')
            elif not (rec['route'] == 'unmatched' or rec['route'].startswith('/')) or '?' in rec['route']:
                bad.append(f'route is not a template: {line}')
    assert requests_seen >= 1
    assert not bad, f'{len(bad)} malformed request log lines, e.g.:\n' + '\n'.join(bad[:5])
