"""Protection of an untrusted zone (PROT1-PROT5): zone ACLs and methods,
rate limits, automatic and manual bans (persistent, escalating, never
for allow-listed or trusted sources), scanner detection by User-Agent
and behaviour, distributed brute force against one account, and the
office behind one NAT address that must not be mistaken for an attack.

Every attacker is its own loopback address (127.0.x.y), so the tests do
not disturb each other's budgets, and every wait polls the event log or
the socket against a deadline."""
import re
import time

import swtest
from sipauth import Credentials, SipUA, assert_silent, source

PW1 = "Secr3t-pass-99"
PW2 = "Other-pass-77x"
NEUTRAL = "Yealink SIP-T46S 66.86.0.15"


def internet(daemon_factory, conf=None, zone_conf=None, **kw):
    """The untrusted zone with default thresholds unless conf says."""
    if zone_conf is not None:
        kw["zones"] = swtest.zones(internet=zone_conf)
    return daemon_factory(zone="internet", conf=conf, **kw)


def fail_once(ua, user="1001", password="wrong-Guess-1", timeout=1.0):
    """One wrong password (an unauthenticated REGISTER for a nonce, then
    the wrong answer); returns the answer to the credentials or None."""
    return ua.register(user, password, expires=300, timeout=timeout)[1]


def ban_of(d, key):
    for b in d.bans():
        if b["key"] == key:
            return b
    return None


# -- zone ACL and methods ---------------------------------------------------

def test_acl_denied_sources_get_silence(daemon_factory):
    d = internet(daemon_factory, zone_conf={
        "allow": ["127.0.7.0/24"], "deny": ["127.0.7.128/25"]},
        accounts=[("1001", PW1)])
    with SipUA(d, "127.0.7.1") as ok, SipUA(d, "127.0.6.1") as outside, \
            SipUA(d, "127.0.7.200") as denied:
        assert ok.transact(ok.build("OPTIONS", "1001")).status == 407
        assert_silent(outside, outside.build("OPTIONS", "1001"), 0.5)
        assert_silent(denied, denied.build("REGISTER", "1001"), 0.5)
        ev1 = d.wait_event("acl.denied", lambda e: e["src"] == "127.0.6.1")
        ev2 = d.wait_event("acl.denied", lambda e: e["src"] == "127.0.7.200")
        assert ev1["zone"] == ev2["zone"] == "internet"
        assert "status" not in ev1 and "status" not in ev2
        # ACL drops are not bans: the allowed source is still answered
        assert ok.register("1001", PW1, expires=300)[1].status == 200
    assert not any(e["src"] == "127.0.7.1" for e in d.events("acl.denied"))


def test_method_not_accepted_in_zone(daemon_factory):
    d = internet(daemon_factory, zone_conf={
        "methods": ["REGISTER", "OPTIONS", "ACK", "CANCEL"]},
        accounts=[("1001", PW1)])
    with SipUA(d) as ua:
        for method in ("INVITE", "MESSAGE"):
            r = ua.transact(ua.build(method, "1001"))
            assert r.status == 405, r.raw
            allow = [m.strip() for m in r.hdr("allow").split(",")]
            assert sorted(allow) == ["ACK", "CANCEL", "OPTIONS",
                                     "REGISTER"], allow
        assert ua.transact(ua.build("OPTIONS", "1001")).status == 407
        assert ua.register("1001", PW1, expires=300)[1].status == 200
    ev = d.wait_event("acl.method_denied", lambda e: e["method"] == "INVITE")
    assert ev["status"] == 405


# -- bans -------------------------------------------------------------------

def test_auth_failure_ban_survives_restart(daemon_factory):
    d = internet(daemon_factory, {"bans": {"auth_failures": 5}},
                 accounts=[("1001", PW1)])
    with SipUA(d, "127.0.8.1", user_agent=NEUTRAL) as ua, \
            SipUA(d, "127.0.8.2", user_agent=NEUTRAL) as other:
        answers = []
        for i in range(8):
            r = fail_once(ua)
            answers.append(r and r.status)
            if r is None:
                break
        # bans.auth_failures (5) failures ban the source: the failure
        # that crosses the threshold is already not answered
        assert answers == [401] * 4 + [None], answers
        ev = d.wait_event("ban.added")
        assert ev["src"] == "127.0.8.1" and ev["reason"] == "auth_failures"
        assert ev["duration_s"] == 300          # bans.first (5m)
        assert ev["strikes"] == 1
        # nothing at all for the banned source, even the right password
        assert_silent(ua, ua.build("OPTIONS", "1001"), 0.5)
        assert ua.register("1001", PW1, expires=300, timeout=0.5)[0] is None
        # the next address is untouched
        assert other.register("1001", PW1, expires=300)[1].status == 200
        b = ban_of(d, "127.0.8.1")
        assert b and b["reason"] == "auth_failures" and b["active"], d.bans()

        # a crash, and a restart on the same state: the ban holds
        d.kill9()
        d.start()
        assert_silent(ua, ua.build("OPTIONS", "1001"), 1.0)
        assert ua.register("1001", PW1, expires=300, timeout=0.5)[0] is None
        assert other.register("1001", PW1, expires=300)[1].status == 200
    b = ban_of(d, "127.0.8.1")
    assert b and b["reason"] == "auth_failures" and b["active"], d.bans()
    assert [x["key"] for x in d.bans()] == ["127.0.8.1"]
    # one ban, one event: neither the store nor the restart announce it
    # again (a SIEM counts these)
    added = d.events("ban.added")
    assert len(added) == 1, added


