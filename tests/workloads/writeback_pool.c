/*
 * writeback_pool.c — the writeback workload's pool of pinned buffers: a
 * free list under a mutex; takers poll it.
 *
 * Must never: hand out a buffer twice without a put in between, or block
 * past the deadline.
 */
#include <pthread.h>
#include <stdlib.h>

#include "tests/workloads/common.h"
#include "tests/workloads/writeback.h"

static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct slot *free_slots;
static struct slot *all_slots;
static unsigned slot_count;

bool pool_create(const struct options *options)
{
    all_slots = calloc(options->buffers, sizeof *all_slots);
    if (all_slots == NULL) {
        return false;
    }
    for (unsigned i = 0; i < options->buffers; i++) {
        void *host = NULL;
        if (logged_host_alloc(&host, options->words * sizeof(uint32_t)) != CUDA_SUCCESS) {
            return false;
        }
        all_slots[i].host = host;
        all_slots[i].next_free = free_slots;
        free_slots = &all_slots[i];
        slot_count++;
    }
    return true;
}

struct slot *pool_take(void)
{
    for (;;) {
        pthread_mutex_lock(&pool_mutex);
        struct slot *slot = free_slots;
        if (slot != NULL) {
            free_slots = slot->next_free;
        }
        pthread_mutex_unlock(&pool_mutex);
        if (slot != NULL) {
            return slot;
        }
        check_deadline("pool_take");
        wl_sleep_us(1000);
    }
}

void pool_put(struct slot *slot)
{
    pthread_mutex_lock(&pool_mutex);
    slot->next_free = free_slots;
    free_slots = slot;
    pthread_mutex_unlock(&pool_mutex);
}

void pool_destroy(void)
{
    for (unsigned i = 0; i < slot_count; i++) {
        logged_free_host(all_slots[i].host);
    }
    free(all_slots);
    all_slots = NULL;
    free_slots = NULL;
    slot_count = 0;
}
