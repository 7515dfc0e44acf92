# dfu-util-model.sh: the software DfuSe bootloader (tests/tools/dfuse-model) checked against the real
# dfu-util, so that the model the dfu plugin is tested with behaves as dfu-util expects a Photon to: it is
# listed with its alt settings, its unique id is uploaded, an image is downloaded byte for byte (only the
# sectors it covers erased) and read back, and the layout, busy, error and leave behaviours show.
. "$top_srcdir/tests/lib.sh"
set -e
MODEL="$top_builddir/tests/tools/dfuse-model"
DFU_UTIL=$(command -v dfu-util || true)
if [ -z "$DFU_UTIL" ]; then
	echo "SKIP: dfu-util is not installed (Debian package dfu-util): the DfuSe model cannot be checked against it"
	exit 77
fi
UID_BYTES=0D1E2F30415263748596A7B8
FLASH="$TMP/flash.bin"
LOG="$TMP/model.log"

# model [MODEL-OPTIONS...] -- dfu-util ARGS...: run dfu-util against the model. Sets $out, $rc.
model() {
	local opts rest
	split_args "$@"
	: >"$LOG"
	set +e
	"$UMOCKDEV_RUN" -- "$MODEL" --device "$DATA/photon_dfu.umockdev" --flash "$FLASH" --log "$LOG" --uid "$UID_BYTES" \
		"${opts[@]}" -- "$DFU_UTIL" "${rest[@]}" >"$TMP/out" 2>&1
	rc=$?
	set -e
	out=$(cat "$TMP/out")
	err=$out
}
logged() { grep -qx -- "$1" "$LOG" && pass "$2" || fail "$2: the model did not log [$1]: $(cat "$LOG")"; }
# hexof FILE [SKIP COUNT]: the bytes as lower-case hex, one line.
hexof() { od -An -v -tx1 ${2:+-j "$2" -N "$3"} "$1" | tr -d ' \n'; }

model -- -l
expect_rc 0 "dfu-util -l"
case "$out" in *'Found DFU: [2b04:d006] ver=0200, devnum=2, cfg=1, intf=0, path="1-1", alt=0, name="@Internal Flash   /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg", serial="00000000010C"'*)
	pass "dfu-util lists alt 0 with the Photon's flash layout and serial number" ;;
*) fail "dfu-util -l: $out" ;; esac
case "$out" in *'alt=1, name="@DCT Flash   /0x00000000/01*016Ke"'*) pass "dfu-util lists alt 1" ;;
*) fail "dfu-util -l alt 1: $out" ;; esac

# The unique id lies outside the alt setting's layout: dfu-util reads it with :force.
model -- -d 2b04:d006 -a 0 -s 0x1FFF7A10:12:force -U "$TMP/uid.bin"
expect_rc 0 "dfu-util -U of the unique id"
[ "$(hexof "$TMP/uid.bin")" = "$(echo "$UID_BYTES" | tr 'A-F' 'a-f')" ] && pass "the 12 unique-id bytes are the configured ones" ||
	fail "unique id: $(hexof "$TMP/uid.bin")"
model -- -d 2b04:d006 -a 0 -s 0x1FFF7A22:2:force -U "$TMP/fsize.bin"
[ "$(hexof "$TMP/fsize.bin")" = "0004" ] && pass "the flash size register says 1024 KiB" || fail "flash size: $(hexof "$TMP/fsize.bin")"

# Download 130 KiB at 0x08020000 and leave DFU mode.
head -c 133120 /dev/urandom >"$TMP/image.bin"
model --leave-to "$DATA/photon.umockdev" -- -d 2b04:d006 -a 0 -s 0x08020000:leave -D "$TMP/image.bin"
expect_rc 0 "dfu-util -D"
case "$out" in *"File downloaded successfully"*) pass "dfu-util reports the download" ;; *) fail "dfu-util -D: $out" ;; esac
[ "$(hexof "$FLASH" $((0x20000)) 133120)" = "$(hexof "$TMP/image.bin")" ] && pass "the model's flash holds the image byte for byte at 0x08020000" ||
	fail "flash content differs from the image"
[ "$(grep '^erase' "$LOG" | tr '\n' ' ')" = "erase 0x08020000 erase 0x08040000 " ] &&
	pass "dfu-util erased the two sectors the image covers, and only them" || fail "erases: $(grep '^erase' "$LOG")"
[ "$(hexof "$FLASH" 0 $((0x20000)) | tr -d 'f')" = "" ] && pass "the flash below the image is still erased" ||
	fail "flash below 0x08020000 changed"
logged "leave 0x08020000" "the model saw the leave request"

# Read it back.
model -- -d 2b04:d006 -a 0 -s 0x08020000:133120 -U "$TMP/back.bin"
cmp -s "$TMP/back.bin" "$TMP/image.bin" && pass "dfu-util -U reads the image back" || fail "read back differs"

# The layout is honoured: the boot sectors are read-only.
cp "$FLASH" "$TMP/flash.before"
model -- -d 2b04:d006 -a 0 -s 0x08000000 -D "$TMP/image.bin"
[ "$rc" != 0 ] && case "$out" in *"Page at 0x08000000 is not writeable"*) true ;; *) false ;; esac &&
	pass "dfu-util refuses the read-only boot sector from the layout" || fail "boot sector: rc $rc: $out"
cmp -s "$FLASH" "$TMP/flash.before" && pass "the refused download changed nothing" || fail "flash changed"

# Faults, as dfu-util sees them.
model --busy -- -d 2b04:d006 -a 0 -s 0x1FFF7A10:12:force -U "$TMP/uid2.bin"
case "$rc:$out" in 74:*"Cannot claim interface - LIBUSB_ERROR_BUSY"*) pass "busy: dfu-util cannot claim the interface" ;;
*) fail "busy: rc $rc: $out" ;; esac
model --fail-block 2 -- -d 2b04:d006 -a 0 -s 0x08020000 -D "$TMP/image.bin"
case "$rc:$out" in 74:*"DFU state(10) = dfuERROR, status(6) = Program memory function failed"*)
	pass "a failing flash write: dfu-util sees dfuERROR / errPROG" ;;
*) fail "fail-block: rc $rc: $out" ;; esac
model --start-error -- -d 2b04:d006 -a 0 -s 0x1FFF7A10:12:force -U "$TMP/uid3.bin"
case "$rc:$out" in 0:*"DFU state(10) = dfuERROR, status(14)"*"Clearing status"*) pass "a device left in dfuERROR: dfu-util clears it" ;;
*) fail "start-error: rc $rc: $out" ;; esac
cmp -s "$TMP/uid3.bin" "$TMP/uid.bin" && pass "and reads the unique id after CLRSTATUS" || fail "uid after clrstatus"
finish
