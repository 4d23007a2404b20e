#!/bin/bash
# stripe-sim (docs/stripe-sim.md): Stripe's wire format with curl (keys, Stripe-Version,
# idempotent replay and conflicts, malformed bodies, faults 429/500/slow honouring idempotency),
# the official npm stripe library pointed at the sim (tests/stripe/stripe_lib.js: objects,
# lists, meter events and summaries, every error as its StripeError class, the library's own
# retries), the hosted Checkout page completed by POSTing its card form (declined, then paid,
# redirected with the session id) and in chromium (playwright-core), the portal page, the sim clock renewing subscriptions
# (invoice.paid, metered payg usage billed, invoice.payment_failed with a failing card), and
# webhooks to a local receiver: retries with backoff, duplicate/reorder/delay faults, a dead
# endpoint not slowing the API, and every delivery verified by stripe.webhooks.constructEvent.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
source "$here/../sim/sim_lib.sh"

PY=/usr/bin/python3
py() { "$PY" -c "import json,sys; d=json.load(sys.stdin); $1"; }
KEY=sk_test_sim
SECRET=whsec_test_secret
HOOKS=$KBOOK_TMP/hooks.jsonl
: >"$HOOKS"
RPID= SSPID= HOLE_PID=
cleanup() {
	for p in $SSPID $RPID $HOLE_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
require_node_modules stripe

RPORT=$(free_port)
"$PY" "$KBOOK_ROOT/tests/stripe/receiver.py" "$RPORT" "$HOOKS" 2>>"$KBOOK_TMP/receiver.log" &
RPID=$!
wait_port "$RPORT" 10
SPORT=$(free_port)
"$KBOOK_BIN/stripe-sim" --port "$SPORT" --api-key "$KEY" --webhook-secret "$SECRET" \
	--webhook-url "http://127.0.0.1:$RPORT/hook" --retry-ms 200 --retry-max-ms 800 \
	--webhook-attempts 6 --webhook-timeout-ms 3000 2>>"$KBOOK_TMP/stripe-sim.log" &
SSPID=$!
wait_port "$SPORT" 20
U=http://127.0.0.1:$SPORT
# alive: stops the test at once (failing) when stripe-sim has died, rather than let every later
# check time out against a closed port
alive() {
	if ! kill -0 "$SSPID" 2>/dev/null; then
		check "stripe-sim is still running" yes no
		tail -40 "$KBOOK_TMP/stripe-sim.log"
		finish
		exit 1
	fi
}
api() { curl -s -u "$KEY:" "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' -u "$KEY:" "$@"; }

echo "# wire format"
check "no key is 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/customers")"
check "a wrong key is 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer sk_test_no' "$U/v1/customers")"
check "Bearer works" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $KEY" "$U/v1/customers")"
check "the error body is Stripe's" "invalid_request_error" "$(curl -s "$U/v1/customers" | py 'print(d["error"]["type"])')"
check "Stripe-Version is echoed" "2024-06-20" \
	"$(curl -s -D - -o /dev/null -u "$KEY:" -H 'Stripe-Version: 2024-06-20' "$U/v1/customers" | tr -d '\r' | sed -n 's/^Stripe-Version: //Ip')"
check "the default version is the pinned one" "2025-08-27.basil" \
	"$(curl -s -D - -o /dev/null -u "$KEY:" "$U/v1/customers" | tr -d '\r' | sed -n 's/^Stripe-Version: //Ip')"
check "a bad Stripe-Version is 400" 400 "$(code -H 'Stripe-Version: yesterday' "$U/v1/customers")"
check "every answer has a Request-Id" 1 "$(curl -s -D - -o /dev/null -u "$KEY:" "$U/v1/customers" | grep -ci '^Request-Id: req_')"
check "an unknown URL is 404 invalid_request_error" "404 invalid_request_error" \
	"$(curl -s -w ' %{http_code}' -u "$KEY:" "$U/v1/nothing" | sed 's/^\(.*\) \([0-9]*\)$/\2 \1/' | { read -r c j; echo "$c $(echo "$j" | py 'print(d["error"]["type"])')"; })"
check "a malformed body is 400" 400 "$(code -d 'metadata[a=1' "$U/v1/customers")"
check "a bad escape is 400" 400 "$(code -d 'email=%zz' "$U/v1/customers")"
check "a body over 1 MiB is 413, not a 5xx" 413 \
	"$(head -c 1100000 /dev/zero | tr '\0' 'a' | sed 's/^/email=/' | code --data-binary @- "$U/v1/customers")"
check "a JSON body is not Stripe's format: 400" 400 \
	"$(code -H 'Content-Type: application/json' --data-binary '{"email":"a@b.c"}' "$U/v1/customers")"
check "limit=abc is 400 parameter_invalid_integer" "400 parameter_invalid_integer" \
	"$(api -w ' %{http_code}' "$U/v1/customers?limit=abc" | "$PY" -c 'import json,sys; t=sys.stdin.read(); b,c=t.rsplit(" ",1); print(c, json.loads(b)["error"]["code"])')"
check "limit=101 is 400" 400 "$(code "$U/v1/customers?limit=101")"
check "a malformed query is 400" 400 "$(code "$U/v1/customers?expand%5B%5D=a&expand%5Bx%5D=b")"
check "a missing required param is 400 parameter_missing" "parameter_missing mode" \
	"$(api -d 'success_url=http://x/' "$U/v1/checkout/sessions" | py 'print(d["error"]["code"], d["error"]["param"])')"
check "an unknown parameter is 400 with its name" "bogus" "$(api -d bogus=1 "$U/v1/customers" | py 'print(d["error"]["param"])')"
check "bracket notation reaches metadata" "7 x" \
	"$(api -d 'metadata[account_id]=7' -d 'metadata[k]=x' "$U/v1/customers" | py 'print(d["metadata"]["account_id"], d["metadata"]["k"])')"

alive
echo "# idempotency"
first=$(api -H 'Idempotency-Key: idem-1' -d email=i@example.com "$U/v1/customers")
hdrs=$KBOOK_TMP/idem.h
second=$(api -D "$hdrs" -H 'Idempotency-Key: idem-1' -d email=i@example.com "$U/v1/customers")
check "a replay answers the first object" "$(echo "$first" | py 'print(d["id"])')" "$(echo "$second" | py 'print(d["id"])')"
check "... with Idempotent-Replayed: true" 1 "$(grep -ci '^Idempotent-Replayed: true' "$hdrs")"
check "... and one customer exists" 1 "$(api "$U/v1/customers?email=i@example.com" | py 'print(len(d["data"]))')"
check "other parameters with the key: 400 idempotency_error" "400 idempotency_error" \
	"$(api -w ' %{http_code}' -H 'Idempotency-Key: idem-1' -d email=j@example.com "$U/v1/customers" | "$PY" -c 'import json,sys; t=sys.stdin.read(); b,c=t.rsplit(" ",1); print(c, json.loads(b)["error"]["type"])')"
check "another endpoint with the key: 400 idempotency_error" "idempotency_error" \
	"$(api -H 'Idempotency-Key: idem-1' -d name=x "$U/v1/products" | py 'print(d["error"]["type"])')"
check "a validation error is not saved: the key works once fixed" 200 \
	"$(code -H 'Idempotency-Key: idem-2' -d bogus=1 "$U/v1/customers" >/dev/null; code -H 'Idempotency-Key: idem-2' -d email=k@example.com "$U/v1/customers")"

alive
echo "# faults"
curl -s -X POST "$U/_sim/fault?kind=429&path=/v1/customers&count=2" >/dev/null
check "429 fault" "429 429 200" "$(code "$U/v1/customers") $(code "$U/v1/customers") $(code "$U/v1/customers")"
check "429 body is rate_limit" "rate_limit" \
	"$(curl -s -X POST "$U/_sim/fault?kind=429&path=/v1/prices" >/dev/null; api "$U/v1/prices" | py 'print(d["error"]["code"])')"
curl -s -X POST "$U/_sim/fault?kind=500&path=/v1/customers&method=POST" >/dev/null
check "500 fault: nothing done" "500 0" \
	"$(code -H 'Idempotency-Key: f-500' -d email=f500@example.com "$U/v1/customers") $(api "$U/v1/customers?email=f500@example.com" | py 'print(len(d["data"]))')"
check "... the retry with the same key is carried out" "200 1" \
	"$(code -H 'Idempotency-Key: f-500' -d email=f500@example.com "$U/v1/customers") $(api "$U/v1/customers?email=f500@example.com" | py 'print(len(d["data"]))')"
curl -s -X POST "$U/_sim/fault?kind=lost&path=/v1/customers&method=POST" >/dev/null
check "lost fault: 500 but done" "500 1" \
	"$(code -H 'Idempotency-Key: f-lost' -d email=flost@example.com "$U/v1/customers") $(api "$U/v1/customers?email=flost@example.com" | py 'print(len(d["data"]))')"
check "... the retry replays, still one" "200 1" \
	"$(code -H 'Idempotency-Key: f-lost' -d email=flost@example.com "$U/v1/customers") $(api "$U/v1/customers?email=flost@example.com" | py 'print(len(d["data"]))')"
curl -s -X POST "$U/_sim/fault?kind=slow&path=/v1/customers&method=POST&ms=3000" >/dev/null
t0=$(date +%s%N)
api -o "$KBOOK_TMP/slow.json" -H 'Idempotency-Key: f-slow' -d email=slow@example.com "$U/v1/customers" &
slow_pid=$!
sleep 0.4
c409=$(code -H 'Idempotency-Key: f-slow' -d email=slow@example.com "$U/v1/customers")
pending=$(kill -0 "$slow_pid" 2>/dev/null && echo yes || echo no)
check "while the slow answer is pending, the same key is 409" 409 "$c409"
check "... answered while the slow one is still held (the loop is not blocked)" yes "$pending"
wait "$slow_pid"
t2=$(date +%s%N)
check "the slow answer took about 3 s" 1 "$(( (t2 - t0) / 1000000 >= 2900 ))"
check "... and arrived whole" 1 "$(py 'print(int(d["id"].startswith("cus_")))' <"$KBOOK_TMP/slow.json")"
check "... then the key replays it" "$(py 'print(d["id"])' <"$KBOOK_TMP/slow.json")" \
	"$(api -H 'Idempotency-Key: f-slow' -d email=slow@example.com "$U/v1/customers" | py 'print(d["id"])')"

alive
echo "# the official library"
node "$KBOOK_ROOT/tests/stripe/stripe_lib.js" api "$SPORT" "$KEY" >"$KBOOK_TMP/node.out" 2>&1
check "stripe_lib.js api exits 0" 0 "$?"
sim_record <"$KBOOK_TMP/node.out"

alive
echo "# hosted checkout"
cs=$(api -d mode=subscription -d 'line_items[0][price]=price_kbook_project' -d 'line_items[0][quantity]=1' \
	-d customer_email=buyer@example.com -d client_reference_id=77 \
	--data-urlencode 'success_url=http://127.0.0.1:9/done?session_id={CHECKOUT_SESSION_ID}' \
	--data-urlencode 'cancel_url=http://127.0.0.1:9/cancel' "$U/v1/checkout/sessions")
cs_id=$(echo "$cs" | py 'print(d["id"])')
cs_url=$(echo "$cs" | py 'print(d["url"])')
page=$(curl -s "$cs_url")
check "the page has the card form" 1 "$(echo "$page" | grep -c 'id="cardNumber"')"
check "the page shows the amount" 1 "$(echo "$page" | grep -c '\$30.00')"
pay() { curl -s -o "$KBOOK_TMP/pay.html" -D "$KBOOK_TMP/pay.h" -w '%{http_code}' --data-urlencode "cardNumber=$1" \
	-d 'cardExpiry=12 / 34' -d cardCvc=123 -d billingName=Buyer "$cs_url"; }
check "4000 0000 0000 0002 is declined" 402 "$(pay '4000 0000 0000 0002')"
check "... with Stripe's message" 1 "$(grep -c 'Your card was declined.' "$KBOOK_TMP/pay.html")"
check "... and the session stays open" open "$(api "$U/v1/checkout/sessions/$cs_id" | py 'print(d["status"])')"
check "an unknown number is refused" 400 "$(pay '1234 5678 9012 3456')"
check "4242 4242 4242 4242 pays and redirects" 303 "$(pay '4242 4242 4242 4242')"
check "... to success_url with the session id" "http://127.0.0.1:9/done?session_id=$cs_id" \
	"$(tr -d '\r' <"$KBOOK_TMP/pay.h" | sed -n 's/^Location: //Ip')"
sess=$(api "$U/v1/checkout/sessions/$cs_id")
check "the session is complete and paid" "complete paid 77" "$(echo "$sess" | py 'print(d["status"], d["payment_status"], d["client_reference_id"])')"
cust=$(echo "$sess" | py 'print(d["customer"])')
sub=$(echo "$sess" | py 'print(d["subscription"])')
check "a customer and a subscription were made" "cus_ sub_" "${cust:0:4} ${sub:0:4}"
check "the subscription is active on the project price" "active price_kbook_project" \
	"$(api "$U/v1/subscriptions/$sub" | py 'print(d["status"], d["items"]["data"][0]["price"]["id"])')"
check "its first invoice is paid" "paid subscription_create 3000" \
	"$(api "$U/v1/invoices?subscription=$sub" | py 'i=d["data"][0]; print(i["status"], i["billing_reason"], i["amount_paid"])')"
check "checkout.session.completed was emitted" 1 \
	"$(api "$U/v1/events?type=checkout.session.completed" | py 'print(sum(e["data"]["object"]["id"]=="'"$cs_id"'" for e in d["data"]))')"
check "a completed page says so" 1 "$(curl -s "$cs_url" | grep -c 'is complete')"

alive
echo "# the hosted pages in chromium"
require_node_modules playwright-core
node "$KBOOK_ROOT/tests/stripe/checkout_browser.js" "$SPORT" "$KEY" >"$KBOOK_TMP/browser.out" 2>&1
check "checkout_browser.js exits 0" 0 "$?"
sim_record <"$KBOOK_TMP/browser.out"

alive
echo "# the sim clock"
curl -s -X POST "$U/_sim/clock?advance=$((32 * 86400))" >/dev/null
inv=$(api "$U/v1/invoices?subscription=$sub&limit=1")
check "a month later the subscription renewed: invoice paid" "paid subscription_cycle 3000" \
	"$(echo "$inv" | py 'i=d["data"][0]; print(i["status"], i["billing_reason"], i["amount_paid"])')"
renewal=$(echo "$inv" | py 'print(d["data"][0]["id"])')
check "invoice.paid was emitted for it" 1 \
	"$(api "$U/v1/events?type=invoice.paid" | py 'print(sum(e["data"]["object"]["id"]=="'"$renewal"'" for e in d["data"]))')"
check "the period moved on the items" 1 \
	"$(api "$U/v1/subscriptions/$sub" | py 'import time; it=d["items"]["data"][0]; print(int(it["current_period_end"] > '"$(date +%s)"' + 20*86400))')"
curl -s -X POST -d customer="$cust" -d card=4000000000000341 "$U/_sim/card" >/dev/null
curl -s -X POST "$U/_sim/clock?advance=$((31 * 86400))" >/dev/null
inv=$(api "$U/v1/invoices?subscription=$sub&limit=1")
failed=$(echo "$inv" | py 'print(d["data"][0]["id"])')
check "with 4000 0000 0000 0341 the next renewal fails" "open 1" "$(echo "$inv" | py 'i=d["data"][0]; print(i["status"], i["attempt_count"])')"
check "invoice.payment_failed was emitted" 1 \
	"$(api "$U/v1/events?type=invoice.payment_failed" | py 'print(sum(e["data"]["object"]["id"]=="'"$failed"'" for e in d["data"]))')"
check "the subscription is past_due" past_due "$(api "$U/v1/subscriptions/$sub" | py 'print(d["status"])')"

alive
echo "# payg: metered usage billed at renewal"
cs=$(api -d mode=subscription -d 'line_items[0][price]=price_kbook_payg' -d customer_email=payg@example.com \
	--data-urlencode 'success_url=http://127.0.0.1:9/ok' "$U/v1/checkout/sessions")
cs_url=$(echo "$cs" | py 'print(d["url"])')
check "payg checkout completes" 303 "$(pay '4242424242424242')"
psess=$(api "$U/v1/checkout/sessions/$(echo "$cs" | py 'print(d["id"])')")
pcust=$(echo "$psess" | py 'print(d["customer"])')
psub=$(echo "$psess" | py 'print(d["subscription"])')
for i in 1 2 3; do
	api -d event_name=kbook_credits -d "payload[stripe_customer_id]=$pcust" -d 'payload[value]=500' \
		-d identifier="payg-$i" "$U/v1/billing/meter_events" >/dev/null
done
api -d event_name=kbook_credits -d "payload[stripe_customer_id]=$pcust" -d 'payload[value]=500' \
	-d identifier=payg-1 "$U/v1/billing/meter_events" >/dev/null
check "usage reads back, the duplicate identifier not counted" 1500 \
	"$(curl -s "$U/_sim/usage?customer=$pcust" | py 'print(int(d["total"]))')"
curl -s -X POST "$U/_sim/clock?advance=$((32 * 86400))" >/dev/null
check "the renewal bills 1500 credits at 0.8 cents" "paid 1200 1500" \
	"$(api "$U/v1/invoices?subscription=$psub&limit=1" | py 'i=d["data"][0]; print(i["status"], i["amount_paid"], i["lines"]["data"][0]["quantity"])')"

alive
echo "# portal"
ps_url=$(api -d customer="$pcust" --data-urlencode 'return_url=http://127.0.0.1:9/account' "$U/v1/billing_portal/sessions" | py 'print(d["url"])')
check "the portal lists the subscription" 1 "$(curl -s "$ps_url" | grep -c "id=\"$psub\"")"
check "switching to the project plan redirects back" 303 \
	"$(curl -s -o /dev/null -w '%{http_code}' -d action=switch -d subscription="$psub" -d price=price_kbook_project "$ps_url")"
