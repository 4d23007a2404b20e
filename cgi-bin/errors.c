/*
 * errors: the one table of API error codes. A code is part of the API contract: clients branch
 * on it, so codes are never renamed, and docs/api (OpenAPI) lists the same set.
 */
#include <stddef.h>
#include <string.h>

#include "api.h"

static const struct {
	const char *code;
	int status;
} api_errors[ERR__COUNT] = {
	[ERR_NOT_FOUND] = { "not_found", 404 },
	[ERR_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405 },
	[ERR_BAD_REQUEST] = { "bad_request", 400 },
	[ERR_INVALID_PARAMETER] = { "invalid_parameter", 400 },
	[ERR_UNKNOWN_PARAMETER] = { "unknown_parameter", 400 },
	[ERR_REPEATED_PARAMETER] = { "repeated_parameter", 400 },
	[ERR_MISSING_PARAMETER] = { "missing_parameter", 400 },
	[ERR_BODY_TOO_LARGE] = { "body_too_large", 413 },
	[ERR_MISSING_API_KEY] = { "missing_api_key", 401 },
	[ERR_INVALID_API_KEY] = { "invalid_api_key", 401 },
	[ERR_REVOKED_API_KEY] = { "revoked_api_key", 401 },
	[ERR_ACCOUNT_DISABLED] = { "account_disabled", 403 },
	[ERR_RATE_LIMITED] = { "rate_limited", 429 },
	[ERR_TOO_MANY_REQUESTS] = { "too_many_requests", 429 },
	[ERR_CREDITS_EXHAUSTED] = { "credits_exhausted", 429 },
	[ERR_MARKET_NOT_FOUND] = { "market_not_found", 404 },
	[ERR_EVENT_NOT_FOUND] = { "event_not_found", 404 },
	[ERR_SERVICE_UNAVAILABLE] = { "service_unavailable", 503 },
	[ERR_INTERNAL] = { "internal_error", 500 },
	[ERR_EMAIL_UNCONFIRMED] = { "email_unconfirmed", 403 },
	[ERR_KEY_CAP_REACHED] = { "key_cap_reached", 429 },
	[ERR_SESSION_REQUIRED] = { "session_required", 401 },
	[ERR_SESSION_EXPIRED] = { "session_expired", 401 },
	[ERR_CSRF_FAILED] = { "csrf_failed", 403 },
	[ERR_INVALID_BODY] = { "invalid_body", 400 },
	[ERR_UNSUPPORTED_MEDIA_TYPE] = { "unsupported_media_type", 415 },
	[ERR_INVALID_EMAIL] = { "invalid_email", 400 },
	[ERR_WEAK_PASSWORD] = { "weak_password", 400 },
	[ERR_INVALID_CREDENTIALS] = { "invalid_credentials", 401 },
	[ERR_TOO_MANY_ATTEMPTS] = { "too_many_attempts", 429 },
	[ERR_INVALID_TOKEN] = { "invalid_token", 400 },
	[ERR_KEY_NOT_FOUND] = { "key_not_found", 404 },
	[ERR_KEY_REVOKED] = { "key_revoked", 409 },
	[ERR_TOO_MANY_KEYS] = { "too_many_keys", 409 },
};

static const struct {
	int status;
	const char *text;
} api_statuses[] = {
	{ 200, "OK" }, { 201, "Created" }, { 204, "No Content" }, { 400, "Bad Request" },
	{ 401, "Unauthorized" }, { 402, "Payment Required" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Method Not Allowed" }, { 409, "Conflict" },
	{ 413, "Payload Too Large" }, { 415, "Unsupported Media Type" }, { 429, "Too Many Requests" }, { 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
};

const char *
api_err_code(enum api_err err)
{
	return api_errors[err].code;
}

int
api_err_status(enum api_err err)
{
	return api_errors[err].status;
}

const char *
api_status_text(int status)
{
	for (size_t i = 0; i < sizeof(api_statuses) / sizeof(api_statuses[0]); i++)
		if (api_statuses[i].status == status)
			return api_statuses[i].text;
	return "Unknown";
}

enum api_err
api_err_from_code(const char *code)
{
	for (int i = 0; i < ERR__COUNT; i++)
		if (strcmp(api_errors[i].code, code) == 0)
			return (enum api_err)i;
	return ERR_INTERNAL;
}
