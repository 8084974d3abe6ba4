"""Calls through the edge (issue 4: SIG4 B2BUA, SIG5 topology hiding,
SIG6 routing), driven by SIPp on both sides exactly as a phone and a PBX
would talk to it:

    phone (SIPp UAC, 127.0.0.1) -> sipwall internet listener
        -> sipwall core listener -> core PBX (SIPp UAS, 127.0.0.10)

and the other way round, the PBX calling a registered phone.  What the
far side received is read from SIPp's -trace_msg log, so each check is
about the bytes on the wire.

SIPp 3.6.1 answers only MD5 challenges, hence `auth.algorithms: [MD5]`.
"""
import glob
import os
import re
import subprocess
import time

import swtest
from sipauth import SipUA

PW = "Caller-pass-81x"
CORE = "127.0.0.10"
MD5_ONLY = {"auth": {"algorithms": ["MD5"]}}


def sipp_report(r, cwd):
    out = r.stdout.decode("utf-8", "replace")[-2000:] if r.stdout else ""
    for f in glob.glob(os.path.join(str(cwd), "*_errors.log")):
        with open(f, errors="replace") as fh:
            out += "\n" + f + ":\n" + fh.read()[-2000:]
    return out


def messages(cwd, scenario):
    """Everything a SIPp instance logged with -trace_msg."""
    out = ""
    for f in glob.glob(os.path.join(str(cwd), scenario + "_*_messages.log")):
        with open(f, errors="replace") as fh:
            out += fh.read()
    return out


def received(log):
    """The messages a SIPp instance received, one string each."""
    parts = re.split(r"-{20,} [0-9: .-]+\n", log)
    return [p.split("\n", 2)[2] for p in parts
            if re.match(r"(UDP|TCP) message received", p)]


