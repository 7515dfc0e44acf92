/* store.c: the known-device store $ZTC_HOME/devices.json: aliases, chip ids, remote ids. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "internal.h"

#define STORE_MAX (16 * 1024 * 1024)

struct ztc_store {
	ztc_known *k;
	size_t n, cap;
};

/* The keys of an entry, in file order; offsets into ztc_known. */
static const struct {
	const char *key;
	size_t off;
} fields[] = {
	{ "alias", offsetof(ztc_known, alias) },
	{ "uid", offsetof(ztc_known, uid) },
	{ "name", offsetof(ztc_known, name) },
	{ "target", offsetof(ztc_known, target) },
	{ "chipid", offsetof(ztc_known, chipid) },
	{ "remote_id", offsetof(ztc_known, remote_id) },
	{ "classname", offsetof(ztc_known, classname) },
	{ "usbpath", offsetof(ztc_known, usbpath) }, /* written only when set: pinned twins */
};
#define NFIELDS (sizeof(fields) / sizeof(*fields))

static char **field(ztc_known *k, size_t i)
{
	return (char **)((char *)k + fields[i].off);
}

static void known_clear(ztc_known *k)
{
	for (size_t i = 0; i < NFIELDS; i++)
		free(*field(k, i));
	memset(k, 0, sizeof(*k));
}

static int known_copy(ztc_known *dst, const ztc_known *src)
{
	memset(dst, 0, sizeof(*dst));
	for (size_t i = 0; i < NFIELDS; i++) {
		const char *v = *field((ztc_known *)src, i);

		if (v && !(*field(dst, i) = strdup(v))) {
			known_clear(dst);
			return ZTC_ERR_NOMEM;
		}
	}
	return ZTC_OK;
}

static char *store_path(ztc_ctx *ctx, const char *suffix)
{
	return ztc_strdup_printf("%s/devices.json%s", ctx->home, suffix);
}

static int cmp_alias(const void *a, const void *b)
{
	return strcmp(((const ztc_known *)a)->alias, ((const ztc_known *)b)->alias);
}

static int store_append(struct ztc_store *s, ztc_known *k)
{
	if (s->n == s->cap) {
		ztc_known *nk = realloc(s->k, (s->cap ? s->cap * 2 : 16) * sizeof(*nk));

		if (!nk)
			return ZTC_ERR_NOMEM;
		s->k = nk;
		s->cap = s->cap ? s->cap * 2 : 16;
	}
	s->k[s->n++] = *k;
	return ZTC_OK;
}

/* A field from the file made safe for a one-line message: at most 64 bytes (then "..."), control
 * characters as '?'. */
