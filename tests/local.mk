# tests/local.mk: make check: Check unit suites and integration tests under umockdev.
TEST_EXTENSIONS = .sh
# The LD_PRELOAD modules of tests/tools (never installed, loaded by path): one set of flags for all.
TEST_PRELOAD_CFLAGS = -Wall -Wextra
TEST_PRELOAD_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
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

# ztc_match_devices() against a brute-force oracle (its USB-id index).
check_PROGRAMS += tests/unit/test-match
TESTS += tests/unit/test-match
tests_unit_test_match_SOURCES = tests/unit/test-match.c
tests_unit_test_match_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_match_LDADD = core/lib/libztc.la $(CHECK_LIBS)
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
tests_tools_no_usb_access_la_CFLAGS = $(TEST_PRELOAD_CFLAGS)
tests_tools_no_usb_access_la_LDFLAGS = $(TEST_PRELOAD_LDFLAGS)
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

# ---- the serial console: over pseudo-terminals, the library directly and the real ztc command ------
check_PROGRAMS += tests/console/test-console
TESTS += tests/console/test-console
tests_console_test_console_SOURCES = tests/console/test-console.c tests/console/termios2.c tests/console/termios2.h
tests_console_test_console_CPPFLAGS = $(AM_CPPFLAGS) -DZTC_BIN='"$(abs_top_builddir)/core/cli/ztc"' \
	-DMODEM_LINES_SO='"$(abs_top_builddir)/tests/tools/.libs/modem-lines.so"'
tests_console_test_console_DEPENDENCIES = tests/tools/modem-lines.la core/lib/libztc.la
check_LTLIBRARIES += tests/tools/modem-lines.la
tests_tools_modem_lines_la_SOURCES = tests/tools/modem-lines.c
tests_tools_modem_lines_la_CFLAGS = $(TEST_PRELOAD_CFLAGS)
tests_tools_modem_lines_la_LDFLAGS = $(TEST_PRELOAD_LDFLAGS)
tests_tools_modem_lines_la_LIBADD = -ldl
tests_console_test_console_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_console_test_console_LDADD = core/lib/libztc.la $(CHECK_LIBS)

# ---- firmware files and flashing: stand-in flashing tools on PATH, boards under umockdev ----------
# Firmware files and libztc's pure helpers (no board).
check_PROGRAMS += tests/flash/test-firmware
TESTS += tests/flash/test-firmware
tests_flash_test_firmware_SOURCES = tests/flash/test-firmware.c
tests_flash_test_firmware_CPPFLAGS = $(AM_CPPFLAGS) -DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_flash_test_firmware_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_flash_test_firmware_LDADD = core/lib/libztc.la $(CHECK_LIBS)

# Boards under umockdev: flash-board drives libztc's board operations; the stand-in tools of
# tests/flash/bin (sharing tests/flash/standin.sh) are put first on PATH by flash.sh.
check_PROGRAMS += tests/flash/flash-board
tests_flash_flash_board_SOURCES = tests/flash/flash-board.c core/cli/progress.c
tests_flash_flash_board_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core/cli
tests_flash_flash_board_LDADD = core/lib/libztc.la
if UMOCKDEV_TESTS
TESTS += tests/flash/flash.sh
endif
EXTRA_DIST += tests/flash/flash.sh tests/flash/standin.sh \
	tests/flash/bin/bossac tests/flash/bin/dfu-util tests/flash/bin/dfustm32l4 \
	tests/flash/bin/edbg tests/flash/bin/edbg_l21 tests/flash/bin/edbg_c21n tests/flash/bin/esptool \
	tests/flash/bin/jlinkexe tests/flash/bin/openocd tests/flash/bin/spresense_mkspk \
	tests/flash/bin/spresense_flashwriter

# ---- the backend client against tests/backend/backend-server.py on 127.0.0.1 ---------------------
# Against tests/backend/backend-server.py on 127.0.0.1 (Python 3 standard library): real libcurl over
# real sockets, plain HTTP and HTTPS with a CA made at test time by certtool. No umockdev needed.
check_PROGRAMS += tests/backend/backend-call
tests_backend_backend_call_SOURCES = tests/backend/backend-call.c
tests_backend_backend_call_LDADD = core/lib/libztc.la
TESTS += \
	tests/backend/login.sh \
	tests/backend/vm-create.sh \
	tests/backend/faults.sh \
	tests/backend/tls.sh \
	tests/backend/client.sh \
	tests/backend/vm-remote.sh
EXTRA_DIST += \
	tests/backend/lib.sh \
	tests/backend/backend-server.py \
	tests/backend/login.sh \
	tests/backend/vm-create.sh \
	tests/backend/faults.sh \
	tests/backend/tls.sh \
	tests/backend/client.sh \
	tests/backend/vm-remote.sh

