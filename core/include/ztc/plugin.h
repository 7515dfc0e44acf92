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

#include "ztc/common.h"
#include "ztc/console.h"
#include "ztc/firmware.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The loader refuses a module whose abi_major differs from its own, or whose abi_minor is newer.
 * Minor: fields or helpers added at the end. Major: anything else. */
#define ZTC_PLUGIN_ABI_MAJOR 1
#define ZTC_PLUGIN_ABI_MINOR 1

#define ZTC_PLUGIN_SYMBOL ztc_plugin_descriptor
#define ZTC_PLUGIN_SYMBOL_NAME "ztc_plugin_descriptor"
#define ZTC_PLUGIN_EXPORT __attribute__((visibility("default")))

/* A matched board, as the callbacks see it: device.json keys and the discovered record's keys.
 * Owned by libztc, valid during the callback only. */
typedef struct ztc_board ztc_board;

/* ztc_image, one image to flash, is declared in ztc/firmware.h (included above). */

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
	/* ABI 1.1: the class (a name of the table) that stands in for any class name of this module the table
	 * does not list, so a vendor board that reuses the family under a class name of its own ("atmel.
	 * AcmeDueClone") works without rebuilding the module; its device.json `flash` object says the rest.
	 * NULL: an unlisted class name is an error. Modules built for ABI 1.0 have zero here. */
	const char *default_class;
	void *reserved[7];
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

/* ---- ABI 1.0 helpers for flashing (ztc-plugin(7), "Helpers for flashing") ------------------------- */

/* Every wait below (touch_wait_ms, sleep_ms, serial steps, ztc_board_wait) is skipped when the
 * environment has ZTC_FLASH_NO_SLEEP=1: for tests, whose stand-in boards need no time. */

/* Tell the user how far the running operation is: percent 0..100, or -1 for a message alone. */
ZTC_API void ztc_board_progress(ztc_board *b, int percent, const char *msg);
/* Wait ms milliseconds (a board programming itself, a bootloader coming up). */
ZTC_API void ztc_board_wait(ztc_board *b, long ms);

/* The full path of an external tool: tool itself when it holds a '/', else the first executable
 * file of that name in PATH. *ret_path: malloc'd. A missing tool fails with ZTC_ERR_TOOL and one line
 * naming it and where it comes from, as the first tools.json of the database dirs that lists it says
 * (ztc-plugin(7)): "bossac not found on PATH: install the Debian package bossa-cli (apt-get install
 * bossa-cli)". */
ZTC_API int ztc_tool_find(ztc_board *b, const char *tool, char **ret_path);
/* Run argv[0] (found as by ztc_tool_find) with the arguments argv[1..] (NULL-terminated), stdin from
 * /dev/null, in a process group of its own, and wait for it at most timeout_ms (0: 300 s). Its stdout
 * and stderr, merged, are logged line by line at ZTC_LOG_INFO and searched for percentages ("43%",
 * "[ 43%]", "(43 %)"), reported with ztc_board_progress(b, pct, progress_msg or the tool name).
 * Returns ZTC_OK once the tool has exited, whatever its status: *ret_status is the exit status (128 +
 * the signal if it was killed); *ret_output (may be NULL) the output, malloc'd and NUL-terminated (the
 * last 1 MiB when it was longer). ZTC_ERR_TOOL: not found or cannot start; ZTC_ERR_TIMEOUT: it ran too
 * long and was killed (SIGTERM, then SIGKILL after 2 s, its whole process group). */
ZTC_API int ztc_tool_run(ztc_board *b, const char *const *argv, int timeout_ms, const char *progress_msg,
			 int *ret_status, char **ret_output);

/* Open the board's serial port at baud (8N1, no flow control), close it dropping DTR, then wait
 * wait_ms: the Arduino "1200-baud touch" that starts a bootloader. Fails when the board has no port. */
ZTC_API int ztc_board_touch_serial(ztc_board *b, int baud, long wait_ms);

/* Write len bytes as file name (no '/') on the board's mounted mass-storage disk, then fsync it,
 * reporting progress by bytes written. ZTC_ERR_NOT_FOUND "no mass-storage disk mounted for <board>"
 * when discovery found none. The file is written in place, not renamed: probe firmwares (ST-Link,
 * DAPLink) program the chip from the file they see being written. */
ZTC_API int ztc_board_copy_to_disk(ztc_board *b, const char *name, const unsigned char *data, size_t len);

