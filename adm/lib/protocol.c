/* protocol.c: the ADM wire messages: login, login reply, dispatch of server lines, replies. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

char *zadm_proto_login(zadm_device *dev, size_t *ret_len)
{
	yajl_gen g = zj_gen_new();
	zadm_fota_record rec;
	bool ota = dev->opts.fota_store != NULL;
	int e = 0;

	if (!g)
		return NULL;
	pthread_mutex_lock(&dev->lock);
	rec = dev->rec;
	pthread_mutex_unlock(&dev->lock);
	e |= yajl_gen_map_open(g);
	e |= zj_gen_key(g, "uid") | zj_gen_str(g, dev->uid);
	e |= zj_gen_key(g, "token") | zj_gen_str(g, dev->token);
	e |= zj_gen_key(g, "platform") | zj_gen_str(g, dev->platform);
	e |= zj_gen_key(g, "vmuid") | zj_gen_str(g, dev->vmuid);
	/* Misspelled in the original protocol; servers expect exactly this key. */
	e |= zj_gen_key(g, "hearbeat") | zj_gen_int(g, dev->opts.heartbeat);
	e |= zj_gen_key(g, "ota") | yajl_gen_bool(g, ota);
	if (ota && rec.valid) {
		e |= zj_gen_key(g, "bc") | zj_gen_int(g, rec.bc);
		e |= zj_gen_key(g, "vm") | zj_gen_int(g, rec.vm);
		e |= zj_gen_key(g, "chunk") | zj_gen_int(g, rec.chunk);
	}
	e |= yajl_gen_map_close(g);
	return zj_gen_finish(g, e, ret_len);
}

int zadm_proto_login_reply(zadm_device *dev, const char *line, unsigned int *ret_htbm)
{
	char err[256];
	yajl_val v = zj_parse(line, err, sizeof(err)), e;
	long long htbm = 0;

	if (!v || v->type != yajl_t_object) {
		zadm_warn(dev, "login: malformed reply from the server%s%s", v ? "" : ": ", v ? "" : err);
		yajl_tree_free(v);
		return ZADM_ERR_JSON;
	}
	e = zj_get(v, "err");
	if (e) {
		char *t = e->type == yajl_t_string ? strdup(e->u.string) : zj_to_text(e);

		zadm_warn(dev, "login refused by the server: %s", t ? t : "?");
		free(t);
		yajl_tree_free(v);
		return ZADM_ERR;
	}
	if (zj_get(v, "htbm")) {
		if (!zj_get_int(v, "htbm", &htbm) || htbm <= 0 || htbm > 86400) {
			zadm_warn(dev, "login: ignoring an invalid htbm from the server");
			htbm = 0;
		}
	}
	*ret_htbm = (unsigned int)htbm;
	yajl_tree_free(v);
	return ZADM_OK;
}

int zadm_proto_dispatch(zadm_device *dev, const char *line, unsigned int gen)
{
	char err[256];
	yajl_val v;
	const char *cmd;
	int r;

	if (!*line)
		return 0;
	v = zj_parse(line, err, sizeof(err));
	if (!v || v->type != yajl_t_object) {
		/* One bad line is the server's bug; the session itself is still usable. */
		zadm_log_limited(dev, ZADM_RL_MALFORMED, ZADM_LOG_WARN, "ignoring a malformed line from the server: %s",
				 v ? "not a JSON object" : err);
		yajl_tree_free(v);
		return 0;
	}
	if (zj_get(v, "terminate")) {
		/* In order: the calls and updates read before it are carried out and answered first. */
		yajl_tree_free(v);
		zadm_device_finish_jobs(dev, gen);
		zadm_info(dev, "the server ended the session (terminate)");
		return 1;
	}
	cmd = zj_get_str(v, "cmd");
	if (cmd && (strcmp(cmd, "CALL") == 0 || strcmp(cmd, "OTA") == 0)) {
		const char *what = cmd[0] == 'C' ? "CALL" : "OTA"; /* cmd goes with v */

		/* Waits while the worker's queue is full: no call is refused for lack of room. */
		r = zadm_device_push_job(dev, what[0] == 'C' ? ZADM_JOB_CALL : ZADM_JOB_OTA, v, gen);
		if (r == ZADM_ERR_NOMEM)
			zadm_err(dev, "out of memory: a %s message from the server was dropped", what);
		return r == ZADM_ERR_IO; /* the session ended while the reader waited */
	}
	zadm_dbg(dev, "ignoring a message without a known cmd");
	yajl_tree_free(v);
	return 0;
}

