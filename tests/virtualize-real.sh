# virtualize-real.sh: the core flow end to end on the Atmel SAM boards with Debian's bossac (bossa-cli) and
# nothing else: alias put, register (chip id read natively over SAM-BA, test backend), vm create, virtualize.
# The boards are tests/tools/samba-sim behind fakeboard --serve under umockdev; the real bossac flashes them.
# Afterwards the simulator's flash file holds the VM image at its address byte for byte (the SAMD21
# bootloader's 8 KB untouched), the Due boots from flash (GPNVM1), every board was reset into the image, the
# store and the backend saw what they should; a silent board, bossac missing from PATH and an image too big
# for the flash each give one line and leave the store and the board as they were. Skipped without bossac.
. "$top_srcdir/tests/backend/lib.sh"
set -e
BOSSAC=$(command -v bossac || true)
if [ -z "$BOSSAC" ]; then
	echo "SKIP: bossac is not on PATH: install the Debian package bossa-cli to virtualize the simulated SAM boards with it"
	exit 77
fi
FAKE="$top_builddir/tests/tools/fakeboard"
SIM="$top_builddir/tests/tools/samba-sim"
export ZTC_TOKEN="$TOKEN"
# Not ZTC_FLASH_NO_SLEEP: the simulated Due sees the 1200-baud touch by the port's speed, which needs the
# touch's wait (1 s) to be real.
unset ZTC_FLASH_NO_SLEEP
start_backend

# ztc runs with a PATH of its own: a shell and what libtool's wrapper script needs, plus (in $TMP/bin) the
# real bossac and nothing else, so no stand-in or other flashing tool can take its place.
mkdir -p "$TMP/bin" "$TMP/nobossac"
for c in cat sh bash env ls; do
	ln -sf "$(command -v "$c")" "$TMP/bin/$c"
	ln -sf "$(command -v "$c")" "$TMP/nobossac/$c"
done
ln -sf "$BOSSAC" "$TMP/bin/bossac"
BIN="$TMP/bin"

# board RECORD SIM-ARGS -- ZTC-ARGS: run ztc (PATH=$BIN) with the board of RECORD (a tests/data name or a
# path) whose /dev/ttyACM0 is served by samba-sim SIM-ARGS, logging to $TMP/sim.log (started empty).
# Sets $out, $err, $rc.
board() {
	local rec=$1 opts rest
	shift
	split_args "$@"
	: >"$TMP/sim.log"
	capture "$UMOCKDEV_RUN" -- "$FAKE" --timeout 120 -d "$(record_path "$rec")" \
		--serve "/dev/ttyACM0=$SIM --log $TMP/sim.log ${opts[*]}" -- env PATH="$BIN" "$ZTC" "${rest[@]}"
}
# Exactly one "ztc: " line: the error (phase lines come before it).
one_error() {
	[ "$(printf '%s\n' "$err" | grep -c '^ztc: ')" = 1 ] && pass "$1: one error line" || fail "$1: errors: $err"
}
# The bytes of the .vm file's bin (one base64 string) in FILE.
vm_bin() {
	python3 -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["bin"]))' \
		"$1" >"$2"
}
# range FILE OFFSET LENGTH: LENGTH bytes of FILE from OFFSET.
range() { tail -c +$(($2 + 1)) "$1" | head -c "$3"; }
# erased FILE OFFSET: every byte of FILE from OFFSET on is 0xFF.
erased() { [ -z "$(tail -c +$(($2 + 1)) "$1" | od -An -v -tx1 | tr -d ' \nf')" ]; }
# before: what the store, the flash and the backend hold now, for untouched() to compare with.
before() {
	snapshot before
	cp "$FLASH" "$TMP/flash.before"
	nreq_before=$(nrequests)
}
untouched() {
	unchanged_since before "$1"
	cmp -s "$FLASH" "$TMP/flash.before" && pass "$1: the board's flash is unchanged" || fail "$1: the flash changed"
	[ "$(nrequests)" = "$nreq_before" ] && pass "$1: no request to the backend" ||
		fail "$1: the backend got $(($(nrequests) - nreq_before)) request(s)"
}
# The monitor heard nothing at all: no touch, no command.
never_touched() {
	[ ! -s "$TMP/sim.log" ] && pass "$1: the board was never touched" ||
		fail "$1: the monitor saw: $(head -5 "$TMP/sim.log")"
}
# djson TARGET KEY: a top-level string of the board's device.json.
djson() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$top_srcdir/db/$1/device.json" "$2"
}

