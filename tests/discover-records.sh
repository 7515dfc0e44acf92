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
	[ "$(printf '%s\n' "$out" | head -1 | tr -s ' ')" = "PORT UID VID PID SID USBPATH DESC" ] &&
		pass "$name: table header, the port first, the usbpath" || fail "$name: table header: $out"
	# The table fits 100 columns, sorted by port (none last), each uid its shortest unique prefix of
	# at least 8 digits.
	wide=$(printf '%s\n' "$out" | awk 'length($0) > 100' | head -1)
	[ -z "$wide" ] && pass "$name: table within 100 columns" || fail "$name: wider than 100 columns: [$wide]"
	ports=$(printf '%s\n' "$out" | sed 1d | awk '{print $1}')
	with=$(printf '%s\n' "$ports" | grep -v '^-$' || true)
	[ "$ports" = "$({ [ -z "$with" ] || printf '%s\n' "$with" | sort -V; printf '%s\n' "$ports" | grep '^-$'; } || true)" ] &&
		pass "$name: rows sorted by port" || fail "$name: rows not sorted by port: $ports"
	ztc_under "$name" -J device discover
	uids=$(printf '%s\n' "$out" | "$JSONL" get uid | sort -u) # twins share theirs
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

# Twins: boards with the same serial number (or none) are one record each, told apart by port and usbpath.
for twins in cp2102_twins:10C4:EA60 ch340_twins:1A86:7523; do
	IFS=: read -r name vid pid <<<"$twins"
	ztc_under "$name" -J device discover
	recs=$(printf '%s\n' "$out" | "$JSONL" get vid pid uid port usbpath | grep "^$vid|$pid|")
	[ "$(printf '%s\n' "$recs" | wc -l)" = 2 ] && pass "$name: two records" || fail "$name: records: $recs"
	[ "$(printf '%s\n' "$recs" | cut -d'|' -f3 | sort -u | wc -l)" = 1 ] && pass "$name: one uid" ||
		fail "$name: uids differ: $recs"
	[ "$(printf '%s\n' "$recs" | cut -d'|' -f4 | sort -u | grep -vc '^null$')" = 2 ] &&
		pass "$name: two ports" || fail "$name: ports: $recs"
	[ "$(printf '%s\n' "$recs" | cut -d'|' -f5 | sort -u | grep -vc '^null$')" = 2 ] &&
		pass "$name: two usbpaths" || fail "$name: usbpaths: $recs"
	# The table: a row each, the same uid, each with its port and usbpath (ztc_under sets recs).
	twinrecs=$recs
	ztc_under "$name" device discover
	rows=$(printf '%s\n' "$twinrecs" | while IFS='|' read -r v p u port usbpath; do
		printf '%s\n' "$out" | awk -v port="$port" -v up="$usbpath" -v u="${u:0:8}" \
			'$1 == port && $2 == u && $6 == up' | wc -l
	done | tr '\n' ' ')
	[ "$rows" = "1 1 " ] && pass "$name: table, a row per twin with its port and usbpath" ||
		fail "$name: table rows [$rows]: $out"
done
finish
