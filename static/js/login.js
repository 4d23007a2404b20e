// Log in: POST /v1/session (the cookie is set by the answer), then on to ?next= or the dashboard.
import { api, describe } from './api.js';
import { $, busy, checkEmail, checkRequired, el, formError, redirectIfSignedIn, revalidate, safeNext } from './ui.js';

const form = $('#login');
const email = $('#email');
const password = $('#password');
const params = new URLSearchParams(location.search);
const next = safeNext(params.get('next'));
const checkPw = (i) => checkRequired(i, 'Enter your password.');
revalidate(email, checkEmail);
revalidate(password, checkPw);
redirectIfSignedIn(next);

const notices = {
	signed_out: ['info', 'You are logged out.'],
	reset: ['ok', 'Password changed. Log in with your new password.'],
	deleted: ['info', 'Your account is deleted and its keys are revoked.'],
	changed: ['ok', 'Password changed. Log in again with the new one.'],
	expired: ['info', 'Your session ended (logged out elsewhere, or it expired). Log in again.'],
};
for (const [k, [kind, text]] of Object.entries(notices))
	if (params.has(k))
		$('#notice').append(el('div', { class: `alert alert-${kind}`, role: 'status' },
			el('span', { class: 'icon', 'aria-hidden': 'true', text: kind === 'ok' ? '✓' : 'i' }),
			el('div', { class: 'alert-body', text })));
if (params.has('next') && !params.has('expired'))
	$('#notice').append(el('div', { class: 'alert alert-info', role: 'status' },
		el('span', { class: 'icon', 'aria-hidden': 'true', text: 'i' }),
		el('div', { class: 'alert-body', text: 'Log in to continue.' })));

form.addEventListener('submit', async (ev) => {
	ev.preventDefault();
	formError(form, '');
	const ok = [checkEmail(email), checkPw(password)];
	if (ok.includes(false)) {
		(ok[0] ? password : email).focus();
		return;
	}
	const button = $('button[type=submit]', form);
	busy(button, true, 'Logging in…');
	try {
		await api('POST', '/v1/session', { email: email.value.trim(), password: password.value });
		location.assign(next);
	} catch (e) {
		formError(form, describe(e));
		if (e.code === 'invalid_credentials') {
			password.value = '';
			password.focus();
		}
		busy(button, false);
	}
});
