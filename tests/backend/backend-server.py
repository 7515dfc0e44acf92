#!/usr/bin/env python3
"""backend-server.py: a local Zerynth backend for the tests (BACKEND-API.md over real HTTP(S) on 127.0.0.1).

Serves POST /devices, POST /vms, GET /vms/<uid> and GET /vms?from=N under the base path /v1, records
every request as one JSON line (method, path, headers, body, json) in --log, and misbehaves on demand.

Scenarios: the --control file is read at each request; its first line whose METHOD (or *) and PATH
prefix (after /v1, or *) match the request decides the reply:
    ok                    the normal reply
    fail MESSAGE...       HTTP 200 {"status": "fail", "message": MESSAGE}
    http CODE [MESSAGE]   HTTP CODE with {"status": "fail", "message": MESSAGE}, or an HTML page
    nonjson               HTTP 200 with an HTML page
    nodata                HTTP 200 {"status": "success"}
    nouid                 HTTP 200 {"status": "success", "data": {}}
    slow SECONDS          wait, then the normal reply (the request is recorded first)
    close                 close the connection without replying
    vmuid UID             POST /vms: create the VM under this uid
    vmdel KEY             GET /vms/<uid>: the .vm without KEY
    vmset KEY JSON        GET /vms/<uid>: the .vm with KEY set to the JSON value
    echo                  HTTP 200 {"status": "fail", "message": "<the Authorization header>"}
    endless               GET /vms?from=N: a full page of made-up VMs whatever N (a list that never ends)
    deep CODE             HTTP CODE with {"status": "success", "data": {"uid": "deep", "x": [[[...]]]}},
                          the list nested 300,000 deep
"N*SCENARIO" applies to the first N matching requests only (counted per control line); later ones
fall through to the next lines. A missing or empty control file means "ok" for everything.

It exits by itself after --max-time seconds, and as soon as the process that started it is gone.
"""
import argparse
import base64
import hashlib
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

