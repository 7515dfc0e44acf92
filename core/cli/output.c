/* output.c: records as an aligned table for people, or JSON Lines (yajl) for programs. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "cli.h"

const char OUT_TRUE[] = "yes", OUT_FALSE[] = "no";

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

void out_json_line(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;

	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, stdout);
	fputc('\n', stdout);
	yajl_gen_clear(g);
	yajl_gen_reset(g, NULL);
}

static void print_json(const struct out_records *o)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (!g)
		return;
	for (size_t r = 0; r < o->n; r++) {
		yajl_gen_map_open(g);
		for (size_t c = 0; c < o->ncols; c++) {
			const char *v = o->cells[r * o->ncols + c];

			yajl_gen_string(g, (const unsigned char *)o->keys[c], strlen(o->keys[c]));
			if (v == OUT_TRUE || v == OUT_FALSE)
				yajl_gen_bool(g, v == OUT_TRUE);
			else if (v)
				yajl_gen_string(g, (const unsigned char *)v, strlen(v));
			else
				yajl_gen_null(g);
		}
		yajl_gen_map_close(g);
		out_json_line(g);
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

/* ---- tables for people ------------------------------------------------------------------------------ */

size_t out_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		return ws.ws_col;
	return OUT_WIDTH;
}

static const char *cell(const struct out_records *o, size_t r, size_t c)
{
	const char *v = o->cells[r * o->ncols + c];

	return v && *v ? v : "-";
}

/* The next piece of a wrapped cell: as many ", "-separated items as fit w (at least one), the length
 * written and where the rest starts (NULL at the end). */
static const char *wrap_piece(const char *s, size_t w, size_t *ret_len)
{
	const char *end = s, *sep;

	for (;;) {
		sep = strstr(end, ", ");
		size_t upto = sep ? (size_t)(sep - s) + 1 : strlen(s);

		if (end != s && upto > w)
			break;
		if (!sep) {
			*ret_len = strlen(s);
			return NULL;
		}
		end = sep + 2;
	}
	*ret_len = (size_t)(end - s) - 1; /* keep the comma, drop the space */
	return end;
}

/* The narrowest an elastic column goes: its header, a wrapped list's longest item, a cut cell 8. */
static size_t floor_of(const struct out_records *o, const struct out_col *col, size_t c)
{
	size_t f = strlen(col->header);

	if (col->flags & OUT_CUT)
		return f > 8 ? f : 8;
	for (size_t r = 0; r < o->n; r++)
		for (const char *v = cell(o, r, c), *sep; *v; v = sep ? sep + 2 : v + strlen(v)) {
			size_t l;

			sep = strstr(v, ", ");
			l = sep ? (size_t)(sep - v) + 1 : strlen(v);
			if (l > f)
				f = l;
		}
	return f;
}

void out_table(const struct out_records *o, const struct out_col *cols, size_t width)
{
	size_t *w = calloc(o->ncols, sizeof(*w)), total = 0, shown = 0;
	bool *show = calloc(o->ncols, sizeof(*show));

	if (!w || !show || o->ncols > 64)
		goto out;
	for (size_t c = 0; c < o->ncols; c++) {
		w[c] = strlen(cols[c].header);
		for (size_t r = 0; r < o->n; r++) {
			size_t l = strlen(cell(o, r, c));

			if (l > w[c])
				w[c] = l;
			show[c] |= o->cells[r * o->ncols + c] && *o->cells[r * o->ncols + c];
		}
		show[c] |= !(cols[c].flags & OUT_OPTIONAL);
		if (show[c])
			total += w[c] + (shown++ ? 2 : 0);
	}
	/* Too wide: wrapped lists give up what is over first, then cut cells, the rightmost first. */
	for (unsigned kind = OUT_WRAP; total > width && kind <= OUT_CUT; kind <<= 1)
		for (size_t c = o->ncols; c-- > 0 && total > width;) {
			size_t f, take;

			if (!show[c] || !(cols[c].flags & kind) || w[c] <= (f = floor_of(o, &cols[c], c)))
				continue;
			take = total - width < w[c] - f ? total - width : w[c] - f;
			w[c] -= take;
			total -= take;
		}
	/* The last column shown ends the line: no padding after it. */
	for (size_t c = 0, k = 0; c < o->ncols; c++) {
		if (!show[c])
			continue;
		k++;
		printf("%-*s%s", k == shown ? 0 : (int)w[c], cols[c].header, k == shown ? "\n" : "  ");
	}
	for (size_t r = 0; r < o->n; r++) {
		const char *rest[64] = { 0 };
		char *clean[64] = { 0 };
		bool more = true;

		/* Cells come from devices and the backend: a control character (a terminal escape) is
		 * shown as '?', never sent to the terminal. Same length, so the widths hold. */
		for (size_t c = 0; c < o->ncols; c++) {
			rest[c] = cell(o, r, c);
			if (strpbrk(rest[c], "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12"
					    "\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f") &&
			    (clean[c] = strdup(rest[c]))) {
				for (char *p = clean[c]; *p; p++)
					if ((unsigned char)*p < 0x20 || *p == 0x7f)
						*p = '?';
				rest[c] = clean[c];
			}
		}
		/* A wrapped cell goes on over more lines; the other columns are blank there. */
		while (more) {
			char line[2048];
			size_t off = 0;

			more = false;
			for (size_t c = 0, k = 0; c < o->ncols; c++) {
				const char *v = rest[c] ? rest[c] : "";
				size_t len = strlen(v);
				char buf[512];
				int pad;

				if (!show[c])
					continue;
				k++;
				if ((cols[c].flags & OUT_WRAP) && len > w[c]) {
					rest[c] = wrap_piece(v, w[c], &len);
					more |= rest[c] != NULL;
				} else if ((cols[c].flags & OUT_CUT) && len > w[c] && w[c] > 3) {
					snprintf(buf, sizeof(buf), "%.*s...", (int)(w[c] - 3), v);
					v = buf;
					len = strlen(v);
					rest[c] = NULL;
				} else {
					rest[c] = NULL;
				}
				pad = k == shown ? 0 : (int)(w[c] - (len < w[c] ? len : w[c]) + 2);
				off += (size_t)snprintf(line + off, sizeof(line) - off, "%.*s%*s", (int)len, v, pad,
							"");
				if (off >= sizeof(line))
					off = sizeof(line) - 1;
			}
			while (off && line[off - 1] == ' ')
				off--;
			printf("%.*s\n", (int)off, line);
		}
		for (size_t c = 0; c < o->ncols; c++)
			free(clean[c]);
	}
out:
	free(w);
	free(show);
}

size_t out_uid_len(const char *uid, const char *const *uids, size_t n)
{
	size_t len = OUT_UID_MIN, full = strlen(uid);

	for (size_t i = 0; i < n; i++) {
		size_t same = 0;

		if (!uids[i] || strcmp(uids[i], uid) == 0)
			continue; /* twins share their uid */
		while (uid[same] && uid[same] == uids[i][same])
			same++;
		if (same + 1 > len)
			len = same + 1;
	}
	return len < full ? len : full;
}
