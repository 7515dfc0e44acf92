#!/bin/bash
# tests/adm/sandbox-control.sh: zadm-sandbox's control socket is private: mode 0600 whatever the umask,
# peers of another uid refused (SO_PEERCRED), a path that is not a socket never removed, a second
# sandbox on a socket in use refused; control commands with bad numbers or bytes answered with an error.
. "$top_srcdir/tests/adm/lib.sh"

RAWPEER="$top_srcdir/tests/adm/rawpeer.py"
command -v python3 >/dev/null || { echo "SKIP: python3 not installed"; exit 77; }

# Started under umask 000: the socket is still srw-------.
SB_UMASK=000 start_sandbox sb || finish
mode=$(stat -c %A "$SB_CTL")
[ "$mode" = "srw-------" ] && pass "control socket is srw------- under umask 000" || fail "socket mode $mode"
expect_ctl "the owner can use it" '{"ok":true,"devices":[]}' list

# A second sandbox on the same control socket refuses to start, and the first keeps working.
timeout 5 "$SANDBOX" --port 0 --control "$SB_CTL" >/dev/null 2>"$TMP/second.err"
r=$?
[ $r = 1 ] && has "$TMP/second.err" "another zadm-sandbox answers on $SB_CTL" &&
	[ "$(wc -l <"$TMP/second.err")" = 1 ] && pass "a second sandbox on the socket is refused (one line)" ||
	fail "second sandbox: exit $r, $(cat "$TMP/second.err")"
[ -S "$SB_CTL" ] && pass "the socket in use was not removed" || fail "the socket is gone"
expect_ctl "the first sandbox still answers" '{"ok":true,"devices":[]}' list

# A regular file, a directory or a symbolic link at the path: left alone, with one clear line.
echo "precious data" >"$TMP/file.sock"
mkdir "$TMP/dir.sock"
ln -s "$TMP/file.sock" "$TMP/link.sock"
for what in file dir link; do
	timeout 5 "$SANDBOX" --port 0 --control "$TMP/$what.sock" >/dev/null 2>"$TMP/$what.err"
	r=$?
	[ $r = 1 ] && has "$TMP/$what.err" "$TMP/$what.sock exists and is not a socket; not removing it" &&
		[ "$(wc -l <"$TMP/$what.err")" = 1 ] && pass "$what at the control path: refused (one line)" ||
		fail "$what at the control path: exit $r, $(cat "$TMP/$what.err")"
done
[ "$(cat "$TMP/file.sock")" = "precious data" ] && [ -d "$TMP/dir.sock" ] && [ -L "$TMP/link.sock" ] &&
	pass "the file, directory and link are untouched" || fail "something at the control path changed"

# A stale socket (its sandbox killed) is replaced.
main_sb=("$SB_PID" "$SB_PORT" "$SB_CTL" "$SB_OUT" "$SB_ERR")
SB_CONTROL=$TMP/stale.sock start_sandbox stale1 || finish
kill -9 "$SB_PID"; wait "$SB_PID" 2>/dev/null
[ -S "$TMP/stale.sock" ] || fail "no stale socket left by SIGKILL"
SB_CONTROL=$TMP/stale.sock start_sandbox stale2 || finish
expect_ctl "a stale socket is replaced" '{"ok":true,"devices":[]}' list
stop_sandbox
SB_PID=${main_sb[0]} SB_PORT=${main_sb[1]} SB_CTL=${main_sb[2]} SB_OUT=${main_sb[3]} SB_ERR=${main_sb[4]}

# Numbers in control commands: only finite seconds in range; each bad value is an error reply, at once.
for bad in nan NaN inf -inf 1e400 -1e19 -1 3601 5x 0x10 1e; do
	start=$(date +%s%N)
	out=$(timeout 5 "$SANDBOX" --ctl "$SB_CTL" wait dev1 "$bad" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	case $out in
	'{"ok":false,"error":"wait: SECONDS must be a number from 0 to 3600, not '"'$bad'"'"}')
		[ $rc = 1 ] && [ $ms -lt 2000 ] && pass "wait '$bad' refused at once" || fail "wait '$bad': exit $rc, $ms ms" ;;
	*) fail "wait '$bad': exit $rc, [$out]" ;;
	esac
