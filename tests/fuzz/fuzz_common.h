/*
 * fuzz_common.h: what the libFuzzer targets of tests/fuzz share: named
 * checks that abort on failure (so libFuzzer keeps the input as a crash),
 * the check every client-facing error must pass, and temporary
 * directories.
 *
 * Every check has a short name ("error-utf8", "wire-roundtrip", ...) printed
 * with its failure.  A check named in the environment variable
 * CDHT_FUZZ_KNOWN_OPEN (names separated by spaces or commas; scripts/fuzz
 * fills it from tests/fuzz/known-open.txt) is a known, open finding: its
 * failures are printed (the first few) and counted, and the input goes on
 * instead of aborting, so a long run is not stopped by a bug whose fix is
 * already under way.
 */
#ifndef CDHT_FUZZ_COMMON_H
#define CDHT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/*
 * Check `check` failed on this input: print why (printf-style) and abort(),
 * unless check is known-open (see above), in which case return.
 */
void fuzz_fail(const char *check, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* fuzz_fail(check, ...) unless ok; returns ok. */
#define FUZZ_CHECK(ok, check, ...) \
	((ok) ? 1 : (fuzz_fail(check, __VA_ARGS__), 0))

/*
 * The documented error shape of the HTTP API, {"error": {"code", "message",
 * "field"}} (README "HTTP API"), built with jansson as the daemon builds it
 * (field "" or NULL = JSON null).  Checks:
 *   error-code   code is one of the documented codes;
 *   error-field  missing_field and invalid_field name a field;
 *   error-utf8   message and field are well-formed UTF-8 (valid_utf8);
 *   error-json   jansson builds the object and dumps it (json_pack would
 *                return NULL, and the daemon answer 500 with no body).
 * what says where the error came from (for the failure message).
 */
void fuzz_check_error(
    const char *what, const char *code, const char *message, const char *field);

/* Make a fresh directory "$TMPDIR/cdht-fuzz-TAG-XXXXXX" into dir (without
 * TMPDIR: under /dev/shm when it is writable, so commits cost no disk
 * flush, else /tmp); aborts on failure. */
void fuzz_tmpdir(char dir[128], const char *tag);

/* Remove the regular files in dir, then dir (one level). */
void fuzz_rm_dir(const char *dir);

/* Write data[0..len) to path (created or truncated); aborts on failure. */
void fuzz_write_file(const char *path, const void *data, size_t len);

#endif
