#!/usr/bin/env python3
"""bench/media: relayed RTP packets per CPU-second on one pinned core,
sipwall's media relay against rtpengine and a raw recvmmsg/sendmmsg
relay, in the same run under the same load.

Three relays, each pinned to one core (default 1), the load generator
and sink on another (default 0):
  raw        bench/media/rawrelay: one thread, two sockets per stream,
             epoll + recvmmsg/sendmmsg; where a scenario needs SRTP,
             sipwall's own AES-CM transform (media/srtp_cm, OpenSSL), so
             that sipwall/raw compares the relay around the crypto
             (--raw-crypto libsrtp: Debian's libsrtp2 on NSS instead) --
             the ceiling of a user-space relay;
  rtpengine  rtpengine 10.5 in user space (--table=-1), one worker
             thread, driven over its ng control protocol (offer, answer,
             delete);
  sipwall    sipwalld anchoring the media of SIP calls it relays: a fake
             trunk (127.0.0.71) calls a DID, sipwalld forwards the call
             to a fake PBX (127.0.0.72) as the core target; the relay
             ports are read from the SDP each side received.

Scenarios (each stream is one call; media flows one way per scenario):
  rtp        RTP -> RTP, trunk to PBX;
  srtp-rtp   SRTP (AES_CM_128_HMAC_SHA1_80, SDES) from the trunk,
             plain RTP to the PBX: the relay decrypts;
  rtp-srtp   the same calls, PBX to trunk: the relay encrypts.

Load (bench/media/rtpgen, libsrtp2 for its own SRTP): 500 streams of
160-byte G.711 payload (172-byte RTP packets), offered at several
aggregate rates (steps of a few seconds, the relays alternating at each
rate); the payload of every packet is checked at a plain sink, of one
in four after SRTP unprotect at an SRTP sink.  Per step and relay:
packets delivered / sent, and packets delivered per CPU-second of the
relay -- the relay process's utime+stime from /proc/PID/stat (all its
threads), for sipwall its media thread's /proc/PID/task/TID/stat.
Memory: RSS growth of the relay process per established call (stream
pair) with 200 and 1000 calls, media flowing on all of them.

Everything is on loopback; every generator run is bounded in packets
and time; only processes this script started are stopped, by PID.
"""
import argparse
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
from benchlib import (  # noqa: E402  (bench/benchlib.py)
    CLK_TCK, build_dir, core_busy_ticks, free_udp_port, log, log_tail,
    memory_kib, note_other_load, proc_stat, stop_proc, udp_counters)
import ng  # noqa: E402
import sipua  # noqa: E402

TRUNK_IP = "127.0.0.71"     # the trunk: SIP and its media
PBX_IP = "127.0.0.72"       # the PBX: SIP and its media
RELAY_IP = "127.0.0.1"      # every relay's media address
MEDIA_BASE = 10000          # stream i: port MEDIA_BASE + 2i on both sides
DID = "+15550100001"
RTPENGINE_PORTS = (30000, 39999)
SIPWALL_PORTS = (20000, 29999)
SCENARIOS = {               # name: (calls, direction)
    "rtp": ("plain", "fwd"),
    "srtp-rtp": ("srtp", "fwd"),
    "rtp-srtp": ("srtp", "rev"),
}
RELAYS = ("raw", "rtpengine", "sipwall")
LOSS_MAX = 0.001            # a step passes with < 0.1% loss
PACE_MIN = 0.98             # below: "the generator fell behind" (flagged)
SEQ_MAX = 60000             # RTP sequence numbers per call: never wrap
SRTP_CHECK = 4              # an SRTP sink checks one packet in 4


def media_port(i):
    return MEDIA_BASE + 2 * i


def new_key():
    return base64.b64encode(os.urandom(30)).decode()


