"""Parser torture corpus: every file in tests/torture against `sipwall parse`.

The manifest tests/torture/verdicts.txt gives each message file its expected
verdict (see tests/torture/README.md).  The CLI is found through
SIPWALL_CLI, else build/src/cli/sipwall, else /tmp/sipwall.  It is meant to
be an ASan+UBSan build: sanitizers are told to abort, so a memory error shows
up as a signal rather than as an ordinary refusal (exit 1).

Environment knobs:
  SIPWALL_CLI                      path of the sipwall binary
  SIPWALL_TORTURE_PREFIX_STRIDE    test every Nth prefix only (default 1: all)
  SIPWALL_TORTURE_JOBS             parallel CLI runs in the prefix test
"""
import concurrent.futures
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TORTURE = REPO / "tests" / "torture"
MANIFEST = TORTURE / "verdicts.txt"
EXPECT_DIR = TORTURE / "expect"

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")
ERROR_RE = re.compile(r"^error: (\d{3}) (.+) \(offset (\d+)\)$")
LINE_RE = re.compile(
    r'^(?P<file>\S+)\s+'
    r'(?P<verdict>ok|incomplete|ignored|\d{3}(?::"(?P<reason>[^"]*)")?)'
    r'(?:\s+(?P<mode>datagram|stream))?'
    r'\s*(?:#\s?(?P<comment>.*))?$')


def find_cli():
    env = os.environ.get("SIPWALL_CLI")
    if env:
        return env
    built = REPO / "build" / "src" / "cli" / "sipwall"
    if built.exists():
        return str(built)
    return "/tmp/sipwall"


CLI = find_cli()


def sanitizer_env(leaks=True):
    env = dict(os.environ)
    asan = "abort_on_error=1:halt_on_error=1:detect_leaks=%d" % (1 if leaks else 0)
    ubsan = "halt_on_error=1:abort_on_error=1:print_stacktrace=1"
    # ours first: options given later in the string (the caller's) win
    env["ASAN_OPTIONS"] = asan + (":" + env["ASAN_OPTIONS"] if env.get("ASAN_OPTIONS") else "")
    env["UBSAN_OPTIONS"] = ubsan + (":" + env["UBSAN_OPTIONS"] if env.get("UBSAN_OPTIONS") else "")
    return env


ENV = sanitizer_env(leaks=True)
ENV_FAST = sanitizer_env(leaks=False)


class Entry:
    def __init__(self, lineno, file, verdict, reason, mode, comment):
        self.lineno = lineno
        self.file = file
        self.verdict = verdict          # "ok", "incomplete", "ignored" or "NNN"
        self.reason = reason            # pinned reason phrase or None
        self.stream = mode == "stream"
        self.comment = comment or ""

    @property
    def path(self):
        return TORTURE / self.file

    @property
    def expect_path(self):
        return EXPECT_DIR / (self.file[:-len(".sip")] + ".json")

    def __repr__(self):
        return self.file


