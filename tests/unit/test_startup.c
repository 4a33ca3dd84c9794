/*
 * test_startup.c: what the start reads and takes before anything else:
 * zlink_load_key (a good key and its public half, a key readable by
 * others, missing, short, non-Z85 and overflowing files, a directory) and
 * dirlock (exclusive while held, the message names the holder's pid and
 * the directory, free again after release, a missing directory created).
 * stderr is captured into a file where a message is checked.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dirlock.h"
#include "zlink.h"

#include "fixture.h"

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void
test_load_key(void **state)
{
	char dir[64], path[128], err[512], text[64];
	char pub[41], sec[41];
	struct zlink_keypair kp;
	static const char *const bad[] = {"", "short\n",
	    "rq:rM>}U?@Lns47E1.kR.o@n.FcmmsL/@{H8]yf7x\n", /* 41 */
	    "rq:rM>}U?@Lns47E1.kR.o@n.FcmmsL/@{H8]yf\"\n", /* not Z85 */
	    "########################################\n"}; /* overflows */

	(void)state;
	assert_int_equal(fx_tmpdir(dir, "startup"), 0);
	assert_int_equal(zmq_curve_keypair(pub, sec), 0);
	snprintf(path, sizeof(path), "%s/node.secret", dir);
	snprintf(text, sizeof(text), "%s\n", sec);
	write_file(path, text, 0600);
	assert_int_equal(
	    zlink_load_key(path, &kp, err, sizeof(err)), ZLINK_KEY_OK);
	assert_string_equal(kp.secret, sec);
	assert_string_equal(kp.public, pub);
	assert_string_equal(err, "");

	/* readable by others: loaded, with a warning naming the file */
	write_file(path, text, 0644);
	assert_int_equal(
	    zlink_load_key(path, &kp, err, sizeof(err)), ZLINK_KEY_LOOSE);
	assert_string_equal(kp.public, pub);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "chmod 600"));

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i], 0600);
		assert_int_equal(
		    zlink_load_key(path, &kp, err, sizeof(err)), ZLINK_KEY_ERR);
		assert_string_equal(kp.secret, ""); /* nothing half-loaded */
		assert_non_null(strstr(err, "40 Z85"));
		assert_non_null(strstr(err, path));
	}
	unlink(path);
	assert_int_equal(
	    zlink_load_key(path, &kp, err, sizeof(err)), ZLINK_KEY_ERR);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(
	    zlink_load_key(dir, &kp, err, sizeof(err)), ZLINK_KEY_ERR);
	assert_non_null(strstr(err, "not a file"));
	fx_rm_dir(dir);
}

/* dirlock_take with stderr captured into out; returns its result. */
static int
take(const char *dir, struct dirlock **l, char *out, size_t size)
{
	char cap[] = "/tmp/cdht-test-capture-XXXXXX";
	int fd = mkstemp(cap), saved, rc;
	ssize_t n;

	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_true(dup2(fd, 2) == 2);
	rc = dirlock_take(dir, "conf.ini:5: node.data_dir", l);
	fflush(stderr);
	assert_true(dup2(saved, 2) == 2);
	close(saved);
	assert_true(lseek(fd, 0, SEEK_SET) == 0);
	n = read(fd, out, size - 1);
	assert_true(n >= 0);
	out[n] = '\0';
	close(fd);
	unlink(cap);
	return rc;
}

static void
test_dirlock(void **state)
{
	char dir[64], data[96], lockf[128], err[1024], pid[32];
	struct dirlock *a = NULL, *b = NULL;
	FILE *fp;

	(void)state;
	assert_int_equal(fx_tmpdir(dir, "dirlock"), 0);
	snprintf(data, sizeof(data), "%s/data", dir);
	snprintf(lockf, sizeof(lockf), "%s/lock", data);
	/* the directory is created, the lock file holds our pid */
	assert_int_equal(take(data, &a, err, sizeof(err)), 0);
	assert_non_null(a);
	assert_string_equal(err, "");
	assert_non_null(fp = fopen(lockf, "r"));
	assert_non_null(fgets(pid, sizeof(pid), fp));
	fclose(fp);
	assert_int_equal(atol(pid), (long)getpid());
	/* a second taker (another open file, as another process would
	 * have) is refused, told who holds it */
	assert_int_equal(take(data, &b, err, sizeof(err)), -1);
	assert_null(b);
	snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
	assert_non_null(strstr(err, pid));
	assert_non_null(strstr(err, data));
	assert_true(strncmp(err, "conf.ini:5: node.data_dir: ", 27) == 0);
	/* released: free again */
	dirlock_release(&a);
	assert_null(a);
	dirlock_release(&a); /* NULL-tolerant */
	assert_int_equal(take(data, &b, err, sizeof(err)), 0);
	dirlock_release(&b);
	/* a directory that cannot be created (no parent) */
	snprintf(data, sizeof(data), "%s/none/x", dir);
	assert_int_equal(take(data, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot create"));
	snprintf(data, sizeof(data), "%s/data", dir);
	unlink(lockf);
	rmdir(data);
	fx_rm_dir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_load_key),
	    cmocka_unit_test(test_dirlock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
