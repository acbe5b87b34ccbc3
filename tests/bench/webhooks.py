#!/usr/bin/python3
"""webhooks.py: delivery throughput of `helpdeskflow worker` to a fast local receiver (issue 9:
at least 1,000 deliveries per second).

Own throw-away cluster (tests/api/hdf.py), one subscription, N events written in one SQL
statement (customers inserted: the outbox triggers queue N deliveries), then a worker process is
started and timed until every delivery has succeeded. The receiver is tests/bench/webhook_receiver.c
(epoll, keep-alive, 200 and an empty body; built next to HDF_BIN), so that it is not the bottleneck.

    HDF_BIN=build/helpdeskflow /usr/bin/python3 tests/bench/webhooks.py [N] [workers]

`webhooks.py create [seconds [rounds]] [--no-worker | --pinned]`: POST /v1/tickets throughput
(wrk, tests/bench/lua/create.lua) with no subscription, then with 3 subscriptions to every event
type, alternating (3 rounds by default; the median change is printed). By default the server's own
worker thread delivers to the receiver meanwhile, on the same CPUs as everything else. With
`--no-worker` nothing is delivered: the difference is the cost on the write path alone (triggers,
fan-out). With `--pinned` the deliveries run on a CPU of their own: Postgres, the API server and wrk
on CPU 0, `helpdeskflow worker`, its Postgres backend and the receiver on CPU 1 (a deployment whose
workers do not compete with the API for CPU; needs 2 CPUs).
"""
import http.client
import subprocess
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'api'))
import hdf  # noqa: E402


