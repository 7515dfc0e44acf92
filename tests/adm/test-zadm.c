/* test-zadm.c: Check suites of libzadm: API checks, the file FOTA store, and the wire protocol
 * against an in-process fake server on 127.0.0.1. */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <yajl/yajl_tree.h>

#include "zadm/zadm.h"
/* For the file store's ops: the store must refuse protected slots whatever its caller asks. */
#include "internal.h"

#include "../common/check-util.h"

/* ---- helpers ---- */

static char *make_tmpdir(void)
{
	char tmpl[] = "/tmp/zadm-unit.XXXXXX";
	char *d = mkdtemp(tmpl);

	ck_assert_ptr_nonnull(d);
	return strdup(d);
}

/* Remove a directory of make_tmpdir() with its files, and free its name. */
static void rm_tmpdir(char *dir)
{
	check_rm_tree(dir);
	free(dir);
}

static char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Log capture: every message, for checks on what was (and was not) logged. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char logbuf[65536];

static void capture_log(void *ud, int level, const char *msg)
{
	pthread_mutex_lock(&log_lock);
	if (strlen(logbuf) + strlen(msg) + 2 < sizeof(logbuf)) {
		strcat(logbuf, msg);
		strcat(logbuf, "\n");
	}
	pthread_mutex_unlock(&log_lock);
}

static bool log_has(const char *s)
{
	bool r;

	pthread_mutex_lock(&log_lock);
	r = strstr(logbuf, s) != NULL;
	pthread_mutex_unlock(&log_lock);
	return r;
}

/* The library logs from its own threads: wait up to ms for a message to show up. */
static bool log_wait(const char *s, int ms)
{
	for (; ms > 0; ms -= 10) {
		if (log_has(s))
			return true;
		usleep(10000);
	}
	return log_has(s);
}

/* ---- a fake ADM server: one listening socket, one client at a time ---- */

struct fake {
	int lfd, cfd;
	unsigned int port;
	char buf[1 << 17];
	size_t len;
};

static void fake_listen(struct fake *f)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->cfd = -1;
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(f->lfd, 0);
	ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(f->lfd, 8), 0);
	ck_assert_int_eq(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
	f->port = ntohs(sa.sin_port);
}

static bool fake_accept(struct fake *f, int timeout_ms)
{
	struct pollfd p = { f->lfd, POLLIN, 0 };

	if (f->cfd >= 0)
		close(f->cfd);
	f->cfd = -1;
	f->len = 0;
	if (poll(&p, 1, timeout_ms) != 1)
		return false;
	f->cfd = accept(f->lfd, NULL, NULL);
	return f->cfd >= 0;
}

/* The next line from the client (static buffer), or NULL on timeout/close. */
static char *fake_line(struct fake *f, int timeout_ms)
{
	static char line[1 << 17];
	long long until = now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(f->buf, '\n', f->len);
		struct pollfd p = { f->cfd, POLLIN, 0 };
		long long left = until - now_ms();
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - f->buf);

			memcpy(line, f->buf, l);
			line[l] = '\0';
			memmove(f->buf, nl + 1, f->len - l - 1);
			f->len -= l + 1;
			return line;
		}
		if (left <= 0 || poll(&p, 1, (int)left) != 1)
			return NULL;
		n = recv(f->cfd, f->buf + f->len, sizeof(f->buf) - f->len, 0);
		if (n <= 0)
			return NULL;
		f->len += (size_t)n;
	}
}

/* The next line that is not a heartbeat. */
static char *fake_msg(struct fake *f, int timeout_ms)
{
	char *l;

	while ((l = fake_line(f, timeout_ms)) && strcmp(l, "{\"cmd\":\"HTBM\"}") == 0)
		;
	return l;
}

static void fake_send(struct fake *f, const char *line)
{
	size_t len = strlen(line);

	ck_assert_int_eq(send(f->cfd, line, len, MSG_NOSIGNAL), (ssize_t)len);
	ck_assert_int_eq(send(f->cfd, "\n", 1, MSG_NOSIGNAL), 1);
}

static void fake_close(struct fake *f)
{
	if (f->cfd >= 0)
		close(f->cfd);
	close(f->lfd);
}

/* A fake server listening, and o set for a device that talks to it: quick reconnects, a 3 s timeout, every
 * message logged into logbuf (emptied here). */
static void fake_listen_for(struct fake *f, zadm_options *o)
{
	fake_listen(f);
	zadm_options_init(o);
	o->ip = "127.0.0.1";
	o->port = f->port;
	o->reconnect_min_ms = 50;
	o->reconnect_max_ms = 200;
	o->timeout_ms = 3000;
	o->log = capture_log;
	o->loglevel = ZADM_LOG_DBG;
	logbuf[0] = '\0';
}

/* The device of the wire tests: dev-1 (token t) with the options o, started (it connects in its own
 * threads). */
static zadm_device *start_device(const zadm_options *o)
{
	zadm_device *dev = NULL;

	ck_assert_int_eq(zadm_device_new("dev-1", "t", o, &dev), ZADM_OK);
	ck_assert_int_eq(zadm_device_start(dev), ZADM_OK);
	return dev;
}

/* Accept the device and answer its login with reply; returns the login line (static). */
static char *fake_login(struct fake *f, const char *reply)
{
	static char login[4096];
	char *l;

	ck_assert_msg(fake_accept(f, 3000), "the device did not connect");
	l = fake_line(f, 3000);
	ck_assert_ptr_nonnull(l);
	snprintf(login, sizeof(login), "%s", l);
	fake_send(f, reply);
	return login;
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

/* Names, sizes and contents of the store's files, to check that nothing was touched. */
static char *store_snapshot(const char *dir)
{
	static const char *const names[] = { "bc0.bin", "bc1.bin", "bc2.bin", "vm0.bin", "vm1.bin", "vm2.bin",
					     "record.json", ".record.json.tmp" };
	char path[512], *out = calloc(1, 1 << 14);
	size_t len = 0;

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		struct stat sb;
		char *text;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (stat(path, &sb) < 0)
			continue;
		text = slurp(path);
		len += (size_t)snprintf(out + len, (1 << 14) - len, "%s %lld [%s]\n", names[i], (long long)sb.st_size,
					text ? text : "?");
	}
	return out;
}

/* A long string of n copies of c. */
static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- API ---- */

START_TEST(test_strerror)
{
	for (int e = 0; e >= ZADM_ERR_TOO_LONG; e--)
		ck_assert_str_ne(zadm_strerror(e), "unknown error");
	ck_assert_str_eq(zadm_strerror(-1000), "unknown error");
	ck_assert_str_eq(zadm_strerror(ZADM_ERR_QUEUE_FULL), "send queue full");
}
END_TEST

START_TEST(test_options_defaults)
{
	zadm_options o;

	zadm_options_init(&o);
	ck_assert_uint_eq(o.port, 12345);
	ck_assert_uint_eq(o.heartbeat, 60);
	ck_assert_uint_eq(o.max_line, 65536);
	ck_assert_uint_eq(o.send_queue_max, 64);
	ck_assert_int_eq(o.tls.enable, 0);
	ck_assert_int_eq(o.tls.insecure, 0);
	ck_assert_ptr_null(o.fota_store);
}
END_TEST

START_TEST(test_new_bad_args)
{
	zadm_device *dev = (zadm_device *)0x1;
	zadm_options o;
	zadm_rpc bad = { "x", NULL, NULL };

	zadm_options_init(&o);
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_ERR_ARG); /* no ip nor address */
	ck_assert_ptr_eq(dev, (zadm_device *)0x1);                            /* untouched */
	o.address = "localhost";
	ck_assert_int_eq(zadm_device_new("", "t", &o, &dev), ZADM_ERR_ARG);
	ck_assert_int_eq(zadm_device_new("u", "", &o, &dev), ZADM_ERR_ARG);
	ck_assert_int_eq(zadm_device_new(NULL, "t", &o, &dev), ZADM_ERR_ARG);
	o.port = 70000;
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_ERR_ARG);
	o.port = 1;
	o.heartbeat = 0;
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_ERR_ARG);
	o.heartbeat = 1;
	o.rpc = &bad;
	o.n_rpc = 1;
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_ERR_ARG);
	o.n_rpc = 0;
	o.tls.enable = 1;
	o.tls.ca_file = "/nonexistent/ca.pem";
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_ERR_TLS);
	ck_assert_ptr_eq(dev, (zadm_device *)0x1);
	zadm_device_free(NULL);
	zadm_fota_store_free(NULL);
	ck_assert_int_eq(zadm_device_stop(NULL), ZADM_ERR_ARG);
}
END_TEST

