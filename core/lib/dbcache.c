/* dbcache.c: a cache of the parsed board database, so a run parses only the device.json files that changed. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbcache.h"

/* In the spirit of GStreamer's registry: one binary file, $XDG_CACHE_HOME/ztc/boards.cache (else
 * ~/.cache/ztc/boards.cache), keyed by each database dir (path, mtime: the folder list is read again
 * when it changed) and each device.json (size, mtime: parsed again when it changed). Everything in it is
 * checked as hostile input; a file that is truncated, altered (checksum), from another version or in any
 * way malformed is ignored and rebuilt. Layout, integers in host byte order (the file never leaves the
 * machine; another order fails the marker):
 *   magic "ZTCDBC\r\n", u32 format, u32 0x01020304, str PACKAGE_VERSION, u32 ndirs, dirs, u64 FNV-1a
 *   dir:    str path, i64 mtime s, i64 mtime ns, u32 nfolders, folders (sorted by name)
 *   folder: str name, u8 kind; unless ABSENT: u64 size, i64 mtime s, i64 mtime ns; ERROR: str why;
 *           TARGET: str id, str name, str type, str flash (the flash object's problem, "" when none),
 *           u32 nclasses, classes
 *   class:  str module, str name, u8 has_sid [str sid], u32 nusb, nusb x 10 bytes "VID:PID\0"
 *   str:    u32 length, the bytes (no NUL among them), a NUL
 * Strings and USB ids are used where they lie in the file's contents, which the db keeps. */
#define CACHE_MAGIC "ZTCDBC\r\n"
#define CACHE_FORMAT 2
#define CACHE_BOM 0x01020304u
#define CACHE_MAX (64u * 1024 * 1024)
/* Dirs kept: this run's, then those of earlier runs (most recent first), so that runs with other
 * ZTC_DB_PATH values (a project's vendor dir, then none) do not parse each other's boards again. */
#define CACHE_DIRS_MAX 16
#define STR_MAX 4096

enum { F_ABSENT = 0, F_ERROR = 1, F_TARGET = 2 };

struct cclass {
	char *module, *name, *sid;
	char (*usb)[10];
	uint32_t nusb;
};

/* An entry read from the file points into the file's contents (c->buf): only its classes array is its
 * own; one made from a target parsed now owns everything. */
struct cfolder {
	char *name;
	bool owned;
	uint8_t kind;
	uint64_t size;
	int64_t msec, mnsec;
	char *why;                /* F_ERROR: the warning */
	char *id, *title, *type;  /* F_TARGET */
	char *flashwhy;           /* F_TARGET: why its flash object cannot be used, "" when it can */
	struct cclass *classes;
	uint32_t nclasses;
};

struct cdir {
	char *path;       /* in the file's contents for an old dir, else its own */
	bool owned;
	int64_t msec, mnsec;
	struct cfolder *f;
	size_t n;
};

/* Target ids seen so far (the first folder naming a target wins): open addressing, never full. */
struct idset {
	const char **v;
	size_t cap, n;
};

struct ztc_dbcache {
	char *file;               /* NULL: no place for a cache */
	char *buf;                /* the file's contents, which old entries point into */
	bool buf_given;           /* buf now belongs to the db: targets point into it */
	struct cdir *old;         /* as read from the file */
	size_t nold;
	struct cdir *cur;         /* this run's, written back when changed */
	size_t ncur, capcur;
	bool changed;
	struct idset ids;
};

static void cclass_clear(struct cclass *k)
{
	free(k->module);
	free(k->name);
	free(k->sid);
	free(k->usb);
}

static void cfolder_clear(struct cfolder *f)
{
	if (f->owned) {
		free(f->name);
		free(f->why);
		free(f->id);
		free(f->title);
		free(f->type);
		free(f->flashwhy);
		for (uint32_t i = 0; i < f->nclasses; i++)
			cclass_clear(&f->classes[i]);
	}
	free(f->classes);
	memset(f, 0, sizeof(*f));
}

static void cdirs_free(struct cdir *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < d[i].n; j++)
			cfolder_clear(&d[i].f[j]);
		free(d[i].f);
		if (d[i].owned)
			free(d[i].path);
	}
	free(d);
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* ---- reading ------------------------------------------------------------------------------------- */

