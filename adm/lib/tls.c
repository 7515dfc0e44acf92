/* tls.c: GnuTLS client side: credentials, session, handshake with certificate and host name checks. */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

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

static bool is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
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
	zw_tls_set_socket(s, fd);
	/* By an absolute deadline, however slowly the server's bytes come; a stop interrupts it. */
	r = zw_handshake(s, fd, zw_now_ms() + dev->opts.timeout_ms, dev->wake[0]);
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
