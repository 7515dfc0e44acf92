# esp-sim.sh: the ESP ROM loader simulator (tests/tools/esp-sim) against Espressif's published serial
# protocol: the example packets of the esptool documentation ("Serial Protocol", "Tracing Esptool Serial
# Communications") byte for byte, SLIP framing both ways, and MACs decoded from its OTP / eFuse words
# with esptool's own read_mac algorithms (ESP8266ROM.read_mac, ESP32ROM.read_mac) and ESP-IDF's MAC
# CRC-8. Everything here is written from those sources, independently of the esp plugin.
. "$top_srcdir/tests/lib.sh"
set -e
SIM="$top_builddir/tests/tools/esp-sim"
python3 - "$SIM" "$TMP" <<'PY' || failures=$((failures + 1))
import struct, subprocess, sys

SIM, TMP = sys.argv[1], sys.argv[2]
failed = 0

def check(cond, what, detail=""):
    global failed
    if cond:
        print("ok:", what)
    else:
        failed += 1
        print("FAIL:", what, detail, file=sys.stderr)

def sim(args, data):
    return subprocess.run([SIM] + args, input=data, stdout=subprocess.PIPE, timeout=20, check=True).stdout

# SLIP as the documentation states it: each packet begins and ends with 0xC0; inside, 0xC0 and 0xDB
# are sent as 0xDB 0xDC and 0xDB 0xDD.
def slip(pkt):
    return b"\xc0" + pkt.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"

def unslip(wire):
    """The packets of a byte stream that holds only SLIP packets; None if anything else is in it."""
    if not wire.startswith(b"\xc0") or not wire.endswith(b"\xc0"):
        return None
    out = []
    for part in wire[1:-1].split(b"\xc0\xc0"):
        if b"\xc0" in part:
            return None
        i, pkt = 0, bytearray()
        while i < len(part):
            if part[i] == 0xDB:
                nxt = part[i + 1:i + 2]
                if nxt == b"\xdc":
                    pkt.append(0xC0)
                elif nxt == b"\xdd":
                    pkt.append(0xDB)
                else:
                    return None
                i += 2
            else:
                pkt.append(part[i])
                i += 1
        out.append(bytes(pkt))
    return out

def responses(wire):
    """Whatever the stream holds, the well-formed responses in it (noise skipped, as esptool does)."""
    got = []
    for part in wire.split(b"\xc0"):
        if b"\xdb" in part.replace(b"\xdb\xdc", b"").replace(b"\xdb\xdd", b""):
            continue
        pkt = part.replace(b"\xdb\xdc", b"\xc0").replace(b"\xdb\xdd", b"\xdb")
        if len(pkt) >= 8 and pkt[0] == 1 and struct.unpack("<H", pkt[2:4])[0] == len(pkt) - 8:
            got.append(pkt)
    return got

# Command packet: direction 0, command, size of data, checksum, data (all little-endian).
def request(op, data, chk=0):
    return struct.pack("<BBHI", 0x00, op, len(data), chk) + data

def read_reg(addr):
    return slip(request(0x0A, struct.pack("<I", addr)))

def parse(pkt):
    direction, op, size, value = struct.unpack("<BBHI", pkt[:8])
    return direction, op, size, value, pkt[8:]

def reg_values(chip, addrs, extra=()):
    wire = sim(["--chip", chip] + list(extra), b"".join(read_reg(a) for a in addrs))
    pkts = unslip(wire)
    assert pkts is not None and len(pkts) == len(addrs), wire.hex()
    return [parse(p)[3] for p in pkts]

# ---- the documentation's own example packets ----------------------------------------------------
# "Here is a second example showing part of the initial synchronization sequence": the bytes esptool
# wrote, and the packet the ESP32 ROM answered with, several times.
DOC_SYNC_WIRE = bytes.fromhex(
    "c000082400000000" "0007071220555555" "5555555555555555" "5555555555555555"
    "5555555555555555" "5555555555c0")
DOC_SYNC_REPLY = bytes.fromhex("010804000712205500000000")
check(len(DOC_SYNC_WIRE) == 46, "the documented SYNC request is 46 bytes on the wire, as the trace says")
check(unslip(DOC_SYNC_WIRE) == [request(0x08, b"\x07\x07\x12\x20" + b"\x55" * 32)],
      "the documented SYNC request is the documented command packet (SYNC, 36-byte payload)")
