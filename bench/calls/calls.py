#!/usr/bin/env python3
"""bench/calls: authenticated calls through sipwall and through Kamailio,
side by side, driven by the same SIPp in the same run.

One call (uac.xml, uas.xml), no media:
    caller (SIPp UAC)          server under test          core PBX (SIPp UAS)
    INVITE            ->
                      <-  407
    ACK               ->
    INVITE + Proxy-Authorization (MD5, qop=auth)
                      ->                          INVITE ->
                      <-  100                     <- 100, 180, 200
                      <-  180, 200
    ACK               ->                          ACK    ->
    BYE               ->                          BYE    ->
                      <-  200                     <- 200
A call counts as successful when the caller has the 200 to its BYE.

What it does, in order:
  1. generates N users (bench/benchlib.py: deterministic names, strong
     passwords) for `sipwall account import`, SIPp and Kamailio's
     subscriber table (HA1);
  2. checks Kamailio's config (kamailio -c) and places one probe call
     through each server; a server whose probe call does not complete
     is skipped, and the report says why (until sipwall's B2BUA
     forwards calls, that is sipwall);
  3. for each server, pinned to one core (default 1), with the SIPp UAC
     and UAS on another (default 0), the servers' steps alternating,
     each step a bounded SIPp run with a fresh server:
     phase A: short steps (8 s), the offered call rate times 1.6 until
     the first failure (an upper bound);
     phase B: long steps (40 s, longer than every transaction timer, so
     that the servers' tables are in their steady state) from phase
     A's last passing rate, bisected as the budget allows: the highest
     rate at which fewer than 0.1% of the calls failed and the run kept
     pace (the maximum sustained rate);
  4. CPU-seconds per 1,000 calls at one common offered rate, the
     highest rate of phase A that both servers passed (utime+stime of
     all the server's processes / threads from /proc);
  5. memory per call: N concurrent established calls (the UAC holds
     each call before its BYE), the server's memory (PSS, all its
     processes, plus Kamailio's SQLite file on tmpfs) with them minus
     idle, divided by the number of calls;
  6. prints the figures of both servers and the ratios.

Everything is on loopback; every SIPp run is bounded in calls and time;
only processes this script started are stopped, by PID.
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import (  # noqa: E402  (bench/benchlib.py)
    FAIL_MAX, ROOT, UDP_BUF, Fixed, Kamailio, Search, Sipwall,
    add_common_args, build_dir, check_tools, finish, free_udp_port,
    kamailio_version, keep_lower_cpu, log, log_tail, memory_kib,
    note_other_load, report, run_searches, run_sipp, show_step,
    sipp_base_argv, sipp_stats, stat_int, stop_proc, unexpected,
    write_users)

UAC = os.path.join(HERE, "uac.xml")
UAS = os.path.join(HERE, "uas.xml")
KAMAILIO_CFG = os.path.join(ROOT, "bench", "peers", "kamailio-calls.cfg")
TOPOS_SQL = "/usr/share/kamailio/db_sqlite/topos-create.sql"
PBX_ADDR = "127.0.0.10"     # the core PBX (SIPp UAS)
SETTLE = 7                  # s after the last INVITE: tm's 5 s wait timer


SIPWALL_CONF = """\
# bench/calls: sipwalld as the B2BUA between callers on the internet
# and a core PBX, on loopback.  A bench config, not one to copy: all
# load comes from one source (SIPp on 127.0.0.1), so the per-source
# budgets are raised far above the benchmark's rate and 127.0.0.0/8 is
# never banned.  Everything else (digest auth of every INVITE, nonces
# bound to the source, nonce-count replay checks, scanner and
# brute-force detection, topology hiding, call limits, the fraud
# destination policy, events) stays as shipped.
version: 1
node:
  name: bench
  workers: 1                  # one SIP worker: the bench pins it to one core
  state_dir: {state}
listen:
  - transport: udp
    address: 127.0.0.1
    port: {port}
    zone: internet
  - transport: udp
    address: 127.0.0.1
    port: {core_port}
    zone: core
