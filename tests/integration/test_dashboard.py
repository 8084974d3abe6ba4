"""The dashboard (OBS6) in a real browser: Debian's Chromium, headless,
loads http://127.0.0.1:PORT/#token=TOKEN from the running daemon, runs
the page's own script for a few seconds of virtual time (it polls
/api/... with the token every 2 s) and hands back the DOM it built, then
a screenshot.  The page itself holds no data: what the DOM shows came
from the API.

The screenshot is kept in the test's tmp_path and copied to
$SIPWALL_BUILD/test-artifacts/dashboard.png (printed).
"""
import os
import re
import shutil
import subprocess

import pytest

import swtest
import test_metrics
from sipauth import SipUA
from test_admin_api import PW, TOKEN, api_daemon, call, ok
from test_calls import finish

CHROMIUM = "/usr/bin/chromium"
EVIL_UA = "Evil <img src=x onerror=document.title='pwned'> UA/1"

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="chromium is not installed (scripts/deps.sh installs it)")


def chromium(tmp_path, url, *extra, timeout=90):
    """Run headless Chromium on url with a fresh profile; the process
    (stdout: the DOM with --dump-dom)."""
    profile = tmp_path / ("chromium-profile-%d" % len(list(
        tmp_path.glob("chromium-profile-*"))))
    profile.mkdir()
    args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--disable-background-networking",
            "--user-data-dir=%s" % profile,
            "--virtual-time-budget=8000", *extra, url]
    p = subprocess.run(args, capture_output=True, text=True,
                       timeout=timeout, env=dict(os.environ, HOME=str(profile)))
    assert p.returncode == 0, p.stderr[-3000:]
    return p


def dump_dom(tmp_path, d, fragment):
    return chromium(tmp_path, "http://127.0.0.1:%d/%s" % (d.http_port,
                                                          fragment),
                    "--dump-dom").stdout


def text_of(dom, elem_id):
    """The text of the element with that id (no nested markup)."""
    m = re.search(r'id="%s"[^>]*>([^<]*)<' % re.escape(elem_id), dom)
    assert m, "no #%s in the DOM" % elem_id
    return m.group(1)


def live_daemon(daemon_factory):
    """A daemon with one registered phone (its User-Agent hostile) and
    one ban, made through the API."""
    d = api_daemon(daemon_factory, zone="internet", conf=swtest.LENIENT,
                   accounts=(("1001", PW),))
    with SipUA(d, user_agent=EVIL_UA) as ua:
        assert ua.register("1001", PW, expires=300)[1].status == 200
        # and a failure with the same User-Agent, for the event panel
        assert ua.register("1001", "Wrong-pass-000x")[1].status == 401
    ok(d, "POST", "/api/ban", {"key": "203.0.113.66",
                               "reason": "dashboard test"})
    return d


def test_dashboard_shows_live_state(daemon_factory, tmp_path):
    d = live_daemon(daemon_factory)
    dom = dump_dom(tmp_path, d, "#token=" + TOKEN)
    assert text_of(dom, "state") == "live", dom[-3000:]
    # counts from `status`
    assert text_of(dom, "n-registrations-aors") == "1"
    assert text_of(dom, "n-registrations-bindings") == "1"
    assert text_of(dom, "n-bans-active") == "1"
    assert text_of(dom, "n-calls-active") == "0"
    assert "test-node" in text_of(dom, "node")
    assert text_of(dom, "lockdown") == "no lockdown"
    # the registered phone (`registrations`) and the ban (`bans`)
    assert text_of(dom, "n-registrations") == "1"
    assert re.search(r"<td>1001@[^<]+</td>", dom), dom
    assert text_of(dom, "n-bans") == "1"
    assert "<td>203.0.113.66</td>" in dom
    assert "dashboard test (http:127.0.0.1)" in dom
    # the token is not left in the address bar or the page
    assert TOKEN not in dom
    # each panel shows its data or says it is unavailable, never blank
    for panel in ("status", "rates", "calls", "registrations", "bans",
                  "alerts", "top", "recent"):
        m = re.search(r'<div id="p-%s"[^>]*>(.*?)</section>' % panel, dom,
                      re.S)
        assert m and m.group(1).strip() not in ("", "</div>"), panel
    # the page polled with the token: no refusal was logged
    assert d.events("admin.denied") == []

    shot = tmp_path / "dashboard.png"
    chromium(tmp_path, "http://127.0.0.1:%d/#token=%s" % (d.http_port,
                                                          TOKEN),
             "--screenshot=%s" % shot, "--window-size=1400,1000",
             "--hide-scrollbars")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
    out = os.path.join(swtest.BUILD, "test-artifacts")
    os.makedirs(out, exist_ok=True)
    shutil.copyfile(shot, os.path.join(out, "dashboard.png"))
    print("dashboard screenshot: %s" % os.path.join(out, "dashboard.png"))


