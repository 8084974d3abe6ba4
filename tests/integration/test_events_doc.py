"""The security event taxonomy in its three places agrees, without a
daemon: the type table of src/obs/secevent.h (SECEVENT_TYPES, what the
code can emit), the tables of docs/events.md (the contract people read)
and docs/events.schema.json (the contract programs check).  Every type,
numeric ID, severity, class and rate-limit flag must be the same in all
three, so adding a type to the C table without documenting it (or the
reverse) fails here.  test_events.py checks what the daemon writes
against the schema."""
import json
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SECEVENT_H = os.path.join(ROOT, "src", "obs", "secevent.h")
SECEVENT_C = os.path.join(ROOT, "src", "obs", "secevent.c")
EVENTS_MD = os.path.join(ROOT, "docs", "events.md")
SCHEMA_PATH = os.path.join(ROOT, "docs", "events.schema.json")

SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info",
              "debug"]
# the hundreds of the IDs (secevent.h enum secevent_class)
CLASSES = {"SIGNALING": "signaling", "AUTH": "auth",
           "PROTECTION": "protection", "FRAUD": "fraud", "MEDIA": "media",
           "TLS": "tls", "ADMIN": "admin", "SYSTEM": "system"}
CLASS_OF_HUNDRED = {1: "signaling", 2: "auth", 3: "protection", 4: "fraud",
                    5: "media", 6: "tls", 7: "admin", 8: "system"}

_X = re.compile(r'^\s*X\(\s*([A-Z0-9_]+)\s*,\s*(\d+)\s*,\s*"([^"]+)"\s*,'
                r'\s*(\d)\s*,\s*([A-Z]+)\s*,\s*([A-Z_|0 ]+?)\s*\)', re.M)


def secevent_types():
    """[(name, id, sev name, class, limited)] from the X-macro table of
    secevent.h, in table order."""
    with open(SECEVENT_H) as f:
        text = f.read()
    m = re.search(r"#define SECEVENT_TYPES\(X\)(.*?)\n\s*\n", text, re.S)
    assert m, "no SECEVENT_TYPES table in " + SECEVENT_H
    body = m.group(1)
    rows = [(name, int(id_), SEVERITIES[int(sev)], CLASSES[cls],
             "SECEV_F_UNLIMITED" not in flags)
            for _, id_, name, sev, cls, flags in _X.findall(body)]
    # every X( line was understood
    assert len(rows) == body.count("X("), "unparsed X() rows in " + SECEVENT_H
    assert rows, SECEVENT_H
    return rows


def reserved_fields():
    """The schema's own field names (secevent.c secevent_reserved[])."""
    with open(SECEVENT_C) as f:
        text = f.read()
    m = re.search(r"secevent_reserved\[\]\s*=\s*\{(.*?)\};", text, re.S)
    assert m, SECEVENT_C
    return re.findall(r'"([a-z_]+)"', m.group(1))


_ROW = re.compile(r"^\| (\d{3}) \| `([a-z_.]+)` \| ([a-z]+) \((\d)\) \| "
                  r"(yes|no) \| (.*?) \|", re.M)


def doc_types():
    """{name: (id, sev, limited, row text)} from docs/events.md."""
    with open(EVENTS_MD) as f:
        text = f.read()
    out = {}
    for id_, name, sev, num, lim, rest in _ROW.findall(text):
        assert SEVERITIES[int(num)] == sev, (name, sev, num)
        assert name not in out, "%s twice in docs/events.md" % name
        out[name] = (int(id_), sev, lim == "yes", rest)
    return out


def load_schema():
    with open(SCHEMA_PATH) as f:
        return json.load(f)


def schema_types(schema):
    """{name: per-type schema} of docs/events.schema.json."""
    return schema["$defs"]["types"]


def example_line():
    """The example under "## A line" in docs/events.md."""
    with open(EVENTS_MD) as f:
        text = f.read()
    m = re.search(r"## A line\s+```json\n(.*?)\n```", text, re.S)
    assert m, "no example line in docs/events.md"
    return m.group(1)


def validator():
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft202012Validator(
        load_schema(), format_checker=jsonschema.FormatChecker())


def test_schema_is_valid_draft_2020_12():
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.Draft202012Validator.check_schema(load_schema())


def test_documented_example_line_is_valid():
    errs = list(validator().iter_errors(json.loads(example_line())))
    assert not errs, [e.message for e in errs]


@pytest.mark.parametrize("change", [
    ("extra field nobody documented", {"frobnicate": 1}),
    ("the severity of another type", {"sev": "info"}),
    ("an ID no type has", {"id": 999}),
    ("the ID of another type", {"id": 203}),
    ("a type nobody documented", {"type": "auth.maybe"}),
    ("a reason outside the closed set", {"reason": "bad password"}),
    ("src that is not an address", {"src": "example.com"}),
    ("a port out of range", {"sport": 70000}),
    ("a timestamp without milliseconds", {"ts": "2026-11-26T17:25:33Z"}),
    ("an unknown transport", {"transport": "sctp"}),
    ("a string where an int goes", {"status": "401"}),
    ("null for an absent field", {"account": None}),
    ("schema version 2", {"v": 2}),
], ids=lambda c: c[0])
def test_schema_rejects(change):
    ev = json.loads(example_line())
    ev.update(change[1])
    assert list(validator().iter_errors(ev)), "accepted: %s" % change[0]


