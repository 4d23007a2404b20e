#!/usr/bin/env bash
# The production unit files (systemd/) parse and name programs that exist: systemd-analyze
# verify in a root of the test's own holding the system's units, the kbook binaries at their
# documented install path (/usr/local/lib/kbook/bin) and spawn-fcgi. Every unit restarts its
# daemon, runs it as the service user and reads the environment files docs/operations.md lists.
set -u
. "$TEST_ROOT/tests/integration/lib.sh"

r=$TEST_TMP/root
mkdir -p "$r/usr/lib/systemd" "$r/etc/systemd/system" "$r/usr/local/lib/kbook/bin" "$r/usr/bin"
cp -a /usr/lib/systemd/system "$r/usr/lib/systemd/"
cp "$TEST_BIN"/kbook-{api,collector,feedd} "$r/usr/local/lib/kbook/bin/"
cp "$(command -v spawn-fcgi)" "$r/usr/bin/"
units=(kbook-api kbook-collector kbook-feedd)
for u in "${units[@]}"; do
	check "$u.service is shipped" yes "$([ -f "$TEST_ROOT/systemd/$u.service" ] && echo yes)"
	cp "$TEST_ROOT/systemd/$u.service" "$r/etc/systemd/system/"
done
# verify: exit status 0 and nothing said (an unknown key or a bad value is only a warning)
verify() {
	systemd-analyze verify --man=no --root="$r" "$@" 2>&1
	echo "rc=$?"
}
paths=()
for u in "${units[@]}"; do paths+=("$r/etc/systemd/system/$u.service"); done
check "systemd-analyze verify: no complaint" "rc=0" "$(verify "${paths[@]}" | tr '\n' ' ' | sed 's/ $//')"

for u in "${units[@]}"; do
	f=$TEST_ROOT/systemd/$u.service
	check_match "$u: Restart=" '^Restart=(always|on-failure)$' "$(grep '^Restart=' "$f")"
	check "$u: the service user" "User=kbook" "$(grep '^User=' "$f")"
	check "$u: the shared environment file" "EnvironmentFile=/etc/kbook/kbook.env" "$(grep -m1 '^EnvironmentFile=' "$f")"
	check "$u: its own (its database role)" "EnvironmentFile=/etc/kbook/${u#kbook-}.env" \
		"$(grep '^EnvironmentFile=' "$f" | sed -n 2p)"
	check_match "$u: documented" "systemd/$u.service" "$(cat "$TEST_ROOT/docs/operations.md")"
done

echo "the check can fail: a broken unit and a missing program are reported"
sed -e 's/^Restart=.*/Restart=sometimes/' -e 's/^User=/Usr=/' "$TEST_ROOT/systemd/kbook-collector.service" \
	>"$r/etc/systemd/system/kbook-broken.service"
out=$(verify "$r/etc/systemd/system/kbook-broken.service")
check_match "bad value reported" 'restart specifier' "$out"
check_match "unknown key reported" "Unknown key 'Usr'" "$out"
rm "$r/usr/local/lib/kbook/bin/kbook-feedd"
out=$(verify "$r/etc/systemd/system/kbook-feedd.service")
check_match "missing program reported" 'kbook-feedd is not executable' "$out"
check_match "with a failing status" 'rc=1' "$out"

finish
