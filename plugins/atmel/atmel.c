/* atmel.c: board plugin for the Atmel/Microchip SAM boards (Due, Zero, MKR-style, Xplained Pro, YARM); the SAM3X
 * and SAMD21 boards read their chip id natively over SAM-BA. */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ztc/plugin.h>

#include "openocd.h"

/* The runtime identity of a MKR1000-style board is the running firmware's CDC port; only the bootloader
 * identity (the Virtualizable class) accepts an image, so flashing here would hit the wrong firmware. */
static int burn_needs_bootloader(ztc_board *b, const ztc_image *img, size_t nimg)
{
	return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED,
			      "%s is running its firmware: it must be put in virtualization mode (double-tap reset "
			      "starts its bootloader)", ztc_board_get_str(b, "name"));
}

/* ---- the chip id over SAM-BA ------------------------------------------------------------------------- */

/* SAM-BA is the monitor in the SAM3X's ROM and in the Arduino SAMD21 bootloaders. Spoken in binary mode
 * over the board's serial port, as bossac does: N# (binary mode, answers "\n\r"), V# (a version line),
 * w<addr>,4# (answers the word, little-endian), W<addr>,<value># (no answer). The registers are the
 * datasheets': SCB CPUID tells the core, then CHIPID_CIDR (SAM3X) or DSU DID (SAMD21) the chip; each chip
 * is asked only the registers it has, as reading an address a chip lacks hangs its monitor. */
#define SAMBA_BAUD 115200
#define SAMBA_TRIES 6      /* N# sent at most this often, ... */
#define SAMBA_TRY_MS 500   /* ... waiting this long for each answer: silence fails after 3 s */
#define SAMBA_READ_MS 1000 /* once the monitor answered, the longest wait for any answer */
#define SAMBA_POLLS 50     /* flash controller status reads before giving up */
#define SAMBA_TOUCH_MS 1000 /* after the touch, as the class's flash object waits (touch_wait_ms) */

#define SCB_CPUID 0xE000ED00u
#define SAM3X_CIDR 0x400E0940u
#define SAM3X_EEFC0_FCR 0x400E0A04u
#define SAM3X_EEFC0_FSR 0x400E0A08u
#define SAM3X_FLASH 0x00080000u
#define EEFC_STUI 0x5A00000Eu /* key 0x5A, Start Read Unique Identifier */
#define EEFC_SPUI 0x5A00000Fu /* Stop Read Unique Identifier */
#define EEFC_FSR_FRDY 0x1u
#define EEFC_FSR_ERRORS 0x6u /* FCMDE, FLOCKE */
#define D21_DSU_DID 0x41002018u

enum samba_family { SAM3X = 1, SAMD21 };

/* The classes whose chip id is read over SAM-BA: how each reaches the monitor and what to tell the user
 * when it stays silent. The chip the board must have is device.json's chip_model. */
static const struct samba_class {
	const char *name;
	enum samba_family family;
	int touch; /* a 1200-baud touch first: the Due's programming-port bridge then erases the chip and
		    * restarts it, and the SAM3X boots SAM-BA from its ROM */
	const char *hint;
} samba_classes[] = {
	{ "ArduinoDue", SAM3X, 1,
	  "check that the cable is on the programming port (next to the power jack), press the reset button and "
	  "try again" },
	{ "FlipNClickSAM3X", SAM3X, 1, "check the USB cable, press the reset button and try again" },
	{ "ArduinoMKR1000Virtualizable", SAMD21, 0,
	  "double-tap the reset button to restart the bootloader (its LED pulses), check the USB cable and try "
	  "again" },
	{ "AdafruitFeatherM0WifiVirtualizable", SAMD21, 0,
	  "double-tap the reset button to restart the bootloader (its red LED pulses), check the USB cable and try "
	  "again" },
	{ "SodaqExplorerVirtualizable", SAMD21, 0,
	  "double-tap the reset button to restart the bootloader (its LED pulses), check the USB cable and try "
	  "again" },
};

