# twins.sh: boards that share a uid (the same serial number, or none): alias put refuses to guess,
# --port and --usbpath pin an alias to one twin, and --matchdb and open find the pinned twin.
. "$top_srcdir/tests/lib.sh"
set -e
STORE="$ZTC_HOME/devices.json"
CP=e7a4bc050dddcfcc95a52881d92f1d4634052f87 # 10C4:EA60:0001, both boards of cp2102_twins
CH=b08a15d393e42ed94f38145dfbd48a628f9ca30b # 1A86:7523:no_sid, both adapters of ch340_twins

mkdir -p "$ZTC_HOME"
printf '{"devices": []}\n' >"$STORE"
cp "$STORE" "$TMP/before"
unchanged() { cmp -s "$STORE" "$TMP/before" && pass "$1: store unchanged" || fail "$1: store changed"; }

# Without --port or --usbpath: one line naming both twins, nothing stored.
ztc_under cp2102_twins device alias put e7a4 one silabs_cp210x
expect_rc 1 "cp2102 twins, no pin"
expect_err "connected device uid $CP: 2 devices share this uid (same serial number): add --port /dev/ttyUSB0 or --port /dev/ttyUSB1" "cp2102 twins, no pin"
expect_one_line "cp2102 twins, no pin"; unchanged "cp2102 twins, no pin"
ztc_under ch340_twins device alias put b08a adapter wch_ch340
expect_rc 1 "serial-less twins, no pin"
expect_err "connected device uid $CH: 2 devices share this uid (same serial number): add --port /dev/ttyUSB0 or --port /dev/ttyUSB1" "serial-less twins, no pin"
expect_one_line "serial-less twins, no pin"; unchanged "serial-less twins, no pin"

# Bad pins: one line each, nothing stored.
ztc_under cp2102_twins device alias put e7a4 one silabs_cp210x --port /dev/ttyUSB7
expect_rc 1 "no twin at that port"
expect_err "no connected device with uid $CP has the port /dev/ttyUSB7 (--port /dev/ttyUSB0 or --port /dev/ttyUSB1)" "no twin at that port"
expect_one_line "no twin at that port"; unchanged "no twin at that port"
ztc_under cp2102_twins device alias put e7a4 one silabs_cp210x --usbpath 1-9
expect_rc 1 "no twin at that usbpath"; expect_err "has the usbpath 1-9" "no twin at that usbpath"; unchanged "no twin at that usbpath"
ztc_under cp2102_twins device alias put e7a4 one silabs_cp210x --port /dev/ttyUSB1 --usbpath 1-1.3
expect_rc 2 "--port and --usbpath"; expect_err "give --port or --usbpath, not both" "--port and --usbpath"; unchanged "--port and --usbpath"

# Pinned by port, then the other twin by usbpath: both twins have aliases at once.
ztc_under cp2102_twins -J device alias put e7a4 one silabs_cp210x --port /dev/ttyUSB1
expect_rc 0 "pin by port"
[ "$(printf '%s\n' "$out" | "$JSONL" get alias uid usbpath)" = "one|$CP|1-1.3" ] && pass "pin by port: entry printed" ||
	fail "pin by port: $out"
grep -q '"usbpath": "1-1.3"' "$STORE" && pass "the store keeps the usbpath" || fail "store: $(cat "$STORE")"
ztc_under cp2102_twins -J device discover --matchdb
[ "$(printf '%s\n' "$out" | "$JSONL" get alias port usbpath | grep '^one|')" = "one|/dev/ttyUSB1|1-1.3" ] &&
	pass "matchdb: the pinned twin carries the alias" || fail "matchdb: $out"
[ "$(printf '%s\n' "$out" | "$JSONL" get alias port | grep -c '^null|/dev/ttyUSB0$')" -gt 1 ] &&
	pass "matchdb: the other twin is still unknown (one record per matching target)" || fail "matchdb other twin: $out"
ztc_under cp2102_twins device alias put e7a4 two silabs_cp210x --usbpath 1-1.2
expect_rc 0 "pin by usbpath"
ztc_under cp2102_twins -J device discover --matchdb
[ "$(printf '%s\n' "$out" | "$JSONL" get alias port usbpath | grep -v '^null|')" = "two|/dev/ttyUSB0|1-1.2
one|/dev/ttyUSB1|1-1.3" ] && pass "matchdb: both twins aliased" || fail "matchdb both: $out"

# open finds the pinned twin's port.
ztc_under cp2102_twins device open one --timeout 0.2
expect_err "connected to /dev/ttyUSB1" "open the pinned twin 'one'"
ztc_under cp2102_twins device open two --timeout 0.2
expect_err "connected to /dev/ttyUSB0" "open the pinned twin 'two'"

# An alias moves to the other twin with a new pin; that twin's alias is replaced (a device has one alias).
ztc_under cp2102_twins device alias put e7a4 one silabs_cp210x --port /dev/ttyUSB0
expect_rc 0 "an alias moved to the other twin"
[ "$(grep -c '"alias"' "$STORE")" = 1 ] && grep -q '"alias": "one"' "$STORE" && grep -q '"usbpath": "1-1.2"' "$STORE" &&
	pass "moved: one entry, the new usbpath" || fail "moved: $(cat "$STORE")"
# A name held by another device is refused.
printf '{"devices": [{"alias": "due", "uid": "df78e45849d9f7d1c9b29def5b9ffb7bf0b74429", "target": "arduino_due"}]}
' >"$STORE"
cp "$STORE" "$TMP/before"
ztc_under cp2102_twins device alias put e7a4 due silabs_cp210x --port /dev/ttyUSB0
expect_rc 1 "alias of another device"; expect_err "alias 'due' is already used by device df78e458" "alias of another device"
unchanged "alias of another device"

# An alias that is not pinned stands for every twin: open refuses to pick one.
printf '{"devices": [{"alias": "ch", "uid": "%s", "target": "wch_ch340", "classname": "CH340"}]}\n' "$CH" >"$STORE"
ztc_under ch340_twins device open ch --timeout 0.2
expect_rc 1 "unpinned alias, twins connected"
expect_err "alias 'ch' names 2 connected devices that share its uid (same serial number): pin it to one with 'ztc device alias put UID ch TARGET --port PORT'" "unpinned alias, twins connected"
expect_one_line "unpinned alias, twins connected"

# A store whose usbpath is no port path is corrupt, and left alone.
printf '{"devices": [{"alias": "ch", "uid": "%s", "target": "wch_ch340", "usbpath": "../../etc"}]}\n' "$CH" >"$STORE"
cp "$STORE" "$TMP/before"
ztc_under ch340_twins device alias put b08a x wch_ch340 --port /dev/ttyUSB0
expect_rc 1 "bad usbpath in the store"; expect_err "usbpath is not a USB port path" "bad usbpath in the store"
expect_one_line "bad usbpath in the store"; unchanged "bad usbpath in the store"
finish
