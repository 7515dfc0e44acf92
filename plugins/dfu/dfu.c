/* dfu.c: board plugin for the STM32 boards flashed over USB DFU (Particle, MikroE Quail, Polaris). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ztc/plugin.h>

#include "dfuse.h"

/* Each of these boards has two USB identities: the runtime one cannot take an image, only the DFU
 * bootloader identity (the *DFU class) can, and switching is the user's (or put_dfu's) job. */
static int burn_needs_dfu(ztc_board *b, const ztc_image *img, size_t nimg)
{
	return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s is in its normal mode: put the board in DFU mode first",
			      ztc_board_get_str(b, "name"));
}

static const char *label(ztc_board *b)
{
	const char *alias = ztc_board_get_str(b, "alias"), *name = ztc_board_get_str(b, "name");

	return alias ? alias : name ? name : "the board";
}

/* A 32-bit address written "0x" and 1 to 8 hexadecimal digits, nothing else. */
static int parse_addr(const char *s, uint32_t *ret)
{
	uint32_t v = 0;
	size_t n = 0;

	if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	for (s += 2; *s; s++, n++) {
		int h = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 :
			*s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;

		if (h < 0 || n == 8)
			return -1;
		v = v << 4 | (uint32_t)h;
	}
	if (n == 0)
		return -1;
	*ret = v;
	return 0;
}

/* A device.json address key: ZTC_ERR_NOT_FOUND when absent (nothing recorded), ZTC_ERR_PARSE when bad. */
static int addr_key(ztc_board *b, const char *key, uint32_t *ret)
{
	const char *s = ztc_board_get_str(b, key);

	if (!s)
		return ZTC_ERR_NOT_FOUND;
	if (parse_addr(s, ret) < 0)
		return ztc_board_fail(b, ZTC_ERR_PARSE, "%s/device.json: %s \"%s\" is not a hexadecimal 32-bit address",
				      ztc_board_get_dir(b), key, s);
	return ZTC_OK;
}

static int alt_setting(ztc_board *b, int *ret)
{
	long alt = ztc_board_get_int(b, "dfu_alt", 0);

	if (alt < 0 || alt > 255)
		return ztc_board_fail(b, ZTC_ERR_PARSE, "%s/device.json: dfu_alt %ld is not an alt setting (0 to 255)",
				      ztc_board_get_dir(b), alt);
	*ret = (int)alt;
	return ZTC_OK;
}

/* ---- read_chipid ------------------------------------------------------------------------------------- */

/* The STM32's 96-bit unique id, read from the bootloader by DfuSe upload at dfu_chipid_address: each
 * 32-bit little-endian word, in address order, as 8 upper-case hexadecimal digits (24 in all). */
static int dfu_read_chipid(ztc_board *b, char **ret_chipid)
{
	uint8_t id[12];
	uint32_t addr;
	char msg[80], *out;
	dfuse *d = NULL;
	int alt = 0, rc;

	rc = addr_key(b, "dfu_chipid_address", &addr);
	if (rc == ZTC_ERR_NOT_FOUND)
		return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s/device.json has no dfu_chipid_address: the chip id "
				      "cannot be read over DFU", ztc_board_get_dir(b));
	if (rc < 0 || (rc = alt_setting(b, &alt)) < 0)
		return rc;
	snprintf(msg, sizeof(msg), "reading the chip id (DfuSe upload at 0x%08X)", addr);
	ztc_board_progress(b, -1, msg);
	if ((rc = dfuse_open(b, alt, &d)) < 0)
		return rc;
	rc = dfuse_read(d, addr, id, sizeof(id));
	dfuse_close(d);
	if (rc < 0)
		return rc;
	out = malloc(25);
	if (!out)
		return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
	for (int w = 0; w < 3; w++)
		snprintf(out + 8 * w, 9, "%02X%02X%02X%02X", id[4 * w + 3], id[4 * w + 2], id[4 * w + 1], id[4 * w]);
	*ret_chipid = out;
	return ZTC_OK;
}

/* ---- burn ---------------------------------------------------------------------------------------------- */

struct part {
	uint32_t addr;
	const uint8_t *data;
	size_t len;
	uint8_t *own; /* data, when the image was padded */
};

/* Where each image goes and what is written: an image's loc, else (a single image) dfu_address. A single
 * image without loc gets the board's padding: zeros up to dfu_pad_to (only below dfu_pad_if_below when
 * that is set), then dfu_append_zeros zeros. Every image is then padded with 0xFF (erased flash) to a
 * multiple of 8 bytes: STM32 flashes program words or double words. */
