/*
 * migrate.h: bringing an older data directory to this release's schema, in
 * place, in one transaction, logged.  Each table's owner converts its own
 * values (records_migrate_v1, aggregate_migrate_v1, outbox_migrate_v1);
 * this module drives them and rewrites tables in bounded chunks.
 */
#ifndef CDHT_MIGRATE_H
#define CDHT_MIGRATE_H

#include <stddef.h>

#include "conf.h"
#include "store.h"
#include "value.h"

/*
 * Convert one value of the older schema: write the new value into out and
 * return 0; return 1 to delete the entry; -1 if it cannot be decoded (the
 * migration fails, naming table and key).
 */
typedef int (*migrate_fn)(void *arg, const void *k, size_t kl, const void *v,
    size_t vl, struct vw *out);

/* Rewrite every value of tbl through fn; *count gets how many. */
int migrate_table(
    struct store_txn *t, int tbl, migrate_fn fn, void *arg, size_t *count);

/*
 * Give one key of the older schema its new form: write it into out (room
 * for outsz bytes), set *outl and return 0; return 1 for a key already in
 * the new form (left as it is); -1 if it cannot be read (the migration
 * fails, naming table and key).
 */
typedef int (*migrate_key_fn)(
    const void *k, size_t kl, unsigned char *out, size_t outsz, size_t *outl);

/* Move every entry of tbl to the key fn gives it, its value unchanged;
 * *count gets how many moved. */
int migrate_keys(
    struct store_txn *t, int tbl, migrate_key_fn fn, size_t *count);

/*
 * Migrate st to STORE_SCHEMA_VERSION if it is older (a no-op otherwise).
 * Everything happens in one write transaction: on any failure nothing
 * changes and the directory stays at its schema.  Returns STORE_OK or the
 * error (logged).
 */
int migrate_run(struct store *st, const struct conf *c);

#endif
