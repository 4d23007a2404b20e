// Sign-up: POST /v1/account/signup, then "check your email" with a resend button.
import { api, describe } from './api.js';
import { $, busy, checkEmail, checkNewPassword, fieldError, formError, redirectIfSignedIn, revalidate, toast, wirePasswordMeter } from './ui.js';

const form = $('#signup');
const email = $('#email');
const password = $('#password');
revalidate(email, checkEmail);
revalidate(password, checkNewPassword);
wirePasswordMeter(password);
redirectIfSignedIn();

form.addEventListener('submit', async (ev) => {
	ev.preventDefault();
	formError(form, '');
	const ok = [checkEmail(email), checkNewPassword(password)];
	if (ok.includes(false)) {
		(ok[0] ? password : email).focus();
		return;
	}
	const button = $('button[type=submit]', form);
	busy(button, true, 'Creating your account…');
	try {
		await api('POST', '/v1/account/signup', { email: email.value.trim(), password: password.value });
		$('#sent-email').textContent = email.value.trim();
		$('#form-view').hidden = true;
		$('#sent-view').hidden = false;
		$('#sent-view').focus();
	} catch (e) {
		// A field the API refuses (its rules are the last word) gets the API's message inline.
		if (e.code === 'weak_password')
			fieldError(password, e.message);
		else if (e.code === 'invalid_email')
			fieldError(email, e.message);
		else
			formError(form, describe(e));
	} finally {
		busy(button, false);
	}
});

$('#resend').addEventListener('click', async (ev) => {
	const button = ev.currentTarget;
	busy(button, true, 'Sending…');
	try {
		await api('POST', '/v1/account/confirm/resend', { email: email.value.trim() });
		toast(`A new confirmation link is on its way to ${email.value.trim()}.`);
	} catch (e) {
		toast(describe(e), 'bad');
	} finally {
		busy(button, false);
	}
});
