/* serial.c: serial ports: termios settings, exclusive access, and who holds a busy port. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"
#include "ztc/console.h"

static const struct {
	int baud;
	speed_t speed;
} bauds[] = {
	{ 50, B50 }, { 75, B75 }, { 110, B110 }, { 134, B134 }, { 150, B150 }, { 200, B200 },
	{ 300, B300 }, { 600, B600 }, { 1200, B1200 }, { 1800, B1800 }, { 2400, B2400 },
	{ 4800, B4800 }, { 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
	{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 }, { 500000, B500000 },
	{ 576000, B576000 }, { 921600, B921600 }, { 1000000, B1000000 }, { 1152000, B1152000 },
	{ 1500000, B1500000 }, { 2000000, B2000000 }, { 2500000, B2500000 }, { 3000000, B3000000 },
	{ 3500000, B3500000 }, { 4000000, B4000000 },
};

static bool baud_to_speed(int baud, speed_t *ret)
{
	for (size_t i = 0; i < sizeof(bauds) / sizeof(*bauds); i++)
		if (bauds[i].baud == baud) {
			*ret = bauds[i].speed;
			return true;
		}
	return false;
}

ZTC_API void ztc_serial_params_init(ztc_serial_params *params)
{
	if (!params)
		return;
	memset(params, 0, sizeof(*params));
	params->baud = 115200;
	params->parity = 'n';
	params->databits = 8;
	params->stopbits = 1;
}

#define BAUD_MIN 50
#define BAUD_MAX 4000000

ZTC_API int ztc_serial_baud_supported(int baud)
{
	return baud >= BAUD_MIN && baud <= BAUD_MAX;
}

/* "115200 8N1" style, for messages. */
static void describe(const ztc_serial_params *p, char *buf, size_t size)
{
	snprintf(buf, size, "%d %d%c%d%s", p->baud, p->databits, toupper((unsigned char)p->parity),
		 p->stopbits, p->rtscts ? " RTS/CTS" : "");
}

static int check_params(ztc_ctx *ctx, const ztc_serial_params *p)
{
	if (!p)
		return ztc_fail(ctx, ZTC_ERR_ARG, "no serial settings given");
	if (!ztc_serial_baud_supported(p->baud))
		return ztc_fail(ctx, ZTC_ERR_ARG, "unsupported baud rate %d: use %d to %d", p->baud, BAUD_MIN,
				BAUD_MAX);
	if (p->parity != 'n' && p->parity != 'e' && p->parity != 'o')
		return ztc_fail(ctx, ZTC_ERR_ARG, "unsupported parity '%c': use n, e or o", p->parity);
	if (p->databits < 5 || p->databits > 8)
		return ztc_fail(ctx, ZTC_ERR_ARG, "unsupported data bits %d: use 5, 6, 7 or 8", p->databits);
	if (p->stopbits != 1 && p->stopbits != 2)
		return ztc_fail(ctx, ZTC_ERR_ARG, "unsupported stop bits %d: use 1 or 2", p->stopbits);
	return ZTC_OK;
}

/* The frame format (data bits, parity, stop bits, flow control) must be exactly what was asked:
 * anything else garbles every byte. A pty, for one, keeps 8 bits and no parity whatever is set. */
static int check_format(const struct termios *want, const struct termios *got)
{
	tcflag_t mask = CSIZE | PARENB | CSTOPB | CRTSCTS;

	if (want->c_cflag & PARENB)
		mask |= PARODD;
	return (want->c_cflag & mask) == (got->c_cflag & mask) ? 0 : -1;
}

