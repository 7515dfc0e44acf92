/* dfu.c: board plugin for the STM32 boards flashed over USB DFU (Particle, MikroE Quail, Polaris). */
#include "config.h"

#include <ztc/plugin.h>

/* Each of these boards has two USB identities: the runtime one cannot take an image, only the DFU
 * bootloader identity (the *DFU class) can, and switching is the user's (or put_dfu's) job. */
static int burn_needs_dfu(ztc_board *b, const ztc_image *img, size_t nimg)
{
	return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s is in its normal mode: put the board in DFU mode first",
			      ztc_board_get_str(b, "name"));
}

/* The DFU classes run dfu-util (dfustm32l4 on the Polaris boards) as device.json `flash` says, with
 * its padding rules (ztc_flash_default). The Polaris runtime classes reset by a 2400-baud open and
 * switch to DFU by a 1200-baud touch (`flash.reset`, `flash.enter_virtualizable`). */
static const ztc_class_desc classes[] = {
	{ .name = "Photon", .burn = burn_needs_dfu },
	{ .name = "PhotonDFU", .burn = ztc_flash_default },
	{ .name = "Sparkfun_Photon", .burn = burn_needs_dfu },
	{ .name = "S_PhotonDFU", .burn = ztc_flash_default },
	{ .name = "Electron", .burn = burn_needs_dfu },
	{ .name = "ElectronDFU", .burn = ztc_flash_default },
	{ .name = "ParticleCore", .burn = burn_needs_dfu },
	{ .name = "ParticleCoreDFU", .burn = ztc_flash_default },
	{ .name = "MikroeQuail", .burn = burn_needs_dfu },
	{ .name = "MikroeQuailDFU", .burn = ztc_flash_default },
	{ .name = "Polaris3G", .burn = burn_needs_dfu, .reset = ztc_flash_reset_default,
	  .enter_virtualizable = ztc_flash_enter_virtualizable_default },
	{ .name = "Polaris3GDFU", .burn = ztc_flash_default },
	{ .name = "PolarisNBIoT", .burn = burn_needs_dfu, .reset = ztc_flash_reset_default,
	  .enter_virtualizable = ztc_flash_enter_virtualizable_default },
	{ .name = "PolarisNBIoTDFU", .burn = ztc_flash_default },
	{ .name = "PolaristrackerV3", .burn = burn_needs_dfu, .reset = ztc_flash_reset_default,
	  .enter_virtualizable = ztc_flash_enter_virtualizable_default },
	{ .name = "PolaristrackerV3DFU", .burn = ztc_flash_default },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "dfu",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
	.default_class = "PhotonDFU", /* stands in for class names the table lacks */
};
