"""Hot reload (issue 7, OPS3): `sipwall reload` and SIGHUP validate the
file first, then apply it whole or change nothing.  A live change takes
effect for the next request; a change to something built at start (a
listener, a timer, the store) refuses the whole reload and names the
keys; an invalid file names its first error.  Every reload is recorded
with its diff in the store (`sipwall config history`) and as an event.
Under load (SIPp calls and registered phones) a reload loses nothing.

    phone (SIPp UAC, 127.0.0.1) -> sipwall internet listener
        -> sipwall core listener -> core PBX (SIPp UAS, 127.0.0.10)
"""
import copy
import json
import os
import re
import signal
import socket
import subprocess
import time

import swtest
from test_calls import CORE, PW, Edge, finish, sipp_report
from test_fraud import policy


def rewrite(d, change):
    """Deep-merge change into the daemon's config dict and write it."""
    swtest.deep_merge(d.conf_dict, change)
    with open(d.conf, "w") as f:
        f.write(swtest.to_yaml(d.conf_dict))


def reload_cli(d):
    """`sipwall reload --json`: (exit code, parsed answer or stderr)."""
    p = d.cli("reload", "--json", check=False)
    if p.returncode == 0:
        return 0, json.loads(p.stdout)
    return p.returncode, p.stderr


def options(d, src="127.0.0.1", timeout=1.0, port=None, ua=None):
    """One OPTIONS from src to the daemon's first listener (or port),
    with a User-Agent when ua; the status line, or None when dropped."""
    dport = port or d.port
    ua_line = "User-Agent: %s\r\n" % ua if ua else ""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    port = s.getsockname()[1]
    msg = ("OPTIONS sip:%s:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-%d;rport\r\n"
           "From: <sip:probe@%s>;tag=r%d\r\n"
           "To: <sip:%s:%d>\r\n"
           "Call-ID: reload-%d-%f@%s\r\n"
           "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n%s"
           "Content-Length: 0\r\n\r\n"
           % (d.host, dport, src, port, port, src, port, d.host, dport,
              port, time.time(), src, ua_line))
    try:
        s.sendto(msg.encode(), (d.host, dport))
        data, _ = s.recvfrom(65535)
        return data.split(b"\r\n", 1)[0].decode()
    except socket.timeout:
        return None
    finally:
        s.close()


def history(d):
    p = d.cli("config", "history", "--json", "--diff")
    out = json.loads(p.stdout)
    return out if isinstance(out, list) else out["changes"]


def test_live_change_applied_and_recorded(daemon_factory):
    d = daemon_factory(zone="internet",
                       conf=swtest.deep_merge({}, swtest.LENIENT))
    assert options(d, "127.0.0.1") is not None
    assert options(d, "127.0.0.3") is not None
    # deny one source in the internet zone: live
    rewrite(d, {"zones": swtest.zones(internet={"deny": ["127.0.0.3/32"]})})
    rc, out = reload_cli(d)
    assert rc == 0, out
    assert out["outcome"] == "applied" and out["changed"] >= 1, out
    assert options(d, "127.0.0.3") is None          # denied: dropped
    assert options(d, "127.0.0.1") is not None      # others unaffected
    ev = d.wait_event("config.changed")
    assert ev["reason"] == "reload" and "zones[1].deny" in ev["detail"], ev
    assert ev["actor"].startswith("uid:"), ev
    h = history(d)
    assert h[0]["result"] == "applied", h
    assert "+ zones[1].deny[0]: 127.0.0.3/32" in h[0]["diff"], h[0]
    # the same file again: nothing to do, nothing recorded
    rc, out = reload_cli(d)
    assert rc == 0 and out["outcome"] == "unchanged", out
    assert len(history(d)) == 1
    # and back by SIGHUP: the source is allowed again
    rewrite(d, {"zones": swtest.zones(internet={"deny": []})})
    os.kill(d.pid, signal.SIGHUP)
    d.wait_event("config.changed", lambda e: e["actor"] == "signal")
    assert options(d, "127.0.0.3") is not None


