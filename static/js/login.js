// Log in: POST /v1/session (the cookie is set by the answer), then on to ?next= or the dashboard.
import { api } from './api.js';
import { $, checkEmail, checkRequired, el, onSubmit, redirectIfSignedIn, revalidate, safeNext } from './ui.js';

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

onSubmit(form, {
	fields: [[email, checkEmail], [password, checkPw]],
	label: 'Logging in…',
	leaves: true,
	send: async () => {
		await api('POST', '/v1/session', { email: email.value.trim(), password: password.value });
		location.assign(next);
	},
	fail: (e) => {
		if (e.code === 'invalid_credentials') {
			password.value = '';
			password.focus();
		}
		return false; // and the message above the form
	},
});
