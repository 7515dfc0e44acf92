#!/bin/sh
# tests/fuzz/regress.sh: every input a fuzzer crashed on (tests/fuzz/crashes/<target>, each named after
# the fix) and every seed (tests/fuzz/corpus/<target>) through the parsers of the normal build. With
# --enable-sanitizers ASan and UBSan watch them; either way the targets' own checks apply.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
# Only read by sanitizer builds: undefined behaviour fails the test instead of printing a line.
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export UBSAN_OPTIONS

fail=0
for t in device-json devices-json firmware backend-reply udev-props board-cache adm-lines fota-record; do
	files=$(find "$top_srcdir/tests/fuzz/crashes/$t" "$top_srcdir/tests/fuzz/corpus/$t" -type f 2>/dev/null | sort)
	n=$(printf '%s\n' "$files" | grep -c .)
	# shellcheck disable=SC2086 # file names from the source tree, without blanks
	if "$top_builddir/tests/fuzz/replay-$t" $files; then
		echo "ok: $t: $n inputs"
	else
		echo "FAIL: $t: tests/fuzz/replay-$t exited $? (inputs: tests/fuzz/crashes/$t, tests/fuzz/corpus/$t)"
		fail=1
	fi
done
exit $fail
