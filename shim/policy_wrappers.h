/*
 * shim/policy_wrappers.h — the policied twin of every api.def wrapper.
 *
 * What it is for: declaring cg_policied_<symbol>, the function a wrapper of
 * shim/wrappers.c hands the call to when cg_policy_active is set (after
 * storing the program's return address in cg_policy_caller).
 *
 * What it must never do: be included anywhere but the two generated files.
 */
#ifndef CUGUARD_SHIM_POLICY_WRAPPERS_H
#define CUGUARD_SHIM_POLICY_WRAPPERS_H

#include <cuda.h>

#define CG_API(sym, base, version, per_thread, style, params, ...)                                 \
    CUresult CUDAAPI cg_policied_##sym params;
#include "shim/api.def"

#endif
