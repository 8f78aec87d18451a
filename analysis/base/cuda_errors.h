/*
 * analysis/base/cuda_errors.h — names of CUresult codes (CUDA_SUCCESS,
 * CUDA_ERROR_NOT_READY, ...), as cuda.h spells them.
 *
 * What it is for: dump and report print results by name.
 * What it must never do: need the CUDA toolkit or driver at run time.
 */
#ifndef CUGUARD_ANALYSIS_CUDA_ERRORS_H
#define CUGUARD_ANALYSIS_CUDA_ERRORS_H

#include <stdint.h>

/* "CUDA_ERROR_NOT_READY" for 600; NULL for a code cuda.h does not name. */
const char *cuda_error_name_or_null(int32_t result);

/* Like cuda_error_name_or_null, but never NULL: "an unrecognized CUresult"
 * for unknown codes (callers print the number beside it). */
const char *cuda_error_name(int32_t result);

#endif
