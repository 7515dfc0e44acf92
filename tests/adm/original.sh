#!/bin/bash
# tests/adm/original.sh: zadm-sandbox with a client that behaves like the original Zerynth Python zadm
# library (tests/adm/origclient.py): 5 s of silence after its login, "vm" recorded as given, no reply for
# a method it does not have. Also --trace, call --timeout, fota --no-confirm and --login-grace.
. "$top_srcdir/tests/adm/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
CLIENT="$top_srcdir/tests/adm/origclient.py"
# orig NAME DIR [ARGS...]: the client as uid orig1 with its FOTA files in DIR; sets OC_PID and OC_ERR.
orig() {
	OC_ERR=$TMP/$1.err
	mkdir -p "$2"
	python3 "$CLIENT" --port "$SB_PORT" --uid orig1 --token tok1 --fota-dir "$2" "${@:3}" 2>>"$OC_ERR" &
	OC_PID=$!
	PIDS="$PIDS $OC_PID"
}
stop_orig() { kill "$OC_PID" 2>/dev/null; wait "$OC_PID" 2>/dev/null; }
logins() { count "$SB_OUT" '"type":"login","uid":"orig1"'; }
logins_above() { [ "$(logins)" -gt "$1" ]; }
# The slots of the last login record: "bc":B,"vm":V
last_slots() { grep -F '"type":"login","uid":"orig1"' "$SB_OUT" | tail -1 | grep -o '"bc":[0-9]*,"vm":[0-9]*'; }
# ms TYPE-AND-MORE: the ts of the first stdout record holding that text.
ts_of() { grep -F -- "$1" "$SB_OUT" | head -1 | sed 's/.*"ts":\([0-9]*\).*/\1/'; }
head -c 3000 /dev/urandom >"$TMP/bc.bin"
head -c 2000 /dev/urandom >"$TMP/vm.bin"

# Options: a bad --login-grace is a usage error; a heartbeat override below 5 s is a warning.
"$SANDBOX" --login-grace -1 >/dev/null 2>"$TMP/grace.err"; r=$?
[ $r = 2 ] && [ "$(cat "$TMP/grace.err")" = "zadm-sandbox: --login-grace: expected seconds (0 .. 3600): -1" ] &&
	pass "bad --login-grace: exit 2, one line" || fail "--login-grace -1: exit $r, $(cat "$TMP/grace.err")"

# ---- the real 5 s: a heartbeat of 1 s imposed, the first heartbeat comes 6 s after the login ----
echo '{"orig1": "tok1"}' >"$TMP/devices.json"
start_sandbox real --devices "$TMP/devices.json" --htbm 1 --trace || finish
warning="zadm-sandbox: warning: --htbm 1 is below 5 s: a device running the original Zerynth library sends its"
warning="$warning first heartbeat 6 s after its login;"
[ "$(head -1 "$SB_ERR")" = "$warning --login-grace covers that" ] && pass "--htbm 1 is a warning" ||
	fail "no --htbm warning: $(head -2 "$SB_ERR")"
orig c1 "$TMP/f1" --heartbeat 60
expect_ctl "the client logs in" '{"ok":true}' wait orig1 5
# The record is printed by the session thread, maybe just after the control reply.
wait_for 5 has "$SB_OUT" '"type":"login","uid":"orig1"'
login_line=$(grep -F '"type":"login","uid":"orig1"' "$SB_OUT" | head -1)
case $login_line in *'"heartbeat":1,"ota":true,"bc":0,"vm":0,"chunk":4096,"platform":"linux-sim","vmuid":"vm-orig-1"}')
	pass "the login record carries platform, vmuid and chunk" ;;
*) fail "login record: $login_line" ;; esac
ctl list
case $out in *'"ota":true,"bc":0,"vm":0,"chunk":4096,"platform":"linux-sim","vmuid":"vm-orig-1","heartbeats":0,'*)
	pass "list carries platform, vmuid and chunk" ;;
