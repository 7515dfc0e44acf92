/* no-usb-access.c: an LD_PRELOAD fault injector for tests: opening a USB device node (a path holding
 * "/dev/bus/usb/") fails with EACCES, as for a user without the udev rules' access; every other open goes
 * to the next definition (umockdev's preload, then the C library). File permissions cannot show this in
 * tests that run as root (CI does), which opens any file. Must come before umockdev's preload in
 * LD_PRELOAD: umockdev calls the C library directly, so a wrapper after it never sees the call. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>

static int denied(const char *path)
{
	if (path && strstr(path, "/dev/bus/usb/")) {
		errno = EACCES;
		return 1;
	}
	return 0;
}

#define WRAP_OPEN(name)                                                                                     \
	__attribute__((visibility("default"))) int name(const char *path, int flags, ...)                   \
	{                                                                                                   \
		static int (*next)(const char *, int, ...);                                                \
		mode_t mode = 0;                                                                            \
                                                                                                            \
		if (flags & (O_CREAT | O_TMPFILE)) {                                                        \
			va_list ap;                                                                         \
			va_start(ap, flags);                                                                \
			mode = va_arg(ap, mode_t);                                                          \
			va_end(ap);                                                                         \
		}                                                                                           \
		if (denied(path))                                                                           \
			return -1;                                                                          \
		if (!next)                                                                                  \
			next = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, #name);                    \
		if (!next) {                                                                                \
			errno = ENOSYS;                                                                     \
			return -1;                                                                          \
		}                                                                                           \
		return next(path, flags, mode);                                                             \
	}

WRAP_OPEN(open)
WRAP_OPEN(open64)

/* _FORTIFY_SOURCE builds (libusb in Debian) call these instead of open(). */
#define WRAP_OPEN_2(name)                                                                                   \
	__attribute__((visibility("default"))) int name(const char *path, int flags)                        \
	{                                                                                                   \
		static int (*next)(const char *, int);                                                     \
                                                                                                            \
		if (denied(path))                                                                           \
			return -1;                                                                          \
		if (!next)                                                                                  \
			next = (int (*)(const char *, int))dlsym(RTLD_NEXT, #name);                         \
		if (!next) {                                                                                \
			errno = ENOSYS;                                                                     \
			return -1;                                                                          \
		}                                                                                           \
		return next(path, flags);                                                                   \
	}

WRAP_OPEN_2(__open_2)
WRAP_OPEN_2(__open64_2)
