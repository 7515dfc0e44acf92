/* loader.h: the plugin loader: finding, loading and validating board plugin modules (ztc itself, tests). */
#ifndef ZTC_LOADER_H
#define ZTC_LOADER_H

#include "ztc/common.h"
#include "ztc/device.h"
#include "ztc/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The descriptor of class class_idx of t, loading its module if needed: found with lt_dlopenext as
 * MODULE (or MODULE/MODULE) in the target's folder, then each ZTC_PLUGIN_PATH dir, then the installed
 * plugin dir. Modules stay loaded until the context is freed. A missing module, a missing descriptor,
 * a wrong ABI or an unknown class fails with a message naming the file. */
ZTC_API int ztc_plugin_resolve(ztc_ctx *ctx, const ztc_target *t, size_t class_idx,
			       const ztc_class_desc **ret_class);
/* Load one module file and validate its descriptor. */
ZTC_API int ztc_plugin_open(ztc_ctx *ctx, const char *path, const ztc_plugin_desc **ret_desc);
/* How many modules the context has loaded (0 for discovery and matching, which never load one). */
ZTC_API size_t ztc_plugin_loaded_count(const ztc_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif
