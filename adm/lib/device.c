/* device.c: the device object: options, threads, send queue, session life cycle and reconnection. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* RETN and OTA lines waiting to be written: the worker waits for the writer beyond this. */
#define ZADM_INTERNAL_MAX 1024
/* CALL and OTA messages waiting for the worker: the reader waits for the worker beyond this. With the
 * reader's buffer (max_line) these bound what a server can make a device hold, however fast it sends. */
#define ZADM_JOBS_MAX 64

ZADM_API void zadm_options_init(zadm_options *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->port = 12345;
	opts->heartbeat = 60;
	opts->loglevel = ZADM_LOG_WARN;
	opts->max_line = 65536;
	opts->send_queue_max = 64;
	opts->reconnect_min_ms = 1000;
	opts->reconnect_max_ms = 60000;
	opts->timeout_ms = 10000;
}

static bool utf8_ok(const char *s)
{
	return !s || zj_utf8_valid(s, strlen(s));
}

static char *dup_opt(const char *s, bool *oom)
{
	char *r;

	if (!s)
		return NULL;
	r = strdup(s);
	if (!r)
		*oom = true;
	return r;
}

static void device_destroy(zadm_device *dev)
{
	if (dev->rpc)
		for (size_t i = 0; i < dev->n_rpc; i++)
			free((char *)dev->rpc[i].name);
	free(dev->rpc);
	if (dev->cred)
		gnutls_certificate_free_credentials(dev->cred);
	if (dev->wake[0] >= 0) {
		close(dev->wake[0]);
		close(dev->wake[1]);
	}
	free(dev->uid);
	if (dev->token) {
		/* Not left behind in freed heap memory. */
		memset(dev->token, 0, strlen(dev->token));
		free(dev->token);
	}
	free(dev->ip);
	free(dev->address);
	free(dev->platform);
	free(dev->vmuid);
	free(dev->ca_file);
	free(dev->server_name);
	pthread_mutex_destroy(&dev->lock);
	pthread_mutex_destroy(&dev->rl_lock);
	pthread_cond_destroy(&dev->cond);
	free(dev);
}

