/* conn.c: one connection to the server: resolve, connect with a timeout, read and write lines. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

struct zadm_conn {
	int fd;
	gnutls_session_t tls;
	char *buf;
	size_t start, len, cap, max;
};

int zadm_wait_fd(struct zadm_device *dev, int fd, short events, int timeout_ms)
{
	struct pollfd p[2] = { { fd, events, 0 }, { dev->wake[0], POLLIN, 0 } };
	int r;

	do {
		r = poll(p, 2, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0 || p[1].revents)
		return -1;
	return r > 0 ? 1 : 0;
}

static int connect_one(struct zadm_device *dev, const struct addrinfo *ai, const char *what)
{
	int fd, flags, err = 0, one = 1;
	socklen_t errlen = sizeof(err);
	struct timeval tv = { dev->opts.timeout_ms / 1000, (dev->opts.timeout_ms % 1000) * 1000 };

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		switch (zadm_wait_fd(dev, fd, POLLOUT, (int)dev->opts.timeout_ms)) {
		case 0:
			err = ETIMEDOUT;
			goto fail;
		case -1:
			err = ECANCELED;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
			err = errno;
		if (err)
			goto fail;
	}
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A server that stops reading or stalls mid-record must not block a thread forever. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
fail:
	zadm_dbg(dev, "connect to %s failed: %s", what, strerror(err));
	close(fd);
	errno = err;
	return -1;
}

int zadm_conn_open(struct zadm_device *dev, zadm_conn **ret_conn)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	const char *host = dev->ip ? dev->ip : dev->address;
	char port[16], what[300];
	zadm_conn *c;
	int fd = -1, r, err = 0;

	snprintf(port, sizeof(port), "%u", dev->opts.port);
	snprintf(what, sizeof(what), "%s:%u", host, dev->opts.port);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = dev->ip ? AI_NUMERICHOST : AI_ADDRCONFIG;
	/* Resolved on every attempt: the server may have moved since the last connection. */
	r = getaddrinfo(host, port, &hints, &res);
	if (r) {
		zadm_warn(dev, "cannot resolve %s: %s", host, gai_strerror(r));
		return ZADM_ERR_IO;
	}
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = connect_one(dev, ai, what);
		if (fd < 0)
			err = errno;
		if (err == ECANCELED)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (err != ECANCELED)
			zadm_warn(dev, "cannot connect to %s: %s", what, strerror(err));
		return ZADM_ERR_IO;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return ZADM_ERR_NOMEM;
	}
	/* Published so that a stop can interrupt the handshake and the login at once. */
	pthread_mutex_lock(&dev->lock);
	dev->cfd = fd;
	pthread_mutex_unlock(&dev->lock);
	c->fd = fd;
	c->max = dev->opts.max_line;
	if (dev->opts.tls.enable) {
		const char *name = dev->server_name ? dev->server_name : host;

		r = zadm_tls_session_open(dev, fd, name, &c->tls);
		if (r) {
			pthread_mutex_lock(&dev->lock);
			dev->cfd = -1;
			pthread_mutex_unlock(&dev->lock);
			close(fd);
			free(c);
			return r;
		}
	}
	zadm_dbg(dev, "connected to %s%s", what, c->tls ? " (TLS)" : "");
	*ret_conn = c;
	return ZADM_OK;
}

int zadm_conn_from_fd(struct zadm_device *dev, int fd, zadm_conn **ret_conn)
{
	zadm_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return ZADM_ERR_NOMEM;
	c->fd = fd;
	c->max = dev->opts.max_line;
	*ret_conn = c;
	return ZADM_OK;
}

