/* vec.c: room in a growing array (vec.h). */
#include <stdint.h>
#include <stdlib.h>

#include "vec.h"

void *
vec_room(void *arr, size_t n, size_t *cap, size_t size)
{
	size_t c = *cap ? 2 * *cap : 64;
	void *p;

	if (n < *cap)
		return arr;
	if (c < *cap || c > SIZE_MAX / size)
		return NULL;
	if ((p = realloc(arr, c * size)) == NULL)
		return NULL;
	*cap = c;
	return p;
}
