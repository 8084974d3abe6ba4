"""Every security event type (OBS1, docs/events.md) is produced by a
scenario that should produce it, with real peers, and every line the
daemons write is valid against the machine-readable schema
docs/events.schema.json.

A handful of daemons, each set up for one family of decisions, run their
scenarios side by side (most of the time is waiting for timers: alert
windows, expiring registrations, media timeouts), once per module:

  signaling   one daemon, lab (trusted) + internet (digest) + TLS (mutual)
              + admin HTTP listeners: raw UDP/TCP sockets for malformed,
              oversized, looping, unsupported and misrouted requests;
              digest clients (sipauth.SipUA) for every authentication
              outcome and registrations; svmap (SIPVicious) for the
              scanner ban; the control socket (`sipwall`) for bans,
              lockdown and freezes; SIGHUP for reloads; a closed
              webhook for alerts
  calls       test_calls.Edge: SIPp phone -> sipwall -> SIPp PBX for an
              answered emergency call, a cancelled call, refused calls,
              a per-minute limit, a REFER and a redirect
  upstream    OPTIONS probes of a core target and trunk registrations,
              answered by small Python peers
  media       anchored calls (SIPp signalling, Python RTP/SRTP): SRTP
              replay and bad tags, a foreign RTP source, one-way and no
              media, SRTP policy refusals, a malformed SDP, exhausted ports
  overload    a stopped worker's socket queue (overload.shed)
  queue       an events file that is a FIFO nobody reads: the event queue
              fills and events.dropped reports the loss
  syslog      /dev/log replaced in a private mount namespace by a socket of
              the test: RFC 5424 datagrams carrying the same JSON
  store       the store locked by another process: a registration that
              cannot be stored (store.error)
  certs       a TLS listener whose certificate expires in five days
              (tls.cert_expiring)

Each scenario runs in steps (`with step(...)`): a failed step is
reported by test_scenario[NAME] and the others still run.  SCENARIOS
says which types each scenario must produce.  test_every_line_matches_
the_schema validates every line written (plus the field order
docs/events.md promises).  The types docs/events.md marks "reserved:
not emitted by this version" are in RESERVED (with why, checked against
the docs and the schema): test_reserved_type_not_written fails if a
scenario writes one, so that emitting it means documenting it.
test_event_type_produced has one case per other type of
src/obs/secevent.h: the types no loopback scenario can produce would be
skipped from NOT_PRODUCIBLE (with why; empty today), and the ones the
code never emits are strict xfails in CODE_GAPS (empty today).  PROMISED_FIELDS lists fields
docs/events.md promises on every event of a type, checked on every such
line; FIELD_GAPS lists those the code does not write yet (strict
xfails).  Remove a gap entry when the C side is fixed: its case then
passes, and strict xfail turns that into a failure so that nobody
forgets.
"""
import contextlib
import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

import swtest
from sipauth import Credentials, SipUA, assert_silent, source
from test_events_doc import (doc_types, load_schema, schema_types,
                             secevent_types)

try:
    import jsonschema
except ImportError:             # scripts/deps.sh installs python3-jsonschema
    jsonschema = None

PW = "Caller-pass-81x"          # test_calls / test_fraud accounts
PW_SIG = "Secr3t-pass-99"
TOKEN = "events-admin-token-5e1f"
NEUTRAL = "Yealink SIP-T46S 66.86.0.15"

# Types a loopback test cannot produce, and why.  Keep this short: a
# type belongs here only when no scenario on one host could make the
# daemon take that decision.
NOT_PRODUCIBLE = {
    # (none: every type the code emits is produced below)
}

# Types the code never emits (grep SECEV_<TYPE> src/: no producer), or
# only at a severity no configuration can write, though docs/events.md
# says it should: a strict xfail each, naming what the C side lacks.
# Remove the entry when the C side is fixed.
CODE_GAPS = {
    # (none)
}

# Types docs/events.md and the schema mark "reserved: not emitted by
# this version", with why (what reports the decision today, or what is
# missing).  test_reserved_type_not_written asserts that no scenario
# writes them: a type that starts being emitted must leave this dict
# and the docs must describe it.
RESERVED = {
    "transport.invalid": "no zone or account restricts transports yet",
    "auth.scheme_denied": "a disallowed algorithm or a missing qop is "
                          "auth.failed with reason bad_algorithm / "
                          "algorithm_not_offered / qop_required",
    "auth.trunk_unknown": "a request in a trunk zone from an unknown "
                          "address is refused by the zone ACL (acl.denied)",
    "auth.weak_credential": "`sipwall account add/rotate` refuse weak "
                            "passwords on the terminal; the CLI writes no "
                            "events",
    "auth.upstream_failed": "a provider's refusal is trunk.reg_failed",
    "acl.route_denied": "no zone-to-zone routing policy yet (PROT1)",
    "rate.flood": "no pike-style flood detector yet (PROT2); token "
                  "buckets are rate.limited",
    "fraud.anomaly": "FRAUD4 anomalies are alert.raised",
    "audit.finding": "`sipwall audit` (OPS4) reports on stdout only",
    "audit.drift": "as audit.finding",
    "cluster.peer_up": "no cluster yet (SCALE2)",
    "cluster.peer_down": "no cluster yet (SCALE2)",
    "cluster.sync_failed": "no cluster yet (SCALE2)",
}


# --- daemons ---------------------------------------------------------------

class Target:
    """Another listener of a daemon, for SipUA and swtest.request."""

    def __init__(self, d, host, port):
        self.d, self.host, self.port = d, host, port

    @property
    def addr(self):
        return (self.host, self.port)

    def uri_host(self):
        return self.host


class Factory:
    """What conftest's daemon_factory does, for a module-wide run: make
    daemons in dir, remember them so that all are stopped at the end."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.started = []

    def __call__(self, accounts=(), start=True, **kw):
        sub = self.tmp / ("d%d" % len(self.started))
        sub.mkdir()
        # overload control off unless a scenario is about it: on a busy
        # machine a starved event loop would shed the scenario's own
        # requests
        conf = swtest.deep_merge({"overload": {"busy_percent": 100,
                                               "queue_high": 0}},
                                 kw.pop("conf", None))
        d = swtest.Daemon(sub, conf=conf, **kw)
        for a in accounts:
            d.add_account(*a)
        self.started.append(d)
        return d.start() if start else d

    def stop_all(self):
        errors = []
        for d in self.started:
            try:
                d.stop()
            except AssertionError as e:
                errors.append(str(e))
        return errors


def event_lines(d):
    """(origin, text) of every line of a stopped daemon's event file."""
    path = os.path.join(d.state, "events.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    return [("%s:%d" % (path, i + 1), line.decode("utf-8", "replace"))
            for i, line in enumerate(data.split(b"\n")[:-1])] + (
        [("%s:end" % path, "<no newline at end: %r>" % data[-200:])]
        if data and not data.endswith(b"\n") else [])


def wait_for(fn, timeout, what):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.time() > deadline:
            raise AssertionError("timed out (%.1f s) waiting for %s" % (
                timeout, what))
        time.sleep(0.05)


