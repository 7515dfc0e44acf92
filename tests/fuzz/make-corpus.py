#!/usr/bin/env python3
# make-corpus.py: (re)writes the seed corpora of tests/fuzz/corpus/<target> from the board database,
# the udev test records and the protocol documents' examples. Run from anywhere: ./make-corpus.py
import base64, glob, hashlib, json, os, shutil

here = os.path.dirname(os.path.abspath(__file__))
top = os.path.dirname(os.path.dirname(here))
out = os.path.join(here, "corpus")


def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# board-cache is the one corpus not written here: its seed is a cache file ztc itself wrote, made by
# `FUZZ_WRITE_SEED=$PWD/tests/fuzz/corpus/board-cache/fixture tests/fuzz/replay-board-cache /dev/null`
# (see fuzz-board-cache.c); it is kept.
for d in glob.glob(os.path.join(out, "*")):
    if os.path.basename(d) != "board-cache":
        shutil.rmtree(d, ignore_errors=True)

# device.json: every board of the built-in database.
for p in sorted(glob.glob(os.path.join(top, "db", "*", "device.json"))):
    put("device-json", os.path.basename(os.path.dirname(p)), open(p, "rb").read())

# device.json flash objects (core/lib/flash-check.c): every part of the format once, and shapes it refuses.
flash_board = {"name": "F", "target": "flash_seed", "type": "board",
               "classes": [{"class": "sim.SimBoard", "usb": ["1D6B:0104"]}]}
flash_seeds = {
    "flash-full": {"version": 1, "method": "tool", "tool": "t", "args": ["-p", "{port}", "{images}", "{script}"],
                   "script": ["load {address}", "{tmpdir}"], "address": "0x0", "ok_when": "exit_and_text",
                   "ok_text": "OK", "timeout_s": 5, "touch1200": True, "touch_wait_ms": 10,
                   "pre": [{"tool": "p", "args": ["{sid}", "{vid}:{pid}"]}],
                   "images": [{"part": 0, "address": "0x1000"}, {"part": 1, "follows": 0, "align": 4096}],
                   "reset": {"method": "serial", "baud": 1200, "steps": [{"dtr": True, "rts": False},
                                                                         {"sleep_ms": 5}, {"close": True}]},
                   "enter_virtualizable": {"method": "tool", "args": ["{port}"]},
                   "erase": {"method": "tool", "tool": "e", "ok_when": "text", "ok_text": "erased"}},
    "flash-disk": {"method": "disk", "file": "x.bin", "pad_to": 1024, "pad_if_below": 512, "max_size": 4096,
                   "append_zeros": 4, "sleep_ms": 1, "sleep_ms_per_mib": 100},
    "flash-cycle": {"method": "tool", "tool": "t", "args": ["{images}"],
                    "images": [{"part": 0, "follows": 1}, {"part": 1, "follows": 0}]},
    "flash-placeholders": {"method": "tool", "tool": "t", "args": ["{file}{", "}{x}", "{" + "k" * 64 + "}"]},
    "flash-version-2": {"version": 2, "method": "probe", "probe": "stlink"},
}
for name, flash in flash_seeds.items():
    put("device-json", name, json.dumps(dict(flash_board, flash=flash)))

# devices.json: the shapes ztc writes and a few it must refuse.
entry = {"alias": "due", "uid": "5a41b0f0e1b4b1e2f6c3c6bd1a4d4ac8f0a0c2c1", "name": "Arduino Due",
         "target": "arduino_due", "chipid": "ABCDEF0123456789", "remote_id": "dev-1234",
         "classname": "ArduinoDue"}
put("devices-json", "empty", json.dumps({"devices": []}, indent=4))
put("devices-json", "one", json.dumps({"devices": [entry]}, indent=4))
e2 = dict(entry, alias="photon", uid="0c1d8e7a1f53b7c6d2a9e4f0b1c2d3e4f5a6b7c8", target="particle_photon",
          classname=None, chipid=None, remote_id=None, name=None)
