# tests/gpu/sections/80_percall.sh — per-call cost on the real driver, with
# and without the shim (issue 8), sourced by tests/gpu/run.sh.
#
# build/bench/percall against the machine's own libcuda: direct, shim loaded
# but idle, and tracing. Prints the medians side by side; timing never fails
# a check (only a crash or a failed call does).
section "per-call cost on the real driver (shim vs none)"
check "make bench/percall" 0 make --no-print-directory "$BUILD/bench/percall" \
    "$BUILD/libcuguard.so"
cg_shim=$PWD/$BUILD/libcuguard.so
for cg_op in query record create-destroy hostalloc-free; do
    cg_calls=20000
    [ "$cg_op" = hostalloc-free ] && cg_calls=200
    for cg_mode in direct idle trace; do
        case $cg_mode in
        direct) cg_env="" ;;
        idle) cg_env="LD_PRELOAD=$cg_shim" ;;
        trace) cg_env="LD_PRELOAD=$cg_shim CUGUARD_DIR=$GPU_WORK/percall-trace" ;;
        esac
        # shellcheck disable=SC2086 # cg_env is a list of assignments
        bounded 120 env $cg_env "$BUILD/bench/percall" "$cg_op" 1 "$cg_calls" 5
        if [ "$rc" -eq 0 ]; then
            note "$cg_mode: $(tail -n 1 "$GPU_WORK/last.out") (op threads median_ns min_ns)"
        else
            record "percall $cg_op $cg_mode" fail "exit $rc"
            tail_output 5
        fi
    done
done
record "percall ran on the real driver" pass
