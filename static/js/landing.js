// The landing page: the plans and prices from GET /v1/plans (the plans table), and the header's
// "Dashboard" link in place of "Log in / Sign up" for a visitor who is signed in.
import { api, currentSession, describe } from './api.js';
import { $, el, fmtNum } from './ui.js';

const money = (v) => {
	const n = Number(v);
	if (!Number.isFinite(n))
		return String(v);
	if (n === 0)
		return '$0';
	// whole dollars as such; fractions of a cent to their last significant digit ($0.008)
	return `$${n % 1 === 0 ? fmtNum(n) : String(Number(n.toPrecision(4)))}`;
};

function planCard(p, first) {
	const items = [
		`${fmtNum(p.monthly_credits)} credits every month`,
		`${fmtNum(p.rate_per_min)} requests a minute`,
		p.overage
			? `Keeps serving past the allowance at ${money(p.overage_usd_per_credit)} a credit`
			: 'Stops at the allowance: no surprise bill',
		'REST API, CSV export and the live feed',
	];
	const price = Number(p.price_usd_month);
	return el('article', { class: `card plan${first ? ' featured' : ''}`, 'data-plan': p.name },
		el('h3', {}, el('span', { class: 'plan-name', text: p.name }), first ? el('span', { class: 'badge badge-accent', text: 'Start here' }) : null),
		el('p', { class: 'price' }, money(price), el('small', { text: ' / month' })),
		el('p', { class: 'price-note', text: p.overage ? 'plus metered overage' : (price === 0 ? 'no card needed' : 'billed monthly') }),
		el('ul', {}, items.map((t) => el('li', { text: t }))),
		el('a', { class: `btn ${first ? 'btn-primary' : ''} btn-block`, href: '/signup', text: first ? 'Create a free account' : 'Get started' }));
}

async function loadPlans() {
	const box = $('#plans');
	try {
		const { plans } = await api('GET', '/v1/plans');
		// The plan to start on: the free one without overage (free), else the first.
		const start = Math.max(0, plans.findIndex((p) => Number(p.price_usd_month) === 0 && !p.overage));
		box.replaceChildren(...plans.map((p, i) => planCard(p, i === start)));
	} catch (e) {
		box.replaceChildren(el('div', { class: 'alert alert-bad', role: 'alert' },
			el('span', { class: 'icon', 'aria-hidden': 'true', text: '!' }),
			el('div', { class: 'alert-body' }, el('strong', { text: 'The plans could not load.' }),
				el('p', { text: describe(e) }),
				el('button', { class: 'btn btn-small', type: 'button', text: 'Try again', onclick: () => loadPlans() }))));
	}
	box.setAttribute('aria-busy', 'false');
}

async function header() {
	try {
		if (await currentSession()) {
			$('#nav-login').hidden = true;
			$('#nav-signup').hidden = true;
			$('#nav-dashboard').hidden = false;
		}
	} catch {
		// the API did not answer: keep the signed-out links
	}
}

loadPlans();
header();
