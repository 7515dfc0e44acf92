# alias.sh: ztc device alias put/del: prefixes, targets, classes, the store's atomicity and locking.
. "$top_srcdir/tests/lib.sh"
set -e
STORE="$ZTC_HOME/devices.json"
DUE=df78e45849d9f7d1c9b29def5b9ffb7bf0b74429

ztc_under arduino_due device alias put df78 due arduino_due
expect_rc 0 "alias put by uid prefix"
expect_matchdb arduino_due "alias target classname uid" "due|arduino_due|ArduinoDue|$DUE" \
	"an alias pins the Due to one target"
[ "$(stat -c %a "$ZTC_HOME")" = 700 ] && pass "ZTC_HOME created 0700" || fail "ZTC_HOME mode $(stat -c %a "$ZTC_HOME")"

# Options are stored; -J prints the stored entry.
ztc_under arduino_due -J device alias put "$DUE" due arduino_due --name "Bench Due" --chipid ABCDEF0123 --remote_id r-1
expect_rc 0 "alias put with options"
expect_fields "alias name chipid remote_id classname" "due|Bench Due|ABCDEF0123|r-1|ArduinoDue" \
	"alias put -J prints the entry"
expect_matchdb arduino_due "name chipid remote_id" "Bench Due|ABCDEF0123|r-1" \
	"matched record carries name, chipid, remote_id"
# Re-aliasing the same uid to the same target keeps what registration stored.
ztc_under arduino_due device alias put df due2 arduino_due
expect_err "ztc: warning: due2 replaces due as the alias of device $DUE" "a put that renames a device says so on stderr"
expect_matchdb arduino_due "alias chipid remote_id" "due2|ABCDEF0123|r-1" "re-alias keeps chipid and remote_id"
grep -q '"alias": "due"' "$STORE" && fail "old alias still stored" || pass "a uid has one alias"
# A different target drops them.
ztc_under arduino_due -J device alias put df flip flipnclick_sam3x
expect_fields "alias target chipid" "flip|flipnclick_sam3x|null" "new target: chip id dropped"

# Errors: one line, exit status, store untouched.
cp "$STORE" "$TMP/before"
unchanged() { cmp -s "$STORE" "$TMP/before" && pass "$1: store unchanged" || fail "$1: store changed"; }
ztc_under arduino_due device alias put df x no_such_board
expect_rc 1 "unknown target"; expect_err "unknown target 'no_such_board'" "unknown target"; expect_one_line "unknown target"; unchanged "unknown target"
ztc_under arduino_due device alias put 0123 x arduino_due
expect_rc 1 "unknown uid prefix"; expect_err "no connected device uid matches '0123'; candidates: $DUE" "unknown uid lists candidates"; unchanged "unknown uid"
ztc_under desk device alias put d x arduino_due
expect_rc 1 "ambiguous uid prefix"
expect_err "'d' matches several connected device uids: d624c9720450f7f869baf78cba59805c20ea5aaf, $DUE" "ambiguous uid lists candidates"
expect_one_line "ambiguous uid"; unchanged "ambiguous uid"
ztc_under arduino_due device alias put df "my due" arduino_due
expect_rc 2 "alias with a space"; expect_err "invalid alias 'my due'" "alias with a space"; unchanged "alias with a space"
ztc_under arduino_due device alias put df x st_nucleof401re
expect_rc 1 "target not matching"; expect_err "device 2341:003D does not match any class of st_nucleof401re" "target not matching"; unchanged "target not matching"
ztc_under arduino_due device alias put df x arduino_due --classname Nope
expect_rc 1 "unknown class"; expect_err "target arduino_due has no class 'Nope' (its classes: ArduinoDue)" "unknown class"; unchanged "unknown class"
ztc_under arduino_due device alias put df x
expect_rc 2 "missing TARGET"; expect_err "ztc: missing TARGET" "missing TARGET"; unchanged "missing TARGET"
ztc_under arduino_due device alias put df x arduino_due extra
expect_rc 2 "extra argument"; expect_err "unexpected argument 'extra'" "extra argument"
ztc_under arduino_due device alias put df x arduino_due --bogus
expect_rc 2 "unknown option"; unchanged "unknown option"
# An alias belongs to one device.
ztc_under photon device alias put 5a flip particle_photon
expect_rc 1 "alias taken"; expect_err "alias 'flip' is already used by device $DUE" "alias taken"; unchanged "alias taken"