/* Write len bytes to a new file name (no '/') in a private directory of the running operation
 * (mkdtemp under TMPDIR, or /tmp); the directory and everything in it are removed when the callback
 * returns. *ret_path: owned by libztc, valid until then. */
ZTC_API int ztc_board_temp_file(ztc_board *b, const char *name, const unsigned char *data, size_t len,
				const char **ret_path);
/* That private directory (created on first use); NULL with the error recorded on failure. */
ZTC_API const char *ztc_board_temp_dir(ztc_board *b);

/* A copy of len bytes of data followed by zeros up to pad_to bytes (no padding when len >= pad_to).
 * *ret_data: malloc'd, *ret_len its length. ZTC_ERR_NOMEM only. */
ZTC_API int ztc_image_pad(const unsigned char *data, size_t len, size_t pad_to, unsigned char **ret_data,
			  size_t *ret_len);

/* The board's device.json `flash` object, interpreted as ztc-plugin(7) documents it (methods tool, disk,
 * unsupported; "probe" and "plugin" are the class's own). So most classes need no code: .burn =
 * ztc_flash_default. A flash object that breaks the rules of ztc-plugin(7) was a warning when the
 * database loaded, and every call here refuses it (ZTC_ERR_PARSE) before anything runs. */
ZTC_API int ztc_flash_default(ztc_board *b, const ztc_image *img, size_t nimg);
/* The `flash.reset` sub-object (method serial or tool); nothing when absent. */
ZTC_API int ztc_flash_reset_default(ztc_board *b);
/* The `flash.enter_virtualizable` sub-object (method serial or tool); nothing when absent. */
ZTC_API int ztc_flash_enter_virtualizable_default(ztc_board *b);

/* ---- ABI 1.1 helpers: a bootloader's protocol over the board's serial port ---------------------- */

/* Open the board's serial port (the discovered record's "port") for exclusive use, raw, 8N1, no flow
 * control, at baud, DTR and RTS asserted. *ret_fd is set only on success; close it with
 * ztc_board_serial_close. Failures as ztc_serial_open (ztc/console.h): ZTC_ERR_NOT_FOUND (no port),
 * ZTC_ERR_BUSY (another program holds it, named), ZTC_ERR_ARG, ZTC_ERR_UNSUPPORTED, ZTC_ERR_IO. */
ZTC_API int ztc_board_serial_open(ztc_board *b, int baud, int *ret_fd);
/* Change the speed of a port opened with ztc_board_serial_open. */
ZTC_API int ztc_board_serial_set_baud(ztc_board *b, int fd, int baud);
/* Write all len bytes within timeout_ms, then wait for them to leave (tcdrain). ZTC_ERR_TIMEOUT,
 * ZTC_ERR_GONE (the port hung up: board unplugged or re-enumerating), ZTC_ERR_IO. */
ZTC_API int ztc_board_serial_write(ztc_board *b, int fd, const void *data, size_t len, int timeout_ms);
/* Read until len bytes have arrived or timeout_ms has passed since the call; *ret_got (may be NULL)
 * says how many arrived. ZTC_OK also when fewer than len arrived (the caller decides what silence
 * means); ZTC_ERR_GONE when the port hung up, ZTC_ERR_IO on other errors. */
ZTC_API int ztc_board_serial_read(ztc_board *b, int fd, void *buf, size_t len, int timeout_ms,
				  size_t *ret_got);
/* Drop what the port has received and not yet been read (stale output before a command). */
ZTC_API void ztc_board_serial_discard(ztc_board *b, int fd);
/* Set DTR and RTS: 1 asserts, 0 releases, -1 leaves the line as it is. A port without modem lines
 * (a pty, some adapters) gives ZTC_ERR_UNSUPPORTED, logged at debug level: callers that only want a
 * reset sequence go on without it. */
ZTC_API int ztc_board_serial_set_lines(ztc_board *b, int fd, int dtr, int rts);
ZTC_API void ztc_board_serial_close(ztc_board *b, int fd);

/* ---- ABI 1.1 helpers: the flash object's own keys ------------------------------------------------ */

/* A string member of the board's device.json `flash` object ("method", "probe", a key of the module's
 * own), or NULL: for a class that takes a method itself (a probe driver takes "probe") and hands the
 * others to ztc_flash_default. Valid while the board is. */
ZTC_API const char *ztc_board_get_flash_str(const ztc_board *b, const char *key);

#ifdef __cplusplus
}
#endif

#endif
