# dbcache.sh: the board cache ($XDG_CACHE_HOME/ztc/boards.cache): created on first use, reused, rebuilt
# for a device.json that changed or a folder that appeared, ignored when corrupt, never required.
. "$top_srcdir/tests/lib.sh"
set -e
export XDG_CACHE_HOME="$TMP/cache"
CACHE="$XDG_CACHE_HOME/ztc/boards.cache"
DB="$TMP/db"
export ZTC_DB_PATH="$DB"
mkdir -p "$DB"
for t in arduino_due particle_photon st_nucleof401re silabs_cp210x; do cp -r "$top_srcdir/db/$t" "$DB/"; done
mkdir "$DB/not_a_board" # a folder without device.json
mkdir "$DB/broken" && printf '{"name": "Broken", "target": ' >"$DB/broken/device.json"
# A flash object that breaks a rule: listed, with a warning that the board cannot be flashed.
mkdir "$DB/badflash" && cat >"$DB/badflash/device.json" <<'JSON'
{"name": "Bad Flash", "target": "badflash", "type": "board",
 "classes": [{"class": "atmel.BadFlash", "usb": ["2341:0BAD"]}],
 "flash": {"version": 1, "method": "tool", "tool": "bossac", "args": ["-w", "{firmware}"]}}
JSON
FLASHWARN="ztc: warning: $DB/badflash/device.json: flash: unknown placeholder {firmware} in flash.args;"
FLASHWARN="$FLASHWARN the board cannot be flashed"

# What ztc lists without any cache (the reference), with its one warning.
XDG_CACHE_HOME=/dev/null ztc_run -J device supported
expect_rc 0 "without a cache"
ref=$out ref_err=$err
for t in arduino_due particle_photon st_nucleof401re silabs_cp210x; do
	printf '%s\n' "$ref" | grep -q "\"target\":\"$t\".*\"path\":\"$DB/$t\"" || fail "$t not listed from $DB: $ref"
done
pass "the four boards listed from $DB"
case $ref_err in *"broken/device.json: invalid JSON"*"board skipped"*) pass "malformed device.json: warning" ;;
*) fail "warning: $ref_err" ;; esac
case $ref_err in "$FLASHWARN"*) pass "bad flash object: warning" ;; *) fail "flash warning: $ref_err" ;; esac
printf '%s\n' "$ref" | grep -q '"target":"badflash"' && pass "bad flash object: listed" || fail "badflash: $ref"

ztc_run -J device supported
expect_rc 0 "first use"
[ -f "$CACHE" ] && pass "cache created on first use" || fail "no $CACHE"
[ "$(stat -c %a "$CACHE")" = 600 ] && [ "$(stat -c %a "$XDG_CACHE_HOME/ztc")" = 700 ] &&
	pass "cache file 0600 in a 0700 dir" || fail "modes $(stat -c %a "$CACHE") $(stat -c %a "$XDG_CACHE_HOME/ztc")"
expect_out "$ref" "first use: the same boards"
[ "$err" = "$ref_err" ] && pass "first use: the same warning" || fail "first use stderr: $err"

# Reused: not written again, and its entries stand for device.json files of the same size and mtime.
ino=$(stat -c %i:%Y "$CACHE")
ztc_run -J device supported
expect_out "$ref" "second use: the same boards"
[ "$err" = "$ref_err" ] && pass "second use: the warning replayed from the cache" || fail "second use stderr: $err"
[ "$(stat -c %i:%Y "$CACHE")" = "$ino" ] && pass "cache reused, not rewritten" || fail "cache rewritten"
# Same size, same mtime, another name: the cached entry wins, which proves it is read from the cache.
f="$DB/arduino_due/device.json"
stamp=$(stat -c %y "$f")
sed -i 's/"Arduino Due"/"Arduino DUE"/' "$f"
touch -d "$stamp" "$f"
ztc_run -J device supported
case $out in *'"Arduino Due"'*) pass "an unchanged size and mtime: the cached entry is used" ;;
*) fail "cache not used: $out" ;; esac

# A device.json that changed (mtime): parsed again, the cache rewritten.
touch "$f"
ztc_run -J device supported
case $out in *'"Arduino DUE"'*) pass "device.json touched: parsed again" ;; *) fail "stale entry: $out" ;; esac
[ "$(stat -c %i "$CACHE")" != "${ino%%:*}" ] && pass "cache rewritten after a change" || fail "cache not rewritten"
# Its whole device.json is still there for what matching and registering read (read on demand).
sed -i 's/"Arduino DUE"/"Arduino Due"/' "$f"

# A folder that appears.
cp -r "$top_srcdir/db/arduino_mkr1000" "$DB/"
ztc_run -J device supported
case $out in *'"arduino_mkr1000"'*) pass "a new folder is listed" ;; *) fail "new folder missing: $out" ;; esac
rm -r "$DB/arduino_mkr1000"
# The malformed board fixed: listed, its warning gone.
printf '{"name": "Fixed", "target": "fixed", "type": "board", "classes": []}\n' >"$DB/broken/device.json"
ztc_run -J device supported
case $out in *'"fixed"'*) pass "a fixed device.json is parsed again" ;; *) fail "fixed board missing: $out" ;; esac
[ "$err" = "$FLASHWARN" ] && pass "no warning once fixed (the flash object's stays, from the cache)" ||
	fail "stderr: $err"
printf '{"name": "Broken", "target": ' >"$DB/broken/device.json"
ztc_run -J device supported
expect_out "$ref" "back to the reference"

