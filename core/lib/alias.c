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

/* The programmer or USB-serial adapter the device is (a target whose type is not "board" with a class
 * matching it), through which a board without USB circuitry of its own is reached; NULL for none. */
static const ztc_target *adapter_of(const ztc_db *db, const ztc_usbdev *d)
{
	for (size_t i = 0; i < ztc_db_count(db); i++) {
		const ztc_target *t = ztc_db_get(db, i);

		if (strcmp(ztc_target_get_type(t), "board") == 0)
			continue;
		for (size_t c = 0; c < ztc_target_class_count(t); c++)
			if (ztc_target_class_matches(t, c, d))
				return t;
	}
	return NULL;
}

/* Whether some class of t lists USB ids: the board then has a USB connection of its own. */
static bool has_own_usb(const ztc_target *t)
{
	yajl_val classes = ztc_json_get(ztc_target_json(t), "classes", yajl_t_array);

	for (size_t i = 0; classes && i < YAJL_GET_ARRAY(classes)->len; i++) {
		yajl_val usb = ztc_json_get(YAJL_GET_ARRAY(classes)->values[i], "usb", yajl_t_array);

		if (usb && YAJL_GET_ARRAY(usb)->len)
			return true;
	}
	return false;
}

/* Whether t's flash object runs a tool over the serial port itself ({port} in its arguments) without a
 * 1200-baud touch: the chip's own serial bootloader, which any USB-serial adapter on its UART reaches. */
static bool flashes_over_uart(const ztc_target *t)
{
	yajl_val flash = ztc_json_get(ztc_target_json(t), "flash", yajl_t_object);
	yajl_val args = ztc_json_get(flash, "args", yajl_t_array), touch = ztc_json_get(flash, "touch1200", yajl_t_any);
	const char *method = ztc_json_get_str(flash, "method");

	if (!method || strcmp(method, "tool") != 0 || !args || (touch && YAJL_IS_TRUE(touch)))
		return false;
	for (size_t i = 0; i < YAJL_GET_ARRAY(args)->len; i++) {
		const char *a = YAJL_GET_STRING(YAJL_GET_ARRAY(args)->values[i]);

		if (a && strstr(a, "{port}"))
			return true;
	}
	return false;
}

/* Whether a board of target t, no class of which matches the adapter a's device, can be programmed
 * through it: one without USB of its own through any; else through a probe when its device.json has
 * jtag data (jtag_capable, jtag_class: OpenOCD programs it), through a USB-serial adapter when it
 * flashes over its UART. On refusal the error is recorded. */
