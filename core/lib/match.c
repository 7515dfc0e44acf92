/* match.c: discovered devices matched to targets and classes of the board database (pure data). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "dbcache.h"
#include "internal.h"

/* The public list, plus a device list it may own (ztc_match_list_attach). */
struct match_list_priv {
	ztc_match_list pub;
	ztc_usbdev_list *owned;
};

void ztc_match_list_attach(ztc_match_list *list, ztc_usbdev_list *devs)
{
	((struct match_list_priv *)list)->owned = devs;
}

struct mlist {
	ztc_match *m;
	size_t n, cap;
};

static void match_clear(ztc_match *m)
{
	free(m->name);
	free(m->alias);
	free(m->target);
	free(m->uid);
	free(m->chipid);
	free(m->remote_id);
	free(m->classname);
	free(m->port);
	free(m->disk);
	memset(m, 0, sizeof(*m));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int add(struct mlist *l, const ztc_target *t, size_t ci, const ztc_usbdev *d, const ztc_known *k)
{
	ztc_match *m;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		ztc_match *nm = realloc(l->m, cap * sizeof(*nm));

		if (!nm)
			return ZTC_ERR_NOMEM;
		l->m = nm;
		l->cap = cap;
	}
	m = &l->m[l->n];
	memset(m, 0, sizeof(*m));
	m->name = strdup(k && k->name ? k->name : ztc_target_get_name(t));
	m->alias = k ? dup_or_null(k->alias) : NULL;
	m->target = strdup(ztc_target_get_id(t));
	m->uid = strdup(d->uid);
	m->chipid = k ? dup_or_null(k->chipid) : NULL;
	m->remote_id = k ? dup_or_null(k->remote_id) : NULL;
	m->classname = strdup(ztc_target_class_name(t, ci));
	m->port = dup_or_null(d->port);
	m->disk = dup_or_null(d->disk);
	m->t = t;
	m->dev = d;
	m->class_idx = ci;
	if (!m->name || !m->target || !m->uid || !m->classname || (k && k->alias && !m->alias) ||
	    (d->port && !m->port) || (d->disk && !m->disk)) {
		match_clear(m);
		return ZTC_ERR_NOMEM;
	}
	l->n++;
	return ZTC_OK;
}

/* The class a known device was stored with: its classname, else the only class matching it, else
 * the target's jtag_class, else its last class (a board reached through a probe or a USB-serial
 * adapter, whose own USB ids are not the board's). */
int ztc_known_class(const ztc_target *t, const ztc_known *k, const ztc_usbdev *d)
{
	const char *jc;
	int ci = -1;

	if (k->classname)
		return ztc_target_class_find(t, k->classname);
	for (size_t i = 0; i < ztc_target_class_count(t); i++)
		if (ztc_target_class_matches(t, i, d)) {
			if (ci >= 0)
				return -1;
			ci = (int)i;
		}
	if (ci >= 0)
		return ci;
	jc = ztc_target_get_str(t, "jtag_class");
	if (jc && ztc_target_class_find(t, jc) >= 0)
		return ztc_target_class_find(t, jc);
	return ztc_target_class_count(t) ? (int)ztc_target_class_count(t) - 1 : -1;
}

/* The classes of the database by USB id, so that a device is matched against the few classes that
 * list its "VID:PID" instead of every class of every target (1,000 boards, 64 devices: 64,000 checks).
 * Open addressing on the 9-byte id; each slot holds its (target, class) pairs in database order, the
 * order the full walk visited them in. */
struct usb_ref {
	size_t t, c;
};

struct usb_slot {
	const char *id;           /* "VID:PID" as the class lists it, NULL when the slot is free */
	struct usb_ref *refs;
	size_t n, cap;
};

struct usb_index {
	struct usb_slot *slot;
	size_t cap;               /* a power of two, at least twice the number of ids */
};

static size_t usb_hash(const char *id)
{
	size_t h = 5381;

	for (int i = 0; i < 9; i++)
		h = h * 33 + (unsigned char)id[i];
	return h;
}

static struct usb_slot *usb_slot_of(const struct usb_index *x, const char *id)
{
	size_t i = usb_hash(id) & (x->cap - 1);

	while (x->slot[i].id && memcmp(x->slot[i].id, id, 9) != 0)
		i = (i + 1) & (x->cap - 1);
	return &x->slot[i];
}

static void usb_index_free(struct usb_index *x)
{
	for (size_t i = 0; i < x->cap; i++)
		free(x->slot[i].refs);
	free(x->slot);
}

static int usb_index_build(const ztc_db *db, struct usb_index *x)
{
	size_t nids = 0;

	for (size_t i = 0; i < db->n; i++)
		for (size_t c = 0; c < db->t[i].nclasses; c++)
			nids += db->t[i].classes[c].nusb;
	for (x->cap = 16; x->cap < 2 * nids; x->cap *= 2)
		;
	x->slot = calloc(x->cap, sizeof(*x->slot));
	if (!x->slot)
		return ZTC_ERR_NOMEM;
	for (size_t i = 0; i < db->n; i++)
		for (size_t c = 0; c < db->t[i].nclasses; c++) {
			const struct ztc_class *k = &db->t[i].classes[c];

			for (size_t u = 0; u < k->nusb; u++) {
				struct usb_slot *s = usb_slot_of(x, k->usb[u]);

				s->id = k->usb[u];
				/* An id a class lists twice: the class matches once, as in the full walk. */
				if (s->n && s->refs[s->n - 1].t == i && s->refs[s->n - 1].c == c)
					continue;
				if (s->n == s->cap) {
					size_t cap = s->cap ? 2 * s->cap : 4;
					struct usb_ref *r = realloc(s->refs, cap * sizeof(*r));

					if (!r)
						return ZTC_ERR_NOMEM;
					s->refs = r;
					s->cap = cap;
				}
				s->refs[s->n++] = (struct usb_ref){ i, c };
			}
		}
	return ZTC_OK;
}

