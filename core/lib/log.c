/* log.c: leveled logging through the context's callback; libztc never prints by itself. */
#include "config.h"

#include <stdio.h>

#include "internal.h"

void ztc_logv(ztc_ctx *ctx, int level, const char *fmt, va_list ap)
{
	char buf[2048];

	if (!ctx || !ctx->log_fn || level > ctx->loglevel)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	ctx->log_fn(ctx->log_data, level, buf);
}

void ztc_log(ztc_ctx *ctx, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ztc_logv(ctx, level, fmt, ap);
	va_end(ap);
}

ZTC_API void ztc_ctx_set_log(ztc_ctx *ctx, ztc_log_fn fn, void *userdata)
{
	ctx->log_fn = fn;
	ctx->log_data = userdata;
}

ZTC_API void ztc_ctx_set_loglevel(ztc_ctx *ctx, int level)
{
	ctx->loglevel = level;
}

ZTC_API int ztc_ctx_get_loglevel(const ztc_ctx *ctx)
{
	return ctx->loglevel;
}
