# tests/gpu/sections/20_build.sh — builds the workloads with the ordinary
# toolkit (headers, stub libcuda for linking, real libcudart) (sourced by
# tests/gpu/run.sh).
section "Build the workloads against the real toolkit"
GPU_WORKLOADS="direct dlsym procaddr runtime writeback"
for workload in $GPU_WORKLOADS; do
    check "make $BUILD/workloads/$workload" 0 make --no-print-directory "$BUILD/workloads/$workload"
done
