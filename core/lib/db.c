/* db.c: the board database: device.json folders from ZTC_DB_PATH and the installed database. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "dbcache.h"
#include "internal.h"
#include "ztc/register.h"

#define DEVICE_JSON_MAX (1024 * 1024)

static void target_clear(struct ztc_target *t)
{
	for (size_t i = 0; i < t->nclasses && !t->borrowed; i++) {
		free(t->classes[i].module);
		free(t->classes[i].name);
		free(t->classes[i].usb);
		free(t->classes[i].sid);
	}
	free(t->classes);
	if (!t->borrowed) {
		free(t->id);
		free(t->name);
		free(t->type);
	}
	free(t->path);
	yajl_tree_free(t->json);
}

char *ztc_read_file(const char *path, size_t max, size_t *ret_len, int *ret_errno)
{
	/* O_NONBLOCK: opening a FIFO without a writer would otherwise wait forever (holding the store lock,
	 * for devices.json); the type check below then refuses it, a directory and a device node alike. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct ztc_buf buf = { 0 };
	char chunk[8192];
	struct stat st;
	FILE *f;

	if (fd < 0) {
		*ret_errno = errno;
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		*ret_errno = errno;
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*ret_errno = ZTC_ENOTREG;
		close(fd);
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		*ret_errno = errno;
		close(fd);
		return NULL;
	}
	for (;;) {
		size_t r = fread(chunk, 1, sizeof(chunk), f);

		if (r > max - buf.len) {
			*ret_errno = EFBIG;
			goto fail;
		}
		/* Appending nothing still makes an empty file a "" string. */
		if (!ztc_buf_append(&buf, chunk, r)) {
			*ret_errno = ENOMEM;
			goto fail;
		}
		if (r == 0) {
			if (ferror(f)) {
				*ret_errno = EIO;
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	if (ret_len)
		*ret_len = buf.len;
	return buf.data;
fail:
	fclose(f);
	ztc_buf_free(&buf);
	return NULL;
}

const char *ztc_read_strerror(int err)
{
	return err == ZTC_ENOTREG ? "not a regular file" : strerror(err);
}

static bool parse_usb_id(const char *s, char out[10])
{
	unsigned int v, p;
	char tail;

	if (!s || strlen(s) != 9 || s[4] != ':' || sscanf(s, "%4x:%4x%c", &v, &p, &tail) != 2)
		return false;
	for (int i = 0; i < 9; i++)
		if (i != 4 && !isxdigit((unsigned char)s[i]))
			return false;
	snprintf(out, 10, "%04X:%04X", v, p);
	return true;
}

/* A plain C identifier. The module part of a class names a file that the loader looks for in the plugin
 * dirs (lt_dlopenext): a '/' or ".." in it would reach any file on the system. */
static bool identifier(const char *s, size_t len)
{
	if (len == 0 || (*s >= '0' && *s <= '9'))
		return false;
	/* ASCII ranges, not isalnum(): that one follows the locale. */
	for (size_t i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') && !(s[i] >= 'A' && s[i] <= 'Z') && !(s[i] >= '0' && s[i] <= '9') &&
		    s[i] != '_')
			return false;
	return true;
}

/* Validate one classes[] entry; on failure write the problem into why. */
static bool parse_class(yajl_val c, size_t idx, struct ztc_class *out, char *why, size_t whylen)
{
	const char *cls, *dot, *sid;
	yajl_val usb;

	if (!YAJL_IS_OBJECT(c)) {
		snprintf(why, whylen, "classes[%zu] is not an object", idx);
		return false;
	}
	cls = ztc_json_get_str(c, "class");
	dot = cls ? strchr(cls, '.') : NULL;
	if (!dot || dot == cls || !dot[1] || strchr(dot + 1, '.')) {
		snprintf(why, whylen, "classes[%zu].class must be \"module.Class\"", idx);
		return false;
	}
	if (!identifier(cls, (size_t)(dot - cls)) || !identifier(dot + 1, strlen(dot + 1))) {
		snprintf(why, whylen, "classes[%zu].class: module and class must be plain identifiers (letters, digits, "
			 "'_'), never a path", idx);
		return false;
	}
	{
		usb = ztc_json_get(c, "usb", yajl_t_array);
	}
	if (!usb) {
		snprintf(why, whylen, "classes[%zu].usb must be a list of \"VID:PID\"", idx);
		return false;
	}
	out->module = strndup(cls, (size_t)(dot - cls));
	out->name = strdup(dot + 1);
	out->nusb = YAJL_GET_ARRAY(usb)->len;
	out->usb = calloc(out->nusb ? out->nusb : 1, sizeof(*out->usb));
	sid = ztc_json_get_str(c, "sid");
	out->sid = sid ? strdup(sid) : NULL;
	for (size_t i = 0; i < out->nusb; i++) {
		yajl_val u = YAJL_GET_ARRAY(usb)->values[i];

		if (!parse_usb_id(YAJL_IS_STRING(u) ? YAJL_GET_STRING(u) : NULL, out->usb[i])) {
			snprintf(why, whylen, "classes[%zu].usb[%zu] is not \"VID:PID\" (4 hex digits each)", idx, i);
			return false;
		}
	}
	return true;
}

static bool class_key_ok(const struct ztc_target *t, const char *key, char *why, size_t whylen)
{
	yajl_val v = ztc_json_get(t->json, key, yajl_t_any);

	if (!v || YAJL_IS_FALSE(v) || YAJL_IS_NULL(v))
		return true;
	if (!YAJL_IS_STRING(v) || ztc_target_class_find(t, YAJL_GET_STRING(v)) < 0) {
		snprintf(why, whylen, "%s must name one of the target's classes", key);
		return false;
	}
	return true;
}

/* Parse and validate dir/device.json into t; false with the problem in why. */
static bool load_target(const char *dir, struct ztc_target *t, char *why, size_t whylen)
{
	char *path = ztc_strdup_printf("%s/device.json", dir);
	char errbuf[256] = "";
	const char *id, *name, *type;
	yajl_val classes;
	char *text;
	int err = 0;

	memset(t, 0, sizeof(*t));
	text = path ? ztc_read_file(path, DEVICE_JSON_MAX, NULL, &err) : NULL;
	free(path);
	if (!text) {
		snprintf(why, whylen, "cannot read it: %s", ztc_read_strerror(err ? err : ENOMEM));
		return false;
	}
	t->json = ztc_json_parse(text, errbuf, sizeof(errbuf));
	free(text);
	if (!t->json) {
		snprintf(why, whylen, "invalid JSON: %s", errbuf);
		return false;
	}
	if (!YAJL_IS_OBJECT(t->json)) {
		snprintf(why, whylen, "not a JSON object");
		return false;
	}
	id = ztc_json_get_str(t->json, "target");
	name = ztc_json_get_str(t->json, "name");
	type = ztc_json_get_str(t->json, "type");
	if (ztc_str_empty(id) || strchr(id, '/') || strchr(id, ' ')) {
		snprintf(why, whylen, "missing or invalid \"target\"");
		return false;
	}
	if (ztc_str_empty(name)) {
		snprintf(why, whylen, "missing \"name\"");
		return false;
	}
	if (!type || (strcmp(type, "board") && strcmp(type, "jtag") && strcmp(type, "usbtoserial"))) {
		snprintf(why, whylen, "\"type\" must be board, jtag or usbtoserial");
		return false;
	}
	{
		classes = ztc_json_get(t->json, "classes", yajl_t_array);
	}
	if (!classes) {
		snprintf(why, whylen, "missing \"classes\" list");
		return false;
	}
	t->id = strdup(id);
	t->name = strdup(name);
	t->type = strdup(type);
	t->path = strdup(dir);
	t->classes = calloc(YAJL_GET_ARRAY(classes)->len + 1, sizeof(*t->classes));
	if (!t->id || !t->name || !t->type || !t->path || !t->classes) {
		snprintf(why, whylen, "out of memory");
		return false;
	}
	for (size_t i = 0; i < YAJL_GET_ARRAY(classes)->len; i++) {
		if (!parse_class(YAJL_GET_ARRAY(classes)->values[i], i, &t->classes[i], why, whylen)) {
			t->nclasses = i + 1;
			return false;
		}
		t->nclasses = i + 1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(t->classes[j].name, t->classes[i].name) == 0) {
				snprintf(why, whylen, "class %s is listed twice", t->classes[i].name);
				return false;
			}
	}
	return class_key_ok(t, "virtualizable", why, whylen) && class_key_ok(t, "has_alter_ego", why, whylen) &&
	       class_key_ok(t, "jtag_class", why, whylen);
}

