"""A flood of at least 20,000 requests a second (REGISTER, INVITE,
OPTIONS) from unknown sources for 12 s, while 100 legitimate phones
behind one address (127.0.0.5) register through SIPp at 100 a second:
at least 99.9 % of the legitimate registrations must succeed, and the
daemon's memory must stay bounded.

The flood comes from tools/flood.c (compiled here with cc): one socket,
sendmmsg() batches paced against the clock, a different loopback
source per packet (IP_PKTINFO), and a fresh branch and Call-ID in every
packet so that none is absorbed as a retransmission.  Python cannot
send 20,000 a second on two cores; SIPp's -r is per call and would need
one instance per source.  The achieved rate is measured and asserted.

Two shapes of flood:
- `prefixes`: 1,024 sources in five /24s, each source near its own
  budget: the per-prefix budgets (200/s) must absorb it cheaply.
- `everywhere`: 65,536 sources in 256 /24s, each far below every
  per-source and per-prefix budget: nothing but the daemon's own
  capacity stands in the way, and legitimate, authenticated phones must
  still get through (PROT6: untrusted, unauthenticated work is shed
  first).

These tests are marked `release`: they measure the daemon, not the
sanitizers, so they run against SIPWALL_BUILD_RELEASE (a release build
directory) when it is set -- `make integration` does so -- and against
SIPWALL_BUILD otherwise.  Memory: RSS (VmRSS) may grow by at most 64 MiB
in a release build, the size of every table the flood can fill at these
rates with room to spare (the initial RSS already holds the preallocated
tables); under ASan, whose quarantine keeps up to 256 MiB of freed memory
resident, by at most 256 MiB.
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

pytestmark = [pytest.mark.slow, pytest.mark.release]

HERE = os.path.dirname(os.path.abspath(__file__))
RATE = 20000            # flood datagrams per second, at least
FLOOD_S = 12
LEGIT_CALLS = 1000      # registrations
LEGIT_RATE = 100        # per second: 10 s, inside the flood
PHONES = 100
UA = "Yealink SIP-T46S 66.86.0.15"     # no scanner signature


def release_build():
    rel = os.environ.get("SIPWALL_BUILD_RELEASE")
    if not rel:
        return None, False
    path = os.path.join(swtest.ROOT, rel, "src", "sipwalld")
    assert os.path.exists(path), "SIPWALL_BUILD_RELEASE: no %s" % path
    return path, True


def sanitized(binary):
    """Whether the daemon binary is built with ASan."""
    out = subprocess.run(["nm", "-D", binary], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout
    return b"__asan_init" in out


@pytest.fixture(scope="module")
def flood_bin(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    out = str(tmp_path_factory.mktemp("flood") / "flood")
    subprocess.run([cc, "-O2", "-Wall", "-o", out,
                    os.path.join(HERE, "tools", "flood.c")], check=True)
    return out


def templates(d, path):
    """REGISTER, INVITE and OPTIONS; flood.c fills the @ runs."""
    with open(path, "wb") as f:
        for method in ("REGISTER", "INVITE", "OPTIONS"):
            ruri = "sip:%s%s:%d" % ("" if method == "REGISTER" else "1000@",
                                   d.host, d.port)
            m = ("%s %s SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 127.2.0.1:5060;branch=z9hG4bK@@@@@@@@@@@@"
                 ";rport\r\n"
                 "Max-Forwards: 70\r\n"
                 "From: <sip:1000@127.2.0.1>;tag=@@@@@@@@@@@@\r\n"
                 "To: <sip:1000@%s>\r\n"
                 "Call-ID: @@@@@@@@@@@@@flood\r\n"
                 "CSeq: 1 %s\r\n"
                 "Contact: <sip:1000@127.2.0.1:5060>\r\n"
                 "User-Agent: %s\r\n"
                 "Content-Length: 0\r\n\r\n") % (method, ruri, d.host,
                                                 method, UA)
            b = m.encode()
            f.write(struct.pack("<I", len(b)) + b)


def cpu_seconds(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.parametrize("shape,nsrc", [
    ("prefixes", 1024),
    # 65,536 sources, each under every budget: only stateless
    # challenges (no transaction per 401) keep the table free for the
    # legitimate phones.
    ("everywhere", 65536),
])
def test_flood(daemon_factory, flood_bin, tmp_path, shape, nsrc):
    binary, release = release_build()
    phones = [("%d" % (5000 + i), "Legit-%d-pw" % i) for i in range(PHONES)]
    # SIPp computes MD5 only (see test_registrar.py)
    d = daemon_factory(zone="internet", accounts=phones, start=False,
                       conf={"auth": {"algorithms": ["MD5", "SHA-256"]}})
    d.start(binary=binary)
    asan = sanitized(binary or swtest.SIPWALLD)
    tp = str(tmp_path / "templates.bin")
    templates(d, tp)
    inf = tmp_path / "phones.csv"
    inf.write_text("SEQUENTIAL\n" + "".join("%s;%s\n" % p for p in phones))

    rss0 = d.rss_kb()
    samples, stop = [], threading.Event()

    def sample():
        while not stop.is_set():
            samples.append(d.rss_kb())
            stop.wait(0.25)

    th = threading.Thread(target=sample)
    th.start()
    cpu0 = cpu_seconds(d.pid)
    flood = subprocess.Popen([flood_bin, d.host, str(d.port), str(RATE),
                              str(FLOOD_S), "127.2.0.1", str(nsrc), tp],
                             stdout=subprocess.PIPE)
    try:
        time.sleep(1.0)             # the flood is on
        legit = swtest.sipp("register_once_uac.xml", d, calls=LEGIT_CALLS,
                            rate=LEGIT_RATE, extra=["-inf", str(inf)],
                            cwd=tmp_path, local_ip="127.0.0.5", timeout=40)
        fl = json.loads(flood.communicate(timeout=FLOOD_S + 20)[0])
    finally:
        if flood.poll() is None:
            flood.kill()
            flood.wait()
        stop.set()
        th.join()
    cpu = cpu_seconds(d.pid) - cpu0
    out = legit.stdout.decode("utf-8", "replace")
    ok = int(re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", out)[-1])
    failed = int(re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", out)[-1])
    growth_mb = (max(samples) - rss0) / 1024.0
    shed = len(d.events("overload.shed"))
    report = ("flood %s: %.0f/s (%d sent, %d answers seen); legit %d ok, "
              "%d failed of %d; RSS %.1f MiB -> max %.1f MiB (+%.1f); "
              "daemon CPU %.1f s; %s build; overload.shed events %d" % (
                  shape, fl["rate"], fl["sent"], fl["answers"], ok, failed,
                  LEGIT_CALLS, rss0 / 1024.0, max(samples) / 1024.0,
                  growth_mb, cpu, "ASan" if asan else "release", shed))
    print(report)
    assert fl["rate"] >= RATE * 0.995 and fl["seconds"] >= FLOOD_S - 0.1, \
        report
    assert ok + failed == LEGIT_CALLS, report + "\n" + out[-2000:]
    assert ok >= LEGIT_CALLS * 0.999, report
    assert growth_mb < (256 if asan else 64), report
    # the legitimate phones were never taken for attackers
    assert not any(b["key"] == "127.0.0.5" for b in d.bans()), report
