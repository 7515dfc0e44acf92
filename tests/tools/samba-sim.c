/* samba-sim.c: a simulated SAM-BA monitor (the SAM3X8E's ROM, the Arduino SAMD21 bootloader) on a serial port.
 *
 * samba-sim [--chip sam3x8e|samd21g18a|samd21j18a|samd21e18a] [--uid HEX32] [--chip-id HEX] [--link uart|usb]
 *           [--version TEXT] [--flash FILE] [--log FILE] [--silent] [--touch-erase] [--verbose]
 *           [--pty LINK]
 *
 * Without --pty the monitor talks on stdin/stdout, which are the master side of an emulated port
 * (fakeboard --serve). With --pty it creates a pseudo-terminal, makes LINK a symbolic link to its slave
 * side, prints the slave's path on stdout and serves until SIGTERM/SIGINT: a port for bossac.
 *
 * What is modelled, from Atmel's SAM3X/SAM3A and SAMD21 datasheets and the monitor's public source (the
 * Arduino SAMD bootloader's sam_ba_monitor.c; the SAM3X's ROM speaks the same command set):
 * - The monitor: hex digits accumulate a number, ',' makes it the address, any other character is the
 *   command and '#' runs it. N# (binary mode, answers "\n\r"), T# (terminal mode: answers in hex text,
 *   "\n\r" before and a ">" prompt after each command), V# (version line), w/h/o ADDR,4# (read a word,
 *   half-word, byte: little-endian binary, or "0x..." in terminal mode), W/H/O ADDR,VALUE# (write),
 *   R ADDR,LEN# and S ADDR,LEN# (read, write LEN bytes: raw bytes on USB, XMODEM-CRC 128-byte blocks on
 *   a UART, as the monitor's USB and UART drivers do) and G ADDR# (run an applet, see below). The SAMD21
 *   bootloader adds the Arduino extensions its version line announces ("[Arduino:XYZ]"): X ADDR# erases
 *   from ADDR to the end of the flash ("X\n\r"), Y ADDR,0# sets a buffer and Y DST,SIZE# writes SIZE
 *   bytes of it to the flash page by page ("Y\n\r"), Z ADDR,SIZE# answers the buffer's CRC16
 *   ("Z%08X#\n\r").
 * - The chips' buses: the monitor's commands and the applets read and write the same memory map. An
 *   address that no bus decodes is a bus fault: as on the chip, the monitor then hangs (answers nothing
 *   more); registers of a modelled peripheral window that are not modelled read 0 and ignore writes.
 *   SAM3X8E: boot memory at 0 (the ROM, or the flash once GPNVM1 is set), 512 KB flash at 0x00080000 in
 *   two planes of 1024 pages of 256 bytes (EEFC0 at 0x400E0A00, EEFC1 at 0x400E0C00: FMR, FCR, FSR,
 *   FRR; commands WP EWP EA SLB CLB GLB SGPB CGPB GGPB STUI SPUI; a write to the flash fills the plane's
 *   latch buffer, WP/EWP program it into the page FCR names; STUI makes FRDY fall and reads of the
 *   plane return the 128-bit unique identifier until SPUI raises it again), the ROM at 0x00100000,
 *   SRAM0 (64 KB at 0x20000000, mirrored at 0x20070000), SRAM1 (32 KB at 0x20080000), CHIPID_CIDR at
 *   0x400E0940, RSTC_CR at 0x400E1A00. SAMD21x18: 256 KB flash at 0 (64-byte pages, 256-byte rows; the
 *   8 KB bootloader under BOOTPROT), NVMCTRL at 0x41004000 (CTRLA commands ER WP EAR WAP LR UR SPRM CPRM
 *   PBC SSB INVALL, CTRLB.MANW, PARAM, INTFLAG, STATUS, ADDR, LOCK; writes to the flash fill the page
 *   buffer), the user row at 0x00804000, the serial-number words at 0x0080A00C, 0x0080A040, 0x0080A044,
 *   0x0080A048, DSU DID at 0x41002018, 32 KB SRAM at 0x20000000. Both: SCB CPUID at 0xE000ED00 and
 *   AIRCR at 0xE000ED0C (SYSRESETREQ resets).
 * - Applets (G): the chip would execute the code, so the simulator does: a small interpreter of the
 *   ARMv6-M Thumb instruction set (every 16-bit instruction, BL and the barriers) runs from the vector
 *   G names (stack pointer at ADDR, entry point at ADDR+4, as the monitor's call_applet does) until the
 *   code returns through the link register the monitor gave it. It knows nothing of any particular
 *   applet: bossac's WordCopy applet runs as any other code would, its loads and stores going through
 *   the bus above. An undefined instruction, a fault, or code that runs on for 20 million instructions
 *   hangs the monitor. On a UART, the Arduino bootloader acknowledges the end of an applet with 0x06.
 * - Resets: RSTC_CR (key 0xA5, PROCRST) or AIRCR SYSRESETREQ. A SAM3X with GPNVM1 set, or a SAMD21
 *   whose application area (0x2000) is not erased, then runs its firmware: the monitor answers
 *   nothing more. --touch-erase plays the Arduino Due's programming-port bridge: a 1200-baud touch
 *   (the port's speed seen at 1200) erases the flash and the GPNVM bits and restarts the chip, which
 *   then boots SAM-BA from ROM; until the first touch the chip runs its firmware (silent).
 * Not modelled: timing (every flash command completes at once), the SAM3X's GETD descriptor and its
 * write-protection registers, the SAMD21's security-bit effects and EEPROM emulation, the ROM's real
 * code (its vector table is a stand-in), and the SAM3X ROM's reported quirk of reading the flash back
 * as zeros through R.
 *
 * Options: --chip picks the memory map (default sam3x8e). --uid: the unique id / serial number as 32
 * hex digits, the four 32-bit words in address order. --chip-id: another CHIPID_CIDR (SAM3X) or DSU DID
 * (SAMD21), to play a wrong chip. --link: uart (default for the SAM3X: the Due's programming port goes
 * through a USB-serial bridge to the chip's UART) or usb (default for the SAMD21: native USB CDC).
 * --version: the V# line. --flash FILE: the flash's content is read from FILE when it exists and
 * written back (whole, through a temporary file and a rename) when the simulator ends, if it changed.
 * --log FILE: one line per command received (as sent, without the data of S) and per event (touch,
 * reset, fault), flushed as it happens. --silent: the chip never answers (a board not in its
 * bootloader). --verbose: the same lines on stderr. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ---- the chips ------------------------------------------------------------------------------------- */

enum family { SAM3X, SAMD21 };

struct chip {
	const char *name;
	enum family fam;
	uint32_t id;    /* CHIPID_CIDR (SAM3X) or DSU DID (SAMD21) */
	uint32_t cpuid; /* SCB CPUID: Cortex-M3 r2p0, Cortex-M0+ r0p1 */
	uint32_t flash_size;
	uint32_t sram_size;
	const char *version;
};

static const struct chip chips[] = {
	{ "sam3x8e", SAM3X, 0x285E0A60, 0x412FC230, 0x80000, 0x10000, "v1.1 Dec 15 2010 19:25:04" },
	/* DID: processor 1 (M0+), family 0, series 1 (D21), die 0, revision 3 (D), devsel. The version line is
	 * the Arduino bootloader's: "v" SAM_BA_VERSION, its extensions, its build date and time. */
	{ "samd21g18a", SAMD21, 0x10010305, 0x410CC601, 0x40000, 0x8000, "v2.0 [Arduino:XYZ] Apr 11 2019 13:09:49" },
	{ "samd21j18a", SAMD21, 0x10010300, 0x410CC601, 0x40000, 0x8000, "v2.0 [Arduino:XYZ] Apr 11 2019 13:09:49" },
	{ "samd21e18a", SAMD21, 0x1001030A, 0x410CC601, 0x40000, 0x8000, "v2.0 [Arduino:XYZ] Apr 11 2019 13:09:49" },
};