BASE = "/v1"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.devices = {}  # remote uid -> {type, on_chip_id, name, category}
        self.vms = {}  # vm uid -> .vm object
        self.order = []  # vm uids, creation order
        self.counter = 0
        self.used = {}  # control line -> how many requests it has decided
        self.control_text = ""
        for d in args.device:
            uid, dtype, chip = d.split(",")
            self.devices[uid] = {"type": dtype, "on_chip_id": chip, "name": uid, "category": None}

    def record(self, entry):
        with self.lock, open(self.args.log, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def scenario(self, method, path):
        try:
            with open(self.args.control, encoding="utf-8", newline="") as f:
                text = f.read()
        except (OSError, TypeError):
            text = ""
        with self.lock:
            if text != self.control_text:  # a new scenario: its counts start again
                self.control_text = text
                self.used = {}
        lines = text.split("\n")  # not splitlines(): a message may hold \r or \v
        for line in lines:
            parts = line.split()
            if len(parts) < 3 or line.startswith("#"):
                continue
            if parts[0] not in ("*", method):
                continue
            if parts[1] != "*" and not path.startswith(parts[1]):
                continue
            what = parts[2]
            count, star, rest = what.partition("*")
            if star and count.isdigit():
                # "N*SCENARIO": only the first N matching requests; later ones fall through.
                with self.lock:
                    used = self.used.get(line, 0)
                    self.used[line] = used + 1
                if used >= int(count):
                    continue
                what = rest
            return what, line.split(None, 3)[3] if len(parts) > 3 else ""
        return "ok", ""


def image(seed, size=4096):
    """Deterministic bytes standing for a VM image."""
    out = b""
    block = seed.encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return out[:size]


def make_vm(uid, body, dev):
    feats = body["features"]
    img = image(uid)
    return {
        "type": "vm",
        "name": body["name"],
        "dev_type": dev["type"],
        "on_chip_id": dev["on_chip_id"],
        "version": body["version"],
        "patch": body["patch"],
        "rtos": body["rtos"],
        "features": feats,
        "hash_features": hashlib.sha1(",".join(sorted(feats)).encode()).hexdigest(),
        "bin": base64.b64encode(img).decode(),
        "size": 1,
        "vmstoreidx": 0,
        "vmstore": len(img) - 1024,
        "bcloc": ["0x90000"],
        "map": {"vm": ["0x80000"], "bc": ["0x90000"], "bcdelta": "0x0", "memstart": "0x20070000",
                "memdelta": 0, "sym": {"vm_main": "0x80101"}, "table": {}, "dbg": ""},
        "cc": "arm-none-eabi-gcc",
        "relocator": "cortex-m",
        "gccopts": {"arch": "cortex-m3", "cflags": ["-mthumb", "-Os"], "defs": []},
        "rodata_in_ram": False,
        "hexversion": "0x02000a",
        "ts": 1700000000,
        "changelog": "Test VM \u2014 built by the ztc test backend \u2713 \"quoted\" \\ slash/",
        "ratio": 1.5e-3,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ztc-test-backend/1"

    def setup(self):
        super().setup()
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()

    def log_message(self, fmt, *args):
        if self.server.state.args.verbose:
            sys.stderr.write("backend-server: " + (fmt % args) + "\n")

    def send(self, code, payload=None, text=None):
        if text is None:
            text = json.dumps(payload)
        data = text.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if payload is not None else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def ok(self, data):
        self.send(200, {"status": "success", "data": data})

    def refuse(self, code, message):
        self.send(code, {"status": "fail", "message": message})

    def handle_any(self, method):
        st = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = raw.decode("utf-8", "replace") if raw else None
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        st.record({"method": method, "path": self.path, "headers": dict(self.headers.items()),
                   "body": body, "json": parsed})
        url = urlsplit(self.path)
        if not url.path.startswith(BASE + "/"):
            return self.refuse(404, "no such endpoint: " + url.path)
        path = url.path[len(BASE):]
        rel = path + ("?" + url.query if url.query else "")
        what, arg = st.scenario(method, rel)
        if what == "slow":
            time.sleep(float(arg or 5))
            what = "ok"
        if what == "close":
            self.close_connection = True
            self.request.shutdown(2)
            return None
        if what == "fail":
            return self.send(200, {"status": "fail", "message": arg})
        if what == "http":
            code, _, msg = arg.partition(" ")
            if msg:
                return self.refuse(int(code), msg)
            return self.send(int(code), text="<html><body><h1>%s Error</h1></body></html>" % code)
        if what == "nonjson":
            return self.send(200, text="<html><body>502 Bad Gateway</body></html>")
        if what == "nodata":
            return self.send(200, {"status": "success"})
        if what == "nouid":
            return self.ok({})
        if what == "echo":
            return self.refuse(200, "you sent: " + str(self.headers.get("Authorization")))
        if what == "deep":
            n = 300000
            return self.send(int(arg or 200), text='{"status": "success", "data": {"uid": "deep", "x": %s%s}}'
                             % ("[" * n, "]" * n))
        token = st.args.token
        if token and self.headers.get("Authorization") != "Bearer " + token:
            return self.refuse(401, "Unauthorized: invalid token")
        if method == "POST" and path == "/devices":
            return self.register(parsed)
        if method == "POST" and path == "/vms":
            return self.create(parsed, arg if what == "vmuid" else None)
        if method == "GET" and path == "/vms" and what == "endless":
            start = int(parse_qs(url.query).get("from", ["0"])[0])
            return self.ok({"list": [{"uid": "endless-%d" % (start + i), "name": "e", "core_dep": "r1", "version": "r1",
                                      "dev_type": "arduino_due", "rtos": "chibi2", "features": []}
                                     for i in range(st.args.page)]})
        if method == "GET" and path == "/vms":
            return self.list(parse_qs(url.query))
        if method == "GET" and path.startswith("/vms/"):
            return self.download(path[5:], what, arg)
        return self.refuse(404, "no such endpoint: %s %s" % (method, path))

    def register(self, body):
        st = self.server.state
        for key in ("name", "on_chip_id", "type", "category"):
            if not isinstance(body, dict) or key not in body:
                return self.refuse(400, "invalid request: missing " + key)
        with st.lock:
            uid = "dev-" + hashlib.sha1((body["type"] + ":" + body["on_chip_id"]).encode()).hexdigest()[:12]
            st.devices[uid] = {"type": body["type"], "on_chip_id": body["on_chip_id"], "name": body["name"],
                               "category": body["category"]}
        return self.ok({"uid": uid})

    def create(self, body, forced_uid):
        st = self.server.state
        spec = {"name": str, "dev_uid": str, "version": str, "rtos": str, "features": list, "patch": str}
        for key, typ in spec.items():
            if not isinstance(body, dict) or not isinstance(body.get(key), typ):
                return self.refuse(400, "invalid request: missing or bad " + key)
        if not all(isinstance(f, str) for f in body["features"]):
            return self.refuse(400, "invalid request: features must be strings")
        dev = st.devices.get(body["dev_uid"])
        if dev is None:
            return self.refuse(404, "device %s not found" % body["dev_uid"])
        with st.lock:
            st.counter += 1
            digest = hashlib.sha1(("%d:%s" % (st.counter, json.dumps(body, sort_keys=True))).encode()).digest()
            uid = forced_uid or base64.urlsafe_b64encode(digest).decode()[:22].replace("_", "x")
            st.vms[uid] = make_vm(uid, body, dev)
            if uid not in st.order:
                st.order.append(uid)
        return self.ok({"uid": uid})

    def download(self, uid, what, arg):
        st = self.server.state
        vm = st.vms.get(uid)
        if vm is None:
            return self.refuse(404, "VM %s not found" % uid)
        vm = dict(vm)
        if what == "vmdel":
            vm.pop(arg, None)
        elif what == "vmset":
            key, _, value = arg.partition(" ")
            vm[key] = json.loads(value)
        # Pretty-printed with non-ASCII text as is: the client must store these bytes unchanged.
        data = json.dumps(vm, indent=2, ensure_ascii=False)
        if st.args.dump:
            with open(os.path.join(st.args.dump, uid + ".data"), "w", encoding="utf-8") as f:
                f.write(data)
        return self.send(200, text='{"status": "success",\n "data": ' + data + "\n}")

    def list(self, query):
        st = self.server.state
        try:
            start = int(query.get("from", ["0"])[0])
        except ValueError:
            return self.refuse(400, "invalid request: from")
        page = st.args.page
        entries = []
        for uid in st.order[start:start + page]:
            vm = st.vms[uid]
            entries.append({"uid": uid, "name": vm["name"], "core_dep": vm["version"], "version": vm["version"],
                            "dev_type": vm["dev_type"], "rtos": vm["rtos"], "features": vm["features"]})
        return self.ok({"list": entries, "total": len(st.order)})

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client refusing our certificate, or hanging up on a slow reply: one line, keep serving.
        if self.state.args.verbose:
            sys.stderr.write("backend-server: %s: %s\n" % (client_address, sys.exc_info()[1]))


def watchdog(max_time):
    parent = os.getppid()
    end = time.monotonic() + max_time
    while time.monotonic() < end and os.getppid() == parent:
        time.sleep(0.2)
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port-file", required=True, help="write the chosen port here")
    ap.add_argument("--log", required=True, help="append one JSON line per request here")
    ap.add_argument("--control", help="scenario file, read at each request")
    ap.add_argument("--dump", help="directory: the exact `data` text of each GET /vms/<uid> as <uid>.data")
    ap.add_argument("--token", help="refuse requests without Authorization: Bearer TOKEN (HTTP 401)")
    ap.add_argument("--device", action="append", default=[], help="a known device: UID,TYPE,CHIPID")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve HTTPS with this certificate")
    ap.add_argument("--page", type=int, default=3, help="VMs per page of GET /vms")
    ap.add_argument("--max-time", type=float, default=120, help="exit after this many seconds")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    threading.Thread(target=watchdog, args=(args.max_time,), daemon=True).start()
    httpd = Server(("127.0.0.1", 0), Handler)
    httpd.state = State(args)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls[0], args.tls[1])
        # The handshake runs in the handler thread (Handler.setup), never blocking the accept loop.
        httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True, do_handshake_on_connect=False)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % httpd.server_address[1])
    os.replace(tmp, args.port_file)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
