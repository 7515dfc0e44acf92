/* firmware.h: firmware files (.vm, register.vm), flashing a matched board through its plugin, progress. */
#ifndef ZTC_FIRMWARE_H
#define ZTC_FIRMWARE_H

#include "ztc/common.h"
#include "ztc/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- firmware files -------------------------------------------------------------------------------- */

/* One image to flash. data/len: the decoded bytes (owned by whoever handed the image out: the
 * ztc_firmware, or libztc during a plugin callback); loc: the flash address from the file's `loc` list
 * ("0x1000"), or NULL when the file has no `loc`. */
typedef struct ztc_image {
	const unsigned char *data;
	size_t len;
	const char *loc;
} ztc_image;

/* A firmware file is refused above this size (the largest Zerynth VMs are about 1 MB). */
#define ZTC_FIRMWARE_MAX_BYTES (64u * 1024u * 1024u)

/* A parsed .vm or register.vm file: one JSON object whose `bin` is a base64 string (one image) or a list
 * of base64 strings (several images, with an optional `loc` list of hexadecimal flash addresses of the
 * same length). */
typedef struct ztc_firmware ztc_firmware;

/* Read and parse the file at path. Every problem (unreadable, larger than ZTC_FIRMWARE_MAX_BYTES, not
 * JSON, not an object, no `bin`, `bin` of the wrong type or empty, bad base64, `loc` not a list of
 * hexadecimal strings as long as `bin`) fails before anything is flashed, with one line naming the
 * file and the problem: ZTC_ERR_PARSE for the content, ZTC_ERR_NOT_FOUND / ZTC_ERR_IO for the file.
 * *ret_fw is set only on success; free it with ztc_firmware_free(). */
ZTC_API int ztc_firmware_load(ztc_ctx *ctx, const char *path, ztc_firmware **ret_fw);
/* The same from len bytes of JSON in memory; name is used in the messages (usually the file's path). */
ZTC_API int ztc_firmware_parse(ztc_ctx *ctx, const char *name, const char *json, size_t len,
			       ztc_firmware **ret_fw);
/* Accepts NULL. */
ZTC_API void ztc_firmware_free(ztc_firmware *fw);
/* Number of images (1 for a string `bin`), at least 1. */
ZTC_API size_t ztc_firmware_image_count(const ztc_firmware *fw);
/* Image i in `bin` order, NULL when i is out of range. The images are contiguous:
 * ztc_firmware_image(fw, 0) is an array of ztc_firmware_image_count(fw). Owned by fw. */
ZTC_API const ztc_image *ztc_firmware_image(const ztc_firmware *fw, size_t i);
/* A top-level string key ("dev_type", "on_chip_id", "version", ...): NULL when absent or not a string.
 * Owned by fw. */
ZTC_API const char *ztc_firmware_get_str(const ztc_firmware *fw, const char *key);
/* A top-level integer or boolean key ("size", "vmstore", ...), def when absent or another type. */
ZTC_API long ztc_firmware_get_int(const ztc_firmware *fw, const char *key, long def);

/* ---- progress ------------------------------------------------------------------------------------- */

/* Called while a board operation runs: percent is 0..100, or -1 when the amount done is unknown (a
 * message only); msg is a short phrase ("flashing", "erasing", "bossac"), never NULL. Calls come from
 * the thread running the operation. */
typedef void (*ztc_progress_fn)(void *userdata, int percent, const char *msg);

/* Set (fn NULL: remove) the progress callback of ctx. The default is none. */
ZTC_API void ztc_ctx_set_progress(ztc_ctx *ctx, ztc_progress_fn fn, void *userdata);

/* ---- operations on a matched board ---------------------------------------------------------------- */

/* Each loads the plugin module of m's class (ztc_plugin_resolve) and calls the class callback with a
 * board built from m. Failures carry one line (ztc_ctx_errmsg) from the plugin or libztc. */

/* Flash every image of fw (the class `burn` callback). A class without `burn` fails with
 * ZTC_ERR_UNSUPPORTED. Progress goes to the context's callback; 100 is reported on success. */
ZTC_API int ztc_board_burn(ztc_ctx *ctx, const ztc_match *m, const ztc_firmware *fw);
/* Reset the board (the class `reset` callback); a class without one does nothing and succeeds. */
ZTC_API int ztc_board_reset(ztc_ctx *ctx, const ztc_match *m);
/* Read the chip id natively (the class `read_chipid` callback). ZTC_ERR_UNSUPPORTED when the class has
 * none: the chip id then comes from the registration firmware's serial output. *ret_chipid: malloc'd,
 * caller frees, set only on success. */
ZTC_API int ztc_board_read_chipid(ztc_ctx *ctx, const ztc_match *m, char **ret_chipid);
/* 1 when m's class reads the chip id natively (it has a `read_chipid` callback), 0 when it does not,
 * a negative ztc_error when its plugin cannot be loaded. `register` flashes no registration firmware for
 * a native class (ztc-plugin(7), "Native chip id"). */
ZTC_API int ztc_board_has_native_chipid(ztc_ctx *ctx, const ztc_match *m);
/* Switch the board to the mode its virtualizable class handles (the class `enter_virtualizable`
 * callback); a class without one does nothing and succeeds. */
ZTC_API int ztc_board_enter_virtualizable(ztc_ctx *ctx, const ztc_match *m);

#ifdef __cplusplus
}
#endif

#endif