def task_cpu(pid, tid):
    with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
        data = f.read()
    rest = data[data.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def process_cpu(pid):
    try:
        st = proc_stat(pid)
    except OSError:
        return 0.0
    return (st["utime"] + st["stime"]) / CLK_TCK


def udp_sockets():
    """{(ip, port): (drops, receive queue bytes)} of every IPv4 UDP
    socket (/proc/net/udp)."""
    out = {}
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            v = line.split()
            ip, port = v[1].split(":")
            ip = socket.inet_ntoa(bytes.fromhex(ip)[::-1])
            out[(ip, int(port, 16))] = (int(v[12]), int(v[4].split(":")[1],
                                                         16))
    return out


def relay_drops(streams, before=None):
    """Datagrams the kernel dropped on the relay's sockets of these
    streams (both legs), since `before` (a udp_sockets() snapshot)."""
    now = udp_sockets()
    n = 0
    for s in streams:
        for a in (s.relay_trunk, s.relay_pbx):
            d = now.get(tuple(a), (0, 0))[0]
            if before is not None:
                d -= before.get(tuple(a), (0, 0))[0]
            n += d
    return n


def queued(streams):
    """(sockets, bytes) of the relay's sockets with data waiting."""
    socks = udp_sockets()
    n = b = 0
    for s in streams:
        for a in (s.relay_trunk, s.relay_pbx):
            q = socks.get(tuple(a), (0, 0))[1]
            if q:
                n += 1
                b += q
    return n, b


def wait_drained(streams, secs=3.0):
    """Wait until the relay's sockets hold no data (at most secs); what
    is still queued then: (sockets, bytes)."""
    end = time.monotonic() + secs
    while True:
        n, b = queued(streams)
        if not n or time.monotonic() >= end:
            return n, b
        time.sleep(0.1)


def wait_quiet(cores, secs, limit=0.15):
    """Wait (at most secs) until other programs leave the cores below
    `limit` busy over 0.3 s; the busiest share seen last."""
    end = time.monotonic() + secs
    while True:
        b0 = [core_busy_ticks(c) for c in cores]
        time.sleep(0.3)
        b1 = [core_busy_ticks(c) for c in cores]
        busy = max((y[0] - x[0]) / max(y[1] - x[1], 1)
                   for x, y in zip(b0, b1))
        if busy < limit or time.monotonic() >= end:
            return busy
        time.sleep(0.2)


def receive_buffers(streams):
    """The receive buffer sizes (SO_RCVBUF as the kernel holds it) of
    the relay's sockets, {bytes: count}, from `ss -uam`."""
    ports = {s.relay_trunk for s in streams} | {s.relay_pbx for s in streams}
    try:
        p = subprocess.run(["ss", "-uanmH"], capture_output=True, text=True,
                           timeout=20)
    except (OSError, subprocess.SubprocessError):
        return {}
    out, local = {}, None
    for line in p.stdout.splitlines():
        m = re.match(r"\S+\s+\d+\s+\d+\s+(\S+):(\d+)\s", line)
        if m:
            local = (m.group(1), int(m.group(2)))
            continue
        m = re.search(r"rb(\d+)", line)
        if m and local in ports:
            out[int(m.group(1))] = out.get(int(m.group(1)), 0) + 1
    return out


class Stream:
    """One call's media: where each side's media is, where each side
    sends to reach the relay, the trunk's SDES key and the relay's key
    towards the trunk (SRTP calls)."""

    def __init__(self, i, trunk_key=None):
        self.i = i
        self.trunk = (TRUNK_IP, media_port(i))
        self.pbx = (PBX_IP, media_port(i))
        self.relay_trunk = None     # the trunk sends here
        self.relay_pbx = None       # the PBX sends here
        self.trunk_key = trunk_key
        self.relay_key = None

    def line(self, direction):
        """A stream line of rtpgen."""
        if direction == "fwd":
            src, dst, sink = self.trunk, self.relay_trunk, self.pbx
            tx, rx = self.trunk_key, None
        else:
            src, dst, sink = self.pbx, self.relay_pbx, self.trunk
            tx, rx = None, self.relay_key
        return "%s %d %s %d %s %d %s %s\n" % (src + dst + sink +
                                               (tx or "-", rx or "-"))


# --- the relays ------------------------------------------------------------

class Relay:
    name = "?"

    def __init__(self, work, core):
        self.work, self.core = work, core
        self.proc = None
        self.logf = None
        self.streams = []

    def spawn(self, argv, **kw):
        n = 1
        while os.path.exists(os.path.join(self.work, "%s-%d.log" % (
                self.name, n))):
            n += 1
        self.logf = open(os.path.join(self.work, "%s-%d.log" % (
            self.name, n)), "w")
        kw.setdefault("stdout", self.logf)
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(self.core)] + argv,
            stderr=self.logf if kw.get("stdout") is not self.logf
            else subprocess.STDOUT, start_new_session=True, **kw)

    def pid(self):
        return self.proc.pid

    def cpu(self):
        """The CPU-seconds the figure counts."""
        return process_cpu(self.pid())

    def all_cpu(self):
        return process_cpu(self.pid())

    def memory(self):
        return memory_kib([self.pid()])

    def sockets(self):
        """Open sockets of the relay process (their buffers are kernel
        memory, outside RSS)."""
        n = 0
        try:
            for fd in os.listdir("/proc/%d/fd" % self.pid()):
                try:
                    if os.readlink("/proc/%d/fd/%s" % (
                            self.pid(), fd)).startswith("socket:"):
                        n += 1
                except OSError:
                    pass
        except OSError:
            pass
        return n

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n=3):
        return log_tail(self, n)

    def stop(self):
        if self.proc is not None:
            stop_proc(self.proc, lambda: [self.proc.pid])
            self.proc = None
        if self.logf:
            self.logf.close()
            self.logf = None


