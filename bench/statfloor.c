/* statfloor.c: what the board cache cannot avoid, timed alone: one stat() per DIR/FOLDER/device.json.
 *
 * Usage: statfloor DIR[:DIR...] [RUNS]
 * Prints "files N" and "stat_ms MEDIAN" (the median over RUNS passes, default 30, after one warm-up) of one
 * stat() of each device.json, with the same absolute paths ztc builds (core/lib/dbcache.c), nothing else:
 * no cache file, no matching. bench/discover runs it in the same umockdev-run as ztc, so its figure is the
 * least --matchdb can add to a raw discovery while it checks each device.json's size and mtime. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	char **paths = NULL, *list, *save = NULL;
	size_t n = 0, cap = 0;
	int runs = argc > 2 ? atoi(argv[2]) : 30;
	double *ms;

	if (argc < 2 || runs < 1 || runs > 10000) {
		fprintf(stderr, "usage: statfloor DIR[:DIR...] [RUNS 1..10000]\n");
		return 2;
	}
	list = strdup(argv[1]);
	for (char *dir = list ? strtok_r(list, ":", &save) : NULL; dir; dir = strtok_r(NULL, ":", &save)) {
		DIR *d = opendir(dir);
		struct dirent *e;

		if (!d) {
			perror(dir);
			return 1;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			if (n == cap && !(paths = realloc(paths, (cap = cap ? 2 * cap : 1024) * sizeof(*paths))))
				return 1;
			if (asprintf(&paths[n++], "%s/%s/device.json", dir, e->d_name) < 0)
				return 1;
		}
		closedir(d);
	}
	ms = calloc((size_t)runs, sizeof(*ms));
	if (!ms)
		return 1;
	for (int r = -1; r < runs; r++) {
		struct timespec a, b;
		struct stat st;

		clock_gettime(CLOCK_MONOTONIC, &a);
		for (size_t i = 0; i < n; i++)
			(void)stat(paths[i], &st);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (r >= 0)
			ms[r] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	}
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	printf("files %zu\nstat_ms %.3f\n", n, runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2);
	return 0;
}
