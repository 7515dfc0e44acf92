#!/bin/bash
# bench/adm/run.sh: run zadm-bench against a fresh zadm-sandbox on 127.0.0.1 (not part of make check).
set -eu
top=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'kill $sb 2>/dev/null; rm -rf "$tmp"' EXIT
"$top/adm/sandbox/zadm-sandbox" --port 0 --port-file "$tmp/port" --control "$tmp/ctl" >/dev/null 2>"$tmp/err" &
sb=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
"$top/bench/adm/zadm-bench" "$(cat "$tmp/port")" "$tmp/ctl" "${1:-100000}" "${2:-2000}"
