/* json.h: small yajl helpers shared by libzadm and zadm-sandbox (no libzadm state in here). */
#ifndef ZADM_JSON_H
#define ZADM_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

/* A generator for one compact line (no beautify, UTF-8 validated). NULL on out of memory.
 * zj_gen_str and zj_gen_key refuse (-1) text that is not strict UTF-8 (zj_utf8_valid). */
yajl_gen zj_gen_new(void);
/* Copy the generated text plus '\n' and a NUL into a malloc()ed buffer; frees g.
 * *ret_len is the length including the '\n'. NULL on failure. */
char *zj_gen_line(yajl_gen g, size_t *ret_len);
/* Emit a parsed value (numbers keep their original text). 0 or -1. */
int zj_gen_value(yajl_gen g, yajl_val v);
int zj_gen_key(yajl_gen g, const char *key);
int zj_gen_str(yajl_gen g, const char *s);
int zj_gen_int(yajl_gen g, long long n);
/* Deepest nesting of arrays and objects zj_parse accepts: yajl frees (and we generate) trees
 * recursively, so a line of 300,000 '[' would overflow the stack. */
#define ZJ_MAX_DEPTH 64
/* Parse text that must be one JSON value; NULL on error with a message in err (errlen bytes).
 * Before any tree is built a first pass refuses, with one clear message, nesting deeper than
 * ZJ_MAX_DEPTH and any string or key that is not strict UTF-8 or holds \u0000 (a C string would be
 * cut there), so every tree it returns can be walked, printed and re-generated safely. */
yajl_val zj_parse(const char *text, char *err, size_t errlen);
/* True when s[0..len) is UTF-8 by RFC 3629: no overlong forms, no UTF-16 surrogates, nothing beyond
 * U+10FFFF (yajl's own check lets all three through). NUL bytes are allowed here. */
bool zj_utf8_valid(const char *s, size_t len);
/* Replace, in place, every byte of s that is not part of a valid UTF-8 sequence with '?'. */
void zj_utf8_sanitize(char *s);
/* Object member lookup, one level; NULL when v is no object or the key is absent. */
yajl_val zj_get(yajl_val obj, const char *key);
/* The member as a string, NULL unless it is one. */
const char *zj_get_str(yajl_val obj, const char *key);
/* The member as an integer: true when present and an integral number (a double with no fraction too). */
bool zj_get_int(yajl_val obj, const char *key, long long *ret);
/* JSON text of a value, malloc()ed, no newline; NULL on failure. */
char *zj_to_text(yajl_val v);

#endif
