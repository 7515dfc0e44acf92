/* dfu.c: board plugin for the STM32 boards flashed over USB DFU (Particle, MikroE Quail, Polaris). */
#include "config.h"

#include <ztc/plugin.h>

/* Each of these boards has two USB identities: the runtime one cannot take an image, only the DFU
 * bootloader identity (the *DFU class) can, and switching is the user's (or put_dfu's) job. */
static int burn_needs_dfu(ztc_board *b, const ztc_image *img, size_t nimg)
{
	return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "the board must be put in DFU mode");
}

static const ztc_class_desc classes[] = {
	{ .name = "Photon", .burn = burn_needs_dfu },
	/* flashing: step 3 (dfu-util) */
	{ .name = "PhotonDFU" },
	{ .name = "Sparkfun_Photon", .burn = burn_needs_dfu },
	/* flashing: step 3 (dfu-util) */
	{ .name = "S_PhotonDFU" },
	{ .name = "Electron", .burn = burn_needs_dfu },
	/* flashing: step 3 (dfu-util) */
	{ .name = "ElectronDFU" },
	{ .name = "ParticleCore", .burn = burn_needs_dfu },
	/* flashing: step 3 (dfu-util) */
	{ .name = "ParticleCoreDFU" },
	{ .name = "MikroeQuail", .burn = burn_needs_dfu },
	/* flashing: step 3 (dfu-util) */
	{ .name = "MikroeQuailDFU" },
	/* reset and the put_dfu 1200-baud touch: step 3 */
	{ .name = "Polaris3G", .burn = burn_needs_dfu },
	/* flashing: step 3 (dfustm32l4) */
	{ .name = "Polaris3GDFU" },
	/* reset and the put_dfu 1200-baud touch: step 3 */
	{ .name = "PolarisNBIoT", .burn = burn_needs_dfu },
	/* flashing: step 3 (dfustm32l4) */
	{ .name = "PolarisNBIoTDFU" },
	/* reset and the 1200-baud touch into DFU: step 3 */
	{ .name = "PolaristrackerV3", .burn = burn_needs_dfu },
	/* flashing: step 3 (dfustm32l4) */
	{ .name = "PolaristrackerV3DFU" },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "dfu",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
};
