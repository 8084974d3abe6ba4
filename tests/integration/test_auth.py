"""Digest authentication in an untrusted zone (AUTH1, AUTH3, AUTH4):
the challenges, answers that never tell an attacker which of his guesses
was closest (unknown user, disabled account, wrong password, wrong
source, malformed credentials all get the same challenge), per-account
source prefixes, nonce replay, nonces bound to their source, and CLI
changes picked up by the running daemon."""
import re
import statistics
import time

import swtest
from sipauth import Credentials, SipUA

PW1 = "Secr3t-pass-99"
PW2 = "Other-pass-77x"
PW3 = "Third-pass-55q"

CHALLENGE = (r'Digest realm="sipwall", nonce="[A-Za-z0-9_-]{43}", '
             r'algorithm=%s, qop="auth"')


def internet(daemon_factory, conf=None, rates=False, **kw):
    c = swtest.deep_merge(swtest.deep_merge({}, swtest.LENIENT), conf or {})
    if rates:
        kw["zones"] = swtest.zones(internet=swtest.LENIENT_RATES)
    return daemon_factory(zone="internet", conf=c, **kw)


def test_challenges(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1)])
    with SipUA(d) as ua:
        r = ua.transact(ua.build("REGISTER", "1001"))
        assert (r.status, r.reason) == (401, "Unauthorized")
        www = r.all("www-authenticate")
        # RFC 8760: one challenge per algorithm, the preferred first
        assert len(www) == 2, r.raw
        assert re.fullmatch(CHALLENGE % "SHA-256", www[0]), www
        assert re.fullmatch(CHALLENGE % "MD5", www[1]), www
        assert "proxy-authenticate" not in r.headers
        nonces = {r.challenge("SHA-256")["nonce"]}
        for method in ("OPTIONS", "INVITE", "MESSAGE", "SUBSCRIBE", "BYE"):
            r = ua.transact(ua.build(method, "1001"))
            assert (r.status, r.reason) == (
                407, "Proxy Authentication Required"), (method, r.raw)
            pa = r.all("proxy-authenticate")
            assert len(pa) == 2 and "www-authenticate" not in r.headers
            assert re.fullmatch(CHALLENGE % "SHA-256", pa[0]), pa
            assert re.fullmatch(CHALLENGE % "MD5", pa[1]), pa
            assert "server" not in r.headers
            nonces.add(r.challenge("SHA-256")["nonce"])
        assert len(nonces) == 6        # a fresh nonce for every challenge


def test_ack_and_cancel_are_not_challenged(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1)])
    with SipUA(d) as ua:
        # CANCEL cannot be challenged (RFC 3261 22.1): this one matches
        # no INVITE, so 481
        r = ua.transact(ua.build("CANCEL", "1001"))
        assert r.status == 481, r.raw
        # ACK is never answered
        ua.send(ua.build("ACK", "1001", to_tag="abc"))
        assert ua.recv(0.5) is None


def test_invite_and_options_with_credentials(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1)])
    with SipUA(d) as ua:
        first, r = ua.request_auth("OPTIONS", "1001", PW1,
                                   ruri=ua.ruri())
        assert first.status == 407 and r.status == 200, r.raw
        first, r = ua.request_auth("INVITE", "1001", PW1, alg="MD5")
        # authenticated; no routes are configured yet
        assert first.status == 407 and r.status == 404, r.raw
        first, r = ua.request_auth("INVITE", "1001", "wrong-password")
        assert r.status == 407
    # the event log is written by its own thread: wait for the last one
    d.wait_event("auth.failed")
    d.wait_event("auth.ok", lambda e: e["method"] == "INVITE")
    oks = [(e["method"], e["algorithm"]) for e in d.events("auth.ok")]
    assert oks == [("OPTIONS", "SHA-256"), ("INVITE", "MD5")], oks


def test_realm_and_algorithms_from_config(daemon_factory):
    d = internet(daemon_factory,
                 {"auth": {"realm": "example.org", "algorithms": ["MD5"]}},
                 accounts=[("1001@example.org", PW1)])
    with SipUA(d) as ua:
        first, r = ua.register("1001", PW1, expires=300, alg="MD5")
        www = first.all("www-authenticate")
        assert len(www) == 1
        assert www[0].startswith('Digest realm="example.org", nonce="')
        assert "algorithm=MD5" in www[0]
        assert r.status == 200, r.raw