def wait_ev(d, type_, pred=lambda e: True, timeout=5.0):
    """The first event of type_ matching pred, polled until timeout; the
    failure names the types written so far (not every event)."""
    deadline = time.time() + timeout
    while True:
        for ev in d.events(type_):
            if pred(ev):
                return ev
        if time.time() > deadline:
            raise AssertionError("no matching %s event within %.1f s; "
                                 "types so far: %s" % (
                                     type_, timeout, sorted(
                                         {e["type"] for e in d.events()})))
        time.sleep(0.05)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ctl(d, obj):
    """One request on the daemon's control socket; its answer."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(os.path.join(d.state, "control.sock"))
        s.sendall((json.dumps(obj) + "\n").encode())
        return json.loads(s.makefile("rb").readline())
    finally:
        s.close()


def drain(c, wait=0.3):
    return [swtest.parse_response(x)[0] for x in c.recv_all(wait)]


# --- scenario: signaling, authentication, protection, admin, alerts --------

def make_pki(d):
    from test_tls import make_ca, make_cert
    make_ca(d, "ca")
    make_cert(d, "server", "ca", "IP:127.0.0.1")
    return d


def scenario_signaling(f, tmp, step):
    pki = make_pki(str(tmp))
    inet_port = swtest.free_port()
    tls_port = swtest.free_port()
    http_port = swtest.free_port()
    hook_port = closed_port()
    zones = [
        {"name": "lab", "trust": "trusted", "auth": "none",
         "allow": ["127.0.0.1/32"]},
        {"name": "internet", "trust": "untrusted", "srtp": "prefer",
         "deny": ["127.0.66.0/24"],
         "methods": ["REGISTER", "OPTIONS", "INVITE", "ACK", "CANCEL",
                     "BYE"],
         "rate_limits": {"source": {"rate": "20/s", "burst": 30}}},
        {"name": "admin", "trust": "untrusted", "allow": ["127.0.0.1/32"]},
    ]
    conf = {
        "zones": zones,
        "registrar": {"min_expires": "10s"},
        "bans": {"auth_failures": 1000},
        "scanner": {"unknown_users": 1000},
        "bruteforce": {"failures": 5},
        "alerts": {"window": "10s", "reg_failures": 3,
                   "webhook": "http://127.0.0.1:%d/hook?k=s3cret" % hook_port,
                   "webhook_timeout": "300ms", "retries": 1},
        "admin": {"http_port": http_port, "http_address": "127.0.0.1",
                  "http_zone": "admin",
                  "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest()},
        # the debug types too: auth.challenge, ban.enforced
        "events": {"min_severity": "debug"},
    }
    d = f(zone="lab", conf=conf, per_source=2, msg_timeout="1s",
          accounts=[("1001", PW_SIG), ("1002", PW_SIG),
                    ("1003", PW_SIG, "--allow", "127.0.9.0/24"),
                    ("1004", PW_SIG, "--max-contacts", "1"),
                    ("1005", PW_SIG)],
          extra_listen=[
              {"transport": "udp", "address": "127.0.0.1",
               "port": inet_port, "zone": "internet"},
              {"transport": "tls", "address": "127.0.0.1",
               "port": tls_port, "zone": "lab",
               "tls": {"cert": os.path.join(pki, "server.pem"),
                       "key": os.path.join(pki, "server.key"),
                       "ca": os.path.join(pki, "ca.pem"),
                       "verify_client": True}}],
          start=False)
    d.cli("account", "disable", "1002")
    d.start()
    inet = Target(d, "127.0.0.1", inet_port)
    t0 = time.time()
    registered = None

    with step("config.loaded: the SHA-256 of the file it runs"):
        with open(d.conf, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()
        ev = wait_ev(d, "config.loaded")
        assert ev.get("digest") == digest, (ev, digest)

    # -- authentication first: the alert window counts these failures
    with step("wrong password"):
        with SipUA(inet, "127.0.2.2", user_agent=NEUTRAL) as ua:
            for _ in range(2):
                assert ua.register("1001", "wrong-Guess-1")[1].status == 401
    with step("unknown user, disabled account, source outside the CIDRs"):
        with SipUA(inet, "127.0.2.3", user_agent=NEUTRAL) as ua:
            assert ua.register("7777", "guess-Pass-1")[1].status == 401
            assert ua.register("1002", PW_SIG)[1].status == 401
            assert ua.register("1003", PW_SIG)[1].status == 401
    with step("forged nonce"):
        with SipUA(inet, "127.0.2.4", user_agent=NEUTRAL) as ua:
            ch = dict(ua.transact(ua.build("REGISTER", "1001")).challenge())
            n = ch["nonce"]
            ch["nonce"] = n[:20] + ("A" if n[20] != "A" else "B") + n[21:]
            assert ua.register("1001", PW_SIG, challenge=ch)[1].status == 401
    with step("distributed brute force, then an unlock"):
        for n in range(1, 7):
            with SipUA(inet, source(n, "127.0.4"), user_agent=NEUTRAL) as ua:
                ua.register("1005", "guess-%d-Pw" % n)
        wait_ev(d, "account.locked")
        a = ctl(d, {"cmd": "account", "args": {"action": "unlock",
                                               "user": "1005"}})
        assert a.get("ok") is not False, "account unlock: %s" % a
    with step("registrations, contact limit, method"):
        with SipUA(inet, "127.0.2.1", user_agent=NEUTRAL) as ua:
            c1 = "<sip:1001@127.0.2.1:5071>"
            c2 = "<sip:1001@127.0.2.1:5072>"
            _, r = ua.register("1001", PW_SIG, expires=10, contact=c1)
            assert r.status == 200, r                   # auth.ok, reg.added
            registered = time.time()
            _, r = ua.register("1001", PW_SIG, expires=60, contact=c2)
            assert r.status == 200, r
            _, r = ua.register("1001", PW_SIG, expires=0, contact=c2)
            assert r.status == 200, r                   # reg.removed
            _, r = ua.register("1004", PW_SIG, expires=60,
                               contact="<sip:1004@127.0.2.1:5073>")
            assert r.status == 200, r
            _, r = ua.register("1004", PW_SIG, expires=60,
                               contact="<sip:1004@127.0.2.1:5074>")
            assert r.status == 403, r                   # contact_limit
            r = ua.transact(ua.build("MESSAGE", "1001"))
            assert r.status == 405, r                   # acl.method_denied
    with step("denied source"):
        with SipUA(inet, "127.0.66.1") as ua:
            assert_silent(ua, ua.build("OPTIONS", "1001"), 0.3)
    with step("over the rate limit"):
        with SipUA(inet, "127.0.3.1", user_agent=NEUTRAL) as ua:
            for _ in range(60):
                ua.send(ua.build("OPTIONS", "1001"))
            time.sleep(0.3)

    with step("svmap (SIPVicious): detected and banned by its first packet"):
        p = subprocess.run(["timeout", "8", "svmap", "-P",
                            str(swtest.free_port("127.0.30.1")), "-b",
                            "127.0.30.1", "-p", str(inet_port), "127.0.0.1"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=20)
        out = p.stdout.decode("utf-8", "replace")
        assert "found nothing" in out, out
        wait_ev(d, "ban.added", lambda e: e.get("src") == "127.0.30.1")
    with step("a banned source's next packet: dropped, ban.enforced"):
        with SipUA(inet, "127.0.30.1", user_agent=NEUTRAL) as ua:
            assert_silent(ua, ua.build("OPTIONS", "1001"), 0.3)
        ev = wait_ev(d, "ban.enforced",
                     lambda e: e.get("src") == "127.0.30.1")
        assert ev["reason"] == "scanner", ev

    # -- the lab listener (trusted, 127.0.0.1): the message path
    c = swtest.UdpClient(d)
    with step("malformed"):
        c.send(swtest.request("OPTIONS", d, via_port=c.port).replace(
            b"CSeq: 1 OPTIONS", b"CSeq: one OPTIONS"))
        assert 400 in drain(c)
    with step("well-formed but invalid: CSeq method mismatch"):
        c.send(swtest.request("OPTIONS", d, via_port=c.port).replace(
            b"CSeq: 1 OPTIONS", b"CSeq: 1 INVITE"))
        assert 400 in drain(c)
        ev = wait_ev(d, "sip.invalid")
        assert ev["reason"] == "CSeq Method Mismatch", ev
    with step("a stray response, a request for no dialog"):
        c.send(("SIP/2.0 200 OK\r\n"
                "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKstray%x\r\n"
                "From: <sip:a@127.0.0.1>;tag=1\r\n"
                "To: <sip:b@127.0.0.1>;tag=2\r\n"
                "Call-ID: stray-%x@test\r\nCSeq: 7 OPTIONS\r\n"
                "Content-Length: 0\r\n\r\n" % (
                    d.port, os.getpid(), os.getpid())).encode())
        assert drain(c) == []
        wait_ev(d, "sip.no_match",
                lambda e: e.get("reason") == "no transaction" and
                e.get("response") == 200)
        c.send(swtest.request("BYE", d, via_port=c.port, to_tag="gone1"))
        assert 481 in drain(c)
        wait_ev(d, "sip.no_match", lambda e: e.get("reason") == "no dialog")
    with step("oversized"):
        c.send(swtest.request("MESSAGE", d, via_port=c.port,
                              extra="Content-Type: text/plain\r\n",
                              body=b"x" * 20000))
        assert 513 in drain(c)
    with step("Max-Forwards 0"):
        c.send(swtest.request("INVITE", d, via_port=c.port).replace(
            b"Max-Forwards: 70", b"Max-Forwards: 0"))
        assert 483 in drain(c)
    with step("unsupported extension and method"):
        c.send(swtest.request("OPTIONS", d, via_port=c.port,
                              extra="Require: x-teleport\r\n"))
        assert 420 in drain(c)
        c.send(swtest.request("FROB", d, via_port=c.port))
        assert 501 in drain(c)
    with step("REGISTER where nobody authenticates"):
        c.send(swtest.request("REGISTER", d, via_port=c.port))
        assert 403 in drain(c)
    with step("no route"):
        c.send(swtest.request("MESSAGE", d, via_port=c.port,
                              ruri="sip:nobody@127.0.0.1:%d" % d.port))
        assert 404 in drain(c)
    with step("a burst over the per-(type, source) event limit"):
        # 10/s: the excess is suppressed and reported by a summary
        # (events.suppressed)
        bad = swtest.request("OPTIONS", d, via_port=c.port).replace(
            b"CSeq: 1 OPTIONS", b"CSeq: x OPTIONS")
        for _ in range(25):
            c.send(bad)
        c.recv_all(0.3)
    c.close()

    with step("TCP: a message cut short"):
        slow = swtest.tcp_connect(d)
        slow.sendall(swtest.request("OPTIONS", d, transport="TCP")[:40])
        wait_ev(d, "transport.error", timeout=8)    # message_timeout 1 s
        slow.close()
    with step("TCP: a connection too many (2 per source)"):
        keep = []
        for _ in range(2):                  # served: accepted and counted
            s = swtest.tcp_connect(d)
            keep.append(s)
            s.sendall(swtest.request("OPTIONS", d, transport="TCP"))
            assert swtest.tcp_read_messages(s, 1), "no answer over TCP"
        third = swtest.tcp_connect(d)
        keep.append(third)
        third.settimeout(3)
        try:
            third.recv(100)
        except OSError:
            pass
        wait_ev(d, "transport.conn_limit")
        for s in keep:
            s.close()
        time.sleep(0.5)                     # the daemon sees them closed

    with step("TLS: plaintext, and a client without a certificate"):
        with socket.create_connection(("127.0.0.1", tls_port),
                                      timeout=3) as s:
            s.sendall(swtest.request("OPTIONS", d, transport="TCP"))
            s.settimeout(3)
            try:
                s.recv(100)
            except OSError:
                pass
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(pki, "ca.pem"))
        try:
            raw = socket.create_connection(("127.0.0.1", tls_port),
                                           timeout=3)
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(swtest.request("OPTIONS", d, transport="TLS"))
                swtest.tcp_read_messages(s, 1)
        except (ssl.SSLError, OSError):
            pass
        wait_ev(d, "tls.cert_rejected")

    with step("control socket: unban, ban, lockdown, freeze"):
        d.cli("unban", "127.0.30.1")
        d.cli("ban", "192.0.2.99", "--for", "1h", "--reason", "test")
        d.cli("lockdown", "on")
        d.cli("lockdown", "off")
        d.cli("freeze", "+882")
    with step("admin HTTP: a wrong token"):
        req = urllib.request.Request(
            "http://127.0.0.1:%d/metrics" % http_port,
            headers={"Authorization": "Bearer not-the-token"})
        try:
            urllib.request.urlopen(req, timeout=5)
            raise AssertionError("/metrics answered a wrong token")
        except urllib.error.HTTPError as e:
            assert e.code == 401, e

    with step("reloads: a good one, a broken one"):
        good = open(d.conf).read()
        with open(d.conf, "a") as fh:       # something to change
            fh.write("dialplan:\n  access_code: \"9\"\n")
        d.cli("reload")                     # admin.action reload too
        wait_ev(d, "config.changed")
        with open(d.conf, "a") as fh:
            fh.write("no_such_key: 1\n")
        os.kill(d.pid, signal.SIGHUP)
        wait_ev(d, "config.rejected")
        with open(d.conf, "w") as fh:
            fh.write(good)

    # -- what takes time: the binding expires (10 s), the alert window
    # closes (10 s, aligned to the clock) and the next one clears it
    with step("the binding expires"):
        assert registered is not None
        wait_ev(d, "reg.expired",
                     timeout=max(1, registered + 16 - time.time()))
    with step("alert raised, not delivered, cleared"):
        wait_ev(d, "alert.raised", timeout=max(1, t0 + 25 - time.time()))
        wait_ev(d, "alert.delivery_failed", timeout=8)
        wait_ev(d, "alert.cleared", timeout=25)
    return [d]


# --- scenario: calls, toll fraud, diversion --------------------------------

def scenario_calls(f, tmp, step):
    from test_calls import Edge, finish, sipp_report
    from test_fraud import group, policy, refer_call, refused
    conf = policy(group(), group(name="limited", calls_per_minute=1))
    e = Edge(f, tmp, conf_extra=conf,
             accounts=(("1001", PW), ("1002", PW, "--group", "limited")))

    with step("an answered emergency call, hung up by the phone"):
        uas = e.uas("uas_answer.xml")
        r = e.phone("call_auth_uac.xml", dial="911")
        assert r.returncode == 0, sipp_report(r, tmp)
        assert finish(uas).returncode == 0
    with step("a cancelled call (1002's one call this minute)"):
        uas = e.uas("uas_ring_cancel.xml")
        r = e.phone("call_cancel_uac.xml", user="1002")
        assert r.returncode == 0, sipp_report(r, tmp)
        finish(uas)
    with step("1002's second call this minute: 503"):
        st, resp = refused(e, "2001", user="1002", tag="lim")
        assert st == 503, resp
        # the operator resets its counters (admin.action usage_reset)
        e.d.cli("account", "unblock", "1002")
    with step("a premium-rate number: 403"):
        st, resp = refused(e, "19005551234", tag="prem")
        assert st == 403, resp
    with step("a transfer out of the organisation: 403"):
        st, _ = refer_call(e, "0114420712345", "ext")
        assert st == 403
    with step("a redirect inside the organisation, followed"):
        uas = e.uas("uas_redirect.xml", extra=["-key", "target", "2001"])
        r = e.phone("call_auth_uac.xml", dial="2000")
        assert r.returncode == 0, sipp_report(r, tmp)
        assert finish(uas).returncode == 0
        wait_ev(e.d, "diversion.allowed")
    return [e.d]


# --- scenario: OPTIONS probes and trunk registrations ----------------------

class SipPeer:
    """A UDP socket that answers every request with answer(msg) ->
    (status, reason, extra header lines) in a thread."""

    def __init__(self, host, answer):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.seen = []
        self.stop = threading.Event()
        self.thr = threading.Thread(target=self._run, daemon=True)
        self.thr.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                data, src = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            text = data.decode("utf-8", "replace")
            if text.startswith("SIP/2.0"):
                continue
            self.seen.append(text.split(" ", 1)[0])
            head = text.split("\r\n\r\n", 1)[0].split("\r\n")
            keep = [h for h in head[1:] if re.match(
                r"(?i)(via|from|to|call-id|cseq)\s*:", h)]
            st, reason, extra = self.answer(text)
            out = ["SIP/2.0 %d %s" % (st, reason)]
            for h in keep:
                if re.match(r"(?i)to\s*:", h) and ";tag=" not in h:
                    h += ";tag=peer%x" % (hash(h) & 0xffff)
                out.append(h)
            out += list(extra) + ["Content-Length: 0", "", ""]
            self.sock.sendto("\r\n".join(out).encode(), src)

    def close(self):
        self.stop.set()
        self.thr.join(2)
        self.sock.close()


def scenario_upstream(f, tmp, step):
    # the core target: 503 to its first two probes, 200 after.  Counted,
    # not timed: a daemon slow to start (ASan, a loaded CI machine) must
    # still see the 503s.
    probes = [0]

    def core_answer(m):
        probes[0] += 1
        return (503, "Busy", []) if probes[0] <= 2 else (200, "OK", [])
    core = SipPeer("127.0.0.11", core_answer)
    ok = SipPeer("127.0.0.20", lambda m: (
        200, "OK", ["Contact: <sip:edge1@127.0.0.1>;expires=300"]))
    bad = SipPeer("127.0.0.21", lambda m: (403, "Forbidden", []))
    try:
        core_lsn = swtest.free_port()
        trunk_lsn = swtest.free_port()
        zones = swtest.zones() + [
            {"name": "carrier", "trust": "trusted", "auth": "none",
             "allow": ["127.0.0.20/32"]},
            {"name": "carrier2", "trust": "trusted", "auth": "none",
             "allow": ["127.0.0.21/32"]}]
        for z in zones:
            if z["name"] == "core":
                z.update({"auth": "none", "allow": ["127.0.0.11/32"]})
        trunk = {"username": "edge1",
                 "password": "Trunk-Secret-77x", "domain": "carrier.example",
                 "register": True, "register_expires": "5m"}
        conf = {
            "zones": zones,
            "core": {"zone": "core", "probe_interval": "1s",
                     "targets": [{"address": "127.0.0.11",
                                  "port": core.port}]},
            "trunks": [dict(trunk, name="okprov", zone="carrier",
                            address="127.0.0.20", port=ok.port,
                            prefixes=["00"]),
                       dict(trunk, name="badprov", zone="carrier2",
                            address="127.0.0.21", port=bad.port,
                            prefixes=["011"])],
        }
        d = f(zone="internet", conf=conf, transports=("udp",),
              extra_listen=[
                  {"transport": "udp", "address": "127.0.0.1",
                   "port": core_lsn, "zone": "core"},
                  {"transport": "udp", "address": "127.0.0.1",
                   "port": trunk_lsn, "zone": "carrier"},
                  {"transport": "udp", "address": "127.0.0.1",
                   "port": swtest.free_port(), "zone": "carrier2"}])
        wait_ev(d, "trunk.registered", timeout=5)
        wait_ev(d, "trunk.reg_failed", timeout=5)
        wait_ev(d, "route.target_down", timeout=5)
        wait_ev(d, "route.target_up", timeout=6)
    finally:
        for p in (core, ok, bad):
            p.close()
    return [d]


# --- scenario: media and SRTP ----------------------------------------------

class Srtp:
    """SRTP protection (AES_CM_128_HMAC_SHA1_80) with the system's
    libsrtp2, through ctypes: what an SRTP phone sends."""

    class _Crypto(ctypes.Structure):
        _fields_ = [(n, ctypes.c_int) for n in (
            "cipher_type", "cipher_key_len", "auth_type", "auth_key_len",
            "auth_tag_len", "sec_serv")]

    class _Ssrc(ctypes.Structure):
        _fields_ = [("type", ctypes.c_int), ("value", ctypes.c_uint)]

    class _Policy(ctypes.Structure):
        pass

    _Policy._fields_ = [
        ("ssrc", _Ssrc), ("rtp", _Crypto), ("rtcp", _Crypto),
        ("key", ctypes.c_char_p), ("keys", ctypes.c_void_p),
        ("num_master_keys", ctypes.c_ulong), ("deprecated_ekt",
                                              ctypes.c_void_p),
        ("window_size", ctypes.c_ulong), ("allow_repeat_tx", ctypes.c_int),
        ("enc_xtn_hdr", ctypes.c_void_p), ("enc_xtn_hdr_count", ctypes.c_int),
        ("next", ctypes.c_void_p)]

    def __init__(self, key):
        self.lib = ctypes.CDLL("libsrtp2.so.1")
        assert self.lib.srtp_init() == 0
        p = self._Policy()
        self.lib.srtp_crypto_policy_set_rtp_default(ctypes.byref(p.rtp))
        self.lib.srtp_crypto_policy_set_rtcp_default(ctypes.byref(p.rtcp))
        p.ssrc.type = 3                 # ssrc_any_outbound
        self.kb = ctypes.create_string_buffer(key, len(key))
        p.key = ctypes.cast(self.kb, ctypes.c_char_p)
        p.window_size = 128
        self.sess = ctypes.c_void_p()
        assert self.lib.srtp_create(ctypes.byref(self.sess),
                                    ctypes.byref(p)) == 0

    def protect(self, pkt):
        buf = ctypes.create_string_buffer(pkt, len(pkt) + 64)
        n = ctypes.c_int(len(pkt))
        assert self.lib.srtp_protect(self.sess, buf, ctypes.byref(n)) == 0
        return buf.raw[:n.value]

    def close(self):
        self.lib.srtp_dealloc(self.sess)


def free_range(hosts, size):
    """An even port, above the ephemeral range, with size ports from it
    free for UDP on every host."""
    import random
    for _ in range(200):
        lo = random.randrange(61000, 65000 - size, 2)
        socks = []
        try:
            for h in hosts:
                for p in range(lo, lo + size):
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    socks.append(s)
                    s.bind((h, p))
            return lo
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free media range")


def scenario_media(f, tmp, step):
    import base64
    from test_media import (RtpPeer, done, got, ok_to_invite, reap,
                            rtp_packet, sdp, srtp_key_line)
    phone_a, phone_b, phone_c = "127.0.0.50", "127.0.0.51", "127.0.0.52"
    forger, pbx_ip = "127.0.0.99", "127.0.0.10"
    out, inside, strict = "127.0.0.1", "127.0.0.2", "127.0.0.3"
    lo = free_range((out, inside, strict), 4)
    core_port = swtest.free_port(inside)
    strict_port = swtest.free_port(strict)
    uas_port = swtest.free_port(pbx_ip)
    internet = swtest.deep_merge({"media_address": out, "srtp": "prefer"},
                                 swtest.LENIENT_RATES)
    zones = swtest.zones(internet=internet,
                         core={"auth": "none", "allow": [pbx_ip + "/32"],
                               "media_address": inside}) + [
        {"name": "strict", "trust": "untrusted", "srtp": "require",
         "media_address": strict}]
    conf = swtest.deep_merge(swtest.deep_merge({}, swtest.LENIENT), {
        "auth": {"algorithms": ["MD5"]},
        "zones": zones,
        "core": {"zone": "core", "probe_interval": "0s",
                 "targets": [{"address": pbx_ip, "port": uas_port}]},
        "calls": {"keepalive": "0s"},
        # two port pairs per media address: two calls take them all
        "media": {"anchor": True, "workers": 1, "port_min": lo,
                  "port_max": lo + 3, "timeout": "3s",
                  "one_way_timeout": "1s", "one_way_hangup": False,
                  "strict_source": True, "latch": "signalling"},
    })
    d = f(zone="internet", conf=conf, host=out, transports=("udp",),
          accounts=[("1001", PW)],
          extra_listen=[{"transport": "udp", "address": inside,
                         "port": core_port, "zone": "core"},
                        {"transport": "udp", "address": strict,
                         "port": strict_port, "zone": "strict"}])

    def phone_start(cwd, ip, media_port, scenario, proto, line, hold):
        inf = cwd / "phone.csv"
        inf.write_text("SEQUENTIAL\n1001;%s;2000;%d;%s;%s\n" % (
            PW, media_port, proto, line))
        return subprocess.Popen(
            ["sipp", "-sf", os.path.join(swtest.SCENARIOS, scenario),
             "-t", "u1", "-i", ip, "-p", "0", "-m", "1", "-nostdin",
             "-timeout", "20s", "-timeout_error", "-trace_err", "-trace_msg",
             "-inf", str(inf), "-d", str(hold), "-max_recv_loops", "1000",
             "%s:%d" % (out, d.port)],
            cwd=str(cwd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def offer(ua, body, dial="2000"):
        """1001 calls dial with this SDP, answering the challenge; the
        final status."""
        kw = dict(from_user="1001", body=body,
                  extra="Content-Type: application/sdp")
        first = ua.transact(ua.build("INVITE", dial, **kw))
        assert first is not None and first.status == 407, first
        cred = Credentials("1001", PW, first.challenge("MD5"), "INVITE",
                           ua.ruri(dial), alg="MD5")
        r = ua.transact(ua.build("INVITE", dial, proxy_auth=cred, **kw), 3)
        return r and r.status

    def sdp_body(ip, port, proto="RTP/AVP", line="a=ptime:20"):
        return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
                "m=audio %d %s 0\r\na=rtpmap:0 PCMU/8000\r\n%s\r\n" % (
                    ip, ip, port, proto, line)).encode()

    cwd_a = tmp / "a"
    cwd_b = tmp / "b"
    cwd_a.mkdir()
    cwd_b.mkdir()
    a = RtpPeer(phone_a)
    forged = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    forged.bind((forger, 0))
    key, line = srtp_key_line()
    srtp = Srtp(key)
    pbx = pa = pb = None
    try:
        inf = cwd_a / "pbx.csv"
        inf.write_text("SEQUENTIAL\n%d\n%d\n" % (
            swtest.free_port(pbx_ip), swtest.free_port(pbx_ip)))
        pbx = subprocess.Popen(
            ["sipp", "-sf", os.path.join(swtest.SCENARIOS,
                                         "media_uas_answer.xml"),
             "-i", pbx_ip, "-p", str(uas_port), "-m", "2", "-inf", str(inf),
             "-nostdin", "-timeout", "30s", "-timeout_error", "-trace_msg",
             "-trace_err"], cwd=str(cwd_a), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT)
        time.sleep(0.3)
        # call A: SRTP from the phone; the PBX never sends (one way)
        pa = phone_start(cwd_a, phone_a, a.port, "media_call_uac.xml",
                         "RTP/SAVP", line, 4000)
        ok = sdp(wait_for(lambda: got(cwd_a, "media_call_uac",
                                      ok_to_invite), 10, "call A's 200")[0])
        out_media = (out, ok["port"])
        # call B: plain RTP in the prefer zone (srtp.fallback), and
        # nobody sends anything (media.timeout)
        pb = phone_start(cwd_b, phone_b, swtest.free_port(phone_b),
                         "media_call_wait_bye_uac.xml", "RTP/AVP",
                         "a=ptime:20", 0)
        wait_for(lambda: got(cwd_b, "media_call_wait_bye_uac",
                             ok_to_invite), 10, "call B's 200")
        # every port pair is taken now: call C gets 503
        with SipUA(d, phone_c) as ua:
            st = offer(ua, sdp_body(phone_c, 40000))
            assert st == 503, st                        # ports_exhausted
            st = offer(ua, b"v=0\r\nm=audio x\r\n")
            assert st == 488, st                        # sdp_rejected
            st = offer(ua, sdp_body(
                phone_c, 40000, "RTP/SAVP",
                "a=crypto:1 F8_128_HMAC_SHA1_80 inline:%s" %
                base64.b64encode(os.urandom(30)).decode()))
            assert st == 488, st                        # bad_crypto
        with SipUA(Target(d, strict, strict_port), phone_c) as ua:
            st = offer(ua, sdp_body(phone_c, 40000))
            assert st == 488, st                        # srtp.required

        # SRTP from the phone's address: a stream, one packet twice
        # (srtp.replay), packets with a bad tag (srtp.auth_failed), and
        # RTP from a stranger (media.foreign_source)
        seq, ts, ssrc = 1000, 16000, 0x5eed1234
        start = time.time()
        sent = 0
        while time.time() - start < 2.2:
            pkt = srtp.protect(rtp_packet(seq, ts, ssrc, b"\xff" * 160))
            a.sock.sendto(pkt, out_media)
            if sent == 10:
                a.sock.sendto(pkt, out_media)
            if sent == 20:
                # the next packet with its tag garbled, not sent intact
                seq, ts = seq + 1, ts + 160
                bogus = bytearray(srtp.protect(rtp_packet(
                    seq, ts, ssrc, b"\xff" * 160)))
                bogus[-10:] = bytes(b ^ 0x5a for b in bogus[-10:])
                a.sock.sendto(bytes(bogus), out_media)
            if sent == 30:
                forged.sendto(rtp_packet(seq, ts, ssrc, b"\x00" * 160),
                              out_media)
            if sent == 40:
                # from the phone itself, not RTP (version 0): dropped
                # as malformed (media.malformed)
                a.sock.sendto(b"\x00" * 40, out_media)
            seq, ts, sent = seq + 1, ts + 160, sent + 1
            time.sleep(0.02)
        done(pa, cwd_a)
        done(pb, cwd_b)
        done(pbx, cwd_a)
    finally:
        reap(pa, pb, pbx)
        a.close()
        forged.close()
        srtp.close()
    wait_ev(d, "media.timeout")
    return [d]


# --- scenario: overload ----------------------------------------------------

def scenario_overload(f, tmp, step):
    no_limit = {"rate": "1000000/s", "burst": 1000000}
    conf = swtest.deep_merge(swtest.deep_merge({}, swtest.LENIENT), {
        "zones": swtest.zones(internet={"rate_limits": {
            k: no_limit for k in ("source", "prefix", "account",
                                  "authenticated")}}),
        "overload": {"queue_high": 1, "busy_percent": 100, "reply": True},
    })
    d = f(zone="internet", conf=conf, workers=1, transports=("udp",))
    burst = SipUA(d, bind="127.3.0.1", rcvbuf=1 << 20)
    try:
        d.proc.send_signal(signal.SIGSTOP)
        try:
            for _ in range(100):
                burst.send(burst.build("INVITE", "3000"))
        finally:
            d.proc.send_signal(signal.SIGCONT)
        wait_ev(d, "overload.shed")
    finally:
        burst.close()
    return [d]


# --- scenario: the event queue overflows -----------------------------------

def scenario_queue(f, tmp, step):
    """The event file is a FIFO whose reader stops reading: the writer
    blocks, the queue (two 2 MiB buffers) fills with malformed-message
    events of 200 sources (each about 1.7 KiB: samples of invalid UTF-8
    are escaped), the rest are dropped and counted; once the reader
    drains the FIFO, the shutdown reports them as events.dropped."""
    fifo = str(tmp / "events.fifo")
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    fcntl_pipe_size(rfd, 4096)
    d = f(zone="lab", conf={"events": {"file": fifo}}, transports=("udp",))
    got = bytearray()
    stop = threading.Event()

    def reader():
        while True:
            try:
                chunk = os.read(rfd, 1 << 16)
            except BlockingIOError:
                if stop.is_set() and d.proc is None:
                    return
                time.sleep(0.02)
                continue
            if not chunk:
                if d.proc is None:
                    return
                time.sleep(0.02)
                continue
            got.extend(chunk)

    socks = []
    try:
        for n in range(1, 201):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((source(n, "127.0.5"), 0))
            socks.append(s)
        junk = b"\xff\xfe" + bytes(range(0x80, 0xff)) * 2 + b"\r\n\r\n"
        # about 1300 datagrams a second until the daemon says it dropped
        # events (`status`: its own count), at most 20 s
        deadline = time.time() + 20
        i = dropped = 0
        while dropped < 20:
            assert time.time() < deadline, "no event dropped after %d " \
                "datagrams" % i
            for s in socks:
                s.sendto(junk, d.addr)
                i += 1
            time.sleep(0.15)
            if i % 800 == 0:
                st = ctl(d, {"cmd": "status"})
                dropped = st["result"]["events"]["dropped"]
    finally:
        for s in socks:
            s.close()
        # the writer is blocked on the FIFO: drain it, or nothing stops
        thr = threading.Thread(target=reader, daemon=True)
        thr.start()
        try:
            d.stop()
        finally:
            stop.set()
            thr.join(10)
            os.close(rfd)
    lines = [("%s:%d" % (fifo, n + 1), l.decode("utf-8", "replace"))
             for n, l in enumerate(bytes(got).split(b"\n")[:-1])]
    assert any('"type":"events.dropped"' in l for _, l in lines), (
        "no events.dropped among %d lines; sent %d datagrams" % (
            len(lines), i))
    return lines


def fcntl_pipe_size(fd, size):
    import fcntl
    F_SETPIPE_SZ = 1031
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, size)
    except OSError:
        pass


# --- scenario: syslog (RFC 5424 over /dev/log) ----------------------------

WRAPPER = r"""#!/bin/sh
# sipwalld with /dev/log = the test's socket, in a private mount
# namespace: a tmpfs on /dev holding links to the real device nodes
exec unshare -m --propagation private /bin/sh -e -c '
mkdir -p %(realdev)s
mount --rbind /dev %(realdev)s
mount -t tmpfs -o mode=755 sw-dev /dev
for f in %(realdev)s/*; do ln -s "$f" /dev/"${f##*/}"; done
ln -s %(logsock)s /dev/log
exec %(sipwalld)s "$@"' sh "$@"
"""


def unshare_works():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    r = subprocess.run(["unshare", "-m", "--propagation", "private",
                        "true"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    return r.returncode == 0


SYSLOG = re.compile(r"<(\d{1,3})>1 (\S+) (\S+) (\S+) (\d+) (\S+) (-) (\{.*\})\Z",
                    re.S)


def scenario_syslog(f, tmp, step):
    if not unshare_works():
        raise pytest.skip.Exception("needs root and unshare(1) for a "
                                    "private /dev/log")
    # AF_UNIX paths are short: the socket lives in a short temp dir
    short = tempfile.mkdtemp(prefix="swlog")
    sock_path = os.path.join(short, "log")
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(sock_path)
    os.chmod(sock_path, 0o666)
    rx.settimeout(0.1)
    grams = []
    stop = threading.Event()

    def run():
        while not stop.is_set():
            try:
                grams.append(rx.recv(65536))
            except socket.timeout:
                continue
            except OSError:
                return

    thr = threading.Thread(target=run, daemon=True)
    thr.start()
    wrapper = tmp / "sipwalld-syslog.sh"
    wrapper.write_text(WRAPPER % {"realdev": os.path.join(short, "dev"),
                                  "logsock": sock_path,
                                  "sipwalld": swtest.SIPWALLD})
    wrapper.chmod(0o755)
    d = f(zone="lab", transports=("udp",), start=False,
          conf={"events": {"syslog": True, "syslog_facility": "local3"}})
    d.start(binary=str(wrapper))
    pid = d.pid
    try:
        c = swtest.UdpClient(d)
        c.send(swtest.request("OPTIONS", d, via_port=c.port).replace(
            b"CSeq: 1 OPTIONS", b"CSeq: one OPTIONS"))
        c.recv_all(0.3)
        c.close()
        wait_ev(d, "sip.malformed")
        d.stop()
        wait_for(lambda: any(b"daemon.stopping" in g for g in grams), 5,
                 "daemon.stopping over syslog")
    finally:
        stop.set()
        thr.join(2)
        rx.close()
        # never rmtree: dev/ was a mount point (in the namespace only)
        for path, rm in ((sock_path, os.unlink),
                         (os.path.join(short, "dev"), os.rmdir),
                         (short, os.rmdir)):
            try:
                rm(path)
            except OSError:
                pass
    lines = [t for _, t in event_lines(d)]
    sev = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4,
           "notice": 5, "info": 6, "debug": 7}
    msgs = []
    for g in grams:
        m = SYSLOG.match(g.decode("utf-8"))
        assert m, "not RFC 5424 (<PRI>1 TS HOST APP PID MSGID - JSON): %r" % g
        pri, ts, host, app, pid_s, msgid, _, msg = m.groups()
        ev = json.loads(msg)
        assert int(pri) == 19 * 8 + sev[ev["sev"]], (pri, ev)   # local3
        assert msgid == ev["type"] and host == "test-node", g
        assert app == "sipwalld" and int(pid_s) == pid, g
        assert ts == ev["ts"], g
        msgs.append(msg)
    # the same events, in the same order, as the file
    assert msgs == lines, (msgs, lines)
    assert any('"type":"sip.malformed"' in m for m in msgs), msgs
    return [d]


# --- scenario: the store fails a write -------------------------------------

def scenario_store(f, tmp, step):
    """Another process holds the store's write lock (an operator's
    sqlite3 shell in a transaction): the store writer's transaction
    gives up after the busy timeout (5 s), the REGISTER whose binding
    could not be made durable gets 503, and store.error says why."""
    import sqlite3
    d = f(zone="internet", transports=("udp",), accounts=[("1001", PW_SIG)])
    db = sqlite3.connect(os.path.join(d.state, "sipwall.db"), timeout=1,
                         isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        with SipUA(d, "127.0.7.1", user_agent=NEUTRAL) as ua:
            _, r = ua.register("1001", PW_SIG, expires=60, timeout=12)
            assert r is not None and r.status == 503, r
        ev = wait_ev(d, "store.error", timeout=5)
        assert ev["reason"] == "write_failed", ev
    finally:
        try:
            db.execute("ROLLBACK")
        finally:
            db.close()
    return [d]


# --- scenario: a certificate about to expire -------------------------------

def scenario_certs(f, tmp, step):
    """A TLS listener with a self-signed certificate made to last five
    days: tls.cert_expiring at start, four whole days left."""
    from test_tls import openssl
    if shutil.which("openssl") is None:
        raise pytest.skip.Exception("no openssl command")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", "short.key",
            "-out", "short.pem", "-days", "5", "-subj", "/CN=short-lived",
            cwd=str(tmp))
    port = swtest.free_port()
    d = f(zone="lab", transports=("udp",), extra_listen=[
        {"transport": "tls", "address": "127.0.0.1", "port": port,
         "zone": "lab", "tls": {"cert": str(tmp / "short.pem"),
                                "key": str(tmp / "short.key")}}])
    ev = wait_ev(d, "tls.cert_expiring", timeout=5)
    assert ev["listener"] == "tls:127.0.0.1:%d" % port, ev
    assert (ev["reason"], ev["days_left"], ev["subject"]) == (
        "expiring", 4, "/CN=short-lived"), ev
    return [d]


# --- the run ---------------------------------------------------------------

SCENARIOS = {
    "signaling": (scenario_signaling, [
        "sip.malformed", "sip.oversized", "sip.loop", "sip.unsupported",
        "sip.policy", "sip.invalid", "sip.no_match", "transport.error",
        "transport.conn_limit", "config.loaded", "auth.challenge",
        "ban.enforced",
        "route.failed", "auth.ok", "auth.failed", "auth.unknown_account",
        "account.unlocked",
        "auth.nonce_rejected", "auth.source_denied", "auth.account_disabled",
        "auth.contact_limit", "reg.added", "reg.removed", "reg.expired",
        "acl.denied", "acl.method_denied", "rate.limited", "ban.added",
        "ban.removed", "scanner.detected", "account.locked",
        "fraud.prefix_frozen", "tls.handshake_failed", "tls.cert_rejected",
        "config.changed", "config.rejected", "admin.action", "admin.denied",
        "lockdown.on", "lockdown.off", "daemon.started", "daemon.stopping",
        "alert.raised", "alert.cleared", "alert.delivery_failed",
        "events.suppressed"]),
    "calls": (scenario_calls, [
        "call.attempt", "call.answered", "call.ended", "call.failed",
        "call.blocked", "call.emergency", "fraud.limit",
        "diversion.refused", "diversion.allowed"]),
    "upstream": (scenario_upstream, [
        "route.target_down", "route.target_up", "trunk.registered",
        "trunk.reg_failed"]),
    "media": (scenario_media, [
        "media.timeout", "media.one_way", "media.foreign_source",
        "media.sdp_rejected", "media.ports_exhausted", "srtp.auth_failed",
        "srtp.replay", "srtp.fallback", "srtp.required", "srtp.bad_crypto",
        "media.malformed"]),
    "overload": (scenario_overload, ["overload.shed"]),
    "queue": (scenario_queue, ["events.dropped"]),
    "syslog": (scenario_syslog, ["sip.malformed"]),
    "store": (scenario_store, ["store.error"]),
    "certs": (scenario_certs, ["tls.cert_expiring"]),
}


class Result:
    def __init__(self, name):
        self.name = name
        self.lines = []         # (origin, text)
        self.error = None
        self.skipped = None
        self.secs = 0.0


class Steps:
    """`with step("what"):` runs one step of a scenario; a failure is
    recorded and the scenario goes on, so that one broken decision does
    not hide the events of all the others."""

    def __init__(self):
        self.errors = []

    @contextlib.contextmanager
    def __call__(self, what):
        try:
            yield
        except Exception:
            self.errors.append("step '%s':\n%s" % (
                what, traceback.format_exc()))


def run_one(name, tmp):
    fn, _ = SCENARIOS[name]
    res = Result(name)
    f = Factory(tmp)
    step = Steps()
    t0 = time.time()
    try:
        got = fn(f, tmp, step)
    except pytest.skip.Exception as e:
        res.skipped = str(e)
        got = []
    except BaseException:
        step.errors.append(traceback.format_exc())
        got = []
    step.errors += f.stop_all()
    if step.errors:
        res.error = "\n".join(step.errors)
    for d in f.started:
        res.lines += event_lines(d)
    for x in got:
        if isinstance(x, tuple):
            res.lines.append(x)
    res.secs = time.time() - t0
    return res


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Every scenario once, side by side; {name: Result}."""
    # the longest first: the thread pool starts them at once anyway
    order = ["signaling", "media", "calls", "queue", "store", "upstream",
             "overload", "syslog", "certs"]
    with ThreadPoolExecutor(len(order)) as ex:
        futs = {n: ex.submit(run_one, n, tmp_path_factory.mktemp(n))
                for n in order}
        out = {n: fut.result() for n, fut in futs.items()}
    print("\nscenario seconds: " + ", ".join(
        "%s %.1f" % (n, r.secs) for n, r in out.items()))
    return out


def all_lines(run):
    return [x for r in run.values() for x in r.lines]


_SEEN = {}


def seen_types(run):
    """{type: where first seen} over every scenario (computed once)."""
    if id(run) not in _SEEN:
        _SEEN.clear()
        _SEEN[id(run)] = types_of(all_lines(run))
    return _SEEN[id(run)]


def types_of(lines):
    out = {}
    for origin, text in lines:
        try:
            t = json.loads(text).get("type")
        except ValueError:
            continue
        out.setdefault(t, origin)
    return out


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario(run, name):
    r = run[name]
    if r.skipped:
        pytest.skip(r.skipped)
    assert r.error is None, "scenario %s failed:\n%s" % (name, r.error)
    seen = types_of(r.lines)
    missing = [t for t in SCENARIOS[name][1] if t not in seen]
    assert not missing, "scenario %s did not produce %s (it wrote: %s)" % (
        name, missing, sorted(seen))


def test_every_line_matches_the_schema(run):
    if jsonschema is None:
        pytest.fail("python3-jsonschema is missing: scripts/deps.sh")
    schema = load_schema()
    v = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.FormatChecker())
    lines = all_lines(run)
    assert len(lines) > 200, len(lines)
    bad = []
    for origin, text in lines:
        try:
            ev = json.loads(text)
        except ValueError as e:
            bad.append("%s: not JSON (%s): %s" % (origin, e, text[:300]))
            continue
        errs = sorted(v.iter_errors(ev), key=lambda e: list(e.path))
        for e in errs[:3]:
            bad.append("%s: %s at /%s\n    %s" % (
                origin, e.message[:300], "/".join(map(str, e.path)),
                text[:600]))
        order = check_order(text)
        if order:
            bad.append("%s: %s\n    %s" % (origin, order, text[:600]))
    assert not bad, "%d problems:\n%s" % (len(bad), "\n".join(bad[:40]))


