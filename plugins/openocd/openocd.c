/* openocd.c: board plugin for the boards that are only ever flashed through an OpenOCD probe (PSoC6 kit). */
#include "config.h"

#include <ztc/plugin.h>

#include "openocd.h"

/* The board's only way in is its KitProg probe: device.json `flash` says method "probe" (kitprog2), so
 * openocd_flash programs it with OpenOCD (target/psoc6.cfg), and the chip id is read through the probe
 * preferred_register_with_jtag names with the jtag_chipid_command commands (plugins/common/openocd.c). */
static const ztc_class_desc classes[] = {
	{ .name = "PSoC6WiFiBTPioneerKit", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "openocd",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
	.default_class = "PSoC6WiFiBTPioneerKit", /* stands in for class names the table lacks */
};
