# register-probe.sh: end to end: a Nucleo (mbed disk + ST-Link) registered natively through its on-board
# probe with OpenOCD (the stand-in of tests/flash/bin): no register.vm, nothing flashed, the 24-digit STM32
# id in the POST and the store; openocd missing, failing, printing too little or denied the probe: one
# line, the store unchanged. Then the real OpenOCD, denied the emulated USB node of every database board
# that registers through its probe, shows each board's interface and target scripts load and that ztc
# names the udev rules.
. "$top_srcdir/tests/backend/lib.sh"
set -e
# The real OpenOCD, looked for before the stand-ins come first on PATH.
REAL_OPENOCD=$(command -v openocd || true)
STORE="$ZTC_HOME/devices.json"
export PATH="$top_srcdir/tests/flash/bin:$PATH" STANDIN_RECORD="$TMP/rec" ZTC_FLASH_NO_SLEEP=1 ZTC_TOKEN="$TOKEN"
unset STANDIN_MODE STANDIN_EXIT STANDIN_SLEEP STANDIN_PORT STANDIN_OPENOCD_PRINT
mkdir -p "$STANDIN_RECORD" "$TMP/disk"
start_backend
# The Nucleo's ST-Link disk is mounted: a native register must not copy anything to it.
printf '36 25 8:16 / %s rw,relatime shared:1 - vfat /dev/sdb rw,fmask=0022\n' "$TMP/disk" >"$TMP/mountinfo"
export ZTC_MOUNTINFO="$TMP/mountinfo"

calls() { cat "$STANDIN_RECORD/calls" 2>/dev/null || true; }
snapshot() { cp "$STORE" "$TMP/before"; }
unchanged() { cmp -s "$STORE" "$TMP/before" && pass "$1: store unchanged" || fail "$1: store changed: $(cat "$STORE")"; }
# The error: exactly one "ztc:" line on stderr (the others are the phase lines), and it is $1.
expect_error_line() {
	local lines
	lines=$(printf '%s\n' "$err" | grep '^ztc: ' || true)
	[ "$lines" = "ztc: $1" ] && pass "$2: one error line" || fail "$2: error lines [$lines], expected [ztc: $1]"
}
no_post() {
	grep -q '"POST"' "$SRV/requests.jsonl" && fail "$1: the backend got a registration" || pass "$1: nothing registered"
}

# ---- the Nucleo F401RE through its ST-Link --------------------------------------------------------------
NUCLEO="$DATA/nucleo_f401re.umockdev"
[ ! -e "$top_srcdir/db/st_nucleof401re/register.vm" ] && pass "the Nucleo has no register.vm" ||
	fail "db/st_nucleof401re/register.vm exists"
ztc_under nucleo_f401re device alias put 4fdc nucleo st_nucleof401re
expect_rc 0 "alias the Nucleo"
NCHIP=00C0FF1000C0FF1400C0FF18
reset_requests
ztc_under nucleo_f401re -J device register nucleo
expect_rc 0 "register the Nucleo through its ST-Link"
expect_fields "alias chipid" "nucleo|$NCHIP" "Nucleo: the chip id, 3 words of 8 upper-case digits"
[ "$(calls)" = "openocd -f interface/stlink.cfg -f target/stm32f4x.cfg -c init -c 'mdw 0x1fff7a10' -c 'mdw 0x1fff7a14' -c 'mdw 0x1fff7a18' -c shutdown" ] &&
	pass "Nucleo: only OpenOCD's chip id read ran (no flashing tool)" || fail "Nucleo: calls: $(calls)"
[ -z "$(ls -A "$TMP/disk")" ] && pass "Nucleo: nothing copied to its disk" || fail "Nucleo: disk holds $(ls -A "$TMP/disk")"
[ "$(nrequests)" = 2 ] && [ "$(req 1 line)" = "GET /v1/vms?from=0" ] && [ "$(req 2 line)" = "POST /v1/devices" ] &&
	pass "Nucleo: the token proven, then the registration" || fail "Nucleo: requests: $(cat "$SRV/requests.jsonl")"
[ "$(req 2 json)" = "{\"category\": \"stm32f4\", \"name\": \"ST Nucleo F401RE\", \"on_chip_id\": \"$NCHIP\", \"type\": \"st_nucleof401re\"}" ] &&
	pass "Nucleo: the POST carries the 24-digit chip id" || fail "Nucleo: body $(req 2 json)"
remote=$("$JSONL" get remote_id <<<"$out")
grep -q "\"chipid\": \"$NCHIP\"" "$STORE" && grep -q "\"remote_id\": \"$remote\"" "$STORE" &&
	pass "Nucleo: chip id and remote id stored" || fail "Nucleo: store: $(cat "$STORE")"
[ "$(printf '%s\n' "$err" | tr '\n' '|')" = "checking the token with the backend|reading the chip id (OpenOCD, interface/stlink.cfg)|registering the chip id with the backend|" ] &&
	pass "Nucleo: one line per phase on stderr" || fail "Nucleo: stderr: $err"