class Edge:
    """A sipwalld with an internet listener (phones, digest) and a core
    listener (the PBX at 127.0.0.10, trusted), calls routed between."""

    def __init__(self, factory, tmp, first_targets=(), calls=None,
                 t1="500ms", accounts=(("1001", PW),), workers=2,
                 transports=("udp",), probe="0s", host="127.0.0.1",
                 conf_extra=None, more_listen=()):
        """host: the internet listener's address; conf_extra: a dict
        deep-merged into the config last."""
        self.tmp = tmp
        self.core_port = swtest.free_port()
        self.uas_port = swtest.free_port(CORE)
        targets = list(first_targets) + [{"address": CORE,
                                          "port": self.uas_port}]
        conf = swtest.deep_merge(swtest.deep_merge({}, swtest.LENIENT),
                                 MD5_ONLY)
        swtest.deep_merge(conf, {
            "zones": swtest.zones(
                internet=swtest.LENIENT_RATES,
                core={"auth": "none",
                      "allow": [CORE + "/32", "127.0.0.11/32"]}),
            "core": {"zone": "core", "targets": targets,
                     "probe_interval": probe},
            "calls": swtest.deep_merge({"keepalive": "0s"}, calls or {}),
        })
        swtest.deep_merge(conf, conf_extra)
        self.d = factory(zone="internet", conf=conf, t1=t1, workers=workers,
                         host=host,
                         transports=transports, accounts=accounts,
                         extra_listen=[{"transport": "udp",
                                        "address": "127.0.0.1",
                                        "port": self.core_port,
                                        "zone": "core"}] + list(more_listen))

    def uas(self, scenario, port=None, calls=1, ip=CORE, extra=(),
            prefix=()):
        """Start the core PBX (a SIPp UAS) in the background.  prefix:
        what runs it (e.g. `ip netns exec NS`)."""
        cmd = list(prefix) + [
            "sipp", "-sf", os.path.join(swtest.SCENARIOS, scenario),
            "-i", ip, "-p", str(port or self.uas_port), "-m", str(calls),
            "-nostdin", "-timeout", "40s", "-timeout_error", "-trace_msg",
            "-trace_err"] + list(extra)
        p = subprocess.Popen(cmd, cwd=str(self.tmp), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        time.sleep(0.3)
        return p

    def core_call(self, user):
        """The PBX (SIPp on 127.0.0.10) calls user through the core
        listener and hangs up; the finished SIPp run."""
        return subprocess.run(
            ["sipp", "-sf", os.path.join(swtest.SCENARIOS,
                                         "core_invite_uac.xml"),
             "-i", CORE, "-p", "0", "-s", user, "-m", "1", "-nostdin",
             "-timeout", "20s", "-timeout_error", "-trace_msg", "-trace_err",
             "127.0.0.1:%d" % self.core_port],
            cwd=str(self.tmp), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=40)

    def phone(self, scenario, dial="2000", user="1001", pw=PW, calls=1,
              extra=(), timeout=30):
        inf = self.tmp / ("inf-%s.csv" % user)
        inf.write_text("SEQUENTIAL\n%s;%s;%s\n" % (user, pw, dial))
        return swtest.sipp(scenario, self.d, calls=calls, rate=10,
                           extra=["-inf", str(inf), "-trace_msg"] + list(extra),
                           cwd=self.tmp, timeout=timeout,
                           local_ip=self.d.host)


def finish(p, timeout=45):
    out, _ = p.communicate(timeout=timeout)
    return subprocess.CompletedProcess(p.args, p.returncode, out, b"")


def test_phone_calls_core_through_the_b2bua(daemon_factory, tmp_path):
    e = Edge(daemon_factory, tmp_path)
    uas = e.uas("uas_answer.xml")
    r = e.phone("call_auth_uac.xml")
    assert r.returncode == 0, sipp_report(r, tmp_path)
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)

    core_in = received(messages(tmp_path, "uas_answer"))
    invite = next(m for m in core_in if m.startswith("INVITE "))
    phone_log = messages(tmp_path, "call_auth_uac")
    caller_callid = re.search(r"Call-ID: (\S+)", phone_log).group(1)
    # B2BUA: a dialog of its own towards the core
    assert caller_callid not in invite
    assert "SIPpTag00" not in invite             # the caller's tag
    # the authenticated identity, asserted to the trusted core
    assert re.search(r"^From: \"Caller 1001\" <sip:1001@sipwall>;tag=",
                     invite, re.M), invite
    assert "P-Asserted-Identity: <sip:1001@sipwall>" in invite
    # nothing of the phone's own reaches the core but the body
    assert "Proxy-Authorization" not in invite
    assert "User-Agent" not in invite and "LabPhone" not in invite
    vias = re.findall(r"^Via: .*$", invite, re.M)
    assert len(vias) == 1 and "127.0.0.1:%d" % e.core_port in vias[0], vias
    assert re.search(r"^Contact: <sip:127\.0\.0\.1:%d>" % e.core_port,
                     invite, re.M), invite
    assert "m=audio" in invite                   # the offer crossed
    bye = next(m for m in core_in if m.startswith("BYE "))
    assert caller_callid not in bye

    # what the phone saw of the core: nothing
    phone_in = received(phone_log)
    for m in phone_in:
        assert "CorePBX" not in m and "Server:" not in m, m
        assert "%s:%d" % (CORE, e.uas_port) not in m.split("\r\n\r\n")[0] \
            .split("\n\n")[0], m
    ok = next(m for m in phone_in if m.startswith("SIP/2.0 200")
              and "INVITE" in m)
    assert re.search(r"^Contact: <sip:127\.0\.0\.1:%d>" % e.d.port, ok, re.M)

    e.d.wait_event("call.ended", lambda ev: ev["reason"] == "bye"
                   and ev["by"] == "caller")
    att = e.d.events("call.attempt")
    assert len(att) == 1 and att[0]["account"] == "1001" \
        and att[0]["to"] == "2000", att
    assert len(e.d.events("call.answered")) == 1


def test_unauthenticated_invite_never_reaches_the_core(daemon_factory,
                                                       tmp_path):
    e = Edge(daemon_factory, tmp_path)
    uas = e.uas("uas_answer.xml", extra=["-timeout", "4s"])
    r = e.phone("call_auth_uac.xml", pw="Wrong-pass-000x", timeout=8)
    assert r.returncode != 0
    finish(uas)
    assert received(messages(tmp_path, "uas_answer")) == []
    e.d.wait_event("auth.failed")
    assert e.d.events("call.attempt") == []


