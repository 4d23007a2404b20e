/*
 * h_health: GET /v1/health. Asks Postgres for the applied schema version; answers 200
 * {"status":"ok",...} when it answers and 503 {"status":"degraded",...} when it does not. A
 * worker whose connection was lost reconnects here (db_exec does), so health recovers by itself
 * when Postgres comes back.
 */
#include <stdlib.h>

#include "api.h"
#include "route.h"

static struct db_stmt q_schema = DB_STMT("health_schema",
    "SELECT coalesce(max(version), 0) FROM schema_migrations", 0);

void
h_health(struct req *req)
{
	struct json_object *root = json_object_new_object(), *checks = json_object_new_object();
	PGresult *res = db_exec(req->db, &q_schema, NULL);
	bool ok = res != NULL && PQntuples(res) == 1;

	json_object_object_add(root, "status", json_object_new_string(ok ? "ok" : "degraded"));
	json_object_object_add(checks, "database", json_object_new_string(ok ? "ok" : "unreachable"));
	json_object_object_add(root, "checks", checks);
	if (ok)
		json_object_object_add(root, "schema_version",
		    json_object_new_int(atoi(PQgetvalue(res, 0, 0))));
	PQclear(res);
	req_send_json(req, ok ? 200 : 503, root);
}
