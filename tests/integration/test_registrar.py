"""The registrar (RFC 3261 section 10.3) behind digest authentication,
driven by SIPp (MD5) and by the Python digest client in sipauth.py
(SHA-256 and MD5): challenge, register, refresh, unregister, the
registrar's rules, expiry, and bindings that survive a crash.

SIPp 3.6.1 computes only MD5 (and AKA) digests: given the default
challenge order (SHA-256 first) it stops with "createAuthHeader:
authentication must use MD5 or AKAv1-MD5".  Its daemons are therefore
configured with `auth.algorithms: [MD5]`; SHA-256 is covered by
sipauth.py.
"""
import email.utils
import glob
import os
import re
import time

import swtest
from sipauth import SipUA

PW1 = "Secr3t-pass-99"
PW2 = "Other-pass-77x"
MD5_ONLY = {"auth": {"algorithms": ["MD5"]}}


def sipp_report(r, cwd):
    out = r.stdout.decode("utf-8", "replace")[-2500:]
    for f in glob.glob(os.path.join(str(cwd), "*_errors.log")):
        with open(f, errors="replace") as fh:
            out += "\n" + f + ":\n" + fh.read()[-2500:]
    return out


def inject(tmp_path, name, rows):
    path = tmp_path / name
    path.write_text("SEQUENTIAL\n" + "".join("%s;%s\n" % r for r in rows))
    return str(path)


def internet(daemon_factory, conf=None, **kw):
    c = swtest.deep_merge(swtest.deep_merge({}, swtest.LENIENT), conf or {})
    return daemon_factory(zone="internet", conf=c, **kw)


def test_sipp_register_refresh_unregister(daemon_factory, tmp_path):
    d = internet(daemon_factory, MD5_ONLY,
                 accounts=[("1001", PW1), ("1002", PW2)])
    inf = inject(tmp_path, "users.csv", [("1001", PW1), ("1002", PW2)])
    r = swtest.sipp("register_auth_uac.xml", d, calls=2, rate=10,
                    extra=["-inf", inf], cwd=tmp_path)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    for user in ("1001", "1002"):
        d.wait_event("reg.added", lambda e: e["account"] == user + "@sipwall")
        d.wait_event("reg.removed",
                     lambda e: e["account"] == user + "@sipwall")
        oks = [e for e in d.events("auth.ok") if e["account"] == user]
        assert len(oks) == 3, oks
        assert all(e["scheme"] == "digest" and e["algorithm"] == "MD5"
                   for e in oks), oks
    assert d.events("auth.failed") == []


def test_sipp_wrong_password_is_challenged_again(daemon_factory, tmp_path):
    d = internet(daemon_factory, MD5_ONLY, accounts=[("1001", PW1)])
    inf = inject(tmp_path, "bad.csv", [("1001", "not-the-password")])
    r = swtest.sipp("register_wrong_password_uac.xml", d, calls=1, rate=10,
                    extra=["-inf", inf], cwd=tmp_path)
    assert r.returncode == 0, sipp_report(r, tmp_path)
    ev = d.wait_event("auth.failed")
    assert ev["reason"] == "bad_response" and ev["account"] == "1001"
    assert ev["src"] == "127.0.0.1" and ev["method"] == "REGISTER"
    assert d.events("reg.added") == [] and d.events("auth.ok") == []


def test_register_sha256_and_md5(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1)])
    with SipUA(d) as a, SipUA(d) as b:
        first, ok = a.register("1001", PW1, expires=300, alg="SHA-256")
        assert first.status == 401 and ok.status == 200, ok.raw
        assert ok.contacts() == {"sip:1001@127.0.0.1:%d" % a.port: 300}
        # 10.3 step 8: the registrar's clock, RFC 1123 format, in GMT
        date = ok.hdr("date")
        assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} "
                            r"\d{2}:\d{2}:\d{2} GMT", date), date
        when = email.utils.parsedate_to_datetime(date).timestamp()
        assert abs(when - time.time()) < 5
        _, ok2 = b.register("1001", PW1, expires=300, alg="MD5")
        assert ok2.status == 200
        # every current binding, the other phone's included
        assert set(ok2.contacts()) == {
            "sip:1001@127.0.0.1:%d" % a.port,
            "sip:1001@127.0.0.1:%d" % b.port}
    algs = [e["algorithm"] for e in d.events("auth.ok")]
    assert algs == ["SHA-256", "MD5"], algs
    assert len(d.events("reg.added")) == 2


