/* esp.c: board plugin for the Espressif ESP32 and ESP8266 boards: esptool flashes, the ROM loader gives the chip id. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ztc/plugin.h>

/* libztc's static inline helpers (ztc_now_ms): they add no symbol to libztc, so a plugin may share them. */
#include "../../core/lib/inline.h"

/* Flashing and the reset are data (device.json `flash`: esptool write_flash, the DTR/RTS steps of
 * `flash.reset`), and so is the chip a board has (`family_name`). The chip id is read here, natively,
 * from the chip's ROM serial bootloader (the "UART download mode" of Espressif's "Serial Protocol"
 * documentation): the classic DTR/RTS reset into the bootloader, SYNC, READ_REG of the chip-detect
 * magic register, then the base MAC from the OTP (ESP8266) or eFuse (ESP32) words, as esptool's
 * read_mac decodes them. Debian packages no esptool, and the ROM loader is in every chip whatever
 * firmware it runs. */

enum family { FAM_ESP8266, FAM_ESP32 };

static const struct chip {
	const char *name;
	uint32_t magic; /* the word at CHIP_DETECT_MAGIC_REG */
} chips[] = {
	[FAM_ESP8266] = { "ESP8266", 0xFFF0C101u },
	[FAM_ESP32] = { "ESP32", 0x00F01D83u },
};

#define ESP_BAUD 115200
#define CHIP_DETECT_MAGIC_REG 0x40001000u
#define ESP8266_OTP_MAC0 0x3FF00050u
#define ESP8266_OTP_MAC1 0x3FF00054u
#define ESP8266_OTP_MAC3 0x3FF0005Cu
#define ESP32_EFUSE_BLK0_WORD1 0x3FF5A004u
#define ESP32_EFUSE_BLK0_WORD2 0x3FF5A008u

#define OP_SYNC 0x08
#define OP_READ_REG 0x0A

#define SLIP_END 0xC0
#define SLIP_ESC 0xDB
#define SLIP_ESC_END 0xDC
#define SLIP_ESC_ESC 0xDD

/* Our commands' answers are short (8-byte header, at most 4 status bytes): anything much longer is
 * noise (a boot log at another baud rate) and is dropped without being kept. */
#define FRAME_MAX 64

/* Connecting: esptool's rhythm (reset, then SYNCs 100 ms apart; the reset held 50 ms, then 550 ms
 * for early ESP32s whose EN capacitor is slow), bounded so that a silent board fails in about 3 s. */
#define RESET_ROUNDS 2
#define SYNCS_PER_ROUND 6
#define SYNC_WAIT_MS 150
#define COMMAND_WAIT_MS 1000

struct link {
	ztc_board *b;
	int fd;
	const char *port;
	enum family want;
	bool in_frame; /* the last 0xC0 read may open a frame: the one that ends a frame may start the next */
};

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* One request: direction 0, command, data size, checksum (0: only the _DATA commands use it), data;
 * SLIP-framed, 0xC0 and 0xDB escaped after the header was filled in. */
static int send_command(struct link *l, uint8_t op, const uint8_t *data, uint16_t len)
{
	uint8_t raw[8 + 64], wire[2 + 2 * sizeof(raw)];
	size_t n = 0;

	if ((size_t)len + 8 > sizeof(raw))
		return ztc_board_fail(l->b, ZTC_ERR_ARG, "ESP command 0x%02X: %u bytes of data is too long", op, len);
	raw[0] = 0x00;
	raw[1] = op;
	raw[2] = (uint8_t)(len & 0xFF);
	raw[3] = (uint8_t)(len >> 8);
	put_le32(raw + 4, 0);
	memcpy(raw + 8, data, len);
	wire[n++] = SLIP_END;
	for (size_t i = 0; i < (size_t)len + 8; i++) {
		if (raw[i] == SLIP_END) {
			wire[n++] = SLIP_ESC;
			wire[n++] = SLIP_ESC_END;
		} else if (raw[i] == SLIP_ESC) {
			wire[n++] = SLIP_ESC;
			wire[n++] = SLIP_ESC_ESC;
		} else {
			wire[n++] = raw[i];
		}
	}
	wire[n++] = SLIP_END;
	return ztc_board_serial_write(l->b, l->fd, wire, n, COMMAND_WAIT_MS);
}

