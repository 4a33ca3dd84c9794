/*
 * metrics.c: the counters and histograms of /metrics and the process
 * metrics (read from /proc/self at each scrape).  Owns every count it
 * keeps: process-wide statics, written by the one-line hooks in
 * http_api.c, commit.c, uplink.c and downlink.c (see metrics.h), read only
 * by metrics_write.  The series this file writes, and api_metrics' own,
 * are listed in README.md ("Health and metrics").
 *
 * Sample values are printed as integers or with a decimal point (never in
 * exponent form), so a simple reader (tests/system/cdhttest) can tell the
 * two apart.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "aggregate.h"
#include "metrics.h"

/* -- HTTP replies by (route, status) -------------------------------------- */

/*
 * One entry per (route, status) seen.  Routes come from the route table
 * (17 paths) and statuses from this daemon's own replies (about a dozen
 * codes), so the table cannot fill; if it ever did, further pairs would go
 * uncounted rather than grow it without bound.
 */
#define HTTP_PAIRS_MAX 512

static struct http_pair {
	const char *route; /* NULL: unrouted */
	int status;
	uint64_t n;
} http_pairs[HTTP_PAIRS_MAX];
static size_t nhttp_pairs;

void
metrics_http_reply(const char *route, int status)
{
	size_t i;

	for (i = 0; i < nhttp_pairs; i++)
		if (http_pairs[i].status == status &&
		    (http_pairs[i].route == route ||
		        (route != NULL && http_pairs[i].route != NULL &&
		            strcmp(http_pairs[i].route, route) == 0)))
			break;
	if (i == nhttp_pairs) {
		if (nhttp_pairs == HTTP_PAIRS_MAX)
			return;
		http_pairs[nhttp_pairs++] =
		    (struct http_pair){route, status, 0};
	}
	http_pairs[i].n++;
}

/* -- commits -------------------------------------------------------------- */

/* Upper bounds: nanoseconds, and the same as Prometheus' le labels. */
static const int64_t commit_le_ns[] = {100000, 250000, 500000, 1000000, 2500000,
    5000000, 10000000, 25000000, 50000000, 100000000, 250000000, 500000000,
    1000000000, 2500000000LL, 10000000000LL};
static const char *const commit_le[] = {"0.0001", "0.00025", "0.0005", "0.001",
    "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
    "2.5", "10"};
#define COMMIT_NB (sizeof(commit_le_ns) / sizeof(commit_le_ns[0]))

static const uint64_t writes_le[] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096};
#define WRITES_NB (sizeof(writes_le) / sizeof(writes_le[0]))

static struct {
	uint64_t dur[COMMIT_NB]; /* per bucket, not cumulative */
	uint64_t writes[WRITES_NB];
	uint64_t count, failed, offloaded;
	int64_t dur_ns;
	uint64_t nwrites;
} commits;

int64_t
metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
metrics_commit_offloaded(void)
{
	commits.offloaded++;
}

void
metrics_commit(size_t writes, int64_t ns, int ok)
{
	size_t i;

	if (ns < 0)
		ns = 0;
	commits.count++;
	commits.failed += !ok;
	commits.dur_ns += ns;
	commits.nwrites += writes;
	for (i = 0; i < COMMIT_NB && ns > commit_le_ns[i]; i++)
		;
	if (i < COMMIT_NB)
		commits.dur[i]++;
	for (i = 0; i < WRITES_NB && writes > writes_le[i]; i++)
		;
	if (i < WRITES_NB)
		commits.writes[i]++;
}

/* -- links ---------------------------------------------------------------- */

static struct {
	uint64_t batches, reports, removals;
	uint64_t acked_batches, acked_reports, acked_removals, refused;
} up;

static struct {
	uint64_t batches, applied, ignored, removals;
	uint64_t refused_claim, refused_cap, refused_invalid;
} down;

static uint64_t dropped[2][METRICS_NDROP];

void
metrics_uplink_sent(size_t nreports, size_t nkeys)
{
	up.batches++;
	up.reports += nreports;
	up.removals += nkeys;
}

void
metrics_uplink_acked(size_t nreports, size_t nkeys)
{
	up.acked_batches++;
	up.acked_reports += nreports;
	up.acked_removals += nkeys;
}

void
metrics_uplink_refused(uint32_t n)
{
	up.refused += n;
}

void
metrics_batch_begin(struct metrics_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->claims0 = aggregate_claims_refused();
	b->cap0 = aggregate_origins_over_cap();
}

int
metrics_batch_add(struct metrics_batch *b, int rc)
{
	uint64_t claims = aggregate_claims_refused();
	uint64_t cap = aggregate_origins_over_cap();

	if (rc == AGG_APPLIED)
		b->applied++;
	else if (rc == AGG_IGNORED)
		b->ignored++;
	else if (rc == AGG_REFUSED && claims != b->claims0)
		b->refused_claim++;
	else if (rc == AGG_REFUSED && cap != b->cap0)
		b->refused_cap++;
	else if (rc == AGG_REFUSED)
		b->refused_invalid++;
	/* else a store error: the batch is not committed, nor counted */
	b->claims0 = claims;
	b->cap0 = cap;
	return rc;
}

