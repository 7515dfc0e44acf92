# register.sh: end to end: register (Due over SAM-BA and Photon from DFU mode natively, simulated board),
# vm create/list,
# virtualize; and every failure leaves the store unchanged. Boards are played by fakeboard on umockdev.
. "$top_srcdir/tests/backend/lib.sh"
set -e
FAKE="$top_builddir/tests/tools/fakeboard"
STORE="$ZTC_HOME/devices.json"
export PATH="$top_srcdir/tests/flash/bin:$PATH" STANDIN_RECORD="$TMP/rec" ZTC_FLASH_NO_SLEEP=1
export ZTC_TOKEN="$TOKEN" ZTC_SIM_FLASH="$TMP/simflash.bin"
mkdir -p "$STANDIN_RECORD"
start_backend

# The built-in database has no register.vm for the original boards (they were Zerynth's binaries):
# the tests give the Due and the Photon one, in board folders on ZTC_DB_PATH.
mkdir -p "$TMP/db"
for t in arduino_due particle_photon; do
	mkdir -p "$TMP/db/$t"
	cp "$top_srcdir/db/$t/device.json" "$TMP/db/$t/"
	cp "$top_srcdir/db/ztc_sim/register.vm" "$TMP/db/$t/register.vm"
done
export ZTC_DB_PATH="$TMP/db:$top_srcdir/db"

# board RECORDS... -- ARGS: run ztc among the given boards (fakeboard options), like ztc_under.
board() {
	local opts rest
	split_args "$@"
	capture "$UMOCKDEV_RUN" -- "$FAKE" --timeout 60 "${opts[@]}" -- "$ZTC" "${rest[@]}"
}
snapshot() { cp "$STORE" "$TMP/before"; }
unchanged() { cmp -s "$STORE" "$TMP/before" && pass "$1: store unchanged" || fail "$1: store changed: $(cat "$STORE")"; }

# ---- the Arduino Due: its chip id read natively over SAM-BA (samba-sim; more in register-native.sh) --------
# Its folder on ZTC_DB_PATH has a register.vm: a class with a native reader must not flash it.
SAMBA="$top_builddir/tests/tools/samba-sim"
ztc_under arduino_due device alias put df due arduino_due
DUECHIP=75330303035351E0A1C0B2D3E4F50617
board -d "$DATA/arduino_due.umockdev" --serve "/dev/ttyACM0=$SAMBA --chip sam3x8e --uid $DUECHIP --log $TMP/samba.log" \
	-- -J device register due
expect_rc 0 "register the Due"
expect_fields "alias chipid" "due|$DUECHIP" "Due chip id read over SAM-BA"
[ ! -s "$STANDIN_RECORD/calls" ] && pass "Due: nothing flashed, register.vm untouched" || fail "Due flashed: $(cat "$STANDIN_RECORD/calls")"
[ "$(req -1 line)" = "POST /v1/devices" ] && pass "POST /devices" || fail "request: $(req -1 line)"
[ "$(req -1 json)" = "{\"category\": \"atmelsam3x\", \"name\": \"Arduino Due\", \"on_chip_id\": \"$DUECHIP\", \"type\": \"arduino_due\"}" ] &&
	pass "registration body" || fail "body: $(req -1 json)"
[ "$(req -1 header:Authorization)" = "Bearer $TOKEN" ] && pass "Authorization header" || fail "auth header"
remote=$("$JSONL" get remote_id <<<"$out")
grep -q "\"remote_id\": \"$remote\"" "$STORE" && grep -q "\"chipid\": \"$DUECHIP\"" "$STORE" &&
	pass "chip id and remote id stored" || fail "store: $(cat "$STORE")"

# ---- failures leave the store as it was --------------------------------------------------------------
snapshot
: >"$TMP/samba.log"
ZTC_BACKEND_URL="http://127.0.0.1:1/v1" board -d "$DATA/arduino_due.umockdev" \
	--serve "/dev/ttyACM0=$SAMBA --chip sam3x8e --uid $DUECHIP --log $TMP/samba.log" -- device register due
expect_rc 1 "backend down"; expect_err "cannot reach the backend" "backend down"; unchanged "backend down"
[ ! -s "$TMP/samba.log" ] && pass "backend down: the board was not touched" || fail "backend down: $(cat "$TMP/samba.log")"
ZTC_TOKEN=wrong-token board -d "$DATA/arduino_due.umockdev" \
	--serve "/dev/ttyACM0=$SAMBA --chip sam3x8e --uid $DUECHIP --log $TMP/samba.log" -- device register due
