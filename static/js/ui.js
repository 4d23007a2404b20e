// What every page shares: toasts, busy buttons, inline field errors, the formats of numbers and
// times, and the signed-in header (session check, log out).
import { api, currentSession, describe, forgetSession, onSessionLost } from './api.js';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 1024;

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

// Builds an element: el('td', {class: 'num', text: '12'}, child...). Text goes through
// textContent, never innerHTML, so nothing from the API is ever parsed as markup.
export function el(tag, attrs = {}, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k === 'text')
			e.textContent = v;
		else if (k === 'class')
			e.className = v;
		else if (k.startsWith('on'))
			e.addEventListener(k.slice(2), v);
		else
			e.setAttribute(k, v === true ? '' : v);
	}
	for (const c of children.flat())
		if (c !== null && c !== undefined && c !== false)
			e.append(c);
	return e;
}

export function toast(message, kind = 'ok') {
	let box = $('#toasts');
	if (!box) {
		box = el('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
		document.body.append(box);
	}
	const t = el('div', { class: `toast ${kind}` }, el('span', { class: 'dot', 'aria-hidden': 'true' }),
		el('span', { text: message }));
	box.append(t);
	setTimeout(() => t.remove(), kind === 'bad' ? 8000 : 4500);
}

export function busy(button, on, label) {
	if (!button)
		return;
	if (on) {
		button.dataset.label = button.dataset.label || button.lastChild.textContent;
		button.disabled = true;
		button.setAttribute('aria-busy', 'true');
		if (label)
			button.lastChild.textContent = label;
	} else {
		button.disabled = false;
		button.removeAttribute('aria-busy');
		if (button.dataset.label)
			button.lastChild.textContent = button.dataset.label;
	}
}

// Inline errors: each input has a sibling <p class="field-error" id="INPUTID-error">.
export function fieldError(input, message) {
	const p = document.getElementById(`${input.id}-error`);
	if (message) {
		input.setAttribute('aria-invalid', 'true');
		if (p)
			p.textContent = message;
	} else {
		input.removeAttribute('aria-invalid');
		if (p)
			p.textContent = '';
	}
	return !message;
}

export function formError(form, message, kind = 'bad') {
	const box = $('.form-error', form);
	if (!box)
		return;
	box.replaceChildren();
	if (!message)
		return;
	box.append(el('div', { class: `alert alert-${kind}`, role: 'alert' },
		el('span', { class: 'icon', 'aria-hidden': 'true', text: kind === 'bad' ? '!' : 'i' }),
		el('div', { class: 'alert-body', text: message })));
}

export function checkEmail(input) {
	const v = input.value.trim();
	if (!v)
		return fieldError(input, 'Enter your email address.');
	if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v))
		return fieldError(input, 'Enter an email address like name@example.com.');
	return fieldError(input, '');
}

export function checkNewPassword(input) {
	const v = input.value;
	if (!v)
		return fieldError(input, 'Choose a password.');
	if (v.length < PASSWORD_MIN)
		return fieldError(input, `Use at least ${PASSWORD_MIN} characters (${v.length} so far).`);
	if (v.length > PASSWORD_MAX)
		return fieldError(input, `Use at most ${PASSWORD_MAX} characters.`);
	return fieldError(input, '');
}

export function checkRequired(input, message) {
	return fieldError(input, input.value ? '' : message);
}

// A rough strength score 0..4 for the meter under a new password (length and character kinds).
export function passwordScore(v) {
	if (!v)
		return 0;
	let kinds = 0;
	for (const re of [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/])
		if (re.test(v))
			kinds++;
	if (v.length < PASSWORD_MIN)
		return 1;
	if (v.length >= 16 && kinds >= 3)
		return 4;
	if (v.length >= 12 || kinds >= 3)
		return 3;
	return 2;
}

export function wirePasswordMeter(input) {
	const meter = document.getElementById(`${input.id}-meter`);
	if (!meter)
		return;
	input.addEventListener('input', () => {
		meter.dataset.score = String(passwordScore(input.value));
		if (input.getAttribute('aria-invalid') === 'true')
			checkNewPassword(input);
	});
}