put("devices-json", "two-nulls", json.dumps({"devices": [entry, e2]}, indent=4))
put("devices-json", "not-string", '{"devices":[{"alias":"a","uid":"u","target":"t","chipid":1}]}')
put("devices-json", "missing", '{"devices":[{"alias":"a","uid":"u"}]}')
put("devices-json", "utf8", json.dumps({"devices": [dict(entry, name="Kitchen \u2014 \u00e8")]}, ensure_ascii=False))

# .vm files: the simulated board's register.vm, and the forms of `bin` and `loc`.
put("firmware", "ztc_sim-register.vm", open(os.path.join(top, "db", "ztc_sim", "register.vm"), "rb").read())
b = lambda s: base64.b64encode(s).decode()
put("firmware", "string", json.dumps({"bin": b(b"\x00\x01\x02hello"), "dev_type": "arduino_due", "size": 9}))
put("firmware", "list-loc", json.dumps({"bin": [b(b"boot"), b(b"part"), b(b"app")],
                                        "loc": ["0x1000", "0x8000", "0x10000"], "on_chip_id": "x"}))
put("firmware", "bad-base64", '{"bin": "QUJD*"}')
put("firmware", "loc-mismatch", json.dumps({"bin": [b(b"a"), b(b"b")], "loc": ["0x1000"]}))


# Backend replies: one byte choosing the HTTP status (0: 200, 6: 400, 9: 404, 10: 500), then the body.
def reply(code_idx, body):
    return bytes([code_idx]) + (body if isinstance(body, bytes) else body.encode())


img = hashlib.sha256(b"vm").digest() * 8
vm = {"type": "vm", "name": "test", "dev_type": "arduino_due", "on_chip_id": "ABCDEF0123456789",
      "version": "r2.6.0", "patch": "base", "rtos": "chibi2", "features": [],
      "hash_features": hashlib.sha1(b"").hexdigest(), "bin": b(img), "size": 1, "vmstore": 1024,
      "map": {"vm": ["0x80000"], "sym": {"vm_main": "0x80101"}}, "changelog": "\u2014 \"q\" \\ /",
      "ratio": 1.5e-3}
put("backend-reply", "register", reply(0, json.dumps({"status": "success", "data": {"uid": "dev-1234"}})))
put("backend-reply", "download", reply(0, '{"status": "success",\n "data": ' +
                                       json.dumps(vm, indent=2, ensure_ascii=False) + "\n}"))
put("backend-reply", "list", reply(0, json.dumps({"status": "success", "data": {"list": [
    {"uid": "vm1", "name": "a", "core_dep": "r2.6.0", "version": "r2.6.0", "dev_type": "arduino_due",
     "rtos": "chibi2", "features": ["wifi", "tls"]}], "total": 1}})))
put("backend-reply", "refused", reply(6, json.dumps({"status": "fail", "message": "invalid request: missing name"})))
put("backend-reply", "not-found", reply(9, json.dumps({"status": "fail", "message": "VM x not found"})))
put("backend-reply", "html", reply(10, "<html><body>Internal Server Error</body></html>"))
put("backend-reply", "no-status", reply(0, '{"data": {}}'))


# Around the nesting cap of libztc's JSON parse (64 levels: 64 passes, 65 is refused) and the store's
# and the database's rules (issue 11). The 300,000-deep inputs that crashed yajl are in ../crashes: as
# seeds they would raise libFuzzer's default -max_len to their size.
def nest(n, inner="1"):
    return "[" * n + inner + "]" * n


