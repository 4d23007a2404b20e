// The site's one client of the JSON API: the same routes scripts call (docs/api.md), with the
// session cookie and, on every state-changing request, the X-CSRF-Token header whose value the
// login answer and GET /v1/session carry. Errors become ApiError with the API's stable code.

let csrfToken = null;
let sessionLost = null;

// A signed-in page's handler for a session that ended under it (logged out elsewhere, expired):
// the 401 of any later call runs it once.
export function onSessionLost(fn) {
	sessionLost = fn;
}

export class ApiError extends Error {
	constructor(status, code, message, retryAfter, requestId) {
		super(message);
		this.status = status;
		this.code = code;
		this.retryAfter = retryAfter;
		this.requestId = requestId;
	}
}

// What a person reads for the codes the pages meet; anything else shows the API's own message.
const MESSAGES = {
	network_error: 'Cannot reach kbook. Check your connection and try again.',
	invalid_credentials: 'That email and password do not match an account.',
	invalid_token: 'This link is invalid, already used or expired.',
	session_required: 'Your session has ended. Log in again.',
	session_expired: 'Your session has expired. Log in again.',
	csrf_failed: 'The page is out of date. Reload it and try again.',
	service_unavailable: 'kbook is not answering right now. Try again in a few seconds.',
	internal_error: 'Something went wrong on our side. Try again.',
	too_many_requests: 'Too many requests. Wait a moment and try again.',
};

export function describe(err) {
	if (err.code === 'too_many_attempts') {
		const s = Number(err.retryAfter);
		const wait = s >= 120 ? `${Math.ceil(s / 60)} minutes` : s === 1 ? '1 second' : s > 0 ? `${s} seconds` : 'a while';
		return `Too many attempts. Try again in ${wait}.`;
	}
	return MESSAGES[err.code] || err.message || 'Something went wrong. Try again.';
}

export async function api(method, path, body) {
	const headers = { Accept: 'application/json' };
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	if (method !== 'GET' && csrfToken)
		headers['X-CSRF-Token'] = csrfToken;
	let r;
	try {
		r = await fetch(path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			credentials: 'same-origin',
			cache: 'no-store',
		});
	} catch {
		throw new ApiError(0, 'network_error', MESSAGES.network_error);
	}
	let data = null;
	if (r.status !== 204) {
		try {
			data = await r.json();
		} catch {
			data = null;
		}
	}
	if (!r.ok) {
		const e = (data && data.error) || {};
		if (r.status === 401 && sessionLost && (e.code === 'session_required' || e.code === 'session_expired')) {
			const fn = sessionLost;
			sessionLost = null;
			fn();
		}
		throw new ApiError(r.status, e.code || `http_${r.status}`, e.message || `HTTP ${r.status}`,
			r.headers.get('Retry-After'), data && data.request_id);
	}
	if (data && typeof data.csrf_token === 'string')
		csrfToken = data.csrf_token;
	return data;
}

// The signed-in session, or null when there is none (401).
export async function currentSession() {
	try {
		return await api('GET', '/v1/session');
	} catch (e) {
		if (e.status === 401)
			return null;
		throw e;
	}
}

export function forgetSession() {
	csrfToken = null;
}
