/* discover.c: raw USB discovery through libudev, records fused per usb_device, and the hotplug monitor. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmount.h>
#include <libudev.h>

#include "inline.h"
#include "internal.h"

/* The order matters: when the records of a device fuse, the first non-empty value of a field wins. */
static const char *const subsystems[] = { "tty", "block", "usb", "hid" };

struct rawrec {
	ztc_usbdev d;
	unsigned rank;  /* index in subsystems[]: which record of a device gives a field first */
	char *syspath;  /* the order of two records of one device and subsystem (interface 0 first) */
};

struct reclist {
	struct rawrec *v;
	size_t n, cap;
};

void ztc_usbdev_clear(ztc_usbdev *d)
{
	free(d->vid);
	free(d->pid);
	free(d->sid);
	free(d->uid);
	free(d->port);
	free(d->disk);
	free(d->desc);
	free(d->block);
	free(d->usbpath);
	memset(d, 0, sizeof(*d));
}

static const char *prop(struct udev_device *dev, const char *name, const char *fallback)
{
	const char *v = udev_device_get_property_value(dev, name);

	if (ztc_str_empty(v) && fallback)
		v = udev_device_get_property_value(dev, fallback);
	return ztc_str_empty(v) ? NULL : v;
}

/* "0003:0000046D:0000C31C" -> vendor "046D", product "C31C". Only USB HID (bus 0003) counts. */
bool ztc_parse_hid_id(const char *hid_id, char vid[5], char pid[5])
{
	unsigned int bus, v, p;
	char tail;

	if (!hid_id || sscanf(hid_id, "%x:%x:%x%c", &bus, &v, &p, &tail) != 3)
		return false;
	if (bus != 3 || v > 0xffff || p > 0xffff)
		return false;
	snprintf(vid, 5, "%04X", v);
	snprintf(pid, 5, "%04X", p);
	return true;
}

/* The kernel names a USB device "usbN" (a root hub) or "B-P[.P]..." (bus, then the port on each hub
 * from the root); its interfaces are "B-P:C.I", and no node below one is named like a device. */
static bool is_usb_device_name(const char *s, size_t n)
{
	size_t i = 0, start;

	if (n > 3 && strncmp(s, "usb", 3) == 0) {
		for (i = 3; i < n && isdigit((unsigned char)s[i]); i++)
			;
		return i == n;
	}
	for (start = i; i < n && isdigit((unsigned char)s[i]); i++)
		;
	if (i == start || i == n || s[i] != '-')
		return false;
	for (;;) {
		for (start = ++i; i < n && isdigit((unsigned char)s[i]); i++)
			;
		if (i == start)
			return false;
		if (i == n)
			return true;
		if (s[i] != '.')
			return false;
	}
}

#define USBPATH_MAX 64 /* 7 tiers of hubs make "12-1.2.3.4.5.6.7"; anything far longer is not a port path */

bool ztc_usbpath_valid(const char *s)
{
	return s && strlen(s) <= USBPATH_MAX && is_usb_device_name(s, strlen(s));
}

/* The usbpath of a node: the sysname of the deepest usb_device on its syspath, read from the path
 * itself so that no parent device is looked up. NULL when there is none (or out of memory). */
char *ztc_usbpath_of(const char *syspath)
{
	const char *best = NULL, *p = syspath;
	size_t bestlen = 0;

	while (p && *p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n && n <= USBPATH_MAX && is_usb_device_name(p, n)) {
			best = p;
			bestlen = n;
		}
		p = slash ? slash + 1 : NULL;
	}
	return best ? strndup(best, bestlen) : NULL;
}

