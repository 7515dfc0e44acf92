/* esp-sim.c: a test tool that plays the ROM serial bootloader of an ESP8266 or an ESP32 on stdin/stdout.
 *
 * esp-sim [--chip esp8266|esp32] [--mac XX:XX:XX:XX:XX:XX] [--silent] [--garbage] [--sync-misses N]
 *         [--reg ADDR=VALUE]... [--log FILE]
 *
 * Written from Espressif's "Serial Protocol" documentation (esptool docs, advanced topics) and
 * esptool's chip classes, not from any client: SLIP framing (0xC0 ends, 0xDB 0xDC / 0xDB 0xDD escape
 * 0xC0 / 0xDB), requests "00 op size(2) checksum(4) data", responses "01 op size(2) value(4) data"
 * whose data ends with the status bytes: 2 on the ESP8266 ROM, 4 on the ESP32 ROM (status, error, two
 * reserved). Commands:
 *   SYNC (0x08)      payload 07 07 12 20 + 32 x 55; answered 8 times, as esptool expects (it reads
 *                    7 more answers after the first); value 0x55201207 on the ESP32, as the
 *                    documentation's trace shows, 0x20120707 on the ESP8266 (a third-party esptool
 *                    trace: the documentation has none; esptool only needs it non-zero). Another
 *                    payload is not a sync: no answer.
 *   READ_REG (0x0A)  a 4-byte address; the word in the value field. The memory map holds the
 *                    chip-detect magic word at 0x40001000 (ESP8266 0xFFF0C101, ESP32 0x00F01D83) and
 *                    the MAC: on the ESP8266 the OTP words 0x3FF00050/54/58/5C (MAC byte 5 in word 0
 *                    bits 24-31, bytes 3-4 in word 1 bits 0-15, the OUI in word 3, or, for
 *                    Espressif's first OUIs 18:FE:34 and AC:D0:74, word 3 zero and word 1 bits 16-23
 *                    = 0 or 1); on the ESP32 the eFuse words of block 0 at 0x3FF5A000 + 4n (bytes 2-5
 *                    in word 1, bytes 0-1 in word 2 bits 0-15, the MAC's CRC-8 in word 2 bits 16-23).
 *                    Other addresses read 0.
 *   WRITE_REG (0x09) address, value, mask, delay: applied to the map.
 *   anything else    refused: status 1, error 0x05 ("received message is invalid"), as is a request
 *                    whose size field does not match its data. No flash or RAM download is simulated.
 * The words of the map that do not carry the MAC hold other fields on a real chip: a CRC byte on the
 * ESP8266 (word 0 bits 16-23) and a version (word 1 bits 24-27), placed as QEMU's ESP8266 eFuse model
 * has them, are set, so a reader must mask.
 *
 * --silent: receive and log, never answer (a board not in its bootloader, a dead TX line).
 * --garbage: before the first answer, what a chip prints when it boots into the bootloader: the
 *   ESP32's boot log at 115200 baud; the ESP8266's (at 74880 baud) as a 115200-baud receiver sees it,
 *   noise that includes 0xC0 and 0xDB bytes.
 * --sync-misses N: the first N SYNCs go unanswered (the ROM is still measuring the baud rate).
 * --reg ADDR=VALUE: set a word of the map after the MAC was placed (odd eFuses, another chip).
 * --log FILE: one line per frame received ("SYNC", "READ_REG 0x40001000", "WRITE_REG ...",
 *   "CMD 0x02 16", "BAD ..."), flushed at once.
 * A frame with a bad escape or longer than 16 KiB + 16 bytes is dropped. End of input (a pipe) ends
 * the program; a hang-up (the port closed on the other side of a pty) does not: it is reopened. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXFRAME (16 * 1024 + 16)
#define MAXREGS 64

enum { ESP8266, ESP32 };

static struct {
	int chip;
	int silent, garbage, garbage_sent;
	long sync_misses;
	FILE *log;
} sim = { .chip = ESP8266 };

static struct reg {
	uint32_t addr, value;
} regs[MAXREGS];
static int nregs;

static void sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void sim_log(const char *fmt, ...)
{
	va_list ap;

	if (!sim.log)
		return;
	va_start(ap, fmt);
	vfprintf(sim.log, fmt, ap);
	va_end(ap);
	fputc('\n', sim.log);
	fflush(sim.log);
}

static struct reg *reg_find(uint32_t addr, int create)
{
	for (int i = 0; i < nregs; i++)
		if (regs[i].addr == addr)
			return &regs[i];
	if (!create || nregs == MAXREGS)
		return NULL;
	regs[nregs].addr = addr;
	regs[nregs].value = 0;
	return &regs[nregs++];
}

static void reg_set(uint32_t addr, uint32_t value)
{
	struct reg *r = reg_find(addr, 1);

	if (r)
		r->value = value;
}

/* ESP-IDF's CRC-8 of the factory MAC (esp_rom_efuse_mac_address_crc8). */
static uint8_t crc8(const uint8_t *p, int len)
{
	uint8_t crc = 0;

	while (len--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (crc & 1) ? (uint8_t)((crc >> 1) ^ 0x8c) : (uint8_t)(crc >> 1);
	}
	return crc;
}

