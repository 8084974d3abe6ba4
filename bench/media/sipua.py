"""A tiny SIP user agent pair over raw UDP for bench/media: the "trunk"
places calls into sipwalld (INVITE with SDP, ACK, BYE) and the "PBX"
answers what sipwalld forwards to the core (200 OK with SDP).  Just
enough SIP for calls on loopback between well-behaved peers: no
authentication, answers at once, absorbs retransmissions.

Each call carries its stream index in `Subject` (a header sipwall lets
cross), so the PBX answers with that stream's media port and the bench
knows which relay ports belong to one stream."""
import re
import select
import socket
import time

SDES = "AES_CM_128_HMAC_SHA1_80"
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id",
           "m": "contact", "l": "content-length", "c": "content-type",
           "s": "subject"}


def parse(data):
    """(first line, [(name lowercased, value)], body) of a message."""
    text = data.decode(errors="replace")
    head, _, body = text.partition("\r\n\r\n")
    lines = head.split("\r\n")
    hdrs = []
    for ln in lines[1:]:
        if ln[:1] in (" ", "\t") and hdrs:
            hdrs[-1] = (hdrs[-1][0], hdrs[-1][1] + " " + ln.strip())
            continue
        k, _, v = ln.partition(":")
        k = k.strip().lower()
        hdrs.append((COMPACT.get(k, k), v.strip()))
    return lines[0], hdrs, body


def hget(hdrs, name):
    for k, v in hdrs:
        if k == name:
            return v
    return None


def sdp_media(body):
    """(address, port, profile, SDES key or None) of the first audio
    m-line of an SDP body."""
    addr = port = proto = key = None
    for ln in body.replace("\r\n", "\n").split("\n"):
        if ln.startswith("c=IN IP4 "):
            addr = addr or ln.split()[2]
        elif ln.startswith("m=audio ") and port is None:
            f = ln.split()
            port, proto = int(f[1]), f[2]
        elif ln.startswith("a=crypto:") and SDES in ln and key is None:
            m = re.search(r"inline:([A-Za-z0-9+/=]+)", ln)
            key = m.group(1) if m else None
    return addr, port, proto, key


def sdp(origin, addr, port, key=None):
    """An audio offer or answer: PCMU, 20 ms; RTP/SAVP with one SDES
    crypto line when key is given."""
    lines = ["v=0", "o=%s %d 1 IN IP4 %s" % (origin, port, addr), "s=-",
             "c=IN IP4 %s" % addr, "t=0 0",
             "m=audio %d %s 0" % (port, "RTP/SAVP" if key else "RTP/AVP"),
             "a=rtpmap:0 PCMU/8000", "a=ptime:20", "a=sendrecv"]
    if key:
        lines.append("a=crypto:1 %s inline:%s" % (SDES, key))
    return "\r\n".join(lines) + "\r\n"


def uri_hostport(uri):
    m = re.search(r"sip:(?:[^@>;]*@)?([0-9.]+)(?::(\d+))?", uri)
    return m.group(1), int(m.group(2) or 5060)


class Call:
    def __init__(self, index, key):
        self.index = index
        self.key = key              # the trunk's own SDES key (or None)
        self.call_id = None
        self.to_tag = None
        self.contact = None         # where in-dialog requests go
        self.trunk_side = None      # (addr, port, proto, key) of sipwall's
        self.pbx_side = None        # answer / of its INVITE to the PBX
        self.state = "new"
        self.sent = 0.0
        self.tries = 0


