/*
 * loadgen.c: a load generator that speaks the real node-to-node protocol
 * (proto/PROTOCOL.md, through proto/wire.c) as many children of one parent,
 * for tests/bench/bench.py.
 *
 * Each child is a DEALER with its own CURVE key pair (the parent's children
 * file must list it) that says HELLO with an empty inventory, waits for
 * WELCOME, then sends REPORTS batches with the reference child's settings:
 * one batch in flight, at most BATCH entries, each key at most once per
 * batch.  A child's keys are (origin, year) for every origin of its lines
 * in the origins file and every year of the range; a report's path is
 * [child, origin], or [child] when the origin is the child itself.
 *
 * Phases: load (every key once, new to the parent), then, with -s, updates
 * for SECONDS: each key in turn gets a new version and new counters, as
 * fast as the ACKs come back (or at -r RATE updates per second over all
 * children, sent as soon as no batch is in flight).  At the end every batch
 * in flight is waited for, so the parent holds exactly the generator's last
 * state; the sums of that state per year are printed for the caller to
 * compare with the parent's totals.  The update rate is every update sent
 * before the deadline over the time from the first one sent to the last
 * ACK, so it does not depend on where the deadline falls in a batch.
 *
 * usage: loadgen -e ENDPOINT -k PARENT_PUBLIC -c CHILDREN -o ORIGINS
 *                [-y FROM-TO] [-b BATCH] [-l LEVEL] [-s SECONDS] [-r RATE]
 *   CHILDREN: lines "ID PUBLIC SECRET" (Z85 keys)
 *   ORIGINS:  tab-separated lines "CHILD ORIGIN NAME [C0 C1 ...]"; given
 *             counters (wire order) are used as is for every year and
 *             version, otherwise counters are generated per key and round
 * Prints one JSON object on stdout; progress and errors on stderr.  Exit 0
 * when every batch was acknowledged, 1 otherwise.
 *
 * Ownership: everything is allocated once at start-up and lives until exit.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "wire.h"

#define MAX_CHILDREN 4096
#define YEAR_MIN     2021
#define YEAR_MAX     2030

struct child {
	char id[WIRE_MAX_ID + 1];
	char pub[41], sec[41];
	void *sock;
	struct wire_report *keys; /* templates, sent in place */
	unsigned *round;          /* times each key was sent */
	size_t *oidx;             /* each key's origin index */
	size_t nkeys, cap;
	size_t pos;      /* next key to send */
	uint64_t seq;    /* seq of the batch in flight, 0: none */
	size_t inflight; /* reports in it */
	double sent_at;  /* when it was sent */
	int welcomed;
	uint64_t loaded; /* keys of the load phase acknowledged */
	double pending;  /* rate mode: updates due, not yet sent */
	int given;       /* counters come from the origins file */
};

