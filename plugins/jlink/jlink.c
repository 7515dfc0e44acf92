/* jlink.c: board plugin for the boards flashed with SEGGER J-Link Commander (nRF52 DKs, XMC4800, TB-S5D5). */
#include "config.h"

#include <ztc/plugin.h>

#include "openocd.h"

/* The TB-S5D5 FTDI port is only the console of the board the J-Link identity flashes (has_double_dev);
 * the original toolchain accepts a burn on it and does nothing, and ztc keeps that behaviour. */
static int burn_console_identity(ztc_board *b, const ztc_image *img, size_t nimg)
{
	return ZTC_OK;
}

/* J-Link Commander scripts (loadbin at vm_start, then "r"; reset: "r") are device.json data
 * (ztc_flash_default, through openocd_flash, which takes method "probe" itself). */
static const ztc_class_desc classes[] = {
	{ .name = "NordicPCA10040", .burn = openocd_flash, .reset = ztc_flash_reset_default,
	  .read_chipid = openocd_chipid_default },
	{ .name = "NordicPCA10056", .burn = openocd_flash, .reset = ztc_flash_reset_default,
	  .read_chipid = openocd_chipid_default },
	{ .name = "XMC4800ConnectivityKit", .burn = openocd_flash, .reset = ztc_flash_reset_default },
	{ .name = "Renesas_TBS5D5", .burn = openocd_flash, .reset = ztc_flash_reset_default },
	{ .name = "Renesas_TBS5D5ser", .burn = burn_console_identity },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "jlink",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
	.default_class = "NordicPCA10040", /* stands in for class names the table lacks */
};
