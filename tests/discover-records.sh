# discover-records.sh: ztc -J device discover under umockdev yields each record's .expect.json; the table's layout.
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
	[ "$(printf '%s\n' "$out" | head -1 | tr -s ' ')" = "PORT UID VID PID SID DESC" ] &&
		pass "$name: table header, the port first" || fail "$name: table header: $out"
	# The table fits 100 columns, sorted by port (none last), each uid its shortest unique prefix of
	# at least 8 digits.
	wide=$(printf '%s\n' "$out" | awk 'length($0) > 100' | head -1)
	[ -z "$wide" ] && pass "$name: table within 100 columns" || fail "$name: wider than 100 columns: [$wide]"
	ports=$(printf '%s\n' "$out" | sed 1d | awk '{print $1}')
	with=$(printf '%s\n' "$ports" | grep -v '^-$' || true)
	[ "$ports" = "$({ [ -z "$with" ] || printf '%s\n' "$with" | sort -V; printf '%s\n' "$ports" | grep '^-$'; } || true)" ] &&
		pass "$name: rows sorted by port" || fail "$name: rows not sorted by port: $ports"
	ztc_under "$name" -J device discover
	uids=$(printf '%s\n' "$out" | "$JSONL" get uid)
	ztc_under "$name" device discover
	for u in $(printf '%s\n' "$out" | sed 1d | awk '{print $2}'); do
		n=$(printf '%s\n' "$uids" | grep -c "^$u")
		if [ "${#u}" -lt 8 ] || [ "$n" != 1 ]; then
			fail "$name: table uid '$u' is not a unique prefix of 8 or more digits"
		elif [ "${#u}" -gt 8 ] && [ "$(printf '%s\n' "$uids" | grep -c "^${u%?}")" = 1 ]; then
			fail "$name: table uid '$u' is longer than needed"
		fi
	done
	pass "$name: table uids are the shortest unique prefixes (8 digits at least)"
done
finish
