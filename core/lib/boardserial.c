/* boardserial.c: the board's serial port for plugins that speak a bootloader's protocol over it. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "internal.h"
#include "ztc/plugin.h"

/* A hang-up on the port means the board went away (unplugged, or re-enumerating). */
static int gone(ztc_board *b)
{
	return ztc_board_fail(b, ZTC_ERR_GONE, "%s: the serial port hung up (board unplugged or reset?)",
			      ztc_board_get_str(b, "port"));
}

ZTC_API int ztc_board_serial_open(ztc_board *b, int baud, int *ret_fd)
{
	ztc_serial_params p;
	const char *port = ztc_board_get_str(b, "port");

	if (!b || !ret_fd)
		return ZTC_ERR_ARG;
	if (ztc_str_empty(port))
		return ztc_board_fail(b, ZTC_ERR_NOT_FOUND, "%s has no serial port", ztc_board_get_str(b, "name"));
	ztc_serial_params_init(&p);
	p.baud = baud;
	return ztc_serial_open(ztc_board_ctx(b), port, &p, ret_fd);
}

ZTC_API int ztc_board_serial_set_baud(ztc_board *b, int fd, int baud)
{
	ztc_serial_params p;

	ztc_serial_params_init(&p);
	p.baud = baud;
	return ztc_serial_configure(ztc_board_ctx(b), fd, &p);
}

ZTC_API int ztc_board_serial_write(ztc_board *b, int fd, const void *data, size_t len, int timeout_ms)
{
	const unsigned char *p = data;
	long long deadline = ztc_now_ms() + timeout_ms;

	while (len > 0) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		long long left = deadline - ztc_now_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			return ztc_board_fail(b, ZTC_ERR_TIMEOUT, "%s: cannot write to the serial port (%d ms)",
					      ztc_board_get_str(b, "port"), timeout_ms);
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ztc_board_fail(b, ZTC_ERR_IO, "poll: %s", strerror(errno));
		if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
			return gone(b);
		if (r == 0)
			continue;
		n = write(fd, p, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0 && (errno == EIO || errno == ENXIO || errno == ENODEV))
			return gone(b);
		if (n < 0)
			return ztc_board_fail(b, ZTC_ERR_IO, "%s: write: %s", ztc_board_get_str(b, "port"),
					      strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	/* The bytes are on their way once the driver has them; waiting for the line to drain keeps a
	 * following baud change from garbling them. */
	tcdrain(fd);
	return ZTC_OK;
}

ZTC_API int ztc_board_serial_read(ztc_board *b, int fd, void *buf, size_t len, int timeout_ms, size_t *ret_got)
{
	unsigned char *p = buf;
	size_t got = 0;
	long long deadline = ztc_now_ms() + timeout_ms;
	int rc = ZTC_OK;

	while (got < len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - ztc_now_ms();
		ssize_t n;
		int r;

		if (left <= 0)
			break;
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ztc_board_fail(b, ZTC_ERR_IO, "poll: %s", strerror(errno));
			break;
		}
		if (r == 0)
			break;
		n = read(fd, p + got, len - got);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		/* read() returning 0 or EIO on a tty: the other side hung up. */
		if (n == 0 || errno == EIO || errno == ENXIO || errno == ENODEV) {
			rc = gone(b);
			break;
		}
		rc = ztc_board_fail(b, ZTC_ERR_IO, "%s: read: %s", ztc_board_get_str(b, "port"), strerror(errno));
		break;
	}
	if (ret_got)
		*ret_got = got;
	return rc;
}

ZTC_API void ztc_board_serial_discard(ztc_board *b, int fd)
{
	(void)b;
	tcflush(fd, TCIFLUSH);
}

ZTC_API int ztc_board_serial_set_lines(ztc_board *b, int fd, int dtr, int rts)
{
	int bits;

	if (ioctl(fd, TIOCMGET, &bits) < 0) {
		/* A pty (and some adapters) has no modem lines: the caller goes on without the reset. */
		ztc_board_log(b, ZTC_LOG_DBG, "%s cannot drive DTR/RTS (%s): skipping the line changes",
			      ztc_board_get_str(b, "port"), strerror(errno));
		return ZTC_ERR_UNSUPPORTED;
	}
	if (dtr >= 0)
		bits = dtr ? bits | TIOCM_DTR : bits & ~TIOCM_DTR;
	if (rts >= 0)
		bits = rts ? bits | TIOCM_RTS : bits & ~TIOCM_RTS;
	if (ioctl(fd, TIOCMSET, &bits) < 0) {
		ztc_board_log(b, ZTC_LOG_DBG, "%s cannot drive DTR/RTS (%s): skipping the line changes",
			      ztc_board_get_str(b, "port"), strerror(errno));
		return ZTC_ERR_UNSUPPORTED;
	}
	return ZTC_OK;
}

ZTC_API void ztc_board_serial_close(ztc_board *b, int fd)
{
	(void)b;
	if (fd >= 0)
		close(fd);
}