START_TEST(test_send_checks)
{
	zadm_device *dev = NULL;
	zadm_options o;

	zadm_options_init(&o);
	o.address = "localhost";
	o.send_queue_max = 3;
	o.max_line = 100;
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_OK);
	ck_assert_int_eq(zadm_device_send(dev, "[1,2]"), ZADM_ERR_JSON);
	ck_assert_int_eq(zadm_device_send(dev, "{\"a\":"), ZADM_ERR_JSON);
	ck_assert_int_eq(zadm_device_send(dev, NULL), ZADM_ERR_ARG);
	ck_assert_int_eq(zadm_device_send_event(dev, "42"), ZADM_ERR_JSON);
	ck_assert_int_eq(zadm_device_send_notification(dev, "t", "\xff\xfe"), ZADM_ERR_JSON);
	ck_assert_int_eq(zadm_device_send_notification(dev, NULL, "x"), ZADM_ERR_ARG);
	{
		char big[200];

		memset(big, 'a', sizeof(big));
		memcpy(big, "{\"a\":\"", 6);
		strcpy(big + sizeof(big) - 3, "\"}");
		ck_assert_int_eq(zadm_device_send(dev, big), ZADM_ERR_TOO_LONG);
	}
	/* Not started: messages wait in the bounded queue; the fourth is refused, nothing dropped. */
	ck_assert_int_eq(zadm_device_send(dev, "{\"a\":1}"), ZADM_OK);
	ck_assert_int_eq(zadm_device_send_event(dev, "{\"n\":1}"), ZADM_OK);
	ck_assert_int_eq(zadm_device_send_notification(dev, "t", "x"), ZADM_OK);
	ck_assert_int_eq(zadm_device_send(dev, "{\"a\":2}"), ZADM_ERR_QUEUE_FULL);
	ck_assert_int_eq(zadm_device_is_connected(dev), 0);
	ck_assert_int_eq(zadm_device_stop(dev), ZADM_OK); /* not started: no-op */
	zadm_device_free(dev);
}
END_TEST

/* ---- the file store ---- */

START_TEST(test_store_fresh_and_attempt_accept)
{
	char *dir = make_tmpdir(), path[512];
	zadm_fota_store *st = NULL;
	zadm_fota_record rec;

	ck_assert_int_eq(zadm_fota_store_file_new(dir, 0, 0, &st), ZADM_OK);
	ck_assert_int_eq(zadm_fota_store_get_record(st, &rec), ZADM_OK);
	ck_assert_int_eq(rec.valid, 1);
	ck_assert_int_eq(rec.bc, 0);
	ck_assert_int_eq(rec.vm, 0);
	ck_assert_uint_gt(rec.chunk, 0);
	/* Slots must exist before a record points at them. */
	ck_assert_int_eq(zadm_fota_store_attempt(st, 1, 1), ZADM_ERR_IO);
	snprintf(path, sizeof(path), "%s/bc1.bin", dir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	snprintf(path, sizeof(path), "%s/vm1.bin", dir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	ck_assert_int_eq(zadm_fota_store_attempt(st, 2, 1), ZADM_ERR_SLOT);
	ck_assert_int_eq(zadm_fota_store_attempt(st, 1, 1), ZADM_OK);
	/* Until the restart the old configuration runs. */
	zadm_fota_store_get_record(st, &rec);
	ck_assert_int_eq(rec.bc, 0);
	ck_assert_int_eq(zadm_fota_store_boot(st), ZADM_OK);
	zadm_fota_store_get_record(st, &rec);
	ck_assert_int_eq(rec.bc, 1);
	ck_assert_int_eq(rec.vm, 1);
	ck_assert_int_eq(zadm_fota_store_accept(st), ZADM_OK);
	zadm_fota_store_free(st);
	/* Re-opening is a restart: the accepted configuration stays. */
	ck_assert_int_eq(zadm_fota_store_file_new(dir, 0, 0, &st), ZADM_OK);
	zadm_fota_store_get_record(st, &rec);
	ck_assert_int_eq(rec.bc, 1);
	ck_assert_int_eq(rec.vm, 1);
	zadm_fota_store_free(st);
	snprintf(path, sizeof(path), "%s/.record.json.tmp", dir);
	ck_assert_int_ne(access(path, F_OK), 0); /* no temp file left */
	rm_tmpdir(dir);
}
END_TEST

START_TEST(test_store_rollback_without_accept)
{
	char *dir = make_tmpdir(), path[512];
	zadm_fota_store *st = NULL;
	zadm_fota_record rec;

	snprintf(path, sizeof(path), "%s/bc1.bin", dir);
	close(open(path, O_CREAT | O_WRONLY, 0644));
	ck_assert_int_eq(zadm_fota_store_file_new(dir, 2, 0, &st), ZADM_OK);
	ck_assert_int_eq(zadm_fota_store_attempt(st, 1, 0), ZADM_OK);
	zadm_fota_store_free(st);
	/* First restart: the attempt runs. */
	ck_assert_int_eq(zadm_fota_store_file_new(dir, 2, 0, &st), ZADM_OK);
	zadm_fota_store_get_record(st, &rec);
	ck_assert_int_eq(rec.bc, 1);
	zadm_fota_store_free(st);
	/* Second restart without accept: back to the last working configuration. */
	ck_assert_int_eq(zadm_fota_store_file_new(dir, 2, 0, &st), ZADM_OK);
	zadm_fota_store_get_record(st, &rec);
	ck_assert_int_eq(rec.bc, 0);
	ck_assert_int_eq(rec.vm, 0);
	snprintf(path, sizeof(path), "%s/record.json", dir);
	ck_assert_ptr_nonnull(strstr(slurp(path), "\"state\":\"ok\""));
	zadm_fota_store_free(st);
	rm_tmpdir(dir);
}
END_TEST

START_TEST(test_store_corrupt_record)
{
	char *dir = make_tmpdir(), path[512];
	zadm_fota_store *st = (zadm_fota_store *)0x1;
	const char *bad[] = { "{\"bc\":0,", "{\"bc\":0,\"vm\":0,\"last_bc\":0,\"last_vm\":0,\"state\":\"weird\",\"chunk\":4096}",
			      "{\"bc\":5,\"vm\":0,\"last_bc\":0,\"last_vm\":0,\"state\":\"ok\",\"chunk\":4096}", "" };

	snprintf(path, sizeof(path), "%s/record.json", dir);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *fp = fopen(path, "w");

		fputs(bad[i], fp);
		fclose(fp);
		ck_assert_int_eq(zadm_fota_store_file_new(dir, 2, 0, &st), ZADM_ERR_CORRUPT);
		ck_assert_ptr_eq(st, (zadm_fota_store *)0x1);
		ck_assert_str_eq(slurp(path), bad[i]); /* left untouched */
	}
	ck_assert_int_eq(zadm_fota_store_file_new("/nonexistent/dir", 2, 0, &st), ZADM_ERR_IO);
	ck_assert_int_eq(zadm_fota_store_file_new(NULL, 2, 0, &st), ZADM_ERR_ARG);
	rm_tmpdir(dir);
}
END_TEST

/* ---- the wire, against the fake server ---- */

START_TEST(test_login_line_and_htbm)
{
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	char *login, *l;
	yajl_val v;
	long long t0;
	const char *k_uid[] = { "uid", NULL }, *k_tok[] = { "token", NULL }, *k_hb[] = { "hearbeat", NULL },
		   *k_ota[] = { "ota", NULL }, *k_pf[] = { "platform", NULL }, *k_vm[] = { "vmuid", NULL },
		   *k_bc[] = { "bc", NULL };

	fake_listen_for(&f, &o);
	o.heartbeat = 30;
	o.platform = "linux";
	o.vmuid = "vm123";
	ck_assert_int_eq(zadm_device_new("dev-1", "s3cret-token", &o, &dev), ZADM_OK);
	ck_assert_int_eq(zadm_device_start(dev), ZADM_OK);
	ck_assert_int_eq(zadm_device_start(dev), ZADM_ERR_STATE);
	login = fake_login(&f, "{\"ts\":1,\"htbm\":1}");
	t0 = now_ms();
	v = yajl_tree_parse(login, NULL, 0);
	ck_assert_ptr_nonnull(v);
	ck_assert_ptr_nonnull(yajl_tree_get(v, k_uid, yajl_t_string));
	ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, k_uid, yajl_t_string)), "dev-1");
	ck_assert_ptr_nonnull(yajl_tree_get(v, k_tok, yajl_t_string));
	ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, k_tok, yajl_t_string)), "s3cret-token");
	ck_assert_ptr_nonnull(yajl_tree_get(v, k_pf, yajl_t_string));
	ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, k_pf, yajl_t_string)), "linux");
	ck_assert_ptr_nonnull(yajl_tree_get(v, k_vm, yajl_t_string));
	ck_assert_str_eq(YAJL_GET_STRING(yajl_tree_get(v, k_vm, yajl_t_string)), "vm123");
	/* The original's misspelled key, exactly. */
	ck_assert_msg(yajl_tree_get(v, k_hb, yajl_t_number) != NULL, "no \"hearbeat\" in %s", login);
	ck_assert_int_eq(YAJL_GET_INTEGER(yajl_tree_get(v, k_hb, yajl_t_number)), 30);
	ck_assert(YAJL_IS_FALSE(yajl_tree_get(v, k_ota, yajl_t_any)));
	ck_assert_ptr_null(yajl_tree_get(v, k_bc, yajl_t_any)); /* no store: no slots */
	yajl_tree_free(v);
	/* The server imposed 1 s: a heartbeat within about a second, not 30. */
	l = fake_line(&f, 2500);
	ck_assert_ptr_nonnull(l);
	ck_assert_str_eq(l, "{\"cmd\":\"HTBM\"}");
	ck_assert_int_ge(now_ms() - t0, 800);
	l = fake_line(&f, 2500);
	ck_assert_str_eq(l, "{\"cmd\":\"HTBM\"}");
	ck_assert_uint_eq(zadm_device_get_heartbeat(dev), 1);
	ck_assert_int_eq(zadm_device_is_connected(dev), 1);
	zadm_device_free(dev);
	ck_assert_msg(!log_has("s3cret-token"), "the token was logged");
	fake_close(&f);
}
END_TEST

