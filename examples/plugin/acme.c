/* acme.c: example ztc board plugin (the one of ztc-plugin(7)): flashes the Acme Widget with a vendor tool. */
#include <stdio.h>
#include <ztc/plugin.h>

static int widget_burn(ztc_board *b, const ztc_image *img, size_t nimg)
{
	const char *port = ztc_board_get_str(b, "port");
	long speed = ztc_board_get_int(b, "acme_speed", 115200);
	const char *file;
	char baud[32];
	int rc, status;

	if (nimg != 1)
		return ztc_board_fail(b, ZTC_ERR_ARG, "expected one image");
	if (!port)
		return ztc_board_fail(b, ZTC_ERR_NOT_FOUND, "no serial port");
	/* Removed with its directory when the callback returns. */
	rc = ztc_board_temp_file(b, "widget.bin", img[0].data, img[0].len, &file);
	if (rc < 0)
		return rc;
	snprintf(baud, sizeof(baud), "%ld", speed);
	const char *argv[] = { "acmeflash", "-p", port, "-b", baud, file, NULL };
	/* Logs its output and turns its percentages into progress. */
	rc = ztc_tool_run(b, argv, 60000, "flashing", &status, NULL);
	if (rc < 0)
		return rc;
	if (status != 0)
		return ztc_board_fail(b, ZTC_ERR_TOOL, "acmeflash failed (exit status %d)", status);
	return ZTC_OK;
}

static const ztc_class_desc classes[] = {
	{ .name = "Widget", .burn = widget_burn },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "acme",
	.version = "1.0",
	.license = "MIT",
	.classes = classes,
};
