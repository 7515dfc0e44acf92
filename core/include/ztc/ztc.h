/* ztc.h: public interface of libztc, the library behind the ztc command (umbrella header). */
#ifndef ZTC_ZTC_H
#define ZTC_ZTC_H

#include <stdarg.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(BUILDING_LIBZTC)
#define ZTC_API __attribute__((visibility("default")))
#else
#define ZTC_API
#endif

/* Error codes: 0 is success, failures are negative. Append-only. */
enum ztc_error {
	ZTC_OK = 0,
	ZTC_ERR = -1,           /* generic failure */
	ZTC_ERR_NOMEM = -2,     /* out of memory */
	ZTC_ERR_ARG = -3,       /* invalid argument */
	ZTC_ERR_UDEV = -4,      /* udev unavailable or failing */
	ZTC_ERR_IO = -5,        /* file or device I/O */
	ZTC_ERR_NOT_FOUND = -6, /* no such alias, uid, target, class, file */
	ZTC_ERR_AMBIGUOUS = -7, /* prefix or match names several candidates */
	ZTC_ERR_PARSE = -8,     /* malformed JSON or other data */
	ZTC_ERR_PLUGIN = -9,    /* plugin could not be loaded or is invalid */
	ZTC_ERR_EXISTS = -10,   /* name already taken */
	ZTC_ERR_CORRUPT = -11,  /* a state file is corrupt and was left untouched */
	ZTC_ERR_BACKEND = -12,  /* backend unreachable or refused */
	ZTC_ERR_TOOL = -13,     /* external tool missing or failing */
	ZTC_ERR_TIMEOUT = -14,  /* operation timed out */
	ZTC_ERR_UNSUPPORTED = -15, /* the board or class cannot do this */
	ZTC_ERR_BUSY = -16,     /* resource held by another process */
	ZTC_ERR_GONE = -17,     /* the device went away (board unplugged, port hung up) */
};

/* Short generic description of an error code; never NULL. */
ZTC_API const char *ztc_strerror(int err);

/* Log levels, as in libsigrok: higher is more verbose. */
enum ztc_loglevel {
	ZTC_LOG_NONE = 0,
	ZTC_LOG_ERR = 1,
	ZTC_LOG_WARN = 2,
	ZTC_LOG_INFO = 3,
	ZTC_LOG_DBG = 4,
};

typedef struct ztc_ctx ztc_ctx;

/* Receives every message libztc (and the plugins it loads) logs at or below the context's level.
 * msg has no trailing newline. The library itself never writes to stdout or stderr. */
typedef void (*ztc_log_fn)(void *userdata, int level, const char *msg);

/* A context holds the settings read from the environment (ZTC_HOME, ZTC_DB_PATH, ZTC_PLUGIN_PATH,
 * ZTC_MOUNTINFO, ZTC_DEBUG), the log callback and the detail of the last error.
 * *ret_ctx is set only on success. A context is used by one thread at a time. */
ZTC_API int ztc_ctx_new(ztc_ctx **ret_ctx);
/* Accepts NULL. */
ZTC_API void ztc_ctx_free(ztc_ctx *ctx);
/* The default is no callback (silence) at level ZTC_LOG_WARN, or ZTC_LOG_DBG when ZTC_DEBUG is set. */
ZTC_API void ztc_ctx_set_log(ztc_ctx *ctx, ztc_log_fn fn, void *userdata);
ZTC_API void ztc_ctx_set_loglevel(ztc_ctx *ctx, int level);
ZTC_API int ztc_ctx_get_loglevel(const ztc_ctx *ctx);
/* One line describing the last failure of a call on ctx (what failed and, where useful, what to do).
 * Owned by ctx, valid until the next call on ctx. Never NULL (empty when nothing failed). */
ZTC_API const char *ztc_ctx_errmsg(const ztc_ctx *ctx);

/* ---- discovery ---------------------------------------------------------------------------------- */

/* One physical USB device as seen by udev, after fusing the records of its interfaces (tty, block, usb,
 * hid) by their usb_device parent. Twins (two boards with the same serial number) share a uid and
 * differ by usbpath and port. Every string is owned by the list that holds the record; NULL means
 * absent. */
