"""Toll fraud and call diversion stopped at the edge (issue 5: FRAUD1
destination policy, FRAUD2 per-account limits, FRAUD3 diversion),
driven by SIPp as a phone holding a real password and SIPp as the PBX:

    phone (SIPp UAC) -> sipwall internet listener -> core PBX (SIPp UAS)

The dial plan is the default one (NANP: country code 1, international
prefixes 011 and 00, national prefix 1, 4-digit extensions, emergency
911 and 112); the default group may not call abroad, premium rate or
the high-risk list (data/high-risk-prefixes.txt).
"""
import json
import os
import re
import signal
import subprocess
import time

import pytest

import swtest
from test_calls import (CORE, Edge, finish, messages, received,
                        sipp_report)

PW = "Caller-pass-81x"
NO_LIMITS = {"max_concurrent": 0, "calls_per_minute": 0,
             "calls_per_day": 0, "minutes_per_day": 0}


def group(**kw):
    g = {"name": "default"}
    g.update(NO_LIMITS)
    g.update(kw)
    return g


def policy(*groups, **kw):
    p = {"groups": list(groups) or [group()]}
    p.update(kw)
    return {"policy": p}


def edge(factory, tmp, conf=None, **kw):
    return Edge(factory, tmp, conf_extra=conf or policy(), **kw)


def refused(e, dial, ruri=None, user="1001", pw=PW, tag="r"):
    """Place a call the edge should refuse; the final status it got."""
    ruri = ruri or "sip:%s@%s:%d" % (dial, e.d.uri_host(), e.d.port)
    inf = e.tmp / ("inf-%s.csv" % tag)
    inf.write_text("SEQUENTIAL\n%s;%s;%s;%s\n" % (user, pw, dial, ruri))
    for f in e.tmp.glob("call_refused_uac_*_messages.log"):
        f.unlink()
    r = swtest.sipp("call_refused_uac.xml", e.d, calls=1, rate=10,
                    extra=["-inf", str(inf), "-trace_msg"], cwd=e.tmp,
                    timeout=20, local_ip=e.d.host)
    assert r.returncode == 0, sipp_report(r, e.tmp)
    finals = [m for m in received(messages(e.tmp, "call_refused_uac"))
              if re.match(r"SIP/2.0 [3-6]\d\d", m)
              and "CSeq: 2 INVITE" in m]
    assert finals, messages(e.tmp, "call_refused_uac")
    return int(finals[-1].split()[1]), finals[-1]


def allowed(e, dials, user="1001", hold=0):
    """Calls the core must receive and answer, one per dialled string;
    returns the Request-URI users the core saw."""
    for f in e.tmp.glob("uas_answer_*_messages.log"):
        f.unlink()
    uas = e.uas("uas_answer.xml", calls=len(dials))
    for d in dials:
        r = e.phone("call_auth_uac.xml", dial=d, user=user,
                    extra=["-d", str(hold)] if hold else ())
        assert r.returncode == 0, (d, sipp_report(r, e.tmp))
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, e.tmp)
    return [re.match(r"INVITE sip:([^@]+)@", m).group(1)
            for m in received(messages(e.tmp, "uas_answer"))
            if m.startswith("INVITE ")]


