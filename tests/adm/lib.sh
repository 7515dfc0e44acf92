# tests/adm/lib.sh: helpers of the zadm-sandbox / zadm-demo integration tests (sourced).
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?}"
SANDBOX="$top_builddir/adm/sandbox/zadm-sandbox"
DEMO="$top_builddir/adm/examples/zadm-demo"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/zadm-test.XXXXXX")
PIDS=""
unset ZADM_DEBUG
failures=0

cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
# A test that hangs is a failure, not a stuck make check.
( sleep "${ADM_TEST_TIMEOUT:-80}"; echo "FAIL: timed out" >&2; kill -TERM $$ ) 2>/dev/null &
WATCHDOG=$!
PIDS="$PIDS $WATCHDOG"

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds; 1 on timeout.
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# count FILE FIXED-STRING: lines of FILE containing it.
count() { grep -cF -- "$2" "$1" 2>/dev/null || true; }
has() { grep -qF -- "$2" "$1" 2>/dev/null; }
# expect_has WHAT FILE STRING [SECONDS]
expect_has() {
	if wait_for "${4:-5}" has "$2" "$3"; then pass "$1"; else fail "$1: '$3' not in $2: $(tail -5 "$2")"; fi
}

# start_sandbox NAME [ARGS...]: sets SB_PID SB_PORT SB_CTL SB_OUT SB_ERR. SB_FIXED_PORT reuses a port;
# SB_CONTROL names the control socket; SB_UMASK and SB_NOFILE set the umask and ulimit -n it runs under.
start_sandbox() {
	local name=$1
	shift
	SB_CTL=${SB_CONTROL:-$TMP/$name.sock} SB_OUT=$TMP/$name.out SB_ERR=$TMP/$name.err
	rm -f "$TMP/$name.port"
	(
		[ -z "${SB_UMASK:-}" ] || umask "$SB_UMASK"
		[ -z "${SB_NOFILE:-}" ] || ulimit -n "$SB_NOFILE"
		exec "$SANDBOX" --port "${SB_FIXED_PORT:-0}" --port-file "$TMP/$name.port" --control "$SB_CTL" "$@" \
			>>"$SB_OUT" 2>>"$SB_ERR"
	) &
	SB_PID=$!
	PIDS="$PIDS $SB_PID"
	if ! wait_for 5 test -s "$TMP/$name.port"; then
		fail "sandbox $name did not start: $(cat "$SB_ERR")"
		return 1
	fi
	SB_PORT=$(cat "$TMP/$name.port")
}

# ctl ARGS...: one control command; sets $out and $rc.
ctl() {
	out=$("$SANDBOX" --ctl "$SB_CTL" "$@" 2>&1)
	rc=$?
}
# expect_ctl WHAT EXPECTED-OUTPUT ARGS...
expect_ctl() {
	local what=$1 want=$2
	shift 2
	ctl "$@"
	[ "$out" = "$want" ] && pass "$what" || fail "$what: got [$out], expected [$want]"
}

# start_demo NAME ARGS...: a zadm-demo against the current sandbox; sets DM_PID and DM_ERR.
start_demo() {
	local name=$1
	shift
	DM_ERR=$TMP/$name.err
	"$DEMO" --address 127.0.0.1 --port "$SB_PORT" --event-interval 0 --reconnect-ms 100 -v "$@" \
		2>>"$DM_ERR" &
	DM_PID=$!
	PIDS="$PIDS $DM_PID"
}

# stop_demo: end the current zadm-demo (it may have exited already) and reap it.
stop_demo() { kill "$DM_PID" 2>/dev/null; wait "$DM_PID" 2>/dev/null; }
# stop_sandbox: ask the current sandbox to quit and wait for it to end.
stop_sandbox() {
	ctl quit
	wait "$SB_PID"
}

finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed" >&2
		exit 1
	fi
	exit 0
}
