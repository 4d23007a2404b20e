#!/usr/bin/python3
"""The account routes over HTTP through nginx, against the real stack (t_accounts.sh): every route
and its bad inputs, CSRF and origin checks, session expiry, fixation and revocation, login
throttling and its recovery, single-use links read from the mail the real SMTP sink received,
key caps under concurrency, revoked keys refused by the data API and feedd at once, mail kept and
retried while the SMTP server is down, and nothing partial written when a step fails.

usage: accounts_check.py   (environment: TEST_URL, TEST_PG, TEST_STACK, TEST_ROOT)
Prints one line per check; exits 1 when any failed.
"""
import ctypes
import ctypes.util
import os
import re
import socket
import subprocess
import threading
import time

from kbtest import (HOST, PORT, PW, STACK, URL, Session, call, check, check_true, cookie_of,
                    finish, link_token, login, mails_to, psql, signup_confirmed, wait_mail)

ROOT = os.environ["TEST_ROOT"]
JSON = {"Content-Type": "application/json"}


def count(table, where="true"):
    return int(psql("SELECT count(*) FROM %s WHERE %s" % (table, where)))


ws_key = "dGhlIHNhbXBsZSBub25jZQ=="


def feed_status(key):
    s = socket.create_connection((HOST, PORT), timeout=5)
    s.sendall(("GET /v1/feed HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nX-API-Key: %s\r\n\r\n" % (ws_key, key)).encode())
    line = s.recv(4096).split(b"\r\n")[0].decode()
    s.close()
    return int(line.split()[1])



print("plans")
r = call("GET", "/v1/plans")
check("GET /v1/plans 200", 200, r.status)
plans = {p["name"]: p for p in r.json["plans"]}
check("plans from the table", ["free", "payg", "project"], sorted(plans))
check("free plan", {"name": "free", "monthly_credits": 1000, "rate_per_min": 30, "overage": False,
                    "price_usd_month": 0, "overage_usd_per_credit": None}, plans["free"])
check("payg overage price", 0.008, plans["payg"]["overage_usd_per_credit"])
check("PUT /v1/session is 405", 405, call("PUT", "/v1/session", {}).status)

print("security headers on the account routes")
hd = dict((k.lower(), v) for k, v in r.headers)
check_true("CSP with frame-ancestors 'none'", "frame-ancestors 'none'" in hd.get("content-security-policy", ""))
check("X-Frame-Options", "DENY", hd.get("x-frame-options"))
check("nosniff", "nosniff", hd.get("x-content-type-options"))
check_true("HSTS", hd.get("strict-transport-security", "").startswith("max-age="))
check("no-store", "no-store", hd.get("cache-control"))

print("sign-up: bad input, nothing written")
accounts0 = count("accounts")
mails0 = count("mail_outbox")
bad = [
    ("wrong content type", dict(raw=b'{"email":"x@example.com","password":"%s"}' % PW.encode(),
                                headers={"Content-Type": "text/plain"}), 415, "unsupported_media_type"),
    ("form post", dict(raw=b"email=x%40example.com&password=x",
                       headers={"Content-Type": "application/x-www-form-urlencoded"}), 415, "unsupported_media_type"),
    ("malformed JSON", dict(raw=b'{"email":', headers=JSON), 400, "invalid_body"),
    ("trailing bytes", dict(raw=b'{"email":"x@example.com","password":"abcdefgh1"} x', headers=JSON), 400, "invalid_body"),
    ("not an object", dict(raw=b'["x"]', headers=JSON), 400, "invalid_body"),
    ("empty body", dict(raw=b"", headers=JSON), 400, "invalid_body"),
    ("invalid UTF-8", dict(raw=b'{"email":"x@example.com","password":"\xff\xfeabcdefgh"}', headers=JSON), 400, "invalid_body"),
    ("too deep", dict(raw=b'{"email":' + b"[" * 20 + b"]" * 20 + b"}", headers=JSON), 400, "invalid_body"),
    ("unknown member", dict(body={"email": "x@example.com", "password": PW, "admin": True}), 400, "unknown_parameter"),
    ("missing password", dict(body={"email": "x@example.com"}), 400, "missing_parameter"),
    ("password not a string", dict(body={"email": "x@example.com", "password": 12345678}), 400, "invalid_parameter"),
    ("NUL in password", dict(body={"email": "x@example.com", "password": "abcd\u0000efghij"}), 400, "invalid_parameter"),
    ("short password", dict(body={"email": "x@example.com", "password": "Ab1!xyz"}), 400, "weak_password"),
    ("common password", dict(body={"email": "x@example.com", "password": "Password123"}), 400, "weak_password"),
    ("3 distinct characters", dict(body={"email": "x@example.com", "password": "abcabcabcabc"}), 400, "weak_password"),
    ("password = email", dict(body={"email": "longname@example.com", "password": "LongName@example.com"}), 400, "weak_password"),
    ("2000-byte password", dict(body={"email": "x@example.com", "password": "ab1!" * 500}), 400, "weak_password"),
]
for addr in ["", "plain", "@example.com", "x@", "x@localhost", "x@exa mple.com", "x y@example.com",
             "x@example..com", "x@-example.com", "x@@example.com", "a" * 65 + "@example.com",
             "x@" + "a" * 250 + ".com", "x@example.com\r\nBcc: y@example.com", "\u00e9@example.com"]:
    bad.append(("malformed email %r" % addr[:30], dict(body={"email": addr, "password": PW}), 400, "invalid_email"))
