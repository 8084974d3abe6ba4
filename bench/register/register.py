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
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCENARIO = os.path.join(HERE, "register.xml")
KAMAILIO_CFG = os.path.join(ROOT, "bench", "peers", "kamailio-register.cfg")
KAMAILIO_SQL = ("/usr/share/kamailio/db_sqlite/standard-create.sql",
                "/usr/share/kamailio/db_sqlite/auth_db-create.sql")
REALM = "sipwall"
FAIL_MAX = 0.001            # < 0.1% failed registrations
CLK_TCK = os.sysconf("SC_CLK_TCK")
UDP_BUF = 4 * 1024 * 1024   # SIPp's -buff_size; sipwall and Kamailio ask for the same


def log(*a):
    print(*a, flush=True)


# --- users ---------------------------------------------------------------

LETTERS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"


def password(i):
    """A strong password, the same for user i on every run: 16 letters
    and digits alternating, with a '-' in the middle (17 characters).

    Alternating letters and digits cannot hold a repeat, a sequence or a
    keyboard run; the digits 2, 6, 8, 9 read as no letter, so no common
    password hides in it either: `sipwall account import` takes all of
    them without --allow-weak.  Only characters that need no quoting in
    a CSV, a SIPp injection file or a digest header."""
    h = hashlib.sha256(b"sipwall-bench-register:%d" % i).digest()
    cs = [LETTERS[h[k] % len(LETTERS)] if k % 2 == 0 else "2689"[h[k] % 4]
          for k in range(16)]
    return "".join(cs[:8]) + "-" + "".join(cs[8:])


def users(n):
    return [("u%05d" % i, password(i)) for i in range(n)]


def write_users(work, n):
    us = users(n)
    csv = os.path.join(work, "users.csv")
    inf = os.path.join(work, "users.inf")
    with open(csv, "w") as f:
        f.write("# bench/register users: username,password\n")
        for u, pw in us:
            f.write("%s,%s\n" % (u, pw))
    with open(inf, "w") as f:
        f.write("SEQUENTIAL\n")
        for u, pw in us:
            f.write("%s;%s;%s\n" % (u, pw, REALM))
    return us, csv, inf


def write_kamailio_db(path, us):
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    for sql in KAMAILIO_SQL:
        with open(sql) as f:
            db.executescript(f.read())
    db.executemany(
        "INSERT INTO subscriber (username, domain, ha1) VALUES (?, ?, ?)",
        [(u, REALM, hashlib.md5(("%s:%s:%s" % (u, REALM, pw)).encode())
          .hexdigest()) for u, pw in us])
    db.commit()
    db.close()


# --- processes and counters ----------------------------------------------

def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    # The command name may hold spaces: fields start after the last ')'.
    rest = data[data.rindex(")") + 2:].split()
    return {"ppid": int(rest[1]), "utime": int(rest[11]),
            "stime": int(rest[12])}


def proc_tree(root):
    """root and all its descendants that are alive now."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            children.setdefault(proc_stat(int(d))["ppid"], []).append(int(d))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pids):
    t = 0
    for p in pids:
        try:
            st = proc_stat(p)
        except OSError:
            continue
        t += st["utime"] + st["stime"]
    return t / CLK_TCK


def core_busy_ticks(core):
    """(busy, total) jiffies of one CPU from /proc/stat."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu%d " % core):
                v = list(map(int, line.split()[1:]))
                idle = v[3] + v[4]          # idle + iowait
                return sum(v[:8]) - idle, sum(v[:8])
    return 0, 0


def udp_counters():
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Udp:")]
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))