def masked(resp):
    """The response with what must differ between two transactions
    masked: the nonce, and the Via branch and To tag (a tag is derived
    from the request's Call-ID, branch and From, and two requests that
    are not retransmissions of each other need two branches)."""
    s = resp.raw.decode()
    s = re.sub(r'nonce="[^"]*"', 'nonce="N"', s)
    s = re.sub(r"branch=[^;\r\n]*", "branch=B", s)
    s = re.sub(r"(\r\nTo: [^\r\n]*;tag=)[0-9a-f]+", r"\1T", s)
    return s


def test_failures_are_indistinguishable(daemon_factory):
    """No credentials, unknown user, disabled account, wrong password,
    right password from a source outside the account's prefixes,
    malformed credentials: the same bytes but for the nonce."""
    d = internet(daemon_factory, accounts=[
        ("1001", PW1), ("1002", PW2), ("1003", PW3, "--allow",
                                       "127.0.9.0/24")])
    d.cli("account", "disable", "1002")
    time.sleep(1.5)             # the daemon polls the store every second
    with SipUA(d, "127.0.4.1") as ua:
        uri = ua.ruri()
        fixed = dict(to_user="1001", from_tag="f00d", cseq=1,
                     call_id="enum-1@sipauth", contact=True, expires=300)

        def send(auth):
            return ua.transact(ua.build("REGISTER", "1001", auth=auth,
                                        **fixed))

        r = send(None)
        out = {"none": r}
        variants = [
            ("unknown", "7777", "guess-Pass-1"),
            ("disabled", "1002", PW2),
            ("wrong", "1001", "guess-Pass-1"),
            ("source", "1003", PW3),
            ("malformed", "1001", PW1),
        ]
        for name, user, pw in variants:
            cred = Credentials(user, pw, r.challenge("SHA-256"), "REGISTER",
                               uri)
            hv = cred.header_value()
            if name == "malformed":
                hv = re.sub(r', response="[0-9a-f]+"', "", hv)
            r = send(hv)
            out[name] = r
    base = masked(out["none"])
    assert out["none"].status == 401
    for name, r in out.items():
        assert r is not None and r.status == 401, (name, r)
        assert masked(r) == base, "%s differs:\n%s\n---\n%s" % (
            name, masked(r), base)
    assert len({r.challenge("MD5")["nonce"] for r in out.values()}) == 6
    # only the event log tells them apart
    d.wait_event("auth.unknown_account", lambda e: e["account"] == "7777")
    d.wait_event("auth.account_disabled", lambda e: e["account"] == "1002")
    d.wait_event("auth.failed", lambda e: e["account"] == "1001" and
                 e["reason"] == "bad_response")
    d.wait_event("auth.source_denied", lambda e: e["account"] == "1003")
    d.wait_event("auth.failed", lambda e: e["reason"] == "missing_param")


def test_failure_timing_is_comparable(daemon_factory):
    """Median answer times of an unknown user, a disabled account and a
    wrong password are close (a loose bound: within 3x, plus 1 ms of
    scheduling noise), so timing does not enumerate accounts either."""
    d = internet(daemon_factory, rates=True,
                 accounts=[("1001", PW1), ("1002", PW2)])
    d.cli("account", "disable", "1002")
    time.sleep(1.5)
    kinds = [("unknown", "7777", PW1), ("disabled", "1002", PW2),
             ("wrong", "1001", "guess-Pass-1")]
    times = {k[0]: [] for k in kinds}
    with SipUA(d, "127.0.4.2") as ua:
        r = ua.transact(ua.build("REGISTER", "1001"))
        for i in range(25):
            for name, user, pw in kinds:      # interleaved: same drift
                cred = Credentials(user, pw, r.challenge("SHA-256"),
                                   "REGISTER", ua.ruri())
                msg = ua.build("REGISTER", user, auth=cred, expires=300)
                t0 = time.perf_counter()
                r = ua.transact(msg)
                times[name].append(time.perf_counter() - t0)
                assert r.status == 401
    med = {k: statistics.median(v) for k, v in times.items()}
    lo, hi = min(med.values()), max(med.values())
    print("median answer times (ms):",
          {k: round(v * 1000, 3) for k, v in med.items()})
    assert hi <= 3 * lo + 0.001, med


def test_account_source_prefixes(daemon_factory):
    d = internet(daemon_factory, accounts=[
        ("1003", PW3, "--allow", "127.0.9.0/24", "--allow", "::1")])
    with SipUA(d, "127.0.10.1") as out, SipUA(d, "127.0.9.7") as inside:
        first, r = out.register("1003", PW3, expires=300)
        assert first.status == 401 and r.status == 401, r.raw
        ev = d.wait_event("auth.source_denied")
        assert ev["account"] == "1003" and ev["src"] == "127.0.10.1"
        _, r = inside.register("1003", PW3, expires=300)
        assert r.status == 200, r.raw
    assert [e["src"] for e in d.events("auth.ok")] == ["127.0.9.7"]


