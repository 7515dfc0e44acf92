/* internal.h: what the files of libztc share and nothing outside libztc sees. */
#ifndef ZTC_INTERNAL_H
#define ZTC_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_tree.h>

#include "ztc/ztc.h"

#include "inline.h"

struct ztc_ctx {
	ztc_log_fn log_fn;
	void *log_data;
	int loglevel;
	char errmsg[1024];
	char *home;      /* ZTC_HOME or $XDG_DATA_HOME/ztc or ~/.local/share/ztc */
	char *mountinfo; /* ZTC_MOUNTINFO, NULL for the system's */
	char *db_path;   /* ZTC_DB_PATH (colon list), may be NULL */
	char *plugin_path; /* ZTC_PLUGIN_PATH (colon list), may be NULL */
	struct ztc_module *modules; /* loaded plugin modules (plugin.c) */
	size_t nmodules;
	ztc_progress_fn progress_fn; /* ztc_ctx_set_progress (boardop.c) */
	void *progress_data;
	bool progress_seen; /* a percentage was reported since the operation began (boardop.c) */
	char **candidates; /* of the last resolver call (resolve.c), NULL-terminated */
};

/* Unload every plugin module of ctx (plugin.c). */
void ztc_plugins_unload(ztc_ctx *ctx);

/* The context a plugin callback's board belongs to (board.c): helpers that plugins call with a board
 * log, fail and report progress through it. */
struct ztc_board;
ztc_ctx *ztc_board_ctx(const struct ztc_board *b);

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

/* Hand a string the function owns to its caller's ret_ parameter (which may be NULL: then it stays
 * the function's, to free): *owned becomes NULL when handed over. */
static inline void ztc_hand_over(char **ret, char **owned)
{
	if (ret) {
		*ret = *owned;
		*owned = NULL;
	}
}

/* ztc_now_ms(), milliseconds on the monotonic clock, is in inline.h (the plugins use it too). */

/* Small string helpers (std.c). */
char *ztc_strdup_upper(const char *s);
bool ztc_str_empty(const char *s);
char *ztc_strdup_printf(const char *fmt, ...) ZTC_PRINTF(1, 2);
/* s made fit for a one-line message, in place: control characters (a newline in a JSON string) as '?'. */
char *ztc_str_oneline(char *s);
/* Free a NULL-terminated array of malloc'd strings and the strings; accepts NULL. */
void ztc_strv_free(char **strv);

/* The one growable byte buffer of libztc (std.c): data is NUL-terminated after len bytes once anything
 * was appended. Start from { 0 }. ztc_buf_append is false on out of memory, the buffer unchanged. */
struct ztc_buf {
	char *data;
	size_t len, cap;
};
bool ztc_buf_append(struct ztc_buf *b, const void *data, size_t n);
void ztc_buf_free(struct ztc_buf *b);

/* The one set of yajl tree accessors (jsonutil.c). A member of an object of the given type (yajl_t_any:
 * any), NULL when obj is NULL or not an object, or key is absent or of another type; a string member;
 * a malloc'd copy of one (NULL also when out of memory). */
yajl_val ztc_json_get(yajl_val obj, const char *key, yajl_type type);
const char *ztc_json_get_str(yajl_val obj, const char *key);
char *ztc_json_dup_str(yajl_val obj, const char *key);

/* serial-baud.c: set a rate that has no termios B constant (BOTHER); *ret_actual is the rate the driver
 * took. 0, or -errno. */
int ztc_serial_set_custom_baud(int fd, int baud, int *ret_actual);

/* The mount table (mounts.c): loaded once per discovery, NULL when unreadable (logged). */
struct libmnt_table;
struct libmnt_table *ztc_mounts_load(ztc_ctx *ctx);
/* The mount point of a block device node, or NULL. Caller frees. */
char *ztc_mounts_find(struct libmnt_table *tb, const char *devnode);

/* JSON from outside libztc (json.c): every untrusted document is parsed with ztc_json_parse(), never
 * yajl_tree_parse() directly, so no input nests deeper than this (yajl frees trees recursively). */
#define ZTC_JSON_MAX_DEPTH 64
struct yajl_val_s;
/* A C string as a yajl tree, or NULL with a one-line reason in err ("nested deeper than 64 levels", or
 * the first line of yajl's message). Same grammar as yajl_tree_parse (comments allowed). */
struct yajl_val_s *ztc_json_parse(const char *text, char *err, size_t errlen);

/* Read a whole regular file (at most max bytes) into a NUL-terminated buffer; NULL with *ret_errno set:
 * an errno value, or ZTC_ENOTREG for a FIFO, directory, socket or device (never waited on). */