for name, kw, st, code in bad:
    r = call("POST", "/v1/account/signup", **kw)
    check("sign-up %s: %d %s" % (name, st, code), (st, code), (r.status, r.code))
r = call("POST", "/v1/account/signup", raw=b'{"email":"x@example.com","password":"' + b"a" * (10 << 20) + b'"}',
         headers=JSON)
check("sign-up with a 10 MB password: 413 from nginx", (413, "body_too_large"), (r.status, r.code))
check("nothing written by refused sign-ups (accounts)", accounts0, count("accounts"))
check("nothing written by refused sign-ups (mail)", mails0, count("mail_outbox"))

print("sign-up: cross-site requests refused")
for name, h in [("Sec-Fetch-Site cross-site", {"Sec-Fetch-Site": "cross-site"}),
                ("Sec-Fetch-Site same-site", {"Sec-Fetch-Site": "same-site"}),
                ("foreign Origin", {"Origin": "http://evil.example"}),
                ("Origin null", {"Origin": "null"}),
                ("Origin of another port", {"Origin": "http://127.0.0.1:1"})]:
    r = call("POST", "/v1/account/signup", {"email": "csrf@example.com", "password": PW}, headers=h)
    check("sign-up with %s: 403 csrf_failed" % name, (403, "csrf_failed"), (r.status, r.code))
check("no account from cross-site sign-ups", 0, count("accounts", "email = 'csrf@example.com'"))
r = call("POST", "/v1/account/signup", {"email": "csrf@example.com", "password": PW},
         headers={"Origin": URL, "Sec-Fetch-Site": "same-origin"})
check("sign-up from the site's own origin: 202", 202, r.status)

print("sign-up, confirmation link, resend")
A = "Alice@Example.com"
a = A.lower()
t0 = time.time()
r = call("POST", "/v1/account/signup", {"email": A, "password": PW})
check("sign-up 202", 202, r.status)
check("sign-up answer", {"status": "check_email"}, r.json)
first_answer = (r.status, r.json)
check_true("the request does not wait on SMTP", time.time() - t0 < 5)
check("account exists at once, unconfirmed, free plan", "f|free",
      psql("SELECT email_confirmed || '|' || plan FROM accounts WHERE email = '%s'" % a).replace("false", "f"))
m1 = wait_mail(a, 1)
check_true("confirmation mail received by the SMTP server", m1 is not None)
tok1 = link_token(m1, "confirm") if m1 else None
check_true("the mail links to KBOOK_PUBLIC_URL/confirm?token=", m1 is not None and
           (URL + "/confirm?token=") in m1.get_payload(decode=True).decode())
check("mail subject", "Confirm your kbook account", m1["Subject"] if m1 else None)
r = call("POST", "/v1/account/confirm/resend", {"email": a})
check("resend 202", (202, {"status": "check_email"}), (r.status, r.json))
m2 = wait_mail(a, 2)
tok2 = link_token(m2, "confirm") if m2 else None
check_true("resend mails a new link", tok2 is not None and tok2 != tok1)
r = call("POST", "/v1/account/confirm/resend", {"email": "nobody@example.com"})
check("resend to an unknown email: same answer", (202, {"status": "check_email"}), (r.status, r.json))
r = call("POST", "/v1/account/signup", {"email": "nobody2@example.com", "password": PW})
check("sign-up answers alike for a new email", first_answer, (r.status, r.json))

r, sa = login(a, PW)
check("login before confirmation works", 200, r.status)
check("account says unconfirmed", False, r.json["account"]["email_confirmed"])
r = sa.send("POST", "/v1/account/keys", {"name": "early"})
check("a key can be made before confirmation", 201, r.status)
early = r.json["secret"]
r = call("GET", "/v1/markets", headers={"X-API-Key": early})
check("the data API refuses an unconfirmed account's key: 403 email_unconfirmed",
      (403, "email_unconfirmed"), (r.status, r.code))
check("feedd refuses it too (403)", 403, feed_status(early))

for name, tok, code in [("forged", "A" * 43, "invalid_token"), ("malformed", "x", "invalid_token"),
                        ("empty", "", "invalid_token"), ("too long", "A" * 300, "invalid_parameter")]:
    r = call("POST", "/v1/account/confirm", {"token": tok})
    check("confirm with a %s token: 400 %s" % (name, code), (400, code), (r.status, r.code))
r = call("POST", "/v1/account/confirm", {"token": tok1})
check("confirm with the first link", (200, {"status": "confirmed"}), (r.status, r.json))
r = call("POST", "/v1/account/confirm", {"token": tok1})
check("the same link again: 400 invalid_token", (400, "invalid_token"), (r.status, r.code))
check("confirmed in the database", "t", psql("SELECT email_confirmed FROM accounts WHERE email = '%s'" % a))
r = call("GET", "/v1/markets", headers={"X-API-Key": early})
check("the key works once confirmed", 200, r.status)
r = call("POST", "/v1/account/signup", {"email": a, "password": "another password 1"})
check("duplicate sign-up: the same answer", first_answer, (r.status, r.json))
m3 = wait_mail(a, 3)
check("duplicate sign-up mails the owner", "Your kbook account", m3["Subject"] if m3 else None)
check("duplicate sign-up leaves one account", 1, count("accounts", "email = '%s'" % a))
check_true("duplicate sign-up keeps the password", login(a, PW)[0].status == 200)

