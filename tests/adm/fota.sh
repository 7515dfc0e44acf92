#!/bin/bash
# tests/adm/fota.sh: FOTA end to end: zadm-sandbox pushes updates from files to zadm-demo's file store.
. "$top_srcdir/tests/adm/lib.sh"

FOTA=$TMP/fota
mkdir -p "$FOTA"
head -c 10000 /dev/urandom >"$TMP/bc.bin"
head -c 5000 /dev/urandom >"$TMP/vm.bin"
head -c 3000 /dev/urandom >"$TMP/bc2.bin"
rec() { cat "$FOTA/record.json"; }
expect_rec() { # expect_rec WHAT JSON
	[ "$(rec)" = "$2" ] && pass "$1" || fail "$1: record is $(rec), expected $2"
}
# The last login record from "ota" to the slots: true,"bc":B,"vm":V
last_login() { grep -F '"type":"login","uid":"dev1"' "$SB_OUT" | tail -1 | sed 's/.*"ota":\(.*"vm":[0-9]*\).*/\1/'; }
# expect_login WHAT SLOTS: the sandbox prints a login record from its session thread, which may come just
# after the control reply that the login (or the confirmed update) allowed: wait up to 5 s for it.
expect_login() {
	local i
	for i in $(seq 50); do
		[ "$(last_login)" = "$2" ] && break
		sleep 0.1
	done
	[ "$(last_login)" = "$2" ] && pass "$1" || fail "$1: login $(last_login), expected $2"
}
demo() { start_demo "$1" --uid dev1 --token tok1 --fota-dir "$FOTA" "${@:2}"; }
# fota_until_restart WHAT OUT FOTA-ARGS...: a fota to dev1 in the background ($F, its reply in OUT); the device
# must then exit 3, as one re-executing itself into the update.
fota_until_restart() {
	local what=$1 reply=$2
	shift 2
	"$SANDBOX" --ctl "$SB_CTL" fota dev1 "$@" >"$reply" 2>&1 &
	F=$!
	PIDS="$PIDS $F"
	wait "$DM_PID"; r=$?
	[ $r = 3 ] && pass "$what" || fail "$what: device exit $r"
}

start_sandbox sb || finish
demo d1
expect_ctl "login" '{"ok":true}' wait dev1 5
expect_login "login reports ota and slots 0/0" 'true,"bc":0,"vm":0'

grep -F '"type":"login","uid":"dev1"' "$SB_OUT" | tail -1 | grep -qF '"chunk":4096,"platform":"","vmuid":""}' &&
	pass "login record: chunk, platform, vmuid as sent" || fail "login: $(grep -F '"type":"login"' "$SB_OUT" | tail -1)"

# Bytecode only, 10 blocks of 1 KiB: recorded, restarted in-process, confirmed. The start names the VM
# slot that runs (a client records "vm" as given, bytecode only too); the reply gives the slots confirmed.
expect_ctl "bytecode-only update" '{"ok":true,"bc":1,"vm":0}' fota dev1 "$TMP/bc.bin" chunk=1024 timeout=10
expect_has "the start named the running VM slot" "$SB_ERR" "10000 bytes of bytecode to slot 1, 0 bytes of VM to slot 0"
cmp -s "$TMP/bc.bin" "$FOTA/bc1.bin" && pass "bytecode slot 1 holds the update" || fail "bc1.bin differs"
expect_rec "record after the bytecode update" '{"bc":1,"vm":0,"last_bc":1,"last_vm":0,"state":"ok","chunk":4096}'
expect_login "re-login reports the new bytecode slot" 'true,"bc":1,"vm":0'
expect_has "callback steps 0, 1, 2" "$DM_ERR" "FOTA step 2"

# Bytecode and VM.
expect_ctl "bytecode+VM update" '{"ok":true,"bc":0,"vm":1}' fota dev1 "$TMP/bc.bin" "$TMP/vm.bin" timeout=10
cmp -s "$TMP/bc.bin" "$FOTA/bc0.bin" && cmp -s "$TMP/vm.bin" "$FOTA/vm1.bin" && pass "both slots written" ||
	fail "slots differ"
expect_rec "record after the two-part update" '{"bc":0,"vm":1,"last_bc":0,"last_vm":1,"state":"ok","chunk":4096}'

