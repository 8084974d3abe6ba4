"""SIP over TLS (SIG2): the real daemon on a TLS listener, real TLS
clients (Python's ssl module on OpenSSL, and `openssl s_client`), and
certificates made for each run with the openssl command-line tool: a
CA, a server certificate for 127.0.0.1, a client certificate from the
CA and one from a CA the daemon does not know.

What is checked: a SIP answer over TLS 1.3 by default; TLS 1.1, CBC
ciphers and plaintext refused with an event naming why; mutual TLS; a
stalled handshake cut off after handshake_timeout; REGISTER with digest
over TLS; `sipwall check` on the files; and the memory an idle TLS
connection costs the daemon.
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import time

import pytest

import swtest
from sipauth import Credentials, Response, SipUA

PW = "Tls-pass-4477"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=60)


def make_cert(d, name, ca, san=None):
    """EC P-256 key and a certificate signed by `ca` (a file stem)."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", "/CN=" + name, cwd=d)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\n")
        if san:
            f.write("subjectAltName=%s\n" % san)
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem",
            "-CAkey", ca + ".key", "-CAcreateserial", "-days", "2",
            "-out", name + ".pem", "-extfile", ext, cwd=d)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", name + ".key",
            "-out", name + ".pem", "-days", "2", "-subj", "/CN=" + name,
            cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("no openssl command")
    d = str(tmp_path_factory.mktemp("pki"))
    make_ca(d, "ca")
    make_ca(d, "otherca")
    make_cert(d, "server", "ca", "IP:127.0.0.1,DNS:sip.test")
    make_cert(d, "client", "ca")
    make_cert(d, "stranger", "otherca")
    return d


def tls_daemon(daemon_factory, pki, tls=None, zone="lab", conf=None,
               start=True, **kw):
    """A daemon with one TLS listener; its certificate and key are
    copied next to the config and named relative to it."""
    d = daemon_factory(transports=("tls",), zone=zone, conf=conf,
                       start=False, **kw)
    certs = os.path.join(d.tmp, "certs")
    os.makedirs(certs)
    for f in ("server.pem", "server.key", "ca.pem"):
        shutil.copy(os.path.join(pki, f), certs)
    t = {"cert": "certs/server.pem", "key": "certs/server.key"}
    t.update(tls or {})
    d.conf_dict["listen"][0]["tls"] = t
    with open(d.conf, "w") as f:
        f.write(swtest.to_yaml(d.conf_dict))
    return d.start() if start else d


def client_ctx(pki, cert=None, minv=None, maxv=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(pki, "ca.pem"))
    if cert:
        ctx.load_cert_chain(os.path.join(pki, cert + ".pem"),
                            os.path.join(pki, cert + ".key"))
    if minv:
        ctx.minimum_version = minv
    if maxv:
        ctx.maximum_version = maxv
    if ciphers:
        ctx.set_ciphers(ciphers)
    return ctx


def tls_connect(d, ctx, timeout=3):
    raw = socket.create_connection(d.addr, timeout=timeout)
    try:
        return ctx.wrap_socket(raw, server_hostname=d.host)
    except BaseException:
        raw.close()
        raise


def options(d, sock):
    """OPTIONS over an established TLS socket; the parsed answer."""
    sock.sendall(swtest.request("OPTIONS", d, transport="TLS"))
    msgs = swtest.tcp_read_messages(sock, 1)
    assert msgs, "no answer over TLS"
    return swtest.parse_response(msgs[0])


def refused(d, ctx):
    """The handshake (or the first read after it, TLS 1.3 sends its
    verdict on a client certificate late) fails; no SIP comes back."""
    try:
        s = tls_connect(d, ctx)
    except (ssl.SSLError, ConnectionError):
        return
    try:
        s.sendall(swtest.request("OPTIONS", d, transport="TLS"))
        assert swtest.tcp_read_messages(s, 1) == []
    except (ssl.SSLError, ConnectionError):
        pass
    finally:
        s.close()


def reason_event(d, type_, reason):
    return d.wait_event(type_, lambda e: e.get("reason") == reason)


def test_options_over_tls13_trusted_zone(daemon_factory, pki):
    d = tls_daemon(daemon_factory, pki)
    with tls_connect(d, client_ctx(pki)) as s:
        assert s.version() == "TLSv1.3"
        status, _, hdrs, _ = options(d, s)
        assert status == 200
        assert hdrs["via"][0].startswith("SIP/2.0/TLS ")
        # the same connection carries the next request too
        assert options(d, s)[0] == 200
    assert d.events("tls.handshake_failed") == []