print("expired confirmation link")
b = "bob@example.com"
call("POST", "/v1/account/signup", {"email": b, "password": PW})
mb = wait_mail(b, 1)
tokb = link_token(mb, "confirm")
psql("UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE account_id = "
     "(SELECT id FROM accounts WHERE email = '%s')" % b)
r = call("POST", "/v1/account/confirm", {"token": tokb})
check("expired link: 400 invalid_token", (400, "invalid_token"), (r.status, r.code))
check("account stays unconfirmed", "f", psql("SELECT email_confirmed FROM accounts WHERE email = '%s'" % b))

print("login")
r = call("POST", "/v1/session", {"email": a, "password": "wrong password here"})
check("wrong password: 401 invalid_credentials", (401, "invalid_credentials"), (r.status, r.code))
wrong_msg = r.json["error"]["message"]
r = call("POST", "/v1/session", {"email": "ghost@example.com", "password": "wrong password here"})
check("unknown email: the same 401 and message", (401, "invalid_credentials", wrong_msg),
      (r.status, r.code, r.json["error"]["message"]))
check_true("no Set-Cookie on a failed login", cookie_of(r)[0] is None)
r = call("POST", "/v1/session", {"email": a, "password": PW}, headers={"Sec-Fetch-Site": "cross-site"})
check("cross-site login: 403 csrf_failed", (403, "csrf_failed"), (r.status, r.code))
r, s1 = login(a, PW)
check("login 200", 200, r.status)
c1, attrs = cookie_of(r)
check_true("cookie __Host-kbook_session=kb_sess_...", c1 is not None and c1.startswith("kb_sess_"))
for attr in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"]:
    check_true("cookie has %s" % attr, attr in (attrs or "").split("; "), attrs)
check_true("cookie has no Domain", "Domain" not in (attrs or ""))
check("login answer: account", {"id", "email", "email_confirmed", "plan", "created_at"}, set(r.json["account"]))
check("login answer: email lower-cased", a, r.json["account"]["email"])
check_true("login answer: CSRF token", len(r.json["csrf_token"]) >= 32)
check("sessions are stored hashed, not as the token", 0, count("sessions", "encode(token_hash, 'escape') LIKE 'kb_sess%'"))
r2, s2 = login(a, PW)
check_true("a new session id at every login", s2.cookie != s1.cookie)

print("session fixation: a login replaces the session it was sent with")
r = call("POST", "/v1/session", {"email": a, "password": PW},
         headers={"Cookie": "__Host-kbook_session=" + s2.cookie})
c3, _ = cookie_of(r)
check_true("the login issues a different id", c3 is not None and c3 != s2.cookie)
check("the old session no longer works", (401, "session_expired"), (s2.get("/v1/session").status, s2.get("/v1/session").code))
s3 = Session(c3, r.json["csrf_token"])
r = call("POST", "/v1/session", {"email": a, "password": PW},
         headers={"Cookie": "__Host-kbook_session=kb_sess_" + "F" * 43})
c4, _ = cookie_of(r)
check_true("a planted (unknown) id is never adopted", c4 is not None and c4 != "kb_sess_" + "F" * 43)