out = sim(["--chip", "esp32"], DOC_SYNC_WIRE)
check(out == slip(DOC_SYNC_REPLY) * 8,
      "ESP32: the documented SYNC request gets the documented reply packet, 8 times (esptool reads 7 more)",
      out.hex())
pkts = unslip(sim(["--chip", "esp8266"], DOC_SYNC_WIRE)) or []
check(len(pkts) == 8 and all(parse(p)[:3] == (1, 0x08, 2) and parse(p)[3] != 0 and parse(p)[4] == b"\0\0"
                              for p in pkts),
      "ESP8266: 8 SYNC replies with a non-zero value (the ROM's) and 2 status bytes (0 = success)")

# "Here is a sample extract, showing a READ_REG command and response" (2 status bytes: the ESP8266
# layout). With the word it read placed at that address, the reply must be the documented one.
DOC_RR_WIRE = bytes.fromhex("c0000a0400000000001400f43fc0")
DOC_RR_REPLY = bytes.fromhex("010a0200620100000000")
check(unslip(DOC_RR_WIRE) == [request(0x0A, struct.pack("<I", 0x3FF40014))],
      "the documented READ_REG request reads address 0x3FF40014")
out = sim(["--chip", "esp8266", "--reg", "0x3FF40014=0x162"], DOC_RR_WIRE)
check(out == slip(DOC_RR_REPLY), "ESP8266: the documented READ_REG request gets the documented reply", out.hex())
pkts = unslip(sim(["--chip", "esp32", "--reg", "0x3FF40014=0x162"], DOC_RR_WIRE)) or [b""]
check(pkts[0] == bytes.fromhex("010a04006201000000000000"),
      "ESP32 ROM: the same reply with 4 status bytes (status, error, 2 reserved)", pkts[0].hex())

# ---- chip detection: CHIP_DETECT_MAGIC_REG_ADDR 0x40001000, esptool's MAGIC values ----------------
check(reg_values("esp8266", [0x40001000]) == [0xFFF0C101], "ESP8266: magic word 0xFFF0C101 at 0x40001000")
check(reg_values("esp32", [0x40001000]) == [0x00F01D83], "ESP32: magic word 0x00F01D83 at 0x40001000")

# ---- the MAC, decoded as esptool decodes it -----------------------------------------------------
def esptool_esp8266_read_mac(mac0, mac1, mac3):
    if mac3 != 0:
        oui = ((mac3 >> 16) & 0xFF, (mac3 >> 8) & 0xFF, mac3 & 0xFF)
    elif ((mac1 >> 16) & 0xFF) == 0:
        oui = (0x18, 0xFE, 0x34)
    elif ((mac1 >> 16) & 0xFF) == 1:
        oui = (0xAC, 0xD0, 0x74)
    else:
        raise ValueError("Unknown OUI")
    return oui + ((mac1 >> 8) & 0xFF, mac1 & 0xFF, (mac0 >> 24) & 0xFF)

def esptool_esp32_read_mac(efuse1, efuse2):
    return tuple(struct.pack(">II", efuse2, efuse1)[2:8])

def esp_crc8(data):
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc

def mac_text(m):
    return ":".join("%02x" % b for b in m)

for mac in ["18:fe:34:a1:b2:c3", "ac:d0:74:01:02:03", "5c:cf:7f:c0:db:11", "84:f3:eb:00:00:ff"]:
    m0, m1, m3 = reg_values("esp8266", [0x3FF00050, 0x3FF00054, 0x3FF0005C], ["--mac", mac])
    check(mac_text(esptool_esp8266_read_mac(m0, m1, m3)) == mac,
          "ESP8266 %s: esptool's read_mac decodes the OTP words to it" % mac, "%08x %08x %08x" % (m0, m1, m3))
for mac in ["24:0a:c4:12:34:56", "30:ae:a4:c0:db:07", "c0:db:c0:db:c0:db"]:
    w1, w2 = reg_values("esp32", [0x3FF5A004, 0x3FF5A008], ["--mac", mac])
    m = esptool_esp32_read_mac(w1, w2)
    check(mac_text(m) == mac, "ESP32 %s: esptool's read_mac decodes eFuse words 1 and 2 to it" % mac)
    check((w2 >> 16) & 0xFF == esp_crc8(m), "ESP32 %s: eFuse word 2 holds the MAC's CRC-8 (ESP-IDF)" % mac)
