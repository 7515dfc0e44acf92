# esp-native.sh: the esp plugin reads the chip id natively from the ESP8266 / ESP32 ROM loader, played by
# tests/tools/esp-sim on the board's emulated port (fakeboard --serve, umockdev): every ESP class of the
# database, boot noise and missed SYNCs, and each failure (silent board, wrong or unknown chip, odd
# eFuses) with its one line; then `ztc device register` end to end against the test backend, with no
# register.vm and no esptool anywhere, and the failures that must leave the store and the board alone.
. "$top_srcdir/tests/backend/lib.sh"
set -e
FAKE="$top_builddir/tests/tools/fakeboard"
FB="$top_builddir/tests/flash/flash-board"
SIM="$top_builddir/tests/tools/esp-sim"
STORE="$ZTC_HOME/devices.json"
export ZTC_FLASH_NO_SLEEP=1 TMPDIR="$TMP/tmp"
mkdir -p "$TMPDIR" "$TMP/rec"
n=0

# A PATH without esptool (nor any flashing tool): what umockdev-run and libtool's wrappers need.
NOESP="$TMP/noesptool"
mkdir -p "$NOESP"
for c in sh bash env cat ls; do ln -sf "$(command -v "$c")" "$NOESP/$c"; done
PATH="$NOESP" command -v esptool >/dev/null 2>&1 && fail "esptool is on the test PATH" || pass "no esptool on the test PATH"

# on RECORD DEVNODE "SIM-ARGS" CMD...: CMD under umockdev with RECORD's devices, esp-sim SIM-ARGS serving
# DEVNODE and logging the frames it receives to $SIMLOG. Sets $out, $err, $rc, $SIMLOG.
on() {
	local rec=$1 dev=$2 simargs=$3
	shift 3
	n=$((n + 1))
	SIMLOG="$TMP/sim.$n.log"
	: >"$SIMLOG"
	capture env PATH="$NOESP" "$UMOCKDEV_RUN" -- "$FAKE" --timeout 60 -d "$rec" \
		--serve "$dev='$SIM' $simargs --log '$SIMLOG'" -- "$@"
}
# chipid RECORD DEVNODE TARGET CLASS "SIM-ARGS": ztc_board_read_chipid through flash-board.
chipid() { on "$1" "$2" "$5" "$FB" "$3" "$4" --no-log chipid; }
expect_line() {
	printf '%s\n' "$out" | grep -qxF -- "$1" && pass "$2" || fail "$2: no line [$1] in [$out]; stderr: $(tail -3 "$TMP/err")"
}
expect_log() {
	[ "$(tr '\n' ' ' <"$SIMLOG")" = "$1" ] && pass "$2" || fail "$2: the simulator received [$(tr '\n' ' ' <"$SIMLOG")], expected [$1]"
}
# Only SYNC and READ_REG reached the board: nothing was written to it.
only_reads() {
	! grep -qv '^SYNC$\|^READ_REG ' "$SIMLOG" && pass "$1: the board got only SYNC and READ_REG" ||
		fail "$1: the board got $(grep -v '^SYNC$\|^READ_REG ' "$SIMLOG" | head -3)"
}
# record VID PID: a copy of the NodeMCU's CP2102 record with another USB identity.
record() {
	local f="$TMP/rec/$1$2.umockdev"
	sed -e "s/10c4/$1/g" -e "s/ea60/$2/g" "$DATA/nodemcu2.umockdev" >"$f"
	printf '%s' "$f"
}
NODEMCU="$DATA/nodemcu2.umockdev"
DEVKITC="$DATA/esp32_devkitc.umockdev"

