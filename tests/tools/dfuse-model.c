/* dfuse-model.c: a test tool that plays the STM32 DfuSe bootloader of a Particle Photon on an emulated USB
 * device node, so that libusb programs (ztc's dfu plugin, the real dfu-util) talk to it without hardware.
 *
 * dfuse-model --device REC.umockdev [-d REC.umockdev]... [--uid HEX24] [--flash FILE] [--log FILE]
 *             [--leave-to REC.umockdev] [--busy] [--gone-after N] [--fail-block N] [--start-error]
 *             [--poll-ms N] [--timeout S] -- COMMAND [ARGS...]
 *
 * Must run preloaded (umockdev-wrapper or umockdev-run). --device adds the DFU identity of a record (its
 * usb_device with an "N: bus/usb/BBB/DDD" node; vendor, product, strings and serial come from its "A:"
 * lines); -d adds other records as they are. The model writes the sysfs `descriptors` attribute that
 * libusb reads and answers the usbdevfs ioctls of the node (umockdev_testbed_attach_ioctl): URBs on the
 * control endpoint, interface claims and alt settings. Behind them, a DfuSe device as ST's AN3156 and the
 * DFU 1.1 specification describe it:
 *   - configuration 1, interface 0 (class FE/01/02), alt 0 "@Internal Flash   /0x08000000/03*016Ka,
 *     01*016Kg,01*064Kg,07*128Kg" (1 MiB: three read-only boot sectors, then erasable and writable ones)
 *     and alt 1 "@DCT Flash   /0x00000000/01*016Ke"; DFU functional descriptor: bcdDFUVersion 0x011A,
 *     wTransferSize 2048, can upload, can download, will detach;
 *   - the DFU states dfuIDLE, dfuDNLOAD-SYNC, dfuDNBUSY, dfuDNLOAD-IDLE, dfuMANIFEST-SYNC, dfuMANIFEST,
 *     dfuUPLOAD-IDLE, dfuERROR, with GETSTATUS / CLRSTATUS / GETSTATE / ABORT; a request the state does
 *     not allow stalls and leaves the device in dfuERROR (errSTALLEDPKT);
 *   - DfuSe commands in DNLOAD block 0: 0x00 get commands, 0x21 set address pointer, 0x41 erase (the
 *     sector holding an address; without an address: every erasable sector); data blocks n >= 2 at
 *     pointer + (n - 2) * wTransferSize; UPLOAD the same way (block 0: the command list);
 *   - flash programming needs erased bytes (0xFF): programming over data fails with errPROG (dfuERROR);
 *     writing or erasing outside the alt's writable / erasable sectors fails with errTARGET;
 *   - a zero-length DNLOAD is the leave request: the next GETSTATUS answers dfuMANIFEST and the device
 *     "resets" into its application: it leaves the bus (or becomes --leave-to's identity);
 *   - the unique id: 12 bytes at 0x1FFF7A10 in the system memory area (0x1FFF7800..0x1FFF87FF, which
 *     also holds OTP bytes 0xFF and the flash size in KiB at 0x1FFF7A22), readable by UPLOAD through alt
 *     0 at any address pointer there, as the Photon's bootloader allows.
 *
 * --uid: the 12 unique-id bytes in memory order, as 24 hex digits (default 3C002B000A47343432313031).
 * --flash: the 1 MiB of internal flash, loaded at start (a missing file: all erased, 0xFF) and written
 * back at exit. --log: one line per operation (claim, alt, setaddr, erase, write, upload, clrstatus,
 * abort, leave, error, busy, gone), appended. Faults: --busy (another program holds the interface:
 * CLAIMINTERFACE fails with EBUSY), --gone-after N (the board is unplugged after N data blocks: every
 * later ioctl fails with ENODEV and the device leaves udev), --fail-block N (the Nth data block fails to
 * program: errPROG, dfuERROR), --start-error (the device starts in dfuERROR / errUNKNOWN, as after an
 * interrupted session). --poll-ms: bwPollTimeout of busy states (default 2). Exits with COMMAND's status
 * (124 when it runs longer than --timeout, default 60 s). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/usbdevice_fs.h>
#include <umockdev.h>

#define XFER_SIZE 2048
#define FLASH_BASE 0x08000000u
#define DCT_BASE 0x00000000u
#define DCT_SIZE (16u * 1024u)
#define SYS_BASE 0x1FFF7800u
#define SYS_SIZE 0x1000u
#define UID_ADDR 0x1FFF7A10u
#define FLASHSIZE_ADDR 0x1FFF7A22u

/* DFU 1.1 states and status codes. */
enum { appIDLE, appDETACH, dfuIDLE, dfuDNLOAD_SYNC, dfuDNBUSY, dfuDNLOAD_IDLE, dfuMANIFEST_SYNC, dfuMANIFEST,
       dfuMANIFEST_WAIT_RESET, dfuUPLOAD_IDLE, dfuERROR };