@pytest.mark.parametrize("field", ["reason", "src", "method", "ts", "sev"])
def test_schema_rejects_a_missing(field):
    ev = json.loads(example_line())
    del ev[field]
    assert list(validator().iter_errors(ev)), "accepted without " + field


def test_schema_lets_a_truncated_event_go_without_its_extras():
    ev = {"v": 1, "ts": "2026-11-26T17:25:33.123Z", "id": 100,
          "type": "sip.malformed", "class": "signaling", "sev": "warning",
          "node": "n", "src": "192.0.2.1", "sport": 5060,
          "transport": "udp", "listener": "udp:192.0.2.2:5060",
          "zone": "internet", "reason": "Bad CSeq", "truncated": True}
    assert not list(validator().iter_errors(ev))
    del ev["truncated"]
    assert list(validator().iter_errors(ev)), "offset/length/sample missing"


def test_c_table_is_sane():
    rows = secevent_types()
    names = [r[0] for r in rows]
    ids = [r[1] for r in rows]
    assert len(set(names)) == len(names)
    assert len(set(ids)) == len(ids)
    for name, id_, sev, cls, _ in rows:
        assert re.fullmatch(r"[a-z]+(\.[a-z_]+)+", name), name
        assert len(name) <= 32, name
        assert 100 <= id_ <= 899, (name, id_)
        assert CLASS_OF_HUNDRED[id_ // 100] == cls, (name, id_, cls)


def test_docs_list_exactly_the_types_of_the_code():
    code = {r[0]: r for r in secevent_types()}
    docs = doc_types()
    assert sorted(set(code) - set(docs)) == [], \
        "in src/obs/secevent.h but not documented in docs/events.md"
    assert sorted(set(docs) - set(code)) == [], \
        "documented in docs/events.md but not in src/obs/secevent.h"
    for name, (_, id_, sev, _, limited) in code.items():
        d_id, d_sev, d_lim, _ = docs[name]
        assert (d_id, d_sev, d_lim) == (id_, sev, limited), (
            name, "docs/events.md says id %d sev %s lim %s; the code %d %s "
            "%s" % (d_id, d_sev, d_lim, id_, sev, limited))


def test_schema_lists_exactly_the_types_of_the_code():
    schema = load_schema()
    code = {r[0]: r for r in secevent_types()}
    types = schema_types(schema)
    assert sorted(set(code) - set(types)) == [], \
        "in src/obs/secevent.h but not in docs/events.schema.json"
    assert sorted(set(types) - set(code)) == [], \
        "in docs/events.schema.json but not in src/obs/secevent.h"
    assert schema["properties"]["type"]["enum"] == list(code), \
        "the schema's type enum is not the C table (in its order)"
    assert sorted(schema["properties"]["id"]["enum"]) == sorted(
        r[1] for r in code.values())
    # one dispatch entry per type, pointing at its definition
    refs = {}
    for entry in schema["allOf"]:
        t = entry["if"]["properties"]["type"]["const"]
        refs[t] = entry["then"]["$ref"]
    assert refs == {t: "#/$defs/types/" + t for t in code}
    for name, (_, id_, sev, cls, limited) in code.items():
        props = types[name]["properties"]
        assert props["id"] == {"const": id_}, name
        assert props["sev"] == {"const": sev}, name
        assert props["class"] == {"const": cls}, name
        assert types[name]["x-rate-limited"] is limited, name


def test_schema_envelope_matches_the_code():
    """The common fields of the schema are secevent.c's reserved names,
    and the enums of sev and class are the code's."""
    schema = load_schema()
    props = schema["properties"]
    assert sorted(set(props) - {"sample"}) == sorted(
        set(reserved_fields()) - {"sample"})
    assert props["sev"]["enum"] == SEVERITIES
    assert props["class"]["enum"] == list(CLASSES.values())
    assert props["v"] == {"const": 1}
    assert set(schema["required"]) == {"v", "ts", "id", "type", "class",
                                       "sev"}


def test_every_extra_field_is_documented_with_its_type():
    """An extra field the schema knows for a type is named in that
    type's row of docs/events.md, and never collides with a common
    field."""
    schema = load_schema()
    docs = doc_types()
    common = set(schema["properties"])
    problems = []
    for name, t in schema_types(schema).items():
        row = docs[name][3]
        for field in t["properties"]:
            if field in ("id", "sev", "class") or field in common:
                continue
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", field):
                problems.append("%s: bad extra name %s" % (name, field))
            if "`%s`" % field not in row:
                problems.append("%s: extra `%s` not in its docs row" % (
                    name, field))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", [r[0] for r in secevent_types()])
def test_documented_example_reasons_are_in_the_schema(name):
    """Where the schema closes the set of reasons of a type, the reasons
    its docs row names (`reason` `x` `y` ...) are among them."""
    schema = load_schema()
    t = schema_types(schema)[name]
    enum = t["properties"].get("reason", {}).get("enum")
    if enum is None:
        return                  # an open set of reasons
    row = doc_types()[name][3]
    for m in re.finditer(r"`reason`[:,]? ((?:`[a-z_]+`[ ,]*(?:or )?)+)", row):
        # "... `call.ended` with `reason` `x`": another type's reason
        if re.search(r"`[a-z]+\.[a-z_]+`[^`]{0,20}$", row[:m.start()]):
            continue
        for r in re.findall(r"`([a-z_]+)`", m.group(1)):
            assert r in enum, "%s: docs name reason %s, the schema " \
                "does not" % (name, r)
