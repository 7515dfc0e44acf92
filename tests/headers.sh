# headers.sh: every public header of libztc compiles on its own (its only #include, with the flags of
# `pkg-config --cflags libztc` for the build tree), as C and as C++, includes ztc/common.h inside its
# include guard, and ztc.h includes every one of them.
. "$top_srcdir/tests/lib.sh"
set -e
CC=${CC:-cc}
export PKG_CONFIG_PATH="$top_builddir${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cflags=$(pkg-config --cflags libztc-uninstalled)
inc="$top_srcdir/core/include/ztc"
headers=$(cd "$inc" && ls *.h)
[ "$(echo $headers | wc -w)" -ge 9 ] && pass "public headers: $(echo $headers)" || fail "headers found: $headers"
cxx=$(command -v c++ || command -v g++ || true)
for h in $headers; do
	printf '#include <ztc/%s>\n' "$h" >"$TMP/alone.c"
	if "$CC" -std=gnu11 -Wall -Wextra -Werror $cflags -c -o "$TMP/alone.o" "$TMP/alone.c" 2>"$TMP/cc.err"; then
		pass "ztc/$h compiles alone (C)"
	else
		fail "ztc/$h alone (C): $(cat "$TMP/cc.err")"
	fi
	if [ -n "$cxx" ]; then
		cp "$TMP/alone.c" "$TMP/alone.cc"
		"$cxx" -Wall -Wextra -Werror $cflags -c -o "$TMP/alone.o" "$TMP/alone.cc" 2>"$TMP/cc.err" &&
			pass "ztc/$h compiles alone (C++)" || fail "ztc/$h alone (C++): $(cat "$TMP/cc.err")"
	fi
	[ "$h" = ztc.h ] && continue
	# The guard's #define comes first, then (for all but common.h) the include of common.h.
	guard=$(sed -n 's/^#define \(ZTC_[A-Z_]*_H\)$/\1/p' "$inc/$h" | head -1)
	[ "$(grep -m1 -n '^#ifndef ' "$inc/$h" | cut -d: -f2)" = "#ifndef $guard" ] &&
		pass "ztc/$h: guard $guard opens the file" || fail "ztc/$h: no include guard first"
	if [ "$h" != common.h ]; then
		gl=$(grep -n "^#define $guard\$" "$inc/$h" | cut -d: -f1)
		cl=$(grep -n '^#include "ztc/common.h"$' "$inc/$h" | cut -d: -f1)
		[ -n "$cl" ] && [ "$cl" -gt "$gl" ] && pass "ztc/$h includes ztc/common.h inside its guard" ||
			fail "ztc/$h: ztc/common.h not included inside the guard"
	fi
	grep -q "^#include \"ztc/$h\"\$" "$inc/ztc.h" && pass "ztc.h includes ztc/$h" || fail "ztc.h lacks ztc/$h"
done
# The installed list (core/local.mk and the others) names every header.
for h in $headers; do
	grep -rqs "core/include/ztc/$h" "$top_srcdir/core/"*.mk && pass "ztc/$h is installed" || fail "ztc/$h not in ztcinclude_HEADERS"
done
# The library API of the command's policies is exported by libztc.so; its internal helpers are not.
so="$top_builddir/core/lib/.libs/libztc.so"
syms=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}')
for f in ztc_store_resolve_alias ztc_usbdev_list_resolve_uid ztc_vmstore_resolve ztc_resolve_prefix \
	ztc_ctx_candidates ztc_alias_put ztc_alias_del ztc_vm_create ztc_store_resolve_device ztc_alias_list_new \
	ztc_alias_list_free ztc_vm_list_remote ztc_vm_download; do
	printf '%s\n' "$syms" | grep -qx "$f" && pass "libztc.so exports $f" || fail "libztc.so does not export $f"
done
printf '%s\n' "$syms" | grep -E '^ztc_(json_|buf_|strv_free|known_dup)' && fail "internal helpers exported" ||
	pass "internal helpers (ztc_json_*, ztc_buf_*) stay hidden"
# The loader is not in the plugin author's header.
grep -q 'ztc_plugin_resolve' "$inc/plugin.h" && fail "plugin.h still declares the loader" || pass "plugin.h has no loader API"
finish
