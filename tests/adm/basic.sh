#!/bin/bash
# tests/adm/basic.sh: zadm-demo against zadm-sandbox over plain TCP: login, heartbeat, events, RPC,
# terminate, server restart, supervision, malformed and over-long lines.
. "$top_srcdir/tests/adm/lib.sh"

echo '{"dev1": "tok1", "dev2": "tok2"}' >"$TMP/devices.json"
start_sandbox sb --devices "$TMP/devices.json" || finish
logins_above() { [ "$(count "$SB_OUT" '"type":"login","uid":"dev1"')" -gt "$1" ]; }

# Usage errors exit 2.
"$SANDBOX" --port nope >/dev/null 2>&1; r=$?
[ $r = 2 ] && pass "sandbox: bad --port is a usage error" || fail "sandbox --port nope: exit $r"
"$SANDBOX" --tls-cert x >/dev/null 2>&1; r=$?
[ $r = 2 ] && pass "sandbox: --tls-cert without --tls-key is a usage error" || fail "exit $r"
"$DEMO" --uid a >/dev/null 2>&1; r=$?
[ $r = 2 ] && pass "demo: missing options is a usage error" || fail "demo: exit $r"

# Login refused: bad token and unknown device.
start_demo bad --uid dev1 --token wrong
expect_has "bad token refused (sandbox)" "$SB_OUT" '"type":"refused","uid":"dev1"'
expect_has "bad token refused (device log)" "$DM_ERR" "login refused by the server: bad token"
expect_has "the device retries with backoff" "$DM_ERR" "reconnecting in"
stop_demo
start_demo unknown --uid nobody --token x
expect_has "unknown device refused" "$DM_ERR" "login refused by the server: unknown device"
stop_demo
ctl wait dev1 0.5
[ $rc = 1 ] && pass "refused devices are not listed" || fail "wait dev1 after refusals: $out"

# Login ok, events, notification, heartbeat period.
start_demo d1 --uid dev1 --token tok1 --heartbeat 1 --event-interval 1 --notify "hello there" --platform demo-x86 \
	--vmuid vm-1234
demo1=$DM_PID
expect_ctl "login ok" '{"ok":true}' wait dev1 5
expect_has "login record with the heartbeat" "$SB_OUT" '"type":"login","uid":"dev1","ts":'
# What the device sent at login: its heartbeat, ota, platform and vmuid (no FOTA store: no slots, no chunk).
login1=$(grep -F '"type":"login","uid":"dev1"' "$SB_OUT" | head -1)
case $login1 in *'"heartbeat":1,"ota":false,"platform":"demo-x86","vmuid":"vm-1234"}')
	pass "login record: platform and vmuid as sent" ;;
*) fail "login record: $login1" ;; esac
expect_has "notification printed" "$SB_OUT" '"type":"notification","uid":"dev1"'
expect_has "notification title and text" "$SB_OUT" '"title":"zadm-demo","text":"hello there"}'
expect_has "event printed" "$SB_OUT" '"payload":{"n":1}}' 4
expect_has "second event" "$SB_OUT" '"payload":{"n":2}}' 4
sleep 1.2
ctl list
hb=$(printf '%s' "$out" | sed -n 's/.*"heartbeats":\([0-9]*\).*/\1/p')
[ "${hb:-0}" -ge 2 ] && pass "heartbeats every second ($hb so far)" || fail "heartbeats: $out"
case $out in *'"heartbeat":1,'*) pass "list shows the period" ;; *) fail "list: $out" ;; esac
case $out in *'"ota":false,"platform":"demo-x86","vmuid":"vm-1234","heartbeats":'*)
	pass "list shows platform and vmuid" ;;
*) fail "list: $out" ;; esac

# RPC.
expect_ctl "rpc echo" '{"ok":true,"res":[1,"two",{"three":[3]}]}' call dev1 echo '[1,"two",{"three":[3]}]'
expect_ctl "rpc add (integers)" '{"ok":true,"res":6}' call dev1 add '[1,2,3]'
expect_ctl "rpc add (decimals)" '{"ok":true,"res":4}' call dev1 add '[1.5,2.5]'
expect_ctl "rpc add refuses a string" '{"ok":false,"error":"add: argument 2 is not a number"}' call dev1 add '[1,"x"]'
expect_ctl "rpc failing method" '{"ok":false,"error":"fail: this method always fails"}' call dev1 fail
expect_ctl "rpc unknown method" '{"ok":false,"error":"unknown method"}' call dev1 nosuch '[]'
expect_ctl "rpc without ret" '{"ok":true}' call -n dev1 echo '[5]'
expect_ctl "rpc without ret, unknown method" '{"ok":true}' call -n dev1 nosuch
expect_ctl "rpc after those" '{"ok":true,"res":[6]}' call dev1 echo '[6]'
if has "$SB_ERR" "which no one waits for"; then fail "a CALL without ret was answered"; else pass "no RETN without ret"; fi
# A call that keeps the device's worker busy for 3 s (three heartbeat periods): the heartbeat goes on
# (another thread), the sandbox does not drop the device, and a call queued behind it is answered.
ctl list
hb0=$(printf '%s' "$out" | sed -n 's/.*"heartbeats":\([0-9]*\).*/\1/p')
"$SANDBOX" --ctl "$SB_CTL" call dev1 sleep '[3]' >"$TMP/slow.out" 2>&1 &
slow=$!
sleep 0.2
expect_ctl "a call queued behind the slow one" '{"ok":true,"res":["behind"]}' call dev1 echo '["behind"]'
wait "$slow"
[ "$(cat "$TMP/slow.out")" = '{"ok":true,"res":[3]}' ] && pass "a 3 s call answered" ||
	fail "slow call: $(cat "$TMP/slow.out")"
