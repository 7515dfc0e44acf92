# installcheck.sh: make installcheck: the example plugin builds against the installed libztc.pc and the installed ztc lists and loads it.
# Run by the installcheck-local rule of packaging/local.mk, which passes the install dirs in the environment.
set -u
: "${bindir:?run through make installcheck}" "${libdir:?}" "${pkgconfigdir:?}" "${plugindir:?}" \
	"${boarddbdir:?}" "${plugin_abi:?}" "${srcdir:?}"
DESTDIR=${DESTDIR:-}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
CC=${CC:-cc}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ztc-installcheck.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

# The installed .pc files only: PKG_CONFIG_LIBDIR replaces the default path, and gnutls and yajl (for
# libzadm's Requires.private) are looked up where the system keeps them.
sys_pc=$($PKG_CONFIG --variable pc_path pkg-config 2>/dev/null || true)
PKG_CONFIG_LIBDIR="$DESTDIR$pkgconfigdir${sys_pc:+:$sys_pc}"
export PKG_CONFIG_LIBDIR
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
pc() { $PKG_CONFIG "$@"; }
# Flags: with DESTDIR, the sysroot prefix makes -I and -L point into DESTDIR whatever libdir is.
pcflags() { if [ -n "$DESTDIR" ]; then PKG_CONFIG_SYSROOT_DIR=$DESTDIR $PKG_CONFIG "$@"; else $PKG_CONFIG "$@"; fi; }

# --- the .pc files ---------------------------------------------------------------------------------
for lib in libztc libzadm; do
	[ -f "$DESTDIR$pkgconfigdir/$lib.pc" ] && pass "$lib.pc installed" || fail "$DESTDIR$pkgconfigdir/$lib.pc missing"
	v=$(pc --modversion "$lib" 2>&1)
	[ "$v" = "${version:-$v}" ] && pass "$lib version $v" || fail "$lib --modversion: $v"
done
v=$(pc --variable=plugindir libztc)
[ "$v" = "$plugindir" ] && pass "plugindir=$v" || fail "libztc.pc plugindir '$v', installed in '$plugindir'"
v=$(pc --variable=boarddbdir libztc)
[ "$v" = "$boarddbdir" ] && pass "boarddbdir=$v" || fail "libztc.pc boarddbdir '$v', installed in '$boarddbdir'"
v=$(pc --variable=plugin_abi libztc)
[ "$v" = "$plugin_abi" ] && pass "plugin_abi=$v" || fail "libztc.pc plugin_abi '$v', configure says '$plugin_abi'"
[ -n "$(ls "$DESTDIR$plugindir"/*.so 2>/dev/null)" ] && pass "plugin modules in the plugin dir" ||
	fail "no module in $DESTDIR$plugindir"
[ -f "$DESTDIR$boarddbdir/ztc_sim/device.json" ] && pass "board database installed" ||
	fail "no $DESTDIR$boarddbdir/ztc_sim/device.json"
ZTC_CFLAGS=$(pcflags --cflags libztc) && ZTC_LIBS=$(pcflags --libs libztc) || fail "pkg-config libztc flags"
ZADM_CFLAGS=$(pcflags --cflags libzadm) && ZADM_LIBS=$(pcflags --libs libzadm) || fail "pkg-config libzadm flags"

# --- the other installed files ---------------------------------------------------------------------
for p in man1/ztc.1 man1/ztc-device.1 man1/ztc-vm.1 man1/zadm-sandbox.1 man3/libzadm.3 man7/ztc-plugin.7; do
	[ -f "$DESTDIR${mandir:-/nonexistent}/$p" ] || fail "man page $p not installed in $DESTDIR${mandir:-}"
done
if [ "${udevrulesdir:-no}" != no ]; then
	grep -q 'TAG+="uaccess"' "$DESTDIR$udevrulesdir/60-ztc.rules" 2>/dev/null && pass "udev rules installed" ||
		fail "no $DESTDIR$udevrulesdir/60-ztc.rules"
fi
if [ "${bashcompletiondir:-no}" != no ]; then
	grep -q 'complete -F _ztc ztc' "$DESTDIR$bashcompletiondir/ztc" 2>/dev/null && pass "bash completion installed" ||
		fail "no $DESTDIR$bashcompletiondir/ztc"
fi

# --- the example plugin, built as a vendor would ---------------------------------------------------
DB="$TMP/boards"
mkdir -p "$DB/acme_widget"
cp "$srcdir/examples/plugin/device.json" "$DB/acme_widget/device.json"
if $CC -shared -fPIC -fvisibility=hidden $ZTC_CFLAGS -o "$DB/acme_widget/acme.so" \
	"$srcdir/examples/plugin/acme.c" $ZTC_LIBS 2>"$TMP/cc.err"; then
	pass "examples/plugin/acme.c builds with pkg-config libztc"
else
	fail "building the example plugin: $(cat "$TMP/cc.err")"