#define SAM3X_FLASH 0x00080000u
#define SAM3X_PLANE 0x40000u
#define SAM3X_PAGE 256u
#define SAM3X_ROM 0x00100000u
#define SAM3X_ROM_SIZE 0x4000u
#define SAM3X_SRAM1 0x20080000u
#define SAM3X_SRAM1_SIZE 0x8000u
#define SAM3X_EEFC0 0x400E0A00u
#define SAM3X_CIDR 0x400E0940u
#define SAM3X_RSTC 0x400E1A00u
#define D21_PAGE 64u
#define D21_ROW 256u
#define D21_NVM 0x41004000u
#define D21_DSU 0x41002000u
#define D21_USER_ROW 0x00804000u
#define D21_APP 0x2000u
#define SRAM 0x20000000u
#define SCB_CPUID 0xE000ED00u
#define SCB_AIRCR 0xE000ED0Cu

static const struct chip *chip;
static int link_usb;
static const char *version;

static uint8_t *flash, *sram, *sram1, rom[SAM3X_ROM_SIZE];
static uint8_t uid[16];
static int flash_dirty;

/* SAM3X flash controllers, one per plane. */
static struct eefc {
	uint32_t fmr, fsr;
	uint32_t frr[2];
	int nfrr, ifrr;
	int uid_mode;
	uint16_t locks; /* 16 lock regions of 64 pages */
	uint8_t latch[SAM3X_PAGE];
} eefc[2];
static uint32_t gpnvm;

/* SAMD21 NVMCTRL. */
static struct {
	uint32_t ctrlb, addr;
	uint8_t intenset, intflag;
	uint16_t status, lock;
	uint8_t pagebuf[D21_PAGE];
} nvm;
static uint8_t user_row[D21_ROW];

/* The monitor. */
static int terminal, hung, running_fw, silent, touch_erase;
static uint32_t number, address;
static int command;

/* ---- logging --------------------------------------------------------------------------------------- */