/* Build the raw record of one udev device; false when it is not a USB device we can identify. */
bool ztc_make_record(const char *subsystem, struct udev_device *dev, struct libmnt_table **mounts,
		     ztc_ctx *ctx, ztc_usbdev *r)
{
	const char *devnode = udev_device_get_devnode(dev);
	const char *sid;

	memset(r, 0, sizeof(*r));
	if (strcmp(subsystem, "hid") == 0) {
		char vid[5], pid[5];

		if (!ztc_parse_hid_id(udev_device_get_property_value(dev, "HID_ID"), vid, pid))
			return false;
		r->vid = strdup(vid);
		r->pid = strdup(pid);
		sid = prop(dev, "HID_UNIQ", NULL);
		r->desc = ztc_str_empty(prop(dev, "HID_NAME", NULL)) ? NULL : strdup(prop(dev, "HID_NAME", NULL));
	} else {
		const char *vid = prop(dev, "ID_VENDOR_ID", "ID_USB_VENDOR_ID");
		const char *pid = prop(dev, "ID_MODEL_ID", "ID_USB_MODEL_ID");
		const char *desc = prop(dev, "ID_SERIAL", "ID_USB_SERIAL");

		if (!ztc_is_hex4(vid) || !ztc_is_hex4(pid))
			return false;
		if (strcmp(subsystem, "usb") == 0 && !devnode)
			return false; /* interfaces: their device node is on the parent */
		r->vid = ztc_strdup_upper(vid);
		r->pid = ztc_strdup_upper(pid);
		sid = prop(dev, "ID_SERIAL_SHORT", "ID_USB_SERIAL_SHORT");
		r->desc = desc ? strdup(desc) : NULL;
		if (strcmp(subsystem, "tty") == 0 && devnode)
			r->port = strdup(devnode);
		if (strcmp(subsystem, "block") == 0 && devnode) {
			r->block = strdup(devnode);
			if (!*mounts)
				*mounts = ztc_mounts_load(ctx);
			r->disk = ztc_mounts_find(*mounts, devnode);
		}
	}
	r->sid = sid ? ztc_strdup_upper(sid) : strdup("no_sid");
	r->uid = malloc(41);
	if (!r->vid || !r->pid || !r->sid || !r->uid ||
	    ztc_uid_compute(r->vid, r->pid, r->sid, r->uid) != ZTC_OK) {
		ztc_usbdev_clear(r);
		return false;
	}
	return true;
}

static int reclist_push(struct reclist *l, const ztc_usbdev *d, unsigned rank, char *syspath)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct rawrec *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return ZTC_ERR_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n].d = *d;
	l->v[l->n].rank = rank;
	l->v[l->n].syspath = syspath;
	l->n++;
	return ZTC_OK;
}

/* The records of one physical device: those under one usb_device; a node without one (no USB parent
 * in sysfs) joins the other such nodes of its uid, as the original toolchain fused everything. */
static int cmp_device(const ztc_usbdev *x, const ztc_usbdev *y)
{
	if (!x->usbpath != !y->usbpath)
		return x->usbpath ? -1 : 1;
	return x->usbpath ? strcmp(x->usbpath, y->usbpath) : strcmp(x->uid, y->uid);
}

static int cmp_rawrec(const void *a, const void *b)
{
	const struct rawrec *x = a, *y = b;
	int c = cmp_device(&x->d, &y->d);

	if (c)
		return c;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->syspath, y->syspath);
}

/* The order of the list: by uid, twins by usbpath (a node without one first). */
static int cmp_usbdev(const void *a, const void *b)
{
	const ztc_usbdev *x = a, *y = b;
	int c = strcmp(x->uid, y->uid);

	if (c || !x->usbpath || !y->usbpath)
		return c ? c : !!x->usbpath - !!y->usbpath;
	return strcmp(x->usbpath, y->usbpath);
}

static void take_if_empty(char **dst, char **src)
{
	if (ztc_str_empty(*dst) && !ztc_str_empty(*src)) {
		free(*dst);
		*dst = *src;
		*src = NULL;
	}
}

/* Fuse the records of each physical device (tty first, then block, usb, hid): the identity comes from
 * the first record, every other field from the first record that has it. */
static ztc_usbdev_list *fuse(struct reclist *l)
{
	ztc_usbdev_list *out = calloc(1, sizeof(*out));
	size_t i = 0;

	if (!out)
		return NULL;
	out->dev = calloc(l->n ? l->n : 1, sizeof(ztc_usbdev));
	if (!out->dev) {
		free(out);
		return NULL;
	}
	if (l->n) /* l->v is NULL then: qsort wants a valid pointer even for 0 */
		qsort(l->v, l->n, sizeof(*l->v), cmp_rawrec);
	while (i < l->n) {
		ztc_usbdev *d = &out->dev[out->n++];
		size_t j = i + 1;

		*d = l->v[i].d;
		memset(&l->v[i].d, 0, sizeof(ztc_usbdev));
		for (; j < l->n && cmp_device(&l->v[j].d, d) == 0; j++) {
			ztc_usbdev *o = &l->v[j].d;

			take_if_empty(&d->port, &o->port);
			take_if_empty(&d->disk, &o->disk);
			take_if_empty(&d->desc, &o->desc);
			take_if_empty(&d->block, &o->block);
			ztc_usbdev_clear(o);
		}
		i = j;
	}
	if (out->n)
		qsort(out->dev, out->n, sizeof(*out->dev), cmp_usbdev);
	return out;
}

