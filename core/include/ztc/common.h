/* common.h: what every libztc header shares: the API macro, error codes, the context and logging. */
#ifndef ZTC_COMMON_H
#define ZTC_COMMON_H

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

/* The candidates of the last resolver call on ctx that failed with ZTC_ERR_AMBIGUOUS (the names that
 * start with the prefix) or ZTC_ERR_NOT_FOUND (every name there was), in the order the resolver saw
 * them: a NULL-terminated array owned by ctx, valid until the next resolver call on ctx. An empty array
 * when the last resolver call succeeded or had no names to offer; NULL before any. */
ZTC_API const char *const *ztc_ctx_candidates(const ztc_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
