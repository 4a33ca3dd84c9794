/*
 * metrics.h: the process's counters and histograms for GET /metrics.
 * metrics.c owns them (process-wide statics, like aggregate.c's alarm
 * counters: one daemon per process); the modules that see an event call
 * one metrics_* function where it happens, and api_metrics (api_views.c)
 * writes them out with metrics_write() next to the gauges it reads itself
 * (store, outbox, links).  Nothing here allocates or fails; all of it runs
 * on the event-loop thread.
 */
#ifndef CDHT_METRICS_H
#define CDHT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

/* -- http_api.c ----------------------------------------------------------- */

/*
 * A reply with HTTP status `status` was sent for a request routed to
 * `route` (the route table's path, static storage; NULL when no route
 * matched or the request was refused before routing).
 */
void metrics_http_reply(const char *route, int status);

/* -- commit.c ------------------------------------------------------------- */

/* Monotonic clock in nanoseconds, to time a commit. */
int64_t metrics_now_ns(void);

/*
 * One store_commit of the turn's transaction took `ns` nanoseconds and
 * carried `writes` writers (the replies and messages deferred until it);
 * ok: it committed.
 */
void metrics_commit(size_t writes, int64_t ns, int ok);
/* One of them flushed on the flusher thread (commit.c). */
void metrics_commit_offloaded(void);

/* -- uplink.c ------------------------------------------------------------- */

/* A REPORTS batch of nreports reports and nkeys removals was sent. */
void metrics_uplink_sent(size_t nreports, size_t nkeys);
/* The parent's ACK of a batch (nreports, nkeys) was committed. */
void metrics_uplink_acked(size_t nreports, size_t nkeys);
/* The parent's ACK said it refused n reports of the batch. */
void metrics_uplink_refused(uint32_t n);

/* -- downlink.c ----------------------------------------------------------- */

/*
 * What one child's batch did at this node, counted per report as
 * aggregate_apply answered (metrics_batch_add) and added to the totals
 * only once the turn committed it (metrics_batch_commit), so a batch lost
 * with a failed commit and sent again is counted once.  The refusal's
 * reason is read from aggregate.c's alarm counters around each call.
 */
struct metrics_batch {
	uint64_t claims0, cap0; /* aggregate's counters at the last add */
	uint32_t applied, ignored, removals;
	uint32_t refused_claim, refused_cap, refused_invalid;
};
/* Start counting a batch (reads aggregate's counters). */
void metrics_batch_begin(struct metrics_batch *b);
/* Count rc, aggregate_apply's result; returns rc. */
int metrics_batch_add(struct metrics_batch *b, int rc);
/* The batch (with its nkeys removals in b->removals) was committed. */
void metrics_batch_commit(const struct metrics_batch *b);

/* Why a message from a link was dropped unanswered. */
enum metrics_link { METRICS_UPLINK, METRICS_DOWNLINK };
enum metrics_drop {
	METRICS_DROP_MALFORMED,       /* wire_decode refused it */
	METRICS_DROP_MULTI_FRAME,     /* more than one frame */
	METRICS_DROP_UNKNOWN_SENDER,  /* no listed child's key (downlink) */
	METRICS_DROP_UNEXPECTED_TYPE, /* a type the other end never sends */
	METRICS_DROP_WRONG_ID,        /* HELLO naming another id */
	METRICS_DROP_HELLO_FLOOD,     /* HELLO within 1 s of the last */
	METRICS_NDROP
};
void metrics_dropped(enum metrics_link link, enum metrics_drop why);

/* -- api_views.c ---------------------------------------------------------- */

/* "# HELP name help\n# TYPE name type\n" into b. */
void metrics_family(
    struct evbuffer *b, const char *name, const char *type, const char *help);

/*
 * Everything this module counts (HTTP replies, commits, links, dropped
 * messages) and the process metrics read from /proc/self, each family
 * with its HELP and TYPE, into b.
 */
void metrics_write(struct evbuffer *b);

/* Forget every count (unit tests). */
void metrics_reset(void);

#endif
