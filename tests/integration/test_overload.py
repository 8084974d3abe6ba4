"""Overload control (PROT6): while SIPp floods INVITEs from 200
unauthenticated sources in 127.0.0.0/8 as fast as it can, calls from
the core zone and from an authenticated phone keep succeeding (at least
99 % each), the flood is shed and counted, and memory stays bounded.

    flood: SIPp -t ui and tools/flood.c, from 127.3.0.1..127.3.0.200 -+
    phone 1001 (SIPp UAC, 127.0.0.21, digest) ------------------------+-> internet
    phone 1002 (SIPp UAS, 127.0.0.22, registered) <-------------------+   listener
    PBX (SIPp UAC and UAS, 127.0.0.10) <------------------------------> core listener

The flood: one SIPp instance sends a new INVITE per call from the
source address of its injection file's line (`-t ui`: one socket per
address, 200 addresses), awaiting nothing, at a requested 100,000
calls/s; SIPp itself is the limit (one core: 35,000-60,000 a second
here).  A release build answers that many with stateless challenges on
less than one core without being overloaded, so against a release
build tools/flood.c (sendmmsg batches; compiled here) adds 200,000
INVITEs a second of the same shape from the same 200 addresses, about
twice what the daemon can challenge on the CPU the generators leave it
(SIPWALL_OVERLOAD_BLAST sets that rate; 0 turns it off).  A sanitizer
build costs ten times as much per datagram, shed or not: against one,
SIPp alone is asked for 25,000 a second (several times what it can
challenge, within what it can shed) and flood.c is not used.  The
achieved rates are measured and reported.

The internet zone's rate limits are lifted and bans out of reach (LENIENT),
so that only overload control stands between the flood and the daemon:
the worst case, a flood under every per-source budget.  The fraud
limits are lifted too: one account places all its calls.

Both phones registered before the flood: a phone earns trust by
authenticating (policy/trust.h), and a source with trust, or a request
that carries credentials, is never shed; the flood's sources have
neither.  Legitimate calls: 200 from the PBX to phone 1002 and 200
from phone 1001 to the PBX, 10 a second each, both during the flood.
The answering side (uas_answer_retrans.xml) answers a retransmitted
INVITE again, as a phone does (SIPp's uas_answer.xml aborts the call):
where the kernel drops a datagram, retransmission must be able to
repair it.

Marked `release` (it measures the daemon: SIPWALL_BUILD_RELEASE when
set) and `slow`; about 30 s.  The shed count is the workers' own
counters, logged when the daemon stops; the `overload.shed` events
(written, plus their `suppressed` fields and the `events.suppressed`
summaries) must show it too.  Memory: RSS may grow by at most 64 MiB in
a release build, 256 MiB under ASan (its quarantine), as in
test_flood.py.
"""
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import time

import pytest

import swtest
from sipauth import SipUA, source
from test_calls import CORE, PW, Edge
from test_flood import cpu_seconds, release_build, sanitized


HERE = os.path.dirname(os.path.abspath(__file__))
FLOOD_SOURCES = 200
FLOOD_RATE = 100000     # asked of SIPp; it sends what one core can
FLOOD_RATE_ASAN = 25000  # what a sanitizer build can still shed
BLAST_RATE = int(os.environ.get("SIPWALL_OVERLOAD_BLAST", "200000"))
LEAD_S = 2              # the flood runs alone first
CALLS = 200             # per legitimate kind
CALL_RATE = 10          # per second, per kind
FLOOD_S = LEAD_S + CALLS // CALL_RATE + 4   # outlasts the calls
PW2 = "Callee-pass-92y"
NO_LIMIT = {"rate": "1000000/s", "burst": 1000000}


def flood_sources():
    return ["127.3.0.%d" % (1 + i) for i in range(FLOOD_SOURCES)]