struct rd {
	const unsigned char *p, *end;
	const char *bad; /* the first problem found */
};

static bool rd_bytes(struct rd *r, void *out, size_t n)
{
	if (r->bad || (size_t)(r->end - r->p) < n) {
		if (!r->bad)
			r->bad = "truncated";
		return false;
	}
	memcpy(out, r->p, n);
	r->p += n;
	return true;
}

static uint8_t rd_u8(struct rd *r)
{
	uint8_t v = 0;

	rd_bytes(r, &v, 1);
	return v;
}

static uint32_t rd_u32(struct rd *r)
{
	uint32_t v = 0;

	rd_bytes(r, &v, 4);
	return v;
}

static uint64_t rd_u64(struct rd *r)
{
	uint64_t v = 0;

	rd_bytes(r, &v, 8);
	return v;
}

static int64_t rd_i64(struct rd *r)
{
	int64_t v = 0;

	rd_bytes(r, &v, 8);
	return v;
}

/* A count of items at least min bytes each: never more than the bytes left can hold. */
static uint32_t rd_count(struct rd *r, size_t min)
{
	uint32_t n = rd_u32(r);

	if (!r->bad && (uint64_t)n * min > (uint64_t)(r->end - r->p)) {
		r->bad = "a count beyond the end of the file";
		return 0;
	}
	return r->bad ? 0 : n;
}

/* A string of the file, NUL-terminated there: used in place, never copied. */
static char *rd_str(struct rd *r)
{
	uint32_t n = rd_u32(r);
	char *s;

	if (r->bad)
		return NULL;
	if (n > STR_MAX || n >= (size_t)(r->end - r->p) || memchr(r->p, '\0', n) || r->p[n] != '\0') {
		r->bad = "a malformed string";
		return NULL;
	}
	s = (char *)r->p;
	r->p += n + 1;
	return s;
}

static bool upper_hex4(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
			return false;
	return true;
}

static void rd_class(struct rd *r, struct cclass *k)
{
	k->module = rd_str(r);
	k->name = rd_str(r);
	if (rd_u8(r))
		k->sid = rd_str(r);
	k->nusb = rd_count(r, 10);
	if (r->bad)
		return;
	/* The module names a file the plugin loader looks for: the rule load_target() enforces. */
	if (!ztc_db_identifier(k->module) || !ztc_db_identifier(k->name) || (k->sid && !*k->sid)) {
		r->bad = "a class name that is no identifier";
		return;
	}
	/* "VID:PID\0", 10 bytes each, used in place. */
	k->usb = (char (*)[10])r->p;
	for (uint32_t i = 0; i < k->nusb && !r->bad; i++)
		if (k->usb[i][4] != ':' || k->usb[i][9] != '\0' || !upper_hex4(k->usb[i]) || !upper_hex4(k->usb[i] + 5))
			r->bad = "a malformed USB id";
	r->p += (size_t)k->nusb * 10;
}

static void rd_folder(struct rd *r, struct cfolder *f)
{
	f->name = rd_str(r);
	f->kind = rd_u8(r);
	if (!r->bad && (!*f->name || f->name[0] == '.' || strchr(f->name, '/') || f->kind > F_TARGET))
		r->bad = "a malformed folder entry";
	if (r->bad || f->kind == F_ABSENT)
		return;
	f->size = rd_u64(r);
	f->msec = rd_i64(r);
	f->mnsec = rd_i64(r);
	if (f->kind == F_ERROR) {
		f->why = rd_str(r);
		return;
	}
	f->id = rd_str(r);
	f->title = rd_str(r);
	f->type = rd_str(r);
	f->flashwhy = rd_str(r);
	f->nclasses = rd_count(r, 15);
	if (r->bad)
		return;
	/* The rules load_target() enforces on a device.json. */
	if (!*f->id || strchr(f->id, '/') || strchr(f->id, ' ') || !*f->title ||
	    (strcmp(f->type, "board") && strcmp(f->type, "jtag") && strcmp(f->type, "usbtoserial"))) {
		r->bad = "a malformed target";
		return;
	}
	f->classes = calloc(f->nclasses + 1, sizeof(*f->classes));
	if (!f->classes) {
		r->bad = "out of memory";
		f->nclasses = 0;
		return;
	}
	for (uint32_t i = 0; i < f->nclasses && !r->bad; i++)
		rd_class(r, &f->classes[i]);
}

