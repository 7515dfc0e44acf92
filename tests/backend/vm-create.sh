# vm-create.sh: ztc vm create and ztc vm list against the test backend: bodies, headers, the VM store.
. "$top_srcdir/tests/backend/lib.sh"
set -e
VERSION=$("$ZTC" --version | cut -d' ' -f2)
VMS="$ZTC_HOME/vms/arduino_due/$CHIP"
start_backend
write_devices
"$ZTC" login --token "$TOKEN" >/dev/null

# An empty store lists nothing.
ztc_run vm list
expect_rc 0 "vm list, empty store"; expect_out "No virtual machines stored." "vm list, empty store"
ztc_run -J vm list
expect_rc 0 "vm list -J, empty store"; expect_out "" "vm list -J, empty store prints nothing"

# Success: the request body field by field, the headers, the file and its bytes.
ztc_run vm create due r2.0.10 chibi2 --feat nfc --feat "ble mesh"
expect_rc 0 "vm create"
uid=$out
[ -n "$uid" ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] && pass "vm create prints the uid: $uid" || fail "vm create stdout: $out"
[ "$(nrequests)" = 2 ] && pass "two requests: create, download" || fail "$(nrequests) requests"
[ "$(req 1 line)" = "POST /v1/vms" ] && pass "POST /v1/vms" || fail "request 1: $(req 1 line)"
[ "$(req 1 body)" = '{"name":"Arduino Due r2.0.10","dev_uid":"dev-1","version":"r2.0.10","rtos":"chibi2","features":["nfc","ble mesh"],"patch":"base"}' ] &&
	pass "create body: name, dev_uid, version, rtos, features, patch \"base\"" || fail "create body: $(req 1 body)"
[ "$(req 2 line)" = "GET /v1/vms/$uid" ] && pass "GET /v1/vms/<uid>" || fail "request 2: $(req 2 line)"
for n in 1 2; do
	[ "$(req $n header:Authorization)" = "Bearer $TOKEN" ] && pass "request $n: Authorization: Bearer <token>" || fail "request $n auth: $(req $n header:Authorization)"
	[ "$(req $n header:User-Agent)" = "ztc/$VERSION" ] && pass "request $n: User-Agent: ztc/$VERSION" || fail "request $n user agent: $(req $n header:User-Agent)"
	[ "$(req $n header:Content-Type)" = "application/json" ] && pass "request $n: Content-Type: application/json" || fail "request $n content type: $(req $n header:Content-Type)"
done
hash=$(printf 'ble mesh,nfc' | sha1sum | cut -d' ' -f1)
file="$VMS/${uid}_r2.0.10_${hash}_chibi2.vm"
[ -f "$file" ] && pass "stored as vms/<target>/<chipid>/<vmuid>_<version>_<hash_features>_<rtos>.vm" || fail "no $file: $(find "$ZTC_HOME/vms" -type f)"
cmp -s "$file" "$SRV/dump/$uid.data" && pass "the .vm file is byte for byte the data object sent" || fail "stored file differs from the data sent"
ls -a "$VMS" | grep -q '\.vm\.' && fail "temporary file left: $(ls -a "$VMS")" || pass "no temporary file left"

# --name, --patch, no features; -J prints {"uid", "path"}.
reset_requests
ztc_run -J vm create due r19.08.30 freertos10 --name "bench vm" --patch p01
expect_rc 0 "vm create -J --name --patch"
uid2=$(printf '%s\n' "$out" | "$JSONL" get uid)
path2=$(printf '%s\n' "$out" | "$JSONL" get path)
hash0=$(printf '' | sha1sum | cut -d' ' -f1)
[ "$path2" = "$VMS/${uid2}_r19.08.30_${hash0}_freertos10.vm" ] && [ -f "$path2" ] && pass "-J prints uid and path" || fail "-J: $out"
[ "$(req 1 body)" = '{"name":"bench vm","dev_uid":"dev-1","version":"r19.08.30","rtos":"freertos10","features":[],"patch":"p01"}' ] &&
	pass "create body with --name, --patch and no feature" || fail "create body: $(req 1 body)"

