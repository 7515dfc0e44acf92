#!/bin/bash
# tests/adm/tls.sh: zadm-demo against zadm-sandbox over TLS, with certificates made here by certtool:
# verified login by IP and by name, wrong host name, untrusted certificate, plain client refused.
. "$top_srcdir/tests/adm/lib.sh"

command -v certtool >/dev/null || { echo "SKIP: certtool (gnutls-bin) not installed"; exit 77; }

mkcert() { # mkcert NAME CA-NAME TEMPLATE-LINES: key + certificate signed by CA-NAME (self if same)
	local name=$1 ca=$2
	certtool --generate-privkey --key-type=ecdsa --outfile "$TMP/$name.key" >/dev/null 2>&1
	printf '%s\n' "$3" >"$TMP/$name.tmpl"
	if [ "$name" = "$ca" ]; then
		certtool --generate-self-signed --load-privkey "$TMP/$name.key" --template "$TMP/$name.tmpl" \
			--outfile "$TMP/$name.pem" >/dev/null 2>&1
	else
		certtool --generate-certificate --load-privkey "$TMP/$name.key" --load-ca-certificate "$TMP/$ca.pem" \
			--load-ca-privkey "$TMP/$ca.key" --template "$TMP/$name.tmpl" --outfile "$TMP/$name.pem" >/dev/null 2>&1
	fi
}
mkcert ca ca 'cn = "zadm test CA"
ca
cert_signing_key
expiration_days = 2'
mkcert other other 'cn = "some other CA"
ca
cert_signing_key
expiration_days = 2'
mkcert srv ca 'cn = "localhost"
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
signing_key
encryption_key
expiration_days = 2'
[ -s "$TMP/srv.pem" ] && pass "certificates made" || { fail "certtool failed"; finish; }

echo '{"dev1": "tok1"}' >"$TMP/devices.json"
start_sandbox sb --devices "$TMP/devices.json" --tls-cert "$TMP/srv.pem" --tls-key "$TMP/srv.key" || finish

# Verified, by IP address (the certificate's IP SAN).
start_demo ip --uid dev1 --token tok1 --tls-ca "$TMP/ca.pem"
expect_ctl "TLS login by IP address" '{"ok":true}' wait dev1 5
ctl list
case $out in *'"tls":true'*) pass "the session is TLS" ;; *) fail "list: $out" ;; esac
expect_ctl "RPC over TLS" '{"ok":true,"res":["tls"]}' call dev1 echo '["tls"]'
stop_demo
expect_has "logout" "$SB_OUT" '"type":"logout","uid":"dev1"'

# Verified, by host name (also sent as SNI).
"$DEMO" --address localhost --port "$SB_PORT" --uid dev1 --token tok1 --tls-ca "$TMP/ca.pem" \
	--event-interval 0 -v 2>"$TMP/name.err" &
DM_PID=$!
PIDS="$PIDS $DM_PID"
expect_ctl "TLS login by host name" '{"ok":true}' wait dev1 5
stop_demo

logins=$(count "$SB_OUT" '"type":"login"')
# Wrong host name: refused by the device.
start_demo wrongname --uid dev1 --token tok1 --tls-ca "$TMP/ca.pem" --server-name wrong.example
expect_has "wrong host name refused" "$DM_ERR" "TLS: certificate of wrong.example refused"
expect_has "the reason names the host name" "$DM_ERR" "does not match"
stop_demo

# A certificate from a CA the device does not trust.
start_demo badca --uid dev1 --token tok1 --tls-ca "$TMP/other.pem"
expect_has "untrusted certificate refused" "$DM_ERR" "TLS: certificate of 127.0.0.1 refused"
expect_has "the reason says not trusted" "$DM_ERR" "NOT trusted"
stop_demo

# A plain client never logs in to a TLS server.
start_demo plain --uid dev1 --token tok1
sleep 1
stop_demo
[ "$(count "$SB_OUT" '"type":"login"')" = "$logins" ] && pass "no login from refused or plain clients" ||
	fail "a refused client logged in: $(cat "$SB_OUT")"
if has "$DM_ERR" "logged in as"; then fail "plain client logged in"; else pass "plain client not logged in"; fi

# --insecure skips verification (tests only): logs in despite the untrusted CA, with a warning.
start_demo insecure --uid dev1 --token tok1 --insecure
expect_ctl "insecure login" '{"ok":true}' wait dev1 5
expect_has "insecure warns" "$DM_ERR" "certificate verification is off"
stop_demo

# The token never appears in logs, even with ZADM_DEBUG.
ZADM_DEBUG=1 "$DEMO" --address 127.0.0.1 --port "$SB_PORT" --uid dev1 --token tok1 --tls-ca "$TMP/ca.pem" \
	--event-interval 0 --run-for 2 2>"$TMP/debug.err"
has "$TMP/debug.err" "logged in as dev1" && pass "debug run logged in" || fail "debug run: $(cat "$TMP/debug.err")"
if grep -q tok1 "$TMP/debug.err"; then fail "the token was logged"; else pass "the token is not logged"; fi

# A missing CA file is a clear start-up error.
"$DEMO" --address 127.0.0.1 --port "$SB_PORT" --uid dev1 --token tok1 --tls-ca "$TMP/nope.pem" 2>"$TMP/noca.err"
r=$?
[ $r = 1 ] && has "$TMP/noca.err" "no CA certificate loaded from $TMP/nope.pem" && pass "missing CA file reported" ||
	fail "missing CA: exit $r, $(cat "$TMP/noca.err")"

ctl quit
finish
