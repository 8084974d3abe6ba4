"""The admin HTTP API (OPS2): the control commands over HTTP on the
admin listener, behind the admin zone's ACL and the bearer token.

    GET  /api/<cmd>?k=v     read-only commands (status, bans, ...)
    POST /api/<cmd>         any command but a stream; a JSON object body

The answer is the control protocol's answer object, its "code" the HTTP
status.  Changes made through the API are admin.action events whose
actor is the HTTP peer ("http:127.0.0.1"), and they are the same state
the control socket sees.
"""
import hashlib
import http.client
import json
import os
import threading

import swtest
from sipauth import SipUA

TOKEN = "api-test-token-7d1e0b"
PW = "Api-pass-5512x"


def api_daemon(daemon_factory, socket=True, dashboard=True, **kw):
    """A daemon (its listeners in the lab zone, or zone=...) with the
    admin zone (127.0.0.1 only) guarding the HTTP listener and TOKEN;
    .http_port is where it listens."""
    port = swtest.free_port()
    zone = kw.setdefault("zone", "lab")
    zones = [dict(z) for z in (swtest.DEFAULT_ZONES if zone == "lab"
                               else swtest.EDGE_ZONES)]
    zones.append({"name": "admin", "trust": "untrusted",
                  "allow": ["127.0.0.1/32"]})
    admin = {"http_port": port, "http_address": "127.0.0.1",
             "http_zone": "admin", "dashboard": dashboard,
             "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()}
    if not socket:
        admin["socket"] = ""
    conf = swtest.deep_merge({"admin": admin}, kw.pop("conf", {}))
    d = daemon_factory(zones=zones, conf=conf, **kw)
    d.http_port = port
    return d


def call(d, method, path, body=None, token=TOKEN, source=None,
         headers=None):
    """(status, headers, parsed JSON or text) of one request."""
    c = http.client.HTTPConnection(
        "127.0.0.1", d.http_port, timeout=10,
        source_address=(source, 0) if source else None)
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        h.setdefault("Content-Type", "application/json")
    try:
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        ctype = r.getheader("Content-Type", "")
        out = json.loads(data) if ctype == "application/json" else \
            data.decode("utf-8", "replace")
        return r.status, r, out
    finally:
        c.close()


def ok(d, method, path, body=None):
    status, r, a = call(d, method, path, body)
    assert status == 200, (status, a)
    assert a["ok"] is True, a
    return a["result"]


def refused(d, method, path, code, body=None, **kw):
    status, r, a = call(d, method, path, body, **kw)
    assert status == code, (status, a)
    assert a == {"ok": False, "error": a["error"], "code": code}, a
    assert a["error"], a
    return a["error"], r


# --- access ------------------------------------------------------------

def test_acl_and_token(daemon_factory):
    d = api_daemon(daemon_factory)
    # from a loopback address outside the admin zone: 403, token or not
    refused(d, "GET", "/api/status", 403, source="127.0.0.2")
    d.wait_event("admin.denied", lambda x: x["src"] == "127.0.0.2" and
                 x["reason"] == "acl")
    # no token, a wrong one, another scheme: 401, and nothing ran
    err, r = refused(d, "GET", "/api/status", 401, token=None)
    assert r.getheader("WWW-Authenticate") == "Bearer"
    refused(d, "GET", "/api/status", 401, token="not-the-token")
    refused(d, "POST", "/api/ban", 401, token="not-the-token",
            body={"key": "192.0.2.9"})
    refused(d, "GET", "/api/status", 401, token=None,
            headers={"Authorization": "Basic " + TOKEN})
    # even an unknown command says nothing before the token
    refused(d, "GET", "/api/no_such", 401, token=None)
    # (admin.denied is rate limited per source: not one per request;
    # the event log is written by its own thread)
    d.wait_event("admin.denied", lambda x: x["reason"] == "token")
    denied = d.events("admin.denied")
    assert {x["reason"] for x in denied} == {"acl", "token"}, denied
    assert all(x["transport"] == "http" for x in denied)
    assert all(x["listener"] == "http:127.0.0.1:%d" % d.http_port
               for x in denied)
    assert d.bans() == [] and ok(d, "GET", "/api/bans")["bans"] == []


def test_get_status(daemon_factory):
    d = api_daemon(daemon_factory)
    status, r, a = call(d, "GET", "/api/status")
    assert status == 200
    assert r.getheader("Content-Type") == "application/json"
    assert r.getheader("Cache-Control") == "no-store"
    assert r.getheader("X-Content-Type-Options") == "nosniff"
    assert a["ok"] is True and set(a) == {"ok", "result"}
    s = a["result"]
    assert s["node"] == "test-node" and s["workers"] == 2
    assert s["pid"] == d.pid and s["lockdown"] is False
    assert s["registrations"] == {"aors": 0, "bindings": 0}
    assert s["bans"]["active"] == 0 and s["calls"]["active"] == 0
    # the same answer as the control socket's, field for field
    cli = json.loads(d.cli("status", "--json").stdout)
    assert set(cli) == set(s)
    assert cli["node"] == s["node"] and cli["pid"] == s["pid"]


# --- changes -----------------------------------------------------------

def test_post_ban_then_bans_and_the_actor(daemon_factory):
    d = api_daemon(daemon_factory)
    b = ok(d, "POST", "/api/ban", {"key": "192.0.2.77", "for_s": 600,
                                   "reason": "seen scanning"})
    assert b["key"] == "192.0.2.77" and b["reason"] == "manual"
    assert b["already"] is False
    assert "seen scanning (http:127.0.0.1)" == b["note"]
    keys = [x["key"] for x in ok(d, "GET", "/api/bans")["bans"]]
    assert keys == ["192.0.2.77"]
    # the control socket sees the same table
    assert [x["key"] for x in d.bans()] == ["192.0.2.77"]
    act = d.wait_event("admin.action", lambda e: e["command"] == "ban")
    assert act["actor"] == "http:127.0.0.1", act
    assert act["target"] == "192.0.2.77" and act["reason"] == "ban"

    # the refusals of the command come back with its code
    err, _ = refused(d, "POST", "/api/ban", 400, {"key": "192.0.2.1/24"})
    assert "host bits" in err
    err, _ = refused(d, "POST", "/api/unban", 404, {"key": "192.0.2.99"})
    assert err == "no such ban"
    refused(d, "POST", "/api/ban", 400, {"key": 7})

    assert ok(d, "POST", "/api/unban", {"key": "192.0.2.77"}) == \
        {"key": "192.0.2.77", "removed": True}
    assert ok(d, "GET", "/api/bans")["bans"] == []
    assert ok(d, "GET", "/api/bans?all=true")["truncated"] is False
    acts = [(x["command"], x["actor"]) for x in d.events("admin.action")]
    assert acts == [("ban", "http:127.0.0.1"), ("unban", "http:127.0.0.1")]


def test_lockdown_over_http(daemon_factory):
    d = api_daemon(daemon_factory)
    assert ok(d, "POST", "/api/lockdown", {"on": True}) == \
        {"lockdown": True, "changed": True}
    ev = d.wait_event("lockdown.on")
    assert ev["actor"] == "http:127.0.0.1"
    assert ok(d, "GET", "/api/status")["lockdown"] is True
    assert json.loads(d.cli("status", "--json").stdout)["lockdown"] is True
    # an empty body is no arguments: the question form
    assert ok(d, "POST", "/api/lockdown") == {"lockdown": True}
    assert ok(d, "POST", "/api/lockdown", {"on": False})["changed"] is True
    d.wait_event("lockdown.off")
    acts = [(x["command"], x["actor"]) for x in d.events("admin.action")]
    assert ("lockdown_on", "http:127.0.0.1") in acts
    assert ("lockdown_off", "http:127.0.0.1") in acts


def test_get_on_a_changing_command_is_405(daemon_factory):
    d = api_daemon(daemon_factory)
    for path in ("/api/ban?key=192.0.2.5", "/api/unban?key=192.0.2.5",
                 "/api/lockdown?on=true", "/api/lockdown", "/api/reload",
                 "/api/kick?user=1001", "/api/hangup?call_id=x",
                 "/api/freeze?prefix=882", "/api/unfreeze?prefix=882"):
        err, r = refused(d, "GET", path, 405)
        assert r.getheader("Allow") == "POST", path
        assert "POST" in err
    # a read-only command: GET or POST, nothing else
    _, r = refused(d, "DELETE", "/api/status", 405)
    assert r.getheader("Allow") == "GET, POST"
    assert ok(d, "POST", "/api/status")["node"] == "test-node"
    # nothing changed
    assert ok(d, "GET", "/api/bans")["bans"] == []
    assert ok(d, "GET", "/api/frozen")["frozen"] == []
    assert ok(d, "GET", "/api/status")["lockdown"] is False
    assert d.events("admin.action") == []


def test_bad_bodies_and_arguments(daemon_factory):
    d = api_daemon(daemon_factory)
    err, _ = refused(d, "POST", "/api/ban", 400, '{"key": "192.0.2.5",}')
    assert err.startswith("body: line 1 column"), err
    err, _ = refused(d, "POST", "/api/ban", 400, '["192.0.2.5"]')
    assert err == "body: a JSON object is expected"
    err, _ = refused(d, "POST", "/api/ban", 400,
                     '{"key": "192.0.2.5", "key": "192.0.2.6"}')
    assert "duplicate" in err, err
    refused(d, "POST", "/api/ban", 400, b'\xff\xfe')
    # over 64 KiB: 413, declared or not
    big = json.dumps({"key": "192.0.2.5", "reason": "x" * 70000})
    refused(d, "POST", "/api/ban", 413, big)
    c = http.client.HTTPConnection("127.0.0.1", d.http_port, timeout=10)
    c.putrequest("POST", "/api/ban")
    c.putheader("Authorization", "Bearer " + TOKEN)
    c.putheader("Transfer-Encoding", "chunked")
    c.endheaders()
    chunk = b"x" * 8192
    for _ in range(10):
        c.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    c.send(b"0\r\n\r\n")
    r = c.getresponse()
    assert r.status == 413 and json.loads(r.read())["code"] == 413
    c.close()
    # query arguments
    err, _ = refused(d, "GET", "/api/bans?all=maybe", 400)
    assert err == '"all": true or false'
    refused(d, "GET", "/api/bans?all=1&all=0", 400)
    refused(d, "GET", "/api/registrations?User=x", 400)
    refused(d, "GET", "/api/registrations?user=", 400)
    assert ok(d, "GET", "/api/bans?all") == {"bans": [], "truncated": False}
    assert d.bans() == [] and d.events("admin.action") == []


def test_unknown_commands_and_streams(daemon_factory):
    d = api_daemon(daemon_factory)
    err, _ = refused(d, "GET", "/api/no_such", 404)
    assert err == "unknown command 'no_such'"
    refused(d, "POST", "/api/no_such", 404, {})
    refused(d, "GET", "/api/Status", 404)
    refused(d, "GET", "/api/", 404)
    refused(d, "GET", "/api/status/x", 404)
    refused(d, "GET", "/api/" + "a" * 40, 404)
    # events --follow is a stream: the control socket only
    for method, body in (("GET", None), ("POST", {"follow": True})):
        err, _ = refused(d, method, "/api/events", 400, body)
        assert "stream" in err
    # other paths keep their plain answers
    status, _, text = call(d, "GET", "/nothing")
    assert status == 404 and text == "not found\n"
    status, _, text = call(d, "GET", "/metrics")
    assert status == 200 and "sipwall_registrations" in text


def test_registrations_with_string_arguments(daemon_factory):
    d = api_daemon(daemon_factory, zone="internet", conf=swtest.LENIENT,
                   accounts=(("1001", PW),))
    with SipUA(d) as ua:
        assert ua.register("1001", PW, expires=300)[1].status == 200
    regs = ok(d, "GET", "/api/registrations")["registrations"]
    assert [r["aor"].split("@")[0] for r in regs] == ["1001"]
    # digits stay a string for a string argument
    regs = ok(d, "GET", "/api/registrations?user=1001")["registrations"]
    assert len(regs) == 1 and regs[0]["user_agent"] == "sipauth-test/1"
    assert ok(d, "GET", "/api/registrations?user=2002")[
        "registrations"] == []
    # and a kick through the API is the socket's kick
    k = ok(d, "POST", "/api/kick", {"user": "1001"})
    assert k["removed"] == 1
    assert ok(d, "GET", "/api/status")["registrations"]["bindings"] == 0
    act = d.wait_event("admin.action", lambda e: e["command"] == "kick")
    assert act["actor"] == "http:127.0.0.1"


def test_no_control_socket_is_503(daemon_factory):
    d = api_daemon(daemon_factory, socket=False)
    assert not os.path.exists(os.path.join(d.state, "control.sock"))
    err, _ = refused(d, "GET", "/api/status", 503)
    assert err == "control disabled"
    refused(d, "POST", "/api/ban", 503, {"key": "192.0.2.5"})
    status, _, text = call(d, "GET", "/metrics")
    assert status == 200


def test_api_and_socket_commands_at_once(daemon_factory):
    """Commands from the HTTP thread and the control thread are
    serialised: many of each at the same time all succeed."""
    d = api_daemon(daemon_factory)
    errors = []

    def http_side(i):
        try:
            key = "198.18.%d.1" % i
            ok(d, "POST", "/api/ban", {"key": key})
            ok(d, "GET", "/api/status")
            ok(d, "POST", "/api/unban", {"key": key})
        except Exception as e:     # noqa: BLE001 -- collected for the assert
            errors.append(repr(e))

    def socket_side(i):
        try:
            d.cli("ban", "198.19.%d.1" % i)
            d.cli("bans", "--json")
        except Exception as e:     # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=f, args=(i,)) for i in range(4)
               for f in (http_side, socket_side)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    keys = sorted(x["key"] for x in ok(d, "GET", "/api/bans")["bans"])
    assert keys == sorted("198.19.%d.1" % i for i in range(4))
    acts = d.events("admin.action")
    assert len([a for a in acts if a["actor"] == "http:127.0.0.1"]) == 8
    assert len([a for a in acts if a["actor"].startswith("uid:")]) == 4


def test_dashboard_page_headers(daemon_factory):
    d = api_daemon(daemon_factory)
    for path in ("/", "/dashboard"):
        # no token needed for the page: it holds no data
        status, r, text = call(d, "GET", path, token=None)
        assert status == 200
        assert r.getheader("Content-Type") == "text/html; charset=utf-8"
        csp = r.getheader("Content-Security-Policy")
        assert "default-src 'none'" in csp
        assert "script-src 'sha256-" in csp and "unsafe" not in csp
        assert "connect-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert r.getheader("X-Frame-Options") == "DENY"
        assert "http://" not in text and "https://" not in text
        assert "innerHTML" not in text
    # the ACL still applies
    status, _, _ = call(d, "GET", "/", token=None, source="127.0.0.2")
    assert status == 403
    # off: the page is not there, and says so only with the token
    d2 = api_daemon(daemon_factory, dashboard=False)
    assert call(d2, "GET", "/", token=None)[0] == 401
    assert call(d2, "GET", "/")[0] == 404
