# dfu.sh: the dfu plugin end to end, with a Photon in DFU mode played by tests/tools/dfuse-model (a DfuSe
# bootloader behind an emulated usbdevfs node) and no dfu-util on PATH: register reads the chip id by
# DfuSe upload, a VM created against the test backend is virtualized (the image lands at its address, only
# the sectors it covers are erased, the board leaves DFU mode), and every fault (busy interface, board
# gone mid-download, dfuERROR, an image outside the layout, no permission, no device) gives one line
# naming the board and the state, leaves the store as it was, and a retry works.
. "$top_srcdir/tests/backend/lib.sh"
set -e
MODEL="$top_builddir/tests/tools/dfuse-model"
NOACCESS="$top_builddir/tests/tools/.libs/no-usb-access.so"
STORE="$ZTC_HOME/devices.json"
FLASH="$TMP/flash.bin"
LOG="$TMP/model.log"
# The unique-id bytes of the model's chip, in memory order.
UIDB=3C002B000A47343432313031
export ZTC_TOKEN="$TOKEN" ZTC_FLASH_NO_SLEEP=1
start_backend

# A PATH without dfu-util, also where the machine has it installed (Debian package dfu-util).
mkdir -p "$TMP/nodfu"
for f in /usr/bin/* /bin/*; do
	n=${f##*/}
	case $n in dfu-* | dfustm32l4) continue ;; esac
	[ -e "$TMP/nodfu/$n" ] || ln -s "$f" "$TMP/nodfu/$n"
done
export PATH="$TMP/nodfu"
command -v dfu-util >/dev/null && fail "dfu-util is still on PATH" || pass "no dfu-util on PATH"

# dfu [MODEL-OPTIONS...] -- ZTC-ARGS...: run ztc with the Photon in DFU mode played by the model (fresh
# log, flash kept in $FLASH). With NOACCESS_RUN=1, opening USB nodes fails with EACCES. Sets out, err, rc.
dfu() {
	local opts rest wrap=()
	split_args "$@"
	[ "${NOACCESS_RUN:-0}" = 1 ] && wrap=(sh -c 'LD_PRELOAD="$0:$LD_PRELOAD" exec "$@"' "$NOACCESS")
	: >"$LOG"
	capture "$UMOCKDEV_RUN" -- "$MODEL" --device "$DATA/photon_dfu.umockdev" --flash "$FLASH" --log "$LOG" \
		--uid "$UIDB" "${opts[@]}" -- "${wrap[@]}" "$ZTC" "${rest[@]}"
}
# The documented chip id: each 32-bit little-endian word, in address order, as 8 upper-case hex digits.
chipid_of() {
	local h=$1 w id=""
	for w in 0 8 16; do id="$id${h:w+6:2}${h:w+4:2}${h:w+2:2}${h:w:2}"; done
	echo "$id"
}
logged() { grep -qx -- "$1" "$LOG" && pass "$2" || fail "$2: the model did not log [$1]: $(cat "$LOG")"; }
not_logged() { grep -q -- "$1" "$LOG" && fail "$2: the model logged [$(grep -- "$1" "$LOG" | head -1)]" || pass "$2"; }
# The error: exactly one "ztc: " line on stderr, holding text.
one_error() {
	[ "$(grep -c '^ztc: ' <<<"$err")" = 1 ] && pass "$2: one error line" || fail "$2: error lines: $err"
	expect_err "$1" "$2"
}
snapshot() { cp "$STORE" "$TMP/store.before"; cp "$FLASH" "$TMP/flash.before" 2>/dev/null || rm -f "$TMP/flash.before"; }
store_unchanged() { cmp -s "$STORE" "$TMP/store.before" && pass "$1: store unchanged" || fail "$1: store changed: $(cat "$STORE")"; }
flash_unchanged() {
	if [ -e "$TMP/flash.before" ]; then cmp -s "$FLASH" "$TMP/flash.before"; else [ ! -e "$FLASH" ] || [ -z "$(od -An -v -tx1 "$FLASH" | tr -d ' \nf')" ]; fi &&
		pass "$1: flash unchanged" || fail "$1: the flash changed"
}
# The flash at 0x08020000 holds FILE, and every other byte is erased.
flash_holds() {
	local n
	n=$(wc -c <"$1")
	tail -c +$((0x20000 + 1)) "$FLASH" | head -c "$n" | cmp -s - "$1" && pass "$2: the image is at 0x08020000 byte for byte" ||
		fail "$2: the flash at 0x08020000 differs from the image"
	[ -z "$( (head -c $((0x20000)) "$FLASH"; tail -c +$((0x20000 + n + 1)) "$FLASH") | od -An -v -tx1 | tr -d ' \nf')" ] &&
		pass "$2: the rest of the flash is untouched (erased)" || fail "$2: bytes outside the image were written"
}

