/* check-util.h: what the Check runners of tests/ share: test cases and suites from lists, the runner, a clock. */
#ifndef ZTC_TESTS_CHECK_UTIL_H
#define ZTC_TESTS_CHECK_UTIL_H

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include <check.h>

/* Milliseconds on the monotonic clock, for the deadlines of the tests. */
static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int check_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf path, a test's own temporary tree (links are removed, never followed); a leftover is harmless. */
static inline void check_rm_tree(const char *path)
{
	if (path && *path)
		nftw(path, check_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Add the tests of a NULL-terminated list to tc, in its order. */
static inline void check_add_tests(TCase *tc, const TTest *const *tests)
{
	for (; *tests; tests++)
		tcase_add_test(tc, *tests);
}

/* A test case of the tests (a NULL-terminated list), each run between setup and teardown (both NULL:
 * no fixture); as a checked fixture they run in the test's own process, so an assertion there fails
 * that test alone. */
static inline TCase *check_tcase(const char *name, void (*setup)(void), void (*teardown)(void),
				 const TTest *const *tests)
{
	TCase *tc = tcase_create(name);

	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	check_add_tests(tc, tests);
	return tc;
}

/* A suite of the test cases given after its name, up to a NULL. */
static inline Suite *check_suite(const char *name, ...)
{
	Suite *s = suite_create(name);
	TCase *tc;
	va_list ap;

	va_start(ap, name);
	while ((tc = va_arg(ap, TCase *)) != NULL)
		suite_add_tcase(s, tc);
	va_end(ap);
	return s;
}

/* Run the suites given, up to a NULL, in one runner (CK_FORK and the other CK_ variables apply); the
 * exit status for the automake harness: 0 when every test passed. */
static inline int check_run(Suite *first, ...)
{
	SRunner *sr = srunner_create(first);
	Suite *s;
	va_list ap;
	int failed;

	va_start(ap, first);
	while ((s = va_arg(ap, Suite *)) != NULL)
		srunner_add_suite(sr, s);
	va_end(ap);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
