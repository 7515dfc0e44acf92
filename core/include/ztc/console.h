/* console.h: serial ports (termios, exclusive access) and the interactive console of libztc. */
#ifndef ZTC_CONSOLE_H
#define ZTC_CONSOLE_H

#include "ztc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- serial ports --------------------------------------------------------------------------------- */

/* Line settings of a port: the `connection` object of a board's device.json. */
typedef struct ztc_serial_params {
	int baud;      /* bits per second: one of the standard rates, 50 .. 4000000 */
	char parity;   /* 'n' none, 'e' even, 'o' odd */
	int databits;  /* 5, 6, 7 or 8 */
	int stopbits;  /* 1 or 2 */
	int rtscts;    /* nonzero: RTS/CTS hardware flow control */
	int dsrdtr;    /* nonzero: DSR/DTR flow control, which Linux termios lacks: DTR is held asserted
			* (as pyserial does) and a warning is logged */
} ztc_serial_params;

/* Fill *params with the connection every board uses unless its device.json says otherwise:
 * 115200 baud, no parity, 8 data bits, 1 stop bit, no flow control. */
ZTC_API void ztc_serial_params_init(ztc_serial_params *params);

/* 1 when baud is a rate the port can be set to (a standard termios rate), else 0. */
ZTC_API int ztc_serial_baud_supported(int baud);

/* Open the serial port at path for exclusive use (flock(LOCK_EX) plus TIOCEXCL), in raw mode with the
 * given settings, DTR and RTS asserted. *ret_fd is set only on success: a non-blocking, close-on-exec
 * descriptor that the caller closes with close(), which also releases the port.
 * Failures: ZTC_ERR_NOT_FOUND (no such port), ZTC_ERR_BUSY (another process holds it; the error detail
 * names that process when it can be found), ZTC_ERR_ARG (bad settings, or path is not a tty),
 * ZTC_ERR_UNSUPPORTED (the port refused the settings), ZTC_ERR_IO (anything else). */
ZTC_API int ztc_serial_open(ztc_ctx *ctx, const char *path, const ztc_serial_params *params,
			    int *ret_fd);

/* Apply settings to a port already open (e.g. to change the speed). Same failures as above. */
ZTC_API int ztc_serial_configure(ztc_ctx *ctx, int fd, const ztc_serial_params *params);

/* Find a process, other than the caller, that holds the port at path (a flock in /proc/locks, else an
 * open descriptor under /proc/PID/fd). Best effort: *ret_pid is set, and the command name copied
 * into ret_comm when not NULL, only when one is found; ZTC_ERR_NOT_FOUND otherwise. */
ZTC_API int ztc_serial_find_holder(ztc_ctx *ctx, const char *path, int *ret_pid, char *ret_comm,
				   size_t comm_size);

/* ---- console ---------------------------------------------------------------------------------------- */

#define ZTC_CONSOLE_ESCAPE_DEFAULT 0x1d /* Ctrl-] */

typedef struct ztc_console_opts {
	int escape;          /* when the input is a terminal: this byte then 'q' quits, typed twice it sends
			      * itself once; -1 disables. Default Ctrl-] */
	int echo;            /* nonzero: copy what is typed to the output too */
	int timestamp;       /* nonzero: prefix each received line with a time, as ZTC_CONSOLE_TS_* says
			      * (1, ZTC_CONSOLE_TS_TIME: local time "[HH:MM:SS.mmm] ") */
	const char *log_path; /* append what is received (as shown, timestamps included) to this file */
	int timeout_ms;      /* input not a terminal: once it has ended and been sent, quit after this
			      * many milliseconds without a byte from the device; 0 waits for ever */
	int handle_signals;  /* nonzero: SIGINT, SIGTERM and SIGHUP end the console cleanly. They are
			      * caught and unblocked while it runs (one blocked and pending before is
			      * taken at once), SIGPIPE is ignored; handlers and signal mask are put back
			      * on return. Process-wide: one such console at a time. */
	int eol;             /* what a newline of the input is sent as: ZTC_CONSOLE_EOL_* (a newline is LF,
			      * and CR typed at a terminal); 0 sends the bytes as they come */
	/* Messages for the person at the console (the escape menu's key list, DTR/RTS now on or off,
	 * a break sent): the caller shows them, apart from the device's output. NULL: logged at info. */
	void (*notice)(void *userdata, const char *msg);
	void *notice_data;
} ztc_console_opts;

/* ztc_console_opts.timestamp */
#define ZTC_CONSOLE_TS_TIME 1  /* local time of day "[HH:MM:SS.mmm] " */
#define ZTC_CONSOLE_TS_ISO 2   /* ISO 8601 local date and time "[2026-12-07T06:40:00.123+0100] " */
#define ZTC_CONSOLE_TS_MS 3    /* milliseconds since the console started "[    1234] " */
#define ZTC_CONSOLE_TS_DELTA 4 /* seconds since the previous line "[+   0.123] " */

/* ztc_console_opts.eol */
#define ZTC_CONSOLE_EOL_CR 1
#define ZTC_CONSOLE_EOL_LF 2
#define ZTC_CONSOLE_EOL_CRLF 3

/* Defaults: escape Ctrl-], no echo, no timestamp, no log, no timeout, signals handled, newlines sent as
 * they come, notices logged. */
ZTC_API void ztc_console_opts_init(ztc_console_opts *opts);

/* Run a console on an open port until it ends: device output is copied to out_fd as it arrives
 * (never dropped: reading the port pauses while the output cannot take more), in_fd is copied to the
 * port. in_fd may be -1 (nothing to send).
 * When in_fd is a terminal, it is put in raw mode (output processing left alone) and restored before
 * return, whatever ends the console. The escape byte opens a one-key menu: 'q' quits, 'b' sends a
 * break, 'd' / 'r' toggle DTR / RTS, '?' lists the keys (through notice), the escape byte again sends
 * it once; any other key is sent after the escape byte, so nothing typed is lost. When in_fd is not a terminal, it is
 * copied until end of file, then the device output is copied until the port hangs up or
 * timeout_ms of silence.
 * Returns ZTC_OK when the console was quit (escape, timeout after end of input, a handled signal, or
 * the output's reader went away), ZTC_ERR_GONE when the port hung up (board unplugged), ZTC_ERR_IO on
 * other read/write failures (the log file included), ZTC_ERR_ARG on bad arguments. */
ZTC_API int ztc_console_run(ztc_ctx *ctx, int port_fd, int in_fd, int out_fd,
			    const ztc_console_opts *opts);

#ifdef __cplusplus
}
#endif

#endif
