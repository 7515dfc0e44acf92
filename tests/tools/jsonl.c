/* jsonl.c: a test tool that reads ztc's JSON Lines on stdin and prints fields or checks expectations. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#define MAXLINES 4096

static char *slurp(FILE *f)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	size_t r;

	while (buf && (r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* Parse every non-empty line; exits 1 on a line that is not a JSON object. */
static size_t parse_lines(char *text, yajl_val *out)
{
	size_t n = 0;
	char err[256];

	for (char *line = strtok(text, "\n"); line && n < MAXLINES; line = strtok(NULL, "\n")) {
		yajl_val v = yajl_tree_parse(line, err, sizeof(err));

		if (!v || !YAJL_IS_OBJECT(v)) {
			fprintf(stderr, "jsonl: not a JSON object: %s\n", line);
			exit(1);
		}
		out[n++] = v;
	}
	return n;
}

static const char *field(yajl_val obj, const char *key, int *present)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(obj, path, yajl_t_any);

	*present = v != NULL;
	if (!v || YAJL_IS_NULL(v))
		return NULL;
	return YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : "<not a string>";
}

static int cmd_get(int argc, char **argv, yajl_val *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < argc; k++) {
			int present;
			const char *v = field(lines[i], argv[k], &present);

			printf("%s%s", k ? "|" : "", !present ? "<absent>" : v ? v : "null");
		}
		putchar('\n');
	}
	return 0;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Every record of the expect file is printed once (looked up by uid and usbpath: twins share a uid),
 * with the same vid pid sid uid port usbpath, a non-empty desc, and exactly the keys of the raw record
 * contract, sorted by uid then usbpath; nothing else is printed. */
static int cmd_expect(const char *path, yajl_val *lines, size_t n)
{
	static const char *const cmp[] = { "vid", "pid", "sid", "uid", "port", "usbpath" };
	static const char *const keys[] = { "vid", "pid", "sid", "uid", "port", "disk", "desc", "usbpath" };
	FILE *f = fopen(path, "r");
	char err[256], *text;
	yajl_val exp;
	int bad = 0;

	if (!f) {
		perror(path);
		return 1;
	}
	text = slurp(f);
	fclose(f);
	exp = yajl_tree_parse(text, err, sizeof(err));
	free(text);
	if (!exp || !YAJL_IS_ARRAY(exp)) {
		fprintf(stderr, "jsonl: %s is not a JSON array\n", path);
		yajl_tree_free(exp);
		return 1;
	}
	if (YAJL_GET_ARRAY(exp)->len != n) {
		fprintf(stderr, "jsonl: %zu records printed, %zu expected\n", n, YAJL_GET_ARRAY(exp)->len);
		bad = 1;
	}
	for (size_t i = 0; i < n; i++) {
		if (YAJL_GET_OBJECT(lines[i])->len != sizeof(keys) / sizeof(*keys)) {
			fprintf(stderr, "jsonl: record %zu has %zu keys, expected %zu\n", i, YAJL_GET_OBJECT(lines[i])->len,
				sizeof(keys) / sizeof(*keys));
			bad = 1;
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++) {
			int present;

			field(lines[i], keys[k], &present);
			if (!present) {
				fprintf(stderr, "jsonl: record %zu lacks key %s\n", i, keys[k]);
				bad = 1;
			}
		}
		if (i > 0) {
			int p;
			const char *a = field(lines[i - 1], "uid", &p), *b = field(lines[i], "uid", &p);
			const char *pa = field(lines[i - 1], "usbpath", &p), *pb = field(lines[i], "usbpath", &p);
			int c = a && b ? strcmp(a, b) : 0;

			if (c == 0 && pa && pb)
				c = strcmp(pa, pb);
			else if (c == 0)
				c = !!pa - !!pb;
			if (a && b && c >= 0) {
				fprintf(stderr, "jsonl: records not sorted by uid at %zu\n", i);
				bad = 1;
			}
		}
	}
	for (size_t e = 0; e < YAJL_GET_ARRAY(exp)->len; e++) {
		yajl_val want = YAJL_GET_ARRAY(exp)->values[e];
		int present;
		const char *uid = field(want, "uid", &present);
		const char *usbpath = field(want, "usbpath", &present);
		yajl_val got = NULL;

		for (size_t i = 0; i < n && !got; i++)
			if (same(field(lines[i], "uid", &present), uid) && same(field(lines[i], "usbpath", &present), usbpath))
				got = lines[i];
		if (!got) {
			fprintf(stderr, "jsonl: expected uid %s at usbpath %s not printed\n", uid, usbpath ? usbpath : "null");
			bad = 1;
			continue;
		}
		for (size_t k = 0; k < sizeof(cmp) / sizeof(*cmp); k++) {
			const char *w = field(want, cmp[k], &present), *g = field(got, cmp[k], &present);

			if (!same(w, g)) {
				fprintf(stderr, "jsonl: uid %s: %s is %s, expected %s\n", uid, cmp[k], g ? g : "null",
					w ? w : "null");
				bad = 1;
			}
		}
		{
			const char *d = field(got, "desc", &present);

			if (!d || !*d) {
				fprintf(stderr, "jsonl: uid %s: desc is empty\n", uid);
				bad = 1;
			}
		}
	}
	yajl_tree_free(exp);
	return bad;
}

int main(int argc, char **argv)
{
	static yajl_val lines[MAXLINES];
	char *text;
	size_t n;
	int rc;

	if (argc < 2 || (strcmp(argv[1], "get") && strcmp(argv[1], "expect")) ||
	    (strcmp(argv[1], "expect") == 0 && argc != 3)) {
		fprintf(stderr, "usage: jsonl get KEY... < lines | jsonl expect FILE.expect.json < lines\n");
		return 2;
	}
	text = slurp(stdin);
	n = parse_lines(text, lines);
	if (strcmp(argv[1], "get") == 0)
		rc = cmd_get(argc - 2, argv + 2, lines, n);
	else
		rc = cmd_expect(argv[2], lines, n);
	for (size_t i = 0; i < n; i++)
		yajl_tree_free(lines[i]);
	free(text);
	return rc;
}
