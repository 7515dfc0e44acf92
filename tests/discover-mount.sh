# discover-mount.sh: the Nucleo's disk comes from the mount table (ZTC_MOUNTINFO fixture), through libmount.
set -u
: "${top_srcdir:?run through make check}" "${ZTC:?}" "${UMOCKDEV_RUN:=umockdev-run}"
DATA=$top_srcdir/tests/data
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ztc-mount.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
unset ZTC_DEBUG
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

NUCLEO_UID=4fdcb314426cd95b56e470797a2538176b9ea771
nucleo_json() { # $1: the disk value as JSON
	printf '{"vid":"0483","pid":"374B","sid":"0671FF485550755187101620","uid":"%s","port":"/dev/ttyACM0","disk":%s,"desc":"STMicroelectronics_STM32_STLink_0671FF485550755187101620","usbpath":"1-1"}' \
		"$NUCLEO_UID" "$1"
}

# run MOUNTINFO ARGS...: ztc on the Nucleo record; sets out, err, rc.
run() {
	mi=$1
	shift
	ZTC_MOUNTINFO=$mi "$UMOCKDEV_RUN" -d "$DATA/nucleo_f401re.umockdev" -- "$ZTC" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}

run "$DATA/nucleo.mountinfo" -J device discover
[ "$rc" = 0 ] && pass "mounted: exit 0" || fail "mounted: exit $rc ($err)"
[ "$out" = "$(nucleo_json '"/media/user/NODE_F401RE"')" ] && pass "mounted: disk /media/user/NODE_F401RE" ||
	fail "mounted: got [$out]"
[ -z "$err" ] && pass "mounted: stderr empty" || fail "mounted: stderr [$err]"

run "$DATA/nucleo.mountinfo" device discover
# The table: PORT UID VID PID SID DISK DESC, the uid as its short prefix.
printf '%s\n' "$out" | awk -v uid="${NUCLEO_UID:0:8}" '$2 == uid && $6 == "/media/user/NODE_F401RE" { found = 1 } END { exit !found }' &&
	pass "table: DISK column" || fail "table: [$out]"

: >"$TMP/empty.mountinfo"
run "$TMP/empty.mountinfo" -J device discover
[ "$rc" = 0 ] && [ "$out" = "$(nucleo_json null)" ] && pass "not mounted: disk null" ||
	fail "not mounted: exit $rc, [$out]"

# An unreadable mount table is not fatal: one warning, the board without its disk.
run "$TMP/missing.mountinfo" -J device discover
[ "$rc" = 0 ] && [ "$out" = "$(nucleo_json null)" ] && pass "no mount table: disk null, exit 0" ||
	fail "no mount table: exit $rc, [$out]"
[ "$err" = "ztc: warning: cannot read the mount table $TMP/missing.mountinfo; mass-storage disks are shown unmounted" ] &&
	pass "no mount table: one warning" || fail "no mount table: stderr [$err]"

[ "$failures" = 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
