/* inline.h: the few helpers both libztc and the plugins need, as static inline
 * functions: each gets its own copy and no symbol joins libztc (a plugin may call only what the public
 * headers declare). Self-contained: nothing from internal.h, which plugins must not see. */
#ifndef ZTC_INLINE_H
#define ZTC_INLINE_H

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Strings kept until a run ends, because an argument vector or a result points into them. Start from
 * { 0 }. */
struct ztc_kept {
	char **v;
	size_t n;
};

/* Keep s until ztc_kept_free(k); NULL (s freed) when s is NULL or out of memory, so that
 * `if (!ztc_kept_add(k, strdup(x)))` covers both allocations. */
static inline char *ztc_kept_add(struct ztc_kept *k, char *s)
{
	char **n;

	if (!s)
		return NULL;
	n = realloc(k->v, (k->n + 1) * sizeof(*n));
	if (!n) {
		free(s);
		return NULL;
	}
	k->v = n;
	k->v[k->n++] = s;
	return s;
}

static inline void ztc_kept_free(struct ztc_kept *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i]);
	free(k->v);
	k->v = NULL;
	k->n = 0;
}

/* Milliseconds on the monotonic clock, for deadlines. */
static inline long long ztc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Exactly four hexadecimal digits, either case: a USB vendor or product id as udev gives it. */
static inline bool ztc_is_hex4(const char *s)
{
	if (!s || strlen(s) != 4)
		return false;
	for (size_t i = 0; i < 4; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

#endif
