"""attrib_check.py -- assertions on a `cuguard report --format json` document
for the attribution tests (tests/e2e/4A_*.sh .. 4Z_*.sh).

Usage: attrib_check.py REPORT.json EXPECT...
  EXPECT is KIND=SITE_REGEX[@COUNT[/TASKS]]: exactly one unsuppressed finding
  of KIND whose `site` matches SITE_REGEX (full match), with `count` COUNT
  and `tasks` TASKS when given, and a `stack` whose `site_frame` frame is
  the user's (not checked when EXPECT ends with "#nostack": a trace taken
  without stacks); "KIND=!" means no finding of KIND at all.
Prints one line per problem; exit 0 when all hold.

Must never: pass on an empty or unreadable report.
"""
import json
import re
import sys


def check(doc, expect, problems):
    kind, _, rest = expect.partition("=")
    found = [f for f in doc["findings"] if f["kind"] == kind]
    if rest == "!":
        if found:
            problems.append("%s: expected none, got %s" % (kind, [f["site"] for f in found]))
        return
    nostack = rest.endswith("#nostack")
    if nostack:
        rest = rest[: -len("#nostack")]
    site_re, _, numbers = rest.partition("@")
    count, _, tasks = numbers.partition("/")
    if len(found) != 1:
        problems.append("%s: expected one finding, got %d: %s"
                        % (kind, len(found), [(f["site"], f["count"]) for f in found]))
        return
    f = found[0]
    if not re.fullmatch(site_re, f["site"] or ""):
        problems.append("%s: site %r does not match %r" % (kind, f["site"], site_re))
    if count and f["count"] != int(count):
        problems.append("%s: count %d, want %s" % (kind, f["count"], count))
    if tasks and f["tasks"] != int(tasks):
        problems.append("%s: tasks %d, want %s" % (kind, f["tasks"], tasks))
    if not re.fullmatch(r"[0-9a-f]{16}", f.get("fingerprint") or ""):
        problems.append("%s: bad fingerprint %r" % (kind, f.get("fingerprint")))
    i = f.get("site_frame")
    if nostack:
        if f["stack"]:
            problems.append("%s: a stack where none was taken" % kind)
    elif i is None or not f["stack"][i]["user"]:
        problems.append("%s: site_frame %r is not a user frame" % (kind, i))


def main():
    with open(sys.argv[1]) as report:
        doc = json.load(report)
    if doc.get("format") != "cuguard-report":
        print("not a cuguard report")
        return 1
    problems = []
    for expect in sys.argv[2:]:
        check(doc, expect, problems)
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
