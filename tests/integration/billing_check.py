"""t_billing: billing with Stripe through nginx, the accounts pool of kbook-api, Postgres,
stripe-sim (the stack's Stripe) and kbook-billing (the overage sender)."""
import atexit
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

from kbtest import (PG, PW, STACK, URL, call, check, check_true, finish, mails_to, psql,
                    signup_confirmed, wait_for)

BIN = os.environ["TEST_BIN"]
TMP = os.environ["TEST_TMP"]
SIM = "http://127.0.0.1:%s" % open(os.path.join(STACK, "conf", "stripe.port")).read().strip()
SECRETS = os.path.join(STACK, "conf", "stripe", "webhook-secrets")
SECRET = open(SECRETS).read().split()[0]
SK = open(os.path.join(STACK, "conf", "stripe", "secret-key")).read().strip()


def sim(method, path, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    h = {"Content-Type": "application/x-www-form-urlencoded"} if data is not None else {}
    if path.startswith("/v1/"):
        h["Authorization"] = "Bearer " + SK
    return call(method, path, raw=data, headers=h, base=SIM)


def free_port():
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def new_account(addr):
    """A confirmed, logged-in account with one API key (s.key)."""
    s = signup_confirmed(addr)
    k = s.post("/v1/account/keys", {"name": "test"})
    assert k.status == 201, k.raw
    s.key = k.json["secret"]
    return s


def data(s, path="/v1/markets?limit=1"):
    return call("GET", path, headers={"X-API-Key": s.key})


def sign(body, secret=SECRET, t=None):
    t = int(time.time()) if t is None else t
    mac = hmac.new(secret.encode(), ("%d." % t).encode() + body, hashlib.sha256).hexdigest()
    return "t=%d,v1=%s" % (t, mac)


def hook(body, sig):
    h = {"Content-Type": "application/json; charset=utf-8"}
    if sig is not None:
        h["Stripe-Signature"] = sig
    return call("POST", "/v1/stripe/webhook", raw=body, headers=h)


def event(eid, etype, obj, created=None):
    return json.dumps({"id": eid, "object": "event", "type": etype, "api_version": "2025-08-27.basil",
                       "created": int(time.time()) if created is None else created,
                       "data": {"object": obj}}, separators=(",", ":")).encode()


def account_row(aid):
    return psql("SELECT plan || '|' || coalesce(subscription_status, '-') FROM accounts WHERE id = %d" % aid)


def period(aid):
    return psql("SELECT allowance || '|' || used || '|' || overage FROM credit_periods WHERE account_id = %d"
                " AND period_start = kb_account_period(%d)" % (aid, aid))


# ---------------------------------------------------------------------------------------------
print("webhook: signatures (lib/stripe_sig, BILLING.md rules)")
body = event("evt_unknown_1", "customer.tax_id.created", {"id": "txi_1"})
r = hook(body, sign(body))
check("a verified event of an unknown type is 2xx and ignored", (200, "ignored"), (r.status, (r.json or {}).get("outcome")))
check("... and recorded for dedup", "ignored", psql("SELECT outcome FROM stripe_events WHERE id = 'evt_unknown_1'"))
now = int(time.time())
mac = hmac.new(SECRET.encode(), ("%d." % now).encode() + body, hashlib.sha256).hexdigest()
malformed = {
    "no header": None,
    "empty header": "",
    "only t": "t=%d" % now,
    "only v1": "v1=%s" % mac,
    "t not digits": "t=12a4,v1=%s" % mac,
    "t empty": "t=,v1=%s" % mac,
    "two t": "t=%d,t=%d,v1=%s" % (now, now, mac),
    "space before v1": "t=%d, v1=%s" % (now, mac),
    "uppercase hex": "t=%d,v1=%s" % (now, mac.upper()),
    "short hex": "t=%d,v1=%s" % (now, mac[:63]),
    "v0 only": "t=%d,v0=%s" % (now, mac),
    "wrong secret": sign(body, "whsec_not_the_secret", now),
    "garbage": "\x01\x02,,,===",
    "very long": "t=%d,v1=%s" % (now, "a" * 5000),
}
for name, hdr in malformed.items():
    b = event("evt_bad_" + re.sub(r"\W", "_", name), "invoice.paid", {"id": "in_x"})
    if name not in ("no header", "empty header", "garbage", "very long", "wrong secret"):
        hdr = hdr.replace(mac, hmac.new(SECRET.encode(), ("%d." % now).encode() + b, hashlib.sha256).hexdigest()) \
            .replace(mac.upper(), hmac.new(SECRET.encode(), ("%d." % now).encode() + b, hashlib.sha256).hexdigest().upper())
    r = hook(b, hdr)
    check("malformed Stripe-Signature (%s): 400 invalid_signature" % name, (400, "invalid_signature"), (r.status, r.code))
check("no malformed event was kept", "0", psql("SELECT count(*) FROM stripe_events WHERE id LIKE 'evt_bad_%'"))
b = event("evt_extra_keys", "customer.tax_id.created", {"id": "txi_2"})
r = hook(b, sign(b) + ",v0=deadbeef,x=1,v1=" + "0" * 64)
check("unknown keys, v0 and a second wrong v1 are ignored (any v1 may match)", 200, r.status)
b = event("evt_old", "customer.tax_id.created", {"id": "txi_3"})
check("a timestamp 301 s old is refused", 400, hook(b, sign(b, t=int(time.time()) - 301)).status)
check("a timestamp 290 s old is accepted", 200, hook(b, sign(b, t=int(time.time()) - 290)).status)
b = event("evt_future", "customer.tax_id.created", {"id": "txi_4"})
check("a future timestamp is accepted (as Stripe's libraries do)", 200, hook(b, sign(b, t=int(time.time()) + 3600)).status)
b = event("evt_onebyte", "customer.tax_id.created", {"id": "txi_5"})
sig = sign(b)
check("the body changed by one byte is refused", 400, hook(b.replace(b"txi_5", b"txi_6"), sig).status)
check("a trailing newline added is refused", 400, hook(b + b"\n", sig).status)
check("... the exact bytes pass", 200, hook(b, sig).status)
b = b'{"not":"an event"}'
check("a signed body that is not an event: 400 invalid_body", (400, "invalid_body"), (hook(b, sign(b)).status, hook(b, sign(b)).code))

print("webhook: secret rotation (the secrets file is read at each event)")
new_secret = "whsec_rotated_" + os.urandom(8).hex()
orig = open(SECRETS).read()
with open(SECRETS, "w") as f:
    f.write(new_secret + "\n" + SECRET + "\n")
b = event("evt_rot_new", "customer.tax_id.created", {"id": "txi_7"})
check("signed with the new secret: accepted", 200, hook(b, sign(b, new_secret)).status)
b = event("evt_rot_old", "customer.tax_id.created", {"id": "txi_8"})
check("signed with the old one during the rotation: accepted", 200, hook(b, sign(b)).status)
with open(SECRETS, "w") as f:
    f.write(new_secret + "\n")
b = event("evt_rot_gone", "customer.tax_id.created", {"id": "txi_9"})
check("the old secret removed: refused", 400, hook(b, sign(b)).status)
check("... the new one still works", 200, hook(b, sign(b, new_secret)).status)
print("webhook: the BILLING.md known-answer vectors reach the route's verifier")
vec = b'{"id":"evt_test_1","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1"}}}'
vectors = (("whsec_test_secret", vec, "3f70d0e199687a181bd375130b4b4f3e0f1bf437ca10763267465d6c40d075d6"),
           ("whsec_rotated_secret", vec, "99912f1fdda205a45ab2bb7857c34f935a6dbb8833774d7f24a7c812e8abe248"),
           ("whsec_test_secret", vec + b"\n", "bc49f2c3b49f1f14e03e5e7e5662a12cccbe5157d072f87437a5e4b54e49cf76"))
for secret, vbody, v1 in vectors:
    with open(SECRETS, "w") as f:
        f.write(secret + "\n")
    r = hook(vbody, "t=1700000000,v1=" + v1)
    check("vector %s %s: the HMAC matches, refused only as too old" % (secret, len(vbody)),
          (400, "Stripe-Signature: timestamp outside the tolerance"),
          (r.status, ((r.json or {}).get("error") or {}).get("message")))
    r = hook(vbody, "t=1700000000,v1=" + v1.replace(v1[0], "0" if v1[0] != "0" else "1", 1))
    check("... one hex digit changed: no match", "Stripe-Signature: no signature matches the payload",
          ((r.json or {}).get("error") or {}).get("message"))
with open(SECRETS, "w") as f:
    f.write(orig)

# ---------------------------------------------------------------------------------------------
print("routes: session and CSRF")
check("GET /v1/account/billing without a session: 401", 401, call("GET", "/v1/account/billing").status)
A = new_account("bill-a@example.com")
r = A.get("/v1/account/billing")
check("billing status of a new account", ("free", False, False, 1000), (r.json["plan"], r.json["payg"],
      r.json["billing_account"], r.json["period"]["allowance"]))
check("... overage price from the plans table", 0.008, r.json["overage_usd_per_credit"])
r = A.post("/v1/account/billing/checkout", csrf=False)
check("checkout without the CSRF token: 403 csrf_failed", (403, "csrf_failed"), (r.status, r.code))
r = call("POST", "/v1/account/billing/checkout", {}, headers=dict(A.h(), **{"Sec-Fetch-Site": "cross-site"}))
check("checkout from another site: 403 csrf_failed", (403, "csrf_failed"), (r.status, r.code))
r = A.post("/v1/account/billing/portal")
check("portal before any billing account: 409 no_billing_account", (409, "no_billing_account"), (r.status, r.code))
r = A.post("/v1/account/billing/payg", {"enabled": "yes"})
check("payg with a non-boolean: 400 invalid_parameter", (400, "invalid_parameter"), (r.status, r.code))
r = A.post("/v1/account/billing/payg", {"on": True})
check("payg with an unknown member: 400 unknown_parameter", (400, "unknown_parameter"), (r.status, r.code))

print("checkout: a declined card changes nothing; 4242 makes the project plan")
r = A.post("/v1/account/billing/checkout")
check("checkout answers Stripe's hosted page", 200, r.status)
cs_url = (r.json or {}).get("url", "")
check_true("... on stripe-sim", cs_url.startswith(SIM + "/c/pay/cs_"), cs_url)
cus = psql("SELECT stripe_customer_id FROM accounts WHERE id = %d" % A.id)
check_true("the account's Stripe customer was made first", cus.startswith("cus_"), cus)
path = urllib.parse.urlsplit(cs_url).path
pay = lambda card: sim("POST", path, {"email": "bill-a@example.com", "cardNumber": card, "cardExpiry": "12 / 34",
                                       "cardCvc": "123", "billingName": "A"})
r = pay("4000 0000 0000 0002")
check("declined card: 402 on Stripe's page", 402, r.status)
time.sleep(1)
check("... and the account is still free", "free|-", account_row(A.id))
r = pay("4242 4242 4242 4242")
check("4242 pays: 303 back to the billing page", 303, r.status)
check_true("... with the session id", (r.header("Location") or "").startswith(URL + "/billing?checkout=cs_"), r.header("Location"))
check("the webhooks make the account project, active", "project|active",
      wait_for(lambda: account_row(A.id) == "project|active" and account_row(A.id), 30) or account_row(A.id))
check("... with 4000 credits this period", "4000", period(A.id).split("|")[0])
r = data(A)
check("the data API's next request sees the plan", ("200", "4000"), (str(r.status), r.header("X-Credits-Total")))
r = A.post("/v1/account/billing/checkout")
check("a second checkout: 409 already_subscribed", (409, "already_subscribed"), (r.status, r.code))
r = A.post("/v1/account/billing/portal")
check("the portal answers Stripe's page", True, r.status == 200 and "/p/session/bps_" in r.json.get("url", ""))
sub = psql("SELECT stripe_subscription_id FROM accounts WHERE id = %d" % A.id)
check_true("subscription linked", sub.startswith("sub_"), sub)

print("webhook: duplicates, stale events, rollback")
n_before = psql("SELECT count(*) FROM stripe_events")
evs = json.loads(sim("GET", "/v1/events?limit=100").raw)["data"]
paid = [e for e in evs if e["type"] == "invoice.paid" and e["data"]["object"].get("customer") == cus][0]
raw = json.dumps(paid).encode()
r = hook(raw, sign(raw))
check("the same event again: 200 duplicate", (200, "duplicate"), (r.status, (r.json or {}).get("outcome")))
check("... nothing added", n_before, psql("SELECT count(*) FROM stripe_events"))
subobj = json.loads(sim("GET", "/v1/subscriptions/" + sub).raw)
last = int(psql("SELECT last_created FROM stripe_objects WHERE object_id = '%s'" % sub))
old = dict(subobj, status="canceled")
b = event("evt_stale_1", "customer.subscription.updated", old, created=last - 10)
r = hook(b, sign(b))
check("an older event about the subscription arriving late: stale", (200, "stale"), (r.status, (r.json or {}).get("outcome")))
check("... the account unchanged", "project|active", account_row(A.id))
psql("CREATE FUNCTION t_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
     " RAISE EXCEPTION 'injected failure'; END $$;"
     " CREATE TRIGGER t_fail BEFORE UPDATE ON accounts FOR EACH ROW WHEN (NEW.subscription_status = 'past_due')"
     " EXECUTE FUNCTION t_fail()")
inv = dict(paid["data"]["object"], id="in_fail_1")
b = event("evt_fail_1", "invoice.payment_failed", inv, created=last + 1)
r = hook(b, sign(b))
check("an event whose processing fails: 5xx", True, r.status >= 500)
check("... nothing of it kept (not even the dedup row)", "0|project|active",
      psql("SELECT count(*) FROM stripe_events WHERE id = 'evt_fail_1'") + "|" + account_row(A.id))
psql("DROP TRIGGER t_fail ON accounts; DROP FUNCTION t_fail()")
r = hook(b, sign(b))
check("... delivered again once the fault is gone: applied", (200, "applied"), (r.status, (r.json or {}).get("outcome")))
check("... the account goes back to free, past_due (BILLING: a failed payment ends the plan)", "free|past_due", account_row(A.id))
check("... its allowance is free's again (never below what is used)", "1000", period(A.id).split("|")[0])
b = event("evt_fix_1", "invoice.paid", dict(inv, id="in_fix_1", billing_reason="subscription_update"), created=last + 2)
check("a later paid invoice restores project", (200, "project|active"), (hook(b, sign(b)).status, account_row(A.id)))

print("renewal and a failed payment by stripe-sim's clock")
for _ in range(3):
    data(A)
used_before = int(period(A.id).split("|")[1])
check_true("credits used before the renewal", used_before >= 3, used_before)
sim("POST", "/_sim/clock?advance=%d" % (32 * 86400))
check("renewal (invoice.paid, subscription_cycle) starts the period afresh", "4000|0",
      wait_for(lambda: period(A.id).startswith("4000|0|") and "4000|0", 30) or period(A.id))
check("... still project, active", "project|active", account_row(A.id))
r = sim("POST", "/_sim/card?customer=%s&card=4000000000000341" % cus)
check("the card set to fail", 200, r.status)
sim("POST", "/_sim/clock?advance=%d" % (32 * 86400))
check("failed renewal: back to free, past_due", "free|past_due",
      wait_for(lambda: account_row(A.id) == "free|past_due" and account_row(A.id), 30) or account_row(A.id))
r = A.get("/v1/account/billing")
check("the billing status says so", ("free", "past_due"), (r.json["plan"], r.json["subscription_status"]))
r = data(A)
check("the data API's next request has free's allowance", "1000", r.header("X-Credits-Total"))

print("webhooks end to end: stripe-sim duplicating and reordering a subscription's whole life")
W = new_account("bill-w@example.com")
wmark = len(json.loads(sim("GET", "/_sim/deliveries").raw)["attempts"])
# every event of the life below is delivered twice, and each held until the one after it went
for kind in ("webhook_duplicate", "webhook_reorder"):
    check("%s armed" % kind, 200, sim("POST", "/_sim/fault?kind=%s&count=40" % kind).status)
r = W.post("/v1/account/billing/checkout")
wpath = urllib.parse.urlsplit((r.json or {}).get("url", "")).path
r = sim("POST", wpath, {"email": "bill-w@example.com", "cardNumber": "4242 4242 4242 4242",
                        "cardExpiry": "12 / 34", "cardCvc": "123", "billingName": "W"})
check("W pays by 4242", 303, r.status)
check("W: project, active, 4000 credits", "project|active|4000",
      wait_for(lambda: account_row(W.id) == "project|active" and period(W.id).startswith("4000|")
               and "project|active|4000", 30) or account_row(W.id) + "|" + period(W.id))
for _ in range(2):
    data(W)
wcus = psql("SELECT stripe_customer_id FROM accounts WHERE id = %d" % W.id)
wsub = psql("SELECT stripe_subscription_id FROM accounts WHERE id = %d" % W.id)
# a project subscription's credits follow its billing period at Stripe, not the calendar month
wspan = "SELECT extract(epoch FROM period_start)::bigint || '|' || extract(epoch FROM period_end)::bigint" \
        " FROM credit_periods WHERE account_id = %d AND period_start = kb_account_period(%d)" % (W.id, W.id)
wsubobj = json.loads(sim("GET", "/v1/subscriptions/" + wsub).raw)
check("W's credit period is its subscription's period at Stripe",
      "%d|%d" % (wsubobj["items"]["data"][0]["current_period_start"], wsubobj["items"]["data"][0]["current_period_end"]),
      psql(wspan))
check_true("... not the calendar month (else the 1st would reset it too: 4 000 twice a month)",
           psql("SELECT kb_account_period(%d) <> date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
                % W.id) == "t")
sim("POST", "/_sim/clock?advance=%d" % (32 * 86400))
check("W: the renewal starts the period afresh", "4000|0",
      wait_for(lambda: period(W.id).startswith("4000|0|") and "4000|0", 30) or period(W.id))
wsubobj = json.loads(sim("GET", "/v1/subscriptions/" + wsub).raw)
check("... the renewed subscription's period; the old one kept with its use",
      ("%d|%d" % (wsubobj["items"]["data"][0]["current_period_start"], wsubobj["items"]["data"][0]["current_period_end"]),
       "2|2"),
      (psql(wspan), psql("SELECT count(*) || '|' || max(used) FROM credit_periods"
                         " WHERE account_id = %d AND allowance = 4000" % W.id)))


def settled():
    """Nothing queued at the sim, and past the 2 s a reordered event may be held."""
    wait_for(lambda: json.loads(sim("GET", "/_sim/deliveries").raw)["queued"] == 0, 30)
    time.sleep(2.5)


settled()
for _ in range(2):
    data(W)
settled()
check("W: the renewal's duplicate deliveries did not start the period again", "4000|2",
      "|".join(period(W.id).split("|")[:2]))
sim("POST", "/_sim/card?customer=%s&card=4000000000000341" % wcus)
sim("POST", "/_sim/clock?advance=%d" % (32 * 86400))
check("W: the failed renewal: free, past_due", "free|past_due",
      wait_for(lambda: account_row(W.id) == "free|past_due" and account_row(W.id), 30) or account_row(W.id))
settled()
wsubobj = json.loads(sim("GET", "/v1/subscriptions/" + wsub).raw)
check("W's subscription at Stripe is past_due", "past_due", wsubobj.get("status"))
check("kbook's subscription status and period end = Stripe's",
      "past_due|%d" % wsubobj["items"]["data"][0]["current_period_end"],
      psql("SELECT subscription_status || '|' || extract(epoch FROM subscription_period_end)::bigint"
           " FROM accounts WHERE id = %d" % W.id))
att = json.loads(sim("GET", "/_sim/deliveries").raw)["attempts"][wmark:]
wevs = [e for e in json.loads(sim("GET", "/v1/events?limit=100").raw)["data"]
        if (e["data"]["object"].get("customer") == wcus or e["data"]["object"].get("id") == wcus)]
wids = {e["id"] for e in wevs}
ok = [a["event"] for a in att if a["event"] in wids and 200 <= a["status"] < 300]
check_true("W's events were delivered (%d events)" % len(wids), len(wids) >= 8 and wids <= set(ok),
           sorted(wids - set(ok)))
check_true("... each at least twice, both answered 2xx (duplicates)",
           all(ok.count(e) >= 2 for e in wids), [e for e in wids if ok.count(e) < 2])
first = []
for e in ok:
    if e not in first:
        first.append(e)
created_order = [e["id"] for e in reversed(wevs)]   # the list is newest first
check_true("... in an order other than Stripe's (reordered)", first != [e for e in created_order if e in first])
sim("POST", "/_sim/card?customer=%s&card=4242424242424242" % wcus)
# the faults W did not spend would reorder the money path's events below: disarm them
check("the sim's faults disarmed", [], json.loads(sim("DELETE", "/_sim/fault").raw))

# ---------------------------------------------------------------------------------------------
print("overage: free and project stop, payg keeps serving with its outbox row per bucket")
F = new_account("bill-free@example.com")
data(F)
psql("UPDATE credit_periods SET used = 999 WHERE account_id = %d" % F.id)
check("free: the last credit is served", 200, data(F).status)
r = data(F)
check("free: past the allowance 429 credits_exhausted", (429, "credits_exhausted"), (r.status, r.code))
check_true("... with Retry-After", r.header("Retry-After") is not None)
P = new_account("bill-payg@example.com")
r = P.post("/v1/account/billing/payg", {"enabled": True})
check("payg on", (200, "payg", True, True), (r.status, (r.json or {}).get("plan"), (r.json or {}).get("payg"),
                                              (r.json or {}).get("billing_account")))
data(P)
psql("UPDATE credit_periods SET used = 997 WHERE account_id = %d" % P.id)
codes = [data(P).status for _ in range(6)]
check("payg never stops serving past the allowance", [200] * 6, codes)
check("ledger: allowance used up, 3 credits of overage", "1000|1000|3", period(P.id))
# The calls' overage collects in one outbox row per bucket (KBOOK_BILLING_BUCKET_S, 1 s here:
# scripts/test.sh), so 3 calls make one row, or two when they straddle a bucket's end.
rows, buckets, total = psql("SELECT count(*) || '|' || count(DISTINCT closes_at) || '|' || sum(credits)"
                            " FROM billing_outbox WHERE account_id = %d" % P.id).split("|")
check("... its outbox: one row per bucket, the same total", (buckets, "3"), (rows, total))
check_true("... fewer rows than calls or one per call at most", 1 <= int(rows) <= 3, rows)
r = data(P, "/v1/markets/NO-SUCH-MARKET")
check("a failed payg call past the allowance (404) is refunded...", 404, r.status)
# The refund takes the credit off the call's own outbox row, which no sender claims before its
# bucket is KBOOK_BILLING_SETTLE_S closed (sql/001_baseline.sql api_refund, billing/main.c)
led, box = period(P.id), psql("SELECT sum(credits) FROM billing_outbox WHERE account_id = %d" % P.id)
ov = 3
check("... from the ledger and its outbox row alike", ("1000|1000|3", "3"), (led, box))
check("... its X-Credits-Cost is 0", "0", r.header("X-Credits-Cost"))
r = P.get("/v1/account/billing")
check("billing status: overage so far and its price", (ov, round(ov * 0.008, 2)),
      (r.json["period"]["overage"], r.json["period"]["overage_usd"]))
print("price first: X-Credits-Estimate answers the cost and what would remain, free and uncounted")
est = lambda sess, path="/v1/markets?limit=1": call("GET", path, headers={"X-API-Key": sess.key, "X-Credits-Estimate": "true"})
before = psql("SELECT used || '|' || overage || '|' || rate_calls FROM credit_periods WHERE account_id = %d"
              " AND period_start = kb_account_period(%d)" % (P.id, P.id))
outbox_before = psql("SELECT count(*) FROM billing_outbox WHERE account_id = %d" % P.id)
r = est(P, "/v1/markets/ANY/orderbook?at=1700000000")
check("payg past the allowance: would be served as overage", (200, 5, "served", 0, 5, ov + 5),
      (r.status, (r.json or {}).get("cost"), (r.json or {}).get("would_be"), (r.json or {}).get("remaining_after"),
       (r.json or {}).get("overage_credits"), (r.json or {}).get("overage_after")))
for _ in range(70):
    est(P)
check("70 estimates (past the payg rate of 60/min): nothing charged, counted or queued", (before, outbox_before),
      (psql("SELECT used || '|' || overage || '|' || rate_calls FROM credit_periods WHERE account_id = %d"
            " AND period_start = kb_account_period(%d)" % (P.id, P.id)),
       psql("SELECT count(*) FROM billing_outbox WHERE account_id = %d" % P.id)))
r = est(F)
check("free with nothing left: would be 429 credits_exhausted", (200, "credits_exhausted", 0),
      (r.status, (r.json or {}).get("would_be"), (r.json or {}).get("remaining_after")))
r = est(F, "/v1/markets?limit=0")
check("the call's parameters are still checked", (400, "invalid_parameter"), (r.status, r.code))
r = call("GET", "/v1/markets", headers={"X-API-Key": "kb_live_" + "A" * 32, "X-Credits-Estimate": "true"})
check("an unknown key: 401 invalid_api_key", (401, "invalid_api_key"), (r.status, r.code))
r = P.post("/v1/account/billing/payg", {"enabled": False})
check("payg off: back to free", "free", (r.json or {}).get("plan"))
r = data(P)
check("... and now past the allowance it stops", (429, "credits_exhausted"), (r.status, r.code))
P.post("/v1/account/billing/payg", {"enabled": True})

# ---------------------------------------------------------------------------------------------
print("sender: reconciliation with Stripe under faults and kill -9")
# the stack records each part as "pid start-time" in its root-owned state/ (scripts/stack.sh)
pidf = os.path.join(STACK, "state", "billing")
mport = open(os.path.join(STACK, "conf", "billing-metrics.port")).read().strip()
m = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % mport, timeout=5).read().decode()
check_true("the stack's sender serves /metrics", "kbook_billing_sent_total" in m, m[:200])
check("its outbox rows reach Stripe", "0", wait_for(lambda: psql(
    "SELECT count(*) FROM billing_outbox WHERE sent_at IS NULL AND credits > 0"
    " AND account_id IN (SELECT id FROM accounts WHERE stripe_customer_id IS NOT NULL)") == "0" and "0", 90) or "left")
