"""Helpers for integration tests: start the real sipwalld, talk SIP to it
over real sockets, run real peers (SIPp, sipsak), read its event log.

Every daemon a test starts is stopped by PID at the end of the test, and
its exit is checked: a sanitizer report (ASan, UBSan, LeakSanitizer) or a
non-zero exit fails the test that owned it.
"""
import json
import os
import random
import re
import signal
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("SIPWALL_BUILD", "build"))
SIPWALLD = os.path.join(BUILD, "src", "sipwalld")
SIPWALL = os.path.join(BUILD, "src", "cli", "sipwall")
SCENARIOS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")

SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=66",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=67",
    "LSAN_OPTIONS": "exitcode=68",
}

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


def free_port(host="127.0.0.1", low=40000, high=59999):
    """A port free for both UDP and TCP on host, above sipwall's default
    media range (20000-39999), where a SIP listener is refused."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    for _ in range(100):
        port = random.randint(low, high)
        try:
            with socket.socket(fam, socket.SOCK_DGRAM) as u, \
                    socket.socket(fam, socket.SOCK_STREAM) as t:
                u.bind((host, port))
                t.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


def _yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    v = str(v)
    plain = re.fullmatch(r"[A-Za-z0-9_./-][A-Za-z0-9_./@*+-]*", v)
    if plain and v.lower() not in ("true", "false", "null", "yes", "no",
                                   "on", "off", "~"):
        return v
    return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')


def to_yaml(obj, indent=0):
    """Block YAML for the config loader: mappings and sequences of
    mappings in block style, sequences of scalars in flow style, plain
    scalars where possible (integers are never quoted)."""
    pad = " " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict):
                out.append("%s%s:\n%s" % (pad, k, to_yaml(v, indent + 2)))
            elif isinstance(v, list) and v and isinstance(v[0], dict):
                out.append("%s%s:\n%s" % (pad, k, to_yaml(v, indent + 2)))
            elif isinstance(v, list):
                out.append("%s%s: [%s]\n" % (
                    pad, k, ", ".join(_yaml_scalar(x) for x in v)))
            else:
                out.append("%s%s: %s\n" % (pad, k, _yaml_scalar(v)))
    elif isinstance(obj, list):
        for item in obj:
            body = to_yaml(item, indent + 2)
            out.append(pad + "- " + body[indent + 2:])
    return "".join(out)


def deep_merge(base, extra):
    """extra merged into base (mappings recursively; anything else,
    lists included, replaces); returns base."""
    for k, v in (extra or {}).items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            deep_merge(base[k], v)
        else:
            base[k] = v
    return base


LOOPBACK = ["127.0.0.0/8", "::1/128"]

# The zones every test daemon has.  `lab` is trusted and does not
# authenticate: the parser, transaction and transport tests send plain
# requests there.  `internet` is what a real edge faces: digest
# authentication required (the default for an untrusted zone).  SRTP
# is preferred there rather than required (the default): SIPp phones
# offer plain RTP; test_media.py checks `require` itself.
DEFAULT_ZONES = [
    {"name": "lab", "trust": "trusted", "auth": "none", "allow": LOOPBACK},
    {"name": "internet", "trust": "untrusted", "srtp": "prefer"},
    {"name": "core", "trust": "trusted", "allow": ["127.0.0.0/8"]},
]

# The zones of a daemon whose listeners face the untrusted `internet`:
# the trusted zones name documentation prefixes (RFC 5737), because
# sources a trusted zone allows are never banned anywhere -- with the
# loopback there, no test attacker could ever be banned.
EDGE_ZONES = [
    {"name": "lab", "trust": "trusted", "auth": "none",
     "allow": ["192.0.2.0/24"]},
    {"name": "internet", "trust": "untrusted", "srtp": "prefer"},
    {"name": "core", "trust": "trusted", "allow": ["198.51.100.0/24"]},
]


def zones(base=None, **overrides):
    """EDGE_ZONES (or base) with some zones' keys replaced, e.g.
    zones(internet={"rate_limits": {"action": "reply"}})."""
    out = []
    for z in base or EDGE_ZONES:
        z = dict(z)
        deep_merge(z, overrides.get(z["name"]))
        out.append(z)
    return out


# For tests that are not about protection: budgets and thresholds no
# test of auth or registration can reach, so that a burst of test
# requests or failures never ends in a ban.
LENIENT = {
    "bans": {"auth_failures": 100000, "rate_strikes": 100000},
    "scanner": {"unknown_users": 100000, "sweep": 100000},
    "bruteforce": {"failures": 1000000},
}
LENIENT_RATES = {"rate_limits": {
    "source": {"rate": "100000/s", "burst": 100000},
    "prefix": {"rate": "100000/s", "burst": 100000},
    "account": {"rate": "100000/s", "burst": 100000},
    "authenticated": {"rate": "100000/s", "burst": 100000}}}


class Daemon:
    """One sipwalld process on loopback with its own state directory.

    zone: the zone of every listener (`lab` by default: trusted, no
    authentication; `internet` for the untrusted edge, whose daemons get
    EDGE_ZONES).  zones: replaces the list of zones (a list of dicts).
    conf: a dict deep-merged into
    the generated config (e.g. {"auth": {"nonce_ttl": "10s"}}).
    extra_conf: raw YAML appended to the file (top-level sections the
    generated config does not have).  extra_listen: more listener
    entries (dicts as in the config), e.g. a core-zone listener."""

    def __init__(self, tmp, host="127.0.0.1", transports=("udp", "tcp"),
                 workers=2, t1="500ms", idle="60s", msg_timeout="10s",
                 per_source=32, extra_hosts=(), short_port=False,
                 zone="lab", zones=None, conf=None, extra_conf="",
                 extra_listen=()):
        self.tmp = str(tmp)
        self.state = os.path.join(self.tmp, "state")
        os.makedirs(self.state, exist_ok=True)
        self.host = host
        self.zone = zone
        # sipsak 0.9.8 cuts five-digit ports out of its Request-URI
        self.port = free_port(host, 6000, 9999) if short_port else free_port(host)
        self.listeners = [(t, host, self.port) for t in transports]
        for h in extra_hosts:
            p = free_port(h)
            self.listeners += [(t, h, p) for t in transports]
        cfg = {
            "version": 1,
            "node": {"name": "test-node", "workers": workers,
                     "state_dir": self.state},
            "listen": [{"transport": t, "address": h, "port": p,
                        "zone": zone} for (t, h, p) in self.listeners] +
                      [dict(x) for x in extra_listen],
            "zones": [dict(z) for z in (zones or (
                DEFAULT_ZONES if zone == "lab" else EDGE_ZONES))],
            "sip": {"timers": {"t1": t1},
                    "tcp": {"idle_timeout": idle,
                            "message_timeout": msg_timeout,
                            "max_connections_per_source": per_source}},
            "events": {"file": "events.jsonl"},
            # OPS3: what the test zones do on purpose (SIPp phones offer
            # plain RTP; LENIENT_RATES lifts the per-source limit)
            "acknowledge": ["srtp_prefer:internet", "srtp_off:internet",
                            "unlimited:internet"],
        }
        deep_merge(cfg, conf)
        self.conf_dict = cfg
        self.conf = os.path.join(self.tmp, "sipwall.yaml")
        with open(self.conf, "w") as f:
            f.write(to_yaml(cfg))
            if extra_conf:
                f.write(extra_conf if extra_conf.endswith("\n")
                        else extra_conf + "\n")
        self.proc = None
        self.stderr_path = os.path.join(self.tmp, "sipwalld.stderr")
        self.stderr_logs = []

    def start(self, binary=None):
        """Start (or start again, on the same state) and wait until every
        listener is up.  binary: another sipwalld (a release build)."""
        env = dict(os.environ, **SANITIZER_ENV)
        if self.stderr_logs:
            self.stderr_path = os.path.join(
                self.tmp, "sipwalld.%d.stderr" % len(self.stderr_logs))
        self.stderr_logs.append(self.stderr_path)
        self.err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([binary or SIPWALLD, "-c", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.err, env=env)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("sipwalld exited: " + self.stderr())
            if self.stderr().count("listening on") >= len(self.listeners):
                return self
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError("sipwalld did not start: " + self.stderr())

    @property
    def pid(self):
        return self.proc.pid

    def rss_kb(self):
        """VmRSS of the running daemon in KiB."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill9(self):
        """A crash: SIGKILL, no clean shutdown (nothing is checked)."""
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait()
        self.err.close()
        self.proc = None

    def stop(self):
        """SIGTERM, wait, and fail on a bad exit or a sanitizer report."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("sipwalld did not stop on SIGTERM")
        self.err.close()
        code, self.proc = self.proc.returncode, None
        log = self.stderr()
        for mark in SANITIZER_MARKS:
            assert mark not in log, "sanitizer report:\n" + log[-6000:]
        assert code == 0, "sipwalld exit %d:\n%s" % (code, log[-3000:])

    def events(self, type_=None):
        """The events written so far (a line still being written is left
        for the next call)."""
        path = os.path.join(self.state, "events.jsonl")
        out = []
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    if not line.endswith("\n"):
                        break
                    ev = json.loads(line)
                    if type_ is None or ev["type"] == type_:
                        out.append(ev)
        return out

    def cli(self, *args, input=None, check=True, timeout=60):
        """Run `sipwall` with -D on this daemon's state directory (the
        option goes after the command word and action, which the CLI
        allows anywhere)."""
        return cli(*args, "-D", self.state, input=input, check=check,
                   timeout=timeout)

    def add_account(self, user, password, *opts):
        return self.cli("account", "add", user, "--password-stdin",
                        "--allow-weak", *opts, input=password + "\n")

    def bans(self):
        """`sipwall ban list --json` as a list of dicts."""
        p = self.cli("ban", "list", "--json", check=False)
        if p.returncode != 0 and "no store" in p.stderr:
            return []
        assert p.returncode == 0, p.stderr
        data = json.loads(p.stdout)
        return data if isinstance(data, list) else data.get("bans", data)

    def wait_event(self, type_, pred=lambda e: True, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for ev in self.events(type_):
                if pred(ev):
                    return ev
            time.sleep(0.05)
        raise AssertionError("no %s event; have: %s" % (type_, self.events()))

    @property
    def addr(self):
        return (self.host, self.port)

    def uri_host(self):
        return "[%s]" % self.host if ":" in self.host else self.host


def cli(*args, input=None, check=True, timeout=60):
    """Run the built `sipwall`; fails on a sanitizer report, and (with
    check) on a non-zero exit."""
    env = dict(os.environ, **SANITIZER_ENV)
    p = subprocess.run([SIPWALL, *args], input=input, capture_output=True,
                       text=True, env=env, timeout=timeout)
    for mark in SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    assert p.returncode not in (66, 67, 68), p.stderr
    if check:
        assert p.returncode == 0, "sipwall %s: exit %d\n%s%s" % (
            " ".join(args), p.returncode, p.stdout, p.stderr)
    return p


def branch():
    return "z9hG4bK" + "%016x" % random.getrandbits(64)


def request(method, daemon, ruri=None, via_host="127.0.0.1", via_port=5999,
            transport="UDP", cseq=1, call_id=None, extra="", body=b"",
            br=None, to_tag=None):
    """A well-formed request as bytes."""
    ruri = ruri or "sip:%s:%d" % (daemon.uri_host(), daemon.port)
    call_id = call_id or "%016x@test" % random.getrandbits(64)
    br = br or branch()
    to = "<sip:test@%s>" % daemon.uri_host() + (";tag=" + to_tag if to_tag else "")
    head = ("%s %s SIP/2.0\r\n"
            "Via: SIP/2.0/%s %s:%d;branch=%s;rport\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:probe@example.com>;tag=%x\r\n"
            "To: %s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d %s\r\n"
            "%s"
            "Content-Length: %d\r\n\r\n") % (
                method, ruri, transport, via_host, via_port, br,
                random.getrandbits(32), to, call_id, cseq, method, extra,
                len(body))
    return head.encode() + body


def parse_response(data):
    """(status, reason, headers dict of lists (lower-case names), body)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("utf-8", "replace").split("\r\n")
    m = re.match(r"SIP/2\.0 (\d{3}) ?(.*)", lines[0])
    assert m, "not a response: %r" % data[:200]
    hdrs = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        hdrs.setdefault(name.strip().lower(), []).append(value.strip())
    return int(m.group(1)), m.group(2), hdrs, body


