#!/usr/bin/env python3
# tests/adm/rawpeer.py: hostile or broken peers for the zadm-sandbox tests, where a shell cannot do it.
#   ctl SOCKET FILE            send FILE's bytes plus "\n" on the control socket, print the reply line
#   trickle PORT SECS GAP HEX  connect, send the bytes HEX one at a time, GAP s apart, for at most SECS s;
#                              print "closed after S s" or "open after S s"
#   hold PORT N SECS           open N connections that send nothing, keep them SECS s; print how many
#                              the server closed at once (within 0.5 s)
#   lines PORT SECS FILE       connect, send FILE's bytes (lines), keep reading for SECS s, print what came
#   ota-index PORT UID N...    log in as UID with FOTA slots 0/0, wait for an update announcement, ask
#                              for each block N in turn; print "block N: reply" or "block N: none"
import socket
import sys
import time


def connect(port):
    return socket.create_connection(("127.0.0.1", int(port)), timeout=5)


def read_for(s, secs):
    """Everything the peer sends within secs, or until it closes; (data, closed)."""
    s.settimeout(0.05)
    data, end = b"", time.monotonic() + secs
    while time.monotonic() < end:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def ctl(path, file):
    with open(file, "rb") as f:
        data = f.read()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    s.sendall(data + b"\n")
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
    sys.stdout.buffer.write(reply)
    return 0


def trickle(port, secs, gap, hexbytes):
    s = connect(port)
    data = bytes.fromhex(hexbytes)
    start = time.monotonic()
    i = 0
    while time.monotonic() - start < float(secs):
        if i < len(data):
            try:
                s.send(data[i:i + 1])
            except OSError:
                break
            i += 1
        _, closed = read_for(s, float(gap))
        if closed:
            print("closed after %.1f s" % (time.monotonic() - start))
            return 0
    print("open after %.1f s" % (time.monotonic() - start))
    return 0


def hold(port, n, secs):
    socks = [connect(port) for _ in range(int(n))]
    time.sleep(0.5)
    closed = 0
    for s in socks:
        _, c = read_for(s, 0.01)
        closed += c
    print("%d closed at once" % closed)
    sys.stdout.flush()
    time.sleep(float(secs))
    return 0


def lines(port, secs, file):
    with open(file, "rb") as f:
        data = f.read()
    s = connect(port)
    s.sendall(data)
    got, _ = read_for(s, float(secs))
    sys.stdout.buffer.write(got)
    return 0


def ota_index(port, uid, *blocks):
    s = connect(port)
    s.sendall(b'{"uid":"%s","token":"t","hearbeat":60,"ota":true,"bc":0,"vm":0,"chunk":4096}\n' % uid.encode())
    got, closed = b"", False
    end = time.monotonic() + 10
    while b'"chunk"' not in got and not closed and time.monotonic() < end:
        more, closed = read_for(s, 0.2)
        got += more
    if b'"chunk"' not in got:
        print("no update announced")
        return 1
    for n in blocks:
        s.sendall(b'{"cmd":"OTA","payload":{"b":%s,"t":"b"}}\n' % n.encode())
        reply, _ = read_for(s, 1.0)
        print("block %s: %s" % (n, "none" if not reply else reply.decode("utf-8", "replace").strip()[:60]))
    s.sendall(b'{"cmd":"OTA","payload":{"ko":1,"reason":"test over"}}\n')
    read_for(s, 0.3)
    return 0


def main(argv):
    cmds = {"ctl": ctl, "trickle": trickle, "hold": hold, "lines": lines, "ota-index": ota_index}
    if len(argv) < 2 or argv[1] not in cmds:
        print(__doc__ or "usage: rawpeer.py ctl|trickle|hold|lines|ota-index ...", file=sys.stderr)
        return 2
    return cmds[argv[1]](*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
