/*
 * auth: verifying Kalshi's signed requests (KALSHI.md section 2) on the WebSocket upgrade and
 * on REST. The three KALSHI-ACCESS-* headers must all be present; the timestamp must be decimal
 * milliseconds within --ts-window-ms of the sim's clock; the key id must match --key-id when one
 * is configured; and the signature must verify (RSA-PSS, lib/kauth) over ts + METHOD + path.
 */
#include <string.h>

#include "kauth.h"
#include "sim.h"

/* Copies a custom header; lws keeps unknown header names as sent, so try both spellings. */
static int
sim_auth_header(struct lws *wsi, const char *lower, const char *upper, char *dst, int cap)
{
	int n = lws_hdr_custom_copy(wsi, dst, cap, lower, (int)strlen(lower));

	if (n < 0)
		n = lws_hdr_custom_copy(wsi, dst, cap, upper, (int)strlen(upper));
	return n;
}

enum sim_auth
sim_auth_check(struct lws *wsi, const char *method, const char *path, const char **why)
{
	char key[128], ts[32], sig[KAUTH_SIG_B64_MAX];
	int nk, nt, ns;
	int64_t t = 0, now_ms;

	*why = "";
	if (sim_w.pubkey == NULL)
		return SIM_AUTH_OK;
	nk = sim_auth_header(wsi, "kalshi-access-key:", "KALSHI-ACCESS-KEY:", key, sizeof(key));
	nt = sim_auth_header(wsi, "kalshi-access-timestamp:", "KALSHI-ACCESS-TIMESTAMP:", ts,
	    sizeof(ts));
	ns = sim_auth_header(wsi, "kalshi-access-signature:", "KALSHI-ACCESS-SIGNATURE:", sig,
	    sizeof(sig));
	if (nk < 0 && nt < 0 && ns < 0) {
		*why = "missing KALSHI-ACCESS-* headers";
		return SIM_AUTH_ABSENT;
	}
	if (nk <= 0 || nt <= 0 || ns <= 0) {
		*why = "a KALSHI-ACCESS-* header is missing, empty or too long";
		return SIM_AUTH_BAD;
	}
	if (sim_w.opt.key_id != NULL && strcmp(key, sim_w.opt.key_id) != 0) {
		*why = "unknown KALSHI-ACCESS-KEY";
		return SIM_AUTH_BAD;
	}
	if (nt > 18) {
		*why = "KALSHI-ACCESS-TIMESTAMP is not milliseconds";
		return SIM_AUTH_BAD;
	}
	for (int i = 0; i < nt; i++) {
		if (ts[i] < '0' || ts[i] > '9') {
			*why = "KALSHI-ACCESS-TIMESTAMP is not a decimal number";
			return SIM_AUTH_BAD;
		}
		t = t * 10 + (ts[i] - '0');
	}
	now_ms = sim_now_us() / 1000;
	if (t < now_ms - sim_w.opt.ts_window_ms || t > now_ms + sim_w.opt.ts_window_ms) {
		*why = "KALSHI-ACCESS-TIMESTAMP outside the accepted window";
		return SIM_AUTH_BAD;
	}
	if (!kauth_verify(sim_w.pubkey, ts, method, path, sig, (size_t)ns)) {
		*why = "KALSHI-ACCESS-SIGNATURE does not verify";
		return SIM_AUTH_BAD;
	}
	return SIM_AUTH_OK;
}
