/* boardop.c: board operations (burn, reset, chip id, mode switch) through plugin callbacks, with progress
 * and a private temporary directory per operation. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "ztc/plugin.h"

/* What libztc keeps about a running callback. The board object is board.c's and holds none of it, so
 * the operations in flight are listed here, keyed by their board. */
struct op {
	const ztc_board *b;
	char *tmpdir;
	struct tmpfile {
		char *path;
	} *files;
	size_t nfiles;
	struct op *next;
};

static pthread_mutex_t ops_lock = PTHREAD_MUTEX_INITIALIZER;
static struct op *ops;

static struct op *op_find(const ztc_board *b)
{
	struct op *o;

	pthread_mutex_lock(&ops_lock);
	for (o = ops; o && o->b != b; o = o->next)
		;
	pthread_mutex_unlock(&ops_lock);
	return o;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (remove(path) < 0 && errno != ENOENT)
		return 0; /* keep going: remove what can be removed */
	return 0;
}

static void op_end(ztc_ctx *ctx, struct op *o)
{
	struct op **p;

	pthread_mutex_lock(&ops_lock);
	for (p = &ops; *p && *p != o; p = &(*p)->next)
		;
	if (*p)
		*p = o->next;
	pthread_mutex_unlock(&ops_lock);
	/* Tools may leave files of their own in the directory ({tmpdir}/nuttx.spk): remove it all. */
	if (o->tmpdir) {
		nftw(o->tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		if (access(o->tmpdir, F_OK) == 0)
			ztc_warn(ctx, "cannot remove the temporary directory %s", o->tmpdir);
	}
	for (size_t i = 0; i < o->nfiles; i++)
		free(o->files[i].path);
	free(o->files);
	free(o->tmpdir);
	free(o);
}

static struct op *op_begin(const ztc_board *b)
{
	struct op *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->b = b;
	pthread_mutex_lock(&ops_lock);
	o->next = ops;
	ops = o;
	pthread_mutex_unlock(&ops_lock);
	return o;
}

ZTC_API const char *ztc_board_temp_dir(ztc_board *b)
{
	struct op *o = op_find(b);
	const char *base = getenv("TMPDIR");

	if (!o) {
		ztc_board_fail(b, ZTC_ERR_ARG, "a temporary directory is only available inside a plugin callback");
		return NULL;
	}
	if (!o->tmpdir) {
		char *t = ztc_strdup_printf("%s/ztc-flash.XXXXXX", !ztc_str_empty(base) ? base : "/tmp");

		if (!t) {
			ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
			return NULL;
		}
		if (!mkdtemp(t)) {
			ztc_board_fail(b, ZTC_ERR_IO, "cannot create a temporary directory %s: %s", t, strerror(errno));
			free(t);
			return NULL;
		}
		o->tmpdir = t;
	}
	return o->tmpdir;
}

ZTC_API int ztc_board_temp_file(ztc_board *b, const char *name, const unsigned char *data, size_t len,
				const char **ret_path)
{
	const char *dir;
	struct op *o;
	struct tmpfile *nf;
	char *path;
	size_t done = 0;
	int fd;

	if (!b || ztc_str_empty(name) || strchr(name, '/') || (!data && len) || !ret_path)
		return ztc_board_fail(b, ZTC_ERR_ARG, "invalid temporary file request");
	dir = ztc_board_temp_dir(b);
	if (!dir)
		return ZTC_ERR_IO;
	o = op_find(b);
	path = ztc_strdup_printf("%s/%s", dir, name);
	nf = path ? realloc(o->files, (o->nfiles + 1) * sizeof(*o->files)) : NULL;
	if (!nf) {
		free(path);
		return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
	}
	o->files = nf;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;

		free(path);
		return ztc_board_fail(b, ZTC_ERR_IO, "cannot create %s/%s: %s", dir, name, strerror(e));
	}
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			close(fd);
			free(path);
			return ztc_board_fail(b, ZTC_ERR_IO, "cannot write %s/%s: %s", dir, name, strerror(e));
		}
		done += (size_t)w;
	}
	if (close(fd) < 0) {
		int e = errno;

		free(path);
		return ztc_board_fail(b, ZTC_ERR_IO, "cannot write %s/%s: %s", dir, name, strerror(e));
	}
	o->files[o->nfiles++].path = path;
	*ret_path = path;
	return ZTC_OK;
}

