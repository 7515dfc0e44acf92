/* wire.h: the line transport libzadm and zadm-sandbox share (no libzadm state in here): JSON lines over
 * a socket, plain or TLS, every wait bounded by an absolute deadline and optionally cut short by a
 * wake-up descriptor. */
#ifndef ZADM_WIRE_H
#define ZADM_WIRE_H

#include <stddef.h>

#include <gnutls/gnutls.h>

/* The monotonic clock in milliseconds: every deadline below is on it. */
long long zw_now_ms(void);

/* Results of the calls below. */
enum zw_status {
	ZW_OK = 0,
	ZW_TIMEOUT = 1,   /* the deadline passed first */
	ZW_CLOSED = -1,   /* the peer closed the connection */
	ZW_ERROR = -2,    /* a socket or TLS error: io->err (reading) or io->werr (writing) says which */
	ZW_TOO_LONG = -3, /* a line longer than io->max */
	ZW_STOPPED = -4,  /* the wake-up descriptor became readable */
	ZW_NOMEM = -5,
};

/* One connection's reading side and its socket. buf holds what was read past the last line. */
struct zw_io {
	int fd;
	gnutls_session_t tls; /* NULL: plain TCP */
	int wake_fd;          /* readable: stop waiting at once (ZW_STOPPED); -1: none */
	size_t max;           /* longest line accepted, without its "\r\n" */
	/* After ZW_ERROR: an errno value (> 0) or a GnuTLS error code (< 0). One for each direction: a
	 * reader thread and a writer thread may share the io. */
	int err, werr;
	char *buf;
	size_t start, len, cap;
};

void zw_io_init(struct zw_io *io, int fd, size_t max, int wake_fd);
/* Releases the buffer; the descriptor and the TLS session stay the caller's. */
void zw_io_release(struct zw_io *io);

/* Wait until fd has events or deadline_ms passes (-1: no deadline): 1 ready, 0 deadline, ZW_STOPPED
 * when wake_fd (>= 0) becomes readable, ZW_ERROR (errno) when poll() fails. */
int zw_wait(int fd, short events, int wake_fd, long long deadline_ms);

/* The next line, without its "\n" (and a "\r" before it), NUL-terminated, owned by io until the next
 * call. One absolute deadline (-1: none) for the whole line, however its bytes trickle in; past it only
 * what has already arrived is read. A line longer than io->max is ZW_TOO_LONG: memory never grows beyond
 * io->max plus a few bytes. */
int zw_read_line(struct zw_io *io, long long deadline_ms, char **ret_line);

/* Write all of buf (blocking socket; MSG_NOSIGNAL, so a closed peer is ZW_ERROR, never SIGPIPE). */
int zw_write(struct zw_io *io, const void *buf, size_t len);

/* Use fd for the session, writing with MSG_NOSIGNAL. */
void zw_tls_set_socket(gnutls_session_t s, int fd);

/* The TLS handshake on s by deadline_ms, however slowly the peer's bytes come (GnuTLS's own handshake
 * timeout does not stop a record trickled one byte at a time): the socket is non-blocking meanwhile and
 * every wait a poll() for the time left. Returns 0 or a GnuTLS error code: GNUTLS_E_TIMEDOUT at the
 * deadline, GNUTLS_E_INTERRUPTED when wake_fd (>= 0) became readable. */
int zw_handshake(gnutls_session_t s, int fd, long long deadline_ms, int wake_fd);

#endif