def test_options_over_tls_untrusted_zone_is_challenged(daemon_factory, pki):
    d = tls_daemon(daemon_factory, pki, zone="internet", conf=swtest.LENIENT)
    with tls_connect(d, client_ctx(pki)) as s:
        status, _, hdrs, _ = options(d, s)
    assert status == 407
    assert any('realm="sipwall"' in v for v in hdrs["proxy-authenticate"])


def test_tls12_negotiates_an_aead_suite(daemon_factory, pki):
    d = tls_daemon(daemon_factory, pki)
    ctx = client_ctx(pki, maxv=ssl.TLSVersion.TLSv1_2)
    with tls_connect(d, ctx) as s:
        assert s.version() == "TLSv1.2"
        name = s.cipher()[0]
        assert name.startswith("ECDHE-ECDSA-") and (
            "GCM" in name or "CHACHA20" in name), name
        assert options(d, s)[0] == 200


def test_tls11_refused_with_event(daemon_factory, pki):
    d = tls_daemon(daemon_factory, pki)
    ctx = client_ctx(pki, minv=ssl.TLSVersion.TLSv1,
                     maxv=ssl.TLSVersion.TLSv1_1, ciphers="DEFAULT:@SECLEVEL=0")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        tls_connect(d, ctx).close()
    ev = reason_event(d, "tls.handshake_failed",
                      "tls handshake failed: unsupported protocol")
    assert ev["transport"] == "tls" and ev["src"] == "127.0.0.1"
    # and the same with OpenSSL's own client
    p = subprocess.run(["openssl", "s_client", "-connect",
                        "127.0.0.1:%d" % d.port, "-tls1_1", "-cipher",
                        "DEFAULT@SECLEVEL=0"], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=20)
    assert p.returncode != 0
    assert "New, (NONE), Cipher is (NONE)" in p.stdout, p.stdout
    deadline = time.time() + 5
    while len([e for e in d.events("tls.handshake_failed")
               if e["reason"].endswith("unsupported protocol")]) < 2:
        assert time.time() < deadline, d.events()
        time.sleep(0.05)


@pytest.mark.parametrize("cipher", ["AES128-SHA", "ECDHE-ECDSA-AES128-SHA"])
def test_non_aead_cipher_refused(daemon_factory, pki, cipher):
    d = tls_daemon(daemon_factory, pki)
    ctx = client_ctx(pki, maxv=ssl.TLSVersion.TLSv1_2,
                     ciphers=cipher + ":@SECLEVEL=0")
    with pytest.raises(ssl.SSLError):
        tls_connect(d, ctx).close()
    reason_event(d, "tls.handshake_failed",
                 "tls handshake failed: no shared cipher")


def test_mutual_tls(daemon_factory, pki):
    d = tls_daemon(daemon_factory, pki, tls={
        "ca": "certs/ca.pem", "verify_client": True})
    refused(d, client_ctx(pki))
    ev = reason_event(d, "tls.cert_rejected",
                      "tls handshake failed: peer did not return a "
                      "certificate")
    assert ev["sev"] == "warning"
    refused(d, client_ctx(pki, cert="stranger"))
    reason_event(d, "tls.cert_rejected",
                 "tls handshake failed: certificate verify failed "
                 "(unable to get local issuer certificate)")
    with tls_connect(d, client_ctx(pki, cert="client")) as s:
        assert options(d, s)[0] == 200
    assert len(d.events("tls.cert_rejected")) == 2


def read_until_closed(sock, timeout):
    """Everything the peer sends until it closes (b'' read) within
    timeout; None if it is still open then."""
    sock.settimeout(0.2)
    data, end = b"", time.time() + timeout
    while time.time() < end:
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    return None


def test_plaintext_sip_on_tls_port(daemon_factory, pki):
    d = tls_daemon(daemon_factory, pki)
    with socket.create_connection(d.addr, timeout=3) as s:
        s.sendall(swtest.request("OPTIONS", d, transport="TCP"))
        data = read_until_closed(s, 5)
    assert data is not None, "connection left open"
    assert b"SIP/2.0" not in data
    reason_event(d, "tls.handshake_failed",
                 "tls handshake failed: wrong version number")


