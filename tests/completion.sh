# completion.sh: completion/ztc.bash completes groups, commands, options, aliases, targets, uids and vm uids.
[ -n "${BASH_VERSION:-}" ] || {
	command -v bash >/dev/null 2>&1 || { echo "SKIP: bash not found"; exit 77; }
	exec bash "$0" "$@"
}
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?}" "${ZTC:?}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ztc-completion.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export ZTC_HOME="$TMP/home"
export ZTC_DB_PATH="$top_srcdir/db"
export ZTC_PLUGIN_PATH="$top_builddir/plugins"
unset ZTC_DEBUG ZTC_TOKEN
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# The store and the VM store the completions read, written as ztc writes them.
mkdir -p "$ZTC_HOME/vms/arduino_due/c0ffee42"
cat >"$ZTC_HOME/devices.json" <<'JSON'
{"devices":[{"alias":"due","uid":"5f3e0a","name":"Due","target":"arduino_due","chipid":"c0ffee42","remote_id":"r1","classname":"ArduinoDue"},
 {"alias":"duo","uid":"77aa01","name":"Duo","target":"arduino_due","chipid":null,"remote_id":null,"classname":"ArduinoDue"},
 {"alias":"photon","uid":"9b1c","name":"P","target":"particle_photon","chipid":null,"remote_id":null,"classname":"Photon"}]}
JSON
echo '{"uid":"vm9f00d1"}' >"$ZTC_HOME/vms/arduino_due/c0ffee42/vm9f00d1_r2.6.0_0a1b2c_rtos.vm"

. "$top_srcdir/completion/ztc.bash" || { echo "FAIL: sourcing completion/ztc.bash" >&2; exit 1; }
complete -p ztc | grep -q -- '-F _ztc' && pass "complete -F _ztc ztc registered" || fail "not registered: $(complete -p ztc 2>&1)"

# comp LINE: complete the last word of LINE (a trailing space starts a new, empty word) with the built
# ztc as the command word; sets $got to the sorted candidates, one line.
comp() {
	local line=$1
	read -ra COMP_WORDS <<<"$line"
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_WORDS[0]=$ZTC
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	_ztc ztc "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	got=${got% }
}

# expect LINE WANT: the candidates are exactly WANT (sorted, space separated).
expect() {
	comp "$1"
	if [ "$got" = "$2" ]; then pass "'$1' -> $got"; else fail "'$1': got '$got', want '$2'"; fi
}

# has LINE WORD...: each WORD is among the candidates.
has() {
	local line=$1 w
	shift
	comp "$line"
	for w in "$@"; do
		case " $got " in
		*" $w "*) ;;
		*) fail "'$line': '$w' missing from '$got'"; return ;;
		esac
	done
	pass "'$line' -> $# expected candidates among $(wc -w <<<"$got")"
}

expect 'ztc ' 'device help login vm'
expect 'ztc -J d' 'device'
expect 'ztc --' '--help --json --quiet --verbose --version'
expect 'ztc -v device ' '--help alias discover open register supported virtualize'
expect 'ztc device alias ' '--help del list put'
expect 'ztc device discover --l' '--loop --looptime'
expect 'ztc device supported --type ' 'board jtag usbtoserial'
expect 'ztc device supported --type j' 'jtag'
expect 'ztc device register ' 'due duo photon'
expect 'ztc device register du' 'due duo'
expect 'ztc device register due --' '--help --skip-burn --skip_burn'
expect 'ztc device open ph' 'photon'
expect 'ztc device open due --re' '--reconnect'
has 'ztc device open due --baud ' 9600 74880 115200 921600
expect 'ztc device open due --eol cr' 'cr crlf'
expect 'ztc device open due --esc' '--escape'
expect 'ztc device alias del p' 'photon'
expect 'ztc device virtualize due ' 'vm9f00d1'
expect 'ztc device virtualize due vm9f00d1 ' ''
expect 'ztc vm ' '--help create download list'
expect 'ztc vm create d' 'due duo'
expect 'ztc vm create due r2.6.0 rtos --f' '--feat'
expect 'ztc login --' '--help --token'
expect 'ztc login --token ' ''
# Issue 16: global options anywhere, ztc help, alias list / del --yes, vm list --remote / download,
# hyphenated spellings, ports where a device is named.
expect 'ztc device -J dis' 'discover'
expect 'ztc device discover -J --m' '--matchdb'
expect 'ztc device -vq alias ' '--help del list put'
expect 'ztc help ' 'device login vm'
expect 'ztc help device al' 'alias'
expect 'ztc help vm d' 'download'
expect 'ztc device alias del due --' '--help --yes'
expect 'ztc device alias list --' '--help'
expect 'ztc vm list --' '--from --help --remote'
expect 'ztc vm list --remote --from ' ''
expect 'ztc vm download --' '--help'
expect 'ztc device alias put 5f3e due --remote-' '--remote-id'
expect 'ztc device alias put 5f3e due --remote-id x arduino_d' 'arduino_due'
mkdir -p "$TMP/dev"
: >"$TMP/dev/ttyUSB7"
expect "ztc device alias put $TMP/dev/tty" "$TMP/dev/ttyUSB7"
expect "ztc device register $TMP/dev/tty" "$TMP/dev/ttyUSB7"
expect "ztc -J vm create $TMP/dev/tty" "$TMP/dev/ttyUSB7"
expect 'ztc device virtualize du' 'due duo'
# Targets come from ztc -J device supported, so a vendor board on ZTC_DB_PATH completes too.
has 'ztc device alias put 5f3e due ' arduino_due particle_photon stlink_v2 ztc_sim
expect 'ztc device alias put 5f3e due arduino_d' 'arduino_due'
expect 'ztc device alias put 5f3e due --classname ' ''
mkdir -p "$TMP/vendor/acme_widget"
echo '{"name": "Acme Widget", "target": "acme_widget", "type": "board", "classes": []}' \
	>"$TMP/vendor/acme_widget/device.json"
ZTC_DB_PATH="$TMP/vendor:$top_srcdir/db" expect 'ztc device alias put 5f3e w acme_w' 'acme_widget'
# No store at all: no alias, and no error output.
out=$(ZTC_HOME="$TMP/none"; comp 'ztc device register ' 2>&1; printf '%s' "$got")
[ -z "$out" ] && pass "no devices.json: no candidates, nothing printed" || fail "no store: '$out'"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "all completions as expected"
