#!/bin/bash
# tests/check-valgrind.sh: make check-valgrind: the Check suites, then the ztc command through shell
# tests, under valgrind memcheck; any leak (definite, indirect or possible) or memory error fails.
# Not part of make check (valgrind makes it slow); tests/adm/valgrind.sh there covers libzadm's wire.
set -u
: "${top_srcdir:?run through make check-valgrind}" "${top_builddir:?}"
command -v valgrind >/dev/null || { echo "check-valgrind: valgrind is not installed (apt-get install valgrind)"; exit 1; }
# The logs stay only when something failed (or CHECK_VALGRIND_LOGS names where to keep them).
logs=${CHECK_VALGRIND_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/ztc-check-valgrind.XXXXXX")}
mkdir -p "$logs"
VG=(valgrind --leak-check=full --error-exitcode=97 --num-callers=40
	--suppressions="$top_srcdir/tests/check-valgrind.supp")
fail=0

# The Check suites, in one process each (CK_FORK=no: what a fork would hide, valgrind sees). The
# umockdev suite finds its preload already loaded and does not re-execute itself.
for prog in tests/unit/test-discover tests/unit/test-libztc tests/flash/test-firmware tests/console/test-console tests/adm/test-zadm; do
	name=$(basename "$prog")
	if [ ! -x "$top_builddir/$prog" ]; then
		echo "SKIP: $prog (not built)"
		continue
	fi
	start=$(date +%s)
	if [ "$name" = test-discover ]; then
		pre=(env LD_PRELOAD=libumockdev-preload.so.0 ZTC_TEST_PRELOADED=1)
	else
		pre=(env)
	fi
	(cd "$top_builddir" && "${pre[@]}" CK_FORK=no CK_DEFAULT_TIMEOUT=600 ./libtool --mode=execute \
		"${VG[@]}" --log-file="$logs/$name.%p.log" "$prog") >"$logs/$name.out" 2>&1
	rc=$?
	checks=$(grep -E '^[0-9]+%: Checks' "$logs/$name.out" | tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "ok: $prog under valgrind: ${checks:-?} ($(( $(date +%s) - start )) s)"
	else
		echo "FAIL: $prog under valgrind exited $rc: ${checks:-?}; see $logs/$name.*"
		fail=1
	fi
done

# The ztc command: shell tests run it through a wrapper that runs it under valgrind (exit 97 on an
# error, so the test fails too), each process logging to its own file.
wrap=$logs/ztc-valgrind
cat >"$wrap" <<WRAP
#!/bin/sh
exec "$top_builddir/libtool" --mode=execute ${VG[*]} --log-file="$logs/ztc.%p.log" "$top_builddir/core/cli/ztc" "\$@"
WRAP
chmod +x "$wrap"
for t in tests/cli-usage.sh tests/alias.sh tests/matchdb.sh tests/backend/vm-create.sh; do
	start=$(date +%s)
	ZTC=$wrap UMOCKDEV_RUN=${UMOCKDEV_RUN:-umockdev-run} top_srcdir=$top_srcdir top_builddir=$top_builddir \
		bash "$top_srcdir/$t" >"$logs/$(basename "$t").out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok: $t with ztc under valgrind ($(( $(date +%s) - start )) s)"
	elif [ $rc -eq 77 ]; then
		echo "SKIP: $t"
	else
		echo "FAIL: $t with ztc under valgrind exited $rc; see $logs/$(basename "$t").out"
		fail=1
	fi
done
n=$(ls "$logs"/ztc.*.log 2>/dev/null | wc -l)
bad=$(grep -l "ERROR SUMMARY: [1-9]" "$logs"/*.log 2>/dev/null)
if [ -n "$bad" ]; then
	echo "FAIL: valgrind reported errors or leaks in:"
	for f in $bad; do echo "  $f: $(grep 'ERROR SUMMARY' "$f")"; done
	fail=1
fi
if [ $fail -eq 0 ]; then
	echo "check-valgrind: the Check suites and $n ztc processes: no leak, no error"
	[ -n "${CHECK_VALGRIND_LOGS:-}" ] || rm -rf "$logs"
else
	echo "check-valgrind: FAILED (logs: $logs)"
fi
exit $fail
