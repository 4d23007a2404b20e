#!/usr/bin/python3
"""kbook-feedd under the robustness cases of issue 14, with python3-websockets (Debian's 10.4) and
raw sockets. Prints one line per check: name TAB expected TAB actual; lines starting with "info"
are measurements for the report (t_feed_robust.sh prints them, asserts nothing on them).

usage: feed_robust.py revoke WS_URL PGCONN ADMIN TICKER KEY1 KEY2 KEY3 KEY4 KEY5 EMAIL3
       feed_robust.py replay WS_URL PGCONN KEY FEEDD_PID METRICS_URL BOUND_MB TICKER_A TICKER_B
"""
import asyncio
import base64
import json
import os
import socket
import subprocess
import sys
import time

import websockets

SCEN, WS, PG = sys.argv[1:4]
ARGS = sys.argv[4:]


def out(name, expected, actual):
    print(f"{name}\t{expected}\t{actual}", flush=True)


def psql(sql):
    return subprocess.run(["psql", "-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-d", PG],
                          input=sql, capture_output=True, text=True, check=True).stdout.strip()


async def open_sub(key, ticker):
    ws = await websockets.connect(WS, extra_headers={"X-API-Key": key}, max_size=None)
    await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_ticker": ticker}}))
    for want in ("subscribed", "orderbook_snapshot"):
        m = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert m["type"] == want, m
    return ws


async def cut_off(ws, timeout=5.0):
    """Reads until the connection closes; returns (the last error's code and detail, close code,
    close reason, seconds it took)."""
    t0 = time.monotonic()
    err = None
    try:
        while True:
            m = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if m.get("type") == "error":
                err = (m["msg"].get("code"), m["msg"].get("detail"), m.get("id"))
    except websockets.ConnectionClosed:
        pass
    except asyncio.TimeoutError:
        return err, None, None, None
    return err, ws.close_code, ws.close_reason, time.monotonic() - t0


def silent_revoke(prefix):
    """Revokes a key with the trigger off: what feedd sees when it missed the NOTIFY."""
    psql("BEGIN; ALTER TABLE api_keys DISABLE TRIGGER api_keys_revoked;"
         f" UPDATE api_keys SET revoked_at = now() WHERE prefix = '{prefix}';"
         " ALTER TABLE api_keys ENABLE TRIGGER api_keys_revoked; COMMIT;")


