#!/usr/bin/python3
"""WebSocket and REST checks of kalshi-sim, driven by tests/integration/t_sim_*.sh.

Run with Debian's /usr/bin/python3 (python3-websockets 10.4, python3-cryptography). The handshake
is signed the way Kalshi's official starter code (kalshi-starter-code-python) signs it: RSA-PSS,
SHA-256, MGF1(SHA-256), salt length = digest length, over timestamp_ms + "GET" + path.

Every assertion prints one line "CHECK<TAB>name<TAB>expected<TAB>actual"; the shell test turns
each into a `check` call. Usage:

    kalshi_ws_check.py SCENARIO --port N --key PRIVATE_PEM --key-id ID [--other-key PEM]

Scenarios: auth, conformance, errors, malformed, truth, faults, overflow, lifecycle, rest.
"""
import argparse
import asyncio
import base64
import json
import sys
import time
import urllib.error
import urllib.request
from decimal import Decimal

import websockets
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

WS_PATH = "/trade-api/ws/v2"
ARGS = None


def check(name, expected, actual):
    print("CHECK\t%s\t%s\t%s" % (name, expected, actual), flush=True)


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def sign(key, ts, method, path):
    msg = (ts + method + path).encode()
    sig = key.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                    salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256())
    return base64.b64encode(sig).decode()


def auth_headers(key, key_id, path=WS_PATH, ts=None, method="GET"):
    ts = ts if ts is not None else str(int(time.time() * 1000))
    return {"KALSHI-ACCESS-KEY": key_id, "KALSHI-ACCESS-TIMESTAMP": ts,
            "KALSHI-ACCESS-SIGNATURE": sign(key, ts, method, path)}