# ---- failures: one line, nothing registered, the store as it was ------------------------------------------
snapshot
mkdir -p "$TMP/noopenocd"
for c in cat sh bash env; do ln -sf "$(command -v "$c")" "$TMP/noopenocd/$c"; done
reset_requests
: >"$STANDIN_RECORD/calls"
PATH="$TMP/noopenocd" ztc_under nucleo_f401re device register nucleo
expect_rc 1 "openocd missing"
expect_error_line "openocd not found on PATH: install the Debian package openocd (apt-get install openocd)" "openocd missing"
unchanged "openocd missing"; no_post "openocd missing"

reset_requests
STANDIN_MODE=fail ztc_under nucleo_f401re device register nucleo
expect_rc 1 "openocd failing"
expect_error_line "openocd failed (exit status 1): Error: open failed" "openocd failing"
unchanged "openocd failing"; no_post "openocd failing"

reset_requests
STANDIN_MODE=short ztc_under nucleo_f401re device register nucleo
expect_rc 1 "short output"
expect_error_line "openocd printed 1 of the 3 chip id lines" "short output"
unchanged "short output"; no_post "short output"

reset_requests
STANDIN_MODE=access ztc_under nucleo_f401re device register nucleo
expect_rc 1 "probe denied"
expect_error_line "permission denied on the USB probe of ST Nucleo F401RE (0483:374B): openocd may not open it; install the udev rules the ztc package installs (60-ztc.rules) and run 'udevadm trigger' as root, or replug the board" \
	"probe denied"
unchanged "probe denied"; no_post "probe denied"

: >"$STANDIN_RECORD/calls"
ZTC_TOKEN=wrong-token ztc_under nucleo_f401re device register nucleo
expect_rc 1 "bad token"; expect_err "invalid token" "bad token"; unchanged "bad token"
[ "$(printf '%s\n' "$err" | grep -c '^ztc: ')" = 1 ] && pass "bad token: one error line" || fail "bad token: $err"
[ -z "$(calls)" ] && pass "bad token: OpenOCD never ran" || fail "bad token: $(calls)"

# ---- a reader that declines (no on-board probe named) and no register.vm: why, in the one line -----------
mkdir -p "$TMP/decline/st_nucleof401re"
grep -v preferred_register_with_jtag "$top_srcdir/db/st_nucleof401re/device.json" >"$TMP/decline/st_nucleof401re/device.json"
snapshot
: >"$STANDIN_RECORD/calls"
ZTC_DB_PATH="$TMP/decline:$top_srcdir/db" ztc_under nucleo_f401re device register nucleo
expect_rc 1 "declined, no register.vm"
expect_err "needs a registration firmware there" "declined, no register.vm"
expect_err "has no on-board probe named (preferred_register_with_jtag)" "declined: the reason is in the line"
unchanged "declined, no register.vm"
[ -z "$(calls)" ] && pass "declined: nothing ran" || fail "declined: calls: $(calls)"

# ---- every ST-Link board: its target script and unique-id address ------------------------------------------
# The same recorded ST-Link stands for each (alias put names the target).
for spec in "st_nucleof429zi stm32f4x 0x1fff7a10 0x1fff7a14 0x1fff7a18" \
	"st_nucleof746zg stm32f7x 0x1ff0f420 0x1ff0f424 0x1ff0f428" \
	"st_nucleol4r5p stm32l4x 0x1fff7590 0x1fff7594 0x1fff7598" \
	"st_discoveryf407vg stm32f4x 0x1fff7a10 0x1fff7a14 0x1fff7a18" \
	"az3166 stm32f4x 0x1fff7a10 0x1fff7a14 0x1fff7a18"; do
	set -- $spec
	ztc_under nucleo_f401re device alias put 4fdc "$1" "$1"
	: >"$STANDIN_RECORD/calls"
	ztc_under nucleo_f401re -J device register "$1"
	id=$(printf '00C0FF%s' "${3#${3%??}}" "${4#${4%??}}" "${5#${5%??}}" | tr a-f A-F)
	[ "$rc" = 0 ] && [ "$("$JSONL" get chipid <<<"$out")" = "$id" ] &&
		[ "$(calls)" = "openocd -f interface/stlink.cfg -f target/$2.cfg -c init -c 'mdw $3' -c 'mdw $4' -c 'mdw $5' -c shutdown" ] &&
		pass "$1: registered through the ST-Link (target/$2.cfg, UID at $3)" || fail "$1: rc $rc, out $out, calls $(calls), err $err"
done

