#!/usr/bin/python3
"""pytest_plugin_check.py -- the checks of tests/e2e/57_pytest_plugin.sh (issue
14) on what pytest printed with cuguard's plugin loaded, its JUnit XML and
`cuguard report` output.

Usage: pytest_plugin_check.py CHECK ARGS...   (exit 0 = pass, 1 = fail)
  section  PYTEST_OUT WANT_JSON [SELECTION]  the cuguard section names exactly the
                                             wanted tests, by the ids pytest printed
  live     PYTEST_OUT WANT_JSON KINDS        tests with a planted KIND (comma list)
                                             error at teardown with the finding, no other
  junit    XML WANT_JSON                     one cuguard property per finding, on the
                                             wanted test cases only
  workers  REPORT_JSON REPORT_TEXT           every trace is labelled gwN, and the text
                                             report names workers by label

WANT_JSON maps node ids (rootdir-relative, as tests/workloads/pytest_writeback's
manifest writes them) to {"planted": [KIND...] or null, "allowed": [KIND...],
"markers": [...]}; SELECTION is 'bugs' (default: every planted test without the
repro and sigkill markers) or 'correct' (no test may be named).

Must never: hard-code the directory prefix pytest prints (ids are matched to
what pytest printed for its own test lines), or crash on bad input (one FAIL).
"""
import json
import re
import sys
import xml.etree.ElementTree as ET