zones:
  - name: internet
    trust: untrusted
    auth: required
    srtp: off                 # media is not anchored here (see media:)
    rate_limits:
      source: {{rate: 1000000/s, burst: 1000000}}
      prefix: {{rate: 1000000/s, burst: 1000000}}
      account: {{rate: 1000000/s, burst: 1000000}}
      authenticated: {{rate: 1000000/s, burst: 1000000}}
  - name: core
    trust: trusted
    auth: none
    allow: [{pbx}/32]
core:
  zone: core
  targets:
    - address: {pbx}
      port: {pbx_port}
      transport: udp
calls:
  max_duration: 1h
sip:
  # sized for the offered rate, as docs/config.md says an operator
  # should: a call holds ~5 transactions for ~106 s (RFC 3261 timers)
  max_transactions: 524288
auth:
  realm: {realm}
  # SIPp 3.6.1 answers only MD5 challenges; Kamailio offers only MD5 too.
  algorithms: [MD5]
bans:
  never: [127.0.0.0/8]        # bench only: the load generator is one source
policy:
  # bench only: a few accounts place every call, so their limits are
  # off; the destination policy and the counting still run per call
  groups:
    - name: default
      max_concurrent: 0
      calls_per_minute: 0
      calls_per_day: 0
      minutes_per_day: 0
# Kamailio here is a signalling proxy without rtpengine: compare like
# with like, so sipwall's media anchoring is off (bench/media measures
# the relay against rtpengine).
media:
  anchor: false
# bench only: one load generator, no media (see above)
acknowledge: ["srtp_off:internet", "unlimited:internet"]
log:
  level: warn
