// The billing page: the plan and this period's credits and overage (GET /v1/account/billing),
// the upgrade to the project plan through Stripe Checkout and back, the Stripe billing portal,
// and pay-as-you-go on or off (after a confirmation saying what it does). The plan itself changes
// when Stripe's events reach the webhook, so back from a paid Checkout the page polls the status
// (once a second, 30 s at most; the events arrive within a second or two) until the plan shows.
import { api, describe } from './api.js';
import { $, busy, el, fmtDate, fmtNum, loadError, periodLastDay, requireSession, setStat, showPeriodUsage, toast, withBusy } from './ui.js';

const PLAN_NAMES = { free: 'Free', payg: 'Pay as you go', project: 'Project' };
const planName = (p) => PLAN_NAMES[p] || p;
// amounts to the cent; a credit's price to its last significant digit ($0.008)
const money = (v) => `$${Number(v).toFixed(2)}`;
const unitPrice = (v) => `$${String(Number(Number(v).toPrecision(4)))}`;

// What a subscription status means for the account (Stripe's statuses; the plan follows them).
const STATUS = {
	active: ['ok', 'Active', ''],
	trialing: ['ok', 'Trial', ''],
	past_due: ['bad', 'Payment failed', 'Your last payment failed, so the account is back on the free allowance until it is paid. Update your card in Manage billing; Stripe retries the payment.'],
	unpaid: ['bad', 'Unpaid', 'Stripe gave up collecting the payment: the account is on the free allowance. Update your card in Manage billing, or upgrade again.'],
	canceled: ['warn', 'Canceled', 'Your project subscription has ended: the account is on the free plan (or pay as you go, if it is on). Upgrade again at any time.'],
	incomplete: ['warn', 'Incomplete', 'The first payment has not gone through yet.'],
	incomplete_expired: ['warn', 'Expired', 'The first payment never went through: nothing was charged.'],
};

let project = null; // the project plan of GET /v1/plans, for the upgrade button's price
let current = null;

function notice(kind, title, text) {
	const n = $('#notice');
	n.hidden = false;
	n.replaceChildren(el('div', { class: `alert alert-${kind}`, role: kind === 'bad' ? 'alert' : 'status' },
		el('span', { class: 'icon', 'aria-hidden': 'true', text: kind === 'ok' ? '✓' : kind === 'info' ? 'i' : '!' }),
		el('div', { class: 'alert-body' }, el('strong', { text: title }), text ? el('p', { text }) : null)));
}

function show(b) {
	current = b;
	const p = b.period;
	const price = unitPrice(b.overage_usd_per_credit);
	const lastDay = fmtDate(periodLastDay(p));
	showPeriodUsage($('#b-period-line'), b.plan, p);

	const st = b.subscription_status ? STATUS[b.subscription_status] || ['warn', b.subscription_status, ''] : null;
	setStat('plan', planName(b.plan), st
		? el('span', { class: `badge badge-${st[0]}`, text: st[1] })
		: b.payg ? 'pay as you go is on' : 'no subscription');
	setStat('remaining', fmtNum(p.remaining), p.remaining > 0 ? `until ${lastDay}`
		: b.plan === 'payg' ? 'now billed as overage' : 'calls are refused until the period ends');
	setStat('overage', money(p.overage_usd), `${fmtNum(p.overage)} credits at ${price} each`);

	$('#b-plan').textContent = `${planName(b.plan)}, ${fmtNum(p.allowance)} credits a month`;
	$('#b-sub').replaceChildren(st
		? el('span', {}, el('span', { class: `badge badge-${st[0]}`, text: st[1] }),
			b.subscription_renews_at && b.subscription_status === 'active' ? ` renews ${fmtDate(b.subscription_renews_at)}` : '')
		: 'None');
	$('#b-period').textContent = `${fmtDate(p.start)} to ${lastDay}`;
	$('#b-credits').textContent = `${fmtNum(p.used)} of ${fmtNum(p.allowance)} used, ${fmtNum(p.remaining)} left`;
	$('#b-price').textContent = `${price} a credit past the allowance (pay as you go)`;
	const explain = $('#sub-explain');
	explain.textContent = st ? st[2] : '';
	explain.hidden = !(st && st[2]);

	$('#upgrade').hidden = b.plan === 'project';
	$('#upgrade-hint').hidden = !project || b.plan === 'project';
	if (project)
		$('#upgrade-hint').textContent = `The project plan: ${fmtNum(project.monthly_credits)} credits a month for` +
			` ${money(project.price_usd_month)}, paid on Stripe's page; cancel at any time in Manage billing.`;
	$('#portal').hidden = !b.billing_account;

	$('#payg-badge').hidden = false;
	$('#payg-badge').className = `badge ${b.payg ? 'badge-ok' : ''}`;
	$('#payg-badge').textContent = b.payg ? 'On' : 'Off';
	$('#payg-line').textContent = b.payg
		? (b.plan === 'project'
			? `On. Your project plan's credits come first; pay as you go applies if the subscription ends: past the allowance calls are served and billed at ${price} a credit.`
			: `On. Past your monthly credits, calls keep being served and each credit costs ${price}, billed monthly by Stripe.`)
		: `Off. Past your monthly credits, calls are refused (429 credits_exhausted) until the next period. Turn it on to keep being served at ${price} a credit.`;
	$('#payg-label').textContent = b.payg ? 'Turn pay as you go off' : 'Turn pay as you go on';
	$('#payg-toggle').disabled = false;
}

