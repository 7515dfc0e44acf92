/* mbed.c: board plugin for the boards flashed by copying the image to their probe's USB disk (ST-Link, DAPLink). */
#include "config.h"

#include <ztc/plugin.h>

#include "openocd.h"

/* Copy to the probe's disk as device.json `flash` says (file name, padding, wait): ztc_flash_default, through
 * openocd_flash, which also programs a board whose flash object says method "probe" (a vendor board served
 * by the default class, or one whose disk is unreliable) with OpenOCD. */
static const ztc_class_desc classes[] = {
	{ .name = "STNucleo401RE", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	{ .name = "STNucleo429ZI", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	{ .name = "STNucleoF746ZG", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	{ .name = "STNucleoL4R5P", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	{ .name = "STDiscoveryF407VG", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	/* Console-only identity: has_double_dev lends its port to STDiscoveryF407VG and drops it, so it is
	 * never flashed; the core default (burn unsupported) is the honest answer if it ever is. */
	{ .name = "STDiscoveryF407VGser" },
	{ .name = "AZ3166", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	/* DAPLink disk, waiting in proportion to the image size */
	{ .name = "Hexiwear", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	/* The original toolchain gave up on the RedBear DAPLink disk as unreliable: their device.json says
	 * "method": "unsupported" with the message, and the boards are flashed through their probe. */
	{ .name = "RedBearNano2", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	{ .name = "RedBearBlend2", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "mbed",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
	.default_class = "STNucleo401RE", /* stands in for class names the table lacks */
};
