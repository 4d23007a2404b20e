#!/usr/bin/env bash
# The API documents match the code. The OpenAPI document nginx serves at /openapi.json is held to
# the route and error tables that the dispatcher enforces (`kbook-api --routes`): the same
# (method, path) set, for each route the same parameters (name, required, type, bounds, choices),
# credit cost and auth, and the same error codes; its examples are the golden answers of
# tests/golden. /docs/, /llms.txt and /llms-full.txt are served with the right types and name
# every route (with its cost) and every error code. Account routes (auth "session", JSON bodies)
# list the session, CSRF and body errors; data routes the refusals of their key.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"

U=$TEST_URL
PY=/usr/bin/python3 # Debian's, whatever python3 is first on PATH
H=$TEST_TMP/headers
hdr() { grep -i "^$1:" "$H" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# get PATH FILE: status in $STATUS, headers in $H
get() { STATUS=$(curl -s -o "$2" -D "$H" -w '%{http_code}' "$U$1"); }

"$TEST_BIN/kbook-api" --routes >"$TEST_TMP/routes.json"
check "kbook-api --routes prints JSON" 0 "$(jq -e '.routes | length > 0' "$TEST_TMP/routes.json" >/dev/null; echo $?)"

echo "served documents"
get /openapi.json "$TEST_TMP/openapi.json"
check "/openapi.json status" 200 "$STATUS"
check_match "/openapi.json content type" '^application/json' "$(hdr Content-Type)"
check_match "/openapi.json X-Request-Id" '^[0-9a-f]{32}$' "$(hdr X-Request-Id)"
check "/openapi.json is valid JSON" 0 "$(jq -e . "$TEST_TMP/openapi.json" >/dev/null 2>&1; echo $?)"
check_match "openapi version is 3.1.x" '^3\.1\.[0-9]+$' "$(jq -r .openapi "$TEST_TMP/openapi.json" 2>/dev/null)"
for doc in /docs/:text/html /site.css:text/css /llms.txt:text/plain /llms-full.txt:text/plain; do
	get "${doc%%:*}" "$TEST_TMP/doc"
	check "${doc%%:*} status" 200 "$STATUS"
	check_match "${doc%%:*} content type" "^${doc#*:}" "$(hdr Content-Type)"
done
STATUS=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$U/docs")
check_match "/docs redirects to /docs/" '^301 .*/docs/$' "$STATUS"

echo "the spec against the route and error tables"
# The comparison prints one line per check: NAME<TAB>EXPECTED<TAB>ACTUAL.
cat >"$TEST_TMP/compare.py" <<'EOF'
import json, re, sys

table = json.load(open(sys.argv[1]))
spec = json.load(open(sys.argv[2]))
golden_dir = sys.argv[3]
out = []

def emit(name, expected, actual):
    j = lambda v: v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(",", ":"))
    out.append("%s\t%s\t%s" % (name, j(expected), j(actual)))

def resolve(o):
    while isinstance(o, dict) and "$ref" in o:
        x = spec
        for part in o["$ref"][2:].split("/"):
            x = x.get(part, {})
        o = x
    return o

METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
codes = {e["code"]: e["status"] for e in table["errors"]}
allowed_codes = dict(codes)
allowed_codes.update({"too_many_requests": 429, "body_too_large": 413, "service_unavailable": 503})  # nginx's own

# routes
want = sorted("%s %s" % (r["method"], r["path"]) for r in table["routes"])
have = sorted("%s %s" % (m.upper(), p) for p, item in spec.get("paths", {}).items() for m in item if m in METHODS)
emit("spec (method, path) set = route table", want, have)
for extra in sorted(set(have) - set(want)):
    emit("%s is in the route table" % extra, "in the table", "only in the spec")

def spec_param(p):
    """What a spec parameter says, in the terms of the route table."""
    s = resolve(p.get("schema", {}))
    t = s.get("type")
    d = {"name": p.get("name"), "required": p.get("required", False)}
    if t == "integer":
        d.update(type="integer", min=s.get("minimum"), max=s.get("maximum"))
    elif t == "boolean":
        d["type"] = "boolean"
    elif t == "array":
        d.update(type="list", min=s.get("minItems"), max=s.get("maxItems"))
    elif t == "string" and "enum" in s:
        d.update(type="enum", choices=s["enum"])
    elif t == "string" and s.get("format") == "instant":
        d["type"] = "time"
    elif t == "string" and s.get("format") == "cursor":
        d["type"] = "cursor"
    elif t == "string":
        d.update(type="string", min=s.get("minLength"), max=s.get("maxLength"))
    else:
        d["type"] = "unmapped schema %s" % json.dumps(s, sort_keys=True)
    return d

def table_param(p):
    d = {"name": p["name"], "required": p["required"], "type": p["type"]}
    if "min" in p:
        d.update(min=p["min"], max=p["max"])
    if "choices" in p:
        d["choices"] = p["choices"]
    return d

