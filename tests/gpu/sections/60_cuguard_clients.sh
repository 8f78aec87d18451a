# tests/gpu/sections/60_cuguard_clients.sh — real CUDA clients under
# `cuguard run` (sourced by tests/gpu/run.sh, after 50_cuguard_routes.sh).
#
# Short numba-cuda, CuPy and PyTorch snippets; each must exit 0 and its trace
# must show the lifecycle calls the snippet necessarily makes (events created,
# recorded, queried or synchronized; a stream created; pinned memory
# allocated; an async device-to-host copy). A client that is not installed is
# skipped. numba-cuda runs twice: with its ctypes binding (dlsym route) and,
# when cuda-python is installed, with NVIDIA's binding (cuGetProcAddress).
section "cuguard: real clients (numba-cuda, CuPy, PyTorch)"

# client NAME "APIS" SNIPPET [VAR=VALUE...] — run SNIPPET traced, then
# require every API of APIS (alternatives joined by |) among the dump's
# call/exit/spin lines.
client() {
    cg_client=$1 cg_apis=$2 cg_snippet=$3 # check() sets $name
    shift 3
    cg_dir="$GPU_WORK/client-$cg_client"
    check "cuguard run -- $cg_client" 0 env "$@" "$BUILD/cuguard" run --no-report --dir "$cg_dir" -- \
        "$CG_PYTHON" -c "$cg_snippet"
    grep '^cuguard:\|Error\|error' "$GPU_WORK/last.out" | head -n 3 | sed 's/^/      | /'
    bounded 60 "$BUILD/cuguard" dump "$cg_dir"
    cg_dump="$GPU_WORK/client-$cg_client.dump"
    grep ' call \| exit \| spin ' "$GPU_WORK/last.out" >"$cg_dump"
    missing=""
    for want in $cg_apis; do
        found=no
        for api in $(echo "$want" | tr '|' ' '); do
            grep -q " \(call\|exit\|spin\) ${api}\(_v2\)\?\(_ptsz\)\? " "$cg_dump" && found=yes
        done
        [ $found = yes ] || missing="$missing $want"
    done
    note "$cg_client: $(wc -l <"$cg_dump") lifecycle records; via=runtime: $(grep -c 'via=runtime' "$cg_dump")"
    awk '{ for (i = 1; i <= NF; i++) if ($i == "call" || $i == "exit" || $i == "spin") print $(i + 1) }' \
        "$cg_dump" | sort | uniq -c | sort -rn | head -n 12 | sed 's/^/      | /'
    if [ -z "$missing" ]; then
        record "$cg_client trace has its calls" pass
    else
        record "$cg_client trace has its calls" fail "missing:$missing"
    fi
}

# has MODULE — the module imports in $PYTHON, or else in the python3 on PATH
# (then used as CG_PYTHON for the snippet).
has() {
    for cg_python in "$PYTHON" "$(command -v python3)"; do
        [ -n "$cg_python" ] || continue
        if timeout -k 5 120 "$cg_python" -c "import $1" >/dev/null 2>&1; then
            CG_PYTHON=$cg_python
            return 0
        fi
    done
    return 1
}

NUMBA_SNIPPET='
import numpy as np
from numba import cuda
s = cuda.stream()
e = cuda.event(timing=False)
host = cuda.pinned_array(4096, dtype=np.float32)
d = cuda.to_device(np.arange(4096, dtype=np.float32), stream=s)
d.copy_to_host(host, stream=s)
e.record(s)
while not e.query():
    pass
s.synchronize()
assert host[4095] == 4095.0
print("numba ok")'
NUMBA_APIS="cuStreamCreate cuEventCreate cuEventRecord cuEventQuery cuMemHostAlloc|cuMemAllocHost
cuMemcpyDtoHAsync cuStreamSynchronize"
if has numba.cuda; then
    client numba-ctypes "$NUMBA_APIS" "$NUMBA_SNIPPET" NUMBA_CUDA_USE_NVIDIA_BINDING=0
    cg_numba_python=$CG_PYTHON
    if has cuda.bindings.driver || has cuda.cuda; then
        CG_PYTHON=$cg_numba_python
        client numba-nvidia-binding "$NUMBA_APIS" "$NUMBA_SNIPPET" NUMBA_CUDA_USE_NVIDIA_BINDING=1
    else
        record "numba-cuda with NVIDIA's binding" skip "cuda-python not installed"
    fi
else
    record "numba-cuda" skip "numba.cuda does not import"
fi

CUPY_SNIPPET='
import cupy as cp
s = cp.cuda.Stream(non_blocking=True)
e = cp.cuda.Event(disable_timing=True)
pinned = cp.cuda.alloc_pinned_memory(1 << 16)
with s:
    x = cp.arange(4096, dtype=cp.float32)
    host = cp.asnumpy(x, stream=s)
    e.record(s)
e.synchronize()
assert e.done
print("cupy ok", float(host[4095]))'
if has cupy; then
    client cupy "cuStreamCreate|cuStreamCreateWithPriority cuEventCreate cuEventRecord
cuEventSynchronize|cuEventQuery cuMemHostAlloc|cuMemAllocHost" "$CUPY_SNIPPET"
else
    record "CuPy" skip "cupy does not import"
fi

TORCH_SNIPPET='
import torch
s = torch.cuda.Stream()
e = torch.cuda.Event(enable_timing=False)
x = torch.arange(4096, device="cuda", dtype=torch.float32)
host = torch.empty(4096, dtype=torch.float32).pin_memory()
s.wait_stream(torch.cuda.current_stream())
with torch.cuda.stream(s):
    host.copy_(x, non_blocking=True)
    e.record(s)
e.synchronize()
assert e.query() and host[4095].item() == 4095.0
print("torch ok")'
if has torch && timeout -k 5 120 "$CG_PYTHON" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; then
    client torch "cuStreamCreate|cuStreamCreateWithPriority cuEventCreate
cuEventRecord|cuEventRecordWithFlags cuEventSynchronize|cuEventQuery cuMemHostAlloc|cuMemAllocHost
cuMemcpyAsync|cuMemcpyDtoHAsync" "$TORCH_SNIPPET"
else
    record "PyTorch" skip "torch with CUDA does not import"
fi
