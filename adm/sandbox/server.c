/* server.c: zadm-sandbox's side of a device session: login, supervision, messages, FOTA. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "sandbox.h"

int sb_io_read_line(struct sb_io *io, long long deadline_ms, char **ret_line)
{
	for (;;) {
		/* Before the first read buf is NULL: no pointer arithmetic on it. */
		char *s = io->buf ? io->buf + io->start : NULL;
		char *nl = s && io->len > io->start ? memchr(s, '\n', io->len - io->start) : NULL;
		long long left;
		ssize_t n;

		if (nl) {
			*nl = '\0';
			if (nl > s && nl[-1] == '\r')
				nl[-1] = '\0';
			io->start = (size_t)(nl - io->buf) + 1;
			if (strlen(s) > io->max)
				return -2;
			*ret_line = s;
			return 0;
		}
		if (io->start) {
			memmove(io->buf, io->buf + io->start, io->len - io->start);
			io->len -= io->start;
			io->start = 0;
		}
		if (io->len > io->max + 1)
			return -2;
		if (io->cap - io->len < 1024 && io->cap < io->max + 2) {
			size_t ncap = io->cap ? io->cap * 2 : 4096;
			char *nb;

			if (ncap > io->max + 2)
				ncap = io->max + 2;
			nb = realloc(io->buf, ncap + 1);
			if (!nb)
				return -1;
			io->buf = nb;
			io->cap = ncap;
		}
		left = deadline_ms < 0 ? -1 : deadline_ms - sb_now_ms();
		if (!io->tls || !gnutls_record_check_pending(io->tls)) {
			/* Past the deadline only what has already arrived is read (at most max bytes). */
			struct pollfd p = { io->fd, POLLIN, 0 };
			int r = poll(&p, 1, deadline_ms < 0 ? -1 : left > 0 ? (int)left : 0);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -1;
			if (r == 0)
				return 1;
		}
		if (io->tls) {
			/* GnuTLS reads a whole record however slowly it comes: the deadline bounds that too. */
			gnutls_record_set_timeout(io->tls, deadline_ms < 0 ? 0 : left > 0 ? (unsigned int)left : 1);
			n = gnutls_record_recv(io->tls, io->buf + io->len, io->cap - io->len);
			if (n == GNUTLS_E_TIMEDOUT)
				return 1;
			if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN)
				continue;
		} else {
			n = recv(io->fd, io->buf + io->len, io->cap - io->len, 0);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0)
			return -1;
		io->len += (size_t)n;
	}
}

