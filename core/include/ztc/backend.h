/* backend.h: the Zerynth backend client (device registration, virtual machines), credentials, VM store. */
#ifndef ZTC_BACKEND_H
#define ZTC_BACKEND_H

#include "ztc/common.h"
#include "ztc/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- backend client --------------------------------------------------------------------------------- */

/* A connection to the backend REST API (BACKEND-API.md), over libcurl.
 *
 * Settings, read by ztc_backend_new() from the environment:
 *   ZTC_BACKEND_URL         base URL (default https://backend.zerynth.com/v1)
 *   ZTC_TOKEN               the token; else the one saved in $ZTC_HOME/credentials.json by `ztc login`
 *   ZTC_BACKEND_CAFILE      a PEM file of CA certificates trusted in addition to the system's
 *   ZTC_BACKEND_TIMEOUT_MS  the timeout of a call's first attempt (default 5000, VM creation 20000)
 *
 * Every request carries `Content-Type: application/json`, `User-Agent: ztc/<version>` and
 * `Authorization: Bearer <token>`, and verifies the server's TLS certificate and host name. A
 * connection failure or a timeout is retried: 3 attempts, the timeout doubling each time. Any other
 * failure (TLS, HTTP error status, a reply that is not JSON, `status` other than "success", a missing
 * field) ends the call with ZTC_ERR_BACKEND (ZTC_ERR_TIMEOUT after three timeouts) and one line in
 * ztc_ctx_errmsg() that names the call and quotes the backend's `message` when it sent one.
 * The token never appears in a log message or an error line. A ztc_backend is used by one thread at
 * a time, and must not outlive its context. */
typedef struct ztc_backend ztc_backend;

/* ZTC_ERR_BACKEND "not logged in: run 'ztc login'" when there is no token: every call needs one, so
 * callers find out before doing anything that a backend call would waste. ZTC_ERR_CORRUPT when
 * credentials.json is unreadable; ZTC_ERR_ARG for a token with spaces or control characters.
 * *ret_be is set only on success; free it with ztc_backend_free(). */
ZTC_API int ztc_backend_new(ztc_ctx *ctx, ztc_backend **ret_be);
/* Accepts NULL. */
ZTC_API void ztc_backend_free(ztc_backend *be);

/* POST /devices {name, on_chip_id, type, category}. category may be NULL (sent as null).
 * *ret_remote_id: data.uid, malloc'd, caller frees; set only on success. */
ZTC_API int ztc_backend_register_device(ztc_backend *be, const char *name, const char *on_chip_id,
					const char *type, const char *category, char **ret_remote_id);

/* POST /vms {name, dev_uid, version, rtos, features, patch}. features: nfeatures strings (NULL when
 * nfeatures is 0); patch NULL means "base". *ret_vmuid: data.uid, malloc'd, caller frees; set only
 * on success. */
ZTC_API int ztc_backend_create_vm(ztc_backend *be, const char *name, const char *dev_uid,
				  const char *version, const char *rtos, const char *const *features,
				  size_t nfeatures, const char *patch, char **ret_vmuid);

/* GET /vms/<vmuid>. *ret_json: the reply's `data` object exactly as the backend sent it (the same
 * bytes, not re-encoded), NUL-terminated, malloc'd, caller frees; *ret_len its length without the NUL.
 * Both are set only on success. ZTC_ERR_BACKEND when `data` is not a JSON object. */
ZTC_API int ztc_backend_download_vm(ztc_backend *be, const char *vmuid, char **ret_json, size_t *ret_len);

/* One of the user's VMs as GET /vms lists it. Strings owned by the list; NULL when absent. */
typedef struct ztc_backend_vm {
	char *uid;
	char *name;
	char *core_dep;
	char *version;
	char *dev_type;
	char *rtos;
	char **features; /* nfeatures strings */
	size_t nfeatures;
} ztc_backend_vm;

typedef struct ztc_backend_vm_list {
	size_t n;
	ztc_backend_vm *vm; /* in the backend's order */
} ztc_backend_vm_list;

/* GET /vms?from=N (from >= 0): one page of the user's VMs, from data.list. A page with fewer entries
 * than the previous one, or an empty one, is the last. *ret_list is set only on success and is freed
 * with ztc_backend_vm_list_free(). */
ZTC_API int ztc_backend_list_vms(ztc_backend *be, int from, ztc_backend_vm_list **ret_list);
/* Accepts NULL. */
ZTC_API void ztc_backend_vm_list_free(ztc_backend_vm_list *list);

/* ---- credentials ($ZTC_HOME/credentials.json) ------------------------------------------------------- */

/* Save {"token": token} into $ZTC_HOME/credentials.json, atomically and with mode 0600 (creating
 * $ZTC_HOME with mode 0700). ZTC_ERR_ARG for an empty token or one holding spaces or control
 * characters (it goes into an HTTP header). */
ZTC_API int ztc_credentials_save(ztc_ctx *ctx, const char *token);

/* ---- VM store ($ZTC_HOME/vms) -------------------------------------------------------------------------- */

/* Downloaded VMs live in $ZTC_HOME/vms/<target>/<chipid>/<vmuid>_<version>_<hash_features>_<rtos>.vm,
 * each file the .vm JSON object as the backend sent it. */
