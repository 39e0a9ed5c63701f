/* log.h - diagnostics on stderr.  Library code may log warnings and debug
 * detail here but never prints to stdout.  Never pass a token, key or
 * secret value to these functions. */
#ifndef KC_LOG_H
#define KC_LOG_H

enum kc_log_level { KC_LOG_QUIET = 0, KC_LOG_ERROR, KC_LOG_WARN, KC_LOG_INFO, KC_LOG_DEBUG };

void kc_log_set_level(enum kc_log_level level);
enum kc_log_level kc_log_get_level(void);
void kc_log(enum kc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define kc_warn(...) kc_log(KC_LOG_WARN, __VA_ARGS__)
#define kc_info(...) kc_log(KC_LOG_INFO, __VA_ARGS__)
#define kc_debug(...) kc_log(KC_LOG_DEBUG, __VA_ARGS__)

/* Copy s into out (size n) with control and non-ASCII bytes escaped as \xHH,
 * for printing names that came from outside.  Returns out. */
char *kc_safe_str(const char *s, char *out, size_t n);

#endif
