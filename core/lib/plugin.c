/* plugin.c: the plugin loader: libltdl behind one lock, descriptor validation, module search path. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ltdl.h>

#include "internal.h"
#include "ztc/plugin.h"

/* A loaded module, known by the file it was loaded from (never by its name: see ztc_plugin_resolve). */
struct ztc_module {
	char *path;
	lt_dlhandle handle;
	const ztc_plugin_desc *desc;
};

/* libltdl keeps global state and is not thread-safe: every call into it holds this lock. */
static pthread_mutex_t ltdl_lock = PTHREAD_MUTEX_INITIALIZER;

static bool all_zero(void *const *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static const ztc_class_desc *find_class(const ztc_plugin_desc *d, const char *name)
{
	for (const ztc_class_desc *c = d->classes; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int validate(ztc_ctx *ctx, const char *path, const ztc_plugin_desc *d, const char *want_module)
{
	size_t n = 0;

	if (d->abi_major != ZTC_PLUGIN_ABI_MAJOR || d->abi_minor > ZTC_PLUGIN_ABI_MINOR)
		return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s: ABI %u.%u is not supported (ztc speaks %d.%d)",
				path, d->abi_major, d->abi_minor, ZTC_PLUGIN_ABI_MAJOR, ZTC_PLUGIN_ABI_MINOR);
	if (ztc_str_empty(d->module) || ztc_str_empty(d->version) || ztc_str_empty(d->license))
		return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s: descriptor lacks module, version or license", path);
	if (want_module && strcmp(d->module, want_module) != 0)
		return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s: descriptor names module '%s', expected '%s'", path,
				d->module, want_module);
	if (!d->classes)
		return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s: descriptor has no class table", path);
	/* default_class was reserved room before ABI 1.1: a 1.0 module must still have zero there. */
	if (!all_zero(d->reserved, sizeof(d->reserved) / sizeof(*d->reserved)) ||
	    (d->abi_minor < 1 && d->default_class))
		return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s: reserved descriptor fields are not zero", path);
	for (const ztc_class_desc *c = d->classes; c->name; c++, n++) {
		if (!all_zero(c->reserved, sizeof(c->reserved) / sizeof(*c->reserved)))
			return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s: class %s: reserved fields are not zero",
					path, c->name);
		for (const ztc_class_desc *o = d->classes; o != c; o++)
			if (strcmp(o->name, c->name) == 0)
				return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s: class %s is defined twice", path,
						c->name);
	}
	if (n == 0)
		return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s: descriptor lists no class", path);
	if (d->default_class && !find_class(d, d->default_class))
		return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s: default class %s is not in its class table", path,
				d->default_class);
	return ZTC_OK;
}

/* Load path (with or without extension) and validate it; the module is kept in ctx. */
static int load(ztc_ctx *ctx, const char *path, const char *want_module, struct ztc_module **ret)
{
	struct ztc_module *mods, *m;
	const ztc_plugin_desc *desc;
	lt_dladvise advise;
	lt_dlhandle h = NULL;
	const char *err = NULL;
	int rc;

	for (size_t i = 0; i < ctx->nmodules; i++)
		if (strcmp(ctx->modules[i].path, path) == 0) {
			if (want_module && strcmp(ctx->modules[i].desc->module, want_module) != 0)
				return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s: descriptor names module '%s', expected '%s'",
						path, ctx->modules[i].desc->module, want_module);
			*ret = &ctx->modules[i];
			return ZTC_OK;
		}
	mods = realloc(ctx->modules, (ctx->nmodules + 1) * sizeof(*mods));
	if (!mods)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	ctx->modules = mods;

	pthread_mutex_lock(&ltdl_lock);
	if (lt_dlinit() != 0) {
		err = lt_dlerror();
		pthread_mutex_unlock(&ltdl_lock);
		return ztc_fail(ctx, ZTC_ERR_PLUGIN, "cannot initialise libltdl: %s", err ? err : "unknown error");
	}
	/* Local symbols: every module exports the same descriptor name. */
	if (lt_dladvise_init(&advise) == 0) {
		lt_dladvise_ext(&advise);
		lt_dladvise_local(&advise);
		h = lt_dlopenadvise(path, advise);
		lt_dladvise_destroy(&advise);
	}
	if (!h) {
		err = lt_dlerror();
		rc = ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s cannot be loaded: %s", path, err ? err : "unknown error");
		lt_dlexit();
		pthread_mutex_unlock(&ltdl_lock);
		return rc;
	}
	desc = lt_dlsym(h, ZTC_PLUGIN_SYMBOL_NAME);
	pthread_mutex_unlock(&ltdl_lock);

	if (!desc)
		rc = ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s has no %s symbol: not a ztc plugin", path,
			      ZTC_PLUGIN_SYMBOL_NAME);
	else
		rc = validate(ctx, path, desc, want_module);
	m = &ctx->modules[ctx->nmodules];
	if (rc == ZTC_OK && !(m->path = strdup(path)))
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	if (rc < 0) {
		pthread_mutex_lock(&ltdl_lock);
		lt_dlclose(h);
		lt_dlexit();
		pthread_mutex_unlock(&ltdl_lock);
		return rc;
	}
	m->handle = h;
	m->desc = desc;
	ctx->nmodules++;
	ztc_dbg(ctx, "loaded plugin %s (module %s %s, ABI %u.%u)", path, desc->module, desc->version,
		desc->abi_major, desc->abi_minor);
	*ret = m;
	return ZTC_OK;
}

