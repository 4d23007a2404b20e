// The hosted pages in a real browser: Debian's chromium driven by playwright-core completes a
// Checkout Session made with the official stripe library (a declined card first, then 4242),
// lands on success_url with the session id filled in, then cancels the plan in the billing
// portal. Run by tests/integration/t_stripe_sim.sh; prints CHECK lines.
//
// usage: node checkout_browser.js PORT KEY
'use strict';
const { chromium } = require('playwright-core');
const Stripe = require('stripe');

function check(name, exp, act) {
	console.log(['CHECK', name, JSON.stringify(exp), JSON.stringify(act)].join('\t'));
}

async function main() {
	const [port, key] = process.argv.slice(2);
	const stripe = new Stripe(key, { host: '127.0.0.1', port: Number(port), protocol: 'http',
		telemetry: false });
	const landing = `http://127.0.0.1:${port}/_sim/clock`;
	const cs = await stripe.checkout.sessions.create({
		mode: 'subscription', customer_email: 'browser@example.com', client_reference_id: '99',
		line_items: [{ price: 'price_kbook_project', quantity: 1 }],
		success_url: `${landing}?session_id={CHECKOUT_SESSION_ID}`,
	});
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
		args: ['--no-sandbox'] });
	try {
		const page = await browser.newPage();
		await page.goto(cs.url);
		check('the page shows the total', '$30.00', await page.textContent('#total'));
		const fill = async (number) => {
			await page.fill('#cardNumber', number);
			await page.fill('#cardExpiry', '12 / 34');
			await page.fill('#cardCvc', '123');
			await page.fill('#billingName', 'Browser Buyer');
			await Promise.all([page.waitForLoadState('load'), page.click('#submit')]);
		};
		await fill('4000 0000 0000 0002');
		check('the declined card shows Stripe\'s message', 'Your card was declined.',
			await page.textContent('#error'));
		check('... and the session stays open', 'open',
			(await stripe.checkout.sessions.retrieve(cs.id)).status);
		await fill('4242 4242 4242 4242');
		await page.waitForURL(/session_id=/);
		check('4242 lands on success_url with the session id',
			`${landing}?session_id=${cs.id}`, page.url());
		const done = await stripe.checkout.sessions.retrieve(cs.id);
		check('the session is complete and paid', 'complete paid', `${done.status} ${done.payment_status}`);
		const portal = await stripe.billingPortal.sessions.create({ customer: done.customer,
			return_url: landing });
		await page.goto(portal.url);
		await Promise.all([page.waitForLoadState('load'), page.click(`#cancel-${done.subscription}`)]);
		check('the portal offers to renew after cancelling', 1,
			await page.locator(`#renew-${done.subscription}`).count());
		const sub = await stripe.subscriptions.retrieve(done.subscription);
		check('the subscription cancels at the period end', true, sub.cancel_at_period_end);
	} finally {
		await browser.close();
	}
}

main().catch((e) => {
	console.log(`# failed: ${e.stack}`);
	process.exit(1);
});
