# hardening.sh: bad input and faults of ztc and libztc (docs/hardening.md): JSON nested too deep, store
# files that are FIFOs or folders or break the store's invariants, a device.json class naming a path, the
# token kept out of core dumps and /proc/PID/cmdline, another user's ZTC_HOME. No device, no network.
. "$top_srcdir/tests/lib.sh"
set -e
STORE="$ZTC_HOME/devices.json"
CRED="$ZTC_HOME/credentials.json"
PROBE="$top_builddir/tests/tools/.libs/secret-probe.so"
DIRECT="$top_builddir/tests/tools/ztc-direct"
TOKEN=tok.Hardening-0123456789abcdef
unset ZTC_BACKEND_URL ZTC_BACKEND_CAFILE ZTC_BACKEND_TIMEOUT_MS
# Nothing listens there: backend calls fail fast (they are not what these tests are about).
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export ZTC_BACKEND_URL="http://127.0.0.1:$closed/v1"
mkdir -p "$ZTC_HOME"

# deep PREFIX SUFFIX [N]: PREFIX, "[" x N, "]" x N, SUFFIX (N: 300,000).
deep() { python3 -c 'import sys; n = int(sys.argv[3]); sys.stdout.write(sys.argv[1] + "[" * n + "]" * n + sys.argv[2])' \
	"$1" "$2" "${3:-300000}"; }
# Every file under ZTC_HOME with its type and checksum, to show that nothing was written. An empty
# devices.json.lock does not count: every store update creates it before it reads the store.
snapshot() {
	(cd "$ZTC_HOME" && find . -print0 | sort -z | while IFS= read -r -d '' f; do
		if [ "$f" = ./devices.json.lock ] && [ -f "$f" ] && [ ! -s "$f" ]; then continue; fi
		if [ -f "$f" ]; then echo "$f $(sha1sum <"$f" | cut -c1-40)"; else echo "$f $(stat -c %F "$f")"; fi
	done) >"$TMP/snap.$1"
}
unchanged_since() {
	snapshot now
	cmp -s "$TMP/snap.$1" "$TMP/snap.now" && pass "$2: nothing written" ||
		fail "$2: ZTC_HOME changed: $(diff "$TMP/snap.$1" "$TMP/snap.now")"
}
# bad WHAT RC EXPECTED-LINE: the last run failed with exactly this one line and wrote nothing.
bad() {
	expect_rc "$2" "$1"
	[ "$err" = "$3" ] && pass "$1: exact error line" || fail "$1: stderr [$err], expected [$3]"
	expect_out "" "$1: nothing on stdout"
	unchanged_since before "$1"
}
# A registered device (so `vm create` gets as far as the backend) in a valid store.
good_store() {
	cat >"$STORE" <<'JSON'
{"devices":[
 {"alias":"due","uid":"df78e45849d9f7d1c9b29def5b9ffb7bf0b74429","name":null,"target":"arduino_due","chipid":"C0FFEE1234","remote_id":"dev-1","classname":"ArduinoDue"}
]}
JSON
}

# ---- JSON nested too deep: one line, never SIGSEGV -----------------------------------------------------
deep '' '' >"$STORE"
snapshot before
ztc_run device alias del due
bad "devices.json nested 300,000 deep" 1 \
	"ztc: $STORE is corrupt (invalid JSON: nested deeper than 64 levels); it was left untouched: fix or remove it"
deep '{"devices": ' '}' >"$STORE"
snapshot before
ztc_run vm create due r2.0.10 chibi2
bad "devices.json with a list 300,000 deep" 1 \
	"ztc: $STORE is corrupt (invalid JSON: nested deeper than 64 levels); it was left untouched: fix or remove it"

good_store
# credentials.json is at most 64 KiB: 32,000 levels.
deep '{"token": ' '}' 32000 >"$CRED"
snapshot before
ztc_run vm create due r2.0.10 chibi2
bad "credentials.json nested 32,000 deep" 1 \
	"ztc: $CRED is corrupt (nested deeper than 64 levels): run 'ztc login' to replace it"
rm -f "$CRED"

# A board folder whose device.json is too deep is skipped with the usual warning; the others still work.
mkdir -p "$TMP/db/deep_board"
deep '{"name": "Deep", "target": "deep_board", "type": "board", "x": ' '}' >"$TMP/db/deep_board/device.json"
ZTC_DB_PATH="$TMP/db:$top_srcdir/db" ztc_run -J device supported
expect_rc 0 "device.json nested 300,000 deep"
[ "$err" = "ztc: warning: $TMP/db/deep_board/device.json: invalid JSON: nested deeper than 64 levels; board skipped" ] &&
	pass "device.json too deep: one warning naming the file" || fail "device.json too deep: stderr [$err]"