/* Parse the whole file into c->old; false (with why) when it is to be ignored. */
static bool cache_parse(struct ztc_dbcache *c, const unsigned char *buf, size_t len, const char **why)
{
	struct rd r = { buf, buf + len, NULL };
	char magic[8];
	char *version;
	uint64_t sum;
	uint32_t n;

	if (len < sizeof(magic) + 8 || fnv1a(buf, len - 8) != (memcpy(&sum, buf + len - 8, 8), sum)) {
		*why = "bad checksum (truncated or altered)";
		return false;
	}
	r.end -= 8;
	rd_bytes(&r, magic, sizeof(magic));
	if (r.bad || memcmp(magic, CACHE_MAGIC, sizeof(magic)) != 0 || rd_u32(&r) != CACHE_FORMAT ||
	    rd_u32(&r) != CACHE_BOM) {
		*why = "another format";
		return false;
	}
	version = rd_str(&r);
	if (!version || strcmp(version, PACKAGE_VERSION) != 0) {
		*why = "written by another version of ztc";
		return false;
	}
	n = rd_count(&r, 25);
	c->old = calloc(n + 1, sizeof(*c->old));
	if (!c->old) {
		*why = "out of memory";
		return false;
	}
	for (uint32_t i = 0; i < n && !r.bad; i++) {
		struct cdir *d = &c->old[c->nold++];
		uint32_t nf;

		d->path = rd_str(&r);
		d->msec = rd_i64(&r);
		d->mnsec = rd_i64(&r);
		nf = rd_count(&r, 6);
		d->f = calloc(nf + 1, sizeof(*d->f));
		if (!d->f) {
			r.bad = "out of memory";
			break;
		}
		for (uint32_t j = 0; j < nf && !r.bad; j++) {
			rd_folder(&r, &d->f[d->n++]);
			/* Sorted and unique: scan_dir walks them beside the folders it lists. */
			if (!r.bad && j && strcmp(d->f[j - 1].name, d->f[j].name) >= 0)
				r.bad = "folders out of order";
		}
	}
	if (!r.bad && r.p != r.end)
		r.bad = "trailing bytes";
	*why = r.bad;
	return !r.bad;
}

static char *cache_file(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	/* The XDG spec ignores a relative XDG_CACHE_HOME. */
	if (xdg && xdg[0] == '/')
		return ztc_strdup_printf("%s/ztc/boards.cache", xdg);
	if (home && home[0] == '/')
		return ztc_strdup_printf("%s/.cache/ztc/boards.cache", home);
	return NULL;
}

struct ztc_dbcache *ztc_dbcache_open(ztc_ctx *ctx)
{
	struct ztc_dbcache *c = calloc(1, sizeof(*c));
	unsigned char *buf = NULL;
	const char *why = NULL;
	struct stat st;
	int fd;

	if (!c)
		return NULL;
	c->file = cache_file();
	if (!c->file)
		return c;
	/* Our own regular file only: not a link planted there, nor a FIFO to hang on. */
	fd = open(c->file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ztc_dbg(ctx, "board cache %s: %s", c->file, strerror(errno));
		c->changed = true;
		return c;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size > CACHE_MAX)
		why = "not a regular file of ours, or too big";
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		why = "out of memory";
	else if (read(fd, buf, (size_t)st.st_size) != st.st_size)
		why = "cannot read it";
	else
		cache_parse(c, buf, (size_t)st.st_size, &why);
	close(fd);
	c->buf = (char *)buf;
	if (why) {
		ztc_info(ctx, "ignoring the board cache %s: %s; it is rebuilt", c->file, why);
		cdirs_free(c->old, c->nold);
		c->old = NULL;
		c->nold = 0;
		c->changed = true;
	}
	return c;
}

/* ---- scanning ------------------------------------------------------------------------------------ */

static size_t id_hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* Adds id unless present: 1 added, 0 present, negative when out of memory. */
static int idset_add(struct idset *s, const char *id)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		const char **v = calloc(cap, sizeof(*v));

		if (!v)
			return ZTC_ERR_NOMEM;
		for (size_t k = 0; k < s->cap; k++)
			if (s->v[k]) {
				for (i = id_hash(s->v[k]) & (cap - 1); v[i]; i = (i + 1) & (cap - 1))
					;
				v[i] = s->v[k];
			}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	for (i = id_hash(id) & (s->cap - 1); s->v[i]; i = (i + 1) & (s->cap - 1))
		if (strcmp(s->v[i], id) == 0)
			return 0;
	s->v[i] = id;
	s->n++;
	return 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted folder names of dir (dot entries left out). */