typedef struct ztc_usbdev {
	char *vid;   /* 4 upper-case hex digits */
	char *pid;   /* 4 upper-case hex digits */
	char *sid;   /* upper-cased USB serial number, or "no_sid" */
	char *uid;   /* lower-case hex SHA-1 of "VID:PID:SID" */
	char *port;  /* serial port node, e.g. /dev/ttyACM0 */
	char *disk;  /* mount point of the mass-storage node */
	char *desc;  /* udev ID_SERIAL (or HID_NAME) */
	char *block; /* mass-storage node, e.g. /dev/sdb */
	char *usbpath; /* the kernel's port path of the usb_device ("1-1.2", its sysname): stable while the
			* board stays in the same socket; NULL for a node without a usb_device parent */
} ztc_usbdev;

typedef struct ztc_usbdev_list {
	size_t n;
	ztc_usbdev *dev; /* n records, sorted by uid, then usbpath */
} ztc_usbdev_list;

/* Enumerate the USB devices currently connected, one record per usb_device (nodes without one are
 * fused by uid), sorted by uid then usbpath.
 * *ret_list is set only on success and is freed with ztc_usbdev_list_free(). */
ZTC_API int ztc_discover(ztc_ctx *ctx, ztc_usbdev_list **ret_list);
/* Accepts NULL. */
ZTC_API void ztc_usbdev_list_free(ztc_usbdev_list *list);
/* 1 when both lists hold the same devices with the same fields, else 0. */
ZTC_API int ztc_usbdev_list_equal(const ztc_usbdev_list *a, const ztc_usbdev_list *b);

/* The uid of a board: lower-case hex SHA-1 of "VID:PID:SID" written into ret_uid (41 bytes). */
ZTC_API int ztc_uid_compute(const char *vid, const char *pid, const char *sid, char ret_uid[41]);

/* Watches udev for devices being added or removed (subsystems tty, block, usb, hid). */
typedef struct ztc_monitor ztc_monitor;
ZTC_API int ztc_monitor_new(ztc_ctx *ctx, ztc_monitor **ret_mon);
/* Accepts NULL. */
ZTC_API void ztc_monitor_free(ztc_monitor *mon);
/* A file descriptor that becomes readable when events are pending (for poll()). */
ZTC_API int ztc_monitor_get_fd(const ztc_monitor *mon);
/* Consume every pending event; returns how many were consumed (0 if none), or a negative error. */
ZTC_API int ztc_monitor_drain(ztc_monitor *mon);
/* Consume every pending event and tell when to read the device set again: 1 now (the bursts of events
 * under way are complete: a plug ends with the bind of its usb_device, sent after its interfaces are
 * bound, an unplug with the remove of its usb_device; or their fallback timer ran out), else 0 with
 * *ret_wait_ms how long to wait for more events before calling again (even if none came; -1: no event
 * since the last 1, wait for one). Events that no bind or remove ends (a change, a disk added after the
 * plug) settle 50 ms after the last one; a plug or unplug that is never completed, 500 ms. */
ZTC_API int ztc_monitor_settle(ztc_monitor *mon, int *ret_wait_ms);
/* The device set after the events consumed so far, as ztc_discover() gives it: prev (the set this
 * monitor's events have been followed from, e.g. the last result) with only the USB devices those
 * events concern read again, or everything read again when prev is NULL or an event concerns a node
 * outside any USB device. *ret_list is set only on success. */
ZTC_API int ztc_monitor_discover(ztc_monitor *mon, const ztc_usbdev_list *prev, ztc_usbdev_list **ret_list);


/* ---- board database ------------------------------------------------------------------------------ */

/* The supported devices: one folder per target holding device.json (see ztc-plugin(7)), from the
 * ZTC_DB_PATH dirs first, then the installed database; the first folder naming a target wins.
 * A malformed device.json is skipped with one warning naming the file and the problem. */
typedef struct ztc_db ztc_db;
typedef struct ztc_target ztc_target;

ZTC_API int ztc_db_load(ztc_ctx *ctx, ztc_db **ret_db);
/* Accepts NULL. */
ZTC_API void ztc_db_free(ztc_db *db);
ZTC_API size_t ztc_db_count(const ztc_db *db);
/* Targets sorted by id. */
ZTC_API const ztc_target *ztc_db_get(const ztc_db *db, size_t i);
ZTC_API const ztc_target *ztc_db_find(const ztc_db *db, const char *id);

