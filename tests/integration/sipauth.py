"""A small SIP digest client for the integration tests.

It builds REGISTER, OPTIONS and INVITE requests over UDP from a chosen
source address (any 127.x.y.z: each test attacker or phone is its own
address), parses 401/407 challenges and answers them with MD5 or SHA-256
digests (RFC 7616, RFC 8760) computed here with hashlib, independently of
the daemon's code.  nc and cnonce can be set by hand, so a test can
replay a (nonce, nc) pair or answer an old nonce.
"""
import hashlib
import random
import re
import socket
import time

from swtest import parse_response

HASH = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}


def H(alg, text):
    return HASH[alg](text.encode()).hexdigest()


def digest_response(alg, user, realm, password, method, uri, nonce,
                    nc="00000001", cnonce="0a4f113b", qop="auth"):
    """RFC 7616 section 3.4.1 (qop=auth) or RFC 2617 without qop."""
    ha1 = H(alg, "%s:%s:%s" % (user, realm, password))
    ha2 = H(alg, "%s:%s" % (method, uri))
    if qop:
        return H(alg, "%s:%s:%s:%s:%s:%s" % (ha1, nonce, nc, cnonce, qop,
                                              ha2))
    return H(alg, "%s:%s:%s" % (ha1, nonce, ha2))


_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("((?:[^"\\]|\\.)*)"|[^,\s]+)'
                    r'\s*,?')


def parse_challenge(value):
    """`Digest realm="x", nonce="y", ...` -> dict (lower-case names) with
    `scheme`; quoted values unquoted, `_quoted` lists quoted names."""
    scheme, _, rest = value.strip().partition(" ")
    out = {"scheme": scheme, "_quoted": set()}
    pos = 0
    while pos < len(rest):
        m = _PARAM.match(rest, pos)
        if not m:
            raise AssertionError("bad challenge %r at %d" % (value, pos))
        name = m.group(1).lower()
        if m.group(3) is not None:
            out[name] = re.sub(r"\\(.)", r"\1", m.group(3))
            out["_quoted"].add(name)
        else:
            out[name] = m.group(2)
        pos = m.end()
    return out


class Response:
    def __init__(self, raw):
        self.raw = raw
        self.status, self.reason, self.headers, self.body = \
            parse_response(raw)

    def hdr(self, name, default=None):
        v = self.headers.get(name.lower())
        return v[0] if v else default

    def all(self, name):
        return self.headers.get(name.lower(), [])

    @property
    def challenges(self):
        """Challenges in order (WWW-Authenticate or Proxy-Authenticate)."""
        vals = self.all("www-authenticate") or self.all("proxy-authenticate")
        return [parse_challenge(v) for v in vals]

    def challenge(self, alg="SHA-256"):
        for c in self.challenges:
            if c.get("algorithm", "MD5").upper() == alg.upper():
                return c
        raise AssertionError("no %s challenge in %d %s:\n%s" % (
            alg, self.status, self.reason,
            self.raw.decode("utf-8", "replace")))

    def contacts(self):
        """{uri: expires} of the Contact header fields of a 200."""
        out = {}
        for v in self.all("contact"):
            for part in re.findall(r'<[^>]*>[^,]*', v):
                uri = part[1:part.index(">")]
                m = re.search(r";\s*expires=(\d+)", part)
                out[uri] = int(m.group(1)) if m else None
        return out

    def to_tag(self):
        m = re.search(r";tag=([^;>\s]+)", self.hdr("to", ""))
        return m.group(1) if m else None

    def __repr__(self):
        return "<%d %s>" % (self.status, self.reason)


