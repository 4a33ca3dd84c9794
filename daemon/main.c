/*
 * main.c: cdhtd: flags, conf and preflight checks (the same for -n and the
 * start), the data directory's lock, wiring of store, committer, HTTP API,
 * uplink and downlink into one libevent loop, signals, and the service manager
 * (service.c).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <zmq.h>

#include "aggregate.h"
#include "cdht_version.h"
#include "auth.h"
#include "commit.h"
#include "conf.h"
#include "dirlock.h"
#include "downlink.h"
#include "http_api.h"
#include "log.h"
#include "migrate.h"
#include "outbox.h"
#include "preflight.h"
#include "records.h"
#include "reload.h"
#include "service.h"
#include "titles.h"
#include "store.h"
#include "uplink.h"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: cdhtd [-dnv] -c FILE\n"
	    "       cdhtd --backup DEST -c FILE\n"
	    "       cdhtd --help | --version\n"
	    "  -c, --conf FILE  configuration (INI; cdhtd.conf(5))\n"
	    "  -n, --check      check the configuration and what it names "
	    "(tokens,\n"
	    "                   keys, children, addresses, data_dir) as the "
	    "start would,\n"
	    "                   print \"configuration OK\" and exit\n"
	    "  --backup DEST    write a consistent, compacted copy of the data "
	    "directory\n"
	    "                   into DEST/data.mdb (0600) while the node runs, "
	    "and exit\n"
	    "  -d               foreground (the only mode; accepted for "
	    "habit)\n"
	    "  -v, --verbose    verbose (debug) logging\n"
	    "  -h, --help       this text\n"
	    "  -V, --version    print the version and exit\n"
	    "Runs in the foreground and logs to stderr.  SIGTERM or SIGINT: "
	    "stop.\nSIGHUP: reload the conf, tokens and children (cdhtd(8)).\n"
	    "SIGUSR1: write every acknowledged turn to data.mdb (--backup).\n"
	    "Exit: 0 ok, 1 configuration or start-up error, 2 usage.  "
	    "Manual: cdhtd(8).\n");
}

/* What the signal handlers reach. */
static struct event_base *sig_base;
static struct reload sig_reload;
static struct service *sig_service;

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	if (sig == SIGUSR1) {
		committer_backup_mark(sig_reload.cm);
		return;
	}
	if (sig == SIGHUP) {
		int rc = reload_run(&sig_reload);

		if (sig_service != NULL)
			service_status(sig_service,
			    rc == 0 ? "reloaded"
			            : "reload refused: conf errors (journal)");
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopexit(sig_base, NULL);
}

static void
link_state(void *arg, const char *child, int *connected, int64_t *last_seen)
{
	struct downlink *d = arg;

	*connected = 0;
	*last_seen = 0;
	if (d != NULL)
		downlink_child_state(d, child, connected, last_seen);
}

static void
kick_cb(void *arg)
{
	uplink_kick(arg);
}

/*
 * The event base.  epoll's changelist folds an event's removal and re-adding
 * within one loop turn (evhttp's, around every request and reply) into one
 * epoll_ctl or none: 1.02x..1.04x at 8 and 64 clients (README, "What changed
 * for 0.5.2").  Safe because cdhtd never dup()s a descriptor it gives
 * libevent (the changelist misbehaves with two descriptors of one file).
 */
