"""The control socket, part two (OPS1, OBS6): what the running daemon
knows that the store does not -- the live calls of its workers
(`calls --live`), the top offenders of the last minutes and why (`top`),
the evidence it keeps of a source or a call (`evidence`), the last
events (`recent`), the alerts and key rates (`alerts`, `rates`; the
webhook side is in test_alerts.py) -- and `account unlock`, which lifts
a brute-force lock that lives only in the daemon's memory.

Calls: SIPp on both sides as in test_calls.py and test_media.py.
Attacks: SIPVicious's svcrack (from 127.0.0.1, as it ignores -b) and
wrong passwords from other loopback addresses.
"""
import json
import os
import shutil
import socket
import stat
import subprocess
import time

import pytest

import swtest
from sipauth import SipUA, source
from test_calls import CORE, PW, Edge, finish, sipp_report
from test_control import ctl, phone_bg
from test_media import (EDGE_IN, MediaEdge, RtpPeer, done, got,
                        invites, media_conf, ok_to_invite, reap, sdp,
                        srtp_key_line, wait_for)

NEUTRAL = "Yealink SIP-T46S 66.86.0.15"


def live_calls(d, *extra):
    return ctl(d, "calls", "--live", *extra)


# --- calls --live ------------------------------------------------------

def test_calls_live_not_anchored_zones_and_duration(daemon_factory, tmp_path):
    """A phone's call to the core, media not anchored: one call, up, from
    the internet zone to the core zone, encryption "none" both ways, its
    duration growing; gone once hung up.  Without --live, `calls` is
    still the store's listing."""
    e = Edge(daemon_factory, tmp_path, conf_extra={
        "media": {"anchor": False},
        "zones": swtest.zones(
            internet=swtest.deep_merge({"srtp": "off"},
                                       swtest.LENIENT_RATES),
            core={"auth": "none", "allow": [CORE + "/32"]})})
    d = e.d
    assert live_calls(d) == {"calls": [], "count": 0, "truncated": False,
                             "workers": 2, "workers_answered": 2}
    uas = e.uas("uas_answer.xml")
    phone = phone_bg(e, "call_auth_wait_bye_uac.xml")
    try:
        ans = d.wait_event("call.answered", timeout=10)
        r1 = live_calls(d)
        assert r1["count"] == 1 and len(r1["calls"]) == 1, r1
        c = r1["calls"][0]
        assert c["call_id"] == ans["call_id"], (c, ans)
        assert c["state"] == "up" and c["direction"] == "outbound", c
        assert c["account"] == "1001" and c["from"] == "1001", c
        assert c["to"] == "2000", c
        assert c["src"].startswith("127.0.0.1:"), c
        assert (c["zone_a"], c["zone_b"]) == ("internet", "core"), c
        assert (c["enc_a"], c["enc_b"]) == ("none", "none"), c
        assert c["answered_ms"] >= c["started_ms"] > 0, c
        for k in ("loss_a", "loss_b", "jitter_a_ms", "jitter_b_ms"):
            assert c[k] == 0, (k, c)
        time.sleep(2.2)
        c2 = live_calls(d)["calls"][0]
        assert c2["duration_s"] >= c["duration_s"] + 2, (c, c2)
        # a filter, and the table for humans
        assert live_calls(d, "--account", "1002")["calls"] == []
        out = d.cli("calls", "--live").stdout
        assert "1001 -> 2000" in out and "internet/core" in out, out
        assert "none/none" in out and " up " in out, out
        # the store's listing is what it was
        rows = json.loads(d.cli("calls", "--json").stdout)
        assert [x["call_id"] for x in rows] == [ans["call_id"]], rows
        ctl(d, "hangup", ans["call_id"])
        out, _ = phone.communicate(timeout=40)
        assert phone.returncode == 0, out.decode()[-2000:]
        u = finish(uas)
        assert u.returncode == 0, sipp_report(u, tmp_path)
    finally:
        reap(phone, uas)
    d.wait_event("call.ended")
    assert live_calls(d)["calls"] == []
    assert "(no calls)" in d.cli("calls", "--live").stdout
    # usage errors
    for args in (("calls", "--live", "x"), ("calls", "--live", "-n", "3"),
                 ("calls", "--live", "--call-id")):
        p = d.cli(*args, check=False)
        assert p.returncode == 2, (args, p.stdout, p.stderr)