START_TEST(test_login_refused_and_retry)
{
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;

	fake_listen_for(&f, &o);
	ck_assert_int_eq(zadm_device_new("dev-1", "tok-XYZ-123", &o, &dev), ZADM_OK);
	ck_assert_int_eq(zadm_device_start(dev), ZADM_OK);
	fake_login(&f, "{\"err\":\"bad token\"}");
	/* The device closes and tries again later. */
	ck_assert_ptr_null(fake_line(&f, 2000));
	fake_login(&f, "{}");
	for (int i = 0; i < 50 && !zadm_device_is_connected(dev); i++)
		usleep(20000);
	ck_assert_int_eq(zadm_device_is_connected(dev), 1);
	ck_assert(log_wait("login refused by the server: bad token", 3000));
	zadm_device_free(dev);
	ck_assert(!log_has("tok-XYZ-123"));
	fake_close(&f);
}
END_TEST

static int rpc_echo(void *ud, const char *args, char **ret)
{
	*ret = strdup(args);
	return 0;
}

static int rpc_bad_result(void *ud, const char *args, char **ret)
{
	*ret = strdup("{not json");
	return 0;
}

static zadm_device *stop_dev;
static int rpc_stop(void *ud, const char *args, char **ret)
{
	/* Calls back into the library from the worker: must neither deadlock nor fail. */
	ck_assert_int_eq(zadm_device_send_event(stop_dev, "{\"from\":\"rpc\"}"), ZADM_OK);
	ck_assert_int_eq(zadm_device_stop(stop_dev), ZADM_OK);
	return 0;
}

START_TEST(test_rpc_wire)
{
	static const zadm_rpc rpc[] = { { "echo", rpc_echo, NULL }, { "bad", rpc_bad_result, NULL } };
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	char *l;

	fake_listen_for(&f, &o);
	o.rpc = rpc;
	o.n_rpc = 2;
	dev = start_device(&o);
	fake_login(&f, "{}");
	/* Without ret no RETN; with ret the RETN echoes the id. */
	fake_send(&f, "{\"cmd\":\"CALL\",\"method\":\"echo\",\"args\":[1],\"id\":7,\"ret\":false}");
	fake_send(&f, "{\"cmd\":\"CALL\",\"method\":\"echo\",\"args\":[1,\"x\",{\"k\":[true,null]}],\"id\":8,\"ret\":true}");
	l = fake_msg(&f, 3000);
	ck_assert_ptr_nonnull(l);
	ck_assert_str_eq(l, "{\"cmd\":\"RETN\",\"id\":8,\"res\":[1,\"x\",{\"k\":[true,null]}]}");
	fake_send(&f, "{\"cmd\":\"CALL\",\"method\":\"echo\",\"id\":9,\"ret\":true}"); /* args default [] */
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"RETN\",\"id\":9,\"res\":[]}");
	fake_send(&f, "{\"cmd\":\"CALL\",\"method\":\"nope\",\"args\":[],\"id\":10,\"ret\":true}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"RETN\",\"id\":10,\"error\":\"unknown method\"}");
	fake_send(&f, "{\"cmd\":\"CALL\",\"method\":\"nope\",\"args\":[],\"id\":11}"); /* no ret: silence */
	fake_send(&f, "{\"cmd\":\"CALL\",\"method\":\"bad\",\"args\":[],\"id\":12,\"ret\":true}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"RETN\",\"id\":12,\"error\":\"invalid result\"}");
	fake_send(&f, "{\"cmd\":\"CALL\",\"method\":\"echo\",\"args\":{\"a\":1},\"id\":13,\"ret\":true}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"RETN\",\"id\":13,\"error\":\"args must be an array\"}");
	/* Malformed and unknown lines are ignored; the session goes on. */
	fake_send(&f, "{\"cmd\":");
	fake_send(&f, "[1,2,3]");
	fake_send(&f, "{\"cmd\":\"WHAT\"}");
	ck_assert_int_eq(zadm_device_send_event(dev, "{\"n\":1}"), ZADM_OK);
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"EVNT\",\"payload\":{\"n\":1}}");
	ck_assert_int_eq(zadm_device_send_notification(dev, "T\"1", "caf\xc3\xa9"), ZADM_OK);
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"NTFY\",\"payload\":{\"title\":\"T\\\"1\",\"text\":\"caf\xc3\xa9\"}}");
	ck_assert_int_eq(zadm_device_send(dev, " { \"raw\" : 1.50 } "), ZADM_OK);
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"raw\":1.50}");
	ck_assert(log_wait("ignoring a malformed line from the server", 3000));
	ck_assert_int_eq(zadm_device_is_connected(dev), 1);
	zadm_device_free(dev);
	fake_close(&f);
}
END_TEST

START_TEST(test_stop_from_callback)
{
	static const zadm_rpc rpc[] = { { "stop", rpc_stop, NULL } };
	struct fake f;
	zadm_options o;
	char *l;

	fake_listen_for(&f, &o);
	o.rpc = rpc;
	o.n_rpc = 1;
	stop_dev = start_device(&o);
	fake_login(&f, "{}");
	fake_send(&f, "{\"cmd\":\"CALL\",\"method\":\"stop\",\"args\":[],\"id\":1,\"ret\":true}");
	/* The device closes: the stop was carried out even though it came from its own thread. The
	 * event and the RETN may or may not have gone out first (unsent messages are discarded). */
	for (int i = 0; i < 4 && (l = fake_line(&f, 3000)); i++)
		ck_assert_msg(strstr(l, "HTBM") || strstr(l, "EVNT") || strstr(l, "RETN"), "unexpected %s", l);
	ck_assert_ptr_null(l);
	for (int i = 0; i < 100 && zadm_device_is_connected(stop_dev); i++)
		usleep(10000);
	ck_assert_int_eq(zadm_device_is_connected(stop_dev), 0);
	ck_assert_int_eq(zadm_device_stop(stop_dev), ZADM_OK); /* joins */
	/* And it can start again. */
	ck_assert_int_eq(zadm_device_start(stop_dev), ZADM_OK);
	fake_login(&f, "{}");
	zadm_device_free(stop_dev);
	fake_close(&f);
}
END_TEST

