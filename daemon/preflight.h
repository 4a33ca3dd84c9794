/*
 * preflight.h: everything the start needs beyond the conf file itself,
 * checked by one function that both `cdhtd -n` and the real start call, so
 * -n accepts exactly what starts: the tokens file, the CURVE key files of
 * both links, data_dir, the HTTP listen address and the downlink's bind
 * address.  Every error names the conf file, line and key.
 */
#ifndef CDHT_PREFLIGHT_H
#define CDHT_PREFLIGHT_H

#include "auth.h"
#include "conf.h"
#include "zlink.h"

/* What the checks read, for the start to use. */
struct preflight {
	struct auth *auth;         /* [http] tokens, owned */
	struct zlink_keypair up;   /* [uplink] secret_key ("" without one) */
	struct zlink_keypair down; /* [downlink] secret_key ("" without) */
};

/*
 * Check what c (borrowed) names, as far as conf_load could read it (a
 * value it refused or that is missing is skipped: conf_load reported it):
 * - http.tokens parses (auth_load);
 * - uplink.secret_key and downlink.secret_key hold CURVE secret keys (a
 *   key readable by group or others is a warning, not an error);
 * - node.data_dir is a writable directory, or can be created (its parent
 *   is a writable directory);
 * - http.listen resolves and its address can be bound here (tried on an
 *   ephemeral port, so a running node on the same conf does not fail it);
 * - downlink.listen can be bound by libzmq (likewise on an ephemeral port).
 * Prints every problem to stderr as "file:line: section.key: message" and
 * goes on, so all are reported.  Returns the number of errors; on 0, *pf
 * (the caller's) holds what was read: release it with preflight_clear
 * (the start may take pf->auth and NULL it).  On errors *pf is cleared
 * already.
 */
int preflight_check(const struct conf *c, struct preflight *pf);

/* Free pf's tokens and wipe its keys; pf itself is the caller's.  Safe on
 * a cleared pf.  Returns nothing. */
void preflight_clear(struct preflight *pf);

#endif