static int list_dir(int dfd, char ***ret_names, size_t *ret_n)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	int rc = ZTC_OK;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return ZTC_ERR_IO;
	}
	while (rc == ZTC_OK && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (!nn) {
				rc = ZTC_ERR_NOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(e->d_name);
		if (!names[n])
			rc = ZTC_ERR_NOMEM;
		else
			n++;
	}
	closedir(d);
	/* Sorted, so which of two same-id folders of one dir wins does not depend on readdir order. */
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*ret_names = names;
	*ret_n = n;
	return rc;
}

static char *dup_opt(const char *s, bool *oom)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*oom = true;
	return d;
}

/* A target from a cached folder entry, pointing into the cache's contents (borrowed); its JSON is
 * read only when needed (ztc_target_json). */
static int target_from_cache(const struct cfolder *f, const char *path, struct ztc_target *t)
{
	memset(t, 0, sizeof(*t));
	t->borrowed = true;
	t->id = f->id;
	t->name = f->title;
	t->type = f->type;
	t->path = strdup(path);
	t->classes = calloc(f->nclasses + 1, sizeof(*t->classes));
	if (!t->path || !t->classes)
		return ZTC_ERR_NOMEM;
	for (uint32_t i = 0; i < f->nclasses; i++) {
		const struct cclass *k = &f->classes[i];
		struct ztc_class *c = &t->classes[t->nclasses++];

		c->module = k->module;
		c->name = k->name;
		c->sid = k->sid;
		c->nusb = k->nusb;
		c->usb = k->usb;
	}
	return ZTC_OK;
}

/* The cache entry of a target just parsed, flashwhy the problem of its flash object ("" when none). */
static int folder_from_target(const struct ztc_target *t, const char *flashwhy, struct cfolder *f)
{
	bool oom = false;

	f->owned = true;
	f->kind = F_TARGET;
	f->flashwhy = dup_opt(flashwhy, &oom);
	f->id = dup_opt(t->id, &oom);
	f->title = dup_opt(t->name, &oom);
	f->type = dup_opt(t->type, &oom);
	f->classes = calloc(t->nclasses + 1, sizeof(*f->classes));
	if (!f->classes)
		oom = true;
	for (size_t i = 0; !oom && i < t->nclasses; i++) {
		const struct ztc_class *c = &t->classes[i];
		struct cclass *k = &f->classes[f->nclasses++];

		k->module = dup_opt(c->module, &oom);
		k->name = dup_opt(c->name, &oom);
		k->sid = dup_opt(c->sid, &oom);
		k->nusb = (uint32_t)c->nusb;
		k->usb = calloc(c->nusb ? c->nusb : 1, sizeof(*k->usb));
		if (k->usb)
			memcpy(k->usb, c->usb, c->nusb * sizeof(*k->usb));
		else
			oom = true;
	}
	return oom ? ZTC_ERR_NOMEM : ZTC_OK;
}

/* Append t to db unless an earlier folder named its target (then it is freed). Takes t. A target added
 * whose flash object breaks a rule (flashwhy not "") is listed and matched all the same: only flashing
 * it is refused (flash-check.c); the warning comes from the cached entry too, so every run says it. */
static int add_target(ztc_ctx *ctx, struct ztc_dbcache *c, struct ztc_db *db, struct ztc_target *t,
		      const char *flashwhy)
{
	int added;

	if (db->n == db->cap) {
		size_t cap = db->cap ? db->cap * 2 : 64;
		struct ztc_target *nt = realloc(db->t, cap * sizeof(*db->t));

		if (!nt) {
			ztc_db_target_clear(t);
			return ZTC_ERR_NOMEM;
		}
		db->t = nt;
		db->cap = cap;
	}
	added = idset_add(&c->ids, t->id);
	if (added <= 0) {
		if (added == 0)
			ztc_dbg(ctx, "%s/device.json: target %s already defined earlier in the search path", t->path,
				t->id);
		ztc_db_target_clear(t);
		return added;
	}
	if (*flashwhy)
		ztc_warn(ctx, "%s/device.json: %s; the board cannot be flashed", t->path, flashwhy);
	db->t[db->n++] = *t;
	return ZTC_OK;
}