class RawRelay(Relay):
    name = "raw"

    def __init__(self, work, core, build, crypto):
        super().__init__(work, core)
        self.exe = os.path.join(build, "bench", "rawrelay")
        self.crypto = crypto
        self.counters = {}

    def start(self):
        # The kernel's default receive buffers, as the other relays
        # have (see the "receive buffers" line of each relay).
        self.spawn([self.exe, "--addr", RELAY_IP, "--max-secs", "1200",
                    "--bufsize", "0", "--crypto", self.crypto],
                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def add_calls(self, indexes, srtp):
        lines, new = [], []
        for i in indexes:
            s = Stream(i, new_key() if srtp else None)
            if srtp:
                s.relay_key = new_key()
            # leg A faces the trunk, leg B the PBX
            lines.append("%s %d %s %d %s %s - -\n" % (
                s.trunk + s.pbx + (s.trunk_key or "-", s.relay_key or "-")))
            new.append(s)
        self.proc.stdin.write("".join(lines) + "END\n")
        self.proc.stdin.flush()
        for s in new:
            ln = self.proc.stdout.readline().split()
            if len(ln) != 3 or ln[0] != "PORTS":
                raise RuntimeError("rawrelay: %r; %s" % (ln, self.log_tail()))
            s.relay_trunk = (RELAY_IP, int(ln[1]))
            s.relay_pbx = (RELAY_IP, int(ln[2]))
        if self.proc.stdout.readline().strip() != "READY":
            raise RuntimeError("rawrelay: no READY; " + self.log_tail())
        self.streams += new
        return new

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.close()     # the end of stdin: it exits
                out = self.proc.stdout.read()
                self.proc.wait(timeout=10)
                self.counters = json.loads(out.strip().splitlines()[-1])
            except (OSError, ValueError, IndexError,
                    subprocess.TimeoutExpired):
                pass
        super().stop()


class Rtpengine(Relay):
    name = "rtpengine"

    def __init__(self, work, core, threads=1):
        super().__init__(work, core)
        self.threads = threads
        self.port = free_udp_port()
        self.ng = None
        self.tags = []

    def start(self):
        # User space only (--table=-1), our own foreground child, its
        # log on stderr (our file); no config file, no systemd.
        self.spawn(["rtpengine", "--config-file=none", "--table=-1",
                    "--interface=" + RELAY_IP,
                    "--listen-ng=%s:%d" % (RELAY_IP, self.port),
                    "--port-min=%d" % RTPENGINE_PORTS[0],
                    "--port-max=%d" % RTPENGINE_PORTS[1],
                    "--num-threads=%d" % self.threads,
                    "--timeout=600", "--silent-timeout=600",
                    "--delete-delay=0", "--foreground", "--log-stderr",
                    "--log-level=4"], stdin=subprocess.DEVNULL)
        self.ng = ng.NgClient(self.port, RELAY_IP, timeout=0.5)
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if not self.alive():
                raise RuntimeError("rtpengine exited: " + self.log_tail())
            try:
                self.ng.command("ping", tries=1)
                return
            except RuntimeError:
                time.sleep(0.1)
        raise RuntimeError("rtpengine does not answer ng pings: " +
                           self.log_tail())

    def add_calls(self, indexes, srtp):
        new = []
        common = {"ICE": "remove", "replace": ["origin",
                                               "session-connection"]}
        for i in indexes:
            s = Stream(i, new_key() if srtp else None)
            cid = "media-%d-%d" % (os.getpid(), i)
            offer = sipua.sdp("carrier", TRUNK_IP, s.trunk[1], s.trunk_key)
            kw = dict(common)
            if srtp:
                kw["transport_protocol"] = "RTP/AVP"    # plain to the PBX
            r = self.ng.command("offer", call_id=cid, from_tag="t%d" % i,
                                sdp=offer, **kw)
            a, p, _, _ = sipua.sdp_media(r["sdp"])
            s.relay_pbx = (a, p)
            answer = sipua.sdp("pbx", PBX_IP, s.pbx[1])
            r = self.ng.command("answer", call_id=cid, from_tag="t%d" % i,
                                to_tag="p%d" % i, sdp=answer, **common)
            a, p, proto, key = sipua.sdp_media(r["sdp"])
            s.relay_trunk = (a, p)
            s.relay_key = key
            if srtp and (proto != "RTP/SAVP" or not key):
                raise RuntimeError("rtpengine answered the SRTP offer with "
                                   "%s and no key" % proto)
            self.tags.append((cid, "t%d" % i))
            new.append(s)
        self.streams += new
        return new

    def stop(self):
        if self.ng is not None:
            if self.alive():
                for cid, ft in self.tags:
                    try:
                        self.ng.command("delete", call_id=cid, from_tag=ft,
                                        tries=1)
                    except RuntimeError:
                        break
            self.ng.close()
            self.ng = None
        self.tags = []
        super().stop()


SIPWALL_CONF = """\
# bench/media: sipwalld between a trunk (127.0.0.71) and the core PBX
# (127.0.0.72), anchoring the media of every call.  A bench config, not
# one to copy: 127.0.0.0/8 is never banned, and the media timers are
# long (the bench's media pauses while the other relays are measured).
version: 1
node:
  name: bench-media
  workers: 1
  state_dir: {state}
listen:
  - transport: udp
    address: {relay}
    port: {core_port}
    zone: core
  - transport: udp
    address: {relay}
    port: {trunk_port}
    zone: carrier
zones:
  - name: core
    trust: trusted
    auth: none
    allow: [{pbx}/32]
    media_address: {relay}
    srtp: "off"
  - name: carrier
    trust: trusted
    auth: none
    allow: [{trunk}/32]
    media_address: {relay}
    srtp: {srtp}
core:
  zone: core
  probe_interval: 0s
  targets:
    - address: {pbx}
      port: {pbx_port}
trunks:
  - name: carrier
    zone: carrier
    address: {trunk}
    port: {trunk_sip_port}
    dids: ["{did}"]
calls:
  keepalive: 0s
  max_duration: 1h
media:
  anchor: true
  workers: 1
  port_min: {port_min}
  port_max: {port_max}
  timeout: 600s
  one_way_timeout: 0s
  one_way_hangup: false
  strict_source: true
  latch: signalling
bans:
  never: [127.0.0.0/8]
log:
  level: warn
"""


class Sipwall(Relay):
    name = "sipwall"

    def __init__(self, work, core, build, srtp):
        super().__init__(work, core)
        self.build = build
        self.srtp = srtp
        self.ua = None
        self.state = os.path.join(work, "sipwall-state")
        os.makedirs(self.state, exist_ok=True)
        self.core_port = free_udp_port(RELAY_IP)
        self.trunk_port = free_udp_port(RELAY_IP)
        self.pbx_port = free_udp_port(PBX_IP)
        self.conf = os.path.join(work, "sipwall-media.yaml")
        self.media_tids = []
        self.ntag = 0

    def write_conf(self, trunk_sip_port):
        with open(self.conf, "w") as f:
            f.write(SIPWALL_CONF.format(
                state=self.state, relay=RELAY_IP, core_port=self.core_port,
                trunk_port=self.trunk_port, pbx=PBX_IP,
                pbx_port=self.pbx_port, trunk=TRUNK_IP,
                trunk_sip_port=trunk_sip_port, did=DID,
                srtp="require" if self.srtp else '"off"',
                port_min=SIPWALL_PORTS[0], port_max=SIPWALL_PORTS[1]))

    def check(self, trunk_sip_port=5060):
        """None when `sipwall check` takes the bench config, else why."""
        self.write_conf(trunk_sip_port)
        cli = os.path.join(self.build, "src", "cli", "sipwall")
        if not os.path.exists(cli):
            return "no %s (build sipwall first)" % cli
        p = subprocess.run([cli, "check", self.conf], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            return "sipwall check refuses the media config: " + " ".join(
                (p.stderr + p.stdout).split())[:300]
        return None

    def start(self):
        self.ntag += 1
        self.ua = sipua.SipPair(TRUNK_IP, PBX_IP, self.pbx_port, RELAY_IP,
                                self.trunk_port, DID, media_port,
                                "%d-%d" % (os.getpid(), self.ntag))
        why = self.check(self.ua.trunk_port)
        if why:
            raise RuntimeError(why)
        self.spawn([os.path.join(self.build, "src", "sipwalld"),
                    "-c", self.conf], stdin=subprocess.DEVNULL)
        # Up when the trunk's OPTIONS gets an answer.
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if not self.alive():
                raise RuntimeError("sipwalld exited: " + self.log_tail())
            if self.options_answered():
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("sipwalld does not answer OPTIONS on the "
                               "trunk listener: " + self.log_tail())

    def options_answered(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((TRUNK_IP, 0))
            port = s.getsockname()[1]
            s.settimeout(0.3)
            msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-probe-%d\r\n"
                   "Max-Forwards: 70\r\nFrom: <sip:probe@%s>;tag=probe\r\n"
                   "To: <sip:%s>\r\nCall-ID: probe-%d@%s\r\n"
                   "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % (
                       RELAY_IP, self.trunk_port, TRUNK_IP, port,
                       time.time_ns(), TRUNK_IP, RELAY_IP, time.time_ns(),
                       TRUNK_IP))
            s.sendto(msg.encode(), (RELAY_IP, self.trunk_port))
            s.recvfrom(65535)
            return True
        except OSError:
            return False
        finally:
            s.close()

    def add_calls(self, indexes, srtp):
        keys = {i: new_key() for i in indexes} if srtp else None
        calls = self.ua.place(indexes, keys, window=50,
                              timeout=30 + len(indexes) / 20)
        new = []
        for c in calls:
            s = Stream(c.index, c.key)
            if c.trunk_side is None or c.pbx_side is None or \
                    c.trunk_side[1] is None or c.pbx_side[1] is None:
                raise RuntimeError("call %d: no SDP to read the relay's "
                                   "ports from" % c.index)
            s.relay_trunk = c.trunk_side[:2]
            s.relay_pbx = c.pbx_side[:2]
            s.relay_key = c.trunk_side[3]
            if srtp and not s.relay_key:
                raise RuntimeError("sipwall answered the SRTP offer "
                                   "without a=crypto (%s)" % c.trunk_side[2])
            if s.relay_trunk[0] in (TRUNK_IP, PBX_IP) or \
                    s.relay_pbx[0] in (TRUNK_IP, PBX_IP):
                raise RuntimeError("sipwall did not anchor the media: the "
                                   "SDP still names the other side (%s, %s)"
                                   % (s.relay_trunk, s.relay_pbx))
            new.append(s)
        if len(calls) < len(indexes):
            log("   sipwall: %d of %d calls came up (%s)" % (
                len(calls), len(indexes), "; ".join(self.ua.errors[:3])))
        self.streams += new
        self.media_tids = self.find_media_threads()
        return new

    def find_media_threads(self):
        out = []
        try:
            for t in os.listdir("/proc/%d/task" % self.pid()):
                with open("/proc/%d/task/%s/comm" % (self.pid(), t)) as f:
                    if f.read().startswith("media"):
                        out.append(int(t))
        except OSError:
            pass
        return out

    def cpu(self):
        if not self.media_tids:
            return self.all_cpu()
        t = 0.0
        for tid in self.media_tids:
            try:
                t += task_cpu(self.pid(), tid)
            except OSError:
                pass
        return t

    def stop(self):
        if self.ua is not None:
            if self.alive():
                ended = self.ua.hangup()
                up = len(self.streams)
                if ended < up:
                    log("   sipwall: %d of %d calls ended with a 200 to "
                        "their BYE" % (ended, up))
            self.ua.close()
            self.ua = None
        super().stop()


# --- the generator ---------------------------------------------------------

class Generator:
    def __init__(self, work, build, core):
        self.work = work
        self.exe = os.path.join(build, "bench", "rtpgen")
        self.core = core

    def run(self, streams, direction, rate, secs, seq_start, tag,
            check=1, drain=1.0, on_start=None):
        """A bounded rtpgen run; its JSON.  on_start("start") is called
        when rtpgen's clock starts (after it precomputed SRTP packets),
        on_start("sent") when it has sent its last packet."""
        path = os.path.join(self.work, "streams-%s.txt" % tag)
        with open(path, "w") as f:
            f.writelines(s.line(direction) for s in streams)
        argv = ["taskset", "-c", str(self.core), self.exe, "--streams", path,
                "--rate", str(rate), "--duration", str(secs),
                "--seq-start", str(seq_start), "--check", str(check),
                "--drain", str(drain)]
        errf = os.path.join(self.work, "rtpgen.err")
        with open(errf, "w+") as err:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=err,
                                 text=True)
            # rtpgen ends by itself (its loops are bounded); the timer is
            # for a generator that hangs all the same.
            killer = threading.Timer(secs + drain + 120, p.kill)
            killer.start()
            try:
                lines = []
                for line in p.stdout:
                    lines.append(line)
                    if on_start and line.strip() in ("START", "SENT"):
                        on_start(line.strip().lower())
                p.wait()
            finally:
                killer.cancel()
                if p.poll() is None:
                    p.kill()
                    p.wait()
            err.seek(0)
            why = err.read().strip()
        if p.returncode != 0 or not lines:
            raise RuntimeError("rtpgen: exit %s: %s" % (p.returncode, why))
        return json.loads(lines[-1])


