#!/usr/bin/python3
"""A reference poller for snmpchaos's exec protocol, in Python with pysnmp.

snmpchaos runs this program and drives it over stdin and stdout, one JSON
object a line (docs/exec-protocol.md): a hello, then poll requests (get,
walk, bulkwalk against one agent), cancels and a shutdown; it answers every
poll exactly once with varbinds or a typed error. It polls with Debian's
python3-pysnmp4 (pysnmp 4.4): one SnmpEngine and one UDP socket shared by
every target, driven by asyncore, with stdin in the same event loop.

    snmpchaos run quickstart --poller 'exec:examples/exec-poller/pysnmp_poller.py'

--leak makes it the leaky variant: every poll also opens a UDP socket
"connected" to the agent, as a per-target client cache would, and never
closes it. snmpchaos's connections-closed and fds-stable invariants catch it.

It runs under /usr/bin/python3 on purpose: Debian's pysnmp is installed for
the system interpreter.
"""

import warnings
warnings.filterwarnings("ignore", category=DeprecationWarning)  # asyncore, in 3.11
import asyncore  # noqa: E402
import json
import os
import socket
import sys
import time

from pyasn1.type import univ
from pysnmp.carrier.asyncore.dispatch import AsyncoreDispatcher
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.asyncore import (CommunityData, SnmpEngine,
                                   UdpTransportTarget, UsmUserData)
from pysnmp.hlapi.asyncore.cmdgen import lcd
from pysnmp.hlapi import auth
from pysnmp.proto import rfc1902, rfc1905

PROTOCOL = 1
MAX_LINE = 1 << 20          # bytes, in both directions
MAX_OUTSTANDING = 64        # polls in flight at once; told to the harness
MAX_WALK = 100000           # varbinds in one walk

AUTH = {
    "none": auth.usmNoAuthProtocol, "MD5": auth.usmHMACMD5AuthProtocol,
    "SHA": auth.usmHMACSHAAuthProtocol, "SHA-224": auth.usmHMAC128SHA224AuthProtocol,
    "SHA-256": auth.usmHMAC192SHA256AuthProtocol, "SHA-384": auth.usmHMAC256SHA384AuthProtocol,
    "SHA-512": auth.usmHMAC384SHA512AuthProtocol,
}
PRIV = {
    "none": auth.usmNoPrivProtocol, "DES": auth.usmDESPrivProtocol,
    "AES": auth.usmAesCfb128Protocol,
    "AES-192": auth.usmAesBlumenthalCfb192Protocol, "AES-256": auth.usmAesBlumenthalCfb256Protocol,
    "AES-192-C": auth.usmAesCfb192Protocol, "AES-256-C": auth.usmAesCfb256Protocol,
}


def log(msg):
    """Diagnostics go to stderr, which the harness logs. Never credentials."""
    sys.stderr.write("pysnmp-poller[%d]: %s\n" % (os.getpid(), msg))
    sys.stderr.flush()


def tag_byte(value):
    """The BER tag byte of a pysnmp value (0x41 for Counter32, ...)."""
    t = value.tagSet[0]
    return t.tagClass | t.tagFormat | t.tagId


def render(name, value):
    """A varbind in the harness's canonical form (Varbind in harness)."""
    oid = "." + ".".join(str(x) for x in name)
    typ = tag_byte(value)
    if isinstance(value, (univ.Null, rfc1905.NoSuchObject, rfc1905.NoSuchInstance, rfc1905.EndOfMibView)):
        text = ""
    elif isinstance(value, rfc1902.IpAddress):
        text = ".".join(str(b) for b in value.asOctets())
    elif isinstance(value, (rfc1902.Opaque, univ.OctetString, rfc1902.Bits)):
        text = value.asOctets().hex()
    elif isinstance(value, univ.ObjectIdentifier):
        text = "." + ".".join(str(x) for x in value)
    else:
        text = str(int(value))
    return {"oid": oid, "type": typ, "value": text}


def oid_tuple(text):
    return tuple(int(x) for x in text.strip(".").split("."))


