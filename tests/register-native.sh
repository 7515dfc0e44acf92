# register-native.sh: end to end, the Atmel SAM boards registered natively: the chip id is read over
# SAM-BA from the simulated monitor (tests/tools/samba-sim behind fakeboard --serve) with no register.vm and
# no flashing tool; a silent board, a wrong chip, a bad token and a backend that is down each give one line
# and leave the store and the board as they were.
. "$top_srcdir/tests/backend/lib.sh"
set -e
FAKE="$top_builddir/tests/tools/fakeboard"
SIM="$top_builddir/tests/tools/samba-sim"
STORE="$ZTC_HOME/devices.json"
export ZTC_TOKEN="$TOKEN"
# Not ZTC_FLASH_NO_SLEEP: the simulated Due sees the 1200-baud touch by the port's speed, which needs the
# touch's wait (1 s) to be real.
unset ZTC_FLASH_NO_SLEEP
start_backend

# No flashing tool can run: ztc gets a PATH with a shell and what libtool's wrapper script needs, nothing
# else, whatever the machine has.
mkdir -p "$TMP/bin"
for c in cat sh bash env ls; do ln -sf "$(command -v "$c")" "$TMP/bin/$c"; done
# No register.vm anywhere: the database is the built-in one, which has none for these boards.
for t in arduino_due flipnclick_sam3x arduino_mkr1000 adafruit_feather_m0wifi sodaq_explorer; do
	[ ! -e "$top_srcdir/db/$t/register.vm" ] || fail "db/$t has a register.vm: the test would not show the native path"
done

DUEID=8A4B3C2D10203040AABBCCDD55667788
MKRID=6F1E2D3C4B5A69788796A5B4C3D2E1F0

# board RECORD SIM-ARGS -- ZTC-ARGS: run ztc (PATH without tools) with the board of tests/data/RECORD
# whose /dev/ttyACM0 is served by samba-sim SIM-ARGS (logging to $TMP/sim.log, started empty). Sets
# $out, $err, $rc and $secs (how long ztc ran).
board() {
	local rec=$1 opts rest t0
	shift
	split_args "$@"
	: >"$TMP/sim.log"
	t0=$(date +%s)
	capture "$UMOCKDEV_RUN" -- "$FAKE" --timeout 60 -d "$DATA/$rec.umockdev" \
		--serve "/dev/ttyACM0=$SIM --log $TMP/sim.log ${opts[*]}" -- env PATH="$TMP/bin" "$ZTC" "${rest[@]}"
	secs=$(($(date +%s) - t0))
}
snapshot_store() { cp "$STORE" "$TMP/store.before"; }
store_unchanged() { cmp -s "$STORE" "$TMP/store.before" && pass "$1: store unchanged" || fail "$1: store changed: $(cat "$STORE")"; }
# The board's flash and what it was told: no write of any kind reached the monitor.
board_untouched() {
	cmp -s "$TMP/flash" "$TMP/flash.before" && pass "$1: the board's flash is unchanged" || fail "$1: flash changed"
	if grep -q '^[WOHSGXY]' "$TMP/sim.log"; then
		fail "$1: the monitor was told to write: $(grep '^[WOHSGXY]' "$TMP/sim.log" | tr '\n' ' ')"
	else
		pass "$1: nothing was written to the board"
	fi
}
# Exactly one "ztc: " line: the error (phase lines come before it).
one_error() {
	[ "$(printf '%s\n' "$err" | grep -c '^ztc: ')" = 1 ] && pass "$1: one error line" || fail "$1: errors: $err"
}
flash_image() { head -c "$2" /dev/urandom >"$TMP/flash"; cp "$TMP/flash" "$TMP/flash.before"; }

# ---- the Arduino Due: a 1200-baud touch on the programming port, then SAM-BA on the SAM3X's ROM -------------
ztc_under arduino_due device alias put df due arduino_due
flash_image sam3x 524288
board arduino_due --chip sam3x8e --touch-erase --uid "$DUEID" --flash "$TMP/flash" -- -J device register due
expect_rc 0 "register the Due natively"
expect_fields "alias chipid" "due|$DUEID" "Due: the unique id read over SAM-BA is the chip id"
[ "$(req 1 line)" = "GET /v1/vms?from=0" ] && pass "Due: the token was proven first" || fail "first request: $(req 1 line)"
[ "$(req -1 line)" = "POST /v1/devices" ] && pass "Due: POST /devices" || fail "request: $(req -1 line)"
[ "$(req -1 json)" = "{\"category\": \"atmelsam3x\", \"name\": \"Arduino Due\", \"on_chip_id\": \"$DUEID\", \"type\": \"arduino_due\"}" ] &&
	pass "Due: the POST carries the chip id" || fail "Due body: $(req -1 json)"
