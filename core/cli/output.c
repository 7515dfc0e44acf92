/* output.c: records as an aligned table for people, or JSON Lines (yajl) for programs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "cli.h"

void out_init(struct out_records *o, const char *const *keys, size_t ncols)
{
	memset(o, 0, sizeof(*o));
	o->keys = keys;
	o->ncols = ncols;
}

int out_add(struct out_records *o, const char *const *row)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		const char **c = realloc(o->cells, cap * o->ncols * sizeof(*c));

		if (!c)
			return -1;
		o->cells = c;
		o->cap = cap;
	}
	memcpy(o->cells + o->n * o->ncols, row, o->ncols * sizeof(*row));
	o->n++;
	return 0;
}

void out_free(struct out_records *o)
{
	free(o->cells);
	memset(o, 0, sizeof(*o));
}

static void print_json(const struct out_records *o)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	if (!g)
		return;
	for (size_t r = 0; r < o->n; r++) {
		yajl_gen_map_open(g);
		for (size_t c = 0; c < o->ncols; c++) {
			const char *v = o->cells[r * o->ncols + c];

			yajl_gen_string(g, (const unsigned char *)o->keys[c], strlen(o->keys[c]));
			if (v)
				yajl_gen_string(g, (const unsigned char *)v, strlen(v));
			else
				yajl_gen_null(g);
		}
		yajl_gen_map_close(g);
		yajl_gen_get_buf(g, &buf, &len);
		fwrite(buf, 1, len, stdout);
		fputc('\n', stdout);
		yajl_gen_clear(g);
		yajl_gen_reset(g, NULL);
	}
	yajl_gen_free(g);
}

static void print_table(const struct out_records *o)
{
	size_t *w = calloc(o->ncols, sizeof(*w));

	if (!w)
		return;
	for (size_t c = 0; c < o->ncols; c++)
		w[c] = strlen(o->keys[c]);
	for (size_t r = 0; r < o->n; r++)
		for (size_t c = 0; c < o->ncols; c++) {
			const char *v = o->cells[r * o->ncols + c];
			size_t l = v ? strlen(v) : 1;

			if (l > w[c])
				w[c] = l;
		}
	for (size_t c = 0; c < o->ncols; c++) {
		for (const char *k = o->keys[c]; *k; k++)
			fputc(*k >= 'a' && *k <= 'z' ? *k - 'a' + 'A' : *k, stdout);
		if (c + 1 < o->ncols)
			printf("%*s", (int)(w[c] - strlen(o->keys[c]) + 2), "");
	}
	fputc('\n', stdout);
	for (size_t r = 0; r < o->n; r++) {
		for (size_t c = 0; c < o->ncols; c++) {
			const char *v = o->cells[r * o->ncols + c];

			if (c + 1 < o->ncols)
				printf("%-*s  ", (int)w[c], v ? v : "-");
			else
				printf("%s", v ? v : "-");
		}
		fputc('\n', stdout);
	}
	free(w);
}

void out_print(const struct cli *cli, const struct out_records *o, const char *empty_msg)
{
	if (cli->json)
		print_json(o);
	else if (o->n == 0)
		printf("%s\n", empty_msg);
	else
		print_table(o);
	fflush(stdout);
}