ZTC_API void ztc_ctx_set_progress(ztc_ctx *ctx, ztc_progress_fn fn, void *userdata)
{
	if (!ctx)
		return;
	ctx->progress_fn = fn;
	ctx->progress_data = userdata;
}

ZTC_API void ztc_board_progress(ztc_board *b, int percent, const char *msg)
{
	ztc_ctx *ctx = ztc_board_ctx(b);

	if (!ctx)
		return;
	if (percent < -1)
		percent = -1;
	if (percent > 100)
		percent = 100;
	if (percent < 0)
		ztc_info(ctx, "%s", msg ? msg : "");
	else
		ctx->progress_seen = true;
	if (ctx->progress_fn)
		ctx->progress_fn(ctx->progress_data, percent, msg ? msg : "");
}

static bool no_sleep(void)
{
	const char *v = getenv("ZTC_FLASH_NO_SLEEP");

	return v && strcmp(v, "1") == 0;
}

ZTC_API void ztc_board_wait(ztc_board *b, long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	if (no_sleep()) {
		ztc_board_log(b, ZTC_LOG_DBG, "not waiting %ld ms (ZTC_FLASH_NO_SLEEP=1)", ms);
		return;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- operations ------------------------------------------------------------------------------------ */

static const char *board_label(const ztc_match *m)
{
	return m->alias ? m->alias : m->name ? m->name : m->target;
}

/* Resolve m's class and start an operation on a new board: *ret_b and *ret_op to hand to finish(). */
static int start(ztc_ctx *ctx, const ztc_match *m, const ztc_class_desc **ret_cls, ztc_board **ret_b,
		 struct op **ret_op)
{
	int rc;

	if (!ctx || !m || !m->t)
		return ztc_fail(ctx, ZTC_ERR_ARG, "no board given");
	rc = ztc_plugin_resolve(ctx, m->t, m->class_idx, ret_cls);
	if (rc < 0)
		return rc;
	*ret_b = ztc_board_new(ctx, m);
	*ret_op = *ret_b ? op_begin(*ret_b) : NULL;
	if (!*ret_op) {
		ztc_board_free(*ret_b);
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	}
	ztc_clear_error(ctx);
	return ZTC_OK;
}

/* End the operation; a failing callback that gave no reason gets a generic one. */
static int finish(ztc_ctx *ctx, const ztc_match *m, const char *what, ztc_board *b, struct op *o, int rc)
{
	op_end(ctx, o);
	ztc_board_free(b);
	if (rc > 0) {
		ztc_warn(ctx, "plugin %s.%s returned %d from %s: taken as success", ztc_target_class_module(m->t,
			 m->class_idx), m->classname, rc, what);
		rc = ZTC_OK;
	}
	if (rc < 0 && !*ztc_ctx_errmsg(ctx))
		ztc_fail(ctx, rc, "%s: %s failed: %s", board_label(m), what, ztc_strerror(rc));
	return rc;
}

ZTC_API int ztc_board_burn(ztc_ctx *ctx, const ztc_match *m, const ztc_firmware *fw)
{
	const ztc_class_desc *cls;
	ztc_board *b;
	struct op *o;
	size_t n, total = 0;
	int rc;

	if (!ctx || !m || !fw)
		return ztc_fail(ctx, ZTC_ERR_ARG, "no board or firmware given");
	n = ztc_firmware_image_count(fw);
	for (size_t i = 0; i < n; i++)
		total += ztc_firmware_image(fw, i)->len;
	/* A flash object the database warned about stops every class, the ones that flash by themselves too. */
	rc = m->t ? ztc_flash_refuse_bad(ctx, m->t) : ZTC_OK;
	if (rc < 0)
		return rc;
	rc = start(ctx, m, &cls, &b, &o);
	if (rc < 0)
		return rc;
	if (!cls->burn) {
		rc = ztc_fail(ctx, ZTC_ERR_UNSUPPORTED, "%s: class %s cannot flash a firmware", board_label(m),
			      m->classname);
		return finish(ctx, m, "flashing", b, o, rc);
	}
	ztc_info(ctx, "flashing %zu image%s (%zu bytes) on %s with %s.%s", n, n == 1 ? "" : "s", total,
		 board_label(m), ztc_target_class_module(m->t, m->class_idx), m->classname);
	/* No 0% before the class has found its tool: a missing tool shows no progress at all. The 100% at
	 * the end only for a class that reported none of its own. */
	ctx->progress_seen = false;
	rc = cls->burn(b, ztc_firmware_image(fw, 0), n);
	if (rc >= 0 && !ctx->progress_seen)
		ztc_board_progress(b, 100, "flashing");
	return finish(ctx, m, "flashing", b, o, rc);
}

/* An operation whose callback takes the board alone and whose absence means nothing to do: reset, mode switch. */
struct step {
	bool reset;               /* the reset callback, else enter_virtualizable */
	const char *doing, *tail; /* "resetting" BOARD "" */
	const char *none;         /* "class X has no <none>" */
	const char *what;         /* for finish() */
};

static int board_step(ztc_ctx *ctx, const ztc_match *m, const struct step *s)
{
	const ztc_class_desc *cls;
	int (*fn)(ztc_board *b);
	ztc_board *b;
	struct op *o;
	int rc = start(ctx, m, &cls, &b, &o);

	if (rc < 0)
		return rc;
	fn = s->reset ? cls->reset : cls->enter_virtualizable;
	if (fn) {
		ztc_info(ctx, "%s %s%s", s->doing, board_label(m), s->tail);
		rc = fn(b);
	} else {
		ztc_dbg(ctx, "class %s has no %s: nothing to do", m->classname, s->none);
	}
	return finish(ctx, m, s->what, b, o, rc);
}

ZTC_API int ztc_board_reset(ztc_ctx *ctx, const ztc_match *m)
{
	static const struct step reset = { true, "resetting", "", "reset", "reset" };

	return board_step(ctx, m, &reset);
}

ZTC_API int ztc_board_read_chipid(ztc_ctx *ctx, const ztc_match *m, char **ret_chipid)
{
	const ztc_class_desc *cls;
	ztc_board *b;
	struct op *o;
	char *id = NULL;
	int rc;

	if (!ret_chipid)
		return ztc_fail(ctx, ZTC_ERR_ARG, "no chip id destination given");
	rc = start(ctx, m, &cls, &b, &o);
	if (rc < 0)
		return rc;
	if (!cls->read_chipid) {
		rc = ztc_fail(ctx, ZTC_ERR_UNSUPPORTED, "%s: class %s cannot read the chip id natively",
			      board_label(m), m->classname);
		return finish(ctx, m, "reading the chip id", b, o, rc);
	}
	rc = cls->read_chipid(b, &id);
	if (rc >= 0 && ztc_str_empty(id)) {
		free(id);
		id = NULL;
		rc = ztc_fail(ctx, ZTC_ERR_PLUGIN, "%s: plugin %s.%s read an empty chip id", board_label(m),
			      ztc_target_class_module(m->t, m->class_idx), m->classname);
	}
	rc = finish(ctx, m, "reading the chip id", b, o, rc);
	if (rc == ZTC_OK)
		*ret_chipid = id;
	else
		free(id);
	return rc;
}

ZTC_API int ztc_board_has_native_chipid(ztc_ctx *ctx, const ztc_match *m)
{
	const ztc_class_desc *cls;
	int rc;

	if (!ctx || !m || !m->t)
		return ztc_fail(ctx, ZTC_ERR_ARG, "no board given");
	rc = ztc_plugin_resolve(ctx, m->t, m->class_idx, &cls);
	if (rc < 0)
		return rc;
	return cls->read_chipid ? 1 : 0;
}

ZTC_API int ztc_board_enter_virtualizable(ztc_ctx *ctx, const ztc_match *m)
{
	static const struct step enter = { false, "switching", " to its virtualizable mode", "mode switch",
					   "switching mode" };

	return board_step(ctx, m, &enter);
}
