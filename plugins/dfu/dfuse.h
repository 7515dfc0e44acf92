/* dfuse.h: ST's DfuSe extension of USB DFU over libusb-1.0, as the dfu plugin uses it (private to it). */
#ifndef ZTC_DFUSE_H
#define ZTC_DFUSE_H

#include <stddef.h>
#include <stdint.h>

#include <ztc/plugin.h>

/* ---- the memory layout of an alt setting --------------------------------------------------------- */

/* A DfuSe alt setting names its memory in its interface string, e.g.
 * "@Internal Flash  /0x08000000/03*016Ka,01*016Kg,01*064Kg,07*128Kg": segments, each a start address and
 * groups of equal sectors "COUNT*SIZE[unit]ATTR" (unit ' ' or 'B' bytes, 'K' KiB, 'M' MiB; ATTR 'a'..'g',
 * the sum of 1 readable, 2 erasable, 4 writable). The string comes from the device: every number is
 * range-checked, and the sectors of a layout never wrap around 4 GiB. */
#define DFUSE_READABLE 1
#define DFUSE_ERASABLE 2
#define DFUSE_WRITABLE 4
#define DFUSE_MAX_GROUPS 64

struct dfuse_group {
	uint32_t start; /* address of its first sector */
	uint32_t size;  /* bytes per sector */
	uint32_t count;
	int attr;       /* DFUSE_READABLE | DFUSE_ERASABLE | DFUSE_WRITABLE */
};

struct dfuse_layout {
	char name[64]; /* "Internal Flash" */
	size_t ngroups;
	struct dfuse_group group[DFUSE_MAX_GROUPS];
};

/* Parse s into *ret (set only on success). Returns 0, or -1 with a short reason in why (why_len bytes). */
int dfuse_layout_parse(const char *s, struct dfuse_layout *ret, char *why, size_t why_len);
/* The sector holding addr: 1 with its start, size and attributes, 0 when the layout has none there. */
int dfuse_layout_sector(const struct dfuse_layout *l, uint32_t addr, uint32_t *ret_start, uint32_t *ret_size,
			int *ret_attr);

/* ---- a DfuSe device --------------------------------------------------------------------------------- */

typedef struct dfuse dfuse;

/* Find the board's DFU device among the USB devices (VID:PID of the discovered record and, unless it is
 * "no_sid", its serial number), open it, claim its DFU interface, select alt setting alt, read that
 * alt's layout and bring the device to dfuIDLE (CLRSTATUS out of dfuERROR, ABORT out of other states).
 * Fails with one line naming the board: ZTC_ERR_GONE (not connected), ZTC_ERR_AMBIGUOUS, ZTC_ERR_BUSY
 * (another program holds the interface), ZTC_ERR_IO (no permission: names 60-ztc.rules and udevadm
 * trigger; transfer errors), ZTC_ERR_UNSUPPORTED (no such alt setting, not DfuSe), ZTC_ERR_PARSE (bad
 * layout string). */
int dfuse_open(ztc_board *b, int alt, dfuse **ret);
/* Bring the device back to dfuIDLE where it can (a retry then starts clean), release it. Accepts NULL. */
void dfuse_close(dfuse *d);
const struct dfuse_layout *dfuse_get_layout(const dfuse *d);

/* Read len bytes at addr (DfuSe set address pointer, then UPLOAD). */
int dfuse_read(dfuse *d, uint32_t addr, uint8_t *buf, size_t len);
/* Erase the sector holding addr. */
int dfuse_erase(dfuse *d, uint32_t addr);
/* Write len bytes at addr, reporting progress: done_before + bytes written of total, as "flashing". */
int dfuse_write(dfuse *d, uint32_t addr, const uint8_t *data, size_t len, size_t done_before, size_t total);
/* Leave DFU mode: set the address pointer to addr (where the application starts) and send the zero-length
 * DNLOAD; the device then manifests and resets into its application. */
int dfuse_leave(dfuse *d, uint32_t addr);

#endif