/* Read one listed device and add its record (if it is a USB device we can identify). */
static int read_device(ztc_ctx *ctx, struct udev *udev, unsigned rank, const char *path, struct reclist *l,
		       struct libmnt_table **mounts)
{
	const char *subsystem = subsystems[rank];
	struct udev_device *dev = udev_device_new_from_syspath(udev, path);
	ztc_usbdev r;
	int rc = ZTC_OK;

	if (!dev)
		return ZTC_OK; /* unplugged while we looked */
	if (ztc_make_record(subsystem, dev, mounts, ctx, &r)) {
		const char *sp = udev_device_get_syspath(dev);
		char *syspath = strdup(sp);

		r.usbpath = ztc_usbpath_of(sp);
		ztc_dbg(ctx, "%s record %s:%s sid %s uid %s usbpath %s", subsystem, r.vid, r.pid, r.sid, r.uid,
			r.usbpath ? r.usbpath : "-");
		rc = syspath ? reclist_push(l, &r, rank, syspath) : ZTC_ERR_NOMEM;
		if (rc < 0) {
			ztc_usbdev_clear(&r);
			free(syspath);
		}
	}
	udev_device_unref(dev);
	return rc;
}

/* One pass over the devices of a subsystem, as sysfs lists them: /sys/bus/S/devices for a bus (usb,
 * hid), else /sys/class/S. Each device is read once, by libudev. libudev's enumerator is not used: it
 * builds a device object for every entry (resolving its path and subsystem) that its API cannot hand
 * over, so every device would be read twice (bench/discover: 283 ms instead of 95 at 256 boards). */
static int scan_subsystem(ztc_ctx *ctx, struct udev *udev, unsigned rank, struct reclist *l,
			  struct libmnt_table **mounts)
{
	const char *subsystem = subsystems[rank];
	char dir[64], path[PATH_MAX];
	struct dirent *e;
	int rc = ZTC_OK;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/%s/devices", subsystem);
	d = opendir(dir);
	if (!d && errno == ENOENT) {
		snprintf(dir, sizeof(dir), "/sys/class/%s", subsystem);
		d = opendir(dir);
	}
	if (!d) {
		if (errno == ENOENT)
			return ZTC_OK; /* no such device now (the driver is not even loaded) */
		return ztc_fail(ctx, ZTC_ERR_UDEV, "udev is unavailable: cannot list %s: %s", dir, strerror(errno));
	}
	while (rc == ZTC_OK && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		/* USB interfaces ("1-1:1.0") have no node: their nodes are children, listed elsewhere. */
		if (strcmp(subsystem, "usb") == 0 && strchr(e->d_name, ':'))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= sizeof(path))
			continue;
		rc = read_device(ctx, udev, rank, path, l, mounts);
	}
	closedir(d);
	return rc;
}

/* Read the devices under one usb_device (itself, its interfaces' nodes, the devices of a hub below it)
 * through libudev's enumerator: a handful of devices, where a full pass reads them all. */
static int scan_usbpath(ztc_ctx *ctx, struct udev *udev, const char *usbpath, struct reclist *l,
			struct libmnt_table **mounts)
{
	struct udev_enumerate *en;
	struct udev_device *parent;
	struct udev_list_entry *e;
	char path[PATH_MAX];
	int rc;

	snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s", usbpath);
	parent = udev_device_new_from_syspath(udev, path);
	if (!parent)
		return ZTC_OK; /* unplugged */
	en = udev_enumerate_new(udev);
	if (!en) {
		udev_device_unref(parent);
		return ztc_fail(ctx, ZTC_ERR_UDEV, "udev is unavailable: cannot enumerate devices");
	}
	udev_enumerate_add_match_parent(en, parent);
	for (size_t i = 0; i < sizeof(subsystems) / sizeof(*subsystems); i++)
		udev_enumerate_add_match_subsystem(en, subsystems[i]);
	rc = udev_enumerate_scan_devices(en);
	if (rc < 0)
		rc = ztc_fail(ctx, ZTC_ERR_UDEV, "udev is unavailable: cannot scan the devices of %s (%s)", usbpath,
			      strerror(-rc));
	else
		rc = ZTC_OK;
	udev_list_entry_foreach(e, rc == ZTC_OK ? udev_enumerate_get_list_entry(en) : NULL) {
		const char *sp = udev_list_entry_get_name(e), *base = strrchr(sp, '/');
		struct udev_device *dev = udev_device_new_from_syspath(udev, sp);
		const char *subsystem = dev ? udev_device_get_subsystem(dev) : NULL;
		unsigned rank = 0;

		while (subsystem && rank < sizeof(subsystems) / sizeof(*subsystems) &&
		       strcmp(subsystems[rank], subsystem) != 0)
			rank++;
		udev_device_unref(dev);
		if (!subsystem || rank == sizeof(subsystems) / sizeof(*subsystems))
			continue;
		if (rank == 2 && base && strchr(base, ':'))
			continue; /* a USB interface, as in scan_subsystem() */
		rc = read_device(ctx, udev, rank, sp, l, mounts);
		if (rc < 0)
			break;
	}
	udev_enumerate_unref(en);
	udev_device_unref(parent);
	return rc;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

static int usbdev_copy(ztc_usbdev *dst, const ztc_usbdev *src)
{
	bool oom = false;

	dst->vid = dup_or_null(src->vid, &oom);
	dst->pid = dup_or_null(src->pid, &oom);
	dst->sid = dup_or_null(src->sid, &oom);
	dst->uid = dup_or_null(src->uid, &oom);
	dst->port = dup_or_null(src->port, &oom);
	dst->disk = dup_or_null(src->disk, &oom);
	dst->desc = dup_or_null(src->desc, &oom);
	dst->block = dup_or_null(src->block, &oom);
	dst->usbpath = dup_or_null(src->usbpath, &oom);
	if (oom) {
		ztc_usbdev_clear(dst);
		return ZTC_ERR_NOMEM;
	}
	return ZTC_OK;
}

/* Is a record's usb_device the device at usbpath or one behind it (a hub's)? */
static bool under(const char *rec_usbpath, const char *usbpath)
{
	size_t n = strlen(usbpath);

	return rec_usbpath && strncmp(rec_usbpath, usbpath, n) == 0 && (!rec_usbpath[n] || rec_usbpath[n] == '.');
}

/* The device set: all of it read again (prev NULL), or prev with only the devices under the given
 * usbpaths read again. */
static int discover(ztc_ctx *ctx, const ztc_usbdev_list *prev, char *const *usbpaths, size_t nusbpaths,
		    ztc_usbdev_list **ret_list)
{
	struct reclist l = { 0 };
	struct libmnt_table *mounts = NULL;
	ztc_usbdev_list *out = NULL;
	struct udev *udev;
	int rc = ZTC_OK;

	/* libudev reports an unmounted sysfs as "no devices": say what is wrong instead. */
	if (access("/sys/class", F_OK) < 0)
		return ztc_fail(ctx, ZTC_ERR_UDEV, "udev is unavailable: /sys is not mounted (no /sys/class)");
	udev = udev_new();
	if (!udev)
		return ztc_fail(ctx, ZTC_ERR_UDEV, "udev is unavailable: %s", strerror(errno));
	if (!prev) {
		for (unsigned i = 0; i < sizeof(subsystems) / sizeof(*subsystems) && rc == ZTC_OK; i++)
			rc = scan_subsystem(ctx, udev, i, &l, &mounts);
	} else {
		for (size_t i = 0; i < prev->n && rc == ZTC_OK; i++) {
			bool changed = false;
			ztc_usbdev d = { 0 };
			char *sp;

			for (size_t k = 0; k < nusbpaths && !changed; k++)
				changed = under(prev->dev[i].usbpath, usbpaths[k]);
			if (changed)
				continue;
			sp = strdup("");
			rc = sp ? usbdev_copy(&d, &prev->dev[i]) : ZTC_ERR_NOMEM;
			if (rc == ZTC_OK)
				rc = reclist_push(&l, &d, 0, sp);
			if (rc < 0) {
				ztc_usbdev_clear(&d);
				free(sp);
			}
		}
		for (size_t k = 0; k < nusbpaths && rc == ZTC_OK; k++)
			rc = scan_usbpath(ctx, udev, usbpaths[k], &l, &mounts);
	}
	if (rc == ZTC_OK) {
		out = fuse(&l);
		if (!out)
			rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	} else if (rc == ZTC_ERR_NOMEM) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < l.n; i++) {
		ztc_usbdev_clear(&l.v[i].d);
		free(l.v[i].syspath);
	}
	free(l.v);
	if (mounts)
		mnt_unref_table(mounts);
	udev_unref(udev);
	if (rc == ZTC_OK)
		*ret_list = out;
	return rc;
}