# A vmuid holding '_' (base64url uids may): the store splits file names at the last three '_'.
scenario "POST /vms vmuid Ab_cd-EF_gh"
ztc_run vm create due r2.0.10 chibi2 --feat nfc
expect_rc 0 "vm create, uid with '_'"; expect_out "Ab_cd-EF_gh" "uid with '_' printed"
scenario

# vm list: one record per stored VM, sorted by target, chipid, uid.
ztc_run -J vm list
expect_rc 0 "vm list -J"
hash1=$(printf 'nfc' | sha1sum | cut -d' ' -f1)
expected=$(printf '%s\n' "$uid|arduino_due|$CHIP|r2.0.10|chibi2|$hash|$file" \
	"$uid2|arduino_due|$CHIP|r19.08.30|freertos10|$hash0|$path2" \
	"Ab_cd-EF_gh|arduino_due|$CHIP|r2.0.10|chibi2|$hash1|$VMS/Ab_cd-EF_gh_r2.0.10_${hash1}_chibi2.vm" |
	LC_ALL=C sort)
expect_fields "uid target chipid version rtos hash_features path" "$expected" \
	"vm list -J: uid target chipid version rtos hash_features path"
ztc_run vm list
expect_rc 0 "vm list"
[ "$(printf '%s\n' "$out" | head -1 | tr -s ' ')" = "UID TARGET CHIPID VERSION RTOS HASH_FEATURES PATH" ] &&
	pass "vm list table header" || fail "vm list header: $out"
[ "$(printf '%s\n' "$out" | sed 1d | awk '{print $1 "|" $7}')" = "$(printf '%s\n' "$expected" | cut -d'|' -f1,7)" ] &&
	pass "vm list table rows" || fail "vm list rows: $out"
ztc_run vm list extra
expect_rc 2 "vm list extra"; expect_err "unexpected argument 'extra'" "vm list extra"

# Alias errors, unregistered devices, bad arguments: one line, no request, nothing written.
snapshot before
reset_requests
norequest() { [ "$(nrequests)" = 0 ] && pass "$1: no request sent" || fail "$1: $(nrequests) requests sent"; }
check_err() { # WHAT RC LINE
	expect_rc "$2" "$1"
	[ "$err" = "$3" ] && pass "$1: exact error line" || fail "$1: stderr [$err], expected [$3]"
	unchanged_since before "$1"
	norequest "$1"
}
ztc_run vm create zz r2.0.10 chibi2
check_err "unknown alias" 1 "ztc: no alias matches 'zz'; candidates: custom, due, dup, nochip"
ztc_run vm create du r2.0.10 chibi2
check_err "ambiguous alias prefix" 1 "ztc: 'du' matches several aliases: due, dup"
ztc_run vm create dup r2.0.10 chibi2
check_err "unregistered device" 1 "ztc: device dup is not registered: run 'ztc device register dup'"
ztc_run vm create n r2.0.10 chibi2
check_err "device without chip id, by unique prefix" 1 "ztc: device nochip is not registered: run 'ztc device register nochip'"
ztc_run vm create due r2.0.10
check_err "missing RTOS" 2 "ztc: missing RTOS
Usage: ztc vm create ALIAS|PORT VERSION RTOS [--feat F]... [--name NAME] [--patch P]"
ztc_run vm create due r2.0.10 chibi2 extra
expect_rc 2 "extra argument"; expect_err "ztc: unexpected argument 'extra'" "extra argument"; norequest "extra argument"
ztc_run vm create due "" chibi2
expect_rc 2 "empty VERSION"; expect_err "ztc: VERSION must not be empty" "empty VERSION"; norequest "empty VERSION"
ztc_run vm create due r2.0.10 chibi2 --feat ""
expect_rc 2 "empty --feat"; expect_err "ztc: --feat needs a feature name" "empty --feat"; norequest "empty --feat"
ztc_run vm create due r2.0.10 chibi2 --bogus
expect_rc 2 "unknown option"; expect_err "ztc: unknown option '--bogus'" "unknown option"
ztc_run vm bogus
expect_rc 2 "unknown vm command"; expect_err "ztc: unknown command 'vm bogus'" "unknown vm command"
ZTC_HOME="$TMP/empty-home" ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "no known device"; [ "$err" = "ztc: no alias matches 'due' (there are no aliases)" ] && pass "no known device: exact line" || fail "no known device: $err"
# A target missing from the database: the default name needs the board name.
ztc_run vm create custom r2.0.10 chibi2
check_err "target not in the database" 1 "ztc: the target 'vendor_board' of custom is not in the board database (see 'ztc device supported'); name the VM with --name"
cp "$ZTC_HOME/devices.json" "$TMP/devices.good"
printf '{"devices": [' >"$ZTC_HOME/devices.json"
snapshot before
ztc_run vm create due r2.0.10 chibi2
expect_rc 1 "corrupt devices.json"; expect_err "devices.json is corrupt" "corrupt devices.json"; expect_one_line "corrupt devices.json"
unchanged_since before "corrupt devices.json"; norequest "corrupt devices.json"
cp "$TMP/devices.good" "$ZTC_HOME/devices.json"