# ---- register: the chip id by DfuSe upload; nothing flashed; the alter ego gets it too ------------------
ztc_under photon device alias put 5a pnorm particle_photon
ztc_under photon_dfu device alias put eb pdfu particle_photon
PCHIP=$(chipid_of "$UIDB")
[ "$PCHIP" = 002B003C3434470A31303132 ] || fail "chipid_of: $PCHIP"
reset_requests
dfu -- -J device register pdfu
expect_rc 0 "register the Photon in DFU mode"
expect_fields "alias chipid" "pdfu|$PCHIP" "chip id read from the unique-id words"
[ "$(req 1 line)" = "GET /v1/vms?from=0" ] && pass "the backend was proven first" || fail "first request: $(req 1 line)"
[ "$(req -1 json)" = "{\"category\": \"stm32f2\", \"name\": \"Particle Photon\", \"on_chip_id\": \"$PCHIP\", \"type\": \"particle_photon\"}" ] &&
	pass "POST /devices carries the chip id" || fail "body: $(req -1 json)"
expect_err "reading the chip id (DfuSe upload at 0x1FFF7A10)" "register: phase line"
logged "upload 0x1FFF7A10 12" "register: the 12 unique-id bytes were uploaded"
not_logged '^\(erase\|write\|leave\)' "register: nothing erased or written, the board stays in DFU mode"
premote=$("$JSONL" get remote_id <<<"$out")
expect_matchdb photon "alias chipid remote_id" "pnorm|$PCHIP|$premote" \
	"the alter ego (normal mode) got the chip id and remote id"
expect_matchdb photon_dfu "alias chipid remote_id" "pdfu|$PCHIP|$premote" "the DFU identity got them"

# A wrong token is found before the board is touched.
snapshot
ZTC_TOKEN=wrong-token dfu -- device register pdfu
expect_rc 1 "bad token"; one_error "invalid token" "bad token"; store_unchanged "bad token"
not_logged "claim" "bad token: the board was not touched"

# ---- virtualize: the VM at 0x08020000 (padded to 130 KiB), two sectors erased, DFU mode left ------------
ztc_run -J vm create pdfu r2.6.0 chibi2
expect_rc 0 "vm create"
vm1=$("$JSONL" get uid <<<"$out")
vmdir="$ZTC_HOME/vms/particle_photon/$PCHIP"
vmfile=$(ls "$vmdir/${vm1}_"*.vm)
python3 -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["bin"]))' \
	"$vmfile" >"$TMP/vm.bin"
cp "$TMP/vm.bin" "$TMP/vm.padded" && truncate -s 133120 "$TMP/vm.padded"
rm -f "$FLASH"
dfu --leave-to "$DATA/photon.umockdev" -- device virtualize pdfu -- "${vm1:0:6}"
expect_rc 0 "virtualize the Photon"
flash_holds "$TMP/vm.padded" "virtualize"
[ "$(grep '^erase' "$LOG" | tr '\n' ' ')" = "erase 0x08020000 erase 0x08040000 " ] &&
	pass "virtualize: exactly the two sectors the image covers were erased" || fail "erases: $(grep '^erase' "$LOG")"
logged "leave 0x08020000" "virtualize: the board left DFU mode"
expect_err "erasing 2 sectors" "virtualize: erase phase"
grep -qx "flashing: [4-6][0-9]%" <<<"$err" && grep -qx "flashing: 100%" <<<"$err" &&
	pass "virtualize: progress from the bytes written" || fail "progress: $err"

# Seen from ztc: after the leave the board comes back in its normal mode (the model swaps its USB identity
# once ztc has let go of the DFU device).
set +e
"$UMOCKDEV_RUN" -- "$MODEL" --device "$DATA/photon_dfu.umockdev" --flash "$FLASH" --uid "$UIDB" \
	--leave-to "$DATA/photon.umockdev" -- sh -c '"$0" device virtualize pdfu -- "$1" >/dev/null 2>&1 || exit 1
	for i in $(seq 50); do
		"$0" -J device discover --matchdb | grep -q "\"classname\":\"Photon\"" && exit 0
		sleep 0.1
	done
	exit 1' "$ZTC" "$vm1" >"$TMP/out" 2>&1
rc=$?
set -e
[ "$rc" = 0 ] && pass "virtualize: the board came back in normal mode (pnorm)" || fail "no normal mode after the leave: $(cat "$TMP/out")"

