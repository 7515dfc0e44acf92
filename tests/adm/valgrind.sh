#!/bin/bash
# tests/adm/valgrind.sh: the wire tests under valgrind, with 100 reconnects: no leak, no memory error.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?}"
command -v valgrind >/dev/null || { echo "SKIP: valgrind not installed"; exit 77; }
[ -z "${ZTC_SANITIZERS:-}" ] || { echo "SKIP: an ASan build cannot run under valgrind"; exit 77; }
log=$(mktemp "${TMPDIR:-/tmp}/zadm-valgrind.XXXXXX")
trap 'rm -f "$log"' EXIT
CK_FORK=no CK_RUN_CASE=wire ZADM_TEST_RECONNECTS=100 ZADM_TEST_FLOOD=10000 CK_DEFAULT_TIMEOUT=120 \
	timeout 120 "$top_builddir/libtool" --mode=execute valgrind --leak-check=full \
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
	"$top_builddir/tests/adm/test-zadm" >"$log" 2>&1
rc=$?
grep -E "Checks|ERROR SUMMARY|in use at exit|definitely lost|indirectly lost" "$log"
if [ $rc -ne 0 ] || ! grep -q "ERROR SUMMARY: 0 errors" "$log"; then
	cat "$log" >&2
	echo "FAIL: valgrind found errors or leaks (exit $rc)" >&2
	exit 1
fi
echo "ok: 100 reconnects under valgrind, no leak"
