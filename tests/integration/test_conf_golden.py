"""Golden config tests (bgpd regress style) for `sipwall check`.

For every tests/integration/conf/NAME.in, `sipwall check --print NAME.in`
(run inside that directory, so messages carry the bare file name) must
print exactly NAME.ok: the canonical YAML on stdout for a valid config,
the "file:line:col: message" lines on stderr for an invalid one.  Files
named bad-*.in must fail with exit status 1, the others pass with 0.

SIPWALL_CLI names the sipwall binary (default build/src/cli/sipwall).
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = Path(__file__).resolve().parent / "conf"
EXAMPLE = ROOT / "examples" / "sipwall.yaml"
DOCS = ROOT / "docs" / "config.md"
CASES = sorted(p.stem for p in CONF_DIR.glob("*.in"))


def cli():
    path = Path(os.environ.get("SIPWALL_CLI", "build/src/cli/sipwall"))
    if not path.is_absolute():
        path = ROOT / path
    if not path.exists():
        pytest.fail(f"sipwall binary not found at {path} (set SIPWALL_CLI)")
    return str(path)


def run(*args, cwd=None, stdin=None):
    return subprocess.run([cli(), *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=30)


def test_enough_cases():
    assert len(CASES) >= 12
    assert sum(c.startswith("bad-") for c in CASES) >= 6


@pytest.mark.parametrize("case", CASES)
def test_golden(case):
    want = (CONF_DIR / f"{case}.ok").read_text()
    r = run("check", "--print", f"{case}.in", cwd=CONF_DIR)
    if case.startswith("bad-"):
        assert r.returncode == 1, r.stderr
        assert r.stdout == ""
        assert r.stderr == want
        for line in r.stderr.splitlines():
            assert re.match(rf"^{re.escape(case)}\.in:\d+:\d+: \S", line), line
    else:
        assert r.returncode == 0, r.stderr
        assert r.stderr == ""
        assert r.stdout == want


@pytest.mark.parametrize("case", [c for c in CASES if not c.startswith("bad-")])
def test_golden_print_is_a_fixed_point(case):
    """The canonical output re-parses to the same canonical output."""
    want = (CONF_DIR / f"{case}.ok").read_text()
    r = run("check", "--print", "-", stdin=want)
    assert r.returncode == 0, r.stderr
    assert r.stdout == want


def test_example_passes():
    r = run("check", str(EXAMPLE))
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"{EXAMPLE}: ok\n"
    assert r.stderr == ""


def test_example_print_reparses_identically(tmp_path):
    first = run("check", "--print", str(EXAMPLE))
    assert first.returncode == 0, first.stderr
    printed = tmp_path / "printed.yaml"
    printed.write_text(first.stdout)
    second = run("check", "--print", str(printed))
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout


def test_example_listens_on_loopback_udp_and_tcp():
    r = run("check", "--print", str(EXAMPLE))
    assert r.returncode == 0, r.stderr
    entries = re.findall(r"  - transport: (\w+)\n    address: (\S+)\n"
                         r"    port: (\d+)\n", r.stdout)
    assert ("udp", "127.0.0.1", "5060") in entries
    assert ("tcp", "127.0.0.1", "5060") in entries


def test_docs_cover_every_key():
    r = run("check", "--print", str(CONF_DIR / "full.in"))
    assert r.returncode == 0, r.stderr
    docs = DOCS.read_text()
    missing = []
    for line in r.stdout.splitlines():
        m = re.match(r"^[ -]*([a-z0-9_]+):", line)
        if m and f"`{m.group(1)}`" not in docs \
                and f".{m.group(1)}`" not in docs:
            missing.append(m.group(1))
    assert not missing, f"keys missing from docs/config.md: {missing}"


def test_check_ok_line(tmp_path):
    r = run("check", "minimal.in", cwd=CONF_DIR)
    assert (r.returncode, r.stdout, r.stderr) == (0, "minimal.in: ok\n", "")
    r = run("check", "-p", "minimal.in", cwd=CONF_DIR)
    assert r.returncode == 0
    assert r.stdout == (CONF_DIR / "minimal.ok").read_text()


def test_check_stdin():
    r = run("check", "-", stdin="version: 1\nlisten: []\n")
    assert r.returncode == 1
    assert r.stderr == ("<stdin>:1:1: missing required key 'zones'\n"
                        "<stdin>:2:9: listen: needs at least 1 entry\n")


def test_check_missing_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    r = run("check", str(missing))
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == f"{missing}: cannot open: No such file or directory\n"


@pytest.mark.parametrize("args", [
    [],
    ["a.yaml", "b.yaml"],
    ["--bogus", "a.yaml"],
    ["-x", "a.yaml"],
    ["--print"],
    ["--print=yes", "a.yaml"],
])
def test_check_usage(args):
    r = run("check", *args)
    assert r.returncode == 2
    assert r.stdout == ""
    assert "usage: sipwall check [--print] FILE" in r.stderr


def test_check_help():
    r = run("check", "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("usage: sipwall check [--print] FILE\n")


def test_check_reports_all_errors_at_once(tmp_path):
    bad = tmp_path / "many.yaml"
    bad.write_text("".join(f"key{i}: 1\n" for i in range(100)))
    r = run("check", str(bad))
    assert r.returncode == 1
    lines = r.stderr.splitlines()
    assert lines[0] == f"{bad}:1:1: unknown key 'key0'"
    assert f"{bad}:5:1: unknown key 'key4'" in lines
    assert lines[-1] == "... and 39 more errors"