static const char *shown(const char *v, char buf[68])
{
	size_t i = 0;

	for (; v[i] && i < 64; i++)
		buf[i] = iscntrl((unsigned char)v[i]) ? '?' : v[i];
	if (v[i]) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/* A device is a uid and a usbpath (none for an unpinned alias): twins share the uid. */
static int cmp_device_ptr(const void *a, const void *b)
{
	const ztc_known *x = *(const ztc_known *const *)a, *y = *(const ztc_known *const *)b;
	int c = strcmp(x->uid, y->uid);

	if (c || !x->usbpath || !y->usbpath)
		return c ? c : !!x->usbpath - !!y->usbpath;
	return strcmp(x->usbpath, y->usbpath);
}

/* What every command relies on: an alias names one device and a device has one entry. A store that
 * breaks it (edited by hand, or merged from two machines) is refused as a whole rather than having a
 * command silently pick, or drop, one of the entries. s is sorted by alias. */
static bool check_invariants(const struct ztc_store *s, char *why, size_t whylen)
{
	const ztc_known **by_uid;
	char b1[68], b2[68], b3[68];
	bool ok = true;

	for (size_t i = 0; i < s->n; i++) {
		if (!ztc_alias_valid(s->k[i].alias)) {
			snprintf(why, whylen, "the alias '%s' of device %s breaks the alias rules (non-empty, no spaces "
				 "or control characters, not starting with '-')", shown(s->k[i].alias, b1),
				 shown(s->k[i].uid, b2));
			return false;
		}
		if (i && strcmp(s->k[i - 1].alias, s->k[i].alias) == 0) {
			snprintf(why, whylen, "alias '%s' is used by two entries, devices %s and %s",
				 shown(s->k[i].alias, b1), shown(s->k[i - 1].uid, b2), shown(s->k[i].uid, b3));
			return false;
		}
	}
	if (s->n < 2)
		return true;
	by_uid = malloc(s->n * sizeof(*by_uid));
	if (!by_uid) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	for (size_t i = 0; i < s->n; i++)
		by_uid[i] = &s->k[i];
	qsort(by_uid, s->n, sizeof(*by_uid), cmp_device_ptr);
	for (size_t i = 1; i < s->n && ok; i++)
		if (cmp_device_ptr(&by_uid[i - 1], &by_uid[i]) == 0) {
			snprintf(why, whylen, "device %s is listed twice, as '%s' and '%s'", shown(by_uid[i]->uid, b1),
				 shown(by_uid[i - 1]->alias, b2), shown(by_uid[i]->alias, b3));
			ok = false;
		}
	free(by_uid);
	return ok;
}

/* Parse the file text; false with the problem in why. */
static bool parse_store(const char *text, struct ztc_store *s, char *why, size_t whylen)
{
	char errbuf[256] = "";
	yajl_val root = ztc_json_parse(text, errbuf, sizeof(errbuf)), list;
	const char *path[] = { "devices", NULL };
	bool ok = false;

	if (!root) {
		snprintf(why, whylen, "invalid JSON: %s", errbuf);
		return false;
	}
	list = yajl_tree_get(root, path, yajl_t_array);
	if (!YAJL_IS_OBJECT(root) || !list) {
		snprintf(why, whylen, "expected an object with a \"devices\" list");
		goto out;
	}
	for (size_t i = 0; i < YAJL_GET_ARRAY(list)->len; i++) {
		yajl_val e = YAJL_GET_ARRAY(list)->values[i];
		ztc_known k = { 0 };

		if (!YAJL_IS_OBJECT(e)) {
			snprintf(why, whylen, "devices[%zu] is not an object", i);
			goto out;
		}
		for (size_t f = 0; f < NFIELDS; f++) {
			const char *p[] = { fields[f].key, NULL };
			yajl_val v = yajl_tree_get(e, p, yajl_t_any);

			if (v && YAJL_IS_STRING(v))
				*field(&k, f) = strdup(v->u.string);
			else if (v && !YAJL_IS_NULL(v)) {
				known_clear(&k);
				snprintf(why, whylen, "devices[%zu].%s is not a string", i, fields[f].key);
				goto out;
			}
		}
		if (ztc_str_empty(k.alias) || ztc_str_empty(k.uid) || ztc_str_empty(k.target)) {
			known_clear(&k);
			snprintf(why, whylen, "devices[%zu] lacks alias, uid or target", i);
			goto out;
		}
		if (k.usbpath && !ztc_usbpath_valid(k.usbpath)) {
			known_clear(&k);
			snprintf(why, whylen, "devices[%zu].usbpath is not a USB port path such as 1-1.2", i);
			goto out;
		}
		if (store_append(s, &k) < 0) {
			known_clear(&k);
			snprintf(why, whylen, "out of memory");
			goto out;
		}
	}
	if (s->n) /* s->k is NULL for an empty store */
		qsort(s->k, s->n, sizeof(*s->k), cmp_alias);
	ok = check_invariants(s, why, whylen);
out:
	yajl_tree_free(root);
	return ok;
}

static int load_path(ztc_ctx *ctx, const char *path, ztc_store **ret_store)
{
	struct ztc_store *s = calloc(1, sizeof(*s));
	char why[512];
	char *text;
	int err = 0;

	if (!s)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	text = ztc_read_file(path, STORE_MAX, NULL, &err);
	if (!text && err == ZTC_ENOTREG) {
		free(s);
		return ztc_fail(ctx, ZTC_ERR_IO, "%s is not a regular file; it was left untouched: move it away", path);
	}
	if (!text && err != ENOENT) {
		free(s);
		return ztc_fail(ctx, ZTC_ERR_IO, "cannot read %s: %s", path, strerror(err));
	}
	if (text && !parse_store(text, s, why, sizeof(why))) {
		free(text);
		ztc_store_free(s);
		return ztc_fail(ctx, ZTC_ERR_CORRUPT,
				"%s is corrupt (%s); it was left untouched: fix or remove it", path, why);
	}
	free(text);
	*ret_store = s;
	return ZTC_OK;
}

ZTC_API int ztc_store_load(ztc_ctx *ctx, ztc_store **ret_store)
{
	char *path;
	int rc;

	if (!ctx || !ret_store)
		return ZTC_ERR_ARG;
	path = store_path(ctx, "");
	if (!path)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	rc = load_path(ctx, path, ret_store);
	free(path);
	return rc;
}

ZTC_API void ztc_store_free(ztc_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		known_clear(&s->k[i]);
	free(s->k);
	free(s);
}

ZTC_API size_t ztc_store_count(const ztc_store *s) { return s ? s->n : 0; }

ZTC_API const ztc_known *ztc_store_get(const ztc_store *s, size_t i)
{
	return s && i < s->n ? &s->k[i] : NULL;
}

ZTC_API const ztc_known *ztc_store_find_uid(const ztc_store *s, const char *uid)
{
	for (size_t i = 0; s && uid && i < s->n; i++)
		if (strcmp(s->k[i].uid, uid) == 0)
			return &s->k[i];
	return NULL;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

ZTC_API const ztc_known *ztc_store_find_device(const ztc_store *s, const char *uid, const char *usbpath)
{
	const ztc_known *unpinned = NULL;

	for (size_t i = 0; s && uid && i < s->n; i++)
		if (strcmp(s->k[i].uid, uid) == 0) {
			if (!s->k[i].usbpath && !unpinned)
				unpinned = &s->k[i];
			else if (usbpath && s->k[i].usbpath && strcmp(s->k[i].usbpath, usbpath) == 0)
				return &s->k[i];
		}
	return unpinned;
}

ZTC_API const ztc_known *ztc_store_find_alias(const ztc_store *s, const char *alias)
{
	for (size_t i = 0; s && alias && i < s->n; i++)
		if (strcmp(s->k[i].alias, alias) == 0)
			return &s->k[i];
	return NULL;
}

ZTC_API int ztc_store_put(ztc_ctx *ctx, ztc_store *s, const ztc_known *k)
{
	const ztc_known *other;
	ztc_known copy;
	int rc;

	if (!s || !k || ztc_str_empty(k->alias) || ztc_str_empty(k->uid) || ztc_str_empty(k->target))
		return ztc_fail(ctx, ZTC_ERR_ARG, "an entry needs an alias, a uid and a target");
	if (k->usbpath && !ztc_usbpath_valid(k->usbpath))
		return ztc_fail(ctx, ZTC_ERR_ARG, "'%s' is not a USB port path such as 1-1.2", k->usbpath);
	/* The load refuses a store holding such an alias: never write one. */
	if (!ztc_alias_valid(k->alias))
		return ztc_fail(ctx, ZTC_ERR_ARG, "invalid alias: it must be non-empty, without spaces or control "
				"characters, and not start with '-'");
	other = ztc_store_find_alias(s, k->alias);
	if (other && (strcmp(other->uid, k->uid) != 0 || !same_str(other->usbpath, k->usbpath)))
		return ztc_fail(ctx, ZTC_ERR_EXISTS, "alias '%s' is already used by device %s%s%s", k->alias,
				other->uid, other->usbpath ? " at usbpath " : "", other->usbpath ? other->usbpath : "");
	rc = known_copy(&copy, k);
	if (rc < 0)
		return ztc_fail(ctx, rc, "out of memory");
	/* An entry is a uid and a usbpath (none: unpinned): twins have one each. */
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->k[i].uid, k->uid) == 0 && same_str(s->k[i].usbpath, k->usbpath)) {
			known_clear(&s->k[i]);
			s->k[i] = copy;
			qsort(s->k, s->n, sizeof(*s->k), cmp_alias);
			return ZTC_OK;
		}
	rc = store_append(s, &copy);
	if (rc < 0) {
		known_clear(&copy);
		return ztc_fail(ctx, rc, "out of memory");
	}
	qsort(s->k, s->n, sizeof(*s->k), cmp_alias);
	return ZTC_OK;
}