expect_rc 1 "bad token"; expect_err "invalid token" "bad token"; unchanged "bad token"
[ ! -s "$TMP/samba.log" ] && pass "bad token: the board was not touched" || fail "bad token: $(cat "$TMP/samba.log")"
scenario "POST /devices fail this chip is registered to someone else"
board -d "$DATA/arduino_due.umockdev" --serve "/dev/ttyACM0=$SAMBA --chip sam3x8e --uid $DUECHIP" -- device register due
expect_rc 1 "backend status fail"; expect_err "this chip is registered to someone else" "backend status fail"; unchanged "backend status fail"
scenario
board -d "$DATA/photon.umockdev" -- device register due
expect_rc 1 "board not connected"; expect_err "device 'due' is not connected" "board not connected"; unchanged "board not connected"
board -d "$DATA/arduino_due.umockdev" -- device register nobody
expect_rc 1 "unknown alias"; expect_err "no alias matches 'nobody'" "unknown alias"; unchanged "unknown alias"
board -d "$DATA/arduino_due.umockdev" -- device register
expect_rc 2 "register without ALIAS"

# ---- the registration firmware, on the simulated board (its class reads no chip id natively) ---------------
ztc_under ztc_sim device alias put c43d sim ztc_sim
snapshot
board -d "$DATA/ztc_sim.umockdev" --talk "/dev/ttyACM5=short" -- device register sim
expect_rc 1 "chip id not found"; expect_err "can't find the chip id" "chip id not found"; unchanged "chip id not found"
ZTC_SIM_FLASH="$TMP/no/such/dir/flash.bin" board -d "$DATA/ztc_sim.umockdev" --talk "/dev/ttyACM5=51AB0000CAFE0042" -- \
	device register sim
expect_rc 1 "flashing fails"; expect_err "cannot write the simulated flash" "flashing fails"; unchanged "flashing fails"
# A board without register.vm cannot be registered: ztc_sim's folder without it, first on ZTC_DB_PATH.
mkdir -p "$TMP/db-noreg/ztc_sim"
cp "$top_srcdir/db/ztc_sim/device.json" "$TMP/db-noreg/ztc_sim/"
ZTC_DB_PATH="$TMP/db-noreg:$ZTC_DB_PATH" board -d "$DATA/ztc_sim.umockdev" --talk "/dev/ttyACM5=51AB0000CAFE0042" -- \
	device register sim
expect_rc 1 "no register.vm"; expect_err "register.vm" "no register.vm"; unchanged "no register.vm"
# --skip_burn: the firmware already runs; only the chip id is read.
rm -f "$ZTC_SIM_FLASH"
board -d "$DATA/ztc_sim.umockdev" --talk "/dev/ttyACM5=ABCDEF0123456789" -- -J device register sim --skip_burn
expect_rc 0 "register --skip_burn"
[ ! -e "$ZTC_SIM_FLASH" ] && pass "--skip_burn flashes nothing" || fail "--skip_burn flashed the simulated board"
expect_fields "chipid" ABCDEF0123456789 "--skip_burn: chip id from the serial lines"

# ---- the Photon, registered natively from DFU mode: its DfuSe bootloader (tests/tools/dfuse-model) is
# asked for the unique id, nothing is flashed; the normal-mode identity, its alter ego, gets the ids too --
ztc_under photon device alias put 5a pnorm particle_photon
snapshot
board -d "$DATA/photon.umockdev" -- device register pnorm
expect_rc 1 "not in virtualizable mode"
expect_err "pnorm is in Photon mode, but it can be registered only in PhotonDFU mode" "not in virtualizable mode"
unchanged "not in virtualizable mode"
ztc_under photon_dfu device alias put eb pdfu particle_photon
PUID=3C002B000A47343432313031 # the unique-id bytes in memory order
PCHIP=002B003C3434470A31303132 # its three little-endian words
: >"$STANDIN_RECORD/calls"
capture "$UMOCKDEV_RUN" -- "$top_builddir/tests/tools/dfuse-model" --device "$DATA/photon_dfu.umockdev" --uid "$PUID" \
	--log "$TMP/dfu.log" -- "$ZTC" -J device register pdfu
expect_rc 0 "register the Photon from DFU mode"
expect_fields "alias chipid" "pdfu|$PCHIP" "the Photon's chip id read over DfuSe"
[ ! -s "$STANDIN_RECORD/calls" ] && pass "no flashing tool ran (no dfu-util)" || fail "tools ran: $(cat "$STANDIN_RECORD/calls")"
grep -qx "upload 0x1FFF7A10 12" "$TMP/dfu.log" && ! grep -q '^\(erase\|write\|leave\)' "$TMP/dfu.log" &&
	pass "the unique id was uploaded, nothing flashed" || fail "model log: $(cat "$TMP/dfu.log")"
premote=$("$JSONL" get remote_id <<<"$out")
expect_matchdb photon "alias chipid remote_id" "pnorm|$PCHIP|$premote" \
	"the alter ego (normal mode) got the same chip id and remote id"
expect_matchdb photon_dfu "alias chipid remote_id" "pdfu|$PCHIP|$premote" \
	"the DFU identity keeps its alias and got them too"

