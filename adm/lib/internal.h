/* internal.h: what the files of libzadm share and nothing outside libzadm sees. */
#ifndef ZADM_INTERNAL_H
#define ZADM_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>
#include <yajl/yajl_tree.h>

#include "zadm/zadm.h"
#include "json.h"
#include "wire.h"

#define ZADM_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- log.c ---- */
struct zadm_logger {
	zadm_log_fn fn;
	void *userdata;
	int level;
};
void zadm_log(const struct zadm_logger *lg, int level, const char *fmt, ...) ZADM_PRINTF(3, 4);
#define zadm_err(dev, ...) zadm_log(&(dev)->logger, ZADM_LOG_ERR, __VA_ARGS__)
#define zadm_warn(dev, ...) zadm_log(&(dev)->logger, ZADM_LOG_WARN, __VA_ARGS__)
#define zadm_info(dev, ...) zadm_log(&(dev)->logger, ZADM_LOG_INFO, __VA_ARGS__)
#define zadm_dbg(dev, ...) zadm_log(&(dev)->logger, ZADM_LOG_DBG, __VA_ARGS__)

/* Warnings a server can trigger once per line it sends: logged at most once per ZADM_RL_INTERVAL_MS
 * each, the others counted and reported in one line ("ignored 1234 more malformed lines from the
 * server in the last 1 s"), so that a flood of bad lines cannot flood the application's log. */
enum zadm_rl_kind {
	ZADM_RL_MALFORMED,  /* lines that are not a JSON object */
	ZADM_RL_RPC,        /* CALLs answered with an error (unknown method, bad args or result) */
	ZADM_RL_FOTA,       /* OTA messages answered with ko */
	ZADM_RL_COUNT
};
#define ZADM_RL_INTERVAL_MS 1000
struct zadm_ratelimit {
	long long start_ms;       /* when the current interval began, 0: none */
	unsigned long suppressed; /* messages not logged in it */
};
struct zadm_device;
void zadm_log_limited(struct zadm_device *dev, int kind, int level, const char *fmt, ...) ZADM_PRINTF(4, 5);
/* Report the counts still pending (end of a session, stop). */
void zadm_log_limited_flush(struct zadm_device *dev);

/* ---- conn.c: one TCP (optionally TLS) connection carrying JSON lines ---- */
/* Wait for events on fd, or the device's stop. 1 ready, 0 timeout, -1 stop or error. */
int zadm_wait_fd(struct zadm_device *dev, int fd, short events, int timeout_ms);
typedef struct zadm_conn zadm_conn;
struct zadm_device;
/* Resolve, connect (bounded by timeout_ms and by the device's stop), TLS handshake when enabled. */
int zadm_conn_open(struct zadm_device *dev, zadm_conn **ret_conn);
/* A plain connection over fd, already connected (a socketpair: the ADM line fuzzer); takes fd. */
int zadm_conn_from_fd(struct zadm_device *dev, int fd, zadm_conn **ret_conn);
/* Write all of buf. */
int zadm_conn_write(zadm_conn *c, const char *buf, size_t len);
/* Next line (without '\n', NUL-terminated, owned by c until the next read). timeout_ms bounds the
 * whole call, however the bytes trickle in; < 0 waits forever. Returns 0, ZADM_ERR_IO
 * (closed/error/stop; *ret_line NULL and errno-like detail logged), ZADM_ERR_TOO_LONG, or 1 on timeout. */
int zadm_conn_read_line(struct zadm_device *dev, zadm_conn *c, int timeout_ms, char **ret_line);
/* Wake any thread blocked on c (shutdown of the socket); c stays allocated. */
void zadm_conn_shutdown(zadm_conn *c);
void zadm_conn_close(zadm_conn *c);

/* ---- tls.c ---- */
int zadm_tls_cred_new(struct zadm_device *dev, gnutls_certificate_credentials_t *ret_cred);
/* Client session over fd; handshake and verification per the device's TLS options. */
int zadm_tls_session_open(struct zadm_device *dev, int fd, const char *host, gnutls_session_t *ret_s);

/* ---- device.c: queues ---- */
struct zadm_msg {
	struct zadm_msg *next;
	char *line;       /* ends in '\n' */
	size_t len;
	unsigned int gen; /* 0: any session (user messages); else only the session that produced it */
	bool user;        /* counts against send_queue_max */
};

enum zadm_job_type { ZADM_JOB_CALL, ZADM_JOB_OTA, ZADM_JOB_ACCEPT };
struct zadm_job {
	struct zadm_job *next;
	int type;
	unsigned int gen;
	yajl_val msg; /* owned by the job */
};

/* FOTA state, touched by the worker thread only (fota.c). */
struct zadm_fota_state {
	unsigned int gen;  /* session the update belongs to */
	int active;        /* 0 idle, 'b' or 'v': the part being received */
	unsigned int chunk;
	long long bcsize, vmsize;
	int bc, vm;
	long long block;    /* never beyond size / chunk: asked for only while bytes are missing */
	long long received;
};

struct zadm_fota_store {
	const zadm_fota_store_ops *ops;
	void *userdata;
	int nslots;      /* slots 0 .. nslots-1 of each kind exist */
	size_t max_size; /* bytes a slot holds */
	/* The file store's own refusal of the slots it must keep (running, fallback); NULL for others. */
	bool (*is_protected)(void *userdata, int kind, int slot);
};
/* May an update erase and write slot of kind with size bytes? Checked on the server's numbers as
 * they came, before any conversion: 0 <= slot < nslots, 0 <= size <= max_size, not the running slot
 * of running (when valid), not a slot the store protects. ZADM_OK or ZADM_ERR_SLOT. */
