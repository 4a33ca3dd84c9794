/*
 * fixture.h: what the cmocka unit tests share, compiled into every
 * tests/unit executable (library cdhttestfix):
 *
 *   - temporary directories under /tmp ("cdht-test-TAG-XXXXXX") and their
 *     removal (fx_tmpdir, fx_rm_dir);
 *   - a real LMDB store in such a directory, opened and closed around a test
 *     (struct fx_store, fx_store_open/close/reopen, and fx_store_setup/
 *     fx_store_teardown for cmocka when the store is the whole fixture);
 *   - transactions that must succeed (fx_wtxn, fx_rtxn, fx_commit);
 *   - store look-ups the tests assert on: rows in a table (fx_count_table,
 *     fx_count_cb), the outbox (fx_outbox_has, fx_outbox_clear), this node's
 *     local report of a year (fx_local), the key of TBL_WIN and TBL_TOTALS
 *     (fx_ykey);
 *   - counters: index by wire name (fx_cidx) and a whole-set comparison that
 *     names the first counter that differs (fx_assert_counters);
 *   - assessments: a builder (fx_assessment) and a check of every field a
 *     client gives (fx_assert_assessment).
 *
 * Every helper that asserts does so with cmocka, so a failure fails the test
 * that called it.  Include after <cmocka.h>'s prerequisites and <cmocka.h>.
 */
#ifndef CDHT_TEST_FIXTURE_H
#define CDHT_TEST_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "records.h"
#include "rules.h"
#include "store.h"

/* The map size (MiB) of the stores the tests open. */
#define FX_MAP_MB 64

/* Make "/tmp/cdht-test-TAG-XXXXXX" into dir; 0, or -1 when it fails. */
int fx_tmpdir(char dir[64], const char *tag);

/* Remove the files in dir, then dir itself (one level: the tests' stores
 * and captures are flat). */
void fx_rm_dir(const char *dir);

/* A store in a temporary directory of its own. */
struct fx_store {
	char dir[64];
	struct store *st;
};

/* Open s in a new temporary directory; 0, or -1 (nothing left behind). */
int fx_store_open(struct fx_store *s, const char *tag);

/* Close s (asserting it is closed) and remove its directory. */
void fx_store_close(struct fx_store *s);

/* Close and open s again on the same directory (a restart). */
void fx_store_reopen(struct fx_store *s);

/* cmocka setup/teardown with a struct fx_store as the whole state. */
int fx_store_setup(void **state, const char *tag);
int fx_store_teardown(void **state);

/* A write (fx_wtxn) or read (fx_rtxn) transaction; asserts it began. */
struct store_txn *fx_wtxn(struct fx_store *s);
struct store_txn *fx_rtxn(struct fx_store *s);

/* Commit, asserting STORE_OK and that *t was cleared. */
void fx_commit(struct store_txn **t);

/* A store_scan callback counting rows into *(int *)arg. */
int fx_count_cb(void *arg, const void *k, size_t kl, const void *v, size_t vl);

/* The number of rows of table tbl (the scan must succeed). */
int fx_count_table(struct store_txn *t, int tbl);

/* Whether (origin, year) is queued in the outbox. */
int fx_outbox_has(struct store_txn *t, const char *origin, int year);

/* Take (origin, year) out of the outbox, if it is there. */
void fx_outbox_clear(struct store_txn *t, const char *origin, int year);

/* The key of TBL_WIN and TBL_TOTALS from schema 4 on (PROTOCOL.md 7.2):
 * year(2) then the id, no NUL, written here apart from aggregate.c's own;
 * returns its length. */
size_t fx_ykey(unsigned char *k, const char *id, int year);

/* This node's local report of year (the read must succeed). */
struct local_report fx_local(struct store_txn *t, int year);

/* Counter index by its wire name (proto/counters.h), independent of
 * rules.c; fails the test for an unknown name. */
int fx_cidx(const char *name);

/* Fail, naming the first counter that differs, unless got equals want;
 * fmt... says what was compared. */
void fx_assert_counters(const struct cdht_counters *got,
    const struct cdht_counters *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A zeroed assessment of pid in year with group, population and digital
 * set; scores (all 0) and the rest are left to the caller. */
void fx_assessment(struct assessment *a, int year, const char *pid, int group,
    int pop, int digital);

/* a holds year, person_id pid, name, birth_year, group, population,
 * digital and the RULES_NSCORES scores. */
void fx_assert_assessment(const struct assessment *a, int year, const char *pid,
    const char *name, int birth_year, int group, int pop, int digital,
    const uint8_t scores[RULES_NSCORES]);

#endif