ZADM_API int zadm_device_new(const char *uid, const char *token, const zadm_options *opts,
			     zadm_device **ret_dev)
{
	zadm_device *dev;
	pthread_condattr_t ca;
	bool oom = false;
	int r;

	if (!uid || !*uid || !token || !*token || !opts || !ret_dev)
		return ZADM_ERR_ARG;
	if ((!opts->ip || !*opts->ip) && (!opts->address || !*opts->address))
		return ZADM_ERR_ARG;
	/* They go into every login line: strict UTF-8 or the line could not be generated. */
	if (!utf8_ok(uid) || !utf8_ok(token) || !utf8_ok(opts->platform) || !utf8_ok(opts->vmuid))
		return ZADM_ERR_ARG;
	/* Upper bounds keep the millisecond products and the int conversions for poll() exact. */
	if (opts->port == 0 || opts->port > 65535 || opts->heartbeat == 0 || opts->heartbeat > ZADM_HEARTBEAT_MAX ||
	    opts->max_line < 64 || opts->max_line > ZADM_MAX_LINE_MAX || opts->send_queue_max == 0 ||
	    (opts->n_rpc && !opts->rpc) || opts->timeout_ms == 0 || opts->timeout_ms > ZADM_TIMEOUT_MS_MAX ||
	    opts->reconnect_min_ms == 0 || opts->reconnect_max_ms < opts->reconnect_min_ms ||
	    opts->reconnect_max_ms > ZADM_RECONNECT_MS_MAX)
		return ZADM_ERR_ARG;
	for (size_t i = 0; i < opts->n_rpc; i++)
		if (!opts->rpc[i].name || !*opts->rpc[i].name || !opts->rpc[i].fn)
			return ZADM_ERR_ARG;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return ZADM_ERR_NOMEM;
	dev->wake[0] = dev->wake[1] = -1;
	dev->cfd = -1;
	pthread_mutex_init(&dev->lock, NULL);
	pthread_mutex_init(&dev->rl_lock, NULL);
	/* Timed waits use the monotonic clock: a wall clock step must not stall the heartbeat. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dev->cond, &ca);
	pthread_condattr_destroy(&ca);
	dev->opts = *opts;
	dev->uid = dup_opt(uid, &oom);
	dev->token = dup_opt(token, &oom);
	dev->ip = opts->ip && *opts->ip ? dup_opt(opts->ip, &oom) : NULL;
	dev->address = opts->address && *opts->address ? dup_opt(opts->address, &oom) : NULL;
	dev->platform = dup_opt(opts->platform ? opts->platform : "", &oom);
	dev->vmuid = dup_opt(opts->vmuid ? opts->vmuid : "", &oom);
	dev->ca_file = dup_opt(opts->tls.ca_file, &oom);
	dev->server_name = dup_opt(opts->tls.server_name, &oom);
	dev->opts.ip = dev->ip;
	dev->opts.address = dev->address;
	dev->opts.platform = dev->platform;
	dev->opts.vmuid = dev->vmuid;
	dev->opts.tls.ca_file = dev->ca_file;
	dev->opts.tls.server_name = dev->server_name;
	dev->opts.rpc = NULL;
	if (opts->n_rpc) {
		dev->rpc = calloc(opts->n_rpc, sizeof(*dev->rpc));
		if (!dev->rpc)
			oom = true;
		for (size_t i = 0; dev->rpc && i < opts->n_rpc; i++) {
			dev->rpc[i] = opts->rpc[i];
			dev->rpc[i].name = dup_opt(opts->rpc[i].name, &oom);
			dev->n_rpc = i + 1;
		}
	}
	dev->logger.fn = opts->log;
	dev->logger.userdata = opts->log_userdata;
	dev->logger.level = getenv("ZADM_DEBUG") ? ZADM_LOG_DBG : opts->loglevel;
	dev->hb = opts->heartbeat;
	dev->rng = (unsigned int)time(NULL) ^ ((unsigned int)getpid() << 16) ^ (unsigned int)(size_t)dev;
	if (oom || pipe2(dev->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = oom ? ZADM_ERR_NOMEM : ZADM_ERR_IO;
		goto fail;
	}
	if (opts->tls.enable) {
		r = zadm_tls_cred_new(dev, &dev->cred);
		if (r)
			goto fail;
	}
	if (opts->fota_store)
		zadm_fota_refresh_record(dev);
	*ret_dev = dev;
	return ZADM_OK;
fail:
	device_destroy(dev);
	return r;
}

/* ---- queues (called with dev->lock held unless said otherwise) ---- */

static void msg_free(struct zadm_msg *m)
{
	free(m->line);
	free(m);
}

static void job_free(struct zadm_job *j)
{
	yajl_tree_free(j->msg);
	free(j);
}

static void queues_purge(zadm_device *dev)
{
	while (dev->qhead) {
		struct zadm_msg *m = dev->qhead;

		dev->qhead = m->next;
		msg_free(m);
	}
	dev->qtail = NULL;
	dev->quser = dev->qinternal = 0;
	while (dev->jhead) {
		struct zadm_job *j = dev->jhead;

		dev->jhead = j->next;
		job_free(j);
	}
	dev->jtail = NULL;
	dev->njobs = 0;
}

static void queue_append(zadm_device *dev, struct zadm_msg *m)
{
	if (dev->qtail)
		dev->qtail->next = m;
	else
		dev->qhead = m;
	dev->qtail = m;
	if (m->user)
		dev->quser++;
	else
		dev->qinternal++;
	pthread_cond_broadcast(&dev->cond);
}

/* The first message that may go out on the current session; stale ones are dropped on the way. */
static struct zadm_msg *queue_pop(zadm_device *dev)
{
	while (dev->qhead) {
		struct zadm_msg *m = dev->qhead;

		dev->qhead = m->next;
		if (!dev->qhead)
			dev->qtail = NULL;
		if (m->user)
			dev->quser--;
		else
			dev->qinternal--;
		if (dev->flow_waiters)
			pthread_cond_broadcast(&dev->cond); /* room for push_internal, or finish_jobs */
		if (!m->gen || m->gen == dev->gen)
			return m;
		msg_free(m);
	}
	return NULL;
}

/* At the end of a session: its replies can no longer go out; user messages wait for the next one. */
static void queue_drop_session(zadm_device *dev)
{
	struct zadm_msg **pp = &dev->qhead;

	dev->qtail = NULL;
	while (*pp) {
		struct zadm_msg *m = *pp;

		if (m->gen) {
			*pp = m->next;
			dev->qinternal--;
			msg_free(m);
		} else {
			dev->qtail = m;
			pp = &m->next;
		}
	}
	pthread_cond_broadcast(&dev->cond);
}

/* Wait (dev->lock held) for a change that a flow-controlled wait needs to see: the threads that free room
 * in a queue or finish a job wake the others only while someone waits here, so that the common path
 * (nothing full) wakes no more threads than it needs. */
static void flow_wait(zadm_device *dev)
{
	dev->flow_waiters++;
	pthread_cond_wait(&dev->cond, &dev->lock);
	dev->flow_waiters--;
}

/* Is session gen the current one, logged in and not being shut down? */
static bool session_live(zadm_device *dev, unsigned int gen)
{
	return dev->conn && dev->gen == gen && dev->shut_gen != gen;
}

/* End the current session: its socket is shut down (the reader sees the end) and whoever waits on the
 * session's behalf gives up. */
static void session_shut(zadm_device *dev)
{
	if (!dev->conn)
		return;
	zadm_conn_shutdown(dev->conn);
	dev->shut_gen = dev->gen;
	pthread_cond_broadcast(&dev->cond);
}

void zadm_device_push_internal(zadm_device *dev, char *line, size_t len, unsigned int gen)
{
	struct zadm_msg *m;
	bool flood = false;

	if (!line)
		return;
	m = calloc(1, sizeof(*m));
	if (!m) {
		free(line);
		zadm_err(dev, "out of memory: a reply to the server was dropped");
		return;
	}
	m->line = line;
	m->len = len;
	m->gen = gen;
	pthread_mutex_lock(&dev->lock);
	/* The worker waits for the writer. In low_res mode one thread does both, and it writes what waits
	 * before it runs the next job, so the queue cannot fill; nor can it without threads (the fuzzer). */
	while (dev->started && !dev->opts.low_res && !dev->stopping && session_live(dev, gen) &&
	       dev->qinternal >= ZADM_INTERNAL_MAX)
		flow_wait(dev);
	if (!session_live(dev, gen) || dev->stopping) {
		msg_free(m); /* its session is over: the reply can never go out */
	} else if (dev->qinternal >= ZADM_INTERNAL_MAX) {
		flood = true;
		msg_free(m);
		session_shut(dev);
	} else {
		queue_append(dev, m);
	}
	pthread_mutex_unlock(&dev->lock);
	if (flood)
		zadm_err(dev, "more than %d replies waiting to be sent; closing the connection", ZADM_INTERNAL_MAX);
}

void zadm_device_drop_session(zadm_device *dev, unsigned int gen, bool restart_now)
{
	pthread_mutex_lock(&dev->lock);
	if (dev->conn && (!gen || gen == dev->gen)) {
		if (restart_now)
			dev->restart_now = true;
		session_shut(dev);
	}
	pthread_mutex_unlock(&dev->lock);
}

bool zadm_device_session_is(zadm_device *dev, unsigned int gen)
{
	bool r;

	pthread_mutex_lock(&dev->lock);
	r = dev->conn && dev->gen == gen;
	pthread_mutex_unlock(&dev->lock);
	return r;
}

int zadm_device_push_job(zadm_device *dev, int type, yajl_val msg, unsigned int gen)
{
	struct zadm_job *j = calloc(1, sizeof(*j));

	if (!j) {
		yajl_tree_free(msg);
		return ZADM_ERR_NOMEM;
	}
	j->type = type;
	j->gen = gen;
	j->msg = msg;
	pthread_mutex_lock(&dev->lock);
	/* Back-pressure: the reader takes no more lines off the socket until the worker frees a slot. The
	 * writer is another thread, so heartbeats and replies still go out meanwhile. */
	while (dev->started && dev->njobs >= ZADM_JOBS_MAX && !dev->stopping && session_live(dev, gen))
		flow_wait(dev);
	if (dev->njobs >= ZADM_JOBS_MAX || dev->stopping || (dev->started && !session_live(dev, gen))) {
		pthread_mutex_unlock(&dev->lock);
		job_free(j);
		return ZADM_ERR_IO;
	}
	if (dev->jtail)
		dev->jtail->next = j;
	else
		dev->jhead = j;
	dev->jtail = j;
	dev->njobs++;
	pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);
	return ZADM_OK;
}