/* The chips the reader can name. SAM3X/SAM3A CHIPID_CIDR without its VERSION bits (4:0). */
static const struct {
	uint32_t cidr;
	const char *name;
} sam3_chips[] = {
	{ 0x285E0A60, "SAM3X8E" }, { 0x284E0A60, "SAM3X8C" }, { 0x286E0A60, "SAM3X8H" }, { 0x285B0960, "SAM3X4E" },
	{ 0x284B0960, "SAM3X4C" }, { 0x283E0A60, "SAM3A8C" }, { 0x283B0960, "SAM3A4C" },
};

/* SAMD21 DSU DID DEVSEL (bits 7:0) -> the part's suffix. */
static const char *const d21_devsel[0x28] = {
	[0x00] = "J18A", [0x01] = "J17A", [0x02] = "J16A", [0x03] = "J15A", [0x05] = "G18A", [0x06] = "G17A",
	[0x07] = "G16A", [0x08] = "G15A", [0x0A] = "E18A", [0x0B] = "E17A", [0x0C] = "E16A", [0x0D] = "E15A",
	[0x0F] = "G18AU", [0x10] = "G17AU", [0x20] = "J16B", [0x21] = "J15B", [0x23] = "G16B", [0x24] = "G15B",
	[0x26] = "E16B", [0x27] = "E15B",
};

struct samba {
	ztc_board *b;
	const struct samba_class *cls;
	const char *port;
	int fd;
};

static const struct samba_class *samba_class_of(ztc_board *b)
{
	const char *name = ztc_board_get_str(b, "classname");

	for (size_t i = 0; name && i < sizeof(samba_classes) / sizeof(samba_classes[0]); i++)
		if (strcmp(samba_classes[i].name, name) == 0)
			return &samba_classes[i];
	return NULL;
}

static int samba_send(struct samba *s, const char *cmd)
{
	ztc_board_log(s->b, ZTC_LOG_DBG, "SAM-BA: sending %s", cmd);
	return ztc_board_serial_write(s->b, s->fd, cmd, strlen(cmd), SAMBA_READ_MS);
}

static int samba_read_word(struct samba *s, uint32_t addr, uint32_t *ret)
{
	char cmd[16];
	unsigned char v[4];
	size_t got = 0;
	int rc;

	snprintf(cmd, sizeof(cmd), "w%08X,4#", addr);
	if ((rc = samba_send(s, cmd)) < 0 || (rc = ztc_board_serial_read(s->b, s->fd, v, 4, SAMBA_READ_MS, &got)) < 0)
		return rc;
	if (got != 4)
		return ztc_board_fail(s->b, ZTC_ERR_TIMEOUT, "%s: the SAM-BA monitor stopped answering (sent %s, got "
				      "%zu of 4 bytes): %s", s->port, cmd, got, s->cls->hint);
	*ret = (uint32_t)v[0] | (uint32_t)v[1] << 8 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 24;
	ztc_board_log(s->b, ZTC_LOG_DBG, "SAM-BA: 0x%08X = 0x%08X", addr, *ret);
	return ZTC_OK;
}

static int samba_write_word(struct samba *s, uint32_t addr, uint32_t value)
{
	char cmd[24];

	snprintf(cmd, sizeof(cmd), "W%08X,%08X#", addr, value);
	return samba_send(s, cmd);
}

