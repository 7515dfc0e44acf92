/* spresense.c: board plugin for the Sony Spresense (mkspk + flash_writer over its CP210x USB-serial port). */
#include "config.h"

#include <ztc/plugin.h>

static const ztc_class_desc classes[] = {
	/* flashing: step 3 (spresense_mkspk then spresense_flashwriter, DTR pulse reset) */
	{ .name = "SonySpresense" },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "spresense",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
};