os.kill(int(open(pidf).read().split()[0]), signal.SIGKILL)
env = {k: v for k, v in os.environ.items() if not k.startswith("KBOOK_")}
env.update(KBOOK_DATABASE_URL=PG, KBOOK_STRIPE_API_BASE=SIM,
           KBOOK_STRIPE_SECRET_KEY_FILE=os.path.join(STACK, "conf", "stripe", "secret-key"),
           KBOOK_BILLING_METRICS_PORT="0", KBOOK_BILLING_LEASE_S="2", KBOOK_BILLING_RETRY_MAX_S="2",
           KBOOK_BILLING_SETTLE_S="0",
           KBOOK_BILLING_BATCH="20")
log = open(os.path.join(TMP, "billing.log"), "ab")


senders = []


def sender(env_=None):
    """A kbook-billing of this test's own, killed when the test ends however it ends."""
    p = subprocess.Popen([os.path.join(BIN, "kbook-billing")], env=env_ or env, stdout=log, stderr=log)
    senders.append(p)
    return p


atexit.register(lambda: [p.kill() for p in senders if p.poll() is None])


accts = [P]
for i in range(2):
    s = new_account("bill-rec%d@example.com" % i)
    s.post("/v1/account/billing/payg", {"enabled": True})
    data(s)
    accts.append(s)
