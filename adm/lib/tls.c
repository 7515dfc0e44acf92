/* tls.c: GnuTLS client side: credentials, session, handshake with certificate and host name checks. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>

#include <gnutls/x509.h>

#include "internal.h"

int zadm_tls_cred_new(struct zadm_device *dev, gnutls_certificate_credentials_t *ret_cred)
{
	gnutls_certificate_credentials_t cred;
	int r;

	if (gnutls_certificate_allocate_credentials(&cred) < 0)
		return ZADM_ERR_NOMEM;
	if (dev->ca_file) {
		r = gnutls_certificate_set_x509_trust_file(cred, dev->ca_file, GNUTLS_X509_FMT_PEM);
		if (r <= 0) {
			zadm_err(dev, "TLS: no CA certificate loaded from %s: %s", dev->ca_file,
				 r < 0 ? gnutls_strerror(r) : "the file holds none");
			gnutls_certificate_free_credentials(cred);
			return ZADM_ERR_TLS;
		}
	} else if (!dev->opts.tls.insecure) {
		r = gnutls_certificate_set_x509_system_trust(cred);
		if (r <= 0) {
			zadm_err(dev, "TLS: the system trust store is empty or unreadable (%s); set tls.ca_file",
				 r < 0 ? gnutls_strerror(r) : "no certificates");
			gnutls_certificate_free_credentials(cred);
			return ZADM_ERR_TLS;
		}
	}
	*ret_cred = cred;
	return ZADM_OK;
}

/* Our own push so a peer that closed never raises SIGPIPE in the application. */
static ssize_t tls_push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
	return send((int)(intptr_t)ptr, data, len, MSG_NOSIGNAL);
}

static bool is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* The handshake within timeout_ms from now, however slowly the server's bytes come: non-blocking
 * meanwhile, each wait a poll() for the time left (GnuTLS's own handshake timeout does not stop a
 * record trickled one byte at a time). A stop interrupts it. */
static int handshake(struct zadm_device *dev, gnutls_session_t s, int fd)
{
	struct timespec ts;
	long long until, left;
	int flags = fcntl(fd, F_GETFL), r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	until = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + dev->opts.timeout_ms;
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	for (;;) {
		r = gnutls_handshake(s);
		if (r >= 0 || gnutls_error_is_fatal(r))
			break;
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED)
			continue; /* a warning alert: go on */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		left = until - ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
		if (left <= 0) {
			r = GNUTLS_E_TIMEDOUT;
			break;
		}
		switch (zadm_wait_fd(dev, fd, gnutls_record_get_direction(s) ? POLLOUT : POLLIN, (int)left)) {
		case -1:
			r = GNUTLS_E_INTERRUPTED; /* the device stops */
			goto out;
		case 0:
			r = GNUTLS_E_TIMEDOUT;
			goto out;
		}
	}
out:
	fcntl(fd, F_SETFL, flags);
	return r;
}

int zadm_tls_session_open(struct zadm_device *dev, int fd, const char *host, gnutls_session_t *ret_s)
{
	gnutls_session_t s;
	int r;

	if (gnutls_init(&s, GNUTLS_CLIENT) < 0)
		return ZADM_ERR_NOMEM;
	r = gnutls_set_default_priority(s);
	if (r >= 0)
		r = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, dev->cred);
	if (r >= 0 && !is_ip_literal(host))
		r = gnutls_server_name_set(s, GNUTLS_NAME_DNS, host, strlen(host));
	if (r < 0) {
		zadm_err(dev, "TLS: session setup failed: %s", gnutls_strerror(r));
		gnutls_deinit(s);
		return ZADM_ERR_TLS;
	}
	if (!dev->opts.tls.insecure)
		gnutls_session_set_verify_cert(s, host, 0);
	else
		zadm_warn(dev, "TLS: certificate verification is off (insecure option)");
	gnutls_transport_set_int(s, fd);
	gnutls_transport_set_push_function(s, tls_push);
	r = handshake(dev, s, fd);
	if (r < 0) {
		if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
			gnutls_datum_t out = { NULL, 0 };
			unsigned int status = gnutls_session_get_verify_cert_status(s);

			gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0);
			zadm_err(dev, "TLS: certificate of %s refused: %s", host,
				 out.data ? (const char *)out.data : "verification failed");
			gnutls_free(out.data);
		} else {
			if (r == GNUTLS_E_INTERRUPTED)
				zadm_dbg(dev, "TLS: handshake with %s interrupted by the stop", host);
			else
				zadm_err(dev, "TLS: handshake with %s failed: %s", host, gnutls_strerror(r));
		}
		gnutls_deinit(s);
		return ZADM_ERR_TLS;
	}
	zadm_dbg(dev, "TLS: connected to %s (%s)", host, gnutls_protocol_get_name(gnutls_protocol_get_version(s)));
	*ret_s = s;
	return ZADM_OK;
}
