# plugins/local.mk: the built-in board plugin modules and ztc-plugin(7).
# Each module exports one symbol, the descriptor; -export-symbols-regex keeps it that way even if
# a helper loses its static (or comes from the convenience library below).
PLUGIN_LDFLAGS = -module -avoid-version -shared -export-symbols-regex '^ztc_plugin_descriptor$$'

# OpenOCD through a debug probe, for the modules that drive probes: linked into each, exported by none.
noinst_LTLIBRARIES += plugins/common/libopenocd.la
plugins_common_libopenocd_la_SOURCES = plugins/common/openocd.c plugins/common/openocd.h core/lib/inline.h
plugins_common_libopenocd_la_CFLAGS = $(AM_CFLAGS)

plugin_LTLIBRARIES =

plugin_LTLIBRARIES += plugins/atmel/atmel.la
plugins_atmel_atmel_la_SOURCES = plugins/atmel/atmel.c
plugins_atmel_atmel_la_CFLAGS = $(AM_CFLAGS)
plugins_atmel_atmel_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
plugins_atmel_atmel_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_atmel_atmel_la_LIBADD = plugins/common/libopenocd.la core/lib/libztc.la

plugin_LTLIBRARIES += plugins/dfu/dfu.la
# DfuSe over libusb-1.0: the DFU boards need no dfu-util.
plugins_dfu_dfu_la_SOURCES = plugins/dfu/dfu.c plugins/dfu/dfuse.c plugins/dfu/dfuse-layout.c plugins/dfu/dfuse.h
plugins_dfu_dfu_la_CFLAGS = $(AM_CFLAGS) $(LIBUSB_CFLAGS)
plugins_dfu_dfu_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_dfu_dfu_la_LIBADD = core/lib/libztc.la $(LIBUSB_LIBS)

plugin_LTLIBRARIES += plugins/mbed/mbed.la
plugins_mbed_mbed_la_SOURCES = plugins/mbed/mbed.c
plugins_mbed_mbed_la_CFLAGS = $(AM_CFLAGS)
plugins_mbed_mbed_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
plugins_mbed_mbed_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_mbed_mbed_la_LIBADD = plugins/common/libopenocd.la core/lib/libztc.la

plugin_LTLIBRARIES += plugins/jlink/jlink.la
plugins_jlink_jlink_la_SOURCES = plugins/jlink/jlink.c
plugins_jlink_jlink_la_CFLAGS = $(AM_CFLAGS)
plugins_jlink_jlink_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
plugins_jlink_jlink_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_jlink_jlink_la_LIBADD = plugins/common/libopenocd.la core/lib/libztc.la

plugin_LTLIBRARIES += plugins/esp/esp.la
plugins_esp_esp_la_SOURCES = plugins/esp/esp.c
plugins_esp_esp_la_CFLAGS = $(AM_CFLAGS)
plugins_esp_esp_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_esp_esp_la_LIBADD = core/lib/libztc.la

plugin_LTLIBRARIES += plugins/openocd/openocd.la
plugins_openocd_openocd_la_SOURCES = plugins/openocd/openocd.c
plugins_openocd_openocd_la_CFLAGS = $(AM_CFLAGS)
plugins_openocd_openocd_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
plugins_openocd_openocd_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_openocd_openocd_la_LIBADD = plugins/common/libopenocd.la core/lib/libztc.la

plugin_LTLIBRARIES += plugins/spresense/spresense.la
plugins_spresense_spresense_la_SOURCES = plugins/spresense/spresense.c
plugins_spresense_spresense_la_CFLAGS = $(AM_CFLAGS)
plugins_spresense_spresense_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_spresense_spresense_la_LIBADD = core/lib/libztc.la

plugin_LTLIBRARIES += plugins/sim/sim.la
plugins_sim_sim_la_SOURCES = plugins/sim/sim.c
plugins_sim_sim_la_CFLAGS = $(AM_CFLAGS)
plugins_sim_sim_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_sim_sim_la_LIBADD = core/lib/libztc.la

plugin_LTLIBRARIES += plugins/probe/probe.la
plugins_probe_probe_la_SOURCES = plugins/probe/probe.c
plugins_probe_probe_la_CFLAGS = $(AM_CFLAGS)
plugins_probe_probe_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
plugins_probe_probe_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_probe_probe_la_LIBADD = plugins/common/libopenocd.la core/lib/libztc.la

plugin_LTLIBRARIES += plugins/usbserial/usbserial.la
plugins_usbserial_usbserial_la_SOURCES = plugins/usbserial/usbserial.c
plugins_usbserial_usbserial_la_CFLAGS = $(AM_CFLAGS)
plugins_usbserial_usbserial_la_LDFLAGS = $(PLUGIN_LDFLAGS)
plugins_usbserial_usbserial_la_LIBADD = core/lib/libztc.la

dist_man_MANS += man/ztc-plugin.7