for s in accts:
    psql("UPDATE credit_periods SET used = allowance WHERE account_id = %d" % s.id)
# faults: answers lost after the work (the retry is a duplicate identifier), 500s, 429s, slow ones
for kind, count, ms in (("lost", 6, 0), ("500", 6, 0), ("429", 4, 0), ("slow", 10, 400)):
    sim("POST", "/_sim/fault?kind=%s&path=/v1/billing/meter_events&count=%d&ms=%d" % (kind, count, ms))
proc = sender()
served = 0
for rnd in range(25):
    for s in accts:
        served += data(s).status == 200
    if rnd == 8:
        time.sleep(0.5)
        proc.send_signal(signal.SIGKILL)   # mid-batch: rows claimed, some sent, none marked
        proc.wait()
        proc = sender()
    if rnd == 16:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc = sender()
check("every payg call served through the faults", 75, served)
done = wait_for(lambda: psql("SELECT count(*) FROM billing_outbox WHERE sent_at IS NULL AND failed_at IS NULL"
                             " AND credits > 0 AND account_id IN"
                             " (SELECT id FROM accounts WHERE stripe_customer_id IS NOT NULL)") == "0", 90)
check_true("the outbox drains", done, psql("SELECT count(*) FROM billing_outbox WHERE sent_at IS NULL"))
for s in accts:
    c = psql("SELECT stripe_customer_id FROM accounts WHERE id = %d" % s.id)
    u = json.loads(sim("GET", "/_sim/usage?customer=%s&meter=mtr_kbook_credits" % c).raw)
    ours = int(psql("SELECT coalesce(sum(credits), 0) FROM billing_outbox WHERE account_id = %d" % s.id))
    ledger = int(psql("SELECT coalesce(sum(overage), 0) FROM credit_periods WHERE account_id = %d" % s.id))
    check("account %d: Stripe's meter total = kbook's outbox = the ledger's overage" % s.id,
          (ours, ours), (int(u["total"]), ledger))