/* Binary mode, then the version line: proof that a SAM-BA monitor answers. */
static int samba_hello(struct samba *s)
{
	char ver[128];
	unsigned char nr[2];
	size_t got = 0, n = 0;
	int rc, i, done = 0;

	for (i = 0; i < SAMBA_TRIES; i++) {
		ztc_board_serial_discard(s->b, s->fd);
		if ((rc = samba_send(s, "N#")) < 0 ||
		    (rc = ztc_board_serial_read(s->b, s->fd, nr, 2, SAMBA_TRY_MS, &got)) < 0)
			return rc;
		if (got == 2 && nr[0] == '\n' && nr[1] == '\r')
			break;
	}
	if (i == SAMBA_TRIES)
		return ztc_board_fail(s->b, ZTC_ERR_TIMEOUT, "%s: no answer from the SAM-BA bootloader (sent N# %d "
				      "times in %d s): %s is not in its bootloader: %s", s->port, SAMBA_TRIES,
				      SAMBA_TRIES * SAMBA_TRY_MS / 1000, ztc_board_get_str(s->b, "name"), s->cls->hint);
	if ((rc = samba_send(s, "V#")) < 0)
		return rc;
	/* The line ends with "\n\r", read whole so that the next answer starts clean; the text ends at the
	 * first byte that is not text. A board that never ends the line is cut off after 256 bytes. */
	for (int k = 0; k < 256; k++) {
		unsigned char c;

		if ((rc = ztc_board_serial_read(s->b, s->fd, &c, 1, SAMBA_READ_MS, &got)) < 0)
			return rc;
		if (got == 0 || c == '\r')
			break;
		if (isprint(c) && n < sizeof(ver) - 1 && !done)
			ver[n++] = (char)c;
		else
			done = 1;
	}
	ver[n] = '\0';
	if (n == 0 || ver[0] != 'v')
		return ztc_board_fail(s->b, ZTC_ERR_IO, "%s: the answer to V# is not a SAM-BA version line ('%s'): is "
				      "this the port of %s's bootloader?", s->port, ver,
				      ztc_board_get_str(s->b, "name"));
	ztc_board_log(s->b, ZTC_LOG_INFO, "SAM-BA monitor %s on %s", ver, s->port);
	return ZTC_OK;
}

/* The chip on the other side, named as precisely as its registers allow, in name (e.g. "SAM3X8E") and
 * with the registers read in what (e.g. "SAM3X8E (CHIPID_CIDR 0x285E0A60)"). */
static int samba_identify(struct samba *s, char *name, size_t name_len, char *what, size_t what_len)
{
	uint32_t cpuid, id;
	unsigned part;
	int rc;

	if ((rc = samba_read_word(s, SCB_CPUID, &cpuid)) < 0)
		return rc;
	part = (cpuid >> 4) & 0xFFF;
	name[0] = '\0';
	if (cpuid >> 24 == 0x41 && part == 0xC23) { /* Cortex-M3: the SAM3 chip id register */
		if ((rc = samba_read_word(s, SAM3X_CIDR, &id)) < 0)
			return rc;
		for (size_t i = 0; i < sizeof(sam3_chips) / sizeof(sam3_chips[0]); i++)
			if ((id & 0x7FFFFFE0) == sam3_chips[i].cidr)
				snprintf(name, name_len, "%s", sam3_chips[i].name);
		snprintf(what, what_len, "%s (CHIPID_CIDR 0x%08X)", *name ? name : "an unknown Cortex-M3 chip", id);
	} else if (cpuid >> 24 == 0x41 && part == 0xC60) { /* Cortex-M0+: the DSU device id */
		unsigned family, series, devsel;

		if ((rc = samba_read_word(s, D21_DSU_DID, &id)) < 0)
			return rc;
		family = (id >> 23) & 0x1F;
		series = (id >> 16) & 0x3F;
		devsel = id & 0xFF;
		if (id >> 28 == 1 && family == 0 && series == 1)
			snprintf(name, name_len, "SAMD21%s",
				 devsel < 0x28 && d21_devsel[devsel] ? d21_devsel[devsel] : "");
		snprintf(what, what_len, "%s (DSU DID 0x%08X)", *name ? name : "an unknown Cortex-M0+ chip", id);
	} else {
		snprintf(what, what_len, "a chip with CPUID 0x%08X (neither a SAM3 nor a SAMD21)", cpuid);
	}
	return ZTC_OK;
}

