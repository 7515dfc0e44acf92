# tests/lib.sh: shared helpers of the shell tests (sourced; the harness exports ZTC, top_srcdir, ...).
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?}" "${ZTC:?}"
DATA="$top_srcdir/tests/data"
JSONL="$top_builddir/tests/tools/jsonl"
UMOCKDEV_RUN=${UMOCKDEV_RUN:-umockdev-run}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ztc-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export ZTC_HOME="$TMP/home"
export XDG_CACHE_HOME="$TMP/cache" # the board cache: never the user's
# The built database and plugins, never the installed ones.
export ZTC_DB_PATH="$top_srcdir/db"
export ZTC_PLUGIN_PATH="$top_builddir/plugins"
unset ZTC_DEBUG ZTC_TOKEN ZTC_MOUNTINFO
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# capture CMD ARGS...: run CMD (errexit off while it runs); sets $out and $err (its stdout and stderr) and $rc.
capture() {
	set +e
	"$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	set -e
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}

# split_args WORDS...: the words before the first "--" in the array opts, those after it in the array rest.
split_args() {
	opts=()
	while [ "$1" != "--" ]; do opts+=("$1"); shift; done
	shift
	rest=("$@")
}

# record_path RECORD: the .umockdev file of a tests/data record name, or RECORD itself when it is a path (/...).
record_path() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s' "$DATA/$1.umockdev" ;; esac; }

# ztc_under RECORD ARGS...: run ztc with the udev devices of RECORD (a comma list of tests/data names or paths).
# Sets $out, $err and $rc.
ztc_under() {
	local rec=$1 devs=() r
	shift
	IFS=, read -ra recs <<<"$rec"
	for r in "${recs[@]}"; do devs+=(-d "$(record_path "$r")"); done
	capture "$UMOCKDEV_RUN" "${devs[@]}" -- "$ZTC" "$@"
}

# ztc_run ARGS...: run ztc without umockdev (no device). Sets $out, $err and $rc.
ztc_run() { capture "$ZTC" "$@"; }

# samba_sim NAME ARGS...: tests/tools/samba-sim ARGS on a pty of its own, $TMP/NAME linked to it (exit 99 when it
# does not start); its pid is added to $sims, for the caller's EXIT trap to kill.
samba_sim() {
	local name=$1
	shift
	"$top_builddir/tests/tools/samba-sim" --pty "$TMP/$name" "$@" >/dev/null 2>"$TMP/$name.err" &
	sims="$sims $!"
	for _ in $(seq 100); do [ -L "$TMP/$name" ] && break; sleep 0.05; done
	[ -L "$TMP/$name" ] || { echo "samba-sim did not start: $(cat "$TMP/$name.err")" >&2; exit 99; }
}

expect_rc() { [ "$rc" = "$1" ] && pass "$2 (exit $1)" || fail "$2: exit $rc, expected $1; stderr: $err"; }
expect_err() { case "$err" in *"$1"*) pass "$2: stderr says '$1'" ;; *) fail "$2: stderr '$err' lacks '$1'" ;; esac; }
expect_out() { [ "$out" = "$1" ] && pass "$2" || fail "$2: stdout was [$out], expected [$1]"; }
# expect_fields "FIELD..." WANT WHAT: those fields of the JSON Lines on stdout (tests/tools/jsonl get: "|" between
# fields, a line a record) are WANT.
expect_fields() {
	local fields got
	read -ra fields <<<"$1"
	got=$(printf '%s\n' "$out" | "$JSONL" get "${fields[@]}") || true
	[ "$got" = "$2" ] && pass "$3" || fail "$3: got [$got], expected [$2]; stdout: $out; stderr: $err"
}
# expect_matchdb RECORD "FIELD..." WANT WHAT: `ztc -J device discover --matchdb` under RECORD, then expect_fields.
expect_matchdb() {
	ztc_under "$1" -J device discover --matchdb
	expect_fields "${@:2}"
}
# One error line: exactly one line on stderr.
expect_one_line() { [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] && pass "$1: one error line" || fail "$1: stderr has several lines: $err"; }

finish() {
	if [ "$failures" -ne 0 ]; then
		echo "$failures check(s) failed" >&2
		exit 1
	fi
	exit 0
}