*) fail "list: $out" ;; esac
# Two periods (2 s) pass in silence; the grace (10 s) keeps the session until the first heartbeat.
expect_has "the first heartbeat, after the 5 s sleep" "$SB_OUT" '"type":"heartbeat","uid":"orig1","ts":' 9
t_login=$(ts_of '"type":"login","uid":"orig1"')
t_hb=$(ts_of '"type":"heartbeat","uid":"orig1"')
[ $((t_hb - t_login)) -ge 5000 ] && pass "first heartbeat $((t_hb - t_login)) ms after the login" ||
	fail "first heartbeat after $((t_hb - t_login)) ms"
if has "$SB_OUT" '"type":"dropped"'; then fail "dropped before its first heartbeat: $(grep dropped "$SB_OUT")"; else
	pass "not dropped before its first heartbeat"; fi
[ "$(logins)" = 1 ] && pass "one session so far" || fail "$(logins) logins"

# An RPC it has, and one it has not: no RETN ever comes for that one.
expect_ctl "call add" '{"ok":true,"res":3}' call orig1 add '[1,2]'
t0=$(date +%s%N)
want='{"ok":false,"error":"orig1 sent no RETN within 1.5 s (a device running the original Zerynth library answers'
want="$want"' no call of a method it does not have)"}'
expect_ctl "no RETN for an unknown method" "$want" call --timeout 1.5 orig1 nosuch '[]'
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -ge 1400 ] && [ "$ms" -lt 4000 ] && pass "call --timeout 1.5 took $ms ms" || fail "call --timeout 1.5 took $ms ms"
want='{"ok":false,"error":"call: --timeout must be a number of seconds above 0, at most 3600, not'
expect_ctl "call --timeout refuses 0" "$want '0'\"}" call --timeout 0 orig1 add '[1]'
expect_ctl "call --timeout refuses nan" "$want 'nan'\"}" call --timeout=nan orig1 add '[1]'
want='{"ok":false,"error":"usage: call [-n] [--timeout SECONDS] UID METHOD [ARGS_JSON_ARRAY]"}'
expect_ctl "call: --timeout without a value" "$want" call --timeout

# --trace: the calls, their replies and the heartbeats as records of their own.
expect_has "trace: the call" "$SB_OUT" '"type":"call","uid":"orig1","ts":'
grep -F '"type":"call","uid":"orig1"' "$SB_OUT" | head -1 | grep -qF '"id":1,"method":"add","args":[1,2],"ret":true}' &&
	pass "trace: call id, method, args, ret" || fail "trace call: $(grep -F '"type":"call"' "$SB_OUT" | head -1)"
grep -F '"type":"retn","uid":"orig1"' "$SB_OUT" | head -1 | grep -qF '"id":1,"res":3}' &&
	pass "trace: its reply" || fail "trace retn: $(grep -F '"type":"retn"' "$SB_OUT" | head -1)"
n=$(count "$SB_OUT" '"type":"retn"')
[ "$n" = 1 ] && pass "trace: no reply to the unknown method" || fail "retn records: $n"
grep -F '"type":"heartbeat","uid":"orig1"' "$SB_OUT" | head -1 | grep -qF '"n":1}' && pass "trace: heartbeats counted" ||
	fail "trace heartbeat: $(grep -F '"type":"heartbeat"' "$SB_OUT" | head -1)"

# Bytecode only: the start names the VM slot that runs, which the client records as given; it restarts,
# sleeps 5 s again and only then reads the confirmation that came meanwhile.
expect_ctl "bytecode-only update" '{"ok":true,"bc":1,"vm":0}' fota orig1 "$TMP/bc.bin" chunk=1024 timeout=25
[ "$(cat "$TMP/f1/record.json")" = '{"bc": 1, "vm": 0, "last_bc": 1, "last_vm": 0, "state": "ok"}' ] &&
	pass "the client runs and accepted bytecode 1 with VM 0" || fail "record: $(cat "$TMP/f1/record.json")"
cmp -s "$TMP/bc.bin" "$TMP/f1/bc1.bin" && pass "bytecode slot 1 written" || fail "bc1.bin differs"
if has "$OC_ERR" "never written"; then fail "the client boots a VM slot never written: $(grep written "$OC_ERR")"; else
	pass "no VM slot that was never written"; fi