printf '%s\n' "$out" | "$JSONL" get target | grep -qx arduino_due && pass "device.json too deep: other boards listed" ||
	fail "device.json too deep: arduino_due missing from [$out]"

# ---- store files that are no regular files: refused at once, never waited on -------------------------
for f in devices.json credentials.json; do
	for kind in fifo folder; do
		rm -rf "$STORE" "$CRED"
		good_store
		rm -f "$ZTC_HOME/$f"
		if [ $kind = fifo ]; then mkfifo "$ZTC_HOME/$f"; else mkdir "$ZTC_HOME/$f"; fi
		case $f in
		devices.json) what="alias del"; cmd="device alias del due"
			line="ztc: $STORE is not a regular file; it was left untouched: move it away" ;;
		credentials.json) what="vm create"; cmd="vm create due r2.0.10 chibi2"
			line="ztc: $CRED is not a regular file: move it away and run 'ztc login'" ;;
		esac
		snapshot before
		# shellcheck disable=SC2086
		capture timeout 20 "$ZTC" $cmd
		[ "$rc" != 124 ] && pass "$f as a $kind: $what does not hang" || fail "$f as a $kind: $what hung (killed after 20 s)"
		bad "$f as a $kind: $what" 1 "$line"
	done
done
rm -rf "$STORE" "$CRED"
# A board folder whose device.json is a FIFO: skipped with a warning, the database still loads.
mkdir -p "$TMP/fifodb/fifo_board"
mkfifo "$TMP/fifodb/fifo_board/device.json"
ZTC_DB_PATH="$TMP/fifodb:$top_srcdir/db" capture timeout 20 "$ZTC" -J device supported
expect_rc 0 "device.json as a fifo"
[ "$err" = "ztc: warning: $TMP/fifodb/fifo_board/device.json: cannot read it: not a regular file; board skipped" ] &&
	pass "device.json as a fifo: one warning naming the file" || fail "device.json as a fifo: stderr [$err]"
printf '%s\n' "$out" | "$JSONL" get target | grep -qx arduino_due && pass "device.json as a fifo: other boards listed" ||
	fail "device.json as a fifo: arduino_due missing"
# The store lock too: a FIFO planted there neither hangs a writer nor is written to.
good_store
rm -f "$STORE.lock"
mkfifo "$STORE.lock"
snapshot before
capture timeout 20 "$ZTC" device alias del due
bad "devices.json.lock as a fifo" 1 "ztc: $STORE.lock is not a regular file; it was left untouched: move it away"
rm -f "$STORE.lock"

# ---- store invariants: a store breaking them is refused whole, and never rewritten --------------------
UID1=df78e45849d9f7d1c9b29def5b9ffb7bf0b74429
UID2=d624c9720450f7f869baf78cba59805c20ea5aaf
corrupt() { # WHAT WHY: alias del and vm create refuse the store, byte for byte untouched
	snapshot before
	ztc_run device alias del a
	bad "$1: alias del" 1 "ztc: $STORE is corrupt ($2); it was left untouched: fix or remove it"
	ztc_run vm create a r2.0.10 chibi2
	bad "$1: vm create" 1 "ztc: $STORE is corrupt ($2); it was left untouched: fix or remove it"
}
# two_entries ALIAS1 UID1 ALIAS2 UID2: a store of two Due entries, nothing else set.
two_entries() {
	cat >"$STORE" <<JSON
{"devices":[
 {"alias":"$1","uid":"$2","name":null,"target":"arduino_due","chipid":null,"remote_id":null,"classname":null},
 {"alias":"$3","uid":"$4","name":null,"target":"arduino_due","chipid":null,"remote_id":null,"classname":null}
]}
JSON
}
two_entries a "$UID1" a "$UID2"
corrupt "one alias twice" "alias 'a' is used by two entries, devices $UID1 and $UID2"
two_entries a "$UID1" b "$UID1"
corrupt "one uid twice" "device $UID1 is listed twice, as 'a' and 'b'"
rules="non-empty, no spaces or control characters, not starting with '-'"
for alias in 'my due' '-a' 'tab\there' 'new\nline'; do
	shown=$(printf '%s' "$alias" | sed 's/\\[tn]/?/')
	printf '{"devices":[{"alias":"%s","uid":"%s","target":"arduino_due"}]}\n' "$alias" "$UID1" >"$STORE"
	corrupt "alias '$alias'" "the alias '$shown' of device $UID1 breaks the alias rules ($rules)"
done
rm -f "$STORE"