def measured(relay, gen, streams, direction, rate, secs, seq, tag, a,
             check=1):
    """One generator run through relay, the relay's CPU read around it;
    first a wait for quiet cores (other programs), afterwards a wait for
    the relay's sockets to drain."""
    pid = relay.pid()
    noise = wait_quiet((relay.core, gen.core), a.quiet_wait)
    socks0 = udp_sockets()
    t = {}

    def on_start(what):
        t[what] = (relay.cpu(), relay.all_cpu(), core_busy_ticks(relay.core),
                   time.monotonic())
        if what == "start":
            t["udp"] = udp_counters()

    g = gen.run(streams, direction, rate, secs, seq, tag, check=check,
                on_start=on_start)
    c1, a1 = relay.cpu(), relay.all_cpu()
    udp1 = udp_counters()
    drops = relay_drops(streams, socks0)
    left = wait_drained(streams)
    c0, a0, core0, t0 = t["start"]
    udp0 = t["udp"]
    # Busy shares while the generator was sending (not its drain time).
    cs, as_, core1, t1 = t.get("sent", t["start"])
    wall = max(t1 - t0, 0.001)
    cpu = c1 - c0
    r = {"relay": relay.name, "rate": rate, "secs": secs, "pid": pid,
         "streams": g["streams"], "target": g["target"], "sent": g["sent"],
         "received": g["received"], "verified": g["verified"],
         "bad_payload": g["bad_payload"], "srtp_errors": g["srtp_errors"],
         "bad_length": g["bad_length"], "sink_drops": g["sink_drops"],
         "relay_drops": drops, "stale": g["stale"],
         "queued_after": left[0], "queued_bytes_after": left[1],
         "busy_before": round(noise, 2),
         "silent_streams": g["silent_streams"],
         "starved_streams": g["starved_streams"],
         "tx_errors": g["tx_errors"], "send_secs": g["send_secs"],
         "gen_cpu": round(g["cpu_user"] + g["cpu_sys"], 2),
         "relay_cpu": round(cpu, 2), "relay_process_cpu": round(a1 - a0, 2),
         "rcvbuf_errors": udp1.get("RcvbufErrors", 0) -
         udp0.get("RcvbufErrors", 0),
         "seq_next": g["seq_next"]}
    r["relay_busy"] = round((cs - c0) / wall, 2)
    r["gen_busy"] = round(r["gen_cpu"] / max(g["wall"], 0.001), 2)
    r["core_busy"] = round((core1[0] - core0[0]) /
                           max(core1[1] - core0[1], 1), 2)
    # Other programs on the relay's core during the step: its busy share
    # beyond the relay process's own.
    r["others"] = round(max(r["core_busy"] - (as_ - a0) / wall, 0), 2)
    r["delivered"] = round(g["received"] / g["sent"], 5) if g["sent"] else 0
    r["pace"] = round(g["sent"] / g["target"], 3) if g["target"] else 0
    r["pkts_per_cpu_s"] = int(g["received"] / cpu) if cpu > 0 else None
    # The relay passes on what it was given: a generator that fell
    # behind (its own core full) is flagged, not the relay's failure.
    r["pass"] = bool(g["sent"] and 1 - r["delivered"] < LOSS_MAX and
                     not g["bad_payload"] and not g["srtp_errors"] and
                     not g["bad_length"])
    r["gen_behind"] = r["pace"] < PACE_MIN
    return r