void
metrics_batch_commit(const struct metrics_batch *b)
{
	down.batches++;
	down.applied += b->applied;
	down.ignored += b->ignored;
	down.removals += b->removals;
	down.refused_claim += b->refused_claim;
	down.refused_cap += b->refused_cap;
	down.refused_invalid += b->refused_invalid;
}

void
metrics_dropped(enum metrics_link link, enum metrics_drop why)
{
	if ((link == METRICS_UPLINK || link == METRICS_DOWNLINK) &&
	    (unsigned)why < METRICS_NDROP)
		dropped[link][why]++;
}

void
metrics_reset(void)
{
	memset(http_pairs, 0, sizeof(http_pairs));
	nhttp_pairs = 0;
	memset(&commits, 0, sizeof(commits));
	memset(&up, 0, sizeof(up));
	memset(&down, 0, sizeof(down));
	memset(dropped, 0, sizeof(dropped));
}

/* -- writing -------------------------------------------------------------- */

void
metrics_family(
    struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(
	    b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
counter(struct evbuffer *b, const char *name, const char *help, uint64_t v)
{
	metrics_family(b, name, "counter", help);
	evbuffer_add_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void
write_http(struct evbuffer *b)
{
	metrics_family(b, "cdht_http_responses_total", "counter",
	    "HTTP replies sent, by route (the route table's path, or none "
	    "when no route matched) and status code");
	for (size_t i = 0; i < nhttp_pairs; i++)
		evbuffer_add_printf(b,
		    "cdht_http_responses_total{route=\"%s\",status=\"%d\"} "
		    "%llu\n",
		    http_pairs[i].route ? http_pairs[i].route : "none",
		    http_pairs[i].status, (unsigned long long)http_pairs[i].n);
}

static void
write_commits(struct evbuffer *b)
{
	uint64_t cum = 0;

	metrics_family(b, "cdht_commit_duration_seconds", "histogram",
	    "time of each group commit of the write transaction (LMDB "
	    "commit and sync)");
	for (size_t i = 0; i < COMMIT_NB; i++) {
		cum += commits.dur[i];
		evbuffer_add_printf(b,
		    "cdht_commit_duration_seconds_bucket{le=\"%s\"} %llu\n",
		    commit_le[i], (unsigned long long)cum);
	}
	evbuffer_add_printf(b,
	    "cdht_commit_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "cdht_commit_duration_seconds_sum %lld.%09lld\n"
	    "cdht_commit_duration_seconds_count %llu\n",
	    (unsigned long long)commits.count,
	    (long long)(commits.dur_ns / 1000000000),
	    (long long)(commits.dur_ns % 1000000000),
	    (unsigned long long)commits.count);
	cum = 0;
	metrics_family(b, "cdht_commit_writes", "histogram",
	    "writes per group commit: the replies and link messages "
	    "answered after it");
	for (size_t i = 0; i < WRITES_NB; i++) {
		cum += commits.writes[i];
		evbuffer_add_printf(b,
		    "cdht_commit_writes_bucket{le=\"%llu\"} %llu\n",
		    (unsigned long long)writes_le[i], (unsigned long long)cum);
	}
	evbuffer_add_printf(b,
	    "cdht_commit_writes_bucket{le=\"+Inf\"} %llu\n"
	    "cdht_commit_writes_sum %llu\n"
	    "cdht_commit_writes_count %llu\n",
	    (unsigned long long)commits.count,
	    (unsigned long long)commits.nwrites,
	    (unsigned long long)commits.count);
	counter(b, "cdht_commit_failures_total",
	    "group commits that failed (their writers got the error)",
	    commits.failed);
	counter(b, "cdht_commit_offloaded_total",
	    "group commits whose journal flush ran on the flusher thread "
	    "while the loop went on (big turns on a slow disk)",
	    commits.offloaded);
}

static void
write_links(struct evbuffer *b)
{
	static const char *const drop_names[METRICS_NDROP] = {"malformed",
	    "multi_frame", "unknown_sender", "unexpected_type", "wrong_id",
	    "hello_flood"};
	static const char *const link_names[2] = {"uplink", "downlink"};

	counter(b, "cdht_uplink_batches_sent_total",
	    "REPORTS batches sent to the parent (resends included)",
	    up.batches);
	counter(b, "cdht_uplink_reports_sent_total",
	    "reports sent to the parent (resends included)", up.reports);
	counter(b, "cdht_uplink_removals_sent_total",
	    "removals sent to the parent (resends included)", up.removals);
	counter(b, "cdht_uplink_batches_acked_total",
	    "batches whose ACK from the parent was committed",
	    up.acked_batches);
	counter(b, "cdht_uplink_reports_acked_total",
	    "reports acknowledged by the parent (ACK committed)",
	    up.acked_reports);
	counter(b, "cdht_uplink_removals_acked_total",
	    "removals acknowledged by the parent (ACK committed)",
	    up.acked_removals);
	counter(b, "cdht_uplink_reports_refused_total",
	    "reports the parent's ACKs said it refused", up.refused);

	counter(b, "cdht_downlink_batches_total",
	    "REPORTS batches from children applied and committed",
	    down.batches);
	counter(b, "cdht_downlink_reports_applied_total",
	    "reports from children that changed this node's copy",
	    down.applied);
	counter(b, "cdht_downlink_reports_ignored_total",
	    "reports from children no newer than the copy held", down.ignored);
	metrics_family(b, "cdht_downlink_reports_refused_total", "counter",
	    "reports from children refused, by reason: claim (a unit held "
	    "via another child), over_cap (max_origins_per_child), invalid "
	    "(path, counters or version)");
	evbuffer_add_printf(b,
	    "cdht_downlink_reports_refused_total{reason=\"claim\"} %llu\n"
	    "cdht_downlink_reports_refused_total{reason=\"over_cap\"} %llu\n"
	    "cdht_downlink_reports_refused_total{reason=\"invalid\"} %llu\n",
	    (unsigned long long)down.refused_claim,
	    (unsigned long long)down.refused_cap,
	    (unsigned long long)down.refused_invalid);
	counter(b, "cdht_downlink_removals_total",
	    "removals from children applied and committed", down.removals);

	metrics_family(b, "cdht_messages_dropped_total", "counter",
	    "messages from a link dropped unanswered, by link and reason");
	/* the uplink has one sender, its parent, and no HELLO to receive:
	 * only malformed, multi_frame and unexpected_type apply there */
	for (int l = 0; l < 2; l++)
		for (int w = 0; w < METRICS_NDROP; w++)
			if (l == METRICS_DOWNLINK ||
			    w == METRICS_DROP_MALFORMED ||
			    w == METRICS_DROP_MULTI_FRAME ||
			    w == METRICS_DROP_UNEXPECTED_TYPE)
				evbuffer_add_printf(b,
				    "cdht_messages_dropped_total{link=\"%s\","
				    "reason=\"%s\"} %llu\n",
				    link_names[l], drop_names[w],
				    (unsigned long long)dropped[l][w]);
}

/* /proc/stat's btime: the boot time, seconds since the epoch; 0 if unknown. */
static long long
boot_time(void)
{
	static long long btime;
	char line[256];
	FILE *f;

	if (btime != 0 || (f = fopen("/proc/stat", "r")) == NULL)
		return btime;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "btime %lld", &btime) == 1)
			break;
	fclose(f);
	return btime;
}

/* Entries of /proc/self/fd, not counting the one reading it; -1 if unknown. */
static long
open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;
}

