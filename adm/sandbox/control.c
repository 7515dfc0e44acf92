/* control.c: zadm-sandbox's control interface: a line protocol on a Unix socket, and its client. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

extern int sb_quit_fd;

char *sb_reply_error(const char *fmt, ...)
{
	char msg[512];
	yajl_gen g = zj_gen_new();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* It may quote what the caller sent, or be cut inside a character: always valid JSON. */
	zj_utf8_sanitize(msg);
	yajl_gen_map_open(g);
	zj_gen_key(g, "ok"), yajl_gen_bool(g, 0);
	zj_gen_key(g, "error"), zj_gen_str(g, msg);
	yajl_gen_map_close(g);
	return zj_gen_line(g, NULL);
}

char *sb_reply_ok(void)
{
	yajl_gen g = zj_gen_new();

	yajl_gen_map_open(g);
	zj_gen_key(g, "ok"), yajl_gen_bool(g, 1);
	yajl_gen_map_close(g);
	return zj_gen_line(g, NULL);
}

/* Next space-separated word of *p, NUL-terminated in place; NULL at the end. */
static char *word(char **p)
{
	char *s = *p, *e;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return NULL;
	e = s;
	while (*e && *e != ' ' && *e != '\t')
		e++;
	if (*e)
		*e++ = '\0';
	*p = e;
	return s;
}