class SipPair:
    """The trunk (trunk_ip, a free port) and the PBX (pbx_ip:pbx_port);
    calls go to sipwalld's carrier listener at sw_ip:sw_port, for `did`.
    Stream i's media: trunk_ip:media_port(i), pbx_ip:media_port(i)."""

    def __init__(self, trunk_ip, pbx_ip, pbx_port, sw_ip, sw_port, did,
                 media_port, run_tag):
        self.trunk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.trunk.bind((trunk_ip, 0))
        self.pbx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.pbx.bind((pbx_ip, pbx_port))
        for s in (self.trunk, self.pbx):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.trunk_ip, self.pbx_ip = trunk_ip, pbx_ip
        self.trunk_port = self.trunk.getsockname()[1]
        self.pbx_port = pbx_port
        self.sw = (sw_ip, sw_port)
        self.did = did
        self.media_port = media_port
        self.tag = run_tag
        self.calls = {}             # call-id -> Call (trunk side)
        self.pbx_calls = {}         # call-id of sipwall's leg -> (tag, idx)
        self.pbx_seen = {}          # stream index -> sipwall's SDP to the PBX
        self.errors = []
        self.seq = 0

    # --- the trunk ------------------------------------------------------

    def _invite(self, c):
        body = sdp("carrier", self.trunk_ip, self.media_port(c.index), c.key)
        msg = ("INVITE sip:{did}@{sw}:{swp} SIP/2.0\r\n"
               "Via: SIP/2.0/UDP {ip}:{port};branch=z9hG4bK-{br}-i\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:+15550009999@{ip}>;tag=t{idx}\r\n"
               "To: <sip:{did}@{sw}>\r\n"
               "Call-ID: {cid}\r\n"
               "CSeq: 1 INVITE\r\n"
               "Contact: <sip:carrier@{ip}:{port}>\r\n"
               "Subject: stream-{idx}\r\n"
               "Content-Type: application/sdp\r\n"
               "Content-Length: {len}\r\n\r\n{body}").format(
                   did=self.did, sw=self.sw[0], swp=self.sw[1],
                   ip=self.trunk_ip, port=self.trunk_port, cid=c.call_id,
                   br="%s-%d" % (self.tag, c.index),
                   idx=c.index, len=len(body), body=body)
        self.trunk.sendto(msg.encode(), self.sw)
        c.sent = time.monotonic()
        c.tries += 1

    def _in_dialog(self, c, method, cseq, branch):
        ruri = c.contact or "sip:%s@%s:%d" % (self.did, *self.sw)
        msg = ("{m} {ruri} SIP/2.0\r\n"
               "Via: SIP/2.0/UDP {ip}:{port};branch=z9hG4bK-{br}-{b}\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:+15550009999@{ip}>;tag=t{idx}\r\n"
               "To: <sip:{did}@{sw}>;tag={tt}\r\n"
               "Call-ID: {cid}\r\n"
               "CSeq: {cseq} {m}\r\n"
               "Content-Length: 0\r\n\r\n").format(
                   m=method, ruri=ruri, ip=self.trunk_ip,
                   port=self.trunk_port, cid=c.call_id, b=branch,
                   br="%s-%d" % (self.tag, c.index),
                   idx=c.index, did=self.did, sw=self.sw[0], tt=c.to_tag,
                   cseq=cseq)
        self.trunk.sendto(msg.encode(), uri_hostport(ruri))

    def _trunk_msg(self, data):
        first, hdrs, body = parse(data)
        cid = hget(hdrs, "call-id")
        c = self.calls.get(cid)
        if not first.startswith("SIP/2.0 "):
            # A request from sipwall (a BYE, a keep-alive): 200 it.
            self._reply(self.trunk, data, "200 OK")
            return
        if c is None:
            return
        code = int(first.split()[1])
        method = (hget(hdrs, "cseq") or " ").split()[-1]
        if method == "INVITE":
            if code < 200:
                return
            if code >= 300:
                c.state = "failed"
                self.errors.append("stream %d: %s" % (c.index, first))
                return
            m = re.search(r";\s*tag=([^;>\s]+)", hget(hdrs, "to") or "")
            c.to_tag = m.group(1) if m else ""
            ct = hget(hdrs, "contact") or ""
            m = re.search(r"<([^>]+)>", ct)
            c.contact = m.group(1) if m else ct.split(";")[0]
            c.trunk_side = sdp_media(body)
            self._in_dialog(c, "ACK", 1, "a")       # for each 200
            if c.state == "inviting":
                c.state = "up"
        elif method == "BYE" and code >= 200:
            c.state = "ended"

    # --- the PBX --------------------------------------------------------

    def _reply(self, sock, data, status, extra="", body=""):
        """Answer the request in data (to where it came from) with
        status; extra goes after the To header field's value."""
        _, hdrs, _ = parse(data)
        out = ["SIP/2.0 " + status]
        names = {"via": "Via", "from": "From", "call-id": "Call-ID",
                 "cseq": "CSeq"}
        for k, v in hdrs:
            if k in names:
                out.append("%s: %s" % (names[k], v))
        out.append("To: %s%s" % (hget(hdrs, "to") or "", extra))
        if body:
            out.append("Content-Type: application/sdp")
        out.append("Content-Length: %d" % len(body))
        sock.sendto(("\r\n".join(out) + "\r\n\r\n" + body).encode(),
                    self._last_src)

    def _pbx_msg(self, data):
        first, hdrs, body = parse(data)
        if first.startswith("SIP/2.0 "):
            return
        method = first.split()[0]
        cid = hget(hdrs, "call-id")
        if method == "INVITE":
            known = self.pbx_calls.get(cid)
            if known is None:
                m = re.search(r"stream-(\d+)", hget(hdrs, "subject") or "")
                if m is None:
                    self.errors.append("the PBX got an INVITE without "
                                       "Subject: stream-N")
                    self._reply(self.pbx, data, "488 Not Acceptable Here")
                    return
                idx = int(m.group(1))
                self.seq += 1
                known = ("p%d" % self.seq, idx)
                self.pbx_calls[cid] = known
                self.pbx_seen[idx] = sdp_media(body)
            tag, idx = known
            body = sdp("pbx", self.pbx_ip, self.media_port(idx))
            extra = ";tag=%s\r\nContact: <sip:pbx@%s:%d>" % (
                tag, self.pbx_ip, self.pbx_port)
            self._reply(self.pbx, data, "200 OK", extra, body)
        elif method == "ACK":
            return
        else:       # BYE, OPTIONS, ...
            tag = self.pbx_calls.get(cid, ("x",))[0]
            self._reply(self.pbx, data, "200 OK", ";tag=%s" % tag
                        if "tag=" not in (hget(hdrs, "to") or "") else "")

    # --- both -----------------------------------------------------------

    def poll(self, secs):
        end = time.monotonic() + secs
        while True:
            left = end - time.monotonic()
            r, _, _ = select.select([self.trunk, self.pbx], [], [],
                                    max(left, 0))
            if not r:
                return
            for s in r:
                while True:
                    try:
                        data, self._last_src = s.recvfrom(65535,
                                                          socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        break
                    if s is self.trunk:
                        self._trunk_msg(data)
                    else:
                        self._pbx_msg(data)
            if time.monotonic() >= end:
                return

    def place(self, indexes, keys=None, window=50, timeout=60):
        """Call stream i for each i in indexes (keys[i]: the trunk's
        SDES key, offered RTP/SAVP), at most `window` INVITEs unanswered
        at once; returns the calls that are up, raises RuntimeError when
        none comes up or time runs out."""
        todo = list(indexes)
        pending = []
        end = time.monotonic() + timeout
        done = []
        while (todo or pending) and time.monotonic() < end:
            while todo and len(pending) < window:
                i = todo.pop(0)
                c = Call(i, keys[i] if keys else None)
                c.call_id = "media-%s-%d@%s" % (self.tag, i, self.trunk_ip)
                self.calls[c.call_id] = c
                c.state = "inviting"
                self._invite(c)
                pending.append(c)
            self.poll(0.01)
            now = time.monotonic()
            for c in list(pending):
                if c.state == "up":
                    pending.remove(c)
                    done.append(c)
                elif c.state == "failed":
                    pending.remove(c)
                elif now - c.sent > 1.0:
                    if c.tries >= 6:
                        self.errors.append("stream %d: no answer" % c.index)
                        pending.remove(c)
                    else:
                        self._invite(c)         # retransmission
        self.poll(0.2)      # late 200 retransmissions get their ACK
        for c in done:
            c.pbx_side = self.pbx_seen.get(c.index)
        if not done:
            raise RuntimeError("no call came up: %s" % (
                "; ".join(self.errors[:3]) or "no answer from sipwalld"))
        return done

    def hangup(self, timeout=20):
        up = [c for c in self.calls.values() if c.state == "up"]
        end = time.monotonic() + timeout
        for k, c in enumerate(up):
            c.state = "bye"
            self._in_dialog(c, "BYE", 2, "b")
            c.sent = time.monotonic()
            if k % 50 == 49:
                self.poll(0.005)
        while time.monotonic() < end:
            left = [c for c in up if c.state == "bye"]
            if not left:
                break
            self.poll(0.05)
            for c in left:
                if time.monotonic() - c.sent > 1.0:
                    self._in_dialog(c, "BYE", 2, "b")
                    c.sent = time.monotonic()
        return sum(1 for c in up if c.state == "ended")

    def close(self):
        self.trunk.close()
        self.pbx.close()