#define ZTC_ENOTREG 0x10000 /* beyond every errno value */
char *ztc_read_file(const char *path, size_t max, size_t *ret_len, int *ret_errno);
/* strerror() that also knows ZTC_ENOTREG ("not a regular file"). */
const char *ztc_read_strerror(int err);

/* mkdir -p; 0 or -errno. */
#include <sys/types.h>
int ztc_mkdir_p(const char *path, mode_t mode);
/* Replace path with data: temp file beside it, fsync, rename, fsync the directory. */
int ztc_write_atomic(ztc_ctx *ctx, const char *path, const char *data, size_t len, mode_t mode);
/* Before anything is written under ZTC_HOME (store.c): refuse, with one line naming both users, when
 * ZTC_HOME (or the closest existing folder above it, unless root owns that one) belongs to another user
 * than the effective one, as under `sudo -E`; then create ZTC_HOME (0700). */
int ztc_home_prepare(ztc_ctx *ctx);

/* The board object handed to plugin callbacks (board.c); m must outlive it. */
struct ztc_board;
struct ztc_board *ztc_board_new(ztc_ctx *ctx, const ztc_match *m);
void ztc_board_free(struct ztc_board *b);

/* The target a plugin callback's board is (board.c): the flash object interpreter reads its device.json. */
const ztc_target *ztc_board_target(const struct ztc_board *b);

/* The rules of the device.json `flash` object (flash-check.c), root being the whole document: true when
 * it has none or a good one, else false with the problem ("flash: ...") in why. The database checks every
 * board it loads and warns; a board whose object breaks them is listed and matched, but cannot be flashed:
 * ztc_flash_refuse_bad (flash.c) fails with "<dir>/device.json: flash: ..." and is called before any
 * class burns it and by the interpreter before it runs anything. */
bool ztc_flash_check(yajl_val root, char *why, size_t whylen);
int ztc_flash_refuse_bad(ztc_ctx *ctx, const ztc_target *t);

/* ztc_tool_find's one line for a tool that is not on PATH: where it comes from, as the first tools.json of
 * the database dirs (ZTC_DB_PATH, then the installed one) that names it says (toolinfo.c). */
int ztc_tool_fail_missing(ztc_board *b, const char *tool);

/* Hand devs to list: freed with it, so its records' dev pointers stay valid (match.c). */
void ztc_match_list_attach(ztc_match_list *list, ztc_usbdev_list *devs);

/* A malloc'd copy of k with its strings, freed with ztc_known_free() (store.c). */
int ztc_known_dup(const ztc_known *k, ztc_known **ret_known);

/* The whole device.json of a target, owned by the database; for a target taken from the board cache it is
 * read on first use, NULL if it cannot be read any more (dbcache.c). */
yajl_val ztc_target_json(const ztc_target *t);

/* The class index a known device resolves to in t, or -1 (match.c). */
int ztc_known_class(const ztc_target *t, const ztc_known *k, const ztc_usbdev *d);

/* The parsers of untrusted input behind the public calls, as entry points for the fuzzers of
 * tests/fuzz (behaviour exactly as when the public calls use them). */
struct yajl_val_s;
struct udev_device;
/* backend.c: a reply once HTTP is done; data.list of a GET /vms reply; the byte range of `data`. */
int ztc_backend_parse_reply(ztc_backend *be, const char *method, const char *url, const char *what, long code,
			    const char *buf, struct yajl_val_s **ret_root);
int ztc_backend_vm_list_parse(ztc_backend *be, struct yajl_val_s *root, const char *what,
			      ztc_backend_vm_list **ret_list);
bool ztc_backend_data_span(const char *text, size_t len, size_t *ret_start, size_t *ret_end);
/* discover.c: HID_ID ("0003:0000046D:0000C31C") to vendor and product; the raw record of one udev
 * device of a subsystem (false when it is no USB device we can identify). */
bool ztc_parse_hid_id(const char *hid_id, char vid[5], char pid[5]);
bool ztc_make_record(const char *subsystem, struct udev_device *dev, struct libmnt_table **mounts,
		     ztc_ctx *ctx, ztc_usbdev *r);
/* discover.c: free the strings of a record and zero it (the fuzz target frees ztc_make_record's with it). */
void ztc_usbdev_clear(ztc_usbdev *d);
/* discover.c: the usbpath of a node (the sysname of the deepest usb_device on its syspath), malloc'd,
 * or NULL when there is none. */
char *ztc_usbpath_of(const char *syspath);
/* discover.c: is s a usbpath as the kernel names USB devices ("1-1.2", "usb1")? */
bool ztc_usbpath_valid(const char *s);

#endif
