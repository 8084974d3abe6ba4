"""CDRs in the store (OBS3): every call attempt that reached call
handling leaves one row in the calls table, whatever became of it --
answered, refused by sipwall's policy, failed at the callee, cancelled
by the caller -- with its zones, target, outcome, SIP status and
reason, the policy verdicts, the encryption of each leg and its media
figures, and `sipwall calls` shows them.

    phone (SIPp UAC) -> sipwall internet listener (media 127.0.0.1)
        -> sipwall core listener (media 127.0.0.2) -> PBX 127.0.0.10

An INVITE that is only challenged (407) is not a call attempt: the
phones here authenticate, and no row is left by the challenge.

At the end, the store's other history: `sipwall config history`, the
config changes (reloads) recorded in the config_changes table.
"""
import json
import os
import sqlite3
import time

import swtest
from test_calls import CORE, sipp_report
from test_fraud import refused
from test_media import (PHONE, MediaEdge, done, final_of, media_conf,
                        reap, srtp_key_line)


def calls(e, *args):
    """`sipwall calls --all --json` (and args) of the edge's store."""
    p = e.d.cli("calls", "--all", "--json", *args)
    return json.loads(p.stdout)


def wait_rows(e, pred, n, timeout=10.0):
    """The ended rows matching pred once there are n of them (the
    writer commits a moment after the call ends)."""
    deadline = time.time() + timeout
    while True:
        rows = [c for c in calls(e) if c["state"] == "ended" and pred(c)]
        if len(rows) >= n or time.time() > deadline:
            assert len(rows) == n, json.dumps(calls(e), indent=1)
            return rows
        time.sleep(0.1)


def verdicts(row):
    return row["verdicts"].split(",") if row["verdicts"] else []