def test_hostile_user_agent_is_text(daemon_factory, tmp_path):
    """A User-Agent from the network, shown in the registrations table
    (and, when the daemon has `recent`, in the events table), is text:
    no element comes out of it, and its handler never runs."""
    d = live_daemon(daemon_factory)
    regs = ok(d, "GET", "/api/registrations")["registrations"]
    assert regs[0]["user_agent"] == EVIL_UA
    dom = dump_dom(tmp_path, d, "#token=" + TOKEN)
    assert text_of(dom, "state") == "live"
    escaped = EVIL_UA.replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in dom
    assert "<img" not in dom.lower()
    assert "<title>sipwall</title>" in dom      # the handler never ran
    status, _, a = call(d, "GET", "/api/recent?n=100")
    if status == 200:
        ev = re.search(r'<div id="p-recent"[^>]*>(.*?)</section>', dom,
                       re.S).group(1)
        assert escaped in ev, ev


def test_wrong_token_is_refused_clearly(daemon_factory, tmp_path):
    d = api_daemon(daemon_factory)
    dom = dump_dom(tmp_path, d, "#token=not-the-token")
    assert text_of(dom, "state") == "token refused"
    assert "Token refused" in text_of(dom, "gatemsg")
    assert re.search(r'<main id="board" class="hidden"', dom)
    # it stopped asking after the refusal
    denied = d.events("admin.denied")
    assert [x["reason"] for x in denied] == ["token"], denied


def test_no_token_asks_for_one(daemon_factory, tmp_path):
    d = api_daemon(daemon_factory)
    dom = dump_dom(tmp_path, d, "")
    assert text_of(dom, "state") == "no token"
    assert "Enter the admin token" in text_of(dom, "gatemsg")
    # without a token the page asks the API nothing
    assert d.events("admin.denied") == []


def test_dashboard_shows_a_live_call(daemon_factory, tmp_path):
    """A call in progress (SIPp phone -> sipwall -> SIPp PBX, held 10 s)
    is in the calls panel with each leg's encryption and quality."""
    e = test_metrics.edge(daemon_factory, tmp_path)
    inf = tmp_path / "held.csv"
    inf.write_text("SEQUENTIAL\n1001;%s;2000\n" % test_metrics.PW)
    uas = e.uas("uas_answer.xml")
    held = subprocess.Popen(
        ["sipp", "-sf", os.path.join(swtest.SCENARIOS, "call_auth_uac.xml"),
         "-i", "127.0.0.1", "-p", "0", "-m", "1", "-d", "10000",
         "-inf", str(inf), "-nostdin", "-timeout", "40s", "-timeout_error",
         "127.0.0.1:%d" % e.d.port],
        cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        e.d.wait_event("call.answered", timeout=10)
        dom = chromium(tmp_path, "http://127.0.0.1:%d/#token=%s" % (
            e.http_port, test_metrics.TOKEN), "--dump-dom").stdout
    finally:
        out, _ = held.communicate(timeout=60)
    assert held.returncode == 0, out.decode()[-2000:]
    assert finish(uas).returncode == 0
    assert text_of(dom, "state") == "live"
    assert text_of(dom, "n-calls-active") == "1"
    assert text_of(dom, "n-calls") == "1"
    calls = re.search(r'<div id="p-calls"[^>]*>(.*?)</section>', dom,
                      re.S).group(1)
    row = re.search(r"<tbody>(.*?)</tbody>", calls, re.S).group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
    assert "1001" in cells, cells
    # each leg's encryption: SIPp offers plain RTP, relayed as such
    encs = re.findall(r'<td class="(enc-[a-z]+)[^"]*">([^<]*)</td>', row)
    assert [x[1] for x in encs] == ["rtp", "rtp"], (encs, cells)
    assert all(x[0] == "enc-plain" for x in encs)
    assert any(c.endswith("%") for c in cells)          # loss per leg
    assert any(c.endswith(" ms") for c in cells)        # jitter per leg
