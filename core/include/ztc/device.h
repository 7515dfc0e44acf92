/* device.h: discovery of USB devices, the board database, the known-device store, matching, aliases. */
#ifndef ZTC_DEVICE_H
#define ZTC_DEVICE_H

#include "ztc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

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
	char *usbpath;   /* pinned to the device at this usbpath (twins: one uid, two boards), or NULL */
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
/* The entry of the device with this uid at this usbpath: the one pinned to it, else the uid's unpinned
 * one; NULL if none. */
ZTC_API const ztc_known *ztc_store_find_device(const ztc_store *store, const char *uid, const char *usbpath);
/* Add or replace the entry of k->uid and k->usbpath (a uid has at most one unpinned alias, and one per
 * usbpath it is pinned to; k->alias must be free or already be that entry's). The strings are copied. */
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


/* ---- resolving what a user typed ----------------------------------------------------------------- */

/* Each resolver takes the name exactly equal to prefix, else the only one starting with it (an empty
 * prefix starts no name). ZTC_ERR_AMBIGUOUS when several start with it, ZTC_ERR_NOT_FOUND when none
 * does; either way ztc_ctx_candidates() holds the candidates and ztc_ctx_errmsg() names them in one
 * line: "'du' matches several aliases: due, dup", "no alias matches 'zz'; candidates: custom, due",
 * "no alias matches 'due' (there are no aliases)". */

/* The generic form over n names: *ret_idx is the index in names; what/whats name one and several
 * ("alias", "aliases") in the messages. */
ZTC_API int ztc_resolve_prefix(ztc_ctx *ctx, const char *what, const char *whats, const char *prefix,
			       const char *const *names, size_t n, size_t *ret_idx);
/* An alias of the store (ztc device register, virtualize, open, vm create, alias del). *ret_known is
 * owned by the store. */
ZTC_API int ztc_store_resolve_alias(ztc_ctx *ctx, const ztc_store *store, const char *prefix,
				    const ztc_known **ret_known);
/* A uid of a discovered device ("connected device uid", ztc device alias put). *ret_dev is owned by
 * devs. The prefix is hex, taken in either case ("DF78" is "df78"); twins (devices sharing the uid) are
 * one candidate, and *ret_dev is the first of them. A prefix holding '/' is a port instead: the device
 * whose port is that path (one twin), or the node a link to it names (/dev/serial/by-id/...); none is
 * ZTC_ERR_NOT_FOUND "no connected device has the port P; ports: A, B" with the ports as candidates. */
ZTC_API int ztc_usbdev_list_resolve_uid(ztc_ctx *ctx, const ztc_usbdev_list *devs, const char *prefix,
					const ztc_usbdev **ret_dev);
/* A known device named as the user may name one (ztc device register, virtualize, vm create): an alias
 * as ztc_store_resolve_alias() takes it, or, when name holds '/', the port of a connected device (as
 * above), whose uid must have an entry in the store, the one pinned to its usbpath else the uid's
 * unpinned one (ztc_store_find_device(); ZTC_ERR_NOT_FOUND "the device on P (VID:PID, uid U) has no
 * alias: give it one with 'ztc device alias put P ALIAS TARGET'"). devices: NULL to
 * discover them (only for a port). *ret_known is owned by the store. */
ZTC_API int ztc_store_resolve_device(ztc_ctx *ctx, const ztc_store *store, const ztc_usbdev_list *devices,
				     const char *name, const ztc_known **ret_known);

/* ---- aliases: the policy of `ztc device alias put` and `del` --------------------------------------- */

/* 1 when alias can name a device: not empty, not starting with '-', no spaces or control characters. */
ZTC_API int ztc_alias_valid(const char *alias);

/* What `alias put` stores besides alias, uid, target and class. NULL fields: not given. */
typedef struct ztc_alias_opts {
	const char *name;      /* a custom name for the device */
	const char *chipid;    /* its chip id, when known without registering */
	const char *remote_id; /* its backend id, likewise */
	const char *classname; /* "Class" or "module.Class": the class to pin (required when several match) */
	const char *port;      /* pin the alias to the connected device with this serial port ... */
	const char *usbpath;   /* ... or at this usbpath: required when several devices share the uid */
} ztc_alias_opts;

