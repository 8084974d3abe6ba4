"""What bench/register and bench/calls share: users and their
passwords, Kamailio's subscriber table, the servers under test (started
pinned to one core, stopped by PID), SIPp runs measured from the
outside (the server's CPU from /proc, the kernel's receive-buffer drops,
SIPp's own statistics), the search for the maximum sustained rate and
the common-rate CPU comparison, and the report of both.

Everything is on loopback; every SIPp run is bounded in calls and time;
only processes this module started are stopped, by PID.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KAMAILIO_SQL = ("/usr/share/kamailio/db_sqlite/standard-create.sql",
                "/usr/share/kamailio/db_sqlite/auth_db-create.sql")
REALM = "sipwall"
FAIL_MAX = 0.001            # < 0.1% failed operations
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


def write_users(work, n, what):
    """users.csv for `sipwall account import` and users.inf for SIPp."""
    us = users(n)
    csv = os.path.join(work, "users.csv")
    inf = os.path.join(work, "users.inf")
    with open(csv, "w") as f:
        f.write("# bench/%s users: username,password\n" % what)
        for u, pw in us:
            f.write("%s,%s\n" % (u, pw))
    with open(inf, "w") as f:
        f.write("SEQUENTIAL\n")
        for u, pw in us:
            f.write("%s;%s;%s\n" % (u, pw, REALM))
    return us, csv, inf


def write_kamailio_db(path, us, extra_sql=(), wal=False):
    """Kamailio's SQLite file: the subscriber table with the users' MD5
    HA1 (and whatever tables extra_sql creates); wal: journal_mode WAL,
    which the file keeps for every later connection."""
    if os.path.exists(path):
        os.unlink(path)
    db = sqlite3.connect(path)
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
    for sql in KAMAILIO_SQL + tuple(extra_sql):
        with open(sql) as f:
            db.executescript(f.read())
    db.executemany(
        "INSERT INTO subscriber (username, domain, ha1) VALUES (?, ?, ?)",
        [(u, REALM, hashlib.md5(("%s:%s:%s" % (u, REALM, pw)).encode())
          .hexdigest()) for u, pw in us])
    db.commit()
    db.close()


# --- processes and counters ----------------------------------------------

def free_udp_port(addr="127.0.0.1", lo=40000, hi=59999):
    """A free UDP port in lo..hi: outside sipwall's default media range
    (20000-39999), where `sipwall check` refuses a SIP listener."""
    import random
    for _ in range(200):
        port = random.randint(lo, hi)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((addr, port))
        except OSError:
            continue
        finally:
            s.close()
        return port
    raise RuntimeError("no free UDP port in %d-%d" % (lo, hi))


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


def memory_kib(pids):
    """{"rss": KiB, "pss": KiB} summed over pids.  PSS (proportional set
    size) counts a page shared by k processes 1/k in each, so its sum is
    the memory the processes hold together (Kamailio's shared memory
    once, not once per process); RSS counts it in every process."""
    out = {"rss": 0, "pss": 0}
    for p in pids:
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("Rss", "Pss"):
                        out[k.lower()] += int(v.split()[0])
        except OSError:
            continue
    return out


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


def stop_proc(proc, pids, timeout=10):
    """Stop a process we started (SIGTERM, then SIGKILL to pids)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        for p in reversed(pids()):
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        proc.wait(timeout=5)


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
        """Why the server refused requests in the last step."""
        return {}

    def extra_memory_kib(self):
        """Memory the server holds outside its processes (tmpfs files)."""
        return 0

    def stop(self):
        """Stop the process we started (and so its children), by PID."""
        if self.proc is not None:
            stop_proc(self.proc, self.pids)


