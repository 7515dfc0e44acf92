/* zadm.h: public interface of libzadm, the device side of the Zerynth ADM protocol. */
#ifndef ZADM_ZADM_H
#define ZADM_ZADM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(BUILDING_LIBZADM)
#define ZADM_API __attribute__((visibility("default")))
#else
#define ZADM_API
#endif

/* Error codes: 0 is success, failures are negative. Append-only. */
enum zadm_error {
	ZADM_OK = 0,
	ZADM_ERR = -1,            /* generic failure */
	ZADM_ERR_NOMEM = -2,      /* out of memory */
	ZADM_ERR_ARG = -3,        /* invalid argument (NULL, empty uid, bad option value) */
	ZADM_ERR_STATE = -4,      /* not allowed in the current state (already started, stopped) */
	ZADM_ERR_QUEUE_FULL = -5, /* the send queue holds send_queue_max messages; nothing was queued */
	ZADM_ERR_JSON = -6,       /* the text is not the JSON the call expects */
	ZADM_ERR_IO = -7,         /* file or socket I/O */
	ZADM_ERR_TLS = -8,        /* TLS setup, handshake or certificate verification */
	ZADM_ERR_CORRUPT = -9,    /* a FOTA record file is corrupt and was left untouched */
	ZADM_ERR_SLOT = -10,      /* a FOTA slot number or size outside the store's limits */
	ZADM_ERR_TOO_LONG = -11,  /* a message longer than max_line */
};

/* Short description of an error code; a static string, never NULL. */
ZADM_API const char *zadm_strerror(int err);

/* Log levels: higher is more verbose. */
enum zadm_loglevel {
	ZADM_LOG_NONE = 0,
	ZADM_LOG_ERR = 1,
	ZADM_LOG_WARN = 2,
	ZADM_LOG_INFO = 3,
	ZADM_LOG_DBG = 4,
};

/* Receives every message at or below the device's log level, from any of the device's threads,
 * never with an internal lock held (so it may call zadm_device_send*). msg has no trailing newline
 * and is owned by the library, valid during the call only. The library never prints by itself and
 * never logs the token. */
typedef void (*zadm_log_fn)(void *userdata, int level, const char *msg);

typedef struct zadm_device zadm_device;

/* ---- RPC ------------------------------------------------------------------------------------- */

/* An RPC function, called on the device's worker thread (never the thread that reads the socket),
 * one call at a time, in the order the server sent them.
 * args_json: the CALL's "args" as JSON array text ("[]" when absent); owned by the library, valid
 *            during the call only.
 * ret_json:  on success (return 0) the function may set *ret_json to a malloc()ed JSON value text
 *            (any JSON value: object, array, string, number, true, false, null) that becomes the
 *            RETN "res"; NULL means null. On failure (return non-zero) it may set *ret_json to a
 *            malloc()ed plain (non-JSON) error text that becomes the RETN "error"; NULL means
 *            "function failed". Either way the library frees *ret_json with free(). A result that is
 *            not valid JSON is answered with the error "invalid result".
 * The function may call zadm_device_send*() and zadm_device_stop() (the stop is then carried out
 * asynchronously). It must not call zadm_device_free(). */
typedef int (*zadm_rpc_fn)(void *userdata, const char *args_json, char **ret_json);

/* One entry of the RPC table: method name (matched exactly), function, and its userdata. */
typedef struct zadm_rpc {
	const char *name;   /* copied by zadm_device_new() */
	zadm_rpc_fn fn;
	void *userdata;     /* not owned; passed to fn */
} zadm_rpc;

/* ---- FOTA ------------------------------------------------------------------------------------ */

/* Called at the three FOTA decision points, on the worker thread:
 *   0: an update was announced for slots other than the running ones; nothing erased yet (a slot
 *      the store cannot hold is refused right after, with "Bad slots");
 *   1: every part was received and its MD5 matched, the attempt is not recorded yet;
 *   2: the attempt is recorded, the device is about to close the connection and restart.
 * Return 0 to go on, non-zero to stop: the server gets {"ko":1,"reason":"stopped by callback"}.
 * A stop at 2 leaves the attempt recorded: it runs at the next restart, which then must be accepted
 * as usual or is rolled back. */
typedef int (*zadm_fota_fn)(void *userdata, int step);

/* Called after a completed update, on the worker thread, instead of the in-process restart. A real
 * device re-executes itself (or exits so that its supervisor restarts it). If the function returns,
 * the library restarts in-process: it calls the store's boot() and logs in again at once. */
typedef void (*zadm_restart_fn)(void *userdata);

enum zadm_slot_kind {
	ZADM_SLOT_BC = 'b', /* bytecode */
	ZADM_SLOT_VM = 'v', /* virtual machine */
};

/* The FOTA record: which slots run now. valid is 0 when the store has no usable record (then the
 * login carries neither bc, vm nor chunk). */
typedef struct zadm_fota_record {
	int valid;
	int bc;
	int vm;
	unsigned int chunk;
} zadm_fota_record;