# The VM is created but its .vm cannot be stored: the line names the new VM (UID below) and why;
# nothing is written.
snapshot before
stored_fail() { # WHAT SCENARIO-LINE EXPECTED-REASON
	local line vmuid want
	scenario "$2"
	reset_requests
	ztc_run vm create due r2.0.10 chibi2 --feat nfc
	expect_rc 1 "$1"
	line=$(req -1 line)
	vmuid=${line##*/}
	want="ztc: VM $vmuid was created but not stored: ${3//UID/$vmuid}"
	[ "$line" = "GET /v1/vms/$vmuid" ] && [ "$err" = "$want" ] && pass "$1: exact error line" ||
		fail "$1: stderr [$err], expected [$want]"
	unchanged_since before "$1"
}
stored_fail "download: not JSON" "GET /vms/ nonjson" \
	"the backend's reply to the VM download is not a JSON object (HTTP 200, GET http://127.0.0.1:$PORT/v1/vms/UID)"
stored_fail "download: status fail" "GET /vms/ fail VM is still building" "backend refused the VM download: VM is still building"
stored_fail "the .vm lacks hash_features" "GET /vms/ vmdel hash_features" 'cannot store VM UID: it has no "hash_features" string'
stored_fail "the .vm lacks on_chip_id" "GET /vms/ vmdel on_chip_id" 'cannot store VM UID: it has no "on_chip_id" string'
stored_fail "the .vm lacks bin" "GET /vms/ vmdel bin" 'cannot store VM UID: it has no "bin" image'
stored_fail "dev_type climbing out of the store" 'GET /vms/ vmset dev_type "../../../escape"' \
	"cannot store VM UID: its dev_type '../../../escape' cannot be part of a file name"
stored_fail "rtos with '_'" 'GET /vms/ vmset rtos "chibi_2"' \
	"cannot store VM UID: its rtos 'chibi_2' holds '_', the VM store's file name separator"
stored_fail "empty data object" "GET /vms/ nouid" 'cannot store VM UID: it has no "dev_type" string'
stored_fail "data is not an object" 'GET /vms/ fail' "backend refused the VM download: status \"fail\" without a message"
[ ! -e "$TMP/escape" ] && [ ! -e "$ZTC_HOME/escape" ] && pass "nothing written outside the store" || fail "escape written"
scenario

# A VM the backend made for another chip id: stored under its own folder, with a warning.
scenario 'GET /vms/ vmset on_chip_id "BADC0FFEE0"'
ztc_run vm create due r2.0.10 chibi2
expect_rc 0 "VM for another chip id"
expect_err "ztc: warning: the backend made VM $out for another target or chip id than due's (arduino_due, $CHIP): stored as $ZTC_HOME/vms/arduino_due/BADC0FFEE0/" "VM for another chip id warns"
scenario
finish
