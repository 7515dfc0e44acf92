/* dfuse.c: DfuSe over libusb-1.0: find and claim a board's DFU interface, the DFU requests, the DfuSe
 * commands (set address pointer, erase), upload and download, leaving DFU mode. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libusb.h>

#include "dfuse.h"
/* libztc's static inline helpers (ztc_now_ms): they add no symbol to libztc, so a plugin may share them. */
#include "../../core/lib/inline.h"

/* DFU 1.1 requests, states and status codes; DfuSe commands (ST AN3156). */
enum { DFU_DNLOAD = 1, DFU_UPLOAD = 2, DFU_GETSTATUS = 3, DFU_CLRSTATUS = 4, DFU_ABORT = 6 };
enum { ST_APP_IDLE, ST_APP_DETACH, ST_IDLE, ST_DNLOAD_SYNC, ST_DNBUSY, ST_DNLOAD_IDLE, ST_MANIFEST_SYNC,
       ST_MANIFEST, ST_MANIFEST_WAIT_RESET, ST_UPLOAD_IDLE, ST_ERROR };
/* The status codes a device without a better one is given: errUNKNOWN, errSTALLEDPKT. */
#define STATUS_UNKNOWN 14
#define STATUS_STALLED 15
#define CMD_SET_ADDRESS 0x21
#define CMD_ERASE 0x41

#define CTRL_TIMEOUT_MS 5000
/* A device may ask for long waits (bwPollTimeout, 24 bits of milliseconds): one wait is capped, and so
 * is the time an operation may keep the device busy (a sector erase takes a few seconds at most). */
#define POLL_CAP_MS 5000
#define BUSY_LIMIT_MS 60000

static const char *const state_names[] = { "appIDLE", "appDETACH", "dfuIDLE", "dfuDNLOAD-SYNC", "dfuDNBUSY",
	"dfuDNLOAD-IDLE", "dfuMANIFEST-SYNC", "dfuMANIFEST", "dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE",
	"dfuERROR" };
static const char *const status_names[][2] = {
	{ "OK", "no error" },
	{ "errTARGET", "the address is not in a memory the bootloader can write or erase" },
	{ "errFILE", "the file is not for this device" },
	{ "errWRITE", "the memory cannot be written" },
	{ "errERASE", "the memory erase failed" },
	{ "errCHECK_ERASED", "the memory erase check failed" },
	{ "errPROG", "programming the memory failed" },
	{ "errVERIFY", "the programmed memory failed verification" },
	{ "errADDRESS", "the address is out of range" },
	{ "errNOTDONE", "the download ended before the image was complete" },
	{ "errFIRMWARE", "the firmware is corrupt" },
	{ "errVENDOR", "a vendor-specific error" },
	{ "errUSBR", "an unexpected USB reset" },
	{ "errPOR", "an unexpected power-on reset" },
	{ "errUNKNOWN", "an unknown error" },
	{ "errSTALLEDPKT", "the device stalled an unexpected request" },
};

struct dfuse {
	ztc_board *b;
	char label[96];
	char node[32]; /* /dev/bus/usb/BBB/DDD, for messages */
	libusb_context *ctx;
	libusb_device_handle *h;
	int intf, alt;
	uint16_t xfer;
	struct dfuse_layout layout;
	int claimed, left;
};

struct status {
	int status, state;
	unsigned poll_ms;
};