# The defaults the other tests rely on.
check(mac_text(esptool_esp32_read_mac(*reg_values("esp32", [0x3FF5A004, 0x3FF5A008]))) == "24:0a:c4:12:34:56",
      "ESP32 default MAC 24:0a:c4:12:34:56")
check(mac_text(esptool_esp8266_read_mac(*reg_values("esp8266", [0x3FF00050, 0x3FF00054, 0x3FF0005C])))
      == "18:fe:34:12:34:56", "ESP8266 default MAC 18:fe:34:12:34:56")

# ---- SLIP both ways ------------------------------------------------------------------------------
wire = sim(["--chip", "esp32", "--mac", "c0:db:c0:db:c0:db"], read_reg(0x3FF5A004))
check(b"\xdb\xdc" in wire and b"\xdb\xdd" in wire and unslip(wire) is not None and
      parse(unslip(wire)[0])[3] == 0xC0DBC0DB, "a reply holding 0xC0 and 0xDB is escaped", wire.hex())
# A request whose (unused) checksum holds 0xC0 and 0xDB: escaped by the host, unescaped by the ROM.
wire = sim(["--chip", "esp8266"], slip(request(0x0A, struct.pack("<I", 0x40001000), chk=0xDBC0DBC0)))
pkts = unslip(wire) or [b"\0" * 8]
check(parse(pkts[0])[3] == 0xFFF0C101, "an escaped request is unescaped (READ_REG answered)", wire.hex())
# A frame with an invalid escape is dropped; the next one is answered.
bad = b"\xc0" + request(0x0A, struct.pack("<I", 0x40001000))[:6] + b"\xdb\x00\x00\x00\x00\x10\x00\x40\xc0"
pkts = unslip(sim(["--chip", "esp8266"], bad + read_reg(0x40001000))) or []
check(len(pkts) == 1 and parse(pkts[0])[3] == 0xFFF0C101, "a frame with a bad escape is dropped, the next answered")

# ---- errors: "0x05 Received message is invalid (parameters or length field is invalid)" -----------
pkts = unslip(sim(["--chip", "esp32"], slip(struct.pack("<BBHI", 0, 0x0A, 8, 0) + b"\0\0\0\0"))) or [b""]
check(pkts[0][:2] == b"\x01\x0a" and pkts[0][8:10] == b"\x01\x05", "a size field that lies: status 1, error 0x05",
      pkts[0].hex())
pkts = unslip(sim(["--chip", "esp8266"], slip(request(0x08, b"\x07\x07\x12\x20" + b"\x00" * 32)))) or []
check(pkts == [], "a SYNC with another payload is not a sync: no answer")

# ---- the options the plugin tests use ---------------------------------------------------------------
check(sim(["--chip", "esp32", "--silent", "--log", TMP + "/silent.log"], DOC_SYNC_WIRE * 3) == b"",
      "--silent answers nothing")
check(open(TMP + "/silent.log").read() == "SYNC\nSYNC\nSYNC\n", "--log names each frame received")
pkts = unslip(sim(["--chip", "esp32", "--sync-misses", "2"], DOC_SYNC_WIRE * 3)) or []
check(len(pkts) == 8, "--sync-misses 2: only the third SYNC is answered (8 replies)", str(len(pkts)))
for chip in ("esp8266", "esp32"):
    wire = sim(["--chip", chip, "--garbage"], DOC_SYNC_WIRE)
    syncs = [p for p in responses(wire) if p[1] == 0x08]
    check(unslip(wire) is None and len(syncs) == 8,
          "%s --garbage: boot output first, then the 8 SYNC replies intact" % chip)
    if chip == "esp8266":
        check(b"\xdb\x00" in wire and wire.count(b"\xc0") > 16, "esp8266 --garbage: the noise has 0xC0 and bad escapes")
    else:
        check(b"waiting for download" in wire, "esp32 --garbage: the ROM's boot log at 115200 baud")
sys.exit(1 if failed else 0)
PY
finish
