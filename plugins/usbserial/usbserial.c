/* usbserial.c: classes for plain USB-serial adapters (type usbtoserial), usable as consoles. */
#include "config.h"

#include <ztc/plugin.h>

/* An adapter carries whatever is wired to it: nothing to flash or reset, so every callback keeps the
 * core default and only the serial console applies. */
static const ztc_class_desc classes[] = {
	{ .name = "FT232R" },
	{ .name = "CP210x" },
	{ .name = "CH340" },
	{ .name = "PL2303" },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "usbserial",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
	.default_class = "FT232R", /* stands in for class names the table lacks */
};