ZTC_API int ztc_discover(ztc_ctx *ctx, ztc_usbdev_list **ret_list)
{
	if (!ctx || !ret_list)
		return ZTC_ERR_ARG;
	return discover(ctx, NULL, NULL, 0, ret_list);
}

ZTC_API void ztc_usbdev_list_free(ztc_usbdev_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		ztc_usbdev_clear(&list->dev[i]);
	free(list->dev);
	free(list);
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

ZTC_API int ztc_usbdev_list_equal(const ztc_usbdev_list *a, const ztc_usbdev_list *b)
{
	if (!a || !b || a->n != b->n)
		return a == b;
	for (size_t i = 0; i < a->n; i++) {
		const ztc_usbdev *x = &a->dev[i], *y = &b->dev[i];

		if (!str_eq(x->uid, y->uid) || !str_eq(x->port, y->port) || !str_eq(x->disk, y->disk) ||
		    !str_eq(x->desc, y->desc) || !str_eq(x->block, y->block) || !str_eq(x->usbpath, y->usbpath))
			return 0;
	}
	return 1;
}

/* ---- monitor ---------------------------------------------------------------------------------- */

/* How long to wait after the last event for the end of a burst that nothing announces (a change event,
 * a disk that usb-storage adds after the plug), and for one that should be announced but was not: a
 * plug without the bind of its usb_device (kernels before 4.14 send no bind), an interface unbound
 * without its device going away. */
#define STRAY_SETTLE_MS 50
#define BURST_TIMEOUT_MS 500

struct ztc_monitor {
	ztc_ctx *ctx;
	struct udev *udev;
	struct udev_monitor *mon;
	char **pending;     /* usbpaths of the plugs and unplugs under way */
	size_t npending, cap;
	char **touched;     /* usbpaths of the devices events were about since the set was last read */
	size_t ntouched, tcap;
	bool touched_all;   /* an event about a node outside any USB device, or too many to track */
	bool dirty;         /* events since the set was last reported changed */
	bool complete;      /* a burst ended (bind or remove of a usb_device) */
	long long last_ms;  /* CLOCK_MONOTONIC of the last event */
};

ZTC_API int ztc_monitor_new(ztc_ctx *ctx, ztc_monitor **ret_mon)
{
	ztc_monitor *m;

	if (!ctx || !ret_mon)
		return ZTC_ERR_ARG;
	m = calloc(1, sizeof(*m));
	if (!m)
		return ZTC_ERR_NOMEM;
	m->ctx = ctx;
	m->udev = udev_new();
	if (m->udev)
		m->mon = udev_monitor_new_from_netlink(m->udev, "udev");
	if (!m->mon) {
		ztc_monitor_free(m);
		return ztc_fail(ctx, ZTC_ERR_UDEV, "cannot create a udev monitor");
	}
	for (size_t i = 0; i < sizeof(subsystems) / sizeof(*subsystems); i++)
		udev_monitor_filter_add_match_subsystem_devtype(m->mon, subsystems[i], NULL);
	if (udev_monitor_enable_receiving(m->mon) < 0) {
		ztc_monitor_free(m);
		return ztc_fail(ctx, ZTC_ERR_UDEV, "cannot receive udev events");
	}
	*ret_mon = m;
	return ZTC_OK;
}

static void pending_clear(ztc_monitor *m)
{
	for (size_t i = 0; i < m->npending; i++)
		free(m->pending[i]);
	m->npending = 0;
}

static void touched_clear(ztc_monitor *m)
{
	for (size_t i = 0; i < m->ntouched; i++)
		free(m->touched[i]);
	m->ntouched = 0;
	m->touched_all = false;
}

ZTC_API void ztc_monitor_free(ztc_monitor *m)
{
	if (!m)
		return;
	pending_clear(m);
	free(m->pending);
	touched_clear(m);
	free(m->touched);
	if (m->mon)
		udev_monitor_unref(m->mon);
	if (m->udev)
		udev_unref(m->udev);
	free(m);
}

ZTC_API int ztc_monitor_get_fd(const ztc_monitor *m)
{
	return m ? udev_monitor_get_fd(m->mon) : -1;
}

/* Add a copy of usbpath to a set; false when out of memory. */
static bool set_add(char ***v, size_t *n, size_t *cap, const char *usbpath)
{
	char *copy;

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i], usbpath) == 0)
			return true;
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		char **nv = realloc(*v, ncap * sizeof(*nv));

		if (!nv)
			return false;
		*v = nv;
		*cap = ncap;
	}
	copy = strdup(usbpath);
	if (!copy)
		return false;
	(*v)[(*n)++] = copy;
	return true;
}

