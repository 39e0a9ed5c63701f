/* fuzz_common.h - what the libFuzzer harnesses of tests/fuzz share.
 *
 * Each harness is one fuzz_<name>.c defining LLVMFuzzerTestOneInput; it
 * calls the entry points the commands call (no copy of parsing code).  An
 * entry point that only takes a path gets the input written to a file in a
 * private folder under /dev/shm (else $TMPDIR, else /tmp), created once per
 * process and removed at exit.
 */
#ifndef KC_FUZZ_COMMON_H
#define KC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The process's scratch folder (created on first use; aborts if it cannot
 * be: a harness without one would test nothing). */
const char *fz_dir(void);
/* fz_dir()/name, newly allocated (aborts on no memory). */
char *fz_path(const char *name);
/* Write data to fz_dir()/name (replacing it); returns the path (caller
 * frees).  Aborts on a write error. */
char *fz_write(const char *name, const void *data, size_t len);
/* A NUL-terminated copy of data (caller frees). */
char *fz_strndup(const uint8_t *data, size_t len);
/* Split data at the first occurrence of sep (not included): a, an the
 * part before, b, bn the part after (empty when sep is absent). */
void fz_split(const uint8_t *data, size_t len, const char *sep, const uint8_t **a,
    size_t *an, const uint8_t **b, size_t *bn);

#endif
