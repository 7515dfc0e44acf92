/* error.c: error codes, their descriptions, and the per-context detail of the last failure. */
#include "config.h"

#include <stdio.h>

#include "internal.h"

ZTC_API const char *ztc_strerror(int err)
{
	switch (err) {
	case ZTC_OK: return "success";
	case ZTC_ERR: return "failure";
	case ZTC_ERR_NOMEM: return "out of memory";
	case ZTC_ERR_ARG: return "invalid argument";
	case ZTC_ERR_UDEV: return "udev unavailable";
	case ZTC_ERR_IO: return "input/output error";
	case ZTC_ERR_NOT_FOUND: return "not found";
	case ZTC_ERR_AMBIGUOUS: return "ambiguous";
	case ZTC_ERR_PARSE: return "malformed data";
	case ZTC_ERR_PLUGIN: return "plugin error";
	case ZTC_ERR_EXISTS: return "already exists";
	case ZTC_ERR_CORRUPT: return "corrupt file";
	case ZTC_ERR_BACKEND: return "backend error";
	case ZTC_ERR_TOOL: return "external tool error";
	case ZTC_ERR_TIMEOUT: return "timed out";
	case ZTC_ERR_UNSUPPORTED: return "not supported";
	case ZTC_ERR_BUSY: return "busy";
	case ZTC_ERR_GONE: return "device disconnected";
	}
	return "unknown error";
}

int ztc_fail(ztc_ctx *ctx, int err, const char *fmt, ...)
{
	va_list ap;

	if (!ctx)
		return err;
	va_start(ap, fmt);
	vsnprintf(ctx->errmsg, sizeof(ctx->errmsg), fmt, ap);
	va_end(ap);
	ztc_dbg(ctx, "error %d: %s", err, ctx->errmsg);
	return err;
}

void ztc_clear_error(ztc_ctx *ctx)
{
	if (ctx)
		ctx->errmsg[0] = '\0';
}

ZTC_API const char *ztc_ctx_errmsg(const ztc_ctx *ctx)
{
	return ctx ? ctx->errmsg : "";
}
