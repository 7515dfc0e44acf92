# flash.sh: flashing real matched boards (umockdev records, the real database and plugins) with stand-in
# tools first on PATH (the Photon: a DfuSe bootloader model): exact command lines, image bytes, padding,
# the 1200-baud touch, disk copies, OpenOCD, the simulated board, progress, and the failures (tool missing
# or failing, wrong mode, no disk).
. "$top_srcdir/tests/lib.sh"
set -e
FB="$top_builddir/tests/flash/flash-board"
STANDINS="$top_srcdir/tests/flash/bin"
export PATH="$STANDINS:$PATH" ZTC_FLASH_NO_SLEEP=1 TMPDIR="$TMP/tmp"
unset STANDIN_MODE STANDIN_EXIT STANDIN_SLEEP STANDIN_PORT ZTC_SIM_FLASH
mkdir -p "$TMPDIR" "$TMP/empty-bin"
n=0

# board RECORDS TARGET CLASS OP...: flash-board under umockdev (RECORDS: comma list of tests/data records
# or paths), with a fresh stand-in record directory $REC and PATH=$BOARD_PATH when that is set (a PATH
# prefix on the call would hide mkdir from this function too). Sets $out, $err, $rc.
board() {
	local recs=$1 devs=() r
	shift
	IFS=, read -ra rl <<<"$recs"
	for r in "${rl[@]}"; do
		case $r in /*) devs+=(-d "$r") ;; *) devs+=(-d "$DATA/$r.umockdev") ;; esac
	done
	n=$((n + 1))
	REC="$TMP/rec.$n"
	mkdir -p "$REC"
	set +e
	PATH="${BOARD_PATH:-$PATH}" STANDIN_RECORD="$REC" "$UMOCKDEV_RUN" "${devs[@]}" -- "$FB" "$@" \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
	set -e
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}
calls() { cat "$REC/calls" 2>/dev/null || true; }
expect_calls() {
	[ "$(calls)" = "$1" ] && pass "$2" || fail "$2: calls were [$(calls)], expected [$1]; out: $out"
}
expect_line() {
	printf '%s\n' "$out" | grep -qxF -- "$1" && pass "$2" || fail "$2: no line [$1] in [$out]; stderr: $(tail -5 "$TMP/err")"
}
expect_same() {
	cmp -s "$1" "$2" && pass "$3" || fail "$3: $1 and $2 differ ($(wc -c <"$1" 2>/dev/null) vs $(wc -c <"$2") bytes)"
}
# Every temporary directory a tool was given is gone once the operation returned.
expect_tmp_removed() {
	local left=""
	[ -s "$REC/dirs" ] || { fail "$1: no temporary directory was recorded"; return; }
	for d in $(sort -u "$REC/dirs"); do [ -e "$d" ] && left="$left $d"; done
	[ -z "$left" ] && pass "$1: temporary directory removed" || fail "$1: left behind:$left"
}
# vm FILE PART...: a .vm file whose bin is the base64 of PART (one string) or of each PART (a list);
# LOC, when set, is put as the loc list.
vm() {
	local f=$1 sep="" p
	shift
	if [ $# = 1 ] && [ -z "${LOC:-}" ]; then
		printf '{"type": "vm", "dev_type": "test", "bin": "%s"}\n' "$(base64 -w0 "$1")" >"$f"
		return
	fi
	{
		printf '{"type": "vm", "bin": ['
		for p in "$@"; do printf '%s"%s"' "$sep" "$(base64 -w0 "$p")"; sep=", "; done
		printf ']'
		[ -n "${LOC:-}" ] && printf ', "loc": %s' "$LOC"
		printf '}\n'
	} >"$f"
}
img() { yes "$2" | head -c "$3" >"$1"; }

img "$TMP/due.bin" "arduino due image" 10000
vm "$TMP/due.vm" "$TMP/due.bin"

# ---- Arduino Due: 1200-baud touch, then bossac ----------------------------------------------------------
STANDIN_PORT=/dev/ttyACM0 board arduino_due arduino_due ArduinoDue speed burn "$TMP/due.vm" speed
expect_line "burn: ok" "Due: burn succeeds"
expect_calls "bossac --usb-port=0 -p /dev/ttyACM0 -e -w {tmp}/firmware.bin -R --boot=1" "Due: bossac command line"
expect_same "$TMP/due.bin" "$REC/files/firmware.bin" "Due: bossac got the image bytes"
[ "$(cat "$REC/speed" 2>/dev/null)" = 1200 ] && pass "Due: the port was at 1200 baud when bossac started (touch)" ||
	fail "Due: port speed when bossac ran: $(cat "$REC/speed" 2>/dev/null)"
[ "$(printf '%s\n' "$out" | grep '^speed:' | tr '\n' ' ')" = "speed: 38400 speed: 1200 " ] &&
	pass "Due: the touch set the port to 1200 baud" || fail "Due: speeds: $out"
expect_line "progress: 43 writing" "Due: bossac's percentages reach the progress callback, labelled by phase"
expect_line "progress: 100 writing" "Due: 100% reported"
want="progress: -1 starting the bootloader (1200-baud touch)|progress: -1 flashing|progress: -1 erasing|"
want+="progress: -1 writing|progress: 25 writing|progress: 43 writing|progress: 75 writing|progress: 100 writing|"
[ "$(printf '%s\n' "$out" | grep '^progress' | tr '\n' '|')" = "$want" ] &&
	pass "Due: each phase bossac names (Erase flash, Write) is a label of its own, no 100% twice" ||
	fail "Due: progress: $(printf '%s\n' "$out" | grep '^progress' | tr '\n' '|')"
expect_tmp_removed "Due"

board arduino_due arduino_due ArduinoDue burn "$TMP/due.vm" reset speed
expect_line "reset: ok" "Due: reset"
expect_line "speed: 115200" "Due: reset sets the port back to 115200 baud"

# Missing tool: one line naming it and its Debian package, and the board is not touched.
BOARD_PATH="$TMP/empty-bin" board arduino_due arduino_due ArduinoDue burn "$TMP/due.vm" speed
expect_line "burn: error -13: bossac not found on PATH: install the Debian package bossa-cli (apt-get install bossa-cli)" \
	"Due: missing bossac"
expect_line "speed: 38400" "Due: no touch when bossac is missing"
expect_calls "" "Due: nothing ran without bossac"
printf '%s\n' "$out" | grep -q '^progress' && fail "Due: progress before bossac was found: $out" ||
	pass "Due: no progress at all when bossac is missing"

# Failing tool: its last output line.
STANDIN_MODE=fail board arduino_due arduino_due ArduinoDue burn "$TMP/due.vm"
expect_line "burn: error -13: bossac failed (exit status 1): No device found on ttyACM0" "Due: bossac failing"
[ "$rc" = 1 ] && pass "Due: failure exit status" || fail "Due: flash-board exit $rc"
expect_tmp_removed "Due failing"
STANDIN_MODE=fail STANDIN_EXIT=3 board arduino_due arduino_due ArduinoDue burn "$TMP/due.vm"
expect_line "burn: error -13: bossac failed (exit status 3): No device found on ttyACM0" "Due: exit status in the error"

# Exit 0 without "100%" is not a success for the Due (ok_when exit_and_text).
STANDIN_MODE=notext board arduino_due arduino_due ArduinoDue burn "$TMP/due.vm"
expect_line 'burn: error -13: bossac did not report success (no "100%" in its output): SAM-BA operation failed' \
	"Due: bossac without 100%"

# A tool that hangs is stopped after the flash object's timeout_s.
mkdir -p "$TMP/db/arduino_due"
sed 's/"tool": "bossac",/"tool": "bossac", "timeout_s": 1,/' "$top_srcdir/db/arduino_due/device.json" \
	>"$TMP/db/arduino_due/device.json"
start=$(date +%s)
STANDIN_SLEEP=29 ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board arduino_due arduino_due ArduinoDue burn "$TMP/due.vm"
took=$(($(date +%s) - start))
expect_line "burn: error -14: bossac did not finish within 1 s: stopped" "Due: hanging bossac stopped"
[ "$took" -lt 10 ] && pass "Due: timeout honoured (${took} s)" || fail "Due: took $took s"
pgrep -f "sleep 29" >/dev/null 2>&1 && fail "Due: the stand-in's sleep survived the timeout" ||
	pass "Due: the tool's process group was killed"
rm -rf "$TMP/db"
# An image larger than the SAM3X's 512 KB flash is refused before the touch (which erases the board).
img "$TMP/due-big.bin" "too big for a due" 524289
vm "$TMP/due-big.vm" "$TMP/due-big.bin"
board arduino_due arduino_due ArduinoDue burn "$TMP/due-big.vm" speed
expect_line "burn: error -3: the image (524289 bytes) is larger than Arduino Due takes (524288 bytes)" "Due: image too big"
expect_line "speed: 38400" "Due: no touch for an image too big"
expect_calls "" "Due: bossac did not run for an image too big"

# ---- SAMD21 boards in their bootloader (MKR1000, Feather M0, ExpLoRer): Debian's bossac after the 8 KB ------
# The Feather M0's bootloader identity (239A:000B) from the MKR1000's record.
sed -e 's/2341/239a/g; s#/4e/#/b/#; s/004e/000b/g; s/MKR1000/Feather_M0/g' "$DATA/mkr1000_boot.umockdev" \
	>"$TMP/feather_boot.umockdev"
img "$TMP/d21.bin" "samd21 image" 10000
vm "$TMP/d21.vm" "$TMP/d21.bin"
for t in mkr1000_boot:arduino_mkr1000:ArduinoMKR1000Virtualizable \
	"$TMP/feather_boot.umockdev:adafruit_feather_m0wifi:AdafruitFeatherM0WifiVirtualizable" \
	mkr1000_boot:sodaq_explorer:SodaqExplorerVirtualizable; do
	IFS=: read -r rec target class <<<"$t"
	STANDIN_PORT=/dev/ttyACM0 board "$rec" "$target" "$class" burn "$TMP/d21.vm" speed
	expect_line "burn: ok" "$target: burn succeeds"
	expect_calls "bossac --usb-port=1 -p /dev/ttyACM0 --offset=0x2000 -e -w -v {tmp}/firmware.bin -R" \
		"$target: Debian's bossac, native USB, at 0x2000 after the bootloader, verified, reset"
	expect_same "$TMP/d21.bin" "$REC/files/firmware.bin" "$target: bossac got the image bytes"
	[ "$(cat "$REC/speed" 2>/dev/null)" = 38400 ] && pass "$target: no 1200-baud touch (the bootloader already runs)" ||
		fail "$target: port speed when bossac ran: $(cat "$REC/speed" 2>/dev/null)"
	expect_line "speed: 38400" "$target: the port's speed left as it was"
	expect_tmp_removed "$target"
done
# Success is bossac's "Verify successful": exit 0 without it is a failure.
STANDIN_MODE=notext board mkr1000_boot arduino_mkr1000 ArduinoMKR1000Virtualizable burn "$TMP/d21.vm"
expect_line 'burn: error -13: bossac did not report success (no "Verify successful" in its output): SAM-BA operation failed' \
	"MKR1000: bossac without Verify successful"
# 256 KB of flash less the bootloader's 8 KB: 253952 bytes fit, one more does not (and bossac never runs).
img "$TMP/d21-max.bin" "samd21 image" 253952
vm "$TMP/d21-max.vm" "$TMP/d21-max.bin"
board mkr1000_boot arduino_mkr1000 ArduinoMKR1000Virtualizable burn "$TMP/d21-max.vm"
expect_line "burn: ok" "MKR1000: an image of 253952 bytes fits"
img "$TMP/d21-big.bin" "samd21 image" 253953
vm "$TMP/d21-big.vm" "$TMP/d21-big.bin"
board mkr1000_boot arduino_mkr1000 ArduinoMKR1000Virtualizable burn "$TMP/d21-big.vm"
expect_line "burn: error -3: the image (253953 bytes) is larger than Arduino/Genuino MKR1000 takes (253952 bytes)" \
	"MKR1000: image too big"
expect_calls "" "MKR1000: bossac did not run for an image too big"

# ---- Particle Photon: the DFU class downloads over DfuSe itself (no tool); the normal class refuses -------
# dfuse OP...: flash-board on the Photon in DFU mode, played by tests/tools/dfuse-model (its flash in
# $TMP/photon.flash). Sets $out, $err, $rc.
dfuse() {
	n=$((n + 1))
	REC="$TMP/rec.$n"
	mkdir -p "$REC"
	set +e
	STANDIN_RECORD="$REC" "$UMOCKDEV_RUN" -- "$top_builddir/tests/tools/dfuse-model" --device "$DATA/photon_dfu.umockdev" \
		--flash "$TMP/photon.flash" -- "$FB" particle_photon PhotonDFU "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	set -e
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}
# flashed N: the N bytes at 0x08020000 of the model's flash.
flashed() { tail -c +$((0x20000 + 1)) "$TMP/photon.flash" | head -c "$1" >"$TMP/photon.flashed"; }
img "$TMP/photon.bin" "photon image" 5000
vm "$TMP/photon.vm" "$TMP/photon.bin"
cp "$TMP/photon.bin" "$TMP/photon.padded" && truncate -s 133120 "$TMP/photon.padded"
dfuse burn "$TMP/photon.vm"
expect_line "burn: ok" "Photon DFU: burn succeeds"
expect_calls "" "Photon DFU: no flashing tool ran"
flashed 133120
expect_same "$TMP/photon.padded" "$TMP/photon.flashed" "Photon DFU: image padded with zeros to 130 KiB, at 0x08020000"
expect_line "progress: 50 flashing" "Photon DFU: progress from the bytes written reaches the callback"
# dfu-util's two passes (Erase, then Download) under a label each: a vendor folder flashing through the
# dfu-util stand-in with a flash object (the atmel module's default class runs ztc_flash_default).
mkdir -p "$TMP/dfudb/dfutool"
cat >"$TMP/dfudb/dfutool/device.json" <<'JSON'
{"name": "DFU tool board", "target": "dfutool", "type": "board",
 "classes": [{"class": "atmel.DfuToolBoard", "usb": ["2B04:D006"]}],
 "flash": {"method": "tool", "tool": "dfu-util", "args": ["-d", "2B04:D006", "-a", "0", "-s", "0x08020000:leave", "-D", "{file}"],
           "ok_when": "exit_or_text", "ok_text": "File downloaded successfully"}}
JSON
ZTC_DB_PATH="$TMP/dfudb:$top_srcdir/db" board photon_dfu dfutool DfuToolBoard burn "$TMP/photon.vm"
expect_line "burn: ok" "dfu-util stand-in: burn succeeds"
expect_line "progress: 77 erasing" "dfu-util's erase pass is labelled erasing"
expect_line "progress: 77 writing" "dfu-util's download pass is labelled writing"
[ "$(printf '%s\n' "$out" | grep -c '^progress: 100 ')" = 2 ] && [ "$(printf '%s\n' "$out" | grep '^progress: 100 ' | sort -u | wc -l)" = 2 ] &&
	pass "dfu-util: each pass reaches 100% once, under its own label" || fail "dfu-util passes: $out"
rm -rf "$TMP/dfudb"

img "$TMP/photon-big.bin" "big photon image" 140000
vm "$TMP/photon-big.vm" "$TMP/photon-big.bin"
rm -f "$TMP/photon.flash"
dfuse burn "$TMP/photon-big.vm"
flashed 140001
{ cat "$TMP/photon-big.bin"; printf '\377'; } >"$TMP/photon-big.expect"
expect_same "$TMP/photon-big.expect" "$TMP/photon.flashed" "Photon DFU: an image of 128 KiB or more is not padded"

# The DFU identity seen by udev, but no bootloader answering on USB.
board photon_dfu particle_photon PhotonDFU burn "$TMP/photon.vm"
expect_line "burn: error -17: Particle Photon: no DFU device 2B04:D006 with serial number 00000000010C is connected any more (unplugged, or it left DFU mode): put the board in DFU mode and run the command again" \
	"Photon DFU: no bootloader on USB"
expect_calls "" "Photon DFU: no tool ran without a bootloader"

board photon particle_photon Photon burn "$TMP/photon.vm"
expect_line "burn: error -15: Particle Photon is in its normal mode: put the board in DFU mode first" \
	"Photon normal mode refuses"
expect_calls "" "Photon normal mode: nothing ran"

# ---- NodeMCU v2 (ESP8266): four parts, the last placed after the second ---------------------------------
img "$TMP/rom.bin" "rom" 3000
img "$TMP/irom.bin" "irom" 5000
img "$TMP/blob.bin" "blob" 128
img "$TMP/store.bin" "vm store" 1024
vm "$TMP/esp8266.vm" "$TMP/rom.bin" "$TMP/irom.bin" "$TMP/blob.bin" "$TMP/store.bin"
board nodemcu2 nodemcu2 NodeMCU2 burn "$TMP/esp8266.vm"
expect_line "burn: ok" "NodeMCU: burn succeeds"
expect_calls "esptool --port /dev/ttyUSB0 write_flash --flash_freq 40m --flash_mode dio --flash_size 32m --verify 0x00000 {tmp}/part0.bin 0x20000 {tmp}/part1.bin 0x3fc000 {tmp}/part2.bin 0x22000 {tmp}/part3.bin" \
	"NodeMCU: esptool command line (VM store at 0x20000 + 5000 rounded up to 4 KiB)"
expect_same "$TMP/rom.bin" "$REC/files/part0.bin" "NodeMCU: part 0 bytes"
expect_same "$TMP/irom.bin" "$REC/files/part1.bin" "NodeMCU: part 1 bytes"
expect_same "$TMP/blob.bin" "$REC/files/part2.bin" "NodeMCU: part 2 bytes"
expect_same "$TMP/store.bin" "$REC/files/part3.bin" "NodeMCU: part 3 bytes"
expect_line "progress: 43 writing" "NodeMCU: esptool's \"(43 %)\" reaches the progress callback"
expect_line "progress: 43 writing (2)" "NodeMCU: the next image written (0 to 100% again) is labelled writing (2)"
expect_tmp_removed "NodeMCU"

board nodemcu2 nodemcu2 NodeMCU2 burn "$TMP/due.vm"
expect_line "burn: error -3: NodeMcu v2 needs 4 images (a .vm file's bin list), the firmware has 1" \
	"NodeMCU: a single image is refused"

# ---- ESP32 DevKitC: parts in the order and at the addresses of device.json ------------------------------
# (Its chip id comes from the ROM loader, read by the esp plugin itself: tests/esp-native.sh.)
img "$TMP/app.bin" "esp32 application" 30000
img "$TMP/part.bin" "partition table" 3072
img "$TMP/boot.bin" "bootloader" 19000
LOC='["0x390000", "0x10000", "0x8000", "0x1000"]' vm "$TMP/esp32.vm" "$TMP/store.bin" "$TMP/app.bin" \
	"$TMP/part.bin" "$TMP/boot.bin"
board nodemcu2 esp32_devkitc Esp32DevKitC burn "$TMP/esp32.vm"
expect_line "burn: ok" "ESP32: burn succeeds"
expect_calls "esptool --chip esp32 --port /dev/ttyUSB0 --baud 115200 --before default_reset --after hard_reset write_flash -z --flash_freq 40m --flash_mode dio --flash_size detect 0x1000 {tmp}/part3.bin 0x10000 {tmp}/part1.bin 0x8000 {tmp}/part2.bin 0x390000 {tmp}/part0.bin" \
	"ESP32: esptool write_flash command line"
expect_same "$TMP/boot.bin" "$REC/files/part3.bin" "ESP32: bootloader bytes"
expect_same "$TMP/app.bin" "$REC/files/part1.bin" "ESP32: application bytes"
STANDIN_MODE=fail board nodemcu2 esp32_devkitc Esp32DevKitC burn "$TMP/esp32.vm"
expect_line "burn: error -13: esptool failed (exit status 1): A fatal error occurred: Failed to connect to ESP32: Timed out waiting for packet header" \
	"ESP32: esptool failing"
# A pty (what umockdev gives) has no modem lines: the DTR/RTS reset says so instead of pretending.
board nodemcu2 esp32_devkitc Esp32DevKitC reset
expect_line "reset: error -15: /dev/ttyUSB0 has no modem control lines (DTR/RTS): cannot reset ESP32 DevKitC" \
	"ESP32: DTR/RTS reset on a port without modem lines"

# ---- ST Nucleo F401RE: copy to the ST-Link disk, padded ------------------------------------------------
mkdir -p "$TMP/disk"
printf '36 25 8:16 / %s rw,relatime shared:1 - vfat /dev/sdb rw,fmask=0022\n' "$TMP/disk" >"$TMP/mountinfo"
: >"$TMP/mountinfo-empty"
img "$TMP/nucleo.bin" "nucleo image" 70000
vm "$TMP/nucleo.vm" "$TMP/nucleo.bin"
cp "$TMP/nucleo.bin" "$TMP/nucleo.padded" && truncate -s 133120 "$TMP/nucleo.padded"
ZTC_MOUNTINFO="$TMP/mountinfo" board nucleo_f401re st_nucleof401re STNucleo401RE disk burn "$TMP/nucleo.vm"
expect_line "disk: $TMP/disk" "Nucleo: discovery found the mounted disk"
expect_line "burn: ok" "Nucleo: burn succeeds"
expect_same "$TMP/nucleo.padded" "$TMP/disk/stnucleo.bin" "Nucleo: stnucleo.bin on the disk, padded to 130 KiB"
[ "$(ls "$TMP/disk")" = stnucleo.bin ] && pass "Nucleo: nothing else written on the disk" || fail "Nucleo: disk: $(ls "$TMP/disk")"
expect_line "progress: 100 copying" "Nucleo: copy progress"

img "$TMP/nucleo-big.bin" "too big" 133121
vm "$TMP/nucleo-big.vm" "$TMP/nucleo-big.bin"
ZTC_MOUNTINFO="$TMP/mountinfo" board nucleo_f401re st_nucleof401re STNucleo401RE burn "$TMP/nucleo-big.vm"
expect_line "burn: error -3: the image (133121 bytes) is larger than ST Nucleo F401RE takes (133120 bytes)" \
	"Nucleo: image over max_size refused"

ZTC_MOUNTINFO="$TMP/mountinfo-empty" board nucleo_f401re st_nucleof401re STNucleo401RE disk burn "$TMP/nucleo.vm"
expect_line "disk: none" "Nucleo: no disk mounted"
expect_line "burn: error -6: no mass-storage disk mounted for ST Nucleo F401RE" "Nucleo: burn without a disk"

# ---- a probe (ST-Link) through OpenOCD, with a user folder giving the chip's keys ----------------------
board nucleo_f401re stlink_v21 STLinkV21 burn "$TMP/nucleo.vm"
expect_line "burn: error -15: ST-Link V2-1 has no OpenOCD target script: set jtag_target in $top_srcdir/db/stlink_v21/device.json (or put openocd.cfg beside it)" \
	"probe: no target script"
mkdir -p "$TMP/db/stlink_v21"
cat >"$TMP/db/stlink_v21/device.json" <<'JSON'
{"name": "ST-Link V2-1", "target": "stlink_v21", "type": "jtag",
 "classes": [{"class": "probe.STLinkV21", "usb": ["0483:374B"]}],
 "openocd_interface": "interface/stlink.cfg", "jtag_target": "stm32f4x", "vm_start": "0x08000000",
 "jtag_chipid_command": "mdw 0x1fff7a10; mdw 0x1fff7a14; mdw 0x1fff7a18", "jtag_chipid_len": 3}
JSON
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board nucleo_f401re stlink_v21 STLinkV21 burn "$TMP/nucleo.vm" chipid
expect_line "burn: ok" "probe: OpenOCD burn succeeds"
expect_calls "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c 'program {tmp}/firmware.bin verify reset 0x08000000' -c shutdown
openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c init -c 'mdw 0x1fff7a10' -c 'mdw 0x1fff7a14' -c 'mdw 0x1fff7a18' -c shutdown" \
	"probe: OpenOCD command lines"
expect_same "$TMP/nucleo.bin" "$REC/files/firmware.bin" "probe: OpenOCD got the image bytes"
expect_line "chipid: 01ff0c0041ff0c0081ff0c00" "probe: chip id from the mdw words, each reversed"
STANDIN_MODE=notext ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board nucleo_f401re stlink_v21 STLinkV21 burn "$TMP/nucleo.vm"
expect_line "burn: error -13: openocd could not program ST-Link V2-1 (exit status 0, Verified Failed): shutdown command invoked" \
	"probe: verification failure"

# ---- chip ids through a probe: jtag_chipid_format, the values' validation, a probe that may not be opened --
# probe_chipid KEYS: the ST-Link folder above with the JSON members KEYS added, then chipid.
probe_chipid() {
	sed "s/\"jtag_chipid_len\": 3}/\"jtag_chipid_len\": 3$1}/" "$TMP/stlink_v21.json" >"$TMP/db/stlink_v21/device.json"
	ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board nucleo_f401re stlink_v21 STLinkV21 chipid
}
cp "$TMP/db/stlink_v21/device.json" "$TMP/stlink_v21.json"
probe_chipid ', "jtag_chipid_format": "words"'
expect_line "chipid: 00C0FF1000C0FF1400C0FF18" "probe: words: each value as 8 upper-case digits, in address order"
probe_chipid ', "jtag_chipid_format": "reversed"'
expect_line "chipid: 01ff0c0041ff0c0081ff0c00" "probe: reversed, as the default"
# One "mdw ADDR 3" prints the three words on one line: one line to keep.
sed 's/"mdw 0x1fff7a10; mdw 0x1fff7a14; mdw 0x1fff7a18", "jtag_chipid_len": 3}/"mdw 0x1fff7a10 3", "jtag_chipid_format": "words"}/' \
	"$TMP/stlink_v21.json" >"$TMP/db/stlink_v21/device.json"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board nucleo_f401re stlink_v21 STLinkV21 chipid
expect_calls "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c init -c 'mdw 0x1fff7a10 3' -c shutdown" \
	"probe: mdw ADDR COUNT command line"
expect_line "chipid: 00C0FF1000C0FF1400C0FF18" "probe: mdw ADDR COUNT: three words on one line"
export STANDIN_OPENOCD_PRINT='0x1fff7a10: 37 \n'
probe_chipid ', "jtag_chipid_format": "words"'
expect_line "chipid: 000000370000003700000037" "probe: words: a short value padded with zeros"
probe_chipid ''
expect_line "chipid: 737373" "probe: reversed: a value as printed, reversed"
STANDIN_OPENOCD_PRINT='0x1fff7a10: 0037zz32 \n'
probe_chipid ', "jtag_chipid_format": "words"'
expect_line 'chipid: error -13: openocd printed a chip id value that is not 1 to 8 hexadecimal digits: "0037zz32" at 0x1fff7a10' \
	"probe: a value that is not hexadecimal is refused"
STANDIN_OPENOCD_PRINT='0x1fff7a10: 003700321 \n'
probe_chipid ''
expect_line 'chipid: error -13: openocd printed a chip id value that is not 1 to 8 hexadecimal digits: "003700321" at 0x1fff7a10' \
	"probe: a value of 9 digits is refused (reversed too)"
STANDIN_OPENOCD_PRINT='0x1fff7a10: \n'
probe_chipid ''
expect_line "chipid: error -13: openocd printed no chip id value at 0x1fff7a10" "probe: a line without a value is refused"
STANDIN_OPENOCD_PRINT='Error: Failed to read memory at 0x1fff7a10\n'
probe_chipid ''
expect_line "chipid: error -13: openocd printed 0 of the 3 chip id lines" "probe: output without the values"
unset STANDIN_OPENOCD_PRINT
STANDIN_MODE=short probe_chipid ''
expect_line "chipid: error -13: openocd printed 1 of the 3 chip id lines" "probe: short output"
sed 's/"mdw 0x1fff7a10; mdw 0x1fff7a14; mdw 0x1fff7a18", "jtag_chipid_len": 3}/"mdw 0x20000000 33", "jtag_chipid_len": 5, "jtag_chipid_format": "words"}/' \
	"$TMP/stlink_v21.json" >"$TMP/db/stlink_v21/device.json"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board nucleo_f401re stlink_v21 STLinkV21 chipid
expect_line "chipid: error -13: the chip id openocd printed is longer than 256 characters" "probe: a chip id over 256 characters"
# Bad data is refused before OpenOCD runs.
probe_chipid ', "jtag_chipid_format": "hex"'
expect_line "chipid: error -8: $TMP/db/stlink_v21/device.json: jtag_chipid_format must be \"words\" or \"reversed\"" \
	"probe: unknown jtag_chipid_format"
expect_calls "" "probe: unknown jtag_chipid_format: OpenOCD did not run"
sed 's/"jtag_chipid_len": 3}/"jtag_chipid_len": 65}/' "$TMP/stlink_v21.json" >"$TMP/db/stlink_v21/device.json"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board nucleo_f401re stlink_v21 STLinkV21 chipid
expect_line "chipid: error -8: $TMP/db/stlink_v21/device.json: jtag_chipid_len must be 1 to 64 lines and jtag_timeout a positive number of seconds" \
	"probe: jtag_chipid_len over 64"
expect_calls "" "probe: jtag_chipid_len over 64: OpenOCD did not run"
# OpenOCD's LIBUSB_ERROR_ACCESS: one line naming the udev rules, for the chip id and for flashing.
DENIED="permission denied on the USB probe of ST-Link V2-1 (0483:374B): openocd may not open it; install the udev rules the ztc package installs (60-ztc.rules) and run 'udevadm trigger' as root, or replug the board"
cp "$TMP/stlink_v21.json" "$TMP/db/stlink_v21/device.json"
STANDIN_MODE=access ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board nucleo_f401re stlink_v21 STLinkV21 chipid burn "$TMP/nucleo.vm"
expect_line "chipid: error -5: $DENIED" "probe: ST-Link may not be opened: chip id"
expect_line "burn: error -5: $DENIED" "probe: ST-Link may not be opened: burn"
# A CMSIS-DAP probe is pinned to the board's USB id, so OpenOCD says when it may not open it. The
# Genuino Zero's EDBG here has the Due record's USB identity.
mkdir -p "$TMP/db/genuino_zero"
sed 's/"usb": \["03EB:2157"\]/"usb": ["2341:003D"]/' "$top_srcdir/db/genuino_zero/device.json" >"$TMP/db/genuino_zero/device.json"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board arduino_due genuino_zero GenuinoZero chipid
expect_calls "openocd -f interface/cmsis-dap.cfg -c 'cmsis_dap_vid_pid 0x2341 0x003D' -f target/at91samdXX.cfg -c init -c 'mdw 0x0080A00C' -c 'mdw 0x0080A040' -c 'mdw 0x0080A044' -c 'mdw 0x0080A048' -c shutdown" \
	"Genuino Zero: OpenOCD through the EDBG, pinned to the board's USB id"
expect_line "chipid: 00C0FF0C00C0FF4000C0FF4400C0FF48" "Genuino Zero: the SAMD21 serial number words"
STANDIN_MODE=access ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board arduino_due genuino_zero GenuinoZero chipid
expect_line "chipid: error -5: permission denied on the USB probe of Arduino/Genuino Zero (2341:003D): openocd may not open it; install the udev rules the ztc package installs (60-ztc.rules) and run 'udevadm trigger' as root, or replug the board" \
	"Genuino Zero: EDBG may not be opened"
# openocd_chipid_default (plugins/common): no probe named declines (register then wants register.vm); an unknown
# probe name is bad data. Neither runs OpenOCD.
mkdir -p "$TMP/db/st_nucleof401re"
grep -v '"preferred_register_with_jtag"' "$top_srcdir/db/st_nucleof401re/device.json" >"$TMP/db/st_nucleof401re/device.json"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board nucleo_f401re st_nucleof401re STNucleo401RE chipid
expect_line "chipid: error -15: ST Nucleo F401RE has no on-board probe named (preferred_register_with_jtag) to read its chip id through" \
	"Nucleo: no probe named: the reader declines"
expect_calls "" "Nucleo: no probe named: OpenOCD did not run"
sed 's/"preferred_register_with_jtag": "stlink"/"preferred_register_with_jtag": "stlink3"/' \
	"$top_srcdir/db/st_nucleof401re/device.json" >"$TMP/db/st_nucleof401re/device.json"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board nucleo_f401re st_nucleof401re STNucleo401RE chipid
expect_line "chipid: error -8: $TMP/db/st_nucleof401re/device.json: preferred_register_with_jtag \"stlink3\" is not one of stlink, jlink, cmsis_dap, atmel_ice, atmel_edbg, kitprog2" \
	"Nucleo: unknown probe name"
expect_calls "" "Nucleo: unknown probe name: OpenOCD did not run"
rm -rf "$TMP/db"

# ---- J-Link, edbg, Spresense: command lines from device.json ------------------------------------------
mkdir -p "$TMP/db"
# These boards have no record of their own: a Due record stands in for their USB identity.
for t in nordic_pca10040 xplained_d21 sony_spresense polaristracker_v3; do
	mkdir -p "$TMP/db/$t"
	sed 's/"usb": \["[0-9A-F:", ]*"\]/"usb": ["2341:003D"]/' "$top_srcdir/db/$t/device.json" >"$TMP/db/$t/device.json"
done
export ZTC_DB_PATH="$TMP/db:$top_srcdir/db"
board arduino_due nordic_pca10040 NordicPCA10040 burn "$TMP/due.vm"
expect_line "burn: ok" "nRF52 DK: J-Link burn succeeds"
expect_calls "jlinkexe -If swd -device nRF52832_xxAA -speed 4000 -autoconnect 1 -CommanderScript {tmp}/script0.txt" \
	"nRF52 DK: J-Link command line"
[ "$(sed -E 's#/[^"]*/ztc-flash\.[A-Za-z0-9]{6}/#{tmp}/#' "$REC/files/script0.txt" 2>/dev/null)" = 'loadbin "{tmp}/firmware.bin", 0x00000000
r
exit' ] && pass "nRF52 DK: J-Link script loads the image at vm_start, resets, exits" ||
	fail "nRF52 DK: script: $(cat "$REC/files/script0.txt")"
expect_same "$TMP/due.bin" "$REC/files/firmware.bin" "nRF52 DK: J-Link got the image bytes"
board arduino_due nordic_pca10040 NordicPCA10040 reset
expect_line "reset: ok" "nRF52 DK: J-Link reset"
[ "$(calls)" = "jlinkexe -If swd -device nRF52832_xxAA -speed 4000 -autoconnect 1 -CommanderScript {tmp}/script0.txt" ] &&
	[ "$(cat "$REC/files/script0.txt")" = "r
exit" ] && pass "nRF52 DK: J-Link reset script" || fail "nRF52 DK: reset: $(calls) $(cat "$REC/files/script0.txt")"
STANDIN_MODE=fail board arduino_due nordic_pca10040 NordicPCA10040 burn "$TMP/due.vm"
expect_line 'burn: error -13: jlinkexe did not report success (no "O.K." in its output): Connecting to J-Link via USB...FAILED: Cannot connect to J-Link.' \
	"nRF52 DK: J-Link failing (ok_when text ignores the exit status)"

board arduino_due xplained_d21 XplainedProSamD21 burn "$TMP/due.vm" reset
expect_calls "edbg -ebpv -t atmel_cm0p -s 75330303035351E0A1C0 -f {tmp}/firmware.bin
edbg_l21 -F r,1,1 -t atmel_cm0p" "Xplained D21: edbg burn and reset command lines"
expect_same "$TMP/due.bin" "$REC/files/firmware.bin" "Xplained D21: edbg got the image bytes"

board arduino_due sony_spresense SonySpresense burn "$TMP/due.vm"
expect_line "burn: ok" "Spresense: burn succeeds"
expect_calls "spresense_mkspk -c 2 {tmp}/firmware.bin nuttx {tmp}/nuttx.spk
spresense_flashwriter -s -c /dev/ttyACM0 -d -b 115200 -n {tmp}/nuttx.spk" "Spresense: mkspk then flash_writer"
{ printf 'SPK\n'; cat "$TMP/due.bin"; } >"$TMP/due.spk"
expect_same "$TMP/due.spk" "$REC/files/nuttx.spk" "Spresense: flash_writer got mkspk's output"
expect_tmp_removed "Spresense"
BOARD_PATH="$TMP/empty-bin" board arduino_due sony_spresense SonySpresense burn "$TMP/due.vm"
expect_line "burn: error -13: spresense_flashwriter not found on PATH: no Debian package provides it; it is flash_writer from the Sony Spresense SDK (https://developer.sony.com/spresense/) under the name spresense_flashwriter" \
	"Spresense: missing tool says where it comes from"

# Polaris: the runtime class switches to DFU mode by a 1200-baud touch and resets by a 2400-baud open.
board arduino_due polaristracker_v3 PolaristrackerV3 speed enter speed reset speed burn "$TMP/due.vm"
[ "$(printf '%s\n' "$out" | grep -v '^progress' | tr '\n' '|')" = "speed: 38400|enter: ok|speed: 1200|reset: ok|speed: 2400|burn: error -15: Polaris Tracker v3 is in its normal mode: put the board in DFU mode first|" ] &&
	pass "Polaris: enter_virtualizable (1200 baud), reset (2400 baud), normal class refuses to burn" ||
	fail "Polaris: $out"
board arduino_due polaristracker_v3 PolaristrackerV3DFU burn "$TMP/due.vm"
expect_line "burn: error -17: Polaris Tracker v3: no DFU device 2341:003D with serial number 75330303035351E0A1C0 is connected any more (unplugged, or it left DFU mode): put the board in DFU mode and run the command again" \
	"Polaris DFU: DfuSe, no tool (the stand-in record has no DFU bootloader)"
expect_calls "" "Polaris DFU: no dfustm32l4"
export ZTC_DB_PATH="$top_srcdir/db"
rm -rf "$TMP/db"

# ---- ztc_sim: the simulated flash, atomically replaced, progress by bytes -------------------------------
sed 's/2341/1d6b/g; s/003d/0104/g; s/003D/0104/g; s/Arduino/Sim/g' "$DATA/arduino_due.umockdev" >"$TMP/sim.umockdev"
img "$TMP/sim.bin" "simulated firmware" 10000
img "$TMP/sim2.bin" "second part" 100
vm "$TMP/sim.vm" "$TMP/sim.bin"
echo "old" >"$TMP/simflash"
ZTC_SIM_FLASH="$TMP/simflash" board "$TMP/sim.umockdev" ztc_sim SimBoard burn "$TMP/sim.vm" chipid reset
expect_line "burn: ok" "sim: burn succeeds"
expect_same "$TMP/sim.bin" "$TMP/simflash" "sim: ZTC_SIM_FLASH holds the image"
expect_line "progress: 40 flashing" "sim: progress by bytes written (4096 of 10000)"
expect_line "chipid: error -15: ztc simulated board: class SimBoard cannot read the chip id natively" \
	"sim: no native chip id (its registration firmware prints it)"
expect_line "reset: ok" "sim: reset does nothing and succeeds"
[ -z "$(ls "$TMP" | grep '^simflash\.')" ] && pass "sim: no temporary file left beside the flash" ||
	fail "sim: left: $(ls "$TMP" | grep '^simflash\.')"
vm "$TMP/sim2.vm" "$TMP/sim.bin" "$TMP/sim2.bin"
cat "$TMP/sim.bin" "$TMP/sim2.bin" >"$TMP/sim12.bin"
ZTC_SIM_FLASH="$TMP/simflash" board "$TMP/sim.umockdev" ztc_sim SimBoard burn "$TMP/sim2.vm"
expect_same "$TMP/sim12.bin" "$TMP/simflash" "sim: several images written one after the other"
ZTC_SIM_FLASH="$TMP/simflash" board "$TMP/sim.umockdev" ztc_sim SimBoard burn "$top_srcdir/db/ztc_sim/register.vm"
expect_line "burn: ok" "sim: its register.vm flashes"
[ "$(wc -c <"$TMP/simflash")" = 512 ] && head -c 29 "$TMP/simflash" | grep -qx "ztc_sim registration firmware" &&
	pass "sim: register.vm holds the 512-byte registration image" || fail "sim: register.vm image: $(head -c 40 "$TMP/simflash")"
# Unset: flash.bin in the board's folder (a copy here: the source tree stays untouched).
mkdir -p "$TMP/db/ztc_sim"
cp "$top_srcdir/db/ztc_sim/device.json" "$TMP/db/ztc_sim/"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" board "$TMP/sim.umockdev" ztc_sim SimBoard burn "$TMP/sim.vm"
expect_same "$TMP/sim.bin" "$TMP/db/ztc_sim/flash.bin" "sim: without ZTC_SIM_FLASH, flash.bin in the board folder"
ZTC_SIM_FLASH="$TMP/no/such/dir/flash" board "$TMP/sim.umockdev" ztc_sim SimBoard burn "$TMP/sim.vm"
expect_line "burn: error -5: cannot write the simulated flash $TMP/no/such/dir/flash: No such file or directory (set ZTC_SIM_FLASH to a writable file)" \
	"sim: unwritable flash file"
rm -rf "$TMP/db"

# ---- a bad firmware file is refused before the board is touched ---------------------------------------
printf '{"bin": "not base64!"}' >"$TMP/bad.vm"
STANDIN_PORT=/dev/ttyACM0 board arduino_due arduino_due ArduinoDue burn "$TMP/bad.vm" speed
expect_line "burn: error -8: $TMP/bad.vm: \"bin\" is not valid base64" "bad base64 refused"
expect_line "speed: 38400" "bad firmware: no touch"
expect_calls "" "bad firmware: nothing ran"

# ---- the ztc progress output (core/cli/progress.c) -----------------------------------------------------
ZTC_SIM_FLASH="$TMP/simflash" board "$TMP/sim.umockdev" ztc_sim SimBoard --cli-progress burn "$TMP/sim.vm"
plain=$(grep -v '^log ' "$TMP/err" || true)
[ "$plain" = "flashing: 40%
flashing: 81%
flashing: 100%" ] && pass "progress: plain lines at most every 10% when stderr is not a terminal" ||
	fail "progress plain lines: [$plain]"
STANDIN_PORT=/dev/ttyACM0 board arduino_due arduino_due ArduinoDue --cli-progress burn "$TMP/due.vm"
plain=$(grep -v '^log ' "$TMP/err" || true)
[ "$plain" = "starting the bootloader (1200-baud touch)
flashing
erasing
writing
writing: 25%
writing: 43%
writing: 75%
writing: 100%" ] && pass "progress: bossac's phases as plain lines, each counted from its start" ||
	fail "progress plain lines, bossac: [$plain]"
BOARD_PATH="$TMP/empty-bin" board arduino_due arduino_due ArduinoDue --cli-progress burn "$TMP/due.vm"
expect_line "burn: error -13: bossac not found on PATH: install the Debian package bossa-cli (apt-get install bossa-cli)" \
	"progress: bossac missing"
grep -E '%|^(starting|flashing|erasing|writing)' "$TMP/err" && fail "progress without bossac: $(cat "$TMP/err")" ||
	pass "progress: nothing when the tool is missing"
ZTC_SIM_FLASH="$TMP/simflash" board "$TMP/sim.umockdev" ztc_sim SimBoard --cli-progress-quiet burn "$TMP/sim.vm"
[ -z "$(grep -v '^log ' "$TMP/err" || true)" ] && pass "progress: nothing with -q" || fail "progress with -q: $err"
if script -qefc true /dev/null >/dev/null 2>&1; then
	set +e
	ZTC_SIM_FLASH="$TMP/simflash" STANDIN_RECORD="$TMP" script -qefc \
		"'$UMOCKDEV_RUN' -d '$TMP/sim.umockdev' -- '$FB' ztc_sim SimBoard --cli-progress --no-log burn '$TMP/sim.vm'" \
		/dev/null >"$TMP/tty.out" 2>&1
	set -e
	grep -q "$(printf '\r')\[############                  \]  40% flashing" "$TMP/tty.out" &&
		grep -q "$(printf '\r')\[##############################\] 100% flashing" "$TMP/tty.out" &&
		pass "progress: a redrawn bar on a terminal" || fail "progress bar: $(od -c "$TMP/tty.out" | head -20)"
	[ "$(grep -c '100% flashing' "$TMP/tty.out")" = 1 ] && pass "progress: the bar ends once" ||
		fail "progress bar drawn $(grep -c '100% flashing' "$TMP/tty.out") times at 100%"
else
	echo "skip: script(1) cannot make a terminal here: the progress bar is not checked"
fi

# ---- refusals are data: device.json "method": "unsupported" says why, no class code repeats it ----------
sed 's#483/374b/#d28/204/#; s/=0483$/=0D28/; s/=374b$/=0204/' "$DATA/nucleo_f401re.umockdev" >"$TMP/redbear.umockdev"
board "$TMP/redbear.umockdev" redbear_nano2 RedBearNano2 burn "$TMP/nucleo.vm"
expect_line "burn: error -15: mass storage burning is unreliable, use jtag" "RedBear Nano 2: the disk is refused, saying why"
expect_calls "" "RedBear Nano 2: nothing ran"
# The YARM has no USB of its own: its alias pins a probe to it, and flashing by its class is refused.
mkdir -p "$ZTC_HOME"
printf '{"devices": [{"alias": "yarm", "uid": "4fdcb314426cd95b56e470797a2538176b9ea771", "target": "acme_yarm", "classname": "AcmeYarm"}]}\n' \
	>"$ZTC_HOME/devices.json"
board nucleo_f401re acme_yarm AcmeYarm burn "$TMP/nucleo.vm"
expect_line "burn: error -15: not supported, use a JTAG probe" "YARM: burning through its class is refused, saying why"
expect_calls "" "YARM: nothing ran"
rm -f "$ZTC_HOME/devices.json"


# ---- the flash object's rules: a bad one is a warning naming the file when the database loads; the board
# is listed and matched, but cannot be flashed; the other boards flash as before -------------------------
mkdir -p "$TMP/db/acme_bad" "$TMP/db/acme_probe"
BAD="$TMP/db/acme_bad/device.json"
cat >"$BAD" <<'JSON'
{"name": "Acme Bad", "target": "acme_bad", "type": "board",
 "classes": [{"class": "atmel.AcmeBad", "usb": ["2341:003D"]}], "virtualizable": "AcmeBad",
 "flash": {"version": 1, "method": "tool", "tool": "bossac", "args": ["-w", "{firmware}"]}}
JSON
WARN="warning: $BAD: flash: unknown placeholder {firmware} in flash.args; the board cannot be flashed"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_under arduino_due -J device discover --matchdb
expect_rc 0 "bad flash object: discover --matchdb"
[ "$err" = "ztc: $WARN" ] && pass "bad flash object: one warning naming the file (--matchdb)" ||
	fail "--matchdb stderr: $err"
[ "$(printf '%s\n' "$out" | "$JSONL" get target | tr '\n' ' ')" = "acme_bad arduino_due flipnclick_sam3x " ] &&
	pass "bad flash object: the board is listed and matched" || fail "--matchdb: $out"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_run device supported
printf '%s\n' "$out" | grep -q '^acme_bad ' && [ "$err" = "ztc: $WARN" ] &&
	pass "bad flash object: supported lists it, warning" || fail "supported: $err"
set +e
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" "$top_builddir/tests/tools/plugin-check" resolve acme_bad >"$TMP/out" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 0 ] && [ "$(cat "$TMP/out")" = "acme_bad atmel.ArduinoDue
loaded 1 modules" ] && [ "$(cat "$TMP/err")" = "plugin-check: ${WARN#warning: }" ] &&
	pass "bad flash object: the plugin check warns and resolves its class" ||
	fail "plugin-check: $rc $(cat "$TMP/out" "$TMP/err")"
export ZTC_DB_PATH="$TMP/db:$top_srcdir/db"
STANDIN_PORT=/dev/ttyACM0 board arduino_due acme_bad AcmeBad burn "$TMP/due.vm" speed
expect_line "burn: error -8: $BAD: flash: unknown placeholder {firmware} in flash.args" "bad flash object: burn refused"
expect_line "speed: 38400" "bad flash object: the board was not touched"
expect_calls "" "bad flash object: nothing ran"
STANDIN_PORT=/dev/ttyACM0 board arduino_due arduino_due ArduinoDue burn "$TMP/due.vm"
expect_line "burn: ok" "bad flash object: the Due beside it still flashes"
expect_same "$TMP/due.bin" "$REC/files/firmware.bin" "bad flash object: the Due's bossac got its image"

# A vendor board of a probe-driving family (mbed's default class) flashed through its probe: method probe.
cat >"$TMP/db/acme_probe/device.json" <<'JSON'
{"name": "Acme Probe Board", "target": "acme_probe", "type": "board",
 "classes": [{"class": "mbed.AcmeProbeBoard", "usb": ["0483:374B"]}], "virtualizable": "AcmeProbeBoard",
 "jtag_target": "stm32f4x", "vm_start": "0x08000000",
 "flash": {"version": 1, "method": "probe", "probe": "stlink"}}
JSON
board nucleo_f401re acme_probe AcmeProbeBoard burn "$TMP/nucleo.vm"
expect_line "burn: ok" "vendor probe board: burn through the probe"
expect_calls "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c 'program {tmp}/firmware.bin verify reset 0x08000000' -c shutdown" \
	"vendor probe board: OpenOCD through the ST-Link"
sed -i 's/"probe": "stlink"/"probe": "stlink9"/' "$TMP/db/acme_probe/device.json"
board nucleo_f401re acme_probe AcmeProbeBoard burn "$TMP/nucleo.vm"
expect_line "burn: error -8: $TMP/db/acme_probe/device.json: flash: probe \"stlink9\" is not one of stlink, jlink, cmsis_dap, atmel_ice, atmel_edbg, kitprog2" \
	"vendor probe board: unknown probe name"
expect_calls "" "vendor probe board: unknown probe name: OpenOCD did not run"
export ZTC_DB_PATH="$top_srcdir/db"
rm -rf "$TMP/db"

# ---- tools.json: a vendor dir adds where its tools come from; a malformed one is a warning ------------
mkdir -p "$TMP/db/acme_tool"
sed 's/"tool": "bossac",/"tool": "acmeflash",/' "$top_srcdir/db/arduino_due/device.json" |
	sed 's/"target": "arduino_due"/"target": "acme_tool"/; s/"atmel.ArduinoDue"/"atmel.AcmeTool"/; s/"virtualizable": "ArduinoDue"/"virtualizable": "AcmeTool"/' \
	>"$TMP/db/acme_tool/device.json"
printf '{"version": 1, "tools": {"acmeflash": {"origin": "it comes with the Acme SDK (https://acme.example/sdk)"}}}\n' \
	>"$TMP/db/tools.json"
export ZTC_DB_PATH="$TMP/db:$top_srcdir/db"
board arduino_due acme_tool AcmeTool burn "$TMP/due.vm"
expect_line "burn: error -13: acmeflash not found on PATH: no Debian package provides it; it comes with the Acme SDK (https://acme.example/sdk)" \
	"tools.json: a vendor dir's hint"
printf '{"version": 1, "tools": {"acmeflash": {"package": "acme flash"}}}\n' >"$TMP/db/tools.json"
board arduino_due acme_tool AcmeTool burn "$TMP/due.vm"
expect_line "burn: error -13: acmeflash not found on PATH" "tools.json: a malformed vendor file gives no hint"
grep -qxF "log 2: $TMP/db/tools.json: tools.acmeflash.package is not a Debian package name; its tool hints are ignored" "$TMP/err" &&
	pass "tools.json: a malformed vendor file is a warning naming it" || fail "tools.json warning: $err"
BOARD_PATH="$TMP/empty-bin" board arduino_due arduino_due ArduinoDue burn "$TMP/due.vm"
expect_line "burn: error -13: bossac not found on PATH: install the Debian package bossa-cli (apt-get install bossa-cli)" \
	"tools.json: the built-in hints still apply beside a malformed vendor file"
export ZTC_DB_PATH="$top_srcdir/db"
rm -rf "$TMP/db"

finish
