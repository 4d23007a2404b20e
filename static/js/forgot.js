// Forgot password: POST /v1/account/password/forgot; the answer is the same whether or not the
// address has an account, and so is the page.
import { api, describe } from './api.js';
import { $, busy, checkEmail, formError, revalidate } from './ui.js';

const form = $('#forgot');
const email = $('#email');
revalidate(email, checkEmail);
form.addEventListener('submit', async (ev) => {
	ev.preventDefault();
	formError(form, '');
	if (!checkEmail(email)) {
		email.focus();
		return;
	}
	const button = $('button[type=submit]', form);
	busy(button, true, 'Sending…');
	try {
		await api('POST', '/v1/account/password/forgot', { email: email.value.trim() });
		$('#sent-email').textContent = email.value.trim();
		$('#form-view').hidden = true;
		$('#sent-view').hidden = false;
		$('#sent-view').focus();
	} catch (e) {
		formError(form, describe(e));
	} finally {
		busy(button, false);
	}
});