static int configure(ztc_ctx *ctx, int fd, const char *name, const ztc_serial_params *p)
{
	static const tcflag_t csize[] = { CS5, CS6, CS7, CS8 };
	struct termios t, got;
	char desc[64];
	speed_t speed = B0;
	bool custom;
	int rc;

	rc = check_params(ctx, p);
	if (rc < 0)
		return rc;
	/* A rate without a B constant is set through termios2 once the rest is in place; B38400 holds
	 * its place meanwhile. */
	custom = !baud_to_speed(p->baud, &speed);
	if (custom)
		speed = B38400;
	if (tcgetattr(fd, &t) < 0) {
		if (errno == ENOTTY || errno == EINVAL)
			return ztc_fail(ctx, ZTC_ERR_ARG, "%s is not a serial port", name);
		return ztc_fail(ctx, ZTC_ERR_IO, "cannot read the settings of %s: %s", name, strerror(errno));
	}
	cfmakeraw(&t);
	/* cfmakeraw leaves software flow control on input and "any key restarts": a console passes
	 * XON/XOFF through as data. Parity is generated and expected, but a bad byte is delivered as
	 * received rather than replaced (no INPCK), so nothing is silently changed. */
	t.c_iflag &= ~(tcflag_t)(IXOFF | IXANY | INPCK);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	t.c_cflag |= CLOCAL | CREAD | csize[p->databits - 5];
	if (p->parity != 'n')
		t.c_cflag |= PARENB | (p->parity == 'o' ? PARODD : 0);
	if (p->stopbits == 2)
		t.c_cflag |= CSTOPB;
	if (p->rtscts)
		t.c_cflag |= CRTSCTS;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, speed);
	cfsetospeed(&t, speed);
	describe(p, desc, sizeof(desc));
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return ztc_fail(ctx, errno == EINVAL ? ZTC_ERR_UNSUPPORTED : ZTC_ERR_IO,
				"cannot set %s to %s: %s", name, desc, strerror(errno));
	/* tcsetattr succeeds when any part of the request was applied: check that all of it was. */
	if (tcgetattr(fd, &got) < 0)
		return ztc_fail(ctx, ZTC_ERR_IO, "cannot read the settings of %s: %s", name, strerror(errno));
	if (check_format(&t, &got) < 0)
		return ztc_fail(ctx, ZTC_ERR_UNSUPPORTED, "%s does not support %s", name, desc);
	if (custom) {
		int actual = 0, e = ztc_serial_set_custom_baud(fd, p->baud, &actual);

		if (e < 0)
			return ztc_fail(ctx, e == -EINVAL || e == -ENOTTY ? ZTC_ERR_UNSUPPORTED : ZTC_ERR_IO,
					"cannot set %s to %d baud: %s", name, p->baud, strerror(-e));
		/* Within 2%, as a UART's receiver tolerates; beyond that the data would be garbled. */
		if (actual <= 0 || (long long)abs(actual - p->baud) * 50 > p->baud)
			return ztc_fail(ctx, ZTC_ERR_UNSUPPORTED, "%s cannot run at %d baud (the nearest it takes "
					"is %d)", name, p->baud, actual);
		if (actual != p->baud)
			ztc_warn(ctx, "%s runs at %d baud, the nearest to %d it supports", name, actual, p->baud);
	} else if (cfgetospeed(&got) != speed)
		/* Some drivers round the speed to what their clock can do: the data still flows, so say it. */
		ztc_warn(ctx, "%s did not take %d baud exactly: it runs at the nearest speed it supports",
			 name, p->baud);
	if (p->dsrdtr)
		ztc_warn(ctx, "%s: DSR/DTR flow control is not available through Linux termios; "
			 "DTR is held asserted instead", name);
	ztc_dbg(ctx, "%s set to %s", name, desc);
	return ZTC_OK;
}

ZTC_API int ztc_serial_configure(ztc_ctx *ctx, int fd, const ztc_serial_params *params)
{
	if (fd < 0)
		return ztc_fail(ctx, ZTC_ERR_ARG, "no serial port given");
	return configure(ctx, fd, "the serial port", params);
}