class Out:
    """Writes reply lines to stdout (blocking: the harness reads promptly)."""

    def __init__(self):
        self.f = sys.stdout

    def send(self, obj):
        line = json.dumps(obj, separators=(",", ":"))
        if len(line) >= MAX_LINE:
            obj = {"type": "result", "id": obj.get("id"), "error": {
                "kind": "tooLarge", "message": "result of %d bytes is over the %d-byte line limit" % (len(line), MAX_LINE)}}
            line = json.dumps(obj)
        self.f.write(line + "\n")
        self.f.flush()


class Poller:
    def __init__(self, leak):
        self.leak = leak
        self.leaked = []
        self.engine = SnmpEngine()
        self.engine.registerTransportDispatcher(AsyncoreDispatcher())
        self.disp = self.engine.transportDispatcher
        self.disp.setTimerResolution(0.02)
        self.out = Out()
        self.polls = {}           # id -> Poll still unanswered
        self.targets = {}         # (addr, port) -> UdpTransportTarget
        self.auths = {}           # credential key -> auth data
        self.timeout = 2.0
        self.retries = 1
        self.max_rep = 10
        self.shutdown = False
        self.get = cmdgen.GetCommandGenerator()
        self.next = cmdgen.NextCommandGeneratorSingleRun()
        self.bulk = cmdgen.BulkCommandGeneratorSingleRun()

    # --- protocol -----------------------------------------------------

    def handle_line(self, line):
        try:
            msg = json.loads(line)
        except ValueError as e:
            log("bad line from harness: %s" % e)
            return
        kind = msg.get("type")
        if kind == "hello":
            s = msg.get("settings", {})
            self.timeout = max(s.get("timeoutMs", 2000), 10) / 1000.0
            self.retries = max(s.get("retries", 1), 0)
            self.max_rep = s.get("maxRepetitions", 0) or 10
            self.out.send({"type": "hello", "protocol": PROTOCOL, "name": "pysnmp" + ("-leaky" if self.leak else ""),
                           "maxOutstanding": MAX_OUTSTANDING, "pid": os.getpid()})
        elif kind == "poll":
            self.start(msg)
        elif kind == "cancel":
            p = self.polls.get(msg.get("id"))
            if p is not None:
                self.finish(p, error=("canceled", "canceled by the harness"))
        elif kind == "shutdown":
            self.shutdown = True
        else:
            log("unknown message type %r" % kind)

    def finish(self, p, varbinds=None, error=None):
        """Answers a poll, once: later callbacks for it are ignored."""
        if self.polls.pop(p.id, None) is None:
            return
        if error is not None:
            self.out.send({"type": "result", "id": p.id, "error": {"kind": error[0], "message": error[1]}})
        else:
            self.out.send({"type": "result", "id": p.id, "varbinds": varbinds})

    # --- polling ------------------------------------------------------

    def auth_for(self, t):
        ver = t.get("version", "2c")
        if ver == "3":
            u = t.get("user") or {}
            key = ("3", u.get("name"), u.get("auth"), u.get("authPass"), u.get("priv"), u.get("privPass"))
            a = self.auths.get(key)
            if a is None:
                a = UsmUserData(u.get("name", ""), u.get("authPass") or None, u.get("privPass") or None,
                                authProtocol=AUTH[u.get("auth") or "none"], privProtocol=PRIV[u.get("priv") or "none"])
                self.auths[key] = a
            return a
        key = (ver, t.get("community", "public"))
        a = self.auths.get(key)
        if a is None:
            a = CommunityData(key[1], mpModel=0 if ver == "1" else 1)
            self.auths[key] = a
        return a

    def start(self, msg):
        p = Poll(msg)
        if p.id in self.polls:
            log("poll id %d is already in flight" % p.id)
            return
        self.polls[p.id] = p
        t = msg.get("target", {})
        try:
            host, _, port = t["addr"].rpartition(":")
            addr = (host.strip("[]"), int(port))
            target = self.targets.get(addr)
            if target is None:
                target = UdpTransportTarget(addr, timeout=self.timeout, retries=self.retries)
                self.targets[addr] = target
            a = self.auth_for(t)
            p.name, _ = lcd.configure(self.engine, a, target, t.get("context", ""))
            p.context = t.get("context", "")
            p.v1 = t.get("version") == "1"
            if self.leak:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.connect(addr)
                self.leaked.append(s)
            if p.op == "get":
                vbs = [(rfc1902.ObjectName(o), univ.Null('')) for o in msg.get("oids", [])]
                self.get.sendVarBinds(self.engine, p.name, None, p.context, vbs, self.on_get, p)
            elif p.op in ("walk", "bulkwalk"):
                p.root = oid_tuple(msg["root"])
                p.last = p.root
                self.step(p)
            else:
                self.finish(p, error=("badRequest", "unknown op %r" % p.op))
        except Exception as e:  # a bad request fails that poll, not the poller
            self.finish(p, error=("error", "%s: %s" % (type(e).__name__, e)))

    def step(self, p):
        vbs = [(rfc1902.ObjectName(p.last), univ.Null(''))]
        if p.op == "bulkwalk" and not p.v1:
            self.bulk.sendVarBinds(self.engine, p.name, None, p.context, 0, self.max_rep, vbs, self.on_walk, p)
        else:
            self.next.sendVarBinds(self.engine, p.name, None, p.context, vbs, self.on_walk, p)

    @staticmethod
    def failure(ei, es, ex):
        if ei:
            text = str(ei)
            kind = "timeout" if "timeout" in text.lower() else ("usm" if "usm" in type(ei).__name__.lower() or "report" in text.lower() else "error")
            return kind, text
        if es and int(es) != 0:
            return "status", "agent error-status %s at index %s" % (es.prettyPrint(), ex)
        return None

    def on_get(self, engine, handle, ei, es, ex, vbs, p):
        if p.id not in self.polls:
            return
        f = self.failure(ei, es, ex)
        if f:
            self.finish(p, error=f)
            return
        self.finish(p, varbinds=[render(n, v) for n, v in vbs])

    def on_walk(self, engine, handle, ei, es, ex, vbs, p):
        if p.id not in self.polls:
            return
        f = self.failure(ei, es, ex)
        if f:
            self.finish(p, error=f)
            return
        n = len(p.root)
        for name, value in vbs:
            name = tuple(name)
            if isinstance(value, rfc1905.EndOfMibView) or name[:n] != p.root:
                self.finish(p, varbinds=p.got)
                return
            if name <= p.last:
                self.finish(p, error=("notIncreasing", "agent returned %s after %s" % (
                    ".".join(map(str, name)), ".".join(map(str, p.last)))))
                return
            p.got.append(render(name, value))
            p.last = name
            if len(p.got) > MAX_WALK:
                self.finish(p, error=("tooLarge", "walk over %d varbinds" % MAX_WALK))
                return
        if not vbs:
            self.finish(p, varbinds=p.got)
            return
        self.step(p)

    def expire(self, now):
        for p in [p for p in self.polls.values() if p.deadline <= now]:
            self.finish(p, error=("timeout", "deadline passed"))

    # --- the loop -----------------------------------------------------

    def run(self):
        sockmap = self.disp.getSocketMap()
        StdinReader(self, sockmap)
        while True:
            asyncore.loop(timeout=0.02, use_poll=True, map=sockmap, count=1)
            now = time.monotonic()
            self.disp.handleTimerTick(time.time())
            self.expire(now)
            if self.shutdown and not self.polls:
                break
        for s in self.leaked:
            s.close()
        self.disp.closeDispatcher()
        self.out.send({"type": "bye"})


class Poll:
    def __init__(self, msg):
        self.id = msg.get("id")
        self.op = msg.get("op")
        self.deadline = time.monotonic() + msg.get("deadlineMs", 10000) / 1000.0
        self.got = []
        self.name = None


class StdinReader(asyncore.file_dispatcher):
    """Reads request lines from stdin inside the event loop."""

    def __init__(self, poller, sockmap):
        asyncore.file_dispatcher.__init__(self, sys.stdin.fileno(), map=sockmap)
        self.poller = poller
        self.buf = b""

    def writable(self):
        return False

    def handle_read(self):
        data = self.recv(65536)
        if not data:
            self.handle_close()
            return
        self.buf += data
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            if line.strip():
                self.poller.handle_line(line)
        if len(self.buf) > MAX_LINE:
            log("request line over %d bytes: dropped" % MAX_LINE)
            self.buf = b""

    def handle_close(self):
        # End of input is a shutdown: answer what is in flight, then exit.
        self.poller.shutdown = True
        self.close()


def main():
    leak = "--leak" in sys.argv[1:]
    Poller(leak).run()


if __name__ == "__main__":
    main()
