# tests/gpu/sections/50_cuguard_routes.sh — every route workload under
# `cuguard run` on the real driver (sourced by tests/gpu/run.sh).
#
# For direct, dlsym, procaddr (with and without --per-thread) and runtime
# (real libcudart): the workload still succeeds, and `cuguard dump` shows each
# lifecycle call the workload printed exactly once, with its handles and
# result (tests/e2e/routes_check.py, as in `make test`). What the real cudart
# calls underneath may differ from the simulator's; a mismatch is shown.
section "cuguard: route workloads traced on the real driver"
check "make libcuguard.so cuguard" 0 make --no-print-directory "$BUILD/libcuguard.so" \
    "$BUILD/cuguard"
GPU_RUNTIME_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$CUDA/lib64
for route in direct dlsym procaddr "procaddr --per-thread" runtime; do
    cg_route=$(echo "$route" | tr -c 'a-z\n' '-') # check() sets $name
    cg_dir="$GPU_WORK/trace-$cg_route"
    cg_flags=""
    [ "$route" = runtime ] && cg_flags=--runtime
    [ "$route" = "procaddr --per-thread" ] && cg_flags=--per-thread
    # shellcheck disable=SC2086 # route may carry an option
    check "cuguard run -- $route" 0 env LD_LIBRARY_PATH="$GPU_RUNTIME_PATH" \
        "$BUILD/cuguard" run --no-report --dir "$cg_dir" -- "$BUILD"/workloads/$route
    cp "$GPU_WORK/last.out" "$GPU_WORK/$cg_route.out"
    grep '^cuguard:' "$GPU_WORK/$cg_route.out" | head -n 3 | sed 's/^/      | /'
    bounded 60 "$BUILD/cuguard" dump "$cg_dir"
    cp "$GPU_WORK/last.out" "$GPU_WORK/$cg_route.dump"
    # shellcheck disable=SC2086
    check "dump matches $route" 0 "$PYTHON" tests/e2e/routes_check.py $cg_flags \
        "$GPU_WORK/$cg_route.out" "$GPU_WORK/$cg_route.dump"
    note "$(tail -n 1 "$GPU_WORK/last.out")"
done
