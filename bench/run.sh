#!/bin/sh
# bench/run.sh — `make bench`: every benchmark section, one after another.
# Sections: analyzer throughput (bench/analyzer.sh). Later sections (per-call
# cost of the shim, trace size) add their own line here.
set -u
cd "$(dirname "$0")/.." || exit 1
status=0
sh bench/analyzer.sh || status=1
exit $status