# --classname is required when several classes of the target match the device.
mkdir -p "$TMP/db/twoclass"
cat >"$TMP/db/twoclass/device.json" <<'JSON'
{"name": "Two Class", "target": "twoclass", "type": "board",
 "classes": [{"class": "atmel.ModeA", "usb": ["2341:003D"]}, {"class": "atmel.ModeB", "usb": ["2341:003D"]}]}
JSON
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_under arduino_due device alias put df two twoclass
expect_rc 1 "several matching classes"; expect_err "--classname is required: several classes of twoclass match this device: ModeA, ModeB" "several classes"; unchanged "several classes"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_under arduino_due -J device alias put df two twoclass --classname atmel.ModeB
expect_rc 0 "--classname module.Class"
expect_fields "classname" "ModeB" "--classname picks the class"

# A board without USB circuitry, reached through a probe: the probe's uid gets the board's target.
ztc_under nucleo_f401re -J device alias put 4f yarm acme_yarm
expect_rc 0 "alias a probe to a JTAG-only board"
expect_fields "target classname" "acme_yarm|AcmeYarm" "probe -> acme_yarm"
expect_matchdb nucleo_f401re "alias target" "yarm|acme_yarm" "the probe now matches acme_yarm only"

# alias del: exact, unique prefix, ambiguous, unknown.
cp "$STORE" "$TMP/before"
ztc_run device alias del nothere
expect_rc 1 "del unknown"; expect_err "no alias matches 'nothere'" "del unknown"; unchanged "del unknown"
ztc_run device alias del ''
expect_rc 1 "del empty"; unchanged "del empty"
# A temporary file left by a writer killed mid-write is removed by the next write; other files stay.
printf 'half' >"$ZTC_HOME/devices.json.Ab3xYz"
printf 'mine' >"$ZTC_HOME/devices.json.keep"
ztc_run device alias del tw
expect_rc 1 "del by a prefix without a terminal or --yes"
[ "$err" = "ztc: 'tw' is only the start of alias 'two': give the whole alias, or --yes to delete it" ] &&
	pass "del by prefix, no terminal: one line saying what to do" || fail "del by prefix: [$err]"
unchanged "del by prefix without --yes"
ztc_run device alias del tw --yes
expect_rc 0 "del by unique prefix with --yes"
expect_out "alias two deleted" "del --yes names the alias deleted"
[ ! -e "$ZTC_HOME/devices.json.Ab3xYz" ] && pass "an orphan devices.json.XXXXXX is removed by the next write" || fail "orphan temp file left"
[ -e "$ZTC_HOME/devices.json.keep" ] && [ -e "$ZTC_HOME/devices.json.lock" ] && pass "other files beside the store are kept" || fail "removed a file that is not a temp file"
rm -f "$ZTC_HOME/devices.json.keep"
grep -q '"two"' "$STORE" && fail "two still stored" || pass "two deleted by a unique prefix"
ztc_run device alias del
expect_rc 2 "del without ALIAS"

# ---- issue 16 -------------------------------------------------------------------------------------------
# uid prefixes in any case; a port path names the device on it; -J results of put and del.
cp "$STORE" "$STORE.keep"
ztc_under arduino_due -J device alias put DF78E4 upper arduino_due --remote-id r-9
expect_rc 0 "alias put by an upper-case uid prefix"
expect_fields "alias uid remote_id" "upper|$DUE|r-9" "upper-case uid prefix, --remote-id (hyphen) stored"
ztc_under arduino_due -J device alias put /dev/ttyACM0 byport arduino_due
expect_rc 0 "alias put by port"
expect_fields "alias uid" "byport|$DUE" "the port names the Due"
cp "$STORE" "$TMP/before"
ztc_under desk device alias put /dev/ttyACM9 x arduino_due
expect_rc 1 "alias put on a port nothing is on"
[ "$err" = "ztc: no connected device has the port /dev/ttyACM9; ports: /dev/ttyACM2, /dev/ttyACM1, /dev/ttyACM0, /dev/ttyUSB0" ] &&
	pass "unknown port: one line listing the ports" || fail "unknown port: [$err]"
