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

int sb_client_send(struct sb_client *c, const char *line, size_t len)
{
	int r;

	pthread_mutex_lock(&c->wlock);
	r = c->closing ? -1 : zw_write(&c->io, line, len);
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
	zw_io_release(&c->io);
	free(c->uid);
	free(c->platform);
	free(c->vmuid);
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

/* A --trace record: {"step":step (unless NULL), then up to five integers and a part ("b" or "v")}. */
struct fota_step {
	const char *step;
	const char *k[5];
	long long v[5];
	const char *part;
};

static int more_step(yajl_gen g, void *arg)
{
	struct fota_step *st = arg;
	int e = st->step ? zj_gen_key(g, "step") | zj_gen_str(g, st->step) : 0;

	for (int i = 0; i < 5 && st->k[i]; i++)
		e |= zj_gen_key(g, st->k[i]) | zj_gen_int(g, st->v[i]);
	if (st->part)
		e |= zj_gen_key(g, "t") | zj_gen_str(g, st->part);
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
	r = line ? zw_write(&c->io, line, len) : -1;
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
		{
			struct fota_step st = { "block", { "b", "bytes" }, { n, (long long)blen }, part ? "v" : "b" };

			sb_trace("fota", c->uid, more_step, &st);
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
		{
			struct fota_step st = { "crc", { NULL }, { 0 }, part ? "v" : "b" };

			sb_trace("fota", c->uid, more_step, &st);
		}
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

char *sb_fota_start(struct sb_client *c, const struct sb_fota_req *req)
{
	struct sb_fota *f = calloc(1, sizeof(*f));
	struct timespec until;
	char *line, *reply;
	size_t len;

	if (!f || !(f->uid = strdup(c->uid))) {
		free(f);
		return sb_reply_error("out of memory");
	}
	f->data[0] = read_file(req->bcfile, &f->size[0]);
	if (!f->data[0]) {
		reply = sb_reply_error("cannot read bytecode file %s: %s", req->bcfile, strerror(errno));
		fota_free(f);
		return reply;
	}
	if (req->vmfile && !(f->data[1] = read_file(req->vmfile, &f->size[1]))) {
		reply = sb_reply_error("cannot read VM file %s: %s", req->vmfile, strerror(errno));
		fota_free(f);
		return reply;
	}
	/* chunk: both checked, 1 .. SB_CHUNK_MAX. */
	f->chunk = req->chunk > 0 ? req->chunk : (c->chunk > 0 ? c->chunk : 4096);
	/* By default the slots that do not run (of two); with bytecode only, the VM slot that runs: the
	 * original library records "vm" as given even then, and would boot a VM slot never written. */
	f->bc = req->set_bc ? req->bc : (c->have_slots && c->bc == 0 ? 1 : 0);
	if (req->set_vm)
		f->vm = req->vm;
	else if (f->size[1])
		f->vm = c->have_slots && c->vm == 0 ? 1 : 0;
	else
		f->vm = c->have_slots ? c->vm : 0;
	f->bad_crc = req->bad_crc;
	f->bad_part = req->bad_part;
	f->no_confirm = req->no_confirm;
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
	{
		struct fota_step st = { "start", { "chunk", "bcsize", "vmsize", "bc", "vm" },
					{ f->chunk, (long long)f->size[0], (long long)f->size[1], f->bc, f->vm },
					NULL };

		sb_trace("fota", c->uid, more_step, &st);
	}
	sb_client_send(c, line, len);
	free(line);

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += req->timeout_s; /* 1 .. SB_WAIT_MAX_S */
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
		/* The slots the device confirmed it runs. */
		zj_gen_key(g, "ok"), yajl_gen_bool(g, 1);
		zj_gen_key(g, "bc"), zj_gen_int(g, f->bc);
		zj_gen_key(g, "vm"), zj_gen_int(g, f->vm);
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
	struct fota_step st = { "confirm", { "bc", "vm" }, { 0, 0 }, NULL };

	pthread_mutex_lock(&sb.lock);
	f = fota_find_locked(c->uid);
	if (f && f->state == SBF_RESTARTING) {
		yajl_gen g = zj_gen_new();

		f->state = SBF_CONFIRMING;
		/* The slots the update announced, as a device records them (the running VM slot when no VM
		 * was sent). */
		st.v[0] = f->bc;
		st.v[1] = f->vm;
		yajl_gen_map_open(g);
		zj_gen_key(g, "cmd"), zj_gen_str(g, "OTA");
		zj_gen_key(g, "ok"), zj_gen_int(g, 1);
		zj_gen_key(g, "bc"), zj_gen_int(g, f->bc);
		zj_gen_key(g, "vm"), zj_gen_int(g, f->vm);
		yajl_gen_map_close(g);
		line = line_of(g, &len);
	}
	pthread_mutex_unlock(&sb.lock);
	if (line) {
		sb_log("%s: FOTA: confirming after the restart", c->uid);
		sb_trace("fota", c->uid, more_step, &st);
		sb_client_send(c, line, len);
		free(line);
	}
}

/* fota --no-confirm: true when uid logs in after its update's restart; the update then fails and the
 * caller drops the device before any reply, so it neither accepts nor is confirmed. */
static bool fota_drop_unconfirmed(const char *uid)
{
	struct sb_fota *f;
	bool drop = false;

	pthread_mutex_lock(&sb.lock);
	f = fota_find_locked(uid);
	if (f && f->state == SBF_RESTARTING && f->no_confirm) {
		fota_end_locked(f, SBF_FAILED, "not confirmed: the device was dropped at its login after the restart "
			       "(--no-confirm)");
		drop = true;
	}
	pthread_mutex_unlock(&sb.lock);
	return drop;
}

static void fota_on_close(struct sb_client *c)
{
	struct sb_fota *f;
	bool restarting = false;

	pthread_mutex_lock(&sb.lock);
	f = fota_find_locked(c->uid);
	if (f && f->state == SBF_RUNNING)
		fota_end_locked(f, f->final_crc_sent ? SBF_RESTARTING : SBF_FAILED, "connection lost");
	else if (f && f->state == SBF_CONFIRMING)
		fota_end_locked(f, SBF_FAILED, "connection lost before the confirmation");
	restarting = f && f->state == SBF_RESTARTING;
	pthread_mutex_unlock(&sb.lock);
	if (restarting) {
		struct fota_step st = { "restart", { NULL }, { 0 }, NULL };

		sb_trace("fota", c->uid, more_step, &st);
	}
}

/* ---- the session ---- */

static int more_retn(yajl_gen g, void *arg)
{
	yajl_val v = arg, err = zj_get(v, "error");

	return zj_gen_key(g, "id") | zj_gen_value(g, zj_get(v, "id")) | zj_gen_key(g, err ? "error" : "res") |
	       zj_gen_value(g, err ? err : zj_get(v, "res"));
}

static void retn(struct sb_client *c, yajl_val v)
{
	long long id;
	yajl_val err = zj_get(v, "error");

	sb_trace("retn", c->uid, more_retn, v);
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
		long long n;

		pthread_mutex_lock(&sb.lock);
		c->last_htbm_ms = zw_now_ms();
		n = (long long)++c->heartbeats;
		pthread_mutex_unlock(&sb.lock);
		if (sb.trace) {
			struct fota_step st = { NULL, { "n" }, { n }, NULL };

			sb_trace("heartbeat", c->uid, more_step, &st);
		}
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

int sb_gen_device(yajl_gen g, const struct sb_client *c)
{
	int e = 0;

	e |= zj_gen_key(g, "heartbeat") | zj_gen_int(g, c->hb);
	e |= zj_gen_key(g, "ota") | yajl_gen_bool(g, c->ota);
	if (c->have_slots) {
		e |= zj_gen_key(g, "bc") | zj_gen_int(g, c->bc);
		e |= zj_gen_key(g, "vm") | zj_gen_int(g, c->vm);
	}
	if (c->chunk)
		e |= zj_gen_key(g, "chunk") | zj_gen_int(g, c->chunk);
	if (c->platform)
		e |= zj_gen_key(g, "platform") | zj_gen_str(g, c->platform);
	if (c->vmuid)
		e |= zj_gen_key(g, "vmuid") | zj_gen_str(g, c->vmuid);
	return e;
}

static int more_login(yajl_gen g, void *arg)
{
	return sb_gen_device(g, arg);
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
	if (fota_drop_unconfirmed(uid)) {
		struct kv kv = { .k1 = "reason", .v1 = "dropped at its login after a FOTA restart (--no-confirm)" };

		sb_log("%s: %s: FOTA --no-confirm: dropped at its login after the restart, before any reply", c->peer,
		       uid);
		sb_print("refused", uid, more_kv, &kv);
		goto out;
	}
	c->uid = strdup(uid);
	/* What the device says it runs, for the login record and list (checked UTF-8 by zj_parse). */
	c->platform = zj_get_str(v, "platform") ? strdup(zj_get_str(v, "platform")) : NULL;
	c->vmuid = zj_get_str(v, "vmuid") ? strdup(zj_get_str(v, "vmuid")) : NULL;
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
	c->login_ms = c->last_htbm_ms = zw_now_ms();
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

/* The handshake, by the login's absolute deadline (slowloris). */
static const char *tls_handshake(struct sb_client *c, long long deadline)
{
	int r;

	if (gnutls_init(&c->io.tls, GNUTLS_SERVER) < 0)
		return "gnutls_init failed";
	gnutls_set_default_priority(c->io.tls);
	gnutls_credentials_set(c->io.tls, GNUTLS_CRD_CERTIFICATE, sb.cred);
	zw_tls_set_socket(c->io.tls, c->io.fd);
	r = zw_handshake(c->io.tls, c->io.fd, deadline, -1);
	return r < 0 ? gnutls_strerror(r) : NULL;
}

void *sb_client_main(void *arg)
{
	struct sb_client *c = arg;
	const char *why = "closed by the device";
	char *line;
	int r;

	/* One absolute deadline for the handshake and the login line (slowloris). */
	long long login_deadline = zw_now_ms() + 1000LL * sb.login_timeout_s;

	if (sb.cred) {
		const char *e = tls_handshake(c, login_deadline);

		if (e) {
			sb_log("%s: TLS handshake failed: %s", c->peer, e);
			goto done;
		}
	}
	r = zw_read_line(&c->io, login_deadline, &line);
	if (r == ZW_TIMEOUT) {
		sb_log("%s: no login line within %d s, closing", c->peer, sb.login_timeout_s);
		goto done;
	}
	if (r != ZW_OK) {
		sb_log("%s: no login line (%s), closing", c->peer, r == ZW_TOO_LONG ? "too long" : "closed");
		goto done;
	}
	if (!login(c, line))
		goto done;
	fota_on_login(c);
	for (;;) {
		long long now = zw_now_ms(), deadline;
		char err[200];
		yajl_val v;

		pthread_mutex_lock(&sb.lock);
		/* Two missed periods, plus a little slack for scheduling. Until the device's first line after
		 * its login, at least the grace: the original library is silent for 5 s after its login. */
		deadline = c->last_htbm_ms + 2000LL * c->hb + 250;
		if (!c->heard && deadline < c->login_ms + 1000LL * sb.login_grace_s)
			deadline = c->login_ms + 1000LL * sb.login_grace_s;
		pthread_mutex_unlock(&sb.lock);
		if (now >= deadline) {
			struct kv kv = { .k1 = "reason" };

			why = kv.v1 = c->heard ? "missed two heartbeats" : "nothing received after the login";
			sb_print("dropped", c->uid, more_kv, &kv);
			break;
		}
		r = zw_read_line(&c->io, deadline, &line);
		if (r == ZW_TIMEOUT)
			continue;
		if (r == ZW_TOO_LONG) {
			why = "line over the maximum length";
			break;
		}
		if (r != ZW_OK)
			break;
		if (!c->heard) {
			/* The first line: from now on the heartbeat periods count. */
			pthread_mutex_lock(&sb.lock);
			c->heard = true;
			c->last_htbm_ms = zw_now_ms();
			pthread_mutex_unlock(&sb.lock);
		}
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