typedef struct ztc_stored_vm {
	char *path;          /* the .vm file */
	char *vmuid;
	char *version;
	char *rtos;
	char *hash_features;
	char *target;        /* the folder under vms/: the VM's dev_type */
	char *chipid;        /* the folder under vms/<target>/: the VM's on_chip_id */
} ztc_stored_vm;

typedef struct ztc_vm_list {
	size_t n;
	ztc_stored_vm *vm; /* sorted by target, chipid, vmuid, version */
} ztc_vm_list;

/* Store a VM: json (len bytes) is the .vm object; its dev_type, on_chip_id, version, hash_features and
 * rtos (strings) name the file, which is written atomically. version, hash_features and rtos must not
 * hold '_' (the file name is split at its last three '_'; a vmuid may hold '_'), no part may be empty,
 * hold '/' or control characters, or start with '.'; the object must have a `bin`.
 * A missing or unusable field is ZTC_ERR_PARSE with a message naming it, and nothing is written.
 * An existing file of the same name is replaced. *ret_path (may be NULL): malloc'd, caller frees. */
ZTC_API int ztc_vmstore_save(ztc_ctx *ctx, const char *vmuid, const char *json, size_t len, char **ret_path);

/* The stored VMs, optionally only those of one target and/or chip id (NULL: any). Files whose name
 * does not follow the pattern are skipped. A missing vms/ folder is an empty list. *ret_list is set
 * only on success and is freed with ztc_vm_list_free(). */
ZTC_API int ztc_vmstore_list(ztc_ctx *ctx, const char *target, const char *chipid, ztc_vm_list **ret_list);
/* Accepts NULL. */
ZTC_API void ztc_vm_list_free(ztc_vm_list *list);

/* The stored VM whose uid is (or uniquely starts with) prefix, among those of target and chip id (NULL:
 * any), as ztc-device(1)'s `virtualize` takes it; errors as for the resolvers of ztc/device.h ("no
 * virtual machine of this board matches ..."). *ret_vmuid and *ret_path (either may be NULL):
 * malloc'd, set only on success. */
ZTC_API int ztc_vmstore_resolve(ztc_ctx *ctx, const char *target, const char *chipid, const char *prefix,
				char **ret_vmuid, char **ret_path);

/* ---- creating a VM ------------------------------------------------------------------------------------ */

/* The optional parts of a VM request. */
typedef struct ztc_vm_create_opts {
	const char *name;                /* NULL: "<board name> <version>", the original toolchain's */
	const char *patch;               /* NULL: "base" */
	const char *const *features;     /* nfeatures feature names */
	size_t nfeatures;
} ztc_vm_create_opts;

/* `ztc vm create`: ask the backend for a VM for the registered device whose alias is (or uniquely
 * starts with) alias_prefix, or that is connected on the port alias_prefix names (a path, as
 * ztc_store_resolve_device() takes it), download it, validate it and store it in the VM store. The device must
 * have a chip id and a remote id (ZTC_ERR_NOT_FOUND "device X is not registered: run 'ztc device
 * register X'"); version and rtos must not be empty, nor opts' name and patch when given (ZTC_ERR_ARG).
 * A VM made for another target or chip id than the device's is stored all the same, under its own,
 * with a warning logged. Once the backend made the VM, a failure names it ("VM U was created but not
 * stored: ..."). store and db: NULL to load them; opts may be NULL. *ret_vmuid and *ret_path (either
 * may be NULL): malloc'd, set only on success. */
ZTC_API int ztc_vm_create(ztc_ctx *ctx, const ztc_store *store, const ztc_db *db, const char *alias_prefix,
			  const char *version, const char *rtos, const ztc_vm_create_opts *opts, char **ret_vmuid,
			  char **ret_path);

/* ---- the account's VMs ----------------------------------------------------------------------------- */

/* At most this many VMs are listed by ztc_vm_list_remote() (a backend that never ends its list). */
#define ZTC_VM_LIST_REMOTE_MAX 10000

/* `ztc vm list --remote [--from N]`: the VMs the account owns, from the from-th on (0 to
 * ZTC_VM_LIST_REMOTE_MAX), page after page (GET /vms?from=N) until an empty page or one shorter than
 * the one before; at ZTC_VM_LIST_REMOTE_MAX VMs the list ends with a warning (there may be more: the
 * warning says which --from lists them). Needs a
 * token, like every backend call. *ret_list is set only on success; free it with
 * ztc_backend_vm_list_free(). */
ZTC_API int ztc_vm_list_remote(ztc_ctx *ctx, int from, ztc_backend_vm_list **ret_list);

/* `ztc vm download VMUID`: the account's VM whose uid is (or uniquely starts with) prefix, among those
 * ztc_vm_list_remote() lists (errors as for the resolvers of ztc/device.h: "no VM of the account
 * matches 'x'; candidates: ..."), downloaded (GET /vms/<uid>) and saved in the VM store as
 * ztc_vmstore_save() does (under the VM's own dev_type and on_chip_id). *ret_vmuid and *ret_path
 * (either may be NULL): malloc'd, set only on success. Nothing is written on failure. */
ZTC_API int ztc_vm_download(ztc_ctx *ctx, const char *prefix, char **ret_vmuid, char **ret_path);

#ifdef __cplusplus
}
#endif

#endif