root_security = spec.get("security")
for r in table["routes"]:
    rid = "%s %s" % (r["method"], r["path"])
    op = spec.get("paths", {}).get(r["path"], {}).get(r["method"].lower())
    if op is None:
        emit("%s is in the spec" % rid, "present", "absent")
        continue
    emit("%s x-credit-cost" % rid, r["cost"], op.get("x-credit-cost"))
    phrase = "Cost: %d credit" % r["cost"] if r["cost"] > 0 else "Cost: free"
    desc = op.get("description", "")
    emit("%s description states the cost" % rid, phrase, phrase if phrase in desc else desc[-80:])
    params = [resolve(p) for p in op.get("parameters", [])]
    query = [p for p in params if p.get("in") == "query"]
    emit("%s query parameter names" % rid, [p["name"] for p in r["params"]], [p.get("name") for p in query])
    by_name = {p.get("name"): p for p in query}
    for tp in r["params"]:
        sp = by_name.get(tp["name"])
        emit("%s parameter %s" % (rid, tp["name"]), table_param(tp), spec_param(sp) if sp else "absent")
        if tp["type"] == "time" and sp:
            d = sp.get("description", "")
            ok = all(w in d for w in ("RFC 3339", "seconds", "milliseconds", "microseconds", "future"))
            emit("%s parameter %s describes the time forms" % (rid, tp["name"]), "yes", "yes" if ok else d)
    path_names = re.findall(r"\{([^}]+)\}", r["path"])
    emit("%s path parameters" % rid, [[n, True] for n in path_names],
         [[p.get("name"), p.get("required", False)] for p in params if p.get("in") == "path"])
    sec = op.get("security", root_security) or []
    schemes = sorted(k for req in sec for k in req)
    want_schemes = {"none": [], "api_key": ["ApiKeyHeader", "BearerAuth"],
                    "session": ["SessionBearer", "SessionCookie"]}[r["auth"]]
    emit("%s security" % rid, want_schemes, schemes)
    bad, listed = [], set()
    responses = op.get("responses", {})
    for st, resp in responses.items():
        resp = resolve(resp)
        for c in resp.get("x-error-codes", []):
            listed.add(c)
            if allowed_codes.get(c) != int(st):
                bad.append("%s under %s" % (c, st))
        if "X-Request-Id" not in resp.get("headers", {}):
            bad.append("no X-Request-Id on %s" % st)
    emit("%s responses: codes under their table status, X-Request-Id on each" % rid, [], bad)
    must = {"bad_request", "unknown_parameter", "internal_error", "service_unavailable", "too_many_requests", "body_too_large"}
    if r["params"]:
        must |= {"invalid_parameter", "repeated_parameter"}
    if any(p["required"] for p in r["params"]):
        must.add("missing_parameter")
    if r["auth"] == "api_key":
        must |= {"missing_api_key", "invalid_api_key", "revoked_api_key", "account_disabled", "rate_limited",
                 "credits_exhausted", "email_unconfirmed", "key_cap_reached"}
    if r["auth"] == "session":
        must |= {"session_required", "session_expired"}
    if r["method"] != "GET":
        must.add("csrf_failed")  # the session's CSRF token, or the origin checks of a public route
    if "requestBody" in op:
        must |= {"unsupported_media_type", "invalid_body", "missing_parameter", "invalid_parameter"}
    emit("%s lists the error codes it can return" % rid, [], sorted(must - listed))
    # the success answer: 200, or the one 2xx the route answers (201 created, 202 accepted, 204)
    success = sorted(st for st in responses if st.startswith("2"))
    emit("%s has one success status" % rid, 1, len(success))
    ok_status = success[0] if success else "200"
    ok = resolve(responses.get(ok_status, {}))
    types = sorted(ok.get("content", {}))
    csv = any(p["name"] == "format" and "csv" in p.get("choices", []) for p in r["params"])
    emit("%s %s content types" % (rid, ok_status), [] if ok_status == "204" else
         ["application/json", "text/csv"] if csv else ["application/json"], types)
    hdrs = sorted(ok.get("headers", {}))
    need = ["X-Request-Id"]
    if r["auth"] == "api_key":
        need += ["X-Credits-Cost", "X-Credits-Used", "X-Credits-Total", "X-Credits-Remaining",
                 "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]
    if csv:
        need.append("X-Next-Cursor")
    emit("%s 200 headers" % rid, sorted(need), [h for h in hdrs if h in need])
    retry = [st for st in ("429", "503") if st in responses and "Retry-After" not in resolve(responses[st]).get("headers", {})]
    emit("%s Retry-After on 429 and 503" % rid, [], retry)

# errors
xe = spec.get("x-error-codes", [])
emit("x-error-codes = error table + nginx's", sorted("%s %d" % kv for kv in allowed_codes.items()),
     sorted("%s %s" % (e.get("code"), e.get("status")) for e in xe))
xd = {e.get("code"): e.get("status") for e in xe}
for c, st in sorted(allowed_codes.items()):
    emit("x-error-codes %s" % c, st, xd.get(c, "absent"))
enum = resolve(spec.get("components", {}).get("schemas", {}).get("Error", {}))
enum = enum.get("properties", {}).get("error", {}).get("properties", {}).get("code", {}).get("enum", [])
emit("Error schema's code enum = error table", sorted(allowed_codes), sorted(enum))

# security schemes
ss = spec.get("components", {}).get("securitySchemes", {})
emit("security scheme X-API-Key header", {"type": "apiKey", "in": "header", "name": "X-API-Key"},
     {k: ss.get("ApiKeyHeader", {}).get(k) for k in ("type", "in", "name")})
emit("security scheme HTTP bearer", {"type": "http", "scheme": "bearer"},
     {k: ss.get("BearerAuth", {}).get(k) for k in ("type", "scheme")})
emit("security scheme session cookie", {"type": "apiKey", "in": "cookie", "name": "__Host-kbook_session"},
     {k: ss.get("SessionCookie", {}).get(k) for k in ("type", "in", "name")})
emit("security scheme session bearer", {"type": "http", "scheme": "bearer"},
     {k: ss.get("SessionBearer", {}).get(k) for k in ("type", "scheme")})

# examples are the golden answers (which drop updated_time)
import os
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k != "updated_time"}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
exs = spec.get("components", {}).get("examples", {})
for f in sorted(os.listdir(golden_dir)):
    if f.endswith(".json"):
        name = f[:-5]
        g = json.load(open(os.path.join(golden_dir, f)))
        e = exs.get(name, {}).get("value", "absent")
        emit("example %s = tests/golden/%s" % (name, f), strip(g), strip(e))

