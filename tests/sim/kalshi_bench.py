#!/usr/bin/python3
"""Throughput of kalshi-sim to one reader, for the benchmark and t_sim_speed.sh.

A bare-socket WebSocket reader (no JSON decoding on the hot path, so the reader is not the
bottleneck): signs the upgrade like Kalshi's starter code, subscribes orderbook_delta to N markets
in subscriptions of at most LIMIT, sets the flow rate, then counts text frames for SECONDS and
prints one JSON line: {"messages", "seconds", "msgs_per_s", "bytes_per_s", "errors", "last"}.

usage: kalshi_bench.py --port N --key PEM --key-id ID [--markets 200] [--limit 200]
                       [--rate 1000000] [--seconds 5]
"""
import argparse
import base64
import json
import os
import socket
import struct
import sys
import time
import urllib.request

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding


def sign(key, ts, method, path):
    sig = key.sign((ts + method + path).encode(),
                   padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                               salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256())
    return base64.b64encode(sig).decode()


def frame(text):
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x81, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--key-id", required=True)
    ap.add_argument("--markets", type=int, default=200)
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--rate", type=int, default=1000000)
    ap.add_argument("--seconds", type=float, default=5)
    a = ap.parse_args()
    base = "http://127.0.0.1:%d" % a.port
    with urllib.request.urlopen(base + "/trade-api/v2/markets?limit=1000&status=open") as r:
        tickers = [m["ticker"] for m in json.load(r)["markets"]][:a.markets]
    with open(a.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    ts = str(int(time.time() * 1000))
    s = socket.create_connection(("127.0.0.1", a.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    req = ("GET /trade-api/ws/v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: %s\r\nKALSHI-ACCESS-KEY: %s\r\nKALSHI-ACCESS-TIMESTAMP: %s\r\n"
           "KALSHI-ACCESS-SIGNATURE: %s\r\n\r\n") % (
               base64.b64encode(os.urandom(16)).decode(), a.key_id, ts,
               sign(key, ts, "GET", "/trade-api/ws/v2"))
    s.sendall(req.encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    head, buf = buf.split(b"\r\n\r\n", 1)
    if b" 101 " not in head.split(b"\r\n")[0]:
        print(json.dumps({"error": head.split(b"\r\n")[0].decode()}))
        return 1
    for i in range(0, len(tickers), a.limit):
        s.sendall(frame(json.dumps({"id": i + 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": tickers[i:i + a.limit]}})))
    urllib.request.urlopen(urllib.request.Request(base + "/_sim/flow?rate=%d" % a.rate,
                                                  method="POST")).read()
    count = nbytes = errors = 0
    last = b""
    t0 = time.monotonic()
    end = t0 + a.seconds
    recv = s.recv
    while True:
        chunk = recv(1 << 20)
        if not chunk:
            break
        buf += chunk
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b1 = buf[pos + 1] & 0x7F
            hl = 2
            if b1 == 126:
                if n - pos < 4:
                    break
                b1 = (buf[pos + 2] << 8) | buf[pos + 3]
                hl = 4
            elif b1 == 127:
                if n - pos < 10:
                    break
                b1 = struct.unpack_from("!Q", buf, pos + 2)[0]
                hl = 10
            if n - pos < hl + b1:
                break
            if buf[pos] & 0x0F == 1:
                count += 1
                nbytes += b1
                if buf[pos + hl + 9:pos + hl + 14] == b"error":
                    errors += 1
                last = buf[pos + hl:pos + hl + b1]
            pos += hl + b1
        buf = buf[pos:]
        if time.monotonic() >= end:
            break
    secs = time.monotonic() - t0
    urllib.request.urlopen(urllib.request.Request(base + "/_sim/flow?rate=0", method="POST")).read()
    s.close()
    print(json.dumps({"messages": count, "seconds": round(secs, 3),
                      "msgs_per_s": int(count / secs), "bytes_per_s": int(nbytes / secs),
                      "errors": errors, "last": last[:120].decode(errors="replace")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