def test_register_rules(daemon_factory):
    d = internet(daemon_factory,
                 accounts=[("1001", PW1, "--max-contacts", "2"),
                           ("1002", PW2)])
    c1, c2, c3 = ("<sip:1001@127.0.0.1:%d>" % p for p in (5071, 5072, 5073))
    with SipUA(d) as ua:
        # below registrar.min_expires (1m): 423 with Min-Expires
        _, r = ua.register("1001", PW1, expires=30, contact=c1)
        assert r.status == 423, r.raw
        assert r.hdr("min-expires") == "60"
        # above max_expires (1h): shortened
        _, r = ua.register("1001", PW1, expires=99999, contact=c1)
        assert r.status == 200 and r.contacts() == {c1[1:-1]: 3600}
        # none named: default_expires (30m)
        _, r = ua.register("1001", PW1, contact=c2)
        assert r.status == 200
        assert r.contacts() == {c1[1:-1]: 3600, c2[1:-1]: 1800}
        # a third contact over the account's max_contacts (2): 403,
        # and nothing changed
        _, r = ua.register("1001", PW1, expires=300, contact=c3)
        assert r.status == 403, r.raw
        d.wait_event("auth.contact_limit")
        # fetch only (no Contact): the bindings, unchanged
        _, r = ua.register("1001", PW1, contact=None)
        assert r.status == 200
        assert set(r.contacts()) == {c1[1:-1], c2[1:-1]}
        # Expires: 0 on one contact removes only that one
        _, r = ua.register("1001", PW1, expires=0, contact=c1)
        assert r.status == 200 and set(r.contacts()) == {c2[1:-1]}
        # an expires parameter on the Contact wins over the header
        _, r = ua.register("1001", PW1, expires=300,
                           contact=c1 + ";expires=120")
        assert r.status == 200
        assert r.contacts()[c1[1:-1]] == 120
        # Contact: * needs Expires: 0 (10.3 step 6)
        _, r = ua.register("1001", PW1, expires=300, contact="*")
        assert r.status == 400, r.raw
        _, r = ua.register("1001", PW1, expires=0, contact="*")
        assert r.status == 200 and r.contacts() == {}, r.raw
        # To must be the authenticated user's own AOR (10.3 step 3)
        _, r = ua.register("1002", PW2, expires=300, to_user="1001")
        assert r.status == 403, r.raw
    ev = d.wait_event("auth.failed", lambda e: e["reason"] == "aor_mismatch")
    assert ev["account"] == "1002"
    removed = [e["contact"] for e in d.events("reg.removed")]
    assert sorted(removed) == sorted([c1[1:-1], c1[1:-1], c2[1:-1]]), removed
    # 1002 never got a binding, neither of its own nor of 1001's
    assert all(e["account"] == "1001@sipwall" for e in d.events("reg.added"))


def test_registrations_survive_kill9(daemon_factory):
    d = internet(daemon_factory, accounts=[("1001", PW1), ("1002", PW2)])
    with SipUA(d, "127.0.3.1") as a, SipUA(d, "127.0.3.2") as b:
        assert a.register("1001", PW1, expires=600)[1].status == 200
        assert b.register("1001", PW1, expires=900)[1].status == 200
        assert b.register("1002", PW2, expires=600)[1].status == 200
        # a 200 is a promise: crash right after it
        d.kill9()
        d.start()
        _, r1 = a.register("1001", PW1, contact=None)
        _, r2 = b.register("1002", PW2, contact=None)
    assert r1.status == 200 and r2.status == 200
    c1 = r1.contacts()
    assert set(c1) == {"sip:1001@127.0.3.1:%d" % a.port,
                       "sip:1001@127.0.3.2:%d" % b.port}, r1.raw
    assert 590 <= c1["sip:1001@127.0.3.1:%d" % a.port] <= 600
    assert 890 <= c1["sip:1001@127.0.3.2:%d" % b.port] <= 900
    assert set(r2.contacts()) == {"sip:1002@127.0.3.2:%d" % b.port}


def test_bindings_and_nonces_expire(daemon_factory):
    """registrar.min_expires and auth.nonce_ttl at their minimum (10 s):
    one wait covers a binding's expiry and a stale nonce."""
    d = internet(daemon_factory, {
        "auth": {"nonce_ttl": "10s"},
        "registrar": {"min_expires": "10s", "default_expires": "10s"}},
        accounts=[("1001", PW1)])
    with SipUA(d) as ua:
        first, r = ua.register("1001", PW1, expires=10)
        assert r.status == 200 and list(r.contacts().values()) == [10]
        issued = time.time()
        old = first.challenge("SHA-256")
        time.sleep(max(0, issued + 11.5 - time.time()))
        # the right response on an expired nonce: stale=true, no 200
        r = ua.register("1001", PW1, contact=None, challenge=old)[1]
        assert r.status == 401, r.raw
        assert [c.get("stale") for c in r.challenges] == ["true", "true"]
        ev = d.wait_event("reg.expired")
        assert ev["account"] == "1001@sipwall"
        assert ev["contact"] == "sip:1001@127.0.0.1:%d" % ua.port
        # the fresh nonce works, and the binding is gone
        r = ua.register("1001", PW1, contact=None,
                        challenge=r.challenge("SHA-256"))[1]
        assert r.status == 200 and r.contacts() == {}
    # docs/events.md says `stale`; the daemon has written `nonce_stale`
    d.wait_event("auth.nonce_rejected",
                 lambda e: e["reason"] in ("stale", "nonce_stale"))