print("\n".join(out))
EOF
if $PY "$TEST_TMP/compare.py" "$TEST_TMP/routes.json" "$TEST_TMP/openapi.json" "$TEST_ROOT/tests/golden" \
	>"$TEST_TMP/compare.tsv" 2>"$TEST_TMP/compare.err"; then
	check "the comparison ran" ok ok
else
	check "the comparison ran" ok "$(tail -1 "$TEST_TMP/compare.err")"
fi
check_lines <"$TEST_TMP/compare.tsv"

echo "llms.txt, llms-full.txt and the docs page"
get /llms.txt "$TEST_TMP/llms.txt"
get /llms-full.txt "$TEST_TMP/llms-full.txt"
get /docs/ "$TEST_TMP/docs.html"
check_match "llms.txt starts with an H1" '^# ' "$(head -1 "$TEST_TMP/llms.txt")"
check "llms.txt has a blockquote summary" 1 "$(grep -m1 -c '^> ' "$TEST_TMP/llms.txt")"
for link in /docs/ /openapi.json /llms-full.txt; do
	check "llms.txt links to $link" 1 "$(grep -cE "^- \[[^]]+\]\($link\)" "$TEST_TMP/llms.txt")"
done
mapfile -t paths < <(jq -r '.routes[].path' "$TEST_TMP/routes.json")
mapfile -t codes < <(jq -r '.errors[].code' "$TEST_TMP/routes.json")
for f in llms.txt llms-full.txt docs.html; do
	for p in "${paths[@]}"; do
		check "$f mentions $p" 1 "$(grep -cF -m1 "$p" "$TEST_TMP/$f")"
	done
done
for f in llms.txt llms-full.txt docs.html; do
	for c in "${codes[@]}"; do
		check "$f mentions $c" 1 "$(grep -cF -m1 "$c" "$TEST_TMP/$f")"
	done
done
# The routes tables of llms-full.txt and the docs page state each route's cost as the table does.
while IFS=$'\t' read -r method path cost; do
	check "llms-full.txt routes table: $method $path costs $cost" 1 \
		"$(grep -cF -m1 "| $method | \`$path\` | $cost |" "$TEST_TMP/llms-full.txt")"
	check "docs page routes table: $method $path costs $cost" 1 \
		"$(grep -cF -m1 "<td>$method</td><td><code>$path</code></td><td>$cost</td>" "$TEST_TMP/docs.html")"
done < <(jq -r '.routes[] | [.method, .path, (.cost | tostring)] | @tsv' "$TEST_TMP/routes.json")
while IFS=$'\t' read -r code status; do
	check "llms-full.txt errors table: $code $status" 1 "$(grep -cF -m1 "| \`$code\` | $status |" "$TEST_TMP/llms-full.txt")"
	check "docs page errors table: $code $status" 1 "$(grep -cF -m1 "<td><code>$code</code></td><td>$status</td>" "$TEST_TMP/docs.html")"
done < <(jq -r '.errors[] | [.code, (.status | tostring)] | @tsv' "$TEST_TMP/routes.json")
# The site's Content-Security-Policy is default-src 'self': no inline script or style, nothing external.
check "docs page has no <script>" 0 "$(grep -ci '<script' "$TEST_TMP/docs.html")"
check "docs page has no inline <style> or style=" 0 "$(grep -ciE '<style|style=' "$TEST_TMP/docs.html")"
check "docs page loads nothing external" 0 "$(grep -ciE 'src="(https?:)?//|<link[^>]*href="(https?:)?//' "$TEST_TMP/docs.html")"
check "docs page uses the site's one stylesheet" 1 "$(grep -c 'href="/site.css"' "$TEST_TMP/docs.html")"

finish
