// The account page: the profile, change password (other sessions end), log out every other
// session, log out, and delete the account (asks the password; keys are revoked at once).
import { api, forgetSession } from './api.js';
import {
	$, checkNewPassword, checkRequired, el, fieldError, fmtDate, fmtTime, formError, logout,
	onSubmit, requireSession, revalidate, toast, wirePasswordMeter, withBusy,
} from './ui.js';

const s = await requireSession();
const a = s.account;
$('#p-email').textContent = a.email;
$('#p-confirmed').replaceChildren(a.email_confirmed
	? el('span', { class: 'badge badge-ok', text: 'Confirmed' })
	: el('span', { class: 'badge badge-warn', text: 'Not confirmed' }));
$('#p-plan').textContent = a.plan;
$('#p-created').textContent = fmtDate(a.created_at);
$('#session-line').textContent = s.session
	? `This session started ${fmtTime(s.session.created_at)} and ends ${fmtTime(s.session.expires_at)} unless you log out.`
	: 'You are logged in.';
$('#del-email').textContent = a.email;

// change password
const pwForm = $('#password-form');
const oldPw = $('#old-password');
const newPw = $('#new-password');
const checkOld = (i) => checkRequired(i, 'Enter your current password.');
revalidate(oldPw, checkOld);
revalidate(newPw, checkNewPassword);
wirePasswordMeter(newPw);
onSubmit(pwForm, {
	fields: [[oldPw, checkOld], [newPw, checkNewPassword]],
	label: 'Changing…',
	send: async () => {
		await api('POST', '/v1/account/password', { old_password: oldPw.value, new_password: newPw.value });
		oldPw.value = '';
		newPw.value = '';
		$('#new-password-meter').dataset.score = '0';
		toast('Password changed. Your other sessions have ended.');
	},
	fail: (e) => {
		if (e.code === 'invalid_credentials') {
			fieldError(oldPw, 'This is not your current password.');
			oldPw.focus();
		} else if (e.code === 'weak_password') {
			fieldError(newPw, e.message);
		} else {
			return false;
		}
		return true;
	},
});

// sessions
$('#revoke-others').addEventListener('click', (ev) => withBusy(ev.currentTarget, 'Logging out…', async () => {
	const n = (await api('POST', '/v1/session/others/revoke')).revoked;
	toast(n === 0 ? 'No other session was open.' : `${n} other session${n === 1 ? '' : 's'} logged out.`);
}));
$('#logout-here').addEventListener('click', logout);

// delete
const dlg = $('#delete-dialog');
const delForm = $('#delete-form');
const delPw = $('#del-password');
$('#delete-open').addEventListener('click', () => {
	formError(delForm, '');
	fieldError(delPw, '');
	delPw.value = '';
	dlg.showModal();
	delPw.focus();
});
$('#delete-cancel').addEventListener('click', () => dlg.close());
onSubmit(delForm, {
	fields: [[delPw, (i) => checkRequired(i, 'Enter your password to confirm.')]],
	label: 'Deleting…',
	leaves: true,
	send: async () => {
		await api('POST', '/v1/account/delete', { password: delPw.value });
		forgetSession();
		location.assign('/login?deleted=1');
	},
	fail: (e) => {
		if (e.code !== 'invalid_credentials')
			return false;
		fieldError(delPw, 'This is not your password.');
		return true;
	},
});
