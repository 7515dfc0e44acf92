/* openocd.c: board plugin for the boards that are only ever flashed through an OpenOCD probe (PSoC6 kit). */
#include "config.h"

#include <ztc/plugin.h>

static const ztc_class_desc classes[] = {
	/* No burn: device.json sets preferred_burn_with_jtag (kitprog2), so the core programs the board
	 * through OpenOCD and never calls the class; chip id by probe as well. */
	{ .name = "PSoC6WiFiBTPioneerKit" },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "openocd",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
};
