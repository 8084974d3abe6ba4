"""SIP trunks (issue 4: AUTH5, SIG6): the core dials out through a
provider that challenges sipwall (outbound digest), the provider
delivers calls for our numbers (DID mapping), and sipwall registers
itself with the provider.  The provider is a SIPp instance on
127.0.0.20, recognised by its address (the trunk's trusted zone).
"""
import os
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest

import swtest
from sipauth import digest_response, parse_challenge
from test_calls import (CORE, finish, invite_final, messages, received,
                        sipp_report)

TRUNK = "127.0.0.20"
TRUNK_USER = "edge1"
TRUNK_PW = "Trunk-Secret-77x"
DIDS = ["4930123400", "4930123401"]


def trunk_conf(trunk, core_port):
    """Zones (core: the PBX at 127.0.0.10; carrier: the provider at
    127.0.0.20, both trusted by address), the core route and one trunk."""
    zones = swtest.zones() + [
        {"name": "carrier", "trust": "trusted", "auth": "none",
         "allow": [TRUNK + "/32"]}]
    for z in zones:
        if z["name"] == "core":
            z.update({"auth": "none", "allow": [CORE + "/32"]})
    return swtest.deep_merge(swtest.deep_merge({}, swtest.LENIENT), {
        "zones": zones,
        "core": {"zone": "core", "probe_interval": "0s",
                 "targets": [{"address": CORE, "port": core_port}]},
        "calls": {"keepalive": "0s"},
        "trunks": [trunk],
    })


