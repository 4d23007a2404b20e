#!/usr/bin/python3
"""A webhook endpoint for stripe-sim's tests: records every POST (its Stripe-Signature header
and raw body, base64) as one JSON line, and answers 500 to the first N deliveries when asked
(POST /_fail?n=N), so retries can be observed. The signatures are verified afterwards by the
official stripe-node library (tests/stripe/stripe_lib.js verify), not here.

usage: receiver.py PORT LOG_FILE
"""
import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT, LOG = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
state = {"fail": 0, "n": 0}


class Hook(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        u = urlparse(self.path)
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        if u.path == "/_fail":
            with lock:
                state["fail"] = int(parse_qs(u.query).get("n", ["0"])[0])
            self._answer(200, "ok")
            return
        with lock:
            state["n"] += 1
            failing = state["fail"] > 0
            if failing:
                state["fail"] -= 1
            rec = {"n": state["n"], "path": u.path, "status": 500 if failing else 200,
                   "signature": self.headers.get("Stripe-Signature", ""),
                   "content_type": self.headers.get("Content-Type", ""),
                   "user_agent": self.headers.get("User-Agent", ""),
                   "body_b64": base64.b64encode(raw).decode()}
            with open(LOG, "a") as f:
                f.write(json.dumps(rec) + "\n")
        self._answer(500 if failing else 200, "failing on purpose" if failing else "ok")


ThreadingHTTPServer(("127.0.0.1", PORT), Hook).serve_forever()
