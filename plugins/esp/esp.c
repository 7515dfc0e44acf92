/* esp.c: board plugin for the Espressif ESP32 and ESP8266 boards (esptool over the USB-serial bridge). */
#include "config.h"

#include <ztc/plugin.h>

/* All data (device.json `flash`): esptool write_flash of the parts at their addresses, the DTR/RTS
 * reset of `flash.reset`, and on ESP32 the chip id from esptool read_mac (`flash.chipid`). */
#define ESP32(n) { .name = n, .burn = ztc_flash_default, .reset = ztc_flash_reset_default, \
		   .read_chipid = ztc_flash_chipid_default }
#define ESP8266(n) { .name = n, .burn = ztc_flash_default, .reset = ztc_flash_reset_default }

static const ztc_class_desc classes[] = {
	ESP32("Esp32DevKitC"),
	ESP32("Esp32PicoV4"),
	ESP32("HeltecWiFiKit32"),
	ESP32("XinaBox_ESP32"),
	ESP32("PycomWiPy3"),
	ESP8266("NodeMCU2"),
	ESP8266("NodeMCU3"),
	ESP8266("WemosD1Mini"),
	ESP8266("FireBeetleESP8266"),
	ESP8266("SparkfunEsp8266ThingDev"),
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "esp",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
	.default_class = "Esp32DevKitC", /* stands in for class names the table lacks */
};