print("GET /v1/session, expiry and forgery")
r = s1.get("/v1/session")
check("GET /v1/session 200", 200, r.status)
check("same CSRF token as the login", s1.csrf, r.json["csrf_token"])
check("session times", {"created_at", "expires_at"}, set(r.json["session"]))
check_true("RFC 3339 UTC", re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", r.json["session"]["expires_at"]))
r = call("GET", "/v1/session")
check("no session: 401 session_required", (401, "session_required"), (r.status, r.code))
for name, cookie in [("forged", "kb_sess_" + "A" * 43), ("malformed", "garbage"),
                     ("an API key", early)]:
    r = call("GET", "/v1/session", headers={"Cookie": "__Host-kbook_session=" + cookie})
    check("%s session: 401 session_expired" % name, (401, "session_expired"), (r.status, r.code))
r = call("GET", "/v1/session", headers={"Cookie": "kbook_session=" + s1.cookie})
check("the cookie without its __Host- prefix is not read", (401, "session_required"), (r.status, r.code))
r = call("GET", "/v1/account/keys", headers={"Authorization": "Bearer " + early})
check("an API key is no session", (401, "session_expired"), (r.status, r.code))
r = call("GET", "/v1/markets", headers={"Authorization": "Bearer " + s1.cookie})
check("a session is no API key", 401, r.status)
_, sx = login(a, PW)
psql("UPDATE sessions SET expires_at = now() - interval '1 second' WHERE token_hash = "
     "sha256(convert_to('%s', 'UTF8'))" % sx.cookie)
check("absolute expiry: 401 session_expired", "session_expired", sx.get("/v1/session").code)
_, sy = login(a, PW)
psql("UPDATE sessions SET last_seen_at = now() - interval '3 days' WHERE token_hash = "
     "sha256(convert_to('%s', 'UTF8'))" % sy.cookie)
check("idle expiry: 401 session_expired", "session_expired", sy.get("/v1/session").code)

print("CSRF on state-changing session requests")
for name, kw in [("no X-CSRF-Token", dict(csrf=False)),
                 ("a wrong token", dict(csrf=False, extra={"X-CSRF-Token": "A" * 43})),
                 ("another session's token", dict(csrf=False, extra={"X-CSRF-Token": s3.csrf})),
                 ("Sec-Fetch-Site cross-site", dict(extra={"Sec-Fetch-Site": "cross-site"})),
                 ("a foreign Origin", dict(extra={"Origin": "https://evil.example"}))]:
    r = s1.send("POST", "/v1/account/keys", {"name": "csrf"}, **kw)
    check("create key with %s: 403 csrf_failed" % name, (403, "csrf_failed"), (r.status, r.code))
    r = s1.send("DELETE", "/v1/session", **kw)
    check("logout with %s: 403 csrf_failed" % name, (403, "csrf_failed"), (r.status, r.code))
check("no key made by the refused requests", 0, count("api_keys", "name = 'csrf'"))
check("the session survived the refused logouts", 200, s1.get("/v1/session").status)

print("bearer sessions (scripts)")
r = call("POST", "/v1/session", {"email": a, "password": PW, "bearer": True})
bt = r.json.get("session_token")
check_true("bearer: true returns session_token", bt is not None and bt.startswith("kb_sess_"))
r = call("GET", "/v1/session", headers={"Authorization": "Bearer " + bt})
check("bearer GET /v1/session", 200, r.status)
r = call("POST", "/v1/account/keys", {"name": "script"}, headers={"Authorization": "Bearer " + bt})
check("bearer needs no CSRF token", 201, r.status)
r = call("POST", "/v1/session", {"email": a, "password": PW, "bearer": "yes"})
check("bearer must be a boolean", (400, "invalid_parameter"), (r.status, r.code))

print("keys")
r = s1.send("POST", "/v1/account/keys", {"name": "prod bot", "monthly_cap": 500})
check("create key 201", 201, r.status)
k1 = r.json["key"]
secret = r.json["secret"]
check_true("secret kb_live_ + 32", re.match(r"^kb_live_[0-9A-Za-z]{32}$", secret))
check("key fields", {"id", "name", "prefix", "created_at", "last_used_at", "revoked_at", "monthly_cap",
                     "used_this_period"}, set(k1))
check("prefix = the secret's start", secret[:16], k1["prefix"])
check("cap", 500, k1["monthly_cap"])
check("key stored as SHA-256 only", 1, count("api_keys", "hash = sha256(convert_to('%s', 'UTF8'))" % secret))
r = s1.get("/v1/account/keys")
ids = [k["id"] for k in r.json["keys"]]
check("list newest first", sorted(ids, reverse=True), ids)
check_true("the list never shows a secret", secret not in r.raw.decode())
for name, body, code in [("no name", {}, "missing_parameter"), ("empty name", {"name": ""}, "invalid_parameter"),
                         ("long name", {"name": "n" * 101}, "invalid_parameter"),
                         ("control character", {"name": "a\nb"}, "invalid_parameter"),
                         ("cap 0", {"name": "x", "monthly_cap": 0}, "invalid_parameter"),
                         ("cap -5", {"name": "x", "monthly_cap": -5}, "invalid_parameter"),
                         ("cap 1.5", {"name": "x", "monthly_cap": 1.5}, "invalid_parameter"),
                         ("cap string", {"name": "x", "monthly_cap": "10"}, "invalid_parameter"),
                         ("cap too big", {"name": "x", "monthly_cap": 10 ** 12}, "invalid_parameter"),
                         ("unknown member", {"name": "x", "scope": "all"}, "unknown_parameter")]:
    r = s1.send("POST", "/v1/account/keys", body)
    check("create key with %s: 400 %s" % (name, code), (400, code), (r.status, r.code))
r = s1.send("PATCH", "/v1/account/keys/%d" % k1["id"], {"name": "renamed"})
check("rename", (200, "renamed", 500), (r.status, r.json["key"]["name"], r.json["key"]["monthly_cap"]))
r = s1.send("PATCH", "/v1/account/keys/%d" % k1["id"], {"monthly_cap": None})
check("monthly_cap null removes the cap", (200, None, "renamed"),
      (r.status, r.json["key"]["monthly_cap"], r.json["key"]["name"]))
for path in ["/v1/account/keys/999999", "/v1/account/keys/abc", "/v1/account/keys/-1",
             "/v1/account/keys/99999999999999999999"]:
    r = s1.send("PATCH", path, {"name": "x"})
    check("PATCH %s: 404 key_not_found" % path, (404, "key_not_found"), (r.status, r.code))
sb = signup_confirmed("carol@example.com", PW)
r = sb.send("PATCH", "/v1/account/keys/%d" % k1["id"], {"name": "stolen"})
check("another account's key: 404", (404, "key_not_found"), (r.status, r.code))
r = sb.send("DELETE", "/v1/account/keys/%d" % k1["id"])
check("another account cannot revoke it", (404, "key_not_found"), (r.status, r.code))
r = call("GET", "/v1/markets", headers={"X-API-Key": secret})
check("the key works", 200, r.status)
time.sleep(0.2)
r = s1.get("/v1/account/keys")
kk = [k for k in r.json["keys"] if k["id"] == k1["id"]][0]
check_true("last_used_at set", kk["last_used_at"] is not None)
check("used_this_period counts its credits", 1, kk["used_this_period"])

print("revocation reaches the data API and feedd at once")
check("feedd accepts the live key (101)", 101, feed_status(secret))
r = s1.send("DELETE", "/v1/account/keys/%d" % k1["id"])
check("revoke 200", 200, r.status)
check_true("revoked_at set", r.json["key"]["revoked_at"] is not None)
r = call("GET", "/v1/markets", headers={"X-API-Key": secret})
check("the data API refuses it at once: 401 revoked_api_key", (401, "revoked_api_key"), (r.status, r.code))
check("feedd refuses it at once (401)", 401, feed_status(secret))
r = s1.send("DELETE", "/v1/account/keys/%d" % k1["id"])
check("revoking again: 200, same revoked_at", 200, r.status)
r = s1.send("PATCH", "/v1/account/keys/%d" % k1["id"], {"name": "back"})
check("PATCH of a revoked key: 409 key_revoked", (409, "key_revoked"), (r.status, r.code))
r = s1.get("/v1/account/keys")
check_true("revoked keys stay in the list", any(k["id"] == k1["id"] and k["revoked_at"] for k in r.json["keys"]))

print("key cap: 429 key_cap_reached, exact under concurrency")
psql("UPDATE accounts SET rate_per_min_override = 100000 WHERE email = 'carol@example.com'")
r = sb.send("POST", "/v1/account/keys", {"name": "capped", "monthly_cap": 3})
ck = r.json["secret"]
sts = [call("GET", "/v1/markets", headers={"X-API-Key": ck}).status for _ in range(4)]
check("3 calls pass, the 4th is refused", [200, 200, 200, 429], sts)
r = call("GET", "/v1/markets", headers={"X-API-Key": ck})
check("code key_cap_reached", "key_cap_reached", r.code)
ra = int(r.header("Retry-After") or 0)
check_true("Retry-After up to the period's end", 0 < ra <= 31 * 86400, ra)
keys_b = sb.get("/v1/account/keys").json["keys"]
capped = [k for k in keys_b if k["name"] == "capped"][0]
check("used_this_period = cap", 3, capped["used_this_period"])
r = sb.send("POST", "/v1/account/keys", {"name": "other"})
other = r.json["secret"]
check("another key of the account still works", 200, call("GET", "/v1/markets", headers={"X-API-Key": other}).status)
used0 = int(psql("SELECT used FROM credit_periods c JOIN accounts a ON a.id = c.account_id "
                 "WHERE a.email = 'carol@example.com'"))
r = sb.send("POST", "/v1/account/keys", {"name": "race", "monthly_cap": 10})
rk = r.json["secret"]
results = []
lock = threading.Lock()


def hammer():
    for _ in range(5):
        st = call("GET", "/v1/markets", headers={"X-API-Key": rk}).status
        with lock:
            results.append(st)


ths = [threading.Thread(target=hammer) for _ in range(8)]
[t.start() for t in ths]
[t.join() for t in ths]
check("40 concurrent calls against a cap of 10: exactly 10 served", 10, results.count(200))
check("the rest 429", 30, results.count(429))
used1 = int(psql("SELECT used FROM credit_periods c JOIN accounts a ON a.id = c.account_id "
                 "WHERE a.email = 'carol@example.com'"))
check("the account was charged exactly the 10", 10, used1 - used0)
check("the key's count", "10", psql("SELECT cap_used FROM api_keys WHERE name = 'race'"))
r = sb.send("PATCH", "/v1/account/keys/%d" % [k for k in sb.get("/v1/account/keys").json["keys"]
                                               if k["name"] == "race"][0]["id"], {"monthly_cap": 12})
check("raising the cap keeps the count", 10, r.json["key"]["used_this_period"])
check("2 more calls pass", [200, 200, 429], [call("GET", "/v1/markets", headers={"X-API-Key": rk}).status
                                               for _ in range(3)])
r = call("GET", "/v1/markets/NO-SUCH/orderbook", headers={"X-API-Key": other})
check("a failed call is refunded (usage unchanged)", 404, r.status)

print("usage")
r = sb.get("/v1/account/usage")
check("usage 200", 200, r.status)
u = r.json
check("30 days by default", 30, len(u["days"]))
check_true("days oldest first, today last", u["days"][-1]["day"] == time.strftime("%Y-%m-%d", time.gmtime())
           and u["days"] == sorted(u["days"], key=lambda d: d["day"]))
check("period used = ledger", used1 + 2, u["period"]["used"])
check("remaining", 1000 - u["period"]["used"], u["period"]["remaining"])
check("today's credits", u["period"]["used"], u["days"][-1]["credits"])
check_true("by_key has every key, 30 values", all(len(k["days"]) == 30 for k in u["by_key"]) and
           {k["name"] for k in u["by_key"]} >= {"capped", "race", "other"})
check("by_route: every route called in the window, the refunded one at 0 credits",
      {"/v1/markets": used1 + 2, "/v1/markets/{ticker}/orderbook": 0},
      {x["route"]: sum(x["days"]) for x in u["by_route"]})
check_true("forecast at least what is used", u["period"]["forecast_used"] >= u["period"]["used"])
check_true("period end in the future", u["period"]["end"] > time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
check("days=7", 7, len(sb.get("/v1/account/usage?days=7").json["days"]))
for q, code in [("days=0", "invalid_parameter"), ("days=91", "invalid_parameter"), ("days=x", "invalid_parameter"),
                ("days=1&days=2", "repeated_parameter"), ("foo=1", "unknown_parameter")]:
    r = sb.get("/v1/account/usage?" + q)
    check("usage?%s: 400 %s" % (q, code), (400, code), (r.status, r.code))

print("too many keys")
n_live = count("api_keys", "revoked_at IS NULL AND account_id = (SELECT id FROM accounts WHERE email = 'carol@example.com')")
for i in range(20 - n_live):
    sb.send("POST", "/v1/account/keys", {"name": "k%d" % i})
r = sb.send("POST", "/v1/account/keys", {"name": "one too many"})
check("the 21st live key: 409 too_many_keys", (409, "too_many_keys"), (r.status, r.code))

print("log out every other session")
_, o1 = login(a, PW)
_, o2 = login(a, PW)
r = o1.send("POST", "/v1/session/others/revoke")
check_true("others revoked", r.status == 200 and r.json["revoked"] >= 2, r.raw)
check("the other session ended", 401, o2.get("/v1/session").status)
check("this one lives", 200, o1.get("/v1/session").status)

print("log out")
r = o1.send("DELETE", "/v1/session")
check("logout 204", 204, r.status)
_, attrs = cookie_of(r)
check_true("cookie cleared (Max-Age=0)", attrs is not None and "Max-Age=0" in attrs)
check("the session is gone on the server", 401, o1.get("/v1/session").status)

print("password change")
_, p1 = login(a, PW)
_, p2 = login(a, PW)
r = p1.send("POST", "/v1/account/password", {"old_password": "not it at all", "new_password": "new pass phrase 2"})
check("wrong old password: 401 invalid_credentials", (401, "invalid_credentials"), (r.status, r.code))
r = p1.send("POST", "/v1/account/password", {"old_password": PW, "new_password": "short"})
check("weak new password: 400 weak_password", (400, "weak_password"), (r.status, r.code))
r = p1.send("POST", "/v1/account/password", {"old_password": PW, "new_password": "new pass phrase 2"}, csrf=False)
check("without the CSRF token: 403", 403, r.status)
check("nothing changed by the refusals", 200, login(a, PW)[0].status)
nmail = len(mails_to(a))
r = p1.send("POST", "/v1/account/password", {"old_password": PW, "new_password": "new pass phrase 2"})
check("password changed", (200, {"status": "changed"}), (r.status, r.json))
check("other sessions ended", 401, p2.get("/v1/session").status)
check("this session lives", 200, p1.get("/v1/session").status)
check("old password refused", 401, login(a, PW)[0].status)
check("new password works", 200, login(a, "new pass phrase 2")[0].status)
m = wait_mail(a, nmail + 1)
check("a notice mail", "Your kbook password was changed", m["Subject"] if m else None)
PW_A = "new pass phrase 2"

print("forgot and reset")
r = call("POST", "/v1/account/password/forgot", {"email": "ghost@example.com"})
forgot_unknown = (r.status, r.json)
check("forgot for an unknown email: 202", (202, {"status": "check_email"}), forgot_unknown)
nmail = len(mails_to(a))
r = call("POST", "/v1/account/password/forgot", {"email": a.upper()})
check("forgot answers alike for a known email", forgot_unknown, (r.status, r.json))
m = wait_mail(a, nmail + 1)
rt = link_token(m, "reset") if m else None
check_true("reset mail with a /reset?token= link", rt is not None)
_, q1 = login(a, PW_A)
r = call("POST", "/v1/account/password/reset", {"token": rt, "new_password": "password"})
check("weak password: 400 weak_password", (400, "weak_password"), (r.status, r.code))
check("the refused reset left the link unused", 1, count("account_tokens", "purpose = 'reset' AND used_at IS NULL AND token_hash = sha256(convert_to('%s', 'UTF8'))" % rt))
r = call("POST", "/v1/account/password/reset", {"token": rt, "new_password": "reset pass phrase 3"},
         headers={"Origin": "http://evil.example"})
check("cross-site reset: 403", (403, "csrf_failed"), (r.status, r.code))
r = call("POST", "/v1/account/password/reset", {"token": rt, "new_password": "reset pass phrase 3"})
check("reset 200", (200, {"status": "reset"}), (r.status, r.json))
r = call("POST", "/v1/account/password/reset", {"token": rt, "new_password": "reset pass phrase 4"})
check("the link again: 400 invalid_token", (400, "invalid_token"), (r.status, r.code))
check("every session ended", 401, q1.get("/v1/session").status)
check("new password works", 200, login(a, "reset pass phrase 3")[0].status)
PW_A = "reset pass phrase 3"
call("POST", "/v1/account/password/forgot", {"email": a})
m = wait_mail(a, len(mails_to(a)) + 1)
rt2 = link_token(m, "reset")
psql("UPDATE account_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = "
     "sha256(convert_to('%s', 'UTF8'))" % rt2)
r = call("POST", "/v1/account/password/reset", {"token": rt2, "new_password": "reset pass phrase 5"})
check("an expired reset link: 400 invalid_token", (400, "invalid_token"), (r.status, r.code))
r = call("POST", "/v1/account/password/reset", {"token": "B" * 43, "new_password": "reset pass phrase 5"})
check("a forged reset link: 400 invalid_token", (400, "invalid_token"), (r.status, r.code))
r = call("POST", "/v1/account/password/reset", {"token": tok2, "new_password": "reset pass phrase 5"})
check("a confirmation link is no reset link", (400, "invalid_token"), (r.status, r.code))

print("login throttling per account, and its recovery")
d = signup_confirmed("dave@example.com", PW)
for i in range(5):
    r = call("POST", "/v1/session", {"email": "dave@example.com", "password": "wrong %d password" % i})
check("5 failures answer 401", 401, r.status)
r = call("POST", "/v1/session", {"email": "dave@example.com", "password": "wrong 5 password"})
check("the 6th failure is still counted (401)", 401, r.status)
r = call("POST", "/v1/session", {"email": "dave@example.com", "password": PW})
check("then even the right password: 429 too_many_attempts", (429, "too_many_attempts"), (r.status, r.code))
ra = int(r.header("Retry-After") or 0)
check_true("Retry-After given", 1 <= ra <= 2, ra)
r = call("POST", "/v1/session", {"email": "ghost-throttle@example.com", "password": "wrong password"})
for i in range(6):
    r = call("POST", "/v1/session", {"email": "ghost-throttle@example.com", "password": "wrong password"})
check("an email without an account is throttled alike", (429, "too_many_attempts"), (r.status, r.code))
time.sleep(ra + 0.2)
r = call("POST", "/v1/session", {"email": "dave@example.com", "password": PW})
check("after Retry-After the right password works", 200, r.status)
check("and the count starts afresh", 0, count("login_throttle", "subject = 'email:dave@example.com'"))

print("login throttling per client address")
for i in range(30):
    call("POST", "/v1/session", {"email": "spray%d@example.com" % i, "password": "wrong password"},
         source="127.0.0.9")
r = call("POST", "/v1/session", {"email": "spray-last@example.com", "password": "wrong password"}, source="127.0.0.9")
r = call("POST", "/v1/session", {"email": "dave@example.com", "password": PW}, source="127.0.0.9")
check("31 failures from one address block it: 429", (429, "too_many_attempts"), (r.status, r.code))
r = call("POST", "/v1/session", {"email": "dave@example.com", "password": PW}, source="127.0.0.1")
check("another address is not blocked", 200, r.status)

print("a hash of weaker argon2id parameters is redone at login")
sod = ctypes.CDLL(ctypes.util.find_library("sodium"))
sod.sodium_init()
weak = ctypes.create_string_buffer(128)
pwb = PW.encode()
# crypto_pwhash_str_alg(out, pw, len, opslimit 1, memlimit 8 MiB, crypto_pwhash_ALG_ARGON2ID13 = 2)
rc = sod.crypto_pwhash_str_alg(weak, pwb, ctypes.c_ulonglong(len(pwb)), ctypes.c_ulonglong(1),
                               ctypes.c_size_t(8 << 20), ctypes.c_int(2))
check("libsodium made a weaker hash", (0, True), (rc, weak.value.startswith(b"$argon2id$v=19$m=8192,t=1,p=1$")))
psql("UPDATE accounts SET password_hash = '%s' WHERE email = 'dave@example.com'" % weak.value.decode())
check("login with the weaker hash", 200, login("dave@example.com", PW)[0].status)
check("the hash is now today's (m = 19 MiB, t = 2)", "$argon2id$v=19$m=19456,t=2,p=1$",
      psql("SELECT left(password_hash, 31) FROM accounts WHERE email = 'dave@example.com'"))
check("and still verifies", 200, login("dave@example.com", PW)[0].status)

print("a step that fails mid-way leaves nothing behind (its transaction rolls back)")
# the mail of each step is its last write: a constraint refusing it makes the step fail late
psql("ALTER TABLE mail_outbox ADD CONSTRAINT t_accounts_fail CHECK (to_addr NOT LIKE 'fail%%') NOT VALID")
r = call("POST", "/v1/account/signup", {"email": "fail1@example.com", "password": PW})
check("sign-up whose mail cannot be queued: 503", (503, "service_unavailable"), (r.status, r.code))
check("no account, no link left", (0, 0), (count("accounts", "email = 'fail1@example.com'"),
      count("account_tokens t JOIN accounts a ON a.id = t.account_id", "a.email = 'fail1@example.com'")))
psql("ALTER TABLE mail_outbox DROP CONSTRAINT t_accounts_fail")
sf = signup_confirmed("fail2@example.com", PW)
_, sf2 = login("fail2@example.com", PW)
kf = sf.send("POST", "/v1/account/keys", {"name": "kept"}).json["secret"]
psql("ALTER TABLE mail_outbox ADD CONSTRAINT t_accounts_fail CHECK (to_addr NOT LIKE 'fail%%') NOT VALID")
r = sf.send("POST", "/v1/account/password", {"old_password": PW, "new_password": "other pass phrase 9"})
check("password change whose notice cannot be queued: 503", 503, r.status)
check("the old password still works", 200, login("fail2@example.com", PW)[0].status)
check("the other session still lives", 200, sf2.get("/v1/session").status)
r = sf.send("POST", "/v1/account/delete", {"password": PW})
check("deletion whose mail cannot be queued: 503", 503, r.status)
check("the key still works", 200, call("GET", "/v1/markets", headers={"X-API-Key": kf}).status)
check("the account is still there", 1, count("accounts", "email = 'fail2@example.com' AND deleted_at IS NULL"))
psql("ALTER TABLE mail_outbox DROP CONSTRAINT t_accounts_fail")

print("delete the account")
_, e1 = login(a, PW_A)
r = e1.send("POST", "/v1/account/keys", {"name": "to die"})
doomed = r.json["secret"]
check("the key works before", 200, call("GET", "/v1/markets", headers={"X-API-Key": doomed}).status)
r = e1.send("POST", "/v1/account/delete", {"password": "not the password"})
check("wrong password: 401", (401, "invalid_credentials"), (r.status, r.code))
r = e1.send("POST", "/v1/account/delete", {"password": PW_A}, csrf=False)
check("without CSRF token: 403", 403, r.status)
check("nothing deleted by the refusals", 200, call("GET", "/v1/markets", headers={"X-API-Key": doomed}).status)
aid = psql("SELECT id FROM accounts WHERE email = '%s'" % a)
usage_rows = count("usage", "key_id IN (SELECT id FROM api_keys WHERE account_id = %s)" % aid)
r = e1.send("POST", "/v1/account/delete", {"password": PW_A})
check("delete 200", (200, {"status": "deleted"}), (r.status, r.json))
check_true("cookie cleared", "Max-Age=0" in (cookie_of(r)[1] or ""))
check("keys refused at once", (401, "revoked_api_key"),
      (call("GET", "/v1/markets", headers={"X-API-Key": doomed}).status,
       call("GET", "/v1/markets", headers={"X-API-Key": doomed}).code))
check("feedd refuses the keys at once", 401, feed_status(doomed))
check("the session ended", 401, e1.get("/v1/session").status)
check("login fails", 401, login(a, PW_A)[0].status)
check("every key revoked", 0, count("api_keys", "account_id = %s AND revoked_at IS NULL" % aid))
check("the row stays, disabled, email and password gone",
      "deleted-%s@deleted.invalid|t||t" % aid,
      psql("SELECT email || '|' || disabled || '|' || coalesce(password_hash, '') || '|' || "
           "(deleted_at IS NOT NULL) FROM accounts WHERE id = %s" % aid).replace("true", "t"))
check("usage history kept", usage_rows, count("usage", "key_id IN (SELECT id FROM api_keys WHERE account_id = %s)" % aid))
r = call("POST", "/v1/account/signup", {"email": a, "password": PW})
check("the email can sign up again", 202, r.status)
check("as a new account", 1, count("accounts", "email = '%s' AND id <> %s AND NOT email_confirmed" % (a, aid)))

print("mail while the SMTP server is down: queued, retried, delivered")
port = open(os.path.join(STACK, "run", "smtp.port")).read().strip()
subprocess.run(["bash", "-c", '. "$TEST_ROOT/scripts/stack.sh"; smtp_stop "$TEST_STACK"'], check=True)
t0 = time.time()
r = call("POST", "/v1/account/signup", {"email": "erin@example.com", "password": PW})
check("sign-up answers at once while SMTP is down", 202, r.status)
check_true("in well under the SMTP timeout", time.time() - t0 < 3, time.time() - t0)
end = time.time() + 20
while time.time() < end and count("mail_outbox", "to_addr = 'erin@example.com' AND last_error IS NOT NULL") == 0:
    time.sleep(0.3)
check("the failure is recorded, the mail kept", "1|f",
      psql("SELECT count(*) || '|' || bool_or(sent_at IS NOT NULL) FROM mail_outbox WHERE to_addr = 'erin@example.com'").replace("false", "f"))
subprocess.run(["bash", "-c", '. "$TEST_ROOT/scripts/stack.sh"; smtp_start "$TEST_STACK" %s' % port], check=True)
m = wait_mail("erin@example.com", 1, timeout=40)
check_true("delivered once the server is back", m is not None)
check("marked sent, body blanked", "t|0",
      psql("SELECT (sent_at IS NOT NULL) || '|' || length(body) FROM mail_outbox WHERE to_addr = 'erin@example.com'").replace("true", "t"))

finish()