static FILE *logfile;
static int verbose;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	if (logfile) {
		va_start(ap, fmt);
		vfprintf(logfile, fmt, ap);
		va_end(ap);
		fputc('\n', logfile);
		fflush(logfile);
	}
	if (verbose) {
		fputs("samba-sim: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

/* Details (flash controller commands, applet runs): on stderr with --verbose only. */
static void debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	fputs("samba-sim: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A bus fault or a runaway applet: the chip's fault handler loops, the monitor answers nothing more. */
static int fault(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fault(const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	note("fault: %s: the monitor hangs", msg);
	hung = 1;
	return -1;
}

/* ---- the SAMD21's NVM controller --------------------------------------------------------------------- */

static uint32_t d21_bootprot_size(void)
{
	uint32_t bp = user_row[0] & 7;

	return bp == 7 ? 0 : 256u << (7 - bp);
}

static int d21_locked(uint32_t a)
{
	uint32_t region = a / (chip->flash_size / 16);

	return a < d21_bootprot_size() || !(nvm.lock & (1u << region));
}

static void d21_error(uint16_t status_bit)
{
	nvm.status |= status_bit;
	nvm.intflag |= 2;
}

static void d21_write_page(uint8_t *dst)
{
	for (unsigned i = 0; i < D21_PAGE; i++)
		dst[i] &= nvm.pagebuf[i]; /* programming only clears bits: a page must be erased first */
	memset(nvm.pagebuf, 0xFF, sizeof(nvm.pagebuf));
	nvm.status &= (uint16_t)~2; /* LOAD */
}

static void d21_command(uint32_t v)
{
	uint32_t cmd = v & 0x7F, a = nvm.addr * 2;

	if (((v >> 8) & 0xFF) != 0xA5) {
		d21_error(4); /* PROGE */
		return;
	}
	debug("nvmctrl command 0x%02X at 0x%08X", cmd, a);
	switch (cmd) {
	case 0x02: /* ER: erase the row */
		if (a >= chip->flash_size)
			d21_error(4);
		else if (d21_locked(a))
			d21_error(8); /* LOCKE */
		else {
			memset(flash + (a & ~(D21_ROW - 1)), 0xFF, D21_ROW);
			flash_dirty = 1;
		}
		break;
	case 0x04: /* WP: write the page buffer to the page */
		if (a >= chip->flash_size)
			d21_error(4);
		else if (d21_locked(a))
			d21_error(8);
		else {
			d21_write_page(flash + (a & ~(D21_PAGE - 1)));
			flash_dirty = 1;
		}
		break;
	case 0x05: /* EAR: erase the auxiliary (user) row */
		if (a - D21_USER_ROW < D21_ROW)
			memset(user_row, 0xFF, sizeof(user_row));
		else
			d21_error(4);
		break;
	case 0x06: /* WAP */
		if (a - D21_USER_ROW < D21_ROW)
			d21_write_page(user_row + ((a - D21_USER_ROW) & ~(D21_PAGE - 1)));
		else
			d21_error(4);
		break;
	case 0x40: /* LR, UR: lock, unlock the region holding ADDR */
	case 0x41:
		if (a >= chip->flash_size) {
			d21_error(4);
			break;
		}
		if (cmd == 0x40)
			nvm.lock &= (uint16_t)~(1u << (a / (chip->flash_size / 16)));
		else
			nvm.lock |= (uint16_t)(1u << (a / (chip->flash_size / 16)));
		break;
	case 0x42: /* SPRM, CPRM */
		nvm.status |= 1;
		break;
	case 0x43:
		nvm.status &= (uint16_t)~1;
		break;
	case 0x44: /* PBC: clear the page buffer */
		memset(nvm.pagebuf, 0xFF, sizeof(nvm.pagebuf));
		nvm.status &= (uint16_t)~2;
		break;
	case 0x45: /* SSB */
		nvm.status |= 0x100;
		break;
	case 0x46: /* INVALL: no cache here */
		break;
	default:
		d21_error(4);
	}
}

/* A write into the flash (or the user row) goes to the page buffer; ADDR follows it. With automatic page
 * write (CTRLB.MANW clear), writing the page's last bytes writes the page. */
static void d21_pagebuf_write(uint32_t a, unsigned size, uint32_t v)
{
	if (size == 1)
		return; /* the page buffer takes 16- and 32-bit writes only */
	for (unsigned i = 0; i < size; i++)
		nvm.pagebuf[(a + i) % D21_PAGE] = (uint8_t)(v >> (8 * i));
	nvm.status |= 2;
	nvm.addr = a / 2;
	if (!(nvm.ctrlb & 0x80) && (a % D21_PAGE) + size == D21_PAGE)
		d21_command(0xA500u | (a >= D21_USER_ROW ? 0x06 : 0x04));
}

static uint32_t d21_reg_read(uint32_t a)
{
	if (a == D21_DSU + 0x18)
		return chip->id;
	switch (a - D21_NVM) {
	case 0x00: return 0;
	case 0x04: return nvm.ctrlb;
	case 0x08: return (3u << 16) | (chip->flash_size / D21_PAGE); /* PSZ 64 bytes, NVMP pages */
	case 0x0C:
	case 0x10: return nvm.intenset;
	case 0x14: return nvm.intflag | 1u; /* READY: every command completes at once */
	case 0x18: return nvm.status;
	case 0x1C: return nvm.addr;
	case 0x20: return nvm.lock;
	}
	return 0;
}

static void d21_reg_write(uint32_t a, uint32_t v, uint32_t mask)
{
	switch (a - D21_NVM) {
	case 0x00:
		if (mask & 0xFFFF)
			d21_command(v & 0xFFFF);
		break;
	case 0x04: nvm.ctrlb = (nvm.ctrlb & ~mask) | (v & mask); break;
	case 0x0C: nvm.intenset &= (uint8_t)~(v & mask); break;
	case 0x10: nvm.intenset |= (uint8_t)(v & mask); break;
	case 0x14: nvm.intflag &= (uint8_t)~(v & mask & 2); break;
	case 0x18: nvm.status &= (uint16_t)~(v & mask & 0x1C); break;
	case 0x1C: nvm.addr = (nvm.addr & ~mask) | (v & mask & 0x3FFFFF); break;
	}
}

/* ---- the SAM3X's flash controllers ---------------------------------------------------------------------- */

static void eefc_command(int n, uint32_t v)
{
	struct eefc *e = &eefc[n];
	uint32_t cmd = v & 0xFF, arg = (v >> 8) & 0xFFFF;
	uint8_t *plane = flash + n * SAM3X_PLANE;

	debug("eefc%d command 0x%02X arg %u", n, cmd, arg);
	if ((v >> 24) != 0x5A || (e->uid_mode && cmd != 0x0F)) {
		e->fsr |= 2; /* FCMDE: wrong key, or a command while the unique id is shown */
		return;
	}
	e->nfrr = e->ifrr = 0;
	switch (cmd) {
	case 0x01: /* WP, EWP (WPL, EWPL: the same, then lock) */
	case 0x02:
	case 0x03:
	case 0x04:
		if (arg >= SAM3X_PLANE / SAM3X_PAGE) {
			e->fsr |= 2;
			break;
		}
		if (e->locks & (1u << (arg / 64))) {
			e->fsr |= 4; /* FLOCKE */
			break;
		}
		for (unsigned i = 0; i < SAM3X_PAGE; i++) {
			uint8_t *p = plane + arg * SAM3X_PAGE + i;

			*p = (cmd == 0x03 || cmd == 0x04) ? e->latch[i] : (uint8_t)(*p & e->latch[i]);
		}
		memset(e->latch, 0xFF, sizeof(e->latch));
		if (cmd == 0x02 || cmd == 0x04)
			e->locks |= (uint16_t)(1u << (arg / 64));
		flash_dirty = 1;
		break;
	case 0x05: /* EA */
		if (e->locks) {
			e->fsr |= 4;
			break;
		}
		memset(plane, 0xFF, SAM3X_PLANE);
		flash_dirty = 1;
		break;
	case 0x08: /* SLB, CLB, GLB */
	case 0x09:
		if (arg >= SAM3X_PLANE / SAM3X_PAGE) {
			e->fsr |= 2;
			break;
		}
		if (cmd == 0x08)
			e->locks |= (uint16_t)(1u << (arg / 64));
		else
			e->locks &= (uint16_t)~(1u << (arg / 64));
		break;
	case 0x0A:
		e->frr[0] = e->locks;
		e->nfrr = 1;
		break;
	case 0x0B: /* SGPB, CGPB, GGPB: GPNVM0 security, 1 boot from flash, 2 flash plane (EEFC0 only) */
	case 0x0C:
		if (n != 0 || arg > 2) {
			e->fsr |= 2;
			break;
		}
		if (cmd == 0x0B)
			gpnvm |= 1u << arg;
		else if (arg != 0) /* the security bit is cleared only by an erase of the whole chip */
			gpnvm &= ~(1u << arg);
		break;
	case 0x0D:
		if (n != 0) {
			e->fsr |= 2;
			break;
		}
		e->frr[0] = gpnvm;
		e->nfrr = 1;
		break;
	case 0x0E: /* STUI: FRDY falls, the plane shows the unique identifier */
		e->uid_mode = 1;
		e->fsr &= ~1u;
		break;
	case 0x0F: /* SPUI */
		e->uid_mode = 0;
		e->fsr |= 1;
		break;
	default:
		e->fsr |= 2;
	}
}

static uint32_t sam3x_reg_read(uint32_t a)
{
	int n = (a - SAM3X_EEFC0) / 0x200;

	if (a == SAM3X_CIDR)
		return chip->id;
	if (a >= SAM3X_EEFC0 && a < SAM3X_EEFC0 + 0x400 && (a & 0x1FF) < 0x10) {
		struct eefc *e = &eefc[n];
		uint32_t v;

		switch (a & 0x1FF) {
		case 0x0: return e->fmr;
		case 0x8: /* FCMDE and FLOCKE are cleared when read */
			v = e->fsr;
			e->fsr &= ~6u;
			return v;
		case 0xC:
			return e->ifrr < e->nfrr ? e->frr[e->ifrr++] : 0;
		}
	}
	return 0;
}

static void chip_reset(const char *why);

static void sam3x_reg_write(uint32_t a, uint32_t v, uint32_t mask)
{
	int n = (a - SAM3X_EEFC0) / 0x200;

	if (a >= SAM3X_EEFC0 && a < SAM3X_EEFC0 + 0x400 && (a & 0x1FF) < 0x10) {
		if ((a & 0x1FF) == 0x0)
			eefc[n].fmr = (eefc[n].fmr & ~mask) | (v & mask);
		else if ((a & 0x1FF) == 0x4 && mask == 0xFFFFFFFF)
			eefc_command(n, v);
		return;
	}
	if (a == SAM3X_RSTC && mask == 0xFFFFFFFF && (v >> 24) == 0xA5 && (v & 1))
		chip_reset("RSTC_CR PROCRST");
}

/* ---- the bus ------------------------------------------------------------------------------------------------- */

static uint32_t get_le(const uint8_t *p, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static void put_le(uint8_t *p, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int in(uint32_t a, unsigned size, uint32_t base, uint32_t len)
{
	return a >= base && a - base < len && a - base + size <= len;
}

/* Registers are 32 bits wide: a narrower access reads or writes its lanes of the word. */
static int reg_access(uint32_t a, unsigned size, uint32_t *v, int write)
{
	uint32_t word = a & ~3u, shift = 8 * (a & 3);
	uint32_t mask = (size == 4 ? 0xFFFFFFFFu : ((1u << (8 * size)) - 1)) << shift;

	if ((a & (size - 1)) != 0)
		return fault("unaligned %u-byte access to register 0x%08X", size, a);
	if (write) {
		if (word == SCB_AIRCR) {
			if (mask == 0xFFFFFFFF && (*v >> 16) == 0x05FA && (*v & 4))
				chip_reset("AIRCR SYSRESETREQ");
		} else if (chip->fam == SAM3X) {
			sam3x_reg_write(word, *v << shift, mask);
		} else {
			d21_reg_write(word, *v << shift, mask);
		}
		return 0;
	}
	if (word == SCB_CPUID)
		*v = chip->cpuid;
	else if (word == SCB_AIRCR)
		*v = 0xFA050000;
	else
		*v = chip->fam == SAM3X ? sam3x_reg_read(word) : d21_reg_read(word);
	*v = (*v & mask) >> shift;
	return 0;
}

static int bus(uint32_t a, unsigned size, uint32_t *v, int write)
{
	if (chip->fam == SAM3X) {
		uint32_t boot = gpnvm & 2 ? SAM3X_FLASH : SAM3X_ROM;

		if (a < SAM3X_FLASH && !write) { /* the boot memory: the ROM, or the flash once GPNVM1 is set */
			if (boot == SAM3X_ROM && a >= SAM3X_ROM_SIZE) {
				*v = 0;
				return 0;
			}
			return bus(boot + a, size, v, write);
		}
		if (in(a, size, SAM3X_FLASH, chip->flash_size)) {
			uint32_t off = a - SAM3X_FLASH;
			struct eefc *e = &eefc[off / SAM3X_PLANE];

			if (write) {
				for (unsigned i = 0; i < size; i++) /* the latch wraps within the page */
					e->latch[(off + i) % SAM3X_PAGE] = (uint8_t)(*v >> (8 * i));
			} else if (e->uid_mode) {
				*v = 0;
				for (unsigned i = 0; i < size; i++)
					*v |= (uint32_t)uid[(off + i) % 16] << (8 * i);
			} else {
				*v = get_le(flash + off, size);
			}
			return 0;
		}
		if (in(a, size, SAM3X_ROM, SAM3X_ROM_SIZE)) {
			if (!write)
				*v = get_le(rom + a - SAM3X_ROM, size);
			return 0;
		}
		if (in(a, size, SRAM, chip->sram_size) || in(a, size, 0x20070000, chip->sram_size)) {
			uint8_t *p = sram + ((a - SRAM) & (chip->sram_size - 1));

			if (write)
				put_le(p, size, *v);
			else
				*v = get_le(p, size);
			return 0;
		}
		if (in(a, size, SAM3X_SRAM1, SAM3X_SRAM1_SIZE)) {
			if (write)
				put_le(sram1 + a - SAM3X_SRAM1, size, *v);
			else
				*v = get_le(sram1 + a - SAM3X_SRAM1, size);
			return 0;
		}
		if (in(a, size, 0x40000000, 0xE2600) || in(a, size, 0xE000E000, 0x1000))
			return reg_access(a, size, v, write);
		return fault("%s of %u bytes at 0x%08X: no memory or peripheral there", write ? "write" : "read", size,
			     a);
	}
	/* SAMD21: a Cortex-M0+ faults on an unaligned access. */
	if ((a & (size - 1)) != 0)
		return fault("unaligned %u-byte access at 0x%08X", size, a);
	if (in(a, size, 0, chip->flash_size)) {
		if (write)
			d21_pagebuf_write(a, size, *v);
		else
			*v = get_le(flash + a, size);
		return 0;
	}
	if (in(a, size, D21_USER_ROW, D21_ROW)) {
		if (write)
			d21_pagebuf_write(a, size, *v);
		else
			*v = get_le(user_row + a - D21_USER_ROW, size);
		return 0;
	}
	if (in(a, size, 0x00800000, 0x10000)) { /* calibration and serial-number words: read-only */
		if (!write) {
			*v = 0;
			for (unsigned i = 0; i < size; i++) {
				uint32_t b = a + i;
				uint8_t byte = 0xFF;

				if (b - 0x0080A00C < 4)
					byte = uid[b - 0x0080A00C];
				else if (b - 0x0080A040 < 12)
					byte = uid[4 + b - 0x0080A040];
				*v |= (uint32_t)byte << (8 * i);
			}
		}
		return 0;
	}
	if (in(a, size, SRAM, chip->sram_size)) {
		if (write)
			put_le(sram + a - SRAM, size, *v);
		else
			*v = get_le(sram + a - SRAM, size);
		return 0;
	}
	if (in(a, size, 0x40000000, 0x1C00) || in(a, size, 0x41000000, 0x7000) || in(a, size, 0x42000000, 0x6000) ||
	    in(a, size, 0xE000E000, 0x1000))
		return reg_access(a, size, v, write);
	return fault("%s of %u bytes at 0x%08X: no memory or peripheral there", write ? "write" : "read", size, a);
}

static int bus_read(uint32_t a, unsigned size, uint32_t *v)
{
	return bus(a, size, v, 0);
}

static int bus_write(uint32_t a, unsigned size, uint32_t v)
{
	return bus(a, size, &v, 1);
}

/* ---- resets and the 1200-baud touch ---------------------------------------------------------------------- */

static void monitor_restart(void)
{
	terminal = 0;
	number = address = 0;
	command = 'z';
	for (int n = 0; n < 2; n++) {
		eefc[n].uid_mode = 0;
		eefc[n].fsr = 1;
		eefc[n].nfrr = eefc[n].ifrr = 0;
		memset(eefc[n].latch, 0xFF, sizeof(eefc[n].latch));
	}
	memset(nvm.pagebuf, 0xFF, sizeof(nvm.pagebuf));
	nvm.status = 0;
	nvm.intflag = 0;
	nvm.lock = (uint16_t)get_le(user_row + 6, 2);
}

static void chip_reset(const char *why)
{
	int app;

	if (chip->fam == SAM3X)
		app = (gpnvm & 2) != 0;
	else
		app = get_le(flash + D21_APP, 4) != 0xFFFFFFFF;
	note("reset (%s): %s", why, app ? "the chip runs its firmware, the monitor is gone" : "back in SAM-BA");
	running_fw = app;
	hung = 0;
	monitor_restart();
}

static void touch(void)
{
	note("1200-baud touch: the flash and the GPNVM bits are erased, the chip restarts in SAM-BA");
	memset(flash, 0xFF, chip->flash_size);
	flash_dirty = 1;
	gpnvm = 0;
	eefc[0].locks = eefc[1].locks = 0;
	chip_reset("touch");
}

/* ---- the port ------------------------------------------------------------------------------------------------- */

static int in_fd = 0, out_fd = 1;
static volatile sig_atomic_t quit;
static uint8_t ibuf[4096];
static size_t ilen, ipos;
static int at1200;

static void on_signal(int sig)
{
	quit = 1;
}

/* The master side of a pty sees the slave's settings: a speed of 1200 is the touch. */
static void check_touch(void)
{
	struct termios t;
	int now;

	if (!touch_erase || tcgetattr(in_fd, &t) < 0)
		return;
	now = cfgetospeed(&t) == B1200;
	if (now && !at1200)
		touch();
	at1200 = now;
}

/* The next byte received, -1 after timeout_ms (-1: none), -2 when the simulator must stop. */
static int get_byte(int timeout_ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd p = { .fd = in_fd, .events = POLLIN };
		struct timespec t;
		long left;
		int r;

		if (quit)
			return -2;
		if (ipos < ilen)
			return ibuf[ipos++];
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		left = timeout_ms < 0 ? 10 : timeout_ms - left;
		if (left <= 0)
			return -1;
		check_touch();
		r = poll(&p, 1, left > 10 ? 10 : (int)left);
		if (r < 0 && errno != EINTR)
			return -2;
		if (r <= 0)
			continue;
		if (p.revents & POLLIN) {
			ssize_t n = read(in_fd, ibuf, sizeof(ibuf));

			if (n > 0) {
				ilen = (size_t)n;
				ipos = 0;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
		}
		/* Nobody has the port open (the slave side hung up): wait for the next user. */
		usleep(5000);
	}
}

static void put(const void *data, size_t len)
{
	const uint8_t *p = data;

	if (silent || hung || running_fw)
		return;
	while (len > 0) {
		ssize_t n = write(out_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = { .fd = out_fd, .events = POLLOUT };

			poll(&pf, 1, 100);
			continue;
		}
		if (n <= 0)
			return; /* nobody listens: the bytes are lost, as on a wire */
		p += n;
		len -= (size_t)n;
	}
}

static void put_str(const char *s)
{
	put(s, strlen(s));
}

/* ---- XMODEM-CRC, the UART framing of R and S --------------------------------------------------------------- */

#define SOH 0x01
#define EOT 0x04
#define ACK 0x06
#define NAK 0x15
#define CAN 0x18

static uint16_t crc16(uint16_t crc, uint8_t b)
{
	crc ^= (uint16_t)(b << 8);
	for (int i = 0; i < 8; i++)
		crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	return crc;
}

/* Send len bytes read from the bus at a: wait for the receiver's 'C', then 128-byte blocks, each sent
 * again on NAK, then EOT. 0, or -1 when the receiver gave up or a read faulted. */
static int xmodem_send(uint32_t a, uint32_t len)
{
	uint8_t blk[133];
	int c, tries;

	for (tries = 0; tries < 10 && (c = get_byte(1000)) != 'C'; tries++)
		if (c == -2)
			return -1;
	if (tries == 10)
		return -1;
	for (uint32_t n = 1, off = 0; off < len; n++, off += 128) {
		uint16_t crc = 0;

		blk[0] = SOH;
		blk[1] = (uint8_t)n;
		blk[2] = (uint8_t)~n;
		for (unsigned i = 0; i < 128; i++) {
			uint32_t v = 0;

			if (off + i < len && bus_read(a + off + i, 1, &v) < 0)
				return -1;
			blk[3 + i] = (uint8_t)v;
			crc = crc16(crc, blk[3 + i]);
		}
		blk[131] = (uint8_t)(crc >> 8);
		blk[132] = (uint8_t)crc;
		for (tries = 0; tries < 10; tries++) {
			put(blk, sizeof(blk));
			c = get_byte(1000);
			if (c == ACK || c == CAN || c == -2)
				break;
		}
		if (c != ACK)
			return -1;
	}
	for (tries = 0; tries < 10; tries++) {
		put("\x04", 1);
		if ((c = get_byte(1000)) == ACK || c == -2)
			break;
	}
	return 0;
}

/* Receive len bytes into the bus at a: 'C' until the first block, ACK or NAK each block, ACK the EOT. */
static int xmodem_receive(uint32_t a, uint32_t len)
{
	uint8_t blk[133];
	uint32_t expect = 1, off = 0;
	int c, idle = 0;

	put("C", 1);
	for (;;) {
		uint16_t crc = 0;
		size_t got = 0;

		c = get_byte(1000);
		if (c == -2)
			return -1;
		if (c == -1) {
			if (++idle == 10)
				return -1;
			if (expect == 1)
				put("C", 1);
			continue;
		}
		idle = 0;
		if (c == EOT) {
			put("\x06", 1);
			return 0;
		}
		if (c == CAN)
			return -1;
		if (c != SOH)
			continue;
		blk[got++] = (uint8_t)c;
		while (got < sizeof(blk) && (c = get_byte(1000)) >= 0)
			blk[got++] = (uint8_t)c;
		if (got < sizeof(blk)) {
			put("\x15", 1);
			continue;
		}
		for (unsigned i = 0; i < 128; i++)
			crc = crc16(crc, blk[3 + i]);
		if ((blk[1] ^ blk[2]) != 0xFF || crc != (uint16_t)(blk[131] << 8 | blk[132])) {
			put("\x15", 1);
			continue;
		}
		if (blk[1] == (uint8_t)(expect - 1)) { /* our ACK was lost: the block again */
			put("\x06", 1);
			continue;
		}
		if (blk[1] != (uint8_t)expect) {
			put("\x18", 1);
			return -1;
		}
		for (unsigned i = 0; i < 128 && off < len; i++, off++)
			if (bus_write(a + off, 1, blk[3 + i]) < 0)
				return -1;
		expect++;
		put("\x06", 1);
	}
}

/* ---- the applet interpreter: ARMv6-M Thumb ---------------------------------------------------------------- */

#define RETURN_ADDR 0xFFFFFFF0u /* the link register an applet gets: reaching it means it returned */
#define MAX_STEPS 20000000L

struct cpu {
	uint32_t r[16];
	int n, z, c, v;
};

static uint32_t add_flags(struct cpu *k, uint32_t a, uint32_t b, int carry, int set)
{
	uint64_t u = (uint64_t)a + b + (unsigned)carry;
	int64_t s = (int64_t)(int32_t)a + (int32_t)b + carry;
	uint32_t r = (uint32_t)u;

	if (set) {
		k->n = r >> 31;
		k->z = r == 0;
		k->c = (int)(u >> 32) & 1;
		k->v = (int64_t)(int32_t)r != s;
	}
	return r;
}

static void nz(struct cpu *k, uint32_t r)
{
	k->n = r >> 31;
	k->z = r == 0;
}

static int cond_holds(const struct cpu *k, unsigned cond)
{
	switch (cond) {
	case 0x0: return k->z;
	case 0x1: return !k->z;
	case 0x2: return k->c;
	case 0x3: return !k->c;
	case 0x4: return k->n;
	case 0x5: return !k->n;
	case 0x6: return k->v;
	case 0x7: return !k->v;
	case 0x8: return k->c && !k->z;
	case 0x9: return !k->c || k->z;
	case 0xA: return k->n == k->v;
	case 0xB: return k->n != k->v;
	case 0xC: return !k->z && k->n == k->v;
	case 0xD: return k->z || k->n != k->v;
	}
	return 1;
}

/* A shift by a register amount (or an immediate already mapped to one): type 0 LSL, 1 LSR, 2 ASR, 3 ROR. */
static uint32_t shift(struct cpu *k, int type, uint32_t x, unsigned amount)
{
	if (amount == 0)
		return x;
	switch (type) {
	case 0:
		k->c = amount <= 32 ? (int)((uint64_t)x >> (32 - amount)) & 1 : 0;
		return amount < 32 ? x << amount : 0;
	case 1:
		k->c = amount <= 32 ? (int)(x >> (amount - 1)) & 1 : 0;
		return amount < 32 ? x >> amount : 0;
	case 2:
		if (amount >= 32) {
			k->c = x >> 31;
			return x >> 31 ? 0xFFFFFFFF : 0;
		}
		k->c = (int)((int32_t)x >> (amount - 1)) & 1;
		return (uint32_t)((int32_t)x >> amount);
	default:
		amount &= 31;
		if (amount)
			x = x >> amount | x << (32 - amount);
		k->c = x >> 31;
		return x;
	}
}

static uint32_t sext(uint32_t x, int bits)
{
	uint32_t m = 1u << (bits - 1);

	return (x ^ m) - m;
}

/* Interworking branch: ARMv6-M has no ARM state, an even address faults. */
static int bx(struct cpu *k, uint32_t target)
{
	if (!(target & 1))
		return fault("applet branched to 0x%08X, an ARM-state address", target);
	k->r[15] = target & ~1u;
	return 0;
}

static int thumb_step(struct cpu *k)
{
	uint32_t pc = k->r[15], ins, v, a;
	uint32_t *r = k->r;
	unsigned rd = 0, rn, rm, imm;

	if (bus_read(pc, 2, &ins) < 0)
		return -1;
	r[15] = pc + 2;
	/* As an operand, the PC reads as the instruction's address plus 4. */
#define PCV (pc + 4)
	switch (ins >> 11) {
	case 0x00: /* LSLS, LSRS, ASRS Rd, Rm, #imm5 */
	case 0x01:
	case 0x02:
		imm = (ins >> 6) & 31;
		rm = (ins >> 3) & 7;
		rd = ins & 7;
		if ((ins >> 11) == 0)
			v = shift(k, 0, r[rm], imm);
		else
			v = shift(k, (int)(ins >> 11), r[rm], imm ? imm : 32);
		r[rd] = v;
		nz(k, v);
		return 0;
	case 0x03: /* ADDS, SUBS Rd, Rn, Rm / #imm3 */
		rm = (ins >> 6) & 7;
		rn = (ins >> 3) & 7;
		rd = ins & 7;
		v = (ins & 0x400) ? rm : r[rm];
		r[rd] = (ins & 0x200) ? add_flags(k, r[rn], ~v, 1, 1) : add_flags(k, r[rn], v, 0, 1);
		return 0;
	case 0x04: /* MOVS, CMP, ADDS, SUBS Rdn, #imm8 */
	case 0x05:
	case 0x06:
	case 0x07:
		rd = (ins >> 8) & 7;
		imm = ins & 0xFF;
		switch ((ins >> 11) & 3) {
		case 0: r[rd] = imm; nz(k, imm); break;
		case 1: add_flags(k, r[rd], ~imm, 1, 1); break;
		case 2: r[rd] = add_flags(k, r[rd], imm, 0, 1); break;
		case 3: r[rd] = add_flags(k, r[rd], ~imm, 1, 1); break;
		}
		return 0;
	case 0x08:
		if (!(ins & 0x400)) { /* data processing, Rdn and Rm */
			uint32_t x, y;

			rd = ins & 7;
			rm = (ins >> 3) & 7;
			x = r[rd];
			y = r[rm];
			switch ((ins >> 6) & 15) {
			case 0x0: nz(k, r[rd] = x & y); break;
			case 0x1: nz(k, r[rd] = x ^ y); break;
			case 0x2: nz(k, r[rd] = shift(k, 0, x, y & 0xFF)); break;
			case 0x3: nz(k, r[rd] = shift(k, 1, x, y & 0xFF)); break;
			case 0x4: nz(k, r[rd] = shift(k, 2, x, y & 0xFF)); break;
			case 0x5: r[rd] = add_flags(k, x, y, k->c, 1); break;
			case 0x6: r[rd] = add_flags(k, x, ~y, k->c, 1); break;
			case 0x7: nz(k, r[rd] = shift(k, 3, x, y & 0xFF)); break;
			case 0x8: nz(k, x & y); break;
			case 0x9: r[rd] = add_flags(k, 0, ~y, 1, 1); break; /* RSBS Rd, Rm, #0 */
			case 0xA: add_flags(k, x, ~y, 1, 1); break;
			case 0xB: add_flags(k, x, y, 0, 1); break;
			case 0xC: nz(k, r[rd] = x | y); break;
			case 0xD: nz(k, r[rd] = x * y); break;
			case 0xE: nz(k, r[rd] = x & ~y); break;
			case 0xF: nz(k, r[rd] = ~y); break;
			}
			return 0;
		}
		/* ADD, CMP, MOV with high registers; BX, BLX */
		rd = (ins & 7) | ((ins >> 4) & 8);
		rm = (ins >> 3) & 15;
		v = rm == 15 ? PCV : r[rm];
		switch ((ins >> 8) & 3) {
		case 0:
			v += rd == 15 ? PCV : r[rd];
			if (rd == 15) {
				r[15] = v & ~1u;
				return 0;
			}
			r[rd] = v;
			return 0;
		case 1:
			add_flags(k, rd == 15 ? PCV : r[rd], ~v, 1, 1);
			return 0;
		case 2:
			if (rd == 15) {
				r[15] = v & ~1u;
				return 0;
			}
			r[rd] = rd == 13 ? v & ~3u : v;
			return 0;
		default:
			if (ins & 0x80)
				r[14] = (pc + 2) | 1;
			return bx(k, v);
		}
	case 0x09: /* LDR Rt, [PC, #imm8*4] */
		a = (PCV & ~3u) + (ins & 0xFF) * 4;
		return bus_read(a, 4, &r[(ins >> 8) & 7]);
	case 0x0A: /* load and store, register offset */
	case 0x0B:
		rm = (ins >> 6) & 7;
		rn = (ins >> 3) & 7;
		rd = ins & 7;
		a = r[rn] + r[rm];
		switch ((ins >> 9) & 7) {
		case 0: return bus_write(a, 4, r[rd]);
		case 1: return bus_write(a, 2, r[rd] & 0xFFFF);
		case 2: return bus_write(a, 1, r[rd] & 0xFF);
		case 3:
			if (bus_read(a, 1, &v) < 0)
				return -1;
			r[rd] = sext(v, 8);
			return 0;
		case 4: return bus_read(a, 4, &r[rd]);
		case 5: return bus_read(a, 2, &r[rd]);
		case 6: return bus_read(a, 1, &r[rd]);
		default:
			if (bus_read(a, 2, &v) < 0)
				return -1;
			r[rd] = sext(v, 16);
			return 0;
		}
	case 0x0C: /* STR, LDR, STRB, LDRB Rt, [Rn, #imm5] */
	case 0x0D:
	case 0x0E:
	case 0x0F: {
		unsigned size = (ins >> 12) & 1 ? 1 : 4;

		imm = (ins >> 6) & 31;
		rn = (ins >> 3) & 7;
		rd = ins & 7;
		a = r[rn] + imm * size;
		return (ins & 0x800) ? bus_read(a, size, &r[rd]) : bus_write(a, size, r[rd]);
	}
	case 0x10: /* STRH, LDRH Rt, [Rn, #imm5*2] */
	case 0x11:
		a = r[(ins >> 3) & 7] + ((ins >> 6) & 31) * 2;
		rd = ins & 7;
		return (ins & 0x800) ? bus_read(a, 2, &r[rd]) : bus_write(a, 2, r[rd] & 0xFFFF);
	case 0x12: /* STR, LDR Rt, [SP, #imm8*4] */
	case 0x13:
		a = r[13] + (ins & 0xFF) * 4;
		rd = (ins >> 8) & 7;
		return (ins & 0x800) ? bus_read(a, 4, &r[rd]) : bus_write(a, 4, r[rd]);
	case 0x14: /* ADR Rd, label; ADD Rd, SP, #imm8*4 */
		r[(ins >> 8) & 7] = (PCV & ~3u) + (ins & 0xFF) * 4;
		return 0;
	case 0x15:
		r[(ins >> 8) & 7] = r[13] + (ins & 0xFF) * 4;
		return 0;
	case 0x16: /* miscellaneous */
	case 0x17:
		if ((ins & 0xFF00) == 0xB000) {
			r[13] += (ins & 0x80) ? -(uint32_t)((ins & 0x7F) * 4) : (ins & 0x7F) * 4;
			return 0;
		}
		if ((ins & 0xFF00) == 0xB200) {
			v = r[(ins >> 3) & 7];
			rd = ins & 7;
			switch ((ins >> 6) & 3) {
			case 0: r[rd] = sext(v & 0xFFFF, 16); break;
			case 1: r[rd] = sext(v & 0xFF, 8); break;
			case 2: r[rd] = v & 0xFFFF; break;
			case 3: r[rd] = v & 0xFF; break;
			}
			return 0;
		}
		if ((ins & 0xFE00) == 0xB400) { /* PUSH */
			unsigned count = (unsigned)__builtin_popcount(ins & 0x1FF);

			a = r[13] - 4 * count;
			r[13] = a;
			for (int i = 0; i < 8; i++)
				if ((ins & (1u << i)) && bus_write(a, 4, r[i]) == 0)
					a += 4;
				else if (ins & (1u << i))
					return -1;
			return (ins & 0x100) ? bus_write(a, 4, r[14]) : 0;
		}
		if ((ins & 0xFE00) == 0xBC00) { /* POP */
			a = r[13];
			for (int i = 0; i < 8; i++)
				if (ins & (1u << i)) {
					if (bus_read(a, 4, &r[i]) < 0)
						return -1;
					a += 4;
				}
			if (ins & 0x100) {
				if (bus_read(a, 4, &v) < 0)
					return -1;
				r[13] = a + 4;
				return bx(k, v);
			}
			r[13] = a;
			return 0;
		}
		if ((ins & 0xFFEF) == 0xB662) /* CPSIE, CPSID i: no interrupts here */
			return 0;
		if ((ins & 0xFF00) == 0xBA00 && ((ins >> 6) & 3) != 2) {
			v = r[(ins >> 3) & 7];
			rd = ins & 7;
			switch ((ins >> 6) & 3) {
			case 0: r[rd] = __builtin_bswap32(v); break;
			case 1: r[rd] = (v & 0xFF00FF00) >> 8 | (v & 0x00FF00FF) << 8; break;
			case 3: r[rd] = sext(((v & 0xFF) << 8) | ((v >> 8) & 0xFF), 16); break;
			}
			return 0;
		}
		if ((ins & 0xFF0F) == 0xBF00) /* NOP, YIELD, WFE, WFI, SEV */
			return 0;
		return fault("applet ran the undefined or unsupported instruction 0x%04X at 0x%08X", ins, pc);
	case 0x18: /* STMIA Rn!, {list} */
	case 0x19: /* LDMIA Rn!, {list} */
		rn = (ins >> 8) & 7;
		a = r[rn];
		for (int i = 0; i < 8; i++) {
			if (!(ins & (1u << i)))
				continue;
			if ((ins & 0x800) ? bus_read(a, 4, &r[i]) : bus_write(a, 4, r[i]))
				return -1;
			a += 4;
		}
		if (!(ins & 0x800) || !(ins & (1u << rn)))
			r[rn] = a;
		return 0;
	case 0x1A: /* B<cond>; UDF; SVC */
	case 0x1B:
		if (((ins >> 8) & 15) >= 0xE)
			return fault("applet ran %s 0x%04X at 0x%08X", ((ins >> 8) & 15) == 0xE ? "UDF" : "SVC", ins,
				     pc);
		if (cond_holds(k, (ins >> 8) & 15))
			r[15] = PCV + sext(ins & 0xFF, 8) * 2;
		return 0;
	case 0x1C: /* B */
		r[15] = PCV + sext(ins & 0x7FF, 11) * 2;
		return 0;
	case 0x1E: { /* 32-bit: BL, DMB/DSB/ISB */
		uint32_t hw2;

		if (bus_read(pc + 2, 2, &hw2) < 0)
			return -1;
		if ((hw2 & 0xD000) == 0xD000) {
			uint32_t s = (ins >> 10) & 1, j1 = (hw2 >> 13) & 1, j2 = (hw2 >> 11) & 1;
			uint32_t off = s << 24 | (!(j1 ^ s)) << 23 | (!(j2 ^ s)) << 22 | (ins & 0x3FF) << 12 |
				       (hw2 & 0x7FF) << 1;

			r[14] = (pc + 4) | 1;
			r[15] = pc + 4 + sext(off, 25);
			return 0;
		}
		if (ins == 0xF3BF && (hw2 & 0xFF00) == 0x8F00) {
			r[15] = pc + 4;
			return 0;
		}
		return fault("applet ran the unsupported instruction 0x%04X%04X at 0x%08X", ins, hw2, pc);
	}
	}
	return fault("applet ran the undefined instruction 0x%04X at 0x%08X", ins, pc);
#undef PCV
}

/* G ADDR#: the monitor's call_applet: the stack pointer from ADDR, the entry point from ADDR+4, a return
 * into the monitor in the link register. */
static int run_applet(uint32_t vec)
{
	struct cpu k;
	uint32_t sp, entry;
	long steps;

	memset(&k, 0, sizeof(k));
	if (bus_read(vec, 4, &sp) < 0 || bus_read(vec + 4, 4, &entry) < 0)
		return -1;
	k.r[13] = sp & ~3u;
	k.r[14] = RETURN_ADDR | 1;
	if (bx(&k, entry) < 0)
		return -1;
	for (steps = 0; steps < MAX_STEPS; steps++) {
		if (k.r[15] == RETURN_ADDR) {
			debug("applet at 0x%08X returned after %ld instructions", entry & ~1u, steps);
			return 0;
		}
		if (thumb_step(&k) < 0)
			return -1;
	}
	return fault("applet at 0x%08X did not return after %ld instructions", entry & ~1u, steps);
}

/* ---- the monitor ------------------------------------------------------------------------------------------------ */

static char cmdline[64];
static size_t cmdlen;

static void put_hex(uint32_t v, int digits)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%0*X", digits, v);
	put_str(buf);
}

/* A read answer: little-endian binary, or "0x..." and a line end in terminal mode. */
static void put_value(uint32_t v, unsigned size)
{
	uint8_t b[4];

	if (terminal) {
		put_str("0x");
		put_hex(v, (int)size * 2);
		put_str("\n\r");
		return;
	}
	put_le(b, size, v);
	put(b, size);
}

static void run_command(void)
{
	uint32_t v;
	int arduino = chip->fam == SAMD21;

	cmdline[cmdlen] = '\0';
	note("%s#", cmdline);
	cmdlen = 0;
	if (terminal)
		put_str("\n\r");
	switch (command) {
	case 'N':
		if (!terminal)
			put_str("\n\r");
		terminal = 0;
		break;
	case 'T':
		terminal = 1;
		put_str("\n\r");
		break;
	case 'V':
		put_str(version);
		put_str("\n\r");
		break;
	case 'o':
	case 'h':
	case 'w': {
		unsigned size = command == 'o' ? 1 : command == 'h' ? 2 : 4;

		if (bus_read(address, size, &v) == 0)
			put_value(v, size);
		break;
	}
	case 'O':
		bus_write(address, 1, number & 0xFF);
		break;
	case 'H':
		bus_write(address, 2, number & 0xFFFF);
		break;
	case 'W':
		bus_write(address, 4, number);
		break;
	case 'R':
		if (!link_usb) {
			xmodem_send(address, number);
			break;
		}
		for (uint32_t i = 0; i < number && !hung; i++) {
			uint8_t b;

			if (bus_read(address + i, 1, &v) < 0)
				break;
			b = (uint8_t)v;
			put(&b, 1);
		}
		break;
	case 'S':
		if (!link_usb) {
			xmodem_receive(address, number);
			break;
		}
		/* Raw bytes follow, as many as announced; the monitor waits for all of them. */
		for (uint32_t i = 0; i < number && !hung; i++) {
			int c = get_byte(-1);

			if (c < 0)
				break;
			bus_write(address + i, 1, (uint32_t)c);
		}
		break;
	case 'G':
		if (run_applet(number) == 0 && arduino && !link_usb)
			put("\x06", 1);
		break;
	case 'X':
		if (!arduino)
			break;
		/* Erase row by row from ADDR to the end of the flash, as the bootloader does through NVMCTRL. */
		for (uint32_t a = number; a < chip->flash_size; a += D21_ROW) {
			nvm.addr = a / 2;
			d21_command(0xA502);
		}
		put_str("X\n\r");
		break;
	case 'Y': {
		static uint32_t src;

		if (!arduino)
			break;
		if (number == 0) {
			src = address;
		} else {
			uint32_t words = number / 4, dst = address, s = src;

			nvm.ctrlb &= ~0x80u; /* automatic page write */
			while (words > 0 && !hung) {
				uint32_t i;

				d21_command(0xA544);
				for (i = 0; i < D21_PAGE / 4 && i < words; i++) {
					if (bus_read(s + 4 * i, 4, &v) < 0 || bus_write(dst + 4 * i, 4, v) < 0)
						break;
				}
				d21_command(0xA504);
				dst += 4 * i;
				s += 4 * i;
				words -= i;
			}
		}
		put_str("Y\n\r");
		break;
	}
	case 'Z': {
		uint16_t crc = 0;

		if (!arduino)
			break;
		for (uint32_t i = 0; i < number && !hung; i++) {
			if (bus_read(address + i, 1, &v) < 0)
				break;
			crc = crc16(crc, (uint8_t)v);
		}
		put_str("Z");
		put_hex(crc, 8);
		put_str("#\n\r");
		break;
	}
	}
	command = 'z';
	number = 0;
	if (terminal)
		put_str(">");
}

static void monitor_byte(int c)
{
	if (hung || running_fw || silent)
		return;
	if (c == 0xFF)
		return;
	if (c == '#') {
		run_command();
		return;
	}
	if (isprint(c) && cmdlen < sizeof(cmdline) - 1)
		cmdline[cmdlen++] = (char)c;
	if (isxdigit(c)) {
		number = number << 4 | (uint32_t)(isdigit(c) ? c - '0' : toupper(c) - 'A' + 10);
	} else if (c == ',') {
		address = number;
		number = 0;
	} else {
		command = c;
		number = 0;
		cmdlen = 0;
		if (isprint(c))
			cmdline[cmdlen++] = (char)c;
	}
}

/* ---- start and end ------------------------------------------------------------------------------------------ */

static const char *flash_file;

static void save_flash(void)
{
	char tmp[4200];
	FILE *f;

	if (!flash_file || !flash_dirty)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", flash_file);
	f = fopen(tmp, "wb");
	if (!f || fwrite(flash, 1, chip->flash_size, f) != chip->flash_size || fclose(f) != 0 ||
	    rename(tmp, flash_file) != 0)
		fprintf(stderr, "samba-sim: cannot write %s: %s\n", flash_file, strerror(errno));
}

static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned b;

		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: samba-sim [--chip sam3x8e|samd21g18a|samd21j18a|samd21e18a] [--uid HEX32] "
			"[--chip-id HEX] [--link uart|usb] [--version TEXT] [--flash FILE] [--log FILE] [--silent] "
			"[--touch-erase] [--verbose] [--pty LINK]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *uid_hex = "0123456789ABCDEF0011223344556677", *pty_link = NULL, *link = NULL;
	long chip_id = -1;
	uint8_t words[16];
	struct sigaction sa;
	int slave = -1;

	chip = &chips[0];
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--silent") == 0) {
			silent = 1;
		} else if (strcmp(o, "--touch-erase") == 0) {
			touch_erase = 1;
		} else if (strcmp(o, "--verbose") == 0) {
			verbose = 1;
		} else if (!val) {
			usage();
		} else if (strcmp(o, "--chip") == 0) {
			size_t k;

			for (k = 0; k < sizeof(chips) / sizeof(chips[0]) && strcmp(chips[k].name, val) != 0; k++)
				;
			if (k == sizeof(chips) / sizeof(chips[0]))
				usage();
			chip = &chips[k];
			i++;
		} else if (strcmp(o, "--uid") == 0) {
			uid_hex = argv[++i];
		} else if (strcmp(o, "--chip-id") == 0) {
			char *end;

			errno = 0;
			chip_id = strtol(argv[++i], &end, 16);
			if (errno || *end || chip_id < 0 || chip_id > 0xFFFFFFFFL)
				usage();
		} else if (strcmp(o, "--link") == 0) {
			link = argv[++i];
		} else if (strcmp(o, "--version") == 0) {
			version = argv[++i];
		} else if (strcmp(o, "--flash") == 0) {
			flash_file = argv[++i];
		} else if (strcmp(o, "--log") == 0) {
			logfile = fopen(argv[++i], "a");
			if (!logfile) {
				fprintf(stderr, "samba-sim: %s: %s\n", argv[i], strerror(errno));
				return 1;
			}
		} else if (strcmp(o, "--pty") == 0) {
			pty_link = argv[++i];
		} else {
			usage();
		}
	}
	if (chip_id >= 0) {
		static struct chip custom;

		custom = *chip;
		custom.id = (uint32_t)chip_id;
		chip = &custom;
	}
	if (!version)
		version = chip->version;
	link_usb = link ? strcmp(link, "usb") == 0 : chip->fam == SAMD21;
	/* The id's words in address order, each stored little-endian as the chip holds it. */
	if (parse_hex(uid_hex, words, 16) < 0)
		usage();
	for (int w = 0; w < 4; w++)
		for (int b = 0; b < 4; b++)
			uid[4 * w + b] = words[4 * w + 3 - b];

	flash = malloc(chip->flash_size);
	sram = calloc(1, chip->sram_size);
	sram1 = calloc(1, SAM3X_SRAM1_SIZE);
	if (!flash || !sram || !sram1)
		return 1;
	memset(flash, 0xFF, chip->flash_size);
	/* A stand-in for the ROM's vector table: the stack at the top of SRAM0, a reset handler in the ROM. */
	put_le(rom, 4, SRAM + 0x10000);
	put_le(rom + 4, 4, SAM3X_ROM + 0x101);
	if (chip->fam == SAMD21) {
		/* The bootloader's 8 KB: a vector table into itself and a recognisable pattern; the user row as
		 * the Arduino boards ship it (BOOTPROT 8 KB, no region locked). */
		for (uint32_t i = 8; i < D21_APP; i++)
			flash[i] = (uint8_t)(i * 7 + 3);
		put_le(flash, 4, SRAM + chip->sram_size);
		put_le(flash + 4, 4, 0x000000D5);
		memset(user_row, 0xFF, sizeof(user_row));
		put_le(user_row, 4, 0xD8E0C7FA);
		put_le(user_row + 4, 4, 0xFFFFFC5D);
	}
	if (flash_file) {
		FILE *f = fopen(flash_file, "rb");

		if (f) {
			size_t n = fread(flash, 1, chip->flash_size, f);

			(void)n;
			fclose(f);
		}
	}
	monitor_restart();
	running_fw = touch_erase; /* behind the Due's bridge the chip runs its firmware until a touch */

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pty_link) {
		struct termios t;
		const char *name;
		int m = posix_openpt(O_RDWR | O_NOCTTY);

		if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m))) {
			fprintf(stderr, "samba-sim: cannot create a pseudo-terminal: %s\n", strerror(errno));
			return 1;
		}
		/* Keep the slave open: a client closing the port must not hang the line up for the next one. */
		slave = open(name, O_RDWR | O_NOCTTY);
		if (slave < 0 || tcgetattr(slave, &t) < 0) {
			fprintf(stderr, "samba-sim: %s: %s\n", name, strerror(errno));
			return 1;
		}
		cfmakeraw(&t);
		cfsetspeed(&t, B115200);
		tcsetattr(slave, TCSANOW, &t);
		if (symlink(name, pty_link) < 0) {
			fprintf(stderr, "samba-sim: cannot make the link %s: %s\n", pty_link, strerror(errno));
			return 1;
		}
		in_fd = out_fd = m;
		printf("%s\n", name);
		fflush(stdout);
	}
	debug("%s monitor on %s (%s)", chip->name, pty_link ? pty_link : "stdin/stdout", link_usb ? "usb" : "uart");
	for (;;) {
		int c = get_byte(-1);

		if (c == -2)
			break;
		if (c >= 0)
			monitor_byte(c);
	}
	save_flash();
	if (pty_link)
		unlink(pty_link);
	if (slave >= 0)
		close(slave);
	return 0;
}