int zadm_conn_write(zadm_conn *c, const char *buf, size_t len)
{
	while (len) {
		ssize_t n;

		if (c->tls) {
			n = gnutls_record_send(c->tls, buf, len);
			if (n == GNUTLS_E_INTERRUPTED)
				continue;
			if (n < 0)
				return ZADM_ERR_IO;
		} else {
			n = send(c->fd, buf, len, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return ZADM_ERR_IO;
		}
		buf += n;
		len -= (size_t)n;
	}
	return ZADM_OK;
}

static char *find_line(zadm_conn *c)
{
	char *s, *nl;

	if (c->start == c->len)
		return NULL; /* nothing buffered; before the first read c->buf is still NULL */
	s = c->buf + c->start;
	nl = memchr(s, '\n', c->len - c->start);
	if (!nl)
		return NULL;
	*nl = '\0';
	if (nl > s && nl[-1] == '\r')
		nl[-1] = '\0';
	c->start = (size_t)(nl - c->buf) + 1;
	return s;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int zadm_conn_read_line(struct zadm_device *dev, zadm_conn *c, int timeout_ms, char **ret_line)
{
	/* One deadline for the whole line: a peer sending a byte now and then must not keep the call
	 * waiting for ever (slowloris). */
	long long until = timeout_ms >= 0 ? mono_ms() + timeout_ms : -1;

	for (;;) {
		char *line = find_line(c);
		ssize_t n;

		if (line) {
			if (strlen(line) > c->max)
				goto too_long;
			*ret_line = line;
			return ZADM_OK;
		}
		if (c->start) {
			memmove(c->buf, c->buf + c->start, c->len - c->start);
			c->len -= c->start;
			c->start = 0;
		}
		/* A line may be max bytes plus "\r\n"; anything longer without a newline is refused. */
		if (c->len > c->max + 1)
			goto too_long;
		if (c->cap - c->len < 1024 && c->cap < c->max + 2) {
			size_t ncap = c->cap ? c->cap * 2 : 4096;
			char *nb;

			if (ncap > c->max + 2)
				ncap = c->max + 2;
			nb = realloc(c->buf, ncap + 1);
			if (!nb)
				return ZADM_ERR_NOMEM;
			c->buf = nb;
			c->cap = ncap;
		}
		if (!c->tls || !gnutls_record_check_pending(c->tls)) {
			/* Past the deadline only what has arrived is read (at most max_line bytes more). */
			long long left = until < 0 ? -1 : until - mono_ms();
			int w = zadm_wait_fd(dev, c->fd, POLLIN, until < 0 ? -1 : left > 0 ? (int)left : 0);

			if (w < 0)
				return ZADM_ERR_IO;
			if (w == 0)
				return 1;
		}
		if (c->tls) {
			/* GnuTLS reads a whole record, however slowly it comes: bound that by the deadline too. */
			long long left = until < 0 ? 0 : until - mono_ms();

			gnutls_record_set_timeout(c->tls, until < 0 ? 0 : left > 0 ? (unsigned int)left : 1);
			n = gnutls_record_recv(c->tls, c->buf + c->len, c->cap - c->len);
			if (n == GNUTLS_E_TIMEDOUT)
				return 1;
			if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN)
				continue;
			if (n < 0) {
				zadm_dbg(dev, "TLS read: %s", gnutls_strerror((int)n));
				return ZADM_ERR_IO;
			}
		} else {
			n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				zadm_dbg(dev, "read: %s", strerror(errno));
				return ZADM_ERR_IO;
			}
		}
		if (n == 0) {
			zadm_dbg(dev, "connection closed by the server");
			return ZADM_ERR_IO;
		}
		c->len += (size_t)n;
	}
too_long:
	zadm_err(dev, "protocol error: the server sent a line longer than %zu bytes; closing the connection",
		 c->max);
	return ZADM_ERR_TOO_LONG;
}

void zadm_conn_shutdown(zadm_conn *c)
{
	if (c)
		shutdown(c->fd, SHUT_RDWR);
}

void zadm_conn_close(zadm_conn *c)
{
	if (!c)
		return;
	if (c->tls) {
		gnutls_bye(c->tls, GNUTLS_SHUT_WR);
		gnutls_deinit(c->tls);
	}
	close(c->fd);
	free(c->buf);
	free(c);
}