ZTC_API int ztc_store_del(ztc_ctx *ctx, ztc_store *s, const char *alias)
{
	for (size_t i = 0; s && alias && i < s->n; i++)
		if (strcmp(s->k[i].alias, alias) == 0) {
			known_clear(&s->k[i]);
			memmove(&s->k[i], &s->k[i + 1], (s->n - i - 1) * sizeof(*s->k));
			s->n--;
			return ZTC_OK;
		}
	return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "no device has the alias '%s'", alias ? alias : "");
}

static char *serialize(const struct ztc_store *s, size_t *ret_len)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	char *out = NULL;
	size_t len;

	if (!g)
		return NULL;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	yajl_gen_string(g, (const unsigned char *)"devices", 7);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < s->n; i++) {
		yajl_gen_map_open(g);
		for (size_t f = 0; f < NFIELDS; f++) {
			const char *v = *field(&s->k[i], f);

			if (!v && fields[f].off == offsetof(ztc_known, usbpath))
				continue; /* an unpinned entry is written as before pinning existed */
			yajl_gen_string(g, (const unsigned char *)fields[f].key, strlen(fields[f].key));
			if (v)
				yajl_gen_string(g, (const unsigned char *)v, strlen(v));
			else
				yajl_gen_null(g);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok && (out = malloc(len + 1))) {
		memcpy(out, buf, len);
		out[len] = '\0';
		*ret_len = len;
	}
	yajl_gen_free(g);
	return out;
}

