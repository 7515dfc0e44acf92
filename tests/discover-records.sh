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
	[ "$(printf '%s\n' "$out" | head -1 | tr -s ' ')" = "VID PID SID UID PORT DISK DESC USBPATH" ] &&
		pass "$name: table header" || fail "$name: table header: $out"
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
done
finish