def test_ban_escalates(daemon_factory):
    # auth_window as short as the first ban: the failures that made a
    # ban have left the window when it ends (with the defaults, 5m both)
    d = internet(daemon_factory, {"bans": {
        "auth_failures": 2, "auth_window": "1s", "first": "1s",
        "factor": 4}}, accounts=[("1001", PW1)])
    with SipUA(d, "127.0.8.3", user_agent=NEUTRAL) as ua:
        assert fail_once(ua).status == 401
        assert fail_once(ua) is None
        ev = d.wait_event("ban.added")
        assert ev["duration_s"] == 1 and ev["strikes"] == 1
        time.sleep(1.5)
        # the ban ended: answered again, and the next ban is 4 times longer
        deadline = time.time() + 3
        r = None
        while r is None and time.time() < deadline:
            r = ua.transact(ua.build("OPTIONS", "1001"), 0.5)
        assert r is not None and r.status == 407
        assert fail_once(ua).status == 401
        assert fail_once(ua) is None
        ev = d.wait_event("ban.added", lambda e: e["strikes"] == 2)
        assert ev["duration_s"] == 4


def test_manual_ban_and_unban_while_running(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1)])

    def answered(ua):
        return ua.transact(ua.build("OPTIONS", "1001"), 0.3) is not None

    def until(pred, timeout=4.0):
        deadline = time.time() + timeout
        while not pred():
            assert time.time() < deadline, "no change within %ss" % timeout
            time.sleep(0.2)

    with SipUA(d, "127.0.8.9") as ua:
        assert answered(ua)
        d.cli("ban", "add", "127.0.8.9", "--reason", "test")
        until(lambda: not answered(ua))
        assert ban_of(d, "127.0.8.9")["reason"] == "manual"
        d.cli("ban", "remove", "127.0.8.9")
        until(lambda: answered(ua))


# -- scanners ---------------------------------------------------------------

def test_scanner_user_agent_is_banned_at_once(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1)])
    with SipUA(d, "127.0.13.1", user_agent="friendly-scanner") as scan, \
            SipUA(d, "127.0.13.2") as phone:
        assert_silent(scan, scan.build("OPTIONS", "100"), 0.5)
        det = d.wait_event("scanner.detected")
        assert det["src"] == "127.0.13.1"
        assert det["user_agent"] == "friendly-scanner"
        ev = d.wait_event("ban.added")
        assert ev["src"] == "127.0.13.1" and ev["reason"] == "scanner"
        # banned: a polite User-Agent does not help any more
        scan.user_agent = NEUTRAL
        assert_silent(scan, scan.build("OPTIONS", "100"), 0.5)
        assert phone.register("1001", PW1, expires=300)[1].status == 200
    assert ban_of(d, "127.0.13.1")["reason"] == "scanner"


def test_scanner_user_agent_in_trusted_zone_is_not_banned(daemon_factory):
    d = daemon_factory()            # the trusted `lab` zone
    with SipUA(d, "127.0.13.3", user_agent="friendly-scanner") as ua:
        for _ in range(3):
            assert ua.transact(ua.build("OPTIONS", "100",
                                        ruri=ua.ruri())).status == 200
    assert d.events("ban.added") == [] and d.bans() == []


def test_unknown_user_probing_is_banned(daemon_factory):
    d = internet(daemon_factory, {"scanner": {"unknown_users": 5}},
                 accounts=[("1001", PW1)])
    with SipUA(d, "127.0.14.1", user_agent=NEUTRAL) as ua:
        answers = []
        for ext in range(100, 110):
            r = ua.register(str(ext), "guess-Pass-1", expires=300)[1]
            answers.append(r and r.status)
            if r is None:
                break
        assert answers == [401] * 4 + [None], answers
        ev = d.wait_event("ban.added")
        assert ev["src"] == "127.0.14.1"
        assert ev["reason"] == "scanner_behaviour", ev
        d.wait_event("scanner.detected", lambda e: e["src"] == "127.0.14.1")
        assert_silent(ua, ua.build("OPTIONS", "1001"), 0.5)
    assert ban_of(d, "127.0.14.1")["reason"] == "scanner_behaviour"


