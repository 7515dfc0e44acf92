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

/* One USB device as seen by udev, after fusing the records of its interfaces (tty, block, usb, hid).
 * Every string is owned by the list that holds the record; NULL means absent. */
typedef struct ztc_usbdev {
	char *vid;   /* 4 upper-case hex digits */
	char *pid;   /* 4 upper-case hex digits */
	char *sid;   /* upper-cased USB serial number, or "no_sid" */
	char *uid;   /* lower-case hex SHA-1 of "VID:PID:SID" */
	char *port;  /* serial port node, e.g. /dev/ttyACM0 */
	char *disk;  /* mount point of the mass-storage node */
	char *desc;  /* udev ID_SERIAL (or HID_NAME) */
	char *block; /* mass-storage node, e.g. /dev/sdb */
} ztc_usbdev;

typedef struct ztc_usbdev_list {
	size_t n;
	ztc_usbdev *dev; /* n records, sorted by uid */
} ztc_usbdev_list;

/* Enumerate the USB devices currently connected, fused by uid and sorted by uid.
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

#ifdef __cplusplus
}
#endif

#endif