def test_cdr_rows_for_answered_refused_failed_and_cancelled_calls(
        daemon_factory, tmp_path):
    # `prefer` on the outside: SRTP when the phone offers it, plain RTP
    # otherwise; the core zone (trusted) is plain RTP.
    e = MediaEdge(daemon_factory, tmp_path, media=media_conf(),
                  srtp="prefer")
    core_target = "core:%s:%d" % (CORE, e.uas_port)

    # 1. Answered: the phone offers SDES SRTP, the PBX answers plain.
    cwd = e.run_dir("answered")
    _, line = srtp_key_line()
    pbx = e.pbx("media_uas_answer.xml", cwd, swtest.free_port(CORE))
    try:
        r = e.phone_run("media_call_uac.xml", cwd, swtest.free_port(PHONE),
                        proto="RTP/SAVP", line=line, extra=["-d", "500"])
        assert r.returncode == 0, sipp_report(r, cwd)
        done(pbx, cwd)
    finally:
        reap(pbx)
    ans = wait_rows(e, lambda c: c["outcome"] == "answered", 1)[0]
    assert (ans["status"], ans["reason"]) == (200, "bye"), ans
    assert (ans["zone_a"], ans["zone_b"]) == ("internet", "core"), ans
    assert ans["target"] == core_target, ans
    assert ans["enc_a"] == "AES_CM_128_HMAC_SHA1_80", ans
    assert ans["enc_b"] == "rtp", ans
    assert (ans["account"], ans["from_user"], ans["to_user"]) == (
        "1001", "1001", "2000"), ans
    assert ans["direction"] == "outbound" and ans["anchored"], ans
    assert ans["src"].startswith(PHONE + ":"), ans
    assert 0 < ans["started_ms"] <= ans["answered_ms"] <= ans["ended_ms"]
    assert ans["duration_ms"] == ans["ended_ms"] - ans["answered_ms"]
    assert ans["duration_ms"] >= 400, ans
    assert verdicts(ans) == ["auth:digest", "dest:internal", "limit:ok",
                             "srtp:prefer", "media:anchored"], ans
    assert ans["a"]["srtp"] and not ans["b"]["srtp"], ans

    # 2. Refused by the destination policy (the default group may not
    # call abroad): 403 before anything reaches the PBX.
    st, _ = refused(e, "011442071234567", tag="intl")
    assert st == 403
    ref = wait_rows(e, lambda c: c["outcome"] == "refused", 1)[0]
    assert (ref["status"], ref["reason"]) == (403, "international"), ref
    assert verdicts(ref) == ["auth:digest", "dest:denied"], ref
    assert ref["to_user"] == "011442071234567" and ref["account"] == "1001"
    assert ref["zone_a"] == "internet", ref
    assert (ref["zone_b"], ref["target"], ref["enc_a"], ref["enc_b"]) == (
        "", "", "", ""), ref
    assert ref["answered_ms"] == 0 and ref["duration_ms"] == 0, ref
    assert ref["started_ms"] == ref["ended_ms"] > 0, ref

    # 3. Failed: the PBX rings, then the callee is busy (486).
    uas = e.uas("uas_busy.xml")
    try:
        st, _ = refused(e, "2001", tag="busy")
        assert st == 486
        done(uas, tmp_path)
    finally:
        reap(uas)
    fail = wait_rows(e, lambda c: c["outcome"] == "failed", 1)[0]
    assert (fail["status"], fail["reason"]) == (486, "rejected"), fail
    assert fail["to_user"] == "2001", fail
    assert (fail["zone_a"], fail["zone_b"]) == ("internet", "core"), fail
    assert fail["target"] == core_target, fail
    assert verdicts(fail) == ["auth:digest", "dest:internal", "limit:ok",
                              "srtp:prefer", "media:anchored"], fail
    # anchored, but no answer settled either leg's media
    assert fail["anchored"] and (fail["enc_a"], fail["enc_b"]) == ("", "")
    assert fail["answered_ms"] == 0 and fail["duration_ms"] == 0, fail

    # 4. Cancelled by the caller while the PBX rings.
    uas = e.uas("uas_ring_cancel.xml")
    try:
        r = e.phone("call_cancel_uac.xml", dial="2002")
        assert r.returncode == 0, sipp_report(r, tmp_path)
        done(uas, tmp_path)
    finally:
        reap(uas)
    can = wait_rows(e, lambda c: c["outcome"] == "cancelled", 1)[0]
    assert (can["status"], can["reason"]) == (487, "cancel"), can
    assert can["to_user"] == "2002" and can["target"] == core_target, can

    # Nothing else: no row for the 407 challenges before each call.
    rows = calls(e)
    assert sorted(c["outcome"] for c in rows) == [
        "answered", "cancelled", "failed", "refused"], rows
    assert [c["call_id"] for c in calls(e, "--outcome", "refused")] == [
        ref["call_id"]]
    assert [c["to_user"] for c in calls(e, "--outcome", "failed")] == [
        "2001"]

    # The text listing: outcome column, target and verdicts, each
    # leg's zone and encryption.
    p = e.d.cli("calls", "--all")
    out = p.stdout.splitlines()
    assert out[0].split()[:4] == ["STARTED", "STATE", "OUTCOME",
                                  "DIRECTION"], p.stdout
    i = next(k for k, l in enumerate(out) if " answered " in l)
    assert out[i].split()[1:4] == ["ended", "answered", "outbound"], out[i]
    assert out[i + 1] == "  target %s verdicts %s" % (
        core_target, ans["verdicts"]), out[i + 1]
    assert out[i + 2].startswith("  A: internet AES_CM_128_HMAC_SHA1_80 "
                                 "pkts "), out[i + 2]
    assert out[i + 3].startswith("  B: core rtp pkts "), out[i + 3]
    i = next(k for k, l in enumerate(out) if " refused " in l)
    assert out[i].endswith("403/international"), out[i]
    assert out[i + 1] == "  target - verdicts auth:digest,dest:denied"
    assert out[i + 2].startswith("  A: internet - pkts 0 "), out[i + 2]