# Failures leave the record alone.
before=$(rec)
expect_ctl "bad CRC" '{"ok":false,"error":"Bad CRC"}' fota dev1 "$TMP/bc2.bin" badcrc timeout=10
expect_ctl "running bytecode slot" '{"ok":false,"error":"Bad slots"}' fota dev1 "$TMP/bc2.bin" bc=0 timeout=10
expect_ctl "running VM slot" '{"ok":false,"error":"Bad slots"}' fota dev1 "$TMP/bc2.bin" "$TMP/vm.bin" bc=1 vm=1 timeout=10
expect_ctl "slot outside the store" '{"ok":false,"error":"Bad slots"}' fota dev1 "$TMP/bc2.bin" bc=7 timeout=10
# Slot numbers beyond 32 bits that equal a running slot modulo 2^32, and a size beyond the store's
# capacity: refused before anything is erased; no file in the store is touched.
snap() { (cd "$FOTA" && ls -l --time-style=full-iso && md5sum ./*); }
snap >"$TMP/store.before"
expect_ctl "bytecode slot 2^32 (+ the running 0)" '{"ok":false,"error":"Bad slots"}' fota dev1 "$TMP/bc2.bin" bc=4294967296 timeout=10
expect_ctl "VM slot 2^32 + 1 (the running 1)" '{"ok":false,"error":"Bad slots"}' fota dev1 "$TMP/bc2.bin" "$TMP/vm.bin" bc=1 vm=4294967297 timeout=10
n=$(count "$SB_OUT" '"reason":"Bad slots"')
expect_ctl "bytecode slot 2^64 sent" '{"ok":true}' raw dev1 '{"cmd":"OTA","chunk":64,"vmsize":0,"bcsize":10,"bc":18446744073709551616,"vm":0}'
bad_slots_above() { [ "$(count "$SB_OUT" '"reason":"Bad slots"')" -gt "$1" ]; }
wait_for 5 bad_slots_above "$n" && pass "bytecode slot 2^64: Bad slots" ||
	fail "slot 2^64: $(tail -2 "$SB_OUT")"
truncate -s 65M "$TMP/huge.bin"
expect_ctl "bytecode larger than a slot" '{"ok":false,"error":"Bad slots"}' fota dev1 "$TMP/huge.bin" bc=1 timeout=10
rm -f "$TMP/huge.bin"
snap >"$TMP/store.after"
cmp -s "$TMP/store.before" "$TMP/store.after" && pass "refused starts touch no file" ||
	fail "the store changed: $(diff "$TMP/store.before" "$TMP/store.after")"
expect_ctl "VM block in a bytecode-only update" '{"ok":false,"error":"BC only ota"}' fota dev1 "$TMP/bc2.bin" badpart timeout=10
expect_rec "record untouched by failed updates" "$before"
expect_ctl "confirmation of other slots" '{"ok":true}' raw dev1 '{"cmd":"OTA","ok":1,"bc":5,"vm":5}'
expect_has "not ready" "$SB_OUT" '"payload":{"ko":1,"reason":"not ready"}'
expect_has "OTA for unknown slots: record intact" "$FOTA/record.json" '"state":"ok"'
stop_demo

# The callback vetoes at each point.
for step in 0 1; do
	cp "$FOTA/bc1.bin" "$TMP/bc1.before"
	demo veto$step --fota-veto $step
	expect_ctl "login (veto $step)" '{"ok":true}' wait dev1 5
	expect_ctl "veto at step $step" '{"ok":false,"error":"stopped by callback"}' fota dev1 "$TMP/bc2.bin" timeout=10
	expect_rec "record untouched by the veto at $step" "$before"
	stop_demo
done
cmp -s "$TMP/bc1.before" "$FOTA/bc1.bin" && fail "veto at 1 should come after the slot was written" ||
	pass "the slot was written before the veto at 1"
demo veto2 --fota-veto 2
expect_ctl "login (veto 2)" '{"ok":true}' wait dev1 5
logins=$(count "$SB_OUT" '"type":"login","uid":"dev1"')
expect_ctl "veto at step 2" '{"ok":false,"error":"stopped by callback"}' fota dev1 "$TMP/bc2.bin" timeout=10
expect_rec "a veto at 2 leaves the attempt recorded" '{"bc":1,"vm":1,"last_bc":0,"last_vm":1,"state":"attempt","chunk":4096}'
sleep 0.5
[ "$(count "$SB_OUT" '"type":"login","uid":"dev1"')" = "$logins" ] && pass "no restart after a veto at 2" ||
	fail "restarted after a veto at 2"
stop_demo
# The next restart runs the attempt and accepts it at login.
demo after-veto2
expect_ctl "login after the veto at 2" '{"ok":true}' wait dev1 5
wait_for 3 has "$FOTA/record.json" '"state":"ok"'
expect_rec "the attempt ran and was accepted" '{"bc":1,"vm":1,"last_bc":1,"last_vm":1,"state":"ok","chunk":4096}'
stop_demo

# A real restart (the process exits 3, as a device re-executing itself), then the confirmation.
demo exit1 --restart-exit
expect_ctl "login (restart-exit)" '{"ok":true}' wait dev1 5
fota_until_restart "the device exited to restart" "$TMP/fota1.out" "$TMP/bc2.bin" timeout=15
expect_rec "attempt recorded before the restart" '{"bc":0,"vm":1,"last_bc":1,"last_vm":1,"state":"attempt","chunk":4096}'
demo exit2 --restart-exit
wait "$F"; r=$?
[ $r = 0 ] && [ "$(cat "$TMP/fota1.out")" = '{"ok":true,"bc":0,"vm":1}' ] && pass "confirmed after the restart" ||
	fail "confirm after restart: exit $r, $(cat "$TMP/fota1.out")"
expect_rec "accepted after the restart" '{"bc":0,"vm":1,"last_bc":0,"last_vm":1,"state":"ok","chunk":4096}'
cmp -s "$TMP/bc2.bin" "$FOTA/bc0.bin" && pass "new bytecode in slot 0" || fail "bc0.bin differs"

# Rollback: the update's first run never logs in (so never accepts); the next start falls back.
fota_until_restart "the device exited to restart (rollback case)" "$TMP/fota2.out" "$TMP/bc.bin" timeout=20
expect_rec "attempt of slot 1" '{"bc":1,"vm":1,"last_bc":0,"last_vm":1,"state":"attempt","chunk":4096}'
main_sb=("$SB_PID" "$SB_PORT" "$SB_CTL" "$SB_OUT" "$SB_ERR")
echo '{"dev1": "not-this-token"}' >"$TMP/refuse.json"
start_sandbox refusing --devices "$TMP/refuse.json" || finish
demo broken
expect_has "the new configuration cannot log in" "$DM_ERR" "login refused by the server"
stop_demo
expect_rec "tried once, not accepted" '{"bc":1,"vm":1,"last_bc":0,"last_vm":1,"state":"trying","chunk":4096}'
ctl quit
SB_PID=${main_sb[0]} SB_PORT=${main_sb[1]} SB_CTL=${main_sb[2]} SB_OUT=${main_sb[3]} SB_ERR=${main_sb[4]}
demo rolledback
wait "$F"; r=$?
[ "$(cat "$TMP/fota2.out")" = '{"ok":false,"error":"not ready"}' ] && pass "the server learns the update did not stick" ||
	fail "rollback confirm: $(cat "$TMP/fota2.out")"
expect_login "rolled back to the last working slots" 'true,"bc":0,"vm":1'
expect_rec "record after the rollback" '{"bc":0,"vm":1,"last_bc":0,"last_vm":1,"state":"ok","chunk":4096}'
stop_demo

# fota --no-confirm: the sandbox drops the device at its login after the restart, so it never accepts;
# a restart before its next login rolls the update back.
demo nc1 --restart-exit
expect_ctl "login (no-confirm)" '{"ok":true}' wait dev1 5
fota_until_restart "the device exited to restart (no-confirm)" "$TMP/fota3.out" "$TMP/bc2.bin" --no-confirm timeout=20
expect_rec "attempt recorded (no-confirm)" '{"bc":1,"vm":1,"last_bc":0,"last_vm":1,"state":"attempt","chunk":4096}'
# Its next reconnection would come 2 to 4 s after the drop: time to restart it before it logs in.
demo nc2 --restart-exit --reconnect-ms 4000
wait "$F"; r=$?
want='{"ok":false,"error":"not confirmed: the device was dropped at its login after the restart (--no-confirm)"}'
[ $r = 1 ] && [ "$(cat "$TMP/fota3.out")" = "$want" ] && pass "no-confirm: the update is reported unconfirmed" ||
	fail "no-confirm: exit $r, $(cat "$TMP/fota3.out")"
expect_has "no-confirm: the drop is printed" "$SB_OUT" '"type":"refused","uid":"dev1","ts":'
stop_demo
expect_rec "no-confirm: tried, never accepted" '{"bc":1,"vm":1,"last_bc":0,"last_vm":1,"state":"trying","chunk":4096}'
demo nc3
expect_ctl "login after the unconfirmed update" '{"ok":true}' wait dev1 5
expect_login "no-confirm: rolled back to the slots before" 'true,"bc":0,"vm":1'
expect_rec "no-confirm: record after the rollback" '{"bc":0,"vm":1,"last_bc":0,"last_vm":1,"state":"ok","chunk":4096}'
stop_demo

# A corrupt record is refused at start, and left as it was.
echo '{"bc":' >"$FOTA/record.json"
"$DEMO" --address 127.0.0.1 --port "$SB_PORT" --uid dev1 --token tok1 --fota-dir "$FOTA" 2>"$TMP/corrupt.err"
r=$?
[ $r = 1 ] && has "$TMP/corrupt.err" "corrupt FOTA record" && [ "$(rec)" = '{"bc":' ] &&
	pass "corrupt record refused and kept" || fail "corrupt record: exit $r, $(cat "$TMP/corrupt.err")"

ctl quit
finish