def blast_template(d, path):
    """The INVITE tools/flood.c sends (its @ runs become a new branch,
    tag and Call-ID per packet), shaped like SIPp's."""
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
    """(successful, failed, created) from a SIPp summary (the
    cumulative column)."""
    def last(pat):
        v = re.findall(pat, out)
        return int(v[-1]) if v else 0

    return (last(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)"),
            last(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)"),
            last(r"Total Calls created\s*\|\s*\|\s*(\d+)"))


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
                    os.path.join(HERE, "tools", "flood.c")], check=True)
    return out


def sipp_cmd(scenario, *args):
    return ["sipp", "-sf", os.path.join(swtest.SCENARIOS, scenario),
            "-nostdin"] + list(args)


@pytest.mark.slow
@pytest.mark.release
def test_flood_is_shed_and_calls_go_through(daemon_factory, flood_bin,
                                            tmp_path):
    binary, _ = release_build()
    asan = sanitized(binary or swtest.SIPWALLD)
    blast_rate = 0 if asan else BLAST_RATE
    flood_rate = FLOOD_RATE_ASAN if asan else FLOOD_RATE
    conf = swtest.deep_merge({}, swtest.LENIENT)
    swtest.deep_merge(conf, {
        "zones": swtest.zones(
            internet={"rate_limits": {k: NO_LIMIT for k in (
                "source", "prefix", "account", "authenticated")}},
            core={"auth": "none", "allow": [CORE + "/32"]}),
        "policy": {"groups": [{"name": "default", "max_concurrent": 0,
                               "calls_per_minute": 0, "calls_per_day": 0,
                               "minutes_per_day": 0}]},
    })
    e = Edge(daemon_factory, tmp_path,
             accounts=(("1001", PW), ("1002", PW2)), conf_extra=conf)
    d = e.d
    if binary is not None:          # Edge started SIPWALL_BUILD's
        d.stop()
        d.start(binary=binary)

    # the phones register (and so earn trust) before the flood starts
    callee_port = swtest.free_port("127.0.0.22")
    with SipUA(d, bind="127.0.0.22", port=callee_port) as ua:
        _, ok = ua.register("1002", PW2, alg="MD5", expires=3600)
        assert ok is not None and ok.status == 200, ok
    with SipUA(d, bind="127.0.0.21") as ua:
        _, ok = ua.register("1001", PW, alg="MD5", expires=3600)
        assert ok is not None and ok.status == 200, ok

    uas_extra = ["-timeout", "%ds" % (FLOOD_S + 40)]
    pbx = e.uas("uas_answer_retrans.xml", calls=CALLS, extra=uas_extra)
    callee = e.uas("uas_answer_retrans.xml", port=callee_port,
                   ip="127.0.0.22", calls=CALLS, extra=uas_extra)
    inf = tmp_path / "flood.csv"
    inf.write_text("SEQUENTIAL\n" + "".join(
        "%s;%d\n" % (a, 3000 + i) for i, a in enumerate(flood_sources())))
    caller_inf = tmp_path / "caller.csv"
    caller_inf.write_text("SEQUENTIAL\n1001;%s;2000\n" % PW)
    tp = str(tmp_path / "blast.bin")
    blast_template(d, tp)

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
    procs = []
    run = dict(cwd=str(tmp_path), stdout=subprocess.PIPE,
               stderr=subprocess.STDOUT)
    try:
        flood = subprocess.Popen(sipp_cmd(
            "flood_invite_uac.xml", "-t", "ui", "-inf", str(inf),
            "-i", "127.3.0.1", "-p", "0", "-r", str(flood_rate),
            "-m", str(flood_rate * FLOOD_S), "-max_socket", "1000",
            "-timeout", "%ds" % FLOOD_S, "127.0.0.1:%d" % d.port), **run)
        procs.append(flood)
        blast = None
        if blast_rate > 0:
            blast = subprocess.Popen(
                [flood_bin, "127.0.0.1", str(d.port), str(blast_rate),
                 str(FLOOD_S), "127.3.0.1", str(FLOOD_SOURCES), tp],
                stdout=subprocess.PIPE)
            procs.append(blast)
        time.sleep(LEAD_S)
        common = ["-p", "0", "-m", str(CALLS), "-r", str(CALL_RATE),
                  "-timeout", "%ds" % (FLOOD_S + 30), "-timeout_error",
                  "-recv_timeout", "10000", "-trace_err"]
        core = subprocess.Popen(sipp_cmd(
            "core_invite_uac.xml", "-i", CORE, "-s", "1002", *common,
            "127.0.0.1:%d" % e.core_port), **run)
        procs.append(core)
        phone = subprocess.Popen(sipp_cmd(
            "call_auth_uac.xml", "-i", "127.0.0.21", "-inf", str(caller_inf),
            *common, "127.0.0.1:%d" % d.port), **run)
        procs.append(phone)
        core_out = core.communicate(timeout=FLOOD_S + 60)[0].decode(
            "utf-8", "replace")
        phone_out = phone.communicate(timeout=FLOOD_S + 60)[0].decode(
            "utf-8", "replace")
        # both floods outlast the calls and stop by themselves
        flood_out = flood.communicate(timeout=FLOOD_S + 30)[0].decode(
            "utf-8", "replace")
        flood_s = time.time() - t0
        bl = {"sent": 0, "rate": 0.0}
        if blast is not None:
            bl = json.loads(blast.communicate(timeout=FLOOD_S + 30)[0])
    finally:
        for p in procs:
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

    core_ok, core_failed, _ = sipp_counts(core_out)
    ph_ok, ph_failed, _ = sipp_counts(phone_out)
    sent = sipp_counts(flood_out)[2]
    total = sent + bl["sent"]
    growth_mb = (max(samples) - rss0) / 1024.0
    time.sleep(0.5)                 # the event writer's last batch
    shed_ev = shed_from_events(d)
    d.stop()
    shed = sum(int(x) for x in re.findall(r"overload: shed (\d+)",
                                          d.stderr()))
    report = (
        "flood: SIPp %.0f INVITE/s (%d), flood.c %.0f/s (%d), from %d "
        "sources; core calls %d ok, %d failed of %d; phone calls %d ok, "
        "%d failed of %d; shed %d of %d (events %d); kernel drops on the "
        "internet sockets %d; RSS %.1f -> max %.1f MiB (+%.1f); daemon CPU "
        "%.1f s in %.1f s (%.1f us per flood INVITE); %s build" % (
            sent / flood_s, sent, bl["rate"], bl["sent"], FLOOD_SOURCES,
            core_ok, core_failed, CALLS, ph_ok, ph_failed, CALLS, shed,
            total, shed_ev, drops, rss0 / 1024.0, max(samples) / 1024.0,
            growth_mb, cpu, flood_s, cpu * 1e6 / max(total, 1),
            "ASan" if asan else "release"))
    print(report)
    assert sent > 0, report + "\n" + flood_out[-2000:]
    assert core_ok >= CALLS * 0.99, report + "\n" + core_out[-2000:]
    assert ph_ok >= CALLS * 0.99, report + "\n" + phone_out[-2000:]
    assert shed > 0 and shed_ev > 0, report
    assert growth_mb < (256 if asan else 64), report
    # nobody legitimate was taken for an attacker
    assert not any(b["key"] in (CORE, "127.0.0.21", "127.0.0.22")
                   for b in d.bans()), report


