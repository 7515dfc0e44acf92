# discover-records.sh: ztc -J device discover under umockdev yields each record's .expect.json.
. "$top_srcdir/tests/lib.sh"
set -e
for f in "$DATA"/*.umockdev; do
	name=$(basename "$f" .umockdev)
	[ -f "$DATA/$name.expect.json" ] || continue
	ztc_under "$name" -J device discover
	expect_rc 0 "$name"
	if printf '%s\n' "$out" | "$JSONL" expect "$DATA/$name.expect.json"; then
		pass "$name: records match $name.expect.json"
	else
		fail "$name: records differ from $name.expect.json"
	fi
	ztc_under "$name" device discover
	[ "$(printf '%s\n' "$out" | head -1 | tr -s ' ')" = "VID PID SID UID PORT DISK DESC" ] &&
		pass "$name: table header" || fail "$name: table header: $out"
done
finish
