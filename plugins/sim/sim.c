/* sim.c: board plugin for ztc_sim, the hardware-free simulated board used by demos and end-to-end tests. */
#include "config.h"

#include <ztc/plugin.h>

static const ztc_class_desc classes[] = {
	/* flashing: step 3 */
	{ .name = "SimBoard" },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "sim",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
};
