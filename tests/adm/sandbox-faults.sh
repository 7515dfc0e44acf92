#!/bin/bash
# tests/adm/sandbox-faults.sh: zadm-sandbox (and zadm-demo) against hostile peers: JSON nested 300,000
# deep, uids and events that are not UTF-8 or hold \u0000, server numbers that overflow, slow logins
# (slowloris, plain and TLS), descriptors exhausted (EMFILE) and the connection cap.
. "$top_srcdir/tests/adm/lib.sh"

RAWPEER="$top_srcdir/tests/adm/rawpeer.py"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }
# JSON Lines that a strict reader accepts: UTF-8 (no surrogates, no overlongs) and one object a line.
strict_jsonl() {
	python3 -c '
import json, sys
for n, line in enumerate(sys.stdin.buffer.read().split(b"\n")):
    if line:
        v = json.loads(line.decode("utf-8", "strict"))
        assert isinstance(v, dict), "line %d is not an object" % n
' <"$1"
}
# cpu_ticks PID: user + system time of PID so far, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# ---- JSON nested 300,000 deep: one clear error, never a crash ----
python3 -c 'import sys; sys.stdout.write("[" * 300000)' >"$TMP/deep"
start_sandbox sb --max-line 1000000 || finish
start_demo d1 --uid dev1 --token tok1 --max-line 1000000
expect_ctl "device logs in" '{"ok":true}' wait dev1 5
{ printf 'call dev1 echo '; cat "$TMP/deep"; } >"$TMP/deep-call"
out=$(python3 "$RAWPEER" ctl "$SB_CTL" "$TMP/deep-call")
[ "$out" = '{"ok":false,"error":"args must be a JSON array: JSON nested deeper than 64 levels"}' ] &&
	pass "control: CALL args 300,000 deep refused" || fail "deep call args: [$out]"
{ printf 'raw dev1 {"cmd":"CALL","method":"echo","id":1,"ret":true,"args":'; cat "$TMP/deep"; } >"$TMP/deep-raw"
out=$(python3 "$RAWPEER" ctl "$SB_CTL" "$TMP/deep-raw")
[ "$out" = '{"ok":true}' ] && pass "deep CALL line sent to the device" || fail "raw deep: [$out]"
expect_has "the device refuses it with one clear line" "$DM_ERR" \
	"ignoring a malformed line from the server: JSON nested deeper than 64 levels"
kill -0 "$DM_PID" 2>/dev/null && pass "the device is alive" || fail "the device died: $(tail -3 "$DM_ERR")"
expect_ctl "and still answers" '{"ok":true,"res":[1]}' call dev1 echo '[1]'
# Exactly 64 levels is fine: the CALL object, args, and 62 more arrays.
inner=$(python3 -c 'print("[" * 62 + "]" * 62)')
expect_ctl "64 levels deep is accepted" "{\"ok\":true,\"res\":[$inner]}" call dev1 echo "[$inner]"
{ printf '{"uid":"deep","token":"t"}\n{"cmd":"EVNT","payload":'; cat "$TMP/deep"; printf '\n'; } >"$TMP/deep-line"
python3 "$RAWPEER" lines "$SB_PORT" 1 "$TMP/deep-line" >/dev/null
expect_has "the sandbox refuses a deep device line" "$SB_ERR" "deep: malformed line ignored: JSON nested deeper than 64 levels"
expect_ctl "the sandbox is alive" '{"ok":true}' wait dev1 1

# ---- stdout is valid UTF-8 JSON whatever the uid or payload ----
printf '{"uid":"bad-\xc0\x80","token":"t"}\n' >"$TMP/l1"
printf '{"uid":"nul-\\u0000-cut","token":"t"}\n' >"$TMP/l2"
printf '{"uid":"sur-\\udc00","token":"t"}\n' >"$TMP/l3"
printf '{"uid":"raw-\xed\xa0\x80","token":"t"}\n' >"$TMP/l4"
printf '{"uid":"ok-\\u00e9","token":"t"}\n{"cmd":"EVNT","payload":{"s":"\\udc00"}}\n{"cmd":"EVNT","payload":{"s":"a\\u0000b"}}\n{"cmd":"EVNT","payload":{"s":"\xf4\x90\x80\x80"}}\n{"cmd":"EVNT","payload":{"s":"fine \\u00e9"}}\n' >"$TMP/l5"
for i in 1 2 3 4 5; do python3 "$RAWPEER" lines "$SB_PORT" 0.5 "$TMP/l$i" >"$TMP/l$i.reply"; done
strict_jsonl "$SB_OUT" && pass "stdout is strict UTF-8 JSON Lines" || fail "stdout is not strict JSON: $(tail -5 "$SB_OUT" | od -c | tail -5)"
for i in 1 2 3 4; do
	[ "$(cat "$TMP/l$i.reply")" = '{"err":"bad login"}' ] && pass "bad uid $i refused" ||
		fail "bad uid $i: reply $(cat "$TMP/l$i.reply")"