int ztc_mkdir_p(const char *path, mode_t mode)
{
	char *copy = strdup(path);
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; *p && rc == 0; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(copy, mode) < 0 && errno != EEXIST)
				rc = -errno;
			*p = '/';
		}
	if (rc == 0 && mkdir(copy, mode) < 0 && errno != EEXIST)
		rc = -errno;
	free(copy);
	return rc;
}

/* "user NAME (uid N)", or "uid N" when the name is unknown. */
static void describe_user(uid_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res && !ztc_str_empty(res->pw_name))
		snprintf(buf, len, "%s (uid %u)", res->pw_name, (unsigned int)uid);
	else
		snprintf(buf, len, "uid %u", (unsigned int)uid);
}

int ztc_home_prepare(ztc_ctx *ctx)
{
	uid_t me = geteuid();
	char *p = strdup(ctx->home), *slash;
	char owner[160], self[160];
	struct stat st;
	bool exists;
	int rc;

	if (!p)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	/* ZTC_HOME itself, or the closest folder above it that exists: the one a mkdir -p would write into. */
	for (;;) {
		exists = stat(p, &st) == 0;
		if (exists || errno != ENOENT || strcmp(p, ".") == 0)
			break; /* any other error is mkdir's to report */
		slash = strrchr(p, '/');
		if (!slash)
			strcpy(p, "."); /* p is at least one byte: ZTC_HOME is never empty */
		else
			slash[slash == p] = '\0'; /* "/x" goes to "/" */
	}
	if (exists && st.st_uid != me && (strcmp(p, ctx->home) == 0 || st.st_uid != 0)) {
		/* sudo -E keeps the user's HOME: files written there as root would lock the user out of them.
		 * Above ZTC_HOME a root-owned folder (/, /tmp, /var/lib) is normal; another user's is not. */
		describe_user(st.st_uid, owner, sizeof(owner));
		describe_user(me, self, sizeof(self));
		if (strcmp(p, ctx->home) == 0)
			rc = ztc_fail(ctx, ZTC_ERR_IO, "ZTC_HOME %s belongs to %s, not to %s: ztc writes only into its own "
				      "user's folder (run ztc as that user, or set ZTC_HOME)", ctx->home, owner, self);
		else
			rc = ztc_fail(ctx, ZTC_ERR_IO, "%s belongs to %s, not to %s: ztc does not create ZTC_HOME %s in "
				      "another user's folder (run ztc as that user, or set ZTC_HOME)", p, owner, self,
				      ctx->home);
		free(p);
		return rc;
	}
	free(p);
	rc = ztc_mkdir_p(ctx->home, 0700);
	if (rc < 0)
		return ztc_fail(ctx, ZTC_ERR_IO, "cannot create %s: %s", ctx->home, strerror(-rc));
	return ZTC_OK;
}