/* A FOTA storage backend. Every function returns 0 or a negative zadm_error; all are called from
 * one thread at a time (the device's worker thread, or the caller of zadm_fota_store_*). */
typedef struct zadm_fota_store_ops {
	int (*get_record)(void *userdata, zadm_fota_record *ret_rec);
	/* Make the slot hold size zero bytes (ZADM_ERR_SLOT if slot or size is out of range). */
	int (*erase)(void *userdata, int kind, int slot, size_t size);
	int (*write)(void *userdata, int kind, int slot, size_t offset, const void *buf, size_t len);
	/* Read up to len bytes at offset; *ret_len is the count read (0 at the end). */
	int (*read)(void *userdata, int kind, int slot, size_t offset, void *buf, size_t len,
		    size_t *ret_len);
	/* Record bc and vm as the configuration to try at the next restart; written durably. */
	int (*attempt)(void *userdata, int bc, int vm);
	/* The running configuration works: make it the one to fall back to. */
	int (*accept)(void *userdata);
	/* A (re)start: a pending attempt becomes the running configuration; a configuration that was
	 * tried once and never accepted is rolled back to the last accepted one. */
	int (*boot)(void *userdata);
	/* Release userdata; may be NULL. */
	void (*free)(void *userdata);
} zadm_fota_store_ops;

typedef struct zadm_fota_store zadm_fota_store;

/* A store over caller-provided functions. ops must stay valid until zadm_fota_store_free();
 * userdata is passed to them and released by ops->free. *ret_store set only on success.
 * Its limits start as 2 slots of each kind and ZADM_FOTA_SLOT_SIZE_DEFAULT bytes a slot: see
 * zadm_fota_store_set_limits(). */
ZADM_API int zadm_fota_store_new(const zadm_fota_store_ops *ops, void *userdata,
				  zadm_fota_store **ret_store);

#define ZADM_FOTA_SLOTS_MAX 1000                      /* slots of each kind a store may have */
#define ZADM_FOTA_SLOT_SIZE_DEFAULT ((size_t)64 << 20) /* 64 MiB */

/* What the store holds: slots 0 .. nslots-1 of each kind (1 .. ZADM_FOTA_SLOTS_MAX), each up to
 * max_slot_size bytes (> 0). Every slot number and size a server announces is checked against these
 * before the store's functions see it, as is the running slot (get_record): an update naming another
 * slot, or a bigger size, is refused with "Bad slots" and nothing is erased. The file store sets them
 * from its own arguments. ZADM_ERR_ARG on a bad value. */
ZADM_API int zadm_fota_store_set_limits(zadm_fota_store *store, int nslots, size_t max_slot_size);

/* The file-backed store: slots are the files bc<N>.bin and vm<N>.bin in dir (N < nslots, nslots
 * 0 meaning 2, at most ZADM_FOTA_SLOTS_MAX), the record is dir/record.json, replaced atomically (temp
 * file, fsync, rename). A missing record starts as bc 0, vm 0, accepted. Opening the store is a boot:
 * it calls boot() once, so a process that restarts re-opens the store and gets attempt/rollback right.
 * Its erase() and write() refuse (ZADM_ERR_SLOT), whoever calls them, the running slots and the ones
 * a rollback would return to; a pending attempt's slots may be written again.
 * max_slot_size 0 means ZADM_FOTA_SLOT_SIZE_DEFAULT. dir is copied; it must exist.
 * Fails with ZADM_ERR_CORRUPT (record unreadable, left untouched) or ZADM_ERR_IO. */
ZADM_API int zadm_fota_store_file_new(const char *dir, int nslots, size_t max_slot_size,
				       zadm_fota_store **ret_store);

/* Accepts NULL. A store must not be freed while a device that uses it exists. */
ZADM_API void zadm_fota_store_free(zadm_fota_store *store);

/* Direct access, for programs and tests; the same semantics as the ops. Not to be called while a
 * started device uses the store. */
ZADM_API int zadm_fota_store_get_record(zadm_fota_store *store, zadm_fota_record *ret_rec);
ZADM_API int zadm_fota_store_attempt(zadm_fota_store *store, int bc, int vm);
ZADM_API int zadm_fota_store_accept(zadm_fota_store *store);
ZADM_API int zadm_fota_store_boot(zadm_fota_store *store);

/* ---- device ---------------------------------------------------------------------------------- */

typedef struct zadm_tls_options {
	int enable;              /* 0: plain TCP (the original protocol) */
	const char *ca_file;     /* PEM CA bundle; NULL: the system trust store. Copied. */
	int insecure;            /* skip certificate and host name verification (tests only!) */
	const char *server_name; /* name to verify and send as SNI; NULL: address, else ip. Copied. */
} zadm_tls_options;