HEADER = re.compile(r"^=+ cuguard: (\d+) errors?, (\d+) warnings? =+$")
FINDING = re.compile(r"^    (error|warning) ([a-z.-]+)( x\d+)? at (.+?)( \[gw\d+\])?$")
OUTCOME = re.compile(r"\b(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def ok(message):
    print("ok: " + message)


def load(path):
    with open(path) as handle:
        return json.load(handle)


def printed_ids(lines):
    """The node ids pytest printed on its own per-test lines (-v)."""
    ids = set()
    for line in lines:
        if OUTCOME.search(line) and not line.startswith(("ERROR at", "_")):
            ids.update(word for word in line.split() if "::" in word)
    return ids


def as_printed(test, printed):
    """The id pytest printed for manifest id `test` (a path suffix of it)."""
    match = [p for p in printed if p == test or p.endswith("/" + test)]
    return match[0] if len(match) == 1 else None


def parse_section(lines):
    """{printed id: [(severity, kind, count, location, worker)]} and the header counts."""
    start = [i for i, line in enumerate(lines) if HEADER.match(line)]
    if len(start) != 1:
        fail("want one cuguard section header, found %d" % len(start))
        return None, None
    counts = tuple(int(n) for n in HEADER.match(lines[start[0]]).groups())
    section, test = {}, None
    for line in lines[start[0] + 1:]:
        if line.startswith("SUMMARY: cuguard:"):
            return section, counts
        finding = FINDING.match(line)
        if finding and test is not None:
            section[test].append(finding.groups())
        elif not line.startswith(" "):
            test = line.strip()
            section.setdefault(test, [])
        else:
            fail("unexpected line in the cuguard section: %r" % line)
    fail("the cuguard section has no SUMMARY line")
    return section, counts


def wanted(want, selection):
    return {test: entry for test, entry in want.items()
            if entry.get("planted") is not None and selection == "bugs" and
            not {"repro", "sigkill"} & set(entry.get("markers", []))}


def check_section(out_path, want_path, selection="bugs"):
    with open(out_path, errors="replace") as out:
        lines = out.read().splitlines()
    want = load(want_path)
    section, counts = parse_section(lines)
    if section is None:
        return
    printed = printed_ids(lines)
    expected = {}
    for test, entry in wanted(want, selection).items():
        shown = as_printed(test, printed)
        if shown is None:
            fail("pytest printed no single line for %s" % test)
        else:
            expected[shown] = entry
    for test, findings in sorted(section.items()):
        if test not in printed:
            fail("section names %r, which is not a node id pytest printed" % test)
        if test not in expected:
            fail("section names a test with no planted bug: %s %r" % (test, findings))
            continue
        kinds = {kind for _, kind, _, _, _ in findings}
        entry = expected[test]
        missing = set(entry["planted"]) - kinds
        extra = kinds - set(entry["planted"]) - set(entry.get("allowed", []))
        if missing or extra:
            fail("%s: want %s, section has %s" % (test, sorted(entry["planted"]), sorted(kinds)))
        elif any(location.startswith("?") for _, _, _, location, _ in findings):
            fail("%s: a finding without location: %r" % (test, findings))
        else:
            ok("%s: %s at %s" % (test, ", ".join(sorted(kinds)),
                                 "; ".join(loc for _, _, _, loc, _ in findings)))
    for test in sorted(set(expected) - set(section)):
        fail("section does not name planted test %s" % test)
    if selection == "correct" and counts != (0, 0):
        fail("correct run: header counts %r, want 0 errors, 0 warnings" % (counts,))
    if not failures:
        ok("section: %d errors, %d warnings on exactly the %d planted tests"
           % (counts[0], counts[1], len(expected)))


def check_live(out_path, want_path, kinds):
    with open(out_path, errors="replace") as out:
        text = out.read()
    live = set(kinds.split(","))
    want = load(want_path)
    for test, entry in sorted(want.items()):
        name = test.split("::")[-1]
        block = re.search(r"_+ ERROR at teardown of %s _+\n(.*?)\n" % re.escape(name), text)
        planted = set(entry.get("planted") or []) & live
        if planted and not block:
            fail("%s planted %s but did not error at teardown" % (test, sorted(planted)))
        elif planted and not any(block.group(1).startswith("cuguard: error %s at " % kind)
                                 for kind in planted):
            fail("%s: teardown error is not the finding: %r" % (test, block.group(1)))
        elif not planted and block:
            fail("%s errored at teardown without a live error: %r" % (test, block.group(1)))
        elif planted:
            ok("%s errors at teardown: %s" % (test, block.group(1)[:110]))


def check_junit(xml_path, want_path):
    want = wanted(load(want_path), "bugs")
    by_name = {test.split("::")[-1]: entry for test, entry in want.items()}
    cases = list(ET.parse(xml_path).iter("testcase"))
    if not cases:
        fail("no test case in %s" % xml_path)
    for case in cases:
        values = [p.get("value") for p in case.iter("property") if p.get("name") == "cuguard"]
        entry = by_name.get(case.get("name"))
        if entry is None:
            if values:
                fail("correct test case %s has cuguard properties %r" % (case.get("name"), values))
            continue
        kinds = [v.split()[1] for v in values if len(v.split()) > 2]
        if len(values) != len(set(values)):
            fail("%s: a cuguard property twice: %r" % (case.get("name"), values))
        if set(kinds) - set(entry["planted"]) - set(entry.get("allowed", [])) or \
                set(entry["planted"]) - set(kinds):
            fail("%s: properties %r, want kinds %r" % (case.get("name"), values, entry["planted"]))
        else:
            ok("junit %s: %s" % (case.get("name"), "; ".join(values)))


def check_workers(report_path, text_path):
    report = load(report_path)
    labels = [p.get("label") for p in report["processes"]]
    if not labels or not all(re.fullmatch(r"gw\d+", label or "") for label in labels) or \
            len(set(labels)) != len(labels):
        fail("want one distinct gwN label per trace, got %r" % labels)
    else:
        ok("traces labelled %s" % ", ".join(sorted(labels)))
    with open(text_path, errors="replace") as text:
        report_text = text.read()
    label = {p["pid"]: p.get("label") for p in report["processes"]}
    shown = re.findall(r"^  process    pid (\d+) (\S+)", report_text, re.M)
    if not shown:
        fail("the text report names no process")
    for pid, name in shown:
        if label.get(int(pid)) != name:
            fail("text report names pid %s %r, its label is %r" % (pid, name, label.get(int(pid))))
    if "exec(eval(" in report_text:
        fail("the text report still shows execnet's command line")


def main(argv):
    checks = {"section": (check_section, 2, 3), "live": (check_live, 3, 3),
              "junit": (check_junit, 2, 2), "workers": (check_workers, 2, 2)}
    if len(argv) < 2 or argv[1] not in checks or \
            not checks[argv[1]][1] <= len(argv) - 2 <= checks[argv[1]][2]:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    try:
        checks[argv[1]][0](*argv[2:])
    except (OSError, ValueError, KeyError, TypeError, IndexError, ET.ParseError) as error:
        fail("%s: unreadable input: %s: %s" % (argv[1], type(error).__name__, error))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
