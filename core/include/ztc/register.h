/* register.h: registering a board (chip id, backend) and flashing a virtual machine on it. */
#ifndef ZTC_REGISTER_H
#define ZTC_REGISTER_H

#include "ztc/common.h"
#include "ztc/device.h"
#include "ztc/console.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The chip id among lines printed by a registration firmware: the most frequent line, accepted only
 * when it was seen more than 3 times and is at least 8 characters long (the original toolchain's
 * rule). ZTC_ERR_NOT_FOUND otherwise. *ret_chipid: malloc'd, caller frees. */
ZTC_API int ztc_chipid_pick(const char *const *lines, size_t n, char **ret_chipid);

/* Open port with params, read up to nlines lines (at most timeout_ms in all) and pick the chip id. */
ZTC_API int ztc_chipid_read_serial(ztc_ctx *ctx, const char *port, const ztc_serial_params *params,
				   size_t nlines, int timeout_ms, char **ret_chipid);

/* The serial settings of a target's device.json `connection` (defaults where a key is absent). */
ZTC_API void ztc_target_serial_params(const ztc_target *t, ztc_serial_params *ret_params);

typedef struct ztc_register_opts {
	int skip_burn;         /* nonzero: the registration firmware is already running */
	int find_tries;        /* looking for the board again after the burn: tries (5) ... */
	int find_interval_ms;  /* ... this far apart (1000) */
	size_t chipid_lines;   /* serial lines read for the chip id (30) */
	int chipid_timeout_ms; /* at most this long (20000) */
} ztc_register_opts;

ZTC_API void ztc_register_opts_init(ztc_register_opts *opts);

/* Register the connected device with this alias, as the original toolchain did (DESIGN.md section 6):
 * it must be in its virtualizable mode; burn the board's register.vm (unless skip_burn); find the
 * board again (by uid, or as its alter ego); honour the reset flags; read the chip id (the class's
 * native read_chipid, else the serial lines); register it with the backend; store chip id and remote
 * id on the device and on its alter ego. The store is written only after the backend accepted.
 * *ret_chipid / *ret_remote_id (either may be NULL): malloc'd, caller frees, set only on success. */
ZTC_API int ztc_device_register(ztc_ctx *ctx, const char *alias, const ztc_register_opts *opts,
				char **ret_chipid, char **ret_remote_id);

/* Flash the virtual machine stored at vm_path on the connected device with this alias, which must be in
 * its virtualizable mode. */
ZTC_API int ztc_device_virtualize(ztc_ctx *ctx, const char *alias, const char *vm_path);

/* Discover, match, and find the record of the connected device with this alias. *ret_list owns the
 * record; ZTC_ERR_NOT_FOUND (with a clear message) when no connected device has the alias. */
ZTC_API int ztc_find_alias(ztc_ctx *ctx, const ztc_db *db, const ztc_store *store, const char *alias,
			   ztc_match_list **ret_list, const ztc_match **ret_match);

#ifdef __cplusplus
}
#endif

#endif