enum { OK, errTARGET, errFILE, errWRITE, errERASE, errCHECK_ERASED, errPROG, errVERIFY, errADDRESS, errNOTDONE,
       errFIRMWARE, errVENDOR, errUSBR, errPOR, errUNKNOWN, errSTALLEDPKT };
static const char *const status_names[] = { "OK", "errTARGET", "errFILE", "errWRITE", "errERASE",
	"errCHECK_ERASED", "errPROG", "errVERIFY", "errADDRESS", "errNOTDONE", "errFIRMWARE", "errVENDOR",
	"errUSBR", "errPOR", "errUNKNOWN", "errSTALLEDPKT" };

/* One group of equal sectors of an alt setting's layout: attr as in the layout string ('a' readable,
 * 'b' erasable, 'd' writable, and their sums up to 'g'). */
struct sectors {
	unsigned count, kib;
	char attr;
};

struct alt {
	const char *name;
	uint32_t base;
	const struct sectors *sec;
	size_t nsec;
	char layout[160];
};

static const struct sectors flash_sectors[] = { { 3, 16, 'a' }, { 1, 16, 'g' }, { 1, 64, 'g' }, { 7, 128, 'g' } };
static const struct sectors dct_sectors[] = { { 1, 16, 'e' } };
static struct alt alts[] = {
	{ "Internal Flash  ", FLASH_BASE, flash_sectors, 4, "" },
	{ "DCT Flash  ", DCT_BASE, dct_sectors, 1, "" },
};
#define NALTS (sizeof(alts) / sizeof(alts[0]))

/* A pending DfuSe operation, run by the GETSTATUS that follows its DNLOAD. */
enum pending { P_NONE, P_COMMAND, P_DATA, P_LEAVE };

static struct model {
	GMutex lock;
	/* identity */
	unsigned vid, pid;
	char manufacturer[64], product[64], serial[64];
	uint8_t devdesc[18];
	uint8_t config[9 + NALTS * 9 + 9];
	/* memory */
	uint8_t *flash;
	uint32_t flash_size;
	uint8_t dct[DCT_SIZE];
	uint8_t sys[SYS_SIZE];
	/* DFU */
	int state, status;
	uint32_t ptr;
	int alt;
	enum pending pending;
	uint8_t pbuf[XFER_SIZE];
	size_t plen;
	unsigned pblock;
	unsigned poll_ms;
	/* USB */
	UMockdevIoctlClient *claimed_by;
	GQueue done; /* reapable URBs: UMockdevIoctlData of the urb, one ref each */
	/* faults and test hooks */
	gboolean busy, start_error;
	long gone_after, fail_block, blocks;
	volatile gint gone, left;
	FILE *log;
} M;