def test_restart_only_change_refused_whole(daemon_factory):
    d = daemon_factory(zone="internet",
                       conf=swtest.deep_merge({}, swtest.LENIENT))
    old_port = d.port
    text_before = d.cli("status", "--json").stdout
    # a live change and a listener change in one file: neither applies
    rewrite(d, {"zones": swtest.zones(internet={"deny": ["127.0.0.1/32"]}),
                "sip": {"timers": {"t1": "1s"}}})
    new_port = swtest.free_port()
    d.conf_dict["listen"][0]["port"] = new_port
    with open(d.conf, "w") as f:
        f.write(swtest.to_yaml(d.conf_dict))
    rc, err = reload_cli(d)
    assert rc != 0, err
    assert "restart" in err and "listen[0].port" in err, err
    assert "sip.timers.t1" in err and "nothing changed" in err, err
    assert options(d, "127.0.0.1") is not None       # deny not applied
    ev = d.wait_event("config.rejected")
    assert ev["reason"] == "restart_required", ev
    # deny: [] -> deny[0], the port, t1
    assert ev["restart_keys"] == 2 and ev["changes"] == 4, ev
    h = history(d)
    assert h[0]["result"] == "refused" and "listen[0].port" in h[0]["diff"]
    # the same process, still on the old port and not on the new one
    assert json.loads(text_before)["pid"] == d.pid
    assert options(d, "127.0.0.5", port=old_port) is not None
    assert options(d, "127.0.0.5", port=new_port, timeout=0.5) is None


def test_invalid_file_names_the_error(daemon_factory):
    d = daemon_factory(zone="internet",
                       conf=swtest.deep_merge({}, swtest.LENIENT))
    with open(d.conf, "a") as f:
        f.write("zonez: []\n")
    rc, err = reload_cli(d)
    assert rc != 0
    assert re.search(r"sipwall\.yaml:\d+:\d+: .*zonez", err), err
    ev = d.wait_event("config.rejected")
    assert ev["reason"] == "invalid" and "zonez" in ev["detail"], ev
    # an unsafe setting without its acknowledgment is invalid too
    rewrite(d, {"acknowledge": []})
    with open(d.conf) as f:
        assert "zonez" not in f.read()
    rc, err = reload_cli(d)
    assert rc != 0 and "acknowledge" in err, err
    assert d.proc.poll() is None
    assert options(d, "127.0.0.1") is not None


PHONES = 20
CALLS = 40


