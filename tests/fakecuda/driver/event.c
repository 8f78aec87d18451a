/*
 * event.c — events and cuStreamWaitEvent. An event holds a reference to
 * the marker op of its latest record: it is complete when that op has run
 * (a never-recorded event is complete), re-recording replaces the op, and
 * a wait captures the op current at the time of the call. The op outlives
 * the event, so destroying an event with a pending record returns at once
 * and earlier waits still hold (docs/driver-behaviour.md, "Events").
 *
 * Must never: dereference an event handle (resolve it in the registry),
 * or report an event complete before the work recorded before it ran.
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <stdlib.h>

#define VALID_EVENT_FLAGS (CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING | CU_EVENT_INTERPROCESS)

struct fc_event {
    CUevent handle;
    struct fc_context *ctx;
    unsigned flags;
    struct fc_op *record; /* NULL until the first record */
};

static void event_free(struct fc_event *event)
{
    fc_op_release(event->record);
    free(event);
}

static bool event_in_context(void *object, void *ctx)
{
    struct fc_event *event = object;
    if (event->ctx != ctx)
        return false;
    event_free(event);
    return true;
}

void fc_events_forget_context(struct fc_context *ctx)
{
    fc_handle_close_matching(FC_KIND_EVENT, event_in_context, ctx);
}

CUresult cuEventCreate(CUevent *phEvent, unsigned int Flags)
{
    CUresult rc = fc_enter("cuEventCreate");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (phEvent == NULL || (Flags & ~(unsigned)VALID_EVENT_FLAGS))
        return CUDA_ERROR_INVALID_VALUE;
    if ((Flags & CU_EVENT_INTERPROCESS) && !(Flags & CU_EVENT_DISABLE_TIMING))
        return CUDA_ERROR_INVALID_VALUE;
    struct fc_context *ctx = NULL;
    fc_lock();
    rc = fc_current_context(&ctx);
    if (rc == CUDA_SUCCESS) {
        struct fc_event *event = calloc(1, sizeof *event);
        if (event != NULL)
            event->handle = fc_handle_open(FC_KIND_EVENT, event);
        if (event != NULL && event->handle != NULL) {
            event->ctx = ctx;
            event->flags = Flags;
            *phEvent = event->handle;
        } else {
            free(event);
            rc = CUDA_ERROR_OUT_OF_MEMORY;
        }
    }
    fc_unlock();
    return rc;
}

static CUresult event_record(const char *api, CUevent handle, CUstream stream_handle,
                             unsigned int flags, bool per_thread)
{
    CUresult rc = fc_enter(api);
    if (rc != CUDA_SUCCESS)
        return rc;
    if (flags & ~(unsigned)CU_EVENT_RECORD_EXTERNAL)
        return CUDA_ERROR_INVALID_VALUE;
    fc_lock();
    struct fc_event *event = fc_handle_find(FC_KIND_EVENT, handle);
    struct fc_stream *stream = NULL;
    rc = event != NULL ? fc_stream_resolve(stream_handle, per_thread, &stream)
                       : CUDA_ERROR_INVALID_HANDLE;
    struct fc_op *marker = rc == CUDA_SUCCESS ? fc_op_new(NULL) : NULL;
    if (rc == CUDA_SUCCESS && marker == NULL)
        rc = CUDA_ERROR_OUT_OF_MEMORY;
    if (rc == CUDA_SUCCESS) {
        fc_op_retain(marker);
        rc = fc_stream_submit(stream, marker);
        if (rc == CUDA_SUCCESS) {
            fc_op_release(event->record);
            event->record = marker;
        } else {
            fc_op_release(marker);
        }
    }
    fc_unlock();
    return rc;
}

CUresult cuEventRecord(CUevent hEvent, CUstream hStream)
{
    return event_record("cuEventRecord", hEvent, hStream, 0, false);
}

CUresult cuEventRecord_ptsz(CUevent hEvent, CUstream hStream)
{
    return event_record("cuEventRecord", hEvent, hStream, 0, true);
}

CUresult cuEventRecordWithFlags(CUevent hEvent, CUstream hStream, unsigned int flags)
{
    return event_record("cuEventRecordWithFlags", hEvent, hStream, flags, false);
}

CUresult cuEventRecordWithFlags_ptsz(CUevent hEvent, CUstream hStream, unsigned int flags)
{
    return event_record("cuEventRecordWithFlags", hEvent, hStream, flags, true);
}

CUresult cuEventQuery(CUevent hEvent)
{
    CUresult rc = fc_enter("cuEventQuery");
    if (rc != CUDA_SUCCESS)
        return rc;
    fc_lock();
    struct fc_event *event = fc_handle_find(FC_KIND_EVENT, hEvent);
    if (event == NULL)
        rc = CUDA_ERROR_INVALID_HANDLE;
    else if (event->record != NULL && !event->record->done)
        rc = CUDA_ERROR_NOT_READY;
    fc_unlock();
    return rc;
}