# -- distributed brute force ------------------------------------------------

def test_distributed_bruteforce_locks_the_account(daemon_factory):
    """50 sources (127.0.1.1-50), one wrong password each: no source
    crosses its own ban threshold, but the account is locked after
    bruteforce.failures (40) and then even its right password from a new
    source gets the same challenge as any failure."""
    d = internet(daemon_factory, {"bruteforce": {"failures": 40}},
                 accounts=[("1001", PW1), ("1002", PW2)])
    # a phone that was registered before the attack keeps working
    with SipUA(d, "127.0.1.250") as phone:
        assert phone.register("1001", PW1, expires=300)[1].status == 200
        for n in range(1, 51):
            with SipUA(d, source(n), user_agent=NEUTRAL) as ua:
                r = fail_once(ua, password="guess-%d-Pw" % n)
                assert r is not None and r.status == 401, (n, r)
        ev = d.wait_event("account.locked")
        assert ev["account"] == "1001" and ev["reason"] == "bruteforce"
        fixed = dict(to_user="1001", from_tag="beef", cseq=1,
                     call_id="lock@sipauth", expires=300)
        with SipUA(d, "127.0.1.200", user_agent=NEUTRAL) as fresh:
            none = fresh.transact(fresh.build("REGISTER", "1001", **fixed))
            cred = Credentials("1001", PW1, none.challenge("SHA-256"),
                               "REGISTER", fresh.ruri())
            locked = fresh.transact(fresh.build("REGISTER", "1001",
                                                auth=cred, **fixed))
            assert locked.status == 401, locked.raw
            # the same answer as no credentials at all
            strip = lambda r: re.sub(  # noqa: E731
                r'nonce="[^"]*"|branch=[^;\r\n]*|;tag=[0-9a-f]{16}', "",
                r.raw.decode())
            assert strip(locked) == strip(none)
            # another account is not affected
            assert fresh.register("1002", PW2, expires=300)[1].status == 200
        assert phone.register("1001", PW1, expires=300)[1].status == 200
    d.wait_event("auth.failed", lambda e: e["reason"] == "account_locked"
                 and e["src"] == "127.0.1.200")
    assert d.events("ban.added") == [] and d.bans() == []
    # the evidence (docs/events.md: counters failures, sources): 40
    # failures, each from its own address; distinct sources are counted
    # exactly up to 16 (BF_SOURCES in src/policy/bruteforce.h), then
    # saturate
    ctr = dict(ev, **ev.get("counters", {}))
    assert ctr["failures"] == 40 and ctr["sources"] >= 16, ev


# -- rate limits ------------------------------------------------------------

def burst(ua, n, method="OPTIONS", wait=0.3):
    """n requests back to back; the answers that came within wait."""
    for _ in range(n):
        ua.send(ua.build(method, "1001"))
    out, end = [], time.time() + wait
    while time.time() < end:
        r = ua.recv(max(0.01, end - time.time()))
        if r is not None:
            out.append(r)
    return out


def test_rate_limit_reply_then_ban(daemon_factory):
    d = internet(daemon_factory, {"bans": {"rate_strikes": 3}}, zone_conf={
        "rate_limits": {"action": "reply", "retry_after": "7s",
                        "source": {"rate": "5/s", "burst": 5}}})
    with SipUA(d, "127.0.11.1", user_agent=NEUTRAL) as ua:
        got = burst(ua, 20)
        codes = sorted(r.status for r in got)
        assert codes.count(407) in (5, 6) and codes.count(503) >= 14, codes
        busy = [r for r in got if r.status == 503][0]
        assert busy.hdr("retry-after") == "7"
        ev = d.wait_event("rate.limited")
        assert ev["src"] == "127.0.11.1" and ev["status"] == 503
        # excess in rate_strikes (3) distinct seconds: banned
        deadline = time.time() + 8
        while not d.events("ban.added") and time.time() < deadline:
            burst(ua, 20, wait=0.4)
        ev = d.wait_event("ban.added")
        assert ev["src"] == "127.0.11.1" and ev["reason"] == "rate_limit"
        assert_silent(ua, ua.build("OPTIONS", "1001"), 0.5)


