/* fuzz-common.h: what the libFuzzer targets of tests/fuzz share: a scratch directory, file writes,
 * a context that logs nowhere, and a check that aborts with a message. */
#ifndef ZTC_FUZZ_COMMON_H
#define ZTC_FUZZ_COMMON_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The libFuzzer entry points each target defines (declared once here for -Wmissing-prototypes). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test that must hold whatever the input: a violation is a finding,
 * reported like a crash (libFuzzer saves the input). */
#define FUZZ_CHECK(cond)                                                                          \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

/* A private directory for the run, on tmpfs when there is one (the stores fsync), removed at exit. */
static char fuzz_dir[256];

static inline int fuzz_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf path (no error when it does not exist). */
static inline void fuzz_rm_tree(const char *path)
{
	if (access(path, F_OK) == 0 && nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0) {
		perror(path);
		abort();
	}
}

static inline void fuzz_dir_cleanup(void)
{
	if (fuzz_dir[0])
		nftw(fuzz_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}



static inline const char *fuzz_scratch(const char *name)
{
	/* make fuzz names a directory it removes after the run: a crash skips the atexit cleanup. */
	const char *base = getenv("FUZZ_SCRATCH") ? getenv("FUZZ_SCRATCH")
			   : access("/dev/shm", W_OK) == 0 ? "/dev/shm"
			   : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/ztc-fuzz-%s-XXXXXX", base, name);
	if (!mkdtemp(fuzz_dir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(fuzz_dir_cleanup);
	return fuzz_dir;
}

/* Replace path with len bytes of data (plain write: the parsers read whatever is there). */
static inline void fuzz_write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *p = data;

	if (fd < 0) {
		perror(path);
		abort();
	}
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w <= 0) {
			perror(path);
			abort();
		}
		p += w;
		len -= (size_t)w;
	}
	close(fd);
}

/* The rule for a class's module and class names (load_target() in core/lib/db.c), written out again
 * on purpose: what the library accepts is checked against it, not against itself. */
static inline bool fuzz_plain_identifier(const char *s)
{
	if (!s || !*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isascii((unsigned char)*s) || !(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

/* A NUL-terminated copy of the input (the parsers take C strings). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
