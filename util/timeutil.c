#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "err.h"
#include "timeutil.h"
#include "fmt.h"

/* clock c in ns; 0 when it cannot be read */
static int64_t
clock_ns(clockid_t c)
{
	struct timespec ts;

	if (clock_gettime(c, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
kc_now_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t
kc_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

int64_t
kc_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

int64_t
kc_thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

long
kc_peak_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

time_t
kc_now(void)
{
	const char *fake = getenv("KCUSTODY_NOW");
	time_t t;
	long ns;

	if (fake != NULL && kc_parse_rfc3339(fake, &t, &ns) == 0)
		return t;
	return time(NULL);
}

char *
kc_fmt_rfc3339(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && n > 0)
		out[0] = '\0';
	return out;
}

char *
kc_fmt_rfc3339_us(int64_t ns, char *out, size_t n)
{
	time_t t = (time_t)(ns / 1000000000);
	long us = (long)((ns % 1000000000) / 1000);
	char base[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	/* whole or "" (kc_fmt empties out and records why): a cut timestamp
	 * would be another time */
	(void)kc_fmt(out, n, "%s.%06ldZ", base, us);
	return out;
}

char *
kc_fmt_compact(time_t t, char *out, size_t n)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (strftime(out, n, "%Y%m%dT%H%M%SZ", &tm) == 0 && n > 0)
		out[0] = '\0';
	return out;
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int
kc_parse_rfc3339(const char *s, time_t *sec, long *nsec)
{
	int Y, M, D, h, m, sc, oh = 0, om = 0, sign = 0;
	const char *p = s;
	long ns = 0;
	struct tm tm;

	if (digits(&p, 4, &Y) || *p++ != '-' || digits(&p, 2, &M) || *p++ != '-' ||
	    digits(&p, 2, &D) || (*p != 'T' && *p != 't' && *p != ' ') ||
	    (p++, digits(&p, 2, &h)) || *p++ != ':' || digits(&p, 2, &m) ||
	    *p++ != ':' || digits(&p, 2, &sc))
		return KC_ERR_PARSE;
	if (*p == '.') {
		int nd = 0;
		p++;
		if (!isdigit((unsigned char)*p))
			return KC_ERR_PARSE;
		while (isdigit((unsigned char)*p)) {
			if (nd < 9) {
				ns = ns * 10 + (*p - '0');
				nd++;
			}
			p++;
		}
		while (nd++ < 9)
			ns *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '+' ? 1 : -1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
			return KC_ERR_PARSE;
	} else {
		return KC_ERR_PARSE;
	}
	if (*p != '\0' || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sc > 60)
		return KC_ERR_PARSE;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sc;
	*sec = timegm(&tm) - sign * (oh * 3600 + om * 60);
	if (nsec != NULL)
		*nsec = ns;
	return 0;
}

int
kc_parse_http_date(const char *s, time_t *out)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return KC_ERR_PARSE;
	*out = timegm(&tm);
	return 0;
}

int
kc_parse_duration(const char *s, int64_t *secs)
{
	int64_t total = 0;
	const char *p = s;

	if (*p == '\0')
		return KC_ERR_PARSE;
	while (*p != '\0') {
		char *end;
		long long v = strtoll(p, &end, 10);
		int64_t mult;

		if (end == p || v < 0)
			return KC_ERR_PARSE;
		switch (*end) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		case 'y': mult = 365 * 86400 + 6 * 3600; break;
		default: return KC_ERR_PARSE;
		}
		if (v > INT64_MAX / mult / 2 || total > INT64_MAX / 2 - v * mult)
			return KC_ERR_PARSE;
		total += v * mult;
		p = end + 1;
	}
	*secs = total;
	return 0;
}
