"""rtpengine's ng control protocol: bencoded dictionaries over UDP, each
message a cookie, a space and the dictionary; the answer carries the
same cookie.  Only what bench/media needs (offer, answer, delete)."""
import os
import socket


def bencode(v):
    if isinstance(v, bytes):
        return b"%d:%s" % (len(v), v)
    if isinstance(v, str):
        return bencode(v.encode())
    if isinstance(v, bool):
        return b"i%de" % int(v)
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, (list, tuple)):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        return b"d" + b"".join(bencode(k) + bencode(v[k])
                               for k in sorted(v)) + b"e"
    raise TypeError("cannot bencode %r" % (v,))


def bdecode(data, i=0):
    """(value, next index); byte strings come back as str."""
    c = data[i:i + 1]
    if c == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if c in (b"l", b"d"):
        i += 1
        items = []
        while data[i:i + 1] != b"e":
            v, i = bdecode(data, i)
            items.append(v)
        if c == b"l":
            return items, i + 1
        return dict(zip(items[0::2], items[1::2])), i + 1
    colon = data.index(b":", i)
    n = int(data[i:colon])
    s = data[colon + 1:colon + 1 + n]
    return s.decode(errors="replace"), colon + 1 + n


class NgClient:
    def __init__(self, port, host="127.0.0.1", timeout=2.0):
        self.addr = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(timeout)
        self.n = 0

    def command(self, cmd, tries=3, **kw):
        """Send {"command": cmd, **kw} (keys with '_' sent with '-');
        the answer dictionary.  Raises RuntimeError on no answer or an
        error result."""
        d = {k.replace("_", "-"): v for k, v in kw.items()}
        d["command"] = cmd
        self.n += 1
        cookie = b"%d_%d" % (os.getpid(), self.n)
        msg = cookie + b" " + bencode(d)
        for _ in range(tries):
            self.sock.sendto(msg, self.addr)
            try:
                while True:
                    data, _ = self.sock.recvfrom(65535)
                    if data.startswith(cookie + b" "):
                        break
            except socket.timeout:
                continue
            res, _ = bdecode(data, len(cookie) + 1)
            if res.get("result") not in ("ok", "pong"):
                raise RuntimeError("rtpengine %s: %s" % (
                    cmd, res.get("error-reason", res)))
            return res
        raise RuntimeError("rtpengine: no answer to %s on udp %s:%d" % (
            (cmd,) + self.addr))

    def close(self):
        self.sock.close()
