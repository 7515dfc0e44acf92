/* fuzz-adm-lines.c: libFuzzer target for what an ADM server sends a device: lines read through
 * libzadm's connection code from a socketpair, the login reply, then every line dispatched as the
 * reader thread does (CALL, terminate, OTA: start, blocks, checksums, confirm) with the worker's jobs
 * run in between, against the file-backed FOTA store. Every line the device queues in answer must be
 * one well-formed JSON object.
 * Input: one byte of settings (bits 0-1: the FOTA step the callback vetoes, 3 for none; bit 2: a
 * restart callback; bit 3: start from an attempted, not yet accepted configuration), then the
 * server's lines. A session ends on terminate, a too long line or a FOTA restart; the next line is
 * then the login reply of a new session. The lines go through libzadm's real entry points, so nesting
 * is capped (ZJ_MAX_DEPTH) exactly as in a device. */
#include "config.h"

#include <sys/socket.h>

#include "fuzz-common.h"
#include "internal.h"

static char store_dir[300];
static int veto_step = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	snprintf(store_dir, sizeof(store_dir), "%s", fuzz_scratch("adm-lines"));
	return 0;
}

static int fota_cb(void *ud, int step)
{
	return step == veto_step;
}

static void restart_cb(void *ud)
{
	++*(int *)ud;
}

static int rpc_echo(void *ud, const char *args, char **ret)
{
	*ret = strdup(args);
	return 0;
}

static int rpc_fail(void *ud, const char *args, char **ret)
{
	*ret = strdup("boom");
	return 1;
}

static int rpc_bad(void *ud, const char *args, char **ret)
{
	*ret = strdup("{not json");
	return 0;
}

static int rpc_null(void *ud, const char *args, char **ret)
{
	return 0;
}

static const zadm_rpc rpcs[] = {
	{ "echo", rpc_echo, NULL },
	{ "fail", rpc_fail, NULL },
	{ "bad", rpc_bad, NULL },
	{ "null", rpc_null, NULL },
};

static void reset_store(void)
{
	static const char *const names[] = { "record.json", ".record.json.tmp", "bc0.bin", "bc1.bin",
					     "vm0.bin", "vm1.bin" };
	char path[400];

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", store_dir, names[i]);
		unlink(path);
	}
}

/* One line the device sends: a JSON object with key (cmd, or uid for the login), '\n'-terminated,
 * that a reader with libzadm's own limits accepts again (strict UTF-8, nesting within ZJ_MAX_DEPTH). */
static void check_line(const char *line, size_t len, const char *key)
{
	char *copy;
	yajl_val v;

	FUZZ_CHECK(len >= 2 && line[len - 1] == '\n' && strlen(line) == len);
	copy = fuzz_cstr((const uint8_t *)line, len - 1);
	FUZZ_CHECK(!strchr(copy, '\n'));
	v = zj_parse(copy, NULL, 0);
	FUZZ_CHECK(v && YAJL_IS_OBJECT(v) && zj_get_str(v, key));
	yajl_tree_free(v);
	free(copy);
}

/* What the writer thread would send: checked, then dropped. */
static void drain_queue(zadm_device *dev)
{
	pthread_mutex_lock(&dev->lock);
	while (dev->qhead) {
		struct zadm_msg *m = dev->qhead;

		dev->qhead = m->next;
		check_line(m->line, m->len, "cmd");
		free(m->line);
		free(m);
	}
	dev->qtail = NULL;
	dev->quser = dev->qinternal = 0;
	pthread_mutex_unlock(&dev->lock);
}

/* What the worker thread would do, in order, through libzadm's own steps. */
static void run_jobs(zadm_device *dev)
{
	for (;;) {
		struct zadm_job *j;

		pthread_mutex_lock(&dev->lock);
		j = zadm_device_next_job(dev);
		pthread_mutex_unlock(&dev->lock);
		if (!j)
			break;
		zadm_device_run_job(dev, j);
		drain_queue(dev);
	}
}

struct session {
	int peer;          /* the server's end */
	zadm_conn *c;      /* the device's end */
	bool logged_in;
	unsigned int gen;
};

