# faults.sh: backend failures: down, timeouts and retries, HTTP errors, bad replies; the token stays secret.
. "$top_srcdir/tests/backend/lib.sh"
set -e
start_backend
write_devices
"$ZTC" login --token "$TOKEN" >/dev/null
URL=$ZTC_BACKEND_URL

snapshot before
# fault WHAT RC EXPECTED-LINE [REQUESTS]: run `vm create` and check the exact line, the exit status,
# that nothing was written, that the token was not shown, and how many requests the server saw.
fault() {
	reset_requests
	ztc_run vm create due r2.0.10 chibi2 --feat nfc
	expect_rc "$2" "$1"
	[ "$err" = "$3" ] && pass "$1: exact error line" || fail "$1: stderr [$err], expected [$3]"
	expect_out "" "$1: nothing on stdout"
	unchanged_since before "$1"
	no_token_in_output "$1"
	if [ -n "${4:-}" ]; then
		[ "$(nrequests)" = "$4" ] && pass "$1: $4 request(s)" || fail "$1: $(nrequests) requests, expected $4"
	fi
}

# Not retried: the backend answered.
scenario "POST /vms http 500"
fault "HTTP 500 with an HTML page" 1 "ztc: backend refused the VM creation: HTTP 500 (POST $URL/vms)" 1
scenario "POST /vms http 500 database unavailable"
fault "HTTP 500 with a message" 1 "ztc: backend refused the VM creation: database unavailable (HTTP 500)" 1
scenario "POST /vms http 503"
fault "HTTP 503" 1 "ztc: backend refused the VM creation: HTTP 503 (POST $URL/vms)" 1
scenario "POST /vms nonjson"
fault "non-JSON reply" 1 "ztc: the backend's reply to the VM creation is not a JSON object (HTTP 200, POST $URL/vms)" 1
scenario "POST /vms fail Feature nfc is not available for arduino_due"
fault "status fail with a message" 1 "ztc: backend refused the VM creation: Feature nfc is not available for arduino_due" 1
scenario "POST /vms nodata"
fault "no data field" 1 "ztc: the backend's reply to the VM creation has no \"data\"" 1
scenario "POST /vms nouid"
fault "no data.uid" 1 "ztc: the backend's reply to the VM creation has no \"data.uid\"" 1
scenario
ZTC_TOKEN=wrong-Token fault "wrong token (HTTP 401)" 1 "ztc: backend refused the VM creation: Unauthorized: invalid token (HTTP 401)" 1
# The backend does not know the remote id (a device registered elsewhere): its 404 message.
reset_requests
ztc_run vm create custom r2.0.10 chibi2 --name "custom vm"
expect_rc 1 "unknown remote id"
[ "$err" = "ztc: backend refused the VM creation: device dev-3 not found (HTTP 404)" ] && pass "unknown remote id: exact line" || fail "unknown remote id: $err"
# A message over several lines is shown on one, and one that echoes the token does not show it.
python3 -c 'import sys; open(sys.argv[1], "w").write("# multi\nPOST /vms fail first line\rsecond\tthird\x0bfourth\n")' "$SRV/control"
fault "message with control characters" 1 "ztc: backend refused the VM creation: first line second third fourth" 1
long=$(printf 'x%.0s' $(seq 400))
scenario "POST /vms fail $long"
fault "a very long message" 1 "ztc: backend refused the VM creation: $(printf 'x%.0s' $(seq 300))..." 1
scenario "POST /vms echo"
fault "message echoing the token" 1 "ztc: backend refused the VM creation: you sent: Bearer <token>" 1

# A reply nested 300,000 deep (a valid object otherwise): one line, never SIGSEGV, also as an HTTP 500
# body and in the VM download.
scenario "POST /vms deep 500"
fault "HTTP 500 body nested 300,000 deep" 1 "ztc: backend refused the VM creation: HTTP 500 (POST $URL/vms)" 1
scenario "POST /vms deep 200"
fault "reply nested 300,000 deep" 1 "ztc: the backend's reply to the VM creation is not a JSON object (HTTP 200, POST $URL/vms)" 1
scenario "POST /vms vmuid deepvm" "GET /vms/ deep 200"
fault "VM download nested 300,000 deep" 1 "ztc: VM deepvm was created but not stored: the backend's reply to the VM download is not a JSON object (HTTP 200, GET $URL/vms/deepvm)" 2