done
expect_ctl "the sandbox still answers after those" '{"ok":true,"devices":[]}' list
expect_ctl "a fractional wait is fine" '{"ok":false,"error":"dev1 did not log in within 0.2 s"}' wait dev1 0.2
for bad in bc=abc vm=1.5 chunk=0 chunk=16777217 timeout=0 timeout=99999999999999999999 bc=; do
	ctl fota dev1 /dev/null "$bad"
	case $out in *'"ok":false,"error":"fota: '*) pass "fota $bad refused" ;; *) fail "fota $bad: $out" ;; esac
done
for bad in 15 67108865 abc 1e3; do
	expect_ctl "longline $bad refused" '{"ok":false,"error":"usage: longline UID BYTES (16 .. 64 MiB)"}' longline dev1 "$bad"
done

# Control commands that are not UTF-8 get a valid JSON error reply.
for bad in $'wait \xff' $'list\xc0\x80' $'kick \xed\xa0\x80'; do
	printf '%s' "$bad" >"$TMP/cmd"
	out=$(python3 "$RAWPEER" ctl "$SB_CTL" "$TMP/cmd")
	printf '%s' "$out" | python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8","strict"))' &&
		[ "$out" = '{"ok":false,"error":"the command is not valid UTF-8"}' ] &&
		pass "non-UTF-8 command: valid JSON error reply" || fail "non-UTF-8 command: [$out]"
done
out=$("$SANDBOX" --ctl "$SB_CTL" wait $'\xff' 1 2>&1)
[ "$out" = '{"ok":false,"error":"the command is not valid UTF-8"}' ] && pass "--ctl with a non-UTF-8 argument" ||
	fail "--ctl non-UTF-8: [$out]"

# SIGTERM is served at once even while a control client waits.
"$SANDBOX" --ctl "$SB_CTL" wait nobody 30 >/dev/null 2>&1 &
waiter=$!
PIDS="$PIDS $waiter"
sleep 0.3
kill -TERM "$SB_PID"
if wait_for 3 sh -c "! kill -0 $SB_PID"; then pass "SIGTERM ends the sandbox while a wait is pending"; else
	fail "the sandbox ignores SIGTERM"; fi
[ ! -e "$SB_CTL" ] && pass "its socket is removed on exit" || fail "socket left behind"

# Peers of another uid: needs root to have two uids.
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null; then
	echo "skip: the SO_PEERCRED check needs root and setpriv (two uids); not run"
	finish
fi
nobody=$(id -u nobody 2>/dev/null || echo 65534)
other=12345
chmod 711 "$TMP"
mkdir "$TMP/peer" && chmod 777 "$TMP/peer"
setpriv --reuid="$nobody" --regid="$nobody" --clear-groups "$SANDBOX" --port 0 --port-file "$TMP/peer/port" \
	--control "$TMP/peer/ctl.sock" >"$TMP/peer.out" 2>"$TMP/peer.err" &
peer_sb=$!
PIDS="$PIDS $peer_sb"
wait_for 5 test -s "$TMP/peer/port" || fail "sandbox as nobody did not start: $(cat "$TMP/peer.err")"
[ "$(stat -c %U:%A "$TMP/peer/ctl.sock")" = "nobody:srw-------" ] && pass "socket owned by nobody, 0600" ||
	fail "peer socket: $(stat -c %U:%A "$TMP/peer/ctl.sock")"
# Opened up by mistake: the peer check still refuses a third uid, and root is let in.
chmod 666 "$TMP/peer/ctl.sock"
out=$(setpriv --reuid=$other --regid=$other --clear-groups "$SANDBOX" --ctl "$TMP/peer/ctl.sock" list 2>&1)
rc=$?
[ $rc = 1 ] && [ "$out" = "{\"ok\":false,\"error\":\"permission denied: uid $other is neither the sandbox's user nor root\"}" ] &&
	pass "a peer of another uid is refused" || fail "other uid: exit $rc, [$out]"
expect_has "the refusal is logged" "$TMP/peer.err" "control connection from uid $other refused"
out=$("$SANDBOX" --ctl "$TMP/peer/ctl.sock" list 2>&1)
[ "$out" = '{"ok":true,"devices":[]}' ] && pass "root is let in" || fail "root: [$out]"
out=$(setpriv --reuid="$nobody" --regid="$nobody" --clear-groups "$SANDBOX" --ctl "$TMP/peer/ctl.sock" quit 2>&1)
[ "$out" = '{"ok":true}' ] && pass "the sandbox's own uid is let in" || fail "own uid: [$out]"
wait "$peer_sb"
finish