/* A generator with {"cmd":cmd, opened; *e is non-zero when that failed. NULL on out of memory. */
static yajl_gen cmd_begin(const char *cmd, int *e)
{
	yajl_gen g = zj_gen_new();

	if (g)
		*e = yajl_gen_map_open(g) | zj_gen_key(g, "cmd") | zj_gen_str(g, cmd);
	return g;
}

char *zadm_proto_htbm(size_t *ret_len)
{
	int e;
	yajl_gen g = cmd_begin("HTBM", &e);

	return g ? zj_gen_finish(g, e | yajl_gen_map_close(g), ret_len) : NULL;
}

char *zadm_proto_cmd_payload(const char *cmd, yajl_val payload, size_t *ret_len)
{
	int e;
	yajl_gen g = cmd_begin(cmd, &e);

	if (!g)
		return NULL;
	e |= zj_gen_key(g, "payload") | zj_gen_value(g, payload) | yajl_gen_map_close(g);
	return zj_gen_finish(g, e, ret_len);
}

char *zadm_proto_ntfy(const char *title, const char *text, size_t *ret_len)
{
	int e;
	yajl_gen g = cmd_begin("NTFY", &e);

	if (!g)
		return NULL;
	e |= zj_gen_key(g, "payload") | yajl_gen_map_open(g);
	e |= zj_gen_key(g, "title") | zj_gen_str(g, title) | zj_gen_key(g, "text") | zj_gen_str(g, text);
	e |= yajl_gen_map_close(g) | yajl_gen_map_close(g);
	return zj_gen_finish(g, e, ret_len);
}

char *zadm_proto_retn(yajl_val id, yajl_val res, const char *error, size_t *ret_len)
{
	int e;
	yajl_gen g = cmd_begin("RETN", &e);

	if (!g)
		return NULL;
	e |= zj_gen_key(g, "id") | zj_gen_value(g, id);
	if (error)
		e |= zj_gen_key(g, "error") | zj_gen_str(g, error);
	else
		e |= zj_gen_key(g, "res") | zj_gen_value(g, res);
	e |= yajl_gen_map_close(g);
	return zj_gen_finish(g, e, ret_len);
}

static char *ota_payload(const char *k1, long long n, const char *k2, const char *s, size_t *ret_len)
{
	int e;
	yajl_gen g = cmd_begin("OTA", &e);

	if (!g)
		return NULL;
	e |= zj_gen_key(g, "payload") | yajl_gen_map_open(g);
	e |= zj_gen_key(g, k1) | zj_gen_int(g, n);
	if (k2)
		e |= zj_gen_key(g, k2) | zj_gen_str(g, s);
	e |= yajl_gen_map_close(g) | yajl_gen_map_close(g);
	return zj_gen_finish(g, e, ret_len);
}

char *zadm_proto_ota_req(const char *key, long long n, const char *t, size_t *ret_len)
{
	return ota_payload(key, n, "t", t, ret_len);
}

char *zadm_proto_ota_ko(const char *reason, size_t *ret_len)
{
	return ota_payload("ko", 1, "reason", reason, ret_len);
}

char *zadm_proto_ota_ok(size_t *ret_len)
{
	return ota_payload("ok", 1, NULL, NULL, ret_len);
}
