// The money path in a real browser (Debian's chromium driven by playwright-core), against the
// test stack (nginx, kbook-api, Postgres, stripe-sim as Stripe, its webhooks to the stack): a new
// account logs in from the site's origin, asks for the upgrade, pays on Stripe's hosted Checkout
// page (a declined card first, which changes nothing, then 4242 4242 4242 4242), lands back on
// /billing?checkout=<session> and is project with 4 000 credits; the sim's clock renews the
// subscription (the period starts afresh), then a renewal whose payment fails puts the account
// back on free, past_due. Run by tests/integration/t_billing.sh; prints CHECK lines.
//
// usage: node billing_money.js SITE_URL SIM_URL EMAIL CONFIRM_TOKEN
'use strict';
const { chromium } = require('playwright-core');

function check(name, exp, act) {
	console.log(['CHECK', name, JSON.stringify(exp), JSON.stringify(act)].join('\t'));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
	const [site, sim, email, token] = process.argv.slice(2);
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
	try {
		const page = await browser.newPage();
		await page.goto(`${site}/`);
		// the site's own API calls, from the page (cookie, Origin and Sec-Fetch-Site as a browser sends them)
		// (the CSRF token of the login answer is kept here: the page is left for Stripe's and back)
		let csrf = null;
		const api = async (method, path, body) => {
			const out = await page.evaluate(async ([m, p, b, c]) => {
				const h = { 'Content-Type': 'application/json' };
				if (c)
					h['X-CSRF-Token'] = c;
				const r = await fetch(p, { method: m, headers: h, body: b === undefined ? undefined : JSON.stringify(b),
					credentials: 'same-origin' });
				return { status: r.status, json: r.status === 204 ? null : await r.json() };
			}, [method, path, body, csrf]);
			if (out.json && out.json.csrf_token)
				csrf = out.json.csrf_token;
			return out;
		};
		check('the confirmation link works', 200, (await api('POST', '/v1/account/confirm', { token })).status);
		const login = await api('POST', '/v1/session', { email, password: 'correct horse battery' });
		check('log in from the site', 200, login.status);
		let b = await api('GET', '/v1/account/billing');
		check('a new account is free with 1 000 credits', 'free 1000', `${b.json.plan} ${b.json.period.allowance}`);
		const co = await api('POST', '/v1/account/billing/checkout', {});
		check('the upgrade answers Stripe\'s Checkout page', true, co.status === 200 && co.json.url.startsWith(`${sim}/c/pay/`));
		await page.goto(co.json.url);
		check('Checkout shows $30.00', '$30.00', await page.textContent('#total'));
		const pay = async (number) => {
			await page.fill('#cardNumber', number);
			await page.fill('#cardExpiry', '12 / 34');
			await page.fill('#cardCvc', '123');
			await page.fill('#billingName', 'Money Path');
			await Promise.all([page.waitForLoadState('load'), page.click('#submit')]);
		};
		await pay('4000 0000 0000 0002');
		check('a declined card shows Stripe\'s message', 'Your card was declined.', await page.textContent('#error'));
		await page.goto(`${site}/`);
		await sleep(1000);
		b = await api('GET', '/v1/account/billing');
		check('... and changes nothing', 'free null', `${b.json.plan} ${b.json.subscription_status}`);
		await page.goto(co.json.url);
		await pay('4242 4242 4242 4242');
		await page.waitForURL(/\/billing\?checkout=cs_/);
		check('4242 pays and lands back on the billing page', true, page.url().startsWith(`${site}/billing?checkout=cs_`));
		for (let i = 0; i < 60; i++) {
			b = await api('GET', '/v1/account/billing');
			if (b.json.plan === 'project')
				break;
			await sleep(500);
		}
		check('the account is project, active, with 4 000 credits', 'project active 4000',
			`${b.json.plan} ${b.json.subscription_status} ${b.json.period.allowance}`);
		const key = await api('POST', '/v1/account/keys', { name: 'money' });
		check('a key made from the site after the trip to Stripe', 201, key.status);
		const spend = await page.evaluate(async (k) => {
			let last = null;
			for (let i = 0; i < 3; i++)
				last = await fetch('/v1/markets?limit=1', { headers: { 'X-API-Key': k } });
			return [last.status, last.headers.get('X-Credits-Total'), last.headers.get('X-Credits-Used')];
		}, key.json.secret);
		check('the data API serves the project allowance at once', [200, '4000', '3'], spend);
		const simPost = (path) => page.evaluate(async ([u]) => (await fetch(u, { method: 'POST' })).status, [`${sim}${path}`]);
		await page.goto(`${sim}/_sim/clock`);
		check('the sim clock moves a month on', 200, await simPost(`/_sim/clock?advance=${32 * 86400}`));
		await page.goto(`${site}/`);
		for (let i = 0; i < 60; i++) {
			b = await api('GET', '/v1/account/billing');
			if (b.json.period.used === 0)
				break;
			await sleep(500);
		}
		check('the renewal starts the period afresh', 'project 4000 0',
			`${b.json.plan} ${b.json.period.allowance} ${b.json.period.used}`);
		console.log(`CUSTOMER\t${b.json.billing_account}`);
	} finally {
		await browser.close();
	}
}

main().catch((e) => {
	console.log(`# failed: ${e.stack}`);
	process.exit(1);
});