# ---- the simulated board: register, create a VM, list it, virtualize by VMUID prefix -----------------
ztc_under ztc_sim device alias put c43d sim ztc_sim
SCHIP=51AB0000CAFE0042
board -d "$DATA/ztc_sim.umockdev" --talk "/dev/ttyACM5=$SCHIP" -- -J device register sim
expect_rc 0 "register the simulated board"
sremote=$("$JSONL" get remote_id <<<"$out")
python3 -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["bin"]))' \
	"$top_srcdir/db/ztc_sim/register.vm" >"$TMP/reg.bin"
cmp -s "$TMP/reg.bin" "$ZTC_SIM_FLASH" && pass "the simulated flash holds register.vm's image" || fail "sim flash after register"
ztc_run -J vm create sim r2.6.0 chibi2 --feat wifi
expect_rc 0 "vm create"
vm1=$("$JSONL" get uid <<<"$out")
scenario "POST /vms vmuid ${vm1:0:3}ZZsecondvm"
ztc_run -J vm create sim r2.6.0 chibi2
expect_rc 0 "second vm create"
scenario
ztc_run -J vm list
[ "$(printf '%s\n' "$out" | wc -l)" = 2 ] && pass "vm list shows both VMs" || fail "vm list: $out"
snapshot
board -d "$DATA/ztc_sim.umockdev" -- device virtualize sim "${vm1:0:3}"
expect_rc 1 "ambiguous VMUID"; expect_err "'${vm1:0:3}' matches several virtual machines of this board: " "ambiguous VMUID"; unchanged "ambiguous VMUID"
board -d "$DATA/ztc_sim.umockdev" -- device virtualize sim nosuchvm
expect_rc 1 "unknown VMUID"; expect_err "no virtual machine of this board matches 'nosuchvm'" "unknown VMUID"
board -d "$DATA/ztc_sim.umockdev" -- device virtualize sim "${vm1:0:6}"
expect_rc 0 "virtualize by VMUID prefix"
vmfile=$(ls "$ZTC_HOME/vms/ztc_sim/$SCHIP/${vm1}_"*.vm)
python3 -c 'import base64,json,sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["bin"]))' "$vmfile" >"$TMP/vm.bin"
cmp -s "$TMP/vm.bin" "$ZTC_SIM_FLASH" && pass "the simulated flash holds the VM image" || fail "flash differs from the VM"
# A corrupt VM file is refused before anything is flashed.
cp "$ZTC_SIM_FLASH" "$TMP/flash.before"
printf '{"bin": "@@@", "dev_type": "ztc_sim"}' >"$vmfile"
board -d "$DATA/ztc_sim.umockdev" -- device virtualize sim "${vm1:0:6}"
expect_rc 1 "corrupt VM"; expect_err "\"bin\" is not valid base64" "corrupt VM"
cmp -s "$TMP/flash.before" "$ZTC_SIM_FLASH" && pass "corrupt VM: nothing flashed" || fail "corrupt VM flashed"
# An unregistered board cannot create or flash a VM.
ztc_under nodemcu2 device alias put e7 flip2 nodemcu2
ztc_run vm create flip2 r2.6.0 chibi2
expect_rc 1 "vm create on an unregistered board"; expect_err "not registered" "vm create on an unregistered board"
board -d "$DATA/nodemcu2.umockdev" -- device virtualize flip2 abc
expect_rc 1 "virtualize an unregistered board"; expect_err "device flip2 is not registered" "virtualize unregistered"

# ---- issue 16: the port of a connected board names it; -J prints what was done ---------------------------
board -d "$DATA/ztc_sim.umockdev" --talk "/dev/ttyACM5=$SCHIP" -- -J device register /dev/ttyACM5 --skip-burn
expect_rc 0 "register by port, --skip-burn (hyphen)"
expect_fields "alias chipid remote_id" "sim|$SCHIP|$sremote" "register by port: -J result"
vm2="${vm1:0:3}ZZsecondvm"
board -d "$DATA/ztc_sim.umockdev" -- -J device virtualize /dev/ttyACM5 "$vm2"
expect_rc 0 "virtualize by port"
[ "$("$JSONL" get alias vmuid <<<"$out")" = "sim|$vm2" ] && [ -f "$("$JSONL" get path <<<"$out")" ] &&
	pass "virtualize -J: alias, vmuid, path" || fail "virtualize -J: $out"
snapshot
board -d "$DATA/ztc_sim.umockdev" -- device virtualize /dev/ttyACM9 "$vm2"
expect_rc 1 "virtualize on a port nothing is on"
[ "$err" = "ztc: no connected device has the port /dev/ttyACM9; ports: /dev/ttyACM5" ] && pass "no such port: one line" ||
	fail "no such port: [$err]"
unchanged "virtualize on a port nothing is on"
finish