static int plan(ztc_board *b, const ztc_image *img, size_t nimg, struct part *parts)
{
	for (size_t i = 0; i < nimg; i++) {
		struct part *p = &parts[i];
		const char *a = img[i].loc;
		size_t len = img[i].len, want;
		int rc;

		if (!a && nimg == 1) {
			rc = addr_key(b, "dfu_address", &p->addr);
			if (rc == ZTC_ERR_NOT_FOUND)
				return ztc_board_fail(b, ZTC_ERR_ARG,
						      "%s: the firmware gives no address (loc) and %s/device.json "
						      "no dfu_address",
						      label(b), ztc_board_get_dir(b));
			if (rc < 0)
				return rc;
		} else if (parse_addr(a, &p->addr) < 0) {
			return ztc_board_fail(b, ZTC_ERR_PARSE, "%s: image %zu has no flash address (loc \"%s\")",
					      label(b), i, a ? a : "");
		}
		if (len == 0)
			return ztc_board_fail(b, ZTC_ERR_ARG, "%s: image %zu is empty", label(b), i);
		want = len;
		if (!a && nimg == 1) {
			long pad_to = ztc_board_get_int(b, "dfu_pad_to", 0),
			     below = ztc_board_get_int(b, "dfu_pad_if_below", 0);
			long append = ztc_board_get_int(b, "dfu_append_zeros", 0);

			if (pad_to < 0 || below < 0 || append < 0 || pad_to > (long)ZTC_FIRMWARE_MAX_BYTES ||
			    append > (long)ZTC_FIRMWARE_MAX_BYTES)
				return ztc_board_fail(b, ZTC_ERR_PARSE,
						      "%s/device.json: dfu_pad_to, dfu_pad_if_below and "
						      "dfu_append_zeros must be byte counts up to %u",
						      ztc_board_get_dir(b), ZTC_FIRMWARE_MAX_BYTES);
			if (pad_to && (!below || len < (size_t)below) && want < (size_t)pad_to)
				want = (size_t)pad_to;
			want += (size_t)append;
		}
		if (want != len || want % 8) {
			size_t full = (want + 7) / 8 * 8;
			unsigned char *buf = NULL;
			size_t blen;

			if (ztc_image_pad(img[i].data, len, want, &buf, &blen) < 0 || !(p->own = realloc(buf, full))) {
				free(buf);
				return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
			}
			memset(p->own + want, 0xFF, full - want);
			if (want != len)
				ztc_board_log(b, ZTC_LOG_INFO, "image padded with zeros from %zu to %zu bytes", len,
					      want);
			p->data = p->own;
			p->len = full;
		} else {
			p->data = img[i].data;
			p->len = len;
		}
		if ((uint64_t)p->addr + p->len > (uint64_t)UINT32_MAX + 1)
			return ztc_board_fail(b, ZTC_ERR_ARG, "%s: image %zu (%zu bytes at 0x%08X) goes beyond 4 GiB",
					      label(b), i, p->len, p->addr);
	}
	for (size_t i = 0; i < nimg; i++)
		for (size_t k = 0; k < nimg; k++)
			if (i != k && parts[i].addr <= parts[k].addr && parts[k].addr - parts[i].addr < parts[i].len)
				return ztc_board_fail(b, ZTC_ERR_ARG, "%s: images %zu and %zu overlap at 0x%08X",
						      label(b), i, k, parts[k].addr);
	return ZTC_OK;
}

/* Check that every byte of every part lies in writable sectors of the layout, and list the erasable
 * sectors they touch (sorted, once each): nothing is erased unless everything fits. */
static int sectors_to_erase(ztc_board *b, int alt, const struct dfuse_layout *l, const struct part *parts,
			    size_t nparts, uint32_t **ret, size_t *ret_n)
{
	uint32_t *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < nparts; i++) {
		uint64_t a = parts[i].addr, end = a + parts[i].len;

		while (a < end) {
			uint32_t start, size;
			int attr, in;
			size_t k;

			in = dfuse_layout_sector(l, (uint32_t)a, &start, &size, &attr);
			if (!in || !(attr & DFUSE_WRITABLE)) {
				free(v);
				return ztc_board_fail(b, ZTC_ERR_ARG,
						      "%s: the image of %zu bytes at 0x%08X does not fit the memory "
						      "\"%s\" of DFU alt setting %d: 0x%08X is %s; nothing was written",
						      label(b), parts[i].len, parts[i].addr, l->name, alt, (uint32_t)a,
						      in ? "in a read-only sector" : "outside its sectors");
			}
			if (attr & DFUSE_ERASABLE) {
				for (k = 0; k < n && v[k] != start; k++)
					;
				if (k == n) {
					uint32_t *nv = realloc(v, (n + 1) * sizeof(*v));

					if (!nv) {
						free(v);
						return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
					}
					v = nv;
					for (k = n++; k > 0 && v[k - 1] > start; k--)
						v[k] = v[k - 1];
					v[k] = start;
				}
			}
			a = (uint64_t)start + size;
		}
	}
	*ret = v;
	*ret_n = n;
	return ZTC_OK;
}