[ "$(last_slots)" = '"bc":1,"vm":0' ] && pass "re-login reports bytecode 1, VM 0" || fail "re-login: $(last_slots)"
t_confirm=$(ts_of '"step":"confirm"')
t_ok=$(ts_of '"type":"ota","uid":"orig1"')
ms=$((t_ok - t_confirm))
[ $ms -ge 4500 ] && pass "the confirmation sent in the 5 s sleep is answered after it ($ms ms)" ||
	fail "confirmation answered after $ms ms"
for step in '"step":"start","chunk":1024,"bcsize":3000,"vmsize":0,"bc":1,"vm":0}' '"step":"block","b":2,"bytes":952,"t":"b"}' \
	'"step":"crc","t":"b"}' '"step":"restart"}' '"step":"confirm","bc":1,"vm":0}'; do
	expect_has "trace: FOTA $(printf '%s' "$step" | cut -d, -f1)" "$SB_OUT" "$step" 1
done
if has "$SB_OUT" '"type":"dropped"'; then fail "dropped during the update"; else pass "never dropped"; fi
stop_orig
stop_sandbox
strict_ok=$(python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]; print("ok")' "$SB_OUT")
[ "$strict_ok" = ok ] && pass "stdout is JSON Lines with --trace" || fail "stdout is not JSON Lines"

# ---- shorter sleeps from here (--login-sleep 0.3) ----
start_sandbox short --devices "$TMP/devices.json" || finish
orig c2 "$TMP/f2" --heartbeat 1 --login-sleep 1.5
expect_ctl "login (short sleep)" '{"ok":true}' wait orig1 5
# A two-part update that the sandbox never confirms: dropped at its login after the restart.
logins=$(logins)
want='{"ok":false,"error":"not confirmed: the device was dropped at its login after the restart (--no-confirm)"}'
expect_ctl "fota --no-confirm" "$want" fota orig1 "$TMP/bc.bin" "$TMP/vm.bin" --no-confirm timeout=20
# Its next attempt comes 1.5 s later: restart it now, before it logs in and accepts.
stop_orig
[ "$(logins)" = "$logins" ] && pass "no login after the drop yet" || fail "it logged in again before the restart"
[ "$(cat "$TMP/f2/record.json")" = '{"bc": 1, "vm": 1, "last_bc": 0, "last_vm": 0, "state": "trying"}' ] &&
	pass "the update ran once, never accepted" || fail "record: $(cat "$TMP/f2/record.json")"
expect_has "the drop is printed" "$SB_OUT" '"type":"refused","uid":"orig1","ts":'
orig c3 "$TMP/f2" --heartbeat 1 --login-sleep 0.3
wait_for 5 logins_above "$logins" || fail "no login after the restart"
expect_has "the client rolls back" "$OC_ERR" "boot: slots 1/1 were never accepted: rolling back to 0/0"
[ "$(last_slots)" = '"bc":0,"vm":0' ] && pass "it logs in with the slots before the update" || fail "login: $(last_slots)"
expect_ctl "and answers calls" '{"ok":true,"res":[1]}' call orig1 echo '[1]'
stop_orig
if grep -qE '"type":"(call|retn|heartbeat|fota)"' "$SB_OUT"; then fail "trace records without --trace"; else
	pass "no trace records without --trace"; fi
stop_sandbox

# ---- --login-grace 0: supervision counts two periods from the login, as before; the client is dropped ----
start_sandbox nograce --devices "$TMP/devices.json" --htbm 1 --login-grace 0 || finish
[ "$(head -1 "$SB_ERR")" = "$warning raise --login-grace or it is dropped first" ] &&
	pass "the warning says the grace is too short" || fail "warning: $(head -1 "$SB_ERR")"
orig c4 "$TMP/f4" --heartbeat 60 --login-sleep 4
expect_has "dropped before its first line" "$SB_OUT" '"type":"dropped","uid":"orig1","ts":' 5
expect_has "the reason says nothing came" "$SB_OUT" '"reason":"nothing received after the login"}'
stop_orig
stop_sandbox
finish