class TrunkEdge:
    """sipwall with a core listener (PBX at 127.0.0.10) and a trunk
    listener (provider at 127.0.0.20)."""

    def __init__(self, factory, tmp, register=False, targets_core=True,
                 conf_extra=None):
        self.tmp = tmp
        self.core_port = swtest.free_port()
        self.trunk_port = swtest.free_port()
        self.uas_port = swtest.free_port(CORE)
        self.provider_port = swtest.free_port(TRUNK)
        trunk = {"name": "carrier", "zone": "carrier", "address": TRUNK,
                 "port": self.provider_port, "prefixes": ["00", "+"],
                 "dids": DIDS, "username": TRUNK_USER,
                 "password": TRUNK_PW, "domain": "carrier.example"}
        if register:
            trunk.update({"register": True, "register_expires": "5m"})
        conf = swtest.deep_merge(trunk_conf(trunk, self.uas_port),
                                 conf_extra)
        self.d = factory(zone="internet", conf=conf, transports=("udp",),
                         extra_listen=[
                             {"transport": "udp", "address": "127.0.0.1",
                              "port": self.core_port, "zone": "core"},
                             {"transport": "udp", "address": "127.0.0.1",
                              "port": self.trunk_port, "zone": "carrier"}])

    def sipp_bg(self, scenario, ip, port, calls=1):
        cmd = ["sipp", "-sf", os.path.join(swtest.SCENARIOS, scenario),
               "-i", ip, "-p", str(port), "-m", str(calls), "-nostdin",
               "-timeout", "30s", "-timeout_error", "-trace_msg",
               "-trace_err"]
        p = subprocess.Popen(cmd, cwd=str(self.tmp), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
        time.sleep(0.3)
        return p

    def dial(self, ip, port, number):
        return subprocess.run(
            ["sipp", "-sf", os.path.join(swtest.SCENARIOS,
                                         "core_invite_uac.xml"),
             "-i", ip, "-p", "0", "-s", number, "-m", "1", "-nostdin",
             "-timeout", "20s", "-timeout_error", "-trace_msg", "-trace_err",
             "127.0.0.1:%d" % port],
            cwd=str(self.tmp), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=40)


def check_digest(msg, header, method, password):
    """The credentials in msg's header answer its challenge."""
    m = re.search(r"^%s: (.*)$" % header, msg, re.M)
    assert m, msg
    cred = parse_challenge(m.group(1).strip())
    assert cred["username"] == TRUNK_USER
    assert cred["realm"] == "carrier.example"
    want = digest_response("MD5", TRUNK_USER, cred["realm"], password,
                           method, cred["uri"], cred["nonce"],
                           nc=cred["nc"], cnonce=cred["cnonce"],
                           qop=cred["qop"])
    assert cred["response"] == want, (cred, want)
    return cred


def test_core_dials_out_through_the_trunk_with_digest(daemon_factory,
                                                      tmp_path):
    e = TrunkEdge(daemon_factory, tmp_path)
    prov = e.sipp_bg("trunk_uas_challenge.xml", TRUNK, e.provider_port)
    r = e.dial(CORE, e.core_port, "004930555000")
    assert r.returncode == 0, sipp_report(r, tmp_path)
    p = finish(prov)
    assert p.returncode == 0, sipp_report(p, tmp_path)
    got = received(messages(tmp_path, "trunk_uas_challenge"))
    invites = [m for m in got if m.startswith("INVITE ")]
    assert len(invites) == 2, got
    assert invites[0].startswith("INVITE sip:004930555000@carrier.example ")
    cred = check_digest(invites[1], "Proxy-Authorization", "INVITE",
                        TRUNK_PW)
    assert cred["opaque"] == "op4que"
    assert cred["uri"] == "sip:004930555000@carrier.example"
    # topology: the provider sees sipwall, never the PBX
    for m in got:
        assert CORE not in m.split("\n\n")[0], m
    assert re.search(r"^From: \"Reception\" <sip:100@carrier\.example>;tag=",
                     invites[0], re.M), invites[0]
    ev = e.d.wait_event("call.answered")
    assert ev["direction"] == "trunk_out"


def test_provider_delivers_a_did_to_the_core(daemon_factory, tmp_path):
    e = TrunkEdge(daemon_factory, tmp_path)
    pbx = e.sipp_bg("uas_answer.xml", CORE, e.uas_port)
    r = e.dial(TRUNK, e.trunk_port, DIDS[1])
    assert r.returncode == 0, sipp_report(r, tmp_path)
    p = finish(pbx)
    assert p.returncode == 0, sipp_report(p, tmp_path)
    inv = next(m for m in received(messages(tmp_path, "uas_answer"))
               if m.startswith("INVITE "))
    assert inv.startswith("INVITE sip:%s@%s:%d " % (DIDS[1], CORE,
                                                     e.uas_port)), inv
    assert TRUNK not in inv.split("\n\n")[0]
    ev = e.d.wait_event("call.attempt")
    assert ev["direction"] == "trunk_in" and ev["to"] == DIDS[1]


def test_provider_cannot_call_numbers_that_are_not_ours(daemon_factory,
                                                       tmp_path):
    e = TrunkEdge(daemon_factory, tmp_path)
    final = invite_final(e.d, TRUNK, e.trunk_port, "00900123")
    assert final is not None and final.startswith(b"SIP/2.0 404"), final
    e.d.wait_event("route.failed",
                   lambda ev: ev["reason"] == "not a number of this trunk")
    assert e.d.events("call.attempt") == []


def test_only_the_providers_address_is_heard_on_the_trunk(daemon_factory,
                                                         tmp_path):
    """Trunks are identified by source address: anyone else sending to
    the trunk listener is not heard at all (zone ACL), so a forged
    'provider' cannot inject calls to the PBX."""
    e = TrunkEdge(daemon_factory, tmp_path)
    c = swtest.UdpClient(e.d, bind="127.0.0.66")
    c.sock.sendto(swtest.request("INVITE", e.d, ruri="sip:%s@127.0.0.1:%d"
                                 % (DIDS[0], e.trunk_port),
                                 via_host="127.0.0.66", via_port=c.port),
                  ("127.0.0.1", e.trunk_port))
    c.sock.settimeout(1.5)
    try:
        data = c.sock.recvfrom(65535)[0]
    except OSError:
        data = None
    assert data is None or not data.startswith(b"SIP/2.0 1"), data
    assert e.d.events("call.attempt") == []


def test_sipwall_registers_with_the_provider(daemon_factory, tmp_path):
    prov_port = swtest.free_port(TRUNK)
    # the registrar must listen before sipwall starts registering
    cmd = ["sipp", "-sf", os.path.join(swtest.SCENARIOS,
                                       "trunk_uas_register.xml"),
           "-i", TRUNK, "-p", str(prov_port), "-m", "1", "-nostdin",
           "-timeout", "20s", "-timeout_error", "-trace_msg", "-trace_err"]
    prov = subprocess.Popen(cmd, cwd=str(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    time.sleep(0.3)
    orig = swtest.free_port

    def fixed(host="127.0.0.1", *a, **kw):
        return prov_port if host == TRUNK else orig(host, *a, **kw)

    swtest.free_port = fixed
    try:
        e = TrunkEdge(daemon_factory, tmp_path, register=True)
    finally:
        swtest.free_port = orig
    ev = e.d.wait_event("trunk.registered", timeout=10)
    assert ev["trunk"] == "carrier" and ev["expires"] == 120
    p = finish(prov)
    assert p.returncode == 0, sipp_report(p, tmp_path)
    regs = [m for m in received(messages(tmp_path, "trunk_uas_register"))
            if m.startswith("REGISTER ")]
    assert len(regs) == 2
    assert regs[0].startswith("REGISTER sip:carrier.example SIP/2.0")
    assert "Authorization" not in regs[0]
    check_digest(regs[1], "Authorization", "REGISTER", TRUNK_PW)
    assert re.search(r"^Expires: 300", regs[0], re.M)
    assert re.search(r"^From: <sip:edge1@carrier\.example>", regs[0], re.M)


def take_frames(buf):
    """Whole SIP messages (their heads) at the start of a stream buffer,
    framed by Content-Length; returns (heads, the rest)."""
    heads = []
    while b"\r\n\r\n" in buf:
        head, _, rest = buf.partition(b"\r\n\r\n")
        m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        n = int(m.group(1)) if m else 0
        if len(rest) < n:
            break
        heads.append(head.decode())
        buf = rest[n:]
    return heads, buf


class TlsProvider(threading.Thread):
    """A trunk provider reachable only over TLS: accepts one connection
    with its certificate, answers INVITE with 200 and BYE with 200, and
    records every message it got (and whether a handshake failed)."""

    def __init__(self, pki, port, host=TRUNK):
        super().__init__(daemon=True)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(pki, "provider.pem"),
                                 os.path.join(pki, "provider.key"))
        self.sock = socket.create_server((host, port))
        self.host = host
        self.sock.settimeout(15)
        self.got = []
        self.error = None
        self.version = None

    def reply(self, conn, msg, status, extra=""):
        hdrs = dict()
        for line in msg.split("\r\n")[1:]:
            k, _, v = line.partition(":")
            hdrs.setdefault(k.strip().lower(), []).append(v.strip())
        out = "SIP/2.0 %s\r\n" % status
        for v in hdrs.get("via", []):
            out += "Via: %s\r\n" % v
        to = hdrs["to"][0]
        if ";tag=" not in to:
            to += ";tag=prov1"
        out += "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n" % (
            hdrs["from"][0], to, hdrs["call-id"][0], hdrs["cseq"][0])
        out += extra + "Content-Length: 0\r\n\r\n"
        conn.sendall(out.encode())

    def run(self):
        try:
            raw, _ = self.sock.accept()
            conn = self.ctx.wrap_socket(raw, server_side=True)
            self.version = conn.version()
            conn.settimeout(10)
            buf = b""
            while True:
                data = conn.recv(65535)
                if not data:
                    return
                heads, buf = take_frames(buf + data)
                for msg in heads:
                    self.got.append(msg)
                    if msg.startswith("INVITE "):
                        self.reply(conn, msg, "200 OK", "Contact: <sip:prov@"
                                   "%s:%d;transport=tls>\r\n"
                                   % (self.host,
                                      self.sock.getsockname()[1]))
                    elif msg.startswith("BYE "):
                        self.reply(conn, msg, "200 OK")
                        return
        except (OSError, ssl.SSLError) as e:
            self.error = e
        finally:
            self.sock.close()


@pytest.fixture(scope="module")
def trunk_pki(tmp_path_factory):
    from test_tls import make_ca, make_cert
    d = str(tmp_path_factory.mktemp("trunkpki"))
    make_ca(d, "ca")
    make_cert(d, "provider", "ca", "DNS:carrier.example")
    make_cert(d, "edge", "ca", "IP:127.0.0.1")
    return d


def tls_trunk_edge(factory, tmp, pki, provider_port, **trunk):
    """sipwall whose trunk `carrier` is reached over TLS from a TLS
    listener of the carrier zone; the core dials it with prefix 00."""
    core_port = swtest.free_port()
    tls_port = swtest.free_port()
    t = {"name": "carrier", "zone": "carrier", "transport": "tls",
         "address": TRUNK, "port": provider_port, "prefixes": ["00"],
         "domain": "carrier.example",
         "tls_ca": os.path.join(pki, "ca.pem")}
    t.update(trunk)
    conf = trunk_conf(t, 5060)
    d = factory(zone="internet", conf=conf, transports=("udp",), t1="100ms",
                extra_listen=[
                    {"transport": "udp", "address": "127.0.0.1",
                     "port": core_port, "zone": "core"},
                    {"transport": "tls", "address": "127.0.0.1",
                     "port": tls_port, "zone": "carrier",
                     "tls": {"cert": os.path.join(pki, "edge.pem"),
                             "key": os.path.join(pki, "edge.key")}}])
    return d, core_port


def test_core_dials_out_over_tls_to_a_verified_provider(daemon_factory,
                                                        tmp_path, trunk_pki):
    port = swtest.free_port(TRUNK)
    prov = TlsProvider(trunk_pki, port)
    prov.start()
    d, core_port = tls_trunk_edge(daemon_factory, tmp_path, trunk_pki, port)
    r = subprocess.run(
        ["sipp", "-sf", os.path.join(swtest.SCENARIOS, "core_invite_uac.xml"),
         "-i", CORE, "-p", "0", "-s", "0044201234", "-m", "1", "-nostdin",
         "-timeout", "20s", "-timeout_error", "-trace_err",
         "127.0.0.1:%d" % core_port],
        cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=40)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    prov.join(timeout=10)
    assert prov.error is None, prov.error
    assert prov.version in ("TLSv1.2", "TLSv1.3"), prov.version
    methods = [m.split(" ", 1)[0] for m in prov.got]
    assert methods == ["INVITE", "ACK", "BYE"], prov.got
    assert prov.got[0].startswith("INVITE sip:0044201234@carrier.example ")
    assert re.search(r"^Via: SIP/2.0/TLS 127\.0\.0\.1:", prov.got[0], re.M)
    d.wait_event("call.ended", lambda ev: ev["direction"] == "trunk_out")


def test_provider_with_the_wrong_certificate_gets_nothing(daemon_factory,
                                                         tmp_path, trunk_pki):
    """The provider's certificate names carrier.example; sipwall expects
    another name, refuses the handshake, and no INVITE leaves over it."""
    port = swtest.free_port(TRUNK)
    prov = TlsProvider(trunk_pki, port)
    prov.start()
    d, core_port = tls_trunk_edge(daemon_factory, tmp_path, trunk_pki, port,
                                  tls_name="other.example")
    final = invite_final(d, CORE, core_port, "0044201234", timeout=12)
    assert final is not None and final.startswith(b"SIP/2.0 408"), final
    prov.join(timeout=10)
    assert prov.got == []
    ev = d.wait_event("tls.cert_rejected", timeout=5)
    assert ev["src"] == TRUNK


def test_core_target_over_tls(daemon_factory, tmp_path, trunk_pki):
    """The PBX reached over TLS (verified by name against the test CA):
    a phone's call goes out on sipwall's own TLS connection from the
    core zone's TLS listener, and the phone's BYE follows on it."""
    from test_calls import Edge, PW
    port = swtest.free_port(CORE)
    pbx = TlsProvider(trunk_pki, port, host=CORE)
    pbx.start()
    e = Edge(daemon_factory, tmp_path, first_targets=[
        {"transport": "tls", "address": CORE, "port": port,
         "tls_ca": os.path.join(trunk_pki, "ca.pem"),
         "tls_name": "carrier.example"}],
        more_listen=[{"transport": "tls", "address": "127.0.0.1",
                      "port": swtest.free_port(), "zone": "core",
                      "tls": {"cert": os.path.join(trunk_pki, "edge.pem"),
                              "key": os.path.join(trunk_pki, "edge.key")}}])
    r = e.phone("call_auth_uac.xml")
    assert r.returncode == 0, sipp_report(r, tmp_path)
    pbx.join(timeout=10)
    assert pbx.error is None, pbx.error
    assert [m.split(" ", 1)[0] for m in pbx.got] == ["INVITE", "ACK", "BYE"]
    assert re.search(r"^Via: SIP/2.0/TLS ", pbx.got[0], re.M), pbx.got[0]
    assert "P-Asserted-Identity: <sip:1001@sipwall>" in pbx.got[0]
    e.d.wait_event("call.ended", lambda ev: ev["reason"] == "bye")


def sip_over_tls(sock, msg, want_final=True, timeout=8):
    """Send msg on a TLS socket and collect answers up to a final one."""
    sock.sendall(msg)
    sock.settimeout(timeout)
    buf, got = b"", []
    end = time.time() + timeout
    while time.time() < end:
        data = sock.recv(65535)
        if not data:
            break
        heads, buf = take_frames(buf + data)
        for head in heads:
            got.append(head)
            if not want_final or not head.startswith("SIP/2.0 1"):
                return got
    return got


def test_provider_known_by_certificate_alone(daemon_factory, tmp_path,
                                             trunk_pki):
    """A trunk zone without an allow list: its only listener is TLS and
    demands a client certificate naming carrier.example.  The provider
    (any address) delivers a DID call over it; a client whose
    certificate the same CA signed but for another name is refused."""
    uas_port = swtest.free_port(CORE)
    tls_port = swtest.free_port()
    core_port = swtest.free_port()
    trunk = {"name": "carrier", "zone": "carrier", "transport": "tls",
             "address": TRUNK, "port": 5061, "dids": DIDS,
             "domain": "carrier.example",
             "tls_ca": os.path.join(trunk_pki, "ca.pem")}
    conf = trunk_conf(trunk, uas_port)
    for z in conf["zones"]:
        if z["name"] == "carrier":
            del z["allow"]
    d = daemon_factory(zone="internet", conf=conf, transports=("udp",),
                       extra_listen=[
                           {"transport": "udp", "address": "127.0.0.1",
                            "port": core_port, "zone": "core"},
                           {"transport": "tls", "address": "127.0.0.1",
                            "port": tls_port, "zone": "carrier",
                            "tls": {"cert": os.path.join(trunk_pki,
                                                         "edge.pem"),
                                    "key": os.path.join(trunk_pki,
                                                        "edge.key"),
                                    "ca": os.path.join(trunk_pki, "ca.pem"),
                                    "verify_client": True,
                                    "peer_names": ["carrier.example"]}}])
    pbx = subprocess.Popen(
        ["sipp", "-sf", os.path.join(swtest.SCENARIOS, "uas_answer.xml"),
         "-i", CORE, "-p", str(uas_port), "-m", "1", "-nostdin",
         "-timeout", "20s", "-timeout_error", "-trace_msg"],
        cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(0.3)

    def client(name):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(os.path.join(trunk_pki, "ca.pem"))
        ctx.check_hostname = False
        ctx.load_cert_chain(os.path.join(trunk_pki, name + ".pem"),
                            os.path.join(trunk_pki, name + ".key"))
        raw = socket.create_connection(("127.0.0.1", tls_port), timeout=5)
        return ctx.wrap_socket(raw)

    def req(method, cseq, to_tag=""):
        return ("%s sip:%s@127.0.0.1:%d;transport=tls SIP/2.0\r\n"
                "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bK%s%d\r\n"
                "Max-Forwards: 70\r\nFrom: <sip:+15550100@carrier.example>"
                ";tag=prov\r\nTo: <sip:%s@carrier.example>%s\r\n"
                "Call-ID: cert-trunk@test\r\nCSeq: %d %s\r\n"
                "Contact: <sip:prov@127.0.0.1:5099;transport=tls>\r\n"
                "Content-Length: 0\r\n\r\n" % (
                    method, DIDS[0], tls_port, method.lower(), cseq,
                    DIDS[0], to_tag, cseq, method)).encode()
    with client("provider") as s:
        got = sip_over_tls(s, req("INVITE", 1))
        assert got and got[-1].startswith("SIP/2.0 200"), got
        tag = re.search(r"(?im)^To: .*(;tag=[^;\s]+)", got[-1]).group(1)
        s.sendall(req("ACK", 1, tag))
        got = sip_over_tls(s, req("BYE", 2, tag))
        assert got and got[-1].startswith("SIP/2.0 200"), got
    assert pbx.wait(timeout=20) == 0
    ev = d.wait_event("call.attempt")
    assert ev["direction"] == "trunk_in" and ev["transport"] == "tls"
    with pytest.raises((ssl.SSLError, OSError)):
        with client("edge") as s:
            sip_over_tls(s, req("INVITE", 1), timeout=3)
    d.wait_event("tls.cert_rejected")
    assert len(d.events("call.attempt")) == 1