unchanged "unknown port"
ztc_under desk device alias put /dev/ttyACM0 x
expect_rc 2 "by port, TARGET missing"; expect_err "ztc: missing TARGET" "by port, TARGET missing"
# A programmer takes only a board it can program.
ztc_under nodemcu2 device alias put e7 x arduino_due
expect_rc 1 "Due on a CP2102"
want="ztc: arduino_due cannot be programmed through device 10C4:EA60 (Silicon Labs CP210x USB to UART bridge, a"
want+=" USB-serial adapter): it has USB of its own and its flash method does not work over a serial bootloader;"
want+=" alias the board's own USB device instead (see 'ztc device discover --matchdb')"
[ "$err" = "$want" ] &&
	pass "Due on a CP2102: refused, one line" || fail "Due on a CP2102: [$err]"
unchanged "Due on a CP2102"
ztc_under nucleo_f401re device alias put 4f x arduino_due
expect_rc 1 "Due on an ST-Link"
expect_err "ztc: arduino_due cannot be programmed through device 0483:374B (ST-Link V2-1, a probe): it has USB of\
 its own and no jtag data (jtag_capable, jtag_class) for a probe" "Due on an ST-Link: refused"
expect_one_line "Due on an ST-Link"; unchanged "Due on an ST-Link"
ztc_under nucleo_f401re device alias put 4f x arduino_due --classname ArduinoDue
expect_rc 1 "Due on an ST-Link with --classname"; unchanged "Due on an ST-Link with --classname"
ztc_under nodemcu2 -J device alias put e7 wemos wemos_d1_mini
expect_rc 0 "an ESP8266 board (flashed over its UART) on a CP2102"
ztc_under nucleo_f401re -J device alias put 4f xpl xplained_d21
expect_rc 0 "a jtag-capable board on an ST-Link"
expect_fields "target classname" "xplained_d21|XplainedProSamD21" "the probe pins the board's jtag_class"
# alias del: -J names the alias deleted; the exact alias needs no --yes.
ztc_run -J device alias del wemos
expect_rc 0 "del the exact alias"; expect_out '{"alias":"wemos"}' "del -J prints the alias deleted"

