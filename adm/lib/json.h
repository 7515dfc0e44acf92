/* json.h: small yajl helpers shared by libzadm and zadm-sandbox (no libzadm state in here). */
#ifndef ZADM_JSON_H
#define ZADM_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* A generator for one compact line (no beautify, UTF-8 validated). NULL on out of memory. */
yajl_gen zj_gen_new(void);
/* Copy the generated text plus '\n' and a NUL into a malloc()ed buffer; frees g.
 * *ret_len is the length including the '\n'. NULL on failure. */
char *zj_gen_line(yajl_gen g, size_t *ret_len);
/* Emit a parsed value (numbers keep their original text). 0 or -1. */
int zj_gen_value(yajl_gen g, yajl_val v);
int zj_gen_key(yajl_gen g, const char *key);
int zj_gen_str(yajl_gen g, const char *s);
int zj_gen_int(yajl_gen g, long long n);
/* Parse text that must be one JSON value; NULL on error with a message in err (errlen bytes). */
yajl_val zj_parse(const char *text, char *err, size_t errlen);
/* Object member lookup, one level; NULL when v is no object or the key is absent. */
yajl_val zj_get(yajl_val obj, const char *key);
/* The member as a string, NULL unless it is one. */
const char *zj_get_str(yajl_val obj, const char *key);
/* The member as an integer: true when present and an integral number (a double with no fraction too). */
bool zj_get_int(yajl_val obj, const char *key, long long *ret);
/* JSON text of a value, malloc()ed, no newline; NULL on failure. */
char *zj_to_text(yajl_val v);

#endif