def sip_probe(port, method="OPTIONS", timeout=1.0):
    """Send one request without credentials; the response, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    lport = s.getsockname()[1]
    msg = ("%s sip:127.0.0.1:%d SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKprobe%d\r\n"
           "Max-Forwards: 70\r\n"
           "From: <sip:u00000@%s>;tag=probe\r\n"
           "To: <sip:u00000@%s>\r\n"
           "Call-ID: probe-%d@127.0.0.1\r\n"
           "CSeq: 1 %s\r\n"
           "Contact: <sip:u00000@127.0.0.1:%d>\r\n"
           "Content-Length: 0\r\n\r\n" % (method, port, lport, time.time_ns(),
                                          REALM, REALM, time.time_ns(),
                                          method, lport))
    s.settimeout(timeout)
    try:
        s.sendto(msg.encode(), ("127.0.0.1", port))
        data, _ = s.recvfrom(65535)
        return data.decode(errors="replace")
    except OSError:
        return None
    finally:
        s.close()


class Server:
    name = "?"

    def __init__(self, work, core):
        self.work = work
        self.core = core
        self.port = free_udp_port()
        self.proc = None
        self.logf = None

    def pids(self):
        return proc_tree(self.proc.pid)

    def wait_ready(self, secs=10.0):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s; see %s" % (
                    self.name, self.proc.returncode, self.logf.name))
            if sip_probe(self.port, timeout=0.3) is not None:
                return
            time.sleep(0.1)
        raise RuntimeError("%s does not answer on udp 127.0.0.1:%d; see %s"
                           % (self.name, self.port, self.logf.name))

    def spawn(self, argv):
        self.logf = open(os.path.join(self.work, self.name + ".log"), "w")
        self.proc = subprocess.Popen(
            ["taskset", "-c", str(self.core)] + argv, stdin=subprocess.DEVNULL,
            stdout=self.logf, stderr=subprocess.STDOUT,
            start_new_session=True)

    def rejections(self):
        """Why the server refused registrations in the last step."""
        return {}

    def stop(self):
        """Stop the process we started (and so its children), by PID."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            for p in reversed(self.pids()):
                try:
                    os.kill(p, signal.SIGKILL)
                except OSError:
                    pass
            self.proc.wait(timeout=5)


class Kamailio(Server):
    name = "kamailio"

    def __init__(self, work, core, us, with_tm=False):
        super().__init__(work, core)
        self.with_tm = with_tm
        self.db = os.path.join(work, "kamailio.sqlite")
        write_kamailio_db(self.db, us)

    def start(self):
        # -n 1: one UDP worker; -DD: stay in the foreground (our child);
        # -E: log to stderr (our log file); -b: receive buffer probe limit;
        # -m: shared memory, enough for -A WITH_TM (tm keeps two
        # transactions per registration for its 5 s wait timer: 256 MB
        # runs out at 8,000/s).
        self.spawn(["kamailio", "-f", KAMAILIO_CFG, "-DD", "-E", "-n", "1",
                    "-b", str(UDP_BUF), "-m", "1024", "-M", "16",
                    "-l", "udp:127.0.0.1:%d" % self.port,
                    "-A", 'DBURL="sqlite://%s"' % self.db] +
                   (["-A", "WITH_TM"] if self.with_tm else []))
        self.wait_ready()


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
log:
  level: warn