def test_rate_limit_drop(daemon_factory):
    d = internet(daemon_factory, zone_conf={
        "rate_limits": {"source": {"rate": "5/s", "burst": 10}}})
    with SipUA(d, "127.0.11.2", user_agent=NEUTRAL) as ua:
        got = burst(ua, 30)
        assert all(r.status == 407 for r in got)
        assert 10 <= len(got) <= 12, len(got)
    ev = d.wait_event("rate.limited")
    assert ev["src"] == "127.0.11.2" and "status" not in ev


def test_never_banned_prefixes(daemon_factory):
    """bans.never, and the sources a trusted zone allows (here `core`,
    127.0.16.0/24): over their limits, failing authentication, even with
    a scanner's User-Agent, and never banned."""
    zones = swtest.zones(
        internet={"rate_limits": {"source": {"rate": "5/s", "burst": 5}}},
        core={"allow": ["127.0.16.0/24"]})
    d = internet(daemon_factory, {"bans": {
        "never": ["127.0.12.0/24"], "rate_strikes": 2, "auth_failures": 3}},
        zones=zones, accounts=[("1001", PW1)])
    addrs = ("127.0.12.1", "127.0.16.1")
    uas = [SipUA(d, a, user_agent=NEUTRAL) for a in addrs]
    try:
        end = time.time() + 2.6       # excess in 3 distinct seconds
        while time.time() < end:
            for ua in uas:
                burst(ua, 15, wait=0.1)
        for a in addrs:
            d.wait_event("rate.limited", lambda e: e["src"] == a)
        time.sleep(1.1)               # the buckets refill
        for _ in range(4):            # past bans.auth_failures (3)
            for ua in uas:
                r = fail_once(ua)
                assert r is not None and r.status == 401
            time.sleep(0.4)           # 5/s: two requests each
        for ua in uas:
            ua.user_agent = "friendly-scanner"
            ua.send(ua.build("OPTIONS", "1001"))
        for a in addrs:
            d.wait_event("scanner.detected", lambda e: e["src"] == a)
    finally:
        for ua in uas:
            ua.close()
    assert d.events("ban.added") == [] and d.bans() == []


# -- the office behind one NAT address --------------------------------------

def test_nat_office_of_200_phones(daemon_factory):
    """200 accounts register from one address and one socket (a NAT):
    first one after another, then all at once as after a power cut.
    Default thresholds.  Nothing is limited and nobody is banned:
    authentication earns the address its budget."""
    users = ["%d" % (3000 + i) for i in range(200)]
    d = internet(daemon_factory, accounts=[
        (u, "Office-%s-pw" % u) for u in users])
    with SipUA(d, "127.0.15.1", rcvbuf=1 << 20) as nat:
        t0 = time.time()
        for u in users:
            first, r = nat.register(u, "Office-%s-pw" % u, expires=300,
                                    contact="<sip:%s@127.0.15.1:5060>" % u)
            assert first.status == 401 and r.status == 200, (u, r)
        took = time.time() - t0
        assert took < 15, took

        # everybody again at once: 200 REGISTERs back to back, then 200
        # answers to the challenges back to back
        msgs = {}
        for u in users:
            cid, cseq = nat._dialog(u)
            msgs[u] = nat.build("REGISTER", u, call_id=cid, cseq=cseq,
                                expires=300, contact="<sip:%s@127.0.15.1:"
                                "5060>" % u)
            nat.send(msgs[u])
        chal = collect(nat, 200, lambda r: r.status == 401)
        assert len(chal) == 200, len(chal)
        for u in users:
            r = chal[u]
            cid, cseq = nat._dialog(u)
            cred = Credentials(u, "Office-%s-pw" % u, r.challenge("SHA-256"),
                               "REGISTER", nat.ruri())
            nat.send(nat.build("REGISTER", u, call_id=cid, cseq=cseq,
                               expires=300, auth=cred,
                               contact="<sip:%s@127.0.15.1:5060>" % u))
        oks = collect(nat, 200, lambda r: r.status == 200)
        assert len(oks) == 200, len(oks)
    d.wait_event("auth.ok", lambda e: e["account"] == users[-1])
    assert len([e for e in d.events("reg.added")]) == 200
    assert d.events("ban.added") == [] and d.bans() == []
    assert d.events("rate.limited") == []


def collect(ua, n, pred, timeout=10):
    """{user: response} for n responses matching pred (user = To user)."""
    out, end = {}, time.time() + timeout
    while len(out) < n and time.time() < end:
        r = ua.recv(max(0.01, end - time.time()))
        if r is None:
            break
        if pred(r):
            out[re.search(r"sip:([^@]+)@", r.hdr("to")).group(1)] = r
    return out
