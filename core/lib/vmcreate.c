/* vmcreate.c: `ztc vm create` as a library call: request a VM for a registered device, download it, store it. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* "<board name> <version>", the name the original toolchain gave a VM. */
static int default_name(ztc_ctx *ctx, const ztc_db *db, const ztc_known *k, const char *version,
			char **ret_name)
{
	ztc_db *loaded = NULL;
	const ztc_target *t;
	int rc = ZTC_OK;

	if (!db && (rc = ztc_db_load(ctx, &loaded)) < 0)
		return rc;
	t = ztc_db_find(db ? db : loaded, k->target);
	if (!t)
		rc = ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "the target '%s' of %s is not in the board database (see "
			      "'ztc device supported'); name the VM with --name", k->target, k->alias);
	else if (!(*ret_name = ztc_strdup_printf("%s %s", ztc_target_get_name(t), version)))
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	ztc_db_free(loaded);
	return rc;
}

ZTC_API int ztc_vm_create(ztc_ctx *ctx, const ztc_store *store, const ztc_db *db, const char *alias_prefix,
			  const char *version, const char *rtos, const ztc_vm_create_opts *opts, char **ret_vmuid,
			  char **ret_path)
{
	static const ztc_vm_create_opts none = { 0 };
	char *name = NULL, *vmuid = NULL, *json = NULL, *path = NULL, *where = NULL;
	ztc_store *loaded = NULL;
	ztc_backend *be = NULL;
	const ztc_known *k;
	size_t len = 0;
	int rc;

	if (!ctx || !alias_prefix || !version || !rtos)
		return ZTC_ERR_ARG;
	if (!opts)
		opts = &none;
	if (!*version || !*rtos || (opts->name && !*opts->name) || (opts->patch && !*opts->patch) ||
	    (opts->nfeatures && !opts->features))
		return ztc_fail(ctx, ZTC_ERR_ARG, "%s must not be empty", !*version ? "the version" : !*rtos ? "the RTOS" :
				opts->name && !*opts->name ? "the VM name" : opts->patch && !*opts->patch ? "the patch" :
				"the feature list");
	for (size_t i = 0; i < opts->nfeatures; i++)
		if (ztc_str_empty(opts->features[i]))
			return ztc_fail(ctx, ZTC_ERR_ARG, "a VM feature name must not be empty");
	if (!store && (rc = ztc_store_load(ctx, &loaded)) < 0)
		return rc;
	if ((rc = ztc_store_resolve_device(ctx, store ? store : loaded, NULL, alias_prefix, &k)) < 0)
		goto out;
	if (!k->remote_id || !k->chipid) {
		rc = ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "device %s is not registered: run 'ztc device register %s'",
			      k->alias, k->alias);
		goto out;
	}
	if (opts->name && !(name = strdup(opts->name))) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!name && (rc = default_name(ctx, db, k, version, &name)) < 0)
		goto out;
	if ((rc = ztc_backend_new(ctx, &be)) < 0 ||
	    (rc = ztc_backend_create_vm(be, name, k->remote_id, version, rtos, opts->features, opts->nfeatures,
					opts->patch, &vmuid)) < 0)
		goto out;
	/* The VM now exists on the backend: name it in any later error, so the user can find it. */
	if ((rc = ztc_backend_download_vm(be, vmuid, &json, &len)) < 0 ||
	    (rc = ztc_vmstore_save(ctx, vmuid, json, len, &path)) < 0) {
		char why[sizeof(ctx->errmsg)];

		snprintf(why, sizeof(why), "%s", ztc_ctx_errmsg(ctx));
		rc = ztc_fail(ctx, rc, "VM %s was created but not stored: %s", vmuid, why);
		goto out;
	}
	/* `ztc device virtualize` looks for the VM under the device's target and chip id. */
	if (!(where = ztc_strdup_printf("/%s/%s/", k->target, k->chipid))) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!strstr(path, where))
		ztc_warn(ctx, "the backend made VM %s for another target or chip id than %s's (%s, %s): stored as %s",
			 vmuid, k->alias, k->target, k->chipid, path);
	ztc_hand_over(ret_vmuid, &vmuid);
	ztc_hand_over(ret_path, &path);
	rc = ZTC_OK;
out:
	free(where);
	free(path);
	free(json);
	free(vmuid);
	free(name);
	ztc_backend_free(be);
	ztc_store_free(loaded);
	return rc;
}