# register_and_create ALIAS TARGET RECORD SIM-ARGS...: register the aliased board natively and create a VM
# for it; sets $chip (expected: $ID), $remote, $vm (its uid) and $vmfile, and checks what the backend and
# the store saw.
register_and_create() {
	local alias=$1 target=$2 rec=$3 body
	shift 3
	reset_requests
	board "$rec" "$@" -- -J device register "$alias"
	expect_rc 0 "$target: register natively"
	chip=$("$JSONL" get chipid <<<"$out")
	remote=$("$JSONL" get remote_id <<<"$out")
	[ "$chip" = "$ID" ] && pass "$target: the chip id read over SAM-BA" || fail "$target: register: $out $err"
	[ "$(req 1 line)|$(req -1 line)" = "GET /v1/vms?from=0|POST /v1/devices" ] &&
		pass "$target: the token proven first, then POST /devices" ||
		fail "$target: requests $(req 1 line) $(req -1 line)"
	body="{\"category\": \"$(djson "$target" family_name)\", \"name\": \"$(djson "$target" name)\", "
	body="$body\"on_chip_id\": \"$ID\", \"type\": \"$target\"}"
	[ "$(req -1 json)" = "$body" ] && pass "$target: the POST carries the chip id" ||
		fail "$target: POST body $(req -1 json)"
	reset_requests
	ztc_run -J vm create "$alias" r2.0.10 chibi2
	expect_rc 0 "$target: vm create"
	vm=$("$JSONL" get uid <<<"$out")
	vmfile=$("$JSONL" get path <<<"$out")
	case $(req 1 line)$(req 1 json) in
	"POST /v1/vms"*"\"dev_uid\": \"$remote\""*) pass "$target: POST /vms for the registered device ($remote)" ;;
	*) fail "$target: vm create request $(req 1 line) $(req 1 json)" ;;
	esac
	case $vmfile in
	"$ZTC_HOME/vms/$target/$ID/${vm}_"*.vm)
		[ -f "$vmfile" ] && pass "$target: the VM stored under its target and chip id" || fail "$target: no $vmfile" ;;
	*) fail "$target: VM stored as $vmfile" ;;
	esac
	vm_bin "$vmfile" "$TMP/vm.bin"
}

# virtualize_ok TARGET ALIAS RECORD SIM-ARGS...: virtualize $vm; the backend hears nothing, the store is as
# it was, stdout names the VM.
virtualize_ok() {
	local target=$1 alias=$2 rec=$3
	shift 3
	snapshot virt
	reset_requests
	board "$rec" "$@" -- device virtualize "$alias" -- "$vm"
	expect_rc 0 "$target: virtualize with Debian's bossac"
	case $out in *"$vm"*) pass "$target: stdout names the VM" ;; *) fail "$target: stdout: $out" ;; esac
	unchanged_since virt "$target: virtualize"
	[ "$(nrequests)" = 0 ] && pass "$target: virtualize needs no backend" || fail "$target: $(nrequests) request(s)"
}