// Shows the one section of `views` (selectors) that is `id` and hides the others; one other than
// the first (the one the page opens on) takes the focus, so that a screen reader reads it.
export function showOnly(views, id) {
	for (const v of views)
		$(v).hidden = v !== id;
	if (id !== views[0])
		$(id).focus();
}

// Re-checks a field as the user fixes it, once it has shown an error.
export function revalidate(input, check) {
	input.addEventListener('input', () => {
		if (input.getAttribute('aria-invalid') === 'true')
			check(input);
	});
	input.addEventListener('blur', () => {
		if (input.value)
			check(input);
	});
}

// A form's submit, as every form of the site does it: the fields checked in order, each
// [input, check] (all of them, so every error shows; the first that fails takes the focus and
// nothing is sent), the form's error cleared, the button busy with `label` while `send()` runs.
// An error `send` throws goes to `fail(e)` when given, which returns true when it showed the
// error itself (inline on a field); else it shows above the form. With `leaves` the page is
// going elsewhere on success, so the button stays busy (no second submit meanwhile).
export function onSubmit(form, { fields = [], label, send, fail = null, button = null, leaves = false }) {
	form.addEventListener('submit', async (ev) => {
		ev.preventDefault();
		formError(form, '');
		const ok = fields.map(([input, check]) => check(input));
		if (ok.includes(false)) {
			fields[ok.indexOf(false)][0].focus();
			return;
		}
		const b = button || $('button[type=submit]', form);
		busy(b, true, label);
		try {
			await send();
			if (leaves)
				return;
		} catch (e) {
			if (!(fail && fail(e)))
				formError(form, describe(e));
		}
		busy(b, false);
	});
}

// The form of the pages that only ask for an address (#email in `form`, forgot and confirm's
// resend): checked as it is typed once wrong, then POSTed as {email} to `path`; `done(email)`
// shows the answer.
export function emailForm(form, path, done) {
	const email = $('#email', form);
	revalidate(email, checkEmail);
	onSubmit(form, {
		fields: [[email, checkEmail]],
		label: 'Sending…',
		send: async () => {
			const v = email.value.trim();
			await api('POST', path, { email: v });
			done(v);
		},
	});
}

// A button's action: `button` busy with `label` while `action()` runs; an error it throws is a
// toast.
export async function withBusy(button, label, action) {
	busy(button, true, label);
	try {
		await action();
	} catch (e) {
		toast(describe(e), 'bad');
	} finally {
		busy(button, false);
	}
}

// A part of a page that could not load, in place of that part (`box`): the title, the API's
// error, and `extra` (a "Try again" button) after them.
export function loadError(box, title, e, ...extra) {
	box.replaceChildren(el('div', { class: 'alert alert-bad', role: 'alert' },
		el('span', { class: 'icon', 'aria-hidden': 'true', text: '!' }),
		el('div', { class: 'alert-body' }, el('strong', { text: title }), el('p', { text: describe(e) })),
		...extra));
}

// The stat cards of the dashboard and billing pages: #ID-value and #ID-sub (text or elements).
export function setStat(id, value, sub) {
	$(`#${id}-value`).replaceChildren(value);
	$(`#${id}-sub`).replaceChildren(...[].concat(sub));
}

// The last instant of a billing period (its end is exclusive), for "to Dec 31".
export const periodLastDay = (p) => new Date(new Date(p.end).getTime() - 1);

// What the dashboard and billing pages both show of the period `p` (GET /v1/account/usage and
// /billing answer the same period object): the period in `line`, the plan's badge, and the
// "Credits used" card with a meter of the allowance (warn from 80 %, bad at 100 %). Returns the
// share of the allowance used, in percent (0 to 100).
export function showPeriodUsage(line, plan, p) {
	line.textContent = `Billing period ${fmtDate(p.start)} to ${fmtDate(periodLastDay(p))} (UTC)`;
	const badge = $('#plan-badge');
	badge.textContent = `${plan} plan`;
	badge.hidden = false;
	const pct = p.allowance > 0 ? Math.min(100, (100 * p.used) / p.allowance) : 0;
	const meter = el('div', { class: `meter${pct >= 100 ? ' bad' : pct >= 80 ? ' warn' : ''}`, role: 'progressbar',
		'aria-label': 'Share of the allowance used', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct)) },
	el('span'));
	meter.firstChild.style.width = `${pct}%`;
	setStat('used', fmtNum(p.used), [`of ${fmtNum(p.allowance)} this period`, meter]);
	return pct;
}

