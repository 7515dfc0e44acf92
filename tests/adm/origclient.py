#!/usr/bin/env python3
# tests/adm/origclient.py: an ADM device that behaves like the original Zerynth Python zadm library
# where zadm-sandbox must cope with it, for tests/adm/original.sh:
#   - after every login attempt it sleeps (5 s by default, --login-sleep) before its threads run, and
#     its heartbeat thread sleeps one period before the first HTBM;
#   - a CALL of a method it does not have gets no reply at all;
#   - a FOTA start records the "vm" slot exactly as given (also when vmsize <= 0, bytecode only), and
#     after the update it restarts (here: re-executes itself); the login accepts the running record;
#   - it answers a confirmation {"ok":1,"bc":B,"vm":V} with ok only when B/V are the running slots.
# Its stand-ins for the VM's fota module keep the record and the slots as files in --fota-dir:
# record.json {"bc","vm","last_bc","last_vm","state"} (state ok | attempt | trying), bcN.bin, vmN.bin.
# A start boots the record: an attempt becomes "trying"; a "trying" record that was never accepted
# rolls back to the last accepted slots. Lines on stderr (prefix "origclient:") say what it did.
#
# Usage: origclient.py --port N --uid UID --token T [--heartbeat S] [--login-sleep S] [--fota-dir DIR]
#                      [--platform P] [--vmuid V]
import argparse
import base64
import hashlib
import json
import os
import queue
import socket
import sys
import threading
import time


def say(*words):
    print("origclient:", *words, file=sys.stderr, flush=True)


class Store:
    """The FOTA record and slots, as the VM's fota module keeps them (files here)."""

    def __init__(self, folder):
        self.dir = folder
        self.path = os.path.join(folder, "record.json")
        if not os.path.exists(self.path):
            self.rec = {"bc": 0, "vm": 0, "last_bc": 0, "last_vm": 0, "state": "ok"}
            self.save()
        with open(self.path) as f:
            self.rec = json.load(f)

    def save(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.rec, f)
        os.replace(tmp, self.path)

    def slot(self, kind, n):
        return os.path.join(self.dir, "%s%d.bin" % (kind, n))

    def boot(self):
        r = self.rec
        if r["state"] == "attempt":
            r["state"] = "trying"
        elif r["state"] == "trying":
            say("boot: slots %d/%d were never accepted: rolling back to %d/%d" %
                (r["bc"], r["vm"], r["last_bc"], r["last_vm"]))
            r["bc"], r["vm"], r["state"] = r["last_bc"], r["last_vm"], "ok"
        self.save()
        # Slot 0 holds what was flashed at the factory; any other must have been written by an update.
        if r["vm"] != 0 and not os.path.exists(self.slot("vm", r["vm"])):
            say("boot: VM slot %d was never written" % r["vm"])
        say("boot: bytecode slot %d, VM slot %d (%s)" % (r["bc"], r["vm"], r["state"]))

    def accept(self):
        r = self.rec
        if r["state"] == "trying":
            r["last_bc"], r["last_vm"], r["state"] = r["bc"], r["vm"], "ok"
            self.save()
            say("accepted bytecode slot %d, VM slot %d" % (r["bc"], r["vm"]))

    def attempt(self, bc, vm):
        r = self.rec
        r["last_bc"], r["last_vm"] = r["bc"], r["vm"]
        r["bc"], r["vm"], r["state"] = bc, vm, "attempt"
        self.save()

    def free_slot(self, kind):
        # The slot that does not run (two of each kind), wherever the server said to write.
        return 1 - self.rec["bc" if kind == "bc" else "vm"]


