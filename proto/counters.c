/* counters.c: the counter name table and element-wise arithmetic. */
#include "counters.h"

const char *const cdht_counter_names[CDHT_NCOUNTERS] = {
#define CDHT_X_NAME(n) #n,
    CDHT_COUNTERS(CDHT_X_NAME)
#undef CDHT_X_NAME
};

void
cdht_counters_add(
    struct cdht_counters *dst, const struct cdht_counters *src, int sign)
{
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		dst->v[i] += sign * src->v[i];
}

int
cdht_counters_is_zero(const struct cdht_counters *c)
{
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		if (c->v[i] != 0)
			return 0;
	return 1;
}