remote=$("$JSONL" get remote_id <<<"$out")
grep -q "\"remote_id\": \"$remote\"" "$STORE" && grep -q "\"chipid\": \"$DUEID\"" "$STORE" &&
	pass "Due: chip id and remote id stored" || fail "Due store: $(cat "$STORE")"
phases=$(printf '%s\n' "$err" | grep -v '^ztc: ' | tr '\n' '|')
case $phases in
*"checking the token with the backend|"*"starting the bootloader (1200-baud touch)|"*"reading the chip id (SAM-BA)|"*"registering the chip id with the backend|"*)
	pass "Due: one line per phase, in order" ;;
*) fail "Due phases: $err" ;;
esac
# What the monitor saw: the touch, then the identification and the unique-id sequence of the datasheet.
seq=$(tr '\n' ' ' <"$TMP/sim.log")
case $seq in
*"1200-baud touch:"*" N# "*"V# wE000ED00,4# w400E0940,4# "*"W400E0A04,5A00000E# "*"w00080000,4# w00080004,4# w00080008,4# w0008000C,4# W400E0A04,5A00000F# "*)
	pass "Due: touch, N#, V#, CPUID, CHIPID_CIDR, STUI, four words at 0x00080000, SPUI" ;;
*) fail "Due monitor log: $seq" ;;
esac
[ "$(grep -c '^[WOHSGXY]' "$TMP/sim.log")" = 2 ] && pass "Due: the only writes were STUI and SPUI" ||
	fail "Due writes: $(grep '^[WOHSGXY]' "$TMP/sim.log" | tr '\n' ' ')"
tail -1 "$TMP/sim.log" | grep -q '^w400E0A08,4#$' && pass "Due: left in SAM-BA (FRDY checked after SPUI, no reset)" ||
	fail "Due: last command $(tail -1 "$TMP/sim.log")"
# The touch is what starts SAM-BA on a Due: the flash was erased by it, as the board's bridge does.
[ "$(od -An -tx1 -N4 "$TMP/flash" | tr -d ' ')" = ffffffff ] && pass "Due: the touch erased the sketch (as on the board)" ||
	fail "Due: flash not erased by the touch"

# ---- the MKR1000 in its bootloader identity: SAM-BA over USB, the SAMD21's serial number -----------------------
ztc_under mkr1000_boot device alias put cb mkr arduino_mkr1000
board mkr1000_boot --chip samd21g18a --uid "$MKRID" -- -J device register mkr
expect_rc 0 "register the MKR1000 natively"
expect_fields "alias chipid" "mkr|$MKRID" "MKR1000: the serial number is the chip id"
[ "$(req -1 json)" = "{\"category\": \"atmelsamd21\", \"name\": \"Arduino/Genuino MKR1000\", \"on_chip_id\": \"$MKRID\", \"type\": \"arduino_mkr1000\"}" ] &&
	pass "MKR1000: the POST carries the chip id" || fail "MKR1000 body: $(req -1 json)"
grep -q "\"chipid\": \"$MKRID\"" "$STORE" && pass "MKR1000: chip id stored" || fail "MKR1000 store: $(cat "$STORE")"
[ "$(tr '\n' ' ' <"$TMP/sim.log")" = "N# V# wE000ED00,4# w41002018,4# w0080A00C,4# w0080A040,4# w0080A044,4# w0080A048,4# " ] &&
	pass "MKR1000: N#, V#, CPUID, DSU DID, the four serial-number words, nothing written" ||
	fail "MKR1000 monitor log: $(tr '\n' ' ' <"$TMP/sim.log")"

# ---- failures: one line, the store and the board as they were ---------------------------------------------------
snapshot_store
flash_image sam3x 524288
board arduino_due --chip sam3x8e --silent --flash "$TMP/flash" -- device register due
expect_rc 1 "silent Due"
expect_err "ztc: /dev/ttyACM0: no answer from the SAM-BA bootloader (sent N# 6 times in 3 s): Arduino Due is not in its bootloader: check that the cable is on the programming port" "silent Due"
one_error "silent Due"; store_unchanged "silent Due"; board_untouched "silent Due"
[ "$secs" -le 8 ] && pass "silent Due: failed in $secs s" || fail "silent Due: took $secs s"

board mkr1000_boot --chip samd21g18a --silent -- device register mkr
expect_rc 1 "silent MKR1000"
expect_err "no answer from the SAM-BA bootloader (sent N# 6 times in 3 s): Arduino/Genuino MKR1000 is not in its bootloader: double-tap the reset button" "silent MKR1000"
one_error "silent MKR1000"; store_unchanged "silent MKR1000"
[ "$secs" -le 8 ] && pass "silent MKR1000: failed in $secs s" || fail "silent MKR1000: took $secs s"

