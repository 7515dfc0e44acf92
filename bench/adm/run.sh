#!/bin/bash
# bench/adm/run.sh: libzadm against zadm-sandbox, side by side with Paho MQTT C against mosquitto,
# all on 127.0.0.1 (run by hand, not part of make check).
#
# Usage: bench/adm/run.sh [EVENTS [CALLS [MASSIF_CLIENTS]]]      (100000, 2000, 10)
# Needs: a built tree (make), and the Debian packages libpaho-mqtt-dev, mosquitto, valgrind.
#
# What is measured, and how the two sides match:
# - events/s, end to end: from the first send to the receipt of the last of EVENTS messages at the
#   far end, with the same application bytes, {"cmd":"EVNT","payload":{"n":i}} for i = 0..EVENTS-1.
#   zadm: zadm-bench calls zadm_device_send_event(dev, "{\"n\":i}") (libzadm writes that object
#     plus '\n'), retrying on ZADM_ERR_QUEUE_FULL (send_queue_max 1024); the far end is
#     zadm-sandbox, which parses each line, prints it as a JSON line (to /dev/null here) and counts
#     it; zadm-bench polls that count (control "list") every millisecond.
#   paho: paho-bench publishes the same bytes as an MQTT QoS 0 PUBLISH on "zadm/bench" to mosquitto
#     (started here on an ephemeral port: no persistence, anonymous), and a second Paho client in a
#     child process (subscribed first) counts the messages it receives. MQTT goes through the broker,
#     so it has one hop more: that is the architecture being compared. Both Paho APIs are run,
#     synchronous MQTTClient and MQTTAsync; the faster is the reference for the ratio.
#   "sent/s" is only informative: zadm counts until the last event is queued, paho sync until the
#   last publish call returned (written to the socket), paho async until the last onSuccess.
# - RPC p50/p99: zadm only (MQTT has no RPC; request/response over MQTT would be two topics and a
#   responder, not a client feature): "call bench echo [1]" on the sandbox control socket, so the
#   round trip includes the control-socket hop (control client -> sandbox -> device -> sandbox ->
#   control client).
# - heap per connected client: (1) mallinfo2 in zadm-bench, before and after 50 more logged-in idle
#   devices; (2) valgrind massif, peak of heap + allocator overhead (thread stacks are not heap), of
#   zadm-bench with 1 device and with 1 + MASSIF_CLIENTS devices: "marginal" is the difference per
#   added client, "peak/clients" the whole peak (library and process baseline included) divided by
#   all clients.
# Targets (issue 6): events/s at least Paho's, RPC p99 under 1 ms, under 64 KiB heap per client.
set -eu
nev=${1:-100000}
ncalls=${2:-2000}
mclients=${3:-10}
src=$(cd "$(dirname "$0")" && pwd)
top=${top_builddir:-$(cd "$src/../.." && pwd)}
bin=$top/bench/adm
tmp=$(mktemp -d)
sb= mq=
cleanup() {
	[ -n "$sb" ] && kill "$sb" 2>/dev/null
	[ -n "$mq" ] && kill "$mq" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

for c in mosquitto valgrind cc; do
	command -v "$c" >/dev/null || { echo "run.sh: $c not found (apt-get install mosquitto valgrind)" >&2; exit 1; }
done
[ -f /usr/include/MQTTClient.h ] || { echo "run.sh: apt-get install libpaho-mqtt-dev" >&2; exit 1; }

# Build: zadm-bench with the tree (make), paho-bench with cc (not part of the autotools build).
[ -f "$top/Makefile" ] && make -s -C "$top" bench/adm/zadm-bench
cc -O2 -Wall -o "$bin/paho-bench" "$src/paho-bench.c" -lpaho-mqtt3c -lpaho-mqtt3a

# zadm-sandbox on a free port.
"$top/adm/sandbox/zadm-sandbox" --port 0 --port-file "$tmp/port" --control "$tmp/ctl" >/dev/null 2>"$tmp/sb.err" &
sb=$!
for _ in $(seq 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { cat "$tmp/sb.err" >&2; exit 1; }
sbport=$(cat "$tmp/port")

# mosquitto on a free port (it cannot bind port 0: take one the kernel hands out, retry if taken).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + RANDOM % 40000))
}
for _ in 1 2 3 4 5; do
	mqport=$(free_port)
	printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n' \
		"$mqport" >"$tmp/mosquitto.conf"
	mosquitto -c "$tmp/mosquitto.conf" 2>"$tmp/mq.err" &
	mq=$!
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$mqport") 2>/dev/null && break
		kill -0 "$mq" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$mq" 2>/dev/null && break
	wait "$mq" 2>/dev/null || true
	mq=
done
[ -n "$mq" ] || { cat "$tmp/mq.err" >&2; exit 1; }

echo "== zadm-bench (libzadm -> zadm-sandbox, port $sbport): $nev events, $ncalls calls"
timeout 300 "$bin/zadm-bench" "$sbport" "$tmp/ctl" "$nev" "$ncalls" | tee "$tmp/zadm.out"
for mode in sync async; do
	echo "== paho-bench $mode (Paho -> mosquitto $(mosquitto -h | sed -n 's/^mosquitto version //p'), port $mqport -> Paho): $nev messages"
	rc=0
	timeout 300 "$bin/paho-bench" "$mqport" "$nev" "$mode" >"$tmp/paho-$mode.out" || rc=$?
	cat "$tmp/paho-$mode.out"
	[ $rc -eq 0 ] || echo "(paho-bench $mode exited $rc)"
done
echo "== massif: zadm-bench with 1 device, then 1 + $mclients devices (logged in, idle)"
for k in 0 "$mclients"; do
	timeout 300 "$top/libtool" --mode=execute valgrind -q --tool=massif --massif-out-file="$tmp/massif.$k" \
		"$bin/zadm-bench" "$sbport" "$tmp/ctl" 0 0 "$k" >/dev/null
done

# One table.
field() { # FILE PREFIX: the number just before "events/s" / "msg/s" on the line starting with PREFIX
	sed -n "s/^$2.* \([0-9.]*\) \(events\|msg\)\/s\$/\1/p" "$1" | head -1
}
peak() { # massif peak of mem_heap_B + mem_heap_extra_B
	awk -F= '/^mem_heap_B=/ { h = $2 } /^mem_heap_extra_B=/ { if (h + $2 > m) m = h + $2 } END { print m + 0 }' "$1"
}
z_ev=$(field "$tmp/zadm.out" events:)
z_sent=$(field "$tmp/zadm.out" sent:)
p50=$(sed -n 's/^rpc: .* p50 \([0-9.]*\) ms.*/\1/p' "$tmp/zadm.out")
p99=$(sed -n 's/^rpc: .* p99 \([0-9.]*\) ms.*/\1/p' "$tmp/zadm.out")
mall=$(sed -n 's/^heap: \([0-9.]*\) KiB.*/\1/p' "$tmp/zadm.out")
ps_ev=$(field "$tmp/paho-sync.out" events:)
pa_ev=$(field "$tmp/paho-async.out" events:)
ps_sent=$(field "$tmp/paho-sync.out" sent:)
pa_sent=$(field "$tmp/paho-async.out" sent:)
ps_got=$(sed -n 's/^events: \([0-9]*\) of.*/\1/p' "$tmp/paho-sync.out")
pa_got=$(sed -n 's/^events: \([0-9]*\) of.*/\1/p' "$tmp/paho-async.out")
m0=$(peak "$tmp/massif.0")
mk=$(peak "$tmp/massif.$mclients")

awk -v n="$nev" -v calls="$ncalls" -v mc="$mclients" -v cpus="$(nproc)" \
	-v zev="${z_ev:-0}" -v zsent="${z_sent:-0}" -v psev="${ps_ev:-0}" -v paev="${pa_ev:-0}" \
	-v pssent="${ps_sent:-0}" -v pasent="${pa_sent:-0}" -v psgot="${ps_got:-0}" -v pagot="${pa_got:-0}" \
	-v p50="${p50:-nan}" -v p99="${p99:-nan}" -v mall="${mall:-nan}" -v m0="$m0" -v mk="$mk" '
function yn(c) { return c ? "yes" : "NO" }
BEGIN {
	best = psev > paev ? psev : paev
	bestname = psev > paev ? "sync" : "async"
	marg = mc > 0 ? (mk - m0) / mc / 1024 : 0
	whole = mk / (mc + 1) / 1024
	printf "\n== bench/adm: %d events, %d RPC calls, 127.0.0.1, %d CPUs\n", n, calls, cpus
	printf "%-40s %22s  %-22s %s\n", "metric", "value", "target", "met"
	printf "%-40s %22.0f  %-22s %s\n", "events/s zadm (end to end)", zev, \
		sprintf(">= paho %.0f", best), yn(zev > 0 && zev >= best)
	printf "%-40s %22.0f  %-22s\n", "events/s paho sync (end to end)", psev, \
		psgot < n ? sprintf("(%d of %d received)", psgot, n) : ""
	printf "%-40s %22.0f  %-22s\n", "events/s paho async (end to end)", paev, \
		pagot < n ? sprintf("(%d of %d received)", pagot, n) : ""
	printf "%-40s %22.2f  %-22s\n", "ratio zadm/paho (paho " bestname ")", (best > 0 ? zev / best : 0), ""
	printf "%-40s %s\n", "sent/s zadm / paho sync / paho async", \
		sprintf("%.0f / %.0f / %.0f (informative)", zsent, pssent, pasent)
	printf "%-40s %19.3f ms  %-22s %s\n", "RPC p50 (zadm; MQTT has no RPC)", p50, "", ""
	printf "%-40s %19.3f ms  %-22s %s\n", "RPC p99 (zadm; MQTT has no RPC)", p99, "< 1 ms", yn(p99 < 1)
	printf "%-40s %18.1f KiB  %-22s %s\n", "heap/client mallinfo2 (50 clients)", mall, "< 64 KiB", yn(mall < 64)
	printf "%-40s %18.1f KiB  %-22s %s\n", sprintf("heap/client massif marginal (%d)", mc), marg, \
		"< 64 KiB", yn(marg < 64)
	printf "%-40s %18.1f KiB  %-22s %s\n", sprintf("heap/client massif peak/%d clients", mc + 1), whole, \
		"< 64 KiB", yn(whole < 64)
	printf "%-40s %s\n", "massif peak, 1 / 1+" mc " clients", sprintf("%.1f / %.1f KiB", m0 / 1024, mk / 1024)
}' | sed 's/ *$//'
