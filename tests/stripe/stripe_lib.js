// stripe-sim against the official Stripe library (npm stripe, from tests/node_modules),
// configured only by its host, port and protocol options, as an application would point it at
// Stripe. Run by tests/integration/t_stripe_sim.sh; prints "CHECK<TAB>name<TAB>expected<TAB>
// actual" lines like tests/sim/kalshi_rest.js.
//
// usage: node stripe_lib.js api PORT KEY            the API: objects, lists, errors, retries
//        node stripe_lib.js verify LOG SECRET      every delivery in the receiver's log through
//                                                  stripe.webhooks.constructEvent (and tampered)
'use strict';
const fs = require('fs');
const path = require('path');
const Stripe = require('stripe');

function check(name, exp, act) {
	console.log(['CHECK', name, JSON.stringify(exp), JSON.stringify(act)].join('\t'));
}

function client(port, key, extra) {
	return new Stripe(key, Object.assign({
		host: '127.0.0.1', port: Number(port), protocol: 'http',
		maxNetworkRetries: 0, telemetry: false,
	}, extra || {}));
}

// The error a promise rejects with, or null.
async function failure(p) {
	try {
		await p;
		return null;
	} catch (e) {
		return e;
	}
}

async function sim(port, method, route, body) {
	const r = await fetch(`http://127.0.0.1:${port}${route}`, {
		method, headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
		body: body ? new URLSearchParams(body).toString() : undefined,
	});
	return r.json();
}