static const char *state_name(int s)
{
	return s >= 0 && s < (int)(sizeof(state_names) / sizeof(*state_names)) ? state_names[s] : "an unknown state";
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void set_label(dfuse *d, ztc_board *b)
{
	const char *alias = ztc_board_get_str(b, "alias"), *name = ztc_board_get_str(b, "name");

	snprintf(d->label, sizeof(d->label), "%s", alias ? alias : name ? name : "the board");
}

/* A libusb failure of a request, as one line naming the board and what was being done. */
static int usb_fail(dfuse *d, int lrc, const char *doing)
{
	switch (lrc) {
	case LIBUSB_ERROR_NO_DEVICE:
		return ztc_board_fail(d->b, ZTC_ERR_GONE,
				      "%s: the board left the USB bus while %s (unplugged or reset): "
				      "put it back in DFU mode and run the command again",
				      d->label, doing);
	case LIBUSB_ERROR_TIMEOUT:
		return ztc_board_fail(d->b, ZTC_ERR_TIMEOUT,
				      "%s: the DFU bootloader did not answer within %d ms while %s", d->label,
				      CTRL_TIMEOUT_MS, doing);
	case LIBUSB_ERROR_ACCESS:
		return ztc_board_fail(d->b, ZTC_ERR_IO,
				      "%s: no permission to use the USB device %s: install ztc's udev rules "
				      "(60-ztc.rules), then run 'udevadm trigger' (or replug the board)",
				      d->label, d->node);
	default:
		return ztc_board_fail(d->b, ZTC_ERR_IO, "%s: USB error while %s: %s", d->label, doing,
				      libusb_strerror(lrc));
	}
}

static int get_status(dfuse *d, struct status *st)
{
	unsigned char buf[6];
	int r = libusb_control_transfer(d->h,
					LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
					DFU_GETSTATUS, 0, (uint16_t)d->intf, buf, sizeof(buf), CTRL_TIMEOUT_MS);

	if (r < 0)
		return r;
	if (r < 6)
		return LIBUSB_ERROR_IO;
	st->status = buf[0];
	st->poll_ms = (unsigned)buf[1] | (unsigned)buf[2] << 8 | (unsigned)buf[3] << 16;
	st->state = buf[4];
	return 0;
}

static int out_request(dfuse *d, uint8_t req, uint16_t value, unsigned char *data, uint16_t len)
{
	int r = libusb_control_transfer(d->h,
					LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
					req, value, (uint16_t)d->intf, data, len, CTRL_TIMEOUT_MS);

	return r < 0 ? r : 0;
}

/* The bootloader reported an error status (or stalled): one line with its status and state. */
static int dfu_fail(dfuse *d, const struct status *st, const char *doing)
{
	int s = st->status;

	if (s < 0 || s >= (int)(sizeof(status_names) / sizeof(*status_names)))
		s = STATUS_UNKNOWN;
	return ztc_board_fail(d->b, ZTC_ERR_IO,
			      "%s: the DFU bootloader reports %s (%s) in state %s while %s: the board "
			      "stays in DFU mode, run the command again",
			      d->label, status_names[s][0], status_names[s][1], state_name(st->state), doing);
}

/* A request failed: a stall is the device refusing it, and its status says why. */
static int request_fail(dfuse *d, int lrc, const char *doing)
{
	struct status st;

	if (lrc == LIBUSB_ERROR_PIPE && get_status(d, &st) == 0) {
		if (st.status == 0)
			st.status = STATUS_STALLED;
		return dfu_fail(d, &st, doing);
	}
	return usb_fail(d, lrc, doing);
}

/* After a DNLOAD: GETSTATUS (waiting as the device asks) until it leaves its busy states; then it must be
 * in state want with status OK. */
static int wait_done(dfuse *d, int want, const char *doing)
{
	long long deadline = ztc_now_ms() + BUSY_LIMIT_MS;
	struct status st;
	int r;

	for (;;) {
		if ((r = get_status(d, &st)) < 0)
			return request_fail(d, r, doing);
		if (st.status != 0 || st.state == ST_ERROR)
			return dfu_fail(d, &st, doing);
		if (st.state != ST_DNBUSY && st.state != ST_DNLOAD_SYNC)
			break;
		if (ztc_now_ms() > deadline)
			return ztc_board_fail(d->b, ZTC_ERR_TIMEOUT,
					      "%s: the DFU bootloader stayed busy for %d s while %s", d->label,
					      BUSY_LIMIT_MS / 1000, doing);
		sleep_ms(st.poll_ms < POLL_CAP_MS ? st.poll_ms : POLL_CAP_MS);
	}
	if (st.state != want)
		return ztc_board_fail(d->b, ZTC_ERR_IO, "%s: the DFU bootloader is in state %s instead of %s after %s",
				      d->label, state_name(st.state), state_name(want), doing);
	return ZTC_OK;
}

static int abort_to_idle(dfuse *d, const char *doing)
{
	int r = out_request(d, DFU_ABORT, 0, NULL, 0);

	return r < 0 ? request_fail(d, r, doing) : ZTC_OK;
}

/* A DfuSe command: DNLOAD block 0 holding the command byte and a little-endian address. */
static int command(dfuse *d, uint8_t cmd, uint32_t addr, const char *doing)
{
	unsigned char buf[5] = { cmd, (unsigned char)addr, (unsigned char)(addr >> 8), (unsigned char)(addr >> 16),
				 (unsigned char)(addr >> 24) };
	int r = out_request(d, DFU_DNLOAD, 0, buf, sizeof(buf));

	if (r < 0)
		return request_fail(d, r, doing);
	return wait_done(d, ST_DNLOAD_IDLE, doing);
}

const struct dfuse_layout *dfuse_get_layout(const dfuse *d)
{
	return &d->layout;
}

/* ---- finding the board ------------------------------------------------------------------------------ */

/* The serial number as udev turns it into ID_SERIAL_SHORT and discovery upper-cases it ("sid"). */
static void udev_serial(const char *in, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; in[i] && i + 1 < outlen; i++) {
		char c = in[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || strchr("#+-.:=@_", c)))
			c = '_';
		out[i] = c;
	}
	out[i] = '\0';
}

