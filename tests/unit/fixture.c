/*
 * fixture.c: the unit tests' shared fixture (see fixture.h).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"

/* ---------------------------------------------------------------------- */
/* Temporary directories and stores. */

int
fx_tmpdir(char dir[64], const char *tag)
{
	snprintf(dir, 64, "/tmp/cdht-test-%s-XXXXXX", tag);
	return mkdtemp(dir) == NULL ? -1 : 0;
}

void
fx_rm_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[512];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

int
fx_store_open(struct fx_store *s, const char *tag)
{
	s->st = NULL;
	if (fx_tmpdir(s->dir, tag) != 0)
		return -1;
	if (store_open(s->dir, FX_MAP_MB, &s->st) != STORE_OK) {
		fx_rm_dir(s->dir);
		return -1;
	}
	return 0;
}

void
fx_store_close(struct fx_store *s)
{
	store_close(&s->st);
	assert_null(s->st);
	fx_rm_dir(s->dir);
}

void
fx_store_reopen(struct fx_store *s)
{
	store_close(&s->st);
	assert_int_equal(store_open(s->dir, FX_MAP_MB, &s->st), STORE_OK);
}

int
fx_store_setup(void **state, const char *tag)
{
	struct fx_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	if (fx_store_open(s, tag) != 0) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

int
fx_store_teardown(void **state)
{
	struct fx_store *s = *state;

	fx_store_close(s);
	free(s);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Transactions. */

static struct store_txn *
begin(struct fx_store *s, int write)
{
	struct store_txn *t = store_begin(s->st, write);

	assert_non_null(t);
	return t;
}

struct store_txn *
fx_wtxn(struct fx_store *s)
{
	return begin(s, 1);
}

struct store_txn *
fx_rtxn(struct fx_store *s)
{
	return begin(s, 0);
}

void
fx_commit(struct store_txn **t)
{
	assert_int_equal(store_commit(t), STORE_OK);
	assert_null(*t);
}

/* ---------------------------------------------------------------------- */
/* Look-ups. */

int
fx_count_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
	(*(int *)arg)++;
	return 0;
}

int
fx_count_table(struct store_txn *t, int tbl)
{
	int n = 0;

	assert_int_equal(
	    store_scan(t, tbl, NULL, 0, fx_count_cb, &n), STORE_OK);
	return n;
}

int
fx_outbox_has(struct store_txn *t, const char *origin, int year)
{
	unsigned char k[64];
	const void *v;
	size_t vl;
	int rc =
	    store_get(t, TBL_OUTBOX, k, records_okey(k, origin, year), &v, &vl);

	assert_true(rc == STORE_OK || rc == STORE_NOTFOUND);
	return rc == STORE_OK;
}

void
fx_outbox_clear(struct store_txn *t, const char *origin, int year)
{
	unsigned char k[64];
	int rc = store_del(t, TBL_OUTBOX, k, records_okey(k, origin, year));

	assert_true(rc == STORE_OK || rc == STORE_NOTFOUND);
	assert_int_equal(store_txn_err(t), STORE_OK);
}

size_t
fx_ykey(unsigned char *k, const char *id, int year)
{
	size_t n = strlen(id);

	k[0] = (unsigned char)(year >> 8);
	k[1] = (unsigned char)year;
	memcpy(k + 2, id, n);
	return n + 2;
}

struct local_report
fx_local(struct store_txn *t, int year)
{
	struct local_report lr;

	assert_int_equal(records_local(t, year, &lr), STORE_OK);
	return lr;
}

/* ---------------------------------------------------------------------- */
/* Counters. */

int
fx_cidx(const char *name)
{
	for (int i = 0; i < CDHT_NCOUNTERS; i++)
		if (strcmp(cdht_counter_names[i], name) == 0)
			return i;
	fail_msg("no counter named %s", name);
	return -1;
}

void
fx_assert_counters(const struct cdht_counters *got,
    const struct cdht_counters *want, const char *fmt, ...)
{
	for (int k = 0; k < CDHT_NCOUNTERS; k++)
		if (got->v[k] != want->v[k]) {
			char what[256];
			va_list ap;

			va_start(ap, fmt);
			vsnprintf(what, sizeof(what), fmt, ap);
			va_end(ap);
			fail_msg("%s: %s = %lld, want %lld", what,
			    cdht_counter_names[k], (long long)got->v[k],
			    (long long)want->v[k]);
		}
}

/* ---------------------------------------------------------------------- */
/* Assessments. */

void
fx_assessment(struct assessment *a, int year, const char *pid, int group,
    int pop, int digital)
{
	memset(a, 0, sizeof(*a));
	a->year = (uint16_t)year;
	a->pid_len = (uint8_t)strlen(pid);
	memcpy(a->person_id, pid, a->pid_len);
	a->group = (uint8_t)group;
	a->population = (uint8_t)pop;
	a->digital = (uint8_t)digital;
}

void
fx_assert_assessment(const struct assessment *a, int year, const char *pid,
    const char *name, int birth_year, int group, int pop, int digital,
    const uint8_t scores[RULES_NSCORES])
{
	size_t pl = strlen(pid);

	assert_int_equal(a->year, year);
	assert_int_equal(a->pid_len, pl);
	assert_memory_equal(a->person_id, pid, pl);
	assert_string_equal(a->name, name);
	assert_int_equal(a->birth_year, birth_year);
	assert_int_equal(a->group, group);
	assert_int_equal(a->population, pop);
	assert_int_equal(a->digital, digital);
	assert_memory_equal(a->scores, scores, RULES_NSCORES);
}
