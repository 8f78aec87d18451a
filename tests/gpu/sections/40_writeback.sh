# tests/gpu/sections/40_writeback.sh — the seed scenario (docs/design.md) on the real
# driver, C and Python, every --bug mode but hang, each with --timeout so
# nothing can block (sourced by tests/gpu/run.sh). The expected exit status is
# what the simulator gives; a difference is reported with the output's end.
section "writeback scenario on the real driver"
# The exit status the simulator gives for MODE. Querying a destroyed event or
# a foreign address is undefined behaviour on a real driver: an H100 with
# driver 580 returned 201 or 709 for some and crashed (SIGSEGV, exit 139) on
# others, so a crash is an accepted outcome there.
gpu_expected_rc() {
    case $1 in
    none | leak | stale-stream) echo 0 ;;
    reuse-inflight) echo 2 ;;
    shared-destroy | foreign-handle) echo "3 139" ;;
    *) echo 3 ;;
    esac
}
for impl in c python; do
    if [ "$impl" = python ] && [ -z "$PYTHON" ]; then
        record "writeback.py" skip "no python3"
        continue
    fi
    for mode in none leak shared-destroy foreign-handle watcher-dies reuse-inflight stale-stream; do
        extra=""
        [ "$mode" = reuse-inflight ] && extra="--work-us=20000"
        if [ "$impl" = c ]; then
            # shellcheck disable=SC2086
            check "writeback --bug=$mode" "$(gpu_expected_rc $mode)" \
                "$BUILD/workloads/writeback" --bug=$mode --timeout=5 $extra
        else
            # shellcheck disable=SC2086
            check "writeback.py --bug=$mode" "$(gpu_expected_rc $mode)" \
                "$PYTHON" tests/workloads/writeback.py --bug=$mode --timeout=5 $extra
        fi
        note "$(checksum_line)"
        grep '^watcher:\|^timeout\|result=[1-9]' "$GPU_WORK/last.out" | head -n 4 | sed 's/^/      | /'
    done
done
