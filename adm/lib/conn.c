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
	struct zw_io io; /* the socket, its TLS session and the line buffer */
};

int zadm_wait_fd(struct zadm_device *dev, int fd, short events, int timeout_ms)
{
	int r = zw_wait(fd, events, dev->wake[0], timeout_ms < 0 ? -1 : zw_now_ms() + timeout_ms);

	return r < 0 ? -1 : r;
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
	zw_io_init(&c->io, fd, dev->opts.max_line, dev->wake[0]);
	if (dev->opts.tls.enable) {
		const char *name = dev->server_name ? dev->server_name : host;

		r = zadm_tls_session_open(dev, fd, name, &c->io.tls);
		if (r) {
			pthread_mutex_lock(&dev->lock);
			dev->cfd = -1;
			pthread_mutex_unlock(&dev->lock);
			close(fd);
			free(c);
			return r;
		}
	}
	zadm_dbg(dev, "connected to %s%s", what, c->io.tls ? " (TLS)" : "");
	*ret_conn = c;
	return ZADM_OK;
}

int zadm_conn_from_fd(struct zadm_device *dev, int fd, zadm_conn **ret_conn)
{
	zadm_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return ZADM_ERR_NOMEM;
	zw_io_init(&c->io, fd, dev->opts.max_line, dev->wake[0]);
	*ret_conn = c;
	return ZADM_OK;
}

int zadm_conn_write(zadm_conn *c, const char *buf, size_t len)
{
	return zw_write(&c->io, buf, len) ? ZADM_ERR_IO : ZADM_OK;
}

int zadm_conn_read_line(struct zadm_device *dev, zadm_conn *c, int timeout_ms, char **ret_line)
{
	/* One deadline for the whole line: a peer sending a byte now and then must not keep the call
	 * waiting for ever (slowloris). */
	int r = zw_read_line(&c->io, timeout_ms >= 0 ? zw_now_ms() + timeout_ms : -1, ret_line);

	switch (r) {
	case ZW_OK:
		return ZADM_OK;
	case ZW_TIMEOUT:
		return 1;
	case ZW_TOO_LONG:
		zadm_err(dev, "protocol error: the server sent a line longer than %zu bytes; closing the connection",
			 c->io.max);
		return ZADM_ERR_TOO_LONG;
	case ZW_NOMEM:
		return ZADM_ERR_NOMEM;
	case ZW_CLOSED:
		zadm_dbg(dev, "connection closed by the server");
		return ZADM_ERR_IO;
	case ZW_ERROR:
		if (c->io.err < 0)
			zadm_dbg(dev, "TLS read: %s", gnutls_strerror(c->io.err));
		else
			zadm_dbg(dev, "read: %s", strerror(c->io.err));
		return ZADM_ERR_IO;
	default: /* ZW_STOPPED: the device stops */
		return ZADM_ERR_IO;
	}
}

void zadm_conn_shutdown(zadm_conn *c)
{
	if (c)
		shutdown(c->io.fd, SHUT_RDWR);
}

void zadm_conn_close(zadm_conn *c)
{
	if (!c)
		return;
	if (c->io.tls) {
		gnutls_bye(c->io.tls, GNUTLS_SHUT_WR);
		gnutls_deinit(c->io.tls);
	}
	close(c->io.fd);
	zw_io_release(&c->io);
	free(c);
}