START_TEST(test_queue_while_disconnected_then_terminate)
{
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;

	fake_listen_for(&f, &o);
	ck_assert_int_eq(zadm_device_new("dev-1", "t", &o, &dev), ZADM_OK);
	/* Queued before the first login, delivered in order after it. */
	ck_assert_int_eq(zadm_device_send_event(dev, "{\"n\":1}"), ZADM_OK);
	ck_assert_int_eq(zadm_device_send_event(dev, "{\"n\":2}"), ZADM_OK);
	ck_assert_int_eq(zadm_device_start(dev), ZADM_OK);
	fake_login(&f, "{}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"EVNT\",\"payload\":{\"n\":1}}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"EVNT\",\"payload\":{\"n\":2}}");
	fake_send(&f, "{\"terminate\":true}");
	ck_assert_ptr_null(fake_msg(&f, 3000)); /* closed by the device */
	fake_login(&f, "{}");                  /* and it comes back */
	ck_assert_int_eq(zadm_device_send_event(dev, "{\"n\":3}"), ZADM_OK);
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"EVNT\",\"payload\":{\"n\":3}}");
	zadm_device_free(dev);
	fake_close(&f);
}
END_TEST

START_TEST(test_line_too_long)
{
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	char *big = malloc(5000);

	fake_listen_for(&f, &o);
	o.max_line = 4096;
	dev = start_device(&o);
	fake_login(&f, "{}");
	/* Exactly the maximum is fine... */
	memset(big, 'a', 4096);
	memcpy(big, "{\"x\":\"", 6);
	memcpy(big + 4094, "\"}", 3);
	fake_send(&f, big);
	ck_assert_int_eq(zadm_device_send_event(dev, "{\"n\":1}"), ZADM_OK);
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"EVNT\",\"payload\":{\"n\":1}}");
	/* ...one byte more drops the connection. */
	memset(big, 'a', 4097);
	memcpy(big, "{\"x\":\"", 6);
	memcpy(big + 4095, "\"}", 3);
	fake_send(&f, big);
	ck_assert_ptr_null(fake_msg(&f, 3000));
	ck_assert(log_wait("longer than 4096 bytes", 3000));
	free(big);
	zadm_device_free(dev);
	fake_close(&f);
}
END_TEST

static int count_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n - 2;
}

START_TEST(test_low_res_threads)
{
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	int base = count_threads(), normal, low;

	fake_listen_for(&f, &o);
	dev = start_device(&o);
	normal = count_threads() - base;
	zadm_device_free(dev);
	o.low_res = 1;
	dev = start_device(&o);
	low = count_threads() - base;
	/* And it still answers RPC (on its one service thread, not the reader). */
	zadm_device_free(dev);
	ck_assert_int_eq(normal, 3);
	ck_assert_int_eq(low, 2);
	ck_assert_int_eq(count_threads(), base);
	fake_close(&f);
}
END_TEST

START_TEST(test_fota_login_fields_and_ota_unsupported)
{
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	zadm_fota_store *st = NULL;
	char *dir = make_tmpdir(), *login;

	fake_listen_for(&f, &o);
	dev = start_device(&o);
	fake_login(&f, "{}");
	fake_send(&f, "{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":1,\"vm\":0}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"OTA\",\"payload\":{\"ko\":1,\"reason\":\"OTA unsupported\"}}");
	zadm_device_free(dev);

	ck_assert_int_eq(zadm_fota_store_file_new(dir, 0, 0, &st), ZADM_OK);
	o.fota_store = st;
	dev = start_device(&o);
	login = fake_login(&f, "{}");
	ck_assert_ptr_nonnull(strstr(login, "\"ota\":true,\"bc\":0,\"vm\":0,\"chunk\":4096"));
	/* A block with no update in progress, and a malformed start. */
	fake_send(&f, "{\"cmd\":\"OTA\",\"bin\":\"AAAA\",\"t\":\"b\"}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"OTA\",\"payload\":{\"ko\":1,\"reason\":\"no update in progress\"}}");
	fake_send(&f, "{\"cmd\":\"OTA\",\"chunk\":0,\"bcsize\":10,\"bc\":1}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"OTA\",\"payload\":{\"ko\":1,\"reason\":\"Bad request\"}}");
	/* Bad base64 inside an update. */
	fake_send(&f, "{\"cmd\":\"OTA\",\"chunk\":4,\"vmsize\":0,\"bcsize\":8,\"bc\":1,\"vm\":0}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"OTA\",\"payload\":{\"b\":0,\"t\":\"b\"}}");
	fake_send(&f, "{\"cmd\":\"OTA\",\"bin\":\"!!not base64!!\",\"t\":\"b\"}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"OTA\",\"payload\":{\"ko\":1,\"reason\":\"Bad block\"}}");
	/* A block bigger than the chunk. */
	fake_send(&f, "{\"cmd\":\"OTA\",\"chunk\":4,\"vmsize\":0,\"bcsize\":8,\"bc\":1,\"vm\":0}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"OTA\",\"payload\":{\"b\":0,\"t\":\"b\"}}");
	fake_send(&f, "{\"cmd\":\"OTA\",\"bin\":\"AAAAAAAA\",\"t\":\"b\"}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"OTA\",\"payload\":{\"ko\":1,\"reason\":\"Bad size\"}}");
	zadm_device_free(dev);
	zadm_fota_store_free(st);
	rm_tmpdir(dir);
	fake_close(&f);
}
END_TEST

/* Many reconnects: for valgrind (make check-valgrind-adm), and a check that nothing piles up. */
START_TEST(test_many_reconnects)
{
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	const char *env = getenv("ZADM_TEST_RECONNECTS");
	int n = env ? atoi(env) : 20;

	fake_listen_for(&f, &o);
	o.reconnect_min_ms = 1;
	o.reconnect_max_ms = 2;
	o.log = NULL;
	ck_assert_int_eq(zadm_device_new("dev-1", "t", &o, &dev), ZADM_OK);
	ck_assert_int_eq(zadm_device_send_event(dev, "{\"n\":0}"), ZADM_OK);
	ck_assert_int_eq(zadm_device_start(dev), ZADM_OK);
	for (int i = 0; i < n; i++) {
		fake_login(&f, i % 2 ? "{\"err\":\"again\"}" : "{\"htbm\":5}");
		if (i % 2 == 0)
			fake_send(&f, "{\"terminate\":true}");
	}
	fake_login(&f, "{}");
	ck_assert_int_eq(zadm_device_send_event(dev, "{\"n\":1}"), ZADM_OK);
	ck_assert_ptr_nonnull(strstr(fake_msg(&f, 3000), "EVNT"));
	zadm_device_free(dev);
	fake_close(&f);
}
END_TEST

/* ---- hardening (issue 11) ---- */

START_TEST(test_utf8_strict)
{
	zadm_device *dev = (zadm_device *)0x1;
	zadm_options o;

	zadm_options_init(&o);
	o.address = "localhost";
	/* An overlong NUL, a UTF-16 surrogate, a code point beyond U+10FFFF: not UTF-8. */
	ck_assert_int_eq(zadm_device_new("bad-\xc0\x80", "t", &o, &dev), ZADM_ERR_ARG);
	ck_assert_int_eq(zadm_device_new("u", "\xed\xa0\x80", &o, &dev), ZADM_ERR_ARG);
	o.vmuid = "\xf4\x90\x80\x80";
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_ERR_ARG);
	ck_assert_ptr_eq(dev, (zadm_device *)0x1);
	o.vmuid = NULL;
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_OK);
	ck_assert_int_eq(zadm_device_send_notification(dev, "t", "\xed\xa0\x80"), ZADM_ERR_JSON);
	/* \u0000 would be cut at the NUL; an escaped lone surrogate decodes to no UTF-8 at all. */
	ck_assert_int_eq(zadm_device_send(dev, "{\"a\":\"x\\u0000y\"}"), ZADM_ERR_JSON);
	ck_assert_int_eq(zadm_device_send(dev, "{\"a\":\"\\udc00\"}"), ZADM_ERR_JSON);
	ck_assert_int_eq(zadm_device_send_event(dev, "{\"\xf4\x90\x80\x80\":1}"), ZADM_ERR_JSON);
	ck_assert_int_eq(zadm_device_send(dev, "{\"a\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \xf0\x9f\x98\x80\"}"),
			 ZADM_OK);
	zadm_device_free(dev);
}
END_TEST