/* The next whole SLIP frame received before deadline (*ret_len bytes, unescaped). Bytes outside
 * frames, empty frames, frames with a bad escape and frames longer than cap are noise: skipped.
 * ZTC_ERR_TIMEOUT (nothing recorded) when no frame came in time. */
static int read_frame(struct link *l, uint8_t *buf, size_t cap, size_t *ret_len, long long deadline)
{
	size_t n = 0;
	bool esc = false, bad = false;

	for (;;) {
		long long left = deadline - ztc_now_ms();
		uint8_t c;
		size_t got = 0;
		int rc;

		if (left <= 0)
			return ZTC_ERR_TIMEOUT;
		rc = ztc_board_serial_read(l->b, l->fd, &c, 1, (int)left, &got);
		if (rc < 0)
			return rc;
		if (got == 0)
			return ZTC_ERR_TIMEOUT;
		if (c == SLIP_END) {
			/* Noise may hold a lone 0xC0: then what looked like a frame's end opens the real one. */
			if (l->in_frame && n > 0 && !bad && !esc) {
				*ret_len = n;
				return ZTC_OK;
			}
			l->in_frame = true;
			n = 0;
			esc = bad = false;
			continue;
		}
		if (!l->in_frame || bad)
			continue;
		if (esc) {
			esc = false;
			if (c == SLIP_ESC_END) {
				c = SLIP_END;
			} else if (c == SLIP_ESC_ESC) {
				c = SLIP_ESC;
			} else {
				bad = true;
				continue;
			}
		} else if (c == SLIP_ESC) {
			esc = true;
			continue;
		}
		if (n == cap) {
			bad = true;
			continue;
		}
		buf[n++] = c;
	}
}

/* The answer to command op: the first frame that is a response (direction 1) to op whose size field
 * matches what came. Other frames are skipped, as esptool does: the ROM answers one SYNC several
 * times, and a boot log may contain 0xC0. *ret_data points into buf. */
static int read_response(struct link *l, uint8_t op, long long deadline, uint32_t *ret_value, uint8_t *buf,
			 size_t cap, const uint8_t **ret_data, size_t *ret_dlen)
{
	for (;;) {
		size_t n = 0;
		int rc = read_frame(l, buf, cap, &n, deadline);

		if (rc < 0)
			return rc;
		if (n < 8 || buf[0] != 0x01 || (size_t)(buf[2] | buf[3] << 8) != n - 8) {
			ztc_board_log(l->b, ZTC_LOG_DBG, "%s: skipping a %zu-byte frame that is not a response",
				      l->port, n);
			continue;
		}
		if (buf[1] != op) {
			ztc_board_log(l->b, ZTC_LOG_DBG, "%s: skipping a response to command 0x%02X", l->port, buf[1]);
			continue;
		}
		*ret_value = get_le32(buf + 4);
		*ret_data = buf + 8;
		*ret_dlen = n - 8;
		return ZTC_OK;
	}
}

/* A SYNC that the ROM loader answered within SYNC_WAIT_MS: 1; no answer: 0. */
static int try_sync(struct link *l)
{
	uint8_t payload[36], buf[FRAME_MAX];
	const uint8_t *data;
	size_t dlen;
	uint32_t value;
	int rc;

	payload[0] = 0x07;
	payload[1] = 0x07;
	payload[2] = 0x12;
	payload[3] = 0x20;
	memset(payload + 4, 0x55, 32);
	if ((rc = send_command(l, OP_SYNC, payload, sizeof(payload))) < 0)
		return rc;
	rc = read_response(l, OP_SYNC, ztc_now_ms() + SYNC_WAIT_MS, &value, buf, sizeof(buf), &data, &dlen);
	if (rc == ZTC_ERR_TIMEOUT)
		return 0;
	if (rc < 0)
		return rc;
	/* The ROM answers with a non-zero value; esptool's flasher stub, left running by an earlier
	 * esptool, with 0. Both answer READ_REG alike. */
	ztc_board_log(l->b, ZTC_LOG_DBG, "%s: SYNC answered (value 0x%08X%s)", l->port, (unsigned)value,
		      value ? "" : ": a flasher stub, not the ROM");
	return 1;
}