static int check_programmer(ztc_ctx *ctx, const ztc_target *t, const ztc_target *a, const ztc_usbdev *d)
{
	const char *type = ztc_target_get_type(a);
	bool probe = strcmp(type, "jtag") == 0;

	if (!has_own_usb(t))
		return ZTC_OK;
	if (probe && (ztc_target_get_int(t, "jtag_capable", 0) || ztc_target_get_str(t, "jtag_class")))
		return ZTC_OK;
	if (!probe && strcmp(type, "usbtoserial") == 0 && flashes_over_uart(t))
		return ZTC_OK;
	return ztc_fail(ctx, ZTC_ERR_ARG, "%s cannot be programmed through device %s:%s (%s, a %s): it has USB of "
			"its own and %s; alias the board's own USB device instead (see 'ztc device discover "
			"--matchdb')", ztc_target_get_id(t), d->vid, d->pid, ztc_target_get_name(a),
			probe ? "probe" : "USB-serial adapter",
			probe ? "no jtag data (jtag_capable, jtag_class) for a probe"
			      : "its flash method does not work over a serial bootloader");
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
	const ztc_target *a;
	char names[1024];
	int ci, rc;

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
		if (!nmatch && !(a = adapter_of(db, d)))
			return ztc_fail(ctx, ZTC_ERR_ARG, "device %s:%s does not match any class of %s", d->vid, d->pid, id);
		if (!nmatch && (rc = check_programmer(ctx, t, a, d)) < 0)
			return rc;
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
	if (n && (a = adapter_of(db, d))) {
		const char *jc = ztc_target_get_str(t, "jtag_class");

		if ((rc = check_programmer(ctx, t, a, d)) < 0)
			return rc;
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
 * (then the alias is pinned to it), else the only one; twins must be told apart. by_port: first was
 * named by its port (uid_prefix a port path), which names one twin: among twins, the alias is pinned
 * to it as with --port. *ret_pin: pin the alias to (*ret_dev)->usbpath. */
static int pick_device(ztc_ctx *ctx, const ztc_usbdev_list *devs, const ztc_usbdev *first, bool by_port,
		       const ztc_alias_opts *opts, const ztc_usbdev **ret_dev, bool *ret_pin)
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
	if (want && by_port && pick != first)
		return ztc_fail(ctx, ZTC_ERR_ARG, "the port %s and the %s %s name two different devices", first->port,
				how, want);
	if (!want && by_port && n > 1) {
		/* The port given as the device is the twin's own: pinned as with --port. */
		pick = first;
		want = first->port;
		how = "port";
	}
	if (want && !pick->usbpath)
		return ztc_fail(ctx, ZTC_ERR_UNSUPPORTED, "the device at %s %s has no usbpath to pin the alias to", how,
				want);
	if (!want && n > 1)
		return ztc_fail(ctx, ZTC_ERR_AMBIGUOUS,
				"connected device uid %s: %zu devices share this uid (same serial number): add %s",
				first->uid, n, list);
	*ret_dev = pick ? pick : first;
	*ret_pin = want != NULL;
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
	char *replaced;       /* the device's previous alias, when the put changes it */
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
	free(ap->replaced);
	ap->replaced = NULL;
	if (old && old->alias && strcmp(old->alias, k.alias) != 0 && !(ap->replaced = strdup(old->alias)))
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
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
	struct alias_put ap = { { 0 }, NULL, NULL };
	ztc_usbdev_list *found = NULL;
	ztc_db *loaded = NULL;
	const ztc_usbdev *dev;
	const ztc_target *t;
	size_t ci = 0;
	bool pin = false;
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
	    (rc = pick_device(ctx, devices, dev, strchr(uid_prefix, '/') != NULL, opts, &dev, &pin)) < 0 ||
	    (rc = pick_class(ctx, db, t, dev, opts->classname, &ci)) < 0)
		goto out;
	ap.k.alias = (char *)alias;
	ap.k.uid = dev->uid;
	ap.k.name = (char *)opts->name;
	ap.k.target = (char *)ztc_target_get_id(t);
	ap.k.chipid = (char *)opts->chipid;
	ap.k.remote_id = (char *)opts->remote_id;
	ap.k.classname = (char *)ztc_target_class_name(t, ci);
	ap.k.usbpath = pin ? dev->usbpath : NULL;
	rc = store ? do_alias_put(ctx, store, &ap) : ztc_store_update(ctx, do_alias_put, &ap);
	if (rc == ZTC_OK && ap.replaced)
		ztc_warn(ctx, "%s replaces %s as the alias of device %s", alias, ap.replaced, dev->uid);
	if (rc == ZTC_OK && ret_known) {
		*ret_known = ap.stored;
		ap.stored = NULL;
	}
out:
	free(ap.replaced);
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

/* Ports in the order people number them: /dev/ttyACM2 before /dev/ttyACM10; no port last. */
static int cmp_port(const char *a, const char *b)
{
	if (!a || !b)
		return !a - !b;
	return strverscmp(a, b);
}

static int cmp_entry(const void *pa, const void *pb)
{
	const ztc_alias_entry *a = pa, *b = pb;
	int c = cmp_port(a->dev ? a->dev->port : NULL, b->dev ? b->dev->port : NULL);

	if (c)
		return c;
	if (!a->dev != !b->dev)
		return !a->dev - !b->dev; /* connected without a port before not connected */
	if ((c = strcmp(a->known->alias, b->known->alias)) != 0 || !a->dev)
		return c;
	/* Twins without a port answering to one alias: by usbpath. */
	return cmp_port(a->dev->usbpath, b->dev->usbpath);
}

ZTC_API int ztc_alias_list_new(ztc_ctx *ctx, const ztc_store *store, const ztc_usbdev_list *devices,
			       ztc_alias_list **ret_list)
{
	size_t n = ztc_store_count(store), cap = n + (devices ? devices->n : 0);
	ztc_alias_list *l;

	if (!ctx || !store || !devices || !ret_list)
		return ZTC_ERR_ARG;
	if (!(l = calloc(1, sizeof(*l))) || !(l->e = calloc(cap ? cap : 1, sizeof(*l->e)))) {
		free(l);
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		const ztc_known *k = ztc_store_get(store, i);
		bool seen = false;

		/* The devices the entry names, as --matchdb finds them: the one at its usbpath when it is
		 * pinned, else each device of its uid without an entry pinned to it (twins without pins both
		 * answer to the alias: a row each). */
		for (size_t j = 0; j < devices->n; j++)
			if (devices->dev[j].uid && k->uid && l->n < cap &&
			    ztc_store_find_device(store, devices->dev[j].uid, devices->dev[j].usbpath) == k) {
				l->e[l->n++] = (ztc_alias_entry){ k, &devices->dev[j] };
				seen = true;
			}
		if (!seen && l->n < cap)
			l->e[l->n++] = (ztc_alias_entry){ k, NULL };
	}
	qsort(l->e, l->n, sizeof(*l->e), cmp_entry);
	*ret_list = l;
	return ZTC_OK;
}

ZTC_API void ztc_alias_list_free(ztc_alias_list *list)
{
	if (!list)
		return;
	free(list->e);
	free(list);
}
