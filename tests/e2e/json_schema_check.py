#!/usr/bin/python3
"""json_schema_check.py -- every key of real JSON reports is in docs/json-schema.md.

  json_schema_check.py DOC SOURCES... -- REPORT.json...

Walks each report and names every key by its path (`processes[].pid`,
`summary.calls.*` for the per-function counts). Each path must be a row of
DOC's table (an array of objects needs only the array's row and its
keys' rows), and the type it has in the report (object, array, string,
integer, number, boolean, null) one of the types that row gives. Each row's
last key must still be written by one of SOURCES (a quoted "name" there),
so a key renamed in the code cannot stay documented under its old name.

Prints one line per problem; exit 0 when there is none, 1 otherwise.
Must never: accept a report key because it looks like a documented one.
"""
import json
import re
import sys

args = sys.argv[1:]
sep = args.index("--")
doc, sources, reports = args[0], args[1:sep], args[sep + 1:]
TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")

documented = {}
for line in open(doc, encoding="utf-8"):
    m = re.match(r"\| `([^`]+)` \| ([a-z ]+) \|", line)
    if m:
        documented[m.group(1)] = {t for t in m.group(2).split() if t in TYPES}


def type_name(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    return {dict: "object", list: "array", str: "string", float: "number",
            type(None): "null"}[type(v)]


emitted = {}


def walk(v, path):
    if path:
        emitted.setdefault(path, set()).add(type_name(v))
    if isinstance(v, dict):
        for k, x in v.items():
            name = "*" if path == "summary.calls" else k
            walk(x, path + "." + name if path else name)
    elif isinstance(v, list):
        for x in v:
            walk(x, path + "[]")


for r in reports:
    walk(json.load(open(r, encoding="utf-8")), "")

problems = []
for path in sorted(emitted):
    if path.endswith("[]") and emitted[path] == {"object"} and documented.get(path[:-2]) == {"array"}:
        continue  # an array of objects: its row and its keys' rows say it all
    if path not in documented:
        problems.append("%s (%s) is emitted but not in %s" % (path, "/".join(sorted(emitted[path])), doc))
    elif not emitted[path] <= documented[path]:
        problems.append("%s is emitted as %s, %s says %s" % (
            path, "/".join(sorted(emitted[path])), doc, " or ".join(sorted(documented[path]))))

code = "".join(open(s, encoding="utf-8").read() for s in sources)
for path in documented:
    last = re.split(r"[.\[\]]+", path.replace("[]", ""))[-1]
    if last != "*" and '"%s"' % last not in code:
        problems.append("%s is documented but no source writes \"%s\"" % (path, last))

if not documented:
    problems.append("no key table found in %s" % doc)
for p in problems:
    print("FAIL: " + p)
if not problems:
    print("ok: %d key paths emitted by %d reports, all in %s (%d documented)" % (
        len(emitted), len(reports), doc, len(documented)))
sys.exit(1 if problems else 0)
