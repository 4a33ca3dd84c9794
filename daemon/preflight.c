/*
 * preflight.c: the checks `cdhtd -n` and the real start share (see
 * preflight.h).  Nothing here binds a port for good or writes a file: the
 * addresses are tried on ephemeral ports and data_dir is only looked at,
 * so -n is safe to run beside the node it checks.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preflight.h"

/* Load the key file named by section.secret_key into kp; returns errors. */
static int
pf_key(const struct conf *c, const char *section, const char *path,
    struct zlink_keypair *kp)
{
	char err[4300];

	switch (zlink_load_key(path, kp, err, sizeof(err))) {
	case ZLINK_KEY_OK:
		return 0;
	case ZLINK_KEY_LOOSE:
		conf_errorf(c, section, "secret_key", "warning: %s", err);
		return 0;
	default:
		conf_errorf(c, section, "secret_key", "%s", err);
		return 1;
	}
}

/* data_dir: a writable directory, or one store_open can create (it makes
 * the last component only).  Returns errors. */
static int
pf_data_dir(const struct conf *c)
{
	char parent[sizeof(c->data_dir)], *slash;
	const char *why;
	struct stat sb;

	if (stat(c->data_dir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode)) {
			conf_errorf(c, "node", "data_dir",
			    "\"%s\" is not a directory", c->data_dir);
			return 1;
		}
		if (access(c->data_dir, W_OK | X_OK) != 0) {
			conf_errorf(c, "node", "data_dir",
			    "cannot write to \"%s\": %s", c->data_dir,
			    strerror(errno));
			return 1;
		}
		return 0;
	}
	if (errno != ENOENT) {
		conf_errorf(c, "node", "data_dir", "cannot use \"%s\": %s",
		    c->data_dir, strerror(errno));
		return 1;
	}
	/* missing: its parent must let us create it */
	snprintf(parent, sizeof(parent), "%s", c->data_dir);
	while (strlen(parent) > 1 && parent[strlen(parent) - 1] == '/')
		parent[strlen(parent) - 1] = '\0';
	if ((slash = strrchr(parent, '/')) == NULL)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	if (stat(parent, &sb) != 0)
		why = strerror(errno);
	else if (!S_ISDIR(sb.st_mode))
		why = "not a directory";
	else if (access(parent, W_OK | X_OK) != 0)
		why = strerror(errno);
	else
		return 0;
	conf_errorf(c, "node", "data_dir", "cannot create \"%s\": %s: %s",
	    c->data_dir, parent, why);
	return 1;
}

/*
 * http.listen: resolve HOST as libevent's evhttp_bind_socket does (the
 * first address of a passive getaddrinfo) and bind that address on an
 * ephemeral port.  Returns errors.
 */
static int
pf_http_listen(const struct conf *c)
{
	struct addrinfo hints, *ai = NULL;
	char host[256];
	int fd, rc, port;

	if (conf_hostport(c->http_listen, 0, host, sizeof(host), &port) != 0) {
		conf_errorf(c, "http", "listen", "\"%s\" is not HOST:PORT",
		    c->http_listen);
		return 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(host, "0", &hints, &ai)) != 0) {
		conf_errorf(c, "http", "listen", "cannot resolve \"%s\": %s",
		    host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return 1;
	}
	rc = 0;
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	         ai->ai_protocol)) == -1 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		conf_errorf(c, "http", "listen", "cannot listen on \"%s\": %s",
		    host, strerror(errno));
		rc = 1;
	}
	if (fd != -1)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

/* downlink.listen: can libzmq bind it here?  Returns errors. */
static int
pf_downlink_listen(const struct conf *c)
{
	char err[512];

	if (zlink_check_bind(c->downlink_listen, err, sizeof(err)) == 0)
		return 0;
	conf_errorf(c, "downlink", "listen", "%s", err);
	return 1;
}

/* c is borrowed; on 0 errors *pf holds what it read (preflight_clear). */
int
preflight_check(const struct conf *c, struct preflight *pf)
{
	char where[4200];
	int errors = 0;

	memset(pf, 0, sizeof(*pf));
	if (c->tokens_path[0] && (pf->auth = auth_load(c->tokens_path,
	                              conf_where(c, "http", "tokens", where,
	                                  sizeof(where)))) == NULL)
		errors++;
	if (c->uplink_secret_path[0])
		errors += pf_key(c, "uplink", c->uplink_secret_path, &pf->up);
	if (c->downlink_secret_path[0])
		errors +=
		    pf_key(c, "downlink", c->downlink_secret_path, &pf->down);
	if (c->downlink_listen[0])
		errors += pf_downlink_listen(c);
	if (c->data_dir[0])
		errors += pf_data_dir(c);
	if (c->http_listen[0])
		errors += pf_http_listen(c);
	if (errors)
		preflight_clear(pf);
	return errors;
}

void
preflight_clear(struct preflight *pf)
{
	auth_free(&pf->auth);
	explicit_bzero(&pf->up, sizeof(pf->up));
	explicit_bzero(&pf->down, sizeof(pf->down));
}
