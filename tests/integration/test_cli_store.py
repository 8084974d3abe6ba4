"""`sipwall account` and `sipwall ban` against a real store file.

Every test gets its own state directory (-D) and runs the built CLI
(SIPWALL_BUILD names the build directory, default "build").  HA1 values
are recomputed here with hashlib and compared with what the CLI stored,
read back with the sqlite3 module; every run is checked for sanitizer
reports (in an ASan build) and every JSON output must parse.
"""
import hashlib
import json
import os
import re
import sqlite3
import stat
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import swtest

STRONG = "Vq7-Kd3!mP9xLw2"
STRONG2 = "Hz4_Rt8#bN6cYe5"


def run(*args, input=None, timeout=60):
    if not os.path.exists(swtest.SIPWALL):
        pytest.fail(f"sipwall not built at {swtest.SIPWALL}")
    env = dict(os.environ, **swtest.SANITIZER_ENV)
    p = subprocess.run([swtest.SIPWALL, *args], input=input,
                       capture_output=True, text=True, env=env,
                       timeout=timeout)
    for mark in swtest.SANITIZER_MARKS:
        assert mark not in p.stderr, p.stderr
    assert p.returncode not in (66, 67, 68), p.stderr
    return p


class Store:
    """The CLI bound to one state directory, and its database."""

    def __init__(self, d):
        self.dir = str(d)
        self.path = os.path.join(self.dir, "sipwall.db")

    def account(self, *args, input=None):
        return run("account", "-D", self.dir, *args, input=input)

    def ban(self, *args, input=None):
        return run("ban", "-D", self.dir, *args, input=input)

    def rows(self, sql, params=()):
        with sqlite3.connect(self.path) as db:
            return db.execute(sql, params).fetchall()

    def execute(self, sql, params=()):
        db = sqlite3.connect(self.path)
        try:
            db.execute(sql, params)
            db.commit()
        finally:
            db.close()

    def account_row(self, user, domain="sipwall"):
        rows = self.rows("SELECT ha1_md5, ha1_sha256, grp, allow_cidrs, "
                         "max_contacts, enabled, created, rotated, pw_fp "
                         "FROM accounts WHERE username = ? AND domain = ?",
                         (user, domain))
        assert len(rows) == 1, rows
        keys = ("ha1_md5", "ha1_sha256", "grp", "allow_cidrs",
                "max_contacts", "enabled", "created", "rotated", "pw_fp")
        return dict(zip(keys, rows[0]))

    def add_registration(self, aor, contact, expires):
        self.execute("INSERT INTO registrations (aor, contact, source, "
                     "sport, transport, expires, user_agent, updated) "
                     "VALUES (?, ?, '192.0.2.10', 5060, 'udp', ?, "
                     "'Yealink', 1)", (aor, contact, expires))


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path)


def ha1(user, realm, pw):
    s = f"{user}:{realm}:{pw}".encode()
    return hashlib.md5(s).hexdigest(), hashlib.sha256(s).hexdigest()


def password_of(out):
    m = re.search(r"^password: (\S+)$", out, re.M)
    assert m, out
    return m.group(1)


# --- add ------------------------------------------------------------------


def test_add_generated_password_gives_the_stored_ha1(store):
    p = store.account("add", "alice", "--domain", "Example.COM")
    assert p.returncode == 0, p.stderr
    assert "account alice@example.com added" in p.stdout
    pw = password_of(p.stdout)
    assert len(pw) == 20
    row = store.account_row("alice", "example.com")
    # The realm is the lowercase domain.
    assert (row["ha1_md5"], row["ha1_sha256"]) == ha1("alice", "example.com", pw)
    assert row["grp"] == "default"
    assert row["max_contacts"] == 5
    assert row["enabled"] == 1
    assert abs(row["created"] - time.time()) < 60
    assert row["rotated"] == 0
    assert re.fullmatch(r"[0-9a-f]{64}", row["pw_fp"])
    # The password itself is nowhere in the store files.
    for name in os.listdir(store.dir):
        with open(os.path.join(store.dir, name), "rb") as f:
            assert pw.encode() not in f.read()


