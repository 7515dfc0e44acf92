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
	if (e) {
		yajl_gen_free(g);
		return NULL;
	}
	return zj_gen_line(g, ret_len);
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
		zadm_info(dev, "the server ended the session (terminate)");
		yajl_tree_free(v);
		return 1;
	}
	cmd = zj_get_str(v, "cmd");
	if (cmd && strcmp(cmd, "CALL") == 0) {
		yajl_val id = zj_get(v, "id"), ret = zj_get(v, "ret");
		bool want = ret && ret->type == yajl_t_true;
		char *reply = NULL;
		size_t len;

		if (want)
			reply = zadm_proto_retn(id, NULL, "device busy", &len);
		r = zadm_device_push_job(dev, ZADM_JOB_CALL, v, gen);
		if (r == ZADM_ERR_QUEUE_FULL) {
			zadm_log_limited(dev, ZADM_RL_JOBS_FULL, ZADM_LOG_WARN,
					 "RPC: too many calls waiting, one refused");
			zadm_device_push_internal(dev, reply, len, gen);
			reply = NULL;
		}
		free(reply);
		return 0;
	}
	if (cmd && strcmp(cmd, "OTA") == 0) {
		r = zadm_device_push_job(dev, ZADM_JOB_OTA, v, gen);
		if (r)
			zadm_log_limited(dev, ZADM_RL_JOBS_FULL, ZADM_LOG_WARN, "FOTA: message dropped (%s)",
					 zadm_strerror(r));
		return 0;
	}
	zadm_dbg(dev, "ignoring a message without a known cmd");
	yajl_tree_free(v);
	return 0;
}

static char *simple(const char *cmd, size_t *ret_len)
{
	yajl_gen g = zj_gen_new();

	if (!g)
		return NULL;
	if (yajl_gen_map_open(g) || zj_gen_key(g, "cmd") || zj_gen_str(g, cmd) || yajl_gen_map_close(g)) {
		yajl_gen_free(g);
		return NULL;
	}
	return zj_gen_line(g, ret_len);
}

char *zadm_proto_htbm(size_t *ret_len)
{
	return simple("HTBM", ret_len);
}

char *zadm_proto_cmd_payload(const char *cmd, yajl_val payload, size_t *ret_len)
{
	yajl_gen g = zj_gen_new();

	if (!g)
		return NULL;
	if (yajl_gen_map_open(g) || zj_gen_key(g, "cmd") || zj_gen_str(g, cmd) ||
	    zj_gen_key(g, "payload") || zj_gen_value(g, payload) || yajl_gen_map_close(g)) {
		yajl_gen_free(g);
		return NULL;
	}
	return zj_gen_line(g, ret_len);
}

char *zadm_proto_ntfy(const char *title, const char *text, size_t *ret_len)
{
	yajl_gen g = zj_gen_new();

	if (!g)
		return NULL;
	if (yajl_gen_map_open(g) || zj_gen_key(g, "cmd") || zj_gen_str(g, "NTFY") ||
	    zj_gen_key(g, "payload") || yajl_gen_map_open(g) || zj_gen_key(g, "title") ||
	    zj_gen_str(g, title) || zj_gen_key(g, "text") || zj_gen_str(g, text) ||
	    yajl_gen_map_close(g) || yajl_gen_map_close(g)) {
		yajl_gen_free(g);
		return NULL;
	}
	return zj_gen_line(g, ret_len);
}

char *zadm_proto_retn(yajl_val id, yajl_val res, const char *error, size_t *ret_len)
{
	yajl_gen g = zj_gen_new();
	int e = 0;

	if (!g)
		return NULL;
	e |= yajl_gen_map_open(g);
	e |= zj_gen_key(g, "cmd") | zj_gen_str(g, "RETN");
	e |= zj_gen_key(g, "id") | zj_gen_value(g, id);
	if (error)
		e |= zj_gen_key(g, "error") | zj_gen_str(g, error);
	else
		e |= zj_gen_key(g, "res") | zj_gen_value(g, res);
	e |= yajl_gen_map_close(g);
	if (e) {
		yajl_gen_free(g);
		return NULL;
	}
	return zj_gen_line(g, ret_len);
}

static char *ota_payload(const char *k1, long long n, const char *k2, const char *s, size_t *ret_len)
{
	yajl_gen g = zj_gen_new();
	int e = 0;

	if (!g)
		return NULL;
	e |= yajl_gen_map_open(g);
	e |= zj_gen_key(g, "cmd") | zj_gen_str(g, "OTA");
	e |= zj_gen_key(g, "payload") | yajl_gen_map_open(g);
	e |= zj_gen_key(g, k1) | zj_gen_int(g, n);
	if (k2)
		e |= zj_gen_key(g, k2) | zj_gen_str(g, s);
	e |= yajl_gen_map_close(g) | yajl_gen_map_close(g);
	if (e) {
		yajl_gen_free(g);
		return NULL;
	}
	return zj_gen_line(g, ret_len);
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
