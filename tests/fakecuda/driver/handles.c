/*
 * handles.c — handle values and the registries that map them to objects.
 *
 * A handle is the address of a small block this file allocates; it is
 * only ever compared, never dereferenced, so an application passing a
 * foreign pointer or a stale handle gets "not found", never a crash. When
 * a handle is closed its value goes on a per-kind LIFO free list and the
 * next create of that kind hands it out again, as a real driver may reuse
 * the address of a destroyed object.
 *
 * Must never: dereference a handle value, or free a handle block (its
 * value must stay reserved for reuse). All functions need fc_lock held.
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <stdlib.h>
#include <uthash.h>

#define HANDLE_BLOCK_SIZE 64

struct registry_entry {
    const void *handle;
    void *object;
    UT_hash_handle hh;
};

struct free_list {
    void **values;
    size_t count;
    size_t capacity;
};

static struct registry_entry *registries[FC_KIND_COUNT];
static struct free_list free_lists[FC_KIND_COUNT];

static void *take_handle_value(enum fc_kind kind)
{
    struct free_list *list = &free_lists[kind];
    if (list->count > 0)
        return list->values[--list->count];
    return malloc(HANDLE_BLOCK_SIZE);
}

static bool give_back_handle_value(enum fc_kind kind, void *value)
{
    struct free_list *list = &free_lists[kind];
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 16;
        void **grown = realloc(list->values, capacity * sizeof *grown);
        if (grown == NULL)
            return false;
        list->values = grown;
        list->capacity = capacity;
    }
    list->values[list->count++] = value;
    return true;
}

void *fc_handle_open(enum fc_kind kind, void *object)
{
    struct registry_entry *entry = malloc(sizeof *entry);
    void *value = take_handle_value(kind);
    if (entry == NULL || value == NULL) {
        free(entry);
        if (value != NULL)
            give_back_handle_value(kind, value);
        return NULL;
    }
    entry->handle = value;
    entry->object = object;
    HASH_ADD_PTR(registries[kind], handle, entry);
    return value;
}

void *fc_handle_find(enum fc_kind kind, const void *handle)
{
    struct registry_entry *entry = NULL;
    if (handle == NULL)
        return NULL;
    HASH_FIND_PTR(registries[kind], &handle, entry);
    return entry ? entry->object : NULL;
}

static void close_entry(enum fc_kind kind, struct registry_entry *entry)
{
    HASH_DEL(registries[kind], entry);
    /* Out of memory for the free list: the value is simply never reused. */
    if (!give_back_handle_value(kind, (void *)entry->handle))
        free((void *)entry->handle);
    free(entry);
}

void fc_handle_close(enum fc_kind kind, const void *handle)
{
    struct registry_entry *entry = NULL;
    HASH_FIND_PTR(registries[kind], &handle, entry);
    if (entry != NULL)
        close_entry(kind, entry);
}

void fc_handle_close_matching(enum fc_kind kind, bool (*match)(void *object, void *arg), void *arg)
{
    struct registry_entry *entry = NULL;
    struct registry_entry *tmp = NULL;
    HASH_ITER(hh, registries[kind], entry, tmp)
    {
        if (match(entry->object, arg))
            close_entry(kind, entry);
    }
}