START_TEST(test_options_ranges)
{
	zadm_device *dev = (zadm_device *)0x1;
	zadm_options o;

	zadm_options_init(&o);
	o.address = "localhost";
	/* Numbers the library multiplies or converts to int: refused rather than wrapped. */
	o.timeout_ms = 3600001;
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_ERR_ARG);
	o.timeout_ms = 10000;
	o.heartbeat = 86401;
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_ERR_ARG);
	o.heartbeat = 60;
	o.max_line = (size_t)-1;
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_ERR_ARG);
	o.max_line = 65536;
	o.reconnect_max_ms = 86400001;
	ck_assert_int_eq(zadm_device_new("u", "t", &o, &dev), ZADM_ERR_ARG);
	ck_assert_ptr_eq(dev, (zadm_device *)0x1);
}
END_TEST

START_TEST(test_store_protects_running_and_fallback)
{
	char *dir = make_tmpdir(), *before, *after;
	zadm_fota_store *st = NULL;
	const zadm_fota_store_ops *ops;
	void *ud;

	put_file(dir, "bc0.bin", "BC-0");
	put_file(dir, "vm0.bin", "VM-0");
	put_file(dir, "bc1.bin", "BC-1");
	put_file(dir, "vm1.bin", "VM-1");
	ck_assert_int_eq(zadm_fota_store_file_new(dir, 2, 1024, &st), ZADM_OK);
	ops = st->ops;
	ud = st->userdata;
	/* ok, running 0/0 (also the fallback): neither slot 0 may be erased or written. */
	before = store_snapshot(dir);
	ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_BC, 0, 4), ZADM_ERR_SLOT);
	ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_VM, 0, 4), ZADM_ERR_SLOT);
	ck_assert_int_eq(ops->write(ud, ZADM_SLOT_BC, 0, 0, "XXXX", 4), ZADM_ERR_SLOT);
	ck_assert_int_eq(ops->write(ud, ZADM_SLOT_VM, 0, 2, "XX", 2), ZADM_ERR_SLOT);
	/* Outside the store: slot count, size, kind. */
	ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_BC, 2, 4), ZADM_ERR_SLOT);
	ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_BC, -1, 4), ZADM_ERR_SLOT);
	ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_BC, 1, 1025), ZADM_ERR_SLOT);
	ck_assert_int_eq(ops->write(ud, ZADM_SLOT_BC, 1, 1020, "XXXXX", 5), ZADM_ERR_SLOT);
	ck_assert_int_eq(ops->erase(ud, 'x', 1, 4), ZADM_ERR_SLOT);
	after = store_snapshot(dir);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	/* The spare slots are free. */
	ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_BC, 1, 4), ZADM_OK);
	ck_assert_int_eq(ops->write(ud, ZADM_SLOT_BC, 1, 0, "NEW1", 4), ZADM_OK);
	ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_VM, 1, 4), ZADM_OK);
	ck_assert_int_eq(ops->write(ud, ZADM_SLOT_VM, 1, 0, "NEW1", 4), ZADM_OK);
	/* attempt: 0/0 still runs; 1/1 is only pending and may be written again. */
	ck_assert_int_eq(zadm_fota_store_attempt(st, 1, 1), ZADM_OK);
	ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_BC, 0, 4), ZADM_ERR_SLOT);
	ck_assert_int_eq(ops->write(ud, ZADM_SLOT_VM, 0, 0, "XXXX", 4), ZADM_ERR_SLOT);
	ck_assert_int_eq(ops->write(ud, ZADM_SLOT_BC, 1, 0, "NEW2", 4), ZADM_OK);
	/* trying: 1/1 runs, 0/0 is the fallback: all four refused. */
	ck_assert_int_eq(zadm_fota_store_boot(st), ZADM_OK);
	before = store_snapshot(dir);
	for (int slot = 0; slot < 2; slot++) {
		ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_BC, slot, 4), ZADM_ERR_SLOT);
		ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_VM, slot, 4), ZADM_ERR_SLOT);
		ck_assert_int_eq(ops->write(ud, ZADM_SLOT_BC, slot, 0, "XXXX", 4), ZADM_ERR_SLOT);
		ck_assert_int_eq(ops->write(ud, ZADM_SLOT_VM, slot, 0, "XXXX", 4), ZADM_ERR_SLOT);
	}
	after = store_snapshot(dir);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	/* accepted: 1/1 runs and is the fallback; slot 0 is spare again. */
	ck_assert_int_eq(zadm_fota_store_accept(st), ZADM_OK);
	ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_BC, 1, 4), ZADM_ERR_SLOT);
	ck_assert_int_eq(ops->erase(ud, ZADM_SLOT_BC, 0, 4), ZADM_OK);
	zadm_fota_store_free(st);
	rm_tmpdir(dir);
}
END_TEST

/* Send an OTA start and expect reply; the store's files must not change. */
static void expect_ota(struct fake *f, const char *dir, const char *start, const char *reply)
{
	char *before = store_snapshot(dir), *after, *l;

	fake_send(f, start);
	l = fake_msg(f, 3000);
	ck_assert_msg(l != NULL, "no reply to %s", start);
	ck_assert_msg(strcmp(l, reply) == 0, "%s: got %s, expected %s", start, l, reply);
	after = store_snapshot(dir);
	ck_assert_msg(strcmp(before, after) == 0, "%s changed the store:\n%s\nto\n%s", start, before, after);
	free(before);
	free(after);
}

START_TEST(test_fota_slot_numbers_checked)
{
	static const char bad_slots[] = "{\"cmd\":\"OTA\",\"payload\":{\"ko\":1,\"reason\":\"Bad slots\"}}";
	static const char *const starts[] = {
		/* 2^32 + the running slot: the old check compared long long, the store erased (int)bc. */
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":4294967296,\"vm\":0}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":10,\"bcsize\":10,\"bc\":1,\"vm\":4294967296}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":10,\"bcsize\":10,\"bc\":1,\"vm\":-4294967296}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":18446744073709551616}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":1e300}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":-1}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":2}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":0}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":10,\"bcsize\":10,\"bc\":1,\"vm\":0}",
		/* Sizes beyond the store's capacity (64 KiB here), up to what no size_t holds. */
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":65537,\"bc\":1}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":1e15,\"bcsize\":10,\"bc\":1,\"vm\":1}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":9223372036854775807,\"bc\":1}",
		"{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":1e30,\"bc\":1}",
	};
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	zadm_fota_store *st = NULL;
	char *dir = make_tmpdir();

	put_file(dir, "bc0.bin", "RUNNING BYTECODE");
	put_file(dir, "vm0.bin", "RUNNING VM");
	ck_assert_int_eq(zadm_fota_store_file_new(dir, 2, 65536, &st), ZADM_OK);
	fake_listen_for(&f, &o);
	o.fota_store = st;
	dev = start_device(&o);
	fake_login(&f, "{}");
	for (size_t i = 0; i < sizeof(starts) / sizeof(*starts); i++)
		expect_ota(&f, dir, starts[i], bad_slots);
	/* Not a number at all: a bad request, also touching nothing. */
	expect_ota(&f, dir, "{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":\"1\"}",
		   "{\"cmd\":\"OTA\",\"payload\":{\"ko\":1,\"reason\":\"Bad request\"}}");
	/* And the device still takes a good update. */
	fake_send(&f, "{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":1,\"vm\":0}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"OTA\",\"payload\":{\"b\":0,\"t\":\"b\"}}");
	{
		char path[512];

		snprintf(path, sizeof(path), "%s/bc0.bin", dir);
		ck_assert_str_eq(slurp(path), "RUNNING BYTECODE");
	}
	zadm_device_free(dev);
	zadm_fota_store_free(st);
	rm_tmpdir(dir);
	fake_close(&f);
}
END_TEST

/* A store of the caller's own: it counts the erases the library asks for. */
static int mem_erases, mem_last_slot;

static int mem_get_record(void *ud, zadm_fota_record *rec)
{
	rec->valid = 1;
	rec->bc = rec->vm = 0;
	rec->chunk = 64;
	return ZADM_OK;
}

static int mem_erase(void *ud, int kind, int slot, size_t size)
{
	mem_erases++;
	mem_last_slot = slot;
	return ZADM_OK;
}

static int mem_write(void *ud, int kind, int slot, size_t off, const void *buf, size_t len)
{
	return ZADM_OK;
}

static int mem_read(void *ud, int kind, int slot, size_t off, void *buf, size_t len, size_t *ret_len)
{
	*ret_len = 0;
	return ZADM_OK;
}

static int mem_ok(void *ud)
{
	return ZADM_OK;
}

static int mem_attempt(void *ud, int bc, int vm)
{
	return ZADM_OK;
}