static void mlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mlog(const char *fmt, ...)
{
	va_list ap;

	if (!M.log)
		return;
	va_start(ap, fmt);
	vfprintf(M.log, fmt, ap);
	va_end(ap);
	fputc('\n', M.log);
	fflush(M.log);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void build_descriptors(void)
{
	uint8_t *c = M.config;
	const uint8_t dev[18] = { 18, 1, 0x00, 0x02, 0, 0, 0, 64, 0, 0, 0, 0, 0x00, 0x02, 1, 2, 3, 1 };

	memcpy(M.devdesc, dev, sizeof(dev));
	put16(M.devdesc + 8, M.vid);
	put16(M.devdesc + 10, M.pid);
	c[0] = 9, c[1] = 2, c[4] = 1, c[5] = 1, c[6] = 0, c[7] = 0xC0, c[8] = 50;
	put16(c + 2, sizeof(M.config));
	c += 9;
	for (size_t i = 0; i < NALTS; i++, c += 9) {
		const uint8_t intf[9] = { 9, 4, 0, (uint8_t)i, 0, 0xFE, 0x01, 0x02, (uint8_t)(4 + i) };

		memcpy(c, intf, 9);
	}
	/* DFU functional descriptor: will detach, can upload, can download; detach timeout 255 ms; DfuSe. */
	c[0] = 9, c[1] = 0x21, c[2] = 0x0B;
	put16(c + 3, 255);
	put16(c + 5, XFER_SIZE);
	put16(c + 7, 0x011A);
	for (size_t i = 0; i < NALTS; i++) {
		int n = snprintf(alts[i].layout, sizeof(alts[i].layout), "@%s /0x%08X/", alts[i].name, alts[i].base);

		for (size_t s = 0; s < alts[i].nsec; s++)
			n += snprintf(alts[i].layout + n, sizeof(alts[i].layout) - (size_t)n, "%s%02u*%03uK%c",
				      s ? "," : "", alts[i].sec[s].count, alts[i].sec[s].kib, alts[i].sec[s].attr);
	}
}

/* The string descriptor idx (0: the language list), as UTF-16LE. */
static size_t string_desc(unsigned idx, uint8_t *out, size_t max)
{
	const char *s = NULL;
	size_t n;

	if (idx == 0) {
		const uint8_t langs[4] = { 4, 3, 0x09, 0x04 };

		n = max < 4 ? max : 4;
		memcpy(out, langs, n);
		return n;
	}
	if (idx == 1)
		s = M.manufacturer;
	else if (idx == 2)
		s = M.product;
	else if (idx == 3)
		s = M.serial;
	else if (idx >= 4 && idx < 4 + NALTS)
		s = alts[idx - 4].layout;
	if (!s)
		return (size_t)-1;
	uint8_t full[2 + 2 * 126];
	size_t len = strlen(s);

	if (len > 126)
		len = 126;
	full[0] = (uint8_t)(2 + 2 * len);
	full[1] = 3;
	for (size_t i = 0; i < len; i++) {
		full[2 + 2 * i] = (uint8_t)s[i];
		full[3 + 2 * i] = 0;
	}
	n = full[0] < max ? full[0] : max;
	memcpy(out, full, n);
	return n;
}

/* ---- memory ------------------------------------------------------------------------------------------ */

/* The bytes at [addr, addr + len) of the memory the address falls in, or NULL when not all mapped. */
static uint8_t *mem_at(uint32_t addr, size_t len)
{
	if (addr >= FLASH_BASE && len <= M.flash_size && addr - FLASH_BASE <= M.flash_size - len)
		return M.flash + (addr - FLASH_BASE);
	if (len <= DCT_SIZE && addr - DCT_BASE <= DCT_SIZE - len)
		return M.dct + (addr - DCT_BASE);
	if (addr >= SYS_BASE && len <= SYS_SIZE && addr - SYS_BASE <= SYS_SIZE - len)
		return M.sys + (addr - SYS_BASE);
	return NULL;
}

/* The sector of the current alt setting holding addr: its start, size and attribute; 0 if none. */
static char sector_of(uint32_t addr, uint32_t *ret_start, uint32_t *ret_size)
{
	const struct alt *a = &alts[M.alt];
	uint32_t start = a->base;

	for (size_t s = 0; s < a->nsec; s++)
		for (unsigned k = 0; k < a->sec[s].count; k++) {
			uint32_t size = a->sec[s].kib * 1024u;

			if (addr >= start && addr - start < size) {
				*ret_start = start;
				*ret_size = size;
				return a->sec[s].attr;
			}
			start += size;
		}
	return 0;
}

static int attr_bits(char attr)
{
	return attr >= 'a' && attr <= 'g' ? attr - 'a' + 1 : 0;
}

static int do_erase(uint32_t addr)
{
	uint32_t start, size;
	char attr = sector_of(addr, &start, &size);
	uint8_t *p;

	if (!(attr_bits(attr) & 2) || !(p = mem_at(start, size))) {
		mlog("error erase 0x%08X errTARGET", addr);
		return errTARGET;
	}
	memset(p, 0xFF, size);
	mlog("erase 0x%08X", start);
	return OK;
}

static int do_mass_erase(void)
{
	const struct alt *a = &alts[M.alt];
	uint32_t start = a->base;

	for (size_t s = 0; s < a->nsec; s++)
		for (unsigned k = 0; k < a->sec[s].count; k++) {
			uint32_t size = a->sec[s].kib * 1024u;
			uint8_t *p = mem_at(start, size);

			if ((attr_bits(a->sec[s].attr) & 2) && p)
				memset(p, 0xFF, size);
			start += size;
		}
	mlog("erase all");
	return OK;
}

static int do_write(uint32_t addr, const uint8_t *data, size_t len)
{
	uint8_t *p = mem_at(addr, len);

	/* Every byte written must lie in writable sectors of the alt setting. */
	for (size_t off = 0; off < len;) {
		uint32_t start, size;
		char attr = sector_of(addr + (uint32_t)off, &start, &size);

		if (!(attr_bits(attr) & 4) || !p) {
			mlog("error write 0x%08X %zu errTARGET", addr, len);
			return errTARGET;
		}
		off = start + size - addr;
	}
	if (M.fail_block > 0 && M.blocks == M.fail_block) {
		mlog("error write 0x%08X %zu errPROG (--fail-block)", addr, len);
		return errPROG;
	}
	if (M.alt == 0)
		for (size_t i = 0; i < len; i++)
			if (p[i] != 0xFF && p[i] != data[i]) {
				mlog("error write 0x%08X %zu errPROG (not erased at 0x%08zX)", addr, len, addr + i);
				return errPROG;
			}
	memcpy(p, data, len);
	mlog("write 0x%08X %zu", addr, len);
	return OK;
}

/* ---- the DFU class requests --------------------------------------------------------------------------- */

enum { DFU_DETACH, DFU_DNLOAD, DFU_UPLOAD, DFU_GETSTATUS, DFU_CLRSTATUS, DFU_GETSTATE, DFU_ABORT };

/* A request the state does not allow: the device stalls it and enters dfuERROR. */
static int stall(const char *why)
{
	mlog("stall %s (state %d)", why, M.state);
	M.state = dfuERROR;
	M.status = errSTALLEDPKT;
	return -EPIPE;
}

static void fail_op(int status)
{
	M.state = dfuERROR;
	M.status = status;
}

/* The operation of the last DNLOAD, run by the GETSTATUS that follows it (dfuDNBUSY). */
static void run_pending(void)
{
	int st = OK;

	if (M.pending == P_COMMAND) {
		uint8_t cmd = M.pbuf[0];
		uint32_t a = M.plen >= 5 ? (uint32_t)M.pbuf[1] | (uint32_t)M.pbuf[2] << 8 | (uint32_t)M.pbuf[3] << 16 |
					       (uint32_t)M.pbuf[4] << 24 : 0;

		if (cmd == 0x21 && M.plen == 5) {
			M.ptr = a;
			mlog("setaddr 0x%08X", a);
		} else if (cmd == 0x41 && M.plen == 5) {
			st = do_erase(a);
		} else if (cmd == 0x41 && M.plen == 1) {
			st = do_mass_erase();
		} else {
			mlog("error command 0x%02X len %zu", cmd, M.plen);
			st = errTARGET;
		}
	} else if (M.pending == P_DATA) {
		uint32_t addr = M.ptr + (M.pblock - 2) * XFER_SIZE;

		M.blocks++;
		st = do_write(addr, M.pbuf, M.plen);
		if (M.gone_after > 0 && M.blocks >= M.gone_after) {
			mlog("gone after block %ld", M.blocks);
			g_atomic_int_set(&M.gone, 1);
		}
	}
	M.pending = P_NONE;
	if (st != OK)
		fail_op(st);
}

static int dfu_request(uint8_t rt, uint8_t req, unsigned value, uint8_t *data, size_t len, size_t *ret_in)
{
	*ret_in = 0;
	if (M.state == dfuERROR && req != DFU_GETSTATUS && req != DFU_CLRSTATUS && req != DFU_GETSTATE)
		return stall("request in dfuERROR");
	switch (req) {
	case DFU_DNLOAD:
		if (rt != 0x21 || (M.state != dfuIDLE && M.state != dfuDNLOAD_IDLE))
			return stall("DNLOAD");
		if (len == 0) {
			/* The leave request: manifestation, then the jump to the application. */
			M.pending = P_LEAVE;
			M.state = dfuMANIFEST_SYNC;
			return 0;
		}
		if (value == 1 || len > XFER_SIZE || (value == 0 && M.state != dfuIDLE && M.state != dfuDNLOAD_IDLE))
			return stall("DNLOAD block");
		memcpy(M.pbuf, data, len);
		M.plen = len;
		M.pblock = value;
		M.pending = value == 0 ? P_COMMAND : P_DATA;
		M.state = dfuDNLOAD_SYNC;
		return 0;
	case DFU_UPLOAD:
		if (rt != 0xA1 || (M.state != dfuIDLE && M.state != dfuUPLOAD_IDLE) || value == 1)
			return stall("UPLOAD");
		if (value == 0) {
			const uint8_t cmds[4] = { 0x00, 0x21, 0x41, 0x92 };

			*ret_in = len < 4 ? len : 4;
			memcpy(data, cmds, *ret_in);
		} else {
			uint32_t addr = M.ptr + (value - 2) * XFER_SIZE;
			const uint8_t *p = mem_at(addr, len);

			if (!p) {
				mlog("error upload 0x%08X %zu errADDRESS", addr, len);
				fail_op(errADDRESS);
				return -EPIPE;
			}
			memcpy(data, p, len);
			*ret_in = len;
			mlog("upload 0x%08X %zu", addr, len);
		}
		M.state = *ret_in < len ? dfuIDLE : dfuUPLOAD_IDLE;
		return 0;
	case DFU_GETSTATUS: {
		unsigned poll = 0;

		if (rt != 0xA1 || len < 6)
			return stall("GETSTATUS");
		if (M.state == dfuDNLOAD_SYNC) {
			/* The first GETSTATUS after a DNLOAD starts the operation: busy for bwPollTimeout. */
			run_pending();
			if (M.state != dfuERROR)
				M.state = dfuDNBUSY;
			poll = M.poll_ms;
		} else if (M.state == dfuDNBUSY) {
			M.state = dfuDNLOAD_IDLE;
		} else if (M.state == dfuMANIFEST_SYNC) {
			M.state = dfuMANIFEST;
			mlog("leave 0x%08X", M.ptr);
			g_atomic_int_set(&M.left, 1);
		}
		data[0] = (uint8_t)M.status;
		data[1] = (uint8_t)poll;
		data[2] = (uint8_t)(poll >> 8);
		data[3] = (uint8_t)(poll >> 16);
		data[4] = (uint8_t)M.state;
		data[5] = 0;
		*ret_in = 6;
		return 0;
	}
	case DFU_CLRSTATUS:
		if (rt != 0x21 || M.state != dfuERROR)
			return stall("CLRSTATUS");
		mlog("clrstatus %s", status_names[M.status]);
		M.state = dfuIDLE;
		M.status = OK;
		return 0;
	case DFU_GETSTATE:
		if (rt != 0xA1 || len < 1)
			return stall("GETSTATE");
		data[0] = (uint8_t)M.state;
		*ret_in = 1;
		return 0;
	case DFU_ABORT:
		if (rt != 0x21 || (M.state != dfuIDLE && M.state != dfuDNLOAD_SYNC && M.state != dfuDNLOAD_IDLE &&
				   M.state != dfuMANIFEST_SYNC && M.state != dfuUPLOAD_IDLE))
			return stall("ABORT");
		mlog("abort");
		M.pending = P_NONE;
		M.state = dfuIDLE;
		return 0;
	default:
		return stall("unknown request");
	}
}

/* One control transfer: setup packet + data. Returns 0 or a negative errno for the URB status. */
static int control(uint8_t *buf, size_t buflen, size_t *ret_in)
{
	uint8_t rt = buf[0], req = buf[1];
	unsigned value = buf[2] | buf[3] << 8, index = buf[4] | buf[5] << 8, wlen = buf[6] | buf[7] << 8;
	uint8_t *data = buf + 8;
	size_t n;

	*ret_in = 0;
	if (wlen > buflen - 8)
		return -EOVERFLOW;
	if ((rt & 0x60) == 0x20 && (rt & 0x1F) == 1 && index == 0)
		return dfu_request(rt, req, value, data, wlen, ret_in);
	if (rt == 0x80 && req == 6) { /* GET_DESCRIPTOR */
		unsigned type = value >> 8, idx = value & 0xFF;

		if (type == 1) {
			n = wlen < 18 ? wlen : 18;
			memcpy(data, M.devdesc, n);
		} else if (type == 2 && idx == 0) {
			n = wlen < sizeof(M.config) ? wlen : sizeof(M.config);
			memcpy(data, M.config, n);
		} else if (type == 3) {
			n = string_desc(idx, data, wlen);
			if (n == (size_t)-1)
				return -EPIPE;
		} else {
			return -EPIPE;
		}
		*ret_in = n;
		return 0;
	}
	if (rt == 0x80 && req == 0) { /* GET_STATUS: bus powered, no remote wakeup */
		n = wlen < 2 ? wlen : 2;
		memset(data, 0, n);
		*ret_in = n;
		return 0;
	}
	return -EPIPE;
}

/* ---- usbdevfs --------------------------------------------------------------------------------------- */

static gboolean complete(UMockdevIoctlClient *client, long ret, int err)
{
	umockdev_ioctl_client_complete(client, ret, err);
	return TRUE;
}

static UMockdevIoctlData *resolve(UMockdevIoctlClient *client, UMockdevIoctlData *d, size_t off, size_t len)
{
	GError *err = NULL;
	UMockdevIoctlData *r = umockdev_ioctl_data_resolve(d ? d : umockdev_ioctl_client_get_arg(client), off, len,
							   &err);

	if (!r) {
		fprintf(stderr, "dfuse-model: cannot resolve ioctl data: %s\n", err ? err->message : "?");
		g_clear_error(&err);
	}
	return r;
}

static gboolean submit_urb(UMockdevIoctlClient *client)
{
	UMockdevIoctlData *ud = resolve(client, NULL, 0, sizeof(struct usbdevfs_urb)), *bd;
	struct usbdevfs_urb *urb;
	size_t in = 0;

	if (!ud)
		return complete(client, -1, EFAULT);
	urb = (struct usbdevfs_urb *)ud->data;
	if (urb->type != USBDEVFS_URB_TYPE_CONTROL || (urb->endpoint & 0x7F) != 0 || urb->buffer_length < 8) {
		g_object_unref(ud);
		return complete(client, -1, EINVAL);
	}
	bd = resolve(client, ud, offsetof(struct usbdevfs_urb, buffer), (size_t)urb->buffer_length);
	if (!bd) {
		g_object_unref(ud);
		return complete(client, -1, EFAULT);
	}
	urb = (struct usbdevfs_urb *)ud->data;
	urb->status = control(bd->data, (size_t)urb->buffer_length, &in);
	/* actual_length counts the data stage only: the bytes sent (OUT) or returned (IN). */
	urb->actual_length = urb->status < 0 ? 0 : (bd->data[0] & 0x80) ? (int)in : bd->data[6] | bd->data[7] << 8;
	g_object_unref(bd);
	g_queue_push_tail(&M.done, ud);
	return complete(client, 0, 0);
}

static gboolean reap_urb(UMockdevIoctlClient *client)
{
	UMockdevIoctlData *slot, *ud = g_queue_pop_head(&M.done);

	if (!ud)
		return complete(client, -1, EAGAIN);
	slot = resolve(client, NULL, 0, sizeof(void *));
	if (!slot) {
		g_object_unref(ud);
		return complete(client, -1, EFAULT);
	}
	umockdev_ioctl_data_set_ptr(slot, 0, ud);
	g_object_unref(ud);
	g_object_unref(slot);
	return complete(client, 0, 0);
}

/* Every client (an open file descriptor of the node), to know when the last one has closed. */
static GPtrArray *clients;

static void client_connected(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user_data)
{
	(void)handler, (void)user_data;
	g_mutex_lock(&M.lock);
	g_ptr_array_add(clients, g_object_ref(client));
	g_mutex_unlock(&M.lock);
}

static gboolean any_client_connected(void)
{
	gboolean any = FALSE;

	g_mutex_lock(&M.lock);
	for (guint k = 0; k < clients->len; k++)
		any = any || umockdev_ioctl_client_get_connected(g_ptr_array_index(clients, k));
	g_mutex_unlock(&M.lock);
	return any;
}

static gboolean handle_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user_data)
{
	gulong req = umockdev_ioctl_client_get_request(client);
	UMockdevIoctlData *d;
	gboolean r;

	(void)handler, (void)user_data;
	g_mutex_lock(&M.lock);
	if (g_atomic_int_get(&M.gone) || g_atomic_int_get(&M.left)) {
		/* Unplugged, or reset into the application: the node answers nothing any more, but the URBs
		 * that completed before can still be reaped (USBDEVFS_CAP_REAP_AFTER_DISCONNECT). */
		if ((req == USBDEVFS_REAPURB || req == USBDEVFS_REAPURBNDELAY) && !g_queue_is_empty(&M.done))
			r = reap_urb(client);
		else
			r = complete(client, -1, ENODEV);
		goto out;
	}
	switch (req) {
	case USBDEVFS_GET_CAPABILITIES:
		if (!(d = resolve(client, NULL, 0, 4))) {
			r = complete(client, -1, EFAULT);
			break;
		}
		*(uint32_t *)d->data = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION |
				       USBDEVFS_CAP_NO_PACKET_SIZE_LIM | USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
		g_object_unref(d);
		r = complete(client, 0, 0);
		break;
	case USBDEVFS_CLAIMINTERFACE:
	case USBDEVFS_RELEASEINTERFACE:
		if (!(d = resolve(client, NULL, 0, sizeof(unsigned)))) {
			r = complete(client, -1, EFAULT);
			break;
		}
		if (*(unsigned *)d->data != 0) {
			r = complete(client, -1, EINVAL);
		} else if (req == USBDEVFS_RELEASEINTERFACE) {
			if (M.claimed_by == client)
				M.claimed_by = NULL;
			r = complete(client, 0, 0);
		} else if (M.busy || (M.claimed_by && M.claimed_by != client &&
				      umockdev_ioctl_client_get_connected(M.claimed_by))) {
			mlog("busy");
			r = complete(client, -1, EBUSY);
		} else {
			M.claimed_by = client;
			mlog("claim 0");
			r = complete(client, 0, 0);
		}
		g_object_unref(d);
		break;
	case USBDEVFS_SETINTERFACE: {
		struct usbdevfs_setinterface *si;

		if (!(d = resolve(client, NULL, 0, sizeof(*si)))) {
			r = complete(client, -1, EFAULT);
			break;
		}
		si = (struct usbdevfs_setinterface *)d->data;
		if (si->interface != 0 || si->altsetting >= NALTS) {
			r = complete(client, -1, EINVAL);
		} else {
			M.alt = (int)si->altsetting;
			mlog("alt %d", M.alt);
			r = complete(client, 0, 0);
		}
		g_object_unref(d);
		break;
	}
	case USBDEVFS_SETCONFIGURATION:
	case USBDEVFS_RESET:
	case USBDEVFS_CLEAR_HALT:
	case USBDEVFS_RESETEP:
		r = complete(client, 0, 0);
		break;
	case USBDEVFS_GETDRIVER:
	case USBDEVFS_IOCTL:
		r = complete(client, -1, ENODATA); /* no kernel driver bound */
		break;
	case USBDEVFS_SUBMITURB:
		r = submit_urb(client);
		break;
	case USBDEVFS_REAPURB:
	case USBDEVFS_REAPURBNDELAY:
		r = reap_urb(client);
		break;
	case USBDEVFS_DISCARDURB:
		r = complete(client, -1, EINVAL); /* every URB completes at once: nothing to discard */
		break;
	default:
		r = complete(client, -1, ENOTTY);
		break;
	}
out:
	g_mutex_unlock(&M.lock);
	return r;
}