def http(method, path, headers=None):
    """Returns (status, parsed JSON body or raw text)."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (ARGS.port, path), method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")


def ctl(path):
    return http("POST" if not path.startswith("/_sim/book") and not path.startswith("/_sim/stats")
                else "GET", path)[1]


async def connect(headers=None, **kw):
    if headers is None:
        headers = auth_headers(load_key(ARGS.key), ARGS.key_id)
    return await websockets.connect("ws://127.0.0.1:%d%s" % (ARGS.port, WS_PATH),
                                    extra_headers=headers, ping_interval=None,
                                    max_size=64 << 20, **kw)


async def recv(ws, timeout=5.0):
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def send(ws, obj):
    await ws.send(obj if isinstance(obj, str) else json.dumps(obj))


async def recv_until(ws, pred, timeout=5.0):
    """Reads messages until pred(msg) holds; returns (msg, skipped list)."""
    skipped = []
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None, skipped
        try:
            m = await recv(ws, left)
        except asyncio.TimeoutError:
            return None, skipped
        if pred(m):
            return m, skipped
        skipped.append(m)


async def quiet(ws, secs=0.3, most=None):
    """Everything that arrives until secs pass without a message, or at most `most` seconds in all
    (for a socket that never falls silent, such as one with a lifecycle timer)."""
    out = []
    deadline = time.monotonic() + most if most is not None else None
    while deadline is None or time.monotonic() < deadline:
        wait = secs if deadline is None else min(secs, max(deadline - time.monotonic(), 0.01))
        try:
            out.append(await recv(ws, wait))
        except asyncio.TimeoutError:
            return out
    return out


def px(v):
    return int(Decimal(str(v)) * 1000000)


def sz(v):
    return int(Decimal(str(v)) * 100)


class Book:
    def __init__(self):
        self.side = {"yes": {}, "no": {}}

    def snapshot(self, msg):
        self.side = {"yes": {}, "no": {}}
        for key, s in (("yes_dollars_fp", "yes"), ("no_dollars_fp", "no")):
            for p, q in msg.get(key, []):
                self.side[s][px(p)] = sz(q)

    def delta(self, msg):
        s, p, d = msg["side"], px(msg["price_dollars"]), sz(msg["delta_fp"])
        v = self.side[s].get(p, 0) + d
        if v < 0:
            return False
        if v == 0:
            self.side[s].pop(p, None)
        else:
            self.side[s][p] = v
        return True

    def copy(self):
        b = Book()
        b.side = {"yes": dict(self.side["yes"]), "no": dict(self.side["no"])}
        return b

    @staticmethod
    def from_truth(t):
        b = Book()
        b.snapshot({"yes_dollars_fp": t["yes_dollars_fp"], "no_dollars_fp": t["no_dollars_fp"]})
        return b


def tickers(n, status="open"):
    st, body = http("GET", "/trade-api/v2/markets?limit=1000&status=%s" % status)
    return [m["ticker"] for m in body["markets"]][:n]


def ascending(levels):
    ps = [px(p) for p, _ in levels]
    return ps == sorted(ps) and len(set(ps)) == len(ps)


# ---- scenarios ---------------------------------------------------------------------------------

async def sc_auth():
    key = load_key(ARGS.key)
    other = load_key(ARGS.other_key)

    async def status_of(headers, path=WS_PATH):
        try:
            ws = await websockets.connect("ws://127.0.0.1:%d%s" % (ARGS.port, path),
                                          extra_headers=headers, ping_interval=None)
        except websockets.exceptions.InvalidStatusCode as e:
            return e.status_code
        await ws.close()
        return 101

    check("unsigned upgrade is refused", 401, await status_of({}))
    h = auth_headers(key, ARGS.key_id)
    h["KALSHI-ACCESS-SIGNATURE"] = h["KALSHI-ACCESS-SIGNATURE"][::-1]
    check("garbled signature is refused", 401, await status_of(h))
    stale = str(int(time.time() * 1000) - 120000)
    check("timestamp outside the window is refused", 401,
          await status_of(auth_headers(key, ARGS.key_id, ts=stale)))
    future = str(int(time.time() * 1000) + 120000)
    check("future timestamp is refused", 401,
          await status_of(auth_headers(key, ARGS.key_id, ts=future)))
    check("signature over another path is refused", 401,
          await status_of(auth_headers(key, ARGS.key_id, path="/trade-api/v2/markets")))
    check("signature over another method is refused", 401,
          await status_of(auth_headers(key, ARGS.key_id, method="POST")))
    check("another key's signature is refused", 401,
          await status_of(auth_headers(other, ARGS.key_id)))
    check("unknown key id is refused", 401,
          await status_of(auth_headers(key, "00000000-0000-0000-0000-000000000000")))
    h = auth_headers(key, ARGS.key_id)
    del h["KALSHI-ACCESS-TIMESTAMP"]
    check("missing timestamp header is refused", 401, await status_of(h))
    check("upgrade on another path is 404", 404,
          await status_of(auth_headers(key, ARGS.key_id), "/trade-api/ws/v1"))
    check("properly signed upgrade is accepted", 101, await status_of(auth_headers(key, ARGS.key_id)))
    # lower-case header names are the same headers
    h = {k.lower(): v for k, v in auth_headers(key, ARGS.key_id).items()}
    check("lower-case header names are accepted", 101, await status_of(h))
    st = ctl("/_sim/stats")
    check("stats count the refusals", True, st["ws"]["refused"] >= 10)


async def sc_conformance():
    a, b, c = tickers(3)
    ws = await connect()
    await send(ws, {"id": 1, "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_tickers": [a, b]}})
    m = await recv(ws)
    check("subscribed reply", json.dumps({"id": 1, "type": "subscribed",
                                          "msg": {"channel": "orderbook_delta", "sid": 1}},
                                         sort_keys=True), json.dumps(m, sort_keys=True))
    books = {}
    for i, t in enumerate((a, b)):
        m = await recv(ws)
        check("snapshot %d type" % i, "orderbook_snapshot", m.get("type"))
        check("snapshot %d sid/seq" % i, "1/%d" % (i + 1), "%s/%s" % (m.get("sid"), m.get("seq")))
        check("snapshot %d top-level keys" % i, "msg,seq,sid,type", ",".join(sorted(m)))
        msg = m["msg"]
        check("snapshot %d ticker" % i, t, msg["market_ticker"])
        check("snapshot %d keys" % i, True,
              set(msg) <= {"market_ticker", "market_id", "yes_dollars_fp", "no_dollars_fp"}
              and "market_id" in msg)
        ok = all(ascending(msg[k]) and len(msg[k]) > 0 for k in ("yes_dollars_fp", "no_dollars_fp")
                 if k in msg)
        check("snapshot %d levels ascending, no empty side" % i, True, ok)
        strs = all(isinstance(v, str) for k in ("yes_dollars_fp", "no_dollars_fp")
                   for lv in msg.get(k, []) for v in lv)
        check("snapshot %d values are strings" % i, True, strs)
        truth = ctl("/_sim/book?ticker=%s" % t)
        bk = Book()
        bk.snapshot(msg)
        check("snapshot %d equals the true book" % i, True,
              bk.side == Book.from_truth(truth).side)
        books[t] = bk
    # an empty side is absent: find a market whose true yes side is empty
    empty = None
    for t in tickers(400):
        tr = ctl("/_sim/book?ticker=%s" % t)
        if not tr["yes_dollars_fp"] or not tr["no_dollars_fp"]:
            empty = (t, tr)
            break
    if empty is not None:
        ws2 = await connect()
        await send(ws2, {"id": 1, "cmd": "subscribe",
                         "params": {"channels": ["orderbook_delta"], "market_ticker": empty[0]}})
        await recv(ws2)
        m = await recv(ws2)
        absent = all((k in m["msg"]) == bool(empty[1][k]) for k in ("yes_dollars_fp", "no_dollars_fp"))
        check("an empty side is an absent key", True, absent)
        await ws2.close()
    # deltas: drive the flow by steps and follow seq
    seq = 2
    ctl("/_sim/flow?steps=3000")
    msgs = await quiet(ws, 0.5)
    deltas = [m for m in msgs if m.get("type") == "orderbook_delta"]
    check("deltas arrived for the subscribed markets", True, len(deltas) > 0)
    seqs = [m["seq"] for m in msgs if "seq" in m]
    check("seq continues without gaps across markets", list(range(3, 3 + len(seqs))), seqs)
    seq = 2 + len(seqs)
    if deltas:
        d = deltas[0]
        check("delta top-level keys", "msg,seq,sid,type", ",".join(sorted(d)))
        check("delta msg keys", "delta_fp,market_id,market_ticker,price_dollars,side,ts,ts_ms",
              ",".join(sorted(d["msg"])))
        check("delta types", True, isinstance(d["msg"]["price_dollars"], str)
              and isinstance(d["msg"]["delta_fp"], str) and isinstance(d["msg"]["ts_ms"], int)
              and d["msg"]["side"] in ("yes", "no") and d["msg"]["ts"].endswith("Z"))
        check("delta sizes have 2 decimals", True,
              all(len(x["msg"]["delta_fp"].split(".")[1]) == 2 for x in deltas))
        check("some deltas are negative", True, any(x["msg"]["delta_fp"].startswith("-") for x in deltas))
    for x in deltas:
        books[x["msg"]["market_ticker"]].delta(x["msg"])
    for t in (a, b):
        check("book of %s after deltas equals the truth" % t, True,
              books[t].side == Book.from_truth(ctl("/_sim/book?ticker=%s" % t)).side)
    # update_subscription add_markets: ok with the full set, consuming a seq, then the snapshot
    await send(ws, {"id": 3, "cmd": "update_subscription",
                    "params": {"sids": [1], "market_tickers": [c], "action": "add_markets"}})
    m = await recv(ws)
    seq += 1
    check("add_markets ok", json.dumps({"id": 3, "sid": 1, "seq": seq, "type": "ok",
                                        "msg": {"market_tickers": [a, b, c]}}, sort_keys=True),
          json.dumps(m, sort_keys=True))
    m = await recv(ws)
    seq += 1
    check("snapshot of the added market", "orderbook_snapshot/%s/%d" % (c, seq),
          "%s/%s/%s" % (m["type"], m["msg"]["market_ticker"], m["seq"]))
    await send(ws, {"id": 4, "cmd": "update_subscription",
                    "params": {"sid": 1, "market_tickers": [a], "action": "get_snapshot"}})
    m = await recv(ws)
    seq += 1
    check("get_snapshot sends a snapshot on the same seq", "orderbook_snapshot/%s/%d" % (a, seq),
          "%s/%s/%s" % (m["type"], m["msg"]["market_ticker"], m["seq"]))
    await send(ws, {"id": 5, "cmd": "update_subscription",
                    "params": {"sids": [1], "market_tickers": [b], "action": "delete_markets"}})
    m = await recv(ws)
    seq += 1
    check("delete_markets ok", json.dumps({"id": 5, "sid": 1, "seq": seq, "type": "ok",
                                           "msg": {"market_tickers": [a, c]}}, sort_keys=True),
          json.dumps(m, sort_keys=True))
    await send(ws, {"id": 6, "cmd": "subscribe", "params": {"channels": ["market_lifecycle_v2"]}})
    m = await recv(ws)
    check("lifecycle subscribed", json.dumps({"id": 6, "type": "subscribed",
                                              "msg": {"channel": "market_lifecycle_v2", "sid": 2}},
                                             sort_keys=True), json.dumps(m, sort_keys=True))
    await send(ws, {"id": 7, "cmd": "list_subscriptions"})
    m = await recv(ws)
    check("list_subscriptions", json.dumps({"id": 7, "type": "ok", "msg": [
        {"channel": "orderbook_delta", "sid": 1}, {"channel": "market_lifecycle_v2", "sid": 2}]},
        sort_keys=True), json.dumps(m, sort_keys=True))
    await send(ws, {"id": 8, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta", "market_lifecycle_v2"], "market_tickers": [b]}})
    m1, m2 = await recv(ws), await recv(ws)
    check("one subscribed per channel", "subscribed/8/3,subscribed/8/4",
          "%s/%s/%s,%s/%s/%s" % (m1["type"], m1["id"], m1["msg"]["sid"],
                                 m2["type"], m2["id"], m2["msg"]["sid"]))
    m = await recv(ws)
    check("new subscription starts at seq 1", "3/1", "%s/%s" % (m["sid"], m["seq"]))
    await send(ws, {"id": 9, "cmd": "unsubscribe", "params": {"sids": [1]}})
    m, _ = await recv_until(ws, lambda x: x.get("type") == "unsubscribed")
    check("unsubscribed consumes a seq", json.dumps({"id": 9, "sid": 1, "seq": seq + 1,
                                                     "type": "unsubscribed"}, sort_keys=True),
          json.dumps(m, sort_keys=True))
    ctl("/_sim/flow?steps=3000")
    msgs = await quiet(ws, 0.5)
    check("nothing more on an unsubscribed sid", 0, len([x for x in msgs if x.get("sid") == 1]))
    await ws.close()
    # use_yes_price: NO levels shown as YES prices (notional - p), still ascending
    full = None
    for t in tickers(400):
        tr = ctl("/_sim/book?ticker=%s" % t)
        if tr["yes_dollars_fp"] and tr["no_dollars_fp"]:
            full = (t, tr)
            break
    ws = await connect()
    await send(ws, {"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": [full[0]], "use_yes_price": True}})
    await recv(ws)
    m = await recv(ws)
    want = sorted([1000000 - px(p), sz(q)] for p, q in full[1]["no_dollars_fp"])
    got = [[px(p), sz(q)] for p, q in m["msg"]["no_dollars_fp"]]
    check("use_yes_price shows NO levels at YES prices, ascending", want, got)
    yes = [[px(p), sz(q)] for p, q in m["msg"]["yes_dollars_fp"]]
    check("use_yes_price leaves YES levels alone",
          [[px(p), sz(q)] for p, q in full[1]["yes_dollars_fp"]], yes)
    await ws.close()


ERRORS = [
    ("not JSON", "hello", 1, None),
    ("JSON but not an object", "[1,2]", 1, None),
    ("trailing garbage", '{"id":1,"cmd":"list_subscriptions"} x', 1, None),
    ("params missing", {"id": 2, "cmd": "subscribe"}, 2, None),
    ("channels missing", {"id": 3, "cmd": "subscribe", "params": {"market_tickers": ["X"]}}, 3, None),
    ("channels empty", {"id": 3, "cmd": "subscribe", "params": {"channels": []}}, 3, None),
    ("sids missing", {"id": 4, "cmd": "unsubscribe", "params": {}}, 4, None),
    ("unknown command", {"id": 5, "cmd": "subscribe_all", "params": {}}, 5, None),
    ("cmd missing", {"id": 5, "params": {}}, 5, None),
    ("unknown sid", {"id": 7, "cmd": "unsubscribe", "params": {"sids": [999]}}, 7, None),
    ("unknown sid in update", {"id": 7, "cmd": "update_subscription",
                               "params": {"sids": [999], "market_tickers": ["@T"], "action": "add_markets"}},
     7, None),
    ("unknown channel", {"id": 8, "cmd": "subscribe", "params": {"channels": ["nope"]}}, 8, None),
    ("id of the wrong type", {"id": "1", "cmd": "list_subscriptions"}, 11, None),
    ("channels not an array", {"id": 11, "cmd": "subscribe", "params": {"channels": "orderbook_delta",
                                                                        "market_tickers": ["@T"]}}, 11, None),
    ("ticker and tickers both", {"id": 11, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_ticker": "@T", "market_tickers": ["@T"]}}, 11, None),
    ("market_tickers with a number", {"id": 11, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": [5]}}, 11, None),
    ("use_yes_price not a bool", {"id": 11, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": ["@T"], "use_yes_price": "no"}}, 11, None),
    ("sids of strings", {"id": 11, "cmd": "unsubscribe", "params": {"sids": ["1"]}}, 11, None),
    ("params not an object", {"id": 11, "cmd": "subscribe", "params": [1]}, 11, None),
    ("two sids in update", {"id": 12, "cmd": "update_subscription", "params": {
        "sids": [1, 2], "market_tickers": ["@T"], "action": "add_markets"}}, 12, None),
    ("unsupported action", {"id": 13, "cmd": "update_subscription", "params": {
        "sids": [1], "market_tickers": ["@T"], "action": "replace"}}, 13, None),
    ("orderbook without tickers", {"id": 14, "cmd": "subscribe",
                                   "params": {"channels": ["orderbook_delta"]}}, 14, None),
    ("update without tickers", {"id": 14, "cmd": "update_subscription",
                                "params": {"sids": [1], "action": "add_markets"}}, 14, None),
    ("action missing", {"id": 15, "cmd": "update_subscription",
                        "params": {"sids": [1], "market_tickers": ["@T"]}}, 15, None),
    ("market not found", {"id": 16, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": ["@T", "NOPE"]}}, 16, "NOPE"),
    ("market limit", {"id": 26, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": "@MANY"}}, 26, None),
]


async def sc_errors():
    ts = tickers(1000, "open,unopened,paused,closed,settled")
    t = ts[0]
    ws = await connect()
    for name, frame, code, extra in ERRORS:
        if isinstance(frame, dict):
            frame = json.loads(json.dumps(frame).replace("@T", t))
            if isinstance(frame.get("params"), dict) and frame["params"].get("market_tickers") == "@MANY":
                frame["params"]["market_tickers"] = ts[:ARGS.limit + 1]
        await send(ws, frame)
        m = await recv(ws)
        want_id = frame.get("id") if isinstance(frame, dict) and isinstance(frame.get("id"), int) else None
        got = (m.get("type"), m.get("id"), m.get("msg", {}).get("code"), m.get("msg", {}).get("market_ticker"))
        check("error %d: %s" % (code, name), ("error", want_id, code, extra), got)
        check("error %d message text present" % code, True,
              isinstance(m.get("msg", {}).get("msg"), str) and len(m["msg"]["msg"]) > 0)
    # the limit is exactly the limit
    await send(ws, {"id": 30, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"],
                                                             "market_tickers": ts[:ARGS.limit]}})
    m = await recv(ws)
    check("subscribing exactly the limit works", "subscribed", m.get("type"))
    sid = m["msg"]["sid"]
    await quiet(ws, 0.5)
    await send(ws, {"id": 31, "cmd": "update_subscription", "params": {
        "sid": sid, "market_tickers": [ts[ARGS.limit]], "action": "add_markets"}})
    m, _ = await recv_until(ws, lambda x: x.get("id") == 31)
    check("add_markets past the limit is 26", 26, (m or {}).get("msg", {}).get("code"))
    await send(ws, {"id": 32, "cmd": "update_subscription", "params": {
        "sid": sid, "market_tickers": [t], "action": "add_markets"}})
    m, _ = await recv_until(ws, lambda x: x.get("id") == 32)
    check("re-adding a present market is not an add", "ok", (m or {}).get("type"))
    await send(ws, {"id": 33, "cmd": "update_subscription", "params": {
        "sid": sid, "market_tickers": [ts[ARGS.limit]], "action": "get_snapshot"}})
    m, _ = await recv_until(ws, lambda x: x.get("id") == 33)
    check("get_snapshot of a market outside the sid is 11", 11, (m or {}).get("msg", {}).get("code"))
    await ws.close()


async def sc_malformed():
    ws = await connect()
    huge = '{"id":1,"cmd":"subscribe","params":{"channels":["orderbook_delta"],"market_tickers":["' + \
        "A" * (ARGS.max_frame + 10) + '"]}}'
    await send(ws, huge)
    m = await recv(ws)
    check("a frame over --max-frame is error 1", ("error", 1), (m.get("type"), m["msg"]["code"]))
    await ws.send(b'{"id":1,"cmd":"list_subscriptions"}')
    m = await recv(ws)
    check("a binary frame is error 1", ("error", 1), (m.get("type"), m["msg"]["code"]))
    for i, frame in enumerate(["", "{", "null", "{}", '{"cmd":null}', '{"cmd":1}', '{"id":1.5,"cmd":"x"}',
                               '{"id":1,"cmd":"subscribe","params":{"channels":[null]}}',
                               '{"id":1,"cmd":"subscribe","params":{"channels":["orderbook_delta"],'
                               '"market_tickers":[[[[[]]]]]}}',
                               "[" * 5000 + "]" * 5000, '"\\ud800"', "\u00e9\u00e9",
                               '{"id":99999999999999999999999,"cmd":"list_subscriptions"}']):
        await send(ws, frame)
        m = await recv(ws)
        check("malformed frame %d answered with an error" % i, "error", m.get("type"))
    # fragmented command is reassembled
    await ws.send(['{"id":40,', '"cmd":"list_', 'subscriptions"}'])
    m = await recv(ws)
    check("a fragmented command is reassembled", (40, "ok"), (m.get("id"), m.get("type")))
    await send(ws, {"id": 41, "cmd": "list_subscriptions"})
    m = await recv(ws)
    check("the connection still works", (41, "ok", []), (m.get("id"), m.get("type"), m.get("msg")))
    await ws.close()
    st, body = http("GET", "/_sim/stats")
    check("the sim is alive", 200, st)


async def sc_cmdrate():
    ws = await connect()
    for i in range(12):
        await send(ws, {"id": 100 + i, "cmd": "list_subscriptions"})
    got = [await recv(ws) for _ in range(12)]
    ok = [m["id"] for m in got if m.get("type") == "ok"]
    limited = [(m["id"], m["msg"]["code"]) for m in got if m.get("type") == "error"]
    check("the burst of --cmd-rate commands passes", list(range(100, 105)), ok[:5])
    check("commands past --cmd-rate get error 27 with their id", True,
          len(limited) >= 5 and all(code == 27 for _, code in limited)
          and all(i >= 105 for i, _ in limited))
    await asyncio.sleep(1.1)
    await send(ws, {"id": 200, "cmd": "list_subscriptions"})
    m = await recv(ws)
    check("commands pass again after a second", (200, "ok"), (m.get("id"), m.get("type")))
    await ws.close()


async def sc_truth():
    ts = tickers(ARGS.markets)
    half = (len(ts) + 1) // 2
    ws = await connect()
    await send(ws, {"id": 1, "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_tickers": ts[:half]}})
    await send(ws, {"id": 2, "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_tickers": ts[half:]}})
    books, last_seq, gaps, negative = {}, {}, 0, 0
    samples, pending = [], {}
    n_deltas = 0
    end = time.monotonic() + ARGS.seconds
    while time.monotonic() < end:
        try:
            m = await recv(ws, 1.0)
        except asyncio.TimeoutError:
            continue
        if "seq" in m:
            if m["seq"] != last_seq.get(m["sid"], 0) + 1:
                gaps += 1
            last_seq[m["sid"]] = m["seq"]
        if m["type"] == "orderbook_snapshot":
            b = Book()
            b.snapshot(m["msg"])
            books[m["msg"]["market_ticker"]] = b
        elif m["type"] == "orderbook_delta":
            t = m["msg"]["market_ticker"]
            n_deltas += 1
            p = pending.pop(t, None)
            if p is not None and m["msg"]["ts_ms"] > p[1]:
                samples.append(p)
            if not books[t].delta(m["msg"]):
                negative += 1
            if len(samples) + len(pending) < 40 and n_deltas % 7 == 0:
                pending[t] = (t, m["msg"]["ts_ms"], books[t].copy())
    ctl("/_sim/flow?rate=0")
    for m in await quiet(ws, 0.5):
        if m.get("type") == "orderbook_delta":
            n_deltas += 1
            if m["seq"] != last_seq.get(m["sid"], 0) + 1:
                gaps += 1
            last_seq[m["sid"]] = m["seq"]
            if not books[m["msg"]["market_ticker"]].delta(m["msg"]):
                negative += 1
    check("snapshots for every market", len(ts), len(books))
    check("deltas received", True, n_deltas > ARGS.min_deltas)
    check("no seq gap on any sid", 0, gaps)
    check("no level driven negative", 0, negative)
    mismatch = [t for t in ts if books[t].side != Book.from_truth(ctl("/_sim/book?ticker=%s" % t)).side]
    check("every book equals the ground truth now", [], mismatch)
    bad = []
    for t, ms, b in samples:
        tr = ctl("/_sim/book?ticker=%s&at=%d" % (t, ms * 1000 + 999))
        if b.side != Book.from_truth(tr).side:
            bad.append((t, ms))
    check("books at past instants equal the ground truth (%d samples)" % len(samples), [], bad)
    check("enough past instants sampled", True, len(samples) >= 5)
    st = ctl("/_sim/stats")
    check("stats count the deltas sent", True, st["sent_by_type"]["orderbook_delta"] >= n_deltas)
    check("stats count the snapshots sent", True, st["sent_by_type"]["orderbook_snapshot"] >= len(ts))
    await ws.close()


async def sc_faults():
    a, b = tickers(2)
    ws = await connect()
    await send(ws, {"id": 1, "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_tickers": [a, b]}})
    await quiet(ws, 0.3)
    seq = 2

    async def deltas(n=1500):
        ctl("/_sim/flow?steps=%d" % n)
        return [m for m in await quiet(ws, 0.4) if m.get("sid") == 1]

    r = ctl("/_sim/fault?type=drop&sid=1&count=1")
    check("fault drop applies to one connection", 1, r["connections"])
    ms = await deltas()
    seqs = [m["seq"] for m in ms]
    check("drop makes exactly one seq gap", [seq + 2], [s for i, s in enumerate(seqs) if s != seq + 1 + i][:1])
    seq = seqs[-1]
    ctl("/_sim/fault?type=duplicate&count=1")
    ms = await deltas()
    seqs = [m["seq"] for m in ms]
    check("duplicate repeats one seq", [seq + 1, seq + 1], seqs[:2])
    check("duplicate is the same message", True, ms[0] == ms[1])
    seq = seqs[-1]
    ctl("/_sim/fault?type=reorder&sid=1")
    ms = await deltas(3000)
    seqs = [m["seq"] for m in ms]
    check("reorder swaps two seqs", [seq + 2, seq + 1, seq + 3], seqs[:3])
    seq = max(seqs)
    ctl("/_sim/fault?type=numbers")
    ms = await deltas()
    check("numbers fault sends JSON numbers", True,
          all(isinstance(m["msg"]["price_dollars"], (int, float)) and
              isinstance(m["msg"]["delta_fp"], (int, float)) for m in ms) and len(ms) > 0)
    await send(ws, {"id": 2, "cmd": "update_subscription",
                    "params": {"sid": 1, "market_tickers": [a], "action": "get_snapshot"}})
    m, _ = await recv_until(ws, lambda x: x.get("type") == "orderbook_snapshot")
    lv = m["msg"].get("yes_dollars_fp", []) + m["msg"].get("no_dollars_fp", [])
    check("numbers fault in snapshots", True, all(isinstance(v, (int, float)) for l in lv for v in l))
    ctl("/_sim/fault?type=strings")
    ms = await deltas()
    check("strings restores strings", True,
          all(isinstance(m["msg"]["price_dollars"], str) for m in ms) and len(ms) > 0)
    ctl("/_sim/fault?type=refuse_adds")
    await send(ws, {"id": 3, "cmd": "update_subscription",
                    "params": {"sid": 1, "market_tickers": [tickers(3)[2]], "action": "add_markets"}})
    m, _ = await recv_until(ws, lambda x: x.get("id") == 3)
    check("refuse_adds answers 26", ("error", 26), (m["type"], m["msg"]["code"]))
    await send(ws, {"id": 4, "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_tickers": [a]}})
    m, _ = await recv_until(ws, lambda x: x.get("id") == 4)
    check("refuse_adds refuses subscribe too", ("error", 26), (m["type"], m["msg"]["code"]))
    ctl("/_sim/fault?type=allow_adds")
    await send(ws, {"id": 5, "cmd": "update_subscription",
                    "params": {"sid": 1, "market_tickers": [tickers(3)[2]], "action": "add_markets"}})
    m, _ = await recv_until(ws, lambda x: x.get("id") == 5)
    check("allow_adds lets adds through", "ok", m["type"])
    ctl("/_sim/fault?type=error25&sid=1")
    m, _ = await recv_until(ws, lambda x: x.get("type") == "error")
    check("error25 on request", json.dumps({"type": "error", "sid": 1, "msg": {
        "code": 25, "msg": "Subscription buffer overflow"}}, sort_keys=True), json.dumps(m, sort_keys=True))
    await send(ws, {"id": 6, "cmd": "list_subscriptions"})
    m, _ = await recv_until(ws, lambda x: x.get("id") == 6)
    check("the killed subscription is gone", [], m["msg"])
    # pings: counted by the sim, stopped on request
    p0 = ctl("/_sim/stats")["sent_by_type"]["ping"]
    await asyncio.sleep(1.0)
    p1 = ctl("/_sim/stats")["sent_by_type"]["ping"]
    check("heartbeat pings are sent", True, p1 - p0 >= 2)
    ctl("/_sim/fault?type=stop_pings")
    await asyncio.sleep(0.4)
    p2 = ctl("/_sim/stats")["sent_by_type"]["ping"]
    await asyncio.sleep(1.0)
    p3 = ctl("/_sim/stats")["sent_by_type"]["ping"]
    check("stop_pings stops them", 0, p3 - p2)
    pong = await ws.ping(b"client")
    await asyncio.wait_for(pong, 3)
    check("the sim answers the client's ping", True, True)
    # freeze: no pong, no message; thaw: the pong and the messages come
    ctl("/_sim/fault?type=freeze")
    pong = await ws.ping(b"frozen")
    try:
        await asyncio.wait_for(asyncio.shield(pong), 1.5)
        answered = True
    except asyncio.TimeoutError:
        answered = False
    check("a frozen sim leaves the client's ping unanswered", False, answered)
    await send(ws, {"id": 7, "cmd": "list_subscriptions"})
    got = await quiet(ws, 0.5)
    check("a frozen sim sends nothing", 0, len(got))
    ctl("/_sim/fault?type=thaw")
    await asyncio.wait_for(pong, 3)
    m, _ = await recv_until(ws, lambda x: x.get("id") == 7)
    check("after thaw the pong and the reply arrive", "ok", (m or {}).get("type"))
    ctl("/_sim/fault?type=truncated")
    raw = await asyncio.wait_for(ws.recv(), 3)
    try:
        json.loads(raw)
        parsed = True
    except ValueError:
        parsed = False
    check("truncated sends unparseable JSON", False, parsed)
    ctl("/_sim/fault?type=close")
    try:
        await asyncio.wait_for(ws.recv(), 3)
        closed = False
    except websockets.exceptions.ConnectionClosed:
        closed = True
    check("close drops the connection", True, closed)
    ws = await connect()
    ctl("/_sim/fault?type=bad_utf8")
    try:
        await asyncio.wait_for(ws.recv(), 3)
        code = None
    except websockets.exceptions.ConnectionClosed as e:
        code = e.sent.code if getattr(e, "sent", None) is not None else None
    check("bad_utf8 makes a strict client fail the connection with 1007", 1007, code)
    r = http("POST", "/_sim/fault?type=nonsense")
    check("an unknown fault is 400", 400, r[0])
    check("the sim is alive", 200, http("GET", "/_sim/stats")[0])


async def sc_startup_faults():
    t = tickers(1)[0]
    ws = await connect()
    await send(ws, {"id": 1, "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_tickers": [t]}})
    msgs = await quiet(ws, 0.5)
    snaps = [m for m in msgs if m.get("type") == "orderbook_snapshot"]
    check("--fault duplicate:1 duplicates the first snapshot", [1, 1], [m["seq"] for m in snaps])
    lv = snaps[0]["msg"].get("yes_dollars_fp", []) + snaps[0]["msg"].get("no_dollars_fp", [])
    check("--fault numbers sends numbers", True,
          len(lv) > 0 and all(isinstance(v, (int, float)) for l in lv for v in l))
    await ws.close()


async def sc_overflow():
    ts = tickers(ARGS.markets)
    ws = await connect(max_queue=1, read_limit=2 ** 12)
    await send(ws, {"id": 1, "cmd": "subscribe",
                    "params": {"channels": ["orderbook_delta"], "market_tickers": ts}})
    await asyncio.sleep(ARGS.seconds)   # read nothing: the sim's queue fills
    m, skipped = await recv_until(ws, lambda x: x.get("type") == "error", timeout=30)
    check("a slow reader gets error 25", (25, 1), ((m or {}).get("msg", {}).get("code"), (m or {}).get("sid")))
    seqs = [x["seq"] for x in skipped if "seq" in x]
    check("messages before the error were in order", True, seqs == list(range(1, len(seqs) + 1)))
    after = await quiet(ws, 0.5)
    check("nothing more on the killed sid", 0, len([x for x in after if x.get("sid") == 1]))
    await send(ws, {"id": 2, "cmd": "list_subscriptions"})
    m, _ = await recv_until(ws, lambda x: x.get("id") == 2)
    check("the subscription is dead", [], (m or {}).get("msg"))
    st = ctl("/_sim/stats")
    check("stats count the overflow", True, st["overflows"] >= 1)
    await ws.close()


async def sc_lifecycle():
    ws = await connect()
    await send(ws, {"id": 1, "cmd": "subscribe", "params": {"channels": ["market_lifecycle_v2"]}})
    await recv(ws)
    r = ctl("/_sim/lifecycle?create=1")
    t = r["ticker"]
    m1, m2 = await recv(ws), await recv(ws)
    check("event_lifecycle first", ("event_lifecycle", 1), (m1["type"], m1["sid"]))
    check("event_lifecycle fields", True,
          {"event_ticker", "title", "series_ticker"} <= set(m1["msg"]))
    check("created message", ("market_lifecycle_v2", t, "created"),
          (m2["type"], m2["msg"]["market_ticker"], m2["msg"]["event_type"]))
    check("created has no seq", False, "seq" in m2)
    md = m2["msg"].get("additional_metadata", {})
    check("created fields", True, isinstance(m2["msg"].get("open_ts"), int)
          and isinstance(m2["msg"].get("close_ts"), int)
          and {"name", "title", "yes_sub_title", "no_sub_title", "rules_primary", "rules_secondary",
               "can_close_early", "event_ticker", "expected_expiration_ts", "strike_type",
               "floor_strike"} <= set(md))
    st, body = http("GET", "/trade-api/v2/markets/%s" % t)
    check("created market visible over REST", (200, "initialized"), (st, body["market"]["status"]))
    steps = [("active", "activated", "active"), ("inactive", "deactivated", "inactive"),
             ("active", "activated", "active"), ("closed", "close_date_updated", "closed"),
             ("determined", "determined", "determined"), ("finalized", "settled", "finalized")]
    for to, ev, rest_status in steps:
        ctl("/_sim/lifecycle?ticker=%s&to=%s" % (t, to))
        m = await recv(ws)
        check("%s announced" % ev, (t, ev), (m["msg"]["market_ticker"], m["msg"]["event_type"]))
        if ev == "deactivated":
            check("deactivated carries is_deactivated", True, m["msg"].get("is_deactivated"))
        if ev == "determined":
            check("determined carries the result", True, m["msg"].get("result") in ("yes", "no"))
        if ev == "settled":
            check("settled carries settled_ts", True, isinstance(m["msg"].get("settled_ts"), int))
        st, body = http("GET", "/trade-api/v2/markets/%s" % t)
        check("REST status after %s" % ev, rest_status, body["market"]["status"])
    st, body = http("POST", "/_sim/lifecycle?ticker=%s&to=active" % t)
    check("a settled market cannot reopen", 409, st)
    st, body = http("GET", "/trade-api/v2/markets?status=settled&tickers=%s" % t)
    check("status=settled filter finds it", [t], [m["ticker"] for m in body["markets"]])
    # the timer makes transitions on its own
    n = 0
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            m = await recv(ws, 0.5)
            n += 1
        except asyncio.TimeoutError:
            pass
    check("the lifecycle timer announces transitions", True, n >= 3)
    await ws.close()
    # combo markets: announced on multivariate_market_lifecycle, not on market_lifecycle_v2
    ws = await connect()
    await send(ws, {"id": 1, "cmd": "subscribe",
                    "params": {"channels": ["market_lifecycle_v2", "multivariate_market_lifecycle"]}})
    s1, s2 = await recv(ws), await recv(ws)
    check("multivariate_market_lifecycle subscribed", "multivariate_market_lifecycle",
          s2["msg"]["channel"])
    ctl("/_sim/flow?rate=0")
    mve = None
    for _ in range(200):
        t = ctl("/_sim/lifecycle?create=1")["ticker"]
        if t.startswith("KXMVE"):
            mve = t
            break
    check("the lifecycle creates combo markets too", True, mve is not None)
    m, skipped = await recv_until(ws, lambda x: x.get("msg", {}).get("market_ticker") == mve
                                  and x["msg"].get("event_type") == "created", timeout=10)
    check("a combo market is announced on the multivariate sid", s2["msg"]["sid"], (m or {}).get("sid"))
    on_v2 = [x for x in skipped + await quiet(ws, 0.3, most=3.0)
             if x.get("sid") == s1["msg"]["sid"] and x.get("msg", {}).get("market_ticker") == mve]
    check("and not on market_lifecycle_v2", [], on_v2)
    await ws.close()


async def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--key-id", required=True)
    ap.add_argument("--other-key")
    ap.add_argument("--limit", type=int, default=256)
    ap.add_argument("--max-frame", type=int, default=65536)
    ap.add_argument("--markets", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--min-deltas", type=int, default=100)
    ARGS = ap.parse_args()
    await globals()["sc_" + ARGS.scenario]()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except Exception as e:  # report, so that the shell test fails on a named check
        check("scenario ran to the end", "no exception", "%s: %s" % (type(e).__name__, e))
        sys.exit(1)