int zadm_fota_store_check(const zadm_fota_store *st, const zadm_fota_record *running, int kind, long long slot,
			  long long size);

struct zadm_device {
	char *uid, *token, *ip, *address, *platform, *vmuid, *ca_file, *server_name;
	zadm_options opts; /* string fields point at the copies above */
	zadm_rpc *rpc;
	size_t n_rpc;
	struct zadm_logger logger;
	gnutls_certificate_credentials_t cred;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* any state change: queue, jobs, connection, stop, writer idle */
	int wake[2];         /* readable once stop is requested: interrupts poll() in connect/read */
	bool started, stopping;
	pthread_t reader, writer, worker;
	bool have_writer, have_worker;

	int cfd;             /* socket being set up (handshake, login), -1 otherwise */
	zadm_conn *conn;     /* set while logged in; freed by the reader only */
	unsigned int gen;    /* session counter, +1 per login */
	unsigned int shut_gen; /* the session whose socket was shut down (it ends; nothing more is queued) */
	bool writing;        /* the writer is using conn outside the lock */
	bool job_running;    /* the worker is running a job outside the lock */
	unsigned int flow_waiters; /* threads waiting for room in a queue or for the jobs to be done */
	bool restart_now;    /* skip the backoff once (after FOTA or terminate) */
	unsigned int hb;     /* period in use, seconds */

	struct zadm_msg *qhead, *qtail;
	size_t quser, qinternal;
	struct zadm_job *jhead, *jtail;
	size_t njobs;

	pthread_mutex_t rl_lock; /* the rate limiters; taken alone, never with lock */
	struct zadm_ratelimit rl[ZADM_RL_COUNT];

	zadm_fota_record rec; /* cached running record, for the login line */
	struct zadm_fota_state fota;
	unsigned int rng;
};

/* Queue a protocol line built by the library (RETN, OTA) for session gen; takes ownership of line.
 * Dropped when that session is over. While ZADM_INTERNAL_MAX lines wait the worker waits for the
 * writer: the whole chain is flow-controlled back to the socket the reader stops reading. */
void zadm_device_push_internal(struct zadm_device *dev, char *line, size_t len, unsigned int gen);
/* Close the current session if it is still gen (0: whatever session), optionally restarting at once. */
void zadm_device_drop_session(struct zadm_device *dev, unsigned int gen, bool restart_now);
bool zadm_device_session_is(struct zadm_device *dev, unsigned int gen);
/* Hand a parsed server message to the worker (reader thread); takes ownership of msg. Flow control, not
 * refusal: while ZADM_JOBS_MAX jobs wait the caller waits for room, and so takes no more lines off the
 * socket (TCP pushes back on the server). ZADM_ERR_IO when the session ended or the device stops
 * meanwhile (msg freed, nothing queued), ZADM_ERR_NOMEM. */
int zadm_device_push_job(struct zadm_device *dev, int type, yajl_val msg, unsigned int gen);
/* Wait until every job session gen queued has run and the replies they queued are written, or the
 * session ends, or the device stops (reader thread, before it ends a session on terminate). */
void zadm_device_finish_jobs(struct zadm_device *dev, unsigned int gen);
/* The worker's two steps, which the fuzz target tests/fuzz/fuzz-adm-lines.c takes too: the next job off
 * the queue (dev->lock held; NULL when there is none), and running it (lock not held), which frees it. */
struct zadm_job *zadm_device_next_job(struct zadm_device *dev);
void zadm_device_run_job(struct zadm_device *dev, struct zadm_job *j);

/* ---- protocol.c ---- */
char *zadm_proto_login(struct zadm_device *dev, size_t *ret_len);
/* 0 accepted (*ret_htbm set to the imposed period or 0), ZADM_ERR on refusal (logged). */
int zadm_proto_login_reply(struct zadm_device *dev, const char *line, unsigned int *ret_htbm);
/* Handle one line from the server in the reader thread; returns 1 when the session must end. */
int zadm_proto_dispatch(struct zadm_device *dev, const char *line, unsigned int gen);
char *zadm_proto_htbm(size_t *ret_len);
char *zadm_proto_cmd_payload(const char *cmd, yajl_val payload, size_t *ret_len);
char *zadm_proto_ntfy(const char *title, const char *text, size_t *ret_len);
/* RETN with id (a parsed value, echoed as it came), and either res (parsed value) or error text. */
char *zadm_proto_retn(yajl_val id, yajl_val res, const char *error, size_t *ret_len);
/* {"cmd":"OTA","payload":{key:n,"t":t}} */
char *zadm_proto_ota_req(const char *key, long long n, const char *t, size_t *ret_len);
char *zadm_proto_ota_ko(const char *reason, size_t *ret_len);
char *zadm_proto_ota_ok(size_t *ret_len);

/* ---- rpc.c / fota.c: run on the worker ---- */
void zadm_rpc_run(struct zadm_device *dev, struct zadm_job *job);
void zadm_fota_run(struct zadm_device *dev, struct zadm_job *job);
void zadm_fota_accept(struct zadm_device *dev);
void zadm_fota_refresh_record(struct zadm_device *dev);

#endif
