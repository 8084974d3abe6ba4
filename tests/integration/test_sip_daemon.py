"""The daemon over real sockets (SIG1, SIG2, SIG3): SIPp and sipsak as
peers, raw sockets for what they cannot do (exact retransmission timing,
malformed bytes, slow TCP senders)."""
import socket
import subprocess
import time

import pytest

from swtest import (UdpClient, branch, parse_response, request, sipp,
                    tcp_connect, tcp_read_messages)


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_sipp_options_ping(daemon, transport, tmp_path):
    r = sipp("options_uac.xml", daemon, transport=transport, calls=200,
             rate=200, cwd=tmp_path)
    assert r.returncode == 0, r.stdout.decode()[-3000:]


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_sipp_invite_without_route(daemon, transport, tmp_path):
    r = sipp("invite_noroute_uac.xml", daemon, transport=transport,
             calls=50, rate=50, cwd=tmp_path)
    assert r.returncode == 0, r.stdout.decode()[-3000:]


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_sipp_local_answers(daemon, transport, tmp_path):
    r = sipp("requests_uac.xml", daemon, transport=transport, calls=20,
             rate=20, cwd=tmp_path)
    assert r.returncode == 0, r.stdout.decode()[-3000:]


def test_ipv6_udp_and_tcp(daemon_factory, tmp_path):
    d = daemon_factory(host="::1")
    for t in ("u1", "t1"):
        r = sipp("options_uac.xml", d, transport=t, calls=20, rate=20,
                 cwd=tmp_path, local_ip="::1")
        assert r.returncode == 0, r.stdout.decode()[-3000:]


def test_sipsak_options(daemon_factory):
    daemon = daemon_factory(short_port=True)
    r = subprocess.run(["sipsak", "-vv", "-s", "sip:%s:%d" % daemon.addr],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=20)
    out = r.stdout.decode("utf-8", "replace")
    assert r.returncode == 0, out
    assert "SIP/2.0 200 OK" in out


def test_answers_name_no_product(daemon):
    c = UdpClient(daemon)
    for method in ("OPTIONS", "INVITE", "REGISTER", "FOO"):
        c.send(request(method, daemon, via_port=c.port))
        seen = [c.recv()]
        if method == "INVITE":
            seen.append(c.recv())
        for data in seen:
            _, _, hdrs, _ = parse_response(data)
            assert "server" not in hdrs and "user-agent" not in hdrs
            assert b"sipwall" not in data.lower()
    c.close()


def test_udp_retransmission_absorbed(daemon):
    c = UdpClient(daemon)
    msg = request("OPTIONS", daemon, via_port=c.port)
    c.send(msg)
    first = c.recv()
    c.send(msg)
    second = c.recv()
    # answered from the transaction: the same bytes, To tag included
    assert first == second
    assert parse_response(first)[0] == 200
    c.close()


def test_invite_final_retransmitted_until_ack(daemon):
    c = UdpClient(daemon)
    br = branch()
    inv = request("INVITE", daemon, via_port=c.port, br=br, call_id="g1@t")
    c.send(inv)
    got = c.recv_all(1.8)
    codes = [parse_response(x)[0] for x in got]
    # 100, 404 at 0, then Timer G: 0.5 s, 1.5 s
    assert codes[0] == 100 and codes.count(404) >= 3, codes
    to_tag = parse_response(got[1])[2]["to"][0].split("tag=")[1]
    ack = request("ACK", daemon, via_port=c.port, br=br, call_id="g1@t",
                  to_tag=to_tag)
    c.send(ack)
    time.sleep(0.05)
    assert c.recv_all(2.5) == []          # G stopped by the ACK
    c.close()


def test_cancel_matching(daemon):
    c = UdpClient(daemon)
    br = branch()
    c.send(request("INVITE", daemon, via_port=c.port, br=br, call_id="c@t"))
    assert parse_response(c.recv())[0] == 100
    assert parse_response(c.recv())[0] == 404
    # CANCEL for the (completed) INVITE: 200, no effect
    c.send(request("CANCEL", daemon, via_port=c.port, br=br, call_id="c@t"))
    st = [parse_response(x)[0] for x in c.recv_all(0.4)]
    assert 200 in st, st
    # CANCEL that matches nothing: 481
    c.send(request("CANCEL", daemon, via_port=c.port, br=branch(),
                   call_id="none@t"))
    st = [parse_response(x) for x in c.recv_all(0.4)]
    assert any(s[0] == 481 and s[2]["cseq"][0].endswith("CANCEL")
               for s in st), st
    c.close()


def test_max_forwards_zero(daemon):
    c = UdpClient(daemon)
    msg = request("INVITE", daemon, via_port=c.port).replace(
        b"Max-Forwards: 70", b"Max-Forwards: 0")
    c.send(msg)
    codes = [parse_response(x)[0] for x in c.recv_all(0.5)]
    assert 483 in codes
    c.close()


