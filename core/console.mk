# core/console.mk: the serial console (ztc device open): sources, tests, benchmark.
core_lib_libztc_la_SOURCES += core/lib/serial.c core/lib/serial-baud.c core/lib/console.c
ztcinclude_HEADERS += core/include/ztc/console.h
core_cli_ztc_SOURCES += core/cli/open.c

# Over pseudo-terminals: the library directly, and the real ztc command for what only a whole
# process shows (terminal restored after a signal, exit status, error lines).
check_PROGRAMS += tests/console/test-console
TESTS += tests/console/test-console
tests_console_test_console_SOURCES = tests/console/test-console.c tests/console/termios2.c
tests_console_test_console_CPPFLAGS = $(AM_CPPFLAGS) -DZTC_BIN='"$(abs_top_builddir)/core/cli/ztc"' \
	-DMODEM_LINES_SO='"$(abs_top_builddir)/tests/tools/.libs/modem-lines.so"'
tests_console_test_console_DEPENDENCIES = tests/tools/modem-lines.la core/lib/libztc.la
check_LTLIBRARIES += tests/tools/modem-lines.la
tests_tools_modem_lines_la_SOURCES = tests/tools/modem-lines.c
tests_tools_modem_lines_la_CFLAGS = -Wall -Wextra
tests_tools_modem_lines_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_tools_modem_lines_la_LIBADD = -ldl
tests_console_test_console_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_console_test_console_LDADD = core/lib/libztc.la $(CHECK_LIBS)

# Benchmark (not part of make check): bench/console/run builds its feeder with
# `make bench/console/ptyfeed`.
EXTRA_PROGRAMS = bench/console/ptyfeed
bench_console_ptyfeed_SOURCES = bench/console/ptyfeed.c
CLEANFILES += bench/console/ptyfeed
EXTRA_DIST += bench/console/run
