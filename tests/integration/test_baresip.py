"""A real softphone over TLS through sipwall (issue 4, "must show"):

    baresip 1.0 (127.0.0.1) --TLS--> sipwall internet listener (digest)
        -> sipwall core listener (UDP) -> core PBX (SIPp UAS, 127.0.0.10)

baresip runs headless in a config directory of the test's own, verifies
sipwall's certificate against the test CA (`sip_cafile`), registers over
TLS, calls 2000 (routed to the PBX, which answers) and hangs up.  It is
driven over ctrl_tcp (netstring-framed JSON commands and events).
dumpcap records the TLS listener's port throughout: tshark must find TLS
handshake and application-data records there and no cleartext SIP.

Skipped when baresip is not installed (scripts/deps.sh installs it).
"""
import json
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
from test_tls import pki, tls_daemon  # noqa: F401 (pki is a fixture)

MODULES = "/usr/lib/baresip/modules"


def tone_wav(path, seconds=3, hz=440, rate=8000):
    """8 kHz mono 16-bit: what aufile feeds G.711 without resampling."""
    import math
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
    ctrl_tcp; stopped by PID."""

    def __init__(self, tmp, account, cafile):
        self.dir = os.path.join(str(tmp), "baresip")
        os.makedirs(self.dir)
        self.ctrl_port = swtest.free_port()
        rtp = swtest.free_port(low=30000, high=39000)
        tone = os.path.join(self.dir, "tone.wav")
        tone_wav(tone)
        conf = {
            "poll_method": "epoll",
            "sip_listen": "127.0.0.1:0",
            "sip_cafile": cafile,
            "call_local_timeout": "20",
            "call_max_calls": "1",
            "audio_source": "aufile," + tone,
            "audio_player": "aufile,/dev/null",
            "audio_alert": "aufile,/dev/null",
            "rtp_ports": "%d-%d" % (rtp, rtp + 9),
            "module_path": MODULES,
            "module": ["g711.so", "aufile.so"],
            "module_tmp": ["account.so"],
            "module_app": ["menu.so", "ctrl_tcp.so"],
            "ctrl_tcp_listen": "127.0.0.1:%d" % self.ctrl_port,
        }
        with open(os.path.join(self.dir, "config"), "w") as f:
            for k, v in conf.items():
                for one in (v if isinstance(v, list) else [v]):
                    f.write("%s\t%s\n" % (k, one))
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
                    raise AssertionError("baresip did not start:\n" +
                                         self.output())
                time.sleep(0.1)

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def command(self, cmd, params=""):
        data = json.dumps({"command": cmd, "params": params,
                           "token": cmd}).encode()
        self.sock.sendall(b"%d:%s," % (len(data), data))

    def _read(self, timeout):
        """The next netstring message as a dict, or None by timeout."""
        end = time.time() + timeout
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
        """The next event of type_ (e.g. REGISTER_OK); fails at once on
        one of `fail` types."""
        end = time.time() + timeout
        while time.time() < end:
            msg = self._read(end - time.time())
            if msg is None:
                break
            self.seen.append(msg)
            if msg.get("type") in fail:
                raise AssertionError("baresip: %s\n%s" % (msg, self.output()))
            if msg.get("type") == type_:
                return msg
        raise AssertionError("no %s from baresip; saw %s\n%s" % (
            type_, self.seen, self.output()))

    def stop(self):
        if self.sock is not None:
            self.sock.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Capture:
    """dumpcap on lo for one TCP port, stopped by PID."""

    def __init__(self, path, port):
        self.path = str(path)
        self.port = port
        self.proc = subprocess.Popen(
            ["dumpcap", "-q", "-i", "lo", "-f", "tcp port %d" % port,
             "-w", self.path], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(1.0)                 # dumpcap is capturing

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def tshark(self, *args):
        p = subprocess.run(["tshark", "-n", "-r", self.path, *args],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.splitlines()


def test_baresip_registers_and_calls_over_tls(daemon_factory, pki,  # noqa: F811
                                              tmp_path):
    if shutil.which("baresip") is None:
        pytest.skip("baresip is not installed (scripts/deps.sh)")

    def factory(transports, **kw):
        return tls_daemon(daemon_factory, pki, **kw)

    e = Edge(factory, tmp_path, conf_extra={"auth": {"algorithms": os.environ.get("XALG","SHA-256,MD5").split(",")}})
    port = e.d.port
    uas = e.uas("uas_answer.xml")
    cap = Capture(tmp_path / "tls.pcapng", port)
    phone = None
    try:
        phone = Baresip(
            tmp_path, "<sip:1001@127.0.0.1:%d;transport=tls>;auth_pass=%s;"
            "regint=60;answermode=manual;audio_codecs=PCMU" % (port, PW),
            os.path.join(pki, os.environ.get("XCA", "ca.pem")))
        e.d.wait_event("reg.added", timeout=15)
        phone.command("dial", "sip:2000@127.0.0.1:%d" % port)
        phone.wait("CALL_ESTABLISHED", fail=("CALL_CLOSED",))
        time.sleep(1)
        phone.command("hangup")
        phone.wait("CALL_CLOSED")
        u = finish(uas)
        assert u.returncode == 0, sipp_report(u, tmp_path)
        time.sleep(0.5)
    finally:
        if phone is not None:
            phone.stop()
        if uas.poll() is None:
            uas.terminate()
            finish(uas)
        cap.stop()
    print(phone.output())