def test_callee_hangs_up(daemon_factory, tmp_path):
    e = Edge(daemon_factory, tmp_path)
    uas = e.uas("uas_answer_bye.xml")
    r = e.phone("call_auth_wait_bye_uac.xml")
    assert r.returncode == 0, sipp_report(r, tmp_path)
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    e.d.wait_event("call.ended", lambda ev: ev["by"] == "callee")


def test_cancel_before_answer(daemon_factory, tmp_path):
    e = Edge(daemon_factory, tmp_path)
    uas = e.uas("uas_ring_cancel.xml")
    r = e.phone("call_cancel_uac.xml")
    assert r.returncode == 0, sipp_report(r, tmp_path)
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    core_in = received(messages(tmp_path, "uas_ring_cancel"))
    inv = next(m for m in core_in if m.startswith("INVITE "))
    cancel = next(m for m in core_in if m.startswith("CANCEL "))
    # 9.1: the CANCEL matches our INVITE towards the core, not the phone's
    branch = re.search(r"branch=([^;\s]+)", inv).group(1)
    assert "branch=" + branch in cancel
    e.d.wait_event("call.failed", lambda ev: ev["reason"] == "cancel")


def test_reinvite_is_relayed_both_ways(daemon_factory, tmp_path):
    e = Edge(daemon_factory, tmp_path)
    uas = e.uas("uas_reinvite.xml")
    r = e.phone("call_reinvite_uac.xml")
    assert r.returncode == 0, sipp_report(r, tmp_path)
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    phone_in = received(messages(tmp_path, "call_reinvite_uac"))
    oks = [m for m in phone_in if m.startswith("SIP/2.0 200")
           and "CSeq: 3 INVITE" in m]
    assert oks and "a=recvonly" in oks[0], phone_in
    core_in = received(messages(tmp_path, "uas_reinvite"))
    invites = [m for m in core_in if m.startswith("INVITE ")]
    assert len(invites) == 2
    # the core's dialog: its CSeq goes on from ours, not the phone's 3
    assert re.search(r"^CSeq: 2 INVITE", invites[1], re.M), invites[1]


def test_core_calls_a_registered_phone(daemon_factory, tmp_path):
    """The phone registers (digest) from the port it then
    answers on (a SIPp UAS: SIPp cannot take a new dialog inside a
    client scenario); the PBX calls it through the core listener."""
    e = Edge(daemon_factory, tmp_path)
    phone_port = swtest.free_port()
    with SipUA(e.d, port=phone_port) as ua:
        _, ok = ua.register("1001", PW, alg="MD5")
        assert ok is not None and ok.status == 200, ok
    phone = e.uas("uas_answer.xml", port=phone_port, ip="127.0.0.1")
    r = e.core_call("1001")
    assert r.returncode == 0, sipp_report(r, tmp_path)
    p = finish(phone)
    assert p.returncode == 0, sipp_report(p, tmp_path)
    core_log = messages(tmp_path, "core_invite_uac")
    core_callid = re.search(r"Call-ID: (\S+)", core_log).group(1)
    phone_in = received(messages(tmp_path, "uas_answer"))
    inv = next(m for m in phone_in if m.startswith("INVITE "))
    assert core_callid not in inv                # the inside Call-ID
    assert CORE not in inv.split("\n\n")[0]      # no inside address
    assert "CorePBX" not in inv
    assert re.search(r"^From: \"Reception\" <sip:100@127\.0\.0\.1:%d>"
                     % e.d.port, inv, re.M), inv
    # the registered contact is the Request-URI
    assert inv.startswith("INVITE sip:1001@127.0.0.1:%d" % phone_port), inv
    bye = next(m for m in phone_in if m.startswith("BYE "))
    assert core_callid not in bye
    e.d.wait_event("call.ended", lambda ev: ev["by"] == "caller"
                   and ev["direction"] == "inbound")


def invite_final(daemon, src_ip, port, user, timeout=5):
    """A plain INVITE for user from src_ip to 127.0.0.1:port; the final
    response (bytes), or None after `timeout` seconds."""
    c = swtest.UdpClient(daemon, bind=src_ip)
    c.sock.sendto(swtest.request("INVITE", daemon, ruri="sip:%s@127.0.0.1:%d"
                                 % (user, port), via_host=src_ip,
                                 via_port=c.port), ("127.0.0.1", port))
    deadline = time.time() + timeout
    while time.time() < deadline:
        data = c.recv(timeout=timeout)
        if not data.startswith(b"SIP/2.0 1"):
            return data
    return None