def test_calls_live_srtp_outside_rtp_inside(daemon_factory, tmp_path):
    """Media anchored, the phone offers SDES SRTP, the PBX plain RTP that
    it streams: the call shows enc_a "srtp" and enc_b "rtp", the PBX's
    packets counted on its side, no loss."""
    e = MediaEdge(daemon_factory, tmp_path, media=media_conf(),
                  srtp="require")
    cwd = e.run_dir("call")
    _, line = srtp_key_line()
    b = RtpPeer(CORE, mark=b"PBX")
    pbx = phone = None
    try:
        pbx = e.pbx("media_uas_answer.xml", cwd, b.port)
        phone = e.phone_start("media_call_uac.xml", cwd,
                              swtest.free_port("127.0.0.50"),
                              proto="RTP/SAVP", line=line,
                              extra=["-d", "5000"])
        wait_for(lambda: got(cwd, "media_call_uac", ok_to_invite), 10,
                 "the phone's 200 OK")
        inv = sdp(wait_for(lambda: got(cwd, "media_uas_answer", invites),
                           5, "the PBX's INVITE")[0])
        time.sleep(0.2)
        b.stream((EDGE_IN, inv["port"]), 2.0)
        time.sleep(1.5)
        c = wait_for(lambda: [x for x in live_calls(e.d)["calls"]
                              if x["packets_b"] > 10], 5,
                     "the PBX's packets counted")[0]
        assert c["state"] == "up", c
        assert (c["enc_a"], c["enc_b"]) == ("srtp", "rtp"), c
        assert (c["zone_a"], c["zone_b"]) == ("internet", "core"), c
        assert c["src"].startswith("127.0.0.50:"), c
        assert c["loss_b"] == 0 and c["jitter_b_ms"] < 50, c
        b.finish_sending()
        done(phone, cwd)
        done(pbx, cwd)
    finally:
        reap(phone, pbx)
        b.close()


# --- top, evidence, recent ---------------------------------------------

def svcrack(d, port, tmp_path):
    """svcrack against 1001 with 22 wrong guesses: banned after
    bans.auth_failures (10) failures."""
    dic = tmp_path / "passwords.txt"
    dic.write_text("\n".join("guess%d" % i for i in range(22)) + "\n")
    subprocess.run(["timeout", "6", "svcrack", "-P", str(port), "-p",
                    str(d.port), "-u", "1001", "-d", str(dic),
                    "--maximumtime=2", d.host],
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                   timeout=20)


@pytest.mark.skipif(shutil.which("svcrack") is None,
                    reason="sipvicious not installed")