CUresult cuEventSynchronize(CUevent hEvent)
{
    CUresult rc = fc_enter("cuEventSynchronize");
    if (rc != CUDA_SUCCESS)
        return rc;
    fc_lock();
    struct fc_event *event = fc_handle_find(FC_KIND_EVENT, hEvent);
    struct fc_op *record = event ? event->record : NULL;
    if (record != NULL) {
        fc_op_retain(record); /* the event may be destroyed while we wait */
        fc_op_wait(record);
        fc_op_release(record);
    }
    fc_unlock();
    return event != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

static CUresult event_destroy(CUevent handle)
{
    CUresult rc = fc_enter("cuEventDestroy");
    if (rc != CUDA_SUCCESS)
        return rc;
    fc_lock();
    struct fc_event *event = fc_handle_find(FC_KIND_EVENT, handle);
    if (event != NULL) {
        fc_handle_close(FC_KIND_EVENT, handle);
        event_free(event);
    }
    fc_unlock();
    return event != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

CUresult cuEventDestroy(CUevent hEvent)
{
    return event_destroy(hEvent);
}

CUresult cuEventDestroy_v2(CUevent hEvent)
{
    return event_destroy(hEvent);
}

/* Lock held: why event cannot give a time, or CUDA_SUCCESS. */
static CUresult timing_state(const struct fc_event *event)
{
    if (event == NULL || event->record == NULL || (event->flags & CU_EVENT_DISABLE_TIMING))
        return CUDA_ERROR_INVALID_HANDLE;
    return event->record->done ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

static CUresult event_elapsed_time(float *pMilliseconds, CUevent hStart, CUevent hEnd)
{
    CUresult rc = fc_enter("cuEventElapsedTime");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (pMilliseconds == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    fc_lock();
    struct fc_event *start = fc_handle_find(FC_KIND_EVENT, hStart);
    struct fc_event *end = fc_handle_find(FC_KIND_EVENT, hEnd);
    CUresult start_state = timing_state(start);
    CUresult end_state = timing_state(end);
    if (start_state == CUDA_ERROR_INVALID_HANDLE || end_state == CUDA_ERROR_INVALID_HANDLE)
        rc = CUDA_ERROR_INVALID_HANDLE;
    else if (start_state == CUDA_ERROR_NOT_READY || end_state == CUDA_ERROR_NOT_READY)
        rc = CUDA_ERROR_NOT_READY;
    if (rc == CUDA_SUCCESS)
        *pMilliseconds = (float)(end->record->done_ms - start->record->done_ms);
    fc_unlock();
    return rc;
}

CUresult cuEventElapsedTime(float *pMilliseconds, CUevent hStart, CUevent hEnd)
{
    return event_elapsed_time(pMilliseconds, hStart, hEnd);
}

CUresult cuEventElapsedTime_v2(float *pMilliseconds, CUevent hStart, CUevent hEnd)
{
    return event_elapsed_time(pMilliseconds, hStart, hEnd);
}

static CUresult stream_wait_event(CUstream stream_handle, CUevent event_handle, unsigned int flags,
                                  bool per_thread)
{
    CUresult rc = fc_enter("cuStreamWaitEvent");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (flags & ~(unsigned)CU_EVENT_WAIT_EXTERNAL)
        return CUDA_ERROR_INVALID_VALUE;
    fc_lock();
    struct fc_stream *stream = NULL;
    rc = fc_stream_resolve(stream_handle, per_thread, &stream);
    struct fc_event *event = fc_handle_find(FC_KIND_EVENT, event_handle);
    if (rc == CUDA_SUCCESS && event == NULL)
        rc = CUDA_ERROR_INVALID_HANDLE;
    /* Never recorded or already complete: nothing to wait for. */
    if (rc == CUDA_SUCCESS && event->record != NULL && !event->record->done) {
        struct fc_op *wait = fc_op_new(NULL);
        if (wait == NULL || !fc_op_add_dep(wait, event->record)) {
            fc_op_release(wait);
            rc = CUDA_ERROR_OUT_OF_MEMORY;
        } else {
            rc = fc_stream_submit(stream, wait);
        }
    }
    fc_unlock();
    return rc;
}

CUresult cuStreamWaitEvent(CUstream hStream, CUevent hEvent, unsigned int Flags)
{
    return stream_wait_event(hStream, hEvent, Flags, false);
}

CUresult cuStreamWaitEvent_ptsz(CUstream hStream, CUevent hEvent, unsigned int Flags)
{
    return stream_wait_event(hStream, hEvent, Flags, true);
}