static void place_mac(const uint8_t m[6])
{
	if (sim.chip == ESP8266) {
		uint32_t oui = (uint32_t)m[0] << 16 | (uint32_t)m[1] << 8 | m[2], sel = 0, mac3 = oui;

		if (oui == 0x18FE34) {
			sel = 0;
			mac3 = 0;
		} else if (oui == 0xACD074) {
			sel = 1;
			mac3 = 0;
		}
		reg_set(0x40001000, 0xFFF0C101);
		reg_set(0x3FF00050, (uint32_t)m[5] << 24 | 0x5A << 16);
		reg_set(0x3FF00054, 0x02u << 24 | sel << 16 | (uint32_t)m[3] << 8 | m[4]);
		reg_set(0x3FF00058, 0);
		reg_set(0x3FF0005C, mac3);
	} else {
		reg_set(0x40001000, 0x00F01D83);
		for (uint32_t n = 0; n < 8; n++)
			reg_set(0x3FF5A000 + 4 * n, 0);
		reg_set(0x3FF5A004, (uint32_t)m[2] << 24 | (uint32_t)m[3] << 16 | (uint32_t)m[4] << 8 | m[5]);
		reg_set(0x3FF5A008, (uint32_t)crc8(m, 6) << 16 | (uint32_t)m[0] << 8 | m[1]);
	}
}

static void write_all(const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(1, p, n);

		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			struct pollfd pfd = { .fd = 1, .events = POLLOUT };

			poll(&pfd, 1, 100);
			continue;
		}
		if (w < 0)
			return; /* the port went away: what was not sent is lost, as on a wire */
		p += w;
		n -= (size_t)w;
	}
}

static void send_garbage(void)
{
	static const char esp32_log[] = "ets Jun  8 2016 00:22:57\r\n\r\n"
		"rst:0x1 (POWERON_RESET),boot:0x3 (DOWNLOAD_BOOT(UART0/UART1/SDIO_REI_REO_V2))\r\n"
		"waiting for download\r\n";
	uint8_t noise[160];
	uint32_t x = 74880;

	if (!sim.garbage || sim.garbage_sent)
		return;
	sim.garbage_sent = 1;
	if (sim.chip == ESP32) {
		write_all((const uint8_t *)esp32_log, sizeof(esp32_log) - 1);
		return;
	}
	for (size_t i = 0; i < sizeof(noise); i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (uint8_t)(x >> 16);
	}
	/* Whatever the noise holds, these are certain: a lone 0xC0, a bad escape, a short "frame". */
	noise[20] = 0xC0;
	noise[40] = 0xDB;
	noise[41] = 0x00;
	memcpy(noise + 100, "\xc0\x01\x08\xc0", 4);
	noise[150] = 0xC0;
	write_all(noise, sizeof(noise));
}