/* One folder of dir: from the cache when its device.json is the one cached, else parsed. */
static int scan_folder(ztc_ctx *ctx, struct ztc_dbcache *c, struct ztc_db *db, const char *dir,
		       struct cfolder *of, struct cfolder *f)
{
	size_t dlen = strlen(dir), nlen = strlen(f->name);
	char path[PATH_MAX], why[512];
	struct ztc_target t;
	struct stat st;
	int rc;

	/* dir/name/device.json, the folder being path up to the second '/' added. A full path rather than
	 * one relative to a dir fd: under an LD_PRELOAD that resolves relative paths itself (umockdev's), a
	 * thousand boards would cost a thousand getcwd() and readlink() calls more. */
	if (dlen + nlen + sizeof("//device.json") > sizeof(path))
		return ZTC_OK;
	memcpy(path, dir, dlen);
	path[dlen] = '/';
	memcpy(path + dlen + 1, f->name, nlen);
	memcpy(path + dlen + 1 + nlen, "/device.json", sizeof("/device.json"));
	if (stat(path, &st) < 0) {
		f->kind = F_ABSENT; /* not a board folder (now) */
		if (!of || of->kind != F_ABSENT)
			c->changed = true;
		return ZTC_OK;
	}
	f->size = (uint64_t)st.st_size;
	f->msec = (int64_t)st.st_mtim.tv_sec;
	f->mnsec = (int64_t)st.st_mtim.tv_nsec;
	if (S_ISREG(st.st_mode) && of && of->kind != F_ABSENT && of->size == f->size && of->msec == f->msec &&
	    of->mnsec == f->mnsec) {
		/* As cached: the entry moves over (its name stays behind too, for the lookups to come). */
		free(f->name);
		*f = *of;
		of->classes = NULL;
		of->nclasses = 0;
		if (f->kind == F_ERROR) {
			path[dlen + 1 + nlen] = '\0';
			ztc_warn(ctx, "%s/device.json: %s; board skipped", path, f->why);
			return ZTC_OK;
		}
		path[dlen + 1 + nlen] = '\0';
		rc = target_from_cache(f, path, &t);
		if (rc < 0) {
			ztc_db_target_clear(&t);
			return rc;
		}
		c->buf_given = true; /* the target points into it */
		return add_target(ctx, c, db, &t, f->flashwhy);
	}
	c->changed = true;
	path[dlen + 1 + nlen] = '\0';
	if (!ztc_db_load_target(path, &t, why, sizeof(why))) {
		ztc_warn(ctx, "%s/device.json: %s; board skipped", path, why);
		ztc_db_target_clear(&t);
		f->kind = F_ERROR;
		f->why = strdup(why);
		return f->why ? ZTC_OK : ZTC_ERR_NOMEM;
	}
	if (ztc_flash_check(t.json, why, sizeof(why)))
		why[0] = '\0';
	rc = folder_from_target(&t, why, f);
	if (rc < 0) {
		ztc_db_target_clear(&t);
		return rc;
	}
	/* A file that is not regular (a FIFO...) was read all the same: never trust a cache entry of it. */
	if (!S_ISREG(st.st_mode))
		f->size = UINT64_MAX;
	return add_target(ctx, c, db, &t, f->flashwhy);
}

/* The entry of dir among v[0..n), or NULL. */
static struct cdir *find_dir(struct cdir *v, size_t n, const char *dir)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].path && strcmp(v[i].path, dir) == 0)
			return &v[i];
	return NULL;
}

