/*
 * test_store_pending.c: daemon/store.c's pending writes on a real LMDB
 * environment: a pending set is written at commit, dropped unwritten at
 * abort, written into the parent before a nested transaction begins (so the
 * child reads it), and a failing flush fails the commit with nothing kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"

#include "fixture.h"

struct set {
	int flushes, drops, fail;
	char key[16];
};

static int
flush_cb(struct store_txn *t, void *arg)
{
	struct set *s = arg;

	s->flushes++;
	if (s->fail)
		return STORE_EIO;
	return store_put(t, TBL_META, s->key, strlen(s->key), "v", 1);
}

static void
drop_cb(void *arg)
{
	((struct set *)arg)->drops++;
}

static const struct store_pending_ops ops = {flush_cb, drop_cb};
static const struct store_pending_ops other = {flush_cb, drop_cb};

static int
has(struct fx_store *s, const char *key)
{
	struct store_txn *t = fx_rtxn(s);
	const void *v;
	size_t vl;
	int rc = store_get(t, TBL_META, key, strlen(key), &v, &vl);

	store_abort(&t);
	return rc == STORE_OK;
}

static int
setup(void **state)
{
	return fx_store_setup(state, "pending");
}

static void
test_commit_flushes_once(void **state)
{
	struct fx_store *fs = *state;
	struct set a = {.key = "p-a"}, b = {.key = "p-b"};
	struct store_txn *t = fx_wtxn(fs);

	assert_null(store_pending(t, &ops));
	assert_int_equal(store_pending_add(t, &ops, &a), STORE_OK);
	assert_int_equal(store_pending_add(t, &other, &b), STORE_OK);
	assert_ptr_equal(store_pending(t, &ops), &a);
	assert_ptr_equal(store_pending_attach(t, &ops, sizeof(a)), &a);
	assert_ptr_equal(store_pending(t, &other), &b);
	fx_commit(&t);
	assert_int_equal(a.flushes, 1);
	assert_int_equal(a.drops, 1);
	assert_int_equal(b.flushes, 1);
	assert_true(has(fs, "p-a"));
	assert_true(has(fs, "p-b"));
}

static void
free_drop(void *arg)
{
	free(arg);
}

static const struct store_pending_ops zeroed = {flush_cb, free_drop};

/* attach makes a zeroed set once, then finds it again */
static void
test_attach_once(void **state)
{
	struct fx_store *fs = *state;
	struct store_txn *t = fx_wtxn(fs);
	struct set *s = store_pending_attach(t, &zeroed, sizeof(*s));

	assert_non_null(s);
	assert_int_equal(s->flushes + s->drops + s->fail, 0);
	strcpy(s->key, "z-a");
	assert_ptr_equal(store_pending_attach(t, &zeroed, sizeof(*s)), s);
	fx_commit(&t);
	assert_true(has(fs, "z-a"));
}

static void
test_abort_drops(void **state)
{
	struct fx_store *fs = *state;
	struct set a = {.key = "q-a"};
	struct store_txn *t = fx_wtxn(fs);

	assert_int_equal(store_pending_add(t, &ops, &a), STORE_OK);
	store_abort(&t);
	assert_int_equal(a.flushes, 0);
	assert_int_equal(a.drops, 1);
	assert_false(has(fs, "q-a"));
}

static void
test_nested_sees_parent(void **state)
{
	struct fx_store *fs = *state;
	struct set a = {.key = "n-a"}, c = {.key = "n-c"};
	struct store_txn *t = fx_wtxn(fs), *child;
	const void *v;
	size_t vl;

	assert_int_equal(store_pending_add(t, &ops, &a), STORE_OK);
	assert_non_null(child = store_begin_nested(t));
	assert_int_equal(a.flushes, 1);
	assert_null(store_pending(t, &ops)); /* written and dropped */
	assert_int_equal(
	    store_get(child, TBL_META, "n-a", 3, &v, &vl), STORE_OK);
	/* the child's own set goes with its abort */
	assert_int_equal(store_pending_add(child, &ops, &c), STORE_OK);
	store_abort(&child);
	assert_int_equal(c.flushes, 0);
	assert_int_equal(c.drops, 1);
	fx_commit(&t);
	assert_true(has(fs, "n-a"));
	assert_false(has(fs, "n-c"));
}

static void
test_failed_flush_keeps_nothing(void **state)
{
	struct fx_store *fs = *state;
	struct set a = {.key = "f-a"}, b = {.key = "f-b", .fail = 1};
	struct store_txn *t = fx_wtxn(fs);

	assert_int_equal(store_put(t, TBL_META, "f-0", 3, "v", 1), STORE_OK);
	assert_int_equal(store_pending_add(t, &ops, &a), STORE_OK);
	assert_int_equal(store_pending_add(t, &other, &b), STORE_OK);
	assert_int_equal(store_commit(&t), STORE_EIO);
	assert_int_equal(a.drops, 1);
	assert_int_equal(b.drops, 1);
	assert_false(has(fs, "f-0"));
	assert_false(has(fs, "f-a"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_commit_flushes_once, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_attach_once, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_abort_drops, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_nested_sees_parent, setup, fx_store_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_failed_flush_keeps_nothing, setup, fx_store_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
