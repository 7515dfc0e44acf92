/* openocd.h: programming and reading chips through a debug probe with OpenOCD, for the modules that drive
 * probes (probe, mbed, atmel, openocd, jlink); linked into each of them, never exported. */
#ifndef ZTC_PLUGINS_OPENOCD_H
#define ZTC_PLUGINS_OPENOCD_H

#include <stddef.h>

#include <ztc/plugin.h>

/* The OpenOCD interface script of a probe name of device.json (stlink, jlink, cmsis_dap, atmel_ice,
 * atmel_edbg, kitprog2, as the Zerynth toolchain's probes.yaml), or NULL. */
const char *openocd_probe_interface(const char *probe);

/* `openocd -f INTERFACE [-c PIN] [-c JTAG_TARGET_OPTIONS] -f TARGET -c "program FILE verify reset ADDRESS"
 * [-c JTAG_BURN_END] -c shutdown`, one program command per image, the reset after the last. TARGET is
 * device.json jtag_target (a name without '/' means target/NAME.cfg), else openocd.cfg in the board's
 * folder; ADDRESS is the image's loc, else device.json vm_start; PIN pins a CMSIS-DAP interface to the
 * board's USB id. Success needs exit 0 and "** Verified OK"; jtag_timeout (seconds, default 30) bounds
 * it. A probe OpenOCD may not open fails with ZTC_ERR_IO, naming the udev rules (60-ztc.rules). */
int openocd_burn(ztc_board *b, const char *interface_cfg, const ztc_image *img, size_t nimg);

/* The chip id through OpenOCD: the jtag_chipid_command commands (';'-separated) are run after init; of
 * the output lines "ADDRESS: VALUE..." that start with jtag_chipid_prefix (default "0x"), the first
 * jtag_chipid_len (1 to 64) give their values, each 1 to 8 hexadecimal digits, concatenated as
 * jtag_chipid_format says: "words", each as 8 upper-case digits (the id SAM-BA and DfuSe give the same
 * chip), or "reversed" (the default), each value's characters reversed as the Zerynth toolchain did. */
int openocd_read_chipid(ztc_board *b, const char *interface_cfg, char **ret_chipid);

/* A read_chipid callback: openocd_read_chipid through the probe device.json preferred_register_with_jtag
 * names. Without that key, or without jtag_chipid_command, it declines with ZTC_ERR_UNSUPPORTED before
 * anything runs (so `register` flashes register.vm instead); an unknown probe name is ZTC_ERR_PARSE. */
int openocd_chipid_default(ztc_board *b, char **ret_chipid);

/* A burn callback: the flash object's method "probe" (its `probe` key names the probe) with
 * openocd_burn; every other method through ztc_flash_default. */
int openocd_flash(ztc_board *b, const ztc_image *img, size_t nimg);

#endif
