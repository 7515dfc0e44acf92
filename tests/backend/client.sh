# client.sh: the libztc backend API directly (tests/backend/backend-call): register, create, download,
# list with paging, and the VM store functions (save, list with filters).
. "$top_srcdir/tests/backend/lib.sh"
set -e
start_backend --page 3
export ZTC_TOKEN=$TOKEN
URL=$ZTC_BACKEND_URL
# call ARGS...: run backend-call; sets $out, $err, $rc.
call() { capture "$CALL" "$@"; }

# POST /devices: the body, the remote id from data.uid; then usable for a VM.
call register "Bench Due" C0FFEE9999 arduino_due "Arduino"
expect_rc 0 "register a device"
remote=$out
[ "$remote" = "dev-$(printf 'arduino_due:C0FFEE9999' | sha1sum | cut -c1-12)" ] && pass "remote id from data.uid" || fail "remote id: $out"
[ "$(req -1 line)" = "POST /v1/devices" ] && pass "POST /v1/devices" || fail "register: $(req -1 line)"
[ "$(req -1 body)" = '{"name":"Bench Due","on_chip_id":"C0FFEE9999","type":"arduino_due","category":"Arduino"}' ] &&
	pass "register body: name, on_chip_id, type, category" || fail "register body: $(req -1 body)"
[ "$(req -1 header:Authorization)" = "Bearer $TOKEN" ] && pass "register: Authorization" || fail "register auth"
call register "Bench Due" C0FFEE9999 arduino_due -
[ "$(req -1 json)" = '{"category": null, "name": "Bench Due", "on_chip_id": "C0FFEE9999", "type": "arduino_due"}' ] &&
	pass "no category: sent as null" || fail "null category: $(req -1 json)"
call register "Caf\xc3\xa9 \"board\"" C0FFEE9999 arduino_due Arduino
[ "$(req -1 json)" = '{"category": "Arduino", "name": "Caf\\xc3\\xa9 \"board\"", "on_chip_id": "C0FFEE9999", "type": "arduino_due"}' ] &&
	pass "quotes and backslashes encoded by yajl" || fail "escaping: $(req -1 json)"
call register "$(printf 'Caf\xc3\xa9')" C0FFEE9999 arduino_due Arduino
[ "$(req -1 json)" = '{"category": "Arduino", "name": "Café", "on_chip_id": "C0FFEE9999", "type": "arduino_due"}' ] &&
	pass "UTF-8 name sent as is" || fail "UTF-8: $(req -1 json)"
n=$(nrequests)
call register "$(printf 'bad\xff')" C0FFEE9999 arduino_due Arduino
expect_rc 1 "name that is not UTF-8"; expect_err "cannot encode the registration: a field is not UTF-8" "not UTF-8"
[ "$(nrequests)" = "$n" ] && pass "not UTF-8: nothing sent" || fail "not UTF-8: sent"
call register "" C0FFEE9999 arduino_due Arduino
expect_rc 1 "empty name"; expect_err "registering a device needs a name" "empty name"
scenario "POST /devices fail Chip id C0FFEE9999 is already registered"
call register "Bench Due" C0FFEE9999 arduino_due Arduino
expect_rc 1 "registration refused"
[ "$err" = "backend-call: backend refused the registration: Chip id C0FFEE9999 is already registered (backend error)" ] &&
	pass "registration refused: the backend's message" || fail "registration refused: $err"
scenario "POST /devices nouid"
call register "Bench Due" C0FFEE9999 arduino_due Arduino
expect_rc 1 "registration without data.uid"; expect_err "backend-call: the backend's reply to the registration has no \"data.uid\"" "no data.uid"
scenario

# Create through the API: patch NULL is "base"; then download: the data object's bytes.
call create "api vm" "$remote" r2.0.10 chibi2 - nfc
expect_rc 0 "create through the API"
vm1=$out
[ "$(req -1 body)" = "{\"name\":\"api vm\",\"dev_uid\":\"$remote\",\"version\":\"r2.0.10\",\"rtos\":\"chibi2\",\"features\":[\"nfc\"],\"patch\":\"base\"}" ] &&
	pass "create: NULL patch sent as \"base\"" || fail "create body: $(req -1 body)"
