/* internal.h: what the files of libztc share and nothing outside libztc sees. */
#ifndef ZTC_INTERNAL_H
#define ZTC_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "ztc/ztc.h"

struct ztc_ctx {
	ztc_log_fn log_fn;
	void *log_data;
	int loglevel;
	char errmsg[1024];
	char *home;      /* ZTC_HOME or $XDG_DATA_HOME/ztc or ~/.local/share/ztc */
	char *mountinfo; /* ZTC_MOUNTINFO, NULL for the system's */
	char *db_path;   /* ZTC_DB_PATH (colon list), may be NULL */
	char *plugin_path; /* ZTC_PLUGIN_PATH (colon list), may be NULL */
};

#define ZTC_PRINTF(a, b) __attribute__((format(printf, a, b)))

void ztc_log(ztc_ctx *ctx, int level, const char *fmt, ...) ZTC_PRINTF(3, 4);
void ztc_logv(ztc_ctx *ctx, int level, const char *fmt, va_list ap);
#define ztc_err(ctx, ...) ztc_log(ctx, ZTC_LOG_ERR, __VA_ARGS__)
#define ztc_warn(ctx, ...) ztc_log(ctx, ZTC_LOG_WARN, __VA_ARGS__)
#define ztc_info(ctx, ...) ztc_log(ctx, ZTC_LOG_INFO, __VA_ARGS__)
#define ztc_dbg(ctx, ...) ztc_log(ctx, ZTC_LOG_DBG, __VA_ARGS__)

/* Record the one-line detail of a failure in ctx and return err, so callers write
 * `return ztc_fail(ctx, ZTC_ERR_IO, "cannot read %s: %s", path, strerror(errno));` */
int ztc_fail(ztc_ctx *ctx, int err, const char *fmt, ...) ZTC_PRINTF(3, 4);
void ztc_clear_error(ztc_ctx *ctx);

/* Small string helpers (std.c). */
char *ztc_strdup_upper(const char *s);
bool ztc_str_empty(const char *s);
char *ztc_strdup_printf(const char *fmt, ...) ZTC_PRINTF(1, 2);

/* The mount table (mounts.c): loaded once per discovery, NULL when unreadable (logged). */
struct libmnt_table;
struct libmnt_table *ztc_mounts_load(ztc_ctx *ctx);
/* The mount point of a block device node, or NULL. Caller frees. */
char *ztc_mounts_find(struct libmnt_table *tb, const char *devnode);

#endif
