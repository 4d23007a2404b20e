#!/usr/bin/python3
"""Random command soak of kalshi-sim: 8 signed connections send random valid and invalid commands
(subscribe, update_subscription, unsubscribe, list, garbage), trigger random faults and market
creations, read or stall at random, close cleanly or abort, while the flow and the lifecycle run.
The shell test checks the sim survives with no sanitizer report. A connection closed under a
worker (a fault, an overflow, its own abort) is part of the game; any other exception, the
handshake's included, is a failure: each is kept and the run asserts there were none.

usage: kalshi_stress.py PORT PRIVATE_PEM KEY_ID SECONDS
"""
import asyncio
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kalshi_ws_check as K  # noqa: E402
import websockets  # noqa: E402

async def worker(i, tickers, end, errors):
    rnd = random.Random(i)
    n = 0
    while time.monotonic() < end:
        try:
            ws = await K.connect(max_queue=rnd.choice([1, 32, None]), close_timeout=1)
        except Exception as e:  # the sim must accept every signed handshake
            errors.append("worker %d connect: %s: %s" % (i, type(e).__name__, e))
            await asyncio.sleep(0.1)
            continue
        sids = []
        try:
            for k in range(rnd.randint(5, 60)):
                n += 1
                op = rnd.random()
                if op < 0.3:
                    ts = rnd.sample(tickers, rnd.randint(1, 30))
                    await K.send(ws, {"id": n, "cmd": "subscribe", "params": {"channels": rnd.choice([["orderbook_delta"], ["orderbook_delta", "market_lifecycle_v2"], ["market_lifecycle_v2"]]), "market_tickers": ts}})
                    sids.append(len(sids) + 1)
                elif op < 0.5 and sids:
                    await K.send(ws, {"id": n, "cmd": "update_subscription", "params": {"sid": rnd.choice(sids), "market_tickers": rnd.sample(tickers, rnd.randint(1, 10)), "action": rnd.choice(["add_markets", "delete_markets", "get_snapshot"])}})
                elif op < 0.6 and sids:
                    await K.send(ws, {"id": n, "cmd": "unsubscribe", "params": {"sids": rnd.sample(sids, 1)}})
                elif op < 0.7:
                    await K.send(ws, {"id": n, "cmd": "list_subscriptions"})
                elif op < 0.75:
                    await K.send(ws, bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 200))).decode("latin1"))
                elif op < 0.8:
                    K.ctl("/_sim/fault?type=%s" % rnd.choice(["drop", "duplicate", "reorder", "numbers", "strings", "error25", "refuse_adds", "allow_adds", "truncated", "stop_pings", "resume_pings"]))
                elif op < 0.85:
                    K.ctl("/_sim/lifecycle?create=1")
                if rnd.random() < 0.5:
                    try:
                        for _ in range(rnd.randint(0, 200)):
                            await asyncio.wait_for(ws.recv(), 0.01)
                    except (asyncio.TimeoutError,):
                        pass
                else:
                    await asyncio.sleep(rnd.random() * 0.05)
            if rnd.random() < 0.3:
                ws.transport.abort()
            else:
                await ws.close()
        except websockets.exceptions.ConnectionClosed:
            pass
        except Exception as e:
            errors.append("worker %d: %s: %s" % (i, type(e).__name__, e))
    return n

async def main():
    K.ARGS = type("A", (), {})()
    K.ARGS.port = int(sys.argv[1]); K.ARGS.key = sys.argv[2]; K.ARGS.key_id = sys.argv[3]
    tickers = K.tickers(1000, "open,unopened,paused,closed,settled")
    end = time.monotonic() + float(sys.argv[4])
    errors = []
    r = await asyncio.gather(*[worker(i, tickers, end, errors) for i in range(8)])
    st, body = K.http("GET", "/_sim/stats")
    K.check("stress: no client exception but closed connections", [], errors[:5])
    K.check("stress: commands sent", True, sum(r) > 100)
    K.check("stress: the sim still answers", 200, st)
    K.check("stress: messages flowed", True, body["messages_sent"] > 1000)

asyncio.run(main())