/* Read the flash controller's status until (FSR & FRDY) == frdy. */
static int sam3x_wait_frdy(struct samba *s, uint32_t frdy, const char *after)
{
	uint32_t fsr = 0;
	int rc;

	for (int i = 0; i < SAMBA_POLLS; i++) {
		if ((rc = samba_read_word(s, SAM3X_EEFC0_FSR, &fsr)) < 0)
			return rc;
		if (fsr & EEFC_FSR_ERRORS)
			return ztc_board_fail(s->b, ZTC_ERR_IO, "%s: the flash controller refused %s (EEFC_FSR 0x%08X)",
					      s->port, after, fsr);
		if ((fsr & EEFC_FSR_FRDY) == frdy)
			return ZTC_OK;
	}
	return ztc_board_fail(s->b, ZTC_ERR_TIMEOUT, "%s: the flash controller did not %s after %s (EEFC_FSR 0x%08X "
			      "after %d reads): reset the board", s->port, frdy ? "become ready" : "show the unique "
			      "identifier", after, fsr, SAMBA_POLLS);
}

/* The SAM3X's 128-bit unique identifier, as its datasheet says: STUI, wait for FRDY to fall, the first
 * 128 bits of the flash, SPUI, wait for FRDY to rise. */
static int sam3x_unique_id(struct samba *s, uint32_t w[4])
{
	int rc, rc2;

	if ((rc = sam3x_wait_frdy(s, EEFC_FSR_FRDY, "the previous command")) < 0 ||
	    (rc = samba_write_word(s, SAM3X_EEFC0_FCR, EEFC_STUI)) < 0)
		return rc;
	rc = sam3x_wait_frdy(s, 0, "STUI");
	for (int i = 0; rc == ZTC_OK && i < 4; i++)
		rc = samba_read_word(s, SAM3X_FLASH + 4 * (uint32_t)i, &w[i]);
	/* Leave the unique-id mode whatever happened: until then the flash reads as the id. */
	rc2 = samba_write_word(s, SAM3X_EEFC0_FCR, EEFC_SPUI);
	if (rc2 == ZTC_OK && rc == ZTC_OK)
		rc2 = sam3x_wait_frdy(s, EEFC_FSR_FRDY, "SPUI");
	return rc < 0 ? rc : rc2;
}

static int samd21_serial_number(struct samba *s, uint32_t w[4])
{
	static const uint32_t addr[4] = { 0x0080A00C, 0x0080A040, 0x0080A044, 0x0080A048 };
	int rc = ZTC_OK;

	for (int i = 0; rc == ZTC_OK && i < 4; i++)
		rc = samba_read_word(s, addr[i], &w[i]);
	return rc;
}

static int samba_read_chipid(ztc_board *b, char **ret_chipid)
{
	struct samba s = { .b = b, .fd = -1, .port = ztc_board_get_str(b, "port") };
	const char *model = ztc_board_get_str(b, "chip_model"), *family;
	char name[32], what[96], id[33];
	uint32_t w[4];
	int rc;

	s.cls = samba_class_of(b);
	if (!s.cls)
		return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "class %s has no SAM-BA chip id reader",
				      ztc_board_get_str(b, "classname"));
	/* Decline before touching the board when device.json does not say which chip to expect. */
	family = s.cls->family == SAM3X ? "SAM3" : "SAMD21";
	if (!model)
		return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s: device.json has no chip_model: the chip id is not "
				      "read over SAM-BA", ztc_board_get_str(b, "name"));
	if (strncasecmp(model, family, strlen(family)) != 0)
		return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s: device.json chip_model '%s' is not a %s chip: the "
				      "chip id is not read over SAM-BA", ztc_board_get_str(b, "name"), model, family);
	if (s.cls->touch && (rc = ztc_board_touch_serial(b, 1200, SAMBA_TOUCH_MS)) < 0)
		goto out;
	ztc_board_progress(b, -1, "reading the chip id (SAM-BA)");
	if ((rc = ztc_board_serial_open(b, SAMBA_BAUD, &s.fd)) < 0 || (rc = samba_hello(&s)) < 0 ||
	    (rc = samba_identify(&s, name, sizeof(name), what, sizeof(what))) < 0)
		goto out;
	ztc_board_log(b, ZTC_LOG_INFO, "%s: the chip is %s", s.port, what);
	if (strncasecmp(name, model, strlen(model)) != 0) {
		rc = ztc_board_fail(b, ZTC_ERR_NOT_FOUND, "%s: the chip is %s, not the %s of %s: is the alias on the "
				    "right board and target?", s.port, what, model, ztc_board_get_str(b, "name"));
		goto out;
	}
	rc = s.cls->family == SAM3X ? sam3x_unique_id(&s, w) : samd21_serial_number(&s, w);
	if (rc < 0)
		goto out;
	/* An erased or absent id reads as all ones or all zeros: no chip has that one. */
	if ((w[0] & w[1] & w[2] & w[3]) == 0xFFFFFFFF || (w[0] | w[1] | w[2] | w[3]) == 0) {
		rc = ztc_board_fail(b, ZTC_ERR_IO, "%s: the %s's unique id read as %08X%08X%08X%08X, which is no "
				    "chip's id: reset the board and try again", s.port, name, w[0], w[1], w[2], w[3]);
		goto out;
	}
	snprintf(id, sizeof(id), "%08X%08X%08X%08X", w[0], w[1], w[2], w[3]);
	*ret_chipid = strdup(id);
	rc = *ret_chipid ? ZTC_OK : ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
