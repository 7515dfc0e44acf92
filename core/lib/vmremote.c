/* vmremote.c: the account's VMs on the backend as library calls: every page of the list, one VM into the store. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ztc/backend.h"

/* Move the first entries of page to the end of acc, no more than acc may hold; the rest stay in page,
 * freed with it. */
static int take_page(ztc_backend_vm_list *acc, ztc_backend_vm_list *page)
{
	size_t k = page->n < ZTC_VM_LIST_REMOTE_MAX - acc->n ? page->n : ZTC_VM_LIST_REMOTE_MAX - acc->n;
	ztc_backend_vm *v;

	if (!k)
		return ZTC_OK;
	if (!(v = realloc(acc->vm, (acc->n + k) * sizeof(*v))))
		return ZTC_ERR_NOMEM;
	memcpy(v + acc->n, page->vm, k * sizeof(*v));
	memmove(page->vm, page->vm + k, (page->n - k) * sizeof(*v));
	acc->vm = v;
	acc->n += k;
	page->n -= k;
	return ZTC_OK;
}

/* Every page from `from` on, into *ret_list. */
static int list_all(ztc_ctx *ctx, ztc_backend *be, int from, ztc_backend_vm_list **ret_list)
{
	ztc_backend_vm_list *acc = calloc(1, sizeof(*acc)), *page = NULL;
	size_t prev = 0;
	int rc = ZTC_OK, start = from;

	if (!acc)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	for (;;) {
		size_t got;

		if ((rc = ztc_backend_list_vms(be, from, &page)) < 0)
			break;
		got = page->n;
		if ((rc = take_page(acc, page)) < 0) {
			rc = ztc_fail(ctx, rc, "out of memory");
			break;
		}
		ztc_backend_vm_list_free(page);
		page = NULL;
		/* An empty page, or one shorter than the one before, is the last (BACKEND-API.md). */
		if (got == 0 || (prev && got < prev))
			break;
		/* A backend that never stops sending full pages (or sends a huge one) does not make this
		 * loop for ever, nor the list grow without bound. */
		if (acc->n >= ZTC_VM_LIST_REMOTE_MAX) {
			ztc_warn(ctx, "listed %d VMs from %d, the most listed at once; there may be more: list them "
				 "with --from %d", ZTC_VM_LIST_REMOTE_MAX, start, start + ZTC_VM_LIST_REMOTE_MAX);
			break;
		}
		from += (int)got;
		prev = got;
	}
	ztc_backend_vm_list_free(page);
	if (rc < 0) {
		ztc_backend_vm_list_free(acc);
		return rc;
	}
	*ret_list = acc;
	return ZTC_OK;
}

ZTC_API int ztc_vm_list_remote(ztc_ctx *ctx, int from, ztc_backend_vm_list **ret_list)
{
	ztc_backend *be = NULL;
	int rc;

	if (!ctx || !ret_list)
		return ZTC_ERR_ARG;
	if (from < 0 || from > ZTC_VM_LIST_REMOTE_MAX)
		return ztc_fail(ctx, ZTC_ERR_ARG, "the first VM to list must be 0 to %d, not %d",
				ZTC_VM_LIST_REMOTE_MAX, from);
	if ((rc = ztc_backend_new(ctx, &be)) == ZTC_OK)
		rc = list_all(ctx, be, from, ret_list);
	ztc_backend_free(be);
	return rc;
}

ZTC_API int ztc_vm_download(ztc_ctx *ctx, const char *prefix, char **ret_vmuid, char **ret_path)
{
	ztc_backend_vm_list *l = NULL;
	ztc_backend *be = NULL;
	const char **names = NULL;
	char *json = NULL, *uid = NULL;
	size_t len = 0, idx;
	int rc;

	if (!ctx || !prefix)
		return ZTC_ERR_ARG;
	if ((rc = ztc_backend_new(ctx, &be)) < 0 || (rc = list_all(ctx, be, 0, &l)) < 0)
		goto out;
	if (!(names = calloc(l->n + 1, sizeof(*names)))) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < l->n; i++)
		names[i] = l->vm[i].uid ? l->vm[i].uid : "";
	if ((rc = ztc_resolve_prefix(ctx, "VM of the account", "VMs of the account", prefix, names, l->n, &idx)) < 0)
		goto out;
	if (ret_vmuid && !(uid = strdup(names[idx]))) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* The save is the last step that can fail, so its path may go straight to the caller (a failed save
	 * leaves *ret_path untouched). */
	if ((rc = ztc_backend_download_vm(be, names[idx], &json, &len)) < 0 ||
	    (rc = ztc_vmstore_save(ctx, names[idx], json, len, ret_path)) < 0)
		goto out;
	ztc_hand_over(ret_vmuid, &uid);
out:
	free(uid);
	free(json);
	free(names);
	ztc_backend_vm_list_free(l);
	ztc_backend_free(be);
	return rc;
}
