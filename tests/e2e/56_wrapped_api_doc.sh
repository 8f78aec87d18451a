#!/bin/sh
# 56_wrapped_api_doc.sh — docs/wrapped-api.md lists every row of shim/api.def
# with why it is wrapped (issue 12): regenerating it from the table must give
# the committed file, and every base name must have a reason.
set -u
PYTHON=${PYTHON:-python3}
"$PYTHON" docs/gen_wrapped_api.py --check || exit 1
