# alias.sh: ztc device alias put/del: prefixes, targets, classes, the store's atomicity and locking.
. "$top_srcdir/tests/lib.sh"
set -e
STORE="$ZTC_HOME/devices.json"
DUE=df78e45849d9f7d1c9b29def5b9ffb7bf0b74429

ztc_under arduino_due device alias put df78 due arduino_due
expect_rc 0 "alias put by uid prefix"
ztc_under arduino_due -J device discover --matchdb
[ "$(printf '%s\n' "$out" | "$JSONL" get alias target classname uid)" = "due|arduino_due|ArduinoDue|$DUE" ] &&
	pass "an alias pins the Due to one target" || fail "pinned due: $out"
[ "$(stat -c %a "$ZTC_HOME")" = 700 ] && pass "ZTC_HOME created 0700" || fail "ZTC_HOME mode $(stat -c %a "$ZTC_HOME")"

# Options are stored; -J prints the stored entry.
ztc_under arduino_due -J device alias put "$DUE" due arduino_due --name "Bench Due" --chipid ABCDEF0123 --remote_id r-1
expect_rc 0 "alias put with options"
[ "$(printf '%s\n' "$out" | "$JSONL" get alias name chipid remote_id classname)" = "due|Bench Due|ABCDEF0123|r-1|ArduinoDue" ] &&
	pass "alias put -J prints the entry" || fail "alias put -J: $out"
ztc_under arduino_due -J device discover --matchdb
[ "$(printf '%s\n' "$out" | "$JSONL" get name chipid remote_id)" = "Bench Due|ABCDEF0123|r-1" ] &&
	pass "matched record carries name, chipid, remote_id" || fail "matched known: $out"
# Re-aliasing the same uid to the same target keeps what registration stored.
ztc_under arduino_due device alias put df due2 arduino_due
ztc_under arduino_due -J device discover --matchdb
[ "$(printf '%s\n' "$out" | "$JSONL" get alias chipid remote_id)" = "due2|ABCDEF0123|r-1" ] &&
	pass "re-alias keeps chipid and remote_id" || fail "re-alias: $out"
grep -q '"alias": "due"' "$STORE" && fail "old alias still stored" || pass "a uid has one alias"
# A different target drops them.
ztc_under arduino_due -J device alias put df flip flipnclick_sam3x
[ "$(printf '%s\n' "$out" | "$JSONL" get alias target chipid)" = "flip|flipnclick_sam3x|null" ] &&
	pass "new target: chip id dropped" || fail "retarget: $out"

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
expect_rc 2 "missing TARGET"; expect_err "missing arguments" "missing TARGET"
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
[ "$(printf '%s\n' "$out" | "$JSONL" get classname)" = "ModeB" ] && pass "--classname picks the class" || fail "classname: $out"

# A board without USB circuitry, reached through a probe: the probe's uid gets the board's target.
ztc_under nucleo_f401re -J device alias put 4f yarm acme_yarm
expect_rc 0 "alias a probe to a JTAG-only board"
[ "$(printf '%s\n' "$out" | "$JSONL" get target classname)" = "acme_yarm|AcmeYarm" ] && pass "probe -> acme_yarm" || fail "yarm: $out"
ztc_under nucleo_f401re -J device discover --matchdb
[ "$(printf '%s\n' "$out" | "$JSONL" get alias target)" = "yarm|acme_yarm" ] && pass "the probe now matches acme_yarm only" || fail "yarm match: $out"

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
expect_rc 0 "del by unique prefix"
[ ! -e "$ZTC_HOME/devices.json.Ab3xYz" ] && pass "an orphan devices.json.XXXXXX is removed by the next write" || fail "orphan temp file left"
[ -e "$ZTC_HOME/devices.json.keep" ] && [ -e "$ZTC_HOME/devices.json.lock" ] && pass "other files beside the store are kept" || fail "removed a file that is not a temp file"
rm -f "$ZTC_HOME/devices.json.keep"
grep -q '"two"' "$STORE" && fail "two still stored" || pass "two deleted by a unique prefix"
ztc_run device alias del
expect_rc 2 "del without ALIAS"

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