def start_receiver(procs):
    """tests/bench/webhook_receiver.c, built next to HDF_BIN; returns (port, count function)."""
    build = os.path.dirname(os.path.abspath(hdf.binary_path()))
    r = subprocess.run(['cmake', '--build', build, '--target', 'webhook_receiver'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    portfile = f'/tmp/hdf-receiver-{os.getpid()}.port'
    if os.path.exists(portfile):
        os.unlink(portfile)
    p = subprocess.Popen([os.path.join(build, 'webhook_receiver'), portfile])
    procs.append(p)
    hdf.wait_until(lambda: os.path.exists(portfile) and open(portfile).read().endswith('\n'), 10, what='receiver up')
    port = int(open(portfile).read())
    os.unlink(portfile)

    def count():
        c = http.client.HTTPConnection('127.0.0.1', port, timeout=10)
        c.request('GET', '/count')
        n = int(c.getresponse().read())
        c.close()
        return n
    return port, count


def stop(procs):
    for p in procs:
        if isinstance(p, subprocess.Popen):
            p.kill()
            p.wait()
        elif p.alive():
            p.stop()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    nworkers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    pg = hdf.PgCluster().init()
    procs = []
    try:
        env = {'DATABASE_URL': pg.url(), 'HDF_SECRET_KEY': hdf.SECRET_KEY, 'HDF_WEBHOOK_ALLOW_HTTP': '1',
               'HDF_WEBHOOK_ALLOW_PRIVATE': '1', 'HDF_LOG_LEVEL': 'warn', 'HDF_THREADS': '1'}
        r = hdf.run_cli(['migrate'], env=env, timeout=120)
        assert r.returncode == 0, r.stderr
        port, count = start_receiver(procs)
        pg.psql("SELECT hdf_admin.create_workspace('bench', 'Bench')")
        token = pg.psql("SELECT token FROM hdf_admin.create_api_key('bench', 'admin', 'bench', NULL, NULL)")[0][0]
        api_port = hdf.free_port()
        srv = hdf.ServerProc('bench-api', '/tmp', {**env, 'HDF_LISTEN': f'127.0.0.1:{api_port}'},
                             args=('serve', '--no-worker'))
        procs.append(srv.start())
        r = srv.api().post('/v1/webhooks', token=token,
                           json={'url': f'http://127.0.0.1:{port}/hook', 'events': ['customer.created']})
        assert r.status_code == 201, r.text
        t0 = time.monotonic()
        pg.psql(f"INSERT INTO customers (workspace_id, email) SELECT w.id, 'c' || g || '@example.com' "
                f"FROM workspaces w, generate_series(1, {n}) g WHERE w.slug = 'bench'")
        t1 = time.monotonic()
        print(f'{n} events and deliveries written in {t1 - t0:.2f} s ({n / (t1 - t0):.0f}/s, one statement)')
        start = time.monotonic()
        for i in range(nworkers):
            procs.append(hdf.ServerProc(f'bench-worker-{i}', '/tmp', env, args=('worker',)).start(wait=None))
        hdf.wait_until(lambda: count() >= n, 600, interval=0.02, what='all received')
        elapsed = time.monotonic() - start
        left = pg.scalar("SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'")
        hdf.wait_until(lambda: pg.scalar("SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'") == '0',
                       60, what='all recorded')
        done = time.monotonic() - start
        print(f'{nworkers} worker(s): {n} received in {elapsed:.2f} s ({n / elapsed:.0f}/s); '
              f'all recorded succeeded in {done:.2f} s ({n / done:.0f}/s); not yet recorded at receipt: {left}')
    finally:
        stop(procs)
        pg.destroy()


def wrk_create(url, token, seconds, cpus=None):
    lua = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lua')
    env = {**os.environ, 'HDF_BENCH_LUA': lua, 'HDF_BENCH_TOKEN': token, 'HDF_BENCH_NCUST': '1000',
           'HDF_BENCH_THREADS': '2'}
    r = subprocess.run(['wrk', '-t2', '-c32', f'-d{seconds}s', '-s', os.path.join(lua, 'create.lua'), url],
                       capture_output=True, text=True, env=env, timeout=seconds + 60,
                       preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None)
    rps = [line for line in r.stdout.splitlines() if line.startswith('Requests/sec')][0].split()[1]
    statuses = [line for line in r.stdout.splitlines() if 'statuses' in line]
    return float(rps), statuses


def tcp_ports_of(pid):
    """Local TCP ports of the sockets process pid holds (to find its Postgres backends)."""
    inodes = set()
    for fd in os.listdir(f'/proc/{pid}/fd'):
        try:
            link = os.readlink(f'/proc/{pid}/fd/{fd}')
        except OSError:
            continue
        if link.startswith('socket:['):
            inodes.add(link[8:-1])
    ports = set()
    for table in ('/proc/net/tcp', '/proc/net/tcp6'):
        for line in open(table).read().splitlines()[1:]:
            f = line.split()
            if f[9] in inodes:
                ports.add(int(f[1].rsplit(':', 1)[1], 16))
    return ports


def set_cpus(pid, cpus):
    """Every thread of process pid (sched_setaffinity on a pid moves only that thread)."""
    for tid in os.listdir(f'/proc/{pid}/task'):
        os.sched_setaffinity(int(tid), cpus)


def pin(pg, api_pid, worker_pid):
    """--pinned: Postgres (the postmaster's children inherit), the API server and wrk on CPU 0; the
    worker process, its own backend and the receiver on CPU 1."""
    for pid, port in pg.psql('SELECT pid, client_port FROM pg_stat_activity WHERE client_port IS NOT NULL'):
        if int(port) in tcp_ports_of(worker_pid):
            print(f'worker backend {pid} on CPU 1')
            set_cpus(int(pid), {1})
    set_cpus(api_pid, {0})
    set_cpus(worker_pid, {1})


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def create_mode(seconds, mode, rounds):
    """mode: shared (serve with its worker thread), no-worker (serve --no-worker, nothing delivered),
    pinned (serve --no-worker + `helpdeskflow worker`, on separate CPUs as described in pin())."""
    pg = hdf.PgCluster().init()
    procs = []
    try:
        limits = {f'HDF_RATE_LIMIT_{c}': 'off' for c in ('TICKET_CREATE', 'TICKET_UPDATE', 'CUSTOMER', 'READ', 'ADMIN')}
        env = {'DATABASE_URL': pg.url(), 'HDF_SECRET_KEY': hdf.SECRET_KEY, 'HDF_WEBHOOK_ALLOW_HTTP': '1',
               'HDF_WEBHOOK_ALLOW_PRIVATE': '1', 'HDF_LOG_LEVEL': 'warn', 'HDF_THREADS': '2', **limits}
        assert hdf.run_cli(['migrate'], env=env, timeout=120).returncode == 0
        cpus = None
        if mode == 'pinned':
            cpus = {0}
            postmaster = int(open(os.path.join(pg.data, 'postmaster.pid')).readline())
            for pid in [postmaster] + [int(c) for c in open(f'/proc/{postmaster}/task/{postmaster}/children').read().split()]:
                set_cpus(pid, {0})
        port, count = start_receiver(procs)
        if mode == 'pinned':
            set_cpus(procs[-1].pid, {1})
        pg.psql("SELECT hdf_admin.create_workspace('bench', 'Bench')")
        token = pg.psql("SELECT token FROM hdf_admin.create_api_key('bench', 'admin', 'bench', NULL, NULL)")[0][0]
        api_port = hdf.free_port()
        srv = hdf.ServerProc('bench-api', '/tmp', {**env, 'HDF_LISTEN': f'127.0.0.1:{api_port}'},
                             args=('serve',) if mode == 'shared' else ('serve', '--no-worker'))
        procs.append(srv.start())
        if mode == 'pinned':
            wrk = hdf.ServerProc('bench-worker', '/tmp', env, args=('worker',)).start(wait=None)
            procs.append(wrk)
            time.sleep(1)  # connected
            pin(pg, srv.proc.pid, wrk.proc.pid)
        subs, changes = [], []
        for rnd in range(rounds):
            for s in subs:
                srv.api().delete(f'/v1/webhooks/{s}', token=token)
            subs = []
            base, st0 = wrk_create(srv.url + '/v1/tickets', token, seconds, cpus)
            for i in range(3):
                r = srv.api().post('/v1/webhooks', token=token,
                                   json={'url': f'http://127.0.0.1:{port}/hook{i}', 'events': list(EVENT_TYPES)})
                assert r.status_code == 201, r.text
                subs.append(r.json()['id'])
            before = count()
            with3, st3 = wrk_create(srv.url + '/v1/tickets', token, seconds, cpus)
            delivered = count() - before
            changes.append((with3 - base) / base * 100)
            print(f'round {rnd + 1}: no subscription {base:.0f} req/s {st0}; 3 subscriptions {with3:.0f} req/s {st3} '
                  f'({changes[-1]:+.1f}%); delivered meanwhile {delivered} ({delivered / seconds:.0f}/s)', flush=True)
        print(f'{mode}: median change {median(changes):+.1f}% over {rounds} rounds of {seconds} s')
    finally:
        stop(procs)
        pg.destroy()


EVENT_TYPES = ('ticket.created', 'ticket.updated', 'message.created', 'customer.created', 'customer.updated',
               'customer.merged', 'sla.warning', 'sla.breached')

if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == 'create':
        nums = [int(a) for a in sys.argv[2:] if a.isdigit()]
        create_mode(nums[0] if nums else 10,
                    'no-worker' if '--no-worker' in sys.argv else 'pinned' if '--pinned' in sys.argv else 'shared',
                    nums[1] if len(nums) > 1 else 3)
    else:
        main()