def show_step(scen, r):
    log("  %-9s %-9s %7d/s %-4s delivered %7.3f%% (%d of %d; dropped in "
        "the relay's sockets %d, the sink's %d)  relay %3.0f%% of a core "
        "(core %3.0f%%)  gen %3.0f%%  %s pkts/CPU-s%s" % (
            scen, r["relay"], r["rate"], "ok" if r["pass"] else "FAIL",
            100 * r["delivered"], r["received"], r["sent"],
            r["relay_drops"], r["sink_drops"], 100 * r["relay_busy"],
            100 * r["core_busy"], 100 * r["gen_busy"],
            "{:,}".format(r["pkts_per_cpu_s"]) if r["pkts_per_cpu_s"]
            else "-",
            "" if not r["gen_behind"] else
            "  (generator behind: sent %.0f%% of its target)" % (
                100 * r["pace"])))
    bad = ["%d %s" % (r[k], k.replace("_", " ")) for k in
           ("bad_payload", "srtp_errors", "bad_length", "silent_streams",
            "starved_streams", "tx_errors", "stale") if r[k]]
    if r["queued_after"]:
        bad.append("%d of the relay's sockets still held %d bytes 3 s "
                   "after the step" % (r["queued_after"],
                                       r["queued_bytes_after"]))
    if r["others"] > 0.2:
        bad.append("other programs took about %.0f%% of the relay's core" %
                   (100 * r["others"]))
    if bad:
        log("            " + ", ".join(bad))


# --- the run ----------------------------------------------------------------

def make_relay(name, work, a, build, srtp):
    if name == "raw":
        return RawRelay(work, a.relay_core, build, a.raw_crypto)
    if name == "rtpengine":
        return Rtpengine(work, a.relay_core, a.rtpengine_threads)
    return Sipwall(work, a.relay_core, build, srtp)