# alias list: every known device, connected or not, its port when connected; table and -J.
ztc_under desk device alias put 5a photon particle_photon --chipid C0FFEE --remote-id dev-7
ztc_under desk -J device alias list
expect_rc 0 "alias list -J"
# connected: a JSON boolean (jsonl reads strings), taken from the line as printed.
connected_of() { printf '%s\n' "$out" | sed 's/.*"connected":\([a-z]*\),.*/\1/' | paste -sd' '; }
[ "$(printf '%s\n' "$out" | "$JSONL" get alias target chipid remote_id port)" = "byport|arduino_due|null|r-9|/dev/ttyACM0
photon|particle_photon|C0FFEE|dev-7|/dev/ttyACM1
xpl|xplained_d21|null|null|/dev/ttyACM2" ] && [ "$(connected_of)" = "true true true" ] && pass "alias list -J: connected devices by port" || fail "alias list -J: $out"
[ "$(printf '%s\n' "$out" | head -1 | sed 's/"\([a-z_]*\)":[^,}]*[,}]/\1 /g')" = "{alias uid target name chipid remote_id classname usbpath connected port " ] &&
	pass "alias list -J keys" || fail "alias list keys: $out"
ztc_under photon -J device alias list
[ "$(printf '%s\n' "$out" | "$JSONL" get alias port | tr '\n' ' ')" = "photon|/dev/ttyACM0 byport|null xpl|null " ] &&
	[ "$(connected_of)" = "true false false" ] &&
	pass "alias list: the unplugged ones after, not connected, no port" || fail "alias list photon: $out"
ztc_under photon device alias list
expect_rc 0 "alias list table"
[ "$out" = "PORT          ALIAS   UID       TARGET           CHIPID  REMOTE_ID  CONNECTED
/dev/ttyACM0  photon  5ae5ef87  particle_photon  C0FFEE  dev-7      yes
-             byport  df78e458  arduino_due      -       r-9        no
-             xpl     4fdcb314  xplained_d21     -       -          no" ] &&
	pass "alias list table: port first, short uids, connected or not" || fail "alias list table: [$out]"
rm -f "$STORE"
ztc_under photon device alias list
expect_rc 0 "alias list, no store"; expect_out "No known devices: give one an alias with 'ztc device alias put UID ALIAS TARGET'." "alias list, no store"
ztc_under photon -J device alias list
expect_out "" "alias list -J, no store: nothing"
[ ! -e "$STORE" ] && pass "alias list writes nothing" || fail "alias list wrote $STORE"
# Typing the whole alias at the terminal confirms a prefix; anything else keeps it.
mv "$STORE.keep" "$STORE"
if script -qefc true /dev/null >/dev/null 2>&1; then
	cp "$STORE" "$TMP/before"
	printf 'yarn\n' | script -qefc "'$ZTC' device alias del ya" /dev/null >"$TMP/tty.out" 2>&1 || true
	grep -q "ztc: 'ya' is the start of alias 'yarm' (acme_yarm, uid 4fdcb314426c...); type the whole alias to delete it: " "$TMP/tty.out" &&
		grep -q "ztc: not deleted: that is not 'yarm'" "$TMP/tty.out" && pass "del by prefix at a terminal: asks, a wrong answer keeps it" ||
		fail "del at a terminal, wrong answer: $(cat "$TMP/tty.out")"
	unchanged "del at a terminal, wrong answer"
	printf 'yarm\n' | script -qefc "'$ZTC' device alias del ya" /dev/null >"$TMP/tty.out" 2>&1 || true
	grep -q "alias yarm deleted" "$TMP/tty.out" && ! grep -q '"yarm"' "$STORE" && pass "del by prefix at a terminal: the whole alias typed deletes it" ||
		fail "del at a terminal: $(cat "$TMP/tty.out")"
else
	echo "skip: script(1) cannot make a terminal here: the confirmation is not checked"
fi

# A corrupt store is reported and never overwritten.
printf '{"devices": [{"alias": ' >"$STORE"
cp "$STORE" "$TMP/before"
ztc_under arduino_due device discover --matchdb
expect_rc 1 "matchdb with a corrupt store"; expect_err "devices.json is corrupt" "corrupt store"; expect_one_line "corrupt store"
ztc_under arduino_due device alias put df due arduino_due
expect_rc 1 "alias put with a corrupt store"; unchanged "corrupt store, alias put"
ztc_run device alias del due
expect_rc 1 "alias del with a corrupt store"; unchanged "corrupt store, alias del"
printf '{"devices": [{"alias": "a", "uid": 5, "target": "x"}]}' >"$STORE"
ztc_run device alias del a
expect_rc 1 "wrong types"; expect_err "devices[0].uid is not a string" "wrong types"
rm -f "$STORE"

# Concurrency: 8 processes putting 8 different aliases at once leave all 8 in the store.
gen="$TMP/eight.umockdev"
for i in 1 2 3 4 5 6 7 8; do
	sed "s/75330303035351E0A1C0/SERIAL000$i/g; s#1-1#1-$i#g; s#001/002#001/01$i#g; s/ttyACM0/ttyACM$i/g" \
		"$DATA/arduino_due.umockdev"
	echo
done >"$gen"
"$UMOCKDEV_RUN" -d "$gen" -- "$ZTC" -J device discover >"$TMP/eight.out"
[ "$(wc -l <"$TMP/eight.out")" = 8 ] && pass "eight boards generated" || fail "eight boards: $(cat "$TMP/eight.out")"
pids=""
i=0
for uid in $("$JSONL" get uid <"$TMP/eight.out"); do
	i=$((i + 1))
	"$UMOCKDEV_RUN" -d "$gen" -- "$ZTC" device alias put "$uid" "board$i" arduino_due >"$TMP/p$i.out" 2>&1 &
	pids="$pids $!"
done
okp=0
for p in $pids; do wait "$p" && okp=$((okp + 1)); done
[ "$okp" = 8 ] && pass "8 parallel alias puts succeeded" || fail "parallel puts: $okp of 8 ok: $(cat "$TMP"/p*.out)"
[ "$(grep -c '"alias": "board' "$STORE")" = 8 ] && pass "all 8 aliases in the store" || fail "store after parallel puts: $(cat "$STORE")"
ls "$ZTC_HOME" | grep -q 'devices.json\.' && ls "$ZTC_HOME" | grep -v lock | grep -q 'devices.json\.' &&
	fail "temporary files left: $(ls "$ZTC_HOME")" || pass "no temporary files left"
finish
