/* resolve.c: what a user typed to the full name it stands for: aliases, device uids, VM uids by prefix. */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Room left in the one-line error for the list of candidates; the rest is counted, not named. */
#define LIST_ROOM 800

ZTC_API const char *const *ztc_ctx_candidates(const ztc_ctx *ctx)
{
	return ctx ? (const char *const *)ctx->candidates : NULL;
}

/* Replace the candidates of ctx with the names (all, or those starting with prefix). */
static int keep_candidates(ztc_ctx *ctx, const char *const *names, size_t n, const char *prefix)
{
	size_t len = prefix ? strlen(prefix) : 0, k = 0;
	char **c = calloc(n + 1, sizeof(*c));

	if (!c)
		return ZTC_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (prefix && strncmp(names[i], prefix, len) != 0)
			continue;
		if (!(c[k++] = strdup(names[i]))) {
			ztc_strv_free(c);
			return ZTC_ERR_NOMEM;
		}
	}
	ztc_strv_free(ctx->candidates);
	ctx->candidates = c;
	return ZTC_OK;
}

/* "a, b, c" of ctx's candidates, or "a, b, ... (5 more)" past LIST_ROOM characters. */
static void join_candidates(const ztc_ctx *ctx, char *buf, size_t size)
{
	size_t off = 0, total = 0, shown = 0;

	buf[0] = '\0';
	for (char **c = ctx->candidates; *c; c++)
		total++;
	for (char **c = ctx->candidates; *c; c++) {
		size_t need = strlen(*c) + (shown ? 2 : 0);

		if (off + need >= size || off + need > LIST_ROOM)
			break;
		off += (size_t)snprintf(buf + off, size - off, "%s%s", shown ? ", " : "", *c);
		shown++;
	}
	if (shown < total)
		snprintf(buf + off, size - off, "%s... (%zu more)", shown ? ", " : "", total - shown);
}

ZTC_API int ztc_resolve_prefix(ztc_ctx *ctx, const char *what, const char *whats, const char *prefix,
			       const char *const *names, size_t n, size_t *ret_idx)
{
	size_t len, hits = 0, found = 0;
	char list[LIST_ROOM + 64];
	int rc;

	if (!ctx || !what || !whats || !prefix || (n && !names))
		return ZTC_ERR_ARG;
	len = strlen(prefix);
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], prefix) == 0) {
			hits = 1;
			found = i;
			goto unique;
		}
	for (size_t i = 0; i < n && len; i++)
		if (strncmp(names[i], prefix, len) == 0) {
			found = i;
			hits++;
		}
	if (hits == 1)
		goto unique;
	if (hits > 1) {
		if ((rc = keep_candidates(ctx, names, n, prefix)) < 0)
			return ztc_fail(ctx, rc, "out of memory");
		join_candidates(ctx, list, sizeof(list));
		return ztc_fail(ctx, ZTC_ERR_AMBIGUOUS, "'%s' matches several %s: %s", prefix, whats, list);
	}
	if ((rc = keep_candidates(ctx, names, n, NULL)) < 0)
		return ztc_fail(ctx, rc, "out of memory");
	if (n == 0)
		return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "no %s matches '%s' (there are no %s)", what, prefix, whats);
	join_candidates(ctx, list, sizeof(list));
	return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "no %s matches '%s'; candidates: %s", what, prefix, list);
unique:
	if ((rc = keep_candidates(ctx, names, 0, NULL)) < 0)
		return ztc_fail(ctx, rc, "out of memory");
	if (ret_idx)
		*ret_idx = found;
	return ZTC_OK;
}

/* The names of a table of n records of size bytes whose name is the string at offset off. */
static const char **names_of(const void *records, size_t n, size_t size, size_t off)
{
	const char **names = calloc(n + 1, sizeof(*names));

	for (size_t i = 0; names && i < n; i++)
		names[i] = *(char *const *)((const char *)records + i * size + off);
	return names;
}

ZTC_API int ztc_store_resolve_alias(ztc_ctx *ctx, const ztc_store *store, const char *prefix,
				    const ztc_known **ret_known)
{
	size_t n = ztc_store_count(store), idx;
	const char **names;
	int rc;

	if (!ctx || !store || !prefix)
		return ZTC_ERR_ARG;
	if (!(names = calloc(n + 1, sizeof(*names))))
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		names[i] = ztc_store_get(store, i)->alias;
	rc = ztc_resolve_prefix(ctx, "alias", "aliases", prefix, names, n, &idx);
	free(names);
	if (rc == ZTC_OK && ret_known)
		*ret_known = ztc_store_get(store, idx);
	return rc;
}

/* The connected device whose port is path, as given or as the node a link such as
 * /dev/serial/by-id/... names (only compared: nothing is opened). NULL when none; the ports are then the
 * candidates and the error says so. */
