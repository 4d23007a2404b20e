// The money path in a real browser (Debian's chromium driven by playwright-core), against the
// test stack (nginx, kbook-api, Postgres, stripe-sim as Stripe, its webhooks to the stack), through
// the site's own pages: a new account opens its confirmation link (/confirm), goes to /billing and
// is sent to log in (/login?next=/billing) and back; the page shows the free plan and its 1,000
// credits; pay as you go is turned on (after the confirmation dialog; Cancel changes nothing) and
// off again, the page following each; the upgrade button goes to Stripe's hosted Checkout, whose
// "Cancel and go back" returns to /billing with the "cancelled" notice; paid with a declined card
// (4000 0000 0000 0002) nothing changes, then 4242 4242 4242 4242 lands back on /billing, which
// shows "Project" and 4,000 credits once Stripe's events arrived; "Manage billing" opens the
// portal, whose return link comes back. Then from the site's origin: a key, the data API serving
// the project allowance, and the sim's clock renewing the subscription (the period starts afresh).
// No script error on any of the site's pages. Screenshots of /billing at 1280 and 390 px wide go
// to SHOTS_DIR. Run by tests/integration/t_billing.sh (billing_check.py); prints CHECK lines.
//
// usage: node billing_money.js SITE_URL SIM_URL EMAIL CONFIRM_TOKEN SHOTS_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