/* ---- the testbed ------------------------------------------------------------------------------------- */

struct record {
	char *syspath; /* of the usb_device */
	char *devnode; /* /dev/bus/usb/BBB/DDD */
	char **paths;  /* every device of the record */
	int npaths;
};

static void read_record(const char *file, struct record *r)
{
	FILE *f = fopen(file, "r");
	char buf[4096], *cur = NULL;

	memset(r, 0, sizeof(*r));
	if (!f) {
		fprintf(stderr, "dfuse-model: %s: %s\n", file, strerror(errno));
		exit(99);
	}
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (strncmp(buf, "P: ", 3) == 0) {
			cur = g_strdup_printf("/sys%s", buf + 3);
			r->paths = g_realloc(r->paths, (size_t)(r->npaths + 1) * sizeof(char *));
			r->paths[r->npaths++] = cur;
		} else if (strncmp(buf, "N: bus/usb/", 11) == 0 && cur && !r->devnode) {
			r->devnode = g_strdup_printf("/dev/%s", buf + 3);
			r->syspath = cur;
		} else if (strncmp(buf, "A: ", 3) == 0 && cur && cur == r->syspath) {
			char *eq = strchr(buf + 3, '=');

			if (!eq)
				continue;
			*eq++ = '\0';
			if (strcmp(buf + 3, "idVendor") == 0)
				M.vid = (unsigned)strtoul(eq, NULL, 16);
			else if (strcmp(buf + 3, "idProduct") == 0)
				M.pid = (unsigned)strtoul(eq, NULL, 16);
			else if (strcmp(buf + 3, "manufacturer") == 0)
				g_strlcpy(M.manufacturer, eq, sizeof(M.manufacturer));
			else if (strcmp(buf + 3, "product") == 0)
				g_strlcpy(M.product, eq, sizeof(M.product));
			else if (strcmp(buf + 3, "serial") == 0)
				g_strlcpy(M.serial, eq, sizeof(M.serial));
		}
	}
	fclose(f);
}

