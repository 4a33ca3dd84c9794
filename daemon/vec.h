/*
 * vec.h: room in a growing array (the lists a scan collects before it
 * writes: an LMDB scan may not write the table it reads).
 */
#ifndef CDHT_VEC_H
#define CDHT_VEC_H

#include <stddef.h>

/*
 * arr holds n elements of size bytes in room for *cap: return arr, or a
 * bigger copy (*cap doubled, at least 64) when it is full, so one more
 * element fits.  NULL when out of memory: arr is then unchanged and still
 * the caller's.  The result is the caller's to free.
 */
void *vec_room(void *arr, size_t n, size_t *cap, size_t size);

#endif
