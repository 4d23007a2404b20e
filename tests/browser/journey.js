// The website in a real browser (Debian's chromium, driven by playwright-core), against the real
// stack: the account routes, the data API, nginx's CSP, kbook-mailer and the SMTP sink.
//
// usage: node journey.js BASE_URL MAIL_DIR SHOT_DIR
//   BASE_URL  the stack, e.g. http://127.0.0.1:40123
//   MAIL_DIR  the SMTP sink's Maildir (MAIL_DIR/new/*.eml, scripts/smtp-sink.py)
//   SHOT_DIR  where a screenshot of every page goes (desktop 1280 and phone 375 wide)
// Prints one line per check: NAME<TAB>EXPECTED<TAB>ACTUAL.
//
// journey:  landing page -> sign up (inline errors first) -> the confirmation link from the mail
//           -> log in -> create a key (shown once, copied) -> the data API answers it -> the
//           usage and chart move -> edit its name and cap -> revoke (cancel, then confirm) -> the
//           API refuses it -> account page: log out every other session -> log out.
// forgot:   an unconfirmed account: its banner and its key refused (403 email_unconfirmed); "resend
//           the link" -> the new mail's link confirms -> the same key works; forgot password ->
//           the reset link from the mail -> new password (mismatch error first) -> the old one
//           refused, the new one works, the link dead -> change the password on the account page
//           (a wrong current one first) -> delete the account (a wrong password first) -> its
//           key refused, it cannot log in.
// keyboard: log in, create a key, close the dialog, open and cancel a revoke, switch the chart,
//           all with the keyboard alone, every focused control with a visible focus ring.
// phone:    every page at 375 px wide (the narrowest common phone): nothing wider than the screen.
// Throughout: no request to another host, no CSP violation, no script error.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', 'node_modules', 'playwright-core'));

const [BASE, MAIL_DIR, SHOTS] = process.argv.slice(2);
const ORIGIN = new URL(BASE).origin;
const RUN = Date.now().toString(36);
let shotN = 0;

function out(name, expected, actual) {
	const j = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
	console.log(`${name}\t${j(expected)}\t${j(actual)}`.replace(/\n/g, ' '));
}

async function shot(page, name, fullPage = true) {
	shotN++;
	const file = path.join(SHOTS, `${String(shotN).padStart(2, '0')}-${name}.png`);
	// from the top, or the sticky header lands mid-page in a full-page capture
	await page.evaluate(() => window.scrollTo(0, 0));
	await page.screenshot({ path: file, fullPage });
	return file;
}

// Watches a page: requests to another host, CSP violations and script errors are failures.
const foreign = [];
const problems = [];
function watch(page, label) {
	page.on('request', (r) => {
		const u = r.url();
		if (!u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== ORIGIN)
			foreign.push(`${label}: ${u}`);
	});
	page.on('console', (m) => {
		// The browser logs every 4xx answer ("Failed to load resource"): the pages meet them on
		// purpose (no session yet, a wrong password). Anything else at error level is a failure.
		if (m.type() === 'error' && !m.text().startsWith('Failed to load resource'))
			problems.push(`${label}: console: ${m.text()}`);
	});
	page.on('pageerror', (e) => problems.push(`${label}: script error: ${e.message}`));
	return page;
}