rows = int(psql("SELECT count(*) FROM billing_outbox WHERE credits > 0 AND account_id IN (%s)"
                % ",".join(str(s.id) for s in accts)))
events = sum(json.loads(sim("GET", "/_sim/usage?customer=%s&meter=mtr_kbook_credits" % psql(
    "SELECT stripe_customer_id FROM accounts WHERE id = %d" % s.id)).raw)["events"] for s in accts)
check("one meter event per outbox row (no duplicate counted)", rows, events)
print("  %d payg calls made %d outbox rows, %d meter events" % (served, rows, events))
retried = psql("SELECT count(*) FROM billing_outbox WHERE attempts > 1")
check_true("some rows needed several attempts (the faults were hit)", int(retried) > 0, retried)

print("sender: Stripe unreachable for a while, then back")
proc.send_signal(signal.SIGTERM)
proc.wait(10)
dead = socket.socket()
dead.bind(("127.0.0.1", 0))
dead_port = dead.getsockname()[1]   # bound, never listening: connections are refused
mport2 = free_port()
env_down = dict(env, KBOOK_STRIPE_API_BASE="http://127.0.0.1:%d" % dead_port,
                KBOOK_BILLING_METRICS_PORT=str(mport2))
proc = sender(env_down)
first_down = int(psql("SELECT coalesce(max(id), 0) FROM billing_outbox"))
served = sum(data(s).status == 200 for _ in range(8) for s in accts)
check("payg serves on while Stripe is down", 8 * len(accts), served)
down_rows = "SELECT count(*) FROM billing_outbox WHERE id > %d AND credits > 0" % first_down
check_true("the rows were tried again and again, none given up",
           wait_for(lambda: psql(down_rows + " AND attempts >= 3 AND sent_at IS NULL AND failed_at IS NULL")
                    == psql(down_rows), 30), psql("SELECT attempts, last_error FROM billing_outbox WHERE id > %d"
                                                  % first_down))
m = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport2, timeout=5).read().decode()
backlog = int(re.search(r"^kbook_billing_backlog_rows (\d+)$", m, re.M).group(1))
check_true("the backlog gauge shows them", backlog >= int(psql(down_rows)), m)
proc.send_signal(signal.SIGTERM)
check("the sender stops cleanly while Stripe is down", 0, proc.wait(10))
dead.close()
proc = sender()   # Stripe is back
check_true("... Stripe back: the backlog drains", wait_for(lambda: psql(down_rows + " AND sent_at IS NULL") == "0", 60),
           psql(down_rows + " AND sent_at IS NULL"))
for s in accts:
    c = psql("SELECT stripe_customer_id FROM accounts WHERE id = %d" % s.id)
    u = json.loads(sim("GET", "/_sim/usage?customer=%s&meter=mtr_kbook_credits" % c).raw)
    ours = int(psql("SELECT coalesce(sum(credits), 0) FROM billing_outbox WHERE account_id = %d" % s.id))
    ledger = int(psql("SELECT coalesce(sum(overage), 0) FROM credit_periods WHERE account_id = %d" % s.id))
    check("after the outage, account %d: Stripe's meter total = outbox = ledger" % s.id, (ours, ours),
          (int(u["total"]), ledger))

print("sender: overage of an account with no Stripe customer waits, counted")
N = new_account("bill-nocus@example.com")
psql("UPDATE accounts SET payg = true, plan = 'payg' WHERE id = %d" % N.id)   # as kbook-admin does
data(N)
psql("UPDATE credit_periods SET used = allowance WHERE account_id = %d" % N.id)
check("payg without a customer is served", [200, 200], [data(N).status, data(N).status])
proc.send_signal(signal.SIGTERM)
proc.wait(10)
proc = sender(dict(env, KBOOK_BILLING_METRICS_PORT=str(mport2)))