static int hex4(const char *s, uint16_t *ret)
{
	char *end;
	unsigned long v;

	if (!s || strlen(s) != 4)
		return -1;
	v = strtoul(s, &end, 16);
	if (*end)
		return -1;
	*ret = (uint16_t)v;
	return 0;
}

/* The DFU interface of config that has alt setting alt: its number, the alt's string index and the
 * functional descriptor (found in the extra bytes of the interface's alt settings). */
static int find_dfu_interface(const struct libusb_config_descriptor *cfg, int alt, int *ret_intf, uint8_t *ret_istr,
			      uint16_t *ret_xfer, uint16_t *ret_version)
{
	for (int i = 0; i < cfg->bNumInterfaces; i++) {
		const struct libusb_interface *itf = &cfg->interface[i];
		const struct libusb_interface_descriptor *a = NULL;
		int have_func = 0;

		for (int k = 0; k < itf->num_altsetting; k++) {
			const struct libusb_interface_descriptor *x = &itf->altsetting[k];

			if (x->bInterfaceClass != 0xFE || x->bInterfaceSubClass != 0x01)
				continue;
			if (x->bAlternateSetting == alt)
				a = x;
			for (int off = 0; off + 2 <= x->extra_length && !have_func;) {
				const unsigned char *e = x->extra + off;

				if (e[0] < 2 || off + e[0] > x->extra_length)
					break;
				if (e[1] == 0x21 && e[0] >= 7) {
					*ret_xfer = (uint16_t)(e[5] | e[6] << 8);
					*ret_version = e[0] >= 9 ? (uint16_t)(e[7] | e[8] << 8) : 0x0100;
					have_func = 1;
				}
				off += e[0];
			}
		}
		if (a) {
			*ret_intf = a->bInterfaceNumber;
			*ret_istr = a->iInterface;
			return have_func ? 1 : -1;
		}
	}
	return 0;
}