/* Download each image at its address (erasing exactly the sectors the images cover first), then leave
 * DFU mode so that the board starts the new firmware. On failure the board stays in its bootloader,
 * back in dfuIDLE where it can be, so that running the command again starts clean. */
static int dfu_burn(ztc_board *b, const ztc_image *img, size_t nimg)
{
	struct part *parts = calloc(nimg ? nimg : 1, sizeof(*parts));
	uint32_t *erase = NULL, start;
	size_t nerase = 0, total = 0;
	dfuse *d = NULL;
	char msg[96];
	int alt = 0, rc;

	if (!parts)
		return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
	if ((rc = alt_setting(b, &alt)) < 0 || (rc = plan(b, img, nimg, parts)) < 0)
		goto out;
	rc = addr_key(b, "dfu_address", &start);
	if (rc == ZTC_ERR_NOT_FOUND) {
		start = parts[0].addr;
		for (size_t i = 1; i < nimg; i++)
			start = parts[i].addr < start ? parts[i].addr : start;
	} else if (rc < 0) {
		goto out;
	}
	if ((rc = dfuse_open(b, alt, &d)) < 0 ||
	    (rc = sectors_to_erase(b, alt, dfuse_get_layout(d), parts, nimg, &erase, &nerase)) < 0)
		goto out;
	for (size_t i = 0; i < nimg; i++)
		total += parts[i].len;
	snprintf(msg, sizeof(msg), "erasing %zu sector%s", nerase, nerase == 1 ? "" : "s");
	ztc_board_progress(b, -1, msg);
	for (size_t i = 0; i < nerase && rc == ZTC_OK; i++)
		rc = dfuse_erase(d, erase[i]);
	for (size_t i = 0, done = 0; i < nimg && rc == ZTC_OK; done += parts[i++].len) {
		ztc_board_log(b, ZTC_LOG_INFO, "%s: writing %zu bytes at 0x%08X", label(b), parts[i].len,
			      parts[i].addr);
		rc = dfuse_write(d, parts[i].addr, parts[i].data, parts[i].len, done, total);
	}
	if (rc == ZTC_OK) {
		ztc_board_progress(b, -1, "leaving DFU mode");
		rc = dfuse_leave(d, start);
	}
out:
	dfuse_close(d);
	for (size_t i = 0; i < nimg; i++)
		free(parts[i].own);
	free(parts);
	free(erase);
	return rc;
}

/* The DFU classes flash and read the chip id natively (DfuSe over libusb, device.json dfu_* keys). The
 * Polaris runtime classes reset by a 2400-baud open and switch to DFU by a 1200-baud touch
 * (`flash.reset`, `flash.enter_virtualizable`). */
#define DFU(n) { .name = n, .burn = dfu_burn, .read_chipid = dfu_read_chipid }

static const ztc_class_desc classes[] = {
	{ .name = "Photon", .burn = burn_needs_dfu },
	DFU("PhotonDFU"),
	{ .name = "Sparkfun_Photon", .burn = burn_needs_dfu },
	DFU("S_PhotonDFU"),
	{ .name = "Electron", .burn = burn_needs_dfu },
	DFU("ElectronDFU"),
	{ .name = "ParticleCore", .burn = burn_needs_dfu },
	DFU("ParticleCoreDFU"),
	{ .name = "MikroeQuail", .burn = burn_needs_dfu },
	DFU("MikroeQuailDFU"),
	{ .name = "Polaris3G", .burn = burn_needs_dfu, .reset = ztc_flash_reset_default,
	  .enter_virtualizable = ztc_flash_enter_virtualizable_default },
	DFU("Polaris3GDFU"),
	{ .name = "PolarisNBIoT", .burn = burn_needs_dfu, .reset = ztc_flash_reset_default,
	  .enter_virtualizable = ztc_flash_enter_virtualizable_default },
	DFU("PolarisNBIoTDFU"),
	{ .name = "PolaristrackerV3", .burn = burn_needs_dfu, .reset = ztc_flash_reset_default,
	  .enter_virtualizable = ztc_flash_enter_virtualizable_default },
	DFU("PolaristrackerV3DFU"),
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