def test_stalled_handshake_cut_off(daemon_factory, pki):
    d = tls_daemon(daemon_factory, pki, tls={"handshake_timeout": "1s"})
    t0 = time.time()
    with socket.create_connection(d.addr, timeout=3) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01")   # a ClientHello's start
        data = read_until_closed(s, 5)
    took = time.time() - t0
    assert data == b"", data
    assert 0.9 <= took < 3, took
    reason_event(d, "tls.handshake_failed", "tls handshake timeout")


def test_register_with_digest_over_tls(daemon_factory, pki):
    d = tls_daemon(daemon_factory, pki, zone="internet",
                   conf=swtest.LENIENT, accounts=[("1001", PW)])
    with SipUA(d) as ua, tls_connect(d, client_ctx(pki)) as s:
        lport = s.getsockname()[1]
        contact = "<sip:1001@127.0.0.1:%d;transport=tls>" % lport

        def send(**kw):
            raw = ua.build("REGISTER", "1001", contact=contact,
                           expires=300, **kw)
            raw = raw.replace(b"SIP/2.0/UDP 127.0.0.1:%d" % ua.port,
                              b"SIP/2.0/TLS 127.0.0.1:%d" % lport)
            s.sendall(raw)
            msgs = swtest.tcp_read_messages(s, 1)
            assert msgs, "no answer"
            return Response(msgs[0])

        first = send(call_id="reg-tls-1@x", cseq=1)
        assert first.status == 401
        cred = Credentials("1001", PW, first.challenge("SHA-256"),
                           "REGISTER", ua.ruri())
        ok = send(call_id="reg-tls-1@x", cseq=2, auth=cred)
        assert ok.status == 200, ok.raw
        assert list(ok.contacts().values()) == [300]
    ev = d.wait_event("auth.ok")
    assert ev["transport"] == "tls" and ev["account"] == "1001"
    d.wait_event("reg.added", lambda e: e["account"] == "1001@sipwall")


def check(*args, cwd):
    return subprocess.run([swtest.SIPWALL, "check", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, **swtest.SANITIZER_ENV))


def test_check_loads_the_tls_files(daemon_factory, pki, tmp_path):
    d = tls_daemon(daemon_factory, pki, start=False)
    ok = check(d.conf, cwd=str(tmp_path))       # not the config's dir
    assert (ok.returncode, ok.stderr) == (0, ""), ok.stderr
    printed = check("--print", d.conf, cwd=str(tmp_path))
    assert printed.returncode == 0
    assert ("    tls:\n"
            "      cert: certs/server.pem\n"
            "      key: certs/server.key\n"
            "      ca: \"\"\n"
            "      verify_client: false\n"
            "      min_version: 1.2\n") in printed.stdout
    again = os.path.join(d.tmp, "printed.yaml")
    with open(again, "w") as f:
        f.write(printed.stdout)
    assert check("--print", again, cwd=str(tmp_path)).stdout == \
        printed.stdout

    lines = open(d.conf).read().splitlines()
    cert_line = next(i for i, l in enumerate(lines) if "cert:" in l) + 1
    key_line = cert_line + 1

    def broken(new_cert=None, new_key=None):
        text = open(d.conf).read()
        if new_cert:
            text = text.replace("certs/server.pem", new_cert)
        if new_key:
            text = text.replace("certs/server.key", new_key)
        path = os.path.join(d.tmp, "broken.yaml")
        with open(path, "w") as f:
            f.write(text)
        return check(path, cwd=str(tmp_path)), path

    r, path = broken(new_cert="certs/nope.pem")
    assert r.returncode == 1
    assert r.stderr == ("%s:%d:13: listen[0].tls.cert: cannot read the "
                        "certificate %s/certs/nope.pem: No such file or "
                        "directory\n" % (path, cert_line, d.tmp))
    shutil.copy(os.path.join(pki, "client.key"),
                os.path.join(d.tmp, "certs"))
    r, path = broken(new_key="certs/client.key")
    assert r.returncode == 1
    assert r.stderr == ("%s:%d:12: listen[0].tls.key: the key in "
                        "%s/certs/client.key does not match the certificate "
                        "in %s/certs/server.pem\n" % (path, key_line, d.tmp,
                                                       d.tmp))
    os.chmod(os.path.join(d.tmp, "certs", "server.key"), 0)
    if os.geteuid() != 0:       # root reads anything
        r, _ = broken()
        assert "Permission denied" in r.stderr
    os.chmod(os.path.join(d.tmp, "certs", "server.key"), 0o600)
    # the daemon refuses the same file the same way, before it listens
    r, path = broken(new_cert="certs/nope.pem")
    p = subprocess.run([swtest.SIPWALLD, "-c", path], capture_output=True,
                       text=True, timeout=30,
                       env=dict(os.environ, **swtest.SANITIZER_ENV))
    assert p.returncode == 1
    assert "listen[0].tls.cert: cannot read the certificate" in p.stderr