"$CALL" download "$vm1" >"$TMP/vm1.data"
cmp -s "$TMP/vm1.data" "$SRV/dump/$vm1.data" && pass "download: the data object byte for byte (spacing, escapes, UTF-8 kept)" ||
	fail "download differs: $(diff "$TMP/vm1.data" "$SRV/dump/$vm1.data" | head -5)"
call download nosuchvm
expect_rc 1 "download an unknown VM"
[ "$err" = "backend-call: backend refused the VM download: VM nosuchvm not found (HTTP 404) (backend error)" ] &&
	pass "unknown VM: the backend's 404 message" || fail "unknown VM: $err"
n=$(nrequests)
call download "../devices"
expect_rc 1 "download with a path in the uid"; expect_err "invalid VM uid '../devices'" "uid with a path"
[ "$(nrequests)" = "$n" ] && pass "uid with a path: nothing sent" || fail "uid with a path: sent"
scenario "GET /vms/ nouid"
call download "$vm1"
expect_rc 0 "download of an empty data object"; expect_out "{}" "empty data object returned as sent"
scenario 'GET /vms/ fail'
call download "$vm1"
expect_rc 1 "download refused without a message"
expect_err "backend refused the VM download: status \"fail\" without a message" "refused without a message"
scenario

# GET /vms?from=N: pages of 3.
for i in 2 3 4; do call create "api vm $i" "$remote" r2.0.1$i freertos10 p01 a b; done
call list 0
expect_rc 0 "list from 0"
[ "$(req -1 line)" = "GET /v1/vms?from=0" ] && pass "GET /v1/vms?from=0" || fail "list: $(req -1 line)"
[ "$(printf '%s\n' "$out" | wc -l)" = 3 ] && pass "first page: 3 VMs" || fail "first page: $out"
[ "$(printf '%s\n' "$out" | head -1)" = "$vm1|api vm|r2.0.10|r2.0.10|arduino_due|chibi2|nfc" ] &&
	pass "list entry: uid name core_dep version dev_type rtos features" || fail "list entry: $out"
call list 3
[ "$(req -1 line)" = "GET /v1/vms?from=3" ] && [ "$(printf '%s\n' "$out" | wc -l)" = 1 ] &&
	[ "$(printf '%s\n' "$out" | cut -d'|' -f2-)" = "api vm 4|r2.0.14|r2.0.14|arduino_due|freertos10|a,b" ] &&
	pass "second page: the last VM" || fail "second page: $out"
call list 6
expect_rc 0 "list past the end"; expect_out "" "past the end: empty page"
scenario "GET /vms? nouid"
call list 0
expect_rc 1 "list without data.list"; expect_err "the backend's reply to the VM list has no \"data.list\" list" "no data.list"
scenario

# The VM store API: save checks, listing with filters; odd files are skipped.
cp "$TMP/vm1.data" "$TMP/good.vm"
call save "$vm1" "$TMP/good.vm"
expect_rc 0 "vmstore save"
hash=$(printf 'nfc' | sha1sum | cut -d' ' -f1)
[ "$out" = "$ZTC_HOME/vms/arduino_due/C0FFEE9999/${vm1}_r2.0.10_${hash}_chibi2.vm" ] && cmp -s "$out" "$TMP/good.vm" &&
	pass "vmstore save: path and bytes" || fail "vmstore save: $out"
