"""The control socket (issue 7, OPS1): `sipwall` talking to the running
daemon over state_dir/control.sock -- status, lockdown, live bans,
registrations and kick, hang-ups, events --follow -- and the protocol's
own rules (0600, one JSON object per line, errors that keep the
connection).  Calls are driven by SIPp on both sides as in test_calls.py:

    phone (SIPp UAC, 127.0.0.1) -> sipwall internet listener
        -> sipwall core listener -> core PBX (SIPp UAS, 127.0.0.10)
"""
import json
import os
import re
import socket
import stat
import subprocess
import time

import swtest
from sipauth import SipUA
from test_calls import CORE, Edge, finish, sipp_report
from test_fraud import allowed, group, policy, refused

PW = "Caller-pass-81x"
INTL = "011442079460000"        # London, through the NANP dial plan


def ctl(d, *args, check=True):
    """`sipwall ARGS --json` against d; the parsed answer."""
    p = d.cli(*args, "--json", check=check)
    return json.loads(p.stdout) if p.returncode == 0 else p


def sock_path(d):
    return os.path.join(d.state, "control.sock")


def raw(d):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sock_path(d))
    return s, s.makefile("rb")


def ask(s, f, line):
    s.sendall(line if isinstance(line, bytes) else line.encode())
    return json.loads(f.readline())


def edge_daemon(factory, **kw):
    conf = swtest.deep_merge({}, swtest.LENIENT)
    swtest.deep_merge(conf, kw.pop("conf", {}))
    return factory(zone="internet", conf=conf, **kw)