def peer_cn(sock):
    return dict(x[0] for x in sock.getpeercert()["subject"])["commonName"]


def test_renewed_certificate_applied_by_reload(daemon_factory, pki,
                                               tmp_path):
    """A certificate renewed in place (same paths, new files) is taken
    by `sipwall reload` without a restart: new connections get it, a
    connection made before keeps working; a renewed certificate whose
    key does not match refuses the reload and the one in use stays."""
    d = tls_daemon(daemon_factory, pki)
    ca = os.path.join(pki, "ca")
    make_cert(str(tmp_path), "renewed", ca, "IP:127.0.0.1,DNS:sip.test")
    make_cert(str(tmp_path), "renewed2", ca, "IP:127.0.0.1,DNS:sip.test")
    certs = os.path.join(d.tmp, "certs")
    before = tls_connect(d, client_ctx(pki))
    try:
        assert peer_cn(before) == "server"
        assert options(d, before)[0] == 200
        for src, dst in (("renewed.key", "server.key"),
                         ("renewed.pem", "server.pem")):
            shutil.copy(os.path.join(str(tmp_path), src),
                        os.path.join(certs, dst))
        p = d.cli("reload", "--json")
        out = json.loads(p.stdout)
        assert out["outcome"] == "applied" and out["changed"] == 2, out
        ev = d.wait_event("config.changed")
        assert "~ listen[0].tls.cert.contents: sha256:" in ev["detail"]
        assert "~ listen[0].tls.key.contents: hmac:" in ev["detail"]
        with tls_connect(d, client_ctx(pki)) as s:
            assert peer_cn(s) == "renewed"
            assert options(d, s)[0] == 200
        assert options(d, before)[0] == 200     # the old one carries on
        # a certificate without its key: refused, the renewed one stays
        shutil.copy(os.path.join(str(tmp_path), "renewed2.pem"),
                    os.path.join(certs, "server.pem"))
        p = d.cli("reload", "--json", check=False)
        assert p.returncode != 0, p.stdout
        assert "listen[0].tls.key" in p.stderr, p.stderr
        assert "does not match the certificate" in p.stderr, p.stderr
        ev = d.wait_event("config.rejected")
        assert ev["reason"] == "tls", ev
        with tls_connect(d, client_ctx(pki)) as s:
            assert peer_cn(s) == "renewed"
    finally:
        before.close()
    assert d.events("tls.handshake_failed") == []


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.release
def test_memory_per_idle_tls_connection(daemon_factory, pki):
    """200 idle TLS connections: VmRSS before and after.  The release
    build is measured when SIPWALL_BUILD_RELEASE names one (make test);
    a sanitizer build's allocator makes the figure meaningless."""
    rel = os.environ.get("SIPWALL_BUILD_RELEASE")
    binary = os.path.join(swtest.ROOT, rel, "src", "sipwalld") if rel \
        else None
    d = tls_daemon(daemon_factory, pki, per_source=1000, workers=1,
                   start=False)
    d.start(binary=binary)
    out = subprocess.run(["nm", "-D", binary or swtest.SIPWALLD],
                         capture_output=True).stdout
    asan = b"__asan_init" in out
    ctx = client_ctx(pki)
    n = 200
    # warm up: the allocator's first arenas, OpenSSL's first tables
    for _ in range(20):
        tls_connect(d, ctx).close()
    time.sleep(0.3)
    before = rss_kb(d.pid)
    conns = [tls_connect(d, ctx) for _ in range(n)]
    try:
        assert options(d, conns[0])[0] == 200
        time.sleep(0.5)
        after = rss_kb(d.pid)
    finally:
        for s in conns:
            s.close()
    per = (after - before) * 1024 / n
    print("\nidle TLS connection: %.1f KiB each (VmRSS %d -> %d KiB over "
          "%d connections, %s build)" % (per / 1024, before, after, n,
                                          "ASan" if asan else "release"))
    if not asan:
        assert per < 64 * 1024, per
