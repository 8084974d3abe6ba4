"""The event log is consumable by fail2ban (OBS1): the sample filter in
examples/fail2ban/ run by fail2ban-regex over the events a real daemon
wrote during an attack finds exactly the failed authentications, with
the attacker's address and the events' own timestamps, and nothing of
the ban or call records.

Skipped when fail2ban is not installed (scripts/deps.sh installs it)."""
import os
import re
import shutil
import subprocess

import pytest

from sipauth import SipUA, source

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FILTER = os.path.join(ROOT, "examples", "fail2ban", "filter.d",
                      "sipwall.conf")
PW1 = "Secr3t-pass-99"

pytestmark = pytest.mark.skipif(shutil.which("fail2ban-regex") is None,
                                reason="fail2ban is not installed")


def test_fail2ban_filter_finds_the_attackers(daemon_factory):
    d = daemon_factory(zone="internet", accounts=[("1001", PW1)])
    attacker, phone = source(61), source(62)
    with SipUA(d, bind=attacker) as ua:
        for i in range(4):
            ua.register("1001", "wrong-Guess-%d" % i, expires=300,
                        timeout=1.0)
    with SipUA(d, bind=phone) as ua:
        r = ua.register("1001", PW1, expires=300)[1]
        assert r is not None and r.status == 200, r
    d.wait_event("auth.ok")
    fails = [e for e in d.events("auth.failed") if e.get("src") == attacker]
    assert len(fails) == 4, d.events()
    log = os.path.join(d.state, "events.jsonl")
    out = subprocess.run(["fail2ban-regex", "-v", log, FILTER],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=60, env=dict(os.environ, TZ="UTC"))
    text = out.stdout.decode("utf-8", "replace")
    assert out.returncode == 0, text
    m = re.search(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched", text)
    assert m, text
    total = sum(1 for _ in open(log))
    assert int(m.group(1)) == total and int(m.group(3)) == 4, text
    hits = re.findall(r"^\|\s+(\S+)\s+(\w{3} \w{3} +\d+ [\d:]+ \d{4})$",
                      text, re.M)
    assert [h[0] for h in hits] == [attacker] * 4, text
    # fail2ban read the events' own time (UTC), not the time it ran
    for (_, when), ev in zip(hits, fails):
        assert ev["ts"][11:19] in when, (when, ev["ts"])
    # the date template matched every line
    assert re.search(r"\[%d\] Year-Month-DayT24hour" % total, text), text
