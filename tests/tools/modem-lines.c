/* modem-lines.c: an LD_PRELOAD stand-in for the modem-line and break ioctls a pty cannot take. Linux
 * ptys have no DTR/RTS (TIOCMGET fails) and take a break silently, so the console tests cannot see on
 * the pty what ztc did; this records each request in $MODEM_RECORD ("TIOCMSET DTR=1 RTS=0", "BREAK")
 * and plays the lines of a port that has them (both asserted at first). Other ioctls go through. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static int lines = TIOCM_DTR | TIOCM_RTS;

static void record(const char *fmt, ...)
{
	const char *path = getenv("MODEM_RECORD");
	char buf[128];
	va_list ap;
	int fd, n;

	if (!path)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, buf, (size_t)n) < 0) {
			/* nothing to do: the test sees the line missing */
		}
		close(fd);
	}
}

__attribute__((visibility("default"))) int ioctl(int fd, unsigned long req, ...)
{
	static int (*next)(int, unsigned long, void *);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (isatty(fd)) {
		switch (req) {
		case TIOCMGET:
			*(int *)arg = lines;
			return 0;
		case TIOCMSET:
			lines = *(int *)arg;
			record("TIOCMSET DTR=%d RTS=%d\n", !!(lines & TIOCM_DTR), !!(lines & TIOCM_RTS));
			return 0;
		case TCSBRK:
		case TCSBRKP:
			/* tcdrain is TCSBRK with a nonzero argument: only a zero one is a break. */
			if ((long)arg == 0 || req == TCSBRKP)
				record("BREAK\n");
			break;
		}
	}
	if (!next)
		next = (int (*)(int, unsigned long, void *))dlsym(RTLD_NEXT, "ioctl");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	return next(fd, req, arg);
}