def test_core_calls_an_unregistered_user(daemon_factory, tmp_path):
    e = Edge(daemon_factory, tmp_path)
    final = invite_final(e.d, CORE, e.core_port, "1001")
    assert final is not None and final.startswith(b"SIP/2.0 480"), final
    e.d.wait_event("route.failed", lambda ev: ev["status"] == 480)


def test_failover_to_the_next_core_target(daemon_factory, tmp_path):
    dead_port = swtest.free_port("127.0.0.11")
    e = Edge(daemon_factory, tmp_path, t1="100ms",
             first_targets=[{"address": "127.0.0.11", "port": dead_port}])
    uas = e.uas("uas_answer.xml")
    r = e.phone("call_auth_uac.xml", timeout=30)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    down = e.d.wait_event("route.target_down")
    assert down["target"] == "127.0.0.11:%d" % dead_port


def test_dead_leg_ends_the_call(daemon_factory, tmp_path):
    """The core answers and vanishes: in-dialog OPTIONS keep-alives go
    unanswered, and sipwall hangs up the phone's side."""
    e = Edge(daemon_factory, tmp_path, t1="100ms",
             calls={"keepalive": "1s"})
    uas = e.uas("uas_answer.xml", extra=["-timeout", "3s"])
    r = e.phone("call_auth_wait_bye_uac.xml", timeout=40)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    finish(uas)
    ev = e.d.wait_event("call.ended", lambda ev: ev["reason"] == "leg_lost",
                        timeout=20)
    assert ev["by"] == "sbc"


def test_max_duration_ends_the_call(daemon_factory, tmp_path):
    e = Edge(daemon_factory, tmp_path, calls={"max_duration": "2s"})
    uas = e.uas("uas_answer.xml")
    started = time.time()
    r = e.phone("call_auth_wait_bye_uac.xml", timeout=30)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    ev = e.d.wait_event("call.ended",
                        lambda ev: ev["reason"] == "max_duration")
    assert ev["by"] == "sbc" and 1 <= ev["duration_s"] <= 3
    assert time.time() - started < 15


def test_phone_over_tcp(daemon_factory, tmp_path):
    """A phone on TCP: answers and the core's BYE go back on its
    connection, and our Contact towards it says transport=tcp."""
    e = Edge(daemon_factory, tmp_path, transports=("udp", "tcp"))
    uas = e.uas("uas_answer_bye.xml")
    inf = tmp_path / "tcp.csv"
    inf.write_text("SEQUENTIAL\n1001;%s;2000\n" % PW)
    r = swtest.sipp("call_auth_wait_bye_uac.xml", e.d, transport="t1",
                    extra=["-inf", str(inf), "-trace_msg"], cwd=tmp_path)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    phone_in = received(messages(tmp_path, "call_auth_wait_bye_uac"))
    ok = next(m for m in phone_in if m.startswith("SIP/2.0 200")
              and "INVITE" in m)
    assert re.search(r"^Contact: <sip:127\.0\.0\.1:%d;transport=tcp>"
                     % e.d.port, ok, re.M), ok
    assert any(m.startswith("BYE ") for m in phone_in)
    e.d.wait_event("call.ended", lambda ev: ev["by"] == "callee")


def test_many_calls_complete_and_free_their_state(daemon_factory, tmp_path):
    """300 calls at 100/s: every one completes, every one ends with an
    event, and the daemon's exit (ASan build: LeakSanitizer) shows no
    call, leg or transaction left behind.  One account places them all,
    so its fraud limits (policy.groups) are lifted."""
    n = 300
    e = Edge(daemon_factory, tmp_path, conf_extra={"policy": {"groups": [
        {"name": "default", "max_concurrent": 0, "calls_per_minute": 0,
         "calls_per_day": 0}]}})
    uas = e.uas("uas_answer.xml", calls=n)
    inf = tmp_path / "many.csv"
    inf.write_text("SEQUENTIAL\n1001;%s;2000\n" % PW)
    r = swtest.sipp("call_auth_uac.xml", e.d, calls=n, rate=100,
                    extra=["-inf", str(inf), "-l", "100"], cwd=tmp_path,
                    timeout=60)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    u = finish(uas, timeout=90)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    deadline = time.time() + 10
    while time.time() < deadline and len(e.d.events("call.ended")) < n:
        time.sleep(0.2)
    assert len(e.d.events("call.ended")) == n
    assert len(e.d.events("call.answered")) == n
    assert e.d.events("call.failed") == []


