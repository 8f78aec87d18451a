#!/bin/sh
# bench/run.sh — `make bench`: every benchmark section, one after another,
# each printing its own table with the targets beside the figures:
#   bench/percall.sh   per-call cost (null driver), the floor here, trace bytes, spin compression
#   bench/batch_trace.sh  taking trace slots: per-thread batches vs one shared atomic
#   bench/read_trace.sh   reading a batched trace: merged order vs slot order
#   bench/stacks.sh    added cost of call stacks per create/destroy and per query
#   bench/wholerun.sh  whole-run wall-time ratio traced/untraced (simulator)
#   bench/analyzer.sh  analyzer throughput and peak RSS (10M and 50M records)
#   bench/chain.sh     analyzer cost on chained cross-stream waits (S=2000..8000)
# Timing never fails the bench: only a missing product or a crashed run
# makes it exit non-zero. About 3-5 minutes on 2 cores.
set -u
cd "$(dirname "$0")/.." || exit 1
status=0
echo "machine: $(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
echo
sh bench/percall.sh || status=1
echo
sh bench/batch_trace.sh || status=1
echo
sh bench/read_trace.sh || status=1
echo
sh bench/stacks.sh || status=1
echo
sh bench/wholerun.sh || status=1
echo
sh bench/analyzer.sh || status=1
echo
sh bench/chain.sh || status=1

exit $status