class Device:
    def __init__(self, args):
        self.a = args
        self.heartbeat = args.heartbeat
        self.store = Store(args.fota_dir) if args.fota_dir else None
        self.wq = queue.Queue(maxsize=2)
        self.sock = None
        self.rfile = None
        self.threads = False
        self.reconnecting = False
        self.ota = None
        self.rpc = {"echo": lambda *a: list(a), "add": lambda *a: sum(a), "fail": self.fail}

    @staticmethod
    def fail(*a):
        raise RuntimeError("this method always fails")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_now(self, msg):
        self.sock.sendall((json.dumps(msg, separators=(",", ":")) + "\n").encode())

    def send(self, msg):
        self.wq.put(msg, True, 1)

    def getmsg(self):
        line = self.rfile.readline()
        if not line:
            raise IOError("connection closed")
        return json.loads(line)

    def login(self):
        try:
            self.sock = socket.create_connection(("127.0.0.1", self.a.port), timeout=None)
            self.rfile = self.sock.makefile("rb")
            data = {"uid": self.a.uid, "token": self.a.token, "platform": self.a.platform,
                    "vmuid": self.a.vmuid, "hearbeat": self.a.heartbeat}
            if self.store:
                data["ota"] = True
                data.update(bc=self.store.rec["bc"], vm=self.store.rec["vm"], chunk=4096)
            else:
                data["ota"] = False
            self.send_now(data)
            msg = self.getmsg()
            if "err" in msg:
                say("login refused:", msg["err"])
                self.close()
                return False
            if "htbm" in msg:
                self.heartbeat = msg["htbm"]
            if self.store:
                self.store.accept()
            say("logged in, heartbeat", self.heartbeat)
            return True
        except (OSError, ValueError) as e:
            say("login failed:", e)
            self.close()
            return False

    def start(self):
        logged = False
        while not logged:
            logged = self.login()
            # The original sleeps here after every attempt, a successful one too, before its threads run.
            time.sleep(self.a.login_sleep)
        if not self.threads:
            self.threads = True
            for fn in (self.readloop, self.htbmloop, self.writeloop):
                threading.Thread(target=fn, daemon=True).start()
        self.reconnecting = False

    def reconnect(self):
        if self.reconnecting:
            return
        self.reconnecting = True
        self.close()
        self.start()

    def htbmloop(self):
        while True:
            while self.reconnecting:
                time.sleep(0.1)
            time.sleep(self.heartbeat)
            self.send({"cmd": "HTBM"})

    def writeloop(self):
        while True:
            msg = self.wq.get()
            while self.reconnecting:
                time.sleep(0.1)
            try:
                self.send_now(msg)
            except OSError as e:
                say("write failed:", e)

    def readloop(self):
        while True:
            while self.reconnecting:
                time.sleep(0.1)
            try:
                msg = self.getmsg()
                if msg.get("cmd") == "CALL" and msg.get("method") in self.rpc and "id" in msg:
                    self.call(msg)
                elif "terminate" in msg:
                    say("terminate")
                    self.close()
                elif msg.get("cmd") == "OTA":
                    self.on_ota(msg)
                # Anything else, an unknown method included, gets no answer.
            except (OSError, ValueError) as e:
                say("read loop:", e, "- reconnecting")
                self.reconnect()

    def call(self, msg):
        try:
            res = self.rpc[msg["method"]](*msg.get("args", []))
        except Exception as e:
            if msg.get("ret"):
                self.send({"cmd": "RETN", "id": msg["id"], "error": str(e)})
        else:
            if msg.get("ret"):
                self.send({"cmd": "RETN", "id": msg["id"], "res": res})

    def ota_fail(self, reason):
        say("FOTA failed:", reason)
        self.send({"cmd": "OTA", "payload": {"ko": 1, "reason": reason}})

    def on_ota(self, msg):
        st = self.store
        if not st:
            self.ota_fail("OTA unsupported")
            return
        rec = st.rec
        if "chunk" in msg:
            o = self.ota = dict(chunk=msg["chunk"], vmsize=msg["vmsize"], bcsize=msg["bcsize"], bc=msg["bc"],
                                vm=msg["vm"], part="b", block=0, got=0, data=b"")
            if o["bc"] == rec["bc"] or (o["vmsize"] and o["vm"] == rec["vm"]):
                self.ota = None
                self.ota_fail("Bad slots")
                return
            o["paths"] = {"b": st.slot("bc", st.free_slot("bc")),
                          "v": st.slot("vm", st.free_slot("vm")) if o["vmsize"] > 0 else None}
            say("FOTA start: bytecode slot %d, VM slot %d, vmsize %d" % (o["bc"], o["vm"], o["vmsize"]))
            self.send({"cmd": "OTA", "payload": {"b": 0, "t": "b"}})
        elif "bin" in msg and self.ota:
            o = self.ota
            if msg["t"] != o["part"]:
                self.ota = None
                self.ota_fail("BC only ota")
                return
            o["data"] += base64.b64decode(msg["bin"])
            o["block"] += 1
            if len(o["data"]) < (o["bcsize"] if o["part"] == "b" else o["vmsize"]):
                self.send({"cmd": "OTA", "payload": {"b": o["block"], "t": o["part"]}})
            else:
                self.send({"cmd": "OTA", "payload": {"c": 0, "t": o["part"]}})
        elif "crc" in msg and self.ota:
            o = self.ota
            if hashlib.md5(o["data"]).hexdigest() != msg["crc"].lower():
                self.ota = None
                self.ota_fail("Bad CRC")
                return
            with open(o["paths"][o["part"]], "wb") as f:
                f.write(o["data"])
            if o["part"] == "b" and o["vmsize"] > 0:
                o.update(part="v", block=0, data=b"")
                self.send({"cmd": "OTA", "payload": {"b": 0, "t": "v"}})
                return
            # Recorded as given: the "vm" of a bytecode-only update too.
            st.attempt(o["bc"], o["vm"])
            say("FOTA done: attempt bytecode slot %d, VM slot %d; restarting" % (o["bc"], o["vm"]))
            self.close()
            time.sleep(0.2)
            os.execv(sys.executable, [sys.executable] + sys.argv)
        elif "ok" in msg:
            if msg.get("bc") == rec["bc"] and msg.get("vm") == rec["vm"]:
                say("FOTA confirmed")
                self.send({"cmd": "OTA", "payload": {"ok": 1}})
            else:
                self.ota_fail("not ready")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--uid", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--heartbeat", type=int, default=60)
    p.add_argument("--login-sleep", type=float, default=5.0)
    p.add_argument("--fota-dir")
    p.add_argument("--platform", default="linux-sim")
    p.add_argument("--vmuid", default="vm-orig-1")
    dev = Device(p.parse_args())
    if dev.store:
        dev.store.boot()
    dev.start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