const numFmt = new Intl.NumberFormat('en-US');
export const fmtNum = (n) => numFmt.format(n);

const dateFmt = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
const dayFmt = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
const timeFmt = new Intl.DateTimeFormat('en-US', {
	month: 'short', day: 'numeric', year: 'numeric', hour: '2-digit', minute: '2-digit',
	hour12: false, timeZone: 'UTC', timeZoneName: 'short',
});
export const fmtDate = (t) => dateFmt.format(new Date(t));
export const fmtDay = (t) => dayFmt.format(new Date(t));
export const fmtTime = (t) => timeFmt.format(new Date(t));

export function fmtAgo(t, now = Date.now()) {
	const s = Math.round((now - new Date(t).getTime()) / 1000);
	if (s < 45)
		return 'just now';
	const steps = [[60, 'minute'], [3600, 'hour'], [86400, 'day'], [86400 * 30, 'month'], [86400 * 365, 'year']];
	let unit = 'minute', size = 60;
	for (const [sz, u] of steps)
		if (s >= sz) {
			unit = u;
			size = sz;
		}
	const n = Math.max(1, Math.round(s / size));
	return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
}

export function fmtIn(t, now = Date.now()) {
	const days = Math.ceil((new Date(t).getTime() - now) / 86400000);
	if (days <= 0)
		return 'today';
	return days === 1 ? 'in 1 day' : `in ${days} days`;
}

// The signed-in pages: asks for the session, sends a visitor without one to the login page
// (coming back here afterwards), fills the header's account menu and wires "Log out".
export async function requireSession() {
	let s;
	try {
		s = await currentSession();
	} catch (e) {
		showFatal(describe(e));
		throw e;
	}
	if (!s) {
		location.replace(`/login?next=${encodeURIComponent(location.pathname)}`);
		// The page is going away: nothing more of it runs.
		await new Promise(() => {});
	}
	onSessionLost(() => location.assign(`/login?expired=1&next=${encodeURIComponent(location.pathname)}`));
	const who = $('#nav-email');
	if (who)
		who.textContent = s.account.email;
	const out = $('#logout');
	if (out)
		out.addEventListener('click', logout);
	return s;
}

// DELETE /v1/session, then the login page (a session already gone counts as logged out).
export async function logout() {
	try {
		await api('DELETE', '/v1/session');
	} catch (e) {
		if (e.status !== 401) {
			toast(describe(e), 'bad');
			return;
		}
	}
	forgetSession();
	location.assign('/login?signed_out=1');
}

// Whole-page failure (the API did not answer): one alert in place of the content.
export function showFatal(message) {
	const main = $('main');
	if (!main)
		return;
	main.replaceChildren(el('div', { class: 'container' },
		el('div', { class: 'alert alert-bad', role: 'alert' },
			el('span', { class: 'icon', 'aria-hidden': 'true', text: '!' }),
			el('div', { class: 'alert-body' }, el('strong', { text: 'This page could not load.' }),
				el('p', { text: message }),
				el('button', { class: 'btn btn-small', type: 'button', text: 'Try again', onclick: () => location.reload() })))));
}

// For pages a signed-in visitor has no use for (log in, sign up): straight to the dashboard.
export async function redirectIfSignedIn(to = '/dashboard') {
	try {
		if (await currentSession())
			location.replace(to);
	} catch {
		// no answer: stay on the page, the form reports errors itself
	}
}

// A same-site path to return to after logging in (never another host).
export function safeNext(param) {
	return param && /^\/[a-z]/.test(param) && !param.startsWith('//') ? param : '/dashboard';
}
