/* std.c: the context (settings from the environment) and small string helpers. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

char *ztc_strdup_upper(const char *s)
{
	char *r = strdup(s);

	for (char *p = r; p && *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return r;
}

bool ztc_str_empty(const char *s)
{
	return !s || !*s;
}

char *ztc_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	char *r;

	va_start(ap, fmt);
	if (vasprintf(&r, fmt, ap) < 0)
		r = NULL;
	va_end(ap);
	return r;
}

char *ztc_str_oneline(char *s)
{
	for (char *p = s; p && *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

static char *env_dup(const char *name)
{
	const char *v = getenv(name);

	return ztc_str_empty(v) ? NULL : strdup(v);
}

static char *default_home(void)
{
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");

	if (!ztc_str_empty(xdg))
		return ztc_strdup_printf("%s/ztc", xdg);
	return ztc_strdup_printf("%s/.local/share/ztc", ztc_str_empty(home) ? "." : home);
}

ZTC_API int ztc_ctx_new(ztc_ctx **ret_ctx)
{
	ztc_ctx *ctx;

	if (!ret_ctx)
		return ZTC_ERR_ARG;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return ZTC_ERR_NOMEM;
	ctx->loglevel = getenv("ZTC_DEBUG") ? ZTC_LOG_DBG : ZTC_LOG_WARN;
	ctx->home = env_dup("ZTC_HOME");
	if (!ctx->home)
		ctx->home = default_home();
	ctx->mountinfo = env_dup("ZTC_MOUNTINFO");
	ctx->db_path = env_dup("ZTC_DB_PATH");
	ctx->plugin_path = env_dup("ZTC_PLUGIN_PATH");
	if (!ctx->home) {
		ztc_ctx_free(ctx);
		return ZTC_ERR_NOMEM;
	}
	*ret_ctx = ctx;
	return ZTC_OK;
}

ZTC_API void ztc_ctx_free(ztc_ctx *ctx)
{
	if (!ctx)
		return;
	ztc_plugins_unload(ctx);
	free(ctx->home);
	free(ctx->mountinfo);
	free(ctx->db_path);
	free(ctx->plugin_path);
	ztc_strv_free(ctx->candidates);
	free(ctx);
}

void ztc_strv_free(char **strv)
{
	if (!strv)
		return;
	for (char **s = strv; *s; s++)
		free(*s);
	free(strv);
}

bool ztc_buf_append(struct ztc_buf *b, const void *data, size_t n)
{
	if (n >= SIZE_MAX - b->len)
		return false;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *nd;

		while (cap < b->len + n + 1)
			cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
		if (!(nd = realloc(b->data, cap)))
			return false;
		b->data = nd;
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

void ztc_buf_free(struct ztc_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
