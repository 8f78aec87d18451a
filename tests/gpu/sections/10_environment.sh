# tests/gpu/sections/10_environment.sh — what machine this is (sourced by
# tests/gpu/run.sh). Sets GPU_DRIVER (yes, simulated or no) for later sections.
section "Machine"
GPU_DRIVER=no
if command -v nvidia-smi >/dev/null 2>&1; then
    bounded 30 nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    note "nvidia-smi: $(head -n 3 "$GPU_WORK/last.out" | tr '\n' ';')"
else
    note "nvidia-smi: not found"
fi
if [ "${GPU_SIMULATE:-0}" = 1 ]; then
    GPU_DRIVER=simulated
    note "libcuda.so.1: SIMULATED ($LD_LIBRARY_PATH) — a rehearsal, not a GPU run"
elif ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
    GPU_DRIVER=yes
    note "libcuda.so.1: $(ldconfig -p | grep 'libcuda\.so\.1 ' | head -n 1 | sed 's/.*=> //')"
else
    note "libcuda.so.1: not in the loader cache"
fi
note "toolkit: $CUDA ($(ls "$CUDA"/lib64/libcudart.so.* 2>/dev/null | head -n 1))"
note "compiler: $(cc --version 2>/dev/null | head -n 1)"
note "python: $PYTHON"
if [ "$GPU_DRIVER" != no ]; then
    record "driver present" pass
else
    record "driver present" fail "no libcuda.so.1: the workload sections will fail"
fi
export GPU_DRIVER