def test_what_is_shed_and_what_is_not(daemon_factory, tmp_path):
    """The shedding policy, packet by packet, without a flood: the
    daemon (one worker) is stopped while 300 INVITEs queue up on its
    socket, so the first full receive batch finds the queue over
    queue_high (1 here) and the worker is overloaded until a second
    passes without a queue (the probes below take milliseconds).  With
    overload.reply the shed requests get 503 + Retry-After."""
    conf = swtest.deep_merge({}, swtest.LENIENT)
    swtest.deep_merge(conf, {
        "zones": swtest.zones(
            internet={"rate_limits": {k: NO_LIMIT for k in (
                "source", "prefix", "account", "authenticated")}},
            core={"auth": "none", "allow": [CORE + "/32"]}),
        "overload": {"queue_high": 1, "busy_percent": 100, "reply": True},
    })
    e = Edge(daemon_factory, tmp_path, workers=1, conf_extra=conf)
    d = e.d
    phone = SipUA(d, bind="127.0.0.21")
    _, ok = phone.register("1001", PW, alg="MD5", expires=3600)
    assert ok is not None and ok.status == 200, ok
    burst = SipUA(d, bind=source(1, "127.3.0"), rcvbuf=1 << 20)
    probes = [SipUA(d, bind=source(n, "127.3.0")) for n in range(2, 6)]
    core = SipUA(d, bind=CORE)
    core.daemon = None              # send to the core listener
    core.sock.connect(("127.0.0.1", e.core_port))
    try:
        d.proc.send_signal(signal.SIGSTOP)
        try:
            for _ in range(300):
                burst.send(burst.build("INVITE", "3000"))
        finally:
            d.proc.send_signal(signal.SIGCONT)
        # at once: the worker leaves overload after a second of calm
        answers = []
        while len(answers) < 300:
            r = burst.recv(3.0)
            if r is None:
                break
            answers.append(r)
        shed = [r for r in answers if r.status == 503]
        assert len(answers) == 300, [r.status for r in answers]
        # one batch (16) went through before the backlog was seen
        assert len(shed) >= 300 - 32, [r.status for r in answers]
        assert all(r.hdr("retry-after") == "30" for r in shed), shed[0]
        assert all(r.status == 407 for r in answers if r.status != 503)

        # still overloaded: new requests from untrusted sources are shed
        r = probes[0].transact(probes[0].build("INVITE", "3000"))
        assert r is not None and r.status == 503, r
        r = probes[0].transact(probes[0].build("OPTIONS", "3000"))
        assert r is not None and r.status == 503, r
        # ...and so is an in-dialog request naming a tag we never make
        r = probes[1].transact(probes[1].build("BYE", "3000",
                                               to_tag="a1b2c3"))
        assert r is not None and r.status == 503, r
        # a source that authenticated recently is not
        r = phone.transact(phone.build("INVITE", "2000"))
        assert r is not None and r.status == 407, r
        # nor a request with credentials (they are checked, not shed)
        r = probes[2].transact(probes[2].build(
            "INVITE", "2000", proxy_auth='Digest username="1001", '
            'realm="sipwall", nonce="x", uri="sip:2000@127.0.0.1", '
            'response="00000000000000000000000000000000"'))
        assert r is not None and r.status != 503, r
        # nor an in-dialog request with a tag of ours (no such dialog)
        r = probes[3].transact(probes[3].build(
            "BYE", "3000", to_tag="00" + "0123456789abcdef"))
        assert r is not None and r.status == 481, r
        # nor anything from the trusted core zone
        core.sock.send(swtest.request(
            "INVITE", d, ruri="sip:1002@127.0.0.1:%d" % e.core_port,
            via_host=CORE, via_port=core.port))
        r = None
        while r is None or r.status < 200:
            r = core.recv(3.0)
            assert r is not None
        assert r.status == 480, r
    finally:
        for ua in [phone, burst, core] + probes:
            ua.close()
    ev = d.wait_event("overload.shed", lambda ev: ev["status"] == 503)
    assert ev["reason"] == "worker overloaded", ev
    assert ev["detail"] == "socket receive queue deep", ev
    d.stop()
    m = re.findall(r"overload: shed (\d+) in (\d+) episodes", d.stderr())
    assert m and int(m[0][0]) >= len(shed) + 3 and m[0][1] == "1", m