def test_cdr_row_for_a_call_refused_for_srtp(daemon_factory, tmp_path):
    """A plain offer into a zone with `srtp: require`: 488 after the
    call began (its media policy), outcome refused, reason media."""
    e = MediaEdge(daemon_factory, tmp_path, media=media_conf(),
                  srtp="require")
    cwd = e.run_dir("plain")
    r = e.phone_run("media_refused_uac.xml", cwd, swtest.free_port(PHONE))
    assert r.returncode == 0, sipp_report(r, cwd)
    assert final_of(cwd, "media_refused_uac").startswith("SIP/2.0 488")
    row = wait_rows(e, lambda c: True, 1)[0]
    assert (row["outcome"], row["status"], row["reason"]) == (
        "refused", 488, "media"), row
    assert verdicts(row) == ["auth:digest", "dest:internal", "limit:ok",
                             "srtp:require", "media:srtp_required"], row
    assert (row["zone_a"], row["zone_b"], row["target"]) == (
        "internet", "", ""), row
    assert (row["enc_a"], row["enc_b"], row["anchored"]) == ("", "", False)
    p = e.d.cli("calls", "--outcome", "refused")
    assert "488/media" in p.stdout, p.stdout


# --- the store's other history: config changes (OPS3) ---------------------

T_2026 = 1767225600000          # 2026-01-01T00:00:00Z, unix ms
DIFF = "--- running\n+++ new\n@@ -1 +1 @@\n-  workers: 2\n+  workers: 4\n"


def test_config_history_lists_the_store_offline(tmp_path):
    """`sipwall config history` reads the config_changes table without a
    daemon: newest first, -n, --diff (indented), --json."""
    d = str(tmp_path)
    swtest.cli("account", "add", "seed", "-D", d)   # creates the store
    p = swtest.cli("config", "history", "-D", d)
    assert p.stdout == "no config changes\n"
    db = sqlite3.connect(os.path.join(d, "sipwall.db"))
    with db:
        db.executemany(
            "INSERT INTO config_changes (at_ms, actor, result, summary, "
            "diff) VALUES (?, ?, ?, ?, ?)",
            [(T_2026, "sighup", "applied", "node.workers: 2 -> 4", DIFF),
             (T_2026 + 61000, "ctl:uid=0", "refused",
              "sipwall.yaml:3:12: not a number", "")])
    db.close()

    p = swtest.cli("config", "history", "-D", d)
    assert p.stdout.splitlines() == [
        "ID      TIME                  RESULT   ACTOR             SUMMARY",
        "2       2026-01-01T00:01:01Z  refused  ctl:uid=0         "
        "sipwall.yaml:3:12: not a number",
        "1       2026-01-01T00:00:00Z  applied  sighup            "
        "node.workers: 2 -> 4",
    ], p.stdout
    p = swtest.cli("config", "-D", d, "history", "-n", "1", "--diff")
    assert len(p.stdout.splitlines()) == 2, p.stdout
    p = swtest.cli("config", "history", "--diff", "-D", d)
    assert p.stdout.splitlines()[3:] == [
        "    " + l for l in DIFF.splitlines()], p.stdout

    j = json.loads(swtest.cli("config", "history", "--json", "-D",
                              d).stdout)
    assert j == [
        {"id": 2, "at_ms": T_2026 + 61000, "actor": "ctl:uid=0",
         "result": "refused", "summary": "sipwall.yaml:3:12: not a number",
         "diff_bytes": 0},
        {"id": 1, "at_ms": T_2026, "actor": "sighup", "result": "applied",
         "summary": "node.workers: 2 -> 4", "diff_bytes": len(DIFF)},
    ]
    j = json.loads(swtest.cli("config", "history", "--json", "--diff",
                              "-n", "1", "-D", d).stdout)
    assert [c["diff"] for c in j] == [""]

    for args, msg in ((["history", "-n", "0"], "invalid -n"),
                      (["history", "--frob"], "unknown option"),
                      (["show"], "unknown action"),
                      ([], "an action is needed"),
                      (["history", "x"], "no more arguments")):
        p = swtest.cli("config", "-D", d, *args, check=False)
        assert p.returncode == 2 and msg in p.stderr, (args, p.stderr)
        assert "usage: sipwall config history" in p.stderr
    p = swtest.cli("config", "history", "-D", str(tmp_path / "none"),
                   check=False)
    assert p.returncode == 1 and "no store" in p.stderr, p.stderr