def test_tshark_sees_no_inside_address_on_the_outside(daemon_factory,
                                                      tmp_path):
    """Topology hiding as a capture proves it: the headers of every SIP
    message on the phone's side of sipwall (its internet listener's
    port, on lo), decoded by tshark, are free of the core's address and
    the inside Call-ID."""
    e = Edge(daemon_factory, tmp_path)
    pcap = tmp_path / "outside.pcap"
    cap = subprocess.Popen(["dumpcap", "-q", "-i", "lo", "-f",
                            "udp port %d" % e.d.port, "-w", str(pcap)],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE)
    time.sleep(1.0)                     # dumpcap is capturing
    try:
        uas = e.uas("uas_answer_bye.xml")
        r = e.phone("call_auth_wait_bye_uac.xml")
        assert r.returncode == 0, sipp_report(r, tmp_path)
        assert finish(uas).returncode == 0
        time.sleep(0.5)
    finally:
        cap.terminate()
        cap.wait(timeout=10)
    out = subprocess.run(
        ["tshark", "-r", str(pcap), "-Y", "sip", "-T", "fields",
         "-E", "separator=|", "-e", "sip.Method", "-e", "sip.Status-Code",
         "-e", "sip.msg_hdr"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = out.stdout.decode("utf-8", "replace").splitlines()
    # INVITE x2, 407, ACK x2, 180, 200, BYE from sipwall, its 200
    assert len(rows) >= 9, rows
    inside = received(messages(tmp_path, "uas_answer_bye"))
    inside_callid = re.search(r"Call-ID: (\S+)", inside[0]).group(1)
    for row in rows:
        # with media anchored (the default) the SDP names sipwall's
        # media address too: the PBX's address is nowhere, body included
        head = row.split("\\r\\n\\r\\n")[0]
        assert CORE not in row, row
        assert inside_callid not in head, row
        assert "CorePBX" not in head, row
    assert any(row.startswith("BYE|") for row in rows), rows


def test_probes_take_a_silent_target_out_of_rotation(daemon_factory,
                                                     tmp_path):
    """OPTIONS probes find the first target silent (a socket that reads
    and never answers); once it is down, calls go straight to the
    second one, and the silent target sees probes but no INVITE."""
    import socket
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.11", 0))
    silent.settimeout(0.2)
    e = Edge(daemon_factory, tmp_path, t1="100ms",
             first_targets=[{"address": "127.0.0.11",
                             "port": silent.getsockname()[1]}],
             probe="1s")
    uas = e.uas("uas_answer_probed.xml", calls=1000)
    try:
        silent_addr = "127.0.0.11:%d" % silent.getsockname()[1]
        down = e.d.wait_event("route.target_down",
                              lambda ev: ev["target"] == silent_addr,
                              timeout=15)
        assert down["reason"] == "probe: no answer", down
        core_addr = "%s:%d" % (CORE, e.uas_port)
        assert not [ev for ev in e.d.events("route.target_down")
                    if ev["target"] == core_addr]
        seen = []

        def drain():
            while True:
                try:
                    seen.append(silent.recv(65535).split(b" ", 1)[0])
                except OSError:
                    return
        drain()
        seen.clear()
        started = time.time()
        r = e.phone("call_auth_uac.xml")
        assert r.returncode == 0, sipp_report(r, tmp_path)
        # no 4 s failover wait: the call went to the live target first
        assert time.time() - started < 3
        got = received(messages(tmp_path, "uas_answer_probed"))
        assert any(m.startswith("INVITE ") for m in got)
        drain()
        assert b"INVITE" not in seen, seen
    finally:
        uas.terminate()
        finish(uas)
        silent.close()


def test_session_timer_ends_a_call_never_refreshed(daemon_factory, tmp_path):
    """RFC 4028: the phone asks for a session timer; sipwall, as its UAS,
    answers refresher=uac; no refresh comes, so after the interval both
    legs are hung up (call.ended reason session_timer)."""
    e = Edge(daemon_factory, tmp_path, calls={"min_se": "2s"})
    uas = e.uas("uas_answer.xml")
    inf = tmp_path / "se.csv"
    inf.write_text("SEQUENTIAL\n1001;%s;2000;2\n" % PW)
    r = swtest.sipp("call_timer_uac.xml", e.d, extra=["-inf", str(inf),
                                                      "-trace_msg"],
                    cwd=tmp_path, timeout=30)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    assert finish(uas).returncode == 0
    ok = next(m for m in received(messages(tmp_path, "call_timer_uac"))
              if m.startswith("SIP/2.0 200") and "INVITE" in m)
    assert re.search(r"^Session-Expires: 2;refresher=uac", ok, re.M), ok
    assert re.search(r"^Require: timer", ok, re.M), ok
    ev = e.d.wait_event("call.ended",
                        lambda ev: ev["reason"] == "session_timer")
    assert ev["by"] == "sbc"
    # the core never saw the phone's timer negotiation
    inv = next(m for m in received(messages(tmp_path, "uas_answer"))
               if m.startswith("INVITE "))
    assert "Session-Expires" not in inv and "timer" not in inv


def test_session_interval_too_small(daemon_factory, tmp_path):
    """A session timer below calls.min_se (90 s by default) is refused
    with 422 and our Min-SE, after authentication; the core sees
    nothing."""
    from sipauth import Credentials
    e = Edge(daemon_factory, tmp_path)
    extra = "Supported: timer\r\nSession-Expires: 30\r\n"
    with SipUA(e.d) as ua:
        ruri = "sip:2000@%s" % ua.target
        first = ua.transact(ua.build("INVITE", "1001", ruri=ruri,
                                     to_user="2000", extra=extra))
        assert first is not None and first.status == 407, first
        cred = Credentials("1001", PW, first.challenge("MD5"), "INVITE",
                           ruri, alg="MD5")
        final = ua.transact(ua.build("INVITE", "1001", ruri=ruri,
                                     to_user="2000", extra=extra,
                                     proxy_auth=cred, cseq=2))
    assert final is not None and final.status == 422, final
    assert final.hdr("Min-SE") == "90", final
    assert e.d.events("call.attempt") == []


def test_glare_second_reinvite_gets_491_and_strangers_get_481(
        daemon_factory, tmp_path):
    """In an answered call the phone sends two re-INVITEs back to back:
    the second, while the first is still with the core, gets 491
    (RFC 3261 14.1).  A BYE with the wrong From tag, or from another
    address, gets 481 and the call survives."""
    from sipauth import Credentials
    sdp = (b"v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1"
           b"\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n")
    e = Edge(daemon_factory, tmp_path)
    uas = e.uas("uas_reinvite.xml")
    with SipUA(e.d) as ua:
        ruri = "sip:2000@%s" % ua.target
        cid, tag = "glare-%d@test" % os.getpid(), "ph1"
        ct = "Content-Type: application/sdp\r\n"

        def inv(cseq, auth=None, to_tag=None, body=sdp, uri=ruri):
            return ua.build("INVITE", "1001", ruri=uri, to_user="2000",
                            call_id=cid, cseq=cseq, from_tag=tag,
                            to_tag=to_tag, proxy_auth=auth, extra=ct,
                            body=body)
        first = ua.transact(inv(1))
        assert first.status == 407
        cred = Credentials("1001", PW, first.challenge("MD5"), "INVITE",
                           ruri, alg="MD5")
        ok = ua.transact(inv(2, auth=cred), timeout=5)
        assert ok is not None and ok.status == 200, ok
        peer = ok.to_tag()
        target = re.search(r"<([^>]+)>", ok.hdr("contact")).group(1)

        def ack(cseq):
            return ua.build("ACK", "1001", ruri=target, to_user="2000",
                            call_id=cid, cseq=cseq, from_tag=tag,
                            to_tag=peer, contact=None)
        ua.send(ack(2))
        hold = sdp + b"a=sendonly\r\n"
        ua.send(inv(3, to_tag=peer, uri=target, body=hold))
        second = ua.transact(inv(4, to_tag=peer, uri=target, body=hold))
        assert second is not None and second.status == 491, second
        # the first re-INVITE completes
        end = time.time() + 5
        got = None
        while time.time() < end and got is None:
            r = ua.recv(1)
            if r is not None and r.status == 200 and "3 INVITE" in \
                    r.hdr("cseq", ""):
                got = r
        assert got is not None
        ua.send(ack(3))
        # strangers to the dialog
        bad = ua.transact(ua.build("BYE", "1001", ruri=target,
                                   to_user="2000", call_id=cid, cseq=5,
                                   from_tag="not-the-tag", to_tag=peer,
                                   contact=None))
        assert bad is not None and bad.status == 481
        with SipUA(e.d, bind="127.0.0.2") as other:
            spoof = other.transact(other.build(
                "BYE", "1001", ruri=target, to_user="2000", call_id=cid,
                cseq=6, from_tag=tag, to_tag=peer, contact=None))
        assert spoof is not None and spoof.status == 481
        assert e.d.events("call.ended") == []
        bye = ua.transact(ua.build("BYE", "1001", ruri=target,
                                   to_user="2000", call_id=cid, cseq=7,
                                   from_tag=tag, to_tag=peer, contact=None))
        assert bye is not None and bye.status == 200
    assert finish(uas).returncode == 0
    e.d.wait_event("call.ended", lambda ev: ev["reason"] == "bye")


def test_phone_on_ipv6_calls_an_ipv4_core(daemon_factory, tmp_path):
    """RFC 5118 on the outside, IPv4 inside: each leg speaks its own
    family; our Contact towards the phone is a bracketed IPv6 literal.
    (The phone is sipauth.py: SIPp 3.6.1 writes an IPv6 digest uri
    without brackets, "sip:::1:5060", which is not a URI.)"""
    from sipauth import Credentials
    e = Edge(daemon_factory, tmp_path, host="::1")
    uas = e.uas("uas_answer.xml")
    sdp = (b"v=0\r\no=p 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\n"
           b"t=0 0\r\nm=audio 7000 RTP/AVP 0\r\n")
    with SipUA(e.d, bind="::1") as ua:
        ruri = "sip:2000@%s" % ua.target
        ct = "Content-Type: application/sdp\r\n"
        cid = "v6-%d@test" % os.getpid()
        first = ua.transact(ua.build("INVITE", "1001", ruri=ruri,
                                     to_user="2000", call_id=cid,
                                     from_tag="v6", extra=ct, body=sdp))
        assert first is not None and first.status == 407, first
        cred = Credentials("1001", PW, first.challenge("MD5"), "INVITE",
                           ruri, alg="MD5")
        ok = ua.transact(ua.build("INVITE", "1001", ruri=ruri,
                                  to_user="2000", call_id=cid, cseq=2,
                                  from_tag="v6", proxy_auth=cred, extra=ct,
                                  body=sdp), timeout=5)
        assert ok is not None and ok.status == 200, ok
        assert re.match(r"<sip:\[::1\]:%d>" % e.d.port, ok.hdr("contact"))
        target = ok.hdr("contact")[1:-1]
        dlg = dict(ruri=target, to_user="2000", call_id=cid, from_tag="v6",
                   to_tag=ok.to_tag(), contact=None)
        ua.send(ua.build("ACK", "1001", cseq=2, **dlg))
        bye = ua.transact(ua.build("BYE", "1001", cseq=3, **dlg))
        assert bye is not None and bye.status == 200
    assert finish(uas).returncode == 0
    inv = next(m for m in received(messages(tmp_path, "uas_answer"))
               if m.startswith("INVITE "))
    assert "::1" not in inv.split("\n\n")[0]
    e.d.wait_event("call.ended", lambda ev: ev["reason"] == "bye")


def test_ring_timeout_cancels_and_answers_480(daemon_factory, tmp_path):
    e = Edge(daemon_factory, tmp_path, calls={"ring_timeout": "5s"})
    uas = e.uas("uas_ring_cancel.xml")
    started = time.time()
    r = e.phone("call_ringout_uac.xml", timeout=30)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    assert 4.5 < time.time() - started < 12
    assert finish(uas).returncode == 0      # it got our CANCEL
    ev = e.d.wait_event("call.failed",
                        lambda ev: ev["reason"] == "ring_timeout")
    assert ev["status"] == 480


def test_reliable_provisional_is_pracked_by_sipwall(daemon_factory, tmp_path):
    """RFC 3262 across the B2BUA: sipwall offers 100rel to the core and
    PRACKs its reliable 180 itself; the phone gets an ordinary 180
    (no Require, no RSeq) and the call completes."""
    e = Edge(daemon_factory, tmp_path)
    uas = e.uas("uas_answer_100rel.xml")
    r = e.phone("call_auth_uac.xml")
    assert r.returncode == 0, sipp_report(r, tmp_path)
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    ringing = [m for m in received(messages(tmp_path, "call_auth_uac"))
               if m.startswith("SIP/2.0 180")]
    assert ringing, "the phone heard no ringing"
    for m in ringing:
        assert "RSeq" not in m and "100rel" not in m, m
    pracks = [m for m in received(messages(tmp_path, "uas_answer_100rel"))
              if m.startswith("PRACK ")]
    assert len(pracks) == 1


def test_cancelled_reinvite_is_cancelled_on_the_other_leg(daemon_factory,
                                                          tmp_path):
    """The phone CANCELs a re-INVITE that is still ringing at the core:
    it gets 200 and 487, the core gets a CANCEL matching our re-INVITE
    (branch, CSeq, tags), and the call goes on until BYE."""
    from sipauth import Credentials
    sdp = (b"v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1"
           b"\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n")
    e = Edge(daemon_factory, tmp_path)
    uas = e.uas("uas_reinvite_cancel.xml")
    ct = "Content-Type: application/sdp\r\n"
    with SipUA(e.d) as ua:
        ruri = "sip:2000@%s" % ua.target
        cid = "rcancel-%d@test" % os.getpid()
        first = ua.transact(ua.build("INVITE", "1001", ruri=ruri,
                                     to_user="2000", call_id=cid,
                                     from_tag="rc", extra=ct, body=sdp))
        cred = Credentials("1001", PW, first.challenge("MD5"), "INVITE",
                           ruri, alg="MD5")
        ok = ua.transact(ua.build("INVITE", "1001", ruri=ruri,
                                  to_user="2000", call_id=cid, cseq=2,
                                  from_tag="rc", proxy_auth=cred, extra=ct,
                                  body=sdp), timeout=5)
        assert ok is not None and ok.status == 200, ok
        target = ok.hdr("contact")[1:-1]
        dlg = dict(ruri=target, to_user="2000", call_id=cid, from_tag="rc",
                   to_tag=ok.to_tag(), contact=None)
        ua.send(ua.build("ACK", "1001", cseq=2, **dlg))
        br = "z9hG4bKreinv%d" % os.getpid()
        ua.send(ua.build("INVITE", "1001", cseq=3, br=br, extra=ct,
                         body=sdp, **dict(dlg, contact=True)))
        ringing = None
        end = time.time() + 5
        while ringing is None and time.time() < end:
            r = ua.recv(1)
            if r is not None and r.status == 180:
                ringing = r
        assert ringing is not None
        c200 = ua.transact(ua.build("CANCEL", "1001", cseq=3, br=br, **dlg))
        assert c200 is not None and c200.status == 200
        r487 = None
        end = time.time() + 5
        while r487 is None and time.time() < end:
            r = ua.recv(1)
            if r is not None and r.status == 487:
                r487 = r
        assert r487 is not None
        bye = ua.transact(ua.build("BYE", "1001", cseq=4, **dlg))
        assert bye is not None and bye.status == 200
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    core_in = received(messages(tmp_path, "uas_reinvite_cancel"))
    reinv = [m for m in core_in if m.startswith("INVITE ")][1]
    cancel = next(m for m in core_in if m.startswith("CANCEL "))
    branch = re.search(r"branch=([^;\s]+)", reinv).group(1)
    assert "branch=" + branch in cancel
    assert re.search(r"^To: .*;tag=", cancel, re.M), cancel
    e.d.wait_event("call.ended", lambda ev: ev["reason"] == "bye")
