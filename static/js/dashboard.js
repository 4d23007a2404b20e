// The dashboard: this period's credits (used, remaining, the forecast at the period's end, when
// it ends) from GET /v1/account/usage, the chart of credits per day for 30 days (total, by key or
// by route; uPlot from /vendor/uplot), and the keys: create (the secret shown once), edit (name
// and monthly cap), revoke. Usage refreshes every 30 s while the tab is visible.
import { api, describe } from './api.js';
import {
	$, $$, busy, el, fieldError, fmtAgo, fmtDate, fmtDay, fmtIn, fmtNum, fmtTime, formError, loadError,
	periodLastDay, requireSession, setStat, showPeriodUsage, toast, withBusy,
} from './ui.js';

const DAYS = 30;
const COLORS = ['#3345d6', '#12a594', '#e5484d', '#f5a524', '#8e4ec6', '#0091ff', '#a18072', '#46a758', '#d6409f', '#5d6778'];
let usage = null;
let keys = [];
let mode = 'total';
let plot = null;

const session = await requireSession();
$('#base-url').textContent = location.origin;
showAccount(session.account);

function showAccount(a) {
	$('#unconfirmed').hidden = a.email_confirmed;
	$('#unconfirmed-email').textContent = a.email;
}

// ---- usage ---------------------------------------------------------------------------------
function showUsage(u) {
	const p = u.period;
	const pct = showPeriodUsage($('#period-line'), u.plan, p);
	setStat('remaining', fmtNum(p.remaining), p.overage > 0 ? `${fmtNum(p.overage)} credits of metered overage` : `${Math.floor(100 - pct)}% of the allowance left`);

	const runsOut = p.forecast_exhausted_at;
	setStat('forecast', fmtNum(p.forecast_used), runsOut
		? el('span', { class: 'badge badge-warn', text: `Runs out around ${fmtDay(runsOut)}` })
		: (p.forecast_used > 0 ? 'at the last 7 days\u2019 rate: within the allowance' : 'no use yet this period'));
	setStat('ends', fmtDay(periodLastDay(p)), `credits reset ${fmtIn(p.end)}, ${fmtTime(p.end)}`);

	showChart();
	showChartTable(u);
}

function showChartTable(u) {
	const rows = u.days.slice().reverse().map((d) => el('tr', {},
		el('td', { text: fmtDay(`${d.day}T00:00:00Z`) }),
		el('td', { class: 'num', text: fmtNum(d.credits) }),
		el('td', { class: 'num', text: fmtNum(d.calls) })));
	$('#chart-table tbody').replaceChildren(...rows);
}

// The series of the chosen split: [{label, values}], biggest first.
function groups(u) {
	if (mode === 'key')
		return u.by_key.map((k) => ({ label: `${k.name || 'unnamed'} (${k.prefix})`, values: k.days }));
	if (mode === 'route')
		return u.by_route.map((r) => ({ label: r.route, values: r.days }));
	return [{ label: 'Credits', values: u.days.map((d) => d.credits) }];
}