static int cmp_target(const void *a, const void *b)
{
	return strcmp(((const struct ztc_target *)a)->id, ((const struct ztc_target *)b)->id);
}

/* What the cache (dbcache.c) builds on: the same parse, the same cleanup, the same class-name rule. */
bool ztc_db_load_target(const char *dir, struct ztc_target *t, char *why, size_t whylen)
{
	return load_target(dir, t, why, whylen);
}

void ztc_db_target_clear(struct ztc_target *t)
{
	target_clear(t);
}

bool ztc_db_identifier(const char *s)
{
	return s && identifier(s, strlen(s));
}

ZTC_API int ztc_db_load(ztc_ctx *ctx, ztc_db **ret_db)
{
	struct ztc_dbcache *cache;
	struct ztc_db *db;
	int rc = ZTC_OK;

	if (!ctx || !ret_db)
		return ZTC_ERR_ARG;
	db = calloc(1, sizeof(*db));
	cache = db ? ztc_dbcache_open(ctx) : NULL;
	if (!cache) {
		free(db);
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	}
	if (ctx->db_path) {
		char *copy = strdup(ctx->db_path), *save = NULL;

		for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir && rc == ZTC_OK;
		     dir = strtok_r(NULL, ":", &save))
			rc = ztc_dbcache_scan_dir(ctx, cache, db, dir);
		free(copy);
	}
	if (rc == ZTC_OK)
		rc = ztc_dbcache_scan_dir(ctx, cache, db, ZTC_BOARD_DB_DIR);
	ztc_dbcache_close(ctx, cache, db);
	if (rc < 0) {
		ztc_db_free(db);
		return ztc_fail(ctx, rc, "cannot load the board database: %s", ztc_strerror(rc));
	}
	if (db->n == 0) {
		ztc_db_free(db);
		return ztc_fail(ctx, ZTC_ERR_NOT_FOUND,
				"the board database is empty: no device.json under %s%s%s", ZTC_BOARD_DB_DIR,
				ctx->db_path ? " or ZTC_DB_PATH=" : "", ctx->db_path ? ctx->db_path : "");
	}
	qsort(db->t, db->n, sizeof(*db->t), cmp_target);
	*ret_db = db;
	return ZTC_OK;
}