def test_add_default_domain_and_json(store):
    p = store.account("add", "bob", "--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert j["account"] == "bob@sipwall"
    assert j["domain"] == "sipwall"
    row = store.account_row("bob", "sipwall")
    assert (row["ha1_md5"], row["ha1_sha256"]) == ha1("bob", "sipwall",
                                                      j["password"])


def test_add_password_stdin(store):
    p = store.account("add", "carol@example.com", "--password-stdin",
                      input=STRONG + "\r\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "account carol@example.com added\n"
    assert "password" not in p.stdout
    row = store.account_row("carol", "example.com")
    assert (row["ha1_md5"], row["ha1_sha256"]) == ha1("carol", "example.com",
                                                      STRONG)
    # Only the first line counts.
    p = store.account("add", "dave", "--password-stdin",
                      input=STRONG2 + "\nsecond line\n")
    assert p.returncode == 0, p.stderr
    row = store.account_row("dave")
    assert row["ha1_md5"] == ha1("dave", "sipwall", STRONG2)[0]


def test_unprinted_password_is_not_committed(store):
    # stdout closed: the generated password cannot be shown, so neither
    # add nor rotate may change the store.
    env = dict(os.environ, **swtest.SANITIZER_ENV)
    sh = '"$0" account -D "$1" "$2" nobody >&-'
    p = subprocess.run(["sh", "-c", sh, swtest.SIPWALL, store.dir, "add"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 1
    assert "account 'nobody@sipwall' not added" in p.stderr
    assert store.rows("SELECT count(*) FROM accounts") == [(0,)]
    assert store.account("add", "nobody").returncode == 0
    before = store.account_row("nobody")
    p = subprocess.run(["sh", "-c", sh, swtest.SIPWALL, store.dir, "rotate"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 1
    assert "password of 'nobody@sipwall' not changed" in p.stderr
    assert store.account_row("nobody") == before


def test_store_file_is_private(store):
    assert store.account("add", "alice").returncode == 0
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600


@pytest.mark.parametrize("pw,reason", [
    ("password123", "too_short"),
    ("Password2024!xyz", "common_password"),
    ("Erin-the-great-7X", "contains_username"),
    ("aaaaBBBB1234!!xyz", "repeated_character"),
    ("lowercaseonlylongpassword", "too_few_classes"),
])
def test_weak_password_refused(store, pw, reason):
    p = store.account("add", "erin", "--password-stdin", input=pw + "\n")
    assert p.returncode == 1
    assert "weak password refused for 'erin@sipwall'" in p.stderr
    assert f"({reason})" in p.stderr or "weak password" in p.stderr
    assert "--allow-weak" in p.stderr
    # The refused password is never echoed.
    assert pw not in p.stderr and pw not in p.stdout
    if os.path.exists(store.path):
        assert store.rows("SELECT count(*) FROM accounts") == [(0,)]


def test_allow_weak_stores_with_warning(store):
    p = store.account("add", "frank", "--password-stdin", "--allow-weak",
                      input="password123\n")
    assert p.returncode == 0, p.stderr
    assert "warning: weak password stored" in p.stderr
    row = store.account_row("frank")
    assert row["ha1_md5"] == ha1("frank", "sipwall", "password123")[0]


def test_password_limits(store):
    p = store.account("add", "gina", "--password-stdin", "--allow-weak",
                      input="x" * 129 + "\n")
    assert p.returncode == 1
    assert "longer than 128 bytes" in p.stderr
    p = store.account("add", "gina", "--password-stdin", "--allow-weak",
                      input="\n")
    assert p.returncode == 1
    assert "empty password" in p.stderr
    # Control characters are refused even with --allow-weak.
    p = store.account("add", "gina", "--password-stdin", "--allow-weak",
                      input="Abcdefgh\x1b[1mXyz9\n")
    assert p.returncode == 1
    assert "control characters" in p.stderr
    pw = "Kq7-" + "x9Z_" * 31                      # exactly 128 bytes
    assert len(pw) == 128
    p = store.account("add", "gina", "--password-stdin", input=pw + "\n")
    assert p.returncode == 0, p.stderr
    assert store.account_row("gina")["ha1_md5"] == ha1("gina", "sipwall", pw)[0]


def test_reused_password_refused_then_audited(store):
    assert store.account("add", "h1", "--password-stdin",
                         input=STRONG + "\n").returncode == 0
    # Another realm, another user: HA1 differs, the fingerprint does not.
    p = store.account("add", "h2@other.example", "--password-stdin",
                      input=STRONG + "\n")
    assert p.returncode == 1
    assert "account 'h1@sipwall' has the same password" in p.stderr
    p = store.account("add", "h2@other.example", "--password-stdin",
                      "--allow-weak", input=STRONG + "\n")
    assert p.returncode == 0, p.stderr
    assert "shares its password with 'h1@sipwall'" in p.stderr
    a = store.account_row("h1")
    b = store.account_row("h2", "other.example")
    assert a["ha1_md5"] != b["ha1_md5"]
    assert a["pw_fp"] == b["pw_fp"]
    p = store.account("audit", "--json")
    assert p.returncode == 1
    j = json.loads(p.stdout)
    reuse = [f for f in j["findings"] if f["check"] == "password_reuse"]
    assert len(reuse) == 1
    assert reuse[0]["severity"] == "high"
    assert sorted(reuse[0]["accounts"]) == ["h1@sipwall", "h2@other.example"]


def test_add_options(store):
    p = store.account("add", "ivy", "--allow", "192.0.2.0/24", "--allow",
                      "2001:DB8::/48", "--allow", "198.51.100.7",
                      "--allow", "192.0.2.0/24", "--group", "sales",
                      "--max-contacts", "3")
    assert p.returncode == 0, p.stderr
    row = store.account_row("ivy")
    assert row["allow_cidrs"] == "192.0.2.0/24 2001:db8::/48 198.51.100.7/32"
    assert row["grp"] == "sales"
    assert row["max_contacts"] == 3
    p = store.account("add", "ivy")
    assert p.returncode == 1
    assert p.stderr == "sipwall: account 'ivy@sipwall' already exists\n"


@pytest.mark.parametrize("args,msg", [
    (["--allow", "192.0.2.1/24"], "invalid --allow '192.0.2.1/24'"),
    (["--allow", "10.0.0.0/33"], "invalid --allow"),
    (["--allow", "example.com"], "invalid --allow"),
    (["--max-contacts", "0"], "invalid --max-contacts"),
    (["--max-contacts", "1001"], "invalid --max-contacts"),
    (["--max-contacts", "-1"], "invalid --max-contacts"),
    (["--group", "no spaces"], "invalid group"),
    (["--domain", "bad domain"], "invalid domain"),
])
def test_add_bad_options(store, args, msg):
    p = store.account("add", "jack", *args)
    assert p.returncode == 2
    assert msg in p.stderr
    assert "usage: sipwall account" in p.stderr
    assert not os.path.exists(store.path)


# --- list, show -------------------------------------------------------------


def test_list_and_show(store):
    out = store.account("add", "alice", "--domain", "example.com").stdout
    pw = password_of(out)
    assert store.account("add", "bob", "--domain", "example.com",
                         "--allow", "192.0.2.0/24").returncode == 0
    store.add_registration("alice@example.com", "sip:alice@192.0.2.10",
                           int(time.time()) + 3600)
    store.add_registration("alice@example.com", "sip:alice@192.0.2.11",
                           int(time.time()) - 10)      # expired
    md5, sha = ha1("alice", "example.com", pw)

    p = store.account("list")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["ACCOUNT", "GROUP", "STATE", "CONTACTS",
                                "CREATED", "ALLOW"]
    assert lines[1].split()[:4] == ["alice@example.com", "default",
                                    "enabled", "1/5"]
    assert lines[2].split()[-1] == "192.0.2.0/24"
    p = store.account("list", "--json")
    j = json.loads(p.stdout)
    assert [a["account"] for a in j] == ["alice@example.com", "bob@example.com"]
    assert j[0]["registrations"] == 1
    assert j[1]["allow"] == ["192.0.2.0/24"]

    p = store.account("show", "alice", "--domain", "example.com")
    assert p.returncode == 0, p.stderr
    assert "account:       alice@example.com" in p.stdout
    assert "sip:alice@192.0.2.10" in p.stdout
    assert "sip:alice@192.0.2.11" not in p.stdout
    p = store.account("show", "alice@example.com", "--json")
    j = json.loads(p.stdout)
    assert j["state"] == "enabled"
    assert [c["contact"] for c in j["contacts"]] == ["sip:alice@192.0.2.10"]
    assert j["contacts"][0]["user_agent"] == "Yealink"
    # Never an HA1 or a fingerprint in any output.
    fp = store.account_row("alice", "example.com")["pw_fp"]
    for args in (["list"], ["list", "--json"], ["show", "alice@example.com"],
                 ["show", "alice@example.com", "--json"], ["audit"],
                 ["audit", "--json"]):
        out = store.account(*args).stdout
        for secret in (md5, sha, fp, pw):
            assert secret not in out


def test_unknown_account(store):
    assert store.account("add", "alice").returncode == 0
    for action in ("show", "disable", "enable", "rotate", "delete",
                   "limits", "unblock"):
        p = store.account(action, "bob@example.com")
        assert p.returncode == 1, action
        assert p.stderr == "sipwall: account 'bob@example.com' not found\n"
        assert p.stdout == ""


def test_empty_list(store):
    assert store.ban("add", "192.0.2.1").returncode == 0   # creates the store
    p = store.account("list", "--json")
    assert p.returncode == 0
    assert json.loads(p.stdout) == []
    p = store.account("audit")
    assert p.returncode == 0
    assert "audit: 0 accounts, 0 findings" in p.stdout


# --- disable, enable, rotate, delete -----------------------------------------


def test_disable_enable(store):
    assert store.account("add", "kim").returncode == 0
    p = store.account("disable", "kim")
    assert (p.returncode, p.stdout) == (0, "account kim@sipwall disabled\n")
    assert store.account_row("kim")["enabled"] == 0
    assert json.loads(store.account("show", "kim", "--json").stdout)[
        "state"] == "disabled"
    p = store.account("enable", "kim@sipwall")
    assert (p.returncode, p.stdout) == (0, "account kim@sipwall enabled\n")
    assert store.account_row("kim")["enabled"] == 1


def test_rotate(store):
    old = password_of(store.account("add", "lee").stdout)
    before = store.account_row("lee")
    p = store.account("rotate", "lee")
    assert p.returncode == 0, p.stderr
    assert "account lee@sipwall rotated" in p.stdout
    new = password_of(p.stdout)
    assert new != old
    row = store.account_row("lee")
    assert (row["ha1_md5"], row["ha1_sha256"]) == ha1("lee", "sipwall", new)
    assert row["pw_fp"] != before["pw_fp"]
    assert abs(row["rotated"] - time.time()) < 60
    assert row["created"] == before["created"]
    j = json.loads(store.account("rotate", "lee", "--json").stdout)
    assert store.account_row("lee")["ha1_sha256"] == ha1("lee", "sipwall",
                                                         j["password"])[1]


def test_delete_removes_registrations(store):
    assert store.account("add", "max", "--domain", "example.com").returncode == 0
    assert store.account("add", "ned", "--domain", "example.com").returncode == 0
    future = int(time.time()) + 600
    store.add_registration("max@example.com", "sip:max@192.0.2.1", future)
    store.add_registration("max@example.com", "sip:max@192.0.2.2", future)
    store.add_registration("ned@example.com", "sip:ned@192.0.2.3", future)
    p = store.account("delete", "max@example.com")
    assert p.returncode == 0, p.stderr
    assert p.stdout == ("account max@example.com deleted "
                        "(2 registrations removed)\n")
    assert store.rows("SELECT aor FROM registrations") == [("ned@example.com",)]
    assert store.rows("SELECT username FROM accounts") == [("ned",)]


# --- audit ------------------------------------------------------------------


def test_audit_findings(store):
    now = int(time.time())
    assert store.account("add", "ok", "--allow", "192.0.2.0/24").returncode == 0
    p = store.account("audit")
    assert p.returncode == 0, p.stdout
    assert "audit: 1 account, 0 findings" in p.stdout

    assert store.account("add", "off", "--allow", "10.0.0.0/8").returncode == 0
    assert store.account("disable", "off").returncode == 0
    store.add_registration("off@sipwall", "sip:off@192.0.2.9", now + 600)
    assert store.account("add", "old", "--allow", "10.0.0.0/8").returncode == 0
    store.execute("UPDATE accounts SET created = ? WHERE username = 'old'",
                  (now - 400 * 86400,))
    assert store.account("add", "open").returncode == 0
    store.execute("UPDATE accounts SET rotated = ? WHERE username = 'open'",
                  (now - 10 * 86400,))

    p = store.account("audit", "--json")
    assert p.returncode == 1
    j = json.loads(p.stdout)
    assert j["accounts"] == 4
    got = sorted((f["check"], f["severity"], tuple(f["accounts"]))
                 for f in j["findings"])
    assert got == [
        ("disabled_registered", "medium", ("off@sipwall",)),
        ("no_source_restriction", "low", ("open@sipwall",)),
        ("not_rotated", "medium", ("old@sipwall",)),
    ]
    assert j["summary"] == {"high": 0, "medium": 2, "low": 1, "info": 0}
    p = store.account("audit")
    assert p.returncode == 1
    assert "off@sipwall is disabled but has 1 active registration" in p.stdout
    assert re.search(r"old@sipwall: password not changed for 400 days",
                     p.stdout)
    # Rotating fixes "not rotated".
    assert store.account("rotate", "old").returncode == 0
    checks = [f["check"] for f in
              json.loads(store.account("audit", "--json").stdout)["findings"]]
    assert "not_rotated" not in checks


# --- arguments and store location -----------------------------------------------


@pytest.mark.parametrize("args", [
    [],
    ["frobnicate"],
    ["add"],
    ["add", "a", "b"],
    ["list", "extra"],
    ["list", "--domain", "x"],
    ["show", "alice", "--group", "x"],
    ["add", "al ice"],
    ["add", "alice", "--bogus"],
    ["add", "alice", "--domain"],
    ["add", "alice@example.com", "--domain", "other.example"],
    ["disable", "--json", "alice"],
    ["limits"],
    ["limits", "alice", "--group", "x"],
    ["unblock"],
    ["unblock", "alice", "--json"],
])
def test_usage_errors(store, args):
    p = store.account(*args)
    assert p.returncode == 2, (args, p.stderr)
    assert p.stderr.startswith("sipwall account: ")
    assert "usage: sipwall account" in p.stderr
    assert p.stdout == ""


def test_help():
    p = run("account", "--help")
    assert p.returncode == 0
    assert "usage: sipwall account" in p.stdout
    p = run("ban", "add", "--help")
    assert p.returncode == 0
    assert "usage: sipwall ban" in p.stdout
    p = run("--help")
    assert "account" in p.stdout and "ban" in p.stdout


def test_options_before_or_after_the_action(store):
    assert run("account", "add", "opt1", "-D", store.dir).returncode == 0
    assert run("account", "--dir", store.dir, "add", "opt2").returncode == 0
    names = [r[0] for r in store.rows("SELECT username FROM accounts "
                                      "ORDER BY username")]
    assert names == ["opt1", "opt2"]


def test_store_from_config(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    conf = tmp_path / "sipwall.yaml"
    conf.write_text("version: 1\n"
                    "node:\n  name: edge-7\n  state_dir: %s\n"
                    "listen:\n  - address: 127.0.0.1\n    zone: z\n"
                    "zones:\n  - name: z\n"
                    "store:\n  path: accounts.db\n" % state)
    assert run("account", "-c", str(conf), "add", "alice").returncode == 0
    assert os.path.exists(state / "accounts.db")
    # The node name is the origin of manual bans.
    assert run("ban", "-c", str(conf), "add", "192.0.2.1").returncode == 0
    with sqlite3.connect(state / "accounts.db") as db:
        assert db.execute("SELECT origin FROM bans").fetchall() == [("edge-7",)]
    # -D overrides state_dir, store.path stays.
    other = tmp_path / "other"
    other.mkdir()
    assert run("account", "-c", str(conf), "-D", str(other), "add",
               "bob").returncode == 0
    assert os.path.exists(other / "accounts.db")
    # An absolute store.path ignores state_dir.
    conf.write_text(conf.read_text().replace(
        "path: accounts.db", "path: %s" % (tmp_path / "abs.db")))
    assert run("account", "-c", str(conf), "add", "carol").returncode == 0
    assert os.path.exists(tmp_path / "abs.db")
    # A broken config is reported with its line and column.
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nnode: [\n")
    p = run("account", "-c", str(bad), "list")
    assert p.returncode == 1
    assert "cannot load config" in p.stderr and "bad.yaml:" in p.stderr


def test_missing_store(tmp_path):
    p = run("account", "-D", str(tmp_path), "list")
    assert p.returncode == 1
    assert "no store at '%s/sipwall.db'" % tmp_path in p.stderr
    assert not os.path.exists(tmp_path / "sipwall.db")
    p = run("account", "-D", str(tmp_path / "nodir"), "add", "alice")
    assert p.returncode == 1
    assert "cannot open store" in p.stderr
    if not os.path.exists("/etc/sipwall/sipwall.yaml"):
        p = run("account", "list")
        assert p.returncode == 1
        assert "give -c FILE or -D DIR" in p.stderr


def test_newer_schema_refused(store):
    assert store.account("add", "alice").returncode == 0
    store.execute("PRAGMA user_version = 42")
    p = store.account("list")
    assert p.returncode == 1
    assert "schema version 42 is newer" in p.stderr


def test_foreign_database_refused(store):
    store.execute("CREATE TABLE x (y)")
    p = store.account("add", "alice")
    assert p.returncode == 1
    assert "not a sipwall store" in p.stderr


def test_concurrent_cli_writers(store):
    assert store.account("add", "seed").returncode == 0

    def add(i):
        return store.account("add", "par%d" % i, "--allow", "10.%d.0.0/16" % i)

    with ThreadPoolExecutor(max_workers=8) as ex:
        results = list(ex.map(add, range(16)))
    for p in results:
        assert p.returncode == 0, p.stderr
    assert store.rows("SELECT count(*) FROM accounts") == [(17,)]


# --- import -------------------------------------------------------------------

PW = ["Qm4-Tz8!vK2#pLx9", "Wr6_Bn3@cJ7$dHy5", "Fs9+Gk2%eN4&tRw8",
      "Yp3=Hv6*aM9^sDq2", "Zc8~Lj5?bT2!uKe6"]


def write(store, name, text):
    path = os.path.join(store.dir, name)
    with open(path, "w", newline="") as f:
        f.write(text)
    return path


def count(store):
    if not os.path.exists(store.path):
        return 0
    return store.rows("SELECT count(*) FROM accounts")[0][0]


def test_import_gives_the_stored_ha1(store):
    path = write(store, "users.csv",
                 "# username,password[,domain]\n"
                 "\n"
                 "   \t\n"
                 f"alice,{PW[0]}\n"
                 f"bob,{PW[1]},Example.COM\r\n"
                 f"carol@example.org,{PW[2]}\n"
                 f"  # indented comment\n"
                 f"dave,{PW[3]},\n")          # empty domain: the default
    p = store.account("import", path)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "imported 4 accounts\n"
    assert p.stderr == ""
    want = [("alice", "sipwall", PW[0]), ("bob", "example.com", PW[1]),
            ("carol", "example.org", PW[2]), ("dave", "sipwall", PW[3])]
    fps = set()
    for user, dom, pw in want:
        row = store.account_row(user, dom)
        assert (row["ha1_md5"], row["ha1_sha256"]) == ha1(user, dom, pw)
        assert row["grp"] == "default" and row["max_contacts"] == 5
        assert row["enabled"] == 1 and row["allow_cidrs"] == ""
        assert abs(row["created"] - time.time()) < 60
        assert re.fullmatch(r"[0-9a-f]{64}", row["pw_fp"])
        fps.add(row["pw_fp"])
    assert len(fps) == 4
    assert count(store) == 4
    # Same fingerprint as `add` computes for the same password.
    p = store.account("add", "erin", "--password-stdin", input=PW[0] + "\n")
    assert p.returncode == 1
    assert "account 'alice@sipwall' has the same password" in p.stderr
    # No password in the store files.
    for name in os.listdir(store.dir):
        if name.endswith(".csv"):
            continue
        with open(os.path.join(store.dir, name), "rb") as f:
            data = f.read()
            assert not any(pw.encode() in data for pw in PW)


def test_import_stdin_domain_and_options(store):
    text = f"alice,{PW[0]}\nbob,{PW[1]},other.example\n"
    p = store.account("import", "-", "--domain", "Corp.Example", "--group",
                      "sales", "--max-contacts", "2", "--allow",
                      "192.0.2.0/24", "--json", input=text)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {"imported": 2, "warnings": 0}
    a = store.account_row("alice", "corp.example")
    assert a["ha1_md5"] == ha1("alice", "corp.example", PW[0])[0]
    b = store.account_row("bob", "other.example")
    assert b["ha1_md5"] == ha1("bob", "other.example", PW[1])[0]
    for row in (a, b):
        assert row["grp"] == "sales" and row["max_contacts"] == 2
        assert row["allow_cidrs"] == "192.0.2.0/24"
    # An empty input imports nothing and says so.
    p = store.account("import", "-", input="# nothing\n\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "imported 0 accounts\n"


def test_import_quoted_fields(store):
    pw_comma, pw_quote = "Kx7,Rm2!Tq9-Vb4", 'Jn5"Wc8#Pz3_Hd6'
    path = write(store, "q.csv", f'alice,"{pw_comma}"\n'
                 f'"bob","{pw_quote.replace(chr(34), chr(34) * 2)}",'
                 f'"example.com"\n')
    p = store.account("import", path)
    assert p.returncode == 0, p.stderr
    assert store.account_row("alice")["ha1_md5"] == \
        ha1("alice", "sipwall", pw_comma)[0]
    assert store.account_row("bob", "example.com")["ha1_md5"] == \
        ha1("bob", "example.com", pw_quote)[0]


@pytest.mark.parametrize("line,msg", [
    ("frank", "expected username,password[,domain]"),
    ("frank,", "empty password for 'frank@sipwall'"),
    (f"frank,{PW[4]},example.com,x", "more than 3 fields"),
    (f'frank,"{PW[4]}', "a quoted field has no closing"),
    (f'frank,"{PW[4]}"x', "text after the closing"),
    ('frank,Ab"cd1234Efgh', "'\"' in an unquoted field"),
    (f"fr ank,{PW[4]}", "invalid username 'fr ank'"),
    (f",{PW[4]}", "invalid username ''"),
    (f"{'f' * 65},{PW[4]}", "1 to 64 characters"),
    (f"frank,{PW[4]},bad domain", "invalid domain 'bad domain'"),
    (f"frank@a.example,{PW[4]},b.example", "disagree"),
    ("frank,password123", "weak password for 'frank@sipwall': it is "
     "shorter than 12 characters (too_short); use --allow-weak"),
    ("frank,Password2024!xyz", "(common_password)"),
    ("frank,Frank-the-great-7X", "(contains_username)"),
    ("frank,Abcdefgh\x1b[1mXyz9", "control characters"),
    ("frank," + "Kq7-" + "x9Z_" * 32, "longer than 128 bytes"),
    ("frank,Kq7-x9Z_\x00abc", "NUL byte"),
    ("x" * 1100, "line longer than 1024 bytes"),
])
def test_import_bad_line_imports_nothing(store, line, msg):
    assert store.account("add", "seed", "--password-stdin",
                         input=PW[0] + "\n").returncode == 0
    path = write(store, "bad.csv", f"# header\nalice,{PW[1]}\n{line}\n"
                 f"bob,{PW[2]}\n")
    p = store.account("import", path)
    assert p.returncode == 1
    first = p.stderr.splitlines()[0]
    assert first.startswith(f"{path}:3: "), p.stderr
    assert msg in first, p.stderr
    assert p.stderr.endswith("sipwall: nothing imported (1 error)\n")
    assert p.stdout == ""
    # All or nothing: the good lines were not imported either.
    assert [r[0] for r in store.rows("SELECT username FROM accounts")] == \
        ["seed"]
    # A refused password is never echoed.
    pw = line.split(",", 1)[-1]
    if len(pw) >= 8 and "\x00" not in pw:
        assert pw not in p.stderr


def test_import_reports_every_bad_line_in_order(store):
    assert store.account("add", "carol", "--password-stdin",
                         input=PW[2] + "\n").returncode == 0
    path = write(store, "u.csv",
                 f"alice,{PW[0]}\n"           # 1 ok
                 f"bob,short\n"               # 2 weak
                 f"carol,{PW[3]}\n"           # 3 exists
                 f"alice,{PW[4]}\n"           # 4 twice
                 f"dave,{PW[0]}\n"            # 5 same password as line 1
                 f"erin,{PW[2]}\n"            # 6 same password as carol
                 f"fr ank,{PW[1]}\n")         # 7 bad name
    p = store.account("import", path)
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert [l.split(":")[1] for l in lines[:-1]] == \
        ["2", "3", "4", "5", "6", "7"], p.stderr
    assert "account 'carol@sipwall' already exists" in lines[1]
    assert "account 'alice@sipwall' appears twice (first on line 1)" \
        in lines[2]
    assert "password of 'dave@sipwall' refused: 'alice@sipwall' (line 1) " \
        "has the same password" in lines[3]
    assert "password of 'erin@sipwall' refused: account 'carol@sipwall' " \
        "has the same password" in lines[4]
    assert lines[-1] == "sipwall: nothing imported (6 errors)"
    assert count(store) == 1


def test_import_allow_weak_imports_with_warnings(store):
    assert store.account("add", "carol", "--password-stdin",
                         input=PW[2] + "\n").returncode == 0
    path = write(store, "w.csv", f"alice,password123\nbob,{PW[2]}\n"
                 f"dave,{PW[1]}\nerin,{PW[1]}\n")
    p = store.account("import", path, "--allow-weak")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "imported 4 accounts\n"
    err = p.stderr.splitlines()
    assert len(err) == 3, p.stderr
    assert err[0].startswith(f"{path}:1: warning: weak password imported "
                             "for 'alice@sipwall'")
    assert err[1] == (f"{path}:2: warning: 'bob@sipwall' shares its "
                      "password with account 'carol@sipwall'")
    assert err[2] == (f"{path}:4: warning: 'erin@sipwall' shares its "
                      "password with 'dave@sipwall' (line 3)")
    assert store.account_row("alice")["ha1_md5"] == \
        ha1("alice", "sipwall", "password123")[0]
    # Control characters stay refused.
    p = store.account("import", "-", "--allow-weak",
                      input="gina,Abcdefgh\x1b[1mXyz9\n")
    assert p.returncode == 1
    assert "stdin:1: password for 'gina@sipwall' refused" in p.stderr


def test_import_many_in_one_transaction(store):
    n = 3000
    text = "".join(f"user{i},Kp{i:05d}-Wx{(i * 7919) % 100000:05d}q\n"
                   for i in range(n))
    path = write(store, "many.csv", text)
    t0 = time.monotonic()
    p = store.account("import", path, "--allow-weak")
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"imported {n} accounts\n"
    assert time.monotonic() - t0 < 60
    assert count(store) == n
    # Importing the same file again: every line exists, none is added.
    p = store.account("import", path, "--allow-weak")
    assert p.returncode == 1
    assert f"sipwall: nothing imported ({n} errors)" in p.stderr
    assert f"... and {n - 50} more errors" in p.stderr
    assert count(store) == n


def test_import_while_another_writer_holds_the_store(store):
    assert store.account("add", "seed", "--password-stdin",
                         input=PW[0] + "\n").returncode == 0
    db = sqlite3.connect(store.path, timeout=1)
    try:
        db.execute("BEGIN IMMEDIATE")
        t0 = time.monotonic()
        p = store.account("import", "-", input=f"alice,{PW[1]}\n")
        waited = time.monotonic() - t0
    finally:
        db.rollback()
        db.close()
    # It waited for the lock (busy timeout), then failed whole.
    assert p.returncode == 1
    assert waited >= 4
    assert "nothing imported" in p.stderr
    assert count(store) == 1


@pytest.mark.parametrize("args,status,msg", [
    (["import"], 2, "'import' takes one FILE"),
    (["import", "a.csv", "b.csv"], 2, "'import' takes one FILE"),
    (["import", "-", "--password-stdin"], 2, "does not apply to 'import'"),
    (["import", "-", "--domain", "bad domain"], 2, "invalid domain"),
    (["import", "/nonexistent/users.csv"], 1, "cannot open "
     "'/nonexistent/users.csv'"),
])
def test_import_usage_errors(store, args, status, msg):
    p = store.account(*args, input="")
    assert p.returncode == status, p.stderr
    assert msg in p.stderr



# --- bans ---------------------------------------------------------------------


def test_ban_add_list_remove(store):
    now = int(time.time())
    p = store.ban("add", "192.0.2.1", "--for", "1h", "--reason",
                  "brute force from \"hotel\" wifi")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("192.0.2.1 banned until ")
    assert "(reason manual)" in p.stdout
    p = store.ban("add", "2001:DB8:0::/48")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "2001:db8::/48 banned until permanent (reason manual)\n"
    assert store.ban("add", "::ffff:198.51.100.0/120", "--for", "1h30m",
                     ).returncode == 0

    rows = store.rows('SELECT "key", reason, since, "until", strikes, '
                      'evidence, origin FROM bans ORDER BY "key"')
    assert [r[0] for r in rows] == ["192.0.2.1", "198.51.100.0/24",
                                    "2001:db8::/48"]
    k, reason, since, until, strikes, evidence, origin = rows[0]
    assert reason == "manual" and strikes == 1 and origin == "sipwall"
    assert abs(since - now) < 60 and until == since + 3600
    ev = json.loads(evidence)
    assert ev["note"] == "brute force from \"hotel\" wifi"
    assert ev["by"]
    assert rows[1][3] == rows[1][2] + 5400
    assert rows[2][3] == 0

    p = store.ban("list")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["KEY", "REASON", "STATE", "SINCE", "UNTIL",
                                "STRIKES", "ORIGIN"]
    assert len(lines) == 4
    assert "permanent" in lines[3]
    j = json.loads(store.ban("list", "--json").stdout)
    assert [b["key"] for b in j] == ["192.0.2.1", "198.51.100.0/24",
                                     "2001:db8::/48"]
    assert j[0]["evidence"]["note"].startswith("brute force")
    assert all(b["active"] for b in j)

    # Re-banning replaces, keeping the strike count.
    store.execute('UPDATE bans SET strikes = 3 WHERE "key" = \'192.0.2.1\'')
    p = store.ban("add", "192.0.2.1/32")
    assert p.returncode == 0
    assert "ban replaced" in p.stdout
    assert store.rows('SELECT strikes, "until" FROM bans '
                      'WHERE "key" = \'192.0.2.1\'') == [(3, 0)]

    p = store.ban("remove", "2001:db8:0:0::/48")
    assert (p.returncode, p.stdout) == (0, "ban on 2001:db8::/48 removed\n")
    p = store.ban("remove", "2001:db8::/48")
    assert p.returncode == 1
    assert p.stderr == "sipwall: no ban on '2001:db8::/48'\n"
    assert len(json.loads(store.ban("list", "--json").stdout)) == 2


def test_ban_list_expired(store):
    assert store.ban("add", "192.0.2.1").returncode == 0
    store.execute('INSERT INTO bans ("key", reason, since, "until", strikes) '
                  "VALUES ('192.0.2.99', 'scanner', 1, 2, 1)")
    j = json.loads(store.ban("list", "--json").stdout)
    assert [b["key"] for b in j] == ["192.0.2.1"]
    j = json.loads(store.ban("list", "--all", "--json").stdout)
    assert [(b["key"], b["active"]) for b in j] == [("192.0.2.1", True),
                                                   ("192.0.2.99", False)]
    assert "expired" in store.ban("list", "--all").stdout


@pytest.mark.parametrize("args,msg", [
    (["add", "192.0.2.1/24"], "invalid address or prefix"),
    (["add", "300.0.2.1"], "invalid address or prefix"),
    (["add", "host.example"], "invalid address or prefix"),
    (["add", "0.0.0.0/0"], "too broad"),
    (["add", "10.0.0.0/7"], "too broad"),
    (["add", "2000::/8"], "too broad"),
    (["add", "192.0.2.1", "--for", "0s"], "invalid --for"),
    (["add", "192.0.2.1", "--for", "5"], "invalid --for"),
    (["add", "192.0.2.1", "--for", "5y"], "invalid --for"),
    (["add", "192.0.2.1", "--for", "99999w"], "invalid --for"),
    (["add", "192.0.2.1", "--reason", ""], "invalid --reason"),
    (["add", "192.0.2.1", "--reason", "a\nb"], "invalid --reason"),
    (["add", "192.0.2.1", "--reason", "x" * 201], "invalid --reason"),
    (["add"], "takes one ADDR"),
    (["remove", "a", "b"], "takes one ADDR"),
    (["list", "--for", "1h"], "does not apply"),
    (["list", "x"], "takes no arguments"),
    (["nuke"], "unknown action"),
    ([], "missing ACTION"),
])
def test_ban_usage_errors(store, args, msg):
    p = store.ban(*args)
    assert p.returncode == 2, (args, p.stderr)
    assert msg in p.stderr
    assert "usage: sipwall ban" in p.stderr
    assert not os.path.exists(store.path)


def test_ban_remove_missing_store(store):
    p = store.ban("remove", "192.0.2.1")
    assert p.returncode == 1
    assert "no store at" in p.stderr


# --- limits and unblock (FRAUD2) ---------------------------------------------

LIMITS_CONF = """version: 1
node:
  name: edge-1
  state_dir: %s
listen:
  - address: 127.0.0.1
    zone: z
zones:
  - name: z
policy:
  groups:
    - name: default
      max_concurrent: 2
      calls_per_minute: 5
      calls_per_day: 0
      minutes_per_day: 0
    - name: sales
      international: true
      max_concurrent: 0
      calls_per_minute: 0
      calls_per_day: 100
      minutes_per_day: 30
      hours: ["mon-fri 08:00-18:00", "sat 09:00-13:00"]
"""


class LimitsStore(Store):
    """A store found through a config with policy groups."""

    def __init__(self, tmp_path):
        state = tmp_path / "state"
        state.mkdir()
        super().__init__(state)
        self.conf = str(tmp_path / "sipwall.yaml")
        with open(self.conf, "w") as f:
            f.write(LIMITS_CONF % state)

    def account(self, *args, input=None):
        return run("account", "-c", self.conf, *args, input=input)


@pytest.fixture
def lstore(tmp_path):
    return LimitsStore(tmp_path)


def clock():
    """now, its unix minute and its local day (as usage_day() counts),
    away from the end of a minute so that a test's CLI runs see the
    same minute and day as the rows it wrote."""
    if time.time() % 60 > 50:
        time.sleep(61 - time.time() % 60)
    now = int(time.time())
    return now, now // 60, (now + time.localtime(now).tm_gmtoff) // 86400


def put_usage(st, account, minute, calls_minute, day, calls_day,
              seconds_day, blocked_day, active, updated):
    st.execute("INSERT INTO usage (account, minute, calls_minute, day, "
               "calls_day, seconds_day, blocked_day, active, updated) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (account, minute, calls_minute, day, calls_day, seconds_day,
                blocked_day, active, updated))


def test_limits_text(lstore):
    for args in (["alice@example.com", "--group", "sales"],
                 ["bob@example.com"], ["carol@example.com", "--group", "vip"]):
        assert lstore.account("add", *args).returncode == 0
    now, minute, day = clock()
    put_usage(lstore, "alice@example.com", minute, 3, day, 17, 61, 4, 1, now)
    # A minute and a day that have passed count as 0; active does not.
    put_usage(lstore, "bob@example.com", minute - 1, 4, day - 1, 9, 600, 2,
              1, now - 90000)

    p = lstore.account("limits", "alice@example.com")
    assert p.returncode == 0, p.stderr
    assert p.stdout == (
        "account:            alice@example.com\n"
        "group:              sales\n"
        "calls in progress:  1 / unlimited\n"
        "calls this minute:  3 / unlimited\n"
        "calls today:        17 / 100\n"
        "minutes today:      2 / 30\n"
        "refused today:      4\n"
        "hours:              mon-fri 08:00-18:00\n"
        "                    sat 09:00-13:00\n")

    p = lstore.account("limits", "bob", "--domain", "Example.COM")
    assert p.returncode == 0, p.stderr
    assert p.stdout == (
        "account:            bob@example.com\n"
        "group:              default\n"
        "calls in progress:  1 / 2\n"
        "calls this minute:  0 / 5\n"
        "calls today:        0 / unlimited\n"
        "minutes today:      0 / unlimited\n"
        "refused today:      0\n"
        "hours:              any time\n")

    # A group the config does not know: "default" applies, and it says so.
    p = lstore.account("limits", "carol@example.com")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[1] == (
        'group:              vip (not in the config: the limits of group '
        '"default" apply)')
    assert "calls in progress:  0 / 2\n" in p.stdout
    assert "calls this minute:  0 / 5\n" in p.stdout

    p = lstore.account("limits", "dave@example.com")
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr == "sipwall: account 'dave@example.com' not found\n"


def test_limits_json(lstore):
    for args in (["alice@example.com", "--group", "sales"],
                 ["bob@example.com"], ["carol@example.com", "--group", "vip"]):
        assert lstore.account("add", *args).returncode == 0
    now, minute, day = clock()
    put_usage(lstore, "alice@example.com", minute, 3, day, 17, 120, 4, 1, now)
    put_usage(lstore, "bob@example.com", minute - 5, 4, day - 2, 9, 600, 2,
              0, now - 200000)

    p = lstore.account("limits", "alice@example.com", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {
        "account": "alice@example.com",
        "group": "sales",
        "group_configured": True,
        "limits": {"max_concurrent": 0, "calls_per_minute": 0,
                   "calls_per_day": 100, "minutes_per_day": 30},
        "used": {"active": 1, "calls_minute": 3, "calls_day": 17,
                 "minutes_day": 2, "blocked_day": 4},
        "hours": ["mon-fri 08:00-18:00", "sat 09:00-13:00"],
    }
    j = json.loads(lstore.account("limits", "bob@example.com",
                                  "--json").stdout)
    assert j["used"] == {"active": 0, "calls_minute": 0, "calls_day": 0,
                         "minutes_day": 0, "blocked_day": 0}
    assert j["limits"] == {"max_concurrent": 2, "calls_per_minute": 5,
                           "calls_per_day": 0, "minutes_per_day": 0}
    assert j["hours"] == []
    j = json.loads(lstore.account("limits", "carol@example.com",
                                  "--json").stdout)
    assert (j["group"], j["group_configured"]) == ("vip", False)
    assert j["limits"]["max_concurrent"] == 2
    assert j["used"]["calls_day"] == 0


def test_limits_without_config_uses_the_defaults(store):
    assert store.account("add", "alice").returncode == 0
    p = store.account("limits", "alice", "--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert (j["account"], j["group"], j["group_configured"]) == (
        "alice@sipwall", "default", True)
    assert set(j["limits"]) == {"max_concurrent", "calls_per_minute",
                                "calls_per_day", "minutes_per_day"}


def test_unblock(lstore):
    assert lstore.account("add", "alice@example.com").returncode == 0
    assert lstore.account("add", "bob@example.com").returncode == 0
    now, minute, day = clock()
    put_usage(lstore, "alice@example.com", minute, 5, day, 40, 3000, 7, 2,
              now - 10)
    lstore.execute("UPDATE accounts SET locked_until = ? "
                   "WHERE username = 'alice'", (now + 900,))
    gen = int(lstore.rows("SELECT value FROM meta "
                          "WHERE key = 'gen.resets'")[0][0])

    p = lstore.account("unblock", "alice@example.com")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "alice@example.com: usage counters reset, lock cleared\n"
    rows = lstore.rows("SELECT minute, calls_minute, day, calls_day, "
                       "seconds_day, blocked_day, active, updated FROM usage "
                       "WHERE account = 'alice@example.com'")
    assert len(rows) == 1
    m, cm, d, cd, sd, bd, act, upd = rows[0]
    # The windows stay; every counter is 0.
    assert (m, d) == (minute, day)
    assert (cm, cd, sd, bd, act) == (0, 0, 0, 0, 0)
    assert abs(upd - now) < 60
    resets = lstore.rows("SELECT account, at FROM usage_resets")
    assert len(resets) == 1 and resets[0][0] == "alice@example.com"
    assert abs(resets[0][1] - now) < 60
    assert lstore.rows("SELECT locked_until FROM accounts "
                       "WHERE username = 'alice'") == [(0,)]
    assert int(lstore.rows("SELECT value FROM meta "
                           "WHERE key = 'gen.resets'")[0][0]) == gen + 1
    j = json.loads(lstore.account("limits", "alice@example.com",
                                  "--json").stdout)
    assert set(j["used"].values()) == {0}

    # No usage row and no lock: the request is queued all the same.
    p = lstore.account("unblock", "bob", "--domain", "example.com")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "bob@example.com: usage counters reset, was not locked\n"
    assert lstore.rows("SELECT count(*) FROM usage "
                       "WHERE account = 'bob@example.com'") == [(0,)]
    assert lstore.rows("SELECT count(*) FROM usage_resets "
                       "WHERE account = 'bob@example.com'") == [(1,)]

    p = lstore.account("unblock", "zed@example.com")
    assert (p.returncode, p.stdout) == (1, "")
    assert p.stderr == "sipwall: account 'zed@example.com' not found\n"
    assert lstore.rows("SELECT count(*) FROM usage_resets "
                       "WHERE account = 'zed@example.com'") == [(0,)]


def test_unblock_disabled_account_says_so(lstore):
    assert lstore.account("add", "kim@example.com").returncode == 0
    assert lstore.account("disable", "kim@example.com").returncode == 0
    p = lstore.account("unblock", "kim@example.com")
    assert p.returncode == 0, p.stderr
    assert "is disabled" in p.stderr
    assert lstore.account_row("kim", "example.com")["enabled"] == 0


# --- calls -----------------------------------------------------------------

T_2026 = 1767225600000          # 2026-01-01T00:00:00Z, unix ms

CALL_LEG = ("packets", "bytes", "lost", "jitter_us", "ooo", "auth_failed",
            "foreign", "srtp", "media")


def put_call(st, call_id, started_ms, state="ended", direction="outbound",
             account="alice", from_user="alice", to_user="+4930123456",
             src="192.0.2.10:5060", answered_ms=0, ended_ms=0, status=0,
             reason="", anchored=1, a=None, b=None, outcome=None,
             zone_a="", zone_b="", target="", verdicts="", enc_a=None,
             enc_b=None):
    """A row of the calls table, as sipwalld writes it; a and b are
    dicts of CALL_LEG values (missing ones 0).  outcome, enc_a and
    enc_b default to what the schema 6 migration gives an older row."""
    if outcome is None:
        outcome = ("answered" if answered_ms else "cancelled"
                   if reason == "cancel" else "failed"
                   if state == "ended" else "")
    enc = {}
    for p, leg, given in (("a", a or {}, enc_a), ("b", b or {}, enc_b)):
        enc[p] = given if given is not None else (
            "" if not leg.get("media") else "srtp" if leg.get("srtp")
            else "rtp")
    cols = {"call_id": call_id, "started_ms": started_ms, "account": account,
            "from_user": from_user, "to_user": to_user,
            "direction": direction, "src": src, "answered_ms": answered_ms,
            "ended_ms": ended_ms, "status": status, "reason": reason,
            "state": state, "anchored": anchored, "outcome": outcome,
            "zone_a": zone_a, "zone_b": zone_b, "target": target,
            "verdicts": verdicts, "enc_a": enc["a"], "enc_b": enc["b"]}
    for p, leg in (("a", a or {}), ("b", b or {})):
        for k in CALL_LEG:
            cols["%s_%s" % (p, k)] = leg.get(k, 0)
    st.execute("INSERT INTO calls (%s) VALUES (%s)" % (
        ", ".join(cols), ", ".join("?" * len(cols))), tuple(cols.values()))


class CallStore(Store):
    def calls(self, *args):
        return run("calls", "-D", self.dir, *args)


@pytest.fixture
def cstore(tmp_path, monkeypatch):
    """A store with four calls: one active (the newest, up for 65 s),
    one lost to a restart, one cancelled, one answered and ended;
    local time is UTC."""
    monkeypatch.setenv("TZ", "UTC")
    st = CallStore(tmp_path)
    # Any command that writes creates the store with its schema.
    assert st.account("add", "seed").returncode == 0
    put_call(st, "c-ended@pc33", T_2026, answered_ms=T_2026 + 2500,
             ended_ms=T_2026 + 65000, status=200, reason="bye",
             zone_a="internet", zone_b="core", target="core:192.0.2.5:5060",
             verdicts="auth:digest,dest:domestic,limit:ok",
             enc_a="AES_CM_128_HMAC_SHA1_80",
             a={"packets": 3250, "bytes": 559000, "lost": 12,
                "jitter_us": 4100, "ooo": 3, "auth_failed": 1, "foreign": 2,
                "srtp": 1, "media": 1},
             b={"packets": 3240, "bytes": 557280, "lost": -2,
                "jitter_us": 800, "media": 1})
    put_call(st, "c-cancel", T_2026 + 30000, ended_ms=T_2026 + 34000,
             status=487, reason="cancel", a={"packets": 40, "media": 1})
    put_call(st, "c-lost", T_2026 + 60000, state="lost",
             direction="inbound", account="", from_user="+4930999",
             to_user="bob", anchored=0)
    now = int(time.time() * 1000)
    put_call(st, "c-active", now - 70000, state="active",
             direction="trunk_in", account="", from_user="+4940555",
             to_user="carol", answered_ms=now - 65000,
             a={"packets": 3000, "lost": 300, "jitter_us": 20000,
                "media": 1},
             b={"packets": 2990, "jitter_us": 1500, "media": 1})
    return st


def call_line(started, state, outcome, direction, account, fromto, dur,
              status):
    return "%-25s  %-6s  %-9s  %-9s  %-12s  %-31s  %8s  %s" % (
        started, state, outcome, direction, account, fromto, dur, status)


HEADER = call_line("STARTED", "STATE", "OUTCOME", "DIRECTION", "ACCOUNT",
                   "FROM -> TO", "DURATION", "STATUS")


def test_calls_default_lists_the_active_ones(cstore):
    p = cstore.calls()
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 5, p.stdout
    assert lines[0] == HEADER
    m = re.fullmatch(r"(\S+) +active +answered +trunk_in +- +"
                     r"\+4940555 -> carol +(\d+):(\d\d):(\d\d)  -",
                     lines[1])
    assert m, lines[1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", m.group(1))
    # Answered 65 s before the rows were written, now a little later.
    secs = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4))
    assert 65 <= secs < 120
    assert lines[2] == "  target - verdicts -"
    assert lines[3] == ("  A: - rtp pkts 3000 lost 300 (9.1%) jitter "
                        "20.0ms ooo 0 auth_fail 0 foreign 0")
    assert lines[4] == ("  B: - rtp pkts 2990 lost 0 (0.0%) jitter 1.5ms "
                        "ooo 0 auth_fail 0 foreign 0")


def test_calls_all_newest_first(cstore):
    p = cstore.calls("--all")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 1 + 4 * 4, p.stdout
    assert lines[0] == HEADER
    assert " active " in lines[1]
    assert lines[5:] == [
        call_line("2026-01-01T00:01:00+00:00", "lost", "-", "inbound", "-",
                  "+4930999 -> bob", "-", "-"),
        "  target - verdicts -",
        "  A: - - pkts 0 lost 0 (0.0%) jitter 0.0ms ooo 0 auth_fail 0 "
        "foreign 0",
        "  B: - - pkts 0 lost 0 (0.0%) jitter 0.0ms ooo 0 auth_fail 0 "
        "foreign 0",
        call_line("2026-01-01T00:00:30+00:00", "ended", "cancelled",
                  "outbound", "alice", "alice -> +4930123456", "-",
                  "487/cancel"),
        "  target - verdicts -",
        "  A: - rtp pkts 40 lost 0 (0.0%) jitter 0.0ms ooo 0 auth_fail 0 "
        "foreign 0",
        "  B: - - pkts 0 lost 0 (0.0%) jitter 0.0ms ooo 0 auth_fail 0 "
        "foreign 0",
        call_line("2026-01-01T00:00:00+00:00", "ended", "answered",
                  "outbound", "alice", "alice -> +4930123456", "0:01:02",
                  "200/bye"),
        "  target core:192.0.2.5:5060 verdicts "
        "auth:digest,dest:domestic,limit:ok",
        "  A: internet AES_CM_128_HMAC_SHA1_80 pkts 3250 lost 12 (0.4%) "
        "jitter 4.1ms ooo 3 auth_fail 1 foreign 2",
        "  B: core rtp pkts 3240 lost -2 (0.0%) jitter 0.8ms ooo 0 "
        "auth_fail 0 foreign 0",
    ]
    # The exact layout of one line, not only the format's.
    assert lines[13] == (
        "2026-01-01T00:00:00+00:00  ended   answered   outbound   "
        "alice         alice -> +4930123456              0:01:02  200/bye")


def test_calls_local_time(cstore, monkeypatch):
    monkeypatch.setenv("TZ", "EST5")
    p = cstore.calls("--all", "-n", "4")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[13].startswith(
        "2025-12-31T19:00:00-05:00  ended")


def test_calls_limit(cstore):
    p = cstore.calls("--all", "-n", "2")
    assert p.returncode == 0, p.stderr
    states = [l.split()[1] for l in p.stdout.splitlines()[1:]
              if not l.startswith("  ")]
    assert states == ["active", "lost"]
    p = cstore.calls("-n", "1", "--all", "--json")
    assert [c["call_id"] for c in json.loads(p.stdout)] == ["c-active"]
    p = cstore.calls("--limit", "100000", "--all", "--json")
    assert [c["call_id"] for c in json.loads(p.stdout)] == [
        "c-active", "c-lost", "c-cancel", "c-ended@pc33"]


def test_calls_json(cstore):
    p = cstore.calls("--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert [c["call_id"] for c in j] == ["c-active"]
    p = cstore.calls("--all", "--json")
    assert p.returncode == 0, p.stderr
    j = json.loads(p.stdout)
    assert len(j) == 4
    assert j[3] == {
        "call_id": "c-ended@pc33", "state": "ended", "direction": "outbound",
        "account": "alice", "from_user": "alice", "to_user": "+4930123456",
        "started_ms": T_2026, "answered_ms": T_2026 + 2500,
        "ended_ms": T_2026 + 65000, "duration_ms": 62500, "status": 200,
        "reason": "bye", "src": "192.0.2.10:5060", "outcome": "answered",
        "zone_a": "internet", "zone_b": "core",
        "target": "core:192.0.2.5:5060",
        "verdicts": "auth:digest,dest:domestic,limit:ok",
        "enc_a": "AES_CM_128_HMAC_SHA1_80", "enc_b": "rtp", "anchored": True,
        "a": {"has_media": True, "srtp": True, "packets": 3250,
              "bytes": 559000, "lost": 12, "jitter_us": 4100, "ooo": 3,
              "auth_failed": 1, "foreign": 2},
        "b": {"has_media": True, "srtp": False, "packets": 3240,
              "bytes": 557280, "lost": -2, "jitter_us": 800, "ooo": 0,
              "auth_failed": 0, "foreign": 0},
    }
    assert (j[1]["state"], j[1]["ended_ms"], j[1]["anchored"],
            j[1]["a"]["has_media"]) == ("lost", 0, False, False)


def test_calls_empty(store):
    assert store.account("add", "seed").returncode == 0
    p = run("calls", "-D", store.dir)
    assert (p.returncode, p.stdout) == (0, "no calls\n")
    p = run("calls", "-D", store.dir, "--json", "--all")
    assert (p.returncode, json.loads(p.stdout)) == (0, [])
    # Ended calls only: none active.
    put_call(store, "c1", T_2026)
    p = run("calls", "-D", store.dir)
    assert (p.returncode, p.stdout) == (0, "no calls\n")


def test_calls_store_from_config(lstore):
    assert lstore.account("add", "alice@example.com").returncode == 0
    put_call(lstore, "c1", T_2026, state="active")
    p = run("calls", "-c", lstore.conf, "--json")
    assert p.returncode == 0, p.stderr
    assert [c["call_id"] for c in json.loads(p.stdout)] == ["c1"]


def test_calls_missing_store(store):
    p = run("calls", "-D", store.dir)
    assert (p.returncode, p.stdout) == (1, "")
    assert "no store at" in p.stderr
    assert not os.path.exists(store.path)


def test_calls_corrupt_row_refused(cstore):
    # Within the CHECKs (lengths) but not printable: never printed.
    put_call(cstore, "c-evil", T_2026 - 1, state="ended",
             from_user="a\x1b[2Jb")
    p = cstore.calls("--all")
    assert p.returncode == 1
    assert "sipwall: cannot list calls: " in p.stderr
    assert "\x1b" not in p.stdout
    # The rows before it were listed; a limit that stops before it is fine.
    assert cstore.calls("--all", "-n", "4").returncode == 0
    assert cstore.calls("--json", "--all").returncode == 1


@pytest.mark.parametrize("args, msg", [
    (["-n", "0"], "invalid -n"),
    (["-n", "100001"], "invalid -n"),
    (["-n", "abc"], "invalid -n"),
    (["-n", "-5"], "invalid -n"),
    (["-n", " 5"], "invalid -n"),
    (["-n", "99999999999999999999999"], "invalid -n"),
    (["-n"], "needs a value"),
    (["--frobnicate"], "unknown option"),
    (["list"], "no arguments expected"),
    (["--outcome", "lost"], "invalid --outcome"),
    (["--outcome", ""], "invalid --outcome"),
    (["--outcome"], "needs a value"),
])
def test_calls_usage_errors(store, args, msg):
    p = run("calls", "-D", store.dir, *args)
    assert p.returncode == 2, (args, p.stderr)
    assert p.stderr.startswith("sipwall calls: ")
    assert msg in p.stderr
    assert "usage: sipwall calls" in p.stderr
    assert p.stdout == ""


def test_calls_help():
    p = run("calls", "--help")
    assert p.returncode == 0
    assert "usage: sipwall calls" in p.stdout
    p = run("--help")
    assert "calls [-c FILE] [-D DIR] [--all] [-n N] [--json]" in p.stdout


# --- admin token (OPS2) ------------------------------------------------------

def test_admin_token_prints_a_fresh_token_and_its_hash():
    seen = set()
    for _ in range(2):
        p = run("admin", "token")
        assert p.returncode == 0, p.stderr
        m = re.fullmatch(r"token: ([A-Za-z0-9_-]{43})\n"
                         r"token_sha256: ([0-9a-f]{64})\n", p.stdout)
        assert m, p.stdout
        assert hashlib.sha256(m.group(1).encode()).hexdigest() == m.group(2)
        seen.add(m.group(1))
    assert len(seen) == 2


def test_admin_usage_errors():
    for args in ([], ["nope"], ["token", "x"]):
        p = run("admin", *args)
        assert p.returncode == 2, (args, p.stdout)
        assert "usage: sipwall admin token" in p.stderr