function showChart() {
	const box = $('#chart');
	const total = usage.days.reduce((s, d) => s + d.credits, 0);
	box.dataset.total = String(total);
	$('#chart-empty').hidden = total > 0;
	box.hidden = total === 0;
	if (total === 0 || typeof window.uPlot !== 'function') {
		if (plot) {
			plot.destroy();
			plot = null;
		}
		if (typeof window.uPlot !== 'function' && total > 0) {
			box.replaceChildren(el('p', { class: 'muted small', text: 'The chart library did not load; the numbers are below.' }));
			$('#chart-details').open = true;
		}
		return;
	}
	const xs = usage.days.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
	const gs = groups(usage).filter((g) => g.values.some((v) => v > 0));
	// Stacked bars: series k holds the sum of groups 0..k and is drawn before the lower ones,
	// so each group shows as its own band; the legend shows each group's own value.
	const stacked = [];
	let acc = xs.map(() => 0);
	for (const g of gs) {
		acc = acc.map((v, i) => v + (g.values[i] || 0));
		stacked.push(acc);
	}
	const order = gs.map((_, i) => i).reverse();
	const bars = window.uPlot.paths.bars({ size: [0.7, 28], gap: 1 });
	// The legend shows the hovered day's values, and the window's totals otherwise.
	const series = [{ label: 'Day', value: (u, v) => (v == null ? `last ${DAYS} days` : fmtDay(v * 1000)) }].concat(order.map((i) => ({
		label: gs[i].label,
		stroke: COLORS[i % COLORS.length],
		fill: COLORS[i % COLORS.length],
		width: 0,
		paths: bars,
		points: { show: false },
		value: (u, v, si, idx) => fmtNum(idx == null ? gs[i].values.reduce((a, b) => a + b, 0) : gs[i].values[idx] || 0),
	})));
	const data = [xs].concat(order.map((i) => stacked[i]));
	const width = Math.max(280, box.clientWidth - 32);
	const opts = {
		width,
		height: width < 500 ? 220 : 280,
		series,
		legend: { show: true, live: true },
		cursor: { points: { show: false }, drag: { x: false, y: false } },
		scales: { x: { time: true, range: (u, min, max) => [min - 43200, max + 43200] }, y: { range: (u, min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
		axes: [
			{ stroke: '#5d6778', grid: { show: false }, ticks: { stroke: '#e4e7ec' },
				values: (u, splits) => splits.map((v) => fmtDay(v * 1000)), space: 70 },
			{ stroke: '#5d6778', grid: { stroke: '#eef0f3' }, ticks: { show: false },
				values: (u, splits) => splits.map((v) => fmtNum(v)), size: 56 },
		],
	};
	if (plot)
		plot.destroy();
	box.replaceChildren();
	plot = new window.uPlot(opts, data, box);
}

let resizeTimer = null;
new ResizeObserver(() => {
	clearTimeout(resizeTimer);
	resizeTimer = setTimeout(() => {
		if (usage && plot)
			showChart();
	}, 120);
}).observe($('#chart-card'));

for (const b of $$('.chart-tabs button'))
	b.addEventListener('click', () => {
		mode = b.dataset.mode;
		for (const o of $$('.chart-tabs button'))
			o.setAttribute('aria-pressed', String(o === b));
		if (usage)
			showChart();
	});

async function loadUsage() {
	try {
		usage = await api('GET', `/v1/account/usage?days=${DAYS}`);
		$('#usage-error').replaceChildren();
		showUsage(usage);
	} catch (e) {
		if (e.status === 401)
			return; // the session ended: api.js's handler goes to the login page
		loadError($('#usage-error'), 'Usage could not load.', e);
	}
}

// ---- keys ----------------------------------------------------------------------------------
function keyRow(k) {
	const revoked = Boolean(k.revoked_at);
	const cap = k.monthly_cap;
	const usedCell = el('td', { class: 'num', 'data-label': 'Used this period', text: fmtNum(k.used_this_period) });
	const actions = revoked ? el('td', { 'data-label': '' }) : el('td', { 'data-label': '' }, el('div', { class: 'row-actions' },
		el('button', { class: 'btn btn-small btn-ghost', type: 'button', text: 'Edit', 'aria-label': `Edit key ${k.name}`, onclick: () => openEdit(k) }),
		el('button', { class: 'btn btn-small btn-ghost', type: 'button', text: 'Revoke', 'aria-label': `Revoke key ${k.name}`, onclick: () => openRevoke(k) })));
	return el('tr', { class: revoked ? 'revoked' : '', 'data-key-id': String(k.id), 'data-prefix': k.prefix },
		el('td', { class: 'first' }, el('div', { class: 'key-name', text: k.name || 'unnamed' }), el('div', { class: 'key-prefix', text: `${k.prefix}…` })),
		el('td', { 'data-label': 'Created', title: fmtTime(k.created_at), text: fmtDate(k.created_at) }),
		el('td', { 'data-label': 'Last used', title: k.last_used_at ? fmtTime(k.last_used_at) : '', text: k.last_used_at ? fmtAgo(k.last_used_at) : 'Never' }),
		usedCell,
		el('td', { 'data-label': 'Cap', class: 'num', text: cap ? fmtNum(cap) : 'None' }),
		el('td', { 'data-label': 'Status' }, revoked
			? el('span', { class: 'badge badge-bad', title: fmtTime(k.revoked_at), text: 'Revoked' })
			: cap && k.used_this_period >= cap
				? el('span', { class: 'badge badge-warn', title: 'Refused (429 key_cap_reached) until the period ends or the cap is raised', text: 'Cap reached' })
				: el('span', { class: 'badge badge-ok', text: 'Active' })),
		actions);
}

function showKeys() {
	const box = $('#keys-box');
	if (keys.length === 0) {
		box.replaceChildren(el('div', { class: 'empty' },
			el('div', { class: 'empty-icon', 'aria-hidden': 'true', text: '⚿' }),
			el('h3', { text: 'No API keys yet' }),
			el('p', { text: 'A key lets your scripts call the data API. Give it a name that says where it runs.' }),
			el('button', { class: 'btn btn-primary', type: 'button', text: 'Create your first key', onclick: () => $('#key-name').focus() })));
		return;
	}
	const head = el('thead', {}, el('tr', {},
		...['Name', 'Created', 'Last used', 'Used this period', 'Cap', 'Status'].map((t, i) => el('th', { scope: 'col', class: i === 3 || i === 4 ? 'num' : '', text: t })),
		el('th', { scope: 'col' }, el('span', { class: 'sr-only', text: 'Actions' }))));
	box.replaceChildren(el('div', { class: 'table-wrap' },
		el('table', { class: 'data stack-s', id: 'keys-table' }, el('caption', { class: 'sr-only', text: 'Your API keys' }),
			head, el('tbody', {}, keys.map(keyRow)))));
}

async function loadKeys() {
	try {
		keys = (await api('GET', '/v1/account/keys')).keys;
		showKeys();
	} catch (e) {
		if (e.status === 401)
			return;
		const body = el('div', { class: 'card-body' });
		loadError(body, 'Your keys could not load.', e);
		$('#keys-box').replaceChildren(body);
	}
}

function capValue(input) {
	const v = input.value.trim();
	if (v === '')
		return { ok: true, cap: null };
	const n = Number(v);
	if (!Number.isInteger(n) || n < 1 || n > 2147483647) {
		fieldError(input, 'A whole number of credits, 1 or more (or empty for no cap).');
		return { ok: false };
	}
	fieldError(input, '');
	return { ok: true, cap: n };
}

function checkName(input) {
	const v = input.value.trim();
	if (!v)
		return fieldError(input, 'Name the key, e.g. where it runs.');
	if (v.length > 100)
		return fieldError(input, 'At most 100 characters.');
	return fieldError(input, '');
}

$('#key-name').addEventListener('input', (e) => e.target.getAttribute('aria-invalid') && checkName(e.target));
$('#create-key').addEventListener('submit', async (ev) => {
	ev.preventDefault();
	const name = $('#key-name');
	const capIn = $('#key-cap');
	const okName = checkName(name);
	const cap = capValue(capIn);
	if (!okName || !cap.ok) {
		(okName ? capIn : name).focus();
		return;
	}
	await withBusy($('#create-key-btn'), 'Creating…', async () => {
		const body = { name: name.value.trim() };
		if (cap.cap !== null)
			body.monthly_cap = cap.cap;
		const r = await api('POST', '/v1/account/keys', body);
		name.value = '';
		capIn.value = '';
		showSecret(r.key, r.secret);
		await loadKeys();
	});
});

function showSecret(key, secret) {
	const d = $('#secret-dialog');
	$('#secret-name').textContent = `“${key.name}”`;
	$('#secret-value').textContent = secret;
	$('#secret-example').textContent = `curl -H "X-API-Key: ${secret}" ${location.origin}/v1/markets`;
	$('#copy-secret').textContent = 'Copy';
	d.showModal();
	$('#copy-secret').focus();
}

$('#copy-secret').addEventListener('click', async () => {
	const secret = $('#secret-value').textContent;
	try {
		await navigator.clipboard.writeText(secret);
		$('#copy-secret').textContent = 'Copied';
		toast('Key copied to the clipboard.');
	} catch {
		// No clipboard permission: select the key so Ctrl+C copies it.
		const r = document.createRange();
		r.selectNodeContents($('#secret-value'));
		const sel = getSelection();
		sel.removeAllRanges();
		sel.addRange(r);
		toast('Press Ctrl+C (or ⌘C) to copy the selected key.', 'bad');
	}
});
// The secret leaves the page once the dialog closes: at once on Done (the dialog's close event
// is a task queued after close(), so a script or test reading the page right after the click
// could still see it: CI 2026-12-05), and on the close event for Escape.
function forgetSecret() {
	$('#secret-value').textContent = '';
	$('#secret-example').textContent = '';
}
$('#secret-done').addEventListener('click', () => {
	forgetSecret();
	$('#secret-dialog').close();
});
$('#secret-dialog').addEventListener('close', () => {
	forgetSecret();
	$('#key-name').focus();
});

// Edit: name and monthly cap.
let editing = null;
function openEdit(k) {
	editing = k;
	const f = $('#edit-form');
	formError(f, '');
	$('#edit-prefix').textContent = `${k.prefix}…`;
	$('#edit-name').value = k.name;
	$('#edit-cap').value = k.monthly_cap ?? '';
	fieldError($('#edit-name'), '');
	fieldError($('#edit-cap'), '');
	$('#edit-dialog').showModal();
	$('#edit-name').focus();
}
$('#edit-cancel').addEventListener('click', () => $('#edit-dialog').close());
$('#edit-form').addEventListener('submit', async (ev) => {
	ev.preventDefault();
	const f = $('#edit-form');
	const okName = checkName($('#edit-name'));
	const cap = capValue($('#edit-cap'));
	if (!okName || !cap.ok)
		return;
	const body = {};
	if ($('#edit-name').value.trim() !== editing.name)
		body.name = $('#edit-name').value.trim();
	if (cap.cap !== editing.monthly_cap)
		body.monthly_cap = cap.cap;
	if (Object.keys(body).length === 0) {
		$('#edit-dialog').close();
		return;
	}
	const button = $('#edit-save');
	busy(button, true, 'Saving…');
	try {
		await api('PATCH', `/v1/account/keys/${editing.id}`, body);
		$('#edit-dialog').close();
		toast(`Key “${body.name ?? editing.name}” saved.`);
		await loadKeys();
	} catch (e) {
		formError(f, describe(e));
	} finally {
		busy(button, false);
	}
});

// Revoke, after a confirmation.
let revoking = null;
function openRevoke(k) {
	revoking = k;
	$('#revoke-name').textContent = k.name || 'this key';
	$('#revoke-prefix').textContent = `${k.prefix}…`;
	$('#revoke-dialog').showModal();
	$('#revoke-cancel').focus();
}
$('#revoke-cancel').addEventListener('click', () => $('#revoke-dialog').close());
$('#revoke-confirm').addEventListener('click', () => withBusy($('#revoke-confirm'), 'Revoking…', async () => {
	await api('DELETE', `/v1/account/keys/${revoking.id}`);
	$('#revoke-dialog').close();
	toast(`Key “${revoking.name}” revoked.`);
	await loadKeys();
}));

$('#resend').addEventListener('click', (ev) => withBusy(ev.currentTarget, 'Sending…', async () => {
	await api('POST', '/v1/account/confirm/resend', { email: session.account.email });
	toast(`A new link is on its way to ${session.account.email}.`);
}));

async function refresh() {
	const b = $('#refresh');
	busy(b, true);
	await Promise.all([loadUsage(), loadKeys()]);
	busy(b, false);
}
$('#refresh').addEventListener('click', refresh);
setInterval(() => {
	if (document.visibilityState === 'visible' && !document.querySelector('dialog[open]'))
		loadUsage();
}, 30000);
await refresh();