static void session_open(zadm_device *dev, struct session *s)
{
	int sv[2];
	size_t len;
	char *login;

	FUZZ_CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	FUZZ_CHECK(zadm_conn_from_fd(dev, sv[0], &s->c) == ZADM_OK);
	s->peer = sv[1];
	s->logged_in = false;
	/* The login line the device would send first. */
	login = zadm_proto_login(dev, &len);
	FUZZ_CHECK(login);
	check_line(login, len, "uid");
	free(login);
}

static void session_close(zadm_device *dev, struct session *s)
{
	if (!s->c)
		return;
	pthread_mutex_lock(&dev->lock);
	dev->conn = NULL;
	dev->restart_now = false;
	pthread_mutex_unlock(&dev->lock);
	zadm_conn_close(s->c);
	close(s->peer);
	s->c = NULL;
	drain_queue(dev);
}

/* Send one line from the server and handle what the device reads. */
static void feed(zadm_device *dev, struct session *s, const char *line, size_t len)
{
	char *got;
	int r;

	if (!s->c)
		session_open(dev, s);
	(void)!send(s->peer, line, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)!send(s->peer, "\n", 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	r = zadm_conn_read_line(dev, s->c, 0, &got);
	if (r == 1)
		return;
	if (r) {
		/* A line longer than max_line (or the end): the reader drops the connection. */
		FUZZ_CHECK(r == ZADM_ERR_TOO_LONG || r == ZADM_ERR_IO);
		session_close(dev, s);
		return;
	}
	FUZZ_CHECK(strlen(got) <= dev->opts.max_line);
	if (!s->logged_in) {
		unsigned int htbm = 0;

		if (zadm_proto_login_reply(dev, got, &htbm) != ZADM_OK) {
			session_close(dev, s);
			return;
		}
		FUZZ_CHECK(htbm <= 86400);
		s->logged_in = true;
		pthread_mutex_lock(&dev->lock);
		dev->conn = s->c;
		s->gen = ++dev->gen;
		pthread_mutex_unlock(&dev->lock);
		zadm_device_push_job(dev, ZADM_JOB_ACCEPT, NULL, s->gen);
		run_jobs(dev);
		return;
	}
	r = zadm_proto_dispatch(dev, got, s->gen);
	run_jobs(dev);
	drain_queue(dev);
	if (r || dev->restart_now)
		session_close(dev, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	zadm_fota_store *st = NULL;
	zadm_device *dev = NULL;
	struct session s = { -1, NULL, false, 0 };
	zadm_options o;
	int restarts = 0;
	const uint8_t *p, *end;

	if (size < 1)
		return 0;
	veto_step = (data[0] & 3) == 3 ? -1 : data[0] & 3;
	reset_store();
	FUZZ_CHECK(zadm_fota_store_file_new(store_dir, 2, 1 << 16, &st) == ZADM_OK);
	if (data[0] & 8) {
		char path[400];

		/* The attempted slots exist (attempt syncs them to disk first). */
		snprintf(path, sizeof(path), "%s/bc1.bin", store_dir);
		fuzz_write_file(path, "", 0);
		snprintf(path, sizeof(path), "%s/vm1.bin", store_dir);
		fuzz_write_file(path, "", 0);
		FUZZ_CHECK(zadm_fota_store_attempt(st, 1, 1) == ZADM_OK);
		FUZZ_CHECK(zadm_fota_store_boot(st) == ZADM_OK);
	}
	zadm_options_init(&o);
	o.ip = "127.0.0.1";
	o.rpc = rpcs;
	o.n_rpc = sizeof(rpcs) / sizeof(*rpcs);
	o.fota_store = st;
	o.fota_callback = fota_cb;
	if (data[0] & 4) {
		o.restart = restart_cb;
		o.restart_userdata = &restarts;
	}
	o.max_line = 1024;
	o.loglevel = ZADM_LOG_NONE;
	FUZZ_CHECK(zadm_device_new("fuzz-uid", "fuzz-token", &o, &dev) == ZADM_OK);
	for (p = data + 1, end = data + size; p < end;) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		feed(dev, &s, (const char *)p, len);
		p += len + 1;
	}
	session_close(dev, &s);
	zadm_device_free(dev);
	zadm_fota_store_free(st);
	return 0;
}
