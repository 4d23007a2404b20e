// The link of the reset mail: /reset?token=... asks for the new password twice and POSTs it with
// the token; every session of the account ends.
import { api } from './api.js';
import { $, checkNewPassword, fieldError, onSubmit, revalidate, showOnly, wirePasswordMeter } from './ui.js';

const show = (id) => showOnly(['#form-view', '#ok-view', '#bad-view'], id);

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

onSubmit(form, {
	fields: [[pw, checkNewPassword], [pw2, same]],
	label: 'Saving…',
	send: async () => {
		await api('POST', '/v1/account/password/reset', { token, new_password: pw.value });
		show('#ok-view');
	},
	fail: (e) => {
		if (e.code === 'invalid_token')
			show('#bad-view');
		else if (e.code === 'weak_password')
			fieldError(pw, e.message);
		else
			return false;
		return true;
	},
});