static struct event_base *
new_base(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;

	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/* One start-up step in a transaction of its own; a failure (a full map)
 * is logged with what to do, and the node starts all the same. */
static void
startup_step(struct store *st, const struct conf *c, const char *what,
    int (*fn)(struct store_txn *, const struct conf *))
{
	struct store_txn *t = store_begin(st, 1);
	int rc = t != NULL ? fn(t, c) : STORE_EIO;

	if (t != NULL && rc == STORE_OK)
		rc = store_commit(&t);
	else
		store_abort(&t);
	if (rc == STORE_FULL)
		log_warnx(
		    "%s: start-up step skipped (%s): the storage map is "
		    "full; the node serves reads, refuses writes with 507 "
		    "and tries again at its next start: raise [node] "
		    "map_size_mb and restart",
		    what, store_strerror(rc));
	else if (rc != STORE_OK)
		log_warnx(
		    "%s: start-up step failed: %s", what, store_strerror(rc));
}

static int
ensure_years(struct store_txn *t, const struct conf *c)
{
	return records_ensure_years(t, c->id, (int64_t)time(NULL));
}

/* This node's [targets] into every year's local report (after
 * ensure_years: every year has one), new versions where they changed. */
static int
stamp_targets(struct store_txn *t, const struct conf *c)
{
	struct records_actor act = {
	    c->id, "cdhtd", (int64_t)time(NULL), c->recognition};
	int n = 0, rc = records_stamp_targets(t, &act, &c->targets, &n);

	if (rc == STORE_OK && n > 0)
		log_info("targets: stamped into the reports of %d years", n);
	return rc;
}

/* cdhtd --backup DEST: a compacted copy of the data_dir the conf names,
 * taken beside the running node. */
static int
backup_to(const char *path, const char *dest)
{
	struct conf c;
	char file[4200];
	struct stat sb;

	if (conf_load(path, &c) != 0) {
		conf_free(&c);
		return 1;
	}
	if (store_backup(c.data_dir, dest) != STORE_OK) {
		conf_free(&c);
		return 1;
	}
	snprintf(file, sizeof(file), "%s/data.mdb", dest);
	printf("backup of %s written to %s (%lld bytes)\n", c.data_dir, file,
	    stat(file, &sb) == 0 ? (long long)sb.st_size : -1LL);
	conf_free(&c);
	return 0;
}

/*
 * The recognition mode changed since the figures were counted (or the
 * directory predates the setting, and so counted by score): re-evaluate
 * every year that is not filed; a filed year keeps what was filed.
 */
static int
recognition_mode(struct store_txn *t, const struct conf *c)
{
	struct records_actor act = {
	    c->id, "cdhtd", (int64_t)time(NULL), c->recognition};
	size_t np = 0, nt = 0;
	int mode, rc;

	if ((rc = records_recognition_stored(t, &mode)) != STORE_OK ||
	    mode == c->recognition)
		return rc;
	for (int y = RULES_YEAR_MIN; y <= RULES_YEAR_MAX && rc == STORE_OK;
	     y++) {
		size_t a = 0, b = 0;

		if ((rc = records_year_filed(t, y)) > 0) {
			log_warnx("recognition by %s: %d is filed and keeps "
			          "its figures (reopen it to recount)",
			    c->recognition ? "decision" : "score", y);
			rc = STORE_OK;
			continue;
		}
		if (rc == STORE_OK)
			rc = records_recount(t, &act, y, &a);
		if (rc == STORE_OK)
			rc = titles_recount(t, &act, y, &b);
		np += a;
		nt += b;
	}
	if (rc == STORE_OK)
		rc = records_recognition_store(t, c->recognition);
	if (rc == STORE_OK)
		log_info("recognition is now by %s: %zu assessments and %zu "
		         "title records recounted",
		    c->recognition ? "decision" : "score", np, nt);
	return rc;
}

/*
 * Start-up: migrate an older data directory (one transaction; without it
 * nothing can be served), then the housekeeping, each step on its own so
 * that a full map never keeps a node from starting.
 */
static void
startup_txn(struct store *st, const struct conf *c)
{
	int rc;

	if ((rc = migrate_run(st, c)) != STORE_OK)
		fatalx("%s: cannot migrate the data directory: %s%s",
		    c->data_dir, store_strerror(rc),
		    rc == STORE_FULL ? " (raise [node] map_size_mb)" : "");
	startup_step(st, c, "reports of every year", ensure_years);
	startup_step(st, c, "the recognition mode", recognition_mode);
	startup_step(st, c, "counts_from", reload_counts_from);
	startup_step(st, c, "this node's targets", stamp_targets);
	startup_step(st, c, "retired units", aggregate_retire);
	startup_step(st, c, "forgetting children no longer configured",
	    aggregate_drop_unconfigured);
	startup_step(st, c, "the outbox", outbox_startup);
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *backup = NULL;
	int ch, check = 0, verbose = 0;
	struct conf conf;
	struct preflight pf;
	struct dirlock *lock = NULL;
	struct auth *auth;
	struct store *st;
	struct event_base *base;
	struct committer *cm;
	struct http_api *http;
	struct uplink *up = NULL;
	struct downlink *down = NULL;
	struct service *svc = NULL;
	struct event *sigs[4];
	const int signums[4] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	void *zctx = NULL;
	char where[4200];
	int rc;

	static const struct option longopts[] = {
	    {"conf", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'n'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"backup", required_argument, NULL, 'B'},
	    {NULL, 0, NULL, 0},
	};

	while (
	    (ch = getopt_long(argc, argv, "c:dnvhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'V':
			printf("cdhtd %s\n", CDHT_VERSION);
			return 0;
		case 'c':
			path = optarg;
			break;
		case 'd': /* foreground is the only mode; accepted for habit */
			break;
		case 'n':
			check = 1;
			break;
		case 'B':
			backup = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init(verbose);
	if (backup != NULL)
		return backup_to(path, backup);
	/* -n checks exactly what the start checks; every error is reported */
	rc = conf_load(path, &conf);
	rc += preflight_check(&conf, &pf);
	if (rc != 0) {
		preflight_clear(&pf);
		conf_free(&conf);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		preflight_clear(&pf);
		conf_free(&conf);
		return 0;
	}
	auth = pf.auth;
	pf.auth = NULL;
	signal(SIGPIPE, SIG_IGN);
	/* the lock file says we answer it: never die of it while starting */
	signal(SIGUSR1, SIG_IGN);
	/* before LMDB: a second daemon on this directory stops here */
	if (dirlock_take(conf.data_dir,
	        conf_where(&conf, "node", "data_dir", where, sizeof(where)),
	        &lock) != 0)
		return 1;
	if (store_open_opts(conf.data_dir,
	        &(struct store_opts){conf.map_size_mb, conf.journal_mb, 0},
	        &st) != STORE_OK)
		fatalx("%s: cannot open the store in %s", where, conf.data_dir);
	startup_txn(st, &conf);

	if ((base = new_base()) == NULL ||
	    event_base_priority_init(base, 3) != 0)
		fatalx("libevent initialisation failed");
	if ((cm = committer_new(base, st)) == NULL)
		fatalx("out of memory");
	if (conf.parent[0] || conf.downlink_listen[0]) {
		if ((zctx = zmq_ctx_new()) == NULL)
			fatalx("zmq_ctx_new failed");
	}
	if (conf.parent[0] &&
	    (up = uplink_new(base, zctx, &conf, &pf.up, st, cm)) == NULL)
		fatalx("%s: cannot start the uplink to %s",
		    conf_where(&conf, "uplink", "parent", where, sizeof(where)),
		    conf.parent);
	if (conf.downlink_listen[0] &&
	    (down = downlink_new(base, zctx, &conf, &pf.down, st, cm)) == NULL)
		fatalx("%s: cannot start the downlink on %s",
		    conf_where(
		        &conf, "downlink", "listen", where, sizeof(where)),
		    conf.downlink_listen);
	preflight_clear(&pf); /* the links hold what they need */
	if (up != NULL)
		committer_on_commit(cm, kick_cb, up);
	if ((http = http_api_new(
	         base, &conf, st, cm, auth, link_state, down, up)) == NULL)
		fatalx("%s: cannot start the HTTP API on %s",
		    conf_where(&conf, "http", "listen", where, sizeof(where)),
		    conf.http_listen);
	sig_base = base;
	sig_reload = (struct reload){
	    .live = &conf, .auth = &auth, .http = http, .down = down, .cm = cm};
	for (int i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(base, signums[i], signal_cb, NULL);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) != 0)
			fatalx("cannot install signal handlers");
	}
	if (up != NULL)
		uplink_kick(up);
	log_info("cdhtd %s %s (%s) ready: %zu tokens, %zu children%s%s",
	    conf.id, conf.name, rules_level_names[conf.level], auth_count(auth),
	    conf.nchildren, conf.parent[0] ? ", parent " : "", conf.parent);
	if ((svc = service_new(base, &conf, st, down, up)) == NULL)
		fatalx("out of memory");
	sig_service = svc;
	service_ready(svc);
	rc = event_base_dispatch(base);
	service_stopping(svc);
	sig_service = NULL;
	service_free(&svc);
	/* commit (and answer) what the last turn wrote while every module
	 * whose callbacks are queued still exists */
	committer_free(&cm);
	http_api_free(&http);
	downlink_free(&down);
	uplink_free(&up);
	for (int i = 0; i < 4; i++)
		event_free(sigs[i]);
	if (zctx != NULL)
		zmq_ctx_term(zctx);
	event_base_free(base);
	store_close(&st);
	dirlock_release(&lock);
	auth_free(&auth);
	reload_free(&sig_reload);
	conf_free(&conf);
	log_info("stopped");
	return rc == -1 ? 1 : 0;
}