board = '{"name": "Nest", "target": "nest", "type": "board", "classes": [{"class": "m.C", "usb": ["2341:003D"]}], "x": %s}'
put("device-json", "nested-64", board % nest(63))
put("device-json", "nested-65", board % nest(64))
put("device-json", "class-path", board.replace("m.C", "/tmp/evil.Evil") % "1")
put("devices-json", "nested-65", '{"devices": [%s]}' % nest(62, json.dumps(entry)))
put("devices-json", "dup-alias", json.dumps({"devices": [entry, dict(e2, alias="due")]}))
put("devices-json", "dup-uid", json.dumps({"devices": [entry, dict(entry, alias="due2")]}))
put("devices-json", "bad-alias", json.dumps({"devices": [dict(entry, alias="my due")]}))
put("firmware", "nested-64", '{"bin": "QUJD", "x": %s}' % nest(63))
put("firmware", "nested-65", '{"bin": "QUJD", "x": %s}' % nest(64))
put("backend-reply", "nested-65", reply(0, '{"status": "success", "data": {"uid": "u", "x": %s}}' % nest(63)))
put("backend-reply", "nested-65-500", reply(10, '{"status": "fail", "message": "m", "x": %s}' % nest(64)))


# udev properties: every device of the umockdev test records, as SUBSYSTEM/DEVNAME/KEY=VALUE lines.
for p in sorted(glob.glob(os.path.join(top, "tests", "data", "*.umockdev"))):
    recs, cur = [], []
    for line in open(p, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("P: "):
            if cur:
                recs.append(cur)
            cur = []
        elif line.startswith("E: "):
            cur.append(line[3:])
    if cur:
        recs.append(cur)
    text = "\n\n".join("\n".join(r) for r in recs if any(k.startswith("SUBSYSTEM=") for k in r))
    put("udev-props", os.path.splitext(os.path.basename(p))[0], text + "\n")
put("udev-props", "hid", "SUBSYSTEM=hid\nHID_ID=0003:0000046D:0000C31C\nHID_NAME=Logitech Keyboard\nHID_UNIQ=abc\n")


# ADM lines (ADM-PROTOCOL.md): one settings byte (3: no veto, 7: no veto and a restart callback),
# then the server's lines; the first line of each session is the login reply.
def adm(settings, lines):
    return bytes([settings]) + "\n".join(lines).encode() + b"\n"


J = lambda o: json.dumps(o, separators=(",", ":"))
put("adm-lines", "login-call", adm(3, [J({"ts": 1700000000, "htbm": 30}),
                                       J({"cmd": "CALL", "method": "echo", "args": [1, "two", {"3": None}], "id": 7, "ret": True}),
                                       J({"cmd": "CALL", "method": "fail", "args": [], "id": "x", "ret": True}),
                                       J({"cmd": "CALL", "method": "bad", "id": 9, "ret": True}),
                                       J({"cmd": "CALL", "method": "nope", "id": 10, "ret": True}),
                                       J({"cmd": "CALL", "method": "null", "args": "notalist", "id": 11, "ret": False}),
                                       J({"terminate": 1}), J({"err": "bad token"}), J({})]))
put("adm-lines", "malformed", adm(3, [J({}), "{not json", "[1,2]", J({"cmd": "NOPE"}), "", "x" * 1100, J({})]))


def fota(settings, bc_data, vm_data, chunk, crc_ok=True, extra=()):
    lines = [J({})]
    start = {"cmd": "OTA", "chunk": chunk, "bcsize": len(bc_data), "bc": 1,
             "vmsize": len(vm_data) if vm_data else 0}
    if vm_data:
        start["vm"] = 1
    lines.append(J(start))
    for t, data in (("b", bc_data), ("v", vm_data)):
        if not data:
            continue
        for i in range(0, len(data), chunk):
            lines.append(J({"cmd": "OTA", "bin": b(data[i:i + chunk]), "t": t}))
        md5 = hashlib.md5(data).hexdigest() if crc_ok else "0" * 32
        lines.append(J({"cmd": "OTA", "crc": md5, "t": t}))
    # After the restart: log in again and confirm.
    lines += [J({}), J({"cmd": "OTA", "ok": 1, "bc": 1, "vm": 1 if vm_data else 0})]
    lines += list(extra)
    return adm(settings, lines)


bc = hashlib.sha256(b"bytecode").digest() * 5   # 160 bytes
vmimg = hashlib.sha256(b"vm").digest() * 3      # 96 bytes
put("adm-lines", "fota-bc-only", fota(3, bc, None, 64))
put("adm-lines", "fota-bc-vm", fota(7, bc, vmimg, 64))
put("adm-lines", "fota-bad-crc", fota(3, bc, None, 100, crc_ok=False))
put("adm-lines", "fota-veto", fota(1, bc, None, 64))
put("adm-lines", "fota-faults", adm(3, [J({}),
                                        J({"cmd": "OTA", "chunk": 64, "bcsize": 10, "bc": 0, "vmsize": 0}),
                                        J({"cmd": "OTA", "bin": b(b"x"), "t": "b"}),
                                        J({"cmd": "OTA", "chunk": 64, "bcsize": 10, "bc": 1}),
                                        J({"cmd": "OTA", "bin": b(b"x"), "t": "v"}),
                                        J({"cmd": "OTA", "bin": "!!!", "t": "b"}),
                                        J({"cmd": "OTA", "crc": "00", "t": "b"}),
                                        J({"cmd": "OTA", "ok": 1, "bc": 5, "vm": 5}),
                                        J({"cmd": "OTA"})]))

# Hostile servers (issue 11): slot numbers and sizes beyond any store, 2^32 plus the running slot;
# nesting at and past the 64-level cap; strings with \u0000, a lone surrogate, raw bytes not UTF-8.
deep_ok = "[" * 63 + "]" * 63
deep_bad = "[" * 64 + "]" * 64
put("adm-lines", "hostile", adm(3, [J({}),
                                    J({"cmd": "OTA", "chunk": 64, "bcsize": 10, "bc": 4294967296, "vmsize": 0}),
                                    J({"cmd": "OTA", "chunk": 64, "bcsize": 10, "bc": 1, "vmsize": 10, "vm": 4294967296}),
                                    '{"cmd":"OTA","chunk":64,"bcsize":10,"bc":18446744073709551616}',
                                    '{"cmd":"OTA","chunk":64,"bcsize":1e30,"bc":1}',
                                    J({"cmd": "OTA", "chunk": 64, "bcsize": 70000, "bc": 1}),
                                    '{"cmd":"CALL","method":"echo","id":1,"ret":true,"args":' + deep_ok + '}',
                                    '{"cmd":"CALL","method":"echo","id":2,"ret":true,"args":[' + deep_bad + ']}',
                                    '{"cmd":"CALL","method":"echo","id":3,"ret":true,"args":["a\\u0000b"]}',
                                    '{"cmd":"CALL","method":"echo","id":4,"ret":true,"args":["\\udc00"]}',
                                    "[" * 1000]) + b'{"cmd":"CALL","method":"echo","id":5,"ret":true,"args":["\xc0\x80\xed\xa0\x80"]}\n')

# FOTA records: one byte (slots - 1), then record.json as the store writes it.
rec = {"bc": 0, "vm": 0, "last_bc": 0, "last_vm": 0, "state": "ok", "chunk": 4096}
put("fota-record", "ok", bytes([1]) + J(rec).encode() + b"\n")
put("fota-record", "attempt", bytes([1]) + J(dict(rec, bc=1, vm=1, state="attempt")).encode() + b"\n")
put("fota-record", "trying", bytes([3]) + J(dict(rec, bc=3, vm=2, state="trying")).encode() + b"\n")
put("fota-record", "bad-slot", bytes([0]) + J(dict(rec, bc=1)).encode() + b"\n")
put("fota-record", "deep", bytes([1]) + b"[" * 2000 + b"]" * 2000 + b"\n")
