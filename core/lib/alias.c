/* alias.c: the policy of `ztc device alias put` and `del`: which class an alias pins, what a re-alias keeps. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

ZTC_API int ztc_alias_valid(const char *alias)
{
	if (!alias || !*alias || *alias == '-')
		return 0;
	for (const char *a = alias; *a; a++)
		if (isspace((unsigned char)*a) || iscntrl((unsigned char)*a))
			return 0;
	return 1;
}

/* Is the device a programmer or a USB-serial adapter, through which a board without USB circuitry of
 * its own is reached? */
static bool is_adapter(const ztc_db *db, const ztc_usbdev *d)
{
	for (size_t i = 0; i < ztc_db_count(db); i++) {
		const ztc_target *t = ztc_db_get(db, i);

		if (strcmp(ztc_target_get_type(t), "board") == 0)
			continue;
		for (size_t c = 0; c < ztc_target_class_count(t); c++)
			if (ztc_target_class_matches(t, c, d))
				return true;
	}
	return false;
}

/* "A, B" of t's classes (only those matching d unless d is NULL), for the messages. */
static void list_classes(char *buf, size_t len, const ztc_target *t, const ztc_usbdev *d)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t c = 0; c < ztc_target_class_count(t) && off < len; c++)
		if (!d || ztc_target_class_matches(t, c, d))
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
						ztc_target_class_name(t, c));
}

/* The class the alias will pin (see ztc_alias_put in ztc/device.h). */
static int pick_class(ztc_ctx *ctx, const ztc_db *db, const ztc_target *t, const ztc_usbdev *d,
		      const char *classname, size_t *ret_idx)
{
	const char *id = ztc_target_get_id(t);
	size_t nmatch = 0, n = ztc_target_class_count(t);
	char names[1024];
	int ci;

	for (size_t c = 0; c < n; c++)
		nmatch += (size_t)ztc_target_class_matches(t, c, d);
	if (classname) {
		ci = ztc_target_class_find(t, classname);
		list_classes(names, sizeof(names), t, NULL);
		if (ci < 0)
			return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "target %s has no class '%s' (its classes: %s)", id,
					classname, names);
		if (nmatch && !ztc_target_class_matches(t, (size_t)ci, d)) {
			list_classes(names, sizeof(names), t, d);
			return ztc_fail(ctx, ZTC_ERR_ARG, "class %s of %s does not match device %s:%s (matching classes: %s)",
					classname, id, d->vid, d->pid, names);
		}
		if (!nmatch && !is_adapter(db, d))
			return ztc_fail(ctx, ZTC_ERR_ARG, "device %s:%s does not match any class of %s", d->vid, d->pid, id);
		*ret_idx = (size_t)ci;
		return ZTC_OK;
	}
	if (nmatch > 1) {
		list_classes(names, sizeof(names), t, d);
		return ztc_fail(ctx, ZTC_ERR_AMBIGUOUS,
				"--classname is required: several classes of %s match this device: %s", id, names);
	}
	for (size_t c = 0; c < n; c++)
		if (ztc_target_class_matches(t, c, d)) {
			*ret_idx = c;
			return ZTC_OK;
		}
	if (n && is_adapter(db, d)) {
		const char *jc = ztc_target_get_str(t, "jtag_class");

		ci = jc ? ztc_target_class_find(t, jc) : -1;
		*ret_idx = ci >= 0 ? (size_t)ci : n - 1;
		return ZTC_OK;
	}
	return ztc_fail(ctx, ZTC_ERR_ARG,
			"device %s:%s does not match any class of %s (see 'ztc device discover --matchdb')", d->vid,
			d->pid, id);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The device to alias among those connected with first's uid: the one at opts->port or opts->usbpath
 * (then the alias is pinned to it), else the only one; twins must be told apart. */
static int pick_device(ztc_ctx *ctx, const ztc_usbdev_list *devs, const ztc_usbdev *first,
		       const ztc_alias_opts *opts, const ztc_usbdev **ret_dev)
{
	const char *want = opts->port ? opts->port : opts->usbpath, *how = opts->port ? "port" : "usbpath";
	const ztc_usbdev *pick = NULL;
	char list[768];
	size_t n = 0, off = 0;

	list[0] = '\0';
	for (size_t i = 0; i < devs->n; i++) {
		const ztc_usbdev *d = &devs->dev[i];

		if (strcmp(d->uid, first->uid) != 0)
			continue;
		n++;
		if (want && same_str(opts->port ? d->port : d->usbpath, want))
			pick = d;
		/* How to name each twin: its port, else (no serial port) its usbpath. */
		if (off < sizeof(list))
			off += (size_t)snprintf(list + off, sizeof(list) - off, "%s--%s %s", off ? " or " : "",
						d->port ? "port" : "usbpath", d->port ? d->port : d->usbpath ? d->usbpath : "?");
	}
	if (want && !pick)
		return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "no connected device with uid %s has the %s %s (%s)", first->uid,
				how, want, list);
	if (want && !pick->usbpath)
		return ztc_fail(ctx, ZTC_ERR_UNSUPPORTED, "the device at %s %s has no usbpath to pin the alias to", how,
				want);
	if (!want && n > 1)
		return ztc_fail(ctx, ZTC_ERR_AMBIGUOUS,
				"connected device uid %s: %zu devices share this uid (same serial number): add %s",
				first->uid, n, list);
	*ret_dev = pick ? pick : first;
	return ZTC_OK;
}

