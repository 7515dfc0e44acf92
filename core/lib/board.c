/* board.c: the board object plugin callbacks receive: device.json keys plus the discovered record. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "ztc/plugin.h"

struct ztc_board {
	ztc_ctx *ctx;
	const ztc_target *t;
	const ztc_match *m;
};

ztc_board *ztc_board_new(ztc_ctx *ctx, const ztc_match *m)
{
	ztc_board *b = calloc(1, sizeof(*b));

	if (b) {
		b->ctx = ctx;
		b->t = m->t;
		b->m = m;
	}
	return b;
}

void ztc_board_free(ztc_board *b)
{
	free(b);
}

ztc_ctx *ztc_board_ctx(const ztc_board *b)
{
	return b ? b->ctx : NULL;
}

const ztc_target *ztc_board_target(const ztc_board *b)
{
	return b ? b->t : NULL;
}

ZTC_API const char *ztc_board_get_str(const ztc_board *b, const char *key)
{
	const ztc_usbdev *d;

	if (!b || !key)
		return NULL;
	d = b->m->dev;
	if (strcmp(key, "port") == 0) return b->m->port;
	if (strcmp(key, "disk") == 0) return b->m->disk;
	if (strcmp(key, "uid") == 0) return b->m->uid;
	if (strcmp(key, "alias") == 0) return b->m->alias;
	if (strcmp(key, "chipid") == 0) return b->m->chipid;
	if (strcmp(key, "classname") == 0) return b->m->classname;
	if (d && strcmp(key, "vid") == 0) return d->vid;
	if (d && strcmp(key, "pid") == 0) return d->pid;
	if (d && strcmp(key, "sid") == 0) return d->sid;
	if (d && strcmp(key, "desc") == 0) return d->desc;
	if (d && strcmp(key, "block") == 0) return d->block;
	return ztc_target_get_str(b->t, key);
}

ZTC_API long ztc_board_get_int(const ztc_board *b, const char *key, long def)
{
	return b ? ztc_target_get_int(b->t, key, def) : def;
}

ZTC_API const char *ztc_board_get_dir(const ztc_board *b)
{
	return b ? ztc_target_get_path(b->t) : NULL;
}

ZTC_API void ztc_board_log(ztc_board *b, int level, const char *fmt, ...)
{
	va_list ap;

	if (!b)
		return;
	va_start(ap, fmt);
	ztc_logv(b->ctx, level, fmt, ap);
	va_end(ap);
}

ZTC_API int ztc_board_fail(ztc_board *b, int err, const char *fmt, ...)
{
	va_list ap;

	if (!b)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->ctx->errmsg, sizeof(b->ctx->errmsg), fmt, ap);
	va_end(ap);
	return err;
}
