"""A real softphone over TLS through sipwall (issue 4, "must show"):

    baresip 1.0 (127.0.0.1) --TLS--> sipwall internet listener (digest)
        -> sipwall core listener (UDP) -> core PBX (SIPp UAS, 127.0.0.10)

baresip runs headless in a config directory of the test's own
(`sip_cafile` names the test CA, an 8 kHz WAV is its microphone), is
driven over ctrl_tcp (netstring-framed JSON commands and events),
registers over TLS, calls 2000 -- which sipwall routes to the PBX, which
answers -- and the call is hung up by the phone or by the PBX.  dumpcap
records the TLS listener's port throughout: tshark must find a TLS
handshake and application data there, and no cleartext SIP.

What baresip 1.0 (libre 1.1.0, Debian 12) needs, found here:
- MD5 only: a response with any non-MD5 challenge (`algorithm=SHA-256`,
  first or second) fails its REGISTER with ENOSYS ("Function not
  implemented") instead of using the MD5 one, hence
  `auth.algorithms: [MD5]` (Edge's default).
- It loads `sip_cafile` but does not verify the server's certificate
  (no `sip_verify_server` before baresip 1.1/libre 2.x): it registers
  against a CA that never signed sipwall's certificate just the same.
  So the certificate is checked here with OpenSSL through Python's ssl
  module (chain to the CA, IP SAN 127.0.0.1) -- what a verifying phone
  does.
- Our Contact over TLS must be `sip:ADDR;transport=tls` when the phone
  used sip: -- libre refuses a `sips:` remote target (ENOSYS on the ACK,
  call dropped).

Skipped when baresip is not installed (scripts/deps.sh installs it).
"""
import json
import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import wave

import pytest

import swtest
from test_calls import PW, Edge, finish, messages, received, sipp_report
from test_tls import client_ctx, pki, tls_connect, tls_daemon  # noqa: F401

MODULES = "/usr/lib/baresip/modules"

pytestmark = pytest.mark.skipif(shutil.which("baresip") is None,
                                reason="baresip is not installed "
                                "(scripts/deps.sh installs it)")


def tone_wav(path, seconds=3, hz=440, rate=8000):
    """8 kHz mono 16-bit: what aufile feeds G.711 without resampling."""
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate)))
        for i in range(rate * seconds))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)