/* Out of memory, a burst is simply not tracked: the fallback timer ends it. */
static void pending_add(ztc_monitor *m, const char *usbpath)
{
	set_add(&m->pending, &m->npending, &m->cap, usbpath);
}

static void pending_del(ztc_monitor *m, const char *usbpath)
{
	for (size_t i = 0; i < m->npending; i++)
		if (strcmp(m->pending[i], usbpath) == 0) {
			free(m->pending[i]);
			m->pending[i] = m->pending[--m->npending];
			return;
		}
}

/* One event, as part of a burst. A plug is the add of a usb_device, its interfaces and their nodes,
 * then the bind of each interface and last the bind of the usb_device; an unplug removes the nodes and
 * interfaces and last the usb_device. */
static void track(ztc_monitor *m, struct udev_device *dev)
{
	const char *action = udev_device_get_action(dev), *devtype = udev_device_get_devtype(dev);
	const char *syspath = udev_device_get_syspath(dev);
	char *usbpath = syspath ? ztc_usbpath_of(syspath) : NULL;
	bool usb_device = devtype && strcmp(devtype, "usb_device") == 0;

	m->dirty = true;
	m->last_ms = ztc_now_ms();
	ztc_dbg(m->ctx, "udev event %s %s", action ? action : "?", syspath ? syspath : "?");
	if (!usbpath || !set_add(&m->touched, &m->ntouched, &m->tcap, usbpath))
		m->touched_all = true;
	if (!action || !usbpath) {
		free(usbpath);
		return;
	}
	if (usb_device && strcmp(action, "add") == 0) {
		pending_add(m, usbpath);
	} else if (usb_device && (strcmp(action, "bind") == 0 || strcmp(action, "remove") == 0)) {
		pending_del(m, usbpath);
		m->complete = true;
	} else if (!usb_device && (strcmp(action, "remove") == 0 || strcmp(action, "unbind") == 0)) {
		pending_add(m, usbpath); /* an unplug under way: the remove of its usb_device ends it */
	}
	free(usbpath);
}

ZTC_API int ztc_monitor_settle(ztc_monitor *m, int *ret_wait_ms)
{
	struct udev_device *dev;
	long long waited;
	int limit;

	if (!m || !ret_wait_ms)
		return ZTC_ERR_ARG;
	while ((dev = udev_monitor_receive_device(m->mon)) != NULL) {
		track(m, dev);
		udev_device_unref(dev);
	}
	if (!m->dirty) {
		*ret_wait_ms = -1;
		return 0;
	}
	if (!m->complete || m->npending) {
		limit = m->npending ? BURST_TIMEOUT_MS : STRAY_SETTLE_MS;
		waited = ztc_now_ms() - m->last_ms;
		if (waited < limit) {
			*ret_wait_ms = (int)(limit - waited);
			return 0;
		}
		if (m->npending)
			ztc_dbg(m->ctx, "%zu USB device(s) did not finish binding or unplugging within %d ms",
				m->npending, BURST_TIMEOUT_MS);
		pending_clear(m);
	}
	m->dirty = m->complete = false;
	*ret_wait_ms = -1;
	return 1;
}

ZTC_API int ztc_monitor_discover(ztc_monitor *m, const ztc_usbdev_list *prev, ztc_usbdev_list **ret_list)
{
	bool all;
	int rc;

	if (!m || !ret_list)
		return ZTC_ERR_ARG;
	/* Past a few dozen devices, one pass over everything is cheaper than a walk under each. */
	all = !prev || m->touched_all || m->ntouched > 32;
	rc = discover(m->ctx, all ? NULL : prev, m->touched, all ? 0 : m->ntouched, ret_list);
	if (rc == ZTC_OK)
		touched_clear(m);
	return rc;
}

ZTC_API int ztc_monitor_drain(ztc_monitor *m)
{
	struct udev_device *dev;
	int n = 0;

	/* The monitor socket is non-blocking: receive until it is empty. */
	while ((dev = udev_monitor_receive_device(m->mon)) != NULL) {
		ztc_dbg(m->ctx, "udev event %s %s", udev_device_get_action(dev) ? udev_device_get_action(dev) : "?",
			udev_device_get_syspath(dev));
		udev_device_unref(dev);
		n++;
	}
	return n;
}
