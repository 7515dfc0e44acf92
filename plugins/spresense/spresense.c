/* spresense.c: board plugin for the Sony Spresense (mkspk + flash_writer over its CP210x USB-serial port). */
#include "config.h"

#include <ztc/plugin.h>

/* spresense_mkspk then spresense_flashwriter, and the DTR pulse reset: device.json `flash` data. The
 * bootloader installation (custom action burn_bootloader, an EULA and Sony's firmware files) is not
 * part of flashing a virtual machine and is left to Sony's tools. */
static const ztc_class_desc classes[] = {
	{ .name = "SonySpresense", .burn = ztc_flash_default, .reset = ztc_flash_reset_default },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "spresense",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
	.default_class = "SonySpresense", /* stands in for class names the table lacks */
};