def waiting():
    try:
        m = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % mport2, timeout=5).read().decode()
    except OSError:
        return None
    r = re.search(r"^kbook_billing_waiting_customer_rows (\d+)$", m, re.M)
    c = re.search(r"^kbook_billing_waiting_customer_credits (\d+)$", m, re.M)
    return r and c and (r.group(1), c.group(1)) != ("0", "0") and (int(r.group(1)), int(c.group(1)))


want = tuple(int(x) for x in psql("SELECT count(*) || ' ' || sum(credits) FROM billing_outbox o JOIN accounts a"
                                  " ON a.id = o.account_id WHERE a.stripe_customer_id IS NULL AND o.sent_at IS NULL"
                                  " AND o.failed_at IS NULL").split())
check_true("kbook_billing_waiting_customer_rows/credits count them",
           want[0] >= 1 and want[1] >= 2 and wait_for(waiting, 15) == want,
           (want, waiting()))
check("... never claimed", "0", psql("SELECT sum(attempts) FROM billing_outbox WHERE account_id = %d" % N.id))
r = N.post("/v1/account/billing/payg", {"enabled": True})   # the billing page makes the customer
check("turning payg on in the billing page links a customer", True, r.status == 200 and
      psql("SELECT stripe_customer_id FROM accounts WHERE id = %d" % N.id).startswith("cus_"))