ZTC_API const char *ztc_target_get_id(const ztc_target *t);   /* "particle_photon" */
ZTC_API const char *ztc_target_get_name(const ztc_target *t); /* "Particle Photon" */
ZTC_API const char *ztc_target_get_type(const ztc_target *t); /* "board", "jtag", "usbtoserial" */
ZTC_API const char *ztc_target_get_path(const ztc_target *t); /* its folder */
/* A top-level device.json key: a string (NULL if absent or another type), a number or boolean. */
ZTC_API const char *ztc_target_get_str(const ztc_target *t, const char *key);
ZTC_API long ztc_target_get_int(const ztc_target *t, const char *key, long def);
ZTC_API size_t ztc_target_class_count(const ztc_target *t);
ZTC_API const char *ztc_target_class_name(const ztc_target *t, size_t i);   /* "PhotonDFU" */
ZTC_API const char *ztc_target_class_module(const ztc_target *t, size_t i); /* "dfu" */
/* 1 when the discovered device matches class i's USB ids (and serial number constraint). */
ZTC_API int ztc_target_class_matches(const ztc_target *t, size_t i, const ztc_usbdev *dev);
/* Index of a class by name ("PhotonDFU" or "dfu.PhotonDFU"), or -1. */
ZTC_API int ztc_target_class_find(const ztc_target *t, const char *name);

/* ---- known devices ($ZTC_HOME/devices.json) --------------------------------------------------- */

/* One aliased device. Strings are owned by the store; NULL means absent. */
typedef struct ztc_known {
	char *alias;
	char *uid;
	char *name;
	char *target;
	char *chipid;
	char *remote_id;
	char *classname;
} ztc_known;

typedef struct ztc_store ztc_store;

/* A snapshot of the store. A missing file is an empty store; a corrupt one is ZTC_ERR_CORRUPT and is
 * never overwritten. */
ZTC_API int ztc_store_load(ztc_ctx *ctx, ztc_store **ret_store);
/* Accepts NULL. */
ZTC_API void ztc_store_free(ztc_store *store);
ZTC_API size_t ztc_store_count(const ztc_store *store);
/* Entries in alias order. */
ZTC_API const ztc_known *ztc_store_get(const ztc_store *store, size_t i);
ZTC_API const ztc_known *ztc_store_find_uid(const ztc_store *store, const char *uid);
ZTC_API const ztc_known *ztc_store_find_alias(const ztc_store *store, const char *alias);
/* Add or replace the entry of k->uid (a uid has at most one alias; k->alias must be free or already
 * be that uid's). The strings are copied. */
ZTC_API int ztc_store_put(ztc_ctx *ctx, ztc_store *store, const ztc_known *k);
ZTC_API int ztc_store_del(ztc_ctx *ctx, ztc_store *store, const char *alias);
/* Read-modify-write under an exclusive lock: load the current file, call fn on it, and if fn returns
 * ZTC_OK write it back atomically (temp file, fsync, rename), so concurrent ztc processes never lose
 * an update and a crash never leaves a half-written file. fn's error is returned unchanged. */
typedef int (*ztc_store_update_fn)(ztc_ctx *ctx, ztc_store *store, void *userdata);
ZTC_API int ztc_store_update(ztc_ctx *ctx, ztc_store_update_fn fn, void *userdata);

/* ---- matching ---------------------------------------------------------------------------------- */

/* A discovered device matched to a target and class. Strings owned by the list; NULL means absent. */
typedef struct ztc_match {
	char *name;      /* the alias's custom name, else the board name */
	char *alias;
	char *target;
	char *uid;
	char *chipid;
	char *remote_id;
	char *classname; /* "PhotonDFU" */
	char *port;
	char *disk;
	const ztc_target *t;    /* borrowed from the ztc_db */
	const ztc_usbdev *dev;  /* borrowed from the ztc_usbdev_list */
	size_t class_idx;
} ztc_match;

typedef struct ztc_match_list {
	size_t n;
	ztc_match *m; /* sorted by uid, then target */
} ztc_match_list;

/* Match devices against the database (pure data: no plugin is loaded). A device with an alias matches
 * only its stored target and class; an unknown device appears once per target class that matches it. */
ZTC_API int ztc_match_devices(ztc_ctx *ctx, const ztc_db *db, const ztc_store *store,
			      const ztc_usbdev_list *devs, ztc_match_list **ret_list);
/* Accepts NULL. */
ZTC_API void ztc_match_list_free(ztc_match_list *list);

#include "ztc/console.h"
#include "ztc/firmware.h"
#include "ztc/backend.h"
#include "ztc/register.h"

#ifdef __cplusplus
}
#endif

#endif