def load_manifest():
    entries = []
    for n, raw in enumerate(MANIFEST.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = LINE_RE.match(line)
        if m is None:
            raise ValueError("%s:%d: cannot parse: %r" % (MANIFEST, n, raw))
        v = m.group("verdict")
        entries.append(Entry(n, m.group("file"), v.split(":", 1)[0], m.group("reason"),
                             m.group("mode"), m.group("comment")))
    return entries


ENTRIES = load_manifest()
VALID_DATAGRAM = [e for e in ENTRIES if e.verdict == "ok" and not e.stream]


def run_cli(data_or_path, stream=False, env=None):
    """Run `sipwall parse`; a bytes argument goes through standard input."""
    args = [CLI, "parse"]
    if stream:
        args.append("--stream")
    if isinstance(data_or_path, bytes):
        args.append("-")
        inp = data_or_path
    else:
        args.append(str(data_or_path))
        inp = None
    return subprocess.run(args, input=inp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env or ENV, timeout=60)


def assert_clean(proc, what):
    """No signal, an exit code from the contract, no sanitizer report."""
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode >= 0, "%s: killed by signal %d\n%s" % (what, -proc.returncode, err[-4000:])
    for mark in SANITIZER_MARKS:
        assert mark not in err, "%s: sanitizer report\n%s" % (what, err[-4000:])
    assert proc.returncode in (0, 1), "%s: exit %d (contract: 0 or 1)\n%s" % (
        what, proc.returncode, err[-2000:])


def subset_mismatch(exp, act, where="$"):
    """None when exp is a subset of act, else a description of the first mismatch."""
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            return "%s: expected an object, got %r" % (where, act)
        for k, v in exp.items():
            if k not in act:
                return "%s: key %r missing (have %s)" % (where, k, sorted(act))
            r = subset_mismatch(v, act[k], "%s.%s" % (where, k))
            if r:
                return r
        return None
    if isinstance(exp, list):
        if not isinstance(act, list):
            return "%s: expected an array, got %r" % (where, act)
        if len(exp) != len(act):
            return "%s: expected %d elements, got %d" % (where, len(exp), len(act))
        for i, (e, a) in enumerate(zip(exp, act)):
            r = subset_mismatch(e, a, "%s[%d]" % (where, i))
            if r:
                return r
        return None
    if isinstance(exp, bool) or isinstance(act, bool):
        ok = exp is act
    else:
        ok = exp == act and type(exp) is type(act)
    return None if ok else "%s: expected %r, got %r" % (where, exp, act)


def test_cli_exists():
    assert os.access(CLI, os.X_OK), "sipwall CLI not found or not executable: %s" % CLI


def test_manifest_matches_files():
    listed = [e.file for e in ENTRIES]
    dups = sorted({f for f in listed if listed.count(f) > 1})
    assert not dups, "listed more than once: %s" % dups
    on_disk = sorted(str(p.relative_to(TORTURE)) for p in TORTURE.rglob("*.sip"))
    missing = sorted(set(on_disk) - set(listed))
    stale = sorted(set(listed) - set(on_disk))
    assert not missing, "files not in verdicts.txt: %s" % missing
    assert not stale, "verdicts.txt lists files that do not exist: %s" % stale
    expects = sorted(str(p.relative_to(EXPECT_DIR)) for p in EXPECT_DIR.rglob("*.json"))
    known = {str(e.expect_path.relative_to(EXPECT_DIR)) for e in ENTRIES}
    orphans = [x for x in expects if x not in known]
    assert not orphans, "expect files without a manifest entry: %s" % orphans
    for e in ENTRIES:
        if e.expect_path.exists():
            assert e.verdict == "ok", "%s: expect file for a refused message" % e.file
        if e.verdict == "incomplete":
            assert e.stream, "%s: 'incomplete' only makes sense in stream mode" % e.file


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.file for e in ENTRIES])
def test_verdict(entry):
    proc = run_cli(entry.path, stream=entry.stream)
    assert_clean(proc, entry.file)
    out = proc.stdout.decode("utf-8", "replace")
    size = entry.path.stat().st_size
    if entry.verdict == "ok":
        assert proc.returncode == 0, "%s: expected ok, got: %s" % (entry.file, out.strip())
        doc = json.loads(out)
        if entry.stream:
            assert isinstance(doc, list), "%s: --stream must print an array" % entry.file
        else:
            assert isinstance(doc, dict), "%s: datagram mode must print an object" % entry.file
        if entry.expect_path.exists():
            exp = json.loads(entry.expect_path.read_text(encoding="utf-8"))
            why = subset_mismatch(exp, doc)
            assert why is None, "%s: %s" % (entry.file, why)
        return
    assert proc.returncode == 1, "%s: expected a refusal (%s), got exit %d:\n%s" % (
        entry.file, entry.verdict, proc.returncode, out[:2000])
    line = out.strip()
    assert "\n" not in line, "%s: refusal must be one line, got:\n%s" % (entry.file, out)
    if entry.verdict == "incomplete":
        assert line.startswith("error: incomplete message"), "%s: %s" % (entry.file, line)
        return
    if entry.verdict == "ignored":
        assert line.startswith("error: keep-alive only"), "%s: %s" % (entry.file, line)
        return
    m = ERROR_RE.match(line)
    assert m, "%s: not of the form 'error: <status> <reason> (offset N)': %r" % (entry.file, line)
    status, reason, offset = m.group(1), m.group(2), int(m.group(3))
    assert status == entry.verdict, "%s: expected %s%s, got %s %s" % (
        entry.file, entry.verdict, ' "%s"' % entry.reason if entry.reason else "", status, reason)
    if entry.reason is not None:
        assert reason == entry.reason, "%s: expected %s \"%s\", got %s \"%s\"" % (
            entry.file, entry.verdict, entry.reason, status, reason)
    assert offset <= size, "%s: offset %d beyond the input (%d octets)" % (entry.file, offset, size)