void zadm_device_finish_jobs(zadm_device *dev, unsigned int gen)
{
	pthread_mutex_lock(&dev->lock);
	/* Jobs run in order and each queues its replies before the next starts: once none waits or runs
	 * and no reply waits or is being written, everything the session asked for has been answered. */
	while (dev->started && !dev->stopping && session_live(dev, gen) &&
	       (dev->njobs || dev->job_running || dev->qinternal || dev->writing))
		flow_wait(dev);
	pthread_mutex_unlock(&dev->lock);
}

/* ---- the threads ---- */

static void deadline_after(struct timespec *ts, unsigned int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static bool deadline_passed(const struct timespec *ts)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > ts->tv_sec || (now.tv_sec == ts->tv_sec && now.tv_nsec >= ts->tv_nsec);
}

static int login(zadm_device *dev, zadm_conn *c, unsigned int *ret_htbm)
{
	size_t len;
	char *line = zadm_proto_login(dev, &len), *reply;
	int r;

	if (!line)
		return ZADM_ERR_NOMEM;
	r = zadm_conn_write(c, line, len);
	memset(line, 0, len); /* the token */
	free(line);
	if (r) {
		zadm_warn(dev, "login: cannot send to the server");
		return r;
	}
	r = zadm_conn_read_line(dev, c, (int)dev->opts.timeout_ms, &reply);
	if (r == 1) {
		zadm_warn(dev, "login: no reply from the server within %u ms", dev->opts.timeout_ms);
		return ZADM_ERR_IO;
	}
	if (r) {
		if (r == ZADM_ERR_IO)
			zadm_warn(dev, "login: the server closed the connection");
		return r;
	}
	return zadm_proto_login_reply(dev, reply, ret_htbm);
}