static struct child children[MAX_CHILDREN];
static size_t nchildren;
static int year_from = 2021, year_to = 2030;
static size_t batch = 2000;
static const char *level = "province";
static uint64_t version_base;
static double *lat; /* ACK latencies, ms */
static size_t nlat, caplat;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *fmt, const char *arg)
{
	fprintf(stderr, "loadgen: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static struct child *
child_find(const char *id)
{
	for (size_t i = 0; i < nchildren; i++)
		if (strcmp(children[i].id, id) == 0)
			return &children[i];
	return NULL;
}

static void
read_children(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[512];

	if (f == NULL)
		die("cannot open %s", path);
	while (fgets(line, sizeof line, f) != NULL) {
		struct child *c;
		char id[64], pub[64], sec[64];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%63s %63s %63s", id, pub, sec) != 3 ||
		    strlen(id) > WIRE_MAX_ID || strlen(pub) != 40 ||
		    strlen(sec) != 40)
			die("bad children line: %s", line);
		if (nchildren == MAX_CHILDREN)
			die("more than %s children", "4096");
		c = &children[nchildren++];
		strcpy(c->id, id);
		strcpy(c->pub, pub);
		strcpy(c->sec, sec);
	}
	fclose(f);
}

/* Counters of a generated key: plausible and all different. */
static void
gen_counters(struct cdht_counters *c, size_t oi, int year, unsigned round)
{
	int64_t a =
	    50 + (int64_t)((oi * 31 + (size_t)year * 7 + round * 13) % 200);
	int64_t r = a - a / 3;

	memset(c, 0, sizeof *c);
	c->v[CDHT_C_assessed] = a;
	c->v[CDHT_C_recognized] = r;
	c->v[CDHT_C_outstanding] = a / 10;
	c->v[CDHT_C_adult_assessed] = a - a / 5;
	c->v[CDHT_C_adult_recognized] = r - r / 5;
	c->v[CDHT_C_staff_assessed] = a / 5;
	c->v[CDHT_C_staff_recognized] = r / 5;
	c->v[CDHT_C_digital_skilled] = r / 2;
	c->v[CDHT_C_digital_proficient] = r / 4;
	for (int g = 0; g < 5; g++) {
		int64_t ga = a / 5 + (g < a % 5), gr = r / 5 + (g < r % 5);

		c->v[CDHT_C_farmer_assessed + 2 * g] = ga;
		c->v[CDHT_C_farmer_recognized + 2 * g] = gr;
		c->v[CDHT_C_farmer_eligible + g] = gr;
	}
	c->v[CDHT_C_eligible] = r;
	c->v[CDHT_C_den_set] = 1;
	c->v[CDHT_C_adults] = 4 * a;
	c->v[CDHT_C_staff] = a;
}

static void
read_origins(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	size_t oi = 0;

	if (f == NULL)
		die("cannot open %s", path);
	while (fgets(line, sizeof line, f) != NULL) {
		char *cid, *origin, *name, *rest, *save = NULL;
		struct cdht_counters given;
		int ngiven = 0;
		struct child *c;

		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#' || line[0] == 0)
			continue;
		cid = strtok_r(line, "\t", &save);
		origin = strtok_r(NULL, "\t", &save);
		name = strtok_r(NULL, "\t", &save);
		rest = strtok_r(NULL, "\t", &save);
		if (cid == NULL || origin == NULL || name == NULL ||
		    strlen(origin) > WIRE_MAX_ID ||
		    strlen(name) > WIRE_MAX_NAME)
			die("bad origins line: %s", line);
		if ((c = child_find(cid)) == NULL)
			die("origins: unknown child %s", cid);
		memset(&given, 0, sizeof given);
		if (rest != NULL) {
			char *tok, *s2 = NULL;

			for (tok = strtok_r(rest, " ", &s2);
			     tok != NULL && ngiven < CDHT_NCOUNTERS;
			     tok = strtok_r(NULL, " ", &s2))
				given.v[ngiven++] = strtoll(tok, NULL, 10);
			c->given = 1;
		}
		for (int y = year_from; y <= year_to; y++) {
			struct wire_report *r;

			if (c->nkeys == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 256;
				c->keys =
				    realloc(c->keys, c->cap * sizeof *c->keys);
				c->round = realloc(
				    c->round, c->cap * sizeof *c->round);
				c->oidx =
				    realloc(c->oidx, c->cap * sizeof *c->oidx);
				if (c->keys == NULL || c->round == NULL ||
				    c->oidx == NULL)
					die("out of memory%s", "");
			}
			c->round[c->nkeys] = 0;
			c->oidx[c->nkeys] = oi;
			r = &c->keys[c->nkeys++];
			memset(r, 0, sizeof *r);
			strcpy(r->origin, origin);
			strcpy(r->level,
			    strcmp(origin, cid) == 0 ? level : "commune");
			strcpy(r->name, name);
			r->year = (uint16_t)y;
			strcpy(r->path[0], cid);
			r->path_len = 1;
			if (strcmp(origin, cid) != 0) {
				strcpy(r->path[1], origin);
				r->path_len = 2;
			}
			if (ngiven)
				r->counters = given;
			else
				gen_counters(&r->counters, oi, y, 0);
		}
		oi++;
	}
	fclose(f);
}

static void
send_msg(struct child *c, const struct wire_msg *m)
{
	char *buf;
	size_t len;
	int rc = wire_encode(m, &buf, &len);

	if (rc != WIRE_OK)
		die("encode: %s", wire_strerror(rc));
	if (zmq_send(c->sock, buf, len, 0) != (int)len)
		die("zmq_send: %s", zmq_strerror(errno));
	free(buf);
}

static void
send_hello(struct child *c)
{
	struct wire_msg m;

	memset(&m, 0, sizeof m);
	m.type = WIRE_HELLO;
	strcpy(m.id, c->id);
	strcpy(m.level, level);
	snprintf(m.name, sizeof m.name, "Bench %.16s", c->id);
	send_msg(c, &m);
}

/* Send the next batch of c: n keys from c->pos, each with a new version. */
static void
send_batch(struct child *c, size_t n, uint64_t *seqgen, int update)
{
	struct wire_msg m;
	time_t t = time(NULL);

	if (n > batch)
		n = batch;
	if (n > c->nkeys - c->pos)
		n = c->nkeys - c->pos;
	for (size_t i = c->pos; i < c->pos + n; i++) {
		struct wire_report *r = &c->keys[i];

		if (update) {
			c->round[i]++;
			if (!c->given)
				gen_counters(&r->counters, c->oidx[i], r->year,
				    c->round[i]);
		}
		r->version = version_base + c->round[i];
		r->updated_at = (int64_t)t;
	}
	memset(&m, 0, sizeof m);
	m.type = WIRE_REPORTS;
	m.seq = ++*seqgen;
	m.reports = &c->keys[c->pos];
	m.nreports = n;
	send_msg(c, &m);
	c->seq = m.seq;
	c->inflight = n;
	c->sent_at = now();
	c->pos = (c->pos + n) % c->nkeys;
}

static void
add_latency(double ms)
{
	if (nlat == caplat) {
		caplat = caplat ? 2 * caplat : 4096;
		if ((lat = realloc(lat, caplat * sizeof *lat)) == NULL)
			die("out of memory%s", "");
	}
	lat[nlat++] = ms;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Receive everything waiting on c; returns reports acknowledged. */
static size_t
pump(struct child *c, uint64_t *refused)
{
	size_t acked = 0;

	for (;;) {
		zmq_msg_t zm;
		struct wire_msg m;

		zmq_msg_init(&zm);
		if (zmq_msg_recv(&zm, c->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&zm);
			if (errno == EAGAIN)
				return acked;
			die("recv: %s", zmq_strerror(errno));
		}
		if (wire_decode(zmq_msg_data(&zm), zmq_msg_size(&zm), &m) !=
		    WIRE_OK) {
			zmq_msg_close(&zm);
			fprintf(stderr, "loadgen: %s: undecodable message\n",
			    c->id);
			continue;
		}
		zmq_msg_close(&zm);
		if (m.type == WIRE_WELCOME) {
			c->welcomed = 1;
		} else if (m.type == WIRE_ACK && c->seq && m.seq == c->seq) {
			add_latency((now() - c->sent_at) * 1000);
			acked += c->inflight;
			*refused += m.refused;
			c->seq = 0;
			c->inflight = 0;
		} else if (m.type == WIRE_RESYNC) {
			die("%s: RESYNC from the parent (session lost)", c->id);
		}
		wire_msg_free(&m);
	}
}

static void *
open_child(
    void *ctx, struct child *c, const char *endpoint, const char *server_key)
{
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	int64_t maxmsg = WIRE_MAX_MSG;
	int zero = 0, ivl = 1000, tmo = 3000, hs = 5000, big = 100000;

	if (s == NULL ||
	    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_key, 41) != 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, c->pub, 41) != 0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, c->sec, 41) != 0 ||
	    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
	    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
	    zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl) != 0 ||
	    zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &tmo, sizeof tmo) != 0 ||
	    zmq_setsockopt(s, ZMQ_HEARTBEAT_TTL, &tmo, sizeof tmo) != 0 ||
	    zmq_setsockopt(s, ZMQ_HANDSHAKE_IVL, &hs, sizeof hs) != 0 ||
	    zmq_setsockopt(s, ZMQ_SNDHWM, &big, sizeof big) != 0 ||
	    zmq_connect(s, endpoint) != 0)
		die("socket set-up: %s", zmq_strerror(errno));
	return s;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen -e ENDPOINT -k PARENT_PUBLIC -c CHILDREN "
	    "-o ORIGINS\n"
	    "               [-y FROM-TO] [-b BATCH] [-l LEVEL] [-s SECONDS] "
	    "[-r RATE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *endpoint = NULL, *server_key = NULL, *cpath = NULL,
	           *opath = NULL;
	double seconds = 0, rate = 0, t0, t_load, t_upd, deadline, last;
	double updates_due = 0, t_last;
	uint64_t seqgen, refused = 0, upd_acked = 0, keys = 0, loaded = 0,
	                 upd_sent = 0;
	zmq_pollitem_t *items;
	struct rusage ru;
	void *ctx;
	int opt;

	while ((opt = getopt(argc, argv, "e:k:c:o:y:b:l:s:r:")) != -1) {
		switch (opt) {
		case 'e':
			endpoint = optarg;
			break;
		case 'k':
			server_key = optarg;
			break;
		case 'c':
			cpath = optarg;
			break;
		case 'o':
			opath = optarg;
			break;
		case 'y':
			if (sscanf(optarg, "%d-%d", &year_from, &year_to) !=
			        2 ||
			    year_from < YEAR_MIN || year_to > YEAR_MAX ||
			    year_from > year_to)
				usage();
			break;
		case 'b':
			batch = (size_t)atol(optarg);
			break;
		case 'l':
			level = optarg;
			break;
		case 's':
			seconds = atof(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		default:
			usage();
		}
	}
	if (!endpoint || !server_key || strlen(server_key) != 40 || !cpath ||
	    !opath || batch < 1 || batch > WIRE_BATCH_ENTRIES)
		usage();
	read_children(cpath);
	read_origins(opath);
	for (size_t i = 0; i < nchildren; i++) {
		if (children[i].nkeys == 0)
			die("child %s has no origins", children[i].id);
		keys += children[i].nkeys;
	}
	{
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		version_base =
		    (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
		seqgen = (uint64_t)ts.tv_sec << 16;
	}
	ctx = zmq_ctx_new();
	items = calloc(nchildren, sizeof *items);
	for (size_t i = 0; i < nchildren; i++) {
		children[i].sock =
		    open_child(ctx, &children[i], endpoint, server_key);
		items[i].socket = children[i].sock;
		items[i].events = ZMQ_POLLIN;
		send_hello(&children[i]);
	}
	/* HELLO / WELCOME */
	t0 = now();
	for (size_t done = 0; done < nchildren;) {
		if (now() - t0 > 60) {
			for (size_t i = 0; i < nchildren; i++)
				if (!children[i].welcomed)
					die("no WELCOME for child %s (is its "
					    "key listed?)",
					    children[i].id);
		}
		zmq_poll(items, (int)nchildren, 100);
		done = 0;
		for (size_t i = 0; i < nchildren; i++) {
			if (!children[i].welcomed)
				pump(&children[i], &refused);
			done += children[i].welcomed;
		}
	}
	fprintf(stderr,
	    "loadgen: %zu children welcomed in %.2f s; loading "
	    "%" PRIu64 " keys\n",
	    nchildren, now() - t0, keys);

	/* load: every key once */
	t0 = now();
	for (size_t i = 0; i < nchildren; i++)
		send_batch(&children[i], batch, &seqgen, 0);
	while (loaded < keys) {
		if (now() - t0 > 600)
			die("load phase: no progress for %s", "600 s");
		zmq_poll(items, (int)nchildren, 1000);
		for (size_t i = 0; i < nchildren; i++) {
			struct child *c = &children[i];
			size_t a = pump(c, &refused);

			c->loaded += a;
			loaded += a;
			if (c->seq == 0 && c->loaded < c->nkeys)
				send_batch(c, c->nkeys - c->loaded, &seqgen, 0);
		}
	}
	t_load = now() - t0;
	fprintf(stderr, "loadgen: loaded %" PRIu64 " keys in %.2f s (%.0f/s)\n",
	    keys, t_load, keys / t_load);

	/* updates */
	t0 = last = t_last = now();
	deadline = t0 + seconds;
	while (seconds > 0) {
		double t = now(), dt = t - last;
		int stop = t >= deadline, busy = 0;

		last = t;
		for (size_t i = 0; i < nchildren; i++) {
			struct child *c = &children[i];
			size_t a = pump(c, &refused);

			if (a) {
				upd_acked += a;
				t_last = now();
			}
			if (rate > 0 && !stop) {
				c->pending += rate / nchildren * dt;
				updates_due += rate / nchildren * dt;
			}
			if (c->seq != 0) {
				busy = 1;
				continue;
			}
			if (stop)
				continue;
			if (rate > 0) {
				size_t n = (size_t)c->pending;

				if (n == 0)
					continue;
				if (n > c->nkeys)
					n = c->nkeys; /* coalesced */
				if (n > batch)
					n = batch;
				c->pending -= (double)n;
				if (c->pending > (double)c->nkeys)
					c->pending = (double)c->nkeys;
				send_batch(c, n, &seqgen, 1);
				upd_sent += c->inflight;
			} else {
				send_batch(c, batch, &seqgen, 1);
				upd_sent += c->inflight;
			}
			busy = 1;
		}
		if (stop && !busy)
			break;
		zmq_poll(items, (int)nchildren, rate > 0 ? 2 : 100);
	}
	/* from the first update sent to the last ACK: every batch counts */
	t_upd = t_last - t0;
	if (t_upd > 0)
		fprintf(stderr,
		    "loadgen: %" PRIu64 " updates acknowledged in %.2f s "
		    "(%.0f/s)\n",
		    upd_acked, t_upd, upd_acked / t_upd);
	getrusage(RUSAGE_SELF, &ru);
	qsort(lat, nlat, sizeof *lat, cmp_double);

	printf("{\"children\":%zu,\"keys\":%" PRIu64 ",\"batch\":%zu,"
	       "\"load\":{\"seconds\":%.6f,\"rate\":%.1f},",
	    nchildren, keys, batch, t_load, keys / t_load);
	printf("\"update\":{\"seconds\":%.6f,\"due\":%.0f,\"sent\":%" PRIu64
	       ",\"acked\":%" PRIu64 ",\"rate\":%.1f},",
	    t_upd, rate > 0 ? updates_due : (double)upd_sent, upd_sent,
	    upd_acked, t_upd > 0 ? upd_acked / t_upd : 0.0);
	printf("\"refused\":%" PRIu64 ",\"ack_ms\":{\"n\":%zu,\"p50\":%.3f,"
	       "\"p99\":%.3f,\"max\":%.3f},",
	    refused, nlat, nlat ? lat[nlat / 2] : 0.0,
	    nlat ? lat[(size_t)(nlat * 0.99)] : 0.0,
	    nlat ? lat[nlat - 1] : 0.0);
	printf("\"cpu_seconds\":%.3f,\"sums\":{",
	    ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	        ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	for (int y = year_from; y <= year_to; y++) {
		uint64_t s[CDHT_NCOUNTERS] = {0};

		for (size_t i = 0; i < nchildren; i++)
			for (size_t k = 0; k < children[i].nkeys; k++)
				if (children[i].keys[k].year == y)
					for (int j = 0; j < CDHT_NCOUNTERS; j++)
						s[j] += (uint64_t)children[i]
						            .keys[k]
						            .counters.v[j];
		printf("%s\"%d\":[", y == year_from ? "" : ",", y);
		for (int j = 0; j < CDHT_NCOUNTERS; j++)
			printf("%s%" PRIu64, j ? "," : "", s[j]);
		printf("]");
	}
	printf("}}\n");
	for (size_t i = 0; i < nchildren; i++)
		zmq_close(children[i].sock);
	zmq_ctx_term(ctx);
	return 0;
}