async function api(port, key) {
	const stripe = client(port, key);
	const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', 'stripe',
		'package.json'), 'utf8'));
	check('the library is the official stripe package 18.5.0', 'stripe 18.5.0',
		`${pkg.name} ${pkg.version}`);
	check('loaded from tests/node_modules', true,
		require.resolve('stripe').startsWith(path.join(__dirname, '..', 'node_modules')));

	// customers
	const c = await stripe.customers.create({ email: 'ann@example.com', metadata: { account_id: '42' } });
	check('customer id prefix', true, c.id.startsWith('cus_'));
	check('customer object', 'customer', c.object);
	check('customer livemode', false, c.livemode);
	check('customer metadata', '42', c.metadata.account_id);
	check('lastResponse carries the Request-Id', true, /^req_/.test(c.lastResponse.requestId));
	check('lastResponse echoes the pinned Stripe-Version', '2025-08-27.basil',
		c.lastResponse.apiVersion);
	const c2 = await stripe.customers.retrieve(c.id);
	check('retrieve reads the customer back', 'ann@example.com', c2.email);
	const c3 = await stripe.customers.update(c.id, { name: 'Ann', metadata: { plan: 'payg' } });
	check('update keeps metadata and adds', '42,payg', `${c3.metadata.account_id},${c3.metadata.plan}`);
	const list = await stripe.customers.list({ email: 'ann@example.com', limit: 3 });
	check('list filters by email', 1, list.data.length);
	check('list object', 'list', list.object);

	// auto-pagination over several pages
	for (let i = 0; i < 5; i++)
		await stripe.customers.create({ email: `page${i}@example.com` });
	const seen = new Set();
	for await (const x of stripe.customers.list({ limit: 2 }))
		seen.add(x.id);
	const all = await stripe.customers.list({ limit: 100 });
	check('auto-pagination (2 a page) walks every customer once', all.data.length, seen.size);
	check('... at least the six made here', true, seen.size >= 6);

	// prices: kbook's catalog
	const prices = await stripe.prices.list({ lookup_keys: ['kbook_project', 'kbook_payg'] });
	check('catalog prices by lookup_keys', 'price_kbook_payg,price_kbook_project',
		prices.data.map((p) => p.id).sort().join(','));
	const payg = await stripe.prices.retrieve('price_kbook_payg');
	check('payg price is metered', 'metered', payg.recurring.usage_type);
	check('payg price has a meter', 'mtr_kbook_credits', payg.recurring.meter);
	check('payg unit amount', '0.8', payg.unit_amount_decimal);

	// checkout
	const cs = await stripe.checkout.sessions.create({
		mode: 'subscription', customer: c.id, client_reference_id: '42',
		line_items: [{ price: 'price_kbook_project', quantity: 1 }],
		success_url: 'http://127.0.0.1:1/ok?session={CHECKOUT_SESSION_ID}',
		cancel_url: 'http://127.0.0.1:1/cancel',
	});
	check('checkout session id prefix', true, cs.id.startsWith('cs_test_'));
	check('checkout session status', 'open', cs.status);
	check('checkout session payment_status', 'unpaid', cs.payment_status);
	check('checkout session url is the sim page', true,
		cs.url === `http://127.0.0.1:${port}/c/pay/${cs.id}`);
	check('checkout session amount_total', 3000, cs.amount_total);
	check('checkout session client_reference_id', '42', cs.client_reference_id);
	const cs2 = await stripe.checkout.sessions.retrieve(cs.id);
	check('checkout session reads back', cs.id, cs2.id);
	const cs3 = await stripe.checkout.sessions.create({
		mode: 'subscription', customer: c.id,
		line_items: [{ price: 'price_kbook_payg' }], success_url: 'http://127.0.0.1:1/ok',
	});
	check('a metered price needs no quantity', 0, cs3.amount_total);
	const expired = await stripe.checkout.sessions.expire(cs3.id);
	check('expire', 'expired', expired.status);

	// portal
	const ps = await stripe.billingPortal.sessions.create({ customer: c.id,
		return_url: 'http://127.0.0.1:1/account' });
	check('portal session id prefix', true, ps.id.startsWith('bps_'));
	check('portal session object', 'billing_portal.session', ps.object);
	check('portal session url', `http://127.0.0.1:${port}/p/session/${ps.id}`, ps.url);

	// meters and meter events
	const now = Math.floor(Date.now() / 1000);
	const ev = await stripe.billing.meterEvents.create({
		event_name: 'kbook_credits', identifier: 'usage-1',
		payload: { stripe_customer_id: c.id, value: '7' }, timestamp: now - 120,
	});
	check('meter event object', 'billing.meter_event', ev.object);
	check('meter event identifier', 'usage-1', ev.identifier);
	await stripe.billing.meterEvents.create({ event_name: 'kbook_credits', identifier: 'usage-2',
		payload: { stripe_customer_id: c.id, value: '5' }, timestamp: now - 60 });
	const dup = await failure(stripe.billing.meterEvents.create({ event_name: 'kbook_credits',
		identifier: 'usage-1', payload: { stripe_customer_id: c.id, value: '7' } }));
	check('a reused identifier is refused', 'StripeInvalidRequestError', dup && dup.type);
	check('... with param identifier', 'identifier', dup && dup.param);
	const old = await failure(stripe.billing.meterEvents.create({ event_name: 'kbook_credits',
		payload: { stripe_customer_id: c.id, value: '1' }, timestamp: now - 36 * 86400 }));
	check('a timestamp older than 35 days is refused', 'timestamp', old && old.param);
	const future = await failure(stripe.billing.meterEvents.create({ event_name: 'kbook_credits',
		payload: { stripe_customer_id: c.id, value: '1' }, timestamp: now + 3600 }));
	check('a timestamp an hour ahead is refused', 'timestamp', future && future.param);
	const meters = await stripe.billing.meters.list();
	check('meters list holds kbook_credits', true, meters.data.some((m) => m.event_name === 'kbook_credits'));
	const start = Math.floor((now - 86400) / 60) * 60, end = Math.floor(now / 60) * 60 + 60;
	const sums = await stripe.billing.meters.listEventSummaries('mtr_kbook_credits',
		{ customer: c.id, start_time: start, end_time: end });
	check('the aggregated usage reads back', 12, sums.data[0] && sums.data[0].aggregated_value);
	check('summary object', 'billing.meter_event_summary', sums.data[0] && sums.data[0].object);

	// errors are StripeErrors of the right class
	const missing = await failure(stripe.checkout.sessions.create({ mode: 'subscription',
		line_items: [{ price: 'price_kbook_project', quantity: 1 }] }));
	check('a missing param is a StripeInvalidRequestError', true,
		missing instanceof Stripe.errors.StripeInvalidRequestError);
	check('... naming the param', 'success_url', missing && missing.param);
	check('... with status 400', 400, missing && missing.statusCode);
	const metq = await failure(stripe.checkout.sessions.create({ mode: 'subscription',
		line_items: [{ price: 'price_kbook_payg', quantity: 1 }], success_url: 'http://x/ok' }));
	check('a quantity on a metered price is refused', 'line_items[0][quantity]', metq && metq.param);
	const nosuch = await failure(stripe.customers.retrieve('cus_nope'));
	check('an unknown id is resource_missing', 'resource_missing', nosuch && nosuch.code);
	check('... with status 404', 404, nosuch && nosuch.statusCode);
	const unknown = await failure(stripe.customers.create({ emial: 'typo@example.com' }));
	check('an unknown parameter is refused', 'emial', unknown && unknown.param);
	const badkey = await failure(client(port, 'sk_test_wrong').customers.list());
	check('a wrong key is a StripeAuthenticationError', true,
		badkey instanceof Stripe.errors.StripeAuthenticationError);
	check('... with status 401', 401, badkey && badkey.statusCode);
	const card = await failure(stripe.customers.create({ payment_method: 'pm_card_chargeDeclined' }));
	check('a declined card is a StripeCardError', true, card instanceof Stripe.errors.StripeCardError);
	check('... with status 402', 402, card && card.statusCode);
	const k = `idem-${now}`;
	await stripe.customers.create({ email: 'idem@example.com' }, { idempotencyKey: k });
	const again = await stripe.customers.create({ email: 'idem@example.com' }, { idempotencyKey: k });
	check('a replay answers the first customer', 1,
		(await stripe.customers.list({ email: 'idem@example.com' })).data.length);
	check('... marked as replayed', 'true', again.lastResponse.headers['idempotent-replayed']);
	const conflict = await failure(stripe.customers.create({ email: 'other@example.com' },
		{ idempotencyKey: k }));
	check('a key reused with other parameters is a StripeIdempotencyError', true,
		conflict instanceof Stripe.errors.StripeIdempotencyError);
	await sim(port, 'POST', '/_sim/fault', { kind: '429', path: '/v1/customers', method: 'GET' });
	const limited = await failure(stripe.customers.list());
	check('a 429 is a StripeRateLimitError', true, limited instanceof Stripe.errors.StripeRateLimitError);
	await sim(port, 'POST', '/_sim/fault', { kind: '500', path: '/v1/customers', method: 'GET' });
	const five = await failure(stripe.customers.list());
	check('a 500 is a StripeAPIError', true, five instanceof Stripe.errors.StripeAPIError);

	// the library's own retries: the answer is lost after the work is done; the retry with the
	// same idempotency key gets the saved answer, and there is still one customer
	const retrying = client(port, key, { maxNetworkRetries: 2 });
	await sim(port, 'POST', '/_sim/fault', { kind: 'lost', path: '/v1/customers', method: 'POST' });
	const lost = await retrying.customers.create({ email: 'lost@example.com' });
	check('a lost answer is retried by the library', true, lost.id.startsWith('cus_'));
	check('... and replayed, not done twice', 1,
		(await stripe.customers.list({ email: 'lost@example.com' })).data.length);
	check('... the retry was a replay', 'true', lost.lastResponse.headers['idempotent-replayed']);
	await sim(port, 'POST', '/_sim/fault', { kind: '500', path: '/v1/customers', method: 'POST', count: 1 });
	const r500 = await retrying.customers.create({ email: 'r500@example.com' });
	check('a 500 before the work is retried and done once', 1,
		(await stripe.customers.list({ email: 'r500@example.com' })).data.length + (r500.id ? 0 : 1));

	// subscriptions through the API with a test payment method
	const sc = await stripe.customers.create({ email: 'sub@example.com', payment_method: 'pm_card_visa' });
	const sub = await stripe.subscriptions.create({ customer: sc.id, items: [{ price: 'price_kbook_project' }] });
	check('subscription id prefix', true, sub.id.startsWith('sub_'));
	check('subscription active', 'active', sub.status);
	check('the period is on the items', true,
		sub.items.data[0].current_period_end > sub.items.data[0].current_period_start);
	const inv = await stripe.invoices.retrieve(sub.latest_invoice);
	check('its first invoice is paid', 'paid', inv.status);
	check('... billing_reason subscription_create', 'subscription_create', inv.billing_reason);
	check('... names its subscription at parent.subscription_details', sub.id,
		inv.parent.subscription_details.subscription);
	check('... for $30.00', 3000, inv.amount_paid);
	const canc = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
	check('cancel at period end', true, canc.cancel_at_period_end);
	const del = await stripe.subscriptions.cancel(sub.id);
	check('cancel now', 'canceled', del.status);
	const evts = await stripe.events.list({ type: 'customer.subscription.deleted', limit: 5 });
	check('events list by type', true, evts.data.some((e) => e.data.object.id === sub.id));
}

