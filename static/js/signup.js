// Sign-up: POST /v1/account/signup, then "check your email" with a resend button.
import { api } from './api.js';
import { $, checkEmail, checkNewPassword, fieldError, onSubmit, redirectIfSignedIn, revalidate, toast, wirePasswordMeter, withBusy } from './ui.js';

const form = $('#signup');
const email = $('#email');
const password = $('#password');
revalidate(email, checkEmail);
revalidate(password, checkNewPassword);
wirePasswordMeter(password);
redirectIfSignedIn();

onSubmit(form, {
	fields: [[email, checkEmail], [password, checkNewPassword]],
	label: 'Creating your account…',
	send: async () => {
		await api('POST', '/v1/account/signup', { email: email.value.trim(), password: password.value });
		$('#sent-email').textContent = email.value.trim();
		$('#form-view').hidden = true;
		$('#sent-view').hidden = false;
		$('#sent-view').focus();
	},
	// A field the API refuses (its rules are the last word) gets the API's message inline.
	fail: (e) => {
		const input = { weak_password: password, invalid_email: email }[e.code];
		if (input)
			fieldError(input, e.message);
		return Boolean(input);
	},
});

$('#resend').addEventListener('click', (ev) => withBusy(ev.currentTarget, 'Sending…', async () => {
	await api('POST', '/v1/account/confirm/resend', { email: email.value.trim() });
	toast(`A new confirmation link is on its way to ${email.value.trim()}.`);
}));