check "... the subscription is on the project price, billed at once" "price_kbook_project subscription_update 3000" \
	"$(api "$U/v1/subscriptions/$psub" | py 'print(d["items"]["data"][0]["price"]["id"], end=" ")'; api "$U/v1/invoices?subscription=$psub&limit=1" | py 'i=d["data"][0]; print(i["billing_reason"], i["amount_paid"])')"
check "cancel from the portal: at period end" "303 True" \
	"$(curl -s -o /dev/null -w '%{http_code}' -d action=cancel -d subscription="$psub" "$ps_url") $(api "$U/v1/subscriptions/$psub" | py 'print(d["cancel_at_period_end"])')"
check "the page then offers to renew" 1 "$(curl -s "$ps_url" | grep -c 'Renew plan')"

alive
echo "# webhooks"
wait_idle() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(curl -s "$U/_sim/deliveries" | py 'print(d["queued"])')" = 0 ] && return 0
		sleep 0.1
	done
	return 1
}
emit() { curl -s -X POST --data-urlencode "type=$1" --data-urlencode "object=$2" "$U/_sim/event" | py 'print(d["id"])'; }
check "the queue drains" 0 "$(wait_idle; echo $?)"
got() { "$PY" -c 'import json,sys,base64
ids=[json.loads(base64.b64decode(json.loads(l)["body_b64"]))["id"] for l in open(sys.argv[1]) if l.strip()]
print(" ".join(i for i in ids if i in sys.argv[2:]))' "$HOOKS" "$@"; }
# Without a fault, events arrive in the order Stripe made them, those of one call too (a
# renewal's subscription update, invoice and payment, made within a millisecond).
made=$(api "$U/v1/events?limit=100" | py 'print(" ".join(e["id"] for e in reversed(d["data"])))')
# shellcheck disable=SC2086
check "events arrive in the order they were made (no fault armed)" "$made" "$(got $made)"
curl -s -X POST "http://127.0.0.1:$RPORT/_fail?n=2" >/dev/null
e1=$(emit test.retry '{"id":"x_1"}')
wait_idle
check "a failing endpoint gets the event again until 2xx" "500 500 200" \
	"$(curl -s "$U/_sim/deliveries" | py 'print(" ".join(str(a["status"]) for a in d["attempts"] if a["event"]=="'"$e1"'"))')"
check "... with growing delays (200, 400 ms)" 1 \
	"$(curl -s "$U/_sim/deliveries" | py 't=[a["at_ms"] for a in d["attempts"] if a["event"]=="'"$e1"'"]; print(int(t[1]-t[0]>=180 and t[2]-t[1]>=380))')"
curl -s -X POST "$U/_sim/fault?kind=webhook_duplicate&count=1" >/dev/null
e2=$(emit test.duplicate '{"id":"x_2"}')
wait_idle
check "duplicate fault: delivered twice" "$e2 $e2" "$(got "$e2")"
curl -s -X POST "$U/_sim/fault?kind=webhook_reorder&count=1" >/dev/null
e3=$(emit test.first '{"id":"x_3"}')
e4=$(emit test.second '{"id":"x_4"}')
wait_idle
check "reorder fault: the second event arrives first" "$e4 $e3" "$(got "$e3" "$e4")"
curl -s -X POST "$U/_sim/fault?kind=webhook_delay&count=1&ms=1500" >/dev/null
e5=$(emit test.delayed '{"id":"x_5"}')
sleep 0.6
check "delay fault: not yet after 0.6 s" "" "$(got "$e5")"
wait_idle
check "... delivered later" "$e5" "$(got "$e5")"
# a dead endpoint (accepts, never answers) does not slow the API
HOLE=$(free_port)
"$PY" -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(16); time.sleep(60)' "$HOLE" &
HOLE_PID=$!
wait_port "$HOLE" 5
curl -s -X POST --data-urlencode "url=http://127.0.0.1:$HOLE/hook" "$U/_sim/webhook" >/dev/null
emit test.hole '{"id":"x_6"}' >/dev/null
sleep 0.2
t0=$(date +%s%N)
code "$U/v1/customers" >/dev/null
t1=$(date +%s%N)
check "an endpoint that never answers does not hold the API" 1 "$(( (t1 - t0) / 1000000 < 500 ))"
curl -s -X POST --data-urlencode "url=http://127.0.0.1:$RPORT/hook" "$U/_sim/webhook" >/dev/null
kill "$HOLE_PID" 2>/dev/null
wait_idle
check "the events of the whole run reached the receiver" 1 \
	"$("$PY" -c 'import sys; print(int(sum(1 for l in open(sys.argv[1]) if l.strip()) > 50))' "$HOOKS")"
check "deliveries carry Stripe's User-Agent" 1 "$(grep -c 'Stripe/1.0' "$HOOKS" | awk '{print ($1>0)}')"
node "$KBOOK_ROOT/tests/stripe/stripe_lib.js" verify "$HOOKS" "$SECRET" >"$KBOOK_TMP/verify.out" 2>&1
check "stripe_lib.js verify exits 0" 0 "$?"
sim_record <"$KBOOK_TMP/verify.out"

alive
kill -TERM "$SSPID"
wait "$SSPID"
check "stripe-sim exits cleanly on SIGTERM" 0 "$?"
SSPID=

echo "# start-up flags"
"$KBOOK_BIN/stripe-sim" --fault bogus:/v1/ 2>/dev/null
check "an unknown --fault kind exits 2" 2 "$?"
"$KBOOK_BIN/stripe-sim" --webhook-secret nope 2>/dev/null
check "a secret without whsec_ exits 2" 2 "$?"
SPORT=$(free_port)
"$KBOOK_BIN/stripe-sim" --port "$SPORT" --fault '429:/v1/customers:1' 2>>"$KBOOK_TMP/stripe-sim.log" &
SSPID=$!
wait_port "$SPORT" 20
U=http://127.0.0.1:$SPORT
check "--fault 429:/v1/customers:1 refuses the first request only" "429 200" \
	"$(code "$U/v1/customers") $(code "$U/v1/customers")"
kill -TERM "$SSPID"
wait "$SSPID"
check "the second stripe-sim exits cleanly" 0 "$?"
SSPID=
check "no sanitizer report in the stripe-sim log" 0 \
	"$(grep -c -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$KBOOK_TMP/stripe-sim.log")"
finish
