# family.sh: a vendor board that reuses a built-in family under a class name of its own
# ("atmel.AcmeDueClone"), with its own USB id and a `flash` object, and no module of its own: the atmel
# module's default class stands in. It is listed, matched, aliased, registered and virtualized, with the
# stand-in tools of tests/flash/bin and the boards played by fakeboard on umockdev.
. "$top_srcdir/tests/backend/lib.sh"
set -e
FAKE="$top_builddir/tests/tools/fakeboard"
STORE="$ZTC_HOME/devices.json"
export PATH="$top_srcdir/tests/flash/bin:$PATH" STANDIN_RECORD="$TMP/rec" ZTC_FLASH_NO_SLEEP=1
export ZTC_TOKEN="$TOKEN"
mkdir -p "$STANDIN_RECORD"
start_backend

# The clone: the Due's device.json under another target, class name and USB id (1209:2DC1), and the
# simulated board's register.vm. No plugin module in the folder.
B="$TMP/db/acme_due_clone"
mkdir -p "$B"
sed 's/"Arduino Due"/"Acme Due Clone"/; s/"arduino_due"/"acme_due_clone"/; s/atmel\.ArduinoDue/atmel.AcmeDueClone/;
     s/\["2341:003D", "2A03:003D"\]/["1209:2DC1"]/; s/"virtualizable": "ArduinoDue"/"virtualizable": "AcmeDueClone"/' \
	"$top_srcdir/db/arduino_due/device.json" >"$B/device.json"
cp "$top_srcdir/db/ztc_sim/register.vm" "$B/register.vm"
grep -q '"class": "atmel.AcmeDueClone", "usb": \["1209:2DC1"\]' "$B/device.json" && grep -q '"flash"' "$B/device.json" &&
	pass "clone folder: class atmel.AcmeDueClone, USB 1209:2DC1, a flash object" || fail "clone device.json: $(cat "$B/device.json")"
sed 's#2341/3d/#1209/2dc1/#; s/=2341$/=1209/; s/=003d$/=2dc1/; s/Arduino_Due/Acme_Due_Clone/g' \
	"$DATA/arduino_due.umockdev" >"$TMP/clone.umockdev"
export ZTC_DB_PATH="$TMP/db:$top_srcdir/db"

ztc_run -J device supported
printf '%s\n' "$out" | "$JSONL" get target name type path | grep -qx "acme_due_clone|Acme Due Clone|board|$B" &&
	pass "listed by device supported" || fail "supported: $out $err"

"$UMOCKDEV_RUN" -d "$TMP/clone.umockdev" -- "$ZTC" -J device discover --matchdb >"$TMP/m.out" 2>"$TMP/m.err" || true
[ "$("$JSONL" get target classname port <"$TMP/m.out")" = "acme_due_clone|AcmeDueClone|/dev/ttyACM0" ] &&
	pass "matched by discover --matchdb" || fail "matchdb: $(cat "$TMP/m.out" "$TMP/m.err")"
uid=$("$JSONL" get uid <"$TMP/m.out")

# board ARGS... -- ZTC-ARGS: ztc with the clone plugged in (fakeboard options), like register.sh's.
board() {
	local opts rest
	split_args "$@"
	capture "$UMOCKDEV_RUN" -- "$FAKE" --timeout 60 -d "$TMP/clone.umockdev" "${opts[@]}" -- "$ZTC" "${rest[@]}"
}

board -- -J device alias put "${uid:0:6}" clone acme_due_clone
expect_rc 0 "alias put"
expect_fields "alias target classname" "clone|acme_due_clone|AcmeDueClone" "aliased with its own class name"

CLONECHIP=AC3EC10E0123456789AB
board --talk "/dev/ttyACM0=$CLONECHIP" -- -J device register clone
expect_rc 0 "register the clone"
expect_fields "alias chipid" "clone|$CLONECHIP" "chip id read from the serial lines"
grep -q "^bossac --usb-port=0 -p /dev/ttyACM0 -e -w {tmp}/[^ ]* -R --boot=1$" "$STANDIN_RECORD/calls" &&
	pass "register.vm flashed with bossac, as the flash object says" || fail "bossac call: $(cat "$STANDIN_RECORD/calls")"
[ "$(req -1 json)" = "{\"category\": \"atmelsam3x\", \"name\": \"Acme Due Clone\", \"on_chip_id\": \"$CLONECHIP\", \"type\": \"acme_due_clone\"}" ] &&
	pass "registered with the backend as acme_due_clone" || fail "registration body: $(req -1 json)"
grep -q "\"chipid\": \"$CLONECHIP\"" "$STORE" && pass "chip id stored" || fail "store: $(cat "$STORE")"

ztc_run -J vm create clone r2.6.0 chibi2
expect_rc 0 "vm create"
vm=$("$JSONL" get uid <<<"$out")
vmfile=$("$JSONL" get path <<<"$out")
case "$vmfile" in "$ZTC_HOME/vms/acme_due_clone/$CLONECHIP/$vm"_*.vm) pass "VM stored under the clone's target and chip id" ;;
*) fail "vm path: $vmfile" ;; esac
: >"$STANDIN_RECORD/calls"
rm -rf "$STANDIN_RECORD/files"
board -- device virtualize clone "${vm:0:6}"
expect_rc 0 "virtualize the clone"
grep -q "^bossac --usb-port=0 -p /dev/ttyACM0 -e -w {tmp}/[^ ]* -R --boot=1$" "$STANDIN_RECORD/calls" && pass "the VM flashed with bossac" ||
	fail "virtualize bossac call: $(cat "$STANDIN_RECORD/calls") $err"
python3 -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["bin"]))' \
	"$vmfile" >"$TMP/vm.bin"
flashed=$(ls "$STANDIN_RECORD/files/" 2>/dev/null | head -1)
[ -n "$flashed" ] && cmp -s "$TMP/vm.bin" "$STANDIN_RECORD/files/$flashed" && pass "bossac got the VM's image" ||
	fail "image given to bossac differs from the VM's (files: $(ls "$STANDIN_RECORD/files" 2>&1))"
finish