class Kamailio(Server):
    """Kamailio 5.6.3 with `cfg`, one UDP worker (-n 1), its SQLite
    file (subscriber table and whatever extra_sql creates; wal: in WAL
    mode) copied fresh from a template at every start into db_dir (tmpfs
    for bench/calls), -A DBURL plus `defines` (each NAME or NAME=VALUE),
    and `opts` (more command line options)."""
    name = "kamailio"

    def __init__(self, work, core, us, cfg, defines=(), extra_sql=(),
                 db_dir=None, wal=False, opts=()):
        super().__init__(work, core)
        self.cfg = cfg
        self.defines = list(defines)
        self.opts = list(opts)
        self.template = os.path.join(work, "kamailio-template.sqlite")
        self.db = os.path.join(db_dir or work, "kamailio.sqlite")
        write_kamailio_db(self.template, us, extra_sql, wal)

    def start(self):
        for suffix in ("-wal", "-shm", "-journal"):
            if os.path.exists(self.db + suffix):
                os.unlink(self.db + suffix)
        shutil.copyfile(self.template, self.db)
        # -n 1: one UDP worker; -DD: stay in the foreground (our child);
        # -E: log to stderr (our log file); -b: receive buffer probe limit;
        # -m: shared memory, enough for tm at the highest rates (tm keeps
        # every transaction for its 5 s wait timer).
        argv = ["kamailio", "-f", self.cfg, "-DD", "-E", "-n", "1",
                "-b", str(UDP_BUF), "-m", "1024", "-M", "16",
                "-l", "udp:127.0.0.1:%d" % self.port] + self.opts + \
            self.argv_defines()
        self.spawn(argv)
        self.wait_ready()

    def argv_defines(self):
        out = ["-A", 'DBURL="sqlite://%s"' % self.db]
        for d in self.defines:
            out += ["-A", d]
        return out

    def check(self):
        """None when `kamailio -c` accepts the config, else its errors."""
        p = subprocess.run(["kamailio", "-c", "-f", self.cfg] + self.opts +
                           self.argv_defines(), capture_output=True,
                           text=True, timeout=60)
        if p.returncode == 0:
            return None
        return "; ".join(l for l in (p.stderr + p.stdout).splitlines()
                         if "ERROR" in l or "CRITICAL" in l)[-500:]

    def extra_memory_kib(self):
        # The SQLite file on tmpfs is memory too (topos' rows).
        size = 0
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                size += os.path.getsize(self.db + suffix)
            except OSError:
                pass
        return size // 1024


