/* probe.c: classes for the debug probes (type jtag) so a probe can be discovered, listed and aliased. */
#include "config.h"

#include <ztc/plugin.h>

/* A probe is a tool, not a target: it is never flashed or reset as a board, so every callback keeps
 * the core default. A board without USB is used by aliasing the probe's uid with the board's target. */
static const ztc_class_desc classes[] = {
	{ .name = "STLinkV2" },
	{ .name = "STLinkV21" },
	{ .name = "CMSISDAP" },
	{ .name = "JLink" },
	{ .name = "AtmelICE" },
	{ .name = "EDBG" },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "probe",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
};