void ztc_plugins_unload(ztc_ctx *ctx)
{
	pthread_mutex_lock(&ltdl_lock);
	for (size_t i = 0; i < ctx->nmodules; i++) {
		lt_dlclose(ctx->modules[i].handle);
		lt_dlexit();
		free(ctx->modules[i].path);
	}
	pthread_mutex_unlock(&ltdl_lock);
	free(ctx->modules);
	ctx->modules = NULL;
	ctx->nmodules = 0;
}

ZTC_API size_t ztc_plugin_loaded_count(const ztc_ctx *ctx)
{
	return ctx ? ctx->nmodules : 0;
}

ZTC_API int ztc_plugin_open(ztc_ctx *ctx, const char *path, const ztc_plugin_desc **ret_desc)
{
	struct ztc_module *m;
	int rc;

	if (!ctx || !path || !ret_desc)
		return ZTC_ERR_ARG;
	rc = load(ctx, path, NULL, &m);
	if (rc == ZTC_OK)
		*ret_desc = m->desc;
	return rc;
}

/* Does dir hold the module as a libtool archive or a shared object (stem + extension)? */
static bool module_exists(const char *stem)
{
	static const char *const ext[] = { ".la", ".so" };
	char buf[4096];

	for (size_t i = 0; i < 2; i++) {
		snprintf(buf, sizeof(buf), "%s%s", stem, ext[i]);
		if (access(buf, F_OK) == 0)
			return true;
	}
	return false;
}

/* Try dir/module and dir/module/module; *ret_stem set when found. */
static bool find_in(const char *dir, const char *module, char **ret_stem)
{
	char *a = ztc_strdup_printf("%s/%s", dir, module);
	char *b = ztc_strdup_printf("%s/%s/%s", dir, module, module);
	bool found = false;

	if (a && module_exists(a)) {
		*ret_stem = a;
		a = NULL;
		found = true;
	} else if (b && module_exists(b)) {
		*ret_stem = b;
		b = NULL;
		found = true;
	}
	free(a);
	free(b);
	return found;
}

static char *search_module(ztc_ctx *ctx, const ztc_target *t, const char *module)
{
	char *stem = NULL;

	if (find_in(ztc_target_get_path(t), module, &stem))
		return stem;
	if (ctx->plugin_path) {
		char *copy = strdup(ctx->plugin_path), *save = NULL;

		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save))
			if (find_in(d, module, &stem))
				break;
		free(copy);
		if (stem)
			return stem;
	}
	find_in(ZTC_PLUGIN_DIR, module, &stem);
	return stem;
}

ZTC_API int ztc_plugin_resolve(ztc_ctx *ctx, const ztc_target *t, size_t class_idx,
			       const ztc_class_desc **ret_class)
{
	const ztc_class_desc *c;
	const char *module, *cls;
	struct ztc_module *m = NULL;
	char *stem;
	int rc;

	if (!ctx || !t || !ret_class || class_idx >= ztc_target_class_count(t))
		return ZTC_ERR_ARG;
	module = ztc_target_class_module(t, class_idx);
	cls = ztc_target_class_name(t, class_idx);
	/* Search every time and cache by the file found (load() does): a module in one board's folder is
	 * that board's, and must not stand in for a same-named module of any other target. */
	stem = search_module(ctx, t, module);
	if (!stem)
		return ztc_fail(ctx, ZTC_ERR_PLUGIN,
				"plugin module '%s' for %s.%s not found (searched %s, ZTC_PLUGIN_PATH%s%s, %s)",
				module, module, cls, ztc_target_get_path(t), ctx->plugin_path ? "=" : "",
				ctx->plugin_path ? ctx->plugin_path : "", ZTC_PLUGIN_DIR);
	rc = load(ctx, stem, module, &m);
	free(stem);
	if (rc < 0)
		return rc;
	if ((c = find_class(m->desc, cls))) {
		*ret_class = c;
		return ZTC_OK;
	}
	if (m->desc->default_class && (c = find_class(m->desc, m->desc->default_class))) {
		ztc_dbg(ctx, "plugin %s lists no class %s: its default class %s stands in (named by %s/device.json)",
			m->path, cls, c->name, ztc_target_get_path(t));
		*ret_class = c;
		return ZTC_OK;
	}
	return ztc_fail(ctx, ZTC_ERR_PLUGIN, "plugin %s has no class %s (named by %s/device.json)", m->path, cls,
			ztc_target_get_path(t));
}