static void add_record(UMockdevTestbed *tb, const char *file, gboolean uevent)
{
	GError *err = NULL;
	struct record r;

	if (!umockdev_testbed_add_from_file(tb, file, &err)) {
		fprintf(stderr, "dfuse-model: %s: %s\n", file, err->message);
		exit(99);
	}
	if (!uevent)
		return;
	memset(&r, 0, sizeof(r));
	{
		FILE *f = fopen(file, "r");
		char buf[4096];

		while (f && fgets(buf, sizeof(buf), f))
			if (strncmp(buf, "P: ", 3) == 0) {
				char *p;

				buf[strcspn(buf, "\n")] = '\0';
				p = g_strdup_printf("/sys%s", buf + 3);
				umockdev_testbed_uevent(tb, p, "add");
				g_free(p);
			}
		if (f)
			fclose(f);
	}
}

/* The DFU device leaves the bus: its devices go, children first, with uevents; the node goes too. */
static void remove_dfu(UMockdevTestbed *tb, const struct record *r)
{
	char *root = umockdev_testbed_get_root_dir(tb), *node = g_strdup_printf("%s%s", root, r->devnode);

	unlink(node);
	g_free(node);
	g_free(root);
	for (int i = r->npaths - 1; i >= 0; i--) {
		umockdev_testbed_uevent(tb, r->paths[i], "remove");
		umockdev_testbed_remove_device(tb, r->paths[i]);
	}
}

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char b[3] = { s[2 * i], s[2 * i + 1], 0 }, *end;

		out[i] = (uint8_t)strtoul(b, &end, 16);
		if (*end)
			return -1;
	}
	return 0;
}