def phone_bg(e, scenario, dial="2000", extra=()):
    """The phone (SIPp UAC as 1001) in the background."""
    inf = e.tmp / ("bg-%s-%s.csv" % (scenario, dial))
    inf.write_text("SEQUENTIAL\n1001;%s;%s\n" % (PW, dial))
    return subprocess.Popen(
        ["sipp", "-sf", os.path.join(swtest.SCENARIOS, scenario),
         "-i", "127.0.0.1", "-p", "0", "-m", "1", "-inf", str(inf),
         "-nostdin", "-timeout", "30s", "-timeout_error", "-trace_msg",
         "-trace_err"] + list(extra) + ["127.0.0.1:%d" % e.d.port],
        cwd=str(e.tmp), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


# --- the socket and the protocol ---------------------------------------

def test_status_fields_and_socket_mode(daemon_factory):
    d = daemon_factory()
    st = os.lstat(sock_path(d))
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    s = ctl(d, "status")
    assert re.fullmatch(r"\d+\.\d+\.\d+", s["version"])
    assert s["node"] == "test-node" and s["workers"] == 2
    assert s["pid"] == d.pid and s["uptime_s"] >= 0
    assert s["lockdown"] is False
    assert s["calls"]["active"] == 0
    assert s["registrations"] == {"aors": 0, "bindings": 0}
    assert s["bans"]["active"] == 0
    assert s["overload"]["workers_overloaded"] == 0
    assert s["events"]["written"] >= 0 and s["events"]["dropped"] == 0
    assert "media" in s
    # the table for humans
    out = d.cli("status").stdout
    assert re.search(r"^calls\.active\s+0$", out, re.M), out
    assert re.search(r"^lockdown\s+no$", out, re.M), out


def test_protocol_errors_keep_the_connection(daemon_factory):
    d = daemon_factory()
    s, f = raw(d)
    with s:
        a = ask(s, f, "this is not json\n")
        assert a["ok"] is False and a["code"] == 400, a
        a = ask(s, f, '{"cmd":"no_such"}\n')
        assert a["ok"] is False and a["code"] == 404, a
        a = ask(s, f, '{"cmd":"status","extra":1}\n')
        assert a["code"] == 400, a
        a = ask(s, f, '{"cmd":"ban","args":{"key":"192.0.2.1/24"}}\n')
        assert a["code"] == 400, a      # host bits
        # and the same connection still serves
        a = ask(s, f, '{"cmd":"status"}\n')
        assert a["ok"] is True and a["result"]["node"] == "test-node"
        # two requests in one write: two answers, in order
        s.sendall(b'{"cmd":"lockdown"}\n{"cmd":"bans"}\n')
        assert json.loads(f.readline())["result"] == {"lockdown": False}
        assert json.loads(f.readline())["result"]["bans"] == []
    # a line over 64 KiB: 413, then the daemon hangs up
    s, f = raw(d)
    with s:
        try:
            s.sendall(b"x" * (70 * 1024))
        except OSError:
            pass
        a = json.loads(f.readline())
        assert a["code"] == 413, a


def test_cli_usage_and_no_daemon(daemon_factory, tmp_path):
    d = daemon_factory()
    for args in (("lockdown", "maybe"), ("ban",), ("unban", "nonsense"),
                 ("hangup",), ("hangup", "x", "--account", "1001"),
                 ("kick",), ("events",), ("status", "extra"),
                 ("ban", "10.0.0.1", "--for", "soon")):
        p = d.cli(*args, check=False)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
    empty = tmp_path / "nothing"
    empty.mkdir()
    p = swtest.cli("status", "-D", str(empty), check=False)
    assert p.returncode == 1 and "no daemon" in p.stderr, p.stderr
    # a refusal from the daemon is exit 1 with its reason
    p = d.cli("unban", "192.0.2.9", check=False)
    assert p.returncode == 1 and "no such ban" in p.stderr, p.stderr


# --- lockdown ----------------------------------------------------------

def test_lockdown_registrations_calls_and_release(daemon_factory, tmp_path):
    e = Edge(daemon_factory, tmp_path,
             conf_extra=swtest.deep_merge(
                 policy(group(international=True)),
                 {"bans": {"never": ["127.0.0.7/32"]}}))
    d = e.d
    with SipUA(d) as ua, SipUA(d, "127.0.0.7") as listed:
        _, r = ua.register("1001", PW, expires=300, alg="MD5")
        assert r.status == 200, r.raw
        # an established call, held 5 s by the phone
        uas = e.uas("uas_answer.xml")
        held = subprocess.Popen(
            ["sipp", "-sf", os.path.join(swtest.SCENARIOS,
                                         "call_auth_uac.xml"),
             "-i", "127.0.0.1", "-p", "0", "-m", "1", "-d", "5000",
             "-inf", str(_inf(e, "held", "2000")), "-nostdin", "-timeout",
             "30s", "-timeout_error", "127.0.0.1:%d" % d.port],
            cwd=str(e.tmp), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        d.wait_event("call.answered", timeout=10)

        t0 = time.time()
        assert ctl(d, "lockdown", "on") == {"lockdown": True,
                                            "changed": True}
        ev = d.wait_event("lockdown.on")
        assert ev["actor"] == "uid:%d" % os.geteuid()
        assert os.path.exists(os.path.join(d.state, "lockdown"))
        # a new registration (another phone) and a refresh: 403 at once
        with SipUA(d) as other:
            _, r = other.register("1001", PW, expires=300, alg="MD5")
            assert r.status == 403, r.raw
        assert time.time() - t0 < 1.0
        _, r = ua.register("1001", PW, expires=300, alg="MD5")
        assert r.status == 403, r.raw
        ev = d.wait_event("acl.denied", lambda e: e.get("reason") ==
                          "lockdown")
        assert ev["status"] == 403
        # an allow-listed source (bans.never) still registers
        _, r = listed.register("1001", PW, expires=300, alg="MD5")
        assert r.status == 200, r.raw
        # international: refused, the rule named
        status, _ = refused(e, INTL)
        assert status == 403
        bl = [x for x in d.events("call.blocked")
              if x.get("reason") == "lockdown"]
        assert bl and bl[0]["to"] == "+442079460000", d.events()
        # the call that was up goes on to its own BYE
        out, _ = held.communicate(timeout=40)
        assert held.returncode == 0, out.decode()[-2000:]
        assert finish(uas).returncode == 0
        assert d.wait_event("call.ended")["reason"] == "bye"
        assert ctl(d, "status")["lockdown"] is True

        assert ctl(d, "lockdown", "off")["lockdown"] is False
        d.wait_event("lockdown.off")
        assert not os.path.exists(os.path.join(d.state, "lockdown"))
        _, r = ua.register("1001", PW, expires=300, alg="MD5")
        assert r.status == 200, r.raw
    acts = [(x["command"], x["actor"]) for x in d.events("admin.action")]
    assert ("lockdown_on", "uid:%d" % os.geteuid()) in acts
    assert ("lockdown_off", "uid:%d" % os.geteuid()) in acts


def _inf(e, tag, dial):
    p = e.tmp / ("inf-%s.csv" % tag)
    p.write_text("SEQUENTIAL\n1001;%s;%s\n" % (PW, dial))
    return p


def test_lockdown_survives_a_restart(daemon_factory):
    d = daemon_factory()
    ctl(d, "lockdown", "on")
    d.stop()
    d.start()
    assert ctl(d, "status")["lockdown"] is True
    assert ctl(d, "lockdown", "off")["changed"] is True


# --- freeze ------------------------------------------------------------

def test_freeze_stops_a_prefix_at_once_and_survives_a_restart(
        daemon_factory, tmp_path):
    """`sipwall freeze +44207`: calls to London 207 get 403 Destination
    Frozen with fraud.prefix_frozen (the group may dial abroad), other
    international calls go on; the freeze survives a restart and
    `unfreeze` releases it."""
    e = Edge(daemon_factory, tmp_path,
             conf_extra=policy(group(international=True)))
    d = e.d
    assert ctl(d, "frozen") == {"frozen": []}
    assert ctl(d, "freeze", "44207") == {"frozen": "+44207"}
    ev = d.wait_event("fraud.prefix_frozen", lambda x: x.get("reason") ==
                      "frozen" and "status" not in x)
    assert ev["prefix"] == "+44207"
    status, final = refused(e, INTL)
    assert status == 403 and "Destination Frozen" in final, final
    ev = d.wait_event("fraud.prefix_frozen", lambda x: x.get("status") == 403)
    assert ev["to"] == "+442079460000" and ev["rule"] == "frozen +44207", ev
    assert ev["account"] == "1001", ev
    # Paris is not frozen: it reaches the core
    assert len(allowed(e, ["0113314567890"])) == 1
    d.stop()
    d.start()
    assert ctl(d, "frozen") == {"frozen": ["+44207"]}
    status, _ = refused(e, INTL, tag="r2")
    assert status == 403
    assert ctl(d, "unfreeze", "+44207") == {"released": "+44207"}
    assert ctl(d, "frozen") == {"frozen": []}
    assert not os.path.exists(os.path.join(d.state, "frozen"))
    p = subprocess.run([swtest.SIPWALL, "freeze", "-D", d.state, "12ab"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "E.164" in p.stderr, p.stderr


# --- bans --------------------------------------------------------------

def options_answered(d, bind):
    with SipUA(d, bind) as ua:
        return ua.transact(ua.build("OPTIONS", "probe"), timeout=1.0)


def test_ban_and_unban_take_effect_at_once(daemon_factory):
    d = edge_daemon(daemon_factory)
    assert options_answered(d, "127.0.0.5") is not None
    b = ctl(d, "ban", "127.0.0.5", "--for", "1h", "--reason", "test probe")
    assert b["key"] == "127.0.0.5" and b["reason"] == "manual"
    assert b["until"] - b["since"] == 3600
    assert options_answered(d, "127.0.0.5") is None       # silence
    assert options_answered(d, "127.0.0.6") is not None   # others not
    ev = d.wait_event("ban.added", lambda e: e.get("key") == "127.0.0.5/32")
    assert ev["reason"] == "manual"
    # persisted through the store writer: the offline list sees it
    assert [x["key"] for x in d.bans()] == ["127.0.0.5"]
    live = ctl(d, "bans")["bans"]
    assert [x["key"] for x in live] == ["127.0.0.5"]
    assert live[0]["note"].startswith("test probe")
    # a prefix, then both lifted
    ctl(d, "ban", "127.0.9.0/24")
    assert options_answered(d, "127.0.9.9") is None
    assert ctl(d, "unban", "127.0.0.5")["removed"] is True
    assert options_answered(d, "127.0.0.5") is not None
    ctl(d, "unban", "127.0.9.0/24")
    assert options_answered(d, "127.0.9.9") is not None
    assert ctl(d, "bans")["bans"] == []
    # the once-a-second sync with the store does not bring them back
    time.sleep(1.5)
    assert ctl(d, "bans")["bans"] == [] and d.bans() == []
    acts = [(x["command"], x.get("target")) for x in
            d.events("admin.action")]
    assert ("ban", "127.0.0.5") in acts and ("unban", "127.0.9.0/24") in acts
    # the offline `ban add` is kept as it was
    d.cli("ban", "add", "127.0.0.8", "--for", "1h")
    d.wait_event("ban.added", lambda e: e.get("key") == "127.0.0.8/32")


# --- registrations, kick, account rotate -------------------------------

def test_registrations_kick_and_rotate(daemon_factory):
    d = edge_daemon(daemon_factory, accounts=[("1001", PW), ("1002", PW)])
    with SipUA(d) as a, SipUA(d) as b:
        assert a.register("1001", PW, expires=300)[1].status == 200
        assert b.register("1002", PW, expires=300)[1].status == 200
        regs = ctl(d, "registrations")["registrations"]
        assert sorted(r["aor"] for r in regs) == ["1001@sipwall",
                                                   "1002@sipwall"]
        one = ctl(d, "registrations", "1001")["registrations"]
        assert len(one) == 1 and one[0]["source"] == "127.0.0.1:%d" % a.port
        assert 290 <= one[0]["expires_in"] <= 300
        assert ctl(d, "status")["registrations"]["bindings"] == 2

        k = ctl(d, "kick", "1001")
        assert k == {"aor": "1001@sipwall", "removed": 1}
        assert ctl(d, "registrations", "1001")["registrations"] == []
        ev = d.wait_event("reg.removed", lambda e: e.get("reason") == "admin")
        assert ev["account"] == "1001@sipwall"
        # gone from the store too: a restart does not bring it back
        d.stop()
        d.start()
        assert [r["aor"] for r in
                ctl(d, "registrations")["registrations"]] == ["1002@sipwall"]

        # rotate: the compromised account's phones go at once
        p = d.cli("account", "rotate", "1002")
        assert "1 registration of 1002@sipwall removed" in p.stderr, p.stderr
        assert ctl(d, "registrations")["registrations"] == []


# --- hang-ups ----------------------------------------------------------

def _hangup_case(daemon_factory, tmp_path, by_account):
    e = Edge(daemon_factory, tmp_path)
    uas = e.uas("uas_answer.xml")                       # waits for BYE
    phone = phone_bg(e, "call_auth_wait_bye_uac.xml")   # waits for BYE
    ev = e.d.wait_event("call.answered", timeout=10)
    if by_account:
        r = ctl(e.d, "hangup", "--account", "1001")
    else:
        r = ctl(e.d, "hangup", ev["call_id"])
    assert r["ended"] == 1, r
    out, _ = phone.communicate(timeout=40)
    assert phone.returncode == 0, out.decode()[-2000:]
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    ended = e.d.wait_event("call.ended")
    assert ended["reason"] == "admin" and ended["by"] == "sbc", ended
    act = e.d.wait_event("admin.action", lambda x: x["command"] == "hangup")
    assert act["target"] == ("account:1001" if by_account else
                             "call:" + ev["call_id"])
    # nothing left to hang up
    p = e.d.cli("hangup", "--account", "1001", check=False)
    assert p.returncode == 1 and "no call" in p.stderr


def test_hangup_by_call_id_byes_both_legs(daemon_factory, tmp_path):
    _hangup_case(daemon_factory, tmp_path, by_account=False)


def test_hangup_by_account_byes_both_legs(daemon_factory, tmp_path):
    _hangup_case(daemon_factory, tmp_path, by_account=True)


# --- events --follow ---------------------------------------------------

def test_events_follow_prints_new_events(daemon_factory):
    d = daemon_factory()
    p = subprocess.Popen([swtest.SIPWALL, "events", "--follow", "-D",
                          d.state], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE,
                         env=dict(os.environ, **swtest.SANITIZER_ENV))
    try:
        time.sleep(0.5)         # connected and following
        ctl(d, "ban", "192.0.2.77")
        deadline = time.time() + 5
        seen = []
        os.set_blocking(p.stdout.fileno(), False)
        buf = b""
        while time.time() < deadline:
            chunk = p.stdout.read()
            if chunk:
                buf += chunk
                seen = [json.loads(x) for x in buf.split(b"\n")[:-1]]
                if any(x["type"] == "ban.added" for x in seen):
                    break
            time.sleep(0.05)
        assert any(x["type"] == "ban.added" and x["src"] == "192.0.2.77"
                   for x in seen), seen
        assert any(x["type"] == "admin.action" for x in seen), seen
    finally:
        p.terminate()
        p.wait(timeout=5)
    err = p.stderr.read().decode()
    for mark in swtest.SANITIZER_MARKS:
        assert mark not in err, err
