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

usage_error "unknown command group 'foo'" "$MAIN_USAGE" foo
usage_error "unknown option '--bogus'" "$MAIN_USAGE" --bogus device discover
usage_error "unknown option '-x'" "$MAIN_USAGE" -x device discover
usage_error "missing command after 'device'" "$DEVICE_USAGE" device
usage_error "unknown command 'device zzz'" "$DEVICE_USAGE" device zzz
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

# ---- issue 16: suggestions, global options anywhere, help at every level, exact missing arguments ----
VM_USAGE="Usage: ztc vm COMMAND [ARGS] (see 'ztc vm --help')"
ALIAS_USAGE="Usage: ztc device alias COMMAND [ARGS] (see 'ztc device alias --help')"
PUT_USAGE='Usage: ztc device alias put UID|PORT ALIAS TARGET [--name NAME] [--chipid ID] [--remote_id ID] '\
'[--classname CLASS] [--port PORT | --usbpath PATH]'
REGISTER_USAGE='Usage: ztc device register ALIAS|PORT [--skip_burn]'
VIRT_USAGE='Usage: ztc device virtualize ALIAS|PORT VMUID'
CREATE_USAGE='Usage: ztc vm create ALIAS|PORT VERSION RTOS [--feat F]... [--name NAME] [--patch P]'
LIST_USAGE='Usage: ztc vm list [--remote [--from N]]'
usage_error "unknown command 'device discovr'; did you mean 'discover'?" "$DEVICE_USAGE" device discovr
usage_error "unknown command 'device suported'; did you mean 'supported'?" "$DEVICE_USAGE" device suported
usage_error "unknown command 'device regsiter'; did you mean 'register'?" "$DEVICE_USAGE" device regsiter
usage_error "unknown command 'device disc'; did you mean 'discover'?" "$DEVICE_USAGE" device disc
usage_error "unknown command group 'devcie'; did you mean 'device'?" "$MAIN_USAGE" devcie
usage_error "unknown command group 'hlep'; did you mean 'help'?" "$MAIN_USAGE" hlep
usage_error "unknown command 'vm lst'; did you mean 'list'?" "$VM_USAGE" vm lst
usage_error "unknown command 'device alias lsit'; did you mean 'list'?" "$ALIAS_USAGE" device alias lsit
usage_error "unknown command 'device nope'" "$DEVICE_USAGE" device nope
usage_error "unknown option '--matchbd'; did you mean '--matchdb'?" "$DISCOVER_USAGE" device discover --matchbd
usage_error "unknown option '--lop'; did you mean '--loop'?" "$DISCOVER_USAGE" -J device discover --lop
usage_error "unknown option '--skip-brn'; did you mean '--skip-burn'?" "$REGISTER_USAGE" device register x --skip-brn
usage_error "unknown option '--jsn'; did you mean '--json'?" "$MAIN_USAGE" --jsn device discover
usage_error "unknown option '--nothing-like-it'" "$DISCOVER_USAGE" device discover --nothing-like-it
usage_error "unknown option '-x'" "$DEVICE_USAGE" device -x discover
usage_error "option '--ver' is ambiguous: did you mean '--version' or '--verbose'?" "$MAIN_USAGE" --ver
usage_error "option '--loop' takes no value" "$DISCOVER_USAGE" device discover --loop=3
# Exactly what is missing.
usage_error "missing ALIAS and TARGET" "$PUT_USAGE" device alias put abc
usage_error "missing TARGET" "$PUT_USAGE" device alias put abc due
usage_error "missing UID, ALIAS and TARGET" "$PUT_USAGE" device alias put
usage_error "missing ALIAS" "$REGISTER_USAGE" device register
usage_error "missing VMUID" "$VIRT_USAGE" device virtualize due
usage_error "missing ALIAS and VMUID" "$VIRT_USAGE" device virtualize
usage_error "missing VERSION and RTOS" "$CREATE_USAGE" vm create due
usage_error "missing RTOS" "$CREATE_USAGE" -J vm create due r2.6.0
usage_error "missing VMUID" "Usage: ztc vm download VMUID" vm download
usage_error "missing ALIAS" "Usage: ztc device alias del ALIAS [--yes]" device alias del -q
# The hyphenated spellings are options: what is missing is the argument, not the option.
usage_error "missing ALIAS" "$REGISTER_USAGE" device register --skip-burn
usage_error "missing ALIAS" "$REGISTER_USAGE" device register --skip_burn
usage_error "missing TARGET" "$PUT_USAGE" device alias put abc due --remote-id r-1 --chipid C1
usage_error "--from lists the account's VMs: it needs --remote" "$LIST_USAGE" vm list --from 3
for v in -1 abc 10001 '' 1x; do
	usage_error "--from needs a number from 0 to 10000, not '$v'" "$LIST_USAGE" vm list --remote --from "$v"