static int match_one(ztc_ctx *ctx, const ztc_db *db, const struct usb_index *x, const ztc_store *store,
		     const ztc_usbdev *d, struct mlist *l)
{
	const struct usb_slot *s;
	char id[10];
	const ztc_known *k = ztc_store_find_device(store, d->uid, d->usbpath);
	int rc = ZTC_OK;

	if (k) {
		const ztc_target *t = ztc_db_find(db, k->target);
		int ci = t ? ztc_known_class(t, k, d) : -1;

		if (t && ci >= 0)
			return add(l, t, (size_t)ci, d, k);
		ztc_warn(ctx, "alias '%s' names %s %s%s%s, which the board database does not have; "
			      "the device is matched as unknown", k->alias, t ? "class" : "target",
			 t ? (k->classname ? k->classname : "?") : k->target, t ? " of " : "", t ? k->target : "");
	}
	/* Only a 4-digit VID and PID can equal a listed id (ztc_target_class_matches' rule); the candidates'
	 * other conditions (the serial number) are checked by it as before. */
	if (!d->vid || !d->pid || strlen(d->vid) != 4 || strlen(d->pid) != 4)
		return ZTC_OK;
	memcpy(id, d->vid, 4);
	id[4] = ':';
	memcpy(id + 5, d->pid, 5);
	s = usb_slot_of(x, id);
	for (size_t r = 0; r < s->n && rc == ZTC_OK; r++) {
		const ztc_target *t = &db->t[s->refs[r].t];

		if (ztc_target_class_matches(t, s->refs[r].c, d))
			rc = add(l, t, s->refs[r].c, d, NULL);
	}
	return rc;
}

static bool is_ser_class(const char *name)
{
	return strstr(name, "ser") != NULL;
}

/* has_double_dev boards show two USB identities at once (a probe and a serial console): the
 * console's port goes to the probe's record, and the console identity disappears from the list. */
static void fuse_double_devs(struct mlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		ztc_match *ser = &l->m[i];
		ztc_match *main_rec = NULL;
		char *ser_uid;

		/* The class name first: the flag may have to be read from the device.json (dbcache.c). */
		if (!is_ser_class(ser->classname) || !ztc_target_get_int(ser->t, "has_double_dev", 0))
			continue;
		for (size_t j = 0; j < l->n; j++)
			if (l->m[j].t == ser->t && !is_ser_class(l->m[j].classname) && !main_rec)
				main_rec = &l->m[j];
		if (!main_rec) {
			match_clear(ser);
			l->m[i] = l->m[--l->n];
			i--;
			continue;
		}
		/* The probe's own port (if any) is not the board's console; the serial identity's is. */
		if (ser->port) {
			free(main_rec->port);
			main_rec->port = strdup(ser->port);
		}
		ser_uid = strdup(ser->uid);
		for (size_t j = 0; ser_uid && j < l->n; j++)
			if (strcmp(l->m[j].uid, ser_uid) == 0) {
				match_clear(&l->m[j]);
				l->m[j] = l->m[--l->n];
				j--;
			}
		free(ser_uid);
		i = (size_t)-1; /* the list was reordered: look again from the start */
	}
}

static int cmp_match(const void *a, const void *b)
{
	const ztc_match *x = a, *y = b;
	int c = strcmp(x->uid, y->uid);

	if (!c)
		c = strcmp(x->target, y->target);
	if (!c)
		c = strcmp(x->classname, y->classname);
	/* Twins: by usbpath, so that the order does not depend on qsort. */
	if (!c && x->dev && y->dev && x->dev->usbpath && y->dev->usbpath)
		c = strcmp(x->dev->usbpath, y->dev->usbpath);
	return c;
}

ZTC_API int ztc_match_devices(ztc_ctx *ctx, const ztc_db *db, const ztc_store *store,
			      const ztc_usbdev_list *devs, ztc_match_list **ret_list)
{
	struct usb_index x = { 0 };
	struct mlist l = { 0 };
	struct match_list_priv *out;
	int rc;

	if (!ctx || !db || !devs || !ret_list)
		return ZTC_ERR_ARG;
	rc = usb_index_build(db, &x);
	for (size_t i = 0; i < devs->n && rc == ZTC_OK; i++)
		rc = match_one(ctx, db, &x, store, &devs->dev[i], &l);
	usb_index_free(&x);
	out = rc == ZTC_OK ? calloc(1, sizeof(*out)) : NULL;
	if (!out) {
		for (size_t i = 0; i < l.n; i++)
			match_clear(&l.m[i]);
		free(l.m);
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	}
	fuse_double_devs(&l);
	if (l.n) /* l.m is NULL then */
		qsort(l.m, l.n, sizeof(*l.m), cmp_match);
	out->pub.n = l.n;
	out->pub.m = l.m;
	*ret_list = &out->pub;
	return ZTC_OK;
}

ZTC_API void ztc_match_list_free(ztc_match_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		match_clear(&list->m[i]);
	free(list->m);
	ztc_usbdev_list_free(((struct match_list_priv *)list)->owned);
	free(list);
}
