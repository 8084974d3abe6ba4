#!/usr/bin/env python3
"""bench/register: REGISTER with digest authentication, sipwall and
Kamailio side by side, driven by the same SIPp in the same run.

What it does, in order:
  1. generates N users (deterministic names and strong passwords) and
     writes them three ways: a CSV for `sipwall account import`, a SIPp
     injection file, and Kamailio's subscriber table (SQLite, HA1 only);
  2. for each server (Kamailio first, then sipwall), pinned to one core
     (default 1) with SIPp on another (default 0): steps the offered
     rate up, then bisects, each step a bounded SIPp run of STEP seconds,
     to find the highest rate at which fewer than 0.1% of the
     registrations failed and the run kept pace (the maximum sustained
     rate);
  3. runs both again at one common offered rate (the lower of the two
     maxima) and reads the servers' CPU time (utime+stime from
     /proc/PID/stat, all processes / threads of the server) before and
     after: CPU-seconds per 1,000 registrations at the same load;
  4. prints both figures for both servers and the ratios.

A registration is one SIPp "call": REGISTER, 401, REGISTER with
credentials, 200 (register.xml).  Absolute figures are printed alongside,
but the result is the ratio against Kamailio measured in this run.

sipwall's half runs only when sipwalld challenges a REGISTER with a
digest (401 and WWW-Authenticate: Digest ... algorithm=MD5); otherwise
the report says why it was skipped.

Everything is on loopback; every SIPp run is bounded in calls and time;
only processes this script started are stopped, by PID.
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchlib import (  # noqa: E402  (bench/benchlib.py)
    FAIL_MAX, ROOT, Kamailio, Sipwall, add_common_args, build_dir,
    check_tools, finish, free_udp_port, kamailio_version, log,
    note_other_load, report, run_sipp, search_and_compare, show_step,
    sipp_base_argv, sip_probe, write_users)

SCENARIO = os.path.join(HERE, "register.xml")
KAMAILIO_CFG = os.path.join(ROOT, "bench", "peers", "kamailio-register.cfg")


SIPWALL_CONF = """\
# bench/register: sipwalld as an authenticating registrar on loopback.
# A bench config, not one to copy: all load comes from one source
# (SIPp on 127.0.0.1), so the per-source budgets are raised far above
# the benchmark's rate and 127.0.0.0/8 is never banned.  Everything else
# (digest auth, nonces bound to the source, nonce-count replay checks,
# scanner and brute-force detection, events) stays as shipped.
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
zones:
  - name: internet
    trust: untrusted
    auth: required
    rate_limits:
      source: {{rate: 1000000/s, burst: 1000000}}
      prefix: {{rate: 1000000/s, burst: 1000000}}
      account: {{rate: 1000000/s, burst: 1000000}}
      authenticated: {{rate: 1000000/s, burst: 1000000}}
auth:
  realm: {realm}
  # SIPp 3.6.1 answers only MD5 challenges (it picks the MD5 one of
  # sipwall's two); Kamailio offers only MD5 here too.
  algorithms: [MD5]
registrar:
  max_expires: 1h
bans:
  never: [127.0.0.0/8]        # bench only: the load generator is one source
# bench only: one load generator, no media (see above)
acknowledge: ["unlimited:internet"]
log:
  level: warn