/* The classic esptool reset into the bootloader through an auto-reset circuit (DTR drives IO0, RTS
 * drives EN, both inverted): EN low with IO0 high, then EN high with IO0 low, then IO0 released.
 * A port without modem lines (a pty, some adapters) skips it: the user may have entered the
 * bootloader by hand. */
static void reset_into_bootloader(struct link *l, long hold_ms)
{
	if (ztc_board_serial_set_lines(l->b, l->fd, 0, 1) < 0)
		return;
	ztc_board_wait(l->b, 100);
	ztc_board_serial_set_lines(l->b, l->fd, 1, 0);
	ztc_board_wait(l->b, hold_ms);
	ztc_board_serial_set_lines(l->b, l->fd, 0, -1);
}

static int connect_rom(struct link *l)
{
	long long start = ztc_now_ms();
	int tries = 0;

	for (int round = 0; round < RESET_ROUNDS; round++) {
		reset_into_bootloader(l, round % 2 ? 550 : 50);
		/* What the chip printed while booting (its boot log, at 74880 baud on an ESP8266) is not an
		 * answer. */
		ztc_board_serial_discard(l->b, l->fd);
		l->in_frame = false;
		for (int i = 0; i < SYNCS_PER_ROUND; i++) {
			int rc = try_sync(l);

			tries++;
			if (rc != 0)
				return rc < 0 ? rc : ZTC_OK;
		}
	}
	return ztc_board_fail(l->b, ZTC_ERR_TIMEOUT,
			      "%s: no answer from the ESP ROM loader to SYNC (%d tries in %.1f s): hold the BOOT (IO0) "
			      "button, press and release RESET (EN), release BOOT and run the command again; check "
			      "the USB cable (some carry only power)", l->port, tries,
			      (double)(ztc_now_ms() - start) / 1000.0);
}

static int read_reg(struct link *l, uint32_t addr, uint32_t *ret_value)
{
	uint8_t a[4], buf[FRAME_MAX];
	const uint8_t *data;
	size_t dlen;
	uint32_t value;
	int rc;

	put_le32(a, addr);
	if ((rc = send_command(l, OP_READ_REG, a, sizeof(a))) < 0)
		return rc;
	rc = read_response(l, OP_READ_REG, ztc_now_ms() + COMMAND_WAIT_MS, &value, buf, sizeof(buf), &data, &dlen);
	if (rc == ZTC_ERR_TIMEOUT)
		return ztc_board_fail(l->b, rc, "%s: the ESP ROM loader did not answer READ_REG 0x%08X within %d ms "
				      "(after answering SYNC): check the cable and run the command again", l->port,
				      (unsigned)addr, COMMAND_WAIT_MS);
	if (rc < 0)
		return rc;
	/* The status comes first after the command's own data (none for READ_REG): 2 bytes, or 4 from the
	 * ESP32 ROM of which the last two are reserved. */
	if (dlen < 2)
		return ztc_board_fail(l->b, ZTC_ERR_PARSE, "%s: the ESP ROM loader answered READ_REG 0x%08X without "
				      "a status", l->port, (unsigned)addr);
	if (data[0] != 0)
		return ztc_board_fail(l->b, ZTC_ERR_IO, "%s: the ESP ROM loader refused READ_REG 0x%08X (error 0x%02X)",
				      l->port, (unsigned)addr, data[1]);
	ztc_board_log(l->b, ZTC_LOG_DBG, "%s: READ_REG 0x%08X = 0x%08X", l->port, (unsigned)addr, (unsigned)value);
	*ret_value = value;
	return ZTC_OK;
}

/* esptool ESP8266ROM.read_mac: the OUI is in OTP word 3 when set, else word 1's bits 16-23 choose
 * one of Espressif's first two OUIs; the last three bytes are in words 1 and 0. */