async def revoke():
    admin, ticker, k1, k2, k3, k4, k5, email3 = ARGS
    c1, c2, c3, c4, c5 = [await open_sub(k, ticker) for k in (k1, k2, k3, k4, k5)]

    subprocess.run([admin, "key", "revoke", k1[:16]], check=True, capture_output=True)
    err, code, reason, secs = await cut_off(c1)
    out("kbook-admin key revoke: Kalshi error 9 naming the reason", "(9, 'API key revoked', None)", err)
    out("kbook-admin key revoke: closed 1008 'API key revoked'", "1008 API key revoked", f"{code} {reason}")
    out("kbook-admin key revoke: cut off within 3 s", True, secs is not None and secs < 3)
    await c2.send(json.dumps({"id": 2, "cmd": "list_subscriptions"}))
    m = json.loads(await asyncio.wait_for(c2.recv(), 5))
    out("another key of the same account keeps its connection", "ok", m.get("type"))

    psql(f"UPDATE api_keys SET revoked_at = now() WHERE prefix = '{k2[:16]}'")
    err, code, reason, secs = await cut_off(c2)
    out("a revoke by any path (SQL): closed 1008 'API key revoked'", "1008 API key revoked", f"{code} {reason}")

    subprocess.run([admin, "account", "set", email3, "disabled", "true"], check=True, capture_output=True)
    err, code, reason, secs = await cut_off(c3)
    out("account disabled: Kalshi error 9 naming the reason", "(9, 'account disabled', None)", err)
    out("account disabled: closed 1008 'account disabled'", "1008 account disabled", f"{code} {reason}")
    out("account disabled: cut off within 3 s", True, secs is not None and secs < 3)

    # a missed notification: the next subscribe's charge finds the key revoked and says so
    silent_revoke(k4[:16])
    await c4.send(json.dumps({"id": 7, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_ticker": ticker}}))
    err, code, reason, secs = await cut_off(c4)
    out("subscribe with a revoked key: error 9 'API key revoked' (not credits exhausted)",
        "(9, 'API key revoked', 7)", err)
    out("subscribe with a revoked key: then closed 1008", "1008 API key revoked", f"{code} {reason}")

    # missed while the LISTEN connection was down: checked again when it comes back
    silent_revoke(k5[:16])
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN kbook_deltas'")
    err, code, reason, secs = await cut_off(c5, timeout=8)
    out("revoked while feedd's LISTEN was down: cut off once it reconnects",
        "1008 API key revoked", f"{code} {reason}")


async def plan():
    """Plan changes reach open connections (sql/016_plan_events.sql): limits read again within
    seconds, connections over them closed with the limit named, the others kept."""
    admin, ta, tb, key, email = ARGS
    c1 = await open_sub(key, ta)
    await c1.send(json.dumps({"id": 2, "cmd": "update_subscription", "params": {
        "sids": [1], "action": "add_markets", "market_tickers": [tb]}}))
    for want in ("ok", "orderbook_snapshot"):
        m = json.loads(await asyncio.wait_for(c1.recv(), 10))
        assert m["type"] == want, m
    c2, c3 = await open_sub(key, tb), await open_sub(key, tb)

    # an operator's override of the markets per connection: c1 holds 2 markets, the others 1
    subprocess.run([admin, "account", "set", email, "feed_markets", "1"], check=True, capture_output=True)
    err, code, reason, secs = await cut_off(c1)
    out("markets limit lowered: error 26 naming the limit",
        "(26, 'plan limit: 1 markets per connection', None)", err)
    out("markets limit lowered: closed 1008 with the limit", "1008 plan limit: 1 markets per connection",
        f"{code} {reason}")
    out("markets limit lowered: closed within 3 s", True, secs is not None and secs < 3)
    await c2.send(json.dumps({"id": 3, "cmd": "list_subscriptions"}))
    m = json.loads(await asyncio.wait_for(c2.recv(), 5))
    out("a connection within the new limit stays", "ok", m.get("type"))
    await c2.send(json.dumps({"id": 4, "cmd": "update_subscription", "params": {
        "sids": [1], "action": "add_markets", "market_tickers": [ta]}}))
    m = json.loads(await asyncio.wait_for(c2.recv(), 5))
    out("... and its commands are held to it (error 26)", 26, m.get("msg", {}).get("code"))

    # a downgrade (as the billing webhook makes it, in SQL): free allows 2 connections per key
    c4 = await open_sub(key, tb)
    psql(f"UPDATE accounts SET plan = 'free', feed_markets_override = NULL WHERE email = '{email}'")
    err, code, reason, secs = await cut_off(c4)
    out("downgraded to free with 3 connections: the newest gets error 1 naming the limit",
        "(1, 'plan limit: 2 connections per API key', None)", err)
    out("... and is closed 1008 with it", "1008 plan limit: 2 connections per API key", f"{code} {reason}")
    out("... within 3 s", True, secs is not None and secs < 3)
    for name, c in (("c2", c2), ("c3", c3)):
        await c.send(json.dumps({"id": 5, "cmd": "list_subscriptions"}))
        m = json.loads(await asyncio.wait_for(c.recv(), 5))
        out(f"the two oldest stay ({name})", "ok", m.get("type"))
    await c2.close()
    await c3.close()


def raw_upgrade(key, rcvbuf):
    host, _, rest = WS[len("ws://"):].partition("/")
    h, _, port = host.partition(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect((h, int(port)))
    k = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET /{rest} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {k}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nX-API-Key: {key}\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    return sock, head.split(b" ")[1].decode()


def raw_send(sock, obj):
    frame = json.dumps(obj).encode()
    mask = b"\x01\x02\x03\x04"
    n = len(frame)
    head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(frame)))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def metric(url, name):
    import urllib.request
    for line in urllib.request.urlopen(url, timeout=5).read().decode().splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return -1


def write_deltas(mid, n, gap_s=0.0, first_ts=None):
    """Commits n deltas of market mid, one transaction + NOTIFY each (the collector's contract),
    gap_s apart, on one psql session (its ts is the instant the statement is handed to it, so the
    latency measured is commit + NOTIFY + feedd); returns their ts (us)."""
    out_ts = []
    p = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", PG],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    for i in range(n):
        ts = int(time.time() * 1e6)
        if first_ts is not None:
            ts = max(ts, first_ts + i + 1)
        out_ts.append(ts)
        p.stdin.write(f"BEGIN; INSERT INTO book_deltas VALUES ({mid}, kb_ts({ts}), kb_ts({ts - 2000}),"
                      f" 0, {(i % 90 + 1) * 10000}, 100);"
                      f" UPDATE markets SET last_ts = greatest(last_ts, kb_ts({ts})) WHERE id = {mid};"
                      f" NOTIFY kbook_deltas, '{mid}'; COMMIT;\n")
        p.stdin.flush()
        if gap_s:
            time.sleep(gap_s)
    p.stdin.close()
    p.wait()
    return out_ts


async def live_phase(ws, mid, n, label):
    """n deltas committed on a live market, one at a time, each once the client has received the
    previous one (so no queue builds up anywhere and each latency is one delta's: commit, NOTIFY,
    feedd's read and send, the client): all received, in order, once; prints the latencies."""
    p = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", PG],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    written, got, seqs, lat = [], [], [], []
    try:
        for i in range(n):
            ts = int(time.time() * 1e6)
            written.append(ts)
            p.stdin.write(f"BEGIN; INSERT INTO book_deltas VALUES ({mid}, kb_ts({ts}), kb_ts({ts - 2000}),"
                          f" 1, {(i % 90 + 1) * 10000}, 100);"
                          f" UPDATE markets SET last_ts = greatest(last_ts, kb_ts({ts})) WHERE id = {mid};"
                          f" NOTIFY kbook_deltas, '{mid}'; COMMIT;\n")
            p.stdin.flush()
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 15))
                if m.get("type") == "orderbook_delta":
                    break
            lat.append(time.time() * 1e3 - ts / 1e3)
            got.append(m["ts"])
            seqs.append(m["seq"])
            await asyncio.sleep(0.01)
    except (asyncio.TimeoutError, websockets.ConnectionClosed):
        pass
    p.stdin.close()
    p.wait()
    out(f"{label}: every live delta received, in order, once", written, got)
    out(f"{label}: seqs contiguous", True, seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else False)
    lat.sort()
    if lat:
        print(f"info\t{label}: latency commit->receipt ms p50 {lat[len(lat) // 2]:.2f}"
              f" p99 {lat[min(len(lat) - 1, int(len(lat) * 0.99))]:.2f} max {lat[-1]:.2f}", flush=True)
    return lat


