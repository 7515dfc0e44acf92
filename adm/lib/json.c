/* json.c: yajl helpers to build protocol lines and read parsed messages. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

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
	return yajl_gen_string(g, (const unsigned char *)key, strlen(key)) == yajl_gen_status_ok ? 0 : -1;
}

int zj_gen_str(yajl_gen g, const char *s)
{
	if (!s)
		return yajl_gen_null(g) == yajl_gen_status_ok ? 0 : -1;
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) == yajl_gen_status_ok ? 0 : -1;
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

yajl_val zj_parse(const char *text, char *err, size_t errlen)
{
	yajl_val v;

	if (err && errlen)
		err[0] = '\0';
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