static int mac_esp8266(struct link *l, uint8_t mac[6])
{
	uint32_t mac0, mac1, mac3;
	int rc;

	if ((rc = read_reg(l, ESP8266_OTP_MAC0, &mac0)) < 0 || (rc = read_reg(l, ESP8266_OTP_MAC1, &mac1)) < 0 ||
	    (rc = read_reg(l, ESP8266_OTP_MAC3, &mac3)) < 0)
		return rc;
	if (mac3 != 0) {
		mac[0] = (uint8_t)(mac3 >> 16);
		mac[1] = (uint8_t)(mac3 >> 8);
		mac[2] = (uint8_t)mac3;
	} else if (((mac1 >> 16) & 0xFF) == 0) {
		mac[0] = 0x18;
		mac[1] = 0xFE;
		mac[2] = 0x34;
	} else if (((mac1 >> 16) & 0xFF) == 1) {
		mac[0] = 0xAC;
		mac[1] = 0xD0;
		mac[2] = 0x74;
	} else {
		return ztc_board_fail(l->b, ZTC_ERR_PARSE, "%s: the ESP8266's OTP MAC has an unknown vendor prefix "
				      "(OTP words 0x%08X 0x%08X 0x%08X)", l->port, (unsigned)mac0, (unsigned)mac1,
				      (unsigned)mac3);
	}
	mac[3] = (uint8_t)(mac1 >> 8);
	mac[4] = (uint8_t)mac1;
	mac[5] = (uint8_t)(mac0 >> 24);
	return ZTC_OK;
}

/* The CRC-8 ESP-IDF checks the factory MAC with (esp_rom_efuse_mac_address_crc8: reflected, 0x8C). */
static uint8_t mac_crc8(const uint8_t *p, size_t len)
{
	uint8_t crc = 0;

	while (len--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = crc & 1 ? (uint8_t)((crc >> 1) ^ 0x8C) : (uint8_t)(crc >> 1);
	}
	return crc;
}

/* esptool ESP32ROM.read_mac: eFuse words 2 and 1 of block 0, big-endian, without the top two bytes
 * (the MAC's CRC and a reserved byte). The CRC is checked as ESP-IDF does at boot: a MAC that fails
 * it is a misread, or a chip no firmware runs on (Espressif's own test range excepted). */
static int mac_esp32(struct link *l, uint8_t mac[6])
{
	uint32_t w1, w2;
	uint8_t crc;
	int rc;

	if ((rc = read_reg(l, ESP32_EFUSE_BLK0_WORD2, &w2)) < 0 || (rc = read_reg(l, ESP32_EFUSE_BLK0_WORD1, &w1)) < 0)
		return rc;
	mac[0] = (uint8_t)(w2 >> 8);
	mac[1] = (uint8_t)w2;
	mac[2] = (uint8_t)(w1 >> 24);
	mac[3] = (uint8_t)(w1 >> 16);
	mac[4] = (uint8_t)(w1 >> 8);
	mac[5] = (uint8_t)w1;
	crc = mac_crc8(mac, 6);
	if (crc != (uint8_t)(w2 >> 16)) {
		uint32_t low = w1;
		bool reserved = mac[0] == 0x18 && mac[1] == 0xFE && low >= 0x346A85C7u && low <= 0x346A85F8u;

		if (!reserved)
			return ztc_board_fail(l->b, ZTC_ERR_PARSE, "%s: the ESP32's eFuse MAC "
					      "%02X:%02X:%02X:%02X:%02X:%02X fails its CRC (0x%02X stored, 0x%02X "
					      "computed): run the command again",
					      l->port, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
					      (unsigned)((w2 >> 16) & 0xFF), crc);
	}
	return ZTC_OK;
}

/* The chip behind the port must be the family of the board's class: an ESP32 behind an alias of an
 * ESP8266 board would be registered as the wrong target. ZTC_ERR_NOT_FOUND (the chip the alias names is
 * not there), not ZTC_ERR_UNSUPPORTED: register takes that as a class declining before touching the
 * board and would go on with register.vm. */