check_true("... and the waiting rows are sent", wait_for(lambda: psql(
    "SELECT count(*) FROM billing_outbox WHERE account_id = %d AND sent_at IS NULL" % N.id) == "0", 30))
ncus = psql("SELECT stripe_customer_id FROM accounts WHERE id = %d" % N.id)
check("... Stripe's meter total = the ledger's overage",
      int(psql("SELECT sum(overage) FROM credit_periods WHERE account_id = %d" % N.id)),
      int(json.loads(sim("GET", "/_sim/usage?customer=%s&meter=mtr_kbook_credits" % ncus).raw)["total"]))

print("sender: a validation error is recorded and not retried")
B = new_account("bill-bad@example.com")
B.post("/v1/account/billing/payg", {"enabled": True})
data(B)
psql("UPDATE accounts SET stripe_customer_id = 'cus_does_not_exist' WHERE id = %d" % B.id)
psql("UPDATE credit_periods SET used = allowance WHERE account_id = %d" % B.id)
check("payg call served", 200, data(B).status)
st = wait_for(lambda: psql("SELECT coalesce(failed_at IS NOT NULL, false) || '|' || attempts FROM billing_outbox"
                           " WHERE account_id = %d" % B.id).startswith("true") and
              psql("SELECT 'failed|' || attempts FROM billing_outbox WHERE account_id = %d" % B.id), 30)