python3 - "$TMP/good.vm" "$TMP" <<'PY'
import json, sys
vm = json.load(open(sys.argv[1]))
other = dict(vm, on_chip_id="0THERCH1P", version="r2.1.0")
json.dump(other, open(sys.argv[2] + "/other.vm", "w"))
esp = dict(vm, dev_type="esp32_devkitc", on_chip_id="E5P32", bin=["AAAA", "BBBB"], rtos="esp32-rtos")
json.dump(esp, open(sys.argv[2] + "/esp.vm", "w"))
json.dump(dict(vm, bin=5), open(sys.argv[2] + "/badbin.vm", "w"))
json.dump(dict(vm, version=""), open(sys.argv[2] + "/emptyversion.vm", "w"))
json.dump(dict(vm, on_chip_id=".hidden"), open(sys.argv[2] + "/dotchip.vm", "w"))
json.dump(dict(vm, hash_features=7), open(sys.argv[2] + "/numhash.vm", "w"))
open(sys.argv[2] + "/list.vm", "w").write("[1, 2]")
open(sys.argv[2] + "/broken.vm", "w").write('{"bin": ')
open(sys.argv[2] + "/deep.vm", "w").write(json.dumps(vm)[:-1] + ', "x": ' + "[" * 300000 + "]" * 300000 + "}")
PY
call save other_Uid "$TMP/other.vm"; expect_rc 0 "vmstore save, uid with '_'"
call save espuid "$TMP/esp.vm"; expect_rc 0 "vmstore save, a bin list"
snapshot before
badsave() { # WHAT FILE UID EXPECTED
	call save "$3" "$TMP/$2"
	expect_rc 1 "$1"
	[ "$err" = "backend-call: $4" ] && pass "$1: exact message" || fail "$1: [$err], expected [backend-call: $4]"
	unchanged_since before "$1"
}
badsave "bin not a string or list" badbin.vm u1 'cannot store VM u1: it has no "bin" image (malformed data)'
badsave "empty version" emptyversion.vm u1 'cannot store VM u1: it has no "version" string (malformed data)'
badsave "hidden chip id folder" dotchip.vm u1 "cannot store VM u1: its on_chip_id '.hidden' cannot be part of a file name (malformed data)"
badsave "hash_features not a string" numhash.vm u1 'cannot store VM u1: it has no "hash_features" string (malformed data)'
badsave "not an object" list.vm u1 'cannot store VM u1: it is not a JSON object (malformed data)'
badsave "nested 300,000 deep" deep.vm u1 'cannot store VM u1: nested deeper than 64 levels (malformed data)'
call save u1 "$TMP/broken.vm"
expect_rc 1 "invalid JSON"; expect_err "backend-call: cannot store VM u1: " "invalid JSON"; unchanged_since before "invalid JSON"
badsave "uid with a '/'" good.vm "a/b" "cannot store a VM under the uid 'a/b' (invalid argument)"
# Files that do not follow the naming pattern are not VMs of the store.
d="$ZTC_HOME/vms/arduino_due/C0FFEE9999"
: >"$d/notes.txt"; : >"$d/x_y.vm"; : >"$d/.hidden_a_b_c.vm"; : >"$d/${vm1}_r2.0.10_${hash}_chibi2.vm.AbC123"; mkdir -p "$d/sub_a_b_c.vm"
call stored - -
expect_rc 0 "vmstore list"
expected=$(printf '%s\n' \
	"${vm1}|r2.0.10|chibi2|$hash|arduino_due|C0FFEE9999|$d/${vm1}_r2.0.10_${hash}_chibi2.vm" \
	"other_Uid|r2.1.0|chibi2|$hash|arduino_due|0THERCH1P|$ZTC_HOME/vms/arduino_due/0THERCH1P/other_Uid_r2.1.0_${hash}_chibi2.vm" \
	"espuid|r2.0.10|esp32-rtos|$hash|esp32_devkitc|E5P32|$ZTC_HOME/vms/esp32_devkitc/E5P32/espuid_r2.0.10_${hash}_esp32-rtos.vm")
[ "$out" = "$(printf '%s\n' "$expected" | LC_ALL=C sort -t'|' -k5,5 -k6,6 -k1,1)" ] &&
	pass "vmstore list: every VM, sorted, odd files skipped" || fail "vmstore list: $out"
call stored arduino_due -
[ "$(printf '%s\n' "$out" | cut -d'|' -f1 | tr '\n' ' ')" = "other_Uid ${vm1} " ] && pass "filter by target" || fail "target filter: $out"
call stored arduino_due C0FFEE9999
[ "$out" = "${vm1}|r2.0.10|chibi2|$hash|arduino_due|C0FFEE9999|$d/${vm1}_r2.0.10_${hash}_chibi2.vm" ] && pass "filter by target and chip id" || fail "target+chip filter: $out"
call stored - E5P32
[ "$(printf '%s\n' "$out" | cut -d'|' -f1)" = "espuid" ] && pass "filter by chip id" || fail "chip filter: $out"
call stored ../.. -
expect_rc 0 "filter with a path"; expect_out "" "a filter never leaves vms/"
ZTC_HOME="$TMP/nohome" call stored - -
expect_rc 0 "no vms folder"; expect_out "" "no vms folder: empty list"
finish
