/* wire.c: the line transport of libzadm and zadm-sandbox: deadline-bounded reads of JSON lines, writes,
 * and the TLS handshake, over plain or TLS sockets. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "wire.h"

long long zw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void zw_io_init(struct zw_io *io, int fd, size_t max, int wake_fd)
{
	memset(io, 0, sizeof(*io));
	io->fd = fd;
	io->max = max;
	io->wake_fd = wake_fd;
}

void zw_io_release(struct zw_io *io)
{
	free(io->buf);
	io->buf = NULL;
	io->start = io->len = io->cap = 0;
}

/* Milliseconds left until deadline_ms for poll(): -1 for none, 0 once it has passed. */
static int left_ms(long long deadline_ms)
{
	long long left;

	if (deadline_ms < 0)
		return -1;
	left = deadline_ms - zw_now_ms();
	return left <= 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

int zw_wait(int fd, short events, int wake_fd, long long deadline_ms)
{
	struct pollfd p[2] = { { fd, events, 0 }, { wake_fd, POLLIN, 0 } };
	int r;

	for (;;) {
		r = poll(p, wake_fd >= 0 ? 2 : 1, left_ms(deadline_ms));
		if (r >= 0 || errno != EINTR)
			break;
	}
	if (r < 0)
		return ZW_ERROR;
	if (wake_fd >= 0 && p[1].revents)
		return ZW_STOPPED;
	return r > 0 ? 1 : 0;
}

/* The next complete line in the buffer, cut in place; NULL if there is none yet. */
static char *find_line(struct zw_io *io)
{
	char *s, *nl;

	if (io->start == io->len)
		return NULL; /* nothing buffered; before the first read io->buf is still NULL */
	s = io->buf + io->start;
	nl = memchr(s, '\n', io->len - io->start);
	if (!nl)
		return NULL;
	*nl = '\0';
	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	io->start = (size_t)(nl - io->buf) + 1;
	return s;
}

/* What a recv or send that returned n means: 0 data moved (n >= 0), 1 interrupted (try again), or
 * ZW_ERROR with the errno or GnuTLS code in io->err (reading) or io->werr (writing). GNUTLS_E_AGAIN is
 * a retry only when reading (the caller polls again, by its deadline); when writing it is the socket's
 * send timeout, an error. */
static int io_result(struct zw_io *io, ssize_t n, bool reading)
{
	if (n >= 0)
		return 0;
	if (io->tls ? n == GNUTLS_E_INTERRUPTED || (reading && n == GNUTLS_E_AGAIN) : errno == EINTR)
		return 1;
	*(reading ? &io->err : &io->werr) = io->tls ? (int)n : errno;
	return ZW_ERROR;
}

int zw_read_line(struct zw_io *io, long long deadline_ms, char **ret_line)
{
	for (;;) {
		char *line = find_line(io);
		ssize_t n;
		int r;

		if (line) {
			if (strlen(line) > io->max)
				return ZW_TOO_LONG;
			*ret_line = line;
			return ZW_OK;
		}
		if (io->start) {
			memmove(io->buf, io->buf + io->start, io->len - io->start);
			io->len -= io->start;
			io->start = 0;
		}
		/* A line may be max bytes plus "\r\n"; anything longer without a newline is refused. */
		if (io->len > io->max + 1)
			return ZW_TOO_LONG;
		if (io->cap - io->len < 1024 && io->cap < io->max + 2) {
			size_t ncap = io->cap ? io->cap * 2 : 4096;
			char *nb;

			if (ncap > io->max + 2)
				ncap = io->max + 2;
			nb = realloc(io->buf, ncap + 1);
			if (!nb)
				return ZW_NOMEM;
			io->buf = nb;
			io->cap = ncap;
		}
		if (!io->tls || !gnutls_record_check_pending(io->tls)) {
			int w = zw_wait(io->fd, POLLIN, io->wake_fd, deadline_ms);

			if (w == ZW_ERROR)
				io->err = errno;
			if (w < 0)
				return w;
			if (w == 0)
				return ZW_TIMEOUT;
		}
		if (io->tls) {
			int left = left_ms(deadline_ms);

			/* GnuTLS reads a whole record, however slowly it comes: the deadline bounds that too. */
			gnutls_record_set_timeout(io->tls, left < 0 ? 0 : left > 0 ? (unsigned int)left : 1);
			n = gnutls_record_recv(io->tls, io->buf + io->len, io->cap - io->len);
			if (n == GNUTLS_E_TIMEDOUT)
				return ZW_TIMEOUT;
		} else {
			n = recv(io->fd, io->buf + io->len, io->cap - io->len, 0);
		}
		r = io_result(io, n, true);
		if (r == 1)
			continue;
		if (r)
			return r;
		if (n == 0)
			return ZW_CLOSED;
		io->len += (size_t)n;
	}
}

int zw_write(struct zw_io *io, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = io->tls ? gnutls_record_send(io->tls, p, len) : send(io->fd, p, len, MSG_NOSIGNAL);
		int r = io_result(io, n, false);

		if (r == 1)
			continue;
		if (r)
			return r;
		if (n == 0) {
			io->werr = EPIPE; /* a blocking send that moves nothing: the peer is gone */
			return ZW_ERROR;
		}
		p += n;
		len -= (size_t)n;
	}
	return ZW_OK;
}

static ssize_t push_nosignal(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	return send((int)(intptr_t)ptr, data, len, MSG_NOSIGNAL);
}

void zw_tls_set_socket(gnutls_session_t s, int fd)
{
	gnutls_transport_set_int(s, fd);
	gnutls_transport_set_push_function(s, push_nosignal);
}

int zw_handshake(gnutls_session_t s, int fd, long long deadline_ms, int wake_fd)
{
	int flags = fcntl(fd, F_GETFL), r;

	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	for (;;) {
		r = gnutls_handshake(s);
		if (r >= 0 || gnutls_error_is_fatal(r))
			break;
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED)
			continue; /* a warning alert: go on */
		if (zw_now_ms() >= deadline_ms) {
			r = GNUTLS_E_TIMEDOUT;
			break;
		}
		r = zw_wait(fd, gnutls_record_get_direction(s) ? POLLOUT : POLLIN, wake_fd, deadline_ms);
		if (r == ZW_STOPPED) {
			r = GNUTLS_E_INTERRUPTED;
			break;
		}
		if (r == 0 || r == ZW_ERROR) {
			r = r ? GNUTLS_E_PULL_ERROR : GNUTLS_E_TIMEDOUT;
			break;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return r;
}