static int open_device(dfuse *d, int alt, uint8_t *ret_istr, uint16_t *ret_version)
{
	const char *vid_s = ztc_board_get_str(d->b, "vid"), *pid_s = ztc_board_get_str(d->b, "pid");
	const char *sid = ztc_board_get_str(d->b, "sid");
	libusb_device **list = NULL;
	uint16_t vid, pid;
	ssize_t n;
	int found = 0, denied = 0, nofunc = 0, noalt = 0, r;
	char denied_node[32] = "";

	if (hex4(vid_s, &vid) < 0 || hex4(pid_s, &pid) < 0)
		return ztc_board_fail(d->b, ZTC_ERR_ARG, "%s: the discovered record has no USB vendor and product id",
				      d->label);
	if (sid && strcmp(sid, "no_sid") == 0)
		sid = NULL;
	n = libusb_get_device_list(d->ctx, &list);
	if (n < 0)
		return ztc_board_fail(d->b, ZTC_ERR_IO, "%s: cannot list the USB devices: %s", d->label,
				      libusb_strerror((int)n));
	for (ssize_t i = 0; i < n; i++) {
		struct libusb_device_descriptor dd;
		struct libusb_config_descriptor *cfg = NULL;
		libusb_device_handle *h = NULL;
		int intf = -1, fr;
		uint8_t istr = 0;
		uint16_t xfer = 0, version = 0;
		char node[32];

		if (libusb_get_device_descriptor(list[i], &dd) < 0 || dd.idVendor != vid || dd.idProduct != pid)
			continue;
		snprintf(node, sizeof(node), "/dev/bus/usb/%03u/%03u", libusb_get_bus_number(list[i]),
			 libusb_get_device_address(list[i]));
		if (libusb_get_active_config_descriptor(list[i], &cfg) < 0 &&
		    libusb_get_config_descriptor(list[i], 0, &cfg) < 0)
			continue;
		fr = find_dfu_interface(cfg, alt, &intf, &istr, &xfer, &version);
		libusb_free_config_descriptor(cfg);
		if (fr < 0)
			nofunc++;
		if (fr <= 0) {
			noalt += fr == 0;
			continue;
		}
		r = libusb_open(list[i], &h);
		if (r == LIBUSB_ERROR_ACCESS) {
			denied++;
			snprintf(denied_node, sizeof(denied_node), "%s", node);
			continue;
		}
		if (r < 0)
			continue;
		if (sid) {
			unsigned char s[128];
			char norm[128];

			r = dd.iSerialNumber ? libusb_get_string_descriptor_ascii(h, dd.iSerialNumber, s, sizeof(s))
					     : -1;
			udev_serial(r > 0 ? (const char *)s : "", norm, sizeof(norm));
			if (r <= 0 || strcmp(norm, sid) != 0) {
				libusb_close(h);
				continue;
			}
		}
		if (++found > 1) {
			libusb_close(h);
			continue;
		}
		d->h = h;
		d->intf = intf;
		d->xfer = xfer;
		*ret_istr = istr;
		*ret_version = version;
		snprintf(d->node, sizeof(d->node), "%s", node);
	}
	libusb_free_device_list(list, 1);
	if (found > 1)
		return ztc_board_fail(d->b, ZTC_ERR_AMBIGUOUS,
				      "%s: %d DFU devices %s:%s with serial number %s are connected: "
				      "keep only the one to use",
				      d->label, found, vid_s, pid_s, sid ? sid : "(none)");
	if (found == 1)
		return ZTC_OK;
	if (denied) {
		snprintf(d->node, sizeof(d->node), "%s", denied_node);
		return usb_fail(d, LIBUSB_ERROR_ACCESS, "opening it");
	}
	if (noalt)
		return ztc_board_fail(d->b, ZTC_ERR_UNSUPPORTED, "%s: the DFU interface of %s:%s has no alt setting %d "
				      "(dfu_alt of device.json)", d->label, vid_s, pid_s, alt);
	if (nofunc)
		return ztc_board_fail(d->b, ZTC_ERR_UNSUPPORTED,
				      "%s: %s:%s has no DFU functional descriptor: not a DFU "
				      "bootloader",
				      d->label, vid_s, pid_s);
	return ztc_board_fail(d->b, ZTC_ERR_GONE, "%s: no DFU device %s:%s%s%s is connected any more (unplugged, or "
			      "it left DFU mode): put the board in DFU mode and run the command again", d->label, vid_s,
			      pid_s, sid ? " with serial number " : "", sid ? sid : "");
}

