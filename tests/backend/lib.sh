# tests/backend/lib.sh: helpers of the backend tests: start the local test backend, read what it received.
. "$top_srcdir/tests/lib.sh"
SERVER="$top_srcdir/tests/backend/backend-server.py"
CALL="$top_builddir/tests/backend/backend-call"
TOKEN=tok.ZtcTest-0123456789abcdef
# The device the vm tests use: registered (chip id and remote id), known to the server as dev-1.
CHIP=C0FFEE1234
REMOTE=dev-1
server_pids=""
nservers=0
trap 'for p in $server_pids; do kill "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
unset ZTC_BACKEND_URL ZTC_BACKEND_CAFILE ZTC_BACKEND_TIMEOUT_MS

# start_backend [SERVER-OPTIONS...]: start backend-server.py on 127.0.0.1; sets SRV (its folder:
# requests.jsonl, control, dump/), SRV_PID, PORT, and exports ZTC_BACKEND_URL for plain HTTP.
start_backend() {
	nservers=$((nservers + 1))
	SRV="$TMP/server$nservers"
	mkdir -p "$SRV/dump"
	: >"$SRV/requests.jsonl"
	: >"$SRV/control"
	python3 "$SERVER" --port-file "$SRV/port" --log "$SRV/requests.jsonl" --control "$SRV/control" \
		--dump "$SRV/dump" --token "$TOKEN" --device "$REMOTE,arduino_due,$CHIP" --max-time 300 "$@" \
		2>"$SRV/stderr" &
	SRV_PID=$!
	server_pids="$server_pids $SRV_PID"
	for _ in $(seq 100); do [ -s "$SRV/port" ] && break; sleep 0.1; done
	[ -s "$SRV/port" ] || { echo "the test backend did not start: $(cat "$SRV/stderr")" >&2; exit 99; }
	PORT=$(cat "$SRV/port")
	export ZTC_BACKEND_URL="http://127.0.0.1:$PORT/v1"
}

# scenario LINE...: what the server does next (see backend-server.py); no argument: normal replies.
# Each call writes a new file (a serial number in a comment), so "N*" counts start again.
nscenario=0
scenario() {
	nscenario=$((nscenario + 1))
	{ echo "# $nscenario"; printf '%s\n' "$@"; } >"$SRV/control"
}
# Forget the requests received so far.
reset_requests() { : >"$SRV/requests.jsonl"; }
nrequests() { wc -l <"$SRV/requests.jsonl" | tr -d ' '; }

# req N WHAT: a part of the Nth request received (1-based; -1 the last): "line" (METHOD PATH),
# "header:NAME", "json" (the body, re-encoded with sorted keys), "body" (as received).
req() {
	python3 - "$SRV/requests.jsonl" "$1" "$2" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
n = int(sys.argv[2])
r = reqs[n - 1 if n > 0 else n]
what = sys.argv[3]
if what == "line":
    print(r["method"], r["path"])
elif what.startswith("header:"):
    print(r["headers"].get(what[7:], "<absent>"))
elif what == "json":
    print(json.dumps(r["json"], sort_keys=True, ensure_ascii=False))
else:
    print(r["body"])
PY
}

# A known-device store: `due` registered (the server knows it as dev-1); `dup` and `nochip` not
# registered (`du` is ambiguous); `custom` registered, with a target missing from the database.
write_devices() {
	mkdir -p "$ZTC_HOME"
	cat >"$ZTC_HOME/devices.json" <<JSON
{"devices":[
 {"alias":"due","uid":"df78e45849d9f7d1c9b29def5b9ffb7bf0b74429","name":null,"target":"arduino_due","chipid":"$CHIP","remote_id":"$REMOTE","classname":"ArduinoDue"},
 {"alias":"dup","uid":"0000000000000000000000000000000000000001","name":null,"target":"arduino_due","chipid":null,"remote_id":null,"classname":"ArduinoDue"},
 {"alias":"nochip","uid":"0000000000000000000000000000000000000002","name":null,"target":"arduino_due","chipid":null,"remote_id":"dev-2","classname":"ArduinoDue"},
 {"alias":"custom","uid":"0000000000000000000000000000000000000003","name":null,"target":"vendor_board","chipid":"ABCDEF0123","remote_id":"dev-3","classname":"Vendor"}
]}
JSON
}

# A listing of every file under ZTC_HOME with its content's checksum, to show nothing was written.
snapshot() { (cd "$ZTC_HOME" 2>/dev/null && find . -type f -print0 | sort -z | xargs -0r sha1sum) >"$TMP/snap.$1"; }
unchanged_since() {
	snapshot now
	cmp -s "$TMP/snap.$1" "$TMP/snap.now" && pass "$2: nothing written" ||
		fail "$2: ZTC_HOME changed: $(diff "$TMP/snap.$1" "$TMP/snap.now")"
}

# no_token_in_output WHAT: neither stdout nor stderr of the last run holds the token.
no_token_in_output() {
	case "$out$err" in
	*"$TOKEN"*) fail "$1: the token appears in the output: $out $err" ;;
	*) pass "$1: the token appears nowhere in the output" ;;
	esac
}
