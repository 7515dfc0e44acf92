# samba-bossac.sh: the SAM-BA simulator (tests/tools/samba-sim) checked against the real bossac (Debian
# bossa-cli): bossac identifies the SAM3X8E and the SAMD21, reads the flash, and a write/verify round trip
# reads back what it wrote, through the SAM3X's XMODEM UART and applet and the SAMD21's USB and Arduino
# extensions. Skipped when bossac is not installed.
. "$top_srcdir/tests/lib.sh"
set -e
if ! command -v bossac >/dev/null 2>&1; then
	echo "SKIP: bossac is not on PATH: install the Debian package bossa-cli to check the SAM-BA simulator against it"
	exit 77
fi
sims=""
trap 'for p in $sims; do kill "$p" 2>/dev/null; done; wait; rm -rf "$TMP"' EXIT

# sim NAME ARGS...: a simulator on its own pty, $TMP/NAME linked to it, its commands in $TMP/NAME.log.
sim() { samba_sim "$1" --log "$TMP/$1.log" "${@:2}"; }
# bossac_run ARGS...: sets $out (stdout and stderr, progress bars dropped) and $rc.
bossac_run() {
	set +e
	timeout 120 bossac "$@" >"$TMP/bossac.out" 2>&1
	rc=$?
	set -e
	out=$(tr '\r' '\n' <"$TMP/bossac.out" | grep -v '^\[')
}
# bossac_ok WHAT ARGS...: bossac_run ARGS, which must exit 0.
bossac_ok() {
	bossac_run "${@:2}"
	[ "$rc" = 0 ] && pass "$1 exits 0" || fail "$1: exit $rc: $out"
}
has() { case "$out" in *"$1"*) pass "$2" ;; *) fail "$2: bossac said: $out" ;; esac; }
same() { cmp -s "$1" "$2" && pass "$3" || fail "$3: $1 and $2 differ"; }

# ---- SAM3X8E, behind a UART (the Due's programming port): XMODEM transfers, the WordCopy applet ------------
head -c 524288 /dev/urandom >"$TMP/sam3x.flash"
cp "$TMP/sam3x.flash" "$TMP/sam3x.orig"
sim sam3x --chip sam3x8e --flash "$TMP/sam3x.flash"
bossac_ok "SAM3X: bossac -i" --usb-port=0 -p "$TMP/sam3x" -i
has "Device       : ATSAM3X8" "SAM3X: bossac identifies an ATSAM3X8"
has "Version      : v1.1 Dec 15 2010 19:25:04" "SAM3X: bossac reads the monitor's version"
has "Pages        : 2048" "SAM3X: 2048 pages"
has "Planes       : 2" "SAM3X: two flash planes"
has "Boot Flash   : false" "SAM3X: boots from ROM (GPNVM1 clear)"
# A read of what the flash already holds.
bossac_ok "SAM3X: bossac -r" --usb-port=0 -p "$TMP/sam3x" -r4096 "$TMP/read.bin"
same "$TMP/read.bin" <(head -c 4096 "$TMP/sam3x.orig") "SAM3X: bossac -r reads the flash's content"
# A write/verify round trip across the boundary of the two planes (EEFC0 and EEFC1), each page erased as
# it is written (EWP: the SAM3X has no command to erase from an offset, which -e would need).
head -c 6000 /dev/urandom >"$TMP/img.bin"
bossac_ok "SAM3X: bossac -w -v" --usb-port=0 -p "$TMP/sam3x" --offset=0x3F000 -w -v "$TMP/img.bin"
has "Verify successful" "SAM3X: bossac verifies what it wrote"
bossac_run --usb-port=0 -p "$TMP/sam3x" --offset=0x3F000 -r6000 "$TMP/back.bin"
same "$TMP/back.bin" "$TMP/img.bin" "SAM3X: read back across the planes, the image is there"
grep -q '^G20001020#$' "$TMP/sam3x.log" && pass "SAM3X: bossac ran its applet (G) on the simulated core" ||
	fail "SAM3X: no applet run in $TMP/sam3x.log"
# The Due's own flash command (db/arduino_due/device.json) with the real bossac: it sets boot from flash
# and resets, so the chip leaves SAM-BA and runs the image.
args=$(python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["flash"]["args"]))' \
	"$top_srcdir/db/arduino_due/device.json" | sed -e "s#{file}#$TMP/img.bin#" -e "s#{port}#$TMP/sam3x#")
mapfile -t due_args <<<"$args"
bossac_run "${due_args[@]}"
[ "$rc" = 0 ] && pass "SAM3X: the Due's flash command from device.json works with this bossac" ||
	fail "SAM3X: the Due's flash command: bossac ${due_args[*]}: exit $rc: $out"
grep -q '100%' "$TMP/bossac.out" && pass "SAM3X: the Due's flash command prints the 100% device.json waits for" ||
	fail "SAM3X: no 100% in: $(cat "$TMP/bossac.out")"
