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
expect_fields "alias uid usbpath" "one|$CP|1-1.3" "pin by port: entry printed"
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

# Tables: the raw one and --matchdb show a row per twin with its usbpath; the --matchdb hint names a port
# (a uid names both twins).
printf '{"devices": []}\n' >"$STORE"
ztc_under cp2102_twins device discover --matchdb
expect_rc 0 "matchdb table with twins"
[ "$(printf '%s\n' "$out" | head -1 | tr -s ' ')" = "PORT UID ALIAS USBPATH NAME TARGET" ] &&
	[ "$(printf '%s\n' "$out" | awk '$1 ~ /^\/dev\// {print $1, $2, $4}' | tr '\n' ' ')" = \
		"/dev/ttyUSB0 e7a4bc05 1-1.2 /dev/ttyUSB1 e7a4bc05 1-1.3 " ] &&
	pass "matchdb table: a row per twin, its usbpath" || fail "matchdb table with twins: [$out]"
hint="Pin one target on a device: ztc device alias put PORT ALIAS TARGET (PORT: /dev/ttyUSB0)"
[ "$(printf '%s\n' "$out" | tail -1)" = "$hint" ] &&
	pass "matchdb table: the hint names a port among twins" || fail "matchdb hint with twins: [$out]"
[ -z "$(printf '%s\n' "$out" | awk 'length($0) > 100')" ] && pass "matchdb table with twins: within 100 columns" ||
	fail "matchdb table with twins: wider than 100 columns: [$out]"
ztc_under arduino_due device discover --matchdb
printf '%s\n' "$out" | head -1 | grep -q USBPATH && fail "no twins, yet a USBPATH column: [$out]" ||
	pass "matchdb table without twins: no USBPATH column"

# A port in place of the uid names one twin: the alias is pinned to it, as with --port.
ztc_under cp2102_twins -J device alias put /dev/ttyUSB1 one silabs_cp210x
expect_rc 0 "twin named by its port"
expect_fields "alias uid usbpath" "one|$CP|1-1.3" "twin named by its port: pinned to its usbpath"
ztc_under cp2102_twins -J device alias put /dev/ttyUSB0 two silabs_cp210x --port /dev/ttyUSB0
expect_rc 0 "twin named by its port and --port alike"
expect_fields "alias usbpath" "two|1-1.2" "port and --port alike: pinned"
cp "$STORE" "$TMP/before"
ztc_under cp2102_twins device alias put /dev/ttyUSB0 three silabs_cp210x --usbpath 1-1.3
expect_rc 1 "port and --usbpath name two twins"
expect_err "ztc: the port /dev/ttyUSB0 and the usbpath 1-1.3 name two different devices" \
	"port and --usbpath name two twins"
expect_one_line "port and --usbpath name two twins"; unchanged "port and --usbpath name two twins"

# alias list: each pinned twin connected on its own port, its pin shown (PINNED, -J usbpath).
ztc_under cp2102_twins -J device alias list
expect_fields "alias usbpath port" "two|1-1.2|/dev/ttyUSB0
one|1-1.3|/dev/ttyUSB1" "alias list -J: pinned twins, their usbpaths and ports"
ztc_under cp2102_twins device alias list
[ "$out" = "PORT          ALIAS  UID       TARGET         PINNED  CONNECTED
/dev/ttyUSB0  two    e7a4bc05  silabs_cp210x  1-1.2   yes
/dev/ttyUSB1  one    e7a4bc05  silabs_cp210x  1-1.3   yes" ] && pass "alias list table: the PINNED column" ||
	fail "alias list table with twins: [$out]"
# A pinned alias with no device at its usbpath is not connected (as --matchdb sees it), though devices of
# its uid are; an alias that is not pinned is connected on each twin.
cp "$STORE" "$TMP/pinned"
printf '{"devices": [{"alias": "moved", "uid": "%s", "target": "silabs_cp210x", "usbpath": "1-9"},
 {"alias": "cp", "uid": "%s", "target": "silabs_cp210x"}]}\n' "$CP" "$CP" >"$STORE"
ztc_under cp2102_twins -J device alias list
[ "$(printf '%s\n' "$out" | "$JSONL" get alias usbpath port | tr '\n' ' ')" = \
	"cp|null|/dev/ttyUSB0 cp|null|/dev/ttyUSB1 moved|1-9|null " ] &&
	pass "alias list: a pin with nothing at its usbpath is not connected; an unpinned alias, a row per twin" ||
	fail "alias list, pin elsewhere: $out"
cp "$TMP/pinned" "$STORE"

# Without twins a port names the device as before: no pin.
ztc_under arduino_due -J device alias put /dev/ttyACM0 due arduino_due
expect_rc 0 "a single device named by its port"
expect_fields "alias usbpath" "due|null" "a single device named by its port: not pinned"
ztc_under arduino_due device alias list
printf '%s\n' "$out" | head -1 | grep -q PINNED && pass "alias list: PINNED shown while an alias is pinned" ||
	fail "alias list without PINNED: [$out]"

# A store whose usbpath is no port path is corrupt, and left alone.
printf '{"devices": [{"alias": "ch", "uid": "%s", "target": "wch_ch340", "usbpath": "../../etc"}]}\n' "$CH" >"$STORE"
cp "$STORE" "$TMP/before"
ztc_under ch340_twins device alias put b08a x wch_ch340 --port /dev/ttyUSB0
expect_rc 1 "bad usbpath in the store"; expect_err "usbpath is not a USB port path" "bad usbpath in the store"
expect_one_line "bad usbpath in the store"; unchanged "bad usbpath in the store"
finish
