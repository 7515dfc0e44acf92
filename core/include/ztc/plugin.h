/* plugin.h: the board plugin ABI: the descriptor a plugin module exports and what libztc offers it.
 *
 * A plugin is a libtool module (module.so) that exports exactly one symbol, ZTC_PLUGIN_SYMBOL, a const
 * ztc_plugin_desc. Each entry of a board's device.json `classes` names "module.Class": ztc finds
 * module.so (lt_dlopenext) in the board's own folder, then in ZTC_PLUGIN_PATH, then in the installed
 * plugin dir (`pkg-config --variable=plugindir libztc`), and looks Class up in the descriptor.
 *
 * A minimal plugin:
 *
 *     #include <ztc/plugin.h>
 *
 *     static int my_burn(ztc_board *b, const ztc_image *img, size_t nimg)
 *     {
 *             ztc_board_log(b, ZTC_LOG_INFO, "flashing %zu bytes", img[0].len);
 *             return ZTC_OK;
 *     }
 *
 *     static const ztc_class_desc classes[] = {
 *             { .name = "MyBoard", .burn = my_burn },
 *             { .name = NULL }
 *     };
 *
 *     ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
 *             .abi_major = ZTC_PLUGIN_ABI_MAJOR, .abi_minor = ZTC_PLUGIN_ABI_MINOR,
 *             .module = "myvendor", .version = "1.0", .license = "MIT", .classes = classes,
 *     };
 *
 * Build it as a module: cc -shared -fPIC $(pkg-config --cflags libztc) -o myvendor.so myvendor.c
 * $(pkg-config --libs libztc). See ztc-plugin(7).
 *
 * Rules: plugins never print, they log with ztc_board_log(); a callback returns ZTC_OK or a negative
 * ztc_error and, on failure, says why with ztc_board_fail(). A NULL callback means the core default:
 * burn and read_chipid unsupported, reset and enter_virtualizable do nothing.
 */
#ifndef ZTC_PLUGIN_H
#define ZTC_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ztc/ztc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The loader refuses a module whose abi_major differs from its own, or whose abi_minor is newer.
 * Minor: fields or helpers added at the end. Major: anything else. */
#define ZTC_PLUGIN_ABI_MAJOR 1
#define ZTC_PLUGIN_ABI_MINOR 0

#define ZTC_PLUGIN_SYMBOL ztc_plugin_descriptor
#define ZTC_PLUGIN_SYMBOL_NAME "ztc_plugin_descriptor"
#define ZTC_PLUGIN_EXPORT __attribute__((visibility("default")))

/* A matched board, as the callbacks see it: device.json keys and the discovered record's keys.
 * Owned by libztc, valid during the callback only. */
typedef struct ztc_board ztc_board;

/* One image to flash. data/len: the decoded bytes (owned by libztc); loc: the flash address from the
 * .vm file's `loc` list ("0x1000"), or NULL for single-image files. */
typedef struct ztc_image {
	const unsigned char *data;
	size_t len;
	const char *loc;
} ztc_image;

typedef struct ztc_class_desc {
	const char *name; /* "PhotonDFU"; NULL ends the table */
	/* Flash nimg images (one for single-image boards, in `bin` order for lists). */
	int (*burn)(ztc_board *b, const ztc_image *img, size_t nimg);
	/* Reset the board (device.json `uplink_reset: "reset"`). */
	int (*reset)(ztc_board *b);
	/* Read the chip id natively, without a registration firmware. *ret_chipid: malloc'd, caller frees. */
	int (*read_chipid)(ztc_board *b, char **ret_chipid);
	/* Switch the board to the mode its virtualizable class handles (e.g. a 1200-baud touch). */
	int (*enter_virtualizable)(ztc_board *b);
	void *reserved[8]; /* zero: room to grow without an ABI break */
} ztc_class_desc;

typedef struct ztc_plugin_desc {
	uint16_t abi_major; /* ZTC_PLUGIN_ABI_MAJOR the module was built with */
	uint16_t abi_minor; /* ZTC_PLUGIN_ABI_MINOR the module was built with */
	const char *module;  /* must equal the file name without .so */
	const char *version;
	const char *license;
	const ztc_class_desc *classes; /* terminated by an entry whose name is NULL */
	void *reserved[8];
} ztc_plugin_desc;

/* ---- what libztc offers plugins ---------------------------------------------------------------- */

/* A top-level device.json key as a string (NULL if absent or not a string), or one of the discovered
 * record's keys: "vid" "pid" "sid" "uid" "port" "disk" "block" "desc", and "alias" "chipid" "classname". */
ZTC_API const char *ztc_board_get_str(const ztc_board *b, const char *key);
/* A device.json number or boolean key as an integer; def when absent. */
ZTC_API long ztc_board_get_int(const ztc_board *b, const char *key, long def);
/* The board's folder (where device.json and register.vm are). */
ZTC_API const char *ztc_board_get_dir(const ztc_board *b);
ZTC_API void ztc_board_log(ztc_board *b, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record why the callback failed (one line, shown to the user) and return err. */
ZTC_API int ztc_board_fail(ztc_board *b, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- the loader (for ztc itself and for tests) ----------------------------------------------------- */

/* The descriptor of class class_idx of t, loading its module if needed: found with lt_dlopenext as
 * MODULE (or MODULE/MODULE) in the target's folder, then each ZTC_PLUGIN_PATH dir, then the installed
 * plugin dir. Modules stay loaded until the context is freed. A missing module, a missing descriptor,
 * a wrong ABI or an unknown class fails with a message naming the file. */
ZTC_API int ztc_plugin_resolve(ztc_ctx *ctx, const ztc_target *t, size_t class_idx,
			       const ztc_class_desc **ret_class);
/* Load one module file and validate its descriptor. */
ZTC_API int ztc_plugin_open(ztc_ctx *ctx, const char *path, const ztc_plugin_desc **ret_desc);
/* How many modules the context has loaded (0 for discovery and matching, which never load one). */
ZTC_API size_t ztc_plugin_loaded_count(const ztc_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