ZTC_API void ztc_db_free(ztc_db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < db->n; i++)
		target_clear(&db->t[i]);
	free(db->t);
	free(db->cache_buf);
	free(db);
}

ZTC_API size_t ztc_db_count(const ztc_db *db)
{
	return db ? db->n : 0;
}

ZTC_API const ztc_target *ztc_db_get(const ztc_db *db, size_t i)
{
	return db && i < db->n ? &db->t[i] : NULL;
}

ZTC_API const ztc_target *ztc_db_find(const ztc_db *db, const char *id)
{
	struct ztc_target key = { .id = (char *)id };

	if (!db || !id)
		return NULL;
	return bsearch(&key, db->t, db->n, sizeof(*db->t), cmp_target);
}

ZTC_API const char *ztc_target_get_id(const ztc_target *t) { return t->id; }
ZTC_API const char *ztc_target_get_name(const ztc_target *t) { return t->name; }
ZTC_API const char *ztc_target_get_type(const ztc_target *t) { return t->type; }
ZTC_API const char *ztc_target_get_path(const ztc_target *t) { return t->path; }

ZTC_API const char *ztc_target_get_str(const ztc_target *t, const char *key)
{
	return t && key ? ztc_json_get_str(ztc_target_json(t), key) : NULL;
}

ZTC_API long ztc_target_get_int(const ztc_target *t, const char *key, long def)
{
	yajl_val v;

	if (!t || !key)
		return def;
	v = ztc_json_get(ztc_target_json(t), key, yajl_t_any);
	if (v && YAJL_IS_INTEGER(v))
		return (long)YAJL_GET_INTEGER(v);
	/* A number beyond long (or NaN) has no conversion (undefined behaviour): it counts as absent. */
	if (v && YAJL_IS_DOUBLE(v))
		return YAJL_GET_DOUBLE(v) >= (double)LONG_MIN && YAJL_GET_DOUBLE(v) < (double)LONG_MAX
			       ? (long)YAJL_GET_DOUBLE(v) : def;
	if (v && YAJL_IS_TRUE(v))
		return 1;
	if (v && YAJL_IS_FALSE(v))
		return 0;
	return def;
}