# Corrupt caches: truncated, garbage, another version. Each is ignored (same output, exit 0) and rebuilt.
size=$(stat -c %s "$CACHE")
for how in truncate garbage zero version; do
	case $how in
	truncate) truncate -s $((size / 2)) "$CACHE" ;;
	garbage) head -c "$size" /dev/urandom >"$CACHE" ;;
	zero) : >"$CACHE" ;;
	version) sed -i 's/ZTCDBC/ZTCDBX/' "$CACHE" ;;
	esac
	ztc_run -J device supported
	expect_rc 0 "cache $how"
	expect_out "$ref" "cache $how: the same boards"
	[ "$err" = "$ref_err" ] && pass "cache $how: nothing more on stderr" || fail "cache $how: stderr $err"
	[ "$(stat -c %s "$CACHE")" = "$size" ] && pass "cache $how: rebuilt" || fail "cache $how: size $(stat -c %s "$CACHE")"
done
# One byte changed in the middle (a name): the checksum catches it.
printf 'X' | dd of="$CACHE" bs=1 seek=$((size / 2)) conv=notrunc status=none
ztc_run -J device supported
expect_out "$ref" "one byte altered: the same boards"
ls "$XDG_CACHE_HOME/ztc" | grep -qv '^boards.cache$' && fail "files left: $(ls "$XDG_CACHE_HOME/ztc")" ||
	pass "no temporary files left"

# A link planted in place of the cache is not followed (nor replaced by something it points to).
rm "$CACHE"
printf 'precious' >"$TMP/target"
ln -s "$TMP/target" "$CACHE"
ztc_run -J device supported
expect_out "$ref" "cache is a symlink: the same boards"
[ "$(cat "$TMP/target")" = precious ] && pass "the link's target untouched" || fail "link target changed"
[ -f "$CACHE" ] && [ ! -L "$CACHE" ] && pass "the link replaced by a cache file" || fail "cache not rebuilt"

# Runs with another ZTC_DB_PATH keep the entries of the dirs they do not search (up to 16 dirs): a
# vendor dir searched now and then is not parsed again each time.
DB2="$TMP/db2"
mkdir -p "$DB2" && cp -r "$top_srcdir/db/arduino_mkr1000" "$DB2/"
ZTC_DB_PATH="$DB:$DB2" ztc_run -J device supported
expect_rc 0 "two dirs"
ZTC_DB_PATH="$DB2" ztc_run -J device supported
expect_rc 0 "the second dir alone"
stamp=$(stat -c %y "$f")
sed -i 's/"Arduino Due"/"Arduino DUE"/' "$f"
touch -d "$stamp" "$f"
ztc_run -J device supported
case $out in *'"Arduino Due"'*) pass "a dir left out of one run: its entries kept in the cache" ;;
*) fail "entries of $DB dropped by a run without it: $out" ;; esac
# Seventeen other dirs later, the oldest is gone: parsed again (the edited name shows).
for i in $(seq 1 17); do
	mkdir -p "$TMP/many/$i" && cp -r "$top_srcdir/db/arduino_mkr1000" "$TMP/many/$i/"
	ZTC_DB_PATH="$TMP/many/$i" ztc_run -J device supported
	expect_rc 0 "dir $i of 17"
done
n=$(grep -c "$TMP/many/" <(strings "$CACHE" | sort -u) || true)
[ "$n" -le 16 ] && pass "at most 16 dirs kept ($n of the 17 named)" || fail "$n dirs kept"
ztc_run -J device supported
case $out in *'"Arduino DUE"'*) pass "a dir not searched for 17 runs of other dirs: dropped, parsed again" ;;
*) fail "stale entry kept: $out" ;; esac
sed -i 's/"Arduino DUE"/"Arduino Due"/' "$f"

# Never required: a cache dir that cannot be made, a missing HOME, a relative XDG_CACHE_HOME.
mkdir -p "$TMP/ro" && : >"$TMP/ro/ztc" # a file where the ztc dir should be
XDG_CACHE_HOME="$TMP/ro" ztc_run -J device supported
expect_rc 0 "cache dir cannot be created"
expect_out "$ref" "cache dir cannot be created: the same boards"
[ "$err" = "$ref_err" ] && pass "cache dir cannot be created: nothing more on stderr" || fail "stderr: $err"
if [ "$(id -u)" != 0 ]; then
	mkdir -p "$TMP/ro2/ztc" && chmod 0500 "$TMP/ro2/ztc"
	XDG_CACHE_HOME="$TMP/ro2" ztc_run -J device supported
	expect_out "$ref" "read-only cache dir: the same boards"
	chmod 0700 "$TMP/ro2/ztc"
fi
out=$(env -u XDG_CACHE_HOME -u HOME "$ZTC" -J device supported 2>/dev/null) || true
expect_out "$ref" "no HOME, no XDG_CACHE_HOME"
# A relative XDG_CACHE_HOME is ignored, as the XDG spec says: ~/.cache then.
(cd "$TMP" && HOME="$TMP/h" XDG_CACHE_HOME=relative "$ZTC" -J device supported >"$TMP/rel.out" 2>/dev/null)
[ "$(cat "$TMP/rel.out")" = "$ref" ] && pass "relative XDG_CACHE_HOME: the same boards" || fail "relative: $(cat "$TMP/rel.out")"
[ ! -e "$TMP/relative" ] && [ -f "$TMP/h/.cache/ztc/boards.cache" ] &&
	pass "relative XDG_CACHE_HOME ignored: ~/.cache/ztc used" || fail "relative XDG_CACHE_HOME: $(ls "$TMP")"
finish