# ---- the plugin protocol, through ztc_board_read_chipid ---------------------------------------------
chipid "$NODEMCU" /dev/ttyUSB0 nodemcu2 NodeMCU2 "--chip esp8266 --mac 5c:cf:7f:c0:db:11"
expect_line "chipid: 5CCF7FC0DB11" "NodeMCU: the chip id is the MAC from the OTP words, 12 upper-case hex digits"
[ "$(printf '%s\n' "$out" | grep '^progress:' | tr '\n' '|')" = \
	"progress: -1 entering the bootloader (DTR/RTS)|progress: -1 reading the chip id (ESP ROM loader)|" ] &&
	pass "NodeMCU: one progress line per phase" || fail "NodeMCU: progress lines: $out"
expect_log "SYNC READ_REG 0x40001000 READ_REG 0x3FF00050 READ_REG 0x3FF00054 READ_REG 0x3FF0005C " \
	"NodeMCU: SYNC, the chip-detect register, then the three OTP MAC words"
# The case the esptool read_mac parsing covered (tests/flash): MAC 24:0a:c4:12:34:56 of an ESP32.
chipid "$DEVKITC" /dev/ttyUSB1 esp32_devkitc Esp32DevKitC "--chip esp32 --mac 24:0a:c4:12:34:56"
expect_line "chipid: 240AC4123456" "ESP32 DevKitC: the chip id is the eFuse MAC, bytes in order"
expect_log "SYNC READ_REG 0x40001000 READ_REG 0x3FF5A008 READ_REG 0x3FF5A004 " \
	"ESP32: SYNC, the chip-detect register, then eFuse words 2 and 1 of block 0"

# The classic esptool reset into the bootloader, seen through the modem-line stand-in (a pty has no
# DTR/RTS): EN low (RTS) with IO0 high, then EN high with IO0 low (DTR), then IO0 released.
ML="$top_builddir/tests/tools/.libs/modem-lines.so"
RESET="TIOCMSET DTR=0 RTS=1|TIOCMSET DTR=1 RTS=0|TIOCMSET DTR=0 RTS=0|"
: >"$TMP/modem"
MODEM_RECORD="$TMP/modem" on "$NODEMCU" /dev/ttyUSB0 "--chip esp8266" \
	sh -c 'LD_PRELOAD="$0${LD_PRELOAD:+:$LD_PRELOAD}" exec "$@"' "$ML" "$FB" nodemcu2 NodeMCU2 --no-log chipid
expect_line "chipid: 18FE34123456" "with modem lines: the chip id is read"
[ "$(tr '\n' '|' <"$TMP/modem")" = "$RESET" ] && pass "with modem lines: the classic DTR/RTS reset, once" ||
	fail "with modem lines: the lines were set [$(tr '\n' '|' <"$TMP/modem")]"
# A silent board with real waits: two resets (the second holding IO0 550 ms, for slow EN circuits),
# and the one line within a few seconds.
: >"$TMP/modem"
start=$(date +%s%N)
ZTC_FLASH_NO_SLEEP= MODEM_RECORD="$TMP/modem" on "$NODEMCU" /dev/ttyUSB0 "--chip esp8266 --silent" \
	sh -c 'LD_PRELOAD="$0${LD_PRELOAD:+:$LD_PRELOAD}" exec "$@"' "$ML" "$FB" nodemcu2 NodeMCU2 --no-log chipid
ms=$((($(date +%s%N) - start) / 1000000))
[ "$(tr '\n' '|' <"$TMP/modem")" = "$RESET$RESET" ] && pass "silent board with modem lines: reset twice" ||
	fail "silent board with modem lines: the lines were set [$(tr '\n' '|' <"$TMP/modem")]"
printf '%s\n' "$out" | grep -q '^chipid: error -14: /dev/ttyUSB0: no answer from the ESP ROM loader to SYNC (12 tries in ' &&
	pass "silent board with modem lines: the one line" || fail "silent board with modem lines: $out"
[ "$ms" -lt 6000 ] && pass "silent board with modem lines and real waits: failed in $ms ms" ||
	fail "silent board with modem lines: took $ms ms"

