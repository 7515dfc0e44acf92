/* atmel.c: board plugin for the Atmel/Microchip SAM boards (Due, Zero, MKR-style, Xplained Pro, YARM). */
#include "config.h"

#include <ztc/plugin.h>

/* The runtime identity of a MKR1000-style board is the running firmware's CDC port; only the bootloader
 * identity (the Virtualizable class) accepts an image, so flashing here would hit the wrong firmware. */
static int burn_needs_bootloader(ztc_board *b, const ztc_image *img, size_t nimg)
{
	return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "must be put in virtualization mode");
}

/* The YARM exposes no programmable USB interface: it is flashed through a probe, never by its class. */
static int burn_jtag_only(ztc_board *b, const ztc_image *img, size_t nimg)
{
	return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "not supported, use a JTAG probe");
}

static const ztc_class_desc classes[] = {
	/* flashing: step 3 (bossac with a 1200-baud touch) */
	{ .name = "ArduinoDue" },
	{ .name = "FlipNClickSAM3X" },
	/* flashing: step 3 (edbg) */
	{ .name = "GenuinoZero" },
	{ .name = "ArduinoMKR1000", .burn = burn_needs_bootloader },
	/* flashing: step 3 (bossac_d21) */
	{ .name = "ArduinoMKR1000Virtualizable" },
	{ .name = "AdafruitFeatherM0Wifi", .burn = burn_needs_bootloader },
	/* flashing: step 3 (bossac_d21) */
	{ .name = "AdafruitFeatherM0WifiVirtualizable" },
	{ .name = "SodaqExplorer", .burn = burn_needs_bootloader },
	/* flashing: step 3 (bossac_d21) */
	{ .name = "SodaqExplorerVirtualizable" },
	/* flashing: step 3 (edbg variants, reset through edbg) */
	{ .name = "XplainedProSamD21" },
	{ .name = "XplainedProSamC21N" },
	{ .name = "XplainedProSamL21" },
	{ .name = "XplainedProSamG55" },
	{ .name = "XplainedProSamE54" },
	{ .name = "AcmeYarm", .burn = burn_jtag_only },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "atmel",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
};
