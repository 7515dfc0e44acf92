# vm-remote.sh: ztc vm list --remote [--from N] and ztc vm download against the test backend; vm create by port.
. "$top_srcdir/tests/backend/lib.sh"
set -e
start_backend --page 3
write_devices

# Without a token: one line, no request, nothing written.
snapshot before
ztc_run vm list --remote
expect_rc 1 "vm list --remote, not logged in"
[ "$err" = "ztc: not logged in: run 'ztc login'" ] && pass "not logged in: one line" || fail "not logged in: [$err]"
ztc_run vm download abc
expect_rc 1 "vm download, not logged in"; expect_err "not logged in" "vm download, not logged in"
[ "$(nrequests)" = 0 ] && pass "no request without a token" || fail "$(nrequests) requests without a token"
unchanged_since before "not logged in"
"$ZTC" login --token "$TOKEN" >/dev/null

# An account without VMs.
ztc_run vm list --remote
expect_rc 0 "vm list --remote, none"; expect_out "No virtual machines on the account." "no VM on the account"
ztc_run -J vm list --remote
expect_rc 0 "vm list --remote -J, none"; expect_out "" "-J: nothing"

# Seven VMs, three per page: every page is read until a short one.
for v in 1 2 3 4 5 6 7; do "$ZTC" -q vm create due "r2.0.$v" chibi2 --feat nfc --feat "f$v" >/dev/null; done
rm -rf "$ZTC_HOME/vms"
reset_requests
ztc_run -J vm list --remote
expect_rc 0 "vm list --remote -J"
[ "$(printf '%s\n' "$out" | wc -l)" = 7 ] && pass "seven VMs listed" || fail "remote list: $out"
[ "$(printf '%s\n' "$out" | "$JSONL" get version | paste -sd' ')" = "r2.0.1 r2.0.2 r2.0.3 r2.0.4 r2.0.5 r2.0.6 r2.0.7" ] &&
	pass "in the backend's order" || fail "order: $out"
[ "$(cat "$SRV/requests.jsonl" | python3 -c 'import json,sys; print(" ".join(json.loads(l)["method"] + " " + json.loads(l)["path"] for l in sys.stdin))')" = \
	"GET /v1/vms?from=0 GET /v1/vms?from=3 GET /v1/vms?from=6" ] && pass "pages from=0, 3, 6; the short one ends it" ||
	fail "requests: $(cat "$SRV/requests.jsonl")"
[ "$(printf '%s\n' "$out" | head -1 | sed 's/"\([a-z_]*\)":\(\[[^]]*\]\|[^,}]*\)[,}]/\1 /g')" = "{uid name core_dep version dev_type rtos features " ] &&
	pass "remote records: uid name core_dep version dev_type rtos features" || fail "keys: $(printf '%s\n' "$out" | head -1)"
printf '%s\n' "$out" | head -1 | grep -q '"features":\["nfc","f1"\]' && pass "features: a JSON list" || fail "features: $out"
uid1=$(printf '%s\n' "$out" | head -1 | "$JSONL" get uid)
uid5=$(printf '%s\n' "$out" | sed -n 5p | "$JSONL" get uid)
ztc_run -J vm list --remote --from 5
[ "$(printf '%s\n' "$out" | "$JSONL" get version | paste -sd' ')" = "r2.0.6 r2.0.7" ] && pass "--from 5: the sixth on" || fail "--from 5: $out"
ztc_run vm list --remote --from 2
expect_rc 0 "vm list --remote table"
[ "$(printf '%s\n' "$out" | head -1 | tr -s ' ')" = "UID NAME VERSION TARGET RTOS FEATURES" ] &&
	[ "$(printf '%s\n' "$out" | sed 1d | awk '{print $5}' | paste -sd' ')" = "r2.0.3 r2.0.4 r2.0.5 r2.0.6 r2.0.7" ] &&
	pass "vm list --remote table: header and rows" || fail "table: [$out]"
printf '%s\n' "$out" | sed -n 2p | grep -q "  nfc, f3$" && pass "table: features joined" || fail "table features: $out"
# The local store is another list: still empty.
ztc_run vm list
expect_out "No virtual machines stored." "vm list still lists the local store"

# Backend failures: one line, nothing written.
snapshot before
scenario "GET /vms 2*fail listing is down"
ztc_run vm list --remote
expect_rc 1 "list refused"; expect_err "listing is down" "list refused: the backend's message"; expect_one_line "list refused"
scenario "GET /vms?from=3 nonjson"
ztc_run vm download -- "$uid5"
expect_rc 1 "a page that is not JSON"; expect_one_line "page not JSON"
unchanged_since before "backend failures"
scenario

