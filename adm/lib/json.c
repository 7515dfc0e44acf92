/* json.c: yajl helpers to build protocol lines and read parsed messages. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "json.h"

/* Length of the valid UTF-8 sequence at s (before end), 0 if none starts there. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end)
{
	unsigned int cp, min;
	size_t n;

	if (*s < 0x80)
		return 1;
	if (*s >= 0xc2 && *s <= 0xdf)
		n = 1, cp = *s & 0x1f, min = 0x80;
	else if (*s >= 0xe0 && *s <= 0xef)
		n = 2, cp = *s & 0x0f, min = 0x800;
	else if (*s >= 0xf0 && *s <= 0xf4)
		n = 3, cp = *s & 0x07, min = 0x10000;
	else
		return 0;
	if ((size_t)(end - s) <= n)
		return 0;
	for (size_t i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n + 1;
}

bool zj_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + len;

	while (s < end) {
		size_t n = utf8_seq(s, end);

		if (!n)
			return false;
		s += n;
	}
	return true;
}

void zj_utf8_sanitize(char *str)
{
	unsigned char *s = (unsigned char *)str, *end = s + strlen(str);

	while (s < end) {
		size_t n = utf8_seq(s, end);

		if (n) {
			s += n;
		} else {
			*s++ = '?';
		}
	}
}

yajl_gen zj_gen_new(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g)
		yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

char *zj_gen_line(yajl_gen g, size_t *ret_len)
{
	const unsigned char *buf;
	size_t len;
	char *r = NULL;

	if (!g)
		return NULL;
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok) {
		r = malloc(len + 2);
		if (r) {
			memcpy(r, buf, len);
			r[len] = '\n';
			r[len + 1] = '\0';
			if (ret_len)
				*ret_len = len + 1;
		}
	}
	yajl_gen_free(g);
	return r;
}

int zj_gen_key(yajl_gen g, const char *key)
{
	size_t len = strlen(key);

	if (!zj_utf8_valid(key, len))
		return -1;
	return yajl_gen_string(g, (const unsigned char *)key, len) == yajl_gen_status_ok ? 0 : -1;
}

int zj_gen_str(yajl_gen g, const char *s)
{
	size_t len;

	if (!s)
		return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
	len = strlen(s);
	if (!zj_utf8_valid(s, len))
		return -1;
	return yajl_gen_string(g, (const unsigned char *)s, len) == yajl_gen_status_ok ? 0 : -1;
}

int zj_gen_int(yajl_gen g, long long n)
{
	return yajl_gen_integer(g, n) == yajl_gen_status_ok ? 0 : -1;
}

int zj_gen_value(yajl_gen g, yajl_val v)
{
	yajl_gen_status st = yajl_gen_status_ok;

	if (!v)
		return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
	switch (v->type) {
	case yajl_t_string:
		return zj_gen_str(g, v->u.string);
	case yajl_t_number:
		st = yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
		break;
	case yajl_t_object:
		if (yajl_gen_map_open(g) != yajl_gen_status_ok)
			return -1;
		for (size_t i = 0; i < v->u.object.len; i++)
			if (zj_gen_key(g, v->u.object.keys[i]) || zj_gen_value(g, v->u.object.values[i]))
				return -1;
		st = yajl_gen_map_close(g);
		break;
	case yajl_t_array:
		if (yajl_gen_array_open(g) != yajl_gen_status_ok)
			return -1;
		for (size_t i = 0; i < v->u.array.len; i++)
			if (zj_gen_value(g, v->u.array.values[i]))
				return -1;
		st = yajl_gen_array_close(g);
		break;
	case yajl_t_true:
		st = yajl_gen_bool(g, 1);
		break;
	case yajl_t_false:
		st = yajl_gen_bool(g, 0);
		break;
	default:
		st = yajl_gen_null(g);
		break;
	}
	return st == yajl_gen_status_ok ? 0 : -1;
}

/* The first pass of zj_parse: yajl's own lexer (so comments and escapes are read exactly as the
 * tree parser will), no tree, stopped by the first problem. */
struct scan {
	int depth;
	const char *why;
};

static int scan_open(void *ctx)
{
	struct scan *sc = ctx;

	if (++sc->depth <= ZJ_MAX_DEPTH)
		return 1;
	sc->why = "deep";
	return 0;
}

static int scan_close(void *ctx)
{
	((struct scan *)ctx)->depth--;
	return 1;
}

static int scan_string(void *ctx, const unsigned char *s, size_t len)
{
	struct scan *sc = ctx;

	if (memchr(s, 0, len))
		sc->why = "a string holds \\u0000";
	else if (!zj_utf8_valid((const char *)s, len))
		sc->why = "a string is not valid UTF-8";
	return sc->why == NULL;
}

static const yajl_callbacks scan_callbacks = {
	.yajl_string = scan_string,
	.yajl_start_map = scan_open,
	.yajl_map_key = scan_string,
	.yajl_end_map = scan_close,
	.yajl_start_array = scan_open,
	.yajl_end_array = scan_close,
};

yajl_val zj_parse(const char *text, char *err, size_t errlen)
{
	struct scan sc = { 0, NULL };
	yajl_handle h;
	yajl_val v;

	if (err && errlen)
		err[0] = '\0';
	h = yajl_alloc(&scan_callbacks, NULL, &sc);
	if (!h) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* As yajl_tree_parse does. */
	yajl_config(h, yajl_allow_comments, 1);
	yajl_parse(h, (const unsigned char *)text, strlen(text));
	yajl_free(h);
	if (sc.why) {
		if (err && errlen) {
			if (strcmp(sc.why, "deep") == 0)
				snprintf(err, errlen, "JSON nested deeper than %d levels", ZJ_MAX_DEPTH);
			else
				snprintf(err, errlen, "%s", sc.why);
		}
		return NULL;
	}
	/* A syntax error the first pass met is met again here, at the same depth: the tree parser
	 * words the message. */
	v = yajl_tree_parse(text, err, errlen);
	/* yajl's message spans lines (it quotes the input); a log line wants the first only. */
	if (!v && err && errlen) {
		char *nl = strchr(err, '\n');

		if (nl)
			*nl = '\0';
	}
	return v;
}

yajl_val zj_get(yajl_val obj, const char *key)
{
	if (!obj || obj->type != yajl_t_object)
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			return obj->u.object.values[i];
	return NULL;
}

const char *zj_get_str(yajl_val obj, const char *key)
{
	yajl_val v = zj_get(obj, key);

	return v && v->type == yajl_t_string ? v->u.string : NULL;
}

bool zj_get_int(yajl_val obj, const char *key, long long *ret)
{
	yajl_val v = zj_get(obj, key);

	if (!v || v->type != yajl_t_number)
		return false;
	if (v->u.number.flags & YAJL_NUMBER_INT_VALID) {
		*ret = v->u.number.i;
		return true;
	}
	if ((v->u.number.flags & YAJL_NUMBER_DOUBLE_VALID) && v->u.number.d == floor(v->u.number.d) &&
	    fabs(v->u.number.d) < 9e15) {
		*ret = (long long)v->u.number.d;
		return true;
	}
	return false;
}

char *zj_to_text(yajl_val v)
{
	yajl_gen g = zj_gen_new();
	size_t len;
	char *r;

	if (!g)
		return NULL;
	if (zj_gen_value(g, v)) {
		yajl_gen_free(g);
		return NULL;
	}
	r = zj_gen_line(g, &len);
	if (r)
		r[len - 1] = '\0';
	return r;
}
