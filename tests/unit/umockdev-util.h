/* umockdev-util.h: what the umockdev unit tests share: run preloaded, build udev devices, test paths. */
#ifndef ZTC_TESTS_UMOCKDEV_UTIL_H
#define ZTC_TESTS_UMOCKDEV_UTIL_H

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <umockdev.h>

/* libudev only sees a testbed when libumockdev-preload is loaded before it. Rather than depend on the
 * harness wrapping the binary (a LOG_COMPILER would wrap every other suite too), the test re-executes
 * itself with the preload, as /usr/bin/umockdev-wrapper does; so it runs the same under make check,
 * by hand, or under `umockdev-wrapper gdb`. ASan insists on coming first in the library list, which a
 * preload breaks; the check is harmless to skip here. */
static inline void test_ensure_preloaded(char **argv)
{
	const char *old = getenv("LD_PRELOAD");
	void *self;
	char *preload;

	/* umockdev_in_mock_environment() only tells whether UMOCKDEV_DIR is set, not what we need. */
	self = dlopen("libumockdev-preload.so.0", RTLD_NOW | RTLD_NOLOAD);
	if (self) {
		dlclose(self);
		return;
	}
	if (getenv("ZTC_TEST_PRELOADED")) {
		fprintf(stderr, "%s: libumockdev-preload.so.0 did not load (is umockdev installed?)\n", argv[0]);
		exit(99); /* hard error for the automake harness */
	}
	preload = g_strdup_printf("libumockdev-preload.so.0%s%s", old && *old ? ":" : "", old ? old : "");
	setenv("LD_PRELOAD", preload, 1);
	setenv("ZTC_TEST_PRELOADED", "1", 1);
	setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 0);
	execv("/proc/self/exe", argv);
	fprintf(stderr, "%s: cannot re-execute with the umockdev preload: %m\n", argv[0]);
	exit(99);
}

/* A device under parent (NULL: top level) with udev properties given as NAME, VALUE pairs ending with
 * NULL; the caller g_free()s the returned syspath. */
static inline char *tb_add(UMockdevTestbed *tb, const char *subsystem, const char *name, const char *parent,
			   ...)
{
	const char *attrs[] = { NULL };
	GPtrArray *props = g_ptr_array_new();
	const char *p;
	va_list ap;
	char *syspath;

	va_start(ap, parent);
	while ((p = va_arg(ap, const char *)) != NULL)
		g_ptr_array_add(props, (gpointer)p);
	va_end(ap);
	g_ptr_array_add(props, NULL);
	syspath = umockdev_testbed_add_devicev(tb, subsystem, name, parent, (gchar **)attrs,
					       (gchar **)props->pdata);
	g_ptr_array_free(props, TRUE);
	return syspath;
}

/* A file of the source tree: $top_srcdir (set by make check) or the configured source dir. */
static inline char *test_srcfile(const char *rel)
{
	const char *top = getenv("top_srcdir");

	return g_build_filename(top && *top ? top : TOP_SRCDIR, rel, NULL);
}

#endif