int dfuse_open(ztc_board *b, int alt, dfuse **ret)
{
	dfuse *d = calloc(1, sizeof(*d));
	unsigned char str[256];
	char why[96];
	uint8_t istr = 0;
	uint16_t version = 0;
	struct status st;
	int r, rc;

	if (!d)
		return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
	d->b = b;
	d->alt = alt;
	set_label(d, b);
	if ((r = libusb_init(&d->ctx)) < 0) {
		rc = ztc_board_fail(b, ZTC_ERR_IO, "%s: cannot use USB (libusb): %s", d->label, libusb_strerror(r));
		free(d);
		return rc;
	}
	if ((rc = open_device(d, alt, &istr, &version)) < 0)
		goto fail;
	if (version != 0x011A) {
		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED,
				    "%s: the bootloader speaks DFU %x.%02x, not ST's DfuSe (1.1a)", d->label,
				    version >> 8, version & 0xFF);
		goto fail;
	}
	if (d->xfer < 8) {
		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s: the bootloader gives a transfer size of %u bytes",
				    d->label, d->xfer);
		goto fail;
	}
	r = libusb_claim_interface(d->h, d->intf);
	if (r == LIBUSB_ERROR_BUSY) {
		rc = ztc_board_fail(b, ZTC_ERR_BUSY,
				    "%s: the DFU interface of %s is busy: another program (dfu-util, another "
				    "ztc) holds it; close that program and run the command again",
				    d->label, d->node);
		goto fail;
	}
	if (r < 0) {
		rc = usb_fail(d, r, "claiming its DFU interface");
		goto fail;
	}
	d->claimed = 1;
	if ((r = libusb_set_interface_alt_setting(d->h, d->intf, alt)) < 0) {
		rc = usb_fail(d, r, "selecting its DFU alt setting");
		goto fail;
	}
	r = istr ? libusb_get_string_descriptor_ascii(d->h, istr, str, sizeof(str)) : LIBUSB_ERROR_NOT_FOUND;
	if (r < 0) {
		rc = r == LIBUSB_ERROR_NOT_FOUND || r == LIBUSB_ERROR_PIPE
			     ? ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s: DFU alt setting %d names no memory layout",
					      d->label, alt)
			     : usb_fail(d, r, "reading the memory layout of its alt setting");
		goto fail;
	}
	str[r < (int)sizeof(str) ? r : (int)sizeof(str) - 1] = '\0';
	if (dfuse_layout_parse((const char *)str, &d->layout, why, sizeof(why)) < 0) {
		rc = ztc_board_fail(b, ZTC_ERR_PARSE,
				    "%s: cannot read the memory layout \"%.80s\" of DFU alt setting %d: %s", d->label,
				    str, alt, why);
		goto fail;
	}
	ztc_board_log(b, ZTC_LOG_DBG, "%s: DfuSe device %s, alt %d \"%s\", transfer size %u", d->label, d->node, alt,
		      (const char *)str, d->xfer);
	/* A previous session may have left the device in an error or transfer state. */
	if ((r = get_status(d, &st)) < 0) {
		rc = usb_fail(d, r, "reading its DFU status");
		goto fail;
	}
	if (st.state == ST_APP_IDLE || st.state == ST_APP_DETACH) {
		rc = ztc_board_fail(b, ZTC_ERR_UNSUPPORTED,
				    "%s: the device is in DFU state %s: its DFU bootloader is not "
				    "running",
				    d->label, state_name(st.state));
		goto fail;
	}
	if (st.state == ST_ERROR) {
		ztc_board_log(b, ZTC_LOG_INFO, "%s: clearing the DFU error status %d left by a previous session",
			      d->label, st.status);
		if ((r = out_request(d, DFU_CLRSTATUS, 0, NULL, 0)) < 0 || (r = get_status(d, &st)) < 0) {
			rc = usb_fail(d, r, "clearing its DFU error status");
			goto fail;
		}
	}
	if (st.state != ST_IDLE) {
		if ((r = out_request(d, DFU_ABORT, 0, NULL, 0)) < 0 || (r = get_status(d, &st)) < 0) {
			rc = usb_fail(d, r, "returning it to dfuIDLE");
			goto fail;
		}
	}
	if (st.state != ST_IDLE) {
		rc = ztc_board_fail(b, ZTC_ERR_IO,
				    "%s: the DFU bootloader stays in state %s (status %d) and does not return "
				    "to dfuIDLE: reset the board into DFU mode",
				    d->label, state_name(st.state), st.status);
		goto fail;
	}
	*ret = d;
	return ZTC_OK;
fail:
	dfuse_close(d);
	return rc;
}

void dfuse_close(dfuse *d)
{
	struct status st;

	if (!d)
		return;
	if (d->h && d->claimed && !d->left && get_status(d, &st) == 0) {
		/* Leave the bootloader ready for the next session: out of dfuERROR, back to dfuIDLE. */
		if (st.state == ST_ERROR)
			out_request(d, DFU_CLRSTATUS, 0, NULL, 0);
		else if (st.state != ST_IDLE)
			out_request(d, DFU_ABORT, 0, NULL, 0);
	}
	if (d->h && d->claimed)
		libusb_release_interface(d->h, d->intf);
	if (d->h)
		libusb_close(d->h);
	if (d->ctx)
		libusb_exit(d->ctx);
	free(d);
}

/* ---- operations ------------------------------------------------------------------------------------- */