static int check_chip(struct link *l)
{
	const char *alias = ztc_board_get_str(l->b, "alias"), *name = ztc_board_get_str(l->b, "name");
	const char *target = ztc_board_get_str(l->b, "target");
	char board[256];
	uint32_t magic;
	int rc;

	if ((rc = read_reg(l, CHIP_DETECT_MAGIC_REG, &magic)) < 0)
		return rc;
	if (magic == chips[l->want].magic)
		return ZTC_OK;
	snprintf(board, sizeof(board), "%s (%s, %s)", alias ? alias : "the board", name ? name : "?",
		 target ? target : "?");
	for (size_t i = 0; i < sizeof(chips) / sizeof(*chips); i++)
		if (magic == chips[i].magic)
			return ztc_board_fail(l->b, ZTC_ERR_NOT_FOUND, "%s: the chip is an %s, but %s has an %s: "
					      "give the board an alias of an %s target", l->port, chips[i].name, board,
					      chips[l->want].name, chips[i].name);
	return ztc_board_fail(l->b, ZTC_ERR_NOT_FOUND, "%s: the chip is not the %s of %s (magic word 0x%08X at "
			      "0x%08X: neither an ESP8266 nor an ESP32)", l->port, chips[l->want].name, board,
			      (unsigned)magic, CHIP_DETECT_MAGIC_REG);
}

/* The chip the board should have, from its device.json family_name: data, as for the board's own
 * classes so for a vendor board that reuses this module under a class name of its own (the default
 * class stands in). Without one of the two names nothing is known to check the chip against: the
 * class declines (ZTC_ERR_UNSUPPORTED, before the board is touched) and register goes on with the
 * registration firmware. */
static int expected_family(ztc_board *b, enum family *ret)
{
	const char *fam = ztc_board_get_str(b, "family_name");

	if (fam && strcmp(fam, "esp32") == 0) {
		*ret = FAM_ESP32;
		return ZTC_OK;
	}
	if (fam && strcmp(fam, "esp8266") == 0) {
		*ret = FAM_ESP8266;
		return ZTC_OK;
	}
	return ztc_board_fail(b, ZTC_ERR_UNSUPPORTED, "%s (%s): family_name is %s%s%s, not \"esp32\" or "
			      "\"esp8266\": the esp module cannot tell which chip to read",
			      ztc_board_get_str(b, "target") ?: "?", ztc_board_get_str(b, "classname") ?: "?",
			      fam ? "\"" : "", fam ? fam : "missing", fam ? "\"" : "");
}

/* The chip id: the base MAC as 12 upper-case hex digits. The board is left in its bootloader. */
static int esp_read_chipid(ztc_board *b, char **ret_chipid)
{
	struct link l = { .b = b, .fd = -1, .port = ztc_board_get_str(b, "port") };
	uint8_t mac[6];
	char *id;
	int rc;

	if (!ret_chipid)
		return ztc_board_fail(b, ZTC_ERR_ARG, "no chip id destination");
	if ((rc = expected_family(b, &l.want)) < 0 || (rc = ztc_board_serial_open(b, ESP_BAUD, &l.fd)) < 0)
		return rc;
	ztc_board_progress(b, -1, "entering the bootloader (DTR/RTS)");
	rc = connect_rom(&l);
	if (rc == ZTC_OK) {
		ztc_board_progress(b, -1, "reading the chip id (ESP ROM loader)");
		rc = check_chip(&l);
	}
	if (rc == ZTC_OK)
		rc = l.want == FAM_ESP32 ? mac_esp32(&l, mac) : mac_esp8266(&l, mac);
	ztc_board_serial_close(b, l.fd);
	if (rc < 0)
		return rc;
	id = malloc(13);
	if (!id)
		return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
	snprintf(id, 13, "%02X%02X%02X%02X%02X%02X", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	ztc_board_log(b, ZTC_LOG_INFO, "%s: %s with MAC %02X:%02X:%02X:%02X:%02X:%02X", l.port, chips[l.want].name,
		      mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	*ret_chipid = id;
	return ZTC_OK;
}

#define ESP(n) { .name = n, .burn = ztc_flash_default, .reset = ztc_flash_reset_default, \
		.read_chipid = esp_read_chipid }

/* The ESP32 boards, then the ESP8266 ones. */
static const ztc_class_desc classes[] = {
	ESP("Esp32DevKitC"),
	ESP("Esp32PicoV4"),
	ESP("HeltecWiFiKit32"),
	ESP("XinaBox_ESP32"),
	ESP("PycomWiPy3"),
	ESP("NodeMCU2"),
	ESP("NodeMCU3"),
	ESP("WemosD1Mini"),
	ESP("FireBeetleESP8266"),
	ESP("SparkfunEsp8266ThingDev"),
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