function check(name, exp, act) {
	console.log(['CHECK', name, JSON.stringify(exp), JSON.stringify(act)].join('\t'));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

async function main() {
	const [site, sim, email, token, shots] = process.argv.slice(2);
	fs.mkdirSync(shots, { recursive: true });
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
	try {
		const page = await browser.newPage({ viewport: DESKTOP });
		const errors = [];
		page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
		page.on('console', (m) => {
			// the browser logs every 4xx answer ("Failed to load resource"): /billing meets a 401
			// on purpose before the login; anything else at error level (a CSP refusal) fails
			if (m.type() === 'error' && page.url().startsWith(site) && !m.text().startsWith('Failed to load resource'))
				errors.push(`${page.url()}: ${m.text()}`);
		});
		const text = async (sel) => ((await page.textContent(sel)) || '').replace(/\s+/g, ' ').trim();
		// both widths of what the page shows now
		const shoot = async (name) => {
			await page.screenshot({ path: path.join(shots, `billing-${name}-1280.png`), fullPage: true });
			await page.setViewportSize(PHONE);
			await sleep(150);
			await page.screenshot({ path: path.join(shots, `billing-${name}-390.png`), fullPage: true });
			check(`${name}: nothing wider than a 390 px phone`, 0,
				await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth));
			await page.setViewportSize(DESKTOP);
		};
		// the page's stats once GET /v1/account/billing answered
		const shown = async () => {
			await page.locator('#plan-value:not(:has(.skeleton))').waitFor();
			return `${await text('#plan-value')} | ${await text('#used-sub')}`;
		};
		// the site's own API calls, from the page (cookie, Origin and Sec-Fetch-Site as a browser sends them)
		let csrf = null;
		const api = async (method, p, body) => {
			const out = await page.evaluate(async ([m, u, b, c]) => {
				const h = { 'Content-Type': 'application/json' };
				if (c)
					h['X-CSRF-Token'] = c;
				const r = await fetch(u, { method: m, headers: h, body: b === undefined ? undefined : JSON.stringify(b),
					credentials: 'same-origin' });
				return { status: r.status, json: r.status === 204 ? null : await r.json() };
			}, [method, p, body, csrf]);
			if (out.json && out.json.csrf_token)
				csrf = out.json.csrf_token;
			return out;
		};

		await page.goto(`${site}/confirm?token=${token}`);
		await page.locator('#ok-view').waitFor();
		check('the confirmation page confirms the email', 'Email confirmed', await text('#ok-title'));
		await page.goto(`${site}/billing`);
		await page.waitForURL(/\/login\?next=%2Fbilling/);
		check('/billing without a session asks to log in', true, /\/login\?next=%2Fbilling$/.test(page.url()));
		await page.fill('#email', email);
		await page.fill('#password', 'correct horse battery');
		await Promise.all([page.waitForURL(`${site}/billing`), page.click('#login button[type=submit]')]);
		check('logging in comes back to /billing', `${site}/billing`, page.url());
		check('a new account: free, 1,000 credits', 'Free | of 1,000 this period', await shown());
		check('the nav marks Billing as the current page', 'Billing', await text('.nav a[aria-current=page]'));
		check('the overage price comes from the API', '$0.008 a credit past the allowance (pay as you go)', await text('#b-price'));
		check('overage so far: none', '$0.00', await text('#overage-value'));
		await page.locator('#upgrade-hint:visible').waitFor();
		check('the upgrade says what the project plan of GET /v1/plans costs', true,
			/^The project plan: 4,000 credits a month for \$30\.00,/.test(await text('#upgrade-hint')));
		check('no portal before there is a Stripe customer', true, await page.locator('#portal').isHidden());
		await shoot('free');

		// pay as you go on a free account: Cancel changes nothing; confirmed, the plan follows
		await page.click('#payg-toggle');
		await page.locator('#payg-dialog[open]').waitFor();
		check('the payg dialog says what it costs', true, /\$0\.008/.test(await text('#payg-dlg-text')));
		await page.click('#payg-cancel');
		check('... Cancel closes it, payg stays off', 'Off', await text('#payg-badge'));
		await page.click('#payg-toggle');
		await page.locator('#payg-dialog[open]').waitFor();
		await shoot('payg-dialog');
		await page.click('#payg-confirm');
		await page.locator('#payg-badge', { hasText: 'On' }).waitFor();
		check('payg on: the page shows the payg plan', 'Pay as you go | of 1,000 this period', await shown());
		let b = await api('GET', '/v1/session');
		b = await api('GET', '/v1/account/billing');
		check('... and so does the API', 'payg true', `${b.json.plan} ${b.json.payg}`);
		check('... and the portal is offered (a Stripe customer now)', true, await page.locator('#portal').isVisible());
		await page.reload();
		check('... after a reload too', 'Pay as you go | of 1,000 this period', await shown());
		await shoot('payg');
		await page.click('#payg-toggle');
		await page.locator('#payg-dialog[open]').waitFor();
		check('turning it off says calls are then refused', true, /refused/.test(await text('#payg-dlg-text')));
		await page.click('#payg-confirm');
		await page.locator('#payg-badge', { hasText: 'Off' }).waitFor();
		check('payg off: free again', 'Free | of 1,000 this period', await shown());

		// the upgrade: Stripe's Checkout, cancelled, declined, paid
		await Promise.all([page.waitForURL(`${sim}/c/pay/**`), page.click('#upgrade')]);
		check('the upgrade button opens Stripe\'s Checkout', true, page.url().startsWith(`${sim}/c/pay/`));
		check('Checkout shows $30.00', '$30.00', await text('#total'));
		await Promise.all([page.waitForURL(`${site}/billing`), page.click('#cancel')]);
		await page.locator('#notice .alert-info').waitFor();
		check('"Cancel and go back": /billing says nothing was charged', true, /Checkout cancelled.*Nothing was charged/.test(await text('#notice')));
		check('... the query left the address bar', `${site}/billing`, page.url());
		check('... still free', 'Free | of 1,000 this period', await shown());
		await shoot('cancelled');
		const pay = async (number) => {
			await page.fill('#cardNumber', number);
			await page.fill('#cardExpiry', '12 / 34');
			await page.fill('#cardCvc', '123');
			await page.fill('#billingName', 'Money Path');
			await Promise.all([page.waitForLoadState('load'), page.click('#submit')]);
		};
		await Promise.all([page.waitForURL(`${sim}/c/pay/**`), page.click('#upgrade')]);
		const checkoutUrl = page.url();
		await pay('4000 0000 0000 0002');
		check('a declined card shows Stripe\'s message', 'Your card was declined.', await text('#error'));
		await page.goto(`${site}/billing`);
		await sleep(1000);
		await page.reload();
		check('... and changes nothing on the page', 'Free | of 1,000 this period', await shown());
		b = await api('GET', '/v1/account/billing');
		check('... nor in the API', 'free null', `${b.json.plan} ${b.json.subscription_status}`);
		await page.goto(checkoutUrl);
		check('the same Checkout session, paid again', '$30.00', await text('#total'));
		await pay('4242 4242 4242 4242');
		await page.waitForURL(`${site}/billing`);
		check('4242 pays and lands back on the billing page', `${site}/billing`, page.url());
		await page.locator('#plan-value', { hasText: 'Project' }).waitFor({ timeout: 35000 });
		check('the page shows the project plan with 4,000 credits', 'Project | of 4,000 this period', await shown());
		check('... an active subscription', true, /^Active renews /.test(await text('#b-sub')));
		check('... a toast says so', true, /You are on the Project plan/.test(await text('#toasts')));
		check('... no more upgrade button', true, await page.locator('#upgrade').isHidden() && await page.locator('#upgrade-hint').isHidden());
		await shoot('project');
		b = await api('GET', '/v1/session');
		b = await api('GET', '/v1/account/billing');
		check('the account is project, active, with 4 000 credits', 'project active 4000',
			`${b.json.plan} ${b.json.subscription_status} ${b.json.period.allowance}`);

		// the portal and back
		await Promise.all([page.waitForURL(`${sim}/p/session/**`), page.click('#portal')]);
		check('Manage billing opens Stripe\'s portal', true, page.url().startsWith(`${sim}/p/session/`));
		check('... showing the active subscription', 'active', await text('.subscription .status'));
		await Promise.all([page.waitForURL(`${site}/billing`), page.click('#return')]);
		check('... whose return link comes back to /billing', 'Project | of 4,000 this period', await shown());
		for (const p of ['/dashboard', '/account']) {
			await page.goto(`${site}${p}`);
			check(`${p} links to /billing in its nav`, 1, await page.locator('.nav a[href="/billing"]').count());
		}
		await page.goto(`${site}/billing`);
		await shown();
		const key = await api('POST', '/v1/account/keys', { name: 'money' });
		check('a key made from the site after the trip to Stripe', 201, key.status);
		const spend = await page.evaluate(async (k) => {
			let last = null;
			for (let i = 0; i < 3; i++)
				last = await fetch('/v1/markets?limit=1', { headers: { 'X-API-Key': k } });
			return [last.status, last.headers.get('X-Credits-Total'), last.headers.get('X-Credits-Used')];
		}, key.json.secret);
		check('the data API serves the project allowance at once', [200, '4000', '3'], spend);
		const simPost = (p) => page.evaluate(async ([u]) => (await fetch(u, { method: 'POST' })).status, [`${sim}${p}`]);
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
		await page.goto(`${site}/billing`);
		await shown();
		check('... and so does the page', '0', await text('#used-value'));
		check('no script error on the site\'s pages', [], errors);
	} finally {
		await browser.close();
	}
}

main().catch((e) => {
	console.log(`# failed: ${e.stack}`);
	process.exit(1);
});
