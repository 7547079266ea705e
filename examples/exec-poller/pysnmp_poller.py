#!/usr/bin/python3
"""A reference poller for snmpchaos's exec protocol, in Python with pysnmp.

snmpchaos runs this program and drives it over stdin and stdout, one JSON
object a line (docs/exec-protocol.md): a hello, then poll requests (get,
walk, bulkwalk against one agent), cancels and a shutdown; it answers every
poll exactly once with varbinds or a typed error. It polls with Debian's
python3-pysnmp4 (pysnmp 4.4), driven by asyncore with stdin in the same
event loop. v1 and v2c go through pysnmp's message API (pysnmp.proto.api):
one UDP socket for every target, requests matched by request-id and
address, timeouts and retries here. v3 goes through a pysnmp SnmpEngine
(its USM: discovery, keys, time windows), which configures a target entry
per agent on first use.

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

from pyasn1.codec.ber import decoder, encoder
from pyasn1.type import univ
from pysnmp.carrier.asyncore.dgram import udp
from pysnmp.carrier.asyncore.dispatch import AsyncoreDispatcher
from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.asyncore import (CommunityData, SnmpEngine,
                                   UdpTransportTarget, UsmUserData)
from pysnmp.hlapi.asyncore.cmdgen import lcd
from pysnmp.hlapi import auth
from pysnmp.proto import api, rfc1902, rfc1905

PROTOCOL = 1
MAX_LINE = 1 << 20          # bytes, in both directions
MAX_OUTSTANDING = 256       # polls in flight at once; told to the harness
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
        self.disp = AsyncoreDispatcher()
        self.disp.setTimerResolution(0.02)
        self.out = Out()
        self.polls = {}           # poll id -> Poll still unanswered
        self.timeout = 2.0
        self.retries = 1
        self.max_rep = 10
        self.shutdown = False
        self.v2 = MessageTransport(self)
        self.v3 = None            # EngineTransport, made on the first v3 poll

    # --- protocol -----------------------------------------------------

    def handle_line(self, line):
        try:
            msg = json.loads(line)
        except ValueError as e:
            log("bad line from harness: %s" % e)
            return
        kind = msg.get("type")
        if kind == "hello":
            if msg.get("protocol") != PROTOCOL:
                log("harness speaks protocol %r, this poller %d" % (msg.get("protocol"), PROTOCOL))
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
        """Answers a poll, once: later responses for it are ignored."""
        if self.polls.pop(p.id, None) is None:
            return
        if error is not None:
            self.out.send({"type": "result", "id": p.id, "error": {"kind": error[0], "message": error[1]}})
        else:
            self.out.send({"type": "result", "id": p.id, "varbinds": varbinds})

    # --- polling ------------------------------------------------------

    def start(self, msg):
        p = Poll(msg)
        if p.id in self.polls:
            log("poll id %d is already in flight" % p.id)
            return
        self.polls[p.id] = p
        try:
            host, _, port = p.target["addr"].rpartition(":")
            p.addr = (host.strip("[]"), int(port))
            if p.version == "3":
                if self.v3 is None:
                    self.v3 = EngineTransport(self)
                p.transport = self.v3
            else:
                p.transport = self.v2
            if self.leak:
                s = socket.socket(socket.AF_INET6 if ":" in p.addr[0] else socket.AF_INET, socket.SOCK_DGRAM)
                s.connect(p.addr)
                self.leaked.append(s)
            if p.op == "get":
                p.transport.request(p, "get", msg.get("oids", []), self.on_get)
            elif p.op in ("walk", "bulkwalk"):
                p.root = oid_tuple(msg["root"])
                p.last = p.root
                self.step(p)
            else:
                self.finish(p, error=("badRequest", "unknown op %r" % p.op))
        except Exception as e:  # a bad request fails that poll, not the poller
            self.finish(p, error=("error", "%s: %s" % (type(e).__name__, e)))

    def step(self, p):
        kind = "bulk" if p.op == "bulkwalk" and p.version != "1" else "next"
        p.transport.request(p, kind, [p.last], self.on_walk)

    @staticmethod
    def status_error(es, ex):
        if es:
            return "status", "agent error-status %s at index %s" % (es, ex)
        return None

    def on_get(self, p, err, vbs):
        if err:
            self.finish(p, error=err)
            return
        self.finish(p, varbinds=[render(n, v) for n, v in vbs])

    def on_walk(self, p, err, vbs):
        if err:
            self.finish(p, error=err)
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
        self.v2.expire(now)

    # --- the loop -----------------------------------------------------

    def run(self):
        sockmap = self.disp.getSocketMap()
        StdinReader(self, sockmap)
        sent_stats = -1
        last_tick = 0.0
        while True:
            asyncore.loop(timeout=0.01, use_poll=True, map=sockmap, count=1)
            # pysnmp reads one datagram per readable event: drain what else
            # is ready before the timers, so replies do not pile up in the
            # socket's buffer (and overflow it) while timers run.
            for _ in range(32):
                asyncore.loop(timeout=0, use_poll=True, map=sockmap, count=1)
            now = time.monotonic()
            if now - last_tick < 0.01 and not self.shutdown:
                continue
            last_tick = now
            self.disp.handleTimerTick(time.time())
            if self.v3 is not None:
                self.v3.disp.handleTimerTick(time.time())
            self.expire(now)
            sockets = 1 + (self.v3 is not None)
            if sockets != sent_stats:  # its own count: the leaked ones are not in it
                self.out.send({"type": "stats", "openSockets": sockets})
                sent_stats = sockets
            if self.shutdown and not self.polls:
                break
        for s in self.leaked:
            s.close()
        if self.v3 is not None:
            self.v3.disp.closeDispatcher()
        self.disp.closeDispatcher()
        self.out.send({"type": "bye"})


class Poll:
    def __init__(self, msg):
        self.id = msg.get("id")
        self.op = msg.get("op")
        self.target = msg.get("target", {})
        self.version = self.target.get("version", "2c")
        self.deadline = time.monotonic() + msg.get("deadlineMs", 10000) / 1000.0
        self.got = []


class MessageTransport:
    """v1/v2c through pysnmp's message API on one UDP socket for every
    target: requests matched by request-id and source address, resent on
    timeout with the same request-id, as net-snmp does."""

    def __init__(self, poller):
        self.poller = poller
        self.disp = poller.disp
        self.sock = udp.UdpSocketTransport().openClientMode()
        # Room for a burst of replies: with a few hundred in flight, the
        # default buffer (rmem_default, ~200 KiB, ~2 KiB charged a datagram)
        # overflows whenever this process is not scheduled for a moment.
        # SO_RCVBUFFORCE (Linux, as root) passes rmem_max; else SO_RCVBUF.
        for opt in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
            try:
                self.sock.socket.setsockopt(socket.SOL_SOCKET, opt, 8 << 20)
                break
            except OSError:
                continue
        self.disp.registerTransport(udp.domainName, self.sock)
        self.disp.registerRecvCbFun(self.on_message)
        self.next_id = 1
        self.inflight = {}  # request-id -> [poll, addr, bytes, tries left, expire at, callback]

    def request(self, p, kind, oids, cb):
        mod = api.protoModules[api.protoVersion1 if p.version == "1" else api.protoVersion2c]
        if kind == "get":
            pdu = mod.GetRequestPDU()
        elif kind == "next":
            pdu = mod.GetNextRequestPDU()
        else:
            pdu = mod.GetBulkRequestPDU()
        if kind == "bulk":
            mod.apiBulkPDU.setDefaults(pdu)
            mod.apiBulkPDU.setNonRepeaters(pdu, 0)
            mod.apiBulkPDU.setMaxRepetitions(pdu, self.poller.max_rep)
        else:
            mod.apiPDU.setDefaults(pdu)
        rid = self.next_id
        self.next_id = self.next_id % 0x7fffffff + 1
        mod.apiPDU.setRequestID(pdu, rid)
        mod.apiPDU.setVarBinds(pdu, [(o if isinstance(o, tuple) else oid_tuple(o), mod.Null("")) for o in oids])
        msg = mod.Message()
        mod.apiMessage.setDefaults(msg)
        mod.apiMessage.setCommunity(msg, p.target.get("community", "public"))
        mod.apiMessage.setPDU(msg, pdu)
        data = encoder.encode(msg)
        self.inflight[rid] = [p, p.addr, data, self.poller.retries, time.monotonic() + self.poller.timeout, cb]
        self.disp.sendMessage(data, udp.domainName, p.addr)

    def on_message(self, disp, domain, addr, whole):
        while whole:
            try:
                ver = int(api.decodeMessageVersion(whole))
                mod = api.protoModules[ver]
                rsp, whole = decoder.decode(whole, asn1Spec=mod.Message())
            except Exception as e:
                log("undecodable datagram from %s: %s" % (addr, type(e).__name__))
                return whole[:0]
            pdu = mod.apiMessage.getPDU(rsp)
            rid = int(mod.apiPDU.getRequestID(pdu))
            req = self.inflight.get(rid)
            if req is None or tuple(req[1]) != (addr[0], addr[1]):
                continue  # late, duplicated or from elsewhere: ignored
            del self.inflight[rid]
            p, cb = req[0], req[5]
            if p.id not in self.poller.polls:
                continue
            es = int(mod.apiPDU.getErrorStatus(pdu))
            if es:
                cb(p, self.poller.status_error(mod.apiPDU.getErrorStatus(pdu).prettyPrint(),
                                               int(mod.apiPDU.getErrorIndex(pdu, muteErrors=True))), None)
                continue
            cb(p, None, [(name, value) for name, value in mod.apiPDU.getVarBinds(pdu)])
        return whole

    def expire(self, now):
        for rid, req in [(r, q) for r, q in self.inflight.items() if q[4] <= now]:
            p = req[0]
            if p.id not in self.poller.polls:
                del self.inflight[rid]
            elif req[3] > 0:
                req[3] -= 1
                req[4] = now + self.poller.timeout
                self.disp.sendMessage(req[2], udp.domainName, req[1])
            else:
                del self.inflight[rid]
                req[5](p, ("timeout", "no response from %s:%d after %d tries" % (req[1][0], req[1][1], self.poller.retries + 1)), None)


class EngineTransport:
    """v3 through a pysnmp SnmpEngine and its USM (engine discovery,
    localised keys, time windows), on its own UDP socket."""

    def __init__(self, poller):
        self.poller = poller
        # A dispatcher of its own (the message transport holds the shared
        # one's receive callback), polled in the same loop: same socket map.
        self.disp = AsyncoreDispatcher()
        self.disp.setSocketMap(poller.disp.getSocketMap())
        self.disp.setTimerResolution(0.02)
        self.engine = SnmpEngine()
        self.engine.registerTransportDispatcher(self.disp)
        self.targets = {}
        self.users = {}
        self.gen = {"get": cmdgen.GetCommandGenerator(), "next": cmdgen.NextCommandGeneratorSingleRun(),
                    "bulk": cmdgen.BulkCommandGeneratorSingleRun()}

    def request(self, p, kind, oids, cb):
        u = p.target.get("user") or {}
        key = (u.get("name"), u.get("auth"), u.get("authPass"), u.get("priv"), u.get("privPass"))
        user = self.users.get(key)
        if user is None:
            user = UsmUserData(u.get("name", ""), u.get("authPass") or None, u.get("privPass") or None,
                               authProtocol=AUTH[u.get("auth") or "none"], privProtocol=PRIV[u.get("priv") or "none"])
            self.users[key] = user
        target = self.targets.get(p.addr)
        if target is None:
            # Timeouts and retries are the engine's here (in its timer ticks).
            target = UdpTransportTarget(p.addr, timeout=self.poller.timeout, retries=self.poller.retries)
            self.targets[p.addr] = target
        name, _ = lcd.configure(self.engine, user, target, p.target.get("context", ""))
        vbs = [(rfc1902.ObjectName(o if isinstance(o, tuple) else oid_tuple(o)), univ.Null("")) for o in oids]

        def done(engine, handle, ei, es, ex, varbinds, ctx):
            if p.id not in self.poller.polls:
                return
            if ei:
                text = str(ei)
                kind_ = "timeout" if "timeout" in text.lower() else "usm"
                cb(p, (kind_, text), None)
            elif es and int(es):
                cb(p, self.poller.status_error(es.prettyPrint(), ex), None)
            else:
                cb(p, None, [(n, v) for n, v in varbinds])

        ctx = p.target.get("context", "")
        if kind == "bulk":
            self.gen[kind].sendVarBinds(self.engine, name, None, ctx, 0, self.poller.max_rep, vbs, done)
        else:
            self.gen[kind].sendVarBinds(self.engine, name, None, ctx, vbs, done)


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