# Connection refused: a closed port, 3 attempts.
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ZTC_BACKEND_URL="http://127.0.0.1:$closed/v1" ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "server down"
case "$err" in
"ztc: cannot reach the backend at http://127.0.0.1:$closed/v1 for the VM creation: "*"Couldn't connect to server (3 attempts)")
	pass "server down: exact error line" ;;
*) fail "server down: $err" ;;
esac
expect_one_line "server down"; unchanged_since before "server down"

# Timeouts: each attempt waits twice as long; after three, one line; the server saw three requests.
export ZTC_BACKEND_TIMEOUT_MS=300
scenario "POST /vms slow 4"
start=$(date +%s%N)
fault "timeout after 3 attempts" 1 "ztc: no answer from the backend at $URL to the VM creation after 3 attempts (timeouts 300, 600 and 1200 ms)" 3
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -ge 2000 ] && [ "$ms" -lt 4000 ] && pass "three attempts took $ms ms (300 + 600 + 1200)" || fail "timeouts took $ms ms"
# A timeout, then an answer: the retry succeeds.
scenario "POST /vms 1*slow 4"
reset_requests
ztc_run vm create due r2.0.10 chibi2
expect_rc 0 "one timeout, then success"
[ "$(nrequests)" = 3 ] && [ "$(req 1 line)" = "POST /v1/vms" ] && [ "$(req 2 line)" = "POST /v1/vms" ] &&
	pass "POST retried once after a timeout, then GET" || fail "retry after timeout: $(nrequests) requests"
# Connections closed without a reply are retried too.
scenario "GET /vms/ 2*close"
reset_requests
ztc_run vm create due r2.0.10 chibi2
expect_rc 0 "two dropped connections, then success"
[ "$(nrequests)" = 4 ] && pass "GET sent three times" || fail "dropped connections: $(nrequests) requests"
unset ZTC_BACKEND_TIMEOUT_MS
scenario

# The token never appears, even in debug output; the debug output names method, URL and status.
snapshot before
for dbg in "-vv" "ZTC_DEBUG"; do
	for sc in "" "POST /vms fail nope" "POST /vms http 500" "GET /vms/ nonjson" "POST /vms echo"; do
		scenario "$sc"
		if [ "$dbg" = -vv ]; then
			ztc_run -vv vm create due r2.0.10 chibi2
		else
			ZTC_DEBUG=1 ztc_run vm create due r2.0.10 chibi2
		fi
		no_token_in_output "$dbg, scenario '${sc:-ok}'"
	done
done
ZTC_DEBUG=1 ztc_run -vv login --token "$TOKEN"
no_token_in_output "login with debug output"
scenario
ztc_run -vv vm create due r2.0.10 chibi2
expect_err "ztc: debug: POST $URL/vms: HTTP 200" "debug output names method, URL and status"
case "$err" in *Authorization*|*Bearer*) fail "debug output shows the Authorization header" ;; *) pass "debug output shows no header" ;; esac

# Settings from the environment.
ZTC_BACKEND_URL="ftp://127.0.0.1/v1" ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "non-HTTP URL"; [ "$err" = "ztc: ZTC_BACKEND_URL must be an http:// or https:// URL, not 'ftp://127.0.0.1/v1'" ] && pass "non-HTTP URL: exact line" || fail "non-HTTP URL: $err"
ZTC_BACKEND_TIMEOUT_MS=soon ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "bad ZTC_BACKEND_TIMEOUT_MS"; expect_err "ztc: ZTC_BACKEND_TIMEOUT_MS must be a number of milliseconds from 1 to 3600000, not 'soon'" "bad ZTC_BACKEND_TIMEOUT_MS"
reset_requests
ZTC_BACKEND_URL="$URL/" ztc_run vm create due r2.0.10 chibi2
expect_rc 0 "base URL with a trailing '/'"; [ "$(req 1 line)" = "POST /v1/vms" ] && pass "trailing '/' dropped" || fail "trailing '/': $(req 1 line)"
finish
