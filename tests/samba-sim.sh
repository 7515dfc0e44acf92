# samba-sim.sh: the SAM-BA simulator's own behaviour, spoken to directly over its pty: the SAM3X's unique
# id through EEFC0 (STUI makes FRDY fall and the flash read as the id, SPUI restores both), the SAMD21's
# serial-number words, terminal mode, a bus fault that hangs the monitor, and a hand-assembled Thumb
# program (loop, flags, BL, PUSH/POP, literal load) run through G, beyond what bossac's applet uses.
. "$top_srcdir/tests/lib.sh"
set -e
sims=""
trap 'for p in $sims; do kill "$p" 2>/dev/null; done; wait; rm -rf "$TMP"' EXIT
samba_sim sam3x --chip sam3x8e --uid 00112233445566778899AABBCCDDEEFF --flash "$TMP/flash"
samba_sim d21 --chip samd21g18a --uid 0A0B0C0D1A1B1C1D2A2B2C2D3A3B3C3D
samba_sim fault --chip samd21g18a

python3 - "$TMP" <<'PY' || failures=$((failures + 1))
import os, select, struct, sys, termios, time, tty
tmp = sys.argv[1]
bad = 0

def check(ok, what):
    global bad
    print(("ok: " if ok else "FAIL: ") + what)
    bad += not ok

class Port:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
    def send(self, s):
        os.write(self.fd, s if isinstance(s, bytes) else s.encode())
    def recv(self, n, timeout=1.0):
        out = b""
        end = time.time() + timeout
        while len(out) < n and time.time() < end:
            r, _, _ = select.select([self.fd], [], [], max(0, end - time.time()))
            if r:
                out += os.read(self.fd, n - len(out))
        return out
    def word(self, addr):
        self.send("w%08X,4#" % addr)
        b = self.recv(4)
        return struct.unpack("<I", b)[0] if len(b) == 4 else None

# ---- SAM3X: the unique identifier through EEFC0 --------------------------------------------------------
p = Port(tmp + "/sam3x")
p.send("N#"); check(p.recv(2) == b"\n\r", "SAM3X: N# answers \\n\\r")
p.send("V#"); check(p.recv(27).startswith(b"v1.1 "), "SAM3X: V# answers the ROM's version line")
check(p.word(0xE000ED00) == 0x412FC230, "SAM3X: CPUID of a Cortex-M3")
check(p.word(0x400E0940) == 0x285E0A60, "SAM3X: CHIPID_CIDR of a SAM3X8E")
before = p.word(0x00080000)
check(p.word(0x400E0A08) & 1 == 1, "SAM3X: FRDY set before STUI")
p.send("W400E0A04,5A00000E#")
check(p.word(0x400E0A08) & 1 == 0, "SAM3X: STUI makes FRDY fall")
words = [p.word(0x00080000 + 4 * i) for i in range(4)]
check(words == [0x00112233, 0x44556677, 0x8899AABB, 0xCCDDEEFF], "SAM3X: the flash reads as the unique id in address order")
p.send("W400E0A04,5A00000F#")
check(p.word(0x400E0A08) & 1 == 1, "SAM3X: SPUI raises FRDY")
check(p.word(0x00080000) == before, "SAM3X: after SPUI the flash reads as flash again")
p.send("W400E0A04,1200000E#")
check(p.word(0x400E0A08) & 2 == 2, "SAM3X: a command with the wrong key sets FCMDE")
check(p.word(0x400E0A08) & 2 == 0, "SAM3X: FCMDE is cleared once read")
# Terminal mode: hexadecimal text and a prompt.
p.send("T#"); p.recv(10, 0.3)
p.send("w400E0940,4#")
check(p.recv(64, 0.5) == b"\n\r0x285E0A60\n\r>", "SAM3X: terminal mode answers w in hex with a prompt")
p.send("N#"); check(p.recv(2) == b"\n\r", "SAM3X: N# back to binary mode")

# ---- SAMD21: DSU DID, serial number, a Thumb program through G -----------------------------------------
d = Port(tmp + "/d21")
d.send("N#"); d.recv(2)
check(d.word(0xE000ED00) == 0x410CC601, "SAMD21: CPUID of a Cortex-M0+")
check(d.word(0x41002018) & 0xFFFF00FF == 0x10010005, "SAMD21: DSU DID of a SAMD21G18A")
serial = [d.word(a) for a in (0x0080A00C, 0x0080A040, 0x0080A044, 0x0080A048)]
check(serial == [0x0A0B0C0D, 0x1A1B1C1D, 0x2A2B2C2D, 0x3A3B3C3D], "SAMD21: the four serial-number words")
# sum = 10 + 9 + ... + 1 in a loop, doubled by a BL subroutine, stored through a literal address.
prog = struct.pack("<11H", 0xB510, 0x2000, 0x210A, 0x1840, 0x3901, 0xD1FC, 0xF000, 0xF806, 0x4A01, 0x6010,
                   0xBD10) + struct.pack("<H", 0x46C0) + struct.pack("<I", 0x20003000) + struct.pack("<2H", 0x0040, 0x4770)
vec = struct.pack("<II", 0x20004000, 0x20002001)
d.send("S20002000,%08X#" % len(prog)); time.sleep(0.05); d.send(prog)
d.send("S20002100,%08X#" % len(vec)); time.sleep(0.05); d.send(vec)
d.send("W20003000,00000000#")
d.send("G20002100#")
check(d.word(0x20003000) == 110, "SAMD21: the Thumb program ran and returned (2 * 55 = 110)")
check(d.word(0x20003000) == 110, "SAMD21: the monitor answers after the program returned")

# ---- a bus fault hangs the monitor, as on the chip ------------------------------------------------------
f = Port(tmp + "/fault")
f.send("N#"); f.recv(2)
f.send("w60000000,4#")
check(f.recv(4, 0.5) == b"", "fault: a read where no bus decodes gets no answer")
f.send("N#")
check(f.recv(2, 0.5) == b"", "fault: the monitor answers nothing more")
sys.exit(1 if bad else 0)
PY
finish
