#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A QMP client on the standard library only, and the checks qmp.sh runs
against a live vmon with it.  Every check prints "PASS label/name" or
"FAIL label/name: why" for tests/run.sh.

    qmp_client.py session LABEL SOCKET SERIAL VMON_PID CPUS ACCEL SNAPSHOT DISK...
    qmp_client.py powerdown LABEL SOCKET SERIAL
    qmp_client.py reset LABEL SOCKET

session walks through every command, run control, events, bad input of
many kinds and a second client, and ends with quit; powerdown and reset end
the VM the other ways.  Exit status 1 if any check failed.
"""
import json
import os
import random
import socket
import sys
import threading
import time

TIMEOUT = 10
failed = False
label = "qmp"


def report(name, ok, why=""):
    global failed
    if ok:
        print(f"PASS {label}/{name}", flush=True)
    else:
        failed = True
        print(f"FAIL {label}/{name}: {why}", flush=True)
    return ok


class QMPError(Exception):
    pass


class QMP:
    """One connection: messages are CRLF- or LF-terminated JSON objects."""

    def __init__(self, path, greeting=True):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(path)
        self.buf = b""
        self.events = []
        self.greeting = self.recv() if greeting else None

    def close(self):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def recv(self, timeout=TIMEOUT):
        """The next message; QMPError at EOF or when none comes in time."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise QMPError("no message within %.1fs" % timeout)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                raise QMPError("no message within %.1fs" % timeout)
            if not data:
                raise QMPError("connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def reply(self, timeout=TIMEOUT):
        """The next reply; events before it are kept in self.events."""
        while True:
            msg = self.recv(timeout)
            if "event" in msg:
                self.events.append(msg)
            else:
                return msg

    def execute(self, name, args=None, **extra):
        msg = {"execute": name, **extra}
        if args is not None:
            msg["arguments"] = args
        self.send_raw(json.dumps(msg).encode() + b"\n")
        return self.reply()

    def event(self, name, timeout=TIMEOUT):
        """Waits for event name (earlier ones of other names are dropped)."""
        end = time.monotonic() + timeout
        while True:
            for i, e in enumerate(self.events):
                if e["event"] == name:
                    del self.events[: i + 1]
                    return e
            self.events.clear()
            left = end - time.monotonic()
            if left <= 0:
                raise QMPError(f"no {name} event within {timeout}s")
            msg = self.recv(left)
            if "event" not in msg:
                raise QMPError(f"unexpected reply while waiting for {name}: {msg}")
            self.events.append(msg)

    def negotiate(self):
        r = self.execute("qmp_capabilities")
        if r != {"return": {}}:
            raise QMPError(f"qmp_capabilities: {r}")


def error_of(reply):
    e = reply.get("error") if isinstance(reply, dict) else None
    return (e["class"], e["desc"]) if isinstance(e, dict) else (None, None)


def serial_size(path):
    return os.path.getsize(path)


def grows(path, seconds):
    """Whether the serial output grows within seconds."""
    start = serial_size(path)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(0.05)
        if serial_size(path) > start:
            return True
    return False


def is_event(e, name):
    ts = e.get("timestamp", {})
    return (e.get("event") == name and isinstance(ts.get("seconds"), int)
            and isinstance(ts.get("microseconds"), int) and 0 <= ts["microseconds"] < 10**6
            and abs(ts["seconds"] - time.time()) < 60)


# ---- session: every command, run control, bad input, two clients ---------

def check_greeting(q):
    g = q.greeting.get("QMP", {}) if isinstance(q.greeting, dict) else {}
    ver = g.get("version", {})
    qemu = ver.get("qemu", {})
    ok = (set(q.greeting) == {"QMP"} and g.get("capabilities") == []
          and all(isinstance(qemu.get(k), int) for k in ("major", "minor", "micro"))
          and str(ver.get("package", "")).startswith("vmon "))
    report("greeting", ok, f"got {q.greeting}")
    return ver


def check_negotiation(q):
    c, d = error_of(q.execute("query-status"))
    report("before-negotiation", c == "CommandNotFound" and "qmp_capabilities" in d,
           f"query-status before qmp_capabilities: {c} {d}")
    c, d = error_of(q.execute("qmp_capabilities", {"enable": ["oob"]}))
    report("no-oob", c == "GenericError" and "oob" in d, f"enable oob: {c} {d}")
    ident = {"n": [1, 2.5, None, True], "s": "x\u00e9"}
    r = q.execute("qmp_capabilities", id=ident)
    report("negotiate", r == {"return": {}, "id": ident}, f"got {r}")
    c, d = error_of(q.execute("qmp_capabilities"))
    report("negotiate-twice", c == "CommandNotFound" and "already" in d, f"got {c} {d}")


def check_queries(q, version, pid, cpus, accel, disks):
    r = q.execute("query-version")
    report("query-version", r.get("return") == version, f"got {r}, greeting said {version}")
    names = {c.get("name") for c in q.execute("query-commands").get("return", [])}
    want = {"qmp_capabilities", "query-version", "query-status", "query-kvm",
            "query-cpus-fast", "query-block", "query-commands", "stop", "cont",
            "system_powerdown", "system_reset", "quit", "migrate", "query-migrate"}
    report("query-commands", want <= names, f"missing {want - names}")
    r = q.execute("query-status", id="st")
    report("query-status", r == {"return": {"status": "running", "running": True,
                                            "singlestep": False}, "id": "st"}, f"got {r}")
    r = q.execute("query-kvm").get("return", {})
    ok = (r.get("enabled") is (accel == "kvm") and isinstance(r.get("present"), bool)
          and (accel != "kvm" or r["present"]))
    report("query-kvm", ok, f"got {r} under {accel}")
    check_cpus(q, pid, cpus)
    check_block(q, disks)


def vmon_pid(pid):
    """vmon's process id: pid, or its child when pid is timeout(1)'s."""
    with open(f"/proc/{pid}/comm") as f:
        if f.read().strip() == "vmon":
            return pid
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return int(f.read().split()[0])


def check_cpus(q, pid, cpus):
    r = q.execute("query-cpus-fast").get("return")
    vmon = vmon_pid(pid)
    why = ""
    if not isinstance(r, list) or len(r) != cpus:
        why = f"{cpus} vCPUs expected, got {r}"
    elif len({c.get("thread-id") for c in r}) != cpus:
        why = f"thread-ids not distinct: {r}"
    for i, c in enumerate(r if not why else []):
        tid = c.get("thread-id")
        if (c.get("cpu-index") != i or c.get("target") != "x86_64"
                or not str(c.get("qom-path", "")).startswith("/machine/")
                or c.get("props") != {"core-id": i, "thread-id": 0, "socket-id": 0}):
            why = f"vCPU {i}: {c}"
        elif (not isinstance(tid, int) or tid == vmon
              or not os.path.isdir(f"/proc/{vmon}/task/{tid}")):
            why = f"vCPU {i}: thread-id {tid} is not a vCPU thread of vmon {vmon}"
        if why:
            break
    report("query-cpus-fast", not why, why)


def check_block(q, disks):
    r = q.execute("query-block").get("return")
    why = ""
    if not isinstance(r, list) or len(r) != len(disks):
        why = f"{len(disks)} disks expected, got {r}"
    for i, (d, spec) in enumerate(zip(r or [], disks)):
        path, fmt, ro, size, depth = spec.split(":")
        ins = d.get("inserted", {})
        img = ins.get("image", {})
        if (d.get("device") != f"virtio{i}" or d.get("removable") is not False
                or d.get("locked") is not False or not isinstance(d.get("qdev"), str)
                or ins.get("file") != path or ins.get("drv") != fmt
                or ins.get("ro") is not (ro == "ro") or ins.get("encrypted") is not False
                or ins.get("backing_file_depth") != int(depth)
                or not isinstance(ins.get("cache", {}).get("direct"), bool)
                or img.get("filename") != path or img.get("format") != fmt
                or img.get("virtual-size") != int(size)
                or not isinstance(img.get("actual-size"), int)):
            why = f"disk {i} ({spec}): {d}"
        elif int(depth) and (not ins.get("backing_file")
                             or "virtual-size" not in img.get("backing-image", {})):
            why = f"disk {i}: no backing chain in {d}"
    report("query-block", not why, why)


def check_stop_cont(q, serial):
    report("running-grows", grows(serial, 3), "the guest prints nothing")
    r = q.execute("stop", id=1)
    stop = [e for e in q.events if e["event"] == "STOP"]
    q.events.clear()
    report("stop", r == {"return": {}, "id": 1} and len(stop) == 1 and is_event(stop[0], "STOP"),
           f"reply {r}, STOP events before it {stop}")
    r = q.execute("query-status")
    report("stop-status", r.get("return", {}).get("status") == "paused"
           and r["return"].get("running") is False, f"got {r}")
    report("stop-silences-guest", not grows(serial, 0.7), "serial output grew while stopped")
    r = q.execute("stop")
    report("stop-again", r == {"return": {}} and not q.events,
           f"reply {r}, events {q.events}")
    r = q.execute("cont", id="c")
    resume = [e for e in q.events if e["event"] == "RESUME"]
    q.events.clear()
    report("cont", r == {"return": {}, "id": "c"} and len(resume) == 1
           and is_event(resume[0], "RESUME"), f"reply {r}, RESUME events {resume}")
    report("cont-status", q.execute("query-status").get("return", {}).get("running") is True,
           "not running after cont")
    report("cont-resumes-guest", grows(serial, 3), "serial output does not grow after cont")


# (name, bytes, expected error class, a word of the description)
GARBAGE = [
    ("word", b"foo\n", "GenericError", "JSON parse error"),
    ("bad-json", b'{"execute": foo}\n', "GenericError", "JSON parse error"),
    ("array", b'[{"execute": "query-status"}]\n', "GenericError", "must be a JSON object"),
    ("string", b'"query-status"\n', "GenericError", "must be a JSON object"),
    ("number", b"42\n", "GenericError", "must be a JSON object"),
    ("null", b"null\n", "GenericError", "must be a JSON object"),
    ("no-execute", b'{"arguments": {}}\n', "GenericError", "lacks member 'execute'"),
    ("execute-number", b'{"execute": 1}\n', "GenericError", "'execute' must be a string"),
    ("execute-null", b'{"execute": null}\n', "GenericError", "'execute' must be a string"),
    ("arguments-array", b'{"execute": "stop", "arguments": []}\n', "GenericError",
     "'arguments' must be an object"),
    ("extra-member", b'{"execute": "query-status", "bogus": 1}\n', "GenericError",
     "'bogus' is unexpected"),
    ("exec-oob", b'{"exec-oob": "query-status"}\n', "GenericError", "'exec-oob' is unexpected"),
    ("duplicate-key", b'{"execute": "stop", "execute": "stop"}\n', "GenericError",
     "duplicate"),
    ("unknown-command", b'{"execute": "no-such-command"}\n', "CommandNotFound",
     "no-such-command"),
    ("unexpected-arg", b'{"execute": "query-status", "arguments": {"verbose": true}}\n',
     "GenericError", "Parameter 'verbose' is unexpected"),
    ("missing-arg", b'{"execute": "migrate", "arguments": {}}\n', "GenericError",
     "Parameter 'uri' is missing"),
    ("wrong-type", b'{"execute": "migrate", "arguments": {"uri": 7}}\n', "GenericError",
     "expected: string"),
    ("wrong-type-bool", b'{"execute": "migrate", "arguments": {"uri": "file:/x", "blk": 1}}\n',
     "GenericError", "expected: boolean"),
    ("migrate-tcp", b'{"execute": "migrate", "arguments": {"uri": "tcp:127.0.0.1:4444"}}\n',
     "GenericError", "file:"),
    ("migrate-empty", b'{"execute": "migrate", "arguments": {"uri": "file:"}}\n',
     "GenericError", "file:"),
    ("invalid-utf8", b'{"execute": "query-status", "id": "\xc3\x28"}\n', "GenericError",
     "JSON parse error"),
    ("control-char", b'{"execute": "query-\x01status"}\n', "GenericError", "JSON parse error"),
    ("nul", b'{"execute": "query-status\x00"}\n', "GenericError", "JSON parse error"),
    ("broken-string", b'{"execute": "query-st\n', "GenericError", "JSON parse error"),
    ("huge-number", b'{"execute": "stop", "id": 1' + b"0" * 400 + b"}\n", "GenericError",
     "JSON parse error"),
    ("huge-line", b"x" * (3 << 20) + b"\n", "GenericError", "longer than"),
    ("huge-object", b'{"execute": "query-status", "id": "' + b"y" * (2 << 20) + b'"}\n',
     "GenericError", "longer than"),
    ("deep-nesting", b"[" * 5000 + b"]" * 5000 + b"\n", "GenericError", "nesting"),
]


def sentinel(q, tag):
    """Sends a command tagged tag; returns the replies before its own."""
    q.send_raw(json.dumps({"execute": "query-status", "id": tag}).encode() + b"\n")
    before = []
    while True:
        r = q.reply()
        if r.get("id") == tag:
            return before, r
        before.append(r)


def check_garbage(q):
    for name, data, cls, word in GARBAGE:
        q.send_raw(data)
        before, r = sentinel(q, "after-" + name)
        errs = [error_of(b) for b in before]
        ok = (len(errs) == 1 and errs[0][0] == cls and word in (errs[0][1] or "")
              and r.get("return", {}).get("status") == "running")
        report("garbage-" + name, ok, f"replies {before}, then {r}")
    r = q.execute("no-such-command", id={"deep": [1]})
    report("garbage-id-echoed", r.get("id") == {"deep": [1]}
           and error_of(r)[0] == "CommandNotFound", f"got {r}")
    # Binary noise, fixed seed: every reply an error, and the line after works.
    noise = bytes(random.Random(7).getrandbits(8) for _ in range(64 << 10))
    q.send_raw(noise + b"\n\x01\n")        # \x01 closes whatever the noise left open
    before, r = sentinel(q, "after-binary")
    report("garbage-binary", before and all(error_of(b)[0] == "GenericError" for b in before)
           and r.get("return", {}).get("running") is True,
           f"{len(before)} replies, not all errors, or then {r}")


def check_framing(q):
    q.send_raw(b'{"exec')
    time.sleep(0.2)
    q.send_raw(b'ute": "query-st')
    time.sleep(0.2)
    q.send_raw(b'atus", "id": "split"}\r\n')
    r = q.reply()
    report("split-across-reads", r.get("id") == "split" and "return" in r, f"got {r}")
    q.send_raw(b'{"execute":"query-status","id":1}{"execute":"query-kvm","id":2}\n'
               b'{"execute": "query-version",\n "id": 3}\n')
    ids = [q.reply().get("id") for _ in range(3)]
    report("several-per-read", ids == [1, 2, 3], f"ids {ids}")
    q.send_raw(b"{'execute': 'query-status', 'id': 'single-quotes'}\n")
    r = q.reply()
    report("single-quotes", r.get("id") == "single-quotes" and "return" in r, f"got {r}")


def check_flood(q, path):
    """5000 commands in one go, read back in order; then a client that only
    writes and leaves."""
    n = 5000
    data = b"".join(b'{"execute":"query-status","id":%d}\n' % i for i in range(n))
    t = threading.Thread(target=q.send_raw, args=(data,))
    t.start()
    ids = []
    try:
        ids = [q.reply().get("id") for _ in range(n)]
    except QMPError as e:
        ids.append(str(e))
    t.join()
    report("flood-in-order", ids == list(range(n)), f"{len(ids)} replies, first wrong at "
           f"{next((i for i, v in enumerate(ids) if v != i), None)}")


def flood_and_leave(path):
    """A client that writes commands without reading a byte, then goes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(1.0)
    data = b'{"execute":"qmp_capabilities"}\n' + b'{"execute":"query-commands"}\n' * 100000
    try:
        s.sendall(data)
    except (socket.timeout, OSError):
        pass                    # vmon stopped reading: the point of the test
    s.close()


def check_clients(path, q):
    """Second and later clients, after the first left in various ways."""
    q.send_raw(b'{"execute": "query-sta')     # leaves mid-line
    q.close()
    q = QMP(path)
    ok = "QMP" in q.greeting
    q.negotiate()
    r = q.execute("query-status")
    report("second-client", ok and r.get("return", {}).get("running") is True, f"got {r}")
    q.close()
    flood_and_leave(path)
    q = QMP(path)
    q.negotiate()
    r = q.execute("query-status")
    report("client-after-flooder", r.get("return", {}).get("running") is True, f"got {r}")
    return q


def check_migrate(q, snapshot, serial):
    bad = os.path.join(os.path.dirname(snapshot), "no-such-dir", "snap")
    r = q.execute("query-migrate")
    report("query-migrate-before", r == {"return": {}}, f"got {r}")
    r = q.execute("migrate", {"uri": "file:" + bad})
    c, d = error_of(r)
    q.events.clear()
    m = q.execute("query-migrate").get("return", {})
    s = q.execute("query-status").get("return", {})
    report("migrate-fails", c == "GenericError" and m.get("status") == "failed"
           and m.get("error-desc") and s.get("status") == "running",
           f"reply {r}, query-migrate {m}, status {s}")
    r = q.execute("migrate", {"uri": "file:" + snapshot, "detach": True})
    stop = [e for e in q.events if e["event"] == "STOP"]
    q.events.clear()
    m = q.execute("query-migrate").get("return", {})
    s = q.execute("query-status").get("return", {})
    report("migrate", r == {"return": {}} and len(stop) == 1 and m.get("status") == "completed"
           and isinstance(m.get("total-time"), int) and s.get("status") == "postmigrate"
           and os.path.getsize(snapshot) > 0,
           f"reply {r}, STOP {stop}, query-migrate {m}, status {s}")
    report("migrate-stops-guest", not grows(serial, 0.5), "serial grew after migrate")
    r = q.execute("cont")
    q.events.clear()
    report("cont-after-migrate", r == {"return": {}} and grows(serial, 3),
           f"reply {r}, or the guest does not run")


def check_quit(q):
    r = q.execute("quit", id="bye")
    ev = None
    try:
        ev = q.event("SHUTDOWN")
    except QMPError as e:
        ev = str(e)
    report("quit", r == {"return": {}, "id": "bye"} and isinstance(ev, dict)
           and is_event(ev, "SHUTDOWN")
           and ev.get("data") == {"guest": False, "reason": "host-qmp-quit"},
           f"reply {r}, SHUTDOWN {ev}")
    try:
        extra = q.recv(5)
        report("quit-closes", False, f"got {extra} after SHUTDOWN")
    except QMPError as e:
        report("quit-closes", "closed" in str(e), str(e))


def session(path, serial, pid, cpus, accel, snapshot, disks):
    q = QMP(path)
    version = check_greeting(q)
    check_negotiation(q)
    check_queries(q, version, int(pid), int(cpus), accel, disks)
    check_stop_cont(q, serial)
    check_garbage(q)
    check_framing(q)
    check_flood(q, path)
    q = check_clients(path, q)
    check_migrate(q, snapshot, serial)
    check_quit(q)


# ---- the other ways out -----------------------------------------------------

def powerdown(path, serial):
    q = QMP(path)
    q.negotiate()
    report("powerdown-running", grows(serial, 3), "the guest prints nothing")
    r = q.execute("system_powerdown")
    pd = [e for e in q.events if e["event"] == "POWERDOWN"]
    try:
        pd = pd or [q.event("POWERDOWN", 2)]
        ev = q.event("SHUTDOWN")
    except QMPError as e:
        ev = str(e)
    report("powerdown", r == {"return": {}} and len(pd) == 1 and is_event(pd[0], "POWERDOWN")
           and isinstance(ev, dict) and ev.get("data") == {"guest": True,
                                                            "reason": "guest-shutdown"},
           f"reply {r}, POWERDOWN {pd}, SHUTDOWN {ev}")


def reset(path):
    q = QMP(path)
    q.negotiate()
    r = q.execute("system_reset")
    evs = list(q.events)
    try:
        while not any(e["event"] == "SHUTDOWN" for e in evs):
            evs.append(q.recv())
    except QMPError as e:
        evs.append(str(e))
    data = {"guest": False, "reason": "host-qmp-system-reset"}
    names = [e["event"] if isinstance(e, dict) else e for e in evs]
    report("system_reset", r == {"return": {}} and names == ["RESET", "SHUTDOWN"]
           and all(e.get("data") == data for e in evs), f"reply {r}, events {evs}")


def main(argv):
    global label
    try:
        if argv[1] == "session":
            label = argv[2]
            session(argv[3], argv[4], argv[5], argv[6], argv[7], argv[8], argv[9:])
        elif argv[1] == "powerdown":
            label = argv[2]
            powerdown(argv[3], argv[4])
        elif argv[1] == "reset":
            label = argv[2]
            reset(argv[3])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (QMPError, OSError, ValueError, KeyError) as e:
        report("client", False, f"{type(e).__name__}: {e}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
