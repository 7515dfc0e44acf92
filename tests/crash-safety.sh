#!/bin/bash
# tests/crash-safety.sh: writers of the known-device store (ztc_store_update) and of the file-backed
# FOTA store (slots, attempt, boot, accept) killed with SIGKILL at random points, CRASH_TRIALS times
# each (default 500): after every kill the file must load and be the last version the writer finished
# or the one it was writing (tests/crash-writer.c checks, against the writer's journal), and every FOTA
# slot the record names must be whole.
set -u
: "${top_builddir:?run through make check}"
trials=${CRASH_TRIALS:-500}
W=$top_builddir/tests/crash-writer
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ztc-crash.XXXXXX")
[ -n "${CRASH_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
fail=0

for kind in store fota; do
	dir=$tmp/$kind log=$tmp/$kind.journal
	mkdir -p "$dir"
	if [ $kind = fota ] && ! "$W" fota-init "$dir" "$log"; then
		echo "FAIL: cannot prepare the FOTA store"
		exit 1
	fi
	old=0 new=0 left=0 start=$(date +%s)
	for ((i = 1; i <= trials; i++)); do
		# The writer says "ready" once started (store loaded or opened; the FOTA store's open is a
		# boot, a write that may be killed too); the kill comes 0 to 19 ms later, a few writes in.
		coproc WRITER { exec "$W" $kind-write "$dir" "$log"; }
		pid=$WRITER_PID
		[ $((RANDOM % 10)) -eq 0 ] || read -r -t 10 _ <&"${WRITER[0]}"
		sleep "0.0$((RANDOM % 20 / 10))$((RANDOM % 10))"
		kill -KILL $pid 2>/dev/null
		wait $pid 2>/dev/null
		if ! res=$("$W" $kind-check "$dir" "$log"); then
			echo "FAIL: $kind, trial $i: $res"
			fail=1
			break
		fi
		case $res in old*) old=$((old + 1)) ;; new*) new=$((new + 1)) ;; esac
		case $res in *tmp) left=$((left + 1)) ;; esac
	done
	done_lines=$(grep -c '^done' "$log")
	echo "ok: $kind: $((i - 1)) SIGKILLs in $(( $(date +%s) - start )) s over $done_lines finished writes:" \
		"$old times the last finished version, $new times the version being written;" \
		"$left times one temporary file was left behind (killed mid-write; never more than one, the next writer removes it)"
done
exit $fail
