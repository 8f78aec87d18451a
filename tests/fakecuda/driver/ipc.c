/*
 * ipc.c — inter-process memory handles. The simulator has one process
 * and no device to share, so these answer CUDA_ERROR_NOT_SUPPORTED, as a
 * real driver does on platforms without IPC. They exist because clients
 * (numba's ctypes layer) look them up at start-up.
 *
 * Must never: pretend to share memory it cannot share.
 */
#include "tests/fakecuda/driver/fakecuda.h"

CUresult cuIpcGetMemHandle(CUipcMemHandle *pHandle, CUdeviceptr dptr)
{
    (void)pHandle;
    (void)dptr;
    CUresult rc = fc_enter("cuIpcGetMemHandle");
    return rc != CUDA_SUCCESS ? rc : CUDA_ERROR_NOT_SUPPORTED;
}

CUresult cuIpcOpenMemHandle_v2(CUdeviceptr *pdptr, CUipcMemHandle handle, unsigned int Flags)
{
    (void)pdptr;
    (void)handle;
    (void)Flags;
    CUresult rc = fc_enter("cuIpcOpenMemHandle");
    return rc != CUDA_SUCCESS ? rc : CUDA_ERROR_NOT_SUPPORTED;
}

CUresult cuIpcOpenMemHandle(CUdeviceptr *pdptr, CUipcMemHandle handle, unsigned int Flags)
{
    return cuIpcOpenMemHandle_v2(pdptr, handle, Flags);
}

CUresult cuIpcCloseMemHandle(CUdeviceptr dptr)
{
    (void)dptr;
    CUresult rc = fc_enter("cuIpcCloseMemHandle");
    return rc != CUDA_SUCCESS ? rc : CUDA_ERROR_NOT_SUPPORTED;
}
