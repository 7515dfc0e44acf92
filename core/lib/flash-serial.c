/* flash-serial.c: the method "serial" of the flash object's sub-objects: the port opened, DTR/RTS steps. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "flash.h"
#include "ztc/console.h"

static int set_line(struct flash_run *r, int fd, const char *port, int bit, bool on, const char *what)
{
	if (ioctl(fd, on ? TIOCMBIS : TIOCMBIC, &bit) == 0)
		return ZTC_OK;
	if (errno == ENOTTY || errno == EINVAL)
		return ztc_board_fail(r->b, ZTC_ERR_UNSUPPORTED, "%s has no modem control lines (DTR/RTS): cannot %s %s",
				      port, what, r->name);
	return ztc_board_fail(r->b, ZTC_ERR_IO, "cannot set %s on %s: %s", bit == TIOCM_DTR ? "DTR" : "RTS", port,
			      strerror(errno));
}

int flash_method_serial(struct flash_run *r, yajl_val sub, const char *key, const char *what)
{
	const char *port = ztc_board_get_str(r->b, "port");
	yajl_val steps = ztc_json_get(sub, "steps", yajl_t_array);
	ztc_serial_params p;
	struct termios t;
	long long baud;
	int fd = -1, rc = ZTC_OK;

	/* The steps' shape was checked when the database loaded (flash-check.c); the connection's baud rate is
	 * outside the flash object. */
	baud = flash_get_uint(sub, "baud", flash_get_uint(ztc_json_get(r->root, "connection", yajl_t_any), "baudrate",
							  115200));
	if (baud <= 0 || baud > FLASH_BAUD_MAX)
		return flash_bad(r, "%s.baud must be a baud rate", key);
	if (!port)
		return ztc_board_fail(r->b, ZTC_ERR_NOT_FOUND, "%s has no serial port: is it connected?", r->name);
	ztc_serial_params_init(&p);
	p.baud = (int)baud;
	rc = ztc_serial_open(r->ctx, port, &p, &fd);
	if (rc < 0)
		return rc;
	/* Closing drops DTR (HUPCL), as closing the port in the Python toolchain did. */
	if (tcgetattr(fd, &t) == 0) {
		t.c_cflag |= HUPCL;
		tcsetattr(fd, TCSANOW, &t);
	}
	ztc_board_log(r->b, ZTC_LOG_INFO, "%s: %s opened at %lld baud", key, port, baud);
	for (size_t i = 0; steps && i < YAJL_GET_ARRAY(steps)->len && rc == ZTC_OK; i++) {
		yajl_val s = YAJL_GET_ARRAY(steps)->values[i];
		yajl_val dtr = ztc_json_get(s, "dtr", yajl_t_any), rts = ztc_json_get(s, "rts", yajl_t_any);

		if (dtr && fd >= 0)
			rc = set_line(r, fd, port, TIOCM_DTR, YAJL_IS_TRUE(dtr), what);
		if (rts && fd >= 0 && rc == ZTC_OK)
			rc = set_line(r, fd, port, TIOCM_RTS, YAJL_IS_TRUE(rts), what);
		if (rc == ZTC_OK)
			ztc_board_wait(r->b, (long)flash_get_uint(s, "sleep_ms", 0));
		if (rc == ZTC_OK && flash_get_bool(s, "close") && fd >= 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return rc;
}
