# cli-usage.sh: bad command lines exit 2 with the exact message and usage line; help, version, no device.
set -u
: "${top_builddir:?run through make check}" "${ZTC:?}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ztc-usage.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# Never the user's state: a usage error must not need it, and nothing here may write it.
export ZTC_HOME="$TMP/home"
unset ZTC_DEBUG ZTC_MOUNTINFO
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

MAIN_USAGE='Usage: ztc [-J|--json] [-v|--verbose] [-q|--quiet] [--version] [-h|--help] GROUP COMMAND [ARGS]'
DEVICE_USAGE="Usage: ztc device COMMAND [ARGS] (see 'ztc device --help')"
DISCOVER_USAGE='Usage: ztc device discover [--matchdb] [--loop] [--looptime MS]'
NL='
'

# run ARGS...: sets out, err, rc. The timeout ends a ztc that took a bad value and went on to loop.
run() {
	timeout 5 "$ZTC" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	out=$(cat "$TMP/out")
	err=$(cat "$TMP/err")
}

# usage_error "MESSAGE" "USAGE LINE" ARGS...: exit 2, exactly those two lines on stderr, nothing on stdout.
usage_error() {
	msg=$1 usage=$2
	shift 2
	run "$@"
	what="ztc $*"
	[ "$rc" != 124 ] || { fail "$what: accepted, still running after 5 s"; return; }
	[ "$rc" = 2 ] || { fail "$what: exit $rc, expected 2"; return; }
	[ "$err" = "ztc: $msg$NL$usage" ] || { fail "$what: stderr was [$err], expected [ztc: $msg$NL$usage]"; return; }
	[ -z "$out" ] || { fail "$what: stdout not empty: [$out]"; return; }
	[ ! -e "$ZTC_HOME" ] || { fail "$what: created $ZTC_HOME"; return; }
	pass "$what: exit 2, '$msg'"
}

usage_error "missing command group" "$MAIN_USAGE"
usage_error "unknown command group 'foo'" "$MAIN_USAGE" foo
usage_error "unknown option '--bogus'" "$MAIN_USAGE" --bogus device discover
usage_error "unknown option '-x'" "$MAIN_USAGE" -x device discover
usage_error "missing command after 'device'" "$DEVICE_USAGE" device
usage_error "unknown command 'device nope'" "$DEVICE_USAGE" device nope
usage_error "unknown option '--bogus'" "$DISCOVER_USAGE" device discover --bogus
usage_error "unknown option '--bogus'" "$DISCOVER_USAGE" -J device discover --bogus
usage_error "unknown option '-z'" "$DISCOVER_USAGE" device discover -z
usage_error "unexpected argument 'extra'" "$DISCOVER_USAGE" device discover extra
usage_error "unexpected argument 'extra'" "$DISCOVER_USAGE" device discover --loop extra
usage_error "option '--looptime' needs a value" "$DISCOVER_USAGE" device discover --looptime
for v in 0 -5 abc 99999999999 2147483648 '' 1x ' 5' +5 1.5; do
	usage_error "--looptime needs a positive number of milliseconds, not '$v'" "$DISCOVER_USAGE" \
		device discover --loop --looptime "$v"
done
usage_error "--looptime needs a positive number of milliseconds, not '0'" "$DISCOVER_USAGE" \
	device discover --looptime=0

# --version: "ztc VERSION" and nothing else.
version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
run --version
[ "$rc" = 0 ] && [ -n "$version" ] && [ "$out" = "ztc $version" ] && [ -z "$err" ] &&
	pass "--version: ztc $version" || fail "--version: exit $rc, [$out] [$err], expected [ztc $version]"

# Help goes to stdout with exit 0.
run --help
[ "$rc" = 0 ] && [ "$(printf '%s\n' "$out" | head -1)" = "$MAIN_USAGE" ] && [ -z "$err" ] &&
	pass "--help" || fail "--help: exit $rc, [$out] [$err]"
run -h
[ "$rc" = 0 ] && [ "$(printf '%s\n' "$out" | head -1)" = "$MAIN_USAGE" ] && pass "-h" || fail "-h: exit $rc, [$out]"
run device --help
case "$out" in
*"ztc device discover [--matchdb] [--loop] [--looptime MS]"*)
	[ "$rc" = 0 ] && [ -z "$err" ] && pass "device --help" || fail "device --help: exit $rc, [$err]" ;;
*) fail "device --help: exit $rc, does not list discover: [$out]" ;;
esac
run device discover --help
[ "$rc" = 0 ] && [ "$(printf '%s\n' "$out" | head -1)" = "$DISCOVER_USAGE" ] && [ -z "$err" ] &&
	pass "device discover --help" || fail "device discover --help: exit $rc, [$out] [$err]"

# No device: one line in the table form, nothing at all with -J; exit 0 either way.
if [ -n "${UMOCKDEV_RUN:-}" ]; then
	timeout 5 "$UMOCKDEV_RUN" -- "$ZTC" device discover >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" = 0 ] && [ "$(cat "$TMP/out")" = "No USB devices found." ] && [ ! -s "$TMP/err" ] &&
		pass "no device: 'No USB devices found.'" ||
		fail "no device: exit $rc, [$(cat "$TMP/out")] [$(cat "$TMP/err")]"
	timeout 5 "$UMOCKDEV_RUN" -- "$ZTC" -J device discover >"$TMP/out" 2>"$TMP/err"
	rc=$?
	[ "$rc" = 0 ] && [ ! -s "$TMP/out" ] && [ ! -s "$TMP/err" ] && pass "no device, -J: no output" ||
		fail "no device, -J: exit $rc, [$(cat "$TMP/out")] [$(cat "$TMP/err")]"
else
	echo "skip: no-device checks need umockdev-run"
fi

[ "$failures" = 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
