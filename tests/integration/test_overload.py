"""Overload control (PROT6): while SIPp floods INVITEs from 200
unauthenticated sources in 127.0.0.0/8 as fast as it can, calls from
the core zone and from an authenticated phone keep succeeding (at least
99 % each), the flood is shed and counted, and memory stays bounded.

    flood (SIPp -t ui, 200 sources 127.3.0.1..127.3.1.100) ---+
    phone 1001 (SIPp UAC, 127.0.0.21, digest) ----------------+--> internet
    phone 1002 (SIPp UAS, 127.0.0.22, registered) <-----------+    listener
    PBX (SIPp UAC and UAS, 127.0.0.10) <----------------------> core listener

The flood is one SIPp instance sending a new INVITE per call from the
source address of its injection file's line (`-t ui`: one socket per
address), nothing awaited, at a requested 100,000 calls/s: SIPp is the
limit (one core; the daemon and the legitimate SIPps share the other).
The achieved rate is SIPp's own count over its elapsed time.  The
internet zone's rate limits and bans are lifted (LENIENT, LENIENT_RATES)
so that only overload control stands between the flood and the daemon:
the worst case, a flood under every per-source budget.

Both phones registered before the flood: a phone earns trust by
authenticating (policy/trust.h), and a source with trust, or a request
that carries credentials, is never shed; the flood's sources have
neither.  Legitimate calls: 200 from the PBX to phone 1002 and 200
from phone 1001 to the PBX, 10 a second each, both during the flood.

Marked `release` (it measures the daemon, not the sanitizers) and
`slow`; about 40 s.  The shed count is the sum over the `overload.shed`
events written, their `suppressed` fields and the `events.suppressed`
summaries (the event stream accounts for every one it suppressed), and
the workers' own counters, logged when the daemon stops.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import threading
import time

import pytest

import swtest
from sipauth import SipUA
from test_calls import CORE, PW, Edge
from test_flood import cpu_seconds, release_build, sanitized

pytestmark = [pytest.mark.slow, pytest.mark.release]

FLOOD_SOURCES = 200
FLOOD_RATE = 100000     # asked of SIPp; it sends what one core can
BLAST_RATE = int(os.environ.get("SIPWALL_OVERLOAD_BLAST", "1000000"))
FLOOD_S = 26            # LEAD_S, then 200 calls at 10/s, and a margin
LEAD_S = 2.0            # the flood runs alone first
CALLS = 200             # per legitimate kind
CALL_RATE = 10          # per second, per kind
PW2 = "Callee-pass-92y"


def flood_sources():
    return ["127.3.0.%d" % (1 + i) for i in range(FLOOD_SOURCES)]


def blast_template(d, path):
    """The INVITE tools/flood.c sends (its @ runs become a new branch,
    tag and Call-ID per packet): what SIPp sends, byte for byte in
    shape."""
    sdp = ("v=0\r\no=- 53655765 2353687637 IN IP4 127.3.0.1\r\ns=-\r\n"
           "c=IN IP4 127.3.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 8\r\n"
           "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n")
    m = ("INVITE sip:3000@%s:%d SIP/2.0\r\n"
         "Via: SIP/2.0/UDP 127.3.0.1:5060;branch=z9hG4bK@@@@@@@@@@@@;rport\r\n"
         "From: <sip:3000@127.3.0.1>;tag=@@@@@@@@@@@@\r\n"
         "To: <sip:3000@%s>\r\n"
         "Call-ID: @@@@@@@@@@@@@blast\r\n"
         "CSeq: 1 INVITE\r\n"
         "Contact: <sip:3000@127.3.0.1:5060>\r\n"
         "Max-Forwards: 70\r\n"
         "User-Agent: Grandstream GXP2170 1.0.11.3\r\n"
         "Content-Type: application/sdp\r\n"
         "Content-Length: %d\r\n\r\n%s") % (d.host, d.port, d.host,
                                           len(sdp), sdp)
    b = m.encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<I", len(b)) + b)


def sipp_counts(out):
    """(successful, failed, created, elapsed seconds) from a SIPp
    summary (the cumulative column)."""
    def last(pat):
        v = re.findall(pat, out)
        return v[-1] if v else None

    ok = last(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)")
    failed = last(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)")
    created = last(r"Total Calls created\s*\|\s*\|\s*(\d+)")
    el = last(r"Elapsed Time\s*\|[^|]*\|\s*(\d+):(\d+):(\d+):(\d+)")
    secs = None
    if el is not None:
        h, m, s, us = (int(x) for x in el)
        secs = h * 3600 + m * 60 + s + us / 1e6
    return (int(ok or 0), int(failed or 0), int(created or 0), secs)


def socket_drops(port):
    """Datagrams the kernel dropped on the UDP sockets bound to port
    (every worker's), from /proc/net/udp."""
    n = 0
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            col = line.split()
            if int(col[1].split(":")[1], 16) == port:
                n += int(col[-1])
    return n


def shed_from_events(d):
    """overload.shed events: written, plus what the stream suppressed."""
    n = 0
    for ev in d.events():
        if ev["type"] == "overload.shed":
            n += 1 + int(ev.get("suppressed", 0))
        elif ev["type"] == "events.suppressed":
            n += int(ev.get("counters", {}).get("overload.shed", 0))
    return n


@pytest.fixture(scope="module")
def flood_bin(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    out = str(tmp_path_factory.mktemp("flood") / "flood")
    subprocess.run([cc, "-O2", "-Wall", "-o", out,
                    os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                 "tools", "flood.c")], check=True)
    return out


def test_flood_is_shed_and_calls_go_through(daemon_factory, flood_bin,
                                            tmp_path):
    binary, _ = release_build()
    asan = sanitized(binary or swtest.SIPWALLD)
    conf = swtest.deep_merge({}, swtest.LENIENT)
    swtest.deep_merge(conf, {
        "zones": swtest.zones(internet={"rate_limits": {
            k: {"rate": "1000000/s", "burst": 1000000}
            for k in ("source", "prefix", "account", "authenticated")}},
                              core={"auth": "none",
                                    "allow": [CORE + "/32"]}),
        "sip": {"max_transactions": 65536},
        # one account places all 200 calls: no fraud limits (FRAUD2)
        "policy": {"groups": [{"name": "default", "max_concurrent": 0,
                               "calls_per_minute": 0, "calls_per_day": 0,
                               "minutes_per_day": 0}]},
    })
    e = Edge(daemon_factory, tmp_path,
             accounts=(("1001", PW), ("1002", PW2)), conf_extra=conf)
    d = e.d
    d.stop()                        # Edge started the sanitizer build
    d.start(binary=binary)

    # the phones register (and so earn trust) before the flood starts
    callee_port = swtest.free_port("127.0.0.22")
    with SipUA(d, bind="127.0.0.22", port=callee_port) as ua:
        _, ok = ua.register("1002", PW2, alg="MD5", expires=3600)
        assert ok is not None and ok.status == 200, ok
    with SipUA(d, bind="127.0.0.21") as ua:
        _, ok = ua.register("1001", PW, alg="MD5", expires=3600)
        assert ok is not None and ok.status == 200, ok

    pbx = e.uas("uas_answer.xml", calls=CALLS,
                extra=["-timeout", "90s"])
    callee = e.uas("uas_answer.xml", port=callee_port, ip="127.0.0.22",
                   calls=CALLS, extra=["-timeout", "90s"])
    inf = tmp_path / "flood.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(
        "%s;%d\n" % (a, 3000 + i) for i, a in enumerate(flood_sources())))
    caller_inf = tmp_path / "caller.csv"
    caller_inf.write_text("SEQUENTIAL\n1001;%s;2000\n" % PW)

    rss0 = d.rss_kb()
    samples, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(d.rss_kb())
            stop.wait(0.25)

    th = threading.Thread(target=sample)
    th.start()
    cpu0 = cpu_seconds(d.pid)
    t0 = time.time()
    flood = subprocess.Popen(
        ["sipp", "-sf", os.path.join(swtest.SCENARIOS,
                                     "flood_invite_uac.xml"),
         "-t", "ui", "-inf", str(inf), "-i", "127.3.0.1", "-p", "0",
         "-r", str(FLOOD_RATE), "-m", str(FLOOD_RATE * FLOOD_S),
         "-max_socket", "1000", "-nostdin", "-timeout", "%ds" % FLOOD_S,
         "127.0.0.1:%d" % d.port],
        cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    legit = []
    blast = None
    try:
        if BLAST_RATE > 0:
            tp = str(tmp_path / "blast.bin")
            blast_template(d, tp)
            blast = subprocess.Popen(
                [flood_bin, "127.0.0.1", str(d.port), str(BLAST_RATE),
                 str(FLOOD_S), "127.3.0.1", str(FLOOD_SOURCES), tp],
                stdout=subprocess.PIPE)
            legit.append(blast)
        time.sleep(LEAD_S)
        common = ["-m", str(CALLS), "-r", str(CALL_RATE), "-nostdin",
                  "-timeout", "60s", "-timeout_error", "-recv_timeout",
                  "10000", "-trace_err", "-p", "0"]
        core = subprocess.Popen(
            ["sipp", "-sf", os.path.join(swtest.SCENARIOS,
                                         "core_invite_uac.xml"),
             "-i", CORE, "-s", "1002"] + common +
            ["127.0.0.1:%d" % e.core_port],
            cwd=str(tmp_path), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        legit.append(core)
        phone = subprocess.Popen(
            ["sipp", "-sf", os.path.join(swtest.SCENARIOS,
                                         "call_auth_uac.xml"),
             "-i", "127.0.0.21", "-inf", str(caller_inf)] + common +
            ["127.0.0.1:%d" % d.port],
            cwd=str(tmp_path), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        legit.append(phone)
        core_out = core.communicate(timeout=90)[0].decode("utf-8", "replace")
        phone_out = phone.communicate(timeout=90)[0].decode("utf-8",
                                                            "replace")
        calls_s = time.time() - t0
        # both floods outlast the calls and stop by themselves
        flood_out = flood.communicate(timeout=FLOOD_S + 30)[0].decode(
            "utf-8", "replace")
        flood_s = time.time() - t0
        bl = {"sent": 0, "rate": 0.0, "seconds": 0.0}
        if blast is not None:
            bl = json.loads(blast.communicate(timeout=FLOOD_S + 30)[0])
    finally:
        for p in [flood] + legit:
            if p.poll() is None:
                p.kill()
                p.wait()
        stop.set()
        th.join()
    cpu = cpu_seconds(d.pid) - cpu0
    drops = socket_drops(d.port)
    for p in (pbx, callee):
        try:
            p.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    for name, out in (("flood", flood_out), ("core", core_out),
                      ("phone", phone_out)):
        (tmp_path / ("sipp-%s.out" % name)).write_text(out)
    core_ok, core_failed, _, _ = sipp_counts(core_out)
    ph_ok, ph_failed, _, _ = sipp_counts(phone_out)
    _, _, sent, _ = sipp_counts(flood_out)
    rate = sent / flood_s
    growth_mb = (max(samples) - rss0) / 1024.0
    time.sleep(0.5)                 # the event writer's last batch
    shed_ev = shed_from_events(d)
    d.stop()
    m = re.findall(r"overload: shed (\d+)", d.stderr())
    shed = sum(int(x) for x in m)
    report = ("flood: SIPp %.0f INVITE/s from %d sources (%d sent in %.1f "
              "s), flood.c %.0f/s (%d); "
              "core calls %d ok, %d failed of %d; phone calls %d ok, %d "
              "failed of %d; shed %d (events %d); kernel drops on the "
              "internet sockets %d; RSS %.1f -> max %.1f MiB "
              "(+%.1f); daemon CPU %.1f s in %.1f s; %s build" % (
                  rate, FLOOD_SOURCES, sent, flood_s, bl["rate"],
                  bl["sent"], core_ok,
                  core_failed, CALLS, ph_ok, ph_failed, CALLS, shed, shed_ev,
                  drops,
                  rss0 / 1024.0, max(samples) / 1024.0, growth_mb, cpu,
                  calls_s, "ASan" if asan else "release"))
    print(report)
    assert sent > 0, report + "\n" + flood_out[-2000:]
    assert core_ok >= CALLS * 0.99, report + "\n" + core_out[-2000:]
    assert ph_ok >= CALLS * 0.99, report + "\n" + phone_out[-2000:]
    assert shed > 0 and shed_ev > 0, report
    assert growth_mb < (256 if asan else 64), report
    # nobody legitimate was taken for an attacker
    assert not any(b["key"] in (CORE, "127.0.0.21", "127.0.0.22")
                   for b in d.bans()), report
