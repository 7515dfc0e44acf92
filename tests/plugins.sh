# plugins.sh: every built module loads and validates, every class of the database resolves, and an
# out-of-tree vendor plugin built with pkg-config is listed, matched and resolved.
. "$top_srcdir/tests/lib.sh"
set -e
CHECK="$top_builddir/tests/tools/plugin-check"
CC=${CC:-cc}

# Every built-in module: loads, ABI ok, descriptor valid, exports only the descriptor.
# (A module is plugins/NAME/NAME.la; plugins/common holds the convenience libraries linked into some.)
mods=$(for d in "$top_builddir"/plugins/*/; do m="$d$(basename "$d").la"; [ -f "$m" ] && echo "$m"; done)
[ -n "$mods" ] && pass "built modules: $(echo $mods | wc -w)" || fail "no built plugin module"
for m in $mods; do
	if out=$("$CHECK" open "$m" 2>&1); then pass "loads $(basename "$m"): $out"; else fail "$m: $out"; fi
	so="$(dirname "$m")/.libs/$(basename "$m" .la).so"
	exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[A-Z]$/ {print $3}' | grep -v '^_' | tr '\n' ' ')
	[ "$exported" = "ztc_plugin_descriptor " ] && pass "$(basename "$so") exports only the descriptor" ||
		fail "$(basename "$so") exports: $exported"
done

# Every class the database names resolves to a loaded module.
if out=$("$CHECK" resolve 2>"$TMP/err"); then
	pass "every class of the database resolves ($(printf '%s\n' "$out" | tail -1))"
else
	fail "resolve: $(cat "$TMP/err")"
fi

# --- an out-of-tree vendor plugin, built as a vendor would -----------------------------------------
export PKG_CONFIG_PATH="$top_builddir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
CFLAGS_ZTC=$(pkg-config --cflags libztc)
LIBS_ZTC=$(pkg-config --libs libztc)
V="$TMP/vendor"
mkdir -p "$V/acme_widget" "$V/other"
cat >"$V/acme.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <ztc/plugin.h>

/* Proves whether the module was loaded: writes $PLUGIN_MARKER when dlopened. */
__attribute__((constructor)) static void loaded(void)
{
	const char *m = getenv("PLUGIN_MARKER");
	FILE *f = m ? fopen(m, "a") : NULL;

	if (f) { fputs("loaded\n", f); fclose(f); }
}

static int widget_burn(ztc_board *b, const ztc_image *img, size_t n)
{
	ztc_board_log(b, ZTC_LOG_INFO, "burn %zu", n);
	return ZTC_OK;
}

static const ztc_class_desc classes[] = {
	{ .name = "Widget", .burn = widget_burn },
	{ .name = NULL },
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ABI_MAJOR, .abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "acme", .version = "1.0", .license = "MIT", .classes = classes,
};
C
build() { "$CC" -shared -fPIC -fvisibility=hidden $CFLAGS_ZTC "$@" $LIBS_ZTC; }
build -DABI_MAJOR=ZTC_PLUGIN_ABI_MAJOR -o "$V/acme_widget/acme.so" "$V/acme.c" &&
	pass "vendor plugin builds with pkg-config --cflags/--libs libztc" || fail "vendor plugin build"
cat >"$V/acme_widget/device.json" <<'JSON'
{"name": "Acme Widget", "target": "acme_widget", "type": "board",
 "classes": [{"class": "acme.Widget", "usb": ["1209:0001"]}], "virtualizable": "Widget"}
JSON
sed 's/2341/1209/g; s/003d/0001/g; s/003D/0001/g; s/Arduino/Acme/g' "$DATA/arduino_due.umockdev" >"$V/widget.umockdev"
export PLUGIN_MARKER="$TMP/marker"
DBP="$V:$top_srcdir/db"

ZTC_DB_PATH="$DBP" ztc_run -J device supported
printf '%s\n' "$out" | "$JSONL" get target path | grep -qx "acme_widget|$V/acme_widget" &&
	pass "vendor board listed by supported" || fail "supported: $out $err"
ZTC_DB_PATH="$DBP" "$UMOCKDEV_RUN" -d "$V/widget.umockdev" -- "$ZTC" -J device discover --matchdb >"$TMP/m.out" 2>"$TMP/m.err" &&
	[ "$("$JSONL" get target classname <"$TMP/m.out")" = "acme_widget|Widget" ] &&
	pass "vendor board matched" || fail "matchdb: $(cat "$TMP/m.out" "$TMP/m.err")"
[ ! -e "$PLUGIN_MARKER" ] && pass "discover --matchdb and supported never dlopen a plugin" ||
	fail "a plugin was loaded by discover or supported"
out=$(ZTC_DB_PATH="$DBP" "$CHECK" resolve acme_widget 2>&1) && [ "$(printf '%s\n' "$out" | head -1)" = "acme_widget acme.Widget" ] &&
	pass "vendor class resolved from the board folder" || fail "resolve vendor: $out"
[ -e "$PLUGIN_MARKER" ] && pass "resolving loads the module" || fail "resolve did not load the module"

# Found through ZTC_PLUGIN_PATH when the board folder has no module.
mkdir -p "$V/plugdir" "$V/db2/acme_widget"
mv "$V/acme_widget/acme.so" "$V/plugdir/acme.so"
cp "$V/acme_widget/device.json" "$V/db2/acme_widget/"
out=$(ZTC_DB_PATH="$V/db2" ZTC_PLUGIN_PATH="$V/plugdir:$top_builddir/plugins" "$CHECK" resolve acme_widget 2>&1) &&
	pass "vendor module found on ZTC_PLUGIN_PATH" || fail "ZTC_PLUGIN_PATH: $out"
out=$(ZTC_DB_PATH="$V/db2" ZTC_PLUGIN_PATH="$top_builddir/plugins" "$CHECK" resolve acme_widget 2>&1) &&
	fail "missing module resolved" || {
	case "$out" in *"plugin module 'acme' for acme.Widget not found (searched $V/db2/acme_widget"*) pass "missing module: $out" ;;
	*) fail "missing module message: $out" ;; esac; }

