/*
 * cmd_keys.c: the secrets cdht makes locally, with no server: API tokens
 * ("token new": 32 random bytes as hex, and the tokens-file line holding
 * their SHA-256) and CURVE key pairs for node links ("keygen").  Secrets are
 * wiped from memory once written.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "cdht.h"
#include "valid.h"

#define KEYS_TOKEN_BYTES 32

static const char keys_token_new_usage[] =
    "new --role viewer|inspector|clerk|admin [--label L]\n"
    "  Print a new token, then its tokens-file line \"ROLE SHA256 LABEL\".\n"
    "  The label (no blanks) defaults to ROLE-<first 8 hex of the hash>.\n";

static int
keys_label_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

static int
keys_token_new(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"role", required_argument, NULL, 'r'},
	    {"label", required_argument, NULL, 'l'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char token[CLI_TOKEN_LEN + 1], hex[CLI_TOKEN_LEN + 1];
	const char *role = NULL, *label = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			role = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'h':
			return cli_help(cli);
		default:
			return cli_bad_usage(cli, NULL);
		}
	}
	if (optind < argc)
		return cli_extra_arg(cli, argv[optind]);
	if (role == NULL)
		return cli_bad_usage(cli, "--role is required");
	if (strcmp(role, "viewer") != 0 && strcmp(role, "inspector") != 0 &&
	    strcmp(role, "clerk") != 0 && strcmp(role, "admin") != 0)
		return cli_bad_usage(cli,
		    "--role must be viewer, inspector, clerk or admin, not "
		    "'%s'",
		    role);
	if (label != NULL && !keys_label_ok(label))
		return cli_bad_usage(cli,
		    "--label must be non-empty, without blanks or control "
		    "characters");
	if (sodium_init() < 0) {
		fprintf(stderr, "cdht: libsodium failed to start\n");
		return CDHT_EXIT_REJECTED;
	}

	cli_token_make(token, hex);
	printf("%s\n", token);
	if (label != NULL)
		printf("%s %s %s\n", role, hex, label);
	else
		printf("%s %s %s-%.8s\n", role, hex, role, hex);
	fprintf(stderr,
	    "cdht: line 1 is the token: give it to its user, it is shown "
	    "only once.\n"
	    "cdht: line 2 goes into the node's tokens file (it holds only "
	    "the hash).\n");
	sodium_memzero(token, sizeof(token));
	return CDHT_EXIT_OK;
}

/* The caller's buffers; sodium_init() has run. */
void
cli_token_make(char token[CLI_TOKEN_LEN + 1], char hash[CLI_TOKEN_LEN + 1])
{
	unsigned char raw[KEYS_TOKEN_BYTES], h[crypto_hash_sha256_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(token, CLI_TOKEN_LEN + 1, raw, sizeof(raw));
	crypto_hash_sha256(h, (const unsigned char *)token, CLI_TOKEN_LEN);
	sodium_bin2hex(hash, CLI_TOKEN_LEN + 1, h, sizeof(h));
	sodium_memzero(raw, sizeof(raw));
}

/* cdht token new. */
int
cmd_token(struct cli *cli, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
	    {"new", keys_token_new, keys_token_new_usage},
	    {NULL, NULL, NULL},
	};

	return cli_dispatch(cli, argc, argv, subs);
}

/* Returns 0 or -1 (cdht.h). */
int
cli_key_write(const char *path, mode_t mode, const char *key)
{
	char line[VALID_Z85_KEY_LEN + 2];
	size_t n;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) ==
	    -1) {
		fprintf(stderr, "cdht: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = (size_t)snprintf(line, sizeof(line), "%s\n", key);
	/* Exact modes whatever the umask: the node checks the secret's. */
	if (fchmod(fd, mode) == -1 || write(fd, line, n) != (ssize_t)n ||
	    fsync(fd) == -1) {
		fprintf(stderr, "cdht: %s: %s\n", path, strerror(errno));
		sodium_memzero(line, sizeof(line));
		close(fd);
		unlink(path);
		return -1;
	}
	sodium_memzero(line, sizeof(line));
	if (close(fd) == -1) {
		fprintf(stderr, "cdht: %s: %s\n", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

/*
 * cdht keygen PREFIX: a CURVE key pair in PREFIX.secret (0600) and
 * PREFIX.public (0644), never overwriting either; exit 1 when one exists.
 */
int
cmd_keygen(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char pub[VALID_Z85_KEY_LEN + 1], sec[VALID_Z85_KEY_LEN + 1];
	char *secpath = NULL, *pubpath = NULL;
	struct stat st;
	int c, rc = CDHT_EXIT_REJECTED;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		return c == 'h' ? cli_help(cli) : cli_bad_usage(cli, NULL);
	if (argc - optind != 1)
		return cli_bad_usage(cli, "need one PREFIX");
	if (argv[optind][0] == '\0')
		return cli_bad_usage(cli, "PREFIX is empty");
	if (asprintf(&secpath, "%s.secret", argv[optind]) < 0 ||
	    asprintf(&pubpath, "%s.public", argv[optind]) < 0) {
		fprintf(stderr, "cdht: out of memory\n");
		return CDHT_EXIT_REJECTED;
	}
	/* Check both first so a refusal leaves nothing behind. */
	if (lstat(secpath, &st) == 0 || lstat(pubpath, &st) == 0) {
		fprintf(stderr, "cdht: %s exists: not overwriting a key\n",
		    lstat(secpath, &st) == 0 ? secpath : pubpath);
		goto out;
	}
	if (zmq_curve_keypair(pub, sec) == -1) {
		fprintf(stderr, "cdht: zmq_curve_keypair: %s\n",
		    zmq_strerror(errno));
		goto out;
	}
	if (cli_key_write(secpath, 0600, sec) == -1)
		goto out;
	if (cli_key_write(pubpath, 0644, pub) == -1) {
		unlink(secpath);
		goto out;
	}
	printf("%s\n", pub);
	rc = CDHT_EXIT_OK;
out:
	sodium_memzero(sec, sizeof(sec));
	free(secpath);
	free(pubpath);
	return rc;
}
