/*
 * outbox.h: the child side of replication: what this node owes its parent.
 * Owner of TBL_OUTBOX (keys queued for the parent), TBL_ACKED (the version
 * the parent acknowledged per key) and TBL_META "parent" and
 * "parent_revision" (the parent's id and wire revision as last welcomed:
 * what it may be sent, PROTOCOL.md 8.9).  Records (own reports) and aggregate
 * (winners) only queue keys here; what is sent is read from them when a batch
 * is built. See proto/PROTOCOL.md sections 8.4 and 8.5.
 */
#ifndef CDHT_OUTBOX_H
#define CDHT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "store.h"
#include "wire.h"

/* Queue (origin, year) for the parent (idempotent); a no-op at a node
 * without a parent (see outbox_startup).  Returns the sticky error. */
int outbox_queue(struct store_txn *t, const char *origin, int year);

/*
 * Start-up: at a node without a parent (the root), turn queueing off for
 * this process and empty what an earlier configuration queued; at a node
 * with one, queueing stays on.  Returns the sticky error.
 */
int outbox_startup(struct store_txn *t, const struct conf *c);

/*
 * The parent's wire revision (WELCOME field 6) as last welcomed, 1 when
 * none was recorded (first contact, or a parent of release 0.1.0/0.2.0).
 */
uint32_t outbox_parent_revision(struct store_txn *t);

/* Whether a report (or key) of year may go to a parent of revision: year
 * 2020 needs revision WIRE_REVISION_2020. */
int outbox_sendable(uint32_t revision, int year);

/* The level a parent of revision is sent for level (static strings):
 * "agency" becomes "commune" below WIRE_REVISION_2020. */
const char *outbox_wire_level(uint32_t revision, const char *level);

/* The inventory for HELLO (own local reports + every winner) to a parent
 * of wire revision `revision` (what outbox_sendable lets through), as a
 * malloc'd array the caller frees; outbox_inventory: for the revision
 * recorded (outbox_parent_revision). */
int outbox_inventory(struct store_txn *t, const struct conf *c,
    struct wire_key **inv, size_t *n);
int outbox_inventory_rev(struct store_txn *t, const struct conf *c,
    uint32_t revision, struct wire_key **inv, size_t *n);

/*
 * Fill out->reports / out->keys (removals) with up to max queued items
 * (type REPORTS; seq left to the caller).  Arrays are malloc'd
 * (wire_msg_free).  Paths are prefixed with this node's id.  For a parent
 * of revision 1 (outbox_parent_revision), keys of year 2020 are left
 * queued (logged once) and level "agency" is sent as "commune".
 */
int outbox_collect(struct store_txn *t, const struct conf *c, size_t max,
    struct wire_msg *out);

/* Batch `sent` was acknowledged: record acked versions and drop the keys
 * that did not change since. */
int outbox_acked(
    struct store_txn *t, const struct conf *c, const struct wire_msg *sent);

/*
 * On WELCOME: record the parent's id and revision (welcome->revision, 0
 * read as 1); queue everything in welcome->keys; if the parent holds a
 * version above ours for our own origin (we were restored from an older
 * backup), or the parent's id differs from the one last seen (we moved),
 * or this agency's parent now takes level "agency" (its revision rose to
 * WIRE_REVISION_2020), give our reports new versions above every version
 * it holds.
 */
int outbox_welcome(struct store_txn *t, const struct conf *c,
    const struct wire_msg *welcome, int64_t now);

/* The version the parent acknowledged for (origin, year), 0 if none. */
uint64_t outbox_acked_version(
    struct store_txn *t, const char *origin, int year);

/* How many keys are queued. */
int outbox_count(struct store_txn *t, size_t *n);

/* Schema 1 -> 2 of this module's tables (migrate.c). */
int outbox_migrate_v1(struct store_txn *t);

#endif