function verify(log, secret) {
	const stripe = new Stripe('sk_test_unused');
	const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
	let ok = 0, bad = 0;
	for (const d of lines) {
		const raw = Buffer.from(d.body_b64, 'base64');
		try {
			const evt = stripe.webhooks.constructEvent(raw, d.signature, secret);
			if (evt.id && evt.id.startsWith('evt_'))
				ok++;
		} catch (e) {
			bad++;
			console.log(`# rejected delivery ${d.n}: ${e.message}`);
		}
	}
	check('every delivery verifies with stripe.webhooks.constructEvent', lines.length, ok);
	check('no delivery is rejected', 0, bad);
	check('deliveries were received', true, lines.length > 10);
	const d = lines[lines.length - 1];
	const raw = Buffer.from(d.body_b64, 'base64');
	const tampered = Buffer.from(raw.toString().replace('"livemode":false', '"livemode":true '));
	let err = null;
	try {
		stripe.webhooks.constructEvent(tampered, d.signature, secret);
	} catch (e) {
		err = e;
	}
	check('a tampered delivery is rejected', 'StripeSignatureVerificationError', err && err.type);
	err = null;
	try {
		stripe.webhooks.constructEvent(raw, d.signature, 'whsec_other');
	} catch (e) {
		err = e;
	}
	check('the wrong secret is rejected', 'StripeSignatureVerificationError', err && err.type);
	check('deliveries are application/json', true, lines.every((x) => x.content_type.startsWith('application/json')));
}

const [mode, a, b] = process.argv.slice(2);
(mode === 'api' ? api(a, b) : Promise.resolve(verify(a, b))).catch((e) => {
	console.log(`# failed: ${e.stack}`);
	process.exit(1);
});