class Sipwall(Server):
    """sipwalld with the config `conf_fmt` (a str.format template; gets
    state, port, realm and `fmt`), its accounts imported from csv."""
    name = "sipwall"

    def __init__(self, work, core, build, csv, conf_fmt, **fmt):
        super().__init__(work, core)
        self.build = build
        self.state = os.path.join(work, "sipwall-state")
        os.makedirs(self.state, exist_ok=True)
        self.conf = os.path.join(work, "sipwall.yaml")
        with open(self.conf, "w") as f:
            f.write(conf_fmt.format(state=self.state, port=self.port,
                                    realm=REALM, **fmt))
        cli = os.path.join(build, "src", "cli", "sipwall")
        p = subprocess.run([cli, "check", self.conf], capture_output=True,
                           text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("sipwall check refuses the bench config: "
                               + (p.stderr + p.stdout).strip())
        t0 = time.monotonic()
        p = subprocess.run([cli, "account", "-c", self.conf, "import", csv],
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError("sipwall account import failed:\n" + p.stderr
                               + p.stdout)
        self.import_secs = time.monotonic() - t0
        self.import_msg = p.stdout.strip()

    def events_path(self):
        return os.path.join(self.state, "events.jsonl")

    def start(self):
        # A new event log per step: events of every request add up.
        if os.path.exists(self.events_path()):
            os.unlink(self.events_path())
        self.ev_off = 0         # what rejections() has read
        self.spawn([os.path.join(self.build, "src", "sipwalld"),
                    "-c", self.conf])
        self.wait_ready()

    # Events of what went right, not counted as rejections.
    EV_OK = (b'"auth.ok"', b'"reg.', b'"daemon.', b'"config.loaded"',
             b'"call.attempt"', b'"call.answered"', b'"call.ended"')

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
                if any(k in line for k in self.EV_OK):
                    continue
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                k = "%s:%s" % (e.get("type"), e.get("reason", ""))
                out[k] = out.get(k, 0) + 1
            self.ev_off = f.tell()
        return out


def log_tail(srv, n=3):
    """The last lines of a server's log, for a skip reason."""
    try:
        with open(srv.logf.name, errors="replace") as f:
            lines = [l.strip() for l in f if l.strip()]
        return "; ".join(lines[-n:])
    except (OSError, AttributeError):
        return ""


# --- SIPp -----------------------------------------------------------------

def sipp_base_argv(srv, scenario, inf, sipp_core, sipp_port, rate, calls,
                   secs, stf, errf, timeout=None):
    """A bounded SIPp client run against srv: `calls` calls at `rate`/s
    for about `secs` s, all over after `timeout` s (default 2 secs + 15),
    statistics every second into stf, errors into errf."""
    for f in (stf, errf):
        if os.path.exists(f):
            os.unlink(f)
    return ["taskset", "-c", str(sipp_core), "sipp",
            "127.0.0.1:%d" % srv.port, "-sf", scenario, "-inf", inf,
            "-t", "u1", "-i", "127.0.0.1", "-p", str(sipp_port),
            "-r", str(rate), "-rp", "1000", "-m", str(calls),
            "-buff_size", str(UDP_BUF),
            "-recv_timeout", "3000",            # an answer > 3 s late fails
            "-timeout", "%ds" % (timeout or 2 * secs + 15),  # bounded
            # An unexpected answer fails the call; no BYE after it.
            "-default_behaviors", "abortunexp",
            "-nostdin", "-trace_stat", "-stf", stf, "-fd", "1",
            "-trace_err", "-error_file", errf]


def sipp_stats(stf):
    """The last row of SIPp's -trace_stat file as a dict ({} if none)."""
    try:
        with open(stf) as f:
            rows = [l.rstrip("\n").split(";") for l in f if l.strip()]
        return dict(zip(rows[0], rows[-1]))
    except (OSError, IndexError):
        return {}


def stat_int(st, k):
    try:
        return int(st.get(k, "0") or 0)
    except ValueError:
        return 0


def run_sipp(srv, argv, rate, secs, calls, stf, errf, also=()):
    """Run one SIPp client to its end, measuring the server from outside:
    its CPU time, its core's busy share, the kernel's receive-buffer
    drops, SIPp's statistics.  `also`: PIDs of other load-generator
    processes (a SIPp UAS) whose CPU counts with SIPp's."""
    pids = srv.pids()
    core0 = core_busy_ticks(srv.core)
    gen0 = cpu_seconds(also)
    cpu0, udp0, t0 = cpu_seconds(pids), udp_counters(), time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, cwd=srv.work,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - t0
    cpu1, udp1 = cpu_seconds(pids), udp_counters()
    gen1 = cpu_seconds(also)
    core1 = core_busy_ticks(srv.core)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()

    st = sipp_stats(stf)
    ok_calls = stat_int(st, "SuccessfulCall(C)")
    failed = stat_int(st, "FailedCall(C)")
    lost = max(calls - ok_calls - failed, 0)    # never finished
    bad = failed + lost
    # The run kept pace when it ended near secs (SIPp creates calls for
    # secs seconds; the last ones take a round trip or a retransmission).
    paced = wall <= secs * 1.10 + 1.5
    res = {
        "server": srv.name, "rate": rate, "secs": secs, "calls": calls,
        "created": stat_int(st, "TotalCallCreated"), "ok": ok_calls,
        "failed": failed, "lost": lost,
        "retrans": stat_int(st, "Retransmissions(C)"), "wall": round(wall, 2),
        "server_cpu": round(cpu1 - cpu0, 2),
        "sipp_cpu": round(ru.ru_utime + ru.ru_stime + gen1 - gen0, 2),
        "rcvbuf_errors": udp1.get("RcvbufErrors", 0)
        - udp0.get("RcvbufErrors", 0),
        "sipp_rc": p.returncode, "stf": stf,
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
    """{"401 Unauthorized": n, "INVITE (request)": n, ...}: the
    unexpected messages that made SIPp abort a call (the first 10 MB of
    its error file; it can grow large under loss).  Late answers to calls
    that had already ended ("dead calls") are not counted."""
    out = {}
    try:
        with open(errf, errors="replace") as f:
            data = f.read(10 << 20)
    except OSError:
        return out
    for m in re.finditer(r"Aborting call on unexpected message[^\n]*?"
                         r"received '(?:SIP/2\.0 (\d{3}[^\r\n]*)|"
                         r"([A-Z]+) )", data):
        k = (m.group(1) or "%s (request)" % m.group(2)).strip()
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
    if r.get("pbx_unexpected"):
        log("           the core PBX (UAS) aborted on: " + ", ".join(
            "%d x %s" % (n, k) for k, n in
            sorted(r["pbx_unexpected"].items())))
    if r.get("events"):
        log("           %s events: " % r["server"] + ", ".join(
            "%d x %s" % (n, k) for k, n in sorted(r["events"].items())))


# --- the search and the comparison -----------------------------------------

class Search:
    """Step the rate up by `factor` from `start` until a step fails, then
    bisect between the best passing and the lowest failing rate.  Rates
    are multiples of a.quantum."""

    def __init__(self, srv, a):
        self.srv, self.a = srv, a
        self.good = self.bad = None
        self.steps = []
        self.rate = a.start
        self.max_steps = a.max_steps
        self.done = False

    def note(self, r):
        """Keep r; remember the best passing and lowest failing step."""
        self.steps.append(r)
        if r["pass"]:
            if self.good is None or r["rate"] > self.good["rate"]:
                self.good = r
        elif self.bad is None or r["rate"] < self.bad["rate"]:
            self.bad = r

    def go_on(self, rate):
        """Next at `rate` (made a multiple of a.quantum), unless the
        steps are used up or that rate ran already."""
        q = self.a.quantum
        rate = max(q, int(rate) // q * q)
        if (len(self.steps) >= self.max_steps or
                any(x["rate"] == rate for x in self.steps)):
            self.done = True
        self.rate = rate

    def record(self, r):
        a = self.a
        self.note(r)
        if self.bad is None:
            rate = int(r["rate"] * a.factor)
        elif self.good is None:
            rate = self.bad["rate"] // 2
        else:
            lo, hi = self.good["rate"], self.bad["rate"]
            if hi - lo <= max(lo * a.precision, a.quantum):
                self.done = True
            rate = (lo + hi) // 2
        self.go_on(rate)


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


def add_common_args(ap, budget, start, quantum):
    """The options bench/register and bench/calls share."""
    ap.add_argument("--build", default=os.environ.get("SIPWALL_BUILD",
                                                      "build"))
    ap.add_argument("--step", type=int, default=int(
        os.environ.get("BENCH_STEP_SECS", "10")), help="seconds per step")
    ap.add_argument("--start", type=int, default=start, help="first rate")
    ap.add_argument("--factor", type=float, default=1.6,
                    help="step-up factor until the first failure")
    ap.add_argument("--precision", type=float, default=0.05,
                    help="bisect until the bracket is this narrow")
    ap.add_argument("--quantum", type=int, default=quantum,
                    help="rates are multiples of this")
    ap.add_argument("--max-steps", type=int, default=7,
                    help="steps per server")
    ap.add_argument("--step-overhead", type=float, default=4,
                    help="seconds a step takes beyond --step (budgeting)")
    ap.add_argument("--budget", type=int, default=budget,
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
                    "e.g. 8000,6000")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory")


def check_tools(a, what):
    for tool in ("sipp", "taskset") + (("kamailio",) if a.only != "sipwall"
                                       else ()):
        if shutil.which(tool) is None:
            raise SystemExit("bench/%s: %s not found (scripts/deps.sh "
                             "--bench)" % (what, tool))


def build_dir(a):
    return os.path.abspath(a.build if os.path.isabs(a.build)
                           else os.path.join(ROOT, a.build))


def kamailio_version():
    v = subprocess.run(["kamailio", "-v"], capture_output=True,
                       text=True).stdout.split("\n")[0]
    return v.replace("version: ", "").strip()


def note_other_load(a, out):
    """Whatever else runs here makes the figures noisy: say so."""
    cores = (a.server_core, a.sipp_core)
    b0 = [core_busy_ticks(c) for c in cores]
    time.sleep(1.0)
    b1 = [core_busy_ticks(c) for c in cores]
    other = [(y[0] - x[0]) / max(y[1] - x[1], 1) for x, y in zip(b0, b1)]
    out["other_load"] = [round(x, 2) for x in other]
    if max(other) > 0.1:
        log("   note: before the run, other programs kept core %d %.0f%% "
            "and core %d %.0f%% busy: the figures will be noisy" % (
                a.server_core, 100 * other[0], a.sipp_core, 100 * other[1]))


def run_searches(searches, step, a, search_end, secs, may_retry=None):
    """Run the searches' steps, the servers alternating, until all are
    done or the next step (`secs` long) would end after search_end.
    may_retry(r): whether a failed step that other programs disturbed
    runs again (default: always, twice at most per server)."""
    per_step = secs + a.step_overhead
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
                    and retries[x.srv.name] > 0 and
                    (may_retry is None or may_retry(r))):
                retries[x.srv.name] -= 1
                log("           disturbed: other programs used about "
                    "%.0f%% of core %d; this step runs again" % (
                        100 * (r["core_busy"] - r["server_busy"]),
                        a.server_core))
                continue
            x.record(r)


def keep_lower_cpu(out, r):
    """out["common"][server] = r unless a passing step there spent less
    CPU per 1,000 (other load on the machine only ever adds CPU time)."""
    prev = out["common"].get(r["server"])
    if (prev is None or not prev["pass"] or
            (r["pass"] and r["cpu_per_1k"] < prev["cpu_per_1k"])):
        out["common"][r["server"]] = r


def search_and_compare(runnable, step, a, out, deadline, reserve=0):
    """The maximum sustained rate of each server (a.rates: fixed steps
    instead), then CPU per 1,000 at one common offered rate.  `step(srv,
    rate)` runs one step and returns its figures; `reserve` seconds
    before the deadline are left for what the caller does afterwards.
    Returns {name: (best passing step, steps)} and the common rate."""
    if a.rates:
        searches = [Fixed(srv, a.rates) for srv in runnable]
    else:
        searches = [Search(srv, a) for srv in runnable]
    # Keep time for the common-rate steps at the end.
    per_step = a.step + a.step_overhead
    run_searches(searches, step, a,
                 deadline - reserve - len(runnable) * per_step, a.step)
    best = {x.srv.name: (x.good, x.steps) for x in searches}
    for name, (good, _) in best.items():
        out["max"][name] = good["rate"] if good else 0

    # CPU per 1,000 at one common offered load: a little under the
    # lower of the two maxima, so that both run it cleanly.  Two
    # rounds when time allows; the lower figure of each server counts.
    passing = [g["rate"] for g, _ in best.values() if g]
    common = 0
    if len(runnable) > 1 and len(passing) == len(runnable):
        q = a.quantum
        common = max(q, int(min(passing) * 0.9) // q * q)
        log("  -- CPU at a common offered load of %d/s" % common)
        for rnd in range(2):
            if time.monotonic() + len(runnable) * per_step > \
                    deadline - reserve:
                if rnd == 0:
                    log("  time budget reached")
                break
            for srv in runnable:
                keep_lower_cpu(out, step(srv, common))
    return best, common


def report(best, common, out, unit, goal=None):
    """The maxima, the common-rate CPU and the two ratios."""
    for name, (good, steps) in best.items():
        if good:
            log("  %-8s max sustained %6d %s/s  "
                "(%.3f CPU-s per 1,000 there)\n           above: %s" % (
                    name, good["rate"], unit, good["cpu_per_1k"],
                    limited_by(good, steps)))
        else:
            log("  %-8s no step passed" % name)
    if out["common"]:
        log("  CPU-seconds per 1,000 %s at %d/s offered:" % (unit, common))
        for name, r in out["common"].items():
            log("  %-8s %.3f CPU-s/1k  (%s)" % (
                name, r["cpu_per_1k"] or 0,
                "ok" if r["pass"] else "FAILED at this rate"))
    km, sm = out["max"].get("kamailio"), out["max"].get("sipwall")
    if km and sm:
        out["ratio_rate"] = round(sm / km, 2)
        log("  ratio max sustained rate sipwall/kamailio: %.2f%s" % (
            out["ratio_rate"], "  (goal >= %s)" % goal if goal else ""))
    kc = out["common"].get("kamailio", {}).get("cpu_per_1k")
    sc = out["common"].get("sipwall", {}).get("cpu_per_1k")
    if kc and sc:
        out["ratio_cpu"] = round(kc / sc, 2)
        log("  ratio %s per CPU-second sipwall/kamailio: "
            "%.2f  (Kamailio CPU-s/1k divided by sipwall's)"
            % (unit, out["ratio_cpu"]))


def finish(servers, a, out, work, extra_dirs=()):
    """Stop the servers, write --json, remove the work directories."""
    for srv in servers:
        srv.stop()
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    if a.keep:
        log("  work directory kept: %s %s" % (work, " ".join(extra_dirs)))
    else:
        for d in (work,) + tuple(extra_dirs):
            shutil.rmtree(d, ignore_errors=True)