check("Stripe's 404 for the customer: failed after one attempt", "failed|1", st)
check_true("... with Stripe's answer kept", "resource_missing" in psql(
    "SELECT last_error FROM billing_outbox WHERE account_id = %d" % B.id))
time.sleep(3)
check("... and never tried again", "1", psql("SELECT attempts FROM billing_outbox WHERE account_id = %d" % B.id))
proc.send_signal(signal.SIGTERM)
check("the sender stops on SIGTERM with status 0", 0, proc.wait(10))

print("the money path in Chromium (tests/browser/billing_money.js)")
M = "money@example.com"
r = call("POST", "/v1/account/signup", {"email": M, "password": PW})
m = wait_for(lambda: mails_to(M), 20)[0]
tok = re.search(r"/confirm\?token=([A-Za-z0-9_-]+)", m.get_payload(decode=True).decode()).group(1)
out = subprocess.run(["node", os.path.join(os.environ["TEST_ROOT"], "tests", "browser", "billing_money.js"), URL, SIM, M, tok,
                      os.path.join(TMP, "screenshots")],
                     capture_output=True, text=True, timeout=240)
lines = out.stdout.splitlines()
for ln in lines:
    if ln.startswith("CHECK\t"):
        _, name, exp, act = ln.split("\t", 3)
        check("browser: " + name, json.loads(exp), json.loads(act))
    elif ln.startswith("#"):
        print(ln)
check("billing_money.js exits 0", 0, out.returncode)
if out.returncode != 0:
    print(out.stderr[-2000:])
mid = int(psql("SELECT id FROM accounts WHERE email = '%s'" % M))
mcus = psql("SELECT stripe_customer_id FROM accounts WHERE id = %d" % mid)
sim("POST", "/_sim/card?customer=%s&card=4000000000000341" % mcus)
sim("POST", "/_sim/clock?advance=%d" % (32 * 86400))
check("browser account: its failed renewal puts it back on free, past_due", "free|past_due",
      wait_for(lambda: account_row(mid) == "free|past_due" and account_row(mid), 30) or account_row(mid))
msub = psql("SELECT stripe_subscription_id FROM accounts WHERE id = %d" % mid)
r = sim("DELETE", "/v1/subscriptions/" + msub)
check("the subscription cancelled at Stripe", 200, r.status)
check("... customer.subscription.deleted: free, canceled", "free|canceled",
      wait_for(lambda: account_row(mid) == "free|canceled" and account_row(mid), 30) or account_row(mid))

finish()
