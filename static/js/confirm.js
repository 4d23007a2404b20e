// The link of the confirmation mail: /confirm?token=... POSTs the token at once (a mail scanner
// that only fetches the page confirms nothing: it runs no script). A bad link offers a new one.
import { api, currentSession, describe } from './api.js';
import { $, emailForm, formError, showOnly, toast } from './ui.js';

const show = (id) => showOnly(['#busy-view', '#ok-view', '#bad-view'], id);

const token = new URLSearchParams(location.search).get('token');
// The token leaves the address bar (and so the history) once read.
history.replaceState(null, '', '/confirm');
if (!token) {
	show('#bad-view');
} else {
	try {
		await api('POST', '/v1/account/confirm', { token });
		show('#ok-view');
	} catch (e) {
		// A link opened twice: if this browser is logged in to a confirmed account, say so.
		const s = e.code === 'invalid_token' ? await currentSession().catch(() => null) : null;
		if (s && s.account.email_confirmed) {
			$('#ok-title').textContent = 'Email already confirmed';
			show('#ok-view');
		} else {
			if (e.code !== 'invalid_token')
				$('#bad-text').textContent = describe(e);
			show('#bad-view');
		}
	}
}

const form = $('#resend');
emailForm(form, '/v1/account/confirm/resend', (email) => {
	formError(form, `If ${email} has an unconfirmed account, a new link is on its way.`, 'ok');
	toast('Confirmation link sent.');
});