# bossac_failures WHO ALIAS RECORD CHIP MAX NAME SIZE [SIM-ARGS...]: virtualize $vm on the board of RECORD
# (samba-sim --chip CHIP SIM-ARGS --uid $ID --flash $FLASH) with no bossac on ztc's PATH, then on a silent
# board, then an image of MAX + 1 bytes (SIZE + 1), more than NAME takes: refused before the touch, which
# would erase the board's sketch. Each gives one error line and changes nothing.
bossac_failures() {
	local who=$1 alias=$2 rec=$3 chip=$4 max=$5 name=$6 size=$7 big
	shift 7
	before
	BIN="$TMP/nobossac" board "$rec" --chip "$chip" "$@" --uid "$ID" --flash "$FLASH" -- \
		device virtualize "$alias" -- "$vm"
	expect_rc 1 "$who, no bossac on PATH"
	expect_err "ztc: bossac not found on PATH: install the Debian package bossa-cli" "$who, no bossac on PATH"
	one_error "$who, no bossac on PATH"; untouched "$who, no bossac on PATH"; never_touched "$who, no bossac on PATH"

	before
	board "$rec" --chip "$chip" --silent --flash "$FLASH" -- device virtualize "$alias" -- "$vm"
	expect_rc 1 "silent $who"
	expect_err "ztc: bossac failed (exit status 1): No device found on /dev/ttyACM0" "silent $who"
	one_error "silent $who"; untouched "silent $who"

	head -c $((max + 1)) /dev/urandom >"$TMP/big.bin"
	scenario "GET /vms/ vmset bin \"$(base64 -w0 "$TMP/big.bin")\""
	ztc_run -J vm create "$alias" r2.0.10 chibi2 --feat big
	expect_rc 0 "vm create, a $size + 1 image"
	big=$("$JSONL" get uid <<<"$out")
	scenario
	before
	board "$rec" --chip "$chip" "$@" --uid "$ID" --flash "$FLASH" -- device virtualize "$alias" -- "$big"
	expect_rc 1 "$who, image too big"
	expect_err "ztc: the image ($((max + 1)) bytes) is larger than $name takes ($max bytes)" "$who, image too big"
	one_error "$who, image too big"; untouched "$who, image too big"; never_touched "$who, image too big"
}

# ---- SAM3X8E (Arduino Due, Flip & Click): touch, bossac over the programming port's UART -------------------
FLASH="$TMP/sam3x.flash"
ID=8A4B3C2D10203040AABBCCDD55667788
for t in arduino_due:due:ArduinoDue flipnclick_sam3x:fnc:FlipNClickSAM3X; do
	IFS=: read -r target alias class <<<"$t"
	export ZTC_HOME="$TMP/home.$target"
	ztc_under arduino_due device alias put df "$alias" "$target" --classname "$class"
	expect_rc 0 "$target: alias put"
	# A sketch in the flash, which the touch erases as the board's bridge does.
	head -c 524288 /dev/urandom >"$FLASH"
	register_and_create "$alias" "$target" arduino_due --chip sam3x8e --touch-erase --uid "$ID" --flash "$FLASH"
	virtualize_ok "$target" "$alias" arduino_due --chip sam3x8e --touch-erase --uid "$ID" --flash "$FLASH"
	n=$(wc -c <"$TMP/vm.bin")
	range "$FLASH" 0 "$n" | cmp -s - "$TMP/vm.bin" && pass "$target: the VM image is at 0x80000 byte for byte" ||
		fail "$target: the flash at 0x80000 is not the image"
	erased "$FLASH" "$n" && pass "$target: the rest of the flash is erased" || fail "$target: bytes after the image"
	head -1 "$TMP/sim.log" | grep -q '^1200-baud touch' && pass "$target: the 1200-baud touch came first" ||
		fail "$target: first event $(head -1 "$TMP/sim.log")"
	grep -qx 'W400E0A04,5A00010B#' "$TMP/sim.log" && pass "$target: GPNVM1 set (SGPB 1): boot from flash" ||
		fail "$target: no SGPB 1 in the monitor log"
	[ "$(tail -1 "$TMP/sim.log")" = "reset (RSTC_CR PROCRST): the chip runs its firmware, the monitor is gone" ] &&
		pass "$target: reset by RSTC_CR, the chip runs the image" || fail "$target: last event $(tail -1 "$TMP/sim.log")"
	[ "$target" != arduino_due ] || due_vm=$vm
