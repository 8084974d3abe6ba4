"""Prometheus /metrics (OBS2) on the admin HTTP listener: a scenario of
registrations (right and wrong passwords, an unknown user) and calls
through the B2BUA (SIPp phone -> sipwall -> SIPp PBX), then a scrape
whose values must match the scenario exactly; and the listener's
refusals: 401 without or with a wrong token, 403 from a source outside
the admin zone, each an admin.denied event.
"""
import hashlib
import http.client
import re
import time
import urllib.error
import urllib.request

import swtest
from sipauth import SipUA
from test_calls import CORE, PW, Edge, finish, sipp_report

TOKEN = "metrics-test-token-5f3c9a"
N_BAD = 3       # REGISTERs with a wrong password
N_CALLS = 3     # answered calls, hung up by the caller

SAMPLE = re.compile(r'^([a-z_:][a-z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def edge(daemon_factory, tmp_path):
    """The call edge of test_calls.py, plus an admin zone (127.0.0.1
    only) and the HTTP listener guarded by it and TOKEN."""
    port = swtest.free_port()
    zones = swtest.zones(
        internet=swtest.LENIENT_RATES,
        core={"auth": "none", "allow": [CORE + "/32", "127.0.0.11/32"]})
    # untrusted: a trusted zone's sources would never be banned
    zones.append({"name": "admin", "trust": "untrusted",
                  "allow": ["127.0.0.1/32"]})
    admin = {"http_port": port, "http_address": "127.0.0.1",
             "http_zone": "admin",
             "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}
    # OPS3: the unsafe settings test_calls' edge relies on, acknowledged
    acks = ["unlimited:internet", "srtp_prefer:internet"]
    e = Edge(daemon_factory, tmp_path, accounts=(("1001", PW), ("1002", PW)),
             conf_extra={"zones": zones, "acknowledge": acks,
                         "admin": admin})
    e.http_port = port
    return e


def parse(text):
    """{(name, frozenset(labels)): value} of a 0.0.4 exposition, checking
    every line on the way."""
    out, types = {}, {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            assert re.match(r"# HELP sipwall_[a-z0-9_]+ \S", line), line
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            assert kind != "counter" or name.endswith("_total"), line
            types[name] = kind
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample: %r" % line
        name, labels = m.group(1), frozenset(LABEL.findall(m.group(3) or ""))
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or types.get(family) == "histogram", line
        out[(name, labels)] = float(m.group(4))
    return out


def scrape(e, token=TOKEN, path="/metrics"):
    req = urllib.request.Request(
        "http://127.0.0.1:%d%s" % (e.http_port, path),
        headers={"Authorization": "Bearer " + token} if token else {})
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith(
            "text/plain; version=0.0.4")
        return parse(r.read().decode())


def status_of(e, token=TOKEN, path="/metrics"):
    try:
        scrape(e, token, path)
    except urllib.error.HTTPError as err:
        return err.code
    return 200


def val(m, name, **labels):
    return m.get((name, frozenset(labels.items())))


def test_metrics_match_the_scenario(daemon_factory, tmp_path):
    e = edge(daemon_factory, tmp_path)
    d = e.d
    before = scrape(e)
    assert val(before, "sipwall_registrations") == 0
    assert val(before, "sipwall_calls_total", outcome="answered") == 0

    # registrations: wrong passwords, an unknown user, two phones
    with SipUA(d) as bad, SipUA(d) as a, SipUA(d) as b:
        for _ in range(N_BAD):
            assert bad.register("1001", "Wrong-pass-000x",
                                alg="MD5")[1].status == 401
        assert bad.register("9999", PW, alg="MD5")[1].status == 401
        assert a.register("1001", PW, expires=300, alg="MD5")[1].status == 200
        assert b.register("1002", PW, expires=300, alg="MD5")[1].status == 200

    # calls: the phone calls the PBX, which answers; the phone hangs up
    uas = e.uas("uas_answer.xml", calls=N_CALLS)
    r = e.phone("call_auth_uac.xml", calls=N_CALLS)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    u = finish(uas)
    assert u.returncode == 0, sipp_report(u, tmp_path)
    deadline = time.time() + 10
    while len(d.events("call.ended")) < N_CALLS and time.time() < deadline:
        time.sleep(0.1)
    assert len(d.events("call.ended")) == N_CALLS

    m = scrape(e)
    internet = {"zone": "internet"}
    assert val(m, "sipwall_auth_failures_total", reason="bad_response",
               **internet) == N_BAD
    assert val(m, "sipwall_auth_failures_total", reason="unknown_user",
               **internet) == 1
    bad_events = [x for x in d.events("auth.failed")
                  if x["reason"] == "bad_response"]
    assert len(bad_events) == N_BAD
    assert val(m, "sipwall_sip_requests_total", method="REGISTER",
               verdict="auth_failed", **internet) == N_BAD + 1
    # two phones registered, with one binding each
    assert val(m, "sipwall_registrations") == 2
    assert val(m, "sipwall_registered_aors") == 2
    # REGISTERs that authenticated, and each call's INVITE
    assert val(m, "sipwall_auth_successes_total", **internet) == 2 + N_CALLS
    assert val(m, "sipwall_calls_total", outcome="answered") == N_CALLS
    assert val(m, "sipwall_calls_total", outcome="failed") == 0
    assert val(m, "sipwall_calls_total", outcome="refused") == 0
    assert val(m, "sipwall_calls_ended_total", reason="bye") == N_CALLS
    assert val(m, "sipwall_calls_active") == 0
    assert val(m, "sipwall_bans_active") == 0
    # the internet zone prefers SRTP; SIPp's phone offers plain RTP
    assert val(m, "sipwall_srtp_fallbacks_total") == N_CALLS == \
        len(d.events("srtp.fallback"))
    # histograms: cumulative buckets, +Inf equals the count
    for h in ("sipwall_media_packet_loss_ratio",
              "sipwall_media_jitter_seconds"):
        buckets = sorted(
            ((float(dict(k[1])["le"]), v) for k, v in m.items()
             if k[0] == h + "_bucket"), key=lambda x: x[0])
        counts = [v for _, v in buckets]
        assert counts == sorted(counts) and buckets[-1][0] == float("inf")
        assert counts[-1] == val(m, h + "_count")
    for w in ("0", "1"):
        assert val(m, "sipwall_event_loop_lag_seconds", worker=w) is not None
    assert val(m, "sipwall_events_written_total") > 0
    assert val(m, "sipwall_events_dropped_total") == 0


def test_metrics_refusals(daemon_factory, tmp_path):
    e = edge(daemon_factory, tmp_path)
    assert status_of(e, token=None) == 401
    assert status_of(e, token="not-the-token") == 401
    assert status_of(e, path="/other") == 404
    # from a loopback address outside the admin zone's allow list
    c = http.client.HTTPConnection("127.0.0.1", e.http_port, timeout=5,
                                   source_address=("127.0.0.2", 0))
    c.request("GET", "/metrics", headers={"Authorization": "Bearer " + TOKEN})
    assert c.getresponse().status == 403
    c.close()
    e.d.wait_event("admin.denied", lambda x: x["src"] == "127.0.0.2")
    denied = e.d.events("admin.denied")
    assert sorted(x["reason"] for x in denied) == ["acl", "token", "token"]
    assert all(x["src"] in ("127.0.0.1", "127.0.0.2") for x in denied)
