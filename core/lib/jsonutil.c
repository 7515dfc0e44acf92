/* jsonutil.c: the one set of yajl tree accessors libztc's parsers share (device.json, .vm, replies, stores). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "internal.h"

yajl_val ztc_json_get(yajl_val obj, const char *key, yajl_type type)
{
	const char *path[] = { key, NULL };

	return obj && YAJL_IS_OBJECT(obj) && key ? yajl_tree_get(obj, path, type) : NULL;
}

const char *ztc_json_get_str(yajl_val obj, const char *key)
{
	yajl_val v = ztc_json_get(obj, key, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

char *ztc_json_dup_str(yajl_val obj, const char *key)
{
	const char *s = ztc_json_get_str(obj, key);

	return s ? strdup(s) : NULL;
}