/* The entry of exactly this uid and usbpath (none: the unpinned one). */
static const ztc_known *find_entry(const ztc_store *store, const char *uid, const char *usbpath)
{
	for (size_t i = 0; i < ztc_store_count(store); i++) {
		const ztc_known *k = ztc_store_get(store, i);

		if (strcmp(k->uid, uid) == 0 && same_str(k->usbpath, usbpath))
			return k;
	}
	return NULL;
}

struct alias_put {
	ztc_known k;          /* the entry asked for; strings borrowed */
	ztc_known *stored;    /* a copy of the entry as stored */
};

/* Store ap->k, keeping what registration stored when the device keeps its target. */
static int do_alias_put(ztc_ctx *ctx, ztc_store *store, void *userdata)
{
	struct alias_put *ap = userdata;
	const ztc_known *old = find_entry(store, ap->k.uid, ap->k.usbpath), *same = ztc_store_find_alias(store, ap->k.alias);
	ztc_known k = ap->k;
	int rc;

	/* The alias of this uid pinned now, or unpinned, or moved to the other twin: the entry moves. */
	if (same && same != old && strcmp(same->uid, k.uid) == 0) {
		if ((rc = ztc_store_del(ctx, store, k.alias)) < 0)
			return rc;
		old = find_entry(store, k.uid, k.usbpath);
	}

	if (old && old->target && strcmp(old->target, k.target) == 0) {
		if (!k.chipid)
			k.chipid = old->chipid;
		if (!k.remote_id)
			k.remote_id = old->remote_id;
		if (!k.name)
			k.name = old->name;
	}
	if ((rc = ztc_store_put(ctx, store, &k)) < 0)
		return rc;
	ztc_known_free(ap->stored);
	ap->stored = NULL;
	if (ztc_known_dup(find_entry(store, k.uid, k.usbpath), &ap->stored) < 0)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	return ZTC_OK;
}

ZTC_API int ztc_alias_put(ztc_ctx *ctx, ztc_store *store, const ztc_db *db, const ztc_usbdev_list *devices,
			  const char *uid_prefix, const char *alias, const char *target, const ztc_alias_opts *opts,
			  ztc_known **ret_known)
{
	static const ztc_alias_opts none = { 0 };
	struct alias_put ap = { { 0 }, NULL };
	ztc_usbdev_list *found = NULL;
	ztc_db *loaded = NULL;
	const ztc_usbdev *dev;
	const ztc_target *t;
	size_t ci = 0;
	int rc;

	if (!ctx || !uid_prefix || !target)
		return ZTC_ERR_ARG;
	if (!opts)
		opts = &none;
	if (!ztc_alias_valid(alias))
		return ztc_fail(ctx, ZTC_ERR_ARG, "invalid alias '%s': it must be non-empty, without spaces, "
				"and not start with '-'", alias ? alias : "");
	if (!db && (rc = ztc_db_load(ctx, &loaded)) < 0)
		return rc;
	if (!db)
		db = loaded;
	if (!(t = ztc_db_find(db, target))) {
		rc = ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "unknown target '%s' (see 'ztc device supported')", target);
		goto out;
	}
	if (!devices && (rc = ztc_discover(ctx, &found)) < 0)
		goto out;
	if (!devices)
		devices = found;
	if (opts->port && opts->usbpath) {
		rc = ztc_fail(ctx, ZTC_ERR_ARG, "give --port or --usbpath, not both");
		goto out;
	}
	if ((rc = ztc_usbdev_list_resolve_uid(ctx, devices, uid_prefix, &dev)) < 0 ||
	    (rc = pick_device(ctx, devices, dev, opts, &dev)) < 0 ||
	    (rc = pick_class(ctx, db, t, dev, opts->classname, &ci)) < 0)
		goto out;
	ap.k.alias = (char *)alias;
	ap.k.uid = dev->uid;
	ap.k.name = (char *)opts->name;
	ap.k.target = (char *)ztc_target_get_id(t);
	ap.k.chipid = (char *)opts->chipid;
	ap.k.remote_id = (char *)opts->remote_id;
	ap.k.classname = (char *)ztc_target_class_name(t, ci);
	ap.k.usbpath = opts->port || opts->usbpath ? dev->usbpath : NULL;
	rc = store ? do_alias_put(ctx, store, &ap) : ztc_store_update(ctx, do_alias_put, &ap);
	if (rc == ZTC_OK && ret_known) {
		*ret_known = ap.stored;
		ap.stored = NULL;
	}
out:
	ztc_known_free(ap.stored);
	ztc_usbdev_list_free(found);
	ztc_db_free(loaded);
	return rc;
}

struct alias_del {
	const char *prefix;
	char *deleted;
};

static int do_alias_del(ztc_ctx *ctx, ztc_store *store, void *userdata)
{
	struct alias_del *ad = userdata;
	const ztc_known *k;
	int rc;

	if ((rc = ztc_store_resolve_alias(ctx, store, ad->prefix, &k)) < 0)
		return rc;
	free(ad->deleted);
	if (!(ad->deleted = strdup(k->alias)))
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	return ztc_store_del(ctx, store, ad->deleted);
}

ZTC_API int ztc_alias_del(ztc_ctx *ctx, ztc_store *store, const char *prefix, char **ret_alias)
{
	struct alias_del ad = { prefix, NULL };
	int rc;

	if (!ctx || !prefix)
		return ZTC_ERR_ARG;
	rc = store ? do_alias_del(ctx, store, &ad) : ztc_store_update(ctx, do_alias_del, &ad);
	if (rc == ZTC_OK && ret_alias) {
		*ret_alias = ad.deleted;
		ad.deleted = NULL;
	}
	free(ad.deleted);
	return rc;
}
