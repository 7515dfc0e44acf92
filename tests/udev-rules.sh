# udev-rules.sh: the generated udev/60-ztc.rules has one uaccess rule per USB id of the board database, no other.
set -u
: "${top_srcdir:?run through make check}" "${top_builddir:?}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ztc-udev.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
GEN="$top_srcdir/udev/gen-rules.sh"
RULES="$top_builddir/udev/60-ztc.rules"

command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 (a real JSON parser for the check) not found"; exit 77; }
[ -s "$RULES" ] || { echo "FAIL: $RULES was not built" >&2; exit 1; }

# Every id of every class of every board, read with a JSON parser (not the generator's sed and grep).
python3 - "$top_srcdir"/db/*/device.json >"$TMP/want" <<'PY' || fail "reading the database with python3"
import json, sys
ids = set()
for path in sys.argv[1:]:
    with open(path) as f:
        board = json.load(f)
    for c in board.get("classes", []):
        for usb in c.get("usb", []):
            vid, pid = usb.split(":")
            ids.add("%s:%s" % (vid.lower(), pid.lower()))
print("\n".join(sorted(ids)))
PY
nwant=$(grep -c . "$TMP/want")
[ "$nwant" -ge 30 ] && pass "database: $nwant distinct USB ids" || fail "only $nwant ids in the database"

RULE_RE='^SUBSYSTEMS=="usb", ATTRS\{idVendor\}=="([0-9a-f]{4})", ATTRS\{idProduct\}=="([0-9a-f]{4})", TAG\+="uaccess", ENV\{ID_MM_DEVICE_IGNORE\}="1"$'
bad=$(grep -v -e '^#' -e '^$' "$RULES" | grep -E -v "$RULE_RE")
[ -z "$bad" ] && pass "every line is a comment or the uaccess rule" || fail "unexpected lines: $bad"
grep -E "$RULE_RE" "$RULES" | sed -E "s/$RULE_RE/\\1:\\2/" | sort >"$TMP/got"

missing=$(comm -23 "$TMP/want" "$TMP/got" | tr '\n' ' ')
extra=$(comm -13 "$TMP/want" "$TMP/got" | tr '\n' ' ')
[ -z "$missing" ] && pass "every database id has its rule" || fail "ids without a rule: $missing"
[ -z "$extra" ] && pass "no rule for an id outside the database" || fail "rules for unknown ids: $extra"
dups=$(uniq -d "$TMP/got" | tr '\n' ' ')
[ -z "$dups" ] && pass "one rule per id" || fail "duplicate rules: $dups"
grep -q '^# arduino_due flipnclick_sam3x$' "$RULES" && pass "a rule names its targets" ||
	fail "no '# arduino_due flipnclick_sam3x' comment"

# The built file is what the generator makes from the database now.
sh "$GEN" "$top_srcdir"/db/*/device.json >"$TMP/now.rules" && cmp -s "$TMP/now.rules" "$RULES" &&
	pass "the built file is up to date" || fail "the built $RULES differs from a fresh generation"

# The generator copes with a list over several lines and lower-case hex, and refuses bad ids.
mkdir -p "$TMP/db/multi" "$TMP/db/bad" "$TMP/db/none"
cat >"$TMP/db/multi/device.json" <<'JSON'
{"name": "M", "target": "multi", "classes": [
  {"class": "m.A", "usb": [
      "ABCD:00eF",
      "1234:5678"
  ]},
  {"class": "m.B", "usb": ["1234:5678"], "sid": "X"}]}
JSON
echo '{"name": "N", "target": "none", "classes": [{"class": "n.A", "usb": []}]}' >"$TMP/db/none/device.json"
out=$(sh "$GEN" "$TMP/db/multi/device.json" "$TMP/db/none/device.json" 2>&1)
n=$(printf '%s\n' "$out" | grep -c '^SUBSYSTEMS')
if [ "$n" = 2 ] && printf '%s\n' "$out" | grep -q 'idVendor}=="abcd", ATTRS{idProduct}=="00ef"'; then
	pass "multi-line list and mixed case: 2 rules, lower-case hex"
else
	fail "multi-line list: $out"
fi
echo '{"name": "B", "target": "bad", "classes": [{"class": "b.A", "usb": ["2341-003D"]}]}' >"$TMP/db/bad/device.json"
out=$(sh "$GEN" "$TMP/db/multi/device.json" "$TMP/db/bad/device.json" 2>&1) && fail "bad id accepted: $out" || {
	case "$out" in
	*"$TMP/db/bad/device.json: \"2341-003D\" in a \"usb\" list is not a \"VID:PID\" string"*) pass "bad id refused, file named" ;;
	*) fail "bad id message: $out" ;;
	esac
}
out=$(sh "$GEN" "$TMP/db/missing/device.json" 2>&1) && fail "missing file accepted" ||
	pass "missing file refused: $out"

[ "$failures" -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "udev rules cover the board database"