# Wrong ABI, no descriptor, unknown class: refused with a message naming the file.
build -DABI_MAJOR=99 -o "$V/db2/acme_widget/acme.so" "$V/acme.c"
out=$(ZTC_DB_PATH="$V/db2" "$CHECK" resolve acme_widget 2>&1) && fail "wrong ABI accepted" || {
	case "$out" in *"plugin $V/db2/acme_widget/acme: ABI 99."[0-9]*" is not supported"*) pass "wrong ABI refused, file named" ;;
	*) fail "wrong ABI message: $out" ;; esac; }
printf 'int unrelated(void) { return 1; }\n' >"$V/plain.c"
"$CC" -shared -fPIC -o "$V/db2/acme_widget/acme.so" "$V/plain.c"
out=$(ZTC_DB_PATH="$V/db2" "$CHECK" resolve acme_widget 2>&1) && fail "module without descriptor accepted" || {
	case "$out" in *"plugin $V/db2/acme_widget/acme has no ztc_plugin_descriptor symbol"*) pass "no descriptor refused, file named" ;;
	*) fail "no-descriptor message: $out" ;; esac; }
echo 'not an ELF file' >"$V/db2/acme_widget/acme.so"
out=$(ZTC_DB_PATH="$V/db2" "$CHECK" resolve acme_widget 2>&1) && fail "garbage module accepted" || {
	case "$out" in *"plugin $V/db2/acme_widget/acme cannot be loaded"*) pass "garbage module refused without a crash" ;;
	*) fail "garbage message: $out" ;; esac; }
build -DABI_MAJOR=ZTC_PLUGIN_ABI_MAJOR -o "$V/db2/acme_widget/acme.so" "$V/acme.c"
sed -i 's/acme.Widget/acme.Gadget/; s/"Widget"/"Gadget"/' "$V/db2/acme_widget/device.json"
out=$(ZTC_DB_PATH="$V/db2" "$CHECK" resolve acme_widget 2>&1) && fail "unknown class accepted" || {
	case "$out" in *"plugin $V/db2/acme_widget/acme has no class Gadget"*) pass "unknown class refused, file named" ;;
	*) fail "unknown class message: $out" ;; esac; }
# --- modules are cached by the file found, not by name ------------------------------------------------
# Two board folders each ship their own acme module (different classes): each board gets its own.
mkdir -p "$V/two/board_a" "$V/two/board_b"
cat >"$V/acme2.c" <<'C'
#include <ztc/plugin.h>