static char *rest(char **p)
{
	char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static char *cmd_list(void)
{
	yajl_gen g = zj_gen_new();
	long long now = sb_now_ms();

	yajl_gen_map_open(g);
	zj_gen_key(g, "ok"), yajl_gen_bool(g, 1);
	zj_gen_key(g, "devices"), yajl_gen_array_open(g);
	pthread_mutex_lock(&sb.lock);
	for (struct sb_client *c = sb.clients; c; c = c->next) {
		if (!c->logged_in || c->closing)
			continue;
		yajl_gen_map_open(g);
		zj_gen_key(g, "uid"), zj_gen_str(g, c->uid);
		zj_gen_key(g, "peer"), zj_gen_str(g, c->peer);
		zj_gen_key(g, "tls"), yajl_gen_bool(g, c->io.tls != NULL);
		zj_gen_key(g, "heartbeat"), zj_gen_int(g, c->hb);
		zj_gen_key(g, "heartbeats"), zj_gen_int(g, (long long)c->heartbeats);
		zj_gen_key(g, "connected_ms"), zj_gen_int(g, now - c->connected_ms);
		zj_gen_key(g, "events"), zj_gen_int(g, (long long)c->events);
		zj_gen_key(g, "notifications"), zj_gen_int(g, (long long)c->notifications);
		zj_gen_key(g, "ota"), yajl_gen_bool(g, c->ota);
		if (c->have_slots) {
			zj_gen_key(g, "bc"), zj_gen_int(g, c->bc);
			zj_gen_key(g, "vm"), zj_gen_int(g, c->vm);
		}
		yajl_gen_map_close(g);
	}
	pthread_mutex_unlock(&sb.lock);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return zj_gen_line(g, NULL);
}

/* An integer argument: all of s, decimal, within [min, max]. */
static bool parse_ll(const char *s, long long min, long long max, long long *ret)
{
	char *end;
	long long v;

	if (!((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

/* Seconds: a finite decimal number within [0, max] (no nan, inf, hex or exponent beyond range). */
static bool parse_seconds(const char *s, double max, double *ret)
{
	char *end;
	double v;

	if (!*s || strspn(s, "0123456789.eE+-") != strlen(s))
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0 || v > max)
		return false;
	*ret = v;
	return true;
}

static void deadline(struct timespec *ts, double seconds)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)seconds;
	ts->tv_nsec += (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static char *cmd_wait(char *uid, char *secs)
{
	double s = 10;
	struct timespec until;
	struct sb_client *c;

	/* A NaN or huge value made an invalid timespec: timedwait failed at once, forever, with the
	 * global lock held. */
	if (secs && !parse_seconds(secs, SB_WAIT_MAX_S, &s))
		return sb_reply_error("wait: SECONDS must be a number from 0 to %d, not '%s'", SB_WAIT_MAX_S, secs);
	deadline(&until, s);
	pthread_mutex_lock(&sb.lock);
	while (!(c = sb_client_find_locked(uid)))
		if (pthread_cond_timedwait(&sb.cond, &sb.lock, &until) != 0)
			break;
	if (c)
		sb_client_unref_locked(c);
	pthread_mutex_unlock(&sb.lock);
	return c ? sb_reply_ok() : sb_reply_error("%s did not log in within %g s", uid, s);
}

/* Run fn on the logged-in client uid. */
static char *with_client(const char *uid, char *(*fn)(struct sb_client *c, void *arg), void *arg)
{
	struct sb_client *c;
	char *r;

	pthread_mutex_lock(&sb.lock);
	c = sb_client_find_locked(uid);
	pthread_mutex_unlock(&sb.lock);
	if (!c)
		return sb_reply_error("device %s is not connected", uid);
	r = fn(c, arg);
	pthread_mutex_lock(&sb.lock);
	sb_client_unref_locked(c);
	pthread_mutex_unlock(&sb.lock);
	return r;
}

struct call_arg {
	const char *method;
	yajl_val args;
	bool ret;
};

static char *do_call(struct sb_client *c, void *arg)
{
	struct call_arg *a = arg;
	struct sb_call *call = calloc(1, sizeof(*call));
	struct timespec until;
	yajl_gen g = zj_gen_new();
	size_t len;
	char *line, *reply;

	pthread_mutex_lock(&sb.lock);
	call->id = ++sb.next_id;
	call->client = c;
	if (a->ret) {
		call->next = sb.calls;
		sb.calls = call;
	}
	pthread_mutex_unlock(&sb.lock);
	yajl_gen_map_open(g);
	zj_gen_key(g, "cmd"), zj_gen_str(g, "CALL");
	zj_gen_key(g, "method"), zj_gen_str(g, a->method);
	zj_gen_key(g, "args"), zj_gen_value(g, a->args);
	zj_gen_key(g, "id"), zj_gen_int(g, call->id);
	zj_gen_key(g, "ret"), yajl_gen_bool(g, a->ret);
	yajl_gen_map_close(g);
	line = zj_gen_line(g, &len);
	if (sb_client_send(c, line, len)) {
		free(line);
		reply = sb_reply_error("cannot send to %s", c->uid);
		if (!a->ret)
			free(call);
		else {
			pthread_mutex_lock(&sb.lock);
			call->done = true;
			call->reply = reply;
			reply = NULL;
			pthread_mutex_unlock(&sb.lock);
		}
		if (reply)
			return reply;
	} else {
		free(line);
		if (!a->ret) {
			free(call);
			return sb_reply_ok();
		}
	}
	deadline(&until, 10);
	pthread_mutex_lock(&sb.lock);
	while (!call->done)
		if (pthread_cond_timedwait(&sb.cond, &sb.lock, &until) != 0) {
			call->reply = sb_reply_error("no RETN within 10 s");
			call->done = true;
		}
	for (struct sb_call **pp = &sb.calls; *pp; pp = &(*pp)->next)
		if (*pp == call) {
			*pp = call->next;
			break;
		}
	pthread_mutex_unlock(&sb.lock);
	reply = call->reply;
	free(call);
	return reply;
}

static char *cmd_call(char *p)
{
	struct call_arg a = { .ret = true };
	char *uid = word(&p), *text, err[200];
	char *r;

	if (uid && strcmp(uid, "-n") == 0) {
		a.ret = false;
		uid = word(&p);
	}
	a.method = word(&p);
	if (!uid || !a.method)
		return sb_reply_error("usage: call [-n] UID METHOD [ARGS_JSON_ARRAY]");
	text = rest(&p);
	a.args = zj_parse(*text ? text : "[]", err, sizeof(err));
	if (!a.args || a.args->type != yajl_t_array) {
		yajl_tree_free(a.args);
		return sb_reply_error("args must be a JSON array%s%s", a.args ? "" : ": ", a.args ? "" : err);
	}
	r = with_client(uid, do_call, &a);
	yajl_tree_free(a.args);
	return r;
}

struct fota_arg {
	char *bc, *vm;
	long long bcslot, vmslot, chunk;
	bool bad_crc, bad_part;
	int timeout;
};

static char *do_fota(struct sb_client *c, void *arg)
{
	struct fota_arg *a = arg;

	return sb_fota_start(c, a->bc, a->vm, a->bcslot, a->vmslot, a->chunk, a->bad_crc, a->bad_part,
			     a->timeout);
}

static char *cmd_fota(char *p)
{
	struct fota_arg a = { .bcslot = -1, .vmslot = -1, .timeout = 30 };
	char *uid = word(&p), *w;

	a.bc = word(&p);
	if (!uid || !a.bc)
		return sb_reply_error("usage: fota UID BCFILE [VMFILE] [bc=N] [vm=N] [chunk=N] [badcrc] [badpart] [timeout=S]");
	while ((w = word(&p))) {
		long long n;

		/* Slot numbers go to the device as they are (any integer: testing its checks is the point);
		 * the numbers the sandbox itself uses are range-checked. */
		if (strncmp(w, "bc=", 3) == 0 || strncmp(w, "vm=", 3) == 0) {
			if (!parse_ll(w + 3, LLONG_MIN, LLONG_MAX, &n))
				return sb_reply_error("fota: %.2s= needs an integer, not '%s'", w, w + 3);
			*(w[0] == 'b' ? &a.bcslot : &a.vmslot) = n;
		} else if (strncmp(w, "chunk=", 6) == 0) {
			if (!parse_ll(w + 6, 1, SB_CHUNK_MAX, &a.chunk))
				return sb_reply_error("fota: chunk= must be 1 to %d, not '%s'", SB_CHUNK_MAX, w + 6);
		} else if (strncmp(w, "timeout=", 8) == 0) {
			if (!parse_ll(w + 8, 1, SB_WAIT_MAX_S, &n))
				return sb_reply_error("fota: timeout= must be 1 to %d seconds, not '%s'", SB_WAIT_MAX_S,
						      w + 8);
			a.timeout = (int)n;
		} else if (strcmp(w, "badcrc") == 0)
			a.bad_crc = true;
		else if (strcmp(w, "badpart") == 0)
			a.bad_part = true;
		else if (!a.vm && !strchr(w, '='))
			a.vm = w;
		else
			return sb_reply_error("fota: unknown option %s", w);
	}
	return with_client(uid, do_fota, &a);
}

static char *do_send_text(struct sb_client *c, void *arg)
{
	const char *text = arg;
	size_t len = strlen(text);
	char *line = malloc(len + 2);
	int r;

	memcpy(line, text, len);
	line[len] = '\n';
	r = sb_client_send(c, line, len + 1);
	free(line);
	return r ? sb_reply_error("cannot send to %s", c->uid) : sb_reply_ok();
}

static char *do_kick(struct sb_client *c, void *arg)
{
	sb_client_kick(c);
	return sb_reply_ok();
}

static char *handle(char *line)
{
	char *p = line, *cmd, *uid;

	/* Replies quote uids and file names: bytes that are not UTF-8 would make them invalid JSON. */
	if (!zj_utf8_valid(line, strlen(line)))
		return sb_reply_error("the command is not valid UTF-8");
	cmd = word(&p);
	if (!cmd)
		return sb_reply_error("empty command");
	if (strcmp(cmd, "list") == 0)
		return cmd_list();
	if (strcmp(cmd, "quit") == 0)
		return sb_reply_ok(); /* the caller exits after sending this reply */
	if (strcmp(cmd, "call") == 0)
		return cmd_call(p);
	if (strcmp(cmd, "fota") == 0)
		return cmd_fota(p);
	uid = word(&p);
	if (!uid)
		return sb_reply_error("%s: UID missing", cmd);
	if (strcmp(cmd, "wait") == 0)
		return cmd_wait(uid, word(&p));
	if (strcmp(cmd, "terminate") == 0)
		return with_client(uid, do_send_text, (void *)"{\"terminate\":true}");
	if (strcmp(cmd, "kick") == 0)
		return with_client(uid, do_kick, NULL);
	if (strcmp(cmd, "raw") == 0)
		return with_client(uid, do_send_text, rest(&p));
	if (strcmp(cmd, "longline") == 0) {
		char *n = word(&p);
		long long len;
		char *text, *r;

		if (!n || !parse_ll(n, 16, 1 << 26, &len))
			return sb_reply_error("usage: longline UID BYTES (16 .. 64 MiB)");
		/* A valid JSON object of exactly len bytes: {"x":"aaa...a"} */
		text = malloc((size_t)len + 1);
		memset(text, 'a', (size_t)len);
		memcpy(text, "{\"x\":\"", 6);
		memcpy(text + len - 2, "\"}", 2);
		text[len] = '\0';
		r = with_client(uid, do_send_text, text);
		free(text);
		return r;
	}
	return sb_reply_error("unknown command %s (list, wait, call, fota, terminate, kick, raw, longline, quit)", cmd);
}

/* NULL when the peer may use the control interface, else the reply that says why not. The socket is
 * 0600, but its directory or a chmod may open it up: the peer's uid is checked as well. */
static char *peer_refusal(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		sb_log("control connection refused: cannot tell its uid: %s", strerror(errno));
		return sb_reply_error("permission denied: cannot tell your uid");
	}
	if (cr.uid == geteuid() || cr.uid == 0)
		return NULL;
	sb_log("control connection from uid %u refused (not uid %u nor root)", (unsigned int)cr.uid,
	       (unsigned int)geteuid());
	return sb_reply_error("permission denied: uid %u is neither the sandbox's user nor root", (unsigned int)cr.uid);
}

void *sb_control_main(void *arg)
{
	struct sb_io io = { .fd = (int)(long)arg, .max = 1 << 20 };
	char *line, *refusal = peer_refusal(io.fd);

	if (refusal) {
		/* Read its command first (a second at most), so the reply is not lost to a reset. */
		sb_io_read_line(&io, sb_now_ms() + 1000, &line);
		sb_io_write(&io, refusal, strlen(refusal));
		free(refusal);
		goto out;
	}
	while (sb_io_read_line(&io, -1, &line) == 0) {
		bool quit = strcmp(line, "quit") == 0;
		char *reply = handle(line);

		if (!reply || sb_io_write(&io, reply, strlen(reply)) < 0) {
			free(reply);
			break;
		}
		free(reply);
		if (quit)
			(void)!write(sb_quit_fd, "q", 1);
	}
out:
	close(io.fd);
	free(io.buf);
	pthread_mutex_lock(&sb.lock);
	sb.nctl--;
	pthread_mutex_unlock(&sb.lock);
	return NULL;
}

int sb_control_client(const char *path, int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct sb_io io = { .max = 1 << 26 };
	size_t len = 0;
	char *cmd, *reply;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "zadm-sandbox: control socket path too long: %s\n", path);
		return 2;
	}
	strcpy(sa.sun_path, path);
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if (!len) {
		fprintf(stderr, "zadm-sandbox: --ctl needs a command (try --help)\n");
		return 2;
	}
	cmd = calloc(1, len + 1);
	for (int i = 0; i < argc; i++) {
		strcat(cmd, argv[i]);
		strcat(cmd, i + 1 < argc ? " " : "\n");
	}
	io.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (io.fd < 0 || connect(io.fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "zadm-sandbox: cannot connect to the control socket %s: %s\n", path,
			strerror(errno));
		if (io.fd >= 0)
			close(io.fd);
		free(cmd);
		return 1;
	}
	/* A sandbox that refuses the connection may have answered and closed before the command was
	 * written: its reply is still there to read. */
	(void)sb_io_write(&io, cmd, strlen(cmd));
	if (sb_io_read_line(&io, -1, &reply) != 0) {
		fprintf(stderr, "zadm-sandbox: the sandbox closed the control connection\n");
		free(cmd);
		free(io.buf);
		close(io.fd);
		return 1;
	}
	printf("%s\n", reply);
	{
		yajl_val v = zj_parse(reply, NULL, 0);
		yajl_val ok = zj_get(v, "ok");

		r = ok && ok->type == yajl_t_true ? 0 : 1;
		yajl_tree_free(v);
	}
	free(cmd);
	free(io.buf);
	close(io.fd);
	return r;
}