static void *reader_main(void *arg)
{
	zadm_device *dev = arg;
	unsigned int base = dev->opts.reconnect_min_ms;

	pthread_mutex_lock(&dev->lock);
	while (!dev->stopping) {
		zadm_conn *c = NULL;
		unsigned int htbm = 0, gen, delay;
		struct timespec until;
		int r;

		pthread_mutex_unlock(&dev->lock);
		r = zadm_conn_open(dev, &c);
		if (!r)
			r = login(dev, c, &htbm);
		pthread_mutex_lock(&dev->lock);
		dev->cfd = -1;
		if (!r && !dev->stopping) {
			dev->conn = c;
			gen = ++dev->gen;
			dev->hb = htbm ? htbm : dev->opts.heartbeat;
			pthread_cond_broadcast(&dev->cond);
			pthread_mutex_unlock(&dev->lock);
			zadm_info(dev, "logged in as %s, heartbeat %u s%s", dev->uid, htbm ? htbm : dev->opts.heartbeat,
				  htbm ? " (imposed by the server)" : "");
			if (dev->opts.fota_store)
				zadm_device_push_job(dev, ZADM_JOB_ACCEPT, NULL, gen);
			base = dev->opts.reconnect_min_ms;
			for (;;) {
				char *line;

				r = zadm_conn_read_line(dev, c, -1, &line);
				if (r || zadm_proto_dispatch(dev, line, gen))
					break;
			}
			pthread_mutex_lock(&dev->lock);
			dev->conn = NULL;
			zadm_conn_shutdown(c);
			pthread_cond_broadcast(&dev->cond); /* whoever waits for this session gives up */
			while (dev->writing)
				pthread_cond_wait(&dev->cond, &dev->lock);
			queue_drop_session(dev);
			pthread_mutex_unlock(&dev->lock);
			zadm_conn_close(c);
			zadm_log_limited_flush(dev);
			if (!dev->stopping)
				zadm_info(dev, "disconnected");
			pthread_mutex_lock(&dev->lock);
		} else {
			pthread_mutex_unlock(&dev->lock);
			zadm_conn_close(c);
			pthread_mutex_lock(&dev->lock);
		}
		if (dev->stopping)
			break;
		if (dev->restart_now) {
			dev->restart_now = false;
			continue;
		}
		/* Exponential backoff with jitter (half to all of the current step), so that many devices
		 * dropped together do not come back in lock step. */
		delay = base / 2 + (unsigned int)(rand_r(&dev->rng) % (base / 2 + 1));
		base = base > dev->opts.reconnect_max_ms / 2 ? dev->opts.reconnect_max_ms : base * 2;
		pthread_mutex_unlock(&dev->lock);
		zadm_info(dev, "reconnecting in %u ms", delay);
		deadline_after(&until, delay);
		pthread_mutex_lock(&dev->lock);
		while (!dev->stopping && !dev->restart_now &&
		       pthread_cond_timedwait(&dev->cond, &dev->lock, &until) != ETIMEDOUT)
			;
		dev->restart_now = false;
	}
	pthread_mutex_unlock(&dev->lock);
	return NULL;
}

