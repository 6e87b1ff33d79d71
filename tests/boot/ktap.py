"""KTAP (the kernel's test output format, docs/serial.md): parse the
top-level documents in a log and list why a run is not complete and
all-passing. Used on serial logs, unit-test output and our own output."""

import re
from dataclasses import dataclass, field

_KTAP_HEADER = re.compile(r"^KTAP version 1\s*$")
_KTAP_PLAN = re.compile(r"^1\.\.(\d+)\s*$")
_KTAP_RESULT = re.compile(r"^(ok|not ok) (\d+)(?: (?:- )?([^#]*?))?\s*(?:#\s*(.*?))?\s*$")
_KTAP_BAIL = re.compile(r"^Bail out!(.*)$")


@dataclass
class KtapResult:
    ok: bool
    number: int
    name: str
    directive: str      # text after '#': the reason, or "SKIP ..."


@dataclass
class KtapDocument:
    plan: int = None
    results: list = field(default_factory=list)
    bailed: str = None


def parse_ktap(text):
    """Top-level KTAP documents in text. Lines of other output may be mixed
    in (the kernel logs too); indented lines are subtests and belong to
    their parent's result, so only unindented lines are read."""
    docs = []
    for line in text.splitlines():
        if _KTAP_HEADER.match(line):
            docs.append(KtapDocument())
            continue
        if not docs:
            continue
        doc = docs[-1]
        m = _KTAP_PLAN.match(line)
        if m and doc.plan is None:
            doc.plan = int(m.group(1))
            continue
        m = _KTAP_RESULT.match(line)
        if m:
            doc.results.append(KtapResult(m.group(1) == "ok", int(m.group(2)),
                                          (m.group(3) or "").strip(), m.group(4) or ""))
            continue
        m = _KTAP_BAIL.match(line)
        if m:
            doc.bailed = m.group(1).strip() or "(no reason)"
    return docs


def ktap_problems(text):
    """Reasons the KTAP in text is not a complete, all-passing run."""
    docs = parse_ktap(text)
    if not docs:
        return ["no 'KTAP version 1' line in the serial log"]
    problems = []
    for i, doc in enumerate(docs, 1):
        where = f"KTAP document {i}" if len(docs) > 1 else "KTAP"
        if doc.bailed is not None:
            problems.append(f"{where}: Bail out! {doc.bailed}")
        if doc.plan is None:
            problems.append(f"{where}: no plan line '1..N'")
        elif doc.plan != len(doc.results):
            problems.append(f"{where}: plan says 1..{doc.plan} but {len(doc.results)} results were printed")
        for expected, r in enumerate(doc.results, 1):
            if r.number != expected:
                problems.append(f"{where}: result {expected} is numbered {r.number}")
                break
        for r in doc.results:
            if not r.ok:
                problems.append(f"{where}: not ok {r.number} {r.name}" + (f" # {r.directive}" if r.directive else ""))
        if doc.plan == 0:
            problems.append(f"{where}: plan 1..0, no tests ran")
    return problems