ctl list
hb1=$(printf '%s' "$out" | sed -n 's/.*"heartbeats":\([0-9]*\).*/\1/p')
[ $((hb1 - hb0)) -ge 2 ] && pass "heartbeats went on during the call ($((hb1 - hb0)))" || fail "heartbeats: $hb0 -> $hb1"
if has "$SB_OUT" '"type":"dropped","uid":"dev1"'; then fail "dropped during the slow call"; else
	pass "not dropped during the slow call"; fi
ctl call dev1 echo 'not json'
[ $rc = 1 ] && case $out in *"args must be a JSON array"*) true ;; *) false ;; esac &&
	pass "sandbox refuses bad args" || fail "bad args: $out"

# Malformed JSON and lines around the maximum: ignored / dropped as documented.
logins=$(count "$SB_OUT" '"type":"login","uid":"dev1"')
expect_ctl "malformed line sent" '{"ok":true}' raw dev1 '{"cmd":"CALL",'
expect_has "malformed line ignored by the device" "$DM_ERR" "ignoring a malformed line from the server: parse error"
expect_ctl "still connected after a malformed line" '{"ok":true,"res":[7]}' call dev1 echo '[7]'
expect_ctl "line of 65000 bytes sent" '{"ok":true}' longline dev1 65000
expect_ctl "a long line under the maximum is fine" '{"ok":true,"res":[8]}' call dev1 echo '[8]'
[ "$(count "$SB_OUT" '"type":"login","uid":"dev1"')" = "$logins" ] && pass "no reconnect so far" || fail "unexpected reconnect"
expect_ctl "line of 70000 bytes sent" '{"ok":true}' longline dev1 70000
expect_has "line over the maximum refused" "$DM_ERR" "longer than 65536 bytes; closing the connection"
expect_has "session closed after the long line" "$SB_OUT" '"type":"logout","uid":"dev1"'
wait_for 5 logins_above "$logins" &&
	pass "reconnected after the long line" || fail "no reconnect after the long line"

# terminate, then the device reconnects and keeps working.
logins=$(count "$SB_OUT" '"type":"login","uid":"dev1"')
expect_ctl "terminate" '{"ok":true}' terminate dev1
expect_has "device saw terminate" "$DM_ERR" "the server ended the session (terminate)"
wait_for 5 logins_above "$logins" &&
	pass "reconnected after terminate" || fail "no reconnect after terminate"
expect_ctl "rpc after terminate" '{"ok":true,"res":[9]}' call dev1 echo '[9]'

# The server is killed and restarted on the same port: the device reconnects and works.
SB_FIXED_PORT=$SB_PORT
kill -9 "$SB_PID"; wait "$SB_PID" 2>/dev/null
sleep 0.5
start_sandbox sb --devices "$TMP/devices.json" || finish
expect_ctl "reconnected to the restarted server" '{"ok":true}' wait dev1 10
expect_ctl "rpc on the restarted server" '{"ok":true,"res":3}' call dev1 add '[1,2]'
n=$(sed -n 's/.*"payload":{"n":\([0-9]*\)}}.*/\1/p' "$SB_OUT" | tail -1)
expect_has "events go on after the restart" "$SB_OUT" "\"payload\":{\"n\":$((n + 1))}}" 4
kill "$demo1"; wait "$demo1" 2>/dev/null
unset SB_FIXED_PORT

# Supervision: a device that stops sending heartbeats is dropped after two periods.
start_demo d2 --uid dev2 --token tok2 --heartbeat 1 --low-res
expect_ctl "low_res device logs in" '{"ok":true}' wait dev2 5
expect_ctl "low_res device answers RPC" '{"ok":true,"res":["lr"]}' call dev2 echo '["lr"]'
kill -STOP "$DM_PID"
expect_has "silent device dropped" "$SB_OUT" '"type":"dropped","uid":"dev2"' 5
dropped_at=$(date +%s%N)
kill -CONT "$DM_PID"
expect_ctl "the dropped device comes back" '{"ok":true}' wait dev2 10
stop_demo
expect_has "logout after the device exits" "$SB_OUT" '"type":"logout","uid":"dev2"'

# Without --trace no record of calls, replies, heartbeats or FOTA steps on stdout.
if grep -qE '"type":"(call|retn|heartbeat|fota)"' "$SB_OUT"; then fail "trace records without --trace"; else
	pass "no trace records by default"; fi

expect_ctl "quit" '{"ok":true}' quit
wait "$SB_PID"; r=$?
[ $r = 0 ] && pass "sandbox exits 0 on quit" || fail "sandbox exit $r"
finish