async function load() {
	try {
		const b = await api('GET', '/v1/account/billing');
		$('#load-error').replaceChildren();
		show(b);
		return b;
	} catch (e) {
		if (e.status === 401)
			return null; // the session ended: api.js's handler goes to the login page
		loadError($('#load-error'), 'Billing could not load.', e,
			el('button', { class: 'btn btn-small', type: 'button', id: 'retry', text: 'Try again', onclick: () => load() }));
		return null;
	}
}

async function go(button, path) {
	busy(button, true, 'Opening Stripe…');
	try {
		const r = await api('POST', path, {});
		location.assign(r.url);
	} catch (e) {
		toast(describe(e), 'bad');
		busy(button, false);
	}
}

// pay as you go: a confirmation that says what the switch does, then POST and show the answer
const dlg = $('#payg-dialog');
$('#payg-toggle').addEventListener('click', () => {
	if (!current)
		return;
	const on = !current.payg;
	const price = unitPrice(current.overage_usd_per_credit);
	$('#payg-dlg-title').textContent = on ? 'Turn pay as you go on?' : 'Turn pay as you go off?';
	$('#payg-dlg-text').textContent = on
		? `Once this month's ${fmtNum(current.period.allowance)} credits are used, your keys keep working and each further credit costs ${price}, added up and billed monthly to your card by Stripe. A key's monthly cap still applies. You can turn it off at any time.`
		: `Once this month's credits are used, calls are refused (429 credits_exhausted) until the next period. Overage already used this period (${money(current.period.overage_usd)}) is still billed.`;
	$('#payg-confirm-label').textContent = on ? 'Turn on' : 'Turn off';
	dlg.showModal();
});
$('#payg-cancel').addEventListener('click', () => dlg.close());
$('#payg-confirm').addEventListener('click', (ev) => withBusy(ev.currentTarget, 'Saving…', async () => {
	const on = !current.payg;
	try {
		show(await api('POST', '/v1/account/billing/payg', { enabled: on }));
	} finally {
		dlg.close(); // before the toast of the answer or of the error
	}
	toast(on ? 'Pay as you go is on.' : 'Pay as you go is off.');
}));
$('#upgrade').addEventListener('click', () => go($('#upgrade'), '/v1/account/billing/checkout'));
$('#portal').addEventListener('click', () => go($('#portal'), '/v1/account/billing/portal'));
$('#refresh').addEventListener('click', async (ev) => {
	const b = ev.currentTarget;
	busy(b, true);
	await load();
	busy(b, false);
});

await requireSession(); // also the header's email and "Log out"; the CSRF token for the POSTs
api('GET', '/v1/plans').then(({ plans }) => {
	project = plans.find((p) => p.name === 'project') || null;
	if (current)
		show(current);
}).catch(() => {}); // the button keeps its plain label

const q = new URLSearchParams(location.search);
const back = q.get('checkout');
if (back)
	history.replaceState(null, '', '/billing'); // a reload does not repeat the message
let b = await load();
if (back === 'cancelled') {
	notice('info', 'Checkout cancelled', 'Nothing was charged and your plan is unchanged.');
} else if (back && b && b.plan !== 'project') {
	notice('info', 'Payment received', 'Activating your project plan…');
	for (let i = 0; i < 30 && b && b.plan !== 'project'; i++) {
		await new Promise((r) => setTimeout(r, 1000));
		b = await load();
	}
	if (b && b.plan === 'project') {
		$('#notice').hidden = true;
		toast('You are on the Project plan.');
	} else {
		notice('warn', 'Your payment is being processed', 'The plan changes as soon as Stripe confirms it; refresh in a minute.');
	}
} else if (back && b) {
	toast('You are on the Project plan.');
}
