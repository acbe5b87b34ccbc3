"""Row locks around tickets: a message waits for a PATCH's lock no longer than a PATCH would
(HDF_LOCK_TIMEOUT_MS, then 409 lock_timeout, nothing written), and If-Match: * matches any
current version."""
import time

from hdf import assert_problem, wait_until
from ticket_helpers import create_ticket


def test_message_on_a_locked_ticket_is_409_and_writes_nothing(api, pg, admin_key):
    t = create_ticket(api, admin_key.token)
    holder = pg.psql_background(f"BEGIN; SELECT 1 FROM tickets WHERE id = {t['id']} FOR UPDATE; "
                                "SELECT pg_sleep(2) /* message-lock-holder */; COMMIT;")
    try:
        wait_until(lambda: pg.scalar("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%message-lock-holder%' "
                                     "AND state = 'active' AND pid <> pg_backend_pid()") == '1', 5, what='lock holder')
        t0 = time.monotonic()
        r = api.post(f"/v1/tickets/{t['id']}/messages", token=admin_key.token, json={'body': 'hello'})
        assert_problem(r, 409, 'lock_timeout')
        assert time.monotonic() - t0 < 1.5
    finally:
        holder.wait(15)
    assert pg.scalar(f"SELECT count(*) FROM messages WHERE ticket_id = {t['id']}") == '0'  # created without a body
    r = api.post(f"/v1/tickets/{t['id']}/messages", token=admin_key.token, json={'body': 'hello'})
    assert r.status_code == 201, r.text


def test_if_match_star_matches_any_version(api, admin_key):
    t = create_ticket(api, admin_key.token)
    r = api.patch(f"/v1/tickets/{t['id']}", token=admin_key.token, headers={'If-Match': '*'}, json={'status': 'open'})
    assert r.status_code == 200 and r.headers['ETag'] == '"2"'
    r = api.patch('/v1/tickets/999999999', token=admin_key.token, headers={'If-Match': '*'}, json={'status': 'open'})
    assert_problem(r, 404, 'not_found')
