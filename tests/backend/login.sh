# login.sh: ztc login: the token from --token or stdin, credentials.json (mode 0600), bad tokens.
. "$top_srcdir/tests/backend/lib.sh"
set -e
CRED="$ZTC_HOME/credentials.json"
cred_token() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted(d), d["token"])' "$CRED"; }

ztc_run login --token "$TOKEN"
expect_rc 0 "login --token"
expect_out "token saved" "login --token says so"
[ "$(stat -c %a "$CRED")" = 600 ] && pass "credentials.json has mode 0600" || fail "mode $(stat -c %a "$CRED")"
[ "$(stat -c %a "$ZTC_HOME")" = 700 ] && pass "ZTC_HOME created 0700" || fail "ZTC_HOME mode $(stat -c %a "$ZTC_HOME")"
[ "$(cred_token)" = "['token'] $TOKEN" ] && pass "credentials.json is {\"token\": ...}" || fail "content: $(cat "$CRED")"
no_token_in_output "login --token"

# From stdin: the first line, without surrounding white space; the rest is ignored.
capture "$ZTC" login < <(printf '  other-Token.42 \t\nsecond line\n')
expect_rc 0 "login from stdin"
[ "$(cred_token)" = "['token'] other-Token.42" ] && pass "stdin token trimmed, first line only" || fail "stdin: $(cat "$CRED")"
[ "$(stat -c %a "$CRED")" = 600 ] && pass "replaced credentials.json keeps mode 0600" || fail "mode after replace"
ls -a "$ZTC_HOME" | grep -q 'credentials.json\.' && fail "temporary file left: $(ls -a "$ZTC_HOME")" ||
	pass "no temporary file left"
ztc_run -q -J login --token "$TOKEN"
expect_rc 0 "login -q -J"
expect_out '{"saved":true}' "login -J prints its result, -q nothing on stderr"
[ -z "$err" ] && pass "login -q -J: stderr empty" || fail "login -q -J: stderr [$err]"

# On a terminal: a prompt on stderr, and the token typed is not echoed.
python3 - "$ZTC" "$TMP/tty.out" <<'PY'
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "login"])
seen = b""
deadline = time.time() + 10
while b"Token: " not in seen and time.time() < deadline:
    seen += os.read(fd, 1024)
os.write(fd, b"tty-Token-77\n")
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
open(sys.argv[2], "wb").write(seen + b"\nexit %d\n" % os.waitstatus_to_exitcode(status))
PY
grep -q '^Token: ' "$TMP/tty.out" && pass "terminal: prompt" || fail "terminal: no prompt: $(cat "$TMP/tty.out")"
grep -q 'tty-Token-77' "$TMP/tty.out" && fail "terminal: the token was echoed" || pass "terminal: the token is not echoed"
grep -q '^exit 0' "$TMP/tty.out" && [ "$(cred_token)" = "['token'] tty-Token-77" ] && pass "terminal: token saved" ||
	fail "terminal: $(cat "$TMP/tty.out") $(cat "$CRED")"
ztc_run login --token "$TOKEN"

# Bad tokens: usage errors, exit 2, the saved token untouched.
cp "$CRED" "$TMP/cred.before"
kept() { cmp -s "$CRED" "$TMP/cred.before" && pass "$1: credentials.json unchanged" || fail "$1: credentials.json changed"; }
# login_stdin FORMAT: ztc login with printf FORMAT on its stdin (a pipe); sets out, err, rc.
login_stdin() { capture "$ZTC" login < <(printf "$1"); }
ztc_run login --token ""
expect_rc 2 "empty --token"
[ "$err" = "ztc: empty token
Usage: ztc login [--token TOKEN]" ] && pass "empty --token: exact message" || fail "empty --token: $err"
kept "empty --token"
login_stdin ''
expect_rc 2 "empty stdin"; expect_err "ztc: empty token" "empty stdin"; kept "empty stdin"
login_stdin '   \n'
expect_rc 2 "blank first line"; expect_err "ztc: empty token" "blank first line"; kept "blank first line"
login_stdin '\nsecond\n'
expect_rc 2 "empty first line"; kept "empty first line"
ztc_run login --token "two words"
expect_rc 2 "token with a space"
expect_err "ztc: the token holds spaces or control characters" "token with a space"; kept "token with a space"
ztc_run login --token "$(printf 'abc\rdef')"
expect_rc 2 "token with a control character"; kept "token with a control character"
ztc_run login --token
expect_rc 2 "--token without a value"; expect_err "option '--token' needs a value" "--token without a value"
ztc_run login extra
expect_rc 2 "extra argument"; expect_err "unexpected argument 'extra'" "extra argument"; kept "extra argument"

# An unwritable ZTC_HOME: exit 1, one line.
if [ "$(id -u)" != 0 ]; then
	mkdir -p "$TMP/ro" && chmod 500 "$TMP/ro"
	ZTC_HOME="$TMP/ro/home" ztc_run login --token "$TOKEN"
	expect_rc 1 "unwritable ZTC_HOME"; expect_err "cannot create $TMP/ro/home" "unwritable ZTC_HOME"; expect_one_line "unwritable ZTC_HOME"
else
	# root ignores permissions: a file where the directory should be does the same.
	: >"$TMP/notadir"
	ZTC_HOME="$TMP/notadir/home" ztc_run login --token "$TOKEN"
	expect_rc 1 "ZTC_HOME under a file"; expect_err "ztc: cannot create $TMP/notadir/home: Not a directory" "ZTC_HOME under a file"
	expect_one_line "ZTC_HOME under a file"
fi

# The saved token is what the backend client sends; ZTC_TOKEN overrides it.
start_backend
write_devices
ztc_run login --token "$TOKEN"
"$CALL" list 0 >"$TMP/list.out" 2>"$TMP/list.err" && pass "the saved token is accepted" || fail "saved token: $(cat "$TMP/list.err")"
[ "$(req -1 header:Authorization)" = "Bearer $TOKEN" ] && pass "Authorization: Bearer <saved token>" || fail "auth header: $(req -1 header:Authorization)"
ZTC_TOKEN=env-Token-999 "$CALL" list 0 >/dev/null 2>&1 || true
[ "$(req -1 header:Authorization)" = "Bearer env-Token-999" ] && pass "ZTC_TOKEN overrides credentials.json" || fail "ZTC_TOKEN: $(req -1 header:Authorization)"

# Not logged in / broken credentials: one line, before any request.
rm -f "$CRED"
reset_requests
ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "vm create, not logged in"
[ "$err" = "ztc: not logged in: run 'ztc login'" ] && pass "not logged in: exact line" || fail "not logged in: $err"
[ "$(nrequests)" = 0 ] && pass "not logged in: no request sent" || fail "not logged in: $(nrequests) requests"
printf '{"token": ' >"$CRED"
ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "corrupt credentials.json"; expect_err "credentials.json is corrupt (" "corrupt credentials.json"
expect_err "run 'ztc login' to replace it" "corrupt credentials.json"; expect_one_line "corrupt credentials.json"
printf '{"token": 5}' >"$CRED"
ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "credentials.json without a token string"; expect_err "credentials.json is corrupt (no \"token\" string)" "no token string"
ZTC_TOKEN="bad token" ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "ZTC_TOKEN with a space"; expect_err "ztc: the token in ZTC_TOKEN holds spaces or control characters" "ZTC_TOKEN with a space"
[ "$(nrequests)" = 0 ] && pass "bad credentials: no request sent" || fail "bad credentials: $(nrequests) requests"
finish