/* The process metrics of the Prometheus client libraries, by their names. */
static void
write_process(struct evbuffer *b)
{
	char buf[1024], *p;
	unsigned long long utime, stime, start, vsize;
	long long rss;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE), fds;
	struct rlimit rl;
	size_t n;
	FILE *f = fopen("/proc/self/stat", "r");

	if (f == NULL)
		return;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* after the command name, which may hold spaces and parentheses:
	 * fields 3 (state) on; utime 14, stime 15, starttime 22, vsize 23,
	 * rss 24 (proc(5)) */
	if ((p = strrchr(buf, ')')) == NULL || tck <= 0 || page <= 0 ||
	    sscanf(p + 1,
	        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d "
	        "%*d %*d %*d %*d %*d %llu %llu %lld",
	        &utime, &stime, &start, &vsize, &rss) != 5)
		return;
	metrics_family(b, "process_cpu_seconds_total", "counter",
	    "user and system CPU time spent, in seconds");
	evbuffer_add_printf(b, "process_cpu_seconds_total %llu.%02llu\n",
	    (utime + stime) / (unsigned long long)tck,
	    (utime + stime) % (unsigned long long)tck * 100 /
	        (unsigned long long)tck);
	metrics_family(b, "process_resident_memory_bytes", "gauge",
	    "resident memory size in bytes");
	evbuffer_add_printf(
	    b, "process_resident_memory_bytes %lld\n", rss * (long long)page);
	metrics_family(b, "process_virtual_memory_bytes", "gauge",
	    "virtual memory size in bytes (the LMDB map included)");
	evbuffer_add_printf(b, "process_virtual_memory_bytes %llu\n", vsize);
	if (boot_time() > 0) {
		metrics_family(b, "process_start_time_seconds", "gauge",
		    "start time of the process since the Unix epoch, in "
		    "seconds");
		evbuffer_add_printf(b,
		    "process_start_time_seconds %llu.%02llu\n",
		    (unsigned long long)boot_time() +
		        start / (unsigned long long)tck,
		    start % (unsigned long long)tck * 100 /
		        (unsigned long long)tck);
	}
	if ((fds = open_fds()) >= 0) {
		metrics_family(b, "process_open_fds", "gauge",
		    "number of open file descriptors");
		evbuffer_add_printf(b, "process_open_fds %ld\n", fds);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY) {
		metrics_family(b, "process_max_fds", "gauge",
		    "maximum number of open file descriptors");
		evbuffer_add_printf(b, "process_max_fds %llu\n",
		    (unsigned long long)rl.rlim_cur);
	}
}

void
metrics_write(struct evbuffer *b)
{
	write_http(b);
	write_commits(b);
	write_links(b);
	write_process(b);
}