/* Give the connected device whose uid is (or uniquely starts with) uid_prefix the alias and the
 * target, as `ztc device alias put` does (ztc-device(1)):
 *  - the class pinned is opts->classname when given (it must be a class of the target, and match the
 *    device unless no class of the target does and the device is a programmer or USB-serial adapter);
 *    else the only class of the target matching the device (several: ZTC_ERR_AMBIGUOUS, naming them);
 *    else, for a programmer or adapter (a device matching a class of a target whose type is not
 *    "board"), the target's jtag_class, or its last class: a board without USB circuitry of its own is
 *    reached through it;
 *    a programmer or adapter takes a target that has USB of its own only when it can program it: a
 *    probe (type "jtag") a target with jtag data (jtag_capable or jtag_class), a USB-serial adapter
 *    (type "usbtoserial") a target whose flash tool works over the serial port ({port} in its args, no
 *    touch1200); otherwise ZTC_ERR_ARG "T cannot be programmed through device VID:PID (NAME, a probe)";
 *  - uid_prefix may be a port path instead (ztc_usbdev_list_resolve_uid());
 *  - a uid has one alias and an alias one uid (ZTC_ERR_EXISTS when another device holds it); twins,
 *    connected devices that share the uid (the same serial number, or none), are told apart by
 *    opts->port or opts->usbpath, or by a port path as uid_prefix, which pin the alias to that
 *    device's usbpath (each twin can have its own alias); without one, twins are ZTC_ERR_AMBIGUOUS,
 *    naming their ports; a put that gives a device a new alias logs the warning "NEW replaces OLD as
 *    the alias of device UID";
 *  - re-aliasing a device to the target it had keeps the stored chip id, remote id and name unless
 *    opts gives new ones; a new target drops them.
 * store: the store to change in memory (for instance inside a ztc_store_update() callback), or NULL to
 * update $ZTC_HOME/devices.json under its lock. db and devices: NULL to load the database and discover
 * the devices. opts may be NULL. *ret_known (may be NULL): a copy of the entry as stored, freed with
 * ztc_known_free(), set only on success. Nothing is written on failure. */
ZTC_API int ztc_alias_put(ztc_ctx *ctx, ztc_store *store, const ztc_db *db, const ztc_usbdev_list *devices,
			  const char *uid_prefix, const char *alias, const char *target, const ztc_alias_opts *opts,
			  ztc_known **ret_known);
/* Forget the device whose alias is (or uniquely starts with) prefix, resolved under the store's lock so
 * that the alias deleted is the one seen. store: as for ztc_alias_put(). *ret_alias (may be NULL): the
 * full alias deleted, malloc'd, set only on success. */
ZTC_API int ztc_alias_del(ztc_ctx *ctx, ztc_store *store, const char *prefix, char **ret_alias);
/* Accepts NULL. */
ZTC_API void ztc_known_free(ztc_known *k);

/* `ztc device alias list`: every known device, with the connected device it names if there is one. */
typedef struct ztc_alias_entry {
	const ztc_known *known; /* owned by the store */
	const ztc_usbdev *dev;  /* owned by the device list; NULL when the device is not connected */
} ztc_alias_entry;

typedef struct ztc_alias_list {
	size_t n;
	ztc_alias_entry *e; /* connected devices first, by port (ttyACM2 before ttyACM10), then by alias */
} ztc_alias_list;

/* One entry per known device of store, or per connected device it names (ztc_store_find_device(): an
 * entry pinned to a usbpath names the device there; twins, two boards with one serial number, both
 * answer to an alias that is not pinned: an entry each). The entries borrow from store and
 * devices, which must outlive the list. *ret_list is set only on success; free it with
 * ztc_alias_list_free(). */
ZTC_API int ztc_alias_list_new(ztc_ctx *ctx, const ztc_store *store, const ztc_usbdev_list *devices,
			       ztc_alias_list **ret_list);
/* Accepts NULL. */
ZTC_API void ztc_alias_list_free(ztc_alias_list *list);

#ifdef __cplusplus
}
#endif

#endif