START_TEST(test_custom_store_limits)
{
	static const zadm_fota_store_ops mem_ops = { mem_get_record, mem_erase, mem_write, mem_read, mem_attempt,
						     mem_ok, mem_ok, NULL };
	static const char bad_slots[] = "{\"cmd\":\"OTA\",\"payload\":{\"ko\":1,\"reason\":\"Bad slots\"}}";
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	zadm_fota_store *st = NULL;

	ck_assert_int_eq(zadm_fota_store_new(&mem_ops, NULL, &st), ZADM_OK);
	ck_assert_int_eq(zadm_fota_store_set_limits(NULL, 3, 100), ZADM_ERR_ARG);
	ck_assert_int_eq(zadm_fota_store_set_limits(st, 0, 100), ZADM_ERR_ARG);
	ck_assert_int_eq(zadm_fota_store_set_limits(st, ZADM_FOTA_SLOTS_MAX + 1, 100), ZADM_ERR_ARG);
	ck_assert_int_eq(zadm_fota_store_set_limits(st, 3, 0), ZADM_ERR_ARG);
	ck_assert_int_eq(zadm_fota_store_set_limits(st, 3, 100), ZADM_OK);
	fake_listen_for(&f, &o);
	o.fota_store = st;
	mem_erases = 0;
	dev = start_device(&o);
	fake_login(&f, "{}");
	/* The library checks for the store: its functions never see a slot or size outside the limits,
	 * nor the running slot, however the number is written. */
	fake_send(&f, "{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":4294967296}");
	ck_assert_str_eq(fake_msg(&f, 3000), bad_slots);
	fake_send(&f, "{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":10,\"bc\":3}");
	ck_assert_str_eq(fake_msg(&f, 3000), bad_slots);
	fake_send(&f, "{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":101,\"bc\":2}");
	ck_assert_str_eq(fake_msg(&f, 3000), bad_slots);
	ck_assert_int_eq(mem_erases, 0);
	fake_send(&f, "{\"cmd\":\"OTA\",\"chunk\":64,\"vmsize\":0,\"bcsize\":100,\"bc\":2}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"OTA\",\"payload\":{\"b\":0,\"t\":\"b\"}}");
	ck_assert_int_eq(mem_erases, 1);
	ck_assert_int_eq(mem_last_slot, 2);
	zadm_device_free(dev);
	zadm_fota_store_free(st);
	fake_close(&f);
}
END_TEST

START_TEST(test_deep_json_refused)
{
	static const zadm_rpc rpc[] = { { "echo", rpc_echo, NULL } };
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	char *deep = repeat('[', 300000), *undeep = repeat(']', 300000), *open63 = repeat('[', 63),
	     *close63 = repeat(']', 63), *line;
	size_t cap = 600000 + 4096;

	fake_listen_for(&f, &o);
	o.rpc = rpc;
	o.n_rpc = 1;
	o.max_line = 1 << 20;
	line = malloc(cap);
	dev = start_device(&o);
	fake_login(&f, "{}");
	/* 300,000 levels, well formed (a tree that deep crashes yajl_tree_free) and cut short: one clear
	 * warning, the session goes on. */
	snprintf(line, cap, "{\"cmd\":\"CALL\",\"method\":\"echo\",\"id\":1,\"ret\":true,\"args\":%s%s}", deep,
		 undeep);
	fake_send(&f, line);
	ck_assert(log_wait("ignoring a malformed line from the server: JSON nested deeper than 64 levels", 3000));
	snprintf(line, cap, "{\"cmd\":\"CALL\",\"method\":\"echo\",\"id\":1,\"ret\":true,\"args\":%s", deep);
	fake_send(&f, line);
	/* 64 levels (the CALL object and 63 arrays) are fine, 65 are not. */
	snprintf(line, cap, "{\"cmd\":\"CALL\",\"method\":\"echo\",\"id\":2,\"ret\":true,\"args\":%s%s}", open63,
		 close63);
	fake_send(&f, line);
	snprintf(line, cap, "{\"cmd\":\"RETN\",\"id\":2,\"res\":%s%s}", open63, close63);
	ck_assert_str_eq(fake_msg(&f, 3000), line);
	snprintf(line, cap, "{\"cmd\":\"CALL\",\"method\":\"echo\",\"id\":3,\"ret\":true,\"args\":[%s%s]}", open63,
		 close63);
	fake_send(&f, line);
	fake_send(&f, "{\"cmd\":\"CALL\",\"method\":\"echo\",\"id\":4,\"ret\":true,\"args\":[4]}");
	ck_assert_str_eq(fake_msg(&f, 3000), "{\"cmd\":\"RETN\",\"id\":4,\"res\":[4]}");
	ck_assert_int_eq(zadm_device_is_connected(dev), 1);
	zadm_device_free(dev);
	/* A login reply 300,000 deep: refused, and the device tries again. */
	dev = start_device(&o);
	fake_login(&f, deep);
	ck_assert(log_wait("login: malformed reply from the server: JSON nested deeper than 64 levels", 3000));
	fake_login(&f, "{}");
	zadm_device_free(dev);
	free(deep);
	free(undeep);
	free(open63);
	free(close63);
	free(line);
	fake_close(&f);
}
END_TEST

/* Send bytes one at a time, gap_ms apart (repeating the last), until the device closes or 4 s pass;
 * returns how long it took the device to close, -1 if it did not. What the device sends is ignored. */