"""


class Pbx:
    """The core PBX: a SIPp UAS on PBX_ADDR:port answering every INVITE
    (uas.xml), pinned to `core`; one per step, stopped by PID."""

    def __init__(self, work, core, port):
        self.work, self.core, self.port = work, core, port
        self.proc = None
        self.stf = self.errf = None

    def start(self, tag, secs):
        self.stf = os.path.join(self.work, "uas-stat-%s.csv" % tag)
        self.errf = os.path.join(self.work, "uas-errors-%s.log" % tag)
        for f in (self.stf, self.errf):
            if os.path.exists(f):
                os.unlink(f)
        # -aa: OPTIONS (a health probe, an in-dialog keep-alive), INFO,
        # NOTIFY and UPDATE get 200, as a PBX answers them.
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(self.core), "sipp", "-sf", UAS,
             "-t", "u1", "-i", PBX_ADDR, "-p", str(self.port),
             "-buff_size", str(UDP_BUF), "-aa", "-nostdin",
             "-timeout", "%ds" % int(secs), "-trace_stat", "-stf", self.stf,
             "-fd", "1", "-trace_err", "-error_file", self.errf],
            cwd=self.work, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        # Ready when its socket is bound.
        end = time.monotonic() + 5
        while time.monotonic() < end and self.proc.poll() is None:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind((PBX_ADDR, self.port))
            except OSError:
                return
            finally:
                s.close()
            time.sleep(0.05)
        raise RuntimeError("the SIPp UAS did not start on %s:%d" % (
            PBX_ADDR, self.port))

    def pids(self):
        return [self.proc.pid] if self.proc else []

    def stop(self):
        if self.proc is not None:
            stop_proc(self.proc, self.pids, timeout=5)
        self.proc = None

    def invites(self):
        """INVITEs (calls) the UAS has seen so far."""
        return stat_int(sipp_stats(self.stf), "TotalCallCreated")


SIPP_PORT = 0       # the UAC's local port, one for the whole run


def uac_argv(srv, inf, a, rate, calls, secs, hold_ms, tag, timeout=None):
    stf = os.path.join(srv.work, "stat-%s-%s.csv" % (srv.name, tag))
    errf = os.path.join(srv.work, "errors-%s-%s.log" % (srv.name, tag))
    argv = sipp_base_argv(srv, UAC, inf, a.sipp_core, SIPP_PORT, rate, calls,
                          secs, stf, errf, timeout)
    # The digest uri must be the Request-URI (sip:service@server), which
    # SIPp 3.6.1 does not do by itself; -d: the hold time (the pause
    # between ACK and BYE); -aa: answer in-dialog keep-alives.
    argv += ["-s", "service", "-auth_uri", "service@127.0.0.1:%d" % srv.port,
             "-d", str(hold_ms), "-aa",
             "-l", str(max(3 * rate, 100) if not hold_ms else calls + 10)]
    return argv, stf, errf


def run_step(srv, pbx, rate, secs, inf, a):
    """One bounded SIPp run at `rate` calls/s for `secs` s, hold time 0."""
    calls = int(rate * secs)
    pbx.start("%s-%d-%ds" % (srv.name, rate, secs), secs + 30)
    try:
        # Bounded: a step that has not ended 12 s after its last call
        # was created has failed anyway (not on pace).
        argv, stf, errf = uac_argv(srv, inf, a, rate, calls, secs, 0,
                                   "%d-%ds" % (rate, secs),
                                   timeout=secs + 12)
        r = run_sipp(srv, argv, rate, secs, calls, stf, errf,
                     also=pbx.pids())
        r["pbx_invites"] = pbx.invites()
        r["pbx_unexpected"] = unexpected(pbx.errf)
    finally:
        pbx.stop()
    return r


def probe_call(srv, pbx, inf, a):
    """None when one call through srv completes end to end, else why."""
    srv.start()
    try:
        pbx.start(srv.name + "-probe", 30)
        try:
            argv, stf, errf = uac_argv(srv, inf, a, 1, 1, 1, 0, "probe",
                                       timeout=12)
            p = subprocess.run(argv, cwd=srv.work, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=30)
            time.sleep(1.1)         # the UAS writes its statistics each s
            seen = pbx.invites()
        finally:
            pbx.stop()
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        srv.stop()
        return "%s (%s)" % (e, log_tail(srv))
    srv.stop()
    st = sipp_stats(stf)
    if stat_int(st, "SuccessfulCall(C)") == 1:
        return None
    un = unexpected(errf)
    if un:
        why = "the call was answered " + ", ".join(sorted(un))
    elif not st:
        why = "SIPp: " + (p.stderr.decode(errors="replace").strip()
                          .splitlines() or ["no statistics"])[-1]
    else:
        why = "the call did not complete (no answer in time)"
    return "%s; the core PBX saw %d INVITE(s)%s" % (
        why, seen, "; sipwalld log: " + log_tail(srv)
        if srv.name == "sipwall" and log_tail(srv) else "")


def measure_memory(srv, pbx, inf, a, n, rate):
    """Memory per established call: PSS of the server (all processes)
    plus its files on tmpfs with about n calls held open, minus idle."""
    open_secs = n / rate
    hold_ms = int((open_secs + SETTLE + 3) * 1000)
    total = open_secs + hold_ms / 1000 + 30
    srv.start()
    try:
        pbx.start(srv.name + "-mem", total + 30)
        try:
            # A few calls first: what the first call allocates once
            # (connections, caches) is not per call.
            argv, _, _ = uac_argv(srv, inf, a, 50, 50, 1, 0, "warmup")
            subprocess.run(argv, cwd=srv.work, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
            time.sleep(SETTLE)
            idle = memory_kib(srv.pids())
            idle_x = srv.extra_memory_kib()
            argv, stf, errf = uac_argv(srv, inf, a, rate, n, open_secs,
                                       hold_ms, "mem", timeout=int(total))
            p = subprocess.Popen(argv, cwd=srv.work,
                                 stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            try:
                time.sleep(open_secs + SETTLE)
                held = stat_int(sipp_stats(stf), "CurrentCall")
                busy = memory_kib(srv.pids())
                busy_x = srv.extra_memory_kib()
                p.wait(timeout=total + 10)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        finally:
            pbx.stop()
    finally:
        srv.stop()
    st = sipp_stats(stf)
    res = {"server": srv.name, "calls": n, "rate": rate, "held": held,
           "hold_s": hold_ms / 1000,
           "idle_pss_kib": idle["pss"], "idle_rss_kib": idle["rss"],
           "busy_pss_kib": busy["pss"], "busy_rss_kib": busy["rss"],
           "tmpfs_kib": busy_x - idle_x,
           "ok": stat_int(st, "SuccessfulCall(C)"),
           "failed": stat_int(st, "FailedCall(C)")}
    grown = busy["pss"] + busy_x - idle["pss"] - idle_x
    res["bytes_per_call"] = int(grown * 1024 / held) if held else None
    res["rss_bytes_per_call"] = (int((busy["rss"] - idle["rss"]) * 1024 /
                                     held) if held else None)
    return res


def show_memory(m):
    if m["bytes_per_call"] is None:
        log("  %-8s memory: no calls held (%d ok, %d failed)" % (
            m["server"], m["ok"], m["failed"]))
        return
    log("  %-8s %6.0f bytes per call: %d calls held, PSS %.1f -> %.1f MiB"
        "%s; RSS alone %.0f bytes/call; afterwards %d ok, %d failed" % (
            m["server"], m["bytes_per_call"], m["held"],
            m["idle_pss_kib"] / 1024, m["busy_pss_kib"] / 1024,
            " + %.1f MiB SQLite on tmpfs" % (m["tmpfs_kib"] / 1024)
            if m["tmpfs_kib"] else "",
            m["rss_bytes_per_call"], m["ok"], m["failed"]))


# --- the two-phase search ------------------------------------------------

def steady_ok_rate(stf, secs, window=10):
    """Calls/s that completed in the last `window` s of call creation
    (SIPp's per-second statistics): what a server keeps up with once its
    tables are in their steady state, also when the step failed."""
    try:
        with open(stf) as f:
            rows = [l.rstrip("\n").split(";") for l in f if l.strip()]
    except OSError:
        return 0
    if len(rows) < 3:
        return 0
    head = rows[0]
    pts = []
    for row in rows[1:]:
        d = dict(zip(head, row))
        try:
            h, m, sec = d["ElapsedTime(C)"].split(":")[:3]
            t = int(h) * 3600 + int(m) * 60 + float(sec)
        except (KeyError, ValueError):
            continue
        pts.append((t, stat_int(d, "SuccessfulCall(C)")))
    pts = [p for p in pts if secs - window - 1 <= p[0] <= secs + 1]
    if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
        return 0
    return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])


class StepUp(Search):
    """Phase A: short steps, the rate multiplied by a.factor until the
    first failure (an upper bound: a rate that fails for a few seconds
    fails for longer), no bisection."""

    def record(self, r):
        self.note(r)
        self.go_on(r["rate"] * self.a.factor)
        if not r["pass"]:
            self.done = True


class Sustain(Search):
    """Phase B: long steps (a.sustain secs: every transaction timer
    runs out within one, so tables are in their steady state), below
    phase A's first failing rate.  The first at 70% of phase A's last
    passing rate (short steps overstate a server whose tables fill
    slowly); a long step that fails gives the next guess from the
    calls/s the server still completed at its end (within 50..80% of
    the failed rate); then bisection to within a.sustain_precision."""

    def __init__(self, srv, a, short):
        super().__init__(srv, a)
        self.upper = short.bad["rate"] if short.bad else None
        q = a.quantum
        first = 0.7 * short.good["rate"] if short.good else a.start / 2
        self.rate = max(q, int(first) // q * q)

    def record(self, r):
        a = self.a
        self.note(r)
        lo = self.good["rate"] if self.good else None
        hi = self.bad["rate"] if self.bad else self.upper
        if lo is None:
            # Nothing held yet: just under what the server still
            # completed at the end of the failed step.
            est = 0.95 * steady_ok_rate(r["stf"], r["secs"])
            rate = min(max(est, 0.5 * hi), 0.8 * hi)
        elif hi is None:
            rate = lo * a.factor
        else:
            if hi - lo <= max(lo * a.sustain_precision, a.quantum):
                self.done = True
            rate = (lo + hi) / 2
        self.go_on(rate)


# --- main -------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap, budget=345, start=400, quantum=20)
    ap.set_defaults(step=8, step_overhead=6, max_steps=6)
    ap.add_argument("--sustain", type=int, default=40,
                    help="seconds per step of the sustained-rate phase "
                    "(longer than every transaction timer: 64*T1 = 32 s)")
    ap.add_argument("--sustain-precision", type=float, default=0.1,
                    help="bisect the sustained rate until the bracket is "
                    "this narrow")
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--uas-core", type=int, default=None,
                    help="core of the SIPp UAS (default: the UAC's)")
    ap.add_argument("--mem-calls", type=int, default=2000,
                    help="concurrent calls for the memory figure (0: skip)")
    ap.add_argument("--mem-rate", type=int, default=500,
                    help="calls/s while opening them")
    ap.add_argument("--kamailio-db-dir", default="/dev/shm",
                    help="where Kamailio's SQLite file (subscribers, "
                    "topos state) lives; tmpfs by default")
    a = ap.parse_args()
    if a.rate and not a.rates:
        a.rates = [a.rate]
    if a.uas_core is None:
        a.uas_core = a.sipp_core

    global SIPP_PORT
    SIPP_PORT = free_udp_port()
    deadline = time.monotonic() + a.budget
    build = build_dir(a)
    check_tools(a, "calls")
    work = tempfile.mkdtemp(prefix="sipwall-bench-calls-")
    dbdir = (tempfile.mkdtemp(prefix="sipwall-bench-calls-",
                              dir=a.kamailio_db_dir)
             if os.path.isdir(a.kamailio_db_dir) else work)
    us, csv, inf = write_users(work, a.users, "calls")
    pbx = Pbx(work, a.uas_core, free_udp_port(PBX_ADDR))
    out = {"users": a.users, "step_secs": a.step, "sustain_secs": a.sustain,
           "steps": [], "max": {}, "max_short": {}, "common": {},
           "memory": {}}
    log("== bench/calls: INVITE, 407, ACK, INVITE + digest, 100, 180, 200, "
        "ACK, BYE, 200 (no media), sipwall vs Kamailio")
    log("   servers pinned to core %d, SIPp UAC on core %d, SIPp UAS (core "
        "PBX, %s:%d) on core %d; %d users; hold time 0; sustained = "
        "< %.1f%% failed and on pace for %d s" % (
            a.server_core, a.sipp_core, PBX_ADDR, pbx.port, a.uas_core,
            a.users, FAIL_MAX * 100, a.sustain))
    note_other_load(a, out)
    servers = []
    try:
        if a.only in ("both", "kamailio"):
            k = Kamailio(work, a.server_core, us, KAMAILIO_CFG,
                         ['CORE="sip:%s:%d"' % (PBX_ADDR, pbx.port)],
                         [TOPOS_SQL], dbdir, wal=True,
                         opts=["-X", "fm", "-x", "fm"])
            why = k.check()
            if why:
                raise SystemExit("bench/calls: kamailio -c refuses %s: %s"
                                 % (KAMAILIO_CFG, why))
            log("   kamailio: %s, 1 UDP worker, f_malloc, auth_db/db_sqlite, "
                "tm, rr, dialog, topos (SQLite, WAL, in %s), pike" % (
                    kamailio_version(), dbdir))
            servers.append(k)
        if a.only in ("both", "sipwall"):
            try:
                s = Sipwall(work, a.server_core, build, csv, SIPWALL_CONF,
                            core_port=free_udp_port(), pbx=PBX_ADDR,
                            pbx_port=pbx.port)
                log("   sipwall: %s in %.1f s; 1 worker" % (s.import_msg,
                                                            s.import_secs))
                out["import_secs"] = round(s.import_secs, 2)
                servers.append(s)
            except (RuntimeError, OSError) as e:
                out["sipwall_skipped"] = str(e)
                log("   sipwall half skipped: %s" % e)

        runnable = []
        for srv in servers:
            why = probe_call(srv, pbx, inf, a)
            if why is not None:
                out["%s_skipped" % srv.name] = why
                log("   %s half skipped: %s" % (srv.name, why))
                continue
            log("   %s: a probe call went through end to end" % srv.name)
            runnable.append(srv)

        # Every step gets a freshly started server (and UAS, and for
        # Kamailio a fresh topos table), so that no step inherits
        # another's backlog or tables; the servers' steps alternate, so
        # that whatever else runs on this machine weighs on both alike.
        def step(srv, rate, secs):
            srv.start()
            try:
                r = run_step(srv, pbx, rate, secs, inf, a)
            finally:
                srv.stop()
            r["events"] = srv.rejections()
            show_step(r)
            if not r["pass"] and secs >= 20:
                r["steady_ok"] = round(steady_ok_rate(r["stf"], secs))
                log("           completed %d calls/s in its last 10 s" %
                    r["steady_ok"])
            out["steps"].append(r)
            return r

        def not_refused(r):
            # A step that failed because the server refused calls (5xx)
            # is not run again for other programs' load.
            return not any(k[:1] == "5" for k in r["unexpected"])

        mem_secs = a.mem_calls / a.mem_rate + 2 * SETTLE + 12 \
            if a.mem_calls else 0
        reserve = len(runnable) * mem_secs
        long_step = a.sustain + a.step_overhead
        if a.rates:
            # Fixed steps (of --step seconds), no search.
            searches = [Fixed(srv, a.rates) for srv in runnable]
            run_searches(searches, lambda srv, r: step(srv, r, a.step), a,
                         deadline - reserve, a.step)
            best = {x.srv.name: (x.good, x.steps) for x in searches}
            short = searches
        else:
            # Phase A: short steps up to the first failure, leaving time
            # for two long steps per server.
            log("  -- phase A: %d s steps up to the first failure" % a.step)
            short = [StepUp(srv, a) for srv in runnable]
            run_searches(short, lambda srv, r: step(srv, r, a.step), a,
                         deadline - reserve - 2 * len(runnable) * long_step,
                         a.step, not_refused)
            # Phase B: long steps, the sustained rate.
            log("  -- phase B: %d s steps, the sustained rate" % a.sustain)
            searches = [Sustain(x.srv, a, x) for x in short]
            run_searches(searches, lambda srv, r: step(srv, r, a.sustain),
                         a, deadline - reserve, a.sustain, not_refused)
            best = {x.srv.name: (x.good, x.steps) for x in searches}
        for name, (good, _) in best.items():
            out["max"][name] = good["rate"] if good else 0
        for x in short:
            out["max_short"][x.srv.name] = x.good["rate"] if x.good else 0

        # CPU per 1,000 calls at one common offered rate: the highest
        # rate of phase A that both servers ran without failures (both
        # run the same sequence of rates there), and below 90% of a
        # core if there is one (a saturated server's figure includes
        # its retransmissions).
        common = 0
        if len(short) > 1:
            ok = [{r["rate"]: r for r in x.steps if r["pass"]}
                  for x in short]
            both = set(ok[0]).intersection(*ok[1:])
            calm = [c for c in both
                    if all(o[c]["server_busy"] < 0.9 for o in ok)]
            if both:
                common = max(calm or both)
                for o in ok:
                    keep_lower_cpu(out, o[common])

        if a.mem_calls and runnable:
            log("  -- memory with %d concurrent calls (opened at %d/s)" % (
                a.mem_calls, a.mem_rate))
            for srv in runnable:
                if time.monotonic() + mem_secs > deadline:
                    log("  time budget reached")
                    break
                m = measure_memory(srv, pbx, inf, a, a.mem_calls, a.mem_rate)
                out["memory"][srv.name] = m
                show_memory(m)

        # The report.
        log("")
        log("bench/calls results (%d users, hold time 0; sustained: %d s "
            "steps, CPU: %d s steps):" % (a.users, a.sustain, a.step))
        for name, rate in out["max_short"].items():
            log("  %-8s passed %d s steps up to %d calls/s" % (
                name, a.step, rate))
        report(best, common, out, "calls")
        for name, (good, steps) in best.items():
            if good is None and steps:
                low = min(steps, key=lambda x: x["rate"])
                log("  %-8s no %d s step passed; at %d/s offered it still "
                    "completed %s calls/s at the end" % (
                        name, a.sustain, low["rate"],
                        low.get("steady_ok", "?")))
        if out["memory"]:
            log("  memory per established call (%d held):" % a.mem_calls)
            for m in out["memory"].values():
                show_memory(m)
        km = out["memory"].get("kamailio", {}).get("bytes_per_call")
        sm = out["memory"].get("sipwall", {}).get("bytes_per_call")
        if km and sm:
            out["ratio_memory"] = round(km / sm, 2)
            log("  ratio memory per call kamailio/sipwall: %.2f" %
                out["ratio_memory"])
        for name in ("kamailio", "sipwall"):
            if "%s_skipped" % name in out:
                log("  %s half skipped (%s): no ratio" % (
                    name, out["%s_skipped" % name]))
    finally:
        pbx.stop()
        finish(servers, a, out, work,
               (dbdir,) if dbdir != work else ())
    return 0


if __name__ == "__main__":
    sys.exit(main())