def _strip_volatile(msg):
    msg = dict(msg)
    msg.pop("truncated", None)
    return msg


@pytest.mark.parametrize("entry", VALID_DATAGRAM, ids=[e.file for e in VALID_DATAGRAM])
def test_valid_in_both_modes(entry):
    """A valid datagram parses the same when it arrives on a stream.

    With Content-Length the stream parse must give the same message (only
    `truncated` may differ); octets after the framed message must be CR/LF
    keep-alives for this to hold, other trailing octets (RFC 4475 dblreq, a
    datagram with junk after the body) are skipped.  Without Content-Length
    the stream parse must refuse it (RFC 3261 18.3)."""
    data = entry.path.read_bytes()
    dg = run_cli(entry.path)
    assert_clean(dg, entry.file)
    assert dg.returncode == 0, "%s: datagram parse failed: %s" % (entry.file, dg.stdout.decode(errors="replace"))
    msg = json.loads(dg.stdout)
    has_cl = any(h.get("name") == "Content-Length" for h in msg["headers"])
    st = run_cli(entry.path, stream=True)
    assert_clean(st, entry.file + " --stream")
    if not has_cl:
        line = st.stdout.decode("utf-8", "replace").strip()
        assert st.returncode == 1 and line.startswith("error: 400 Missing Content-Length"), (
            "%s: stream without Content-Length must be refused, got: %s" % (entry.file, line))
        return
    start = len(data) - len(data.lstrip(b"\r\n"))
    rest = data[start + msg["length"]:]
    if rest.strip(b"\r\n"):
        pytest.skip("octets after the framed message are not keep-alives")
    assert st.returncode == 0, "%s: --stream refused a valid message: %s" % (
        entry.file, st.stdout.decode("utf-8", "replace").strip())
    arr = json.loads(st.stdout)
    assert len(arr) == 1, "%s: --stream found %d messages" % (entry.file, len(arr))
    assert _strip_volatile(arr[0]) == _strip_volatile(msg), "%s: stream and datagram parses differ" % entry.file


def _prefix_job(args):
    data, cut = args
    proc = run_cli(data[:cut], stream=True, env=ENV_FAST)
    return cut, proc


@pytest.mark.parametrize("entry", VALID_DATAGRAM, ids=[e.file for e in VALID_DATAGRAM])
def test_every_prefix_is_refused_or_incomplete(entry):
    """Every strict prefix of a valid message, fed as a TCP stream, is
    refused or reported incomplete, and never crashes.  A prefix may only
    parse (exit 0) when it holds no message at all (empty, or keep-alive
    CR/LF only) or once it holds the whole framed message (a datagram with
    trailing CRLF octets).  The crash check does not depend on the verdict:
    it runs even while the message itself is (wrongly) refused."""
    data = entry.path.read_bytes()
    dg = run_cli(entry.path, env=ENV_FAST)
    assert_clean(dg, entry.file)
    start = len(data) - len(data.lstrip(b"\r\n"))
    framed = json.loads(dg.stdout)["length"] if dg.returncode == 0 else len(data)
    stride = max(1, int(os.environ.get("SIPWALL_TORTURE_PREFIX_STRIDE", "1")))
    jobs = int(os.environ.get("SIPWALL_TORTURE_JOBS", "0")) or (os.cpu_count() or 2) * 2
    cuts = list(range(0, len(data), stride))
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for cut, proc in pool.map(_prefix_job, ((data, c) for c in cuts)):
            what = "%s[:%d]" % (entry.file, cut)
            try:
                assert_clean(proc, what)
                out = proc.stdout.decode("utf-8", "replace")
                if proc.returncode == 0:
                    msgs = json.loads(out)
                    if msgs:
                        assert cut >= start + framed, "%s: parsed although the message is %d octets" % (
                            what, start + framed)
                    else:
                        assert not data[:cut].strip(b"\r\n"), "%s: exit 0 and no message" % what
                else:
                    assert out.startswith("error: "), "%s: exit 1 without an error line: %r" % (what, out[:200])
            except AssertionError as exc:
                failures.append(str(exc))
                if len(failures) >= 5:
                    break
    assert not failures, "\n".join(failures)
