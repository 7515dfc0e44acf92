# tests/unit.mk: Check unit suites of libztc (uid, records, fusion), the hotplug test.
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
tests_tools_no_netlink_la_CFLAGS = -Wall -Wextra
tests_tools_no_netlink_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_tools_no_netlink_la_LIBADD = -ldl
tests_unit_test_hotplug_LDADD = $(CHECK_LIBS) $(UMOCKDEV_LIBS)

TESTS += tests/unit/test-discover tests/unit/test-hotplug tests/discover-mount.sh
endif
