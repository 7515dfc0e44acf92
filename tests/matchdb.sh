# matchdb.sh: ztc device discover --matchdb and supported against the built-in board database.
. "$top_srcdir/tests/lib.sh"
set -e

# targets_of: "target/classname alias" per record, in output order.
targets_of() { printf '%s\n' "$out" | "$JSONL" get target classname alias | tr '\n' ' '; }

ztc_under arduino_due -J device discover --matchdb
expect_rc 0 "due matchdb"
[ "$(targets_of)" = "arduino_due|ArduinoDue|null flipnclick_sam3x|FlipNClickSAM3X|null " ] &&
	pass "unknown Due is ambiguous: arduino_due and flipnclick_sam3x" || fail "due: $(targets_of)"
keys=$(printf '%s\n' "$out" | head -1 | sed 's/"\([a-z_]*\)":[^,}]*[,}]/\1 /g')
[ "$keys" = "{name alias target uid chipid remote_id classname port disk usbpath " ] &&
	pass "matched record keys" || fail "matched record keys: $keys"
[ "$(printf '%s\n' "$out" | "$JSONL" get name uid port | head -1)" = \
  "Arduino Due|df78e45849d9f7d1c9b29def5b9ffb7bf0b74429|/dev/ttyACM0" ] &&
	pass "due: name, uid, port" || fail "due fields: $out"

ztc_under photon -J device discover --matchdb
[ "$(targets_of)" = "particle_photon|Photon|null " ] && pass "photon in normal mode" || fail "photon: $(targets_of)"
ztc_under photon_dfu -J device discover --matchdb
[ "$(targets_of)" = "particle_photon|PhotonDFU|null " ] && pass "photon in DFU mode" || fail "photon dfu: $(targets_of)"

ztc_under nodemcu2 -J device discover --matchdb
got=$(printf '%s\n' "$out" | "$JSONL" get target | tr '\n' ' ')
[ "$got" = "esp32_devkitc esp32_pico_v4 heltec_wifikit32 nodemcu2 silabs_cp210x sony_spresense " ] &&
	pass "CP2102 is ambiguous among the CP210x boards (and the bare adapter)" || fail "nodemcu: $got"

ztc_under nucleo_f401re -J device discover --matchdb
got=$(printf '%s\n' "$out" | "$JSONL" get target | tr '\n' ' ')
[ "$got" = "az3166 st_discoveryf407vg st_nucleof401re st_nucleof429zi st_nucleof746zg st_nucleol4r5p stlink_v21 " ] &&
	pass "ST-Link V2-1 matches every ST-Link board" || fail "nucleo: $got"

# has_double_dev: the Discovery F407's console identity (0483:5740) lends its port to the ST-Link
# record of the same target and disappears, taking the other 5740 candidates with it.
ztc_under discovery_f407_vcp -J device discover --matchdb
[ "$(printf '%s\n' "$out" | "$JSONL" get target classname | tr '\n' ' ')" = "polaristracker_v3|PolaristrackerV3 " ] &&
	pass "a lone 5740 CDC: the console-only class of a double-identity board is not listed" || fail "lone 5740: $out"
ztc_under nucleo_f401re,discovery_f407_vcp -J device discover --matchdb
got=$(printf '%s\n' "$out" | "$JSONL" get target port | tr '\n' ' ')
[ "$got" = "az3166|/dev/ttyACM0 st_discoveryf407vg|/dev/ttyACM1 st_nucleof401re|/dev/ttyACM0 st_nucleof429zi|/dev/ttyACM0 st_nucleof746zg|/dev/ttyACM0 st_nucleol4r5p|/dev/ttyACM0 stlink_v21|/dev/ttyACM0 " ] &&
	pass "double identity: console port lent to the ST-Link record, 5740 records dropped" || fail "double dev: $got"

