/* timeutil.h - UTC time formatting and parsing. */
#ifndef KC_TIMEUTIL_H
#define KC_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Wall clock in nanoseconds since the epoch. */
int64_t kc_now_ns(void);
/* Monotonic clock in nanoseconds (for durations). */
int64_t kc_mono_ns(void);
/* CPU time this process has used, user and system, in nanoseconds. */
int64_t kc_cpu_ns(void);
/* The calling thread's CPU time, ns. */
int64_t kc_thread_cpu_ns(void);
/* The process's peak resident set so far, in KiB (getrusage). */
long kc_peak_rss_kib(void);
/* Test hook: when KCUSTODY_NOW (RFC 3339) is set in the environment, that
 * instant is used by kc_now() instead of the clock (injectable clock). */
time_t kc_now(void);

/* "2026-11-25T17:46:47Z" (size >= 21) */
char *kc_fmt_rfc3339(time_t t, char *out, size_t n);
/* "2026-11-25T17:46:47.123456Z" from ns (size >= 28) */
char *kc_fmt_rfc3339_us(int64_t ns, char *out, size_t n);
/* "20261125T174647Z" (size >= 17) */
char *kc_fmt_compact(time_t t, char *out, size_t n);

/* Parse RFC 3339 (Z or +hh:mm offset, optional fraction) into seconds and
 * nanoseconds.  Returns 0 or KC_ERR_PARSE. */
int kc_parse_rfc3339(const char *s, time_t *sec, long *nsec);
/* Parse an HTTP date (RFC 7231 IMF-fixdate). */
int kc_parse_http_date(const char *s, time_t *out);
/* Parse a duration like "72h", "30m", "90s", "7d", "1h30m" into seconds. */
int kc_parse_duration(const char *s, int64_t *secs);

#endif