ZTC_API size_t ztc_target_class_count(const ztc_target *t) { return t->nclasses; }

ZTC_API const char *ztc_target_class_name(const ztc_target *t, size_t i)
{
	return i < t->nclasses ? t->classes[i].name : NULL;
}

ZTC_API const char *ztc_target_class_module(const ztc_target *t, size_t i)
{
	return i < t->nclasses ? t->classes[i].module : NULL;
}

ZTC_API int ztc_target_class_matches(const ztc_target *t, size_t i, const ztc_usbdev *dev)
{
	const struct ztc_class *c;

	if (!t || i >= t->nclasses || !dev || !dev->vid || !dev->pid || strlen(dev->vid) != 4)
		return 0;
	c = &t->classes[i];
	if (c->sid && (!dev->sid || strcmp(c->sid, dev->sid) != 0))
		return 0;
	/* Called for every class of every target for each device: no snprintf of "VID:PID" here. */
	for (size_t k = 0; k < c->nusb; k++)
		if (memcmp(c->usb[k], dev->vid, 4) == 0 && strcmp(c->usb[k] + 5, dev->pid) == 0)
			return 1;
	return 0;
}

ZTC_API int ztc_target_class_find(const ztc_target *t, const char *name)
{
	const char *dot;

	if (!t || !name)
		return -1;
	dot = strchr(name, '.');
	for (size_t i = 0; i < t->nclasses; i++) {
		const struct ztc_class *c = &t->classes[i];

		if (dot ? (strncmp(c->module, name, (size_t)(dot - name)) == 0 &&
			   c->module[dot - name] == '\0' && strcmp(c->name, dot + 1) == 0)
			: strcmp(c->name, name) == 0)
			return (int)i;
	}
	return -1;
}

ZTC_API void ztc_target_serial_params(const ztc_target *t, ztc_serial_params *p)
{
	yajl_val conn = t ? ztc_json_get(ztc_target_json(t), "connection", yajl_t_object) : NULL;
	yajl_val v;

	ztc_serial_params_init(p);
	if (!conn)
		return;
#define CONN(key, type) ztc_json_get(conn, (key), (type))
	if ((v = CONN("baudrate", yajl_t_number)) && YAJL_IS_INTEGER(v))
		p->baud = (int)YAJL_GET_INTEGER(v);
	if ((v = CONN("bytesize", yajl_t_number)) && YAJL_IS_INTEGER(v))
		p->databits = (int)YAJL_GET_INTEGER(v);
	if ((v = CONN("stopbits", yajl_t_number)) && YAJL_IS_INTEGER(v))
		p->stopbits = (int)YAJL_GET_INTEGER(v);
	if ((v = CONN("parity", yajl_t_string)) && v->u.string[0])
		p->parity = (char)tolower((unsigned char)v->u.string[0]);
	if ((v = CONN("rtscts", yajl_t_any)))
		p->rtscts = YAJL_IS_TRUE(v);
	if ((v = CONN("dsrdtr", yajl_t_any)))
		p->dsrdtr = YAJL_IS_TRUE(v);
#undef CONN
}