# vm download: exact, by unique prefix, unknown, ambiguous.
reset_requests
# "--": a VM uid may start with '-' (base64url).
ztc_run vm download -- "$uid1"
expect_rc 0 "vm download exact"
expect_out "$uid1" "vm download prints the uid"
hash=$(printf 'f1,nfc' | sha1sum | cut -d' ' -f1)
file="$ZTC_HOME/vms/arduino_due/$CHIP/${uid1}_r2.0.1_${hash}_chibi2.vm"
[ -f "$file" ] && cmp -s "$file" "$SRV/dump/$uid1.data" && pass "stored byte for byte where virtualize looks" || fail "no $file: $(find "$ZTC_HOME/vms" -type f)"
expect_err "ztc: VM $uid1 stored as $file" "vm download says where"
[ "$(req -1 line)" = "GET /v1/vms/$uid1" ] && pass "GET /vms/<uid>" || fail "last request: $(req -1 line)"
ztc_run -J vm download -- "${uid5:0:6}"
expect_rc 0 "vm download by prefix"
[ "$(printf '%s\n' "$out" | "$JSONL" get uid)" = "$uid5" ] && [ -f "$(printf '%s\n' "$out" | "$JSONL" get path)" ] &&
	pass "-J: uid and path of the VM the prefix names" || fail "download -J: $out"
ztc_run vm list
[ "$(printf '%s\n' "$out" | sed 1d | wc -l)" = 2 ] && pass "vm list: the two downloaded" || fail "local list: $out"
snapshot before
reset_requests
ztc_run vm download zz-no-such
expect_rc 1 "vm download unknown"
case $err in
"ztc: no VM of the account matches 'zz-no-such'; candidates: $uid1, "*) pass "unknown VM: one line with the candidates" ;;
*) fail "unknown VM: [$err]" ;;
esac
expect_one_line "unknown VM"
grep -q '"GET", "path": "/v1/vms/' "$SRV/requests.jsonl" && fail "unknown VM: a download was asked" || pass "unknown VM: nothing downloaded"
unchanged_since before "unknown VM"
scenario "POST /vms vmuid AbC1" && "$ZTC" -q vm create due r3.0.0 chibi2 >/dev/null
scenario "POST /vms vmuid AbC2" && "$ZTC" -q vm create due r3.0.1 chibi2 >/dev/null
scenario
rm -f "$ZTC_HOME"/vms/arduino_due/"$CHIP"/AbC*
snapshot before
ztc_run vm download AbC
expect_rc 1 "vm download ambiguous"
[ "$err" = "ztc: 'AbC' matches several VMs of the account: AbC1, AbC2" ] && pass "ambiguous prefix: one line" || fail "ambiguous: [$err]"
unchanged_since before "ambiguous VM"
scenario "GET /vms/ vmdel bin"
ztc_run vm download AbC2
expect_rc 1 "a .vm without bin"; expect_err "cannot store VM AbC2: it has no \"bin\" image" "a .vm without bin"
unchanged_since before "a .vm without bin"
scenario

# A name with a terminal escape in it (the backend's data is not trusted): '?' in the table, the exact
# string in JSON (escaped by yajl).
"$ZTC" -q vm create due r4.0.0 chibi2 --name "$(printf 'evil\033[2Jname')" >/dev/null
ztc_run vm list --remote --from 9
expect_rc 0 "a name with an escape"
printf '%s' "$out" | grep -q "$(printf '\033')" && fail "an escape reached the terminal: $(printf '%s' "$out" | od -c | head)" ||
	pass "no escape byte in the table"
printf '%s\n' "$out" | grep -q "evil?\[2Jname" && pass "the control character shows as '?'" || fail "escaped name: $out"
ztc_run -J vm list --remote --from 9
printf '%s\n' "$out" | grep -qiF '"name":"evil\u001b[2Jname"' && pass "-J keeps the name, escaped" || fail "-J name: $out"

# A backend whose list never ends: 10000 VMs at most, one warning.
start_backend --page 1000
scenario "GET /vms endless"
ztc_run -J vm list --remote --from 500
expect_rc 0 "an endless list"
[ "$(printf '%s\n' "$out" | wc -l)" = 10000 ] && [ "$(printf '%s\n' "$out" | tail -1 | "$JSONL" get uid)" = "endless-10499" ] &&
	pass "an endless list stops after 10000 VMs" || fail "endless: $(printf '%s\n' "$out" | wc -l) lines"
[ "$err" = "ztc: warning: listed 10000 VMs from 500, the most listed at once; there may be more: list them with --from 10500" ] &&
	pass "an endless list: one warning" || fail "endless warning: [$err]"
[ "$(nrequests)" = 10 ] && pass "an endless list: 10 requests" || fail "endless: $(nrequests) requests"

# vm create by the port of the connected board (its uid's alias).
if [ -n "${UMOCKDEV_RUN:-}" ]; then
	reset_requests
	ztc_under arduino_due vm create /dev/ttyACM0 r9.9.9 chibi2
	expect_rc 0 "vm create by port"
	[ "$(req 1 json)" = '{"dev_uid": "dev-1", "features": [], "name": "Arduino Due r9.9.9", "patch": "base", "rtos": "chibi2", "version": "r9.9.9"}' ] &&
		pass "the port named due's device" || fail "create by port: $(req 1 json)"
	ztc_under photon vm create /dev/ttyACM0 r9.9.9 chibi2
	expect_rc 1 "vm create by the port of a device without alias"
	want="ztc: the device on /dev/ttyACM0 (2B04:C006, uid 5ae5ef878dd2f9b177a089ac51a038e47c2c5911) has no alias:"
	want+=" give it one with 'ztc device alias put /dev/ttyACM0 ALIAS TARGET'"
	[ "$err" = "$want" ] &&
		pass "a port without an alias: one line" || fail "port without alias: [$err]"
else
	echo "skip: vm create by port needs umockdev-run"
fi
finish