# ---- Check unit suites of libztc (uid, records, fusion) and the hotplug test ----------------------
# The umockdev suites re-execute themselves with the umockdev preload (tests/unit/umockdev-util.h):
# a LOG_COMPILER would wrap every other extension-less test as well.

TESTS += tests/cli-usage.sh
EXTRA_DIST += tests/cli-usage.sh tests/discover-mount.sh tests/unit/umockdev-util.h

if UMOCKDEV_TESTS
check_PROGRAMS += tests/unit/test-discover tests/unit/test-hotplug

tests_unit_test_discover_SOURCES = tests/unit/test-discover.c tests/unit/umockdev-util.h
tests_unit_test_discover_CPPFLAGS = $(AM_CPPFLAGS) $(CHECK_CFLAGS) $(UMOCKDEV_CFLAGS) \
	-DTOP_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_discover_LDADD = core/lib/libztc.la $(CHECK_LIBS) $(UMOCKDEV_LIBS)

tests_unit_test_hotplug_SOURCES = tests/unit/test-hotplug.c tests/unit/umockdev-util.h
tests_unit_test_hotplug_CPPFLAGS = $(AM_CPPFLAGS) $(CHECK_CFLAGS) $(UMOCKDEV_CFLAGS) \
	-DTOP_SRCDIR='"$(abs_top_srcdir)"' -DZTC_BUILT='"$(abs_top_builddir)/core/cli/ztc"' \
	-DNO_NETLINK_SO='"$(abs_top_builddir)/tests/tools/.libs/no-netlink.so"'
tests_unit_test_hotplug_DEPENDENCIES = tests/tools/no-netlink.la

# A preload that makes netlink sockets fail: the --looptime fallback of discover --loop.
check_LTLIBRARIES += tests/tools/no-netlink.la
tests_tools_no_netlink_la_SOURCES = tests/tools/no-netlink.c
tests_tools_no_netlink_la_CFLAGS = $(TEST_PRELOAD_CFLAGS)
tests_tools_no_netlink_la_LDFLAGS = $(TEST_PRELOAD_LDFLAGS)
tests_tools_no_netlink_la_LIBADD = -ldl
tests_unit_test_hotplug_LDADD = $(CHECK_LIBS) $(UMOCKDEV_LIBS)

TESTS += tests/unit/test-discover tests/unit/test-hotplug tests/discover-mount.sh
endif

# ---- bad input and faults of libztc and ztc (docs/hardening.md) --------------------------------------
# The depth-capped parse (internal) and each place that uses it: linked with the library's objects.
check_PROGRAMS += tests/unit/test-json
tests_unit_test_json_SOURCES = tests/unit/test-json.c
tests_unit_test_json_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/core/lib $(YAJL_CFLAGS) $(CHECK_CFLAGS)
tests_unit_test_json_LDADD = $(core_lib_libztc_la_OBJECTS) $(core_lib_libztc_la_LIBADD) $(CHECK_LIBS)

# An LD_PRELOAD probe: dumpable flag, core limit and /proc/self/cmdline while ztc holds the token.
check_LTLIBRARIES += tests/tools/secret-probe.la
tests_tools_secret_probe_la_SOURCES = tests/tools/secret-probe.c
tests_tools_secret_probe_la_CPPFLAGS = $(CURL_CFLAGS)
tests_tools_secret_probe_la_CFLAGS = $(TEST_PRELOAD_CFLAGS)
tests_tools_secret_probe_la_LDFLAGS = $(TEST_PRELOAD_LDFLAGS)
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

# ---- make check-valgrind: the Check suites and the ztc command (through shell tests) under memcheck --
check-valgrind: all $(check_PROGRAMS) $(check_LTLIBRARIES)
	@top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' UMOCKDEV_RUN='$(UMOCKDEV_RUN)' \
		$(SHELL) $(top_srcdir)/tests/check-valgrind.sh

.PHONY: check-valgrind
EXTRA_DIST += tests/check-valgrind.sh tests/check-valgrind.supp

# ---- make check: crash safety of the known-device store and the FOTA store ---------------------------
check_PROGRAMS += tests/crash-writer
tests_crash_writer_SOURCES = tests/crash-writer.c
tests_crash_writer_CPPFLAGS = $(ADM_CPPFLAGS)
# Linked with the library objects, not through libtool's wrapper: the test starts it a thousand times.
tests_crash_writer_LDADD = $(FUZZ_REPLAY_ZTC_LINK) $(FUZZ_REPLAY_ZADM_LINK)
TESTS += tests/crash-safety.sh
EXTRA_DIST += tests/crash-safety.sh

# ---- the helpers the Check runners share (test-libztc, test-discover, test-hotplug, test-console, -----
# test-zadm): a header only, so test-zadm (listed in adm/local.mk) needs no other source.
EXTRA_DIST += tests/common/check-util.h