fi
if command -v nm >/dev/null 2>&1 && [ -f "$DB/acme_widget/acme.so" ]; then
	exp=$(nm -D --defined-only "$DB/acme_widget/acme.so" | awk '$2 ~ /^[A-Z]$/ {print $3}' | grep -v '^_' | tr '\n' ' ')
	[ "$exp" = "ztc_plugin_descriptor " ] && pass "it exports the descriptor only" || fail "it exports: $exp"
fi

# The installed programs run on the installed libraries; with DESTDIR their compiled-in dirs do not
# exist yet, so the search paths point into DESTDIR.
LD_LIBRARY_PATH="$DESTDIR$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
export ZTC_HOME="$TMP/home"
unset ZTC_DEBUG ZTC_TOKEN ZTC_MOUNTINFO
if [ -n "$DESTDIR" ]; then
	export ZTC_DB_PATH="$DB:$DESTDIR$boarddbdir" ZTC_PLUGIN_PATH="$DESTDIR$plugindir"
else
	export ZTC_DB_PATH="$DB"
	unset ZTC_PLUGIN_PATH
fi

ZTC="$DESTDIR$bindir/ztc"
out=$("$ZTC" -J device supported 2>"$TMP/err")
rc=$?
if [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q "^{\"target\":\"acme_widget\",\"name\":\"Acme Widget\",\"type\":\"board\",\"path\":\"$DB/acme_widget\"}\$"; then
	pass "the installed ztc lists the example board"
else
	fail "ztc -J device supported (exit status $rc): $out $(cat "$TMP/err")"
fi
printf '%s\n' "$out" | grep -q '"target":"ztc_sim"' && pass "and the installed database" ||
	fail "ztc_sim not listed: the installed database was not found"

# Loading it: a tiny program linked against the installed libztc resolves every class of a target.
cat >"$TMP/resolve.c" <<'C'
/* resolve.c: resolve (load the plugin module of) every class of one target through the installed libztc. */
#include <stdio.h>
#include <string.h>
#include <ztc/ztc.h>
#include <ztc/plugin.h>

int main(int argc, char **argv)
{
	ztc_ctx *ctx;
	ztc_db *db;
	int found = 0, bad = 0;

	if (argc != 2 || ztc_ctx_new(&ctx) < 0)
		return 2;
	if (ztc_db_load(ctx, &db) < 0) {
		fprintf(stderr, "%s\n", ztc_ctx_errmsg(ctx));
		return 1;
	}
	for (size_t i = 0; i < ztc_db_count(db); i++) {
		const ztc_target *t = ztc_db_get(db, i);

		if (strcmp(ztc_target_get_id(t), argv[1]) != 0)
			continue;
		found = 1;
		for (size_t c = 0; c < ztc_target_class_count(t); c++) {
			const ztc_class_desc *cd;

			if (ztc_plugin_resolve(ctx, t, c, &cd) < 0) {
				fprintf(stderr, "%s\n", ztc_ctx_errmsg(ctx));
				bad = 1;
			} else {
				printf("%s %s.%s\n", argv[1], ztc_target_class_module(t, c), cd->name);
			}
		}
	}
	printf("abi %d.%d\n", ZTC_PLUGIN_ABI_MAJOR, ZTC_PLUGIN_ABI_MINOR);
	ztc_db_free(db);
	ztc_ctx_free(ctx);
	return found ? bad : 1;
}
C
if $CC $ZTC_CFLAGS -o "$TMP/resolve" "$TMP/resolve.c" $ZTC_LIBS 2>"$TMP/cc.err"; then
	pass "a program builds and links against the installed libztc"
	out=$("$TMP/resolve" acme_widget 2>&1)
	[ "$(printf '%s\n' "$out" | head -1)" = "acme_widget acme.Widget" ] &&
		pass "libztc loads the example plugin from its board folder" || fail "resolve acme_widget: $out"
	printf '%s\n' "$out" | grep -qx "abi $plugin_abi" && pass "installed header ABI $plugin_abi = plugin_abi" ||
		fail "header ABI and plugin_abi $plugin_abi differ: $out"
	out=$("$TMP/resolve" ztc_sim 2>&1)
	printf '%s\n' "$out" | grep -q '^ztc_sim sim\.' &&
		pass "a built-in class resolves from the installed plugin dir" || fail "resolve ztc_sim: $out"
else
	fail "building against the installed libztc: $(cat "$TMP/cc.err")"
fi

# libzadm too: a program that links it and gets an error string.
printf '#include <zadm/zadm.h>\n#include <stdio.h>\nint main(void) { puts(zadm_strerror(0)); return 0; }\n' >"$TMP/zadm.c"
if $CC $ZADM_CFLAGS -o "$TMP/zadm" "$TMP/zadm.c" $ZADM_LIBS 2>"$TMP/cc.err" && "$TMP/zadm" >/dev/null; then
	pass "a program builds, links and runs against the installed libzadm"
else
	fail "libzadm: $(cat "$TMP/cc.err")"
fi

[ "$failures" -eq 0 ] || { echo "installcheck: $failures failure(s)" >&2; exit 1; }
echo "installcheck: the installed libztc builds and loads the example plugin"