ztc_under keyboard -J device discover --matchdb
expect_rc 0 "keyboard matchdb"
expect_out "" "keyboard never matches (-J prints nothing)"
ztc_under keyboard device discover --matchdb
expect_out "No supported boards found." "keyboard: table says so in one line"

# Sorted by uid, then target.
ztc_under desk -J device discover --matchdb
sorted=$(printf '%s\n' "$out" | "$JSONL" get uid target)
[ "$sorted" = "$(printf '%s\n' "$sorted" | LC_ALL=C sort)" ] && pass "desk: sorted by uid then target" ||
	fail "desk not sorted: $sorted"

# The table for people: one row per connected device (-J above: one record per candidate), its
# candidates together, the port first, sorted by port, short uids, a hint to pin one; 100 columns.
ztc_under desk device discover --matchdb
expect_rc 0 "desk matchdb table"
[ "$out" = "PORT          UID       ALIAS  NAME             TARGET
/dev/ttyACM0  df78e458  -      one of 2         arduino_due, flipnclick_sam3x
/dev/ttyACM1  5ae5ef87  -      Particle Photon  particle_photon
/dev/ttyACM2  4fdcb314  -      one of 7         az3166, st_discoveryf407vg, st_nucleof401re,
                                                st_nucleof429zi, st_nucleof746zg, st_nucleol4r5p,
                                                stlink_v21
/dev/ttyUSB0  e7a4bc05  -      one of 6         esp32_devkitc, esp32_pico_v4, heltec_wifikit32,
                                                nodemcu2, silabs_cp210x, sony_spresense
Pin one target on a device: ztc device alias put UID ALIAS TARGET (UID: df78e458, or its port)" ] &&
	pass "desk: one row per device, candidates together, the hint" || fail "desk table: [$out]"
for rec in arduino_due desk keyboard nodemcu2 nucleo_f401re nucleo_f401re,discovery_f407_vcp photon photon_dfu; do
	ZTC_MOUNTINFO="$DATA/nucleo.mountinfo" ztc_under "$rec" device discover --matchdb
	wide=$(printf '%s\n' "$out" | awk 'length($0) > 100' | head -1)
	[ "$rc" = 0 ] && [ -z "$wide" ] && pass "$rec: --matchdb table within 100 columns" || fail "$rec: exit $rc, wide: [$wide]"
done
ZTC_MOUNTINFO="$DATA/nucleo.mountinfo" ztc_under nucleo_f401re device discover --matchdb
[ "$(printf '%s\n' "$out" | head -2 | tr -s ' ')" = "PORT UID ALIAS DISK NAME TARGET
/dev/ttyACM0 4fdcb314 - /media/user/NODE_F401RE one of 7 az3166, st_discoveryf407vg," ] &&
	pass "a mounted disk adds the DISK column" || fail "nucleo disk table: [$out]"
ztc_under arduino_due device alias put df due arduino_due
ztc_under arduino_due device discover --matchdb
[ "$out" = "PORT          UID       ALIAS  NAME         TARGET
/dev/ttyACM0  df78e458  due    Arduino Due  arduino_due" ] && pass "an aliased device: its one target, no hint" || fail "aliased table: [$out]"
rm -f "$ZTC_HOME/devices.json"

# supported
ztc_run -J device supported
expect_rc 0 "supported"
n_db=$(find "$top_srcdir/db" -name device.json | wc -l)
[ "$(printf '%s\n' "$out" | wc -l)" = "$n_db" ] && pass "supported lists every device.json ($n_db)" ||
	fail "supported lists $(printf '%s\n' "$out" | wc -l), db has $n_db"
ztc_run -J device supported --type jtag
[ "$(printf '%s\n' "$out" | "$JSONL" get type | sort -u)" = "jtag" ] && pass "--type jtag filters" || fail "--type jtag: $out"
[ "$(printf '%s\n' "$out" | "$JSONL" get target | tr '\n' ' ')" = "atmel_edbg atmel_ice cmsis_dap jlink stlink_v2 stlink_v21 " ] &&
	pass "the six probes" || fail "probes: $out"
ztc_run -J device supported --type usbtoserial
[ "$(printf '%s\n' "$out" | "$JSONL" get target | tr '\n' ' ')" = "ftdi_ft232r prolific_pl2303 silabs_cp210x wch_ch340 " ] &&
	pass "the four USB-serial adapters" || fail "adapters: $out"
ztc_run -J device supported --type board
printf '%s\n' "$out" | "$JSONL" get target path | grep -q "^particle_photon|$top_srcdir/db/particle_photon$" &&
	pass "supported: target and path" || fail "supported photon path: $out"
ztc_run device supported --type bogus
expect_rc 2 "supported --type bogus"
expect_err "--type must be board, jtag or usbtoserial, not 'bogus'" "supported --type bogus"
ztc_run device supported extra
expect_rc 2 "supported extra argument"

# A malformed device.json: one warning naming the file and the problem; the other boards still work.
mkdir -p "$TMP/db/broken" "$TMP/db/noclass"
printf '{"name": "Broken", "target": ' >"$TMP/db/broken/device.json"
printf '{"name": "No class", "target": "noclass", "type": "board", "classes": [{"class": "x", "usb": []}]}' \
	>"$TMP/db/noclass/device.json"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_run -J device supported
expect_rc 0 "supported with malformed boards"
[ "$(printf '%s\n' "$err" | grep -c "$TMP/db/broken/device.json: invalid JSON")" = 1 ] &&
	pass "malformed JSON: one warning naming the file" || fail "broken warning: $err"
[ "$(printf '%s\n' "$err" | grep -c "$TMP/db/noclass/device.json: classes\[0\].class must be \"module.Class\"")" = 1 ] &&
	pass "bad class: one warning naming the file and the problem" || fail "noclass warning: $err"
[ "$(printf '%s\n' "$out" | wc -l)" = "$n_db" ] && pass "the other boards still work" || fail "count with broken: $out"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_under arduino_due -J device discover --matchdb
expect_rc 0 "matchdb with a malformed board"
# The database loads in a thread with a context of its own: -q and -v reach it wherever they are given.
[ "$(printf '%s\n' "$err" | grep -c "$TMP/db/broken/device.json: invalid JSON")" = 1 ] &&
	pass "matchdb: the loader's warning" || fail "matchdb loader warning: $err"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_under arduino_due device discover --matchdb -q
expect_rc 0 "matchdb -q after the command"
[ -z "$err" ] && pass "matchdb -q after the command: the loader is quiet too" || fail "matchdb -q: $err"
# (a new cache dir: the loader says in a debug message that it writes the cache)
XDG_CACHE_HOME="$TMP/cache-vv" ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_under arduino_due -vv device discover --matchdb
printf '%s\n' "$err" | grep -q "^ztc: debug: board cache " && pass "matchdb -vv: the loader's debug messages" ||
	fail "matchdb -vv: $err"

# ZTC_DB_PATH dirs come first: a board folder there overrides the installed target of the same name.
mkdir -p "$TMP/over/arduino_due"
sed 's/"Arduino Due"/"My Due"/' "$top_srcdir/db/arduino_due/device.json" >"$TMP/over/arduino_due/device.json"
ZTC_DB_PATH="$TMP/over:$top_srcdir/db" ztc_under arduino_due -J device discover --matchdb
printf '%s\n' "$out" | "$JSONL" get name | grep -qx "My Due" && pass "ZTC_DB_PATH overrides" || fail "override: $out"

# An empty database is an error, not an empty list.
ZTC_DB_PATH="$TMP/nothing" ztc_run device supported
if [ -d "$(pkg-config --variable=boarddbdir "$top_builddir/libztc.pc" 2>/dev/null)" ]; then
	pass "installed database present: empty-db case not checked"
else
	expect_rc 1 "empty database"
	expect_err "the board database is empty" "empty database"
fi
finish