def test_reload_under_load_loses_nothing(daemon_factory, tmp_path):
    phones = [("%d" % (1100 + i), "Phone-pass-%02dx" % i)
              for i in range(PHONES)]
    e = Edge(daemon_factory, tmp_path, accounts=[("1001", PW)] + phones,
             conf_extra=policy())         # no per-account call limits
    inf = tmp_path / "phones.csv"
    inf.write_text("SEQUENTIAL\n" + "".join("%s;%s\n" % p for p in phones))
    r = swtest.sipp("register_once_uac.xml", e.d, calls=PHONES, rate=20,
                    extra=["-inf", str(inf)], cwd=tmp_path, timeout=30)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    regs = json.loads(e.d.cli("registrations", "--json").stdout)
    nregs = len(regs["registrations"]) if isinstance(regs, dict) else len(regs)
    assert nregs == PHONES, regs

    uas = e.uas("uas_answer.xml", calls=CALLS)
    cinf = tmp_path / "caller.csv"
    cinf.write_text("SEQUENTIAL\n1001;%s;2000\n" % PW)
    caller = subprocess.Popen(
        ["sipp", "-sf", os.path.join(swtest.SCENARIOS, "call_auth_uac.xml"),
         "-i", "127.0.0.1", "-p", "0", "-m", str(CALLS), "-r", "8",
         "-d", "1500", "-inf", str(cinf), "-nostdin", "-timeout", "60s",
         "-timeout_error", "-trace_err",
         "127.0.0.1:%d" % e.d.port],
        cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # five reloads while calls are set up, up and torn down: a rate
    # limit, the never-banned list and the fraud policy, back and forth
    outcomes = []
    for i in range(5):
        time.sleep(0.9)
        internet = copy.deepcopy(swtest.LENIENT_RATES)
        internet["rate_limits"]["source"]["rate"] = "%d/s" % (90000 + i)
        rewrite(e.d, {
            "zones": swtest.zones(
                internet=internet,
                core={"auth": "none",
                      "allow": [CORE + "/32", "127.0.0.11/32"]}),
            "bans": {"never": ["192.0.2.%d/32" % i]},
            "policy": policy()["policy"],
            "calls": {"max_duration": "%dm" % (60 + i)},
        })
        rc, out = reload_cli(e.d)
        outcomes.append((rc, out))
    c = finish(caller, timeout=90)
    u = finish(uas, timeout=60)
    assert all(rc == 0 and o["outcome"] == "applied" for rc, o in outcomes), \
        outcomes
    assert c.returncode == 0, sipp_report(c, tmp_path)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    out = c.stdout.decode("utf-8", "replace")
    ok = int(re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", out)[-1])
    failed = int(re.findall(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", out)[-1])
    assert (ok, failed) == (CALLS, 0), out
    regs = json.loads(e.d.cli("registrations", "--json").stdout)
    assert (len(regs["registrations"]) if isinstance(regs, dict)
            else len(regs)) == PHONES, regs
    assert len(e.d.events("config.changed")) == 5
    assert not e.d.events("call.failed"), e.d.events("call.failed")
    # the last reload is the running config
    ev = e.d.events("config.changed")[-1]
    assert "90004/s" in ev["detail"], ev


def test_scanner_signatures_and_ban_lengths_apply_live(daemon_factory):
    """The extra scanner signature file counts by its contents, and the
    ban triggers and lengths are live: a scanner the file did not know
    is banned once the file has its signature, for the new first-ban
    length; a file that does not parse refuses the reload (and `sipwall
    check` names it at its key)."""
    d = daemon_factory(zone="internet", start=False,
                       conf=swtest.deep_merge({"scanner": {
                           "signatures": "extra-sigs.txt"}}, swtest.LENIENT))
    sigs = os.path.join(os.path.dirname(d.conf), "extra-sigs.txt")
    with open(sigs, "w") as f:
        f.write("substr-ci|acmeprobe-legacy|AcmeProbe 1.x|local\n")
    d.start()
    ua = "AcmeProbe/2.0 (compatible)"
    assert options(d, "127.0.0.7", ua=ua) is not None
    assert d.events("scanner.detected") == []
    with open(sigs, "a") as f:
        f.write("substr-ci|acmeprobe|AcmeProbe scanner|local\n")
    rc, out = reload_cli(d)
    assert rc == 0 and out["outcome"] == "applied", out
    assert out["changed"] == 1, out
    ev = d.wait_event("config.changed")
    assert "~ scanner.signatures.contents: sha256:" in ev["detail"], ev
    assert options(d, "127.0.0.7", ua=ua, timeout=0.5) is None
    ev = d.wait_event("scanner.detected")
    assert ev["fingerprint"] == "AcmeProbe scanner", ev
    ban = d.wait_event("ban.added")
    assert ban["duration_s"] == 300, ban             # the default 5m
    # a shorter first ban, and fewer failures to lock an account: live
    rewrite(d, {"bans": {"first": "2m"}, "bruteforce": {"failures": 5}})
    rc, out = reload_cli(d)
    assert rc == 0 and out["changed"] == 2, out
    assert options(d, "127.0.0.8", ua=ua, timeout=0.5) is None
    ban = d.wait_event("ban.added", lambda e: e["src"].startswith(
        "127.0.0.8"))
    assert ban["duration_s"] == 120, ban
    # a broken signature file: refused whole, the new signature stays
    with open(sigs, "a") as f:
        f.write("no-such-type|x|y|z\n")
    rewrite(d, {"bans": {"first": "3m"}})
    p = d.cli("reload", "--json", check=False)
    assert p.returncode != 0 and "scanner.signatures" in p.stderr, p.stderr
    assert "extra-sigs.txt:3" in p.stderr, p.stderr
    assert d.wait_event("config.rejected")["reason"] == "scanner"
    assert options(d, "127.0.0.9", ua=ua, timeout=0.5) is None
    ban = d.wait_event("ban.added", lambda e: e["src"].startswith(
        "127.0.0.9"))
    assert ban["duration_s"] == 120, ban             # 3m not applied
    chk = swtest.cli("check", d.conf, check=False)
    assert chk.returncode == 1
    assert re.search(r"sipwall\.yaml:\d+:\d+: scanner\.signatures: .*"
                     r"extra-sigs\.txt:3", chk.stderr), chk.stderr