/* Write one line on the current session; called and returns with dev->lock held. */
static void write_locked(zadm_device *dev, const char *line, size_t len, const char *what)
{
	zadm_conn *c = dev->conn;
	int r;

	dev->writing = true;
	pthread_mutex_unlock(&dev->lock);
	r = zadm_conn_write(c, line, len);
	if (r)
		zadm_warn(dev, "cannot send %s: connection lost", what);
	pthread_mutex_lock(&dev->lock);
	dev->writing = false;
	if (r && dev->conn == c)
		session_shut(dev);
	pthread_cond_broadcast(&dev->cond);
}

struct zadm_job *zadm_device_next_job(zadm_device *dev)
{
	struct zadm_job *j = dev->jhead;

	if (!j)
		return NULL;
	dev->jhead = j->next;
	if (!dev->jhead)
		dev->jtail = NULL;
	dev->njobs--;
	if (dev->flow_waiters)
		pthread_cond_broadcast(&dev->cond); /* room for the reader */
	return j;
}

void zadm_device_run_job(zadm_device *dev, struct zadm_job *j)
{
	switch (j->type) {
	case ZADM_JOB_CALL:
		zadm_rpc_run(dev, j);
		break;
	case ZADM_JOB_OTA:
		zadm_fota_run(dev, j);
		break;
	case ZADM_JOB_ACCEPT:
		zadm_fota_accept(dev);
		break;
	}
	job_free(j);
}

/* The writer (do_send), the worker (do_jobs), or in low_res mode one thread doing both: then the
 * heartbeat and whatever waits to be written go before the next job, so replies never pile up. */
static void service(zadm_device *dev, bool do_send, bool do_jobs)
{
	unsigned int hb_gen = 0;
	struct timespec next_hb = { 0, 0 };
	size_t hblen;
	char *hbline = zadm_proto_htbm(&hblen);

	pthread_mutex_lock(&dev->lock);
	while (!dev->stopping) {
		bool can_send = do_send && dev->conn && !dev->writing && dev->shut_gen != dev->gen;
		struct zadm_msg *m;

		if (can_send) {
			if (hb_gen != dev->gen) {
				hb_gen = dev->gen;
				deadline_after(&next_hb, dev->hb * 1000);
			}
			if (deadline_passed(&next_hb)) {
				deadline_after(&next_hb, dev->hb * 1000);
				if (hbline)
					write_locked(dev, hbline, hblen, "heartbeat");
				continue;
			}
			m = queue_pop(dev);
			if (m) {
				write_locked(dev, m->line, m->len, "message");
				msg_free(m);
				continue;
			}
		}
		if (do_jobs && dev->jhead) {
			struct zadm_job *j = zadm_device_next_job(dev);

			dev->job_running = true;
			pthread_mutex_unlock(&dev->lock);
			zadm_device_run_job(dev, j);
			pthread_mutex_lock(&dev->lock);
			dev->job_running = false;
			if (dev->flow_waiters)
				pthread_cond_broadcast(&dev->cond); /* finish_jobs */
			continue;
		}
		if (can_send)
			pthread_cond_timedwait(&dev->cond, &dev->lock, &next_hb);
		else
			pthread_cond_wait(&dev->cond, &dev->lock);
	}
	pthread_mutex_unlock(&dev->lock);
	free(hbline);
}

