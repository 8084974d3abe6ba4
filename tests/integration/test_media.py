"""Media anchoring (issue 6): every call's RTP/RTCP through sipwall,
SDES SRTP per leg, SRTP policy per zone, strict sources, dead-media
hang-up, no port leaks, hold and resume.

    phone (127.0.0.50) -> sipwall internet listener and media 127.0.0.1
        -> sipwall core listener and media 127.0.0.2 -> PBX 127.0.0.10

Every address is distinct, so "nothing of the other side crosses" is a
byte check.  Where a test must own the media, SIPp does the signalling
(scenarios media_*.xml, the m= port from the injection file) and Python
sockets send and receive RTP on the ports the SDP names.

The softphone test runs two real baresips (SRTP, G.711, a tone WAV as
microphone, sndfile recording what each heard) in network namespaces of
its own, one veth each to the host: baresip binds its RTP sockets to
the wildcard address, so on the loopback its media would come from
127.0.0.1 whatever its SDP says, and strict source checks would
rightly drop it.  dumpcap records each veth -- the wire of one leg --
and a small pcap reader below takes the captures apart.
"""
import base64
import glob
import json
import math
import os
import random
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
import wave

import pytest

import swtest
from test_baresip import MODULES, Baresip, tone_wav
from test_calls import CORE, PW, Edge, messages, received, sipp_report
from test_fraud import group, policy
from test_nat import netns_unavailable
from test_nat import run as nat_run

PHONE = "127.0.0.50"        # the phones
EDGE_OUT = "127.0.0.1"      # sipwall: internet listener and media address
EDGE_IN = "127.0.0.2"       # sipwall: core listener and media address
FORGER = "127.0.0.99"       # someone else on the outside

have_baresip = pytest.mark.skipif(
    not os.path.exists(os.path.join(MODULES, "srtp.so"))
    or shutil.which("dumpcap") is None,
    reason="baresip or dumpcap is not installed (scripts/deps.sh)")


# --- waiting ------------------------------------------------------------

def wait_for(fn, timeout, what):
    """fn()'s first truthy value, polled until timeout seconds."""
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out (%.1f s) waiting for %s" % (
                timeout, what))
        time.sleep(0.05)


# --- SDP ----------------------------------------------------------------

def body(msg):
    msg = msg.replace("\r\n", "\n")
    return msg.split("\n\n", 1)[1] if "\n\n" in msg else ""


def sdp(msg):
    """The first audio section of a message's SDP body: dict with c, o
    (lists of the line values), port, proto, attrs (list), crypto (list
    of (tag, suite, key bytes))."""
    out = {"c": [], "o": None, "port": None, "proto": None, "attrs": [],
           "crypto": [], "raw": body(msg)}
    for line in body(msg).split("\n"):
        line = line.strip()
        if line.startswith("c="):
            out["c"].append(line[2:])
        elif line.startswith("o="):
            out["o"] = line[2:]
        elif line.startswith("m=audio") and out["port"] is None:
            f = line.split()
            out["port"], out["proto"] = int(f[1]), f[2]
        elif line.startswith("a="):
            out["attrs"].append(line[2:])
            m = re.match(r"a=crypto:(\d+) (\S+) inline:([^|\s]+)", line)
            if m:
                out["crypto"].append((m.group(1), m.group(2),
                                      base64.b64decode(m.group(3))))
    assert out["port"] is not None, "no m=audio in:\n%s" % msg
    return out


def direction(s):
    for a in s["attrs"]:
        if a in ("sendrecv", "sendonly", "recvonly", "inactive"):
            return a
    return "sendrecv"


def o_version(s):
    return int(s["o"].split()[2])


def srtp_key_line(suite="AES_CM_128_HMAC_SHA1_80", key=None):
    key = key or os.urandom(30)
    return key, "a=crypto:1 %s inline:%s" % (
        suite, base64.b64encode(key).decode())


# --- sipwall --------------------------------------------------------------

def media_range(size):
    """The first port of a range of `size` ports for a test's own: above
    the ephemeral ports (32768-60999) and swtest.free_port's (up to
    59999), so no SIP listener or peer of the test lands in it."""
    return random.randrange(61000, 65000 - size, 2)


def media_conf(**kw):
    """A media: section on a port range of this test's own."""
    lo = media_range(200)
    m = {"anchor": True, "workers": 1, "port_min": lo, "port_max": lo + 199,
         "timeout": "60s", "one_way_timeout": "0s", "one_way_hangup": False,
         "strict_source": True, "latch": "signalling"}
    m.update(kw)
    return m