done
expect_has "a uid that is not UTF-8 is named as such" "$SB_ERR" "bad login line (a string is not valid UTF-8), closing"
expect_has "a uid with \\u0000 is refused, not cut" "$SB_ERR" 'bad login line (a string holds \u0000), closing'
if grep -q '"uid":"nul-' "$SB_OUT"; then fail "a truncated uid was printed"; else pass "no truncated uid printed"; fi
expect_has "a valid non-ASCII uid logs in" "$SB_OUT" '"type":"login","uid":"ok-é"'
[ "$(count "$SB_OUT" '"type":"event","uid":"ok-é"')" = 1 ] && expect_has "only the valid event is printed" "$SB_OUT" '"payload":{"s":"fine é"}' ||
	fail "events printed: $(grep -F '"type":"event","uid":"ok-' "$SB_OUT")"
[ "$(count "$SB_ERR" "ok-é: malformed line ignored: a string")" = 3 ] && pass "three bad events ignored with a reason" ||
	fail "bad events: $(grep -F 'ok-' "$SB_ERR")"

# ---- server numbers: a heartbeat beyond 32 bits, a block index whose product with the chunk wraps ----
printf '{"uid":"hb","token":"t","hearbeat":4294967297}\n' >"$TMP/hb"
python3 "$RAWPEER" lines "$SB_PORT" 0.5 "$TMP/hb" >/dev/null
expect_has "an impossible heartbeat is replaced by 60 s" "$SB_OUT" '"type":"login","uid":"hb","ts":'
grep -F '"type":"login","uid":"hb"' "$SB_OUT" | grep -qF '"heartbeat":60,' && pass "heartbeat 60 for hb" ||
	fail "hb login: $(grep -F '"uid":"hb"' "$SB_OUT")"
head -c 10000 /dev/urandom >"$TMP/bc.bin"
python3 "$RAWPEER" ota-index "$SB_PORT" evil 4503599627370497 2251799813685248 -1 1 >"$TMP/ota.out" &
peer=$!
PIDS="$PIDS $peer"
wait_for 5 has "$SB_OUT" '"type":"login","uid":"evil"'
ctl fota evil "$TMP/bc.bin" chunk=4096 timeout=8
wait "$peer"
[ "$(sed -n 1p "$TMP/ota.out")" = "block 4503599627370497: none" ] &&
	[ "$(sed -n 2p "$TMP/ota.out")" = "block 2251799813685248: none" ] &&
	[ "$(sed -n 3p "$TMP/ota.out")" = "block -1: none" ] && pass "blocks beyond the file: no data sent" ||
	fail "block requests: $(cat "$TMP/ota.out")"
case $(sed -n 4p "$TMP/ota.out") in 'block 1: {"cmd":"OTA","bin":'*) pass "block 1 is served" ;;
*) fail "block 1: $(sed -n 4p "$TMP/ota.out")" ;; esac
expect_has "the index is logged as out of range" "$SB_ERR" "evil: OTA block 4503599627370497 out of range"
[ "$out" = '{"ok":false,"error":"test over"}' ] && pass "the update ends with the device's ko" || fail "fota: $out"
stop_demo
stop_sandbox

# ---- slowloris: the login line has an absolute deadline ----
start_sandbox slow --login-timeout 2 || finish
python3 "$RAWPEER" trickle "$SB_PORT" 6 0.4 "$(printf '{"uid":"slow","token":"t","x":"aaaaaaaaaaaaaaaaaaaa' | od -An -tx1 | tr -d ' \n')" >"$TMP/trickle.out"
# The deadline is 2 s; up to 4 s allows for a loaded machine (the trickle itself goes on for 6 s).
case $(cat "$TMP/trickle.out") in "closed after 1."[5-9]* | "closed after "[23].*) pass "a trickled login is closed at the deadline ($(cat "$TMP/trickle.out"))" ;;
*) fail "trickled login: $(cat "$TMP/trickle.out")" ;; esac
expect_has "the deadline is logged" "$SB_ERR" "no login line within 2 s, closing"
# A device line over --max-line (65536 by default) ends the session, with that reason.
{
	printf '{"uid":"longline","token":"t"}\n{"cmd":"EVNT","payload":{"s":"'
	head -c 70000 /dev/zero | tr '\0' a
	printf '"}}\n'
} >"$TMP/long"
python3 "$RAWPEER" lines "$SB_PORT" 1 "$TMP/long" >/dev/null
expect_has "a device line over the maximum ends the session" "$SB_ERR" "longline disconnected: line over the maximum length"
expect_has "the logout says why" "$SB_OUT" '"type":"logout","uid":"longline","ts":'
grep -F '"type":"logout","uid":"longline"' "$SB_OUT" | grep -qF '"reason":"line over the maximum length"}' &&
	pass "logout reason: line over the maximum length" || fail "logout: $(grep -F longline "$SB_OUT")"