"""


def register_ready(srv):
    """None when sipwalld challenges REGISTER with an MD5 digest, else
    why not."""
    r = sip_probe(srv.port, "REGISTER")
    if r is None:
        return "no answer to REGISTER"
    status = r.split("\r\n", 1)[0]
    for line in r.split("\r\n"):
        k, _, v = line.partition(":")
        if (k.strip().lower() == "www-authenticate" and
                v.strip().lower().startswith("digest") and
                "algorithm=md5" in v.lower().replace(" ", "")):
            if status.split()[1:2] == ["401"]:
                return None
    return "REGISTER answered '%s' (no 401 with an MD5 digest challenge)" \
        % status


# SIPp's one local port for the whole run: the Contact of each user stays
# the same from step to step, so its binding is refreshed, not added
# (sipwall keeps bindings across restarts and allows 5 per account).
SIPP_PORT = 0


def run_step(srv, rate, secs, inf, sipp_core):
    """One bounded SIPp run at `rate` registrations/s for `secs` s."""
    calls = int(rate * secs)
    stf = os.path.join(srv.work, "stat-%s-%d.csv" % (srv.name, rate))
    errf = os.path.join(srv.work, "errors-%s-%d.log" % (srv.name, rate))
    argv = sipp_base_argv(srv, SCENARIO, inf, sipp_core, SIPP_PORT, rate,
                          calls, secs, stf, errf)
    argv += ["-l", str(max(3 * rate, 100))]
    return run_sipp(srv, argv, rate, secs, calls, stf, errf)


# --- main -------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(ap, budget=300, start=5000, quantum=100)
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--kamailio-tm", action="store_true",
                    help="Kamailio with a tm transaction per REGISTER "
                    "(-A WITH_TM)")
    ap.add_argument("--keep-running", action="store_true",
                    help="one server instance for all steps (default: a "
                    "fresh one per step)")
    a = ap.parse_args()
    if a.rate and not a.rates:
        a.rates = [a.rate]

    global SIPP_PORT
    SIPP_PORT = free_udp_port()
    deadline = time.monotonic() + a.budget
    build = build_dir(a)
    check_tools(a, "register")
    work = tempfile.mkdtemp(prefix="sipwall-bench-register-")
    us, csv, inf = write_users(work, a.users, "register")
    out = {"users": a.users, "step_secs": a.step, "steps": [], "max": {},
           "common": {}}
    log("== bench/register: REGISTER + digest (REGISTER, 401, REGISTER, 200), "
        "sipwall vs Kamailio")
    log("   servers pinned to core %d, SIPp to core %d; %d users; %d s steps;"
        " sustained = < %.1f%% failed and on pace" % (
            a.server_core, a.sipp_core, a.users, a.step, FAIL_MAX * 100))
    note_other_load(a, out)
    servers = []
    try:
        if a.only in ("both", "kamailio"):
            k = Kamailio(work, a.server_core, us, KAMAILIO_CFG,
                         ["WITH_TM"] if a.kamailio_tm else [])
            log("   kamailio: %s, 1 UDP worker, auth_db/db_sqlite, usrloc "
                "in memory, pike%s" % (kamailio_version(),
                                       ", tm" if a.kamailio_tm else ""))
            servers.append(k)
        if a.only in ("both", "sipwall"):
            s = Sipwall(work, a.server_core, build, csv, SIPWALL_CONF)
            log("   sipwall: %s in %.1f s; 1 worker" % (s.import_msg,
                                                        s.import_secs))
            out["import_secs"] = round(s.import_secs, 2)
            servers.append(s)

        runnable = []
        for srv in servers:
            srv.start()
            why = register_ready(srv) if isinstance(srv, Sipwall) else None
            if why is not None:
                log("   sipwall: skipped: %s" % why)
                out["sipwall_skipped"] = why
                srv.stop()
                continue
            runnable.append(srv)
            srv.stop()

        # Every step gets a freshly started server (the same store and
        # users), so that no step inherits another's backlog or tables;
        # the servers' steps alternate, so that whatever else runs on
        # this machine weighs on both alike.
        # --keep-running: one instance of each for all steps instead, to
        # see what state that outlives a step (tables, backlogs) does.
        if a.keep_running:
            for srv in runnable:
                srv.start()

        def step(srv, rate):
            if not a.keep_running:
                srv.start()
            try:
                r = run_step(srv, rate, a.step, inf, a.sipp_core)
            finally:
                if not a.keep_running:
                    srv.stop()
            r["events"] = srv.rejections()
            show_step(r)
            out["steps"].append(r)
            return r

        best, common = search_and_compare(runnable, step, a, out, deadline)

        # The report.
        log("")
        log("bench/register results (%d users, %d s steps):" % (a.users,
                                                                 a.step))
        report(best, common, out, "registrations", "1.5")
        if "sipwall_skipped" in out:
            log("  sipwall: skipped (%s): no ratio" % out["sipwall_skipped"])
    finally:
        finish(servers, a, out, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