def test_top_evidence_and_recent_after_svcrack(daemon_factory, tmp_path):
    d = daemon_factory(zone="internet", conf={
        "scanner": {"enabled": False}, "auth": {"algorithms": ["MD5"]}},
        accounts=[("1001", PW), ("1002", PW)],
        zones=swtest.zones(internet=swtest.LENIENT_RATES))
    # a phone elsewhere: one typo, then right
    with SipUA(d, "127.0.0.9", user_agent=NEUTRAL) as ua:
        assert ua.register("1002", "typo-Pw-1", alg="MD5")[1].status == 401
        assert ua.register("1002", PW, alg="MD5")[1].status == 200
        phone_port = ua.port
    port = swtest.free_port()
    svcrack(d, port, tmp_path)
    ban = d.wait_event("ban.added", lambda e: e["src"] == "127.0.0.1")
    assert ban["reason"] == "auth_failures"
    fails = [x for x in d.events("auth.failed") if x["src"] == "127.0.0.1"]

    # top: the attacker first, with its reasons; the phone far behind
    top = ctl(d, "top")
    assert top["window_s"] == 600
    first = top["sources"][0]
    assert first["src"] == "127.0.0.1", top
    assert first["reasons"]["auth.failed"] == len(fails), (first, fails)
    assert first["reasons"]["ban.added"] == 1, first
    assert first["count"] == len(fails) + 1, first
    assert {"src": "127.0.0.9", "count": 1,
            "reasons": {"auth.failed": 1}} == {
        k: v for k, v in [x for x in top["sources"]
                          if x["src"] == "127.0.0.9"][0].items()
        if k != "last_ms"}, top
    assert top["accounts"][0]["account"] == "1001", top
    assert top["accounts"][0]["reasons"]["auth.failed"] == len(fails)
    assert len(ctl(d, "top", "-n", "1")["sources"]) == 1
    assert ctl(d, "top", "--window", "1m")["window_s"] == 60
    out = d.cli("top").stdout
    assert "127.0.0.1" in out and "auth.failed=" in out, out

    # evidence of the attacker: its requests (wire sample of the one
    # that tipped the ban) and the decisions, nothing of the phone
    ev = ctl(d, "evidence", "127.0.0.1")
    got_ = ev["events"]
    assert got_ and all(x["src"] == "127.0.0.1" for x in got_), got_
    types = [x["type"] for x in got_]
    assert types.count("auth.failed") == len(fails), types
    assert "ban.added" in types, types
    assert [x["ts"] for x in got_] == sorted(x["ts"] for x in got_)
    assert all(x.get("user_agent") == "friendly-scanner" for x in got_
               if x["type"] == "auth.failed"), got_
    b = [x for x in got_ if x["type"] == "ban.added"][0]
    assert b["sample"].startswith("REGISTER sip:"), b
    assert "<sip:1001@127.0.0.1>" in b["sample"], b
    assert ev["truncated"] is False and ev["complete"] is True, ev
    assert ev["matched"] == len(got_) and ev["scanned"] >= len(got_)
    assert ev["oldest_ms"] > 0
    # with its port: the same; with another port: nothing
    assert len(ctl(d, "evidence", "127.0.0.1:%d" % port)["events"]) == \
        len(got_)
    assert ctl(d, "evidence", "127.0.0.1:1")["events"] == []
    # the phone's own evidence holds none of the attack
    mine = ctl(d, "evidence", "127.0.0.9")["events"]
    assert mine and {x["src"] for x in mine} == {"127.0.0.9"}, mine
    assert {x["sport"] for x in mine if "sport" in x} == {phone_port}
    assert "ban.added" not in [x["type"] for x in mine]
    # by Call-ID
    cid = [x for x in mine if x["type"] == "auth.failed"][0]["call_id"]
    by_cid = ctl(d, "evidence", cid, "--call-id")["events"]
    assert by_cid and all(x["call_id"] == cid for x in by_cid), by_cid
    assert {x["type"] for x in by_cid} >= {"auth.failed", "auth.ok"}
    # --out: JSON lines for a ticket, 0600
    path = tmp_path / "incident.jsonl"
    p = d.cli("evidence", "127.0.0.1", "--out", str(path))
    assert "%d events written" % len(got_) in p.stdout, p.stdout
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert [json.loads(x) for x in lines] == got_
    out = d.cli("evidence", "127.0.0.1").stdout
    assert "ban.added" in out and "| REGISTER sip:" in out, out
    assert "\\r\\n" in out          # the sample's CR LF, escaped

    # recent: the last events, newest last, by severity
    rec = ctl(d, "recent", "-n", "5")["events"]
    assert len(rec) == 5 and [x["ts"] for x in rec] == sorted(
        x["ts"] for x in rec)
    warn = ctl(d, "recent", "-n", "1000", "--min-severity", "warning")
    assert warn["events"] and all(
        x["sev"] in ("emerg", "alert", "crit", "err", "warning")
        for x in warn["events"]), warn
    assert "auth.ok" not in [x["type"] for x in warn["events"]]
    assert ctl(d, "recent", "--min-severity", "4")["events"] == \
        warn["events"][-100:]
    assert "auth.failed" in d.cli("recent").stdout

    # usage errors and refusals
    for args in (("evidence",), ("evidence", "a", "b"),
                 ("evidence", "127.0.0.1", "-n", "20000"),
                 ("recent", "-n", "0"), ("recent", "-n", "5000"),
                 ("recent", "--min-severity", "loud"), ("top", "x"),
                 ("top", "--window", "1h"), ("top", "-n", "999"),
                 ("status", "-n", "3"), ("alerts", "-n", "65"),
                 ("rates", "-n", "2")):
        p = d.cli(*args, check=False)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
    s, f = raw_sock(d)
    with s:
        for line in ('{"cmd":"evidence","args":{}}',
                     '{"cmd":"evidence","args":{"src":"nonsense"}}',
                     '{"cmd":"evidence","args":{"src":"127.0.0.1",'
                     '"call_id":"x"}}',
                     '{"cmd":"top","args":{"n":0}}',
                     '{"cmd":"recent","args":{"min_severity":9}}'):
            s.sendall(line.encode() + b"\n")
            a = json.loads(f.readline())
            assert a["ok"] is False and a["code"] == 400, (line, a)
    # the evidence ring is in the status
    st = ctl(d, "status")["evidence"]
    assert st["events"] > 0 and st["budget"] == 8 << 20
    assert st["evicted"] == 0