static void respond(uint8_t op, uint32_t value, int status, int error)
{
	uint8_t raw[8 + 4], wire[2 + 2 * sizeof(raw)];
	size_t n = 0, len = sim.chip == ESP32 ? 4 : 2;

	raw[0] = 0x01;
	raw[1] = op;
	raw[2] = (uint8_t)len;
	raw[3] = 0;
	for (int i = 0; i < 4; i++)
		raw[4 + i] = (uint8_t)(value >> (8 * i));
	memset(raw + 8, 0, 4);
	raw[8] = (uint8_t)status;
	raw[9] = (uint8_t)error;
	wire[n++] = 0xC0;
	for (size_t i = 0; i < 8 + len; i++) {
		if (raw[i] == 0xC0) {
			wire[n++] = 0xDB;
			wire[n++] = 0xDC;
		} else if (raw[i] == 0xDB) {
			wire[n++] = 0xDB;
			wire[n++] = 0xDD;
		} else {
			wire[n++] = raw[i];
		}
	}
	wire[n++] = 0xC0;
	send_garbage();
	write_all(wire, n);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void handle(const uint8_t *f, size_t n)
{
	static const uint8_t sync_head[4] = { 0x07, 0x07, 0x12, 0x20 };
	size_t size;
	uint8_t op;

	if (n < 8 || f[0] != 0x00) {
		sim_log("BAD %zu-byte frame that is not a request", n);
		return;
	}
	op = f[1];
	size = (size_t)f[2] | (size_t)f[3] << 8;
	if (size != n - 8) {
		sim_log("BAD size field %zu for %zu bytes of data (command 0x%02X)", size, n - 8, op);
		if (!sim.silent)
			respond(op, 0, 1, 0x05);
		return;
	}
	if (op == 0x08) {
		int ok = size == 36 && memcmp(f + 8, sync_head, 4) == 0;

		for (size_t i = 12; ok && i < 44; i++)
			ok = f[i] == 0x55;
		sim_log(ok ? "SYNC" : "BAD SYNC payload");
		if (!ok || sim.silent)
			return;
		if (sim.sync_misses > 0) {
			sim.sync_misses--;
			return;
		}
		for (int i = 0; i < 8; i++)
			respond(op, sim.chip == ESP32 ? 0x55201207 : 0x20120707, 0, 0);
	} else if (op == 0x0A && size == 4) {
		uint32_t addr = le32(f + 8);
		struct reg *r = reg_find(addr, 0);

		sim_log("READ_REG 0x%08X", (unsigned)addr);
		if (!sim.silent)
			respond(op, r ? r->value : 0, 0, 0);
	} else if (op == 0x09 && size == 16) {
		uint32_t addr = le32(f + 8), value = le32(f + 12), mask = le32(f + 16);
		struct reg *r = reg_find(addr, 1);

		sim_log("WRITE_REG 0x%08X 0x%08X 0x%08X", (unsigned)addr, (unsigned)value, (unsigned)mask);
		if (r)
			r->value = (r->value & ~mask) | (value & mask);
		if (!sim.silent)
			respond(op, 0, 0, 0);
	} else {
		sim_log("CMD 0x%02X %zu", op, size);
		if (!sim.silent)
			respond(op, 0, 1, 0x05);
	}
}

static int parse_mac(const char *s, uint8_t m[6])
{
	unsigned v[6];
	char end;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
		return -1;
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)v[i];
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: esp-sim [--chip esp8266|esp32] [--mac XX:XX:XX:XX:XX:XX] [--silent] [--garbage] "
		"[--sync-misses N] [--reg ADDR=VALUE]... [--log FILE]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static uint8_t frame[MAXFRAME];
	uint8_t mac[6] = { 0x18, 0xFE, 0x34, 0x12, 0x34, 0x56 };
	int mac_given = 0, in = 0, esc = 0, bad = 0;
	struct { uint32_t addr, value; } sets[MAXREGS];
	int nsets = 0;
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--chip") == 0 && v) {
			if (strcmp(v, "esp8266") == 0)
				sim.chip = ESP8266;
			else if (strcmp(v, "esp32") == 0)
				sim.chip = ESP32;
			else
				return usage();
			i++;
		} else if (strcmp(a, "--mac") == 0 && v) {
			if (parse_mac(v, mac) < 0)
				return usage();
			mac_given = 1;
			i++;
		} else if (strcmp(a, "--silent") == 0) {
			sim.silent = 1;
		} else if (strcmp(a, "--garbage") == 0) {
			sim.garbage = 1;
		} else if (strcmp(a, "--sync-misses") == 0 && v) {
			sim.sync_misses = strtol(v, NULL, 10);
			i++;
		} else if (strcmp(a, "--reg") == 0 && v && nsets < MAXREGS) {
			char *eq;

			sets[nsets].addr = (uint32_t)strtoul(v, &eq, 0);
			if (*eq != '=')
				return usage();
			sets[nsets].value = (uint32_t)strtoul(eq + 1, NULL, 0);
			nsets++;
			i++;
		} else if (strcmp(a, "--log") == 0 && v) {
			sim.log = fopen(v, "a");
			if (!sim.log) {
				perror(v);
				return 2;
			}
			i++;
		} else {
			return usage();
		}
	}
	if (!mac_given && sim.chip == ESP32)
		memcpy(mac, "\x24\x0a\xc4\x12\x34\x56", 6);
	place_mac(mac);
	for (int i = 0; i < nsets; i++)
		reg_set(sets[i].addr, sets[i].value);
	for (;;) {
		uint8_t buf[512];
		ssize_t got = read(0, buf, sizeof(buf));

		if (got == 0)
			return 0;
		if (got < 0) {
			struct pollfd pfd = { .fd = 0, .events = POLLIN };

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EIO)
				return 1;
			/* EIO: the other side of the pty is closed (between two openings of the port). */
			if (errno == EIO)
				usleep(20000);
			else
				poll(&pfd, 1, 1000);
			continue;
		}
		for (ssize_t i = 0; i < got; i++) {
			uint8_t c = buf[i];

			if (c == 0xC0) {
				if (in && n > 0 && !bad && !esc)
					handle(frame, n);
				else if (in && bad)
					sim_log("BAD frame dropped (bad escape or too long)");
				in = 1;
				n = 0;
				esc = bad = 0;
				continue;
			}
			if (!in || bad)
				continue;
			if (esc) {
				esc = 0;
				if (c == 0xDC) {
					c = 0xC0;
				} else if (c == 0xDD) {
					c = 0xDB;
				} else {
					bad = 1;
					continue;
				}
			} else if (c == 0xDB) {
				esc = 1;
				continue;
			}
			if (n == sizeof(frame)) {
				bad = 1;
				continue;
			}
			frame[n++] = c;
		}
	}
}