static long long trickle(struct fake *f, const unsigned char *bytes, size_t n, int gap_ms)
{
	long long t0 = now_ms();
	size_t i = 0;

	while (now_ms() - t0 < 4000) {
		struct pollfd p = { f->cfd, POLLIN, 0 };
		char buf[4096];

		send(f->cfd, bytes + i, 1, MSG_NOSIGNAL);
		if (i + 1 < n)
			i++;
		for (long long until = now_ms() + gap_ms; now_ms() < until;)
			if (poll(&p, 1, (int)(until - now_ms())) == 1 &&
			    recv(f->cfd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
				return now_ms() - t0;
	}
	return -1;
}

START_TEST(test_login_reply_deadline)
{
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	long long took;

	fake_listen_for(&f, &o);
	o.timeout_ms = 1000;
	dev = start_device(&o);
	ck_assert(fake_accept(&f, 3000));
	ck_assert_ptr_nonnull(fake_line(&f, 3000));
	/* A server that trickles its reply, one byte every 200 ms, never finishing it. */
	took = trickle(&f, (const unsigned char *)"{ ", 2, 200);
	/* Measured from our side: the device's deadline started a little earlier (when it sent its login);
	 * the bound leaves room for a loaded machine or valgrind. */
	ck_assert_msg(took >= 0, "the device still waits for its login reply after 4 s");
	ck_assert_int_le(took, 3000);
	ck_assert(log_wait("login: no reply from the server within 1000 ms", 2000));
	zadm_device_free(dev);
	fake_close(&f);
}
END_TEST

START_TEST(test_tls_handshake_deadline)
{
	/* A TLS record header announcing 512 bytes of handshake, then its bytes one by one. */
	static const unsigned char hello[] = { 0x16, 0x03, 0x03, 0x02, 0x00, 0x02, 0x00, 0x01, 0xfc, 0x03, 0x03, 0 };
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	long long took;

	fake_listen_for(&f, &o);
	o.timeout_ms = 1000;
	o.tls.enable = 1;
	o.tls.insecure = 1;
	dev = start_device(&o);
	ck_assert(fake_accept(&f, 3000));
	took = trickle(&f, hello, sizeof(hello), 200);
	ck_assert_msg(took >= 0, "the device still waits for the handshake after 4 s");
	ck_assert_int_le(took, 3000);
	ck_assert(log_wait("TLS: handshake with 127.0.0.1 failed: ", 2000));
	zadm_device_free(dev);
	fake_close(&f);
}
END_TEST

/* Counts what the library logs: every line, and the malformed-line warnings, one by one or summed. */
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long n_logged, n_malformed;

static void count_log(void *ud, int level, const char *msg)
{
	unsigned long k;

	pthread_mutex_lock(&count_lock);
	n_logged++;
	if (strstr(msg, "ignoring a malformed line from the server"))
		n_malformed++;
	else if (strstr(msg, " more malformed lines from the server in the last 1 s") &&
		 sscanf(msg, "ignored %lu more", &k) == 1)
		n_malformed += k;
	pthread_mutex_unlock(&count_lock);
}

START_TEST(test_warning_rate_limit)
{
	static const zadm_rpc rpc[] = { { "echo", rpc_echo, NULL } };
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	/* ZADM_TEST_FLOOD: fewer lines under valgrind (tests/adm/valgrind.sh). */
	const char *env = getenv("ZADM_TEST_FLOOD");
	int lines = env ? atoi(env) : 100000;
	size_t cap = (size_t)lines * 64, len = 0;
	char *buf = malloc(cap), *l;
	unsigned long logged, malformed;

	fake_listen_for(&f, &o);
	o.rpc = rpc;
	o.n_rpc = 1;
	o.log = count_log;
	o.loglevel = ZADM_LOG_WARN;
	n_logged = n_malformed = 0;
	dev = start_device(&o);
	fake_login(&f, "{}");
	/* 100,000 bad CALL lines: half not JSON, half calling a method the device does not have (odd i). */
	ck_assert_int_ge(lines, 1000);
	for (int i = 0; i < lines; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					i % 2 ? "{\"cmd\":\"CALL\",\"method\":\"nosuch\",\"id\":%d}\n"
					      : "{\"cmd\":\"CALL\",\"id\":%d,\n", i);
	for (size_t off = 0; off < len;) {
		ssize_t n = send(f.cfd, buf + off, len - off, MSG_NOSIGNAL);

		ck_assert_int_gt(n, 0);
		off += (size_t)n;
	}
	/* Once this is answered the reader has seen every line. */
	fake_send(&f, "{\"cmd\":\"CALL\",\"method\":\"echo\",\"id\":999999,\"ret\":true,\"args\":[]}");
	while ((l = fake_msg(&f, 60000)) && !strstr(l, "999999"))
		;
	ck_assert_ptr_nonnull(l);
	/* The end of the session reports what was still being counted. */
	close(f.cfd);
	f.cfd = -1;
	for (int i = 0; i < 300; i++) {
		pthread_mutex_lock(&count_lock);
		malformed = n_malformed;
		pthread_mutex_unlock(&count_lock);
		if (malformed >= (unsigned long)(lines + 1) / 2)
			break;
		usleep(10000);
	}
	zadm_device_free(dev);
	pthread_mutex_lock(&count_lock);
	logged = n_logged;
	malformed = n_malformed;
	pthread_mutex_unlock(&count_lock);
	if (getenv("ZADM_TEST_VERBOSE"))
		fprintf(stderr, "%d bad CALL lines: %lu lines logged, %lu malformed lines counted\n", lines, logged,
			malformed);
	ck_assert_msg(malformed == (unsigned long)(lines + 1) / 2, "%lu malformed lines reported, %d sent", malformed,
		      (lines + 1) / 2);
	ck_assert_msg(logged < 60, "%lu lines logged for %d bad lines", logged, lines);
	free(buf);
	fake_close(&f);
}
END_TEST

/* ---- flow control (issue 17): a burst of calls is answered, never refused ---- */

/* work: sleeps 1 ms (a function doing some I/O), then returns its arguments. slow: sleeps the number of
 * milliseconds given as its one argument, then returns it. */
static int rpc_work(void *ud, const char *args, char **ret)
{
	usleep(1000);
	*ret = strdup(args);
	return 0;
}

static int rpc_slow(void *ud, const char *args, char **ret)
{
	long ms = strtol(args + 1, NULL, 10);

	usleep((useconds_t)ms * 1000);
	*ret = strdup(args);
	return 0;
}

static const zadm_rpc flow_rpc[] = { { "work", rpc_work, NULL }, { "slow", rpc_slow, NULL } };

static void send_all(struct fake *f, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(f->cfd, buf, len, MSG_NOSIGNAL);

		ck_assert_int_gt(n, 0);
		buf += n;
		len -= (size_t)n;
	}
}

/* n CALLs of work, ids first .. first+n-1, args [id], one buffer (static). */
static char *work_calls(int first, int n, size_t *ret_len)
{
	static char buf[1 << 16];
	size_t len = 0;

	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
					"{\"cmd\":\"CALL\",\"method\":\"work\",\"args\":[%d],\"id\":%d,\"ret\":true}\n",
					first + i, first + i);
	ck_assert_int_lt(len, sizeof(buf) - 1);
	*ret_len = len;
	return buf;
}

/* Read until the RETNs of ids first .. first+n-1 have come, in order, each with its result [id];
 * counts the heartbeats seen meanwhile. Fails on anything else (a "device busy" error above all). */
static void expect_results(struct fake *f, int first, int n, int timeout_ms, int *ret_htbm)
{
	long long until = now_ms() + timeout_ms;
	char want[128];
	int next = first, htbm = 0;

	while (next < first + n) {
		long long left = until - now_ms();
		char *l = left > 0 ? fake_line(f, (int)left) : NULL;

		ck_assert_msg(l, "RETN %d (of %d .. %d) missing after %d ms", next, first, first + n - 1, timeout_ms);
		if (strcmp(l, "{\"cmd\":\"HTBM\"}") == 0) {
			htbm++;
			continue;
		}
		snprintf(want, sizeof(want), "{\"cmd\":\"RETN\",\"id\":%d,\"res\":[%d]}", next, next);
		ck_assert_str_eq(l, want);
		next++;
	}
	if (ret_htbm)
		*ret_htbm = htbm;
}

START_TEST(test_burst_of_calls_all_answered)
{
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;

	fake_listen_for(&f, &o);
	o.rpc = flow_rpc;
	o.n_rpc = 2;
	o.heartbeat = 1;
	o.low_res = _i;
	dev = start_device(&o);
	fake_login(&f, "{}");
	/* 200 calls in one write, three times: each one answered with its result, in order. */
	for (int run = 0; run < 3; run++) {
		long long t0 = now_ms();
		size_t len;
		char *buf = work_calls(1000 * (run + 1), 200, &len);

		send_all(&f, buf, len);
		expect_results(&f, 1000 * (run + 1), 200, 20000, NULL);
		if (getenv("ZADM_TEST_VERBOSE"))
			fprintf(stderr, "burst %d%s: 200 calls answered in %lld ms\n", run + 1, _i ? " (low_res)" : "",
				now_ms() - t0);
	}
	ck_assert(!log_has("refused"));
	ck_assert_int_eq(zadm_device_is_connected(dev), 1);
	zadm_device_free(dev);
	fake_close(&f);
}
END_TEST

START_TEST(test_terminate_after_burst)
{
	static const char term[] = "{\"terminate\":true}\n";
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	size_t len;
	char *buf;

	fake_listen_for(&f, &o);
	o.rpc = flow_rpc;
	o.n_rpc = 2;
	dev = start_device(&o);
	fake_login(&f, "{}");
	/* 150 calls, then terminate, in one write: the terminate is handled after every call before it
	 * was answered, then the device closes and logs in again. */
	buf = work_calls(1, 150, &len);
	memcpy(buf + len, term, sizeof(term));
	send_all(&f, buf, len + sizeof(term) - 1);
	expect_results(&f, 1, 150, 20000, NULL);
	ck_assert_ptr_null(fake_msg(&f, 3000)); /* closed by the device, nothing after the last RETN */
	ck_assert(log_has("the server ended the session (terminate)"));
	fake_login(&f, "{}");
	buf = work_calls(500, 1, &len);
	send_all(&f, buf, len);
	expect_results(&f, 500, 1, 3000, NULL);
	zadm_device_free(dev);
	fake_close(&f);
}
END_TEST

START_TEST(test_heartbeat_while_worker_busy)
{
	static const char slow[] = "{\"cmd\":\"CALL\",\"method\":\"slow\",\"args\":[3500],\"id\":1,\"ret\":true}\n";
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	long long t0, took;
	size_t len;
	char *buf, *l;
	int htbm = 0, more;

	fake_listen_for(&f, &o);
	o.rpc = flow_rpc;
	o.n_rpc = 2;
	o.heartbeat = 1;
	dev = start_device(&o);
	fake_login(&f, "{}");
	/* The worker is busy for 3.5 s (more than two heartbeat periods) and 200 calls wait behind it:
	 * the reader stops taking lines once the queue is full, the heartbeat goes on. */
	t0 = now_ms();
	send_all(&f, slow, sizeof(slow) - 1);
	buf = work_calls(2, 200, &len);
	send_all(&f, buf, len);
	while ((l = fake_line(&f, 5000)) && strcmp(l, "{\"cmd\":\"HTBM\"}") == 0)
		htbm++;
	took = now_ms() - t0;
	ck_assert_ptr_nonnull(l);
	ck_assert_str_eq(l, "{\"cmd\":\"RETN\",\"id\":1,\"res\":[3500]}");
	ck_assert_msg(htbm >= 3, "%d heartbeats while the worker was busy for %lld ms", htbm, took);
	expect_results(&f, 2, 200, 20000, &more);
	ck_assert_int_eq(zadm_device_is_connected(dev), 1);
	if (getenv("ZADM_TEST_VERBOSE"))
		fprintf(stderr, "%d heartbeats during a %lld ms call, then 200 queued calls answered\n", htbm, took);
	zadm_device_free(dev);
	fake_close(&f);
}
END_TEST

