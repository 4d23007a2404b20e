/*
 * routes: THE route table of kbook-api. A path maps to code here and nowhere else; the OpenAPI
 * document is checked against this table by the tests.
 */
#include "route.h"

const struct route routes[] = {
	{ "GET", "/v1/health", h_health, AUTH_NONE, 0, NULL,
	  "service health: ok when Postgres answers, degraded (503) when it does not" },
};

const size_t routes_count = sizeof(routes) / sizeof(routes[0]);