"""


class Sipwall(Server):
    name = "sipwall"

    def __init__(self, work, core, build, csv):
        super().__init__(work, core)
        self.build = build
        self.state = os.path.join(work, "sipwall-state")
        os.makedirs(self.state, exist_ok=True)
        self.conf = os.path.join(work, "sipwall.yaml")
        with open(self.conf, "w") as f:
            f.write(SIPWALL_CONF.format(state=self.state, port=self.port,
                                        realm=REALM))
        t0 = time.monotonic()
        p = subprocess.run([os.path.join(build, "src", "cli", "sipwall"), "account",
                            "-c", self.conf, "import", csv],
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError("sipwall account import failed:\n" + p.stderr
                               + p.stdout)
        self.import_secs = time.monotonic() - t0
        self.import_msg = p.stdout.strip()

    def events_path(self):
        return os.path.join(self.state, "events.jsonl")

    def start(self):
        # A new event log per step: two events per registration add up.
        if os.path.exists(self.events_path()):
            os.unlink(self.events_path())
        self.ev_off = 0         # what rejections() has read
        self.spawn([os.path.join(self.build, "src", "sipwalld"),
                    "-c", self.conf])
        self.wait_ready()

    def rejections(self):
        """{"auth.nonce_rejected:replay_table_full": n, ...} from the
        security events since the last call (events are rate limited per
        source, so these are lower bounds)."""
        out = {}
        try:
            f = open(self.events_path(), "rb")
        except OSError:
            return out
        with f:
            f.seek(self.ev_off)
            for line in f:
                if (b'"auth.ok"' in line or b'"reg.' in line or
                        b'"daemon.' in line):
                    continue
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                k = "%s:%s" % (e.get("type"), e.get("reason", ""))
                out[k] = out.get(k, 0) + 1
            self.ev_off = f.tell()
        return out

    def register_ready(self):
        """None when sipwalld challenges REGISTER with an MD5 digest,
        else why not."""
        r = sip_probe(self.port, "REGISTER")
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


# --- SIPp -----------------------------------------------------------------

# SIPp's one local port for the whole run: the Contact of each user stays
# the same from step to step, so its binding is refreshed, not added
# (sipwall keeps bindings across restarts and allows 5 per account).
SIPP_PORT = 0


def run_step(srv, rate, secs, inf, sipp_core):
    """One bounded SIPp run at `rate` registrations/s for `secs` s."""
    calls = int(rate * secs)
    stf = os.path.join(srv.work, "stat-%s-%d.csv" % (srv.name, rate))
    errf = os.path.join(srv.work, "errors-%s-%d.log" % (srv.name, rate))
    for f in (stf, errf):
        if os.path.exists(f):
            os.unlink(f)
    argv = ["taskset", "-c", str(sipp_core), "sipp",
            "127.0.0.1:%d" % srv.port, "-sf", SCENARIO, "-inf", inf,
            "-t", "u1", "-i", "127.0.0.1", "-p", str(SIPP_PORT),
            "-r", str(rate), "-rp", "1000", "-m", str(calls),
            "-l", str(max(3 * rate, 100)),
            "-buff_size", str(UDP_BUF),
            "-recv_timeout", "3000",            # a registration > 3 s fails
            "-timeout", "%ds" % (2 * secs + 15),  # the whole run, bounded
            # An unexpected answer fails the registration; no BYE after it.
            "-default_behaviors", "abortunexp",
            "-nostdin", "-trace_stat", "-stf", stf, "-fd", "1",
            "-trace_err", "-error_file", errf]
    pids = srv.pids()
    core0 = core_busy_ticks(srv.core)
    cpu0, udp0, t0 = cpu_seconds(pids), udp_counters(), time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, cwd=srv.work,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    cpu1, udp1 = cpu_seconds(pids), udp_counters()
    core1 = core_busy_ticks(srv.core)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()

    st = {}
    try:
        with open(stf) as f:
            rows = [l.rstrip("\n").split(";") for l in f if l.strip()]
        st = dict(zip(rows[0], rows[-1]))
    except (OSError, IndexError):
        pass

    def num(k):
        try:
            return int(st.get(k, "0") or 0)
        except ValueError:
            return 0
    ok_calls, failed = num("SuccessfulCall(C)"), num("FailedCall(C)")
    created = num("TotalCallCreated")
    lost = max(calls - ok_calls - failed, 0)    # never finished
    bad = failed + lost
    # The run kept pace when it ended near secs (SIPp creates calls for
    # secs seconds; the last ones take a round trip or a retransmission).
    paced = wall <= secs * 1.10 + 1.5
    res = {
        "server": srv.name, "rate": rate, "secs": secs, "calls": calls,
        "created": created, "ok": ok_calls, "failed": failed, "lost": lost,
        "retrans": num("Retransmissions(C)"), "wall": round(wall, 2),
        "server_cpu": round(cpu1 - cpu0, 2),
        "sipp_cpu": round(ru.ru_utime + ru.ru_stime, 2),
        "rcvbuf_errors": udp1.get("RcvbufErrors", 0)
        - udp0.get("RcvbufErrors", 0),
        "sipp_rc": p.returncode,
    }
    res["fail_ratio"] = bad / calls if calls else 1.0
    res["cpu_per_1k"] = (res["server_cpu"] / ok_calls * 1000
                         if ok_calls else None)
    res["pass"] = bool(res["fail_ratio"] < FAIL_MAX and paced and
                       p.returncode in (0, 1) and st)
    # Who ran out: the core that was (nearly) busy the whole time.
    res["server_busy"] = round((cpu1 - cpu0) / wall, 2) if wall else 0
    res["sipp_busy"] = round(res["sipp_cpu"] / wall, 2) if wall else 0
    # The whole server core, kernel work on the server's behalf included.
    res["core_busy"] = round((core1[0] - core0[0]) /
                             max(core1[1] - core0[1], 1), 2)
    if not st:
        res["error"] = (err.strip().splitlines() or ["no statistics"])[-1]
    res["unexpected"] = unexpected(errf)
    return res


def unexpected(errf):
    """{"401 Unauthorized": n, ...}: the unexpected messages SIPp logged
    (the first 10 MB of its error file; it can grow large under loss)."""
    out = {}
    try:
        with open(errf, errors="replace") as f:
            data = f.read(10 << 20)
    except OSError:
        return out
    for m in re.finditer(r"received 'SIP/2\.0 (\d{3}[^\r\n]*)", data):
        k = m.group(1).strip()
        out[k] = out.get(k, 0) + 1
    return out


def show_step(r):
    cpk = "%.3f" % r["cpu_per_1k"] if r["cpu_per_1k"] is not None else "-"
    log("  %-8s %6d/s %-4s %7d ok %6d failed %5d lost %6d retrans "
        "%6d rcvbuf-drops(all)  %5.1fs  server %.0f%% (core %.0f%%), SIPp %.0f%%  "
        "%s cpu-s/1k%s" % (
            r["server"], r["rate"], "ok" if r["pass"] else "FAIL", r["ok"],
            r["failed"], r["lost"], r["retrans"], r["rcvbuf_errors"],
            r["wall"], 100 * r["server_busy"], 100 * r["core_busy"],
            100 * r["sipp_busy"], cpk,
            ("  (" + r["error"] + ")") if "error" in r else ""))
    if r["unexpected"]:
        log("           unexpected answers: " + ", ".join(
            "%d x %s" % (n, k) for k, n in sorted(r["unexpected"].items())))
    if r.get("events"):
        log("           %s events: " % r["server"] + ", ".join(
            "%d x %s" % (n, k) for k, n in sorted(r["events"].items())))


class Search:
    """Step the rate up by `factor` from `start` until a step fails, then
    bisect between the best passing and the lowest failing rate."""

    def __init__(self, srv, a):
        self.srv, self.a = srv, a
        self.good = self.bad = None
        self.steps = []
        self.rate = a.start
        self.max_steps = a.max_steps
        self.done = False

    def record(self, r):
        a = self.a
        self.steps.append(r)
        if r["pass"]:
            if self.good is None or r["rate"] > self.good["rate"]:
                self.good = r
        elif self.bad is None or r["rate"] < self.bad["rate"]:
            self.bad = r
        if self.bad is None:
            rate = int(r["rate"] * a.factor)
        elif self.good is None:
            rate = self.bad["rate"] // 2
        else:
            lo, hi = self.good["rate"], self.bad["rate"]
            if hi - lo <= max(lo * a.precision, 100):
                self.done = True
            rate = (lo + hi) // 2
        rate = max(100, rate // 100 * 100)
        if (len(self.steps) >= self.max_steps or
                any(x["rate"] == rate for x in self.steps)):
            self.done = True
        self.rate = rate


class Fixed(Search):
    """The given rates in order, no search."""

    def __init__(self, srv, rates):
        self.srv = srv
        self.good = self.bad = None
        self.steps = []
        self.todo = list(rates)
        self.rate = self.todo.pop(0)
        self.done = False

    def record(self, r):
        self.steps.append(r)
        if r["pass"] and (self.good is None or r["rate"] > self.good["rate"]):
            self.good = r
        if self.todo:
            self.rate = self.todo.pop(0)
        else:
            self.done = True


def limited_by(good, steps):
    """What the lowest failing step above the best one looked like."""
    above = [s for s in steps if not s["pass"] and good and
             s["rate"] > good["rate"]]
    if not above:
        return "no failing step (raise --max-steps or --budget)"
    s = min(above, key=lambda s: s["rate"])
    who = ""
    if s["sipp_busy"] >= 0.9 and s["server_busy"] < 0.9:
        who = ", the load generator saturated"
    elif s["server_busy"] >= 0.9:
        who = ", the server's core saturated"
    return "%d/s failed: server %.0f%% of a core, SIPp %.0f%%, %d receive-" \
        "buffer drops%s" % (s["rate"], 100 * s["server_busy"],
                             100 * s["sipp_busy"], s["rcvbuf_errors"], who)


# --- main -------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("SIPWALL_BUILD",
                                                      "build"))
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("--step", type=int, default=int(
        os.environ.get("BENCH_STEP_SECS", "10")), help="seconds per step")
    ap.add_argument("--start", type=int, default=5000, help="first rate")
    ap.add_argument("--factor", type=float, default=1.6,
                    help="step-up factor until the first failure")
    ap.add_argument("--precision", type=float, default=0.05,
                    help="bisect until the bracket is this narrow")
    ap.add_argument("--max-steps", type=int, default=7,
                    help="steps per server")
    ap.add_argument("--budget", type=int, default=300,
                    help="seconds for the whole run")
    ap.add_argument("--server-core", type=int, default=int(
        os.environ.get("BENCH_CORE", "1")))
    ap.add_argument("--sipp-core", type=int, default=int(
        os.environ.get("BENCH_SIPP_CORE", "0")))
    ap.add_argument("--only", choices=("both", "kamailio", "sipwall"),
                    default="both")
    ap.add_argument("--rate", type=int, default=0,
                    help="skip the search: one step at this rate each")
    ap.add_argument("--rates", type=lambda v: [int(x) for x in v.split(",")],
                    help="skip the search: these steps in this order, "
                    "e.g. 8000,6000 (one server instance for all)")
    ap.add_argument("--kamailio-tm", action="store_true",
                    help="Kamailio with a tm transaction per REGISTER "
                    "(-A WITH_TM)")
    ap.add_argument("--keep-running", action="store_true",
                    help="one server instance for all steps (default: a "
                    "fresh one per step)")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory")
    a = ap.parse_args()
    if a.rate and not a.rates:
        a.rates = [a.rate]

    global SIPP_PORT
    SIPP_PORT = free_udp_port()
    deadline = time.monotonic() + a.budget
    build = os.path.abspath(a.build if os.path.isabs(a.build)
                            else os.path.join(ROOT, a.build))
    for tool in ("sipp", "taskset") + (("kamailio",) if a.only != "sipwall"
                                       else ()):
        if shutil.which(tool) is None:
            sys.exit("bench/register: %s not found (scripts/deps.sh --bench)"
                     % tool)
    work = tempfile.mkdtemp(prefix="sipwall-bench-register-")
    us, csv, inf = write_users(work, a.users)
    out = {"users": a.users, "step_secs": a.step, "steps": [], "max": {},
           "common": {}}
    log("== bench/register: REGISTER + digest (REGISTER, 401, REGISTER, 200), "
        "sipwall vs Kamailio")
    log("   servers pinned to core %d, SIPp to core %d; %d users; %d s steps;"
        " sustained = < %.1f%% failed and on pace" % (
            a.server_core, a.sipp_core, a.users, a.step, FAIL_MAX * 100))
    # Whatever else runs here makes the figures noisy: say so.
    b0 = [core_busy_ticks(c) for c in (a.server_core, a.sipp_core)]
    time.sleep(1.0)
    b1 = [core_busy_ticks(c) for c in (a.server_core, a.sipp_core)]
    other = [(y[0] - x[0]) / max(y[1] - x[1], 1) for x, y in zip(b0, b1)]
    out["other_load"] = [round(x, 2) for x in other]
    if max(other) > 0.1:
        log("   note: before the run, other programs kept core %d %.0f%% "
            "and core %d %.0f%% busy: the figures will be noisy" % (
                a.server_core, 100 * other[0], a.sipp_core, 100 * other[1]))
    servers = []
    try:
        if a.only in ("both", "kamailio"):
            k = Kamailio(work, a.server_core, us, a.kamailio_tm)
            ver = subprocess.run(["kamailio", "-v"], capture_output=True,
                                 text=True).stdout.split("\n")[0]
            log("   kamailio: %s, 1 UDP worker, auth_db/db_sqlite, usrloc "
                "in memory, pike%s" % (ver.replace("version: ", "").strip(),
                                       ", tm" if a.kamailio_tm else ""))
            servers.append(k)
        if a.only in ("both", "sipwall"):
            t0 = time.monotonic()
            s = Sipwall(work, a.server_core, build, csv)
            log("   sipwall: %s in %.1f s; 1 worker" % (s.import_msg,
                                                        s.import_secs))
            out["import_secs"] = round(s.import_secs, 2)
            servers.append(s)

        runnable = []
        for srv in servers:
            srv.start()
            why = srv.register_ready() if isinstance(srv, Sipwall) else None
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

        if a.rates:
            searches = [Fixed(srv, a.rates) for srv in runnable]
        else:
            searches = [Search(srv, a) for srv in runnable]
        # Keep time for the common-rate steps at the end.
        per_step = a.step + 4
        search_end = deadline - len(runnable) * per_step
        retries = {x.srv.name: 2 for x in searches}
        while any(not x.done for x in searches):
            for x in searches:
                if x.done:
                    continue
                if time.monotonic() + per_step > search_end:
                    log("  time budget reached")
                    x.done = True
                    continue
                r = step(x.srv, x.rate)
                # A failure while other programs took a good part of the
                # server's core says nothing about the server: run the
                # step again (twice at most per server).
                if (not r["pass"] and r["core_busy"] - r["server_busy"] > 0.3
                        and retries[x.srv.name] > 0):
                    retries[x.srv.name] -= 1
                    log("           disturbed: other programs used about "
                        "%.0f%% of core %d; this step runs again" % (
                            100 * (r["core_busy"] - r["server_busy"]),
                            a.server_core))
                    continue
                x.record(r)
        best = {x.srv.name: (x.good, x.steps) for x in searches}
        for name, (good, _) in best.items():
            out["max"][name] = good["rate"] if good else 0

        # CPU per 1,000 at one common offered load: a little under the
        # lower of the two maxima, so that both run it cleanly.  Two
        # rounds when time allows; the lower figure of each server counts
        # (other load on the machine only ever adds CPU time).
        passing = [g["rate"] for g, _ in best.values() if g]
        common = 0
        if len(runnable) > 1 and len(passing) == len(runnable):
            common = max(100, int(min(passing) * 0.9) // 100 * 100)
            log("  -- CPU at a common offered load of %d/s" % common)
            for rnd in range(2):
                if time.monotonic() + len(runnable) * per_step > deadline:
                    if rnd == 0:
                        log("  time budget reached")
                    break
                for srv in runnable:
                    r = step(srv, common)
                    prev = out["common"].get(srv.name)
                    if (prev is None or not prev["pass"] or
                            (r["pass"] and r["cpu_per_1k"] <
                             prev["cpu_per_1k"])):
                        out["common"][srv.name] = r

        # The report.
        log("")
        log("bench/register results (%d users, %d s steps):" % (a.users,
                                                                 a.step))
        for name, (good, steps) in best.items():
            if good:
                log("  %-8s max sustained %6d registrations/s  "
                    "(%.3f CPU-s per 1,000 there)\n           above: %s" % (
                        name, good["rate"], good["cpu_per_1k"],
                        limited_by(good, steps)))
            else:
                log("  %-8s no step passed" % name)
        if out["common"]:
            log("  CPU-seconds per 1,000 registrations at %d/s offered:"
                % common)
            for name, r in out["common"].items():
                log("  %-8s %.3f CPU-s/1k  (%s)" % (
                    name, r["cpu_per_1k"] or 0,
                    "ok" if r["pass"] else "FAILED at this rate"))
        km, sm = out["max"].get("kamailio"), out["max"].get("sipwall")
        if km and sm:
            out["ratio_rate"] = round(sm / km, 2)
            log("  ratio max sustained rate sipwall/kamailio: %.2f  "
                "(goal >= 1.5)" % out["ratio_rate"])
        kc = out["common"].get("kamailio", {}).get("cpu_per_1k")
        sc = out["common"].get("sipwall", {}).get("cpu_per_1k")
        if kc and sc:
            out["ratio_cpu"] = round(kc / sc, 2)
            log("  ratio registrations per CPU-second sipwall/kamailio: "
                "%.2f  (Kamailio CPU-s/1k divided by sipwall's)"
                % out["ratio_cpu"])
        if "sipwall_skipped" in out:
            log("  sipwall: skipped (%s): no ratio" % out["sipwall_skipped"])
    finally:
        for srv in servers:
            srv.stop()
        if a.json:
            with open(a.json, "w") as f:
                json.dump(out, f, indent=2)
        if a.keep:
            log("  work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