class MediaEdge(Edge):
    """Edge with the listeners on distinct addresses: the internet zone
    on `out` (its media address too), the core zone on `inside` (its
    media address too), the PBX at pbx:uas_port.  media: the media:
    section (None: none at all, for the harness); srtp: the internet
    zone's SRTP policy (None: its default)."""

    def __init__(self, factory, tmp, media=None, srtp=None, conf_extra=None,
                 accounts=(("1001", PW),), workers=2, out=EDGE_OUT,
                 inside=EDGE_IN, pbx=CORE, pbx_port=None):
        self.tmp = tmp
        self.out, self.inside, self.pbx_ip = out, inside, pbx
        self.core_port = swtest.free_port(inside)
        self.uas_port = pbx_port or swtest.free_port(pbx)
        internet = swtest.deep_merge({}, swtest.LENIENT_RATES)
        core = {"auth": "none", "allow": [pbx + "/32"]}
        if media is not None:
            internet["media_address"] = out
            core["media_address"] = inside
            if srtp is not None:
                internet["srtp"] = srtp
        conf = swtest.deep_merge(swtest.deep_merge({}, swtest.LENIENT),
                                 {"auth": {"algorithms": ["MD5"]}})
        swtest.deep_merge(conf, policy(group()))    # no call limits
        swtest.deep_merge(conf, {
            "zones": swtest.zones(internet=internet, core=core),
            "core": {"zone": "core", "probe_interval": "0s",
                     "targets": [{"address": pbx, "port": self.uas_port}]},
            "calls": {"keepalive": "0s"},
        })
        if media is not None:
            conf["media"] = media
        swtest.deep_merge(conf, conf_extra)
        self.media = media
        self.d = factory(zone="internet", conf=conf, workers=workers,
                         host=out, transports=("udp",),
                         accounts=accounts,
                         extra_listen=[{"transport": "udp",
                                        "address": inside,
                                        "port": self.core_port,
                                        "zone": "core"}])

    def run_dir(self, name):
        d = self.tmp / name
        d.mkdir()
        return d

    def pbx(self, scenario, cwd, media_port, calls=1, extra=(),
            timeout="30s"):
        """The core PBX: SIPp UAS on pbx_ip:uas_port in the background;
        its SDP names media_port."""
        inf = cwd / "pbx.csv"
        inf.write_text("SEQUENTIAL\n%d\n" % media_port)
        cmd = ["sipp", "-sf", os.path.join(swtest.SCENARIOS, scenario),
               "-i", self.pbx_ip, "-p", str(self.uas_port), "-m",
               str(calls), "-inf", str(inf), "-nostdin", "-timeout", timeout,
               "-timeout_error", "-trace_msg", "-trace_err"] + list(extra)
        p = subprocess.Popen(cmd, cwd=str(cwd), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        time.sleep(0.3)
        return p

    def phone_args(self, cwd, media_port, proto="RTP/AVP",
                   line="a=ptime:20", user="1001", pw=PW, dial="2000"):
        inf = cwd / "phone.csv"
        inf.write_text("SEQUENTIAL\n%s;%s;%s;%d;%s;%s\n" % (
            user, pw, dial, media_port, proto, line))
        return ["-inf", str(inf)]

    def phone_run(self, scenario, cwd, media_port, calls=1, rate=10,
                  extra=(), timeout=30, trace=True, **kw):
        """SIPp UAC from 127.0.0.50 to the internet listener; waits."""
        args = self.phone_args(cwd, media_port, **kw)
        if trace:
            args.append("-trace_msg")
        return swtest.sipp(scenario, self.d, calls=calls, rate=rate,
                           extra=args + list(extra), cwd=cwd,
                           timeout=timeout, local_ip=PHONE)

    def phone_start(self, scenario, cwd, media_port, extra=(),
                    timeout=30, **kw):
        """The same in the background (a Popen)."""
        cmd = ["sipp", "-sf", os.path.join(swtest.SCENARIOS, scenario),
               "-t", "u1", "-i", PHONE, "-p", "0", "-m", "1", "-nostdin",
               "-timeout", "%ds" % timeout, "-timeout_error", "-trace_err",
               "-trace_msg", "-max_recv_loops", "1000"] + \
            self.phone_args(cwd, media_port, **kw) + list(extra) + \
            ["%s:%d" % (self.out, self.d.port)]
        return subprocess.Popen(cmd, cwd=str(cwd), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)


def done(p, cwd, timeout=30):
    """Wait for a background SIPp; fail with its report unless it
    passed."""
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        raise AssertionError("SIPp still running after %d s: %s" % (
            timeout, sipp_report(subprocess.CompletedProcess(
                p.args, -9, out, b""), cwd)))
    r = subprocess.CompletedProcess(p.args, p.returncode, out, b"")
    assert r.returncode == 0, sipp_report(r, cwd)
    return r


def reap(*procs):
    """Stop background processes this test started (by PID) if they
    are still running."""
    for p in procs:
        if p is not None and p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def got(cwd, scenario, pred):
    """Messages a SIPp instance has received so far that match pred
    (SIPp flushes its -trace_msg log as it goes)."""
    return [m for m in received(messages(cwd, scenario)) if pred(m)]


def invites(m):
    return m.startswith("INVITE ")


def ok_to_invite(m):
    return m.startswith("SIP/2.0 200") and re.search(
        r"^CSeq: *\d+ INVITE", m, re.M | re.I)


def counters(ev):
    c = ev.get("counters")
    assert isinstance(c, dict), "call.ended without counters: %s" % ev
    return c


# --- RTP over Python sockets ----------------------------------------------

def rtp_packet(seq, ts, ssrc, payload, pt=0):
    return struct.pack("!BBHII", 0x80, pt, seq & 0xffff, ts & 0xffffffff,
                       ssrc) + payload


def rtp_split(data):
    """(pt, seq, ts, ssrc, payload) of an RTP packet, None if it does
    not look like one (RTCP included)."""
    if len(data) < 12 or data[0] >> 6 != 2 or 192 <= data[1] <= 223:
        return None
    pt = data[1] & 0x7f
    seq, ts, ssrc = struct.unpack("!HII", data[2:12])
    off = 12 + 4 * (data[0] & 0x0f)
    if data[0] & 0x10 and len(data) >= off + 4:
        off += 4 + 4 * struct.unpack("!H", data[off + 2:off + 4])[0]
    return pt, seq, ts, ssrc, data[off:]


class RtpPeer:
    """A UDP socket on (ip, port) that can send a 20 ms PCMU stream whose
    payloads carry `mark` and a counter, and records every datagram it
    receives as (source, data)."""

    def __init__(self, ip, port=0, mark=b"REAL"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((ip, port))
        self.sock.settimeout(0.05)
        self.addr = self.sock.getsockname()
        self.mark = mark
        self.ssrc = random.getrandbits(32)
        self.seq = random.getrandbits(15)
        self.ts = random.getrandbits(31)
        self.sent = 0
        self.received = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.sending = None
        self.rx = threading.Thread(target=self._rx, daemon=True)
        self.rx.start()

    @property
    def port(self):
        return self.addr[1]

    def _rx(self):
        while not self.stopping.is_set():
            try:
                data, src = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.received.append((src, data))

    def payload(self, n):
        p = self.mark + b"-%08d-" % n
        return p + b"\xff" * (160 - len(p))

    def next_packet(self):
        pkt = rtp_packet(self.seq, self.ts, self.ssrc,
                         self.payload(self.sent))
        self.seq += 1
        self.ts += 160
        self.sent += 1
        return pkt

    def stream(self, dest, seconds, interval=0.02):
        """Send to dest every `interval` (20 ms) for `seconds`, in the
        background."""
        def run():
            start = time.time()
            n = 0
            while not self.stopping.is_set() and \
                    time.time() - start < seconds:
                self.sock.sendto(self.next_packet(), dest)
                n += 1
                time.sleep(max(0, start + n * interval - time.time()))
        self.sending = threading.Thread(target=run, daemon=True)
        self.sending.start()
        return self.sending

    def finish_sending(self, timeout=30):
        if self.sending is not None:
            self.sending.join(timeout)
            assert not self.sending.is_alive()

    def payloads(self):
        with self.lock:
            out = []
            for src, data in self.received:
                r = rtp_split(data)
                if r is not None:
                    out.append((src, r[4]))
            return out

    def close(self):
        self.stopping.set()
        if self.sending is not None:
            self.sending.join(5)
        self.rx.join(5)
        self.sock.close()


# --- audio ----------------------------------------------------------------

def _ulaw(b):
    """G.711 mu-law to a 16-bit linear sample."""
    b = ~b & 0xff
    mag = ((((b & 0x0f) << 3) + 0x84) << ((b >> 4) & 7)) - 0x84
    return -mag if b & 0x80 else mag


ULAW = [_ulaw(b) for b in range(256)]


def goertzel_share(samples, hz, rate=8000):
    """The share of the window's energy at hz (1.0: a pure tone; white
    noise gives about 2/len)."""
    w = 2 * math.pi * hz / rate
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + c * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - c * s1 * s2
    energy = sum(x * x for x in samples)
    return 2 * power / len(samples) / energy if energy else 0.0


def tone_windows(samples, hz, window=800, share=0.8, rms=1000):
    """How many windows of 100 ms hold the tone: at least `share` of
    their energy at hz (100 ms windows put 440 and 1000 Hz on a bin)
    and loud enough not to be a quiet hiss."""
    n = 0
    for i in range(0, len(samples) - window + 1, window):
        w = samples[i:i + window]
        if math.sqrt(sum(x * x for x in w) / window) >= rms and \
                goertzel_share(w, hz) >= share:
            n += 1
    return n


def max_share(samples, hz, window=800):
    """The largest share of energy at hz over 100 ms windows."""
    best = 0.0
    for i in range(0, len(samples) - window + 1, window):
        best = max(best, goertzel_share(samples[i:i + window], hz))
    return best


def wav_samples(path):
    with wave.open(path) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == \
            (8000, 1, 2), path
        n = w.getnframes()
        return list(struct.unpack("<%dh" % n, w.readframes(n)))


def ulaw_samples(payloads):
    return [ULAW[b] for p in payloads for b in p]


# --- captures -------------------------------------------------------------

class Pcap:
    """dumpcap on an interface (lo by default; classic pcap format,
    whole packets) with a BPF filter; read back with packets().  Stopped by PID."""

    def __init__(self, path, bpf, iface="lo"):
        self.path = str(path)
        self.proc = subprocess.Popen(
            ["dumpcap", "-q", "-i", iface, "-P", "-w", self.path] +
            (["-f", bpf] if bpf else []), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        wait_for(lambda: self.proc.poll() is not None or (
            os.path.exists(self.path) and os.path.getsize(self.path) >= 24),
            10, "dumpcap to start")
        assert self.proc.poll() is None, self.proc.stderr.read()
        time.sleep(0.5)

    def stop(self):
        if self.proc.poll() is None:
            time.sleep(0.3)             # the last packets are written
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def packets(self):
        return read_pcap(self.path)

    def frames(self):
        return pcap_frames(self.path)[1]


class Packet:
    __slots__ = ("ts", "src", "sport", "dst", "dport", "payload")

    def __init__(self, ts, src, sport, dst, dport, payload):
        self.ts, self.src, self.sport = ts, src, sport
        self.dst, self.dport, self.payload = dst, dport, payload

    def __repr__(self):
        return "<%s:%d -> %s:%d %d bytes>" % (
            self.src, self.sport, self.dst, self.dport, len(self.payload))


def pcap_frames(path):
    """(link type, [(timestamp, frame bytes)]) of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise AssertionError("not a pcap file: %r" % magic)
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(end + "I", data[20:24])[0]
    out, pos = [], 24
    while pos + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(end + "IIII", data[pos:pos + 16])
        out.append((sec + frac / (1e9 if nano else 1e6),
                    data[pos + 16:pos + 16 + incl]))
        pos += 16 + incl
    return linktype, out


def read_pcap(path):
    """The UDP/IPv4 packets of a classic pcap file (Ethernet or Linux
    cooked framing): a list of Packet, in capture order."""
    linktype, frames = pcap_frames(path)
    link = {1: 14, 113: 16, 276: 20}.get(linktype)
    assert link is not None, "link type %d" % linktype
    out = []
    for ts, frame in frames:
        ip = frame[link:]
        if len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 0x0f) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 17 or struct.unpack("!H", ip[6:8])[0] & 0x3fff:
            continue            # not UDP, or a fragment
        udp = ip[ihl:total]
        sport, dport, ulen = struct.unpack("!HHH", udp[:6])
        out.append(Packet(ts, socket.inet_ntoa(ip[12:16]), sport,
                          socket.inet_ntoa(ip[16:20]), dport,
                          bytes(udp[8:ulen])))
    return out


def is_rtcp(data):
    return len(data) >= 8 and data[0] >> 6 == 2 and 192 <= data[1] <= 223


def stream_payloads(pkts):
    """The RTP payloads of packets, in sequence order (duplicates
    dropped), PCMU only."""
    by_seq = {}
    for p in pkts:
        r = rtp_split(p.payload)
        if r is not None and r[0] == 0:
            by_seq.setdefault(r[1], r[4])
    return [by_seq[k] for k in sorted(by_seq)]


# --- network namespaces ----------------------------------------------------

def _free_30(net):
    """A /30 of net (an RFC 5737 /24, e.g. "198.51.100") that no
    interface here uses: its first address."""
    used = nat_run("ip", "-o", "-4", "addr", "show").stdout
    for _ in range(100):
        base = 4 * random.randint(1, 62)
        if not any("%s.%d/" % (net, base + i) in used for i in range(4)):
            return base
    raise RuntimeError("no free /30 in %s.0/24" % net)


class MediaNet:
    """Two namespaces of the test's own, each joined to the host by one
    veth pair: the phone's (outside, 203.0.113.x/30) and the PBX's
    (inside, 198.51.100.y/30).  sipwall listens on the host ends.  A
    softphone inside binds nothing but its namespace address, so its
    RTP really comes from the address its SDP names (baresip binds its
    RTP sockets to the wildcard address: on the host's loopback every
    packet would come from 127.0.0.1), and the host end of each veth is
    the wire of one leg, captured on its own."""

    def __init__(self):
        tag = "%06x" % random.getrandbits(24)
        self.made = []
        self.legs = {}
        for leg, net, k in (("phone", "203.0.113", "o"),
                            ("pbx", "198.51.100", "i")):
            base = _free_30(net)
            self.legs[leg] = {
                "ns": "swm%s-%s" % (leg, tag),
                "host_if": "swm%s%s" % (k, tag),
                "ns_if": "swm%s%s" % (k.upper(), tag),
                "host_ip": "%s.%d" % (net, base + 1),
                "ip": "%s.%d" % (net, base + 2)}

    def setup(self):
        for leg in self.legs.values():
            ns, h, n = leg["ns"], leg["host_if"], leg["ns_if"]
            nat_run("ip", "netns", "add", ns)
            self.made.append(("netns", ns))
            nat_run("ip", "link", "add", h, "type", "veth", "peer", "name",
                    n)
            self.made.append(("link", h))
            nat_run("ip", "link", "set", n, "netns", ns)
            nat_run("ip", "addr", "add", leg["host_ip"] + "/30", "dev", h)
            nat_run("ip", "link", "set", h, "up")
            nat_run("ip", "-n", ns, "link", "set", "lo", "up")
            nat_run("ip", "-n", ns, "addr", "add", leg["ip"] + "/30", "dev",
                    n)
            nat_run("ip", "-n", ns, "link", "set", n, "up")
        # both ends of each link up (no carrier: nothing gets through)
        for leg in self.legs.values():
            wait_for(lambda: "LOWER_UP" in nat_run(
                "ip", "-n", leg["ns"], "link", "show", leg["ns_if"]).stdout
                and "LOWER_UP" in nat_run(
                    "ip", "link", "show", leg["host_if"]).stdout,
                10, "the veth to %s" % leg["ns"])
        return self

    def teardown(self):
        for kind, name in reversed(self.made):
            if kind == "netns":
                nat_run("ip", "netns", "del", name, check=False)
            elif nat_run("ip", "link", "show", name,
                         check=False).returncode == 0:
                nat_run("ip", "link", "del", name, check=False)


@pytest.fixture
def medianet():
    why = netns_unavailable()
    if why:
        pytest.skip(why)
    net = MediaNet()
    try:
        yield net.setup()
    finally:
        net.teardown()


# --- baresip ----------------------------------------------------------------

class Softphone(Baresip):
    """A headless baresip on its own address: SIP on ip:sip_port,
    RTP/RTCP from rtp_range, a tone WAV of `hz` as microphone, sndfile
    recording the encoded and decoded audio of each call, ctrl_tcp on
    ip too.  account: the accounts line, {sip_port} filled in.  netns:
    the namespace it runs in (where every port is free)."""

    def __init__(self, tmp, name, ip, account, hz, netns, sip_port=5060):
        self.dir = os.path.join(str(tmp), name)
        os.makedirs(self.dir)
        self.ip = ip
        self.ctrl_port = 4444
        self.sip_port = sip_port
        self.rtp_range = (30000, 30009)
        tone = os.path.join(self.dir, "tone.wav")
        tone_wav(tone, seconds=30, hz=hz)
        conf = [
            ("poll_method", "epoll"),
            ("sip_listen", "%s:%d" % (ip, self.sip_port)),
            ("net_interface", ip),            # the address in its SDP
            ("call_local_timeout", "20"),
            ("call_max_calls", "1"),
            ("audio_source", "aufile," + tone),
            ("rtp_ports", "%d-%d" % self.rtp_range),
            ("module_path", MODULES),
            ("module", "g711.so"),
            ("module", "aufile.so"),
            ("module", "sndfile.so"),
            ("module", "srtp.so"),
            ("module_tmp", "account.so"),
            ("module_app", "menu.so"),
            ("module_app", "ctrl_tcp.so"),
            ("ctrl_tcp_listen", "%s:%d" % (ip, self.ctrl_port)),
        ]
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("".join("%s\t%s\n" % kv for kv in conf))
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(account.format(sip_port=self.sip_port) + "\n")
        self.log_path = os.path.join(self.dir, "baresip.log")
        self.log = open(self.log_path, "wb")
        # `ip netns exec` execs baresip: the PID is baresip's own
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", netns, "baresip", "-f", self.dir, "-v",
             "-s"], cwd=self.dir, stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        self.sock, self.buf, self.seen = None, b"", []
        deadline = time.time() + 10
        while self.sock is None:
            try:
                self.sock = socket.create_connection((ip, self.ctrl_port),
                                                     timeout=1)
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise AssertionError("baresip did not start:\n" +
                                         self.output())
                time.sleep(0.05)

    def heard(self):
        """The decoded audio of its (only) call."""
        files = glob.glob(os.path.join(self.dir, "dump-*-dec.wav"))
        assert len(files) == 1, files
        return wav_samples(files[0])


# --- the tests ----------------------------------------------------------------

def leaks(data, addrs):
    """The first of addrs found in data (as text, or as 4 bytes in
    network order), or None."""
    for a in addrs:
        if re.search(re.escape(a.encode()) + rb"(?![0-9])", data) \
                or socket.inet_aton(a) in data:
            return a
    return None


@have_baresip
def test_softphone_srtp_outside_plain_pcmu_inside(daemon_factory, medianet,
                                                   tmp_path):
    """A baresip phone (SRTP mandatory, 440 Hz) registers with digest and
    calls 2000; sipwall routes it to a baresip PBX (no SRTP, 1000 Hz,
    auto answer).  Each hears the other's tone; on the wire the phone's
    leg is SRTP and the PBX's plain PCMU with the tones in it; nothing
    on the phone's wire names an inside address."""
    ph, px = medianet.legs["phone"], medianet.legs["pbx"]
    e = MediaEdge(daemon_factory, tmp_path, media=media_conf(),
                  out=ph["host_ip"], inside=px["host_ip"], pbx=px["ip"],
                  pbx_port=5060)
    inside_addrs = (px["host_ip"], px["ip"])
    cap_out = Pcap(tmp_path / "outside.pcap", "", ph["host_if"])
    cap_in = Pcap(tmp_path / "inside.pcap", "udp", px["host_if"])
    phone = pbx = None
    try:
        pbx = Softphone(tmp_path, "pbx", px["ip"],
                        "<sip:2000@%s:{sip_port}>;regint=0;answermode=auto;"
                        "audio_codecs=PCMU" % px["ip"], 1000, px["ns"])
        phone = Softphone(tmp_path, "phone", ph["ip"],
                          "<sip:1001@%s:%d>;auth_pass=%s;regint=60;"
                          "mediaenc=srtp-mand;audio_codecs=PCMU;"
                          "answermode=manual" % (e.out, e.d.port, PW),
                          440, ph["ns"])
        e.d.wait_event("reg.added", timeout=15)
        phone.command("dial", "sip:2000@%s:%d" % (e.out, e.d.port))
        phone.wait("CALL_ESTABLISHED", fail=("CALL_CLOSED",))
        pbx.wait("CALL_ESTABLISHED", fail=("CALL_CLOSED",))
        time.sleep(4)
        phone.command("hangup")
        phone.wait("CALL_CLOSED", timeout=10)
        pbx.wait("CALL_CLOSED", timeout=10)
    finally:
        for b in (phone, pbx):
            if b is not None:
                b.stop()
        cap_out.stop()
        cap_in.stop()

    # what each heard: the other's tone, for most of the 4 s
    assert tone_windows(pbx.heard(), 440) >= 25, \
        "the PBX did not hear the phone's 440 Hz"
    assert tone_windows(phone.heard(), 1000) >= 25, \
        "the phone did not hear the PBX's 1000 Hz"
    assert "SRTP is Enabled" in phone.output(), phone.output()[-4000:]
    assert "SRTP is Enabled" not in pbx.output()

    outside = cap_out.packets()
    inside = cap_in.packets()
    sip = (e.d.port, phone.sip_port)
    out_media = [p for p in outside
                 if p.sport not in sip and p.dport not in sip]
    in_media = [p for p in inside if e.core_port not in (p.sport, p.dport)
                and pbx.sip_port not in (p.sport, p.dport)]
    # the phone's wire carries only the phone and our internet address,
    # and no byte of it names an inside address (any frame: SIP, SDP,
    # RTP, RTCP, ICMP, headers included)
    for p in outside:
        assert {p.src, p.dst} == {ph["ip"], e.out}, p
    for ts, frame in cap_out.frames():
        leak = leaks(frame, inside_addrs)
        assert leak is None, "%s on the phone's wire: %r" % (leak, frame)
    assert len(cap_out.frames()) >= len(outside) >= 300

    # inside: plain PCMU carrying the tones, 160-byte payloads
    to_pbx = stream_payloads([p for p in in_media if p.dst == px["ip"]])
    from_pbx = stream_payloads([p for p in in_media if p.src == px["ip"]])
    assert len(to_pbx) >= 150 and len(from_pbx) >= 150, \
        (len(to_pbx), len(from_pbx))
    assert {len(x) for x in to_pbx + from_pbx} == {160}
    assert tone_windows(ulaw_samples(to_pbx), 440) >= 25
    assert tone_windows(ulaw_samples(from_pbx), 1000) >= 25
    # outside: every RTP-looking packet is SRTP -- no payload the inside
    # leg carried, no tone when read as PCMU, longer by the auth tag
    out_rtp = [p for p in out_media if not is_rtcp(p.payload)]
    from_phone = [p for p in out_rtp if p.src == ph["ip"]]
    to_phone = [p for p in out_rtp if p.dst == ph["ip"]]
    assert len(from_phone) >= 150 and len(to_phone) >= 150, \
        (len(from_phone), len(to_phone))
    inside_set = set(to_pbx) | set(from_pbx)
    for p in out_rtp:
        r = rtp_split(p.payload)
        assert r is not None, p
        assert r[4] not in inside_set, "plain payload on the outside: %r" % p
        if r[0] == 0:
            assert len(r[4]) > 160, "no SRTP auth tag: %r" % p
    assert max_share(ulaw_samples(stream_payloads(from_phone)), 440) < 0.3
    assert max_share(ulaw_samples(stream_payloads(to_phone)), 1000) < 0.3

    ended = e.d.wait_event("call.ended")
    c = counters(ended)
    assert c["a.srtp"] and not c["b.srtp"], c
    assert c["a.packets"] >= 150 and c["b.packets"] >= 150, c
    # baresip 1.0 sends its first RTCP (an APP "PING") in the clear, before
    # SRTCP starts: too short to be SRTCP, it is dropped as malformed (no
    # srtp.auth_failed alarm for it), and nothing may fail authentication
    assert c["a.auth_failed"] == 0, c
    assert e.d.events("srtp.auth_failed") == []
    assert c["a.foreign"] == 0, c
    assert e.d.events("srtp.fallback") == []


def first_per_cseq(msgs):
    """Messages in order of their CSeq number, retransmissions dropped."""
    out = {}
    for m in msgs:
        n = int(re.search(r"^CSeq: *(\d+)", m, re.M | re.I).group(1))
        out.setdefault(n, m)
    return [out[k] for k in sorted(out)]


def final_of(cwd, scenario, cseq=2):
    finals = got(cwd, scenario, lambda m: re.match(r"SIP/2\.0 [2-6]\d\d", m)
                 and re.search(r"^CSeq: *%d INVITE" % cseq, m, re.M | re.I))
    assert finals, "no final answer to the INVITE:\n" + messages(
        cwd, scenario)[-3000:]
    return finals[-1]


def in_range(port, media):
    return media["port_min"] <= port <= media["port_max"]


class Silent:
    """A PBX that must hear nothing: a socket on its address and port."""

    def __init__(self, addr):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(addr)

    def heard(self, wait=0.5):
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(65535)
        except socket.timeout:
            return None
        finally:
            self.sock.close()


def test_srtp_require_refuses_a_plain_offer(daemon_factory, tmp_path):
    """A phone offering RTP/AVP without a=crypto into a zone with
    `srtp: require` gets 488 after authenticating; srtp.required is
    reported and nothing reaches the PBX."""
    e = MediaEdge(daemon_factory, tmp_path, media=media_conf(),
                  srtp="require")
    pbx = Silent((CORE, e.uas_port))
    cwd = e.run_dir("plain")
    r = e.phone_run("media_refused_uac.xml", cwd, swtest.free_port(PHONE))
    assert r.returncode == 0, sipp_report(r, cwd)
    final = final_of(cwd, "media_refused_uac")
    assert final.startswith("SIP/2.0 488"), final
    ev = e.d.wait_event("srtp.required")
    assert pbx.heard() is None, "the PBX got something"
    assert e.d.events("call.answered") == []
    assert (ev["reason"], ev["leg"]) == ("no_crypto", "a"), ev


def test_srtp_prefer_falls_back_to_rtp(daemon_factory, tmp_path):
    """The same offer into a `prefer` zone: the call goes through in
    plain RTP on both legs, and srtp.fallback names the phone's leg."""
    e = MediaEdge(daemon_factory, tmp_path, media=media_conf(),
                  srtp="prefer")
    cwd = e.run_dir("plain")
    pbx = e.pbx("media_uas_answer.xml", cwd, swtest.free_port(CORE))
    try:
        r = e.phone_run("media_call_uac.xml", cwd, swtest.free_port(PHONE),
                        extra=["-d", "300"])
        assert r.returncode == 0, sipp_report(r, cwd)
        done(pbx, cwd)
    finally:
        reap(pbx)
    ok = sdp(final_of(cwd, "media_call_uac"))
    assert ok["proto"] == "RTP/AVP" and ok["crypto"] == [], ok["raw"]
    assert ok["c"] == ["IN IP4 %s" % EDGE_OUT], ok["raw"]
    inv = sdp(got(cwd, "media_uas_answer", invites)[0])
    assert inv["proto"] == "RTP/AVP" and inv["crypto"] == [], inv["raw"]
    ev = e.d.wait_event("srtp.fallback")
    assert ev["leg"] == "a", ev
    assert len(e.d.events("srtp.fallback")) == 1, e.d.events("srtp.fallback")
    e.d.wait_event("call.ended", lambda ev: ev["reason"] == "bye")


def test_srtp_require_sdes_offer_is_rekeyed_per_leg(daemon_factory,
                                                    tmp_path):
    """With `require`, an RTP/SAVP offer with a valid a=crypto completes;
    the PBX gets plain RTP/AVP without a=crypto on our core media
    address, the phone gets RTP/SAVP with a key of our own on our
    internet media address; neither sees the other's addresses."""
    media = media_conf()
    e = MediaEdge(daemon_factory, tmp_path, media=media, srtp="require")
    cwd = e.run_dir("savp")
    key, line = srtp_key_line()
    pbx = e.pbx("media_uas_answer.xml", cwd, swtest.free_port(CORE))
    try:
        r = e.phone_run("media_call_uac.xml", cwd, swtest.free_port(PHONE),
                        proto="RTP/SAVP", line=line, extra=["-d", "300"])
        assert r.returncode == 0, sipp_report(r, cwd)
        done(pbx, cwd)
    finally:
        reap(pbx)
    inv_msg = got(cwd, "media_uas_answer", invites)[0]
    inv = sdp(inv_msg)
    assert inv["proto"] == "RTP/AVP", inv["raw"]
    assert inv["crypto"] == [] and "crypto" not in inv["raw"], inv["raw"]
    assert inv["c"] == ["IN IP4 %s" % EDGE_IN], inv["raw"]
    assert inv["o"].endswith("IN IP4 %s" % EDGE_IN), inv["raw"]
    assert in_range(inv["port"], media), inv["raw"]
    assert PHONE not in inv_msg, inv_msg

    ok_msg = final_of(cwd, "media_call_uac")
    assert ok_msg.startswith("SIP/2.0 200"), ok_msg
    ok = sdp(ok_msg)
    assert ok["proto"] == "RTP/SAVP", ok["raw"]
    assert ok["c"] == ["IN IP4 %s" % EDGE_OUT], ok["raw"]
    assert ok["o"].endswith("IN IP4 %s" % EDGE_OUT), ok["raw"]
    assert in_range(ok["port"], media), ok["raw"]
    assert len(ok["crypto"]) == 1, ok["raw"]
    tag, suite, our_key = ok["crypto"][0]
    assert (tag, suite) == ("1", "AES_CM_128_HMAC_SHA1_80"), ok["raw"]
    assert len(our_key) == 30 and our_key != key, ok["raw"]
    for a in (CORE, EDGE_IN):
        assert a not in ok_msg, ok_msg
    assert e.d.events("srtp.fallback") == []
    c = counters(e.d.wait_event("call.ended"))
    assert c["a.srtp"] and not c["b.srtp"], c


def test_early_media_answer_then_the_same_answer_in_the_200(
        daemon_factory, tmp_path):
    """A 183 with SDP (early media) from the PBX reaches the SDES phone
    already rewritten and keyed (our address, our port, RTP/SAVP, our
    key); the 200 repeating the same SDP gives the phone the same body
    again: same port, same key, same o= version (nothing changed)."""
    media = media_conf()
    e = MediaEdge(daemon_factory, tmp_path, media=media, srtp="require")
    cwd = e.run_dir("early")
    key, line = srtp_key_line()
    pbx = e.pbx("media_uas_early.xml", cwd, swtest.free_port(CORE))
    try:
        r = e.phone_run("media_call_uac.xml", cwd, swtest.free_port(PHONE),
                        proto="RTP/SAVP", line=line, extra=["-d", "200"])
        assert r.returncode == 0, sipp_report(r, cwd)
        done(pbx, cwd)
    finally:
        reap(pbx)
    early = got(cwd, "media_call_uac", lambda m: m.startswith("SIP/2.0 183"))
    assert early, messages(cwd, "media_call_uac")[-3000:]
    ok_msg = final_of(cwd, "media_call_uac")
    e183, e200 = sdp(early[0]), sdp(ok_msg)
    for x in (e183, e200):
        assert x["proto"] == "RTP/SAVP" and len(x["crypto"]) == 1, x["raw"]
        assert x["c"] == ["IN IP4 %s" % EDGE_OUT], x["raw"]
        assert in_range(x["port"], media), x["raw"]
    assert e183["port"] == e200["port"], (e183["raw"], e200["raw"])
    assert e183["crypto"] == e200["crypto"], (e183["raw"], e200["raw"])
    assert o_version(e183) == o_version(e200), (e183["raw"], e200["raw"])
    for m in early:
        for a in (CORE, EDGE_IN):
            assert a not in m, m
    c = counters(e.d.wait_event("call.ended"))
    assert c["a.srtp"] and not c["b.srtp"], c


def test_late_offer_srtp_answer_in_the_ack(daemon_factory, tmp_path):
    """A late offer (INVITE without SDP) into a `require` zone: the
    PBX's plain offer in its 200 reaches the phone as RTP/SAVP with a
    key of ours on our address; the phone's answer in the ACK (with its
    own key) reaches the PBX as plain RTP/AVP on our core address."""
    media = media_conf()
    e = MediaEdge(daemon_factory, tmp_path, media=media, srtp="require")
    cwd = e.run_dir("late")
    key, line = srtp_key_line()
    pbx = e.pbx("media_uas_answer.xml", cwd, swtest.free_port(CORE))
    try:
        r = e.phone_run("media_late_uac.xml", cwd, swtest.free_port(PHONE),
                        proto="RTP/SAVP", line=line, extra=["-d", "300"])
        assert r.returncode == 0, sipp_report(r, cwd)
        done(pbx, cwd)
    finally:
        reap(pbx)
    inv_msg = got(cwd, "media_uas_answer", invites)[0]
    assert body(inv_msg).strip() == "", inv_msg     # still a late offer
    ok_msg = final_of(cwd, "media_late_uac")
    ok = sdp(ok_msg)
    assert ok["proto"] == "RTP/SAVP", ok["raw"]
    assert ok["c"] == ["IN IP4 %s" % EDGE_OUT], ok["raw"]
    assert len(ok["crypto"]) == 1 and ok["crypto"][0][2] != key, ok["raw"]
    for a in (CORE, EDGE_IN):
        assert a not in ok_msg, ok_msg
    acks = got(cwd, "media_uas_answer", lambda m: m.startswith("ACK ")
               and body(m).strip() != "")
    assert len(acks) == 1, messages(cwd, "media_uas_answer")[-3000:]
    ack = sdp(acks[0])
    assert ack["proto"] == "RTP/AVP" and ack["crypto"] == [], ack["raw"]
    assert ack["c"] == ["IN IP4 %s" % EDGE_IN], ack["raw"]
    assert in_range(ack["port"], media), ack["raw"]
    assert PHONE not in acks[0], acks[0]
    assert base64.b64encode(key).decode() not in acks[0], acks[0]
    c = counters(e.d.wait_event("call.ended"))
    assert c["a.srtp"] and not c["b.srtp"], c
    assert e.d.events("srtp.required") == []


def test_late_offer_plain_answer_in_a_require_zone_is_hung_up(
        daemon_factory, tmp_path):
    """The same late offer answered in the ACK without SRTP: the phone's
    zone requires it, so sipwall hangs both legs up at once
    (`srtp.required` answer_without_srtp, `call.ended` srtp_required)."""
    e = MediaEdge(daemon_factory, tmp_path, media=media_conf(),
                  srtp="require")
    cwd = e.run_dir("lateplain")
    pbx = e.pbx("media_uas_answer.xml", cwd, swtest.free_port(CORE))
    try:
        r = e.phone_run("media_late_bye_uac.xml", cwd,
                        swtest.free_port(PHONE), proto="RTP/AVP",
                        line="a=ptime:20")
        assert r.returncode == 0, sipp_report(r, cwd)
        done(pbx, cwd)          # the PBX got its BYE too
    finally:
        reap(pbx)
    ev = e.d.wait_event("srtp.required")
    assert ev["reason"] == "answer_without_srtp", ev
    ended = e.d.wait_event("call.ended")
    assert ended["reason"] == "srtp_required" and ended["by"] == "sbc", ended


def test_no_plain_rtp_reaches_an_srtp_leg_around_the_answer(
        daemon_factory, tmp_path):
    """The PBX sends RTP from the moment it has the offer, every half
    millisecond, before and after its (late) answer, as PBXes with early
    media or a quick start do.  The phone's leg is SRTP (`require`):
    whatever reaches the phone's port must be SRTP -- never the PBX's
    payload in the clear, not even in the instant between the PBX's
    answer and ours."""
    e = MediaEdge(daemon_factory, tmp_path, media=media_conf(),
                  srtp="require")
    cwd = e.run_dir("call")
    a = RtpPeer(PHONE, mark=b"REAL-A")
    b = RtpPeer(CORE, mark=b"REAL-B")
    _, line = srtp_key_line()
    pbx = phone = None
    try:
        pbx = e.pbx("media_uas_answer_late.xml", cwd, b.port)
        phone = e.phone_start("media_call_uac.xml", cwd, a.port,
                              proto="RTP/SAVP", line=line,
                              extra=["-d", "1000"])
        inv = sdp(wait_for(lambda: got(cwd, "media_uas_answer_late",
                                       invites), 10, "the PBX's INVITE")[0])
        b.stream((EDGE_IN, inv["port"]), 1.2, interval=0.0005)
        ok = sdp(wait_for(lambda: got(cwd, "media_call_uac", ok_to_invite),
                          5, "the phone's 200 OK")[0])
        b.finish_sending()
        done(phone, cwd)
        done(pbx, cwd)
    finally:
        reap(phone, pbx)
        a.close()
        b.close()
    assert ok["proto"] == "RTP/SAVP", ok["raw"]
    heard = a.payloads()
    plain = [p[:15] for _, p in heard if b"REAL-B" in p]
    assert plain == [], "%d of %d packets reached the SRTP leg in the " \
        "clear: %s" % (len(plain), len(heard), plain[:3])
    assert {len(p) for _, p in heard} == {160 + 10}, \
        {len(p) for _, p in heard}
    assert len(heard) >= 200, (len(heard), b.sent)


def test_forged_rtp_is_dropped_and_counted(daemon_factory, tmp_path):
    """RTP flows both ways through an answered call; meanwhile someone
    at 127.0.0.99 sends 300 packets to the phone's port on sipwall, and
    then the phone's own address from another port sends 100 more (after
    latching: strict).  None of them reaches the PBX, both are reported
    (media.foreign_source), counted (a.foreign), and the real streams
    arrive whole."""
    e = MediaEdge(daemon_factory, tmp_path, media=media_conf(), srtp="off")
    cwd = e.run_dir("call")
    a = RtpPeer(PHONE, mark=b"REAL-A")
    b = RtpPeer(CORE, mark=b"REAL-B")
    pbx = phone = None
    forged = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    forged.bind((FORGER, 0))
    hijack = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hijack.bind((PHONE, 0))
    hijack_port = hijack.getsockname()[1]
    try:
        pbx = e.pbx("media_uas_answer.xml", cwd, b.port)
        phone = e.phone_start("media_call_uac.xml", cwd, a.port,
                              extra=["-d", "6000"])
        ok = sdp(wait_for(lambda: got(cwd, "media_call_uac", ok_to_invite),
                          10, "the phone's 200 OK")[0])
        inv = sdp(wait_for(lambda: got(cwd, "media_uas_answer", invites),
                           5, "the PBX's INVITE")[0])
        assert ok["c"] == ["IN IP4 %s" % EDGE_OUT], ok["raw"]
        assert inv["c"] == ["IN IP4 %s" % EDGE_IN], inv["raw"]
        out_media, in_media = (EDGE_OUT, ok["port"]), (EDGE_IN, inv["port"])
        time.sleep(0.2)                         # the ACK is through
        a.stream(out_media, 3.0)
        b.stream(in_media, 3.0)
        time.sleep(0.8)                         # both latched
        for n in range(300):
            forged.sendto(rtp_packet(a.seq + 5000 + n, a.ts + 160 * n,
                                     a.ssrc, b"FORGED-%04d" % n +
                                     b"\xff" * 149), out_media)
            time.sleep(0.002)
        time.sleep(1.2)                         # a new report may come
        for n in range(100):
            hijack.sendto(rtp_packet(a.seq + 9000 + n, a.ts + 160 * n,
                                     a.ssrc, b"HIJACK-%04d" % n +
                                     b"\xff" * 149), out_media)
            time.sleep(0.002)
        a.finish_sending()
        b.finish_sending()
        time.sleep(0.3)
        done(phone, cwd)
        done(pbx, cwd)
    finally:
        reap(phone, pbx)
        a.close()
        b.close()
        forged.close()
        hijack.close()

    at_pbx, at_phone = b.payloads(), a.payloads()
    bad = [p[:11] for _, p in at_pbx if not p.startswith(b"REAL-A")]
    assert bad == [], "the PBX got foreign payloads: %s" % bad[:5]
    assert {src for src, _ in at_pbx} == {in_media}, {s for s, _ in at_pbx}
    assert len(at_pbx) == a.sent, (len(at_pbx), a.sent)
    assert {src for src, _ in at_phone} == {out_media}
    assert [p[:6] for _, p in at_phone] == [b"REAL-B"] * b.sent, \
        (len(at_phone), b.sent)

    # the reports name the foreign senders (src, sport) and add up to
    # every packet dropped (the call went on for over a second after)
    evs = e.d.events("media.foreign_source")
    froms = {(ev["src"], ev["sport"]) for ev in evs}
    assert FORGER in {a for a, _ in froms}, evs
    assert (PHONE, hijack_port) in froms, evs
    assert froms <= {(PHONE, hijack_port)} | {
        (FORGER, p) for _, p in froms}, evs
    assert all(ev["leg"] == "a" for ev in evs), evs
    assert sum(ev["dropped"] for ev in evs) == 400, evs
    c = counters(e.d.wait_event("call.ended"))
    assert c["a.foreign"] == 400 and c["b.foreign"] == 0, c
    assert c["a.packets"] == a.sent and c["b.packets"] == b.sent, \
        (c, a.sent, b.sent)
    # the same figures in the store, for `sipwall calls`
    calls = json.loads(e.d.cli("calls", "--json", "--all").stdout)
    assert len(calls) == 1 and calls[0]["anchored"], calls
    row = calls[0]
    assert (row["a"]["foreign"], row["a"]["packets"], row["b"]["foreign"],
            row["b"]["packets"]) == (400, a.sent, 0, b.sent), row


def bye_times(cwd, started, scenarios):
    """When each SIPp instance received a BYE (seconds after started);
    polls up to 15 s."""
    out = {}
    end = time.time() + 15
    while len(out) < len(scenarios) and time.time() < end:
        for s in scenarios:
            if s not in out and got(cwd, s, lambda m: m.startswith("BYE ")):
                out[s] = time.time() - started
        time.sleep(0.05)
    return out


def test_no_media_hangs_up_both_legs(daemon_factory, tmp_path):
    """Nobody sends RTP; with `timeout: 3s` sipwall ends the call itself
    (BYE both ways) within a few seconds: media.timeout, then call.ended
    reason media_timeout."""
    e = MediaEdge(daemon_factory, tmp_path, media=media_conf(timeout="3s"),
                  srtp="off")
    cwd = e.run_dir("call")
    pbx = e.pbx("media_uas_answer.xml", cwd, swtest.free_port(CORE))
    phone = None
    try:
        phone = e.phone_start("media_call_wait_bye_uac.xml", cwd,
                              swtest.free_port(PHONE))
        wait_for(lambda: got(cwd, "media_call_wait_bye_uac", ok_to_invite),
                 10, "the phone's 200 OK")
        t = bye_times(cwd, time.time(), ("media_call_wait_bye_uac",
                                         "media_uas_answer"))
        assert len(t) == 2, "BYE only at %s" % t
        assert all(2.0 <= v <= 5.5 for v in t.values()), t
        done(phone, cwd)
        done(pbx, cwd)
    finally:
        reap(phone, pbx)
    e.d.wait_event("media.timeout")
    ended = e.d.wait_event("call.ended")
    assert ended["reason"] == "media_timeout" and ended["by"] == "sbc", ended
    c = counters(ended)
    assert c["a.packets"] == 0 and c["b.packets"] == 0, c


def test_one_way_media_is_reported_and_hung_up(daemon_factory, tmp_path):
    """Only the PBX sends RTP (the phone's audio is dead); with
    `one_way_timeout: 3s` and `one_way_hangup: true` sipwall reports
    media.one_way naming the silent leg a and ends the call."""
    e = MediaEdge(daemon_factory, tmp_path,
                  media=media_conf(one_way_timeout="3s",
                                   one_way_hangup=True), srtp="off")
    cwd = e.run_dir("call")
    a = RtpPeer(PHONE, mark=b"REAL-A")
    b = RtpPeer(CORE, mark=b"REAL-B")
    pbx = e.pbx("media_uas_answer.xml", cwd, b.port)
    phone = None
    try:
        phone = e.phone_start("media_call_wait_bye_uac.xml", cwd, a.port)
        ok = sdp(wait_for(lambda: got(cwd, "media_call_wait_bye_uac",
                                      ok_to_invite), 10, "the 200 OK")[0])
        inv = sdp(wait_for(lambda: got(cwd, "media_uas_answer", invites),
                           5, "the PBX's INVITE")[0])
        started = time.time()
        b.stream((EDGE_IN, inv["port"]), 10.0)
        t = bye_times(cwd, started, ("media_call_wait_bye_uac",
                                     "media_uas_answer"))
        b.stopping.set()
        assert len(t) == 2, "BYE only at %s" % t
        assert all(2.0 <= v <= 5.5 for v in t.values()), t
        done(phone, cwd)
        done(pbx, cwd)
    finally:
        reap(phone, pbx)
        a.close()
        b.close()
    # the one direction that worked did reach the phone
    heard = a.payloads()
    assert len(heard) >= 80, len(heard)
    assert {src for src, _ in heard} == {(EDGE_OUT, ok["port"])}
    ev = e.d.wait_event("media.one_way")
    assert ev["silent"] == "a", ev
    ended = e.d.wait_event("call.ended")
    assert ended["reason"] == "one_way" and ended["by"] == "sbc", ended
    assert e.d.events("media.timeout") == []
    c = counters(ended)
    assert c["a.packets"] == 0 and c["b.packets"] >= 80, c


def udp_ports(pid):
    """The local ports of the UDP sockets process pid holds."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            m = re.match(r"socket:\[(\d+)\]",
                         os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            continue
        if m:
            inodes.add(m.group(1))
    ports = []
    for name in ("udp", "udp6"):
        with open("/proc/%d/net/%s" % (pid, name)) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[9] in inodes:
                    ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_thousand_short_calls_leak_no_media_port(daemon_factory, tmp_path):
    """A range of 100 ports (50 RTP/RTCP pairs per media address) and
    1000 calls of 100 ms, at most 12 at a time: every call succeeds (a
    port pair leaked per call would run the range dry and give 503s),
    and afterwards sipwalld holds no socket in the range."""
    lo = media_range(100)
    media = media_conf(port_min=lo, port_max=lo + 99)
    e = MediaEdge(daemon_factory, tmp_path, media=media, srtp="off")
    cwd = e.run_dir("calls")
    inf = cwd / "pbx.csv"
    inf.write_text("SEQUENTIAL\n%d\n" % swtest.free_port(CORE))
    pbx = subprocess.Popen(
        ["sipp", "-sf", os.path.join(swtest.SCENARIOS,
                                     "media_uas_answer.xml"),
         "-i", CORE, "-p", str(e.uas_port), "-m", "1000", "-inf", str(inf),
         "-nostdin", "-timeout", "90s", "-timeout_error", "-trace_err"],
        cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                seen.append(len([p for p in udp_ports(e.d.pid)
                                 if lo <= p <= lo + 99]))
            except OSError:
                pass
            time.sleep(0.1)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        time.sleep(0.3)
        r = e.phone_run("media_call_uac.xml", cwd, swtest.free_port(PHONE),
                        calls=1000, rate=50, extra=["-l", "12", "-d", "100"],
                        timeout=90, trace=False)
        assert r.returncode == 0, sipp_report(r, cwd)
        done(pbx, cwd, timeout=30)
    finally:
        stop.set()
        sampler.join(5)
        reap(pbx)
    assert max(seen) >= 4, "no media port of the range was ever bound: " \
        "%s" % seen[:50]
    assert e.d.events("media.ports_exhausted") == []
    wait_for(lambda: len(e.d.events("call.ended")) >= 1000, 10,
             "1000 call.ended events")
    left = []
    deadline = time.time() + 5
    while time.time() < deadline:
        left = [p for p in udp_ports(e.d.pid) if lo <= p <= lo + 99]
        if not left:
            break
        time.sleep(0.1)
    assert left == [], "sipwalld still holds %s" % sorted(left)


def test_hold_and_resume_keep_the_anchored_ports(daemon_factory, tmp_path):
    """The phone holds (re-INVITE a=sendonly) and resumes (a=sendrecv):
    each re-offer reaches the PBX with that direction, our core media
    address and the same port as the first offer, under a new o=
    version; the answers reach the phone the same way on our internet
    address and port."""
    media = media_conf()
    e = MediaEdge(daemon_factory, tmp_path, media=media, srtp="off")
    cwd = e.run_dir("call")
    pbx = e.pbx("media_uas_reinvite.xml", cwd, swtest.free_port(CORE))
    try:
        r = e.phone_run("media_reinvite_uac.xml", cwd,
                        swtest.free_port(PHONE))
        assert r.returncode == 0, sipp_report(r, cwd)
        done(pbx, cwd)
    finally:
        reap(pbx)
    offers = first_per_cseq(got(cwd, "media_uas_reinvite", invites))
    answers = first_per_cseq(got(cwd, "media_reinvite_uac", ok_to_invite))
    assert len(offers) == 3 and len(answers) == 3, (offers, answers)
    for msgs, addr, dirs, foreign in (
            (offers, EDGE_IN, ("sendrecv", "sendonly", "sendrecv"),
             (PHONE,)),
            (answers, EDGE_OUT, ("sendrecv", "recvonly", "sendrecv"),
             (CORE, EDGE_IN))):
        s = [sdp(m) for m in msgs]
        assert [direction(x) for x in s] == list(dirs), [x["raw"] for x in s]
        for x, m in zip(s, msgs):
            assert x["c"] == ["IN IP4 %s" % addr], x["raw"]
            assert x["o"].endswith("IN IP4 %s" % addr), x["raw"]
            assert x["port"] == s[0]["port"], [y["raw"] for y in s]
            assert in_range(x["port"], media), x["raw"]
            for f in foreign:
                assert f not in m, m
        # RFC 3264 8: a new offer or answer carries a higher o= version
        versions = [o_version(x) for x in s]
        assert versions[0] < versions[1] < versions[2], versions
    e.d.wait_event("call.ended", lambda ev: ev["reason"] == "bye")
