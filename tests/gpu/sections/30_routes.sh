# tests/gpu/sections/30_routes.sh — each route workload on the real driver
# (and, for `runtime`, the real libcudart): exit 0 and the data computed on
# the host came back (sourced by tests/gpu/run.sh).
section "Route workloads on the real driver"
# The toolkit's libcudart goes last on the search path: found when the loader
# cache lacks it, never ahead of a libcudart already on LD_LIBRARY_PATH.
GPU_RUNTIME_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$CUDA/lib64
for route in direct dlsym procaddr "procaddr --per-thread" runtime; do
    # shellcheck disable=SC2086 # route may carry an option
    check "$route" 0 env LD_LIBRARY_PATH="$GPU_RUNTIME_PATH" "$BUILD"/workloads/$route
    note "$route: $(checksum_line) calls=$(grep -c '^call ' "$GPU_WORK/last.out")"
    grep '^error\|^spin' "$GPU_WORK/last.out" | head -n 5 | sed 's/^/      | /'
done
