#!/usr/bin/env python3
# tools/check_layout.py — the analyzer's stages only read the stages before
# them.
#
# What it is for: analysis/ is split into one folder per stage, in the
# order data flows (records -> replay -> model -> findings -> grouping ->
# output); a file may include headers of its own stage and of earlier ones,
# never of a later one. `make lint` and tests/e2e/0A_layout.sh run it; it
# prints each include that goes the wrong way and exits 1.
#
# What it must never do: change a file.
import os
import re
import sys

# Stage folders in data-flow order; analysis/analyze.[ch] (the pipeline that
# runs the stages and the result it fills) sits with grouping.
STAGES = ["base", "input", "replay", "stacks", "model", "attribute", "group", "output", "cli"]
ROOT_RANK = STAGES.index("group")


def rank(path):
    parts = path.split("/")
    if len(parts) == 2:
        return ROOT_RANK if parts[1] in ("analyze.c", "analyze.h") else None
    return STAGES.index(parts[1]) if parts[1] in STAGES else None


def main():
    bad = 0
    include = re.compile(r'#include "(analysis/[a-z_/]+\.h)"')
    for folder, _, names in os.walk("analysis"):
        for name in sorted(names):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(folder, name)
            own = rank(path)
            if own is None:
                print("%s: in no stage folder (one of %s)" % (path, " ".join(STAGES)))
                bad += 1
                continue
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = include.search(line)
                    if m and (rank(m.group(1)) is None or rank(m.group(1)) > own):
                        print("%s:%d: includes %s, a later stage" % (path, lineno, m.group(1)))
                        bad += 1
    if bad:
        print("analysis layout: %d include(s) against the data flow" % bad)
        return 1
    print("analysis layout: every include reads its own or an earlier stage")
    return 0


if __name__ == "__main__":
    sys.exit(main())