// The newest mail to `to` whose body has a /PATH?token= link; waits for it up to 20 s.
async function mailLink(to, kind, after) {
	const re = new RegExp(`(https?://[^\\s]+/${kind}\\?token=[A-Za-z0-9_-]+)`);
	for (let i = 0; i < 200; i++) {
		const dir = path.join(MAIL_DIR, 'new');
		const files = fs.existsSync(dir) ? fs.readdirSync(dir).sort().reverse() : [];
		for (const f of files) {
			const p = path.join(dir, f);
			if (fs.statSync(p).mtimeMs < after)
				continue;
			const text = fs.readFileSync(p, 'utf8');
			const rcpt = /^X-Envelope-To: (.*)$/m.exec(text);
			const m = re.exec(text);
			if (rcpt && rcpt[1].trim() === to && m)
				return m[1];
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	return null;
}

async function api(method, p, { key, body, headers = {} } = {}) {
	const h = { ...headers };
	if (key)
		h['X-API-Key'] = key;
	if (body !== undefined) {
		h['Content-Type'] = 'application/json';
		h.Origin = ORIGIN;
	}
	let r;
	for (let i = 0; i < 10; i++) {
		r = await fetch(BASE + p, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
		if (r.status !== 429 || !r.headers.get('retry-after') || p.startsWith('/v1/markets'))
			break;
		await new Promise((res) => setTimeout(res, 1000 * Number(r.headers.get('retry-after')) + 200));
	}
	let data = null;
	try {
		data = await r.json();
	} catch {
		data = null;
	}
	return { status: r.status, data, headers: r.headers };
}

const text = (page, sel) => page.locator(sel).first().innerText();

// Submits `form` (clicks the selector `submit`, or runs it when a function); when the page
// answers "Too many attempts" (the API throttles password checks from an address after wrong
// ones: 429 with Retry-After), waits as a person would and submits again. Resolves once `done`
// (a selector, or a predicate run in the page) holds.
async function submitPatiently(page, form, submit, done) {
	for (let i = 0; i < 10; i++) {
		await (typeof submit === 'function' ? submit() : page.locator(submit).click());
		const what = await Promise.race([
			(typeof done === 'string' ? page.locator(done).first().waitFor() : page.waitForFunction(done)).then(() => 'done'),
			page.waitForFunction((f) => /Too many attempts/.test(document.querySelector(`${f} .form-error`)?.textContent || ''), form,
				{ timeout: 30000 }).then(() => 'throttled'),
		]);
		if (what === 'done')
			return;
		const s = /in (\d+) second/.exec(await text(page, `${form} .form-error`));
		await page.waitForTimeout(1000 * (s ? Number(s[1]) : 1) + 200);
	}
}
const visible = (page, sel) => page.locator(sel).first().isVisible();

// Focus moves by Tab alone until `sel` has it; each stop must show a focus ring.
async function tabTo(page, sel, noRing, limit = 40) {
	for (let i = 0; i < limit; i++) {
		await page.keyboard.press('Tab');
		const st = await page.evaluate((s) => {
			const e = document.activeElement;
			if (!e || e === document.body)
				return { at: false, ring: true, what: 'body' };
			const cs = getComputedStyle(e);
			const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none';
			return { at: e.matches(s), ring, what: `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''} ${(e.textContent || '').trim().slice(0, 30)}` };
		}, sel);
		if (!st.ring)
			noRing.push(st.what);
		if (st.at)
			return true;
	}
	return false;
}

async function journey(browser) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ORIGIN });
	const page = watch(await ctx.newPage(), 'journey');
	const email = `journey-${RUN}@example.com`;
	const password = 'a quiet lighthouse 42';

	// the landing page: first with GET /v1/plans failing (the page's error state and its retry)
	await page.route('**/v1/plans', (r) => r.fulfill({ status: 503, contentType: 'application/json',
		body: '{"error":{"code":"service_unavailable","message":"down","status":503}}' }));
	await page.goto(`${BASE}/`);
	await page.locator('#plans .alert').waitFor();
	out('landing, plans unavailable: an error with a retry', true, (await text(page, '#plans .alert')).includes('could not load'));
	await shot(page, 'landing-plans-error', false);
	await page.unroute('**/v1/plans');
	await page.locator('#plans .alert button').click();
	await page.locator('#plans .plan').first().waitFor();
	const plans = (await api('GET', '/v1/plans')).data.plans.map((p) => p.name);
	out('landing: a card per plan of GET /v1/plans, in order', plans,
		await page.locator('#plans .plan').evaluateAll((es) => es.map((e) => e.dataset.plan)));
	out('landing: the free plan shows 1,000 credits', true, (await text(page, '[data-plan="free"]')).includes('1,000 credits every month'));
	for (const href of ['/docs/', '/llms.txt', '/asyncapi.json', '/openapi.json', '/signup'])
		out(`landing links ${href}`, true, (await page.locator(`a[href="${href}"]`).count()) > 0);
	await shot(page, 'landing');

	// sign up: inline errors, then the real thing
	await page.locator('#nav-signup').click();
	await page.waitForURL(`${BASE}/signup`);
	await page.locator('#signup button[type=submit]').click();
	out('sign-up: an empty email is refused inline', 'true', await page.locator('#email').getAttribute('aria-invalid'));
	out('sign-up: the focus goes to the first wrong field', 'email', await page.evaluate(() => document.activeElement.id));
	await page.fill('#email', email);
	await page.fill('#password', 'short');
	await page.locator('#signup button[type=submit]').click();
	out('sign-up: a short password is refused inline', true, (await text(page, '#password-error')).includes('at least 8'));
	await shot(page, 'signup-errors');
	await page.fill('#password', password);
	const t0 = Date.now() - 1000;
	await page.locator('#signup button[type=submit]').click();
	await page.locator('#sent-view').waitFor();
	out('sign-up: "check your email" names the address', email, await text(page, '#sent-email'));
	await shot(page, 'signup-sent');

	// the confirmation link from the mail
	const link = await mailLink(email, 'confirm', t0);
	out('a confirmation mail arrived with a /confirm link on this site', true, Boolean(link && link.startsWith(`${BASE}/confirm?token=`)));
	await page.goto(link);
	await page.locator('#ok-view').waitFor();
	out('confirm: "Email confirmed"', 'Email confirmed', await text(page, '#ok-title'));
	out('confirm: the token left the address bar', `${BASE}/confirm`, page.url());
	await shot(page, 'confirmed');

	// to the dashboard: not logged in yet, so through the login page
	await page.locator('#to-dashboard').click();
	await page.waitForURL(/\/login\?next=/);
	await shot(page, 'login');
	await page.fill('#email', email);
	await page.fill('#password', password);
	await submitPatiently(page, '#login', '#login button[type=submit]', () => location.pathname === '/dashboard');
	await page.waitForURL(`${BASE}/dashboard`);
	await page.locator('#keys-box .empty').waitFor();
	out('dashboard: no keys yet, an empty state with a call to action', 'No API keys yet', await text(page, '#keys-box h3'));
	out('dashboard: no usage yet, the chart\'s empty state', true, await visible(page, '#chart-empty'));
	out('dashboard: credits used 0', '0', await text(page, '#used-value'));
	out('dashboard: the email is confirmed (no banner)', false, await visible(page, '#unconfirmed'));
	await shot(page, 'dashboard-empty');
	await page.goto(link);
	await page.locator('#ok-view').waitFor();
	out('the confirmation link again, logged in: "already confirmed"', 'Email already confirmed', await text(page, '#ok-title'));
	await page.goto(`${BASE}/dashboard`);
	await page.locator('#keys-box .empty').waitFor();

	// create a key: shown once, copied
	await page.fill('#key-name', 'journey key');
	await page.locator('#create-key-btn').click();
	await page.locator('#secret-dialog[open]').waitFor();
	const secret = (await text(page, '#secret-value')).trim();
	out('new key: the whole key is shown', true, /^kb_live_[A-Za-z0-9]{32}$/.test(secret));
	out('new key: a warning that it is shown once', true, (await text(page, '#secret-dialog .alert')).includes('only time'));
	await page.locator('#copy-secret').click();
	out('new key: Copy puts it on the clipboard', secret, await page.evaluate(() => navigator.clipboard.readText()));
	await shot(page, 'key-created');
	await page.locator('#secret-done').click();
	out('new key: closing the dialog removes the key from the page', '', await page.locator('#secret-value').textContent());
	const row = page.locator('#keys-table tbody tr').first();
	await row.waitFor();
	const prefix = await row.getAttribute('data-prefix');
	out('keys table: one key, its prefix the key\'s start', true, Boolean(prefix) && secret.startsWith(prefix) && (await page.locator('#keys-table tbody tr').count()) === 1);
	out('keys table: never used', 'Never', await row.locator('td[data-label="Last used"]').innerText());

	// the data API takes it; the usage moves
	let r;
	let cost = 0;
	for (let i = 0; i < 3; i++) {
		r = await api('GET', '/v1/markets', { key: secret });
		cost += Number(r.headers.get('x-credits-cost'));
	}
	out('the data API answers the new key', 200, r.status);
	await page.locator('#refresh').click();
	await page.waitForFunction((c) => document.querySelector('#chart')?.dataset.total === String(c), cost, { timeout: 10000 });
	out('dashboard: credits used moved by the calls\' cost', String(cost), await text(page, '#used-value'));
	out('dashboard: the chart is drawn', true, (await page.locator('#chart canvas').count()) > 0 && await visible(page, '#chart'));
	await page.locator('#chart-details summary').click();
	const today = await page.locator('#chart-table tbody tr').first().locator('td').nth(1).innerText();
	out('dashboard: today\'s credits in the chart\'s numbers', String(cost), today);
	out('keys table: used just now, credits counted', ['just now', String(cost)],
		[await row.locator('td[data-label="Last used"]').innerText(), await row.locator('td[data-label="Used this period"]').innerText()]);
	await shot(page, 'dashboard-usage');
	await page.locator('.chart-tabs [data-mode="key"]').click();
	out('chart by key: the key\'s series', true, (await text(page, '#chart .u-legend')).includes('journey key'));
	await page.locator('.chart-tabs [data-mode="route"]').click();
	out('chart by route: the route\'s series', true, (await text(page, '#chart .u-legend')).includes('/v1/markets'));
	await shot(page, 'dashboard-by-route');

	// edit: name and cap
	await row.getByRole('button', { name: /^Edit key/ }).click();
	await page.locator('#edit-dialog[open]').waitFor();
	await page.fill('#edit-name', 'journey key 2');
	await page.fill('#edit-cap', '0');
	await page.locator('#edit-save').click();
	out('edit: a cap of 0 is refused inline', true, (await text(page, '#edit-cap-error')).length > 0);
	await page.fill('#edit-cap', String(cost));
	await shot(page, 'key-edit');
	await page.locator('#edit-save').click();
	await page.locator('#edit-dialog').waitFor({ state: 'hidden' });
	await page.waitForFunction(() => document.querySelector('#keys-table tbody tr .key-name')?.textContent === 'journey key 2');
	out('edit: the new name and cap in the table', ['journey key 2', String(cost)],
		[await row.locator('.key-name').innerText(), await row.locator('td[data-label="Cap"]').innerText()]);
	const listed = (await page.evaluate(() => fetch('/v1/account/keys').then((x) => x.json()))).keys[0];
	out('edit: the API has them too', ['journey key 2', cost], [listed.name, listed.monthly_cap]);
	out('a cap equal to the credits used: "Cap reached"', 'Cap reached', await row.locator('td[data-label="Status"]').innerText());
	r = await api('GET', '/v1/markets', { key: secret });
	out('at its cap the key is refused', [429, 'key_cap_reached'], [r.status, r.data?.error?.code]);

	// revoke: cancel first, then confirm
	await row.getByRole('button', { name: /^Revoke key/ }).click();
	await page.locator('#revoke-dialog[open]').waitFor();
	await page.locator('#revoke-cancel').click();
	out('revoke cancelled: the key stays', 'Cap reached', await row.locator('td[data-label="Status"]').innerText());
	await row.getByRole('button', { name: /^Revoke key/ }).click();
	await page.locator('#revoke-dialog[open]').waitFor();
	await shot(page, 'key-revoke-confirm');
	await page.locator('#revoke-confirm').click();
	await page.waitForFunction(() => document.querySelector('#keys-table tbody tr td[data-label="Status"]')?.innerText === 'Revoked');
	out('revoked: the table says so', 'Revoked', await row.locator('td[data-label="Status"]').innerText());
	r = await api('GET', '/v1/markets', { key: secret });
	out('revoked: the data API refuses the key', [401, 'revoked_api_key'], [r.status, r.data?.error?.code]);
	await shot(page, 'key-revoked');

	// the account page: log out every other session, then log out
	const other = await api('POST', '/v1/session', { body: { email, password, bearer: true } });
	out('a second session (a script\'s)', 200, other.status);
	await page.locator('.site-header a[href="/account"]').click();
	await page.waitForURL(`${BASE}/account`);
	await page.locator('#p-email:not(:has(.skeleton))').waitFor();
	out('account: the email and its status', [email, 'Confirmed'], [await text(page, '#p-email'), await text(page, '#p-confirmed')]);
	await page.locator('#revoke-others').click();
	await page.locator('.toast').first().waitFor();
	out('account: "log out every other session" ends the other one', '1 other session logged out.', await text(page, '.toast'));
	r = await api('GET', '/v1/session', { headers: { Authorization: `Bearer ${other.data.session_token}` } });
	out('the other session is refused now', 401, r.status);
	await shot(page, 'account');
	await page.locator('#logout').click();
	await page.waitForURL(/\/login\?signed_out=1/);
	out('log out: back on the login page, told so', true, (await text(page, '#notice')).includes('logged out'));
	await page.goto(`${BASE}/dashboard`);
	await page.waitForURL(/\/login\?next=%2Fdashboard/);
	out('logged out: the dashboard sends to the login page', true, page.url().includes('/login?next='));
	await ctx.close();
	return { email, password };
}