COMMON_ORDER = ["v", "ts", "id", "type", "class", "sev", "node", "src",
                "sport", "transport", "listener", "zone", "reason", "status",
                "method", "call_id", "account", "user_agent", "suppressed",
                "truncated", "detail", "counters"]


def check_order(text):
    """docs/events.md: the line starts with {"v":1,"ts":", the common
    fields come in the order of its table, extras after them, `sample`
    last.  None, or what is wrong."""
    if not text.startswith('{"v":1,"ts":"'):
        return "does not start with {\"v\":1,\"ts\":\""
    keys = [k for k, _ in json.loads(text, object_pairs_hook=list)]
    if len(keys) != len(set(keys)):
        return "duplicate keys %s" % keys
    pos = [COMMON_ORDER.index(k) for k in keys if k in COMMON_ORDER]
    if pos != sorted(pos):
        return "common fields out of order: %s" % keys
    last_common = max(i for i, k in enumerate(keys) if k in COMMON_ORDER)
    if any(k not in COMMON_ORDER and k != "sample"
           for k in keys[:last_common]):
        return "an extra field before a common one: %s" % keys
    if "sample" in keys and keys[-1] != "sample":
        return "sample is not last: %s" % keys
    return None


def all_types():
    return [t for t, *_ in secevent_types()]


