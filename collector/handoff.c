/*
 * handoff: the socket thread takes what another thread left it (coll.h coll_take_each).
 */
#include <pthread.h>

#include <json-c/json.h>

#include "coll.h"

void
coll_take_each(pthread_mutex_t *lock, struct json_object **slot,
    void (*fn)(struct json_object *market, void *arg), void *arg)
{
	struct json_object *arr;

	pthread_mutex_lock(lock);
	arr = *slot;
	*slot = NULL;
	pthread_mutex_unlock(lock);
	if (arr == NULL)
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		fn(json_object_array_get_idx(arr, i), arg);
	json_object_put(arr);
}