static int dev_at_port(ztc_ctx *ctx, const ztc_usbdev_list *devs, const char *path, const ztc_usbdev **ret_dev)
{
	const char **ports;
	char *real = NULL, list[LIST_ROOM + 64];
	size_t n = 0;
	int rc;

	for (int pass = 0; pass < 2; pass++) {
		const char *want = pass ? (real = realpath(path, NULL)) : path;

		for (size_t i = 0; want && i < devs->n; i++)
			if (devs->dev[i].port && strcmp(devs->dev[i].port, want) == 0) {
				free(real);
				if ((rc = keep_candidates(ctx, NULL, 0, NULL)) < 0)
					return ztc_fail(ctx, rc, "out of memory");
				*ret_dev = &devs->dev[i];
				return ZTC_OK;
			}
	}
	free(real);
	if (!(ports = calloc(devs->n + 1, sizeof(*ports))))
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < devs->n; i++)
		if (devs->dev[i].port)
			ports[n++] = devs->dev[i].port;
	rc = keep_candidates(ctx, ports, n, NULL);
	free(ports);
	if (rc < 0)
		return ztc_fail(ctx, rc, "out of memory");
	if (n == 0)
		return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "no connected device has the port %s (none has a serial port)",
				path);
	join_candidates(ctx, list, sizeof(list));
	return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "no connected device has the port %s; ports: %s", path, list);
}

ZTC_API int ztc_usbdev_list_resolve_uid(ztc_ctx *ctx, const ztc_usbdev_list *devs, const char *prefix,
					const ztc_usbdev **ret_dev)
{
	const ztc_usbdev *found;
	const char **names;
	size_t n = 0, idx, *first;
	char *lower;
	int rc;

	if (!ctx || !devs || !prefix)
		return ZTC_ERR_ARG;
	/* A port names one device, even among twins. */
	if (strchr(prefix, '/')) {
		if ((rc = dev_at_port(ctx, devs, prefix, &found)) == ZTC_OK && ret_dev)
			*ret_dev = found;
		return rc;
	}
	lower = strdup(prefix);
	names = calloc(devs->n + 1, sizeof(*names));
	first = calloc(devs->n + 1, sizeof(*first));
	if (!lower || !names || !first) {
		free(lower);
		free(names);
		free(first);
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	}
	/* uids are lower-case hex: "DF78" is "df78". */
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	/* Twins share a uid (the list is sorted by uid): each uid is one candidate, standing for its first
	 * device; the caller tells twins apart. */
	for (size_t i = 0; i < devs->n; i++)
		if (!n || strcmp(names[n - 1], devs->dev[i].uid) != 0) {
			names[n] = devs->dev[i].uid;
			first[n++] = i;
		}
	rc = ztc_resolve_prefix(ctx, "connected device uid", "connected device uids", lower, names, n, &idx);
	if (rc == ZTC_OK && ret_dev)
		*ret_dev = &devs->dev[first[idx]];
	free(lower);
	free(names);
	free(first);
	return rc;
}

ZTC_API int ztc_store_resolve_device(ztc_ctx *ctx, const ztc_store *store, const ztc_usbdev_list *devices,
				     const char *name, const ztc_known **ret_known)
{
	ztc_usbdev_list *found = NULL;
	const ztc_usbdev *d;
	const ztc_known *k;
	int rc;

	if (!ctx || !store || !name)
		return ZTC_ERR_ARG;
	if (!strchr(name, '/'))
		return ztc_store_resolve_alias(ctx, store, name, ret_known);
	if (!devices && (rc = ztc_discover(ctx, &found)) < 0)
		return rc;
	if ((rc = dev_at_port(ctx, devices ? devices : found, name, &d)) < 0)
		goto out;
	/* The port names one twin: its pinned entry, else the uid's unpinned one. */
	if (!(k = ztc_store_find_device(store, d->uid, d->usbpath))) {
		rc = ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "the device on %s (%s:%s, uid %s) has no alias: give it one with "
			      "'ztc device alias put %s ALIAS TARGET'", name, d->vid ? d->vid : "?",
			      d->pid ? d->pid : "?", d->uid, name);
		goto out;
	}
	if (ret_known)
		*ret_known = k;
out:
	ztc_usbdev_list_free(found);
	return rc;
}

ZTC_API int ztc_vmstore_resolve(ztc_ctx *ctx, const char *target, const char *chipid, const char *prefix,
				char **ret_vmuid, char **ret_path)
{
	bool board = target || chipid;
	ztc_vm_list *vms = NULL;
	const char **names = NULL;
	size_t idx;
	int rc;

	if (!ctx || !prefix)
		return ZTC_ERR_ARG;
	if ((rc = ztc_vmstore_list(ctx, target, chipid, &vms)) < 0)
		return rc;
	if (!(names = names_of(vms->vm, vms->n, sizeof(*vms->vm), offsetof(ztc_stored_vm, vmuid)))) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = ztc_resolve_prefix(ctx, board ? "virtual machine of this board" : "stored virtual machine",
				board ? "virtual machines of this board" : "stored virtual machines", prefix, names,
				vms->n, &idx);
	if (rc < 0)
		goto out;
	/* The list is ours and goes: its strings go to the caller instead of copies. */
	ztc_hand_over(ret_vmuid, &vms->vm[idx].vmuid);
	ztc_hand_over(ret_path, &vms->vm[idx].path);
out:
	free(names);
	ztc_vm_list_free(vms);
	return rc;
}
