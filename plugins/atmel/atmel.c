/* atmel.c: board plugin for the Atmel/Microchip SAM boards (Due, Zero, MKR-style, Xplained Pro, YARM). */
#include "config.h"

#include <ztc/plugin.h>

/* The runtime identity of a MKR1000-style board is the running firmware's CDC port; only the bootloader
 * identity (the Virtualizable class) accepts an image, so flashing here would hit the wrong firmware. */
static int burn_needs_bootloader(ztc_board *b, const ztc_image *img, size_t nimg)
{
	return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED,
			      "%s is running its firmware: it must be put in virtualization mode (double-tap reset "
			      "starts its bootloader)", ztc_board_get_str(b, "name"));
}

/* Everything else is data: each board's device.json `flash` object says which tool runs with which
 * arguments (ztc_flash_default), and `flash.reset` how to reset it. */
static const ztc_class_desc classes[] = {
	/* 1200-baud touch, then bossac; reset: the port back to 115200 */
	{ .name = "ArduinoDue", .burn = ztc_flash_default, .reset = ztc_flash_reset_default },
	{ .name = "FlipNClickSAM3X", .burn = ztc_flash_default, .reset = ztc_flash_reset_default },
	/* edbg */
	{ .name = "GenuinoZero", .burn = ztc_flash_default, .read_chipid = ztc_openocd_chipid_default },
	{ .name = "ArduinoMKR1000", .burn = burn_needs_bootloader },
	/* bossac_d21 on the bootloader's port */
	{ .name = "ArduinoMKR1000Virtualizable", .burn = ztc_flash_default },
	{ .name = "AdafruitFeatherM0Wifi", .burn = burn_needs_bootloader },
	{ .name = "AdafruitFeatherM0WifiVirtualizable", .burn = ztc_flash_default },
	{ .name = "SodaqExplorer", .burn = burn_needs_bootloader },
	{ .name = "SodaqExplorerVirtualizable", .burn = ztc_flash_default },
	/* edbg variants; reset through edbg where the board has one */
	{ .name = "XplainedProSamD21", .burn = ztc_flash_default, .reset = ztc_flash_reset_default,
	  .read_chipid = ztc_openocd_chipid_default },
	{ .name = "XplainedProSamC21N", .burn = ztc_flash_default, .reset = ztc_flash_reset_default,
	  .read_chipid = ztc_openocd_chipid_default },
	{ .name = "XplainedProSamL21", .burn = ztc_flash_default, .read_chipid = ztc_openocd_chipid_default },
	{ .name = "XplainedProSamG55", .burn = ztc_flash_default, .reset = ztc_flash_reset_default,
	  .read_chipid = ztc_openocd_chipid_default },
	{ .name = "XplainedProSamE54", .burn = ztc_flash_default, .reset = ztc_flash_reset_default,
	  .read_chipid = ztc_openocd_chipid_default },
	/* No programmable USB interface: device.json says "unsupported", use a probe */
	{ .name = "AcmeYarm", .burn = ztc_flash_default },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "atmel",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
	.default_class = "ArduinoDue", /* stands in for class names the table lacks */
};
