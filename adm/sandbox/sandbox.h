/* sandbox.h: what the files of zadm-sandbox share. */
#ifndef ZADM_SANDBOX_H
#define ZADM_SANDBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <gnutls/gnutls.h>

#include "json.h"

/* A line reader over a socket, TLS or plain (server side). */
struct sb_io {
	int fd;
	gnutls_session_t tls;
	char *buf;
	size_t start, len, cap, max;
};
/* 0 line, 1 deadline passed, -1 closed or error, -2 line longer than max. deadline_ms is absolute
 * (sb_now_ms), -1 for none: a peer that trickles its bytes gets no more time than one that is silent. */
int sb_io_read_line(struct sb_io *io, long long deadline_ms, char **ret_line);
int sb_io_write(struct sb_io *io, const char *buf, size_t len);

struct sb_fota;

struct sb_client {
	struct sb_client *next;
	struct sb_io io;
	pthread_mutex_t wlock; /* one writer at a time on io */
	char peer[80];
	char *uid;             /* set once logged in */
	bool logged_in, closing;
	unsigned int hb;       /* supervised period, seconds */
	long long bc, vm, chunk;
	bool ota, have_slots;
	long long connected_ms, last_htbm_ms;
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

enum { SBF_RUNNING, SBF_RESTARTING, SBF_CONFIRMING, SBF_DONE, SBF_FAILED };
struct sb_fota {
	struct sb_fota *next;
	char *uid;
	unsigned char *data[2]; /* bytecode, VM */
	size_t size[2];
	long long bc, vm, chunk;
	bool bad_crc, bad_part, final_crc_sent;
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
	unsigned int max_conns;  /* device connections open at once */
	unsigned int nclients;   /* device connections open now (in clients); under lock */
	unsigned int nctl;       /* control connections open now; under lock */
	int verbose;
	pthread_mutex_t out_lock;
};

extern struct sb_server sb;

/* Defaults and limits of the options and control arguments (zadm-sandbox(1)). */
#define SB_LOGIN_TIMEOUT_S 10
#define SB_MAX_CONNS 512
#define SB_MAX_CTL 16       /* control connections open at once */
#define SB_WAIT_MAX_S 3600  /* longest wait and fota timeout */
#define SB_CHUNK_MAX (1 << 24)

long long sb_now_ms(void);
void sb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print one JSON Lines record on stdout: {"type":type,"uid":uid, then what more() adds (non-zero
 * when a member could not be generated: then nothing is printed)}. */
void sb_print(const char *type, const char *uid, int (*more)(yajl_gen g, void *arg), void *arg);

/* server.c */
void *sb_client_main(void *arg);
int sb_client_send(struct sb_client *c, const char *line, size_t len);
/* The logged-in client with uid, with a reference taken; NULL if none. Under sb.lock. */
struct sb_client *sb_client_find_locked(const char *uid);
void sb_client_unref_locked(struct sb_client *c);
void sb_client_kick(struct sb_client *c);
/* Start a FOTA (control thread); returns the control reply line. */
char *sb_fota_start(struct sb_client *c, const char *bcfile, const char *vmfile, long long bc,
		    long long vm, long long chunk, bool bad_crc, bool bad_part, int timeout_s);

/* control.c */
void *sb_control_main(void *arg);
int sb_control_client(const char *path, int argc, char **argv);
char *sb_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *sb_reply_ok(void);

#endif