async function forgot(browser) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = watch(await ctx.newPage(), 'forgot');
	const email = `forgot-${RUN}@example.com`;
	const old = 'first password 1';
	const fresh = 'second password 2';
	out('an unconfirmed account (signed up through the API)', 202,
		(await api('POST', '/v1/account/signup', { body: { email, password: old } })).status);
	await page.goto(`${BASE}/login`);
	await page.fill('#email', email);
	await page.fill('#password', old);
	await submitPatiently(page, '#login', '#login button[type=submit]', () => location.pathname === '/dashboard');
	await page.waitForURL(`${BASE}/dashboard`);
	await page.locator('#unconfirmed').waitFor();
	out('unconfirmed: the dashboard asks to confirm the email', true, (await text(page, '#unconfirmed')).includes('Confirm your email'));
	await page.fill('#key-name', 'early key');
	await page.locator('#create-key-btn').click();
	await page.locator('#secret-dialog[open]').waitFor();
	const secret = (await text(page, '#secret-value')).trim();
	// closed with Escape this time: the dialog's close event takes the key off the page too
	await page.keyboard.press('Escape');
	await page.waitForFunction(() => document.querySelector('#secret-value').textContent === '', null, { timeout: 5000 })
		.catch(() => {});
	out('new key: Escape closes the dialog and removes the key from the page', '',
		await page.locator('#secret-value').textContent());
	let r = await api('GET', '/v1/markets', { key: secret });
	out('unconfirmed: the data API refuses its key', [403, 'email_unconfirmed'], [r.status, r.data?.error?.code]);
	await shot(page, 'dashboard-unconfirmed');
	// "Resend the link" on the banner: a new mail, whose link confirms; then the same key works
	const t1 = Date.now() - 1000;
	await page.locator('#resend').click();
	await page.locator('.toast').first().waitFor();
	const confirmLink = await mailLink(email, 'confirm', t1);
	out('resend: a new confirmation mail', true, Boolean(confirmLink));
	await page.goto(confirmLink);
	await page.locator('#ok-view').waitFor();
	r = await api('GET', '/v1/markets', { key: secret });
	out('confirmed: the key made before works now', 200, r.status);
	await page.goto(`${BASE}/dashboard`);
	await page.locator('#keys-table').waitFor();
	out('confirmed: no banner any more', false, await visible(page, '#unconfirmed'));
	await page.locator('#logout').click();
	await page.waitForURL(/\/login/);

	await page.locator('a[href="/forgot"]').click();
	await page.waitForURL(`${BASE}/forgot`);
	await shot(page, 'forgot');
	await page.fill('#email', email);
	const t0 = Date.now() - 1000;
	await page.locator('#forgot button[type=submit]').click();
	await page.locator('#sent-view').waitFor();
	await shot(page, 'forgot-sent');
	const link = await mailLink(email, 'reset', t0);
	out('a reset mail arrived with a /reset link on this site', true, Boolean(link && link.startsWith(`${BASE}/reset?token=`)));
	await page.goto(link);
	await page.fill('#password', fresh);
	await page.fill('#password2', `${fresh}x`);
	await page.locator('#reset button[type=submit]').click();
	out('reset: two different passwords are refused inline', 'The two passwords differ.', await text(page, '#password2-error'));
	await shot(page, 'reset-mismatch');
	await page.fill('#password2', fresh);
	await page.locator('#reset button[type=submit]').click();
	await page.locator('#ok-view').waitFor();
	out('reset: "Password changed"', 'Password changed', await text(page, '#ok-title'));
	await shot(page, 'reset-done');
	await page.goto(link);
	await page.fill('#password', 'third password 3');
	await page.fill('#password2', 'third password 3');
	await page.locator('#reset button[type=submit]').click();
	await page.locator('#bad-view').waitFor();
	out('reset: the link works once', true, await visible(page, '#bad-view'));

	await page.goto(`${BASE}/login`);
	await page.fill('#email', email);
	await page.fill('#password', old);
	await submitPatiently(page, '#login', '#login button[type=submit]',
		() => /do not match/.test(document.querySelector('#login .form-error')?.textContent || ''));
	out('the old password is refused', true, (await text(page, '#login .form-error')).includes('do not match'));
	await shot(page, 'login-refused');
	await page.fill('#password', fresh);
	await submitPatiently(page, '#login', '#login button[type=submit]', () => location.pathname === '/dashboard');
	await page.waitForURL(`${BASE}/dashboard`);
	out('the new password logs in', `${BASE}/dashboard`, page.url());

	// change the password on the account page: a wrong current one first
	const third = 'third password 33';
	await page.goto(`${BASE}/account`);
	await page.locator('#p-email:not(:has(.skeleton))').waitFor();
	await page.fill('#old-password', 'not it at all');
	await page.fill('#new-password', third);
	await page.locator('#pw-save').click();
	await page.waitForFunction(() => document.querySelector('#old-password-error')?.textContent.length > 0);
	out('change password: a wrong current password is refused inline', 'This is not your current password.', await text(page, '#old-password-error'));
	await page.fill('#old-password', fresh);
	await submitPatiently(page, '#password-form', '#pw-save', '.toast');
	out('change password: done', true, (await text(page, '.toast')).startsWith('Password changed'));
	out('change password: the new one logs in', 200, (await api('POST', '/v1/session', { body: { email, password: third } })).status);

	// delete the account: the password is asked
	await page.locator('#delete-open').click();
	await page.locator('#delete-dialog[open]').waitFor();
	await page.fill('#del-password', 'not my password');
	await page.locator('#delete-confirm').click();
	await page.waitForFunction(() => document.querySelector('#del-password-error')?.textContent.length > 0);
	out('delete: a wrong password is refused inline', 'This is not your password.', await text(page, '#del-password-error'));
	await shot(page, 'delete-dialog');
	await page.fill('#del-password', third);
	await submitPatiently(page, '#delete-form', '#delete-confirm', () => location.search.includes('deleted=1'));
	await page.waitForURL(/\/login\?deleted=1/);
	out('delete: back on the login page, told so', true, (await text(page, '#notice')).includes('deleted'));
	out('deleted: its key is refused', 401, (await api('GET', '/v1/markets', { key: secret })).status);
	const again = await api('POST', '/v1/session', { body: { email, password: third } });
	out('deleted: the account cannot log in', 401, again.status);
	await ctx.close();
}