done
# The Due's failures, with the VM virtualized above.
export ZTC_HOME="$TMP/home.arduino_due"
vm=$due_vm
bossac_failures Due due arduino_due sam3x8e 524288 "Arduino Due" "512 KB" --touch-erase

# ---- SAMD21 (MKR1000, Feather M0, ExpLoRer) in their bootloader: bossac over native USB, after the 8 KB --------
FLASH="$TMP/d21.flash"
ID=6F1E2D3C4B5A69788796A5B4C3D2E1F0
# The Feather M0's bootloader identity, 239A:000B, from the MKR1000's record.
sed -e 's/2341/239a/g; s#/4e/#/b/#; s/004e/000b/g; s/MKR1000/Feather_M0/g' "$DATA/mkr1000_boot.umockdev" \
	>"$TMP/feather_boot.umockdev"
feather_uid=$(printf '239A:000B:no_sid' | sha1sum | cut -c1-8)
mkr_uid=$(printf '2341:004E:no_sid' | sha1sum | cut -c1-8)
for t in arduino_mkr1000:mkr:mkr1000_boot:$mkr_uid \
	"adafruit_feather_m0wifi:feather:$TMP/feather_boot.umockdev:$feather_uid" \
	sodaq_explorer:sodaq:mkr1000_boot:$mkr_uid; do
	IFS=: read -r target alias rec uid <<<"$t"
	export ZTC_HOME="$TMP/home.$target"
	ztc_under "$rec" device alias put "$uid" "$alias" "$target"
	expect_rc 0 "$target: alias put (bootloader identity)"
	# The bootloader's 8 KB and an old sketch after it.
	head -c 262144 /dev/urandom >"$FLASH"
	cp "$FLASH" "$TMP/d21.orig"
	register_and_create "$alias" "$target" "$rec" --chip samd21g18a --uid "$ID" --flash "$FLASH"
	virtualize_ok "$target" "$alias" "$rec" --chip samd21g18a --uid "$ID" --flash "$FLASH"
	n=$(wc -c <"$TMP/vm.bin")
	range "$FLASH" 0 8192 | cmp -s - <(head -c 8192 "$TMP/d21.orig") &&
		pass "$target: the bootloader's 8 KB are untouched" || fail "$target: the bootloader changed"
	range "$FLASH" 8192 "$n" | cmp -s - "$TMP/vm.bin" && pass "$target: the VM image is at 0x2000 byte for byte" ||
		fail "$target: the flash at 0x2000 is not the image"
	erased "$FLASH" $((8192 + n)) && pass "$target: the old sketch after the image is erased" ||
		fail "$target: bytes after the image"
	grep -qx 'X00002000#' "$TMP/sim.log" && ! grep -q '^X0000[01]' "$TMP/sim.log" &&
		pass "$target: bossac erased from 0x2000 on, never below" ||
		fail "$target: erase commands $(grep '^X' "$TMP/sim.log")"
	[ "$(tail -1 "$TMP/sim.log")" = "reset (AIRCR SYSRESETREQ): the chip runs its firmware, the monitor is gone" ] &&
		pass "$target: reset by AIRCR, the bootloader starts the image" ||
		fail "$target: last event $(tail -1 "$TMP/sim.log")"
	[ "$target" != arduino_mkr1000 ] || mkr_vm=$vm
done
# The MKR1000's failures, with the VM virtualized above.
export ZTC_HOME="$TMP/home.arduino_mkr1000"
vm=$mkr_vm
# The image may take the 248 KB after the bootloader.
bossac_failures MKR1000 mkr mkr1000_boot samd21g18a 253952 "Arduino/Genuino MKR1000" "248 KB"
finish
