# open.sh: ztc device open ALIAS on boards played by fakeboard: alias prefix to port and settings.
. "$top_srcdir/tests/lib.sh"
set -e
FAKE="$top_builddir/tests/tools/fakeboard"
DUE="$DATA/arduino_due.umockdev"

# board FAKEBOARD-OPTIONS... -- ZTC-ARGS: ztc among the boards fakeboard plays, stdin empty; sets out, err, rc.
board() {
	local opts rest
	split_args "$@"
	capture "$UMOCKDEV_RUN" -- "$FAKE" --timeout 30 "${opts[@]}" -- "$ZTC" "${rest[@]}" </dev/null
}
lines_of() { printf '%s\n' "$out" | tr -d '\r' | grep -c "^$1\$" || true; }

ztc_under arduino_due device alias put df due arduino_due
board -d "$DUE" --talk /dev/ttyACM0=HELLO0001 --talk-count 10 -- device open du --timeout 1
expect_rc 0 "open by alias prefix, quit after --timeout"
[ "$(lines_of HELLO0001)" = 10 ] && pass "the 10 lines the board printed" || fail "open output: [$out] $err"
expect_err "connected to /dev/ttyACM0 (115200 8N1 RTS/CTS)" "the Due's connection: 115200 8N1 with RTS/CTS"

# -J: a line of its own after the board's output says the console was closed.
board -d "$DUE" --talk /dev/ttyACM0=HELLO0001 --talk-count 2 -- -J device open du --timeout 1
expect_rc 0 "open -J"
[ "$(printf '%s\n' "$out" | tail -1)" = '{"alias":"due","port":"/dev/ttyACM0","closed":true}' ] &&
	pass "open -J: the closing record names the whole alias and the port" || fail "open -J: [$out]"

board -d "$DUE" -- device open nobody --timeout 1
expect_rc 1 "unknown alias"; expect_err "no alias matches 'nobody'" "unknown alias"
board -d "$DATA/photon.umockdev" -- device open due --timeout 1
expect_rc 1 "board not connected"; expect_err "device 'due' is not connected" "board not connected"
ztc_under photon_dfu device alias put eb pdfu particle_photon
board -d "$DATA/photon_dfu.umockdev" -- device open pdfu --timeout 1
expect_rc 1 "no serial port"; expect_err "pdfu (particle_photon, PhotonDFU mode) has no serial port" "no serial port"

# Unplugging is not played here: umockdev keeps the master side of an emulated port open after the
# device is removed, so the port never hangs up. tests/console/test-console unplugs real ptys.
finish
