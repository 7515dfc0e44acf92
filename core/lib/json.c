/* json.c: the one way libztc parses JSON it did not write: nesting depth capped before yajl builds a tree. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "internal.h"

/* yajl's event parser keeps its nesting on the heap, but yajl_tree_free() (and the code that walks a
 * tree) recurses once per level: `[` x 300,000 overflows the stack. So a first pass with the event
 * parser counts the depth and stops at the cap; only a document that passes is built as a tree. */
struct depth {
	int depth;
	bool too_deep;
};

static int d_open(void *ud)
{
	struct depth *d = ud;

	if (++d->depth > ZTC_JSON_MAX_DEPTH) {
		d->too_deep = true;
		return 0; /* cancels the parse */
	}
	return 1;
}

static int d_close(void *ud)
{
	((struct depth *)ud)->depth--;
	return 1;
}

yajl_val ztc_json_parse(const char *text, char *err, size_t errlen)
{
	/* Only the containers matter; a NULL callback for a scalar is accepted by yajl. */
	static const yajl_callbacks cb = { NULL, NULL, NULL, NULL, NULL, NULL, d_open, NULL, d_close, d_open, d_close };
	struct depth d = { 0, false };
	size_t len = text ? strlen(text) : 0;
	yajl_status st;
	yajl_handle h;
	yajl_val root;
	char why[256] = "";

	if (err && errlen)
		*err = '\0';
	if (!text)
		return NULL;
	h = yajl_alloc(&cb, NULL, &d);
	if (!h) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* The same grammar as yajl_tree_parse(), which allows comments. */
	yajl_config(h, yajl_allow_comments, 1);
	st = yajl_parse(h, (const unsigned char *)text, len);
	if (st == yajl_status_ok)
		st = yajl_complete_parse(h);
	if (st != yajl_status_ok) {
		if (d.too_deep) {
			snprintf(why, sizeof(why), "nested deeper than %d levels", ZTC_JSON_MAX_DEPTH);
		} else {
			unsigned char *msg = yajl_get_error(h, 1, (const unsigned char *)text, len);

			snprintf(why, sizeof(why), "%s", msg ? (const char *)msg : "parse error");
			if (msg)
				yajl_free_error(h, msg);
			/* yajl's message spans lines (the text around the error); the first says what is wrong. */
			why[strcspn(why, "\n")] = '\0';
		}
		yajl_free(h);
		if (err && errlen)
			snprintf(err, errlen, "%s", *why ? why : "parse error");
		return NULL;
	}
	yajl_free(h);
	root = yajl_tree_parse(text, why, sizeof(why));
	if (!root && err && errlen) {
		why[strcspn(why, "\n")] = '\0';
		snprintf(err, errlen, "%s", *why ? why : "parse error");
	}
	return root;
}