class Baresip:
    """One headless baresip in its own config directory, driven over
    ctrl_tcp, its SIP trace (-s) in baresip.log; stopped by PID."""

    def __init__(self, tmp, account, cafile):
        self.dir = os.path.join(str(tmp), "baresip")
        os.makedirs(self.dir)
        self.ctrl_port = swtest.free_port()
        rtp = swtest.free_port(low=30000, high=39000)
        tone = os.path.join(self.dir, "tone.wav")
        tone_wav(tone)
        conf = [
            ("poll_method", "epoll"),
            ("sip_listen", "127.0.0.1:0"),      # any ports: it only dials
            ("sip_cafile", cafile),
            ("call_local_timeout", "20"),
            ("call_max_calls", "1"),
            ("audio_source", "aufile," + tone),
            ("rtp_ports", "%d-%d" % (rtp, rtp + 9)),
            ("module_path", MODULES),
            ("module", "g711.so"),
            ("module", "aufile.so"),
            ("module_tmp", "account.so"),
            ("module_app", "menu.so"),          # the commands ctrl_tcp runs
            ("module_app", "ctrl_tcp.so"),
            ("ctrl_tcp_listen", "127.0.0.1:%d" % self.ctrl_port),
        ]
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("".join("%s\t%s\n" % kv for kv in conf))
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(account + "\n")
        self.log_path = os.path.join(self.dir, "baresip.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            ["baresip", "-f", self.dir, "-v", "-s"], cwd=self.dir,
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        self.sock, self.buf, self.seen = None, b"", []
        deadline = time.time() + 10
        while self.sock is None:
            try:
                self.sock = socket.create_connection(
                    ("127.0.0.1", self.ctrl_port), timeout=1)
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise AssertionError("baresip did not start:\n" +
                                         self.output())
                time.sleep(0.05)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def command(self, cmd, params=""):
        data = json.dumps({"command": cmd, "params": params,
                           "token": cmd}).encode()
        self.sock.sendall(b"%d:%s," % (len(data), data))

    def _next(self, end):
        """The next netstring message as a dict; None at `end`."""
        while True:
            colon = self.buf.find(b":")
            if colon > 0:
                n = int(self.buf[:colon])
                if len(self.buf) >= colon + n + 2:
                    msg = self.buf[colon + 1:colon + 1 + n]
                    self.buf = self.buf[colon + n + 2:]
                    return json.loads(msg)
            left = end - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def wait(self, type_, timeout=15, fail=()):
        """The next event of type_ (CALL_ESTABLISHED, ...); one of the
        `fail` types first fails at once."""
        end = time.time() + timeout
        while True:
            msg = self._next(end)
            if msg is None:
                raise AssertionError("no %s from baresip; saw %s\n%s" % (
                    type_, self.seen, self.output()[-6000:]))
            self.seen.append(msg)
            if msg.get("type") in fail:
                raise AssertionError("baresip: %s\n%s" % (
                    msg, self.output()[-6000:]))
            if msg.get("type") == type_:
                return msg

    def stop(self):
        """SIGTERM (it unregisters, then exits); the exit status."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Capture:
    """dumpcap on lo for one TCP port; stopped by PID."""

    def __init__(self, path, port):
        self.path = str(path)
        self.proc = subprocess.Popen(
            ["dumpcap", "-q", "-i", "lo", "-f", "tcp port %d" % port,
             "-w", self.path], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(1.0)                 # dumpcap is capturing

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def fields(self, filt, *names):
        """One tuple of field values per packet matching the display
        filter `filt`."""
        cmd = ["tshark", "-n", "-r", self.path, "-Y", filt, "-T", "fields"]
        for n in names:
            cmd += ["-e", n]
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return [tuple(line.split("\t")) for line in p.stdout.splitlines()]


def check_capture(cap):
    """TLS on the wire, and nothing of SIP in the clear."""
    hello = cap.fields("tls.handshake.type == 2",
                       "tls.handshake.extensions.supported_version")
    assert hello, "no TLS ServerHello on the TLS port"
    assert all(v == ("0x0304",) for v in hello), hello      # TLS 1.3
    assert cap.fields("tls.handshake.type == 1", "frame.number")
    # REGISTER x2 and its answers, INVITE x2, 407, ACK, 100, 180, 200,
    # ACK, BYE, 200, the un-REGISTER x2 and answers: all encrypted
    assert len(cap.fields("tls.app_data", "frame.number")) >= 12
    assert cap.fields("sip", "frame.number") == []
    streams = {}
    for port, hexdata in cap.fields("tcp.len > 0", "tcp.srcport",
                                    "tcp.payload"):
        streams[port] = streams.get(port, b"") + bytes.fromhex(
            hexdata.replace(":", ""))
    assert len(streams) == 2, streams.keys()
    for data in streams.values():
        assert b"SIP/2.0" not in data and b"sip:" not in data


@pytest.mark.parametrize("hangup", ["phone", "pbx"])
def test_baresip_registers_and_calls_over_tls(
        daemon_factory, pki, tmp_path, hangup):  # noqa: F811
    def factory(transports, **kw):      # the phones' listener is TLS
        return tls_daemon(daemon_factory, pki, **kw)

    e = Edge(factory, tmp_path)
    port = e.d.port
    # the certificate a verifying phone checks: chain to the test CA,
    # subjectAltName IP 127.0.0.1 (baresip 1.0 itself does not check)
    with tls_connect(e.d, client_ctx(pki)) as s:
        assert s.version() == "TLSv1.3"
    scenario = "uas_answer.xml" if hangup == "phone" else "uas_answer_bye.xml"
    uas = e.uas(scenario)
    cap = Capture(tmp_path / "tls.pcapng", port)
    phone = None
    try:
        phone = Baresip(
            tmp_path, "<sip:1001@127.0.0.1:%d;transport=tls>;auth_pass=%s;"
            "regint=60;answermode=manual;audio_codecs=PCMU" % (port, PW),
            os.path.join(pki, "ca.pem"))
        reg = e.d.wait_event("reg.added", timeout=15)
        assert reg["transport"] == "tls" and reg["account"] == "1001@sipwall"
        assert reg["contact"].endswith(";transport=tls"), reg
        # the account's transport=tls applies to the dialled URI too
        phone.command("dial", "sip:2000@127.0.0.1:%d" % port)
        phone.wait("CALL_ESTABLISHED", fail=("CALL_CLOSED",))
        if hangup == "phone":
            time.sleep(1)
            phone.command("hangup")
        phone.wait("CALL_CLOSED", timeout=10)
        u = finish(uas)
        assert u.returncode == 0, sipp_report(u, tmp_path)
        assert phone.stop() == 0, phone.output()[-3000:]
        e.d.wait_event("reg.removed", lambda ev: ev["transport"] == "tls")
        time.sleep(0.3)                 # the last segments are captured
    finally:
        if phone is not None:
            phone.stop()
        if uas.poll() is None:
            uas.terminate()
            finish(uas)
        cap.stop()

    att = e.d.wait_event("call.attempt")
    assert att["transport"] == "tls" and att["account"] == "1001" \
        and att["to"] == "2000", att
    assert e.d.wait_event("call.answered")["transport"] == "tls"
    ended = e.d.wait_event("call.ended")
    assert ended["reason"] == "bye" and ended["by"] == (
        "caller" if hangup == "phone" else "callee"), ended

    core_in = received(messages(tmp_path, scenario[:-4]))
    invite = next(m for m in core_in if m.startswith("INVITE "))
    assert "P-Asserted-Identity: <sip:1001@sipwall>" in invite, invite
    head, _, body = invite.partition("\n\n")
    # of the phone, only the SDP body crosses (media: issue 6)
    assert "baresip" not in head and "m=audio" in body, invite
    if hangup == "phone":
        assert any(m.startswith("BYE ") for m in core_in), core_in

    # the phone saw our answer with a Contact it can route over TLS
    trace = phone.output()
    assert "Call established" in trace
    assert "Contact: <sip:127.0.0.1:%d;transport=tls>" % port in trace
    if hangup == "pbx":
        assert "BYE sip:" in trace.split("Call established", 1)[1]
    check_capture(cap)