async function keyboard(browser, { email, password }) {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = watch(await ctx.newPage(), 'keyboard');
	const noRing = [];
	await page.goto(`${BASE}/login`);
	await page.keyboard.press('Tab');
	out('keyboard: the first Tab reaches "Skip to content", shown', ['Skip to content', true],
		[await page.evaluate(() => document.activeElement.textContent), await page.locator('.skip-link').evaluate((e) => e.getBoundingClientRect().top >= 0)]);
	out('keyboard: Tab reaches the email field', true, await tabTo(page, '#email', noRing));
	await page.keyboard.type(email);
	out('keyboard: Tab reaches the password field', true, await tabTo(page, '#password', noRing));
	await page.keyboard.type(password);
	await submitPatiently(page, '#login', () => page.keyboard.press('Enter'), () => location.pathname === '/dashboard');
	await page.waitForURL(`${BASE}/dashboard`);
	await page.locator('#keys-table').waitFor();
	out('keyboard: Tab reaches the key name', true, await tabTo(page, '#key-name', noRing));
	await page.keyboard.type('keyboard key');
	await page.keyboard.press('Enter');
	await page.locator('#secret-dialog[open]').waitFor();
	out('keyboard: the dialog opens with the focus on Copy', 'copy-secret', await page.evaluate(() => document.activeElement.id));
	await page.keyboard.press('Tab');
	out('keyboard: Tab moves to "I have saved the key"', 'secret-done', await page.evaluate(() => document.activeElement.id));
	await page.keyboard.press('Enter');
	await page.locator('#secret-dialog').waitFor({ state: 'hidden' });
	out('keyboard: closed, the focus back on the key name', 'key-name', await page.evaluate(() => document.activeElement.id));
	await page.waitForFunction(() => document.querySelectorAll('#keys-table tbody tr').length === 2);
	out('keyboard: Tab reaches the new key\'s Revoke', true, await tabTo(page, 'button[aria-label="Revoke key keyboard key"]', noRing));
	await page.keyboard.press('Enter');
	await page.locator('#revoke-dialog[open]').waitFor();
	out('keyboard: the revoke dialog opens on Cancel', 'revoke-cancel', await page.evaluate(() => document.activeElement.id));
	await shot(page, 'keyboard-revoke');
	await page.keyboard.press('Escape');
	await page.locator('#revoke-dialog').waitFor({ state: 'hidden' });
	out('keyboard: Escape closes it, the key stays', 'Active',
		await page.locator('#keys-table tbody tr').first().locator('td[data-label="Status"]').innerText());
	await page.evaluate(() => document.activeElement.blur());
	await page.evaluate(() => window.scrollTo(0, 0));
	out('keyboard: Tab reaches the chart\'s "By key"', true, await tabTo(page, '.chart-tabs [data-mode="key"]', noRing));
	await page.keyboard.press('Enter');
	out('keyboard: Enter switches the chart', 'true', await page.locator('.chart-tabs [data-mode="key"]').getAttribute('aria-pressed'));
	out('keyboard: every control reached shows a focus ring', [], noRing);
	// Every form field has a label.
	const unlabelled = [];
	for (const p of ['/dashboard', '/account', '/signup', '/login', '/forgot', '/reset?token=x']) {
		await page.goto(BASE + p);
		await page.waitForLoadState('networkidle');
		unlabelled.push(...await page.evaluate((pp) => Array.from(document.querySelectorAll('input, select, textarea'))
			.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map((e) => `${pp} ${e.id}`), p));
	}
	out('every input of every page has a label', [], unlabelled);
	await ctx.close();
}

