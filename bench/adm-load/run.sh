#!/bin/bash
# bench/adm-load/run.sh: 200 libzadm clients (one process) against zadm-sandbox for 60 s with two
# sandbox restarts; prints the summary of bench/adm-load/adm-load.c (reconnections, events sent vs
# received per client, RSS over time). Run by hand from a built tree; not part of make check.
#
# Usage: bench/adm-load/run.sh [CLIENTS [SECONDS]]      (200, 60)
# The sandboxes' JSON Lines output and logs stay in the directory printed at the end.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
top=${top_builddir:-$(cd "$src/../.." && pwd)}
make -C "$top" -s bench/adm-load/adm-load adm/sandbox/zadm-sandbox >/dev/null
out=$(mktemp -d "${TMPDIR:-/tmp}/adm-load.XXXXXX")
rc=0
"$top/bench/adm-load/adm-load" "$top/adm/sandbox/zadm-sandbox" "$out" "${1:-200}" "${2:-60}" || rc=$?
echo "outputs: $out"
exit $rc