async def replay():
    key, pid, murl, bound_mb, ta, tb = ARGS
    pid, bound_kb = int(pid), int(bound_mb) * 1024
    ida = int(psql(f"SELECT id FROM markets WHERE ticker = '{ta}'"))
    idb = int(psql(f"SELECT id FROM markets WHERE ticker = '{tb}'"))
    rows = int(psql(f"SELECT (SELECT count(*) FROM book_deltas WHERE market_id = {ida})"
                    f" + (SELECT count(*) FROM gaps WHERE market_id = {ida})"
                    f" + (SELECT count(*) FROM book_checkpoints WHERE market_id = {ida} AND source = 'snapshot')"))
    last = int(psql(f"SELECT kb_us(max(ts)) FROM book_deltas WHERE market_id = {ida}"))

    # one resuming client that reads: the whole history once, in order, then live rows written
    # during its replay, with no gap or duplicate where they meet
    ws = await websockets.connect(WS, extra_headers={"X-API-Key": key}, max_size=None)
    await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_ticker": ta, "since": 0}}))
    loop = asyncio.get_running_loop()
    extra = loop.run_in_executor(None, write_deltas, ida, 50, 0.002, last)
    seen, seqs = [], []
    try:
        while len(seen) < rows + 50:
            m = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if m.get("type") in ("orderbook_delta", "orderbook_snapshot", "gap"):
                seen.append(m["ts"])
                seqs.append(m["seq"])
    except (asyncio.TimeoutError, websockets.ConnectionClosed):
        pass
    written = await extra
    out("resume since 0: history + live rows written meanwhile, each once", rows + 50, len(seen))
    out("resume: in ts order", True, seen == sorted(seen))
    out("resume: no duplicate", len(seen), len(set(seen)))
    out("resume: the live rows at the end", written, seen[-50:])
    out("resume: seqs contiguous", True, seqs == list(range(1, len(seqs) + 1)))
    await ws.close()

    fast = await websockets.connect(WS, extra_headers={"X-API-Key": key}, max_size=None)
    await fast.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_ticker": tb}}))
    for _ in range(2):  # subscribed, snapshot
        await asyncio.wait_for(fast.recv(), 10)
    await live_phase(fast, idb, 100, "baseline (no slow client)")

    rss0 = rss_kb(pid)
    slow = []
    for _ in range(50):
        s, status = raw_upgrade(key, 4096)
        out("slow client upgraded", "101", status)
        raw_send(s, {"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_ticker": ta, "since": 0}})
        slow.append(s)
    peak, replay_peak = rss0, 0

    async def sample():
        nonlocal peak, replay_peak
        while True:
            peak = max(peak, rss_kb(pid))
            replay_peak = max(replay_peak, metric(murl, "kbook_feed_replay_bytes"))
            await asyncio.sleep(0.1)
    sampler = asyncio.ensure_future(sample())
    await asyncio.sleep(2)
    await live_phase(fast, idb, 100, "with 50 slow resuming clients")
    await asyncio.sleep(1)
    sampler.cancel()
    grown = peak - rss0
    print(f"info\tfeedd RSS {rss0} kB before the 50 slow clients, peak {peak} kB (+{grown} kB);"
          f" replay bytes queued at most {replay_peak}; replay chunks read in all"
          f" {metric(murl, 'kbook_feed_replay_chunks_total')}", flush=True)
    out(f"50 slow resuming clients grow feedd by less than {bound_mb} MB", True, grown < bound_kb)
    out("replay bytes queued stay under KBOOK_FEEDD_REPLAY_MEM (4 MiB) plus one chunk", True,
        0 <= replay_peak < 4 * 1048576 + 262144)
    for s in slow:
        s.close()
    await fast.close()


asyncio.run({"revoke": revoke, "plan": plan}.get(SCEN, replay)())
