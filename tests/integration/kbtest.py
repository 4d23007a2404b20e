"""What the Python checks of the account and billing tests share (accounts_check.py,
billing_check.py): the check lines and their count, an HTTP call and its answer, psql, the SMTP
sink's mailbox, and a browser-like session of the account routes, signed up and confirmed through
the real mail.

Environment: TEST_URL (nginx), TEST_PG, TEST_STACK (for its mail/new Maildir).
"""
import email
import glob
import http.client
import json
import os
import re
import subprocess
import time
import urllib.parse

URL = os.environ["TEST_URL"]
PG = os.environ["TEST_PG"]
STACK = os.environ["TEST_STACK"]
HOST, PORT = urllib.parse.urlsplit(URL).hostname, urllib.parse.urlsplit(URL).port
MAILDIR = os.path.join(STACK, "mail", "new")
PW = "correct horse battery"

checks = fails = 0


def check(name, expected, actual):
    global checks, fails
    checks += 1
    if expected == actual:
        print("  ok   %s" % name)
    else:
        fails += 1
        print("  FAIL %s: expected [%s], got [%s]" % (name, expected, actual))


def check_true(name, cond, detail=""):
    check(name + ("" if cond else " (%s)" % (detail,)), True, bool(cond))


def finish():
    """The summary line; exits 1 when a check failed or none ran."""
    print("  %d checks, %d failed" % (checks, fails))
    raise SystemExit(1 if fails or not checks else 0)


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.raw = status, headers, body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def headers_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def code(self):
        """The error envelope's code, or None."""
        return ((self.json or {}).get("error") or {}).get("code")


def call(method, path, body=None, headers=None, raw=None, base=None, source=None):
    """One request on a connection of its own: body is sent as JSON, raw as it is; base is another
    server than the stack's nginx (stripe-sim), source a local address to come from."""
    h = dict(headers or {})
    data = raw
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    u = urllib.parse.urlsplit(base or URL)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60,
                                   source_address=(source, 0) if source else None)
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    out = Resp(r.status, r.getheaders(), r.read())
    c.close()
    return out


def psql(sql):
    return subprocess.run(["psql", "-X", "-q", "-tA", "-d", PG, "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def wait_for(fn, timeout=30, every=0.2):
    """fn()'s first true value within timeout seconds, else its last value."""
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(every)
    return fn()


def mails_to(addr):
    """The mails the SMTP sink received for addr, oldest first."""
    out = []
    for f in sorted(glob.glob(os.path.join(MAILDIR, "*.eml"))):
        with open(f, "rb") as fh:
            m = email.message_from_bytes(fh.read())
        if m.get("X-Envelope-To") == addr:
            out.append(m)
    return out


def wait_mail(addr, n, timeout=20):
    """The n-th mail (1-based) to addr, waiting for it; None when it does not come."""
    ms = wait_for(lambda: len(mails_to(addr)) >= n and mails_to(addr), timeout)
    return ms[n - 1] if ms else None


def link_token(m, kind):
    """The token of the /KIND?token= link in mail m."""
    body = m.get_payload(decode=True).decode()
    mt = re.search(r"/%s\?token=([A-Za-z0-9_-]+)" % kind, body)
    return mt.group(1) if mt else None


def cookie_of(resp):
    """The session cookie an answer sets: (value, the whole Set-Cookie), or (None, None)."""
    for v in resp.headers_all("Set-Cookie"):
        m = re.match(r"__Host-kbook_session=([^;]*)", v)
        if m:
            return m.group(1), v
    return None, None


class Session:
    """A browser-like client: the cookie and the CSRF token, with the site's own Origin."""

    def __init__(self, cookie, csrf, account_id=None):
        self.cookie, self.csrf, self.id = cookie, csrf, account_id

    def h(self, csrf=True, extra=None):
        h = {"Cookie": "__Host-kbook_session=" + self.cookie, "Origin": URL,
             "Sec-Fetch-Site": "same-origin"}
        if csrf:
            h["X-CSRF-Token"] = self.csrf
        h.update(extra or {})
        return h

    def get(self, path):
        return call("GET", path, headers=self.h(csrf=False))

    def send(self, method, path, body=None, **kw):
        return call(method, path, body, headers=self.h(**kw))

    def post(self, path, body=None, csrf=True):
        return self.send("POST", path, body if body is not None else {}, csrf=csrf)


def login(addr, pw, **kw):
    """POST /v1/session: (the answer, a Session or None when refused)."""
    r = call("POST", "/v1/session", {"email": addr, "password": pw}, **kw)
    if r.status != 200:
        return r, None
    return r, Session(cookie_of(r)[0], r.json["csrf_token"], int(r.json["account"]["id"]))


def signup_confirmed(addr, pw=PW):
    """A new account, confirmed through the link of its mail, logged in: its Session."""
    r = call("POST", "/v1/account/signup", {"email": addr, "password": pw})
    assert r.status == 202, r.raw
    m = wait_mail(addr, len(mails_to(addr)) + 1)
    r = call("POST", "/v1/account/confirm", {"token": link_token(m, "confirm")})
    assert r.status == 200, r.raw
    return login(addr, pw)[1]
