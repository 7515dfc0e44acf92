# standin.sh: what every stand-in flashing tool of tests/flash/bin does (sourced by them).
# A stand-in records its command line in $STANDIN_RECORD/calls (one line per call: the tool name, then
# each argument, quoted with '' when it holds a space; temporary paths .../ztc-flash.XXXXXX become
# {tmp}), copies every file it was given into $STANDIN_RECORD/files/, notes the temporary directories
# in $STANDIN_RECORD/dirs and, when $STANDIN_PORT is set, that port's speed in $STANDIN_RECORD/speed.
# Then it prints output like the real tool's, with percentages. The environment picks the outcome:
#   STANDIN_MODE   ok (default): success output; fail: the tool's error output; notext: exit 0 but
#                  without the text that says success
#   STANDIN_EXIT   exit status (default 0 for ok and notext, 1 for fail)
#   STANDIN_SLEEP  seconds to wait before printing anything (timeouts)
set -u
: "${STANDIN_RECORD:?stand-in: STANDIN_RECORD is not set}"
STANDIN_MODE=${STANDIN_MODE:-ok}

standin_copy() {
	mkdir -p "$STANDIN_RECORD/files"
	cp "$1" "$STANDIN_RECORD/files/$(basename "$1")"
	dirname "$1" >>"$STANDIN_RECORD/dirs"
}

# standin_record TOOL ARGS...
standin_record() {
	line=$1
	shift
	for a in "$@"; do
		[ -f "$a" ] && standin_copy "$a"
		case $a in
		*" "*) a="'$a'" ;;
		esac
		line="$line $a"
	done
	printf '%s\n' "$line" | sed -E 's#[^ ]*/ztc-flash\.[A-Za-z0-9]{6}#{tmp}#g' >>"$STANDIN_RECORD/calls"
	if [ -n "${STANDIN_PORT:-}" ]; then
		stty -F "$STANDIN_PORT" speed >>"$STANDIN_RECORD/speed" 2>&1
	fi
	if [ -n "${STANDIN_SLEEP:-}" ]; then
		sleep "$STANDIN_SLEEP"
	fi
}

# standin_exit: the status the test asked for.
standin_exit() {
	if [ "$STANDIN_MODE" = fail ]; then
		exit "${STANDIN_EXIT:-1}"
	fi
	exit "${STANDIN_EXIT:-0}"
}

# standin_bar LABEL: a redrawn progress bar, as bossac and dfu-util draw theirs.
standin_bar() {
	for p in 0 12 43 77 100; do
		printf '\r%s [%-20s] %3d%%' "$1" "$(printf '%*s' $((p / 5)) '' | tr ' ' '=')" "$p"
	done
	printf '\n'
}
