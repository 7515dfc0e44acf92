/* flash.h: what the files of the `flash` object interpreter share (private to libztc): one run, its data. */
#ifndef ZTC_FLASH_H
#define ZTC_FLASH_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_tree.h>

#include "inline.h"
#include "internal.h"
#include "ztc/plugin.h"

/* The one version of the flash object this libztc reads (ztc-plugin(7)); absent means this one. */
#define ZTC_FLASH_VERSION 1
#define FLASH_DEFAULT_TIMEOUT_S 300
#define FLASH_TIMEOUT_MAX_S (24 * 3600)
#define FLASH_BAUD_MAX 4000000
/* A placeholder key is at most this long ({key} with 1 to 63 characters); longer braces are text. */
#define FLASH_KEY_MAX 64

/* One interpretation of the flash object for one callback. The object was checked (flash-check.c) before
 * the run starts, so the methods may rely on its shape; what they check is what depends on the board and
 * the firmware (images, port, disk). */
struct flash_run {
	ztc_board *b;
	ztc_ctx *ctx;
	yajl_val root;      /* device.json, as the database loaded it */
	yajl_val flash;     /* its flash object */
	char *where;        /* "<dir>/device.json", for messages about the data */
	const char *name;   /* the board, for messages to the user */
	const char *file;   /* {file}: the prepared single image */
	const char *script; /* {script} of the object being run */
	const char **imgargs; /* {images}: address, file pairs */
	size_t nimgargs;
	struct ztc_kept kept; /* strings to free with the run (ztc_kept_add) */
	unsigned nscripts;
};

/* flash.c: fail with ZTC_ERR_PARSE and "<where>: flash: <message>". */
int flash_bad(struct flash_run *r, const char *fmt, ...) ZTC_PRINTF(2, 3);

/* flash-tool.c: the next placeholder of a template at or after p: *ret_start points at its '{', key
 * holds its name, and the returned pointer is just past its '}'; NULL when there is none. */
const char *flash_next_placeholder(const char *p, const char **ret_start, char key[FLASH_KEY_MAX]);
/* flash-tool.c: the tool of a command object (its own, else the flash object's), or NULL. */
const char *flash_tool_of(yajl_val flash, yajl_val cmd);
/* flash-tool.c: fail before touching the board when a tool cmd (or one of its `pre` steps) needs is
 * missing; run cmd, succeeding as its ok_when says. */
int flash_check_tools(struct flash_run *r, yajl_val cmd);
int flash_run_cmd(struct flash_run *r, yajl_val cmd, const char *progress_msg);
/* flash-tool.c: method "tool": the images, the touch, the pre steps, the tool. */
int flash_method_tool(struct flash_run *r, const ztc_image *img, size_t nimg);

/* flash-image.c: the single image (nimg must be 1) with the flash object's padding and size rules, into a
 * malloc'd copy; that written to the run's private directory as {file}; the `images` list's files and
 * addresses as {images}. */
int flash_prepare_single(struct flash_run *r, const ztc_image *img, size_t nimg, unsigned char **ret,
			 size_t *ret_len);
int flash_write_single(struct flash_run *r, const ztc_image *img, size_t nimg);
int flash_write_parts(struct flash_run *r, const ztc_image *img, size_t nimg);
/* flash-image.c: "0x" and hexadecimal digits, the way device.json and .vm files give addresses. */
bool flash_parse_addr(const char *s, unsigned long long *ret);
/* flash-image.c: the waits of sleep_ms and sleep_ms_per_mib after bytes were written. */
void flash_wait_after(struct flash_run *r, size_t bytes);

/* flash-disk.c: method "disk". */
int flash_method_disk(struct flash_run *r, const ztc_image *img, size_t nimg);

/* flash-serial.c: a sub-object's method "serial": open the port, set its lines and wait as `steps` say. */
int flash_method_serial(struct flash_run *r, yajl_val sub, const char *key, const char *what);

/* The non-negative integer member key of obj: def when absent, -1 when it is something else. */
long long flash_get_uint(yajl_val obj, const char *key, long long def);
/* A member that is true or a non-zero integer. */
bool flash_get_bool(yajl_val obj, const char *key);

#endif