static int rpc_fast(void *ud, const char *args, char **ret)
{
	*ret = strdup(args);
	return 0;
}

START_TEST(test_backpressure_bounds_what_is_read)
{
	static const char slow[] = "{\"cmd\":\"CALL\",\"method\":\"slow\",\"args\":[2500],\"id\":0,\"ret\":true}\n";
	static const zadm_rpc rpc[] = { { "slow", rpc_slow, NULL }, { "work", rpc_fast, NULL } };
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	long long t0, sent = 0;
	int n = 0, sndbuf = 16384;
	bool blocked = false;
	char line[128];

	fake_listen_for(&f, &o);
	o.rpc = rpc;
	o.n_rpc = 2;
	o.heartbeat = 1;
	dev = start_device(&o);
	fake_login(&f, "{}");
	/* A fixed send buffer (no autotuning): what the kernel holds stays small and known. */
	ck_assert_int_eq(setsockopt(f.cfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	send_all(&f, slow, sizeof(slow) - 1);
	/* While the worker is busy the server pushes calls as fast as the socket takes them: the device
	 * stops reading once its queue is full, the kernel's buffers fill, and the send would block. */
	t0 = now_ms();
	while (!blocked && now_ms() - t0 < 2000) {
		int len = snprintf(line, sizeof(line), "{\"cmd\":\"CALL\",\"method\":\"work\",\"args\":[%d],\"id\":%d,"
				   "\"ret\":true}\n", n + 1, n + 1);
		ssize_t r = send(f.cfd, line, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);

		ck_assert_msg(r >= 0 || errno == EAGAIN, "send: %s", strerror(errno));
		if (r < len) {
			/* The rest of the line goes once the device reads again. */
			blocked = true;
			send_all(&f, line + (r > 0 ? r : 0), (size_t)(len - (r > 0 ? r : 0)));
		}
		sent += len;
		n++;
	}
	if (getenv("ZADM_TEST_VERBOSE"))
		fprintf(stderr, "the server's sends blocked after %d calls (%lld bytes) in %lld ms\n", n, sent,
			now_ms() - t0);
	ck_assert_msg(blocked, "the device took %lld bytes (%d calls) off the socket while its worker was busy",
		      sent, n);
	/* And every one of them is answered once the worker is free. */
	ck_assert_str_eq(fake_msg(&f, 5000), "{\"cmd\":\"RETN\",\"id\":0,\"res\":[2500]}");
	expect_results(&f, 1, n, 30000, NULL);
	ck_assert_int_eq(zadm_device_is_connected(dev), 1);
	zadm_device_free(dev);
	fake_close(&f);
}
END_TEST

/* ---- TLS: a server that stops reading ---- */

#include <gnutls/x509.h>

/* A self-signed certificate for localhost, made now, in server credentials. */
static gnutls_certificate_credentials_t tls_server_cred(void)
{
	gnutls_certificate_credentials_t cred;
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	time_t now = time(NULL);

	ck_assert_int_ge(gnutls_x509_privkey_init(&key), 0);
	ck_assert_int_ge(gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
						      GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0), 0);
	ck_assert_int_ge(gnutls_x509_crt_init(&crt), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_version(crt, 3), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_serial(crt, "\x01", 1), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_activation_time(crt, now - 60), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_expiration_time(crt, now + 3600), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_dn(crt, "CN=localhost", NULL), 0);
	ck_assert_int_ge(gnutls_x509_crt_set_key(crt, key), 0);
	ck_assert_int_ge(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), 0);
	ck_assert_int_ge(gnutls_certificate_allocate_credentials(&cred), 0);
	ck_assert_int_ge(gnutls_certificate_set_x509_key(cred, &crt, 1, key), 0);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return cred;
}

START_TEST(test_tls_write_to_a_server_that_stops_reading)
{
	struct fake f;
	zadm_options o;
	zadm_device *dev = NULL;
	gnutls_certificate_credentials_t cred = tls_server_cred();
	gnutls_session_t s;
	char buf[4096], *ev = malloc(60001);
	long long t0;
	size_t got = 0;
	int rcvbuf = 4096, r;

	fake_listen_for(&f, &o);
	o.tls.enable = 1;
	o.tls.insecure = 1;
	o.timeout_ms = 1000;
	dev = start_device(&o);
	ck_assert(fake_accept(&f, 3000));
	ck_assert_int_eq(setsockopt(f.cfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	ck_assert_int_ge(gnutls_init(&s, GNUTLS_SERVER), 0);
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	gnutls_transport_set_int(s, f.cfd);
	do {
		r = gnutls_handshake(s);
	} while (r < 0 && !gnutls_error_is_fatal(r));
	ck_assert_msg(r >= 0, "server handshake: %s", gnutls_strerror(r));
	while (!memchr(buf, '\n', got)) { /* the login line */
		ssize_t n = gnutls_record_recv(s, buf + got, sizeof(buf) - got);

		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_int_eq(gnutls_record_send(s, "{}\n", 3), 3);
	for (int i = 0; i < 100 && !zadm_device_is_connected(dev); i++)
		usleep(10000);
	/* From now on the server reads nothing: events of 60 KB fill the socket, the device's write blocks,
	 * and after timeout_ms (the socket's send timeout) it must fail and the session end; a write that
	 * took the timeout for "try again" spun for ever instead. */
	memset(ev, 'a', 60000);
	memcpy(ev, "{\"x\":\"", 6);
	memcpy(ev + 59998, "\"}", 3);
	t0 = now_ms();
	while (!log_has("cannot send message: connection lost") && now_ms() - t0 < 8000) {
		zadm_device_send_event(dev, ev); /* a full queue is fine: the writer is blocked */
		usleep(20000);
	}
	ck_assert_msg(log_has("cannot send message: connection lost"),
		      "the device still writes to a server that has read nothing for %lld ms", now_ms() - t0);
	/* And it comes back. */
	ck_assert(fake_accept(&f, 5000));
	gnutls_deinit(s);
	zadm_device_free(dev);
	gnutls_certificate_free_credentials(cred);
	free(ev);
	fake_close(&f);
}
END_TEST

static Suite *suite(void)
{
	const TTest *api[] = {
		test_strerror, test_options_defaults, test_new_bad_args, test_send_checks, test_utf8_strict,
		test_options_ranges, NULL,
	};
	const TTest *store[] = {
		test_store_fresh_and_attempt_accept, test_store_rollback_without_accept, test_store_corrupt_record,
		test_store_protects_running_and_fallback, NULL,
	};
	const TTest *wire[] = {
		test_login_line_and_htbm, test_login_refused_and_retry, test_rpc_wire, test_stop_from_callback,
		test_queue_while_disconnected_then_terminate, test_line_too_long, test_low_res_threads,
		test_fota_login_fields_and_ota_unsupported, test_many_reconnects, test_fota_slot_numbers_checked,
		test_custom_store_limits, test_deep_json_refused, test_login_reply_deadline,
		test_tls_handshake_deadline, test_warning_rate_limit, test_tls_write_to_a_server_that_stops_reading,
		NULL,
	};
	const TTest *flow_after_burst[] = {
		test_terminate_after_burst, test_heartbeat_while_worker_busy, test_backpressure_bounds_what_is_read,
		NULL,
	};
	TCase *wire_tc = check_tcase("wire", NULL, NULL, wire), *flow = tcase_create("flow");

	tcase_set_timeout(wire_tc, 30);
	tcase_set_timeout(flow, 60);
	tcase_add_loop_test(flow, test_burst_of_calls_all_answered, 0, 2); /* 0: three threads, 1: low_res */
	check_add_tests(flow, flow_after_burst);
	return check_suite("zadm", check_tcase("api", NULL, NULL, api), check_tcase("store", NULL, NULL, store),
			   wire_tc, flow, NULL);
}

int main(void)
{
	unsetenv("ZADM_DEBUG");
	return check_run(suite(), NULL);
}
