/*
 * lmdb_put.c: the bare limit of one durable submission on this disk, for
 * tests/bench/bench.py.
 *
 * Opens an LMDB environment with cdhtd's flags (MDB_NOTLS, default sync:
 * daemon/store.c) and times N operations of one write transaction each: one
 * put of a new key (year(2) then a person id, as the assess table's) and a
 * value of about cdhtd's assessment size, then mdb_txn_commit (data flush,
 * then the meta page).  Then it reopens a read transaction and counts the
 * keys, which must be N (every committed put is there).
 *
 * usage: lmdb_put DIR N
 * prints one JSON line: {"ops":N,"seconds":S,"rate":R,"present":K}
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <lmdb.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
check(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "lmdb_put: %s: %s\n", what, mdb_strerror(rc));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_stat st;
	char key[32], val[48];
	long n, i;
	double t0, t1;

	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: lmdb_put DIR N\n");
		return 2;
	}
	mkdir(argv[1], 0700);
	check(mdb_env_create(&env), "env_create");
	check(mdb_env_set_maxdbs(env, 4), "set_maxdbs");
	check(mdb_env_set_mapsize(env, (size_t)1024 << 20), "set_mapsize");
	check(mdb_env_open(env, argv[1], MDB_NOTLS, 0600), "env_open");
	check(mdb_txn_begin(env, NULL, 0, &txn), "txn_begin");
	check(mdb_dbi_open(txn, "assess", MDB_CREATE, &dbi), "dbi_open");
	check(mdb_txn_commit(txn), "commit");
	memset(val, 7, sizeof val);
	t0 = now();
	for (i = 0; i < n; i++) {
		MDB_val k, v;
		int len = snprintf(key + 2, sizeof key - 2, "p%ld", i);

		key[0] = 0x07; /* year 2026, big-endian */
		key[1] = (char)0xea;
		k.mv_size = (size_t)len + 2;
		k.mv_data = key;
		v.mv_size = sizeof val;
		v.mv_data = val;
		check(mdb_txn_begin(env, NULL, 0, &txn), "txn_begin");
		check(mdb_put(txn, dbi, &k, &v, 0), "put");
		check(mdb_txn_commit(txn), "commit");
	}
	t1 = now();
	check(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), "txn_begin");
	check(mdb_stat(txn, dbi, &st), "stat");
	mdb_txn_abort(txn);
	mdb_env_close(env);
	printf("{\"ops\":%ld,\"seconds\":%.6f,\"rate\":%.1f,\"present\":%zu}\n",
	    n, t1 - t0, n / (t1 - t0), st.ms_entries);
	return 0;
}