# ---- the real OpenOCD against every database board that registers through its probe ----------------------
# Each board's USB identity (a device descriptor umockdev hands to libusb) with its /dev/bus/usb node
# unreadable: OpenOCD loads the board's interface and target scripts, and only then opens the probe, so
# reaching libusb's LIBUSB_ERROR_ACCESS proves the scripts ztc names exist and parse.
probe_record() { # VID PID: a USB device umockdev and libusb take as that probe
	local v=$1 p=$2
	cat <<EOF
P: /devices/pci0000:00/0000:00:14.0/usb1/1-1
N: bus/usb/001/002
E: DEVNAME=/dev/bus/usb/001/002
E: DEVTYPE=usb_device
E: DRIVER=usb
E: PRODUCT=$(printf '%x/%x/100' "0x$v" "0x$p")
E: BUSNUM=001
E: DEVNUM=002
E: MAJOR=189
E: MINOR=1
E: SUBSYSTEM=usb
E: ID_BUS=usb
E: ID_VENDOR_ID=$v
E: ID_MODEL_ID=$p
E: ID_SERIAL_SHORT=0671FF485550755187101620
A: idVendor=$v
A: idProduct=$p
A: busnum=1
A: devnum=2
A: speed=12
A: serial=0671FF485550755187101620
H: descriptors=12010002EF020140${v:2:2}${v:0:2}${p:2:2}${p:0:2}0001010203010902120001010080320904000000FFFFFF00
EOF
}
DROP=()
skip_real=""
if [ -z "$REAL_OPENOCD" ]; then
	skip_real="openocd is not installed (Debian package openocd)"
elif [ "$(id -u)" = 0 ]; then
	# root opens any file: drop the capabilities that let it, for ztc and what it runs.
	DROP=(setpriv --bounding-set=-dac_override,-dac_read_search)
	f="$TMP/unreadable"
	: >"$f" && chmod 000 "$f"
	if ! "${DROP[@]}" sh -c '! cat "$1" 2>/dev/null' sh "$f" 2>/dev/null; then
		skip_real="running as root and setpriv cannot drop CAP_DAC_OVERRIDE here"
	fi
fi
if [ -n "$skip_real" ]; then
	echo "skip: the real OpenOCD is not run: $skip_real"
else
	mkdir -p "$TMP/real"
	ln -sf "$REAL_OPENOCD" "$TMP/real/openocd"
	python3 - "$top_srcdir/db" >"$TMP/probe-boards" <<'PY'
import json, os, sys
db = sys.argv[1]
for t in sorted(os.listdir(db)):
    try:
        d = json.load(open(os.path.join(db, t, "device.json")))
    except (OSError, ValueError):
        continue
    if not d.get("preferred_register_with_jtag"):
        continue
    cls = [c for c in d["classes"] if c["class"].split(".")[1] == d["virtualizable"]][0]
    vid, pid = cls["usb"][0].split(":")
    print(t, vid, pid, d["name"])
PY
	nreal=0
	while read -r target vid pid name; do
		nreal=$((nreal + 1))
		probe_record "$vid" "$pid" >"$TMP/probe.umockdev"
		uid=$(printf '%s' "$vid:$pid:0671FF485550755187101620" | sha1sum | cut -c1-40)
		rm -f "$STORE"
		set +e
		"$UMOCKDEV_RUN" -d "$TMP/probe.umockdev" -- "$ZTC" device alias put "$uid" "$target" "$target" >/dev/null 2>"$TMP/err"
		snapshot
		reset_requests
		PATH="$TMP/real:$PATH" "${DROP[@]}" "$UMOCKDEV_RUN" -d "$TMP/probe.umockdev" -- \
			sh -c 'chmod 000 "$UMOCKDEV_DIR/dev/bus/usb/001/002" && exec "$@"' sh "$ZTC" device register "$target" \
			>"$TMP/out" 2>"$TMP/err"
		rc=$?
		set -e
		err=$(cat "$TMP/err")
		expect_rc 1 "real OpenOCD, $target"
		expect_error_line "permission denied on the USB probe of $name ($vid:$pid): openocd may not open it; install the udev rules the ztc package installs (60-ztc.rules) and run 'udevadm trigger' as root, or replug the board" \
			"real OpenOCD, $target"
		unchanged "real OpenOCD, $target"
	done <"$TMP/probe-boards"
	[ "$nreal" -ge 18 ] && pass "the real OpenOCD ran for the $nreal probe boards" || fail "only $nreal probe boards found"
	# A target script OpenOCD does not have: its "Error:" line, not the Tcl traceback after it.
	mkdir -p "$TMP/db/st_nucleof401re"
	sed 's/"jtag_target": "stm32f4x"/"jtag_target": "stm32f9x"/' "$top_srcdir/db/st_nucleof401re/device.json" \
		>"$TMP/db/st_nucleof401re/device.json"
	rm -f "$STORE"
	ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_under nucleo_f401re device alias put 4fdc nucleo st_nucleof401re
	snapshot
	PATH="$TMP/real:$PATH" ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_under nucleo_f401re device register nucleo
	expect_rc 1 "real OpenOCD, no such target script"
	expect_error_line "openocd failed (exit status 1): Error: Can't find target/stm32f9x.cfg" "real OpenOCD, no such target script"
	unchanged "real OpenOCD, no such target script"
fi

finish