# ---- faults: one line naming the board and the state, nothing lost, a retry works ----------------------
snapshot
dfu --busy -- device virtualize pdfu -- "$vm1"
expect_rc 1 "busy interface"
one_error "pdfu: the DFU interface of /dev/bus/usb/001/002 is busy: another program (dfu-util, another ztc) holds it" \
	"busy interface"
flash_unchanged "busy interface"; store_unchanged "busy interface"
dfu --busy -- device register pdfu
expect_rc 1 "busy interface at register"; one_error "is busy" "busy interface at register"
store_unchanged "busy interface at register"

rm -f "$FLASH"
dfu --gone-after 3 -- device virtualize pdfu -- "$vm1"
expect_rc 1 "board gone mid-download"
one_error "pdfu: the board left the USB bus while writing 2048 bytes at 0x08021000 (unplugged or reset): put it back in DFU mode and run the command again" \
	"board gone mid-download"
not_logged "^leave" "board gone: no leave request"
store_unchanged "board gone"
dfu -- device virtualize pdfu -- "$vm1"
expect_rc 0 "retry after the board came back"
flash_holds "$TMP/vm.padded" "retry after the board was gone"

dfu --fail-block 2 -- device virtualize pdfu -- "$vm1"
expect_rc 1 "dfuERROR"
one_error "pdfu: the DFU bootloader reports errPROG (programming the memory failed) in state dfuERROR while writing 2048 bytes at 0x08020800: the board stays in DFU mode, run the command again" \
	"dfuERROR"
[ "$(tail -1 "$LOG")" = "clrstatus errPROG" ] && pass "dfuERROR: the plugin cleared the error before letting go" ||
	fail "dfuERROR: last model line: $(tail -1 "$LOG")"
not_logged "^leave" "dfuERROR: no leave request"
dfu -- device virtualize pdfu -- "$vm1"
expect_rc 0 "retry after dfuERROR"
flash_holds "$TMP/vm.padded" "retry after dfuERROR"

# A bootloader left in dfuERROR by an interrupted session is cleared, and the work goes on.
dfu --start-error -- device virtualize pdfu -- "$vm1"
expect_rc 0 "a bootloader found in dfuERROR"
[ "$(sed -n 3p "$LOG")" = "clrstatus errUNKNOWN" ] && pass "found in dfuERROR: cleared first" || fail "start error: $(head -5 "$LOG")"

# Images outside the layout are refused before anything is erased.
python3 - "$vmfile" "$vmdir" <<'PY'
import base64, json, sys
vm = json.load(open(sys.argv[1]))
big = dict(vm, bin=base64.b64encode(bytes(range(256)) * 4096).decode())
json.dump(big, open(sys.argv[2] + "/bigvm_r2.6.0_x_chibi2.vm", "w"))
boot = dict(vm, bin=[vm["bin"]], loc=["0x08000000"])
json.dump(boot, open(sys.argv[2] + "/bootvm_r2.6.0_x_chibi2.vm", "w"))
PY
snapshot
dfu -- device virtualize pdfu bigvm
expect_rc 1 "image beyond the flash"
one_error "pdfu: the image of 1048576 bytes at 0x08020000 does not fit the memory \"Internal Flash\" of DFU alt setting 0: 0x08100000 is outside its sectors; nothing was written" \
	"image beyond the flash"
not_logged '^\(erase\|write\)' "image beyond the flash: nothing erased"; flash_unchanged "image beyond the flash"
dfu -- device virtualize pdfu bootvm
expect_rc 1 "image in the read-only boot sectors"
one_error "pdfu: the image of 4096 bytes at 0x08000000 does not fit the memory \"Internal Flash\" of DFU alt setting 0: 0x08000000 is in a read-only sector; nothing was written" \
	"image in the boot sectors"
flash_unchanged "image in the boot sectors"

# No permission on the USB node: the udev rules are named.
NOACCESS_RUN=1 dfu -- device register pdfu
expect_rc 1 "no permission"
one_error "pdfu: no permission to use the USB device /dev/bus/usb/001/002: install ztc's udev rules (60-ztc.rules), then run 'udevadm trigger' (or replug the board)" \
	"no permission"
store_unchanged "no permission"

# udev lists the board but it answers no USB request (it just left DFU mode).
ztc_under photon_dfu device virtualize pdfu -- "$vm1"
expect_rc 1 "no DFU device"
one_error "pdfu: no DFU device 2B04:D006 with serial number 00000000010C is connected any more (unplugged, or it left DFU mode)" \
	"no DFU device"
finish
