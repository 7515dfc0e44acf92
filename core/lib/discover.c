/* discover.c: raw USB discovery through libudev, records fused per usb_device, and the hotplug monitor. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmount.h>
#include <libudev.h>

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

static void usbdev_clear(ztc_usbdev *d)
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

static bool is_hex4(const char *s)
{
	if (!s || strlen(s) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
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

		if (!is_hex4(vid) || !is_hex4(pid))
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
		usbdev_clear(r);
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
			usbdev_clear(o);
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
			usbdev_clear(&r);
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

ZTC_API int ztc_discover(ztc_ctx *ctx, ztc_usbdev_list **ret_list)
{
	struct reclist l = { 0 };
	struct libmnt_table *mounts = NULL;
	ztc_usbdev_list *out = NULL;
	struct udev *udev;
	int rc = ZTC_OK;

	if (!ctx || !ret_list)
		return ZTC_ERR_ARG;
	/* libudev reports an unmounted sysfs as "no devices": say what is wrong instead. */
	if (access("/sys/class", F_OK) < 0)
		return ztc_fail(ctx, ZTC_ERR_UDEV, "udev is unavailable: /sys is not mounted (no /sys/class)");
	udev = udev_new();
	if (!udev)
		return ztc_fail(ctx, ZTC_ERR_UDEV, "udev is unavailable: %s", strerror(errno));
	for (unsigned i = 0; i < sizeof(subsystems) / sizeof(*subsystems) && rc == ZTC_OK; i++)
		rc = scan_subsystem(ctx, udev, i, &l, &mounts);
	if (rc == ZTC_OK) {
		out = fuse(&l);
		if (!out)
			rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; i < l.n; i++) {
		usbdev_clear(&l.v[i].d);
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

ZTC_API void ztc_usbdev_list_free(ztc_usbdev_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		usbdev_clear(&list->dev[i]);
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

struct ztc_monitor {
	ztc_ctx *ctx;
	struct udev *udev;
	struct udev_monitor *mon;
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

ZTC_API void ztc_monitor_free(ztc_monitor *m)
{
	if (!m)
		return;
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