async function phone(browser, { email, password }) {
	const ctx = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true });
	const page = watch(await ctx.newPage(), 'phone');
	const wide = [];
	// (a mobile browser zooms a page wider than the screen out to fit: innerWidth grows too)
	const overflow = async (pg, p) => {
		const w = await pg.evaluate(() => Math.max(document.documentElement.scrollWidth, window.innerWidth) - 375);
		if (w > 0)
			wide.push(`${p} ${w}px`);
	};
	const pages = ['/', '/signup', '/login', '/forgot', '/reset?token=x', '/confirm?token=x', '/docs/'];
	for (const p of pages) {
		await page.goto(BASE + p);
		await page.waitForLoadState('networkidle');
		// the docs page is some 40 screens long: its first screen is enough to look at
		await shot(page, `phone${p.replace(/[^a-z]+/g, '-')}`, p !== '/docs/');
		await overflow(page, p);
	}
	await page.goto(`${BASE}/login`);
	await page.fill('#email', email);
	await page.fill('#password', password);
	await submitPatiently(page, '#login', '#login button[type=submit]', () => location.pathname === '/dashboard');
	await page.waitForURL(`${BASE}/dashboard`);
	for (const p of ['/dashboard', '/billing', '/account']) {
		await page.goto(BASE + p);
		await page.waitForLoadState('networkidle');
		await shot(page, `phone${p.replace(/[^a-z]+/g, '-')}`);
		await overflow(page, p);
	}
	out('phone (375 px): no page is wider than the screen', [], wide);
	// The session ends elsewhere (a script logs out every other session): the page's next call
	// sends to the login page, which says why.
	await page.goto(`${BASE}/dashboard`);
	await page.locator('#keys-table').waitFor();
	const s = await api('POST', '/v1/session', { body: { email, password, bearer: true } });
	const rv = await api('POST', '/v1/session/others/revoke', { headers: { Authorization: `Bearer ${s.data.session_token}` } });
	out('a script logs out every other session', 200, rv.status);
	await page.locator('#refresh').click();
	await page.waitForURL(/\/login\?expired=1/);
	out('the dashboard, its session gone: to the login page, told why', true, (await text(page, '#notice')).includes('session ended'));
	await shot(page, 'phone-session-ended');
	await ctx.close();
}

(async () => {
	fs.mkdirSync(SHOTS, { recursive: true });
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
	let who = null;
	for (const [name, fn] of [['journey', journey], ['forgot', forgot], ['keyboard', keyboard], ['phone', phone]]) {
		const t0 = Date.now();
		try {
			if (name === 'journey')
				who = await fn(browser);
			else if (name === 'forgot' || who)
				await fn(browser, who);
		} catch (e) {
			// The open page's state, for whoever reads the failure.
			let file = '';
			for (const c of browser.contexts())
				for (const p of c.pages())
					file = await shot(p, `FAILED-${name}`).catch(() => '');
			out(`${name}: ran to the end`, 'yes', `${String(e.message).split('\n')[0]} (screenshot ${file})`);
			for (const c of browser.contexts())
				await c.close();
		}
		console.error(`${name}: ${Date.now() - t0} ms`);
	}
	out('no request to another host', [], foreign);
	out('no CSP violation or script error', [], problems);
	await browser.close();
})();
