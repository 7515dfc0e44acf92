# tests/local.mk: make check: Check unit suites and integration tests under umockdev.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	ZTC='$(abs_top_builddir)/core/cli/ztc'; UMOCKDEV_RUN='$(UMOCKDEV_RUN)'; \
	export top_srcdir top_builddir ZTC UMOCKDEV_RUN;

EXTRA_DIST += tests/lib.sh tests/data

include tests/unit.mk
