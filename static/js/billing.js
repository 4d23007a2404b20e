// The billing page: the plan and this period's credits and overage (GET /v1/account/billing),
// the upgrade to the project plan through Stripe Checkout and back, the Stripe billing portal,
// and pay-as-you-go on or off. The plan itself changes when Stripe's events reach the webhook,
// so after a Checkout the page polls the status until the plan shows.
import { api, describe } from './api.js';
import { $, busy, fmtDate, fmtNum, logout, requireSession, toast } from './ui.js';

const s = await requireSession();
$('#nav-email').textContent = s.account.email;
$('#logout').addEventListener('click', () => logout());

const PLAN_NAMES = { free: 'Free', payg: 'Pay as you go', project: 'Project' };
const money = (x) => `$${Number(x).toFixed(2)}`;

function notice(text, kind) {
	const n = $('#notice');
	n.textContent = text;
	n.className = `alert alert-${kind}`;
	n.hidden = !text;
}

function show(b) {
	const p = b.period;
	$('#plan-badge').textContent = PLAN_NAMES[b.plan] || b.plan;
	$('#plan-badge').hidden = false;
	$('#b-plan').textContent = PLAN_NAMES[b.plan] || b.plan;
	$('#b-sub').textContent = b.subscription_status
		? `${b.subscription_status}${b.subscription_renews_at ? `, renews ${fmtDate(b.subscription_renews_at)}` : ''}`
		: 'none';
	$('#b-period').textContent = `${fmtDate(p.start)} to ${fmtDate(p.end)}`;
	$('#b-credits').textContent = `${fmtNum(p.used)} of ${fmtNum(p.allowance)} used, ${fmtNum(p.remaining)} left`;
	$('#b-overage').textContent = `${fmtNum(p.overage)} credits, ${money(p.overage_usd)}` +
		` at $${b.overage_usd_per_credit} a credit`;
	$('#b-price').textContent = `$${b.overage_usd_per_credit}`;
	$('#upgrade').hidden = b.plan === 'project';
	$('#portal').hidden = !b.billing_account;
	$('#payg-line').textContent = b.payg
		? (b.plan === 'project' ? 'On: it applies when your project subscription ends.' : 'On: calls past your credits are served and billed.')
		: 'Off.';
	$('#payg-label').textContent = b.payg ? 'Turn pay as you go off' : 'Turn pay as you go on';
	$('#payg-toggle').dataset.on = b.payg ? '1' : '0';
	if (b.subscription_status === 'past_due')
		notice('Your last payment failed: the account is back on the free plan until it is paid. Update your card in Manage billing.', 'bad');
}

async function load() {
	const b = await api('GET', '/v1/account/billing');
	show(b);
	return b;
}

async function go(button, path) {
	busy(button, true, 'Opening Stripe…');
	try {
		const r = await api('POST', path, {});
		window.location.assign(r.url);
	} catch (e) {
		toast(describe(e), 'bad');
		busy(button, false);
	}
}

$('#upgrade').addEventListener('click', () => go($('#upgrade'), '/v1/account/billing/checkout'));
$('#portal').addEventListener('click', () => go($('#portal'), '/v1/account/billing/portal'));
$('#payg-toggle').addEventListener('click', async () => {
	const b = $('#payg-toggle');
	busy(b, true, 'Saving…');
	try {
		show(await api('POST', '/v1/account/billing/payg', { enabled: b.dataset.on !== '1' }));
		toast('Saved.');
	} catch (e) {
		toast(describe(e), 'bad');
	} finally {
		busy(b, false);
	}
});

const q = new URLSearchParams(window.location.search);
let b = await load();
if (q.get('checkout') === 'cancelled') {
	notice('Checkout cancelled: nothing was charged.', 'info');
} else if (q.get('checkout') && b.plan !== 'project') {
	// back from a paid Checkout: Stripe's events arrive within seconds
	notice('Payment received; activating your plan…', 'info');
	for (let i = 0; i < 30 && b.plan !== 'project'; i++) {
		await new Promise((r) => setTimeout(r, 1000));
		b = await load();
	}
	notice(b.plan === 'project' ? 'You are on the Project plan.' : 'Your payment is being processed; refresh in a minute.',
		b.plan === 'project' ? 'ok' : 'warn');
} else if (q.get('checkout')) {
	notice('You are on the Project plan.', 'ok');
}