def test_malformed_request_gets_400_and_event(daemon):
    c = UdpClient(daemon)
    msg = request("OPTIONS", daemon, via_port=c.port).replace(
        b"CSeq: 1 OPTIONS", b"CSeq: one OPTIONS")
    c.send(msg)
    status, reason, hdrs, _ = parse_response(c.recv())
    assert (status, reason) == (400, "Bad CSeq")
    assert hdrs["via"][0].endswith("received=127.0.0.1")
    ev = daemon.wait_event("sip.malformed")
    assert ev["reason"] == "Bad CSeq" and ev["status"] == 400
    assert ev["src"] == "127.0.0.1" and ev["sport"] == c.port
    assert ev["transport"] == "udp" and ev["zone"] == daemon.zone
    c.close()


def test_oversized_datagram_gets_513(daemon):
    c = UdpClient(daemon)
    msg = request("MESSAGE", daemon, via_port=c.port,
                  extra="Content-Type: text/plain\r\n", body=b"x" * 20000)
    c.send(msg)
    status, reason, _, _ = parse_response(c.recv())
    assert (status, reason) == (513, "Message Too Large")
    daemon.wait_event("sip.oversized")
    c.close()


def test_malformed_response_dropped_with_event(daemon):
    c = UdpClient(daemon)
    c.send(b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bKx\r\n"
           b"CSeq: zz\r\n\r\n")
    assert c.recv_all(0.5) == []
    daemon.wait_event("sip.malformed")
    c.close()


def test_udp_keepalive_ignored(daemon):
    c = UdpClient(daemon)
    c.send(b"\r\n\r\n")
    assert c.recv_all(0.3) == []
    c.send(request("OPTIONS", daemon, via_port=c.port))
    assert parse_response(c.recv())[0] == 200
    c.close()


def test_tcp_pipelined_messages(daemon):
    s = tcp_connect(daemon)
    a = request("OPTIONS", daemon, transport="TCP", cseq=1, call_id="p1@t")
    b = request("OPTIONS", daemon, transport="TCP", cseq=2, call_id="p2@t")
    s.sendall(b"\r\n" + a + b)          # leading CRLF is ignored (7.5)
    msgs = tcp_read_messages(s, 2)
    assert [parse_response(m)[2]["cseq"][0] for m in msgs] == \
        ["1 OPTIONS", "2 OPTIONS"]
    s.close()


def test_tcp_partial_reads(daemon):
    s = tcp_connect(daemon)
    msg = request("OPTIONS", daemon, transport="TCP")
    for i in range(0, len(msg), 7):
        s.sendall(msg[i:i + 7])
        time.sleep(0.002)
    assert parse_response(tcp_read_messages(s, 1)[0])[0] == 200
    s.close()


def test_tcp_keepalive_pong(daemon):
    s = tcp_connect(daemon)
    s.sendall(b"\r\n\r\n")
    assert s.recv(16) == b"\r\n"
    s.close()


def test_tcp_missing_content_length(daemon):
    s = tcp_connect(daemon)
    msg = request("OPTIONS", daemon, transport="TCP").replace(
        b"Content-Length: 0\r\n", b"")
    s.sendall(msg)
    m = tcp_read_messages(s, 1)
    assert parse_response(m[0])[:2] == (400, "Missing Content-Length")
    s.settimeout(3)
    assert s.recv(100) == b""            # the stream is lost: closed
    s.close()


def test_tcp_slow_sender_cut_off(daemon_factory):
    d = daemon_factory(msg_timeout="1s")
    s = tcp_connect(d)
    msg = request("OPTIONS", d, transport="TCP")
    s.sendall(msg[:40])
    s.settimeout(4)
    t0 = time.time()
    assert s.recv(100) == b""
    assert 0.8 < time.time() - t0 < 3.5
    d.wait_event("transport.error", lambda e: e["reason"] == "message timeout")
    s.close()


def test_tcp_idle_timeout(daemon_factory):
    d = daemon_factory(idle="1s")
    s = tcp_connect(d)
    s.settimeout(4)
    t0 = time.time()
    assert s.recv(100) == b""
    assert 0.8 < time.time() - t0 < 3.5
    s.close()


def test_tcp_connections_per_source(daemon_factory):
    d = daemon_factory(per_source=3)
    keep = [tcp_connect(d) for _ in range(3)]
    for s in keep:                       # the three are served
        s.sendall(request("OPTIONS", d, transport="TCP"))
        assert parse_response(tcp_read_messages(s, 1)[0])[0] == 200
    extra = tcp_connect(d)
    extra.settimeout(3)
    try:
        data = extra.recv(100)
    except ConnectionResetError:
        data = b""
    assert data == b""
    d.wait_event("transport.conn_limit")
    # another source address is not affected
    other = tcp_connect(d, bind="127.0.0.2")
    other.sendall(request("OPTIONS", d, transport="TCP"))
    assert parse_response(tcp_read_messages(other, 1)[0])[0] == 200
    for s in keep + [extra, other]:
        s.close()