def start_with_calls(name, work, a, build, srtp, n, out):
    """The relay started with n calls set up, or None (the reason in
    out["skipped"])."""
    relay = make_relay(name, work, a, build, srtp)
    try:
        if name == "sipwall":
            why = relay.check()
            if why:
                raise RuntimeError(why)
        relay.start()
        t0 = time.monotonic()
        relay.add_calls(list(range(n)), srtp)
        rb = receive_buffers(relay.streams)
        out["rcvbuf"][name] = rb
        log("   %-9s %d %s calls set up in %.1f s; relay sockets' receive "
            "buffers %s%s" % (
            name, len(relay.streams), "SRTP" if srtp else "RTP",
            time.monotonic() - t0,
            ", ".join("%d x %d KiB" % (c, b // 1024)
                      for b, c in sorted(rb.items())) or "?",
            "; media thread(s) %s" % relay.media_tids
            if name == "sipwall" and relay.media_tids else
            "; no thread named media*: CPU is the whole process"
            if name == "sipwall" else ""))
        return relay
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        why = "%s" % e
        tail = relay.log_tail()
        if tail and tail not in why:
            why += " (log: %s)" % tail
        out["skipped"]["%s/%s" % (name, "srtp" if srtp else "plain")] = why
        log("   %s skipped for %s calls: %s" % (
            name, "SRTP" if srtp else "RTP", why))
        relay.stop()
        return None


class Lineup:
    """The relays of one kind of calls (RTP or SRTP), each with its
    calls set up, and the next RTP sequence number of each (the calls'
    sequence numbers go on from run to run: SRTP keeps a replay window
    and a rollover counter, so they must never go back nor wrap)."""

    def __init__(self, a, build, work, gen, out, srtp):
        self.a, self.build, self.work = a, build, work
        self.gen, self.out, self.srtp = gen, out, srtp
        self.relays = []
        self.seq = {}
        for name in a.only:
            r = start_with_calls(name, work, a, build, srtp, a.streams, out)
            if r:
                self.relays.append(r)
                self.seq[name] = 1

    def run(self, r, direction, rate, secs, tag, measure=False):
        """One generator run through r (measured: with r's CPU).  An
        SRTP sink unprotects (libsrtp2, on the generator's core) and
        checks one packet in SRTP_CHECK; a plain sink checks all."""
        check = SRTP_CHECK if self.srtp and direction == "rev" else 1
        if measure:
            x = measured(r, self.gen, r.streams, direction, rate, secs,
                         self.seq[r.name], tag, self.a, check)
        else:
            x = self.gen.run(r.streams, direction, rate, secs,
                             self.seq[r.name], tag, check=check)
        self.seq[r.name] = x["seq_next"]       # no gap when x kept pace
        return x

    def room(self, r, rate):
        """Whether a step at rate fits before the sequence numbers wrap."""
        return self.seq[r.name] + rate * self.a.step / len(r.streams) + \
            100 < SEQ_MAX

    def restart(self, r):
        """r replaced by a fresh relay with fresh calls (None when it does
        not start again: it is dropped)."""
        log("   %s: restarting it with fresh calls" % r.name)
        r.stop()
        k = self.relays.index(r)
        fresh = start_with_calls(r.name, self.work, self.a, self.build,
                                 self.srtp, self.a.streams, self.out)
        if fresh is None:
            self.relays.pop(k)
        else:
            self.relays[k] = fresh
            self.seq[r.name] = 1
        return fresh

    def stop(self):
        for r in self.relays:
            r.stop()
            if r.name == "raw" and r.counters:
                self.out.setdefault("rawrelay_counters", {})[
                    "srtp" if self.srtp else "plain"] = r.counters


def warm_up(lineup, scenarios):
    """Media on every stream before measuring (not measured)."""
    for r in lineup.relays:
        for sc in scenarios:
            g = lineup.run(r, SCENARIOS[sc][1], 50 * len(r.streams), 1,
                           "warm-%s-%s" % (r.name, sc))
            if g["received"] < 0.9 * g["sent"]:
                log("   %s warm-up (%s): only %d of %d packets arrived" % (
                    r.name, sc, g["received"], g["sent"]))


def step(lineup, r, sc, rate, retries):
    """A measured step; run again (twice at most per relay and scenario)
    when it failed while other programs took a good part of the relay's
    core, unless streams starved in it (after_starved() sees to those)."""
    while True:
        x = lineup.run(r, SCENARIOS[sc][1], rate, lineup.a.step,
                       "%s-%s-%d" % (r.name, sc, rate), measure=True)
        x["scenario"] = sc
        show_step(sc, x)
        if x["pass"] or x["others"] <= 0.25 or retries[r.name] == 0 or \
                x["starved_streams"]:
            return x
        retries[r.name] -= 1
        log("            disturbed: this step runs again")


def after_starved(lineup, r, sc, rate, x):
    """Overloaded, some streams got less than half their packets.  Do
    they come back?  A second at 50 packets/s per stream says.  Streams
    that stay dead (rtpengine) would spoil every later step, so the
    relay is restarted with fresh calls (unless --no-restart).  The relay
    to go on with (None: none)."""
    g = lineup.run(r, SCENARIOS[sc][1], 50 * len(r.streams), 1,
                   "probe-%s-%s-%d" % (r.name, sc, rate))
    x["dead_after"] = g["silent_streams"]
    log("            after it, at 50 packets/s per stream: %d streams "
        "still get nothing" % g["silent_streams"])
    if not g["silent_streams"] or lineup.a.no_restart:
        return r
    lineup.out["restarts"].append({"relay": r.name, "scenario": sc,
                                   "rate": rate,
                                   "dead": g["silent_streams"]})
    return lineup.restart(r)


def run_scenario(lineup, sc):
    """The rate steps of one scenario, the relays alternating at each
    rate; a relay that lost more than 5% at two rates in a row is not
    stepped further up."""
    a = lineup.a
    fails = {r.name: 0 for r in lineup.relays}
    retries = {r.name: 2 for r in lineup.relays}
    for rate in a.rates:
        if time.monotonic() > a.deadline:
            log("   time budget reached: %s from %d/s on not run" % (
                sc, rate))
            return
        for r in list(lineup.relays):
            if fails[r.name] >= 2 or not r.alive():
                continue
            if not lineup.room(r, rate):
                log("   %s: RTP sequence numbers would wrap; %d/s not run" %
                    (r.name, rate))
                continue
            x = step(lineup, r, sc, rate, retries)
            lineup.out["steps"].append(x)
            heavy = 1 - x["delivered"] > 0.05
            fails[r.name] = 0 if x["pass"] else fails[r.name] + heavy
            if x["starved_streams"] and r.alive():
                after_starved(lineup, r, sc, rate, x)
    for r in lineup.relays:
        if not r.alive():
            log("   %s exited during %s: %s" % (r.name, sc, r.log_tail()))


def run_scenarios(a, build, work, gen, out):
    kinds = []
    for sc in a.scenarios:
        if SCENARIOS[sc][0] not in kinds:
            kinds.append(SCENARIOS[sc][0])
    for kind in kinds:
        srtp = kind == "srtp"
        log("-- %s calls: %d per relay" % ("SRTP" if srtp else "RTP",
                                           a.streams))
        mine = [sc for sc in a.scenarios if SCENARIOS[sc][0] == kind]
        lineup = Lineup(a, build, work, gen, out, srtp)
        try:
            warm_up(lineup, mine)
            for sc in mine:
                run_scenario(lineup, sc)
        finally:
            lineup.stop()


def run_memory(a, build, work, gen, out):
    """RSS growth per call with a.mem_streams[i] calls, media on all of
    them (50 packets/s each, 2 s) before each reading."""
    log("-- memory: RSS growth per call (stream pair) at %s calls, media "
        "flowing" % " and ".join(map(str, a.mem_streams)))
    for name in a.only:
        relay = start_with_calls(name, work, a, build, False, 1, out)
        if relay is None:
            continue
        res = {"relay": name, "points": []}
        try:
            seq = 1
            g = gen.run(relay.streams, "fwd", 50, 1, seq, "mem0")
            seq = g["seq_next"]
            time.sleep(0.5)
            idle = relay.memory()
            idle_socks = relay.sockets()
            res["idle_rss_kib"] = idle["rss"]
            for n in a.mem_streams:
                have = len(relay.streams)
                if n > have:
                    relay.add_calls(list(range(have, n)), False)
                g = gen.run(relay.streams, "fwd", 50 * len(relay.streams),
                            2, seq, "mem%d" % n)
                seq = g["seq_next"]
                time.sleep(0.5)
                m = relay.memory()
                calls = len(relay.streams) - 1      # the warm-up call
                p = {"calls": calls, "rss_kib": m["rss"],
                     "sockets_per_call": round((relay.sockets() - idle_socks)
                                               / calls, 2) if calls else None,
                     "delivered": round(g["received"] / max(g["sent"], 1),
                                        4),
                     "bytes_per_call": int((m["rss"] - idle["rss"]) * 1024 /
                                           calls) if calls else None}
                res["points"].append(p)
                log("   %-9s %5d calls: RSS %.1f -> %.1f MiB, %s bytes per "
                    "call, %s sockets per call; media delivered %.2f%%" % (
                        name, calls, idle["rss"] / 1024, m["rss"] / 1024,
                        "{:,}".format(p["bytes_per_call"]),
                        p["sockets_per_call"], 100 * p["delivered"]))
        except (RuntimeError, OSError) as e:
            log("   %s memory: %s" % (name, e))
            res["error"] = str(e)
        finally:
            relay.stop()
        out["memory"][name] = res


def summary(a, out):
    log("")
    log("bench/media results (%d streams, %d-byte RTP, %d s steps; relay "
        "on core %d, generator on core %d):" % (
            a.streams, 172, a.step, a.relay_core, a.gen_core))
    log("  packets delivered per CPU-second of the relay (raw, rtpengine: "
        "process utime+stime; sipwall: its media thread), delivered/sent")
    out["ratios"] = {}
    for sc in a.scenarios:
        steps = [s for s in out["steps"] if s["scenario"] == sc]
        if not steps:
            continue
        log("  %s:" % sc)
        log("    %9s  %-26s %-26s %-26s %8s %8s" % (
            "offered", "raw", "rtpengine", "sipwall", "sw/raw", "sw/rte"))
        for rate in a.rates:
            by = {s["relay"]: s for s in steps if s["rate"] == rate}
            if not by:
                continue
            cells = []
            for name in RELAYS:
                s = by.get(name)
                if s is None:
                    cells.append("-")
                    continue
                cells.append("%s %7.3f%% %3.0f%%%s%s" % (
                    "{:>8,}".format(s["pkts_per_cpu_s"] or 0),
                    100 * s["delivered"], 100 * s["relay_busy"],
                    "" if s["pass"] else "!", "~" if s["gen_behind"]
                    else ""))
            rs = ratio(by, "raw"), ratio(by, "rtpengine")
            out["ratios"].setdefault(sc, {})[rate] = {
                "sipwall/raw": rs[0], "sipwall/rtpengine": rs[1]}
            log("    %8d/s  %-26s %-26s %-26s %8s %8s" % (
                rate, cells[0], cells[1], cells[2],
                "%.2f" % rs[0] if rs[0] else "-",
                "%.2f" % rs[1] if rs[1] else "-"))
        for name in RELAYS:
            ok = [s["rate"] for s in steps if s["relay"] == name
                  and s["pass"]]
            bad = [s["rate"] for s in steps if s["relay"] == name
                   and not s["pass"]]
            if ok or bad:
                log("    %-9s highest rate passed: %s%s" % (
                    name, "%d/s" % max(ok) if ok else "none",
                    "; first failed: %d/s" % min(bad) if bad else ""))
                out["max"].setdefault(sc, {})[name] = max(ok) if ok else 0
    log("  (cells: pkts/CPU-s, delivered/sent, the relay's share of its "
        "core; ! = failed: >= 0.1% lost or a bad payload; ~ = the "
        "generator sent < 98% of the offered rate)")
    if out["memory"]:
        log("  memory (RSS growth per established call, media flowing):")
        for name, m in out["memory"].items():
            pts = ", ".join("%d calls: %s B" % (
                p["calls"], "{:,}".format(p["bytes_per_call"]))
                for p in m.get("points", []))
            if m.get("points"):
                pts += " (%s sockets per call)" % m["points"][-1][
                    "sockets_per_call"]
            log("    %-9s %s" % (name, pts or m.get("error", "-")))
    for k, why in out["skipped"].items():
        log("  %s skipped: %s" % (k, why))


def ratio(by, peer):
    s, p = by.get("sipwall"), by.get(peer)
    if s and p and s["pkts_per_cpu_s"] and p["pkts_per_cpu_s"]:
        return round(s["pkts_per_cpu_s"] / p["pkts_per_cpu_s"], 2)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("SIPWALL_BUILD",
                                                      "build"))
    ap.add_argument("--quick", action="store_true",
                    help="fewer, shorter steps (under two minutes)")
    ap.add_argument("--streams", type=int, default=None,
                    help="calls (streams) per relay (default 500; quick 200)")
    ap.add_argument("--rates", type=lambda v: [int(x) for x in v.split(",")],
                    help="offered packets/s, all streams together")
    ap.add_argument("--step", type=int, default=None,
                    help="seconds per step (default 4; quick 2)")
    ap.add_argument("--scenarios", type=lambda v: v.split(","),
                    default=None, help="of %s" % ",".join(SCENARIOS))
    ap.add_argument("--only", type=lambda v: v.split(","),
                    default=list(RELAYS), help="of raw,rtpengine,sipwall")
    ap.add_argument("--mem-streams", type=lambda v: [int(x) for x in
                                                     v.split(",")],
                    default=None, help="calls for the memory figure "
                    "(default 200,1000; quick 200; 0 skips it)")
    ap.add_argument("--raw-crypto", choices=("sipwall", "libsrtp"),
                    default="sipwall", help="the raw relay's SRTP: "
                    "sipwall's media/srtp_cm (OpenSSL) or libsrtp2 (NSS)")
    ap.add_argument("--rtpengine-threads", type=int, default=1)
    ap.add_argument("--no-restart", action="store_true",
                    help="keep a relay whose streams stay dead after an "
                    "overload (default: restart it with fresh calls)")
    ap.add_argument("--relay-core", type=int,
                    default=int(os.environ.get("BENCH_CORE", "1")))
    ap.add_argument("--gen-core", type=int,
                    default=int(os.environ.get("BENCH_SIPP_CORE", "0")))
    ap.add_argument("--budget", type=int, default=None,
                    help="seconds for the whole run (default 570; quick "
                    "110): later steps are skipped")
    ap.add_argument("--quiet-wait", type=float, default=5,
                    help="before a step, wait at most this long for "
                    "other programs to leave both cores (< 15%% busy)")
    ap.add_argument("--json", default=None,
                    help="write the results here (default "
                    "$TMPDIR/sipwall-bench-media.json)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory")
    a = ap.parse_args()
    q = a.quick
    a.streams = a.streams or (200 if q else 500)
    a.step = a.step or (2 if q else 4)
    a.rates = a.rates or ([50000, 100000, 200000] if q else
                          [25000, 50000, 100000, 200000, 300000, 400000])
    a.budget = a.budget or (110 if q else 570)
    a.scenarios = a.scenarios or (["rtp", "srtp-rtp"] if q else
                                  list(SCENARIOS))
    if a.mem_streams is None:
        a.mem_streams = [200] if q else [200, 1000]
    a.mem_streams = [n for n in a.mem_streams if n > 0]
    for sc in a.scenarios:
        if sc not in SCENARIOS:
            raise SystemExit("bench/media: no scenario %r" % sc)
    for name in a.only:
        if name not in RELAYS:
            raise SystemExit("bench/media: no relay %r" % name)
    if max(a.mem_streams + [a.streams]) > 2000:
        raise SystemExit("bench/media: at most 2000 streams (ports %d..)"
                         % MEDIA_BASE)
    build = build_dir(a)
    for exe in ("rawrelay", "rtpgen"):
        if not os.path.exists(os.path.join(build, "bench", exe)):
            raise SystemExit("bench/media: no %s/bench/%s: ninja -C %s" % (
                build, exe, build))
    for tool in ["taskset"] + (["rtpengine"] if "rtpengine" in a.only
                               else []):
        if shutil.which(tool) is None:
            raise SystemExit("bench/media: %s not found (scripts/deps.sh "
                             "--bench)" % tool)
    # This script and the generator on the generator's core; the relays
    # are started with taskset on theirs.
    os.sched_setaffinity(0, {a.gen_core})
    a.server_core, a.sipp_core = a.relay_core, a.gen_core  # note_other_load
    work = tempfile.mkdtemp(prefix="sipwall-bench-media-")
    gen = Generator(work, build, a.gen_core)
    out = {"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(),
           "streams": a.streams, "rates": a.rates, "step_secs": a.step,
           "scenarios": a.scenarios, "steps": [], "max": {}, "memory": {},
           "skipped": {}, "rcvbuf": {}, "restarts": []}
    t0 = time.monotonic()
    # The memory figure needs about 30 s at the end.
    a.deadline = t0 + a.budget - (30 if a.mem_streams else 0)
    log("== bench/media: relayed RTP packets per CPU-second, %s; relays on "
        "core %d, rtpgen on core %d" % (", ".join(a.only), a.relay_core,
                                        a.gen_core))
    log("   %d streams of 172-byte RTP (160-byte G.711 payload); offered "
        "%s packets/s; %d s steps; scenarios %s" % (
            a.streams, ",".join(map(str, a.rates)), a.step,
            ", ".join(a.scenarios)))
    note_other_load(a, out)
    try:
        run_scenarios(a, build, work, gen, out)
        if a.mem_streams:
            run_memory(a, build, work, gen, out)
        summary(a, out)
    finally:
        out["run_secs"] = round(time.monotonic() - t0)
        path = a.json or os.path.join(tempfile.gettempdir(),
                                      "sipwall-bench-media.json")
        with open(path, "w") as f:
            json.dump(out, f, indent=2)
        log("  results written to %s (%d s)" % (path, out["run_secs"]))
        if a.keep:
            log("  work directory kept: " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