grep -q "^reset (RSTC_CR PROCRST): the chip runs its firmware" "$TMP/sam3x.log" &&
	pass "SAM3X: -R --boot=1: boot from flash, reset, the monitor is gone" || fail "SAM3X: no reset into the firmware"
bossac_run --usb-port=0 -p "$TMP/sam3x" -i
[ "$rc" != 0 ] && pass "SAM3X: after the reset bossac finds no monitor (the image runs)" || fail "SAM3X: still answers: $out"

# ---- SAMD21G18A, native USB, the Arduino bootloader's X/Y/Z commands -----------------------------------------
sim d21 --chip samd21g18a --flash "$TMP/d21.flash"
bossac_ok "SAMD21: bossac -i" --usb-port=1 -p "$TMP/d21" -i
has "Device       : ATSAMD21x18" "SAMD21: bossac identifies an ATSAMD21x18"
has "Version      : v2.0 [Arduino:XYZ]" "SAMD21: bossac reads the bootloader's version and extensions"
has "Page Size    : 64 bytes" "SAMD21: 64-byte pages"
head -c 30000 /dev/urandom >"$TMP/d21img.bin"
bossac_ok "SAMD21: bossac -e -w -v after the bootloader" \
	--usb-port=1 -p "$TMP/d21" --offset=0x2000 -e -w -v "$TMP/d21img.bin"
has "Verify successful" "SAMD21: bossac verifies what it wrote"
grep -q '^Y' "$TMP/d21.log" && grep -q '^Z' "$TMP/d21.log" && grep -q '^X' "$TMP/d21.log" &&
	pass "SAMD21: bossac used the Arduino extensions (X erase, Y write, Z checksum)" || fail "SAMD21: no X/Y/Z in the log"
bossac_run --usb-port=1 -p "$TMP/d21" --offset=0x2000 -r30000 "$TMP/d21back.bin"
same "$TMP/d21back.bin" "$TMP/d21img.bin" "SAMD21: bossac -r reads back the image"
# The bootloader's 8 KB are protected (BOOTPROT): writing from 0 does not change them (the bootloader's X
# and Y commands do not report it; the verification finds it).
bossac_run --usb-port=1 -p "$TMP/d21" -r8192 "$TMP/boot.before"
bossac_run --usb-port=1 -p "$TMP/d21" -e -w -v "$TMP/d21img.bin"
[ "$rc" != 0 ] && pass "SAMD21: writing over the bootloader fails its verification (exit $rc)" ||
	fail "SAMD21: wrote over the bootloader"
bossac_run --usb-port=1 -p "$TMP/d21" -r8192 "$TMP/boot.after"
same "$TMP/boot.after" "$TMP/boot.before" "SAMD21: the bootloader is intact"

# ---- SAMD21 without the Arduino extensions: bossac's WordCopy applet through NVMCTRL's page buffer -----------
# (Each row is erased as its first page is written.)
sim plain --chip samd21j18a --version "v1.1 Nov  1 2016 12:00:00"
head -c 4000 "$TMP/d21img.bin" >"$TMP/plainimg.bin"
bossac_ok "SAMD21 (plain SAM-BA): write/verify" --usb-port=1 -p "$TMP/plain" --offset=0x2000 -w -v "$TMP/plainimg.bin"
[ "$(grep -c '^G' "$TMP/plain.log")" = 63 ] && pass "SAMD21 (plain SAM-BA): one applet run per page" ||
	fail "SAMD21 plain: applet runs: $(grep -c '^G' "$TMP/plain.log")"
grep -q '^X\|^Y\|^Z' "$TMP/plain.log" && fail "SAMD21 plain: bossac used extensions the version line does not offer" ||
	pass "SAMD21 (plain SAM-BA): no Arduino extension used"
bossac_run --usb-port=1 -p "$TMP/plain" --offset=0x2000 -r4000 "$TMP/plainback.bin"
same "$TMP/plainback.bin" "$TMP/plainimg.bin" "SAMD21 (plain SAM-BA): read back the image"

# ---- a board that is not in its bootloader answers nothing: bossac fails ------------------------------------
sim quiet --chip sam3x8e --silent
bossac_run --usb-port=0 -p "$TMP/quiet" -i
[ "$rc" != 0 ] && pass "silent board: bossac -i fails (exit $rc)" || fail "silent board: bossac found a device: $out"

# The flash file is written when the simulator ends: the Due's command erased the flash and wrote the image
# at its start.
kill $sims
wait
sims=""
cmp -s <(head -c 6000 "$TMP/sam3x.flash") "$TMP/img.bin" && [ "$(wc -c <"$TMP/sam3x.flash")" = 524288 ] &&
	pass "SAM3X: the simulator's flash file holds the image at the flash's start" || fail "SAM3X: flash file"
finish