@pytest.mark.parametrize("type_", [t for t in all_types()
                                   if t not in RESERVED])
def test_event_type_produced(run, type_, request):
    if type_ in NOT_PRODUCIBLE:
        pytest.skip(NOT_PRODUCIBLE[type_])
    if type_ in CODE_GAPS:
        request.applymarker(pytest.mark.xfail(
            strict=True, reason="code gap: " + CODE_GAPS[type_]))
    assert type_ in seen_types(run), "no scenario produced %s" % type_


@pytest.mark.parametrize("type_", sorted(RESERVED))
def test_reserved_type_not_written(run, type_):
    """docs/events.md says this version never writes it."""
    where = seen_types(run).get(type_)
    assert where is None, (
        "%s written (%s), but docs/events.md marks it reserved (%s): "
        "document what emits it and drop it from RESERVED" % (
            type_, where, RESERVED[type_]))


RESERVED_MARK = "reserved: not emitted by this version"


def test_reserved_is_what_the_docs_say():
    """RESERVED, the rows of docs/events.md and the schema's
    descriptions name the same reserved types."""
    docs = {t for t, row in doc_types().items()
            if RESERVED_MARK in row[3].lower()}
    schema = {t for t, d in schema_types(load_schema()).items()
              if RESERVED_MARK in d.get("description", "").lower()}
    assert docs == set(RESERVED), (sorted(docs ^ set(RESERVED)))
    assert schema == set(RESERVED), (sorted(schema ^ set(RESERVED)))
    for t, row in doc_types().items():
        assert "not emitted yet" not in row[3].lower(), (
            "%s: say \"%s\" (and why) or describe it" % (t, RESERVED_MARK))