int ztc_write_atomic(ztc_ctx *ctx, const char *path, const char *data, size_t len, mode_t mode)
{
	char *tmp = ztc_strdup_printf("%s.XXXXXX", path);
	char *dir, *slash;
	int fd, dfd, rc = ZTC_OK;
	size_t done = 0;

	if (!tmp)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = ztc_fail(ctx, ZTC_ERR_IO, "cannot create a temporary file beside %s: %s", path, strerror(errno));
		free(tmp);
		return rc;
	}
	fchmod(fd, mode);
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = ztc_fail(ctx, ZTC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
			break;
		}
		done += (size_t)w;
	}
	if (rc == ZTC_OK && fsync(fd) < 0)
		rc = ztc_fail(ctx, ZTC_ERR_IO, "cannot flush %s: %s", tmp, strerror(errno));
	if (close(fd) < 0 && rc == ZTC_OK)
		rc = ztc_fail(ctx, ZTC_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
	if (rc == ZTC_OK && rename(tmp, path) < 0)
		rc = ztc_fail(ctx, ZTC_ERR_IO, "cannot replace %s: %s", path, strerror(errno));
	if (rc != ZTC_OK) {
		unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	/* The rename is durable only once the directory is flushed too. */
	dir = strdup(path);
	slash = dir ? strrchr(dir, '/') : NULL;
	if (slash) {
		*slash = '\0';
		dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	free(dir);
	return ZTC_OK;
}

/* A writer killed between mkstemp() and rename() leaves devices.json.XXXXXX behind. Every writer of
 * devices.json holds the store lock, so once we hold it any such file is an orphan: remove it.
 * Only names of exactly that shape go (the lock file, devices.json.lock, has a 4-letter suffix). */
static void remove_orphan_temps(ztc_ctx *ctx)
{
	DIR *d = opendir(ctx->home);
	struct dirent *e;
	const char *prefix = "devices.json.";
	size_t plen = strlen(prefix);

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		const char *suffix = e->d_name + plen;
		bool temp = strncmp(e->d_name, prefix, plen) == 0 && strlen(suffix) == 6;

		for (size_t i = 0; temp && i < 6; i++)
			temp = isalnum((unsigned char)suffix[i]);
		if (temp && unlinkat(dirfd(d), e->d_name, 0) == 0)
			ztc_dbg(ctx, "removed %s/%s, left by an interrupted write", ctx->home, e->d_name);
	}
	closedir(d);
}

ZTC_API int ztc_store_update(ztc_ctx *ctx, ztc_store_update_fn fn, void *userdata)
{
	char *path = NULL, *lockpath = NULL, *text = NULL;
	ztc_store *s = NULL;
	struct stat st;
	size_t len = 0;
	int lfd = -1, rc;

	if (!ctx || !fn)
		return ZTC_ERR_ARG;
	rc = ztc_home_prepare(ctx);
	if (rc < 0)
		return rc;
	path = store_path(ctx, "");
	lockpath = store_path(ctx, ".lock");
	if (!path || !lockpath) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* A separate lock file: the data file itself is replaced by rename on every write. */
	/* O_NONBLOCK and the type check: a FIFO planted as the lock must not hang us either. */
	lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0600);
	if (lfd < 0) {
		rc = ztc_fail(ctx, ZTC_ERR_IO, "cannot open %s: %s", lockpath, strerror(errno));
		goto out;
	}
	if (fstat(lfd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = ztc_fail(ctx, ZTC_ERR_IO, "%s is not a regular file; it was left untouched: move it away", lockpath);
		goto out;
	}
	while (flock(lfd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			rc = ztc_fail(ctx, ZTC_ERR_IO, "cannot lock %s: %s", lockpath, strerror(errno));
			goto out;
		}
	}
	remove_orphan_temps(ctx);
	rc = load_path(ctx, path, &s);
	if (rc < 0)
		goto out;
	rc = fn(ctx, s, userdata);
	if (rc < 0)
		goto out;
	text = serialize(s, &len);
	if (!text) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = ztc_write_atomic(ctx, path, text, len, 0600);
out:
	if (lfd >= 0)
		close(lfd); /* releases the lock */
	ztc_store_free(s);
	free(text);
	free(path);
	free(lockpath);
	return rc;
}

int ztc_known_dup(const ztc_known *k, ztc_known **ret_known)
{
	ztc_known *d = malloc(sizeof(*d));

	if (!d || known_copy(d, k) < 0) {
		free(d);
		return ZTC_ERR_NOMEM;
	}
	*ret_known = d;
	return ZTC_OK;
}

ZTC_API void ztc_known_free(ztc_known *k)
{
	if (!k)
		return;
	known_clear(k);
	free(k);
}