def _rand(bits=64):
    return "%0*x" % (bits // 4, random.getrandbits(bits))


class Credentials:
    """What one Authorization header field says; kept so a test can send
    it again (replay) or change one parameter."""

    def __init__(self, user, password, challenge, method, uri,
                 alg=None, nc=1, cnonce=None, realm=None, qop="auth",
                 response=None, username=None):
        self.user = user
        self.username = user if username is None else username
        self.password = password
        self.realm = realm or challenge["realm"]
        self.nonce = challenge["nonce"]
        self.opaque = challenge.get("opaque")
        self.alg = alg or challenge.get("algorithm", "MD5")
        self.method = method
        self.uri = uri
        self.nc = "%08x" % nc if isinstance(nc, int) else nc
        self.cnonce = cnonce or _rand(64)
        self.qop = qop
        self.response = response or digest_response(
            self.alg, user, self.realm, password, method, uri, self.nonce,
            self.nc, self.cnonce, qop)

    def header_value(self):
        parts = ['Digest username="%s"' % self.username,
                 'realm="%s"' % self.realm, 'nonce="%s"' % self.nonce,
                 'uri="%s"' % self.uri, 'response="%s"' % self.response,
                 'algorithm=%s' % self.alg]
        if self.qop:
            parts += ["qop=%s" % self.qop, "nc=%s" % self.nc,
                      'cnonce="%s"' % self.cnonce]
        if self.opaque is not None:
            parts.append('opaque="%s"' % self.opaque)
        return ", ".join(parts)


class SipUA:
    """One UDP socket bound to `bind` (port 0 = any) talking to a daemon."""

    def __init__(self, daemon, bind="127.0.0.1", port=0,
                 user_agent="sipauth-test/1", rcvbuf=None):
        self.daemon = daemon
        fam = socket.AF_INET6 if ":" in bind else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind((bind, port))
        self.host = bind
        self.port = self.sock.getsockname()[1]
        self.user_agent = user_agent
        self.calls = {}         # user -> [call_id, cseq] (REGISTER)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    @property
    def target(self):
        return "%s:%d" % (self.daemon.uri_host(), self.daemon.port)

    def ruri(self, user=None):
        return "sip:%s%s" % (user + "@" if user else "", self.target)

    def build(self, method, user="probe", ruri=None, to_user=None,
              contact=True, expires=None, auth=None, proxy_auth=None,
              call_id=None, cseq=1, br=None, to_tag=None, extra="",
              body=b"", from_user=None, from_tag=None):
        """A request as bytes.  contact: True (ours), a string (the
        Contact value), or None (no Contact)."""
        ruri = ruri or self.ruri(None if method == "REGISTER" else user)
        to_user = user if to_user is None else to_user
        from_user = from_user or user
        br = br or "z9hG4bK" + _rand(64)
        call_id = call_id or _rand(64) + "@sipauth"
        h = "[%s]" % self.host if ":" in self.host else self.host
        lines = [
            "%s %s SIP/2.0" % (method, ruri),
            "Via: SIP/2.0/UDP %s:%d;branch=%s;rport" % (h, self.port, br),
            "Max-Forwards: 70",
            "From: <sip:%s@%s>;tag=%s" % (from_user, self.daemon.uri_host(),
                                          from_tag or _rand(32)),
            "To: <sip:%s@%s>%s" % (to_user, self.daemon.uri_host(),
                                   ";tag=" + to_tag if to_tag else ""),
            "Call-ID: %s" % call_id,
            "CSeq: %d %s" % (cseq, method),
        ]
        if contact is True:
            lines.append("Contact: <sip:%s@%s:%d>" % (user, h, self.port))
        elif contact:
            lines.append("Contact: %s" % contact)
        if expires is not None:
            lines.append("Expires: %d" % expires)
        if auth is not None:
            lines.append("Authorization: %s" % (
                auth if isinstance(auth, str) else auth.header_value()))
        if proxy_auth is not None:
            lines.append("Proxy-Authorization: %s" % (
                proxy_auth if isinstance(proxy_auth, str)
                else proxy_auth.header_value()))
        if self.user_agent:
            lines.append("User-Agent: %s" % self.user_agent)
        if extra:
            lines.append(extra.rstrip("\r\n"))
        lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def send(self, data):
        self.sock.sendto(data, self.daemon.addr)

    def recv(self, timeout=2.0):
        """The next datagram as a Response, or None after timeout."""
        self.sock.settimeout(timeout)
        try:
            return Response(self.sock.recvfrom(65535)[0])
        except socket.timeout:
            return None

    def transact(self, data, timeout=2.0):
        """Send a request and return its final response (None: silence).
        Provisional responses and stray answers to other requests are
        skipped; a non-2xx final answer to INVITE is ACKed."""
        branch = re.search(rb"branch=([^;\r\n]+)", data).group(1).decode()
        self.send(data)
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            r = self.recv(left)
            if r is None:
                return None
            if branch not in r.hdr("via", "") or r.status < 200:
                continue
            if data.startswith(b"INVITE ") and r.status >= 300:
                self.send(self.ack_for(data, r))
            return r

    def ack_for(self, invite, resp):
        """The ACK of a non-2xx final response (RFC 3261 17.1.1.3)."""
        head = invite.split(b"\r\n\r\n", 1)[0].decode()
        lines = head.split("\r\n")
        ruri = lines[0].split(" ")[1]
        keep = {}
        for line in lines[1:]:
            name = line.split(":", 1)[0].strip().lower()
            keep.setdefault(name, line)
        cseq = int(keep["cseq"].split(":", 1)[1].split()[0])
        out = ["ACK %s SIP/2.0" % ruri, keep["via"], "Max-Forwards: 70",
               keep["from"], "To: %s" % resp.hdr("to"), keep["call-id"],
               "CSeq: %d ACK" % cseq, "Content-Length: 0"]
        return ("\r\n".join(out) + "\r\n\r\n").encode()

    # -- higher level ----------------------------------------------------

    def _dialog(self, user, call_id=None):
        d = self.calls.setdefault(user, [call_id or _rand(64) + "@reg", 0])
        d[1] += 1
        return d[0], d[1]

    def register(self, user, password, expires=None, contact=True,
                 alg="SHA-256", to_user=None, challenge=None, timeout=2.0,
                 username=None, extra=""):
        """Unauthenticated REGISTER, then one answering the challenge.
        Returns (first response, final response); with challenge (a
        parsed challenge dict) the first step is skipped (first = None).
        """
        first = None
        if challenge is None:
            cid, cseq = self._dialog(user)
            first = self.transact(self.build(
                "REGISTER", user, to_user=to_user, contact=contact,
                expires=expires, call_id=cid, cseq=cseq, extra=extra),
                timeout)
            if first is None or first.status != 401:
                return first, first
            challenge = first.challenge(alg)
        cid, cseq = self._dialog(user)
        cred = Credentials(user, password, challenge, "REGISTER",
                           self.ruri(), alg=alg, username=username)
        self.last_cred = cred
        final = self.transact(self.build(
            "REGISTER", user, to_user=to_user, contact=contact,
            expires=expires, auth=cred, call_id=cid, cseq=cseq,
            extra=extra), timeout)
        return first, final

    def register_with(self, user, cred, expires=None, contact=True,
                      to_user=None, timeout=2.0):
        """A REGISTER carrying exactly these credentials."""
        cid, cseq = self._dialog(user)
        return self.transact(self.build(
            "REGISTER", user, to_user=to_user, contact=contact,
            expires=expires, auth=cred, call_id=cid, cseq=cseq), timeout)

    def request_auth(self, method, user, password, alg="SHA-256",
                     timeout=2.0, ruri=None):
        """OPTIONS/INVITE etc.: 407, then Proxy-Authorization."""
        ruri = ruri or self.ruri(user)
        first = self.transact(self.build(method, user, ruri=ruri),
                              timeout)
        if first is None or first.status != 407:
            return first, first
        cred = Credentials(user, password, first.challenge(alg), method,
                           ruri, alg=alg)
        final = self.transact(self.build(method, user, ruri=ruri,
                                         proxy_auth=cred), timeout)
        return first, final


def assert_silent(ua, data, wait=1.0):
    """data gets no answer at all within wait seconds."""
    ua.send(data)
    got = []
    end = time.time() + wait
    while time.time() < end:
        r = ua.recv(max(0.01, end - time.time()))
        if r is not None:
            got.append(r)
    assert not got, "expected silence, got %r" % got


def source(n, base="127.0.1"):
    """The n-th test source address 127.0.1.n (1..254) or in another /24."""
    return "%s.%d" % (base, n)
