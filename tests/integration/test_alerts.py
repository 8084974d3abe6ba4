"""Baselines and alerts (OBS4): a daemon with a 10 s window and a learned
baseline of registration failures (written into its store before it
starts, as weeks of history would have left it).  A quiet period raises
nothing; a burst of wrong-password REGISTERs more than ten times the
baseline brings exactly one alert to a local webhook receiver within
10 s, with its evidence (counts, window, top sources and accounts); an
unreachable webhook ends in alert.delivery_failed after its retries.
The end of an alert (alert.cleared) is posted too, and `sipwall alerts`
and `sipwall rates` show the alert and the counts behind it."""
import json
import os
import socket
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import swtest
from sipauth import SipUA, source
from test_control import ctl

PW = "Secr3t-pass-99"
WINDOW = 10


class Receiver:
    """A webhook receiver on 127.0.0.1 in a thread: keeps every POST."""

    def __init__(self):
        self.posts = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    outer.posts.append((time.time(), self.path,
                                        self.headers.get("Content-Type"),
                                        json.loads(body)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hooks/sipwall?token=t0ps3cret" % \
            self.srv.server_address[1]
        self.thr = threading.Thread(target=self.srv.serve_forever,
                                    daemon=True)
        self.thr.start()

    def bodies(self):
        with self.lock:
            return [p[3] for p in self.posts]

    def wait(self, n, timeout):
        end = time.time() + timeout
        while time.time() < end:
            with self.lock:
                if len(self.posts) >= n:
                    return list(self.posts)
            time.sleep(0.05)
        with self.lock:
            return list(self.posts)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def edge(daemon_factory, alerts, baseline=None):
    """An internet-zone daemon with account 1001 and these alert
    settings; baseline: {metric: value} for every hour of the week."""
    # OPS3: the lenient edge's unsafe settings, acknowledged
    conf = swtest.deep_merge(swtest.deep_merge({}, swtest.LENIENT),
                             {"alerts": alerts, "acknowledge": [
                                 "unlimited:internet",
                                 "srtp_prefer:internet"]})
    d = daemon_factory(zone="internet", conf=conf,
                       zones=swtest.zones(internet=swtest.LENIENT_RATES),
                       accounts=[("1001", PW)], start=False)
    if baseline:
        db = sqlite3.connect(os.path.join(d.state, "sipwall.db"))
        with db:
            for metric, v in baseline.items():
                db.executemany(
                    "INSERT INTO baselines (metric, slot, value, samples, "
                    "updated) VALUES (?, ?, ?, 100, ?)",
                    [(metric, s, float(v), int(time.time()))
                     for s in range(168)])
        db.close()
    return d.start()


def wrong_passwords(d, n, src, user="1001"):
    with SipUA(d, bind=src) as ua:
        for _ in range(n):
            first, final = ua.register(user, "wrong-Guess-%d" % n)
            assert first is not None and first.status == 401, first
            assert final is not None and final.status == 401, final


def until_window_start(margin=0.3):
    """Sleep until just after a window boundary (windows are aligned to
    the wall clock), so a burst falls in one window."""
    time.sleep(WINDOW - time.time() % WINDOW + margin)


def test_burst_of_registration_failures_alerts_once(daemon_factory):
    rx = Receiver()
    try:
        d = edge(daemon_factory, {"window": "%ds" % WINDOW,
                                  "webhook": rx.url, "factor": 10,
                                  "min_count": 20},
                 baseline={"reg_failures": 3.0})
        # a quiet period: normal registrations, a typo; no alert
        with SipUA(d, bind=source(9)) as ua:
            assert ua.register("1001", PW)[1].status == 200
            assert ua.register("1001", "typo")[1].status == 401
            assert ua.register("1001", PW)[1].status == 200
        until_window_start()
        time.sleep(WINDOW)
        assert rx.bodies() == []
        assert d.events("alert.raised") == []

        # the burst: 40 failures (13 times the baseline), one window;
        # the alert comes when the window closes (at most 10 s later)
        until_window_start(margin=1.5)
        wrong_passwords(d, 30, source(5))
        wrong_passwords(d, 10, source(6))
        burst_end = time.time()
        posts = rx.wait(1, timeout=10)
        assert len(posts) == 1, posts
        at, path, ctype, body = posts[0]
        assert at - burst_end <= 10
        assert path == "/hooks/sipwall?token=t0ps3cret"
        assert ctype == "application/json"
        assert body["type"] == "alert.raised" and body["id"] == 800
        assert body["rule"] == "ratio" and body["metric"] == "reg_failures"
        # the seeded 3.0, less what the quiet windows since taught it
        assert body["value"] == 40 and 2.5 < body["baseline"] <= 3.0
        assert body["factor"] == 10 and body["window_s"] == WINDOW
        assert body["limit"] == int(10 * body["baseline"]) + 1
        assert body["counters"]["reg_failures"] == 40
        assert body["counters"]["auth_failures"] == 40
        assert body["top_sources"][:2] == [
            {"src": source(5), "count": 30}, {"src": source(6), "count": 10}]
        assert body["top_accounts"] == [{"account": "1001", "count": 40}]
        assert body["node"] == "test-node"
        assert body["window_end"] > body["window_start"]

        # the same in the event log (and so syslog when it is on)
        ev = d.wait_event("alert.raised")
        assert ev["reason"] == "ratio" and ev["metric"] == "reg_failures"
        assert ev["value"] == 40
        assert ev["baseline"] == "%.2f" % body["baseline"]
        assert ev["window_s"] == WINDOW
        assert ev["top_sources"] == "%s=30,%s=10" % (source(5), source(6))
        assert ev["counters"]["reg_failures"] == 40

        # OPS1, OBS6: the same alert and the counts behind it, live
        al = ctl(d, "alerts")
        assert al["enabled"] is True and al["raised"] == 1, al
        a = al["alerts"][0]
        assert len(al["alerts"]) == 1 and a["event"] == "raised", al
        assert a["active"] is True and a["rule"] == "ratio", a
        assert a["key"] == "reg_failures" and a["count"] == 40, a
        assert a["baseline"] == body["baseline"], a
        assert a["window_s"] == WINDOW and a["limit"] == body["limit"], a
        assert a["top_sources"][:2] == body["top_sources"][:2], a
        assert a["window_end"] - a["window_start"] == WINDOW * 1000, a
        rates = {r["metric"]: r for r in ctl(d, "rates")["rates"]}
        assert len(rates) == 9 and rates["calls_off_hours"]["baseline"] \
            is None, rates
        rf = rates["reg_failures"]
        assert rf["window_s"] == WINDOW and rf["current"] >= 0, rf
        assert rf["history"][-1]["count"] == 40, rf
        assert rf["history"][-1]["baseline"] == body["baseline"], rf
        assert rf["history"][-1]["t"] == a["window_start"], rf
        assert 2.5 < rf["baseline"] <= 3.0, rf
        assert "reg_failures" in d.cli("alerts").stdout
        assert "reg_failures" in d.cli("rates").stdout

        # quiet again: the alert clears, and the receiver hears of it
        d.wait_event("alert.cleared", timeout=2 * WINDOW + 2)
        posts = rx.wait(2, timeout=5)
        assert len(posts) == 2, posts
        end = posts[1][3]
        assert end["type"] == "alert.cleared" and end["id"] == 801, end
        assert end["rule"] == "ratio" and end["metric"] == "reg_failures"
        assert end["value"] < 40, end
        time.sleep(1.5)
        assert len(rx.bodies()) == 2, rx.bodies()
        assert len(d.events("alert.raised")) == 1
        al = ctl(d, "alerts")["alerts"]
        assert [(x["event"], x["active"]) for x in al] == [
            ("raised", False), ("cleared", False)], al
    finally:
        rx.close()


def test_learned_baseline_survives_a_restart(daemon_factory):
    d = edge(daemon_factory, {"window": "%ds" % WINDOW},
             baseline={"reg_failures": 3.0})
    until_window_start()
    wrong_passwords(d, 2, source(7))
    time.sleep(WINDOW + 1.5)            # one whole window learned
    d.stop()
    db = sqlite3.connect(os.path.join(d.state, "sipwall.db"))
    rows = db.execute("SELECT count(*), max(samples) FROM baselines "
                      "WHERE metric = 'reg_failures'").fetchone()
    learned = db.execute("SELECT count(DISTINCT metric) FROM baselines"
                         ).fetchone()[0]
    db.close()
    assert rows == (168, 101), rows
    assert learned >= 8                 # every baselined metric
    d.start()
    assert d.events("alert.raised") == []


def test_unreachable_webhook_ends_in_delivery_failed(daemon_factory):
    port = closed_port()
    d = edge(daemon_factory, {"window": "%ds" % WINDOW,
                              "webhook": "http://127.0.0.1:%d/x?k=secret"
                              % port,
                              "webhook_timeout": "500ms", "retries": 2,
                              "reg_failures": 5})
    until_window_start()
    wrong_passwords(d, 6, source(8))
    # raised when the window closes, ~10 s from now; the margin is for a
    # loaded CI machine (the 10 s promise is test_burst_...'s to check)
    ev = d.wait_event("alert.raised", timeout=2 * WINDOW + 5)
    assert ev["reason"] == "limit" and ev["limit"] == 5 and ev["value"] == 6
    # attempts at 0, 0.5 and 1.5 s (back-off 500 ms, doubling)
    fail = d.wait_event("alert.delivery_failed", timeout=10)
    assert fail["reason"] == "unreachable"
    assert fail["attempts"] == 3
    assert fail["target"] == "http://127.0.0.1:%d" % port
    assert "secret" not in json.dumps(fail)


def test_alerts_off_at_start_learn_and_a_reload_turns_them_on(
        daemon_factory):
    """alerts.enabled false: the engine counts and learns, raises
    nothing; a reload turns it on without a restart and the next burst
    is raised; another window length is refused (restart)."""
    rx = Receiver()
    try:
        d = edge(daemon_factory, {"enabled": False,
                                  "window": "%ds" % WINDOW,
                                  "webhook": rx.url, "reg_failures": 5})
        al = ctl(d, "alerts")
        assert al["enabled"] is False and al["alerts"] == [], al
        assert "alerts are off" in d.cli("rates").stdout
        until_window_start()
        wrong_passwords(d, 8, source(5))
        time.sleep(WINDOW)
        rates = {r["metric"]: r for r in ctl(d, "rates")["rates"]}
        assert rates["reg_failures"]["history"][-1]["count"] == 8, rates
        assert d.events("alert.raised") == [] and rx.bodies() == []

        conf = dict(d.conf_dict)
        conf["alerts"] = dict(conf["alerts"], enabled=True)
        with open(d.conf, "w") as f:
            f.write(swtest.to_yaml(conf))
        out = json.loads(d.cli("reload", "--json").stdout)
        assert out["outcome"] == "applied" and out["changed"] == 1, out
        assert ctl(d, "alerts")["enabled"] is True
        until_window_start()
        wrong_passwords(d, 8, source(6))
        ev = d.wait_event("alert.raised", timeout=2 * WINDOW + 5)
        assert ev["reason"] == "limit" and ev["metric"] == "reg_failures"
        assert ev["value"] == 8, ev
        assert rx.wait(1, timeout=5)[0][3]["type"] == "alert.raised"

        conf["alerts"] = dict(conf["alerts"], window="20s")
        with open(d.conf, "w") as f:
            f.write(swtest.to_yaml(conf))
        p = d.cli("reload", "--json", check=False)
        assert p.returncode != 0 and "alerts.window" in p.stderr, p.stderr
        assert d.wait_event("config.rejected")["reason"] == \
            "restart_required"
    finally:
        rx.close()
