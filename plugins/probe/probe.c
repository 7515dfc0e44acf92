/* probe.c: classes for the debug probes (type jtag) so a probe can be discovered, listed and aliased. */
#include "config.h"

#include <ztc/plugin.h>

#include "openocd.h"

/* A probe flashes whatever chip is wired to it, with OpenOCD through its interface script
 * (device.json openocd_interface). Which chip, where, and how its id reads are the target keys of the
 * probe's folder (jtag_target, vm_start, jtag_chipid_command ...): the built-in probe folders have none,
 * so a user who programs a bare chip through a probe gives them in a folder of their own on ZTC_DB_PATH;
 * without them the operation fails saying which key is missing. */
static int probe_burn(ztc_board *b, const ztc_image *img, size_t nimg)
{
	return openocd_burn(b, ztc_board_get_str(b, "openocd_interface"), img, nimg);
}

static int probe_read_chipid(ztc_board *b, char **ret_chipid)
{
	return openocd_read_chipid(b, ztc_board_get_str(b, "openocd_interface"), ret_chipid);
}

#define PROBE(n) { .name = n, .burn = probe_burn, .read_chipid = probe_read_chipid }

static const ztc_class_desc classes[] = {
	PROBE("STLinkV2"),
	PROBE("STLinkV21"),
	PROBE("CMSISDAP"),
	PROBE("JLink"),
	PROBE("AtmelICE"),
	PROBE("EDBG"),
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "probe",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
	.default_class = "CMSISDAP", /* stands in for class names the table lacks */
};