def test_replayed_nonce_count_is_stale(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1)])
    with SipUA(d) as ua:
        first, r = ua.register("1001", PW1, expires=300)
        assert r.status == 200
        cred = ua.last_cred
        # the same (nonce, nc) again, correct response: a replay
        r = ua.register_with("1001", cred.header_value(), expires=300)
        assert r.status == 401, r.raw
        assert [c.get("stale") for c in r.challenges] == ["true", "true"]
        # the next nc on the same nonce is fine (RFC 7616 3.4)
        nxt = Credentials("1001", PW1, first.challenge("SHA-256"),
                          "REGISTER", ua.ruri(), nc=2)
        r = ua.register_with("1001", nxt, expires=300)
        assert r.status == 200, r.raw
    ev = wait_reason(d, "replay")
    assert ev["account"] == "1001"
    # replays are no proof of a wrong password: no failure counted
    assert d.events("auth.failed") == []


def wait_reason(d, *reasons, timeout=5):
    """An auth.* event with one of these reasons (replays and bad nonces
    are auth.nonce_rejected in docs/events.md)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for e in d.events():
            if e["type"].startswith("auth.") and e.get("reason") in reasons:
                return e
        time.sleep(0.05)
    raise AssertionError("no auth event with reason %s: %s" % (
        reasons, d.events()))


def test_nonce_is_bound_to_its_source(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1)])
    with SipUA(d, "127.0.5.1") as a, SipUA(d, "127.0.5.2") as b:
        r = a.transact(a.build("REGISTER", "1001"))
        ch = r.challenge("SHA-256")
        # b answers a's challenge with the right password: refused
        cred = Credentials("1001", PW1, ch, "REGISTER", b.ruri())
        r = b.register_with("1001", cred, expires=300)
        assert r.status == 401, r.raw
        # and a, the address it was issued to, can use it
        r = a.register("1001", PW1, expires=300, challenge=ch)[1]
        assert r.status == 200, r.raw
    oks = d.events("auth.ok")
    assert [e["src"] for e in oks] == ["127.0.5.1"], oks


def test_nonce_not_bound_when_configured(daemon_factory):
    """auth.nonce_bind_source: false (clients behind NATs that change
    their address): another source may answer the challenge."""
    d = internet(daemon_factory, {"auth": {"nonce_bind_source": False}},
                 accounts=[("1001", PW1)])
    with SipUA(d, "127.0.5.3") as a, SipUA(d, "127.0.5.4") as b:
        ch = a.transact(a.build("REGISTER", "1001")).challenge("SHA-256")
        r = b.register("1001", PW1, expires=300, challenge=ch)[1]
        assert r.status == 200, r.raw


def test_forged_nonce(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1)])
    with SipUA(d) as ua:
        r = ua.transact(ua.build("REGISTER", "1001"))
        ch = dict(r.challenge("SHA-256"))
        n = ch["nonce"]
        ch["nonce"] = n[:20] + ("A" if n[20] != "A" else "B") + n[21:]
        r = ua.register("1001", PW1, expires=300, challenge=ch)[1]
        assert r.status == 401, r.raw
        # docs/events.md calls it `forged`; the daemon `nonce_invalid`
        wait_reason(d, "forged", "nonce_invalid")
        ch["nonce"] = "x" * 43
        assert ua.register("1001", PW1, challenge=ch)[1].status == 401
    assert d.events("auth.ok") == []


def test_cli_changes_reach_the_running_daemon(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1)])

    def until(status, user, pw, timeout=4.0):
        deadline = time.time() + timeout
        while True:
            r = ua.register(user, pw, expires=300)[1]
            if r.status == status or time.time() > deadline:
                return r
            time.sleep(0.3)

    with SipUA(d) as ua:
        assert ua.register("2001", PW2, expires=300)[1].status == 401
        d.add_account("2001", PW2)
        assert until(200, "2001", PW2).status == 200
        d.cli("account", "disable", "2001")
        assert until(401, "2001", PW2).status == 401
        d.wait_event("auth.account_disabled")
        d.cli("account", "enable", "2001")
        assert until(200, "2001", PW2).status == 200
        d.cli("account", "delete", "2001")
        assert until(401, "2001", PW2).status == 401
        d.wait_event("auth.unknown_account",
                     lambda e: e["ts"] > d.events("auth.account_disabled")
                     [-1]["ts"])
        # the other account never noticed
        assert ua.register("1001", PW1, expires=300)[1].status == 200
