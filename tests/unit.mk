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
	-DTOP_SRCDIR='"$(abs_top_srcdir)"' -DZTC_BUILT='"$(abs_top_builddir)/core/cli/ztc"'
tests_unit_test_hotplug_LDADD = $(CHECK_LIBS) $(UMOCKDEV_LIBS)

TESTS += tests/unit/test-discover tests/unit/test-hotplug tests/discover-mount.sh
endif