# Every ESP class of the database, each behind one of its USB identities.
classes="esp32_devkitc Esp32DevKitC 10c4 ea60 esp32 24:0a:c4
esp32_pico_v4 Esp32PicoV4 10c4 003d esp32 30:ae:a4
heltec_wifikit32 HeltecWiFiKit32 10c4 ea60 esp32 a4:cf:12
xinabox_esp32 XinaBox_ESP32 0403 6001 esp32 24:6f:28
pycom_wipy_v3 PycomWiPy3 04d8 f013 esp32 3c:71:bf
nodemcu2 NodeMCU2 10c4 003d esp8266 18:fe:34
nodemcu3 NodeMCU3 1a86 7523 esp8266 ac:d0:74
wemos_d1_mini WemosD1Mini 1a86 7523 esp8266 5c:cf:7f
firebeetle_esp8266 FireBeetleESP8266 1a86 7523 esp8266 84:f3:eb
sparkfun_esp8266thingdev SparkfunEsp8266ThingDev 0403 6015 esp8266 60:01:94"
indb=$(python3 -c 'import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/db/*/device.json")):
    d = json.load(open(f))
    for c in d.get("classes", []):
        if c["class"].startswith("esp."):
            print(d["target"], c["class"][4:])' "$top_srcdir")
[ "$indb" = "$(printf '%s\n' "$classes" | cut -d' ' -f1,2 | sort)" ] && pass "the list covers every esp class of the database" ||
	fail "esp classes of the database: [$indb]"
i=0
while read -r target class vid pid chip oui; do
	i=$((i + 1))
	mac=$(printf '%s:%02x:c0:%02x' "$oui" "$i" $((0xd0 + i)))
	chipid "$(record "$vid" "$pid")" /dev/ttyUSB0 "$target" "$class" "--chip $chip --mac $mac"
	want=$(printf '%s' "$mac" | tr -d : | tr a-f A-F)
	expect_line "chipid: $want" "$target ($class, $vid:$pid): chip id $want from the $chip ROM loader"
done <<<"$classes"

# A vendor board reusing the module under a class name of its own (the default class stands in): the
# chip it must have comes from its device.json family_name; without one the class declines, before the
# board is touched.
V="$TMP/vendordb/acme_esp"
mkdir -p "$V"
sed 's/"NodeMcu v2"/"Acme ESP"/; s/"nodemcu2"/"acme_esp"/; s/esp\.NodeMCU2/esp.AcmeEsp/; s/"virtualizable": "NodeMCU2"/"virtualizable": "AcmeEsp"/;
     s/\["10C4:003D", "10C4:EA60"\]/["1209:E5E5"]/' "$top_srcdir/db/nodemcu2/device.json" >"$V/device.json"
grep -q '"class": "esp.AcmeEsp", "usb": \["1209:E5E5"\]' "$V/device.json" && grep -q '"family_name": "esp8266"' "$V/device.json" &&
	pass "vendor folder: class esp.AcmeEsp, USB 1209:E5E5, family esp8266" || fail "vendor device.json: $(cat "$V/device.json")"
ZTC_DB_PATH="$TMP/vendordb:$ZTC_DB_PATH" chipid "$(record 1209 e5e5)" /dev/ttyUSB0 acme_esp AcmeEsp "--chip esp8266 --mac 5c:cf:7f:00:00:01"
expect_line "chipid: 5CCF7F000001" "vendor ESP8266 board through the default class: chip id read"
ZTC_DB_PATH="$TMP/vendordb:$ZTC_DB_PATH" chipid "$(record 1209 e5e5)" /dev/ttyUSB0 acme_esp AcmeEsp "--chip esp32"
expect_line "chipid: error -6: /dev/ttyUSB0: the chip is an ESP32, but the board (Acme ESP, acme_esp) has an ESP8266: give the board an alias of an ESP32 target" \
	"vendor ESP8266 board through the default class: an ESP32 is refused"
sed -i '/"family_name"/d' "$V/device.json"
ZTC_DB_PATH="$TMP/vendordb:$ZTC_DB_PATH" chipid "$(record 1209 e5e5)" /dev/ttyUSB0 acme_esp AcmeEsp "--chip esp8266"
expect_line 'chipid: error -15: acme_esp (AcmeEsp): family_name is missing, not "esp32" or "esp8266": the esp module cannot tell which chip to read' \
	"vendor board without family_name: the class declines"
[ ! -s "$SIMLOG" ] && pass "vendor board without family_name: nothing sent to the board" || fail "the board got $(cat "$SIMLOG")"

# A chip booting prints first (the ESP8266 at 74880 baud: noise with 0xC0 and bad escapes at 115200),
# and the ROM may need a few SYNCs to find the baud rate.
chipid "$NODEMCU" /dev/ttyUSB0 nodemcu2 NodeMCU2 "--chip esp8266 --mac ac:d0:74:c0:db:c0 --garbage --sync-misses 3"
expect_line "chipid: ACD074C0DBC0" "ESP8266: boot noise and 3 missed SYNCs are skipped"
expect_log "SYNC SYNC SYNC SYNC READ_REG 0x40001000 READ_REG 0x3FF00050 READ_REG 0x3FF00054 READ_REG 0x3FF0005C " \
	"ESP8266: SYNC until answered, then the reads"
chipid "$DEVKITC" /dev/ttyUSB1 esp32_devkitc Esp32DevKitC "--chip esp32 --garbage --sync-misses 2"
expect_line "chipid: 240AC4123456" "ESP32: its boot log and 2 missed SYNCs are skipped"

# A board that never answers (not in its bootloader, TX line down): one line, within a few seconds,
# naming the port, what was sent and what to try; the real waits this time.
start=$(date +%s%N)
ZTC_FLASH_NO_SLEEP= chipid "$NODEMCU" /dev/ttyUSB0 nodemcu2 NodeMCU2 "--chip esp8266 --silent"
ms=$((($(date +%s%N) - start) / 1000000))
printf '%s\n' "$out" | grep -qxE 'chipid: error -14: /dev/ttyUSB0: no answer from the ESP ROM loader to SYNC \(12 tries in [0-9.]+ s\): hold the BOOT \(IO0\) button, press and release RESET \(EN\), release BOOT and run the command again; check the USB cable \(some carry only power\)' &&
	pass "silent board: one line naming the port, SYNC, the BOOT/RESET buttons and the cable" || fail "silent board: $out"
[ "$ms" -lt 5000 ] && pass "silent board: failed in $ms ms" || fail "silent board: took $ms ms"
[ "$(sort -u "$SIMLOG")" = SYNC ] && [ "$(wc -l <"$SIMLOG")" = 12 ] && pass "silent board: 12 SYNCs were sent, nothing else" ||
	fail "silent board: the simulator got $(sort "$SIMLOG" | uniq -c | tr '\n' ' ')"

# The wrong chip for the class: refused after the chip-detect register, its MAC never read.
chipid "$NODEMCU" /dev/ttyUSB0 nodemcu2 NodeMCU2 "--chip esp32"
expect_line "chipid: error -6: /dev/ttyUSB0: the chip is an ESP32, but the board (NodeMcu v2, nodemcu2) has an ESP8266: give the board an alias of an ESP32 target" \
	"an ESP32 behind an ESP8266 class: one line naming both"
expect_log "SYNC READ_REG 0x40001000 " "an ESP32 behind an ESP8266 class: its MAC is not read"
chipid "$DEVKITC" /dev/ttyUSB1 esp32_devkitc Esp32DevKitC "--chip esp8266"
expect_line "chipid: error -6: /dev/ttyUSB1: the chip is an ESP8266, but the board (ESP32 DevKitC, esp32_devkitc) has an ESP32: give the board an alias of an ESP8266 target" \
	"an ESP8266 behind an ESP32 class: one line naming both"
# A later chip (the ESP32-S2's magic word) is neither.
chipid "$DEVKITC" /dev/ttyUSB1 esp32_devkitc Esp32DevKitC "--chip esp32 --reg 0x40001000=0x000007C6"
expect_line "chipid: error -6: /dev/ttyUSB1: the chip is not the ESP32 of the board (ESP32 DevKitC, esp32_devkitc) (magic word 0x000007C6 at 0x40001000: neither an ESP8266 nor an ESP32)" \
	"an unknown chip-detect word: one line with the word"
# OTP words with no known vendor prefix, and an eFuse MAC that fails its CRC.
chipid "$NODEMCU" /dev/ttyUSB0 nodemcu2 NodeMCU2 "--chip esp8266 --reg 0x3FF0005C=0 --reg 0x3FF00054=0x02020000"
expect_line "chipid: error -8: /dev/ttyUSB0: the ESP8266's OTP MAC has an unknown vendor prefix (OTP words 0x565A0000 0x02020000 0x00000000)" \
	"ESP8266: an unknown OUI selector is refused (esptool's \"Unknown OUI\")"
chipid "$DEVKITC" /dev/ttyUSB1 esp32_devkitc Esp32DevKitC "--chip esp32 --reg 0x3FF5A008=0x00FF240A"
expect_line "chipid: error -8: /dev/ttyUSB1: the ESP32's eFuse MAC 24:0A:C4:12:34:56 fails its CRC (0xFF stored, 0xF5 computed): run the command again" \
	"ESP32: a MAC that fails its CRC-8 is refused"

# ---- ztc device register, end to end --------------------------------------------------------------
start_backend
export ZTC_TOKEN="$TOKEN"
for t in nodemcu2 esp32_devkitc; do
	[ ! -e "$top_srcdir/db/$t/register.vm" ] && pass "$t: no register.vm in the database" || fail "$t has a register.vm"
done
snapshot_store() { cp "$STORE" "$TMP/before"; }
unchanged() { cmp -s "$STORE" "$TMP/before" && pass "$1: store unchanged" || fail "$1: store changed: $(cat "$STORE")"; }
no_post() {
	grep -q '"POST"' "$SRV/requests.jsonl" && fail "$1: something was POSTed: $(cat "$SRV/requests.jsonl")" ||
		pass "$1: nothing registered with the backend"
}
ztc_under nodemcu2 device alias put e7 nm nodemcu2
ztc_under esp32_devkitc device alias put 55 devkit esp32_devkitc
expect_rc 0 "alias the ESP32 DevKitC"

# The failures first, while nothing is registered: each leaves the store and the board as they were.
snapshot_store
reset_requests
on "$NODEMCU" /dev/ttyUSB0 "--chip esp8266 --silent" "$ZTC" -q device register nm
expect_rc 1 "register a silent NodeMCU"; expect_one_line "register a silent NodeMCU"
expect_err "ztc: /dev/ttyUSB0: no answer from the ESP ROM loader to SYNC" "register a silent NodeMCU"
unchanged "register a silent NodeMCU"; no_post "register a silent NodeMCU"; only_reads "register a silent NodeMCU"
on "$NODEMCU" /dev/ttyUSB0 "--chip esp32" "$ZTC" -q device register nm
expect_rc 1 "register an ESP32 behind an ESP8266 alias"; expect_one_line "register an ESP32 behind an ESP8266 alias"
expect_err "ztc: /dev/ttyUSB0: the chip is an ESP32, but nm (NodeMcu v2, nodemcu2) has an ESP8266: give the board an alias of an ESP32 target" \
	"register an ESP32 behind an ESP8266 alias"
unchanged "wrong chip"; no_post "wrong chip"; only_reads "wrong chip"
on "$DEVKITC" /dev/ttyUSB1 "--chip esp8266" "$ZTC" -q device register devkit
expect_rc 1 "register an ESP8266 behind an ESP32 alias"
expect_err "the chip is an ESP8266, but devkit (ESP32 DevKitC, esp32_devkitc) has an ESP32" "register an ESP8266 behind an ESP32 alias"
unchanged "wrong chip (ESP32 alias)"; no_post "wrong chip (ESP32 alias)"
# A bad token or a backend that is down is found before the port is even written to.
ZTC_TOKEN=wrong-token on "$NODEMCU" /dev/ttyUSB0 "--chip esp8266" "$ZTC" -q device register nm
expect_rc 1 "bad token"; expect_err "invalid token" "bad token"; unchanged "bad token"
[ ! -s "$SIMLOG" ] && pass "bad token: nothing was sent to the board" || fail "bad token: the board got $(cat "$SIMLOG")"
ZTC_BACKEND_URL="http://127.0.0.1:1/v1" on "$NODEMCU" /dev/ttyUSB0 "--chip esp8266" "$ZTC" -q device register nm
expect_rc 1 "backend down"; expect_err "cannot reach the backend" "backend down"; unchanged "backend down"
[ ! -s "$SIMLOG" ] && pass "backend down: nothing was sent to the board" || fail "backend down: the board got $(cat "$SIMLOG")"

# The NodeMCU (ESP8266) and the ESP32 DevKitC, registered natively.
reset_requests
on "$NODEMCU" /dev/ttyUSB0 "--chip esp8266 --mac 18:fe:34:a1:b2:c3 --garbage" "$ZTC" -J device register nm
expect_rc 0 "register the NodeMCU natively"
expect_fields "alias chipid" "nm|18FE34A1B2C3" "NodeMCU: chip id 18FE34A1B2C3"
[ "$(printf '%s\n' "$err" | tr '\n' '|')" = "checking the token with the backend|entering the bootloader (DTR/RTS)|reading the chip id (ESP ROM loader)|registering the chip id with the backend|" ] &&
	pass "NodeMCU: one stderr line per phase" || fail "NodeMCU: stderr was [$err]"
[ "$(req -1 line)" = "POST /v1/devices" ] && pass "NodeMCU: POST /devices" || fail "NodeMCU: request $(req -1 line)"
[ "$(req -1 json)" = '{"category": "esp8266", "name": "NodeMcu v2", "on_chip_id": "18FE34A1B2C3", "type": "nodemcu2"}' ] &&
	pass "NodeMCU: the registration carries the chip id" || fail "NodeMCU: body $(req -1 json)"
only_reads "register the NodeMCU"
remote=$("$JSONL" get remote_id <<<"$out")
ztc_under nodemcu2 -J device discover --matchdb
[ "$("$JSONL" get alias chipid remote_id <<<"$out" | grep '^nm|')" = "nm|18FE34A1B2C3|$remote" ] &&
	pass "NodeMCU: the store holds its chip id and remote id" || fail "NodeMCU: store $(cat "$STORE")"
on "$DEVKITC" /dev/ttyUSB1 "--chip esp32 --mac 30:ae:a4:05:db:c0 --sync-misses 1" "$ZTC" -J device register devkit
expect_rc 0 "register the ESP32 DevKitC natively"
expect_fields "alias chipid" "devkit|30AEA405DBC0" "ESP32 DevKitC: chip id 30AEA405DBC0"
[ "$(req -1 json)" = '{"category": "esp32", "name": "ESP32 DevKitC", "on_chip_id": "30AEA405DBC0", "type": "esp32_devkitc"}' ] &&
	pass "ESP32 DevKitC: the registration carries the chip id" || fail "ESP32: body $(req -1 json)"
remote=$("$JSONL" get remote_id <<<"$out")
grep -q "\"chipid\": \"30AEA405DBC0\"" "$STORE" && grep -q "\"remote_id\": \"$remote\"" "$STORE" &&
	pass "ESP32 DevKitC: the store holds its chip id and remote id" || fail "ESP32: store $(cat "$STORE")"
finish
