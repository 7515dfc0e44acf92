# tests/local.mk: make check: Check unit suites and integration tests under umockdev.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
# With --enable-sanitizers: ASan may not come first in the library list under umockdev's LD_PRELOAD
# (verify_asan_link_order=0), and undefined behaviour fails a test instead of printing a line.
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	ZTC='$(abs_top_builddir)/core/cli/ztc'; UMOCKDEV_RUN='$(UMOCKDEV_RUN)'; \
	XDG_CACHE_HOME='$(abs_top_builddir)/tests/xdg-cache'; \
	export top_srcdir top_builddir ZTC UMOCKDEV_RUN XDG_CACHE_HOME; \
	if test -n '$(SANITIZER_CFLAGS)'; then \
		ASAN_OPTIONS="verify_asan_link_order=0$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}"; \
		UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1$${UBSAN_OPTIONS:+:$$UBSAN_OPTIONS}"; \
		ZTC_SANITIZERS=1; export ASAN_OPTIONS UBSAN_OPTIONS ZTC_SANITIZERS; \
	fi;

EXTRA_DIST += tests/lib.sh tests/data
# The board cache of the tests that do not set XDG_CACHE_HOME themselves: never the user's.
CLEANFILES += tests/xdg-cache/ztc/boards.cache
TESTS += tests/dbcache.sh
EXTRA_DIST += tests/dbcache.sh tests/twins.sh
if UMOCKDEV_TESTS
TESTS += tests/twins.sh
endif

# Tools the shell tests use: read JSON Lines (yajl), load and resolve plugins through libztc.
check_PROGRAMS += tests/tools/jsonl tests/tools/plugin-check
tests_tools_jsonl_CPPFLAGS = $(AM_CPPFLAGS) $(YAJL_CFLAGS)
tests_tools_jsonl_LDADD = $(YAJL_LIBS)
tests_tools_plugin_check_LDADD = core/lib/libztc.la

# A SAM-BA monitor simulator (SAM3X8E ROM, Arduino SAMD21 bootloader) for bossac and the atmel plugin,
# checked against the real bossac (skipped without bossa-cli).
check_PROGRAMS += tests/tools/samba-sim
TESTS += tests/samba-sim.sh tests/samba-bossac.sh
EXTRA_DIST += tests/samba-sim.sh tests/samba-bossac.sh

if UMOCKDEV_TESTS
# Plays the boards: a umockdev testbed whose ports talk and whose devices re-enumerate on cue.
check_PROGRAMS += tests/tools/fakeboard
tests_tools_fakeboard_CFLAGS = $(AM_CFLAGS) $(UMOCKDEV_CFLAGS)
tests_tools_fakeboard_LDADD = $(UMOCKDEV_LIBS)
TESTS += \
	tests/register.sh \
	tests/register-native.sh \
	tests/udev-unavailable.sh \
	tests/open.sh \
	tests/discover-records.sh \
	tests/matchdb.sh \
	tests/alias.sh \
	tests/plugins.sh
endif
EXTRA_DIST += tests/register-native.sh
EXTRA_DIST += tests/udev-unavailable.sh tests/register.sh tests/open.sh tests/discover-records.sh tests/matchdb.sh tests/alias.sh tests/plugins.sh

# Boards registered through their on-board probe with OpenOCD: the stand-in, and the real one when installed.
if UMOCKDEV_TESTS
TESTS += tests/register-probe.sh
endif
EXTRA_DIST += tests/register-probe.sh
# The ESP ROM serial bootloader simulator, checked against Espressif's protocol documentation
# (esp-sim.sh), and the esp plugin reading chip ids through it under umockdev (esp-native.sh).
check_PROGRAMS += tests/tools/esp-sim
TESTS += tests/esp-sim.sh
if UMOCKDEV_TESTS
TESTS += tests/esp-native.sh
endif
EXTRA_DIST += tests/esp-sim.sh tests/esp-native.sh

include tests/unit.mk

# --- library API (issue 12): public headers alone, the libztc Check runner, loader and family tests ---
TESTS += tests/headers.sh
EXTRA_DIST += tests/headers.sh tests/family.sh
# The Check runner of libztc: a suite per area (resolvers, alias policy, vm create, store, db and match,
# loader), against the source tree's database and the built plugins.
check_PROGRAMS += tests/unit/test-libztc
TESTS += tests/unit/test-libztc
tests_unit_test_libztc_SOURCES = tests/unit/test-libztc.c
tests_unit_test_libztc_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"' -DTOP_BUILDDIR='"$(abs_top_builddir)"'
tests_unit_test_libztc_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_libztc_LDADD = core/lib/libztc.la $(CHECK_LIBS)
if UMOCKDEV_TESTS
TESTS += tests/family.sh
endif

# DfuSe (plugins/dfu): a software DfuSe bootloader behind an emulated usbdevfs node, checked against the
# real dfu-util; the dfu plugin end to end under it; a preload that denies access to USB nodes; the
# memory-layout parser on its own.
check_PROGRAMS += tests/dfu/test-dfuse-layout
tests_dfu_test_dfuse_layout_SOURCES = tests/dfu/test-dfuse-layout.c plugins/dfu/dfuse-layout.c plugins/dfu/dfuse.h
tests_dfu_test_dfuse_layout_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/dfu
tests_dfu_test_dfuse_layout_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_dfu_test_dfuse_layout_LDADD = $(CHECK_LIBS)
TESTS += tests/dfu/test-dfuse-layout
if UMOCKDEV_TESTS
check_PROGRAMS += tests/tools/dfuse-model
tests_tools_dfuse_model_CFLAGS = $(AM_CFLAGS) $(UMOCKDEV_CFLAGS)
tests_tools_dfuse_model_LDADD = $(UMOCKDEV_LIBS)
check_LTLIBRARIES += tests/tools/no-usb-access.la
tests_tools_no_usb_access_la_SOURCES = tests/tools/no-usb-access.c
tests_tools_no_usb_access_la_CFLAGS = -Wall -Wextra
tests_tools_no_usb_access_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_tools_no_usb_access_la_LIBADD = -ldl
TESTS += tests/dfu-util-model.sh tests/dfu.sh
endif
EXTRA_DIST += tests/dfu-util-model.sh tests/dfu.sh

# The core flow on the SAM boards with Debian's bossac alone (bossa-cli): alias, native register, vm create
# against the test backend and virtualize, on samba-sim boards behind fakeboard; the image checked in the
# simulator's flash, and the failures (silent board, no bossac, image too big). Skipped without bossac.
if UMOCKDEV_TESTS
TESTS += tests/virtualize-real.sh
endif
EXTRA_DIST += tests/virtualize-real.sh

include tests/hardening.mk