stop_sandbox
if command -v certtool >/dev/null; then
	certtool --generate-privkey --key-type=ecdsa --outfile "$TMP/k.pem" >/dev/null 2>&1
	printf 'cn = "localhost"\nexpiration_days = 2\ntls_www_server\n' >"$TMP/t.tmpl"
	certtool --generate-self-signed --load-privkey "$TMP/k.pem" --template "$TMP/t.tmpl" --outfile "$TMP/c.pem" >/dev/null 2>&1
	start_sandbox slowtls --login-timeout 2 --tls-cert "$TMP/c.pem" --tls-key "$TMP/k.pem" || finish
	# A TLS record header announcing 512 bytes of handshake, then one byte at a time.
	python3 "$RAWPEER" trickle "$SB_PORT" 6 0.4 "1603010200010001fc0303$(printf '%0100d' 0)" >"$TMP/trickle-tls.out"
	case $(cat "$TMP/trickle-tls.out") in "closed after 1."[5-9]* | "closed after "[23].*) pass "a trickled TLS handshake is closed at the deadline ($(cat "$TMP/trickle-tls.out"))" ;;
	*) fail "trickled TLS handshake: $(cat "$TMP/trickle-tls.out")" ;; esac
	expect_has "the handshake timeout is logged" "$SB_ERR" "TLS handshake failed"
	stop_sandbox
else
	echo "skip: certtool (gnutls-bin) not installed: no TLS slowloris check"
fi

# ---- the connection cap ----
start_sandbox cap --max-connections 2 --login-timeout 10 || finish
python3 "$RAWPEER" hold "$SB_PORT" 2 3 >"$TMP/hold2.out" &
h2=$!
PIDS="$PIDS $h2"
sleep 0.6
out=$(python3 "$RAWPEER" hold "$SB_PORT" 3 0)
[ "$out" = "3 closed at once" ] && pass "connections over the cap are closed at once" || fail "over the cap: $out"
wait "$h2"
[ "$(cat "$TMP/hold2.out")" = "0 closed at once" ] && pass "connections under the cap stay" || fail "under the cap: $(cat "$TMP/hold2.out")"
[ "$(count "$SB_ERR" "connection limit (2) reached")" = 1 ] && pass "the cap is logged once" ||
	fail "cap log: $(grep -F 'limit' "$SB_ERR")"
start_demo capdemo --uid dev1 --token tok1
expect_ctl "a device logs in once connections are free" '{"ok":true}' wait dev1 8
expect_has "the end of the episode is logged" "$SB_ERR" "3 connections refused at the limit"
stop_demo
stop_sandbox

# ---- descriptors exhausted (EMFILE): no busy loop, one log line, recovery ----
SB_NOFILE=16 start_sandbox emfile || finish
python3 "$RAWPEER" hold "$SB_PORT" 20 4 >/dev/null &
holder=$!
PIDS="$PIDS $holder"
sleep 1
t0=$(cpu_ticks "$SB_PID")
sleep 2
t1=$(cpu_ticks "$SB_PID")
ticks=$((t1 - t0))
hz=$(getconf CLK_TCK)
[ "$ticks" -le $((hz / 10)) ] && pass "out of descriptors: $ticks ticks of CPU in 2 s" ||
	fail "out of descriptors: $ticks ticks of CPU in 2 s (busy loop)"
[ "$(count "$SB_ERR" "cannot accept connections: Too many open files")" = 1 ] && pass "EMFILE logged once" ||
	fail "EMFILE log: $(grep -c 'accept' "$SB_ERR") lines: $(grep 'accept' "$SB_ERR" | head -3)"
wait "$holder"
start_demo emdemo --uid dev1 --token tok1
expect_ctl "a device logs in once descriptors are free" '{"ok":true}' wait dev1 10
expect_has "the recovery is logged" "$SB_ERR" "accepting connections again"
stop_demo
stop_sandbox
finish