# Fields docs/events.md promises on every event of a type beyond what
# the schema requires: every line of that type must have it.
PROMISED_FIELDS = [
    ("auth.contact_limit", "account"),
    ("auth.contact_limit", "max"),
    ("route.failed", "to"),
    ("auth.failed", "status"),
    ("auth.unknown_account", "status"),
    ("auth.nonce_rejected", "status"),
    ("auth.source_denied", "status"),
    ("auth.account_disabled", "status"),
    ("auth.challenge", "status"),
    ("admin.action", "actor"),
    ("admin.action", "command"),
    ("config.loaded", "digest"),
    ("tls.cert_expiring", "days_left"),
    ("media.malformed", "count"),
]

# Fields docs/events.md promises that the code does not write yet: a
# strict xfail each, naming the C side to change.
FIELD_GAPS = [
    # (type, field, why); none today
]


@pytest.mark.parametrize("type_,field", PROMISED_FIELDS +
                         [(t, f) for t, f, _ in FIELD_GAPS])
def test_documented_field_is_written(run, type_, field, request):
    why = {(t, f): r for t, f, r in FIELD_GAPS}.get((type_, field))
    if why is not None:
        request.applymarker(pytest.mark.xfail(strict=True,
                                              reason="code gap: " + why))
    evs = [json.loads(t) for _, t in all_lines(run)
           if '"type":"%s"' % type_ in t]
    assert evs, "no %s event in the run" % type_
    lacking = [e for e in evs if field not in e and not e.get("truncated")]
    assert not lacking, "%s without `%s`: %s" % (type_, field, lacking[0])


def test_allow_lists_name_real_types():
    known = set(all_types())
    assert set(NOT_PRODUCIBLE) <= known, set(NOT_PRODUCIBLE) - known
    assert set(CODE_GAPS) <= known, set(CODE_GAPS) - known
    assert set(RESERVED) <= known, set(RESERVED) - known
    assert not set(NOT_PRODUCIBLE) & set(CODE_GAPS)
    assert not set(RESERVED) & (set(CODE_GAPS) | set(NOT_PRODUCIBLE))
    produced = {t for _, ts in SCENARIOS.values() for t in ts}
    assert not produced & set(CODE_GAPS), produced & set(CODE_GAPS)
    assert not produced & set(RESERVED), produced & set(RESERVED)
    assert not {(t, f) for t, f, _ in FIELD_GAPS} & set(PROMISED_FIELDS)