int ztc_dbcache_scan_dir(ztc_ctx *ctx, struct ztc_dbcache *c, struct ztc_db *db, const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct cdir *old = NULL, *cur;
	char **names = NULL;
	size_t nnames = 0;
	struct stat st;
	int rc = ZTC_OK;

	if (dfd < 0 || fstat(dfd, &st) < 0) {
		ztc_dbg(ctx, "board database dir %s: %s", dir, strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return ZTC_OK;
	}
	old = find_dir(c->old, c->nold, dir);
	if (c->ncur == c->capcur) {
		size_t cap = c->capcur ? c->capcur * 2 : 4;
		struct cdir *nc = realloc(c->cur, cap * sizeof(*nc));

		if (!nc) {
			close(dfd);
			return ZTC_ERR_NOMEM;
		}
		c->cur = nc;
		c->capcur = cap;
	}
	cur = &c->cur[c->ncur++];
	memset(cur, 0, sizeof(*cur));
	cur->owned = true;
	cur->path = strdup(dir);
	cur->msec = (int64_t)st.st_mtim.tv_sec;
	cur->mnsec = (int64_t)st.st_mtim.tv_nsec;
	if (!cur->path) {
		close(dfd);
		return ZTC_ERR_NOMEM;
	}
	/* A folder added, removed or renamed changes the dir's mtime: otherwise the cached list stands. */
	if (old && old->msec == cur->msec && old->mnsec == cur->mnsec) {
		names = calloc(old->n + 1, sizeof(*names));
		for (size_t i = 0; names && i < old->n; i++) {
			names[i] = strdup(old->f[i].name);
			if (!names[i]) {
				rc = ZTC_ERR_NOMEM;
				break;
			}
			nnames++;
		}
		if (!names)
			rc = ZTC_ERR_NOMEM;
	} else {
		c->changed = true;
		rc = list_dir(dfd, &names, &nnames);
		if (rc == ZTC_ERR_IO) {
			ztc_dbg(ctx, "board database dir %s: cannot list it", dir);
			rc = ZTC_OK;
		}
	}
	cur->f = rc == ZTC_OK ? calloc(nnames + 1, sizeof(*cur->f)) : NULL;
	if (rc == ZTC_OK && !cur->f)
		rc = ZTC_ERR_NOMEM;
	for (size_t i = 0, oi = 0; i < nnames && rc == ZTC_OK; i++) {
		struct cfolder *f = &cur->f[cur->n++];
		int cmp = 1;

		f->owned = true;
		f->name = names[i];
		names[i] = NULL;
		/* Both lists are sorted: the cached entry of a folder is found walking them side by side. */
		while (old && oi < old->n && (cmp = strcmp(old->f[oi].name, f->name)) < 0)
			oi++;
		rc = scan_folder(ctx, c, db, dir, old && oi < old->n && cmp == 0 ? &old->f[oi] : NULL, f);
	}
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	close(dfd);
	return rc;
}

/* ---- writing ------------------------------------------------------------------------------------- */

static bool put(struct ztc_buf *b, const void *p, size_t n)
{
	return ztc_buf_append(b, p, n);
}

static bool put_u8(struct ztc_buf *b, uint8_t v) { return put(b, &v, 1); }
static bool put_u32(struct ztc_buf *b, uint32_t v) { return put(b, &v, 4); }
static bool put_u64(struct ztc_buf *b, uint64_t v) { return put(b, &v, 8); }
static bool put_i64(struct ztc_buf *b, int64_t v) { return put(b, &v, 8); }

static bool put_str(struct ztc_buf *b, const char *s)
{
	size_t n = strlen(s);

	/* Longer strings would be refused by the reader: the entry is not cached then (see cache_write). */
	return n <= STR_MAX && put_u32(b, (uint32_t)n) && put(b, s, n + 1);
}

static bool put_folder(struct ztc_buf *b, const struct cfolder *f)
{
	bool ok = put_str(b, f->name) && put_u8(b, f->kind);

	if (!ok || f->kind == F_ABSENT)
		return ok;
	ok = put_u64(b, f->size) && put_i64(b, f->msec) && put_i64(b, f->mnsec);
	if (f->kind == F_ERROR)
		return ok && put_str(b, f->why);
	ok = ok && put_str(b, f->id) && put_str(b, f->title) && put_str(b, f->type) && put_str(b, f->flashwhy) &&
	     put_u32(b, f->nclasses);
	for (uint32_t i = 0; ok && i < f->nclasses; i++) {
		const struct cclass *k = &f->classes[i];

		ok = put_str(b, k->module) && put_str(b, k->name) && put_u8(b, k->sid != NULL) &&
		     (!k->sid || put_str(b, k->sid)) && put_u32(b, k->nusb);
		for (uint32_t j = 0; ok && j < k->nusb; j++)
			ok = put(b, k->usb[j], 10);
	}
	return ok;
}

bool ztc_dbcache_put_header(struct ztc_buf *b)
{
	return put(b, CACHE_MAGIC, 8) && put_u32(b, CACHE_FORMAT) && put_u32(b, CACHE_BOM) &&
	       put_str(b, PACKAGE_VERSION);
}

bool ztc_dbcache_put_sum(struct ztc_buf *b)
{
	return put_u64(b, fnv1a((const unsigned char *)b->data, b->len));
}

static bool cache_write(ztc_ctx *ctx, struct ztc_dbcache *c)
{
	const struct cdir *dirs[CACHE_DIRS_MAX];
	struct ztc_buf b = { 0 };
	size_t ndirs = 0;
	char *dir, *slash;
	bool ok;
	int rc;

	/* This run's dirs first, then the earlier runs' others (untouched: what they cached still stands
	 * for their files until a run that searches them checks it). */
	for (size_t i = 0; i < c->ncur && ndirs < CACHE_DIRS_MAX; i++)
		dirs[ndirs++] = &c->cur[i];
	for (size_t i = 0; i < c->nold && ndirs < CACHE_DIRS_MAX; i++)
		if (!find_dir(c->cur, c->ncur, c->old[i].path))
			dirs[ndirs++] = &c->old[i];
	ok = ztc_dbcache_put_header(&b) && put_u32(&b, (uint32_t)ndirs);
	for (size_t i = 0; ok && i < ndirs; i++) {
		const struct cdir *d = dirs[i];

		ok = put_str(&b, d->path) && put_i64(&b, d->msec) && put_i64(&b, d->mnsec) &&
		     put_u32(&b, (uint32_t)d->n);
		for (size_t j = 0; ok && j < d->n; j++)
			ok = put_folder(&b, &d->f[j]);
	}
	ok = ok && ztc_dbcache_put_sum(&b);
	if (!ok) {
		ztc_dbg(ctx, "board cache not written: out of memory or an overlong name");
		ztc_buf_free(&b);
		return false;
	}
	dir = strdup(c->file);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (slash)
		*slash = '\0';
	rc = slash ? ztc_mkdir_p(dir, 0700) : -ENOMEM;
	if (rc < 0)
		ztc_dbg(ctx, "board cache not written: cannot create %s: %s", dir ? dir : c->file, strerror(-rc));
	else if (ztc_write_atomic(ctx, c->file, b.data, b.len, 0600) < 0)
		ztc_dbg(ctx, "board cache not written: %s", ztc_ctx_errmsg(ctx));
	else
		ztc_dbg(ctx, "board cache %s written (%zu bytes)", c->file, b.len);
	free(dir);
	ztc_buf_free(&b);
	return rc >= 0;
}

void ztc_dbcache_close(ztc_ctx *ctx, struct ztc_dbcache *c, struct ztc_db *db)
{
	if (!c)
		return;
	/* A dir searched now that the file did not hold was listed, which marked the change (scan_dir); one
	 * the file holds that this run did not search is no change: cache_write keeps it. */
	if (c->changed && c->file) {
		/* Never a reason to fail the load: a cache that cannot be written only costs speed. The
		 * detail was logged; the context carries no error for a call that succeeded. */
		cache_write(ctx, c);
		ztc_clear_error(ctx);
	}
	cdirs_free(c->old, c->nold);
	cdirs_free(c->cur, c->ncur);
	free(c->ids.v);
	free(c->file);
	if (c->buf_given && db)
		db->cache_buf = c->buf;
	else
		free(c->buf);
	free(c);
}

yajl_val ztc_target_json(const struct ztc_target *ct)
{
	struct ztc_target *t = (struct ztc_target *)ct; /* filled in once, as a cache */
	struct ztc_target tmp;
	char why[512];

	if (!t || t->json || t->json_failed)
		return t ? t->json : NULL;
	/* Parsed with the same rules as any device.json; it must still name the same target. */
	if (ztc_db_load_target(t->path, &tmp, why, sizeof(why)) && strcmp(tmp.id, t->id) == 0) {
		t->json = tmp.json;
		tmp.json = NULL;
	} else {
		t->json_failed = true;
	}
	ztc_db_target_clear(&tmp);
	return t->json;
}
