/* backend.c: the backend REST client (libcurl + yajl) and the credentials file, per BACKEND-API.md. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "internal.h"
#include "ztc/backend.h"

#define DEFAULT_URL "https://backend.zerynth.com/v1"
#define ATTEMPTS 3
#define TIMEOUT_MS 5000L
#define CREATE_TIMEOUT_MS 20000L
/* A .vm is at most a few MB of base64; anything far bigger is not a reply we want in memory. */
#define REPLY_MAX (64u * 1024 * 1024)
#define CREDENTIALS_MAX (64 * 1024)
/* A backend message is shown on one line; longer ones are cut. */
#define MESSAGE_MAX 300

struct ztc_backend {
	ztc_ctx *ctx;
	CURL *curl;
	struct curl_slist *headers;
	char *base;      /* without a trailing '/' */
	char *token;
	long timeout_ms; /* ZTC_BACKEND_TIMEOUT_MS, 0 for the per-call default */
	char errbuf[CURL_ERROR_SIZE];
};

struct reply {
	struct ztc_buf b;
	bool too_big;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The token goes into an HTTP header: printable ASCII without spaces, so it cannot inject a header. */
static bool token_valid(const char *t)
{
	if (ztc_str_empty(t))
		return false;
	for (; *t; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return false;
	return true;
}

/* Copy src into dst with every occurrence of the token replaced, so that no message can leak it, even
 * one where the backend echoes it back. */
static void mask_token(const char *token, const char *src, char *dst, size_t dstlen)
{
	/* A token that short would mangle ordinary words; real tokens are long. */
	size_t tl = token && strlen(token) >= 4 ? strlen(token) : 0, o = 0;

	while (*src && o + 1 < dstlen) {
		if (tl && strncmp(src, token, tl) == 0) {
			for (const char *m = "<token>"; *m && o + 1 < dstlen; m++)
				dst[o++] = *m;
			src += tl;
		} else {
			dst[o++] = *src++;
		}
	}
	dst[o] = '\0';
}

static int be_fail(ztc_backend *be, int err, const char *fmt, ...) ZTC_PRINTF(3, 4);

static int be_fail(ztc_backend *be, int err, const char *fmt, ...)
{
	char raw[1024], masked[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	mask_token(be->token, raw, masked, sizeof(masked));
	return ztc_fail(be->ctx, err, "%s", masked);
}

/* The backend's message made fit for one line: control characters become spaces, long ones are cut
 * at a UTF-8 character boundary. */
static void one_line(const char *msg, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *msg && o + 4 < outlen && o < MESSAGE_MAX; msg++)
		out[o++] = (unsigned char)*msg < 0x20 || *msg == 0x7f ? ' ' : *msg;
	if (*msg) {
		/* Cut inside a multi-byte character: drop its leading bytes too. */
		if (((unsigned char)*msg & 0xc0) == 0x80) {
			while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
				o--;
			if (o > 0 && (unsigned char)out[o - 1] >= 0xc0)
				o--;
		}
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static char *read_token(ztc_ctx *ctx, int *ret_err)
{
	char *path = ztc_strdup_printf("%s/credentials.json", ctx->home), *text, *tok = NULL;
	char why[256] = "";
	const char *key[] = { "token", NULL };
	yajl_val root, v;
	int err = 0;

	*ret_err = ZTC_OK;
	if (!path) {
		*ret_err = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		return NULL;
	}
	text = ztc_read_file(path, CREDENTIALS_MAX, NULL, &err);
	if (!text) {
		if (err == ZTC_ENOTREG)
			*ret_err = ztc_fail(ctx, ZTC_ERR_IO, "%s is not a regular file: move it away and run 'ztc login'",
					    path);
		else if (err != ENOENT)
			*ret_err = ztc_fail(ctx, ZTC_ERR_IO, "cannot read %s: %s", path, strerror(err));
		free(path);
		return NULL; /* no file: not logged in */
	}
	root = ztc_json_parse(text, why, sizeof(why));
	v = root ? yajl_tree_get(root, key, yajl_t_string) : NULL;
	if (!YAJL_IS_OBJECT(root) || !v) {
		*ret_err = ztc_fail(ctx, ZTC_ERR_CORRUPT, "%s is corrupt (%s): run 'ztc login' to replace it", path,
				    !root ? (*why ? why : "invalid JSON") : "no \"token\" string");
	} else if (!ztc_str_empty(v->u.string) && !(tok = strdup(v->u.string))) {
		*ret_err = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	}
	if (tok && !token_valid(tok)) {
		*ret_err = ztc_fail(ctx, ZTC_ERR_ARG,
				    "the token in %s holds spaces or control characters: run 'ztc login' again", path);
		free(tok);
		tok = NULL;
	}
	yajl_tree_free(root);
	free(text);
	free(path);
	return tok;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct reply *r = userdata;
	size_t n = size * nmemb;

	if (r->b.len + n + 1 > REPLY_MAX) {
		r->too_big = true;
		return 0; /* makes curl stop with CURLE_WRITE_ERROR */
	}
	if (!ztc_buf_append(&r->b, ptr, n))
		return 0;
	return n;
}

ZTC_API int ztc_backend_new(ztc_ctx *ctx, ztc_backend **ret_be)
{
	const char *url = getenv("ZTC_BACKEND_URL"), *cafile = getenv("ZTC_BACKEND_CAFILE");
	const char *tmo = getenv("ZTC_BACKEND_TIMEOUT_MS"), *envtok = getenv("ZTC_TOKEN");
	struct curl_slist *h;
	ztc_backend *be;
	char *auth, *end;
	int rc = ZTC_OK;

	if (!ctx || !ret_be)
		return ZTC_ERR_ARG;
	if (ztc_str_empty(url))
		url = DEFAULT_URL;
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		return ztc_fail(ctx, ZTC_ERR_ARG, "ZTC_BACKEND_URL must be an http:// or https:// URL, not '%s'", url);
	be = calloc(1, sizeof(*be));
	if (!be)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	be->ctx = ctx;
	if (!ztc_str_empty(tmo)) {
		errno = 0;
		be->timeout_ms = strtol(tmo, &end, 10);
		if (errno || *end || be->timeout_ms <= 0 || be->timeout_ms > 3600000) {
			rc = ztc_fail(ctx, ZTC_ERR_ARG, "ZTC_BACKEND_TIMEOUT_MS must be a number of milliseconds "
				      "from 1 to 3600000, not '%s'", tmo);
			goto fail;
		}
	}
	if (!ztc_str_empty(envtok)) {
		if (!token_valid(envtok)) {
			rc = ztc_fail(ctx, ZTC_ERR_ARG, "the token in ZTC_TOKEN holds spaces or control characters");
			goto fail;
		}
		be->token = strdup(envtok);
		if (!be->token) {
			rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
			goto fail;
		}
	} else {
		be->token = read_token(ctx, &rc);
		if (rc < 0)
			goto fail;
	}
	/* Every call needs the token: say so before the caller does anything a backend call would waste. */
	if (!be->token) {
		rc = ztc_fail(ctx, ZTC_ERR_BACKEND, "not logged in: run 'ztc login'");
		goto fail;
	}
	if (!ztc_str_empty(cafile) && access(cafile, R_OK) < 0) {
		rc = ztc_fail(ctx, ZTC_ERR_IO, "cannot read ZTC_BACKEND_CAFILE %s: %s", cafile, strerror(errno));
		goto fail;
	}
	be->base = strdup(url);
	if (!be->base) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto fail;
	}
	for (size_t n = strlen(be->base); n > 0 && be->base[n - 1] == '/'; n--)
		be->base[n - 1] = '\0';
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK || !(be->curl = curl_easy_init())) {
		rc = ztc_fail(ctx, ZTC_ERR_BACKEND, "cannot initialise libcurl");
		goto fail;
	}
	auth = ztc_strdup_printf("Authorization: Bearer %s", be->token);
	if (!auth) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto fail;
	}
	/* "Expect:" only suppresses curl's 100-continue dance on large bodies; it sends no header. */
	h = curl_slist_append(NULL, "Content-Type: application/json");
	h = h ? curl_slist_append(h, "User-Agent: ztc/" PACKAGE_VERSION) : NULL;
	h = h ? curl_slist_append(h, auth) : NULL;
	h = h ? curl_slist_append(h, "Expect:") : NULL;
	/* The copy of the token inside the header list is wiped with it in ztc_backend_free(). */
	explicit_bzero(auth, strlen(auth));
	free(auth);
	if (!h) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto fail;
	}
	be->headers = h;
	curl_easy_setopt(be->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(be->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(be->curl, CURLOPT_FOLLOWLOCATION, 0L); /* never carry the token elsewhere */
	curl_easy_setopt(be->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(be->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	/* libcurl keeps its default CA directory (/etc/ssl/certs on Debian), so this file is an addition. */
	if (!ztc_str_empty(cafile))
		curl_easy_setopt(be->curl, CURLOPT_CAINFO, cafile);
	curl_easy_setopt(be->curl, CURLOPT_HTTPHEADER, be->headers);
	curl_easy_setopt(be->curl, CURLOPT_ERRORBUFFER, be->errbuf);
	curl_easy_setopt(be->curl, CURLOPT_WRITEFUNCTION, on_data);
	*ret_be = be;
	return ZTC_OK;
fail:
	ztc_backend_free(be);
	return rc;
}

ZTC_API void ztc_backend_free(ztc_backend *be)
{
	if (!be)
		return;
	if (be->curl)
		curl_easy_cleanup(be->curl);
	for (struct curl_slist *h = be->headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(be->headers);
	if (be->token)
		explicit_bzero(be->token, strlen(be->token));
	free(be->token);
	free(be->base);
	free(be);
}

static bool retryable(CURLcode c)
{
	switch (c) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		return true;
	default:
		return false;
	}
}

/* The certificate itself was refused (unknown CA, wrong host name): the user may need to trust a CA. */
static bool cert_refused(CURLcode c)
{
	return c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_ISSUER_ERROR;
}

static bool tls_failure(CURLcode c)
{
	return c == CURLE_SSL_CONNECT_ERROR || c == CURLE_SSL_CACERT_BADFILE || c == CURLE_SSL_CERTPROBLEM;
}

/* What call() makes of a reply once the HTTP exchange is done (also the entry point of the backend
 * reply fuzzer): code is the HTTP status, buf the body as a C string (NULL when there was none). On
 * success *ret_root is the parsed reply, an object with a `data` member, which the caller frees. */
int ztc_backend_parse_reply(ztc_backend *be, const char *method, const char *url, const char *what, long code,
			    const char *buf, yajl_val *ret_root)
{
	char perr[256] = "", msgbuf[MESSAGE_MAX + 8] = "";
	const char *k_status[] = { "status", NULL }, *k_message[] = { "message", NULL }, *k_data[] = { "data", NULL };
	yajl_val root, status, message;
	int rc = ZTC_OK;

	root = buf ? ztc_json_parse(buf, perr, sizeof(perr)) : NULL;
	if (root && !YAJL_IS_OBJECT(root)) {
		yajl_tree_free(root);
		root = NULL;
	}
	message = root ? yajl_tree_get(root, k_message, yajl_t_string) : NULL;
	if (message)
		one_line(message->u.string, msgbuf, sizeof(msgbuf));
	if (code < 200 || code >= 300) {
		if (*msgbuf)
			rc = be_fail(be, ZTC_ERR_BACKEND, "backend refused %s: %s (HTTP %ld)", what, msgbuf, code);
		else
			rc = be_fail(be, ZTC_ERR_BACKEND, "backend refused %s: HTTP %ld (%s %s)", what, code, method, url);
		goto out;
	}
	if (!root) {
		rc = be_fail(be, ZTC_ERR_BACKEND, "the backend's reply to %s is not a JSON object (HTTP %ld, %s %s)",
			     what, code, method, url);
		goto out;
	}
	status = yajl_tree_get(root, k_status, yajl_t_string);
	if (!status || strcmp(status->u.string, "success") != 0) {
		if (*msgbuf)
			rc = be_fail(be, ZTC_ERR_BACKEND, "backend refused %s: %s", what, msgbuf);
		else if (status) {
			one_line(status->u.string, msgbuf, sizeof(msgbuf));
			rc = be_fail(be, ZTC_ERR_BACKEND, "backend refused %s: status \"%s\" without a message",
				     what, msgbuf);
		} else
			rc = be_fail(be, ZTC_ERR_BACKEND, "the backend's reply to %s has no \"status\"", what);
		goto out;
	}
	if (!yajl_tree_get(root, k_data, yajl_t_any)) {
		rc = be_fail(be, ZTC_ERR_BACKEND, "the backend's reply to %s has no \"data\"", what);
		goto out;
	}
	*ret_root = root;
	return ZTC_OK;
out:
	yajl_tree_free(root);
	return rc;
}

/* One call: send, retry on timeout or connection failure, check the HTTP status and the reply's
 * status/data/message. On success *ret_root is the parsed reply (an object with a `data` member) and
 * *ret_reply (if not NULL) its text. `what` names the call in error lines: "the VM creation". */
static int call(ztc_backend *be, const char *method, const char *path, const char *body, size_t bodylen,
		long timeout_ms, const char *what, yajl_val *ret_root, struct reply *ret_reply)
{
	struct reply r = { 0 };
	char *url = ztc_strdup_printf("%s%s", be->base, path);
	long t = be->timeout_ms ? be->timeout_ms : timeout_ms, first = t, code = 0;
	CURLcode cc = CURLE_OK;
	yajl_val root = NULL;
	int rc = ZTC_OK, attempt;

	if (!url)
		return ztc_fail(be->ctx, ZTC_ERR_NOMEM, "out of memory");
	curl_easy_setopt(be->curl, CURLOPT_URL, url);
	curl_easy_setopt(be->curl, CURLOPT_WRITEDATA, &r);
	if (body) {
		curl_easy_setopt(be->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(be->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(be->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)bodylen);
	} else {
		curl_easy_setopt(be->curl, CURLOPT_HTTPGET, 1L);
	}
	for (attempt = 1; attempt <= ATTEMPTS; attempt++, t *= 2) {
		r.b.len = 0;
		r.too_big = false;
		be->errbuf[0] = '\0';
		curl_easy_setopt(be->curl, CURLOPT_TIMEOUT_MS, t);
		curl_easy_setopt(be->curl, CURLOPT_CONNECTTIMEOUT_MS, t);
		ztc_dbg(be->ctx, "%s %s (attempt %d of %d, timeout %ld ms)", method, url, attempt, ATTEMPTS, t);
		cc = curl_easy_perform(be->curl);
		if (cc == CURLE_OK || !retryable(cc))
			break;
		ztc_info(be->ctx, "%s %s: %s", method, url, *be->errbuf ? be->errbuf : curl_easy_strerror(cc));
	}
	if (attempt > ATTEMPTS)
		attempt = ATTEMPTS;
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		rc = be_fail(be, ZTC_ERR_TIMEOUT, "no answer from the backend at %s to %s after %d attempts "
			     "(timeouts %ld, %ld and %ld ms)", be->base, what, ATTEMPTS, first, first * 2, first * 4);
		goto out;
	}
	if (cc != CURLE_OK) {
		const char *detail = *be->errbuf ? be->errbuf : curl_easy_strerror(cc);

		if (r.too_big)
			rc = be_fail(be, ZTC_ERR_BACKEND, "the backend's reply to %s is larger than %u MiB",
				     what, REPLY_MAX >> 20);
		else if (cert_refused(cc))
			rc = be_fail(be, ZTC_ERR_BACKEND, "cannot verify the TLS certificate of the backend at %s: "
				     "%s (ZTC_BACKEND_CAFILE can name a CA to trust)", be->base, detail);
		else if (tls_failure(cc))
			rc = be_fail(be, ZTC_ERR_BACKEND, "TLS with the backend at %s failed: %s", be->base, detail);
		else if (retryable(cc))
			rc = be_fail(be, ZTC_ERR_BACKEND, "cannot reach the backend at %s for %s: %s (%d attempts)",
				     be->base, what, detail, attempt);
		else
			rc = be_fail(be, ZTC_ERR_BACKEND, "%s failed (%s %s): %s", what, method, url, detail);
		goto out;
	}
	curl_easy_getinfo(be->curl, CURLINFO_RESPONSE_CODE, &code);
	ztc_dbg(be->ctx, "%s %s: HTTP %ld, %zu bytes", method, url, code, r.b.len);
	rc = ztc_backend_parse_reply(be, method, url, what, code, r.b.data, &root);
	if (rc < 0)
		goto out;
	*ret_root = root;
	root = NULL;
	if (ret_reply) {
		*ret_reply = r;
		r.b.data = NULL;
	}
out:
	yajl_tree_free(root);
	free(r.b.data);
	free(url);
	return rc;
}

/* ---- bodies ----------------------------------------------------------------------------------------- */

/* A body being built; any failed yajl call (a string that is not UTF-8, out of memory) marks it bad. */
struct gen {
	yajl_gen g;
	bool bad;
};

static void gen_check(struct gen *j, yajl_gen_status st)
{
	if (st != yajl_gen_status_ok)
		j->bad = true;
}

static void gen_str(struct gen *j, const char *s)
{
	gen_check(j, s ? yajl_gen_string(j->g, (const unsigned char *)s, strlen(s)) : yajl_gen_null(j->g));
}

static void gen_kv(struct gen *j, const char *key, const char *val)
{
	gen_str(j, key);
	gen_str(j, val);
}

/* A generator with the body's object opened (every body ztc writes is one object); false when out of
 * memory. */
static bool gen_object_new(struct gen *j)
{
	j->bad = false;
	j->g = yajl_gen_alloc(NULL);
	if (!j->g)
		return false;
	/* Refuse to send strings that are not UTF-8 rather than send JSON the backend cannot read. */
	yajl_gen_config(j->g, yajl_gen_validate_utf8, 1);
	gen_check(j, yajl_gen_map_open(j->g));
	return true;
}

/* The generated text, malloc'd, and frees the generator; NULL with *ret_bad set when a yajl call
 * failed, NULL alone when out of memory. */
static char *gen_take(struct gen *j, size_t *ret_len, bool *ret_bad)
{
	const unsigned char *buf;
	size_t len;
	char *out = NULL;

	*ret_bad = j->bad;
	if (!j->bad && yajl_gen_get_buf(j->g, &buf, &len) == yajl_gen_status_ok && (out = malloc(len + 1))) {
		memcpy(out, buf, len);
		out[len] = '\0';
		*ret_len = len;
	}
	yajl_gen_free(j->g);
	return out;
}

/* data.<key> as a new non-empty string, or NULL after recording the error. */
static char *data_string(ztc_backend *be, yajl_val root, const char *key, const char *what)
{
	const char *p[] = { "data", key, NULL };
	yajl_val v = yajl_tree_get(root, p, yajl_t_string);
	char *s;

	if (!v || ztc_str_empty(v->u.string)) {
		be_fail(be, ZTC_ERR_BACKEND, "the backend's reply to %s has no \"data.%s\"", what, key);
		return NULL;
	}
	s = strdup(v->u.string);
	if (!s)
		ztc_fail(be->ctx, ZTC_ERR_NOMEM, "out of memory");
	return s;
}

/* POST the object j generated to path (what names it in messages, "the registration") and take the uid the
 * backend gives it, data.uid: *ret_uid, malloc'd. */
static int post_for_uid(ztc_backend *be, const char *path, struct gen *j, long timeout_ms, const char *what,
			char **ret_uid)
{
	yajl_val root = NULL;
	bool bad = false;
	size_t len = 0;
	char *body, *uid;
	int rc;

	gen_check(j, yajl_gen_map_close(j->g));
	if (!(body = gen_take(j, &len, &bad)))
		return bad ? ztc_fail(be->ctx, ZTC_ERR_ARG, "cannot encode %s: a field is not UTF-8", what)
			   : ztc_fail(be->ctx, ZTC_ERR_NOMEM, "out of memory");
	rc = call(be, "POST", path, body, len, timeout_ms, what, &root, NULL);
	free(body);
	if (rc < 0)
		return rc;
	uid = data_string(be, root, "uid", what);
	yajl_tree_free(root);
	if (!uid)
		return ZTC_ERR_BACKEND;
	*ret_uid = uid;
	return ZTC_OK;
}

static bool nonempty_args(ztc_backend *be, const char *what, const char *const *names, const char *const *vals,
			  size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ztc_str_empty(vals[i])) {
			ztc_fail(be->ctx, ZTC_ERR_ARG, "%s needs a %s", what, names[i]);
			return false;
		}
	return true;
}

ZTC_API int ztc_backend_register_device(ztc_backend *be, const char *name, const char *on_chip_id,
					const char *type, const char *category, char **ret_remote_id)
{
	static const char *const names[] = { "name", "chip id", "type" };
	const char *vals[] = { name, on_chip_id, type };
	struct gen j;

	if (!be || !ret_remote_id)
		return ZTC_ERR_ARG;
	if (!nonempty_args(be, "registering a device", names, vals, 3))
		return ZTC_ERR_ARG;
	if (!gen_object_new(&j))
		return ztc_fail(be->ctx, ZTC_ERR_NOMEM, "out of memory");
	gen_kv(&j, "name", name);
	gen_kv(&j, "on_chip_id", on_chip_id);
	gen_kv(&j, "type", type);
	gen_kv(&j, "category", category);
	return post_for_uid(be, "/devices", &j, TIMEOUT_MS, "the registration", ret_remote_id);
}

ZTC_API int ztc_backend_create_vm(ztc_backend *be, const char *name, const char *dev_uid,
				  const char *version, const char *rtos, const char *const *features,
				  size_t nfeatures, const char *patch, char **ret_vmuid)
{
	static const char *const names[] = { "name", "device uid", "version", "rtos" };
	const char *vals[] = { name, dev_uid, version, rtos };
	struct gen j;

	if (!be || !ret_vmuid || (nfeatures && !features))
		return ZTC_ERR_ARG;
	if (!nonempty_args(be, "creating a VM", names, vals, 4))
		return ZTC_ERR_ARG;
	for (size_t i = 0; i < nfeatures; i++)
		if (ztc_str_empty(features[i]))
			return ztc_fail(be->ctx, ZTC_ERR_ARG, "creating a VM: feature %zu is empty", i + 1);
	if (!gen_object_new(&j))
		return ztc_fail(be->ctx, ZTC_ERR_NOMEM, "out of memory");
	gen_kv(&j, "name", name);
	gen_kv(&j, "dev_uid", dev_uid);
	gen_kv(&j, "version", version);
	gen_kv(&j, "rtos", rtos);
	gen_str(&j, "features");
	gen_check(&j, yajl_gen_array_open(j.g));
	for (size_t i = 0; i < nfeatures; i++)
		gen_str(&j, features[i]);
	gen_check(&j, yajl_gen_array_close(j.g));
	gen_kv(&j, "patch", ztc_str_empty(patch) ? "base" : patch);
	return post_for_uid(be, "/vms", &j, CREATE_TIMEOUT_MS, "the VM creation", ret_vmuid);
}

/* ---- the `data` object as sent ------------------------------------------------------------------------ */

/* Finds the byte range of the top-level "data" member's value with yajl's event parser: the .vm is
 * stored as the backend sent it, not as yajl would re-encode it (key order, spacing, escapes and
 * number spelling all survive). */
struct span {
	yajl_handle h;
	int depth;
	bool want, found;
	size_t start, end;
};

static int sp_open(void *ud)
{
	struct span *s = ud;

	if (s->depth == 1 && s->want)
		s->start = yajl_get_bytes_consumed(s->h) - 1; /* just consumed '{' or '[' */
	s->depth++;
	return 1;
}

static int sp_close(void *ud)
{
	struct span *s = ud;

	s->depth--;
	if (s->depth == 1 && s->want) {
		s->end = yajl_get_bytes_consumed(s->h);
		s->want = false;
		s->found = true;
	}
	return 1;
}

static int sp_key(void *ud, const unsigned char *key, size_t len)
{
	struct span *s = ud;

	if (s->depth == 1 && !s->found)
		s->want = len == 4 && memcmp(key, "data", 4) == 0;
	return 1;
}

static int sp_scalar(void *ud)
{
	struct span *s = ud;

	if (s->depth == 1)
		s->want = false; /* a scalar `data`: not an object, the caller refuses it */
	return 1;
}

static int sp_null(void *ud) { return sp_scalar(ud); }
static int sp_bool(void *ud, int b) { (void)b; return sp_scalar(ud); }
static int sp_number(void *ud, const char *n, size_t l) { (void)n; (void)l; return sp_scalar(ud); }
static int sp_string(void *ud, const unsigned char *v, size_t l) { (void)v; (void)l; return sp_scalar(ud); }

/* Also an entry point of the backend reply fuzzer (internal.h). */
bool ztc_backend_data_span(const char *text, size_t len, size_t *ret_start, size_t *ret_end)
{
	static const yajl_callbacks cb = { sp_null, sp_bool, NULL, NULL, sp_number, sp_string,
					   sp_open, sp_key, sp_close, sp_open, sp_close };
	struct span s = { 0 };
	bool ok;

	s.h = yajl_alloc(&cb, NULL, &s);
	if (!s.h)
		return false;
	ok = yajl_parse(s.h, (const unsigned char *)text, len) == yajl_status_ok &&
	     yajl_complete_parse(s.h) == yajl_status_ok && s.found && s.end > s.start;
	yajl_free(s.h);
	if (ok) {
		*ret_start = s.start;
		*ret_end = s.end;
	}
	return ok;
}

/* A vmuid goes into the URL path and into a file name: keep it to safe characters. */
static bool vmuid_valid(const char *u)
{
	if (ztc_str_empty(u) || *u == '.')
		return false;
	for (; *u; u++)
		if (!(*u >= '0' && *u <= '9') && !(*u >= 'a' && *u <= 'z') && !(*u >= 'A' && *u <= 'Z') &&
		    !strchr("-_.~", *u))
			return false;
	return true;
}

ZTC_API int ztc_backend_download_vm(ztc_backend *be, const char *vmuid, char **ret_json, size_t *ret_len)
{
	const char *what = "the VM download", *k_data[] = { "data", NULL };
	struct reply r = { 0 };
	yajl_val root = NULL;
	size_t start, end;
	char *path, *out;
	int rc;

	if (!be || !ret_json || !ret_len)
		return ZTC_ERR_ARG;
	if (!vmuid_valid(vmuid))
		return ztc_fail(be->ctx, ZTC_ERR_ARG, "invalid VM uid '%s'", vmuid ? vmuid : "");
	path = ztc_strdup_printf("/vms/%s", vmuid);
	if (!path)
		return ztc_fail(be->ctx, ZTC_ERR_NOMEM, "out of memory");
	rc = call(be, "GET", path, NULL, 0, TIMEOUT_MS, what, &root, &r);
	free(path);
	if (rc < 0)
		return rc;
	if (!yajl_tree_get(root, k_data, yajl_t_object)) {
		rc = be_fail(be, ZTC_ERR_BACKEND, "the backend's reply to %s has a \"data\" that is not an object", what);
	} else if (!ztc_backend_data_span(r.b.data, r.b.len, &start, &end)) {
		rc = be_fail(be, ZTC_ERR_BACKEND, "cannot locate \"data\" in the backend's reply to %s", what);
	} else if (!(out = malloc(end - start + 1))) {
		rc = ztc_fail(be->ctx, ZTC_ERR_NOMEM, "out of memory");
	} else {
		memcpy(out, r.b.data + start, end - start);
		out[end - start] = '\0';
		*ret_json = out;
		*ret_len = end - start;
	}
	yajl_tree_free(root);
	ztc_buf_free(&r.b);
	return rc;
}

/* ---- listing ------------------------------------------------------------------------------------------ */

static void backend_vm_clear(ztc_backend_vm *v)
{
	free(v->uid);
	free(v->name);
	free(v->core_dep);
	free(v->version);
	free(v->dev_type);
	free(v->rtos);
	for (size_t i = 0; i < v->nfeatures; i++)
		free(v->features[i]);
	free(v->features);
}

ZTC_API void ztc_backend_vm_list_free(ztc_backend_vm_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		backend_vm_clear(&list->vm[i]);
	free(list->vm);
	free(list);
}

/* One entry of data.list; strings of other types are left NULL, as the header says. */
static int backend_vm_fill(yajl_val e, ztc_backend_vm *v)
{
	yajl_val f = ztc_json_get(e, "features", yajl_t_array);

	v->uid = ztc_json_dup_str(e, "uid");
	v->name = ztc_json_dup_str(e, "name");
	v->core_dep = ztc_json_dup_str(e, "core_dep");
	v->version = ztc_json_dup_str(e, "version");
	v->dev_type = ztc_json_dup_str(e, "dev_type");
	v->rtos = ztc_json_dup_str(e, "rtos");
	if (f && YAJL_GET_ARRAY(f)->len) {
		v->features = calloc(YAJL_GET_ARRAY(f)->len, sizeof(*v->features));
		if (!v->features)
			return ZTC_ERR_NOMEM;
		for (size_t i = 0; i < YAJL_GET_ARRAY(f)->len; i++) {
			yajl_val s = YAJL_GET_ARRAY(f)->values[i];

			if (YAJL_IS_STRING(s) && !(v->features[v->nfeatures++] = strdup(s->u.string)))
				return ZTC_ERR_NOMEM;
		}
	}
	return ZTC_OK;
}

ZTC_API int ztc_backend_list_vms(ztc_backend *be, int from, ztc_backend_vm_list **ret_list)
{
	const char *what = "the VM list";
	yajl_val root = NULL;
	char path[64];
	int rc;

	if (!be || !ret_list || from < 0)
		return ZTC_ERR_ARG;
	snprintf(path, sizeof(path), "/vms?from=%d", from);
	rc = call(be, "GET", path, NULL, 0, TIMEOUT_MS, what, &root, NULL);
	if (rc < 0)
		return rc;
	rc = ztc_backend_vm_list_parse(be, root, what, ret_list);
	yajl_tree_free(root);
	return rc;
}

/* data.list of a GET /vms reply (root as ztc_backend_parse_reply left it) as a list; also an entry point
 * of the backend reply fuzzer (internal.h). root stays the caller's. */
int ztc_backend_vm_list_parse(ztc_backend *be, yajl_val root, const char *what, ztc_backend_vm_list **ret_list)
{
	const char *k_list[] = { "data", "list", NULL };
	ztc_backend_vm_list *l;
	yajl_val arr;
	int rc = ZTC_OK;

	arr = yajl_tree_get(root, k_list, yajl_t_array);
	if (!arr)
		return be_fail(be, ZTC_ERR_BACKEND, "the backend's reply to %s has no \"data.list\" list", what);
	l = calloc(1, sizeof(*l));
	if (l && YAJL_GET_ARRAY(arr)->len && !(l->vm = calloc(YAJL_GET_ARRAY(arr)->len, sizeof(*l->vm)))) {
		free(l);
		l = NULL;
	}
	for (size_t i = 0; l && i < YAJL_GET_ARRAY(arr)->len; i++) {
		yajl_val e = YAJL_GET_ARRAY(arr)->values[i];

		if (!YAJL_IS_OBJECT(e)) {
			rc = be_fail(be, ZTC_ERR_BACKEND, "the backend's reply to %s: data.list[%zu] is not an object",
				     what, i);
			break;
		}
		l->n++;
		if (backend_vm_fill(e, &l->vm[i]) < 0) {
			rc = ztc_fail(be->ctx, ZTC_ERR_NOMEM, "out of memory");
			break;
		}
	}
	if (!l)
		return ztc_fail(be->ctx, ZTC_ERR_NOMEM, "out of memory");
	if (rc < 0) {
		ztc_backend_vm_list_free(l);
		return rc;
	}
	*ret_list = l;
	return ZTC_OK;
}

/* ---- credentials -------------------------------------------------------------------------------------- */

ZTC_API int ztc_credentials_save(ztc_ctx *ctx, const char *token)
{
	char *path, *text;
	struct gen j;
	bool bad = false;
	size_t len = 0;
	int rc;

	if (!ctx)
		return ZTC_ERR_ARG;
	if (ztc_str_empty(token))
		return ztc_fail(ctx, ZTC_ERR_ARG, "empty token");
	if (!token_valid(token))
		return ztc_fail(ctx, ZTC_ERR_ARG, "the token holds spaces or control characters");
	rc = ztc_home_prepare(ctx);
	if (rc < 0)
		return rc;
	if (!gen_object_new(&j))
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	gen_kv(&j, "token", token);
	gen_check(&j, yajl_gen_map_close(j.g));
	text = gen_take(&j, &len, &bad);
	path = ztc_strdup_printf("%s/credentials.json", ctx->home);
	if (bad)
		rc = ztc_fail(ctx, ZTC_ERR_ARG, "the token is not UTF-8");
	else if (!text || !path)
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	else
		rc = ztc_write_atomic(ctx, path, text, len, 0600);
	if (text)
		explicit_bzero(text, len);
	free(text);
	free(path);
	return rc;
}
