# tls.sh: HTTPS to the test backend: a private CA is refused by default, trusted with ZTC_BACKEND_CAFILE;
# the host name is checked. Certificates are made here with certtool (gnutls-bin).
. "$top_srcdir/tests/backend/lib.sh"
set -e
command -v certtool >/dev/null || { echo "certtool not found: install gnutls-bin" >&2; exit 77; }
PKI="$TMP/pki"
mkdir -p "$PKI"
cat >"$PKI/ca.tmpl" <<'EOF'
cn = "ztc test CA"
ca
cert_signing_key
expiration_days = 2
EOF
cat >"$PKI/server.tmpl" <<'EOF'
cn = "127.0.0.1"
dns_name = "localhost"
ip_address = "127.0.0.1"
tls_www_server
encryption_key
signing_key
expiration_days = 2
EOF
cat >"$PKI/other.tmpl" <<'EOF'
cn = "backend.example.org"
dns_name = "backend.example.org"
tls_www_server
encryption_key
signing_key
expiration_days = 2
EOF
certtool --generate-privkey --key-type ecdsa --outfile "$PKI/ca.key" 2>/dev/null
certtool --generate-self-signed --load-privkey "$PKI/ca.key" --template "$PKI/ca.tmpl" --outfile "$PKI/ca.pem" 2>/dev/null
for c in server other; do
	certtool --generate-privkey --key-type ecdsa --outfile "$PKI/$c.key" 2>/dev/null
	certtool --generate-certificate --load-privkey "$PKI/$c.key" --load-ca-certificate "$PKI/ca.pem" \
		--load-ca-privkey "$PKI/ca.key" --template "$PKI/$c.tmpl" --outfile "$PKI/$c.pem" 2>/dev/null
done
write_devices
"$ZTC" login --token "$TOKEN" >/dev/null
snapshot before

start_backend --tls "$PKI/server.pem" "$PKI/server.key"
URL="https://127.0.0.1:$PORT/v1"
export ZTC_BACKEND_URL=$URL

# Not trusted by default: one line saying so and what to do; no request reached the server.
ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "private CA, not trusted"
case "$err" in
"ztc: cannot verify the TLS certificate of the backend at $URL: "*" (ZTC_BACKEND_CAFILE can name a CA to trust)")
	pass "private CA: exact error line: $err" ;;
*) fail "private CA: $err" ;;
esac
expect_one_line "private CA"; unchanged_since before "private CA"; no_token_in_output "private CA"
[ "$(nrequests)" = 0 ] && pass "private CA: no request reached the server" || fail "private CA: $(nrequests) requests"

# Trusted with ZTC_BACKEND_CAFILE: the whole flow works, with the same headers.
ZTC_BACKEND_CAFILE="$PKI/ca.pem" ztc_run vm create due r2.0.10 chibi2 --feat nfc
expect_rc 0 "ZTC_BACKEND_CAFILE names the CA"
uid=$out
[ "$(req 1 header:Authorization)" = "Bearer $TOKEN" ] && [ "$(req 2 line)" = "GET /v1/vms/$uid" ] &&
	pass "HTTPS: create and download with the token" || fail "HTTPS requests: $(req 1 line), $(req 2 line)"
f=$(find "$ZTC_HOME/vms" -name "${uid}_*.vm")
[ -n "$f" ] && cmp -s "$f" "$SRV/dump/$uid.data" && pass "HTTPS: VM stored as sent" || fail "HTTPS: VM not stored: $f"
ZTC_BACKEND_URL="https://localhost:$PORT/v1" ZTC_BACKEND_CAFILE="$PKI/ca.pem" ztc_run vm create due r2.0.10 chibi2
expect_rc 0 "HTTPS by the host name localhost"

snapshot before
ZTC_BACKEND_CAFILE="$TMP/no-such-ca.pem" ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "missing CA file"
[ "$err" = "ztc: cannot read ZTC_BACKEND_CAFILE $TMP/no-such-ca.pem: No such file or directory" ] &&
	pass "missing CA file: exact line" || fail "missing CA file: $err"
unchanged_since before "missing CA file"

# A certificate from the trusted CA, but for another host: refused (host name verification).
start_backend --tls "$PKI/other.pem" "$PKI/other.key"
URL="https://127.0.0.1:$PORT/v1"
ZTC_BACKEND_URL=$URL ZTC_BACKEND_CAFILE="$PKI/ca.pem" ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "certificate for another host"
case "$err" in
"ztc: cannot verify the TLS certificate of the backend at $URL: "*) pass "another host: refused with the TLS line: $err" ;;
*) fail "another host: $err" ;;
esac
expect_one_line "another host"; unchanged_since before "another host"
[ "$(nrequests)" = 0 ] && pass "another host: no request reached the server" || fail "another host: $(nrequests) requests"

# Plain HTTP spoken to an HTTPS URL's port fails cleanly too.
start_backend
ZTC_BACKEND_URL="https://127.0.0.1:$PORT/v1" ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "HTTPS URL, plain HTTP server"
case "$err" in
"ztc: TLS with the backend at https://127.0.0.1:$PORT/v1 failed: "*) pass "HTTPS URL, plain HTTP server: $err" ;;
*) fail "HTTPS URL, plain HTTP server: $err" ;;
esac
expect_one_line "HTTPS URL, plain HTTP server"
unchanged_since before "HTTPS URL, plain HTTP server"
finish