# ---- a device.json class naming a path is refused when the database loads; nothing is dlopened -------
# A module outside every plugin dir, with a constructor that leaves a marker when it is loaded. Its
# folder has no '.' in its name: a class has exactly one, between module and class.
EVIL=$(mktemp -d /tmp/ztcevilXXXXXX)
trap 'rm -rf "$TMP" "$EVIL"' EXIT
cat >"$EVIL/evil.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void loaded(void)
{
	FILE *f = fopen(getenv("EVIL_MARKER"), "a");
	if (f) { fputs("loaded\n", f); fclose(f); }
}
C
${CC:-cc} -shared -fPIC -o "$EVIL/evil.so" "$EVIL/evil.c"
export EVIL_MARKER="$TMP/evil-marker"
for cls in "$EVIL/evil.Evil" "../..$EVIL/evil.Evil" "ev-il.Evil" "9evil.Evil" "evil.Ev/il"; do
	rm -rf "$TMP/pathdb"
	mkdir -p "$TMP/pathdb/path_board"
	printf '{"name": "Path", "target": "path_board", "type": "board", "classes": [{"class": "%s", "usb": ["1209:0001"]}]}\n' \
		"$cls" >"$TMP/pathdb/path_board/device.json"
	why="classes[0].class: module and class must be plain identifiers (letters, digits, '_'), never a path"
	case $cls in ../*) why='classes[0].class must be "module.Class"' ;; esac
	out=$(ZTC_DB_PATH="$TMP/pathdb:$top_srcdir/db" ZTC_PLUGIN_PATH=/ "$top_builddir/tests/tools/plugin-check" \
		resolve path_board 2>&1) || true
	[ "$out" = "plugin-check: $TMP/pathdb/path_board/device.json: $why; board skipped
loaded 0 modules" ] &&
		pass "class '$cls': refused when the database loads, file named" || fail "class '$cls': [$out]"
	[ ! -e "$EVIL_MARKER" ] && pass "class '$cls': nothing dlopened" || fail "class '$cls': $EVIL/evil.so was loaded"
	rm -f "$EVIL_MARKER"
	ZTC_DB_PATH="$TMP/pathdb:$top_srcdir/db" ZTC_PLUGIN_PATH=/ ztc_run device supported
	[ "$err" = "ztc: warning: $TMP/pathdb/path_board/device.json: $why; board skipped" ] &&
		pass "class '$cls': ztc warns once" || fail "class '$cls': ztc stderr [$err]"
done
# The same module under a plain name is found and loaded: the marker works.
mkdir -p "$TMP/plugdir"
cp "$EVIL/evil.so" "$TMP/plugdir/evil.so"
printf '{"name": "Path", "target": "path_board", "type": "board", "classes": [{"class": "evil.Evil", "usb": ["1209:0001"]}]}\n' \
	>"$TMP/pathdb/path_board/device.json"
ZTC_DB_PATH="$TMP/pathdb:$top_srcdir/db" ZTC_PLUGIN_PATH="$TMP/plugdir" "$top_builddir/tests/tools/plugin-check" \
	resolve path_board >/dev/null 2>&1 || true
[ -e "$EVIL_MARKER" ] && pass "control: a plain module name is dlopened (the marker works)" ||
	fail "control: the marker module was not loaded"

# ---- the token: no core dump, and not in /proc/PID/cmdline once ztc runs ------------------------------
# The probe records, at the moment the token is in memory (login's rename of credentials.json, and every
# backend request), the process's dumpable flag, core size limit and /proc/self/cmdline.
rm -rf "$ZTC_HOME"
mkdir -p "$ZTC_HOME"
export SECRET_PROBE_OUT="$TMP/probe"
LD_PRELOAD="$PROBE" ztc_run login --token "$TOKEN"
expect_rc 0 "login --token under the probe"
LD_PRELOAD="$PROBE" ztc_run login "--token=$TOKEN"
expect_rc 0 "login --token= under the probe"
printf '%s\n' "$TOKEN" | LD_PRELOAD="$PROBE" "$ZTC" login >/dev/null 2>&1 && pass "login from stdin under the probe" ||
	fail "login from stdin under the probe"
good_store
LD_PRELOAD="$PROBE" ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "vm create (no backend) under the probe"
ZTC_TOKEN=$TOKEN LD_PRELOAD="$PROBE" ztc_run vm create due r2.0.10 chibi2
unset SECRET_PROBE_OUT
# (vm create renames the board cache into place on its first database load: only login's renames count.)
[ "$(grep -c '^rename .*ztc login' "$TMP/probe")" = 3 ] && [ "$(grep -c '^curl_easy_perform ' "$TMP/probe")" -ge 2 ] &&
	pass "the probe saw 3 logins and the backend requests" || fail "probe: $(cat "$TMP/probe")"
grep -v ' dumpable=0 core=0 ' "$TMP/probe" >"$TMP/dumpable" || true
[ ! -s "$TMP/dumpable" ] && pass "ztc is not dumpable and has no core size while it holds the token" ||
	fail "dumpable or core size not 0: $(cat "$TMP/dumpable")"
grep -F -- "$TOKEN" "$TMP/probe" >"$TMP/intoken" || true
[ ! -s "$TMP/intoken" ] && pass "the token is not in /proc/PID/cmdline while ztc runs" ||
	fail "the token shows in /proc/PID/cmdline: $(cat "$TMP/intoken")"
grep -q "^rename .*cmdline=.*ztc login --token *\$" "$TMP/probe" && pass "cmdline keeps the option, not its value" ||
	fail "cmdline: $(cat "$TMP/probe")"
python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$CRED" | grep -qxF "$TOKEN" &&
	pass "the saved token is the one given" || fail "credentials.json: $(cat "$CRED")"

# ---- another user's ZTC_HOME (sudo -E), and a real uid other than the effective one -------------------
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: another user's ZTC_HOME: the test needs root to make a folder belong to another user"
else
	OTHER=$(id -u nobody 2>/dev/null || echo 65534)
	U="$TMP/userhome"
	mkdir -p "$U"
	chmod 755 "$TMP"
	chown "$OTHER" "$U"
	who=$(id -un nobody 2>/dev/null) && owner="$who (uid $OTHER)" || owner="uid $OTHER"
	self="$(id -un) (uid 0)"
	snap_u() { (cd "$U" && find . -printf '%p %u %s\n' | sort) >"$TMP/u.$1"; }
	same_u() { snap_u now; cmp -s "$TMP/u.before" "$TMP/u.now" && pass "$1: nothing written" ||
		fail "$1: $(diff "$TMP/u.before" "$TMP/u.now")"; }
	# ZTC_HOME not there yet, in the user's folder: as root ztc would create it (and its files) as root.
	snap_u before
	# --yes: the store is opened for writing at once (without it, del first reads the empty store).
	ZTC_HOME="$U/.local/share/ztc" ztc_run device alias del due --yes
	expect_rc 1 "root, ZTC_HOME to be created in another user's folder"
	[ "$err" = "ztc: $U belongs to $owner, not to $self: ztc does not create ZTC_HOME $U/.local/share/ztc in another user's folder (run ztc as that user, or set ZTC_HOME)" ] &&
		pass "root, ZTC_HOME to be created: exact line" || fail "root, ZTC_HOME to be created: [$err]"
	same_u "root, ZTC_HOME to be created"
	# ZTC_HOME there, the user's: login, alias del and the VM store all refuse.
	mkdir -p "$U/ztc"
	cat >"$U/ztc/devices.json" <<'JSON'
{"devices":[{"alias":"due","uid":"df78e45849d9f7d1c9b29def5b9ffb7bf0b74429","name":null,"target":"arduino_due","chipid":"C0FFEE1234","remote_id":"dev-1","classname":"ArduinoDue"}]}
JSON
	chown -R "$OTHER" "$U/ztc"
	snap_u before
	line="ztc: ZTC_HOME $U/ztc belongs to $owner, not to $self: ztc writes only into its own user's folder (run ztc as that user, or set ZTC_HOME)"
	ZTC_HOME="$U/ztc" ztc_run login --token "$TOKEN"
	expect_rc 1 "root, login into another user's ZTC_HOME"
	[ "$err" = "$line" ] && pass "root, login: exact line" || fail "root, login: [$err]"
	same_u "root, login"
	ZTC_HOME="$U/ztc" ztc_run device alias del due
	expect_rc 1 "root, alias del in another user's ZTC_HOME"
	[ "$err" = "$line" ] && pass "root, alias del: exact line" || fail "root, alias del: [$err]"
	same_u "root, alias del"
	[ ! -e "$U/ztc/devices.json.lock" ] && pass "root, alias del: no lock file left" || fail "root: lock file created"
	# Reading is harmless and allowed.
	ZTC_HOME="$U/ztc" ztc_run vm list
	expect_rc 0 "root may still read another user's ZTC_HOME"
	# A root-owned folder above a new ZTC_HOME is normal (/tmp, /var/lib).
	ZTC_HOME="$TMP/rootowned/ztc" ztc_run login --token "$TOKEN"
	expect_rc 0 "root, ZTC_HOME created under a root-owned folder"
	# Real uid nobody, effective uid root (a set-user-ID ztc): refused before anything else.
	snap_u before
	ZTC_HOME="$U/ztc" capture python3 -c \
		'import os, sys; os.setresuid(int(sys.argv[1]), 0, 0); os.execv(sys.argv[2], sys.argv[2:])' \
		"$OTHER" "$DIRECT" login --token "$TOKEN"
	expect_rc 1 "real uid $OTHER, effective uid 0"
	[ "$err" = "ztc: refusing to run with a real user or group id (uid $OTHER, gid 0) other than the effective one (uid 0, gid 0): run ztc as one user, not set-user-ID" ] &&
		pass "real uid other than effective: exact line" || fail "real uid other than effective: [$err]"
	same_u "real uid other than effective"
fi
finish