static void load_flash(const char *file)
{
	FILE *f;

	M.flash_size = 0;
	for (size_t s = 0; s < alts[0].nsec; s++)
		M.flash_size += alts[0].sec[s].count * alts[0].sec[s].kib * 1024u;
	M.flash = g_malloc(M.flash_size);
	memset(M.flash, 0xFF, M.flash_size);
	if (file && (f = fopen(file, "rb"))) {
		size_t n = fread(M.flash, 1, M.flash_size, f);

		(void)n;
		fclose(f);
	}
}

static void save_flash(const char *file)
{
	FILE *f;

	if (!file)
		return;
	f = fopen(file, "wb");
	if (!f || fwrite(M.flash, 1, M.flash_size, f) != M.flash_size || fclose(f) != 0) {
		fprintf(stderr, "dfuse-model: cannot write %s\n", file);
		exit(99);
	}
}

int main(int argc, char **argv)
{
	UMockdevTestbed *tb;
	UMockdevIoctlBase *handler;
	GError *err = NULL;
	struct record dfu = { 0 };
	const char *dfu_rec = NULL, *leave_to = NULL, *flash_file = NULL, *log_file = NULL;
	const char *uid = "3C002B000A47343432313031";
	const char *extra[16];
	int nextra = 0, timeout_s = 60, i, status = 0;
	gboolean handled_leave = FALSE, handled_gone = FALSE;
	time_t start;
	pid_t pid;

	if (!umockdev_in_mock_environment()) {
		fprintf(stderr, "dfuse-model: run me under umockdev-wrapper\n");
		return 99;
	}
	g_mutex_init(&M.lock);
	g_queue_init(&M.done);
	M.poll_ms = 2;
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--busy") == 0) {
			M.busy = TRUE;
		} else if (strcmp(a, "--start-error") == 0) {
			M.start_error = TRUE;
		} else if (!v) {
			fprintf(stderr, "dfuse-model: bad argument %s\n", a);
			return 99;
		} else if (strcmp(a, "--device") == 0) {
			dfu_rec = v, i++;
		} else if (strcmp(a, "-d") == 0 && nextra < 16) {
			extra[nextra++] = v, i++;
		} else if (strcmp(a, "--uid") == 0) {
			uid = v, i++;
		} else if (strcmp(a, "--flash") == 0) {
			flash_file = v, i++;
		} else if (strcmp(a, "--log") == 0) {
			log_file = v, i++;
		} else if (strcmp(a, "--leave-to") == 0) {
			leave_to = v, i++;
		} else if (strcmp(a, "--gone-after") == 0) {
			M.gone_after = atol(v), i++;
		} else if (strcmp(a, "--fail-block") == 0) {
			M.fail_block = atol(v), i++;
		} else if (strcmp(a, "--poll-ms") == 0) {
			M.poll_ms = (unsigned)atoi(v), i++;
		} else if (strcmp(a, "--timeout") == 0) {
			timeout_s = atoi(v), i++;
		} else {
			fprintf(stderr, "dfuse-model: bad argument %s\n", a);
			return 99;
		}
	}
	if (!dfu_rec || i + 1 >= argc) {
		fprintf(stderr, "dfuse-model: --device and a command are needed\n");
		return 99;
	}
	if (log_file && !(M.log = fopen(log_file, "a"))) {
		fprintf(stderr, "dfuse-model: %s: %s\n", log_file, strerror(errno));
		return 99;
	}
	read_record(dfu_rec, &dfu);
	if (!dfu.devnode || !M.vid) {
		fprintf(stderr, "dfuse-model: %s has no usb_device with a bus/usb node and idVendor\n", dfu_rec);
		return 99;
	}
	load_flash(flash_file);
	memset(M.dct, 0xFF, sizeof(M.dct));
	memset(M.sys, 0xFF, sizeof(M.sys));
	if (parse_hex(uid, M.sys + (UID_ADDR - SYS_BASE), 12) < 0) {
		fprintf(stderr, "dfuse-model: --uid wants 24 hex digits\n");
		return 99;
	}
	put16(M.sys + (FLASHSIZE_ADDR - SYS_BASE), M.flash_size / 1024);
	M.state = M.start_error ? dfuERROR : dfuIDLE;
	M.status = M.start_error ? errUNKNOWN : OK;
	build_descriptors();

	tb = umockdev_testbed_new();
	for (int k = 0; k < nextra; k++)
		add_record(tb, extra[k], FALSE);
	add_record(tb, dfu_rec, FALSE);
	{
		uint8_t desc[sizeof(M.devdesc) + sizeof(M.config)];

		memcpy(desc, M.devdesc, sizeof(M.devdesc));
		memcpy(desc + sizeof(M.devdesc), M.config, sizeof(M.config));
		umockdev_testbed_set_attribute_binary(tb, dfu.syspath, "descriptors", desc, (int)sizeof(desc));
		umockdev_testbed_set_attribute(tb, dfu.syspath, "bConfigurationValue", "1");
		umockdev_testbed_set_attribute(tb, dfu.syspath, "bNumConfigurations", "1");
	}
	handler = umockdev_ioctl_base_new();
	clients = g_ptr_array_new_with_free_func(g_object_unref);
	g_signal_connect(handler, "handle-ioctl", G_CALLBACK(handle_ioctl), NULL);
	g_signal_connect(handler, "client-connected", G_CALLBACK(client_connected), NULL);
	if (!umockdev_testbed_attach_ioctl(tb, dfu.devnode, handler, &err)) {
		fprintf(stderr, "dfuse-model: cannot attach to %s: %s\n", dfu.devnode, err->message);
		return 99;
	}

	pid = fork();
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		fprintf(stderr, "dfuse-model: cannot run %s: %s\n", argv[i + 1], strerror(errno));
		_exit(127);
	}
	start = time(NULL);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (time(NULL) - start > timeout_s) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr, "dfuse-model: command timed out after %d s\n", timeout_s);
			status = 124 << 8;
			break;
		}
		/* The node answers ENODEV at once; the device leaves udev once no program holds the node open
		 * (umockdev removes the node's ioctl socket with it). */
		if (g_atomic_int_get(&M.gone) && !handled_gone && !any_client_connected()) {
			handled_gone = TRUE;
			remove_dfu(tb, &dfu);
		}
		if (g_atomic_int_get(&M.left) && !handled_leave && !any_client_connected()) {
			/* The application starts: the DFU identity goes, the normal one (if any) comes. */
			handled_leave = TRUE;
			g_mutex_lock(&M.lock);
			save_flash(flash_file);
			g_mutex_unlock(&M.lock);
			remove_dfu(tb, &dfu);
			if (leave_to)
				add_record(tb, leave_to, TRUE);
		}
		usleep(5000);
	}
	g_mutex_lock(&M.lock);
	save_flash(flash_file);
	g_mutex_unlock(&M.lock);
	if (M.log)
		fclose(M.log);
	umockdev_testbed_detach_ioctl(tb, dfu.devnode, NULL);
	g_object_unref(handler);
	g_object_unref(tb);
	/* Everything freed, for the leak checkers of sanitizer builds. */
	g_queue_clear_full(&M.done, g_object_unref);
	g_ptr_array_unref(clients);
	for (int k = 0; k < dfu.npaths; k++)
		g_free(dfu.paths[k]);
	g_free(dfu.paths);
	g_free(dfu.devnode);
	g_free(M.flash);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