static void read_comm(int pid, char *comm, size_t size)
{
	char path[64];
	FILE *f;

	if (!comm || !size)
		return;
	comm[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(comm, (int)size, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
}

/* A flock on the port's inode, as /proc/locks shows it: "1: FLOCK ADVISORY WRITE PID MA:MI:INO 0 EOF".
 * Lines with "->" are waiters, not holders. */
static int holder_from_locks(const struct stat *st, int self)
{
	char line[256];
	FILE *f = fopen("/proc/locks", "re");
	int found = -1;

	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		char kind[16], mode[16], rw[16];
		unsigned int ma, mi;
		unsigned long long ino;
		int pid;

		if (strstr(line, "->"))
			continue;
		if (sscanf(line, "%*d: %15s %15s %15s %d %x:%x:%llu", kind, mode, rw, &pid, &ma, &mi, &ino) != 7)
			continue;
		if (strcmp(kind, "FLOCK") != 0 || pid <= 0 || pid == self)
			continue;
		if (ma == major(st->st_dev) && mi == minor(st->st_dev) && ino == (unsigned long long)st->st_ino)
			found = pid;
	}
	fclose(f);
	return found;
}

/* Any process with a descriptor open on the same character device (one holding it with TIOCEXCL
 * only, as screen or minicom do). Processes we may not inspect are skipped. */
static int holder_from_fds(const struct stat *st, int self)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	int found = -1;

	if (!proc)
		return -1;
	while (found < 0 && (de = readdir(proc))) {
		char path[300];
		struct dirent *fe;
		DIR *fds;
		int pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = atoi(de->d_name);
		if (pid == self)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		fds = opendir(path);
		if (!fds)
			continue;
		while ((fe = readdir(fds))) {
			struct stat fst;

			if (fe->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", pid, fe->d_name);
			if (stat(path, &fst) == 0 && S_ISCHR(fst.st_mode) && fst.st_rdev == st->st_rdev) {
				found = pid;
				break;
			}
		}
		closedir(fds);
	}
	closedir(proc);
	return found;
}

ZTC_API int ztc_serial_find_holder(ztc_ctx *ctx, const char *path, int *ret_pid, char *ret_comm,
				   size_t comm_size)
{
	struct stat st;
	int self = (int)getpid(), pid;

	if (!path || !ret_pid)
		return ztc_fail(ctx, ZTC_ERR_ARG, "no serial port given");
	if (stat(path, &st) < 0)
		return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "cannot look at %s: %s", path, strerror(errno));
	pid = holder_from_locks(&st, self);
	if (pid < 0 && S_ISCHR(st.st_mode))
		pid = holder_from_fds(&st, self);
	if (pid < 0)
		return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "no process found holding %s", path);
	*ret_pid = pid;
	read_comm(pid, ret_comm, comm_size);
	return ZTC_OK;
}

static int fail_busy(ztc_ctx *ctx, const char *path)
{
	char comm[64] = "";
	int pid;

	if (ztc_serial_find_holder(ctx, path, &pid, comm, sizeof(comm)) == ZTC_OK)
		return ztc_fail(ctx, ZTC_ERR_BUSY, "%s is in use by process %d (%s): close that program first",
				path, pid, *comm ? comm : "?");
	return ztc_fail(ctx, ZTC_ERR_BUSY, "%s is in use by another process: close that program first",
			path);
}

ZTC_API int ztc_serial_open(ztc_ctx *ctx, const char *path, const ztc_serial_params *params, int *ret_fd)
{
	int fd, rc;

	if (ztc_str_empty(path) || !ret_fd)
		return ztc_fail(ctx, ZTC_ERR_ARG, "no serial port given");
	rc = check_params(ctx, params);
	if (rc < 0)
		return rc;
	/* O_NONBLOCK: do not wait for carrier; O_NOCTTY: never become the port's controlling process. */
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		switch (errno) {
		case ENOENT:
		case ENODEV:
		case ENXIO:
			return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "serial port %s not found: is the board connected?",
					path);
		case EBUSY:
			return fail_busy(ctx, path);
		case EACCES:
		case EPERM:
			return ztc_fail(ctx, ZTC_ERR_IO,
					"permission denied on %s: add your user to the group owning it "
					"(usually dialout) and log in again", path);
		default:
			return ztc_fail(ctx, ZTC_ERR_IO, "cannot open %s: %s", path, strerror(errno));
		}
	}
	if (!isatty(fd)) {
		close(fd);
		return ztc_fail(ctx, ZTC_ERR_ARG, "%s is not a serial port", path);
	}
	/* flock is what other consoles (picocom, tio) check; TIOCEXCL also stops programs that do not,
	 * though the kernel lets root through it. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return fail_busy(ctx, path);
		return ztc_fail(ctx, ZTC_ERR_IO, "cannot lock %s: %s", path, strerror(e));
	}
	if (ioctl(fd, TIOCEXCL) < 0)
		ztc_dbg(ctx, "%s: TIOCEXCL failed: %s", path, strerror(errno));
	rc = configure(ctx, fd, path, params);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	*ret_fd = fd;
	return ZTC_OK;
}