static void *writer_main(void *arg)
{
	service(arg, true, false);
	return NULL;
}

static void *worker_main(void *arg)
{
	service(arg, false, true);
	return NULL;
}

static void *lowres_main(void *arg)
{
	service(arg, true, true);
	return NULL;
}

static bool own_thread(zadm_device *dev)
{
	pthread_t self = pthread_self();

	return dev->started && (pthread_equal(self, dev->reader) ||
				(dev->have_writer && pthread_equal(self, dev->writer)) ||
				(dev->have_worker && pthread_equal(self, dev->worker)));
}

static void join_threads(zadm_device *dev)
{
	char buf[16];

	pthread_join(dev->reader, NULL);
	if (dev->have_writer)
		pthread_join(dev->writer, NULL);
	if (dev->have_worker)
		pthread_join(dev->worker, NULL);
	pthread_mutex_lock(&dev->lock);
	queues_purge(dev);
	dev->started = dev->stopping = false;
	dev->have_writer = dev->have_worker = false;
	dev->restart_now = false;
	while (read(dev->wake[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_unlock(&dev->lock);
}

ZADM_API int zadm_device_start(zadm_device *dev)
{
	int r;

	if (!dev)
		return ZADM_ERR_ARG;
	pthread_mutex_lock(&dev->lock);
	if (dev->started && (!dev->stopping || own_thread(dev))) {
		pthread_mutex_unlock(&dev->lock);
		return ZADM_ERR_STATE;
	}
	if (dev->started) {
		/* A stop requested from a callback whose threads were never joined. */
		pthread_mutex_unlock(&dev->lock);
		join_threads(dev);
		pthread_mutex_lock(&dev->lock);
	}
	dev->started = true;
	dev->stopping = false;
	r = pthread_create(&dev->reader, NULL, reader_main, dev);
	if (!r) {
		if (dev->opts.low_res) {
			r = pthread_create(&dev->writer, NULL, lowres_main, dev);
			dev->have_writer = !r;
		} else {
			r = pthread_create(&dev->writer, NULL, writer_main, dev);
			dev->have_writer = !r;
			if (!r) {
				r = pthread_create(&dev->worker, NULL, worker_main, dev);
				dev->have_worker = !r;
			}
		}
		if (r) {
			dev->stopping = true;
			pthread_cond_broadcast(&dev->cond);
			(void)!write(dev->wake[1], "x", 1);
			pthread_mutex_unlock(&dev->lock);
			join_threads(dev);
			return ZADM_ERR_NOMEM;
		}
	} else {
		dev->started = false;
	}
	pthread_mutex_unlock(&dev->lock);
	return r ? ZADM_ERR_NOMEM : ZADM_OK;
}

ZADM_API int zadm_device_stop(zadm_device *dev)
{
	bool own;

	if (!dev)
		return ZADM_ERR_ARG;
	pthread_mutex_lock(&dev->lock);
	if (!dev->started) {
		pthread_mutex_unlock(&dev->lock);
		return ZADM_OK;
	}
	if (!dev->stopping) {
		dev->stopping = true;
		(void)!write(dev->wake[1], "x", 1);
		session_shut(dev);
		if (dev->cfd >= 0)
			shutdown(dev->cfd, SHUT_RDWR);
		pthread_cond_broadcast(&dev->cond);
	}
	own = own_thread(dev);
	pthread_mutex_unlock(&dev->lock);
	if (own)
		return ZADM_OK;
	/* One joiner at a time; a second concurrent stop finds the device stopped. */
	static pthread_mutex_t join_lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&join_lock);
	pthread_mutex_lock(&dev->lock);
	bool still = dev->started;
	pthread_mutex_unlock(&dev->lock);
	if (still)
		join_threads(dev);
	pthread_mutex_unlock(&join_lock);
	zadm_log_limited_flush(dev);
	zadm_dbg(dev, "stopped");
	return ZADM_OK;
}

ZADM_API void zadm_device_free(zadm_device *dev)
{
	if (!dev)
		return;
	pthread_mutex_lock(&dev->lock);
	bool own = own_thread(dev);
	pthread_mutex_unlock(&dev->lock);
	if (own) {
		zadm_err(dev, "zadm_device_free() called from a device callback: ignored (the device leaks)");
		return;
	}
	zadm_device_stop(dev);
	pthread_mutex_lock(&dev->lock);
	queues_purge(dev);
	pthread_mutex_unlock(&dev->lock);
	device_destroy(dev);
}

/* ---- sending ---- */

static int push_user(zadm_device *dev, char *line, size_t len)
{
	struct zadm_msg *m;

	if (!line)
		return ZADM_ERR_NOMEM;
	m = calloc(1, sizeof(*m));
	if (!m) {
		free(line);
		return ZADM_ERR_NOMEM;
	}
	m->line = line;
	m->len = len;
	m->user = true;
	pthread_mutex_lock(&dev->lock);
	if (dev->quser >= dev->opts.send_queue_max) {
		pthread_mutex_unlock(&dev->lock);
		msg_free(m);
		return ZADM_ERR_QUEUE_FULL;
	}
	queue_append(dev, m);
	pthread_mutex_unlock(&dev->lock);
	return ZADM_OK;
}

/* Parse json, which must be an object, into a tree; ZADM_ERR_JSON (logged) otherwise. */
static int parse_object(zadm_device *dev, const char *json, const char *what, yajl_val *ret)
{
	char err[256];
	yajl_val v;

	if (!json)
		return ZADM_ERR_ARG;
	v = zj_parse(json, err, sizeof(err));
	if (!v || v->type != yajl_t_object) {
		zadm_warn(dev, "%s: not a JSON object%s%s", what, v ? "" : ": ", v ? "" : err);
		yajl_tree_free(v);
		return ZADM_ERR_JSON;
	}
	*ret = v;
	return ZADM_OK;
}

static int check_len(zadm_device *dev, char *line, size_t len)
{
	if (line && len > dev->opts.max_line) {
		zadm_warn(dev, "message of %zu bytes refused: longer than max_line (%zu)", len,
			  dev->opts.max_line);
		free(line);
		return ZADM_ERR_TOO_LONG;
	}
	return push_user(dev, line, len);
}

/* Queue json, a JSON object, re-generated: as it is (cmd NULL) or as the payload of {"cmd":cmd}. */
static int send_object(zadm_device *dev, const char *json, const char *what, const char *cmd)
{
	yajl_val v;
	size_t len = 0;
	char *line;
	int r;

	if (!dev)
		return ZADM_ERR_ARG;
	r = parse_object(dev, json, what, &v);
	if (r)
		return r;
	if (cmd) {
		line = zadm_proto_cmd_payload(cmd, v, &len);
	} else {
		line = zj_to_text(v);
		if (line) {
			len = strlen(line);
			line[len++] = '\n'; /* zj_to_text leaves room: it came from a '\n'-terminated buffer */
		}
	}
	yajl_tree_free(v);
	return check_len(dev, line, len);
}

ZADM_API int zadm_device_send(zadm_device *dev, const char *json)
{
	return send_object(dev, json, "zadm_device_send", NULL);
}

ZADM_API int zadm_device_send_event(zadm_device *dev, const char *payload_json)
{
	return send_object(dev, payload_json, "zadm_device_send_event", "EVNT");
}

ZADM_API int zadm_device_send_notification(zadm_device *dev, const char *title, const char *text)
{
	size_t len = 0;
	char *line;

	if (!dev || !title || !text)
		return ZADM_ERR_ARG;
	line = zadm_proto_ntfy(title, text, &len);
	if (!line) {
		zadm_warn(dev, "zadm_device_send_notification: title or text is not valid UTF-8");
		return ZADM_ERR_JSON;
	}
	return check_len(dev, line, len);
}

ZADM_API int zadm_device_is_connected(zadm_device *dev)
{
	int r;

	if (!dev)
		return 0;
	pthread_mutex_lock(&dev->lock);
	r = dev->conn != NULL;
	pthread_mutex_unlock(&dev->lock);
	return r;
}

ZADM_API unsigned int zadm_device_get_heartbeat(zadm_device *dev)
{
	unsigned int r;

	if (!dev)
		return 0;
	pthread_mutex_lock(&dev->lock);
	r = dev->hb;
	pthread_mutex_unlock(&dev->lock);
	return r;
}
