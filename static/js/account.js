// The account page: the profile, change password (other sessions end), log out every other
// session, log out, and delete the account (asks the password; keys are revoked at once).
import { api, describe, forgetSession } from './api.js';
import {
	$, busy, checkNewPassword, checkRequired, el, fieldError, fmtDate, fmtTime, formError, logout,
	requireSession, revalidate, toast, wirePasswordMeter,
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
pwForm.addEventListener('submit', async (ev) => {
	ev.preventDefault();
	formError(pwForm, '');
	const ok = [checkOld(oldPw), checkNewPassword(newPw)];
	if (ok.includes(false)) {
		(ok[0] ? newPw : oldPw).focus();
		return;
	}
	const b = $('#pw-save');
	busy(b, true, 'Changing…');
	try {
		await api('POST', '/v1/account/password', { old_password: oldPw.value, new_password: newPw.value });
		oldPw.value = '';
		newPw.value = '';
		$('#new-password-meter').dataset.score = '0';
		toast('Password changed. Your other sessions have ended.');
	} catch (e) {
		if (e.code === 'invalid_credentials') {
			fieldError(oldPw, 'This is not your current password.');
			oldPw.focus();
		} else if (e.code === 'weak_password') {
			fieldError(newPw, e.message);
		} else {
			formError(pwForm, describe(e));
		}
	} finally {
		busy(b, false);
	}
});

// sessions
$('#revoke-others').addEventListener('click', async (ev) => {
	const b = ev.currentTarget;
	busy(b, true, 'Logging out…');
	try {
		const r = await api('POST', '/v1/session/others/revoke');
		const n = r.revoked;
		toast(n === 0 ? 'No other session was open.' : `${n} other session${n === 1 ? '' : 's'} logged out.`);
	} catch (e) {
		toast(describe(e), 'bad');
	} finally {
		busy(b, false);
	}
});
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
delForm.addEventListener('submit', async (ev) => {
	ev.preventDefault();
	formError(delForm, '');
	if (!checkRequired(delPw, 'Enter your password to confirm.')) {
		delPw.focus();
		return;
	}
	const b = $('#delete-confirm');
	busy(b, true, 'Deleting…');
	try {
		await api('POST', '/v1/account/delete', { password: delPw.value });
		forgetSession();
		location.assign('/login?deleted=1');
	} catch (e) {
		if (e.code === 'invalid_credentials')
			fieldError(delPw, 'This is not your password.');
		else
			formError(delForm, describe(e));
		busy(b, false);
	}
});