/* Upper bounds of the options below (zadm_device_new refuses more with ZADM_ERR_ARG). */
#define ZADM_HEARTBEAT_MAX 86400u          /* seconds: one day */
#define ZADM_TIMEOUT_MS_MAX 3600000u       /* one hour */
#define ZADM_RECONNECT_MS_MAX 86400000u    /* one day */
#define ZADM_MAX_LINE_MAX ((size_t)1 << 26) /* 64 MiB */

/* Every pointer in the options is copied or only borrowed during zadm_device_new(), except
 * userdata pointers (passed back, never freed) and fota_store (borrowed: it must outlive the device).
 * Initialize with zadm_options_init() and change what you need: new fields get safe defaults. */
typedef struct zadm_options {
	const char *ip;          /* server IP address; takes precedence over address. Copied. */
	const char *address;     /* server host name, resolved again on every connection attempt */
	unsigned int port;       /* 12345 */
	unsigned int heartbeat;  /* seconds, 60 (at most 86400); the server may impose another (htbm) */
	const zadm_rpc *rpc;     /* n_rpc entries, copied */
	size_t n_rpc;
	zadm_log_fn log;         /* NULL: silence */
	void *log_userdata;
	int loglevel;            /* ZADM_LOG_WARN; ZADM_LOG_DBG when the ZADM_DEBUG variable is set */
	zadm_fota_fn fota_callback; /* NULL: every step goes on */
	void *fota_userdata;
	zadm_restart_fn restart; /* NULL: in-process restart (see zadm_restart_fn) */
	void *restart_userdata;
	int low_res;             /* 1: one thread fewer (RPC, FOTA and sending share one thread) */
	zadm_tls_options tls;
	zadm_fota_store *fota_store; /* NULL: no FOTA (login says "ota": false) */
	const char *platform;    /* login "platform", "" when NULL. Copied. */
	const char *vmuid;       /* login "vmuid", "" when NULL. Copied. */
	size_t max_line;         /* longest line accepted from the server, 65536 (at most 64 MiB) */
	size_t send_queue_max;   /* messages from zadm_device_send* waiting to be written, 64 */
	unsigned int reconnect_min_ms; /* first reconnect delay, 1000; doubles up to the max, jittered */
	unsigned int reconnect_max_ms; /* 60000 (at most one day) */
	unsigned int timeout_ms; /* 10000: how long a connection attempt may take, the TLS handshake, and
				  * the login reply, each an absolute deadline (a server that trickles its
				  * reply byte by byte is dropped when it passes) */
} zadm_options;

/* Fill opts with the defaults above (everything else zero/NULL). */
ZADM_API void zadm_options_init(zadm_options *opts);

/* A device: uid and token (copied, non-empty, UTF-8) and options (see zadm_options for ownership;
 * platform and vmuid UTF-8 too, numbers within the ZADM_*_MAX bounds). Needs ip or address.
 * *ret_dev is set only on success. Nothing connects until start. */
ZADM_API int zadm_device_new(const char *uid, const char *token, const zadm_options *opts,
			     zadm_device **ret_dev);

/* Start the background threads and return at once. They connect, log in, send heartbeats, read,
 * answer, and reconnect with exponential backoff and jitter until zadm_device_stop().
 * ZADM_ERR_STATE if already started. */
ZADM_API int zadm_device_start(zadm_device *dev);

/* Queue a raw message: json must be the text of one JSON object (re-generated, so the line on the
 * wire is always well formed), nested at most 64 levels deep, its strings UTF-8 without \u0000.
 * Messages queue while disconnected and go out, in order, after the next login. When send_queue_max
 * messages are waiting the call fails with ZADM_ERR_QUEUE_FULL and queues nothing: the caller decides
 * to retry, drop or slow down. A message being written when the connection drops is lost. json is only
 * read during the call. Thread-safe. */
ZADM_API int zadm_device_send(zadm_device *dev, const char *json);
/* {"cmd":"EVNT","payload":payload_json}; payload_json must be a JSON object. Same queueing. */
ZADM_API int zadm_device_send_event(zadm_device *dev, const char *payload_json);
/* {"cmd":"NTFY","payload":{"title":title,"text":text}}; UTF-8 strings. Same queueing. */
ZADM_API int zadm_device_send_notification(zadm_device *dev, const char *title, const char *text);

/* 1 when logged in now, else 0. */
ZADM_API int zadm_device_is_connected(zadm_device *dev);
/* The heartbeat period in use (seconds): the server's htbm when it imposed one, else the option. */
ZADM_API unsigned int zadm_device_get_heartbeat(zadm_device *dev);

/* Close the connection and stop the threads; unsent messages are discarded. From one of the device's
 * own callbacks it only requests the stop and returns (the threads end once the callback returns;
 * zadm_device_free() or a later stop joins them). Stopping a stopped device is a no-op. The device
 * can be started again. */
ZADM_API int zadm_device_stop(zadm_device *dev);

/* Stop (if needed) and free. Accepts NULL. Must not be called from the device's callbacks. */
ZADM_API void zadm_device_free(zadm_device *dev);

#ifdef __cplusplus
}
#endif

#endif