int dfuse_read(dfuse *d, uint32_t addr, uint8_t *buf, size_t len)
{
	char doing[64];
	uint16_t block = 2;
	int rc;

	snprintf(doing, sizeof(doing), "reading %zu bytes at 0x%08X", len, addr);
	if ((rc = command(d, CMD_SET_ADDRESS, addr, doing)) < 0 || (rc = abort_to_idle(d, doing)) < 0)
		return rc;
	for (size_t done = 0; done < len; block++) {
		uint16_t n = (uint16_t)(len - done < d->xfer ? len - done : d->xfer);
		int r = libusb_control_transfer(d->h, LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS |
						LIBUSB_RECIPIENT_INTERFACE, DFU_UPLOAD, block, (uint16_t)d->intf,
						buf + done, n, CTRL_TIMEOUT_MS);

		if (r < 0)
			return request_fail(d, r, doing);
		if (r != n)
			return ztc_board_fail(d->b, ZTC_ERR_IO,
					      "%s: the DFU bootloader returned %d of %u bytes while %s", d->label, r, n,
					      doing);
		done += n;
		if (block == UINT16_MAX)
			return ztc_board_fail(d->b, ZTC_ERR_ARG, "%s: %zu bytes are too many to read at once", d->label,
					      len);
	}
	return abort_to_idle(d, doing);
}

int dfuse_erase(dfuse *d, uint32_t addr)
{
	char doing[64];

	snprintf(doing, sizeof(doing), "erasing the sector at 0x%08X", addr);
	return command(d, CMD_ERASE, addr, doing);
}

int dfuse_write(dfuse *d, uint32_t addr, const uint8_t *data, size_t len, size_t done_before, size_t total)
{
	char doing[64];
	int rc, last = -1;
	uint16_t block = 2;

	snprintf(doing, sizeof(doing), "setting the address 0x%08X", addr);
	if ((rc = command(d, CMD_SET_ADDRESS, addr, doing)) < 0)
		return rc;
	/* DfuSe: data block n goes to the address pointer + (n - 2) * wTransferSize. */
	for (size_t done = 0; done < len; block++) {
		uint16_t n = (uint16_t)(len - done < d->xfer ? len - done : d->xfer);
		int r, pct;

		if (block == UINT16_MAX)
			return ztc_board_fail(d->b, ZTC_ERR_ARG, "%s: an image of %zu bytes is too long for DfuSe",
					      d->label, len);
		snprintf(doing, sizeof(doing), "writing %u bytes at 0x%08zX", n, addr + done);
		r = out_request(d, DFU_DNLOAD, block, (unsigned char *)(uintptr_t)(data + done), n);
		if (r < 0)
			return request_fail(d, r, doing);
		if ((rc = wait_done(d, ST_DNLOAD_IDLE, doing)) < 0)
			return rc;
		done += n;
		pct = total ? (int)((done_before + done) * 100 / total) : 100;
		if (pct != last)
			ztc_board_progress(d->b, pct, "flashing");
		last = pct;
	}
	return ZTC_OK;
}

int dfuse_leave(dfuse *d, uint32_t addr)
{
	char doing[64];
	struct status st;
	int rc, r;

	snprintf(doing, sizeof(doing), "leaving DFU mode (start at 0x%08X)", addr);
	if ((rc = abort_to_idle(d, doing)) < 0 || (rc = command(d, CMD_SET_ADDRESS, addr, doing)) < 0)
		return rc;
	/* The zero-length DNLOAD, then the GETSTATUS that starts manifestation: the device resets right after,
	 * so a request that fails for lack of a device is the expected end. */
	r = out_request(d, DFU_DNLOAD, 2, NULL, 0);
	if (r < 0)
		return request_fail(d, r, doing);
	d->left = 1;
	/* Only an answer that reports an error fails: a bootloader may reset before it answers at all
	 * (no device, a stall, an I/O error or a time-out), as dfu-util also accepts. */
	r = get_status(d, &st);
	if (r == 0 && (st.status != 0 || st.state == ST_ERROR))
		return dfu_fail(d, &st, doing);
	ztc_board_log(d->b, ZTC_LOG_INFO, "%s: left DFU mode (%s)", d->label,
		      r == 0 ? state_name(st.state) : libusb_strerror(r));
	return ZTC_OK;
}