int sb_io_write(struct sb_io *io, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = io->tls ? gnutls_record_send(io->tls, buf, len) : send(io->fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && (n == GNUTLS_E_INTERRUPTED || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int sb_client_send(struct sb_client *c, const char *line, size_t len)
{
	int r;

	pthread_mutex_lock(&c->wlock);
	r = c->closing ? -1 : sb_io_write(&c->io, line, len);
	pthread_mutex_unlock(&c->wlock);
	return r;
}

struct sb_client *sb_client_find_locked(const char *uid)
{
	for (struct sb_client *c = sb.clients; c; c = c->next)
		if (c->logged_in && !c->closing && strcmp(c->uid, uid) == 0) {
			c->refs++;
			return c;
		}
	return NULL;
}

static void client_free(struct sb_client *c)
{
	if (c->io.tls)
		gnutls_deinit(c->io.tls);
	close(c->io.fd);
	free(c->io.buf);
	free(c->uid);
	pthread_mutex_destroy(&c->wlock);
	free(c);
}

void sb_client_unref_locked(struct sb_client *c)
{
	if (--c->refs > 0)
		return;
	for (struct sb_client **pp = &sb.clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	sb.nclients--;
	client_free(c);
}

void sb_client_kick(struct sb_client *c)
{
	c->closing = true;
	shutdown(c->io.fd, SHUT_RDWR);
}

/* ---- printing helpers ---- */

struct kv {
	const char *k1, *v1, *k2, *v2;
	yajl_val val;
	const char *valkey;
};

static int more_kv(yajl_gen g, void *arg)
{
	struct kv *kv = arg;
	int e = 0;

	if (kv->k1)
		e |= zj_gen_key(g, kv->k1) | zj_gen_str(g, kv->v1);
	if (kv->k2)
		e |= zj_gen_key(g, kv->k2) | zj_gen_str(g, kv->v2);
	if (kv->valkey)
		e |= zj_gen_key(g, kv->valkey) | zj_gen_value(g, kv->val);
	return e;
}

static char *line_of(yajl_gen g, size_t *len)
{
	return zj_gen_line(g, len);
}

static int send_err(struct sb_client *c, const char *err)
{
	yajl_gen g = zj_gen_new();
	size_t len;
	char *line;
	int r;

	yajl_gen_map_open(g);
	zj_gen_key(g, "err");
	zj_gen_str(g, err);
	yajl_gen_map_close(g);
	line = line_of(g, &len);
	r = line ? sb_io_write(&c->io, line, len) : -1;
	free(line);
	return r;
}

/* ---- FOTA, server side ---- */

static struct sb_fota *fota_find_locked(const char *uid)
{
	for (struct sb_fota *f = sb.fotas; f; f = f->next)
		if (strcmp(f->uid, uid) == 0 && f->state != SBF_DONE && f->state != SBF_FAILED)
			return f;
	return NULL;
}

static void fota_end_locked(struct sb_fota *f, int state, const char *reason)
{
	f->state = state;
	if (reason)
		snprintf(f->reason, sizeof(f->reason), "%s", reason);
	pthread_cond_broadcast(&sb.cond);
}

static char *ota_line(const char *k1, long long n1, const char *k2, const char *s2, const char *k3,
		      const char *s3, size_t *len)
{
	yajl_gen g = zj_gen_new();

	yajl_gen_map_open(g);
	zj_gen_key(g, "cmd");
	zj_gen_str(g, "OTA");
	if (k1)
		zj_gen_key(g, k1), zj_gen_int(g, n1);
	if (k2)
		zj_gen_key(g, k2), zj_gen_str(g, s2);
	if (k3)
		zj_gen_key(g, k3), zj_gen_str(g, s3);
	yajl_gen_map_close(g);
	return line_of(g, len);
}

/* A device's OTA payload (client thread). */
static void fota_payload(struct sb_client *c, yajl_val p)
{
	struct sb_fota *f;
	long long n;
	const char *t = zj_get_str(p, "t");
	int part = t && strcmp(t, "v") == 0 ? 1 : 0;
	char *line = NULL;
	size_t len = 0;

	pthread_mutex_lock(&sb.lock);
	f = fota_find_locked(c->uid);
	if (zj_get(p, "ko") || zj_get(p, "ok")) {
		struct kv kv = { .valkey = "payload", .val = p };
		const char *reason = zj_get_str(p, "reason");

		if (f)
			fota_end_locked(f, zj_get(p, "ok") ? SBF_DONE : SBF_FAILED, reason ? reason : "ko");
		pthread_mutex_unlock(&sb.lock);
		sb_print("ota", c->uid, more_kv, &kv);
		return;
	}
	if (!f || f->state != SBF_RUNNING) {
		pthread_mutex_unlock(&sb.lock);
		sb_log("%s: OTA request without an update in progress, ignored", c->uid);
		return;
	}
	if (zj_get_int(p, "b", &n)) {
		size_t chunk = (size_t)f->chunk, off, blen;
		gnutls_datum_t in, out = { NULL, 0 };

		/* The index is checked against the block count before it is multiplied: 2^52 + 1 times
		 * 4096 must not wrap around to block 1. */
		if (n < 0 || (unsigned long long)n >= (f->size[part] + chunk - 1) / chunk) {
			pthread_mutex_unlock(&sb.lock);
			sb_log("%s: OTA block %lld out of range", c->uid, n);
			return;
		}
		off = (size_t)n * chunk;
		blen = f->size[part] - off < chunk ? f->size[part] - off : chunk;
		in.data = f->data[part] + off;
		in.size = (unsigned int)blen;
		if (gnutls_base64_encode2(&in, &out) == 0) {
			char *b64 = strndup((const char *)out.data, out.size);

			line = ota_line(NULL, 0, "bin", b64, "t",
					f->bad_part && part == 0 ? "v" : (part ? "v" : "b"), &len);
			free(b64);
			gnutls_free(out.data);
		}
	} else if (zj_get_int(p, "c", &n)) {
		unsigned char md[16];
		char hex[33];

		gnutls_hash_fast(GNUTLS_DIG_MD5, f->bad_crc ? (const void *)"bad" : f->data[part],
				 f->bad_crc ? 3 : f->size[part], md);
		for (int i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
		line = ota_line(NULL, 0, "crc", hex, "t", part ? "v" : "b", &len);
		if (part == 1 || f->size[1] == 0)
			f->final_crc_sent = true;
	}
	pthread_mutex_unlock(&sb.lock);
	if (line)
		sb_client_send(c, line, len);
	free(line);
}

static unsigned char *read_file(const char *path, size_t *ret_len)
{
	struct stat st;
	unsigned char *buf;
	FILE *fp = fopen(path, "rb");

	if (!fp)
		return NULL;
	if (fstat(fileno(fp), &st) < 0 || st.st_size <= 0 || st.st_size > (1 << 28)) {
		fclose(fp);
		errno = EINVAL;
		return NULL;
	}
	buf = malloc((size_t)st.st_size);
	if (buf && fread(buf, 1, (size_t)st.st_size, fp) != (size_t)st.st_size) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*ret_len = (size_t)st.st_size;
	return buf;
}

static void fota_free(struct sb_fota *f)
{
	free(f->uid);
	free(f->data[0]);
	free(f->data[1]);
	free(f);
}

char *sb_fota_start(struct sb_client *c, const char *bcfile, const char *vmfile, long long bc,
		    long long vm, long long chunk, bool bad_crc, bool bad_part, int timeout_s)
{
	struct sb_fota *f = calloc(1, sizeof(*f));
	struct timespec until;
	char *line, *reply;
	size_t len;

	f->data[0] = read_file(bcfile, &f->size[0]);
	if (!f->data[0]) {
		reply = sb_reply_error("cannot read bytecode file %s: %s", bcfile, strerror(errno));
		fota_free(f);
		return reply;
	}
	if (vmfile && !(f->data[1] = read_file(vmfile, &f->size[1]))) {
		reply = sb_reply_error("cannot read VM file %s: %s", vmfile, strerror(errno));
		fota_free(f);
		return reply;
	}
	f->uid = strdup(c->uid);
	f->chunk = chunk > 0 ? chunk : (c->chunk > 0 ? c->chunk : 4096); /* both checked: 1 .. SB_CHUNK_MAX */
	f->bc = bc >= 0 ? bc : (c->have_slots && c->bc == 0 ? 1 : 0);
	f->vm = vm >= 0 ? vm : (c->have_slots && c->vm == 0 ? 1 : 0);
	f->bad_crc = bad_crc;
	f->bad_part = bad_part;
	f->state = SBF_RUNNING;
	pthread_mutex_lock(&sb.lock);
	if (fota_find_locked(c->uid)) {
		pthread_mutex_unlock(&sb.lock);
		fota_free(f);
		return sb_reply_error("an update for %s is already in progress", c->uid);
	}
	f->next = sb.fotas;
	sb.fotas = f;
	pthread_mutex_unlock(&sb.lock);

	{
		yajl_gen g = zj_gen_new();

		yajl_gen_map_open(g);
		zj_gen_key(g, "cmd"), zj_gen_str(g, "OTA");
		zj_gen_key(g, "chunk"), zj_gen_int(g, f->chunk);
		zj_gen_key(g, "vmsize"), zj_gen_int(g, (long long)f->size[1]);
		zj_gen_key(g, "bcsize"), zj_gen_int(g, (long long)f->size[0]);
		zj_gen_key(g, "bc"), zj_gen_int(g, f->bc);
		zj_gen_key(g, "vm"), zj_gen_int(g, f->vm);
		yajl_gen_map_close(g);
		line = line_of(g, &len);
	}
	sb_log("%s: FOTA: %zu bytes of bytecode to slot %lld, %zu bytes of VM to slot %lld", c->uid,
	       f->size[0], f->bc, f->size[1], f->vm);
	sb_client_send(c, line, len);
	free(line);

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_s; /* 1 .. SB_WAIT_MAX_S */
	pthread_mutex_lock(&sb.lock);
	/* Any failure of the wait ends it: never spin with the lock held. */
	while (f->state != SBF_DONE && f->state != SBF_FAILED)
		if (pthread_cond_timedwait(&sb.cond, &sb.lock, &until) != 0) {
			fota_end_locked(f, SBF_FAILED, "timeout");
			break;
		}
	if (f->state == SBF_DONE)
		reply = NULL;
	else
		reply = sb_reply_error("%s", f->reason);
	for (struct sb_fota **pp = &sb.fotas; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	pthread_mutex_unlock(&sb.lock);
	if (!reply) {
		yajl_gen g = zj_gen_new();

		yajl_gen_map_open(g);
		zj_gen_key(g, "ok"), yajl_gen_bool(g, 1);
		zj_gen_key(g, "bc"), zj_gen_int(g, f->bc);
		zj_gen_key(g, "vm"), zj_gen_int(g, f->size[1] ? f->vm : -1);
		yajl_gen_map_close(g);
		reply = line_of(g, &len);
	}
	fota_free(f);
	return reply;
}

/* After a re-login: confirm an update that was waiting for the restart (client thread). */
static void fota_on_login(struct sb_client *c)
{
	struct sb_fota *f;
	char *line = NULL;
	size_t len;

	pthread_mutex_lock(&sb.lock);
	f = fota_find_locked(c->uid);
	if (f && f->state == SBF_RESTARTING) {
		yajl_gen g = zj_gen_new();

		f->state = SBF_CONFIRMING;
		yajl_gen_map_open(g);
		zj_gen_key(g, "cmd"), zj_gen_str(g, "OTA");
		zj_gen_key(g, "ok"), zj_gen_int(g, 1);
		zj_gen_key(g, "bc"), zj_gen_int(g, f->bc);
		zj_gen_key(g, "vm"), zj_gen_int(g, f->size[1] ? f->vm : c->vm);
		yajl_gen_map_close(g);
		line = line_of(g, &len);
	}
	pthread_mutex_unlock(&sb.lock);
	if (line) {
		sb_log("%s: FOTA: confirming after the restart", c->uid);
		sb_client_send(c, line, len);
		free(line);
	}
}

static void fota_on_close(struct sb_client *c)
{
	struct sb_fota *f;

	pthread_mutex_lock(&sb.lock);
	f = fota_find_locked(c->uid);
	if (f && f->state == SBF_RUNNING)
		fota_end_locked(f, f->final_crc_sent ? SBF_RESTARTING : SBF_FAILED, "connection lost");
	else if (f && f->state == SBF_CONFIRMING)
		fota_end_locked(f, SBF_FAILED, "connection lost before the confirmation");
	if (f && f->state == SBF_RESTARTING)
		pthread_cond_broadcast(&sb.cond);
	pthread_mutex_unlock(&sb.lock);
}

/* ---- the session ---- */

static void retn(struct sb_client *c, yajl_val v)
{
	long long id;
	yajl_val err = zj_get(v, "error");

	if (!zj_get_int(v, "id", &id)) {
		sb_log("%s: RETN without a numeric id, ignored", c->uid);
		return;
	}
	pthread_mutex_lock(&sb.lock);
	for (struct sb_call *call = sb.calls; call; call = call->next) {
		if (call->id != id || call->done)
			continue;
		yajl_gen g = zj_gen_new();
		size_t len;

		yajl_gen_map_open(g);
		zj_gen_key(g, "ok"), yajl_gen_bool(g, err == NULL);
		if (err)
			zj_gen_key(g, "error"), zj_gen_value(g, err);
		else
			zj_gen_key(g, "res"), zj_gen_value(g, zj_get(v, "res"));
		yajl_gen_map_close(g);
		call->reply = line_of(g, &len);
		call->done = true;
		pthread_cond_broadcast(&sb.cond);
		pthread_mutex_unlock(&sb.lock);
		return;
	}
	pthread_mutex_unlock(&sb.lock);
	sb_log("%s: RETN for id %lld, which no one waits for", c->uid, id);
}

static void handle(struct sb_client *c, yajl_val v)
{
	const char *cmd = zj_get_str(v, "cmd");
	yajl_val payload = zj_get(v, "payload");

	if (cmd && strcmp(cmd, "HTBM") == 0) {
		pthread_mutex_lock(&sb.lock);
		c->last_htbm_ms = sb_now_ms();
		c->heartbeats++;
		pthread_mutex_unlock(&sb.lock);
	} else if (cmd && strcmp(cmd, "EVNT") == 0) {
		struct kv kv = { .valkey = "payload", .val = payload };

		c->events++;
		sb_print("event", c->uid, more_kv, &kv);
	} else if (cmd && strcmp(cmd, "NTFY") == 0) {
		struct kv kv = { .k1 = "title", .v1 = zj_get_str(payload, "title"), .k2 = "text",
				 .v2 = zj_get_str(payload, "text") };

		c->notifications++;
		sb_print("notification", c->uid, more_kv, &kv);
	} else if (cmd && strcmp(cmd, "RETN") == 0) {
		retn(c, v);
	} else if (cmd && strcmp(cmd, "OTA") == 0 && payload && payload->type == yajl_t_object) {
		fota_payload(c, payload);
	} else {
		struct kv kv = { .valkey = "message", .val = v };

		sb_print("message", c->uid, more_kv, &kv);
	}
}

static int more_login(yajl_gen g, void *arg)
{
	struct sb_client *c = arg;
	int e = 0;

	e |= zj_gen_key(g, "heartbeat") | zj_gen_int(g, c->hb);
	e |= zj_gen_key(g, "ota") | yajl_gen_bool(g, c->ota);
	if (c->have_slots) {
		e |= zj_gen_key(g, "bc") | zj_gen_int(g, c->bc);
		e |= zj_gen_key(g, "vm") | zj_gen_int(g, c->vm);
	}
	return e;
}

static bool login(struct sb_client *c, const char *line)
{
	char err[200];
	yajl_val v = zj_parse(line, err, sizeof(err)), known;
	const char *uid = zj_get_str(v, "uid"), *token = zj_get_str(v, "token");
	struct sb_client *old;
	long long hb = 0;
	bool ok = false;

	if (!v || v->type != yajl_t_object || !uid || !token) {
		sb_log("%s: bad login line (%s), closing", c->peer, v ? "no uid or token" : err);
		send_err(c, "bad login");
		goto out;
	}
	known = sb.devices ? zj_get(sb.devices, uid) : NULL;
	if (sb.devices && (!known || known->type != yajl_t_string || strcmp(known->u.string, token) != 0)) {
		struct kv kv = { .k1 = "reason", .v1 = known ? "bad token" : "unknown device" };

		sb_log("%s: login refused for %s: %s", c->peer, uid, known ? "bad token" : "unknown device");
		sb_print("refused", uid, more_kv, &kv);
		send_err(c, known ? "bad token" : "unknown device");
		goto out;
	}
	c->uid = strdup(uid);
	/* The device's numbers are range-checked before they are converted or multiplied. */
	if (!zj_get_int(v, "hearbeat", &hb) || hb <= 0 || hb > 86400) {
		if (zj_get(v, "hearbeat"))
			sb_log("%s: %s: heartbeat out of range (1 .. 86400 s), supervising with 60 s", c->peer, uid);
		hb = 60;
	}
	c->hb = sb.htbm ? sb.htbm : (unsigned int)hb;
	c->ota = zj_get(v, "ota") && zj_get(v, "ota")->type == yajl_t_true;
	c->have_slots = zj_get_int(v, "bc", &c->bc) && zj_get_int(v, "vm", &c->vm);
	if (!zj_get_int(v, "chunk", &c->chunk) || c->chunk <= 0 || c->chunk > SB_CHUNK_MAX)
		c->chunk = 0;
	/* A device that logs in again replaces its old session. */
	pthread_mutex_lock(&sb.lock);
	old = sb_client_find_locked(uid);
	if (old) {
		sb_client_kick(old);
		sb_client_unref_locked(old);
	}
	c->logged_in = true;
	c->last_htbm_ms = sb_now_ms();
	pthread_cond_broadcast(&sb.cond);
	pthread_mutex_unlock(&sb.lock);
	{
		yajl_gen g = zj_gen_new();
		size_t len;
		char *reply;

		yajl_gen_map_open(g);
		zj_gen_key(g, "ts"), zj_gen_int(g, (long long)time(NULL));
		if (sb.htbm)
			zj_gen_key(g, "htbm"), zj_gen_int(g, sb.htbm);
		yajl_gen_map_close(g);
		reply = line_of(g, &len);
		ok = reply && sb_client_send(c, reply, len) == 0;
		free(reply);
	}
	if (ok) {
		char slots[64];

		if (c->have_slots)
			snprintf(slots, sizeof(slots), "%lld/%lld", c->bc, c->vm);
		else
			snprintf(slots, sizeof(slots), "none");
		sb_log("%s: %s logged in (heartbeat %u s, ota %s, slots %s)", c->peer, uid, c->hb,
		       c->ota ? "yes" : "no", slots);
		sb_print("login", uid, more_login, c);
	}
out:
	yajl_tree_free(v);
	return ok;
}

/* The handshake, by deadline (absolute, shared with the login line). The socket is non-blocking
 * meanwhile and every wait is a poll() for the time left: GnuTLS's own handshake timeout does not stop
 * a peer that trickles a record one byte at a time. */
static const char *tls_handshake(struct sb_client *c, long long deadline)
{
	int fd = c->io.fd, flags = fcntl(fd, F_GETFL), r;

	if (gnutls_init(&c->io.tls, GNUTLS_SERVER) < 0)
		return "gnutls_init failed";
	gnutls_set_default_priority(c->io.tls);
	gnutls_credentials_set(c->io.tls, GNUTLS_CRD_CERTIFICATE, sb.cred);
	gnutls_transport_set_int(c->io.tls, fd);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	for (;;) {
		long long left;
		struct pollfd p = { fd, 0, 0 };

		r = gnutls_handshake(c->io.tls);
		if (r >= 0 || gnutls_error_is_fatal(r))
			break;
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED)
			continue; /* a warning alert: go on */
		left = deadline - sb_now_ms();
		p.events = gnutls_record_get_direction(c->io.tls) ? POLLOUT : POLLIN;
		if (left <= 0 || (poll(&p, 1, (int)left) == 0 && sb_now_ms() >= deadline)) {
			r = GNUTLS_E_TIMEDOUT;
			break;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return r < 0 ? gnutls_strerror(r) : NULL;
}

void *sb_client_main(void *arg)
{
	struct sb_client *c = arg;
	const char *why = "closed by the device";
	char *line;
	int r;

	/* One absolute deadline for the handshake and the login line (slowloris). */
	long long login_deadline = sb_now_ms() + 1000LL * sb.login_timeout_s;

	if (sb.cred) {
		const char *e = tls_handshake(c, login_deadline);

		if (e) {
			sb_log("%s: TLS handshake failed: %s", c->peer, e);
			goto done;
		}
	}
	r = sb_io_read_line(&c->io, login_deadline, &line);
	if (r == 1) {
		sb_log("%s: no login line within %d s, closing", c->peer, sb.login_timeout_s);
		goto done;
	}
	if (r != 0) {
		sb_log("%s: no login line (%s), closing", c->peer, r == -2 ? "too long" : "closed");
		goto done;
	}
	if (!login(c, line))
		goto done;
	fota_on_login(c);
	for (;;) {
		long long now = sb_now_ms(), deadline;
		char err[200];
		yajl_val v;

		pthread_mutex_lock(&sb.lock);
		/* Two missed periods, plus a little slack for scheduling. */
		deadline = c->last_htbm_ms + 2000LL * c->hb + 250;
		pthread_mutex_unlock(&sb.lock);
		if (now >= deadline) {
			struct kv kv = { .k1 = "reason", .v1 = "missed two heartbeats" };

			why = "missed two heartbeats";
			sb_print("dropped", c->uid, more_kv, &kv);
			break;
		}
		r = sb_io_read_line(&c->io, deadline, &line);
		if (r == 1)
			continue;
		if (r == -2) {
			why = "line over the maximum length";
			break;
		}
		if (r < 0)
			break;
		v = zj_parse(line, err, sizeof(err));
		if (!v || v->type != yajl_t_object) {
			sb_log("%s: malformed line ignored: %s", c->uid, v ? "not an object" : err);
			yajl_tree_free(v);
			continue;
		}
		handle(c, v);
		yajl_tree_free(v);
	}
	sb_log("%s: %s disconnected: %s", c->peer, c->uid, c->closing ? "closed by the sandbox" : why);
	{
		struct kv kv = { .k1 = "reason", .v1 = c->closing ? "closed by the sandbox" : why };

		sb_print("logout", c->uid, more_kv, &kv);
	}
	fota_on_close(c);
done:
	pthread_mutex_lock(&c->wlock);
	c->closing = true;
	shutdown(c->io.fd, SHUT_RDWR);
	pthread_mutex_unlock(&c->wlock);
	pthread_mutex_lock(&sb.lock);
	c->logged_in = false;
	for (struct sb_call *call = sb.calls; call; call = call->next)
		if (call->client == c && !call->done) {
			call->reply = sb_reply_error("device disconnected");
			call->done = true;
		}
	pthread_cond_broadcast(&sb.cond);
	sb_client_unref_locked(c);
	pthread_mutex_unlock(&sb.lock);
	return NULL;
}
