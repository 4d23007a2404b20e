// The link of the reset mail: /reset?token=... asks for the new password twice and POSTs it with
// the token; every session of the account ends.
import { api, describe } from './api.js';
import { $, busy, checkNewPassword, fieldError, formError, revalidate, wirePasswordMeter } from './ui.js';

function show(id) {
	for (const v of ['#form-view', '#ok-view', '#bad-view'])
		$(v).hidden = v !== id;
	if (id !== '#form-view')
		$(id).focus();
}

const token = new URLSearchParams(location.search).get('token');
history.replaceState(null, '', '/reset');
if (!token)
	show('#bad-view');

const form = $('#reset');
const pw = $('#password');
const pw2 = $('#password2');
const same = () => fieldError(pw2, pw2.value === pw.value ? '' : 'The two passwords differ.');
revalidate(pw, checkNewPassword);
revalidate(pw2, same);
wirePasswordMeter(pw);

form.addEventListener('submit', async (ev) => {
	ev.preventDefault();
	formError(form, '');
	const ok = [checkNewPassword(pw), same()];
	if (ok.includes(false)) {
		(ok[0] ? pw2 : pw).focus();
		return;
	}
	const button = $('button[type=submit]', form);
	busy(button, true, 'Saving…');
	try {
		await api('POST', '/v1/account/password/reset', { token, new_password: pw.value });
		show('#ok-view');
	} catch (e) {
		if (e.code === 'invalid_token')
			show('#bad-view');
		else if (e.code === 'weak_password')
			fieldError(pw, e.message);
		else
			formError(form, describe(e));
	} finally {
		busy(button, false);
	}
});