def raw_sock(d):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(os.path.join(d.state, "control.sock"))
    return s, s.makefile("rb")


def test_evidence_of_ipv6_and_malformed_samples(daemon_factory):
    """A malformed request from an IPv6 peer: its wire bytes in the
    evidence of [addr]:port and of addr, none in another's."""
    d = daemon_factory(host="::1", zone="internet",
                       zones=swtest.zones(internet=swtest.LENIENT_RATES))
    with SipUA(d, "::1") as ua:
        ua.send(b"OPTIONS sip:x SIP/2.0\r\nVia: broken\r\n\x01garbage\r\n\r\n")
        ua.recv(0.5)
        port = ua.port
    d.wait_event("sip.malformed")
    for q in ("::1", "[::1]", "[::1]:%d" % port):
        got_ = ctl(d, "evidence", q)["events"]
        assert [x["type"] for x in got_] == ["sip.malformed"], (q, got_)
        assert got_[0]["sample"].startswith("OPTIONS sip:x"), got_
    assert ctl(d, "evidence", "[::1]:%d" % (port ^ 1))["events"] == []
    assert ctl(d, "evidence", "127.0.0.1")["events"] == []


# --- alerts and rates without alerts -----------------------------------

def test_alerts_and_rates_when_alerts_are_off(daemon_factory):
    """Off: nothing raised, the rates still counted (and learned)."""
    d = daemon_factory(conf={"alerts": {"enabled": False}})
    assert ctl(d, "alerts") == {"alerts": [], "enabled": False,
                                "raised": 0, "cleared": 0}
    rates = ctl(d, "rates")
    assert rates["enabled"] is False and len(rates["rates"]) == 9, rates
    assert "alerts are off" in d.cli("alerts").stdout
    out = d.cli("rates").stdout
    assert "alerts are off" in out and "reg_failures" in out, out


# --- account unlock ----------------------------------------------------

def test_account_unlock_lets_a_locked_account_register(daemon_factory):
    """A distributed brute force locks 1001 (bruteforce.failures: 6);
    its right password from a new source is refused; `sipwall account
    unlock 1001` lifts the lock in the running daemon at once."""
    d = daemon_factory(zone="internet", conf={
        "bruteforce": {"failures": 6}},
        accounts=[("1001", PW), ("1002", PW)],
        zones=swtest.zones(internet=swtest.LENIENT_RATES))
    for n in range(1, 8):
        with SipUA(d, source(n), user_agent=NEUTRAL) as ua:
            r = ua.register("1001", "guess-%d-Pw" % n, expires=300)[1]
            assert r is not None and r.status == 401
    d.wait_event("account.locked", lambda e: e["account"] == "1001")
    with SipUA(d, "127.0.2.1", user_agent=NEUTRAL) as ua:
        assert ua.register("1001", PW, expires=300)[1].status == 401
        p = d.cli("account", "unlock", "1001")
        assert "1001@sipwall: brute-force lock lifted in the running " \
            "daemon" in p.stdout, p.stdout
        ev = d.wait_event("account.unlocked")
        assert ev["account"] == "1001" and ev["reason"] == "admin", ev
        assert ev["actor"] == "uid:%d" % os.geteuid()
        act = d.wait_event("admin.action",
                           lambda x: x["command"] == "account_unlock")
        assert act["target"] == "1001@sipwall"
        assert ua.register("1001", PW, expires=300)[1].status == 200
    # again: nothing to lift; over the socket too
    assert "not locked" in d.cli("account", "unlock", "1001").stdout
    s, f = raw_sock(d)
    with s:
        s.sendall(b'{"cmd":"account","args":{"action":"unlock",'
                  b'"user":"1002@sipwall"}}\n')
        a = json.loads(f.readline())
        assert a["ok"] and a["result"] == {"account": "1002",
                                           "unlocked": False,
                                           "known": False}, a
        s.sendall(b'{"cmd":"account","args":{"action":"disable",'
                  b'"user":"1002"}}\n')
        assert json.loads(f.readline())["code"] == 400
    p = d.cli("account", "unlock", "nobody", check=False)
    assert p.returncode == 1 and "not found" in p.stderr, p.stderr
    # no daemon: said, not an error
    d.stop()
    p = d.cli("account", "unlock", "1001")
    assert "no daemon running" in p.stdout, p.stdout