done
# Global options after the group, after the command, between them, clustered.
usage_error "unknown option '--bogus'" "$DISCOVER_USAGE" device -J discover --bogus
usage_error "unknown option '--bogus'" "$DISCOVER_USAGE" device discover -vq --bogus
usage_error "unknown option '--bogus'" "$DISCOVER_USAGE" device discover --bogus --json

# Bare ztc, ztc help, ztc help GROUP [COMMAND...]: the help on stdout, exit 0, nothing on stderr.
help_is() { # WHAT FIRST-LINE ARGS...
	local what=$1 first=$2
	shift 2
	run "$@"
	[ "$rc" = 0 ] && [ -z "$err" ] && [ "$(printf '%s\n' "$out" | head -1)" = "$first" ] &&
		pass "$what: help, exit 0" || fail "$what: exit $rc, [$(printf '%s\n' "$out" | head -1)] [$err], expected [$first]"
}
help_is "ztc" "$MAIN_USAGE"
help_is "ztc -J" "$MAIN_USAGE" -J
help_is "ztc help" "$MAIN_USAGE" help
help_is "ztc help device" "Usage: ztc device COMMAND [ARGS]" help device
help_is "ztc help device alias" "Usage: ztc device alias COMMAND [ARGS]" help device alias
help_is "ztc help device alias put" "$PUT_USAGE" help device alias put
help_is "ztc help vm download" "Usage: ztc vm download VMUID" help vm download
help_is "ztc help login" "Usage: ztc login [--token TOKEN]" help login
usage_error "unknown command group 'nosuch'" "$MAIN_USAGE" help nosuch
usage_error "unknown command 'device discovr'; did you mean 'discover'?" "$DEVICE_USAGE" help device discovr
# --help at every level, before or after global options.
for cmd in "device" "device discover" "device alias" "device alias put" "device alias del" "device alias list" \
	"device register" "device virtualize" "device supported" "device open" "vm" "vm create" "vm list" \
	"vm download" "login"; do
	run $cmd --help
	first=$(printf '%s\n' "$out" | head -1)
	case $first in
	"Usage: ztc $cmd" | "Usage: ztc $cmd "*) [ "$rc" = 0 ] && [ -z "$err" ] && pass "ztc $cmd --help" || fail "ztc $cmd --help: exit $rc [$err]" ;;
	*) fail "ztc $cmd --help: exit $rc, first line [$first]" ;;
	esac
	run -J $cmd -v -h
	[ "$rc" = 0 ] && [ "$(printf '%s\n' "$out" | head -1)" = "$first" ] && pass "ztc -J $cmd -v -h" ||
		fail "ztc -J $cmd -v -h: exit $rc [$out]"
done
[ ! -e "$ZTC_HOME" ] && pass "help and usage errors never create ZTC_HOME" || fail "ZTC_HOME created"

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
	# -J after the group and command, as arduino-cli takes its flags: the same JSON Lines.
	timeout 5 "$UMOCKDEV_RUN" -d "$top_srcdir/tests/data/arduino_due.umockdev" -- "$ZTC" -J device discover \
		>"$TMP/before" 2>/dev/null
	for args in "device discover -J" "device -J discover" "device discover --json" "device discover -Jv"; do
		timeout 5 "$UMOCKDEV_RUN" -d "$top_srcdir/tests/data/arduino_due.umockdev" -- "$ZTC" $args >"$TMP/out" 2>"$TMP/err"
		rc=$?
		[ "$rc" = 0 ] && [ -s "$TMP/before" ] && cmp -s "$TMP/before" "$TMP/out" && pass "ztc $args: JSON Lines" ||
			fail "ztc $args: exit $rc, [$(cat "$TMP/out")] [$(cat "$TMP/err")]"
	done
else
	echo "skip: no-device checks need umockdev-run"
fi

[ "$failures" = 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
