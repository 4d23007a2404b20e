// Forgot password: POST /v1/account/password/forgot; the answer is the same whether or not the
// address has an account, and so is the page.
import { $, emailForm } from './ui.js';

emailForm($('#forgot'), '/v1/account/password/forgot', (email) => {
	$('#sent-email').textContent = email;
	$('#form-view').hidden = true;
	$('#sent-view').hidden = false;
	$('#sent-view').focus();
});