static const ztc_class_desc classes[] = {
	{ .name = CLASS },
	{ .name = NULL },
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR, .abi_minor = ABI_MINOR,
	.module = "acme", .version = VERSION, .license = "MIT", .classes = classes, DEFAULT
};
C
acme() { build -DABI_MINOR="$1" -DCLASS="\"$2\"" -DVERSION="\"$3\"" -DDEFAULT="$4" -o "$5" "$V/acme2.c"; }
acme ZTC_PLUGIN_ABI_MINOR Alpha a1 "" "$V/two/board_a/acme.so"
acme ZTC_PLUGIN_ABI_MINOR Beta b1 "" "$V/two/board_b/acme.so"
for b in a b; do
	c=$([ $b = a ] && echo Alpha || echo Beta)
	printf '{"name": "Board %s", "target": "board_%s", "type": "board", "classes": [{"class": "acme.%s", "usb": ["1209:000%s"]}]}\n' \
		"$b" "$b" "$c" "$([ $b = a ] && echo 1 || echo 2)" >"$V/two/board_$b/device.json"
done
# Only the two boards: the installed database (after `make install`) must not count.
out=$(ZTC_DB_PATH="$V/two" "$CHECK" resolve board_a board_b 2>&1) &&
	[ "$out" = "$(printf 'board_a acme.Alpha\nboard_b acme.Beta\nloaded 2 modules')" ] &&
	pass "two boards shipping a different acme module each get their own" || fail "same-named modules: $out"

# --- a family module's default class stands in for class names its table does not list --------------
mkdir -p "$V/fam/clone" "$V/fam/old"
acme ZTC_PLUGIN_ABI_MINOR Family f1 '.default_class = "Family"' "$V/fam/clone/acme.so"
printf '{"name": "Clone", "target": "clone", "type": "board", "classes": [{"class": "acme.CloneBoard", "usb": ["1209:0003"]}]}\n' \
	>"$V/fam/clone/device.json"
out=$(ZTC_DB_PATH="$V/fam" "$CHECK" resolve clone 2>&1) && [ "$(printf '%s\n' "$out" | head -1)" = "clone acme.Family" ] &&
	pass "an unlisted class name resolves to the module's default class" || fail "default class: $out"
# A module built for ABI 1.0 (no default class) still loads; its unlisted class is still refused.
acme 0 Family f0 "" "$V/fam/old/acme.so"
sed 's/"clone"/"old"/; s/Clone/Old/g' "$V/fam/clone/device.json" >"$V/fam/old/device.json"
out=$("$CHECK" open "$V/fam/old/acme.so" 2>&1) && [ "$out" = "acme Family" ] && pass "an ABI 1.0 module loads" ||
	fail "ABI 1.0 module: $out"
out=$(ZTC_DB_PATH="$V/fam" "$CHECK" resolve old 2>&1) && fail "ABI 1.0 module: unlisted class accepted" || {
	case "$out" in *"plugin $V/fam/old/acme has no class OldBoard"*) pass "no default class: unlisted class refused" ;;
	*) fail "no default class message: $out" ;; esac; }
# An ABI 1.0 module cannot use the field (it was reserved), and a default class must be in the table.
acme 0 Family f0 '.default_class = "Family"' "$V/fam/old/acme.so"
out=$("$CHECK" open "$V/fam/old/acme.so" 2>&1) && fail "ABI 1.0 module with a default class accepted" || {
	case "$out" in *"reserved descriptor fields are not zero"*) pass "ABI 1.0 module using the reserved field refused" ;;
	*) fail "1.0 reserved message: $out" ;; esac; }
acme ZTC_PLUGIN_ABI_MINOR Family f1 '.default_class = "Nope"' "$V/fam/old/acme.so"
out=$("$CHECK" open "$V/fam/old/acme.so" 2>&1) && fail "default class outside the table accepted" || {
	case "$out" in *"default class Nope is not in its class table"*) pass "default class outside the table refused" ;;
	*) fail "bad default class message: $out" ;; esac; }
# The built-in family modules name one, and it is in their table.
for m in atmel dfu esp mbed; do
	out=$("$CHECK" open "$top_builddir/plugins/$m/$m.la" 2>&1)
	case "$out" in *" (default "*")") pass "$m declares a default class: ${out##* (default }" ;; *) fail "$m: no default class: $out" ;; esac
done
finish
