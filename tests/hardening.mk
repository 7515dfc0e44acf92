# tests/hardening.mk: make check: bad input and faults of libztc and ztc (docs/hardening.md): JSON nested
# too deep, store files that are no regular files or break the store's invariants, class names that are
# paths, the token kept out of core dumps and the process list, another user's ZTC_HOME.

# The depth-capped parse (internal) and each place that uses it: linked with the library's objects.
check_PROGRAMS += tests/unit/test-json
tests_unit_test_json_SOURCES = tests/unit/test-json.c
tests_unit_test_json_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core/lib $(YAJL_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_json_LDADD = $(core_lib_libztc_la_OBJECTS) $(core_lib_libztc_la_LIBADD) $(CHECK_LIBS)

# An LD_PRELOAD probe: dumpable flag, core limit and /proc/self/cmdline while ztc holds the token.
check_LTLIBRARIES += tests/tools/secret-probe.la
tests_tools_secret_probe_la_SOURCES = tests/tools/secret-probe.c
tests_tools_secret_probe_la_CPPFLAGS = $(CURL_CFLAGS)
tests_tools_secret_probe_la_CFLAGS = -Wall -Wextra
tests_tools_secret_probe_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_tools_secret_probe_la_LIBADD = -ldl

# ztc itself with a run path to the built libztc instead of libtool's wrapper script: it runs with a real
# uid other than the effective one, where the shell drops privileges and the loader ignores LD_LIBRARY_PATH.
check_PROGRAMS += tests/tools/ztc-direct
tests_tools_ztc_direct_SOURCES = $(core_cli_ztc_SOURCES)
tests_tools_ztc_direct_CPPFLAGS = $(core_cli_ztc_CPPFLAGS)
tests_tools_ztc_direct_LDADD = $(core_cli_ztc_LDADD)
tests_tools_ztc_direct_LDFLAGS = $(AM_LDFLAGS) -no-install

TESTS += tests/unit/test-json tests/hardening.sh
EXTRA_DIST += tests/hardening.sh