class UdpClient:
    def __init__(self, daemon, bind="127.0.0.1"):
        fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((bind, 0))
        self.sock.settimeout(3)
        self.daemon = daemon

    @property
    def port(self):
        return self.sock.getsockname()[1]

    def send(self, data):
        self.sock.sendto(data, self.daemon.addr)

    def recv(self, timeout=3):
        self.sock.settimeout(timeout)
        data, _ = self.sock.recvfrom(65535)
        return data

    def recv_all(self, duration):
        """Everything that arrives within duration seconds."""
        out, end = [], time.time() + duration
        while True:
            left = end - time.time()
            if left <= 0:
                return out
            self.sock.settimeout(left)
            try:
                out.append(self.sock.recvfrom(65535)[0])
            except socket.timeout:
                return out

    def close(self):
        self.sock.close()


def tcp_connect(daemon, bind=None):
    fam = socket.AF_INET6 if ":" in daemon.host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    if bind:
        s.bind((bind, 0))
    s.settimeout(3)
    s.connect(daemon.addr)
    return s


def tcp_read_messages(sock, count, timeout=3):
    """Read `count` framed SIP messages from a TCP socket."""
    sock.settimeout(timeout)
    buf, out = b"", []
    end = time.time() + timeout
    while len(out) < count and time.time() < end:
        while b"\r\n\r\n" in buf:
            head, _, rest = buf.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^(content-length|l)\s*:\s*(\d+)", head)
            n = int(m.group(2)) if m else 0
            if len(rest) < n:
                break
            out.append(head + b"\r\n\r\n" + rest[:n])
            buf = rest[n:]
            if len(out) == count:
                return out
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        buf += chunk
    return out


def sipp(scenario, daemon, transport="u1", calls=1, rate=10, extra=(),
         timeout=60, cwd=None, local_ip="127.0.0.1"):
    """Run SIPp with a scenario from tests/integration/scenarios against the
    daemon; returns the CompletedProcess (returncode 0 = every call passed)."""
    target = "%s:%d" % (daemon.uri_host(), daemon.port)
    cmd = ["sipp", "-sf", os.path.join(SCENARIOS, scenario), "-t", transport,
           "-i", local_ip, "-p", "0", "-m", str(calls), "-r", str(rate),
           "-nostdin", "-timeout", "%ds" % timeout, "-timeout_error",
           "-trace_err", "-max_recv_loops", "1000"] + list(extra) + [target]
    return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout + 30)
