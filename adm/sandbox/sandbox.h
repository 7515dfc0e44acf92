/* sandbox.h: what the files of zadm-sandbox share. */
#ifndef ZADM_SANDBOX_H
#define ZADM_SANDBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>

#include "json.h"
#include "wire.h"

struct sb_fota;

struct sb_client {
	struct sb_client *next;
	struct zw_io io;       /* the socket, its TLS session and the line reader */
	pthread_mutex_t wlock; /* one writer at a time on io */
	char peer[80];
	char *uid;             /* set once logged in */
	char *platform, *vmuid; /* as the login gave them (strings only), or NULL */
	bool logged_in, closing;
	unsigned int hb;       /* supervised period, seconds */
	long long bc, vm, chunk; /* chunk 0: none or out of range */
	bool ota, have_slots;
	bool heard;            /* a line came after the login: supervision counts from heartbeats now */
	long long connected_ms, login_ms, last_htbm_ms;
	unsigned long heartbeats, events, notifications;
	int refs;              /* the client thread + control threads using it; under sb.lock */
};

struct sb_call {
	struct sb_call *next;
	long long id;
	struct sb_client *client;
	bool done;
	char *reply; /* control reply line, malloc()ed */
};

/* What a control command asks of an update (zadm-sandbox(1), fota). */
struct sb_fota_req {
	const char *bcfile, *vmfile; /* vmfile NULL: bytecode only */
	long long bc, vm, chunk;     /* bc and vm as given when set_bc / set_vm; chunk 0: the default */
	bool set_bc, set_vm;
	bool bad_crc, bad_part;      /* send a wrong checksum / a VM block in a bytecode-only update */
	bool no_confirm;             /* drop the device at its login after the restart, unconfirmed */
	int timeout_s;
};

enum { SBF_RUNNING, SBF_RESTARTING, SBF_CONFIRMING, SBF_DONE, SBF_FAILED };
struct sb_fota {
	struct sb_fota *next;
	char *uid;
	unsigned char *data[2]; /* bytecode, VM */
	size_t size[2];
	long long bc, vm, chunk;
	bool bad_crc, bad_part, no_confirm, final_crc_sent;
	int state;
	char reason[200];
};

struct sb_server {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sb_client *clients;
	struct sb_call *calls;
	struct sb_fota *fotas;
	long long next_id;
	yajl_val devices; /* NULL: every device accepted */
	gnutls_certificate_credentials_t cred; /* NULL: plain TCP */
	unsigned int htbm;
	size_t max_line;
	int login_timeout_s;     /* TLS handshake and login line, together */
	int login_grace_s;       /* the first deadline after a login is at least this far */
	bool trace;              /* --trace: calls, replies, heartbeats and FOTA steps on stdout */
	unsigned int max_conns;  /* device connections open at once */
	unsigned int nclients;   /* device connections open now (in clients); under lock */
	unsigned int nctl;       /* control connections open now; under lock */
	int verbose;
	pthread_mutex_t out_lock;
};

extern struct sb_server sb;

/* Defaults and limits of the options and control arguments (zadm-sandbox(1)). */
#define SB_LOGIN_TIMEOUT_S 10
#define SB_LOGIN_GRACE_S 10 /* the original library sleeps 5 s after its login before it sends */
#define SB_HTBM_WARN_S 5    /* an --htbm below this is a warning (the same 5 s) */
#define SB_CALL_TIMEOUT_S 10
#define SB_MAX_CONNS 512
#define SB_MAX_CTL 16       /* control connections open at once */
#define SB_WAIT_MAX_S 3600  /* longest wait and fota timeout */
#define SB_CHUNK_MAX (1 << 24)

void sb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print one JSON Lines record on stdout: {"type":type,"uid":uid, then what more() adds (non-zero
 * when a member could not be generated: then nothing is printed)}. */
void sb_print(const char *type, const char *uid, int (*more)(yajl_gen g, void *arg), void *arg);
/* The same, only with --trace (the records of calls, replies, heartbeats and FOTA steps). */
void sb_trace(const char *type, const char *uid, int (*more)(yajl_gen g, void *arg), void *arg);

/* server.c */
/* The members that describe a logged-in device as it logged in (login record, list): heartbeat, ota,
 * bc, vm and chunk when it sent them, platform and vmuid. 0 or non-zero as the yajl calls. */
int sb_gen_device(yajl_gen g, const struct sb_client *c);
void *sb_client_main(void *arg);
int sb_client_send(struct sb_client *c, const char *line, size_t len);
/* The logged-in client with uid, with a reference taken; NULL if none. Under sb.lock. */
struct sb_client *sb_client_find_locked(const char *uid);
void sb_client_unref_locked(struct sb_client *c);
void sb_client_kick(struct sb_client *c);
/* Run a FOTA to its end (control thread); returns the control reply line. */
char *sb_fota_start(struct sb_client *c, const struct sb_fota_req *req);

/* control.c */
void *sb_control_main(void *arg);
int sb_control_client(const char *path, int argc, char **argv);
char *sb_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *sb_reply_ok(void);

#endif