def hold_call(e, dial, ms, timeout="20s"):
    """A call from 1001 to dial held for ms, in the background."""
    inf = e.tmp / ("held-%s.csv" % dial)
    inf.write_text("SEQUENTIAL\n1001;%s;%s\n" % (PW, dial))
    return subprocess.Popen(
        ["sipp", "-sf", os.path.join(swtest.SCENARIOS, "call_auth_uac.xml"),
         "-i", "127.0.0.1", "-p", "0", "-m", "1", "-d", str(ms),
         "-inf", str(inf), "-nostdin", "-timeout", timeout,
         "-timeout_error", "127.0.0.1:%d" % e.d.port],
        cwd=str(e.tmp), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def core_saw_nothing(e):
    return [m for m in received(messages(e.tmp, "uas_answer"))
            if m.startswith("INVITE ")] == []


def blocked(e, n):
    """The first n call.blocked events (waits for them)."""
    deadline = time.time() + 5
    while time.time() < deadline:
        evs = e.d.events("call.blocked")
        if len(evs) >= n:
            return evs
        time.sleep(0.05)
    raise AssertionError(e.d.events())


# --- FRAUD1: destinations ---------------------------------------------

TRICKS = [
    # premium rate (NANP 900), every way of writing it
    ("19005551234", None, "premium", "+19005551234"),
    ("+19005551234", None, "premium", "+19005551234"),
    ("+1-900-555-1234", None, "premium", "+19005551234"),
    ("1(900)555.1234", None, "premium", "+19005551234"),
    ("%2B19005551234", None, "premium", "+19005551234"),
    ("9005551234", None, "premium", "+19005551234"),
    # an IRSF favourite: International Networks +882
    ("011882123456", None, "high_risk", "+882123456"),
    ("00882123456", None, "high_risk", "+882123456"),
    ("+882123456", None, "high_risk", "+882123456"),
    ("011-882-123-456", None, "high_risk", "+882123456"),
    ("%30%311882123456", None, "high_risk", "+882123456"),
    ("+882123456", "tel:+882-123-456", "high_risk", "+882123456"),
    ("+882123456", "sip:+882123456@{host};user=phone", "high_risk",
     "+882123456"),
    # a one-ring area code that looks domestic
    ("18765550100", None, "high_risk", "+18765550100"),
    # call forwarding to it set up from the phone (GSM/PBX code, the
    # '#' escaped as a SIP URI user must have it)
    ("*72*011882123%23", None, "high_risk", "*72*011882123#"),
    # abroad without permission
    ("011442071234567", None, "international", "+442071234567"),
    ("0033142345678", None, "international", "+33142345678"),
]


def test_premium_high_risk_and_international_refused_in_every_spelling(
        daemon_factory, tmp_path):
    e = edge(daemon_factory, tmp_path)
    uas = e.uas("uas_answer.xml", extra=["-timeout", "60s"])
    for i, (dial, ruri, reason, to) in enumerate(TRICKS):
        if ruri:
            ruri = ruri.format(host="%s:%d" % (e.d.uri_host(), e.d.port))
        st, resp = refused(e, dial, ruri, tag=str(i))
        assert st == 403, (dial, resp)
        assert "Destination Not Allowed" in resp.split("\n")[0]
        evs = blocked(e, i + 1)
        ev = evs[i]
        assert ev["reason"] == reason, (dial, ev)
        assert ev["to"] == to, (dial, ev)
        assert ev["account"] == "1001" and ev["src"] == "127.0.0.1", ev
        assert ev["status"] == 403 and ev["rule"], ev
    uas.kill()
    finish(uas)
    assert core_saw_nothing(e)
    assert e.d.events("call.attempt") == []


def test_allowed_national_emergency_and_internal_calls_go_through(
        daemon_factory, tmp_path):
    e = edge(daemon_factory, tmp_path)
    seen = allowed(e, ["2000", "12125551234", "2125551234", "911", "112"])
    assert seen == ["2000", "12125551234", "2125551234", "911", "112"]
    em = e.d.wait_event("call.emergency")
    assert em["account"] == "1001" and em["to"] in ("911", "112"), em
    assert e.d.events("call.blocked") == []


def test_group_permissions_and_lists(daemon_factory, tmp_path):
    """An international group may call abroad but not the high-risk
    list; its own allow list opens one prefix of the list, its deny
    list closes a domestic one; the emergency number beats every rule,
    also a deny list that covers it."""
    conf = policy(group(international=True, allow=["+8821"],
                        deny=["+1212", "+1911", "+911"]))
    e = edge(daemon_factory, tmp_path, conf)
    st, _ = refused(e, "011882555666", tag="a")
    assert st == 403
    st, _ = refused(e, "12125551234", tag="b")
    assert st == 403
    ev = blocked(e, 2)
    assert ev[0]["reason"] == "high_risk" and "882" in ev[0]["rule"], ev
    assert ev[1]["reason"] == "destination_denied" \
        and ev[1]["rule"] == "deny +1212", ev
    seen = allowed(e, ["011442071234567", "0118821234", "911"])
    assert seen == ["011442071234567", "0118821234", "911"]


def test_outside_line_code_does_not_hide_a_number(daemon_factory,
                                                   tmp_path):
    """PBXs that want 9 before an outside number: 9 011 882... is the
    high-risk +882..., not the domestic +1 901 188 2...; 9 1 212...
    is an ordinary national call and 9 911 an emergency call."""
    conf = policy(group())
    conf["dialplan"] = {"access_code": "9"}
    e = edge(daemon_factory, tmp_path, conf)
    st, _ = refused(e, "9011882123456")
    assert st == 403
    ev = blocked(e, 1)[0]
    assert ev["reason"] == "high_risk" and ev["to"] == "+882123456", ev
    assert allowed(e, ["912125551234", "9911"]) == ["912125551234", "9911"]
    e.d.wait_event("call.emergency")


def test_invalid_dial_strings_get_484(daemon_factory, tmp_path):
    e = edge(daemon_factory, tmp_path)
    # 16 digits: longer than any E.164 number
    st, _ = refused(e, "0114412345678901234", tag="a")
    assert st == 484
    ev = blocked(e, 1)[0]
    assert ev["reason"] == "invalid_number", ev


# --- FRAUD2: limits per account ---------------------------------------

def test_burst_over_the_per_minute_limit_gets_503(daemon_factory, tmp_path):
    e = edge(daemon_factory, tmp_path, policy(group(calls_per_minute=3)))
    assert allowed(e, ["2000", "2001", "2002"]) == ["2000", "2001", "2002"]
    st, resp = refused(e, "2003")
    assert st == 503 and "Retry-After: 60" in resp, resp
    ev = e.d.wait_event("fraud.limit")
    assert ev["reason"] == "per_minute" and ev["limit"] == 3 \
        and ev["value"] == 3 and ev["account"] == "1001", ev
    assert ev["rule"] == "calls_per_minute 3 of group default" \
        and ev["to"] == "2003" and ev["src"] == "127.0.0.1", ev
    # emergency calls are never refused by a limit
    assert allowed(e, ["911"]) == ["911"]


def test_extra_concurrent_call_gets_486(daemon_factory, tmp_path):
    e = edge(daemon_factory, tmp_path, policy(group(max_concurrent=1)))
    uas = e.uas("uas_answer.xml", calls=2)
    held = hold_call(e, "2000", 3000, timeout="20s")
    e.d.wait_event("call.answered")
    st, resp = refused(e, "2001")
    assert st == 486, resp
    ev = e.d.wait_event("fraud.limit")
    assert ev["reason"] == "concurrent" and ev["limit"] == 1, ev
    assert finish(held).returncode == 0
    # the held call ended: its place is free again
    assert e.phone("call_auth_uac.xml", dial="2002").returncode == 0
    assert finish(uas).returncode == 0


def hours_excluding_now():
    """A daily window that starts two hours from now (local time)."""
    t = time.localtime(time.time() + 2 * 3600)
    return "daily %02d:00-%02d:30" % (t.tm_hour, t.tm_hour)


def test_call_outside_the_allowed_hours_gets_403(daemon_factory, tmp_path):
    e = edge(daemon_factory, tmp_path,
             policy(group(hours=[hours_excluding_now()])))
    st, resp = refused(e, "12125551234")
    assert st == 403 and "Outside Allowed Hours" in resp, resp
    ev = blocked(e, 1)[0]
    assert ev["reason"] == "time_window", ev
    assert allowed(e, ["911"]) == ["911"]       # emergency: any time


def test_day_limit_survives_a_restart_and_unblock_resets_it(
        daemon_factory, tmp_path):
    e = edge(daemon_factory, tmp_path, policy(group(calls_per_day=2)))
    assert allowed(e, ["2000", "2001"]) == ["2000", "2001"]
    st, resp = refused(e, "2002", tag="a")
    assert st == 403 and "Daily Call Limit" in resp, resp
    # the counters reach the store within a second or two
    deadline = time.time() + 5
    while time.time() < deadline:
        out = json.loads(e.d.cli("account", "limits", "1001", "-c",
                                 e.d.conf, "--json").stdout)
        if out["used"]["calls_day"] == 2:
            break
        time.sleep(0.2)
    assert out["used"]["calls_day"] == 2 and \
        out["limits"]["calls_per_day"] == 2, out
    e.d.stop()
    e.d.start()
    st, resp = refused(e, "2002", tag="b")
    assert st == 403, resp
    lim = [ev for ev in e.d.events("fraud.limit")]
    assert lim[-1]["reason"] == "per_day" and lim[-1]["value"] == 2, lim
    e.d.cli("account", "unblock", "1001")
    e.d.wait_event("admin.action", lambda ev: ev.get("reason") ==
                   "usage_reset", timeout=5)
    for f in tmp_path.glob("uas_answer_*_messages.log"):
        f.unlink()
    assert allowed(e, ["2002"]) == ["2002"]


def test_daily_minutes_end_a_call_in_progress(daemon_factory, tmp_path):
    """minutes_per_day 1: a call held for longer is hung up when the
    account's minute is used, with the reason in the event."""
    e = edge(daemon_factory, tmp_path, policy(group(minutes_per_day=1)))
    uas = e.uas("uas_answer.xml")
    long_call = hold_call(e, "2000", 70000, timeout="90s")
    ev = e.d.wait_event("call.ended", timeout=75)
    assert ev["reason"] == "minutes_per_day" and ev["by"] == "sbc", ev
    assert 59 <= ev["duration_s"] <= 62, ev
    long_call.kill()
    finish(long_call)
    uas.kill()
    finish(uas)
    st, resp = refused(e, "2001")
    assert st == 403 and "Daily Minutes" in resp, resp
    lim = e.d.wait_event("fraud.limit")
    assert lim["reason"] == "minutes_per_day", lim


# --- FRAUD3: transfers, redirects, forwarding ---------------------------

def refer_call(e, target, tag):
    inf = e.tmp / ("refer-%s.csv" % tag)
    inf.write_text("SEQUENTIAL\n1001;%s;2000;%s\n" % (PW, target))
    uas = e.uas("uas_refer.xml")
    r = swtest.sipp("call_refer_uac.xml", e.d, calls=1, rate=10,
                    extra=["-inf", str(inf), "-trace_msg"], cwd=e.tmp,
                    timeout=20, local_ip=e.d.host)
    assert r.returncode == 0, sipp_report(r, e.tmp)
    assert finish(uas).returncode == 0, sipp_report(uas, e.tmp)
    got = [m for m in received(messages(e.tmp, "call_refer_uac"))
           if "CSeq: 3 REFER" in m]
    core = [m for m in received(messages(e.tmp, "uas_refer"))
            if m.startswith("REFER ")]
    for f in list(e.tmp.glob("call_refer_uac_*_messages.log")) + \
            list(e.tmp.glob("uas_refer_*_messages.log")):
        f.unlink()
    return int(got[-1].split()[1]), core


def test_refer_to_external_refused_internal_passed(daemon_factory,
                                                  tmp_path):
    e = edge(daemon_factory, tmp_path)
    st, core = refer_call(e, "0114420712345", "ext")
    assert st == 403 and core == []
    ev = e.d.wait_event("diversion.refused")
    assert ev["reason"] == "refer" and ev["to"] == "+4420712345" \
        and ev["account"] == "1001", ev
    # even a domestic number is outside the organisation
    st, core = refer_call(e, "12125551234", "dom")
    assert st == 403 and core == []
    st, core = refer_call(e, "2001", "int")
    assert st == 202 and len(core) == 1, core
    # the core sees a Refer-To of its own network, and who referred
    assert re.search(r"^Refer-To: <sip:2001@%s:\d+>" % CORE, core[0],
                     re.M), core[0]
    assert "Referred-By: <sip:1001@sipwall>" in core[0]
    assert e.d.wait_event("diversion.allowed")["to"] == "2001"


def test_redirect_from_core_followed_only_to_allowed(daemon_factory,
                                                    tmp_path):
    e = edge(daemon_factory, tmp_path)
    uas = e.uas("uas_redirect.xml", extra=["-key", "target",
                                           "011882123456"])
    st, resp = refused(e, "2000")
    assert st == 403, resp
    ev = e.d.wait_event("diversion.refused")
    assert ev["reason"] == "redirect" and ev["to"] == "+882123456", ev
    uas.kill()
    finish(uas)
    for f in tmp_path.glob("uas_redirect_*_messages.log"):
        f.unlink()
    # a redirect inside the organisation is followed by the edge
    uas = e.uas("uas_redirect.xml", extra=["-key", "target", "2001"])
    r = e.phone("call_auth_uac.xml", dial="2000")
    assert r.returncode == 0, sipp_report(r, tmp_path)
    assert finish(uas).returncode == 0
    invites = [m for m in received(messages(tmp_path, "uas_redirect"))
               if m.startswith("INVITE ")]
    assert [re.match(r"INVITE sip:([^@]+)@", m).group(1)
            for m in invites] == ["2000", "2001"], invites
    # the same dialog, asked again (RFC 3261 8.1.3.4)
    assert len({re.search(r"Call-ID: (\S+)", m).group(1)
                for m in invites}) == 1
    assert e.d.wait_event("diversion.allowed")["reason"] == "redirect"


# --- reload -------------------------------------------------------------

def test_reload_changes_policy_without_dropping_calls(daemon_factory,
                                                      tmp_path):
    e = edge(daemon_factory, tmp_path, policy(group(international=False)))
    st, _ = refused(e, "011442071234567", tag="a")
    assert st == 403
    # a call in progress across the reload
    uas = e.uas("uas_answer.xml", calls=2)
    held = hold_call(e, "2000", 4000, timeout="20s")
    e.d.wait_event("call.answered")
    text = open(e.d.conf).read()
    assert "international: false" in text
    text = text.replace("international: false", "international: true")
    with open(e.d.conf, "w") as f:
        f.write(text)
    os.kill(e.d.pid, signal.SIGHUP)
    ev = e.d.wait_event("config.changed")
    assert ev["reason"] == "reload", ev
    r = e.phone("call_auth_uac.xml", dial="011442071234567")
    assert r.returncode == 0, sipp_report(r, tmp_path)
    h = finish(held)
    assert h.returncode == 0, sipp_report(h, tmp_path)
    assert finish(uas).returncode == 0
    deadline = time.time() + 5
    while len(e.d.events("call.ended")) < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert len(e.d.events("call.ended")) == 2, e.d.events("call.ended")
    # a broken config changes nothing
    with open(e.d.conf, "a") as f:
        f.write("policy_typo: 1\n")
    os.kill(e.d.pid, signal.SIGHUP)
    e.d.wait_event("config.rejected")
    assert e.d.proc.poll() is None


def test_reload_sees_a_changed_high_risk_list(daemon_factory, tmp_path):
    """The list file is part of the policy: a reload where only its
    contents changed applies it; the same bytes again change nothing; a
    list that cannot be read refuses the reload and keeps the old one."""
    lst = tmp_path / "high-risk.txt"
    lst.write_text("882|irsf|International Networks|test\n")
    e = edge(daemon_factory, tmp_path, policy(
        group(international=True), high_risk_file=str(lst)))
    assert allowed(e, ["011442071234567"]) == ["011442071234567"]
    lst.write_text("882|irsf|International Networks|test\n"
                   "4420|test|London, for this test|test\n")
    p = e.d.cli("reload", "--json")
    out = json.loads(p.stdout)
    assert out["outcome"] == "applied" and out["changed"] == 1, out
    ev = e.d.wait_event("config.changed")
    assert "policy.high_risk_file.contents: sha256:" in ev["detail"], ev
    st, _ = refused(e, "011442071234567", tag="a")
    assert st == 403
    assert blocked(e, 1)[0]["reason"] == "high_risk"
    out = json.loads(e.d.cli("reload", "--json").stdout)
    assert out["outcome"] == "unchanged", out
    lst.unlink()
    p = e.d.cli("reload", "--json", check=False)
    assert p.returncode != 0 and "high-risk.txt" in p.stderr, p.stderr
    assert "No such file" in p.stderr, p.stderr
    st, _ = refused(e, "011442071234567", tag="b")   # the old list stays
    assert st == 403


def test_forwarded_call_to_the_trunk_checked_as_the_diverting_account(
        daemon_factory, tmp_path):
    """The PBX forwards a call of account 1001 to a premium number (a
    call-forwarding toll fraud): refused, whether the forward is told by
    Diversion or by History-Info; to an ordinary number abroad (1001's
    group may call abroad) it goes out on the trunk."""
    from test_trunks import TRUNK, TrunkEdge
    e = TrunkEdge(daemon_factory, tmp_path, conf_extra=policy(
        group(international=True)))
    e.d.add_account("1001", PW)
    time.sleep(1.5)                 # the daemon picks up the new account

    def forward(number, header):
        return subprocess.run(
            ["sipp", "-sf", os.path.join(swtest.SCENARIOS,
                                         "core_divert_uac.xml"),
             "-i", CORE, "-p", "0", "-s", number, "-key", "diversion",
             header, "-m", "1", "-nostdin", "-timeout", "20s",
             "-timeout_error", "-trace_msg", "127.0.0.1:%d" % e.core_port],
            cwd=str(tmp_path), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=40)

    r = forward("00449012345678",
                "Diversion: <sip:1001@%s>;reason=unconditional" % CORE)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    ev = e.d.wait_event("diversion.refused")
    assert ev["reason"] == "diversion" and ev["account"] == "1001" \
        and ev["to"] == "+449012345678" and ev["status"] == 403, ev
    r = forward("00449012345678",
                "History-Info: <sip:1001@%s>;index=1, "
                "<sip:00449012345678@%s>;index=1.1" % (CORE, CORE))
    assert r.returncode == 0, sipp_report(r, tmp_path)
    ev = e.d.wait_event("diversion.refused",
                        lambda x: x["reason"] == "history_info")
    assert ev["to"] == "+449012345678", ev
    prov = e.sipp_bg("trunk_uas_challenge.xml", TRUNK, e.provider_port)
    r = forward("004930555000",
                "Diversion: <sip:1001@%s>;reason=no-answer" % CORE)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    p = finish(prov)
    assert p.returncode == 0, sipp_report(p, tmp_path)
    ev = e.d.wait_event("diversion.allowed")
    assert ev["account"] == "1001" and ev["to"] == "+4930555000", ev
    sent = [m for m in received(messages(tmp_path, "trunk_uas_challenge"))
            if m.startswith("INVITE ")]
    assert sent and "00449012345678" not in "".join(sent)