# A board running a sketch that prints on the port: its text is no SAM-BA answer.
capture "$UMOCKDEV_RUN" -- "$FAKE" --timeout 60 -d "$DATA/mkr1000_boot.umockdev" \
	--talk "/dev/ttyACM0=temperature 21.5" -- env PATH="$TMP/bin" "$ZTC" device register mkr
expect_rc 1 "a sketch talking"
expect_err "ztc: /dev/ttyACM0: no answer from the SAM-BA bootloader (sent N# 6 times in 3 s)" "a sketch talking"
one_error "a sketch talking"; store_unchanged "a sketch talking"

# An id of all zeros is no chip's: refused rather than registered.
board mkr1000_boot --chip samd21g18a --uid 00000000000000000000000000000000 -- device register mkr
expect_rc 1 "all-zero id"
expect_err "ztc: /dev/ttyACM0: the SAMD21G18A's unique id read as 00000000000000000000000000000000, which is no chip's id" "all-zero id"
one_error "all-zero id"; store_unchanged "all-zero id"

# A monitor whose version line is not SAM-BA's: not a bootloader ztc knows how to read.
board mkr1000_boot --chip samd21g18a --version "hello" -- device register mkr
expect_rc 1 "not a SAM-BA version line"
expect_err "ztc: /dev/ttyACM0: the answer to V# is not a SAM-BA version line ('hello')" "not a SAM-BA version line"
one_error "not a SAM-BA version line"; store_unchanged "not a SAM-BA version line"

flash_image sam3x 524288
board arduino_due --chip sam3x8e --chip-id 284E0A61 --uid "$DUEID" --flash "$TMP/flash" -- device register due
expect_rc 1 "wrong chip on the Due"
expect_err "ztc: /dev/ttyACM0: the chip is SAM3X8C (CHIPID_CIDR 0x284E0A61), not the SAM3X8E of Arduino Due" "wrong chip on the Due"
one_error "wrong chip"; store_unchanged "wrong chip"; board_untouched "wrong chip"

# A SAM3X answering on the MKR1000's port: named from its own registers, never asked for the DSU it lacks
# (a read there would hang its monitor).
board mkr1000_boot --chip sam3x8e --link usb -- device register mkr
expect_rc 1 "SAM3X on the MKR1000's port"
expect_err "the chip is SAM3X8E (CHIPID_CIDR 0x285E0A60), not the SAMD21 of Arduino/Genuino MKR1000" "SAM3X on the MKR1000's port"
one_error "SAM3X on the MKR1000's port"; store_unchanged "SAM3X on the MKR1000's port"
grep -q "fault" "$TMP/sim.log" && fail "the plugin read a register the SAM3X lacks: $(cat "$TMP/sim.log")" ||
	pass "SAM3X on the MKR1000's port: only registers the chip has were read"

flash_image sam3x 524288
ZTC_TOKEN=wrong-token board arduino_due --chip sam3x8e --touch-erase --uid "$DUEID" --flash "$TMP/flash" -- device register due
expect_rc 1 "bad token"; expect_err "invalid token" "bad token"
one_error "bad token"; store_unchanged "bad token"; board_untouched "bad token"
[ ! -s "$TMP/sim.log" ] && pass "bad token: no touch, no command: the board never heard of it" || fail "bad token: $(cat "$TMP/sim.log")"

ZTC_BACKEND_URL="http://127.0.0.1:1/v1" board arduino_due --chip sam3x8e --touch-erase --uid "$DUEID" --flash "$TMP/flash" -- device register due
expect_rc 1 "backend down"; expect_err "cannot reach the backend" "backend down"
one_error "backend down"; store_unchanged "backend down"; board_untouched "backend down"
[ ! -s "$TMP/sim.log" ] && pass "backend down: the board never heard of it" || fail "backend down: $(cat "$TMP/sim.log")"

# ---- a device.json without chip_model: the reader declines before touching the board, register.vm runs -----------
mkdir -p "$TMP/db/arduino_due"
grep -v '"chip_model"' "$top_srcdir/db/arduino_due/device.json" >"$TMP/db/arduino_due/device.json"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board arduino_due --chip sam3x8e --touch-erase --uid "$DUEID" -- device register due
expect_rc 1 "no chip_model"
expect_err "register.vm" "no chip_model: the registration firmware is needed"
one_error "no chip_model"; store_unchanged "no chip_model"
[ ! -s "$TMP/sim.log" ] && pass "no chip_model: the reader declined before touching the board" || fail "no chip_model: $(cat "$TMP/sim.log")"
finish