out:
	/* The board is left in its bootloader, for the flashing that follows a registration. */
	if (s.fd >= 0)
		ztc_board_serial_close(b, s.fd);
	/* Past the check above, "unsupported" (from the port) is a failure, not a decline: the board was
	 * touched, the registration firmware must not be tried on it. */
	return rc == ZTC_ERR_UNSUPPORTED ? ZTC_ERR_IO : rc;
}

/* Everything else is data: each board's device.json `flash` object says which tool runs with which
 * arguments (ztc_flash_default, through openocd_flash, which takes method "probe" itself), and
 * `flash.reset` how to reset it. */
static const ztc_class_desc classes[] = {
	/* 1200-baud touch, then bossac; reset: the port back to 115200; chip id over SAM-BA */
	{ .name = "ArduinoDue", .burn = openocd_flash, .reset = ztc_flash_reset_default,
	  .read_chipid = samba_read_chipid },
	{ .name = "FlipNClickSAM3X", .burn = openocd_flash, .reset = ztc_flash_reset_default,
	  .read_chipid = samba_read_chipid },
	/* edbg */
	{ .name = "GenuinoZero", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	{ .name = "ArduinoMKR1000", .burn = burn_needs_bootloader },
	/* bossac at 0x2000 (after the Arduino bootloader) on the bootloader's port; chip id over SAM-BA there */
	{ .name = "ArduinoMKR1000Virtualizable", .burn = openocd_flash, .read_chipid = samba_read_chipid },
	{ .name = "AdafruitFeatherM0Wifi", .burn = burn_needs_bootloader },
	{ .name = "AdafruitFeatherM0WifiVirtualizable", .burn = openocd_flash, .read_chipid = samba_read_chipid },
	{ .name = "SodaqExplorer", .burn = burn_needs_bootloader },
	{ .name = "SodaqExplorerVirtualizable", .burn = openocd_flash, .read_chipid = samba_read_chipid },
	/* edbg variants; reset through edbg where the board has one */
	{ .name = "XplainedProSamD21", .burn = openocd_flash, .reset = ztc_flash_reset_default,
	  .read_chipid = openocd_chipid_default },
	{ .name = "XplainedProSamC21N", .burn = openocd_flash, .reset = ztc_flash_reset_default,
	  .read_chipid = openocd_chipid_default },
	{ .name = "XplainedProSamL21", .burn = openocd_flash, .read_chipid = openocd_chipid_default },
	{ .name = "XplainedProSamG55", .burn = openocd_flash, .reset = ztc_flash_reset_default,
	  .read_chipid = openocd_chipid_default },
	{ .name = "XplainedProSamE54", .burn = openocd_flash, .reset = ztc_flash_reset_default,
	  .read_chipid = openocd_chipid_default },
	/* No programmable USB interface: device.json says "unsupported", use a probe */
	{ .name = "AcmeYarm", .burn = openocd_flash },
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
