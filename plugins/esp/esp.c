/* esp.c: board plugin for the Espressif ESP32 and ESP8266 boards (esptool over the USB-serial bridge). */
#include "config.h"

#include <ztc/plugin.h>

static const ztc_class_desc classes[] = {
	/* flashing: step 3 (esptool write_flash of the four parts, DTR/RTS reset, read_mac chip id) */
	{ .name = "Esp32DevKitC" },
	{ .name = "Esp32PicoV4" },
	{ .name = "HeltecWiFiKit32" },
	{ .name = "XinaBox_ESP32" },
	{ .name = "PycomWiPy3" },
	/* flashing: step 3 (esptool write_flash of the four parts, DTR/RTS reset) */
	{ .name = "NodeMCU2" },
	{ .name = "NodeMCU3" },
	{ .name = "WemosD1Mini" },
	{ .name = "FireBeetleESP8266" },
	{ .name = "SparkfunEsp8266ThingDev" },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "esp",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
};
