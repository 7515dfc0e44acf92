/* crash-writer.c: the writer and the checker of tests/crash-safety.sh: one rewrites the known-device
 * store or the FOTA store in a loop until it is killed (SIGKILL), the other then checks the file is
 * whole and is the last version the writer finished or the one it was writing.
 *
 *   crash-writer store-write HOME LOG   rewrite $HOME/devices.json as version 1, 2, ... (ztc_store_update)
 *   crash-writer store-check HOME LOG
 *   crash-writer fota-init DIR LOG      slots 0 written whole (before the first writer)
 *   crash-writer fota-write DIR LOG     open the file-backed FOTA store, then update cycles: write both
 *                                       spare slots, attempt, boot, accept
 *   crash-writer fota-check DIR LOG
 *
 * LOG is the writer's journal, appended with write(2) so a kill never loses a finished line: "done N"
 * after store version N is written; for the FOTA store "begin OP" before each record operation and
 * "done RECORD" (record.json's line, or "none") after it. Each check appends "base ..." with what the
 * file holds, the baseline of the next check. A check prints one word: "old" (the file is
 * the last finished version) or "new" (the version being written), then "tmp" when the writer left
 * its temporary file behind; anything else is a failure (exit 1) with one line saying why. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <yajl/yajl_tree.h>

#include "ztc/ztc.h"
#include "zadm/zadm.h"
/* The FOTA store's slot operations (erase, write) are reached through its ops, as libzadm does. */
#include "internal.h"

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("FAIL: ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	exit(1);
}

static void journal(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void journal(int fd, const char *fmt, ...)
{
	char line[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	if (write(fd, line, (size_t)n) != n)
		exit(2);
}

/* Tell the test the writer has started up (loaded, opened): the random kill delay starts now. */
static void ready(void)
{
	puts("ready");
	fflush(stdout);
}

/* The checker's own journal line, for a version it found the writer had finished. */
static void append_done(const char *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void append_done(const char *log, const char *fmt, ...)
{
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	char line[4096];
	va_list ap;

	if (fd < 0)
		fail("cannot open %s", log);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	journal(fd, "%s", line);
	close(fd);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t len = 0, cap = 1 << 16, r;

	if (!f)
		return NULL;
	buf = malloc(cap);
	while (buf && (r = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* The text of the last "done " (prefix) or "base " line of the journal ("" if none), and the line
 * after it, if any. */
static void journal_tail(const char *path, const char *prefix, char *last, size_t lastlen, char *after,
			 size_t afterlen)
{
	char *text = slurp(path), *save = NULL;

	*last = *after = '\0';
	if (!text)
		return;
	/* A kill can tear the journal's own last line: Linux stops a write(2) to a file at a page boundary
	 * when a fatal signal is pending. A line without its newline was never finished: drop it. */
	{
		char *nl = strrchr(text, '\n');

		if (nl)
			nl[1] = '\0';
		else
			*text = '\0';
	}
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		/* The checker's "base" lines count as finished versions too. */
		if (strncmp(l, prefix, strlen(prefix)) == 0 || strncmp(l, "base ", 5) == 0) {
			snprintf(last, lastlen, "%s", l + 5);
			*after = '\0';
		} else if (!*after) {
			snprintf(after, afterlen, "%s", l);
		}
	}
	free(text);
}

/* ---- the known-device store ------------------------------------------------------------------ */

/* Version n of the store: a counter entry naming n, and n % 7 more entries whose fields and sizes
 * change with n (so a torn or mixed file cannot pass for a version). Version 0 is the empty store. */
#define MAXE 8
struct version {
	size_t n;
	ztc_known k[MAXE];
	char buf[MAXE][7][2200];
};

static void make_version(unsigned long v, struct version *out)
{
	memset(out, 0, sizeof(*out));
	if (v == 0)
		return;
	for (size_t e = 0; e < 1 + v % 7; e++) {
		char (*b)[2200] = out->buf[e];
		ztc_known *k = &out->k[e];
		size_t pad = (v * 37 + e * 101) % 1500;

		snprintf(b[0], sizeof(b[0]), e ? "dev%zu" : "counter", e);
		snprintf(b[1], sizeof(b[1]), "%040zx", e + 1);
		snprintf(b[2], sizeof(b[2]), "v%lu", v);
		memset(b[2] + strlen(b[2]), 'x', pad); /* names of changing length */
		snprintf(b[3], sizeof(b[3]), "target%lu", (v + e) % 5);
		snprintf(b[4], sizeof(b[4]), "chip%lu-%zu", v, e);
		snprintf(b[5], sizeof(b[5]), "remote%lu", v);
		snprintf(b[6], sizeof(b[6]), "Class%zu", e);
		k->alias = b[0];
		k->uid = b[1];
		k->name = b[2];
		k->target = b[3];
		k->chipid = (v + e) % 3 ? b[4] : NULL;
		k->remote_id = (v + e) % 2 ? b[5] : NULL;
		k->classname = b[6];
		out->n++;
	}
}

static int set_version(ztc_ctx *ctx, ztc_store *s, void *ud)
{
	const struct version *want = ud;
	int rc = ZTC_OK;

	while (ztc_store_count(s) && rc == ZTC_OK) {
		char *alias = strdup(ztc_store_get(s, 0)->alias);

		rc = ztc_store_del(ctx, s, alias);
		free(alias);
	}
	for (size_t e = 0; e < want->n && rc == ZTC_OK; e++)
		rc = ztc_store_put(ctx, s, &want->k[e]);
	return rc;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool store_is(const ztc_store *s, const struct version *v)
{
	if (ztc_store_count(s) != v->n)
		return false;
	for (size_t e = 0; e < v->n; e++) {
		const ztc_known *a = ztc_store_find_alias(s, v->k[e].alias), *b = &v->k[e];

		if (!a || !str_eq(a->uid, b->uid) || !str_eq(a->name, b->name) || !str_eq(a->target, b->target) ||
		    !str_eq(a->chipid, b->chipid) || !str_eq(a->remote_id, b->remote_id) ||
		    !str_eq(a->classname, b->classname))
			return false;
	}
	return true;
}

static unsigned long store_counter(const ztc_store *s)
{
	const ztc_known *c = ztc_store_find_alias(s, "counter");

	return c && c->name && c->name[0] == 'v' ? strtoul(c->name + 1, NULL, 10) : 0;
}

static ztc_ctx *ctx_for(const char *home)
{
	ztc_ctx *ctx;

	setenv("ZTC_HOME", home, 1);
	if (ztc_ctx_new(&ctx) != ZTC_OK)
		fail("cannot create a libztc context");
	return ctx;
}

static int store_write(const char *home, const char *log) __attribute__((noreturn));

static int store_write(const char *home, const char *log)
{
	ztc_ctx *ctx = ctx_for(home);
	ztc_store *s = NULL;
	struct version *v = malloc(sizeof(*v));
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	unsigned long n;

	if (fd < 0 || !v)
		fail("cannot open %s", log);
	if (ztc_store_load(ctx, &s) != ZTC_OK)
		fail("the store does not load: %s", ztc_ctx_errmsg(ctx));
	n = store_counter(s);
	ztc_store_free(s);
	ready();
	for (;;) {
		make_version(++n, v);
		if (ztc_store_update(ctx, set_version, v) != ZTC_OK)
			fail("update to version %lu: %s", n, ztc_ctx_errmsg(ctx));
		journal(fd, "done %lu", n);
	}
}

/* Leftover temporary files of the atomic writer (devices.json.XXXXXX, not the lock file). They are
 * left in place: the next writer removes them under the store lock (store.c), so at any time there is
 * at most one, the one of the writer killed last. */
static int count_tmp(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strcmp(e->d_name + strlen(prefix), "lock") != 0)
			n++;
	if (d)
		closedir(d);
	return n;
}

static int store_check(const char *home, const char *log)
{
	ztc_ctx *ctx = ctx_for(home);
	ztc_store *s = NULL;
	struct version *v = malloc(sizeof(*v));
	char last[64], after[64];
	unsigned long done, k;
	int rc, tmp;

	journal_tail(log, "done ", last, sizeof(last), after, sizeof(after));
	done = strtoul(last, NULL, 10);
	rc = ztc_store_load(ctx, &s);
	if (rc != ZTC_OK)
		fail("after version %lu the store does not load: %s", done, ztc_ctx_errmsg(ctx));
	k = store_counter(s);
	if (k != done && k != done + 1)
		fail("the store is version %lu, but the writer had finished version %lu", k, done);
	make_version(k, v);
	if (!store_is(s, v))
		fail("the store claims version %lu but its entries are not that version's", k);
	tmp = count_tmp(home, "devices.json.");
	if (tmp > 1)
		fail("%d temporary files beside devices.json: writers do not remove the ones left by a kill", tmp);
	/* What the file holds now is the baseline of the next check (the next writer goes on from it). */
	append_done(log, "base %lu", k);
	printf("%s%s\n", k == done ? "old" : "new", tmp > 0 ? " tmp" : "");
	ztc_store_free(s);
	ztc_ctx_free(ctx);
	free(v);
	return 0;
}

/* ---- the FOTA store ------------------------------------------------------------------------- */

/* A slot's content: "gen=G len=L\n" and L bytes that follow from G, so a check can tell a whole
 * slot from a partly written one. */
static unsigned char pattern(unsigned long g, size_t i)
{
	return (unsigned char)(g * 31 + i * 7 + (i >> 8));
}

static size_t slot_len(unsigned long g)
{
	return 1000 + (g * 7919) % 60000;
}

static int write_slot(zadm_fota_store *st, int kind, int slot, unsigned long g)
{
	size_t len = slot_len(g), hl;
	char head[64];
	unsigned char *buf;
	int r;

	hl = (size_t)snprintf(head, sizeof(head), "gen=%lu len=%zu\n", g, len);
	buf = malloc(hl + len);
	if (!buf)
		return ZADM_ERR_NOMEM;
	memcpy(buf, head, hl);
	for (size_t i = 0; i < len; i++)
		buf[hl + i] = pattern(g, i);
	r = st->ops->erase(st->userdata, kind, slot, hl + len);
	/* In pieces, as FOTA blocks arrive. */
	for (size_t off = 0; !r && off < hl + len; off += 4096)
		r = st->ops->write(st->userdata, kind, slot, off, buf + off, hl + len - off < 4096 ? hl + len - off : 4096);
	free(buf);
	return r;
}

/* NULL when the slot file holds a whole pattern, else why not. */
static const char *slot_whole(const char *dir, int kind, int slot)
{
	char path[4096];
	unsigned long g;
	size_t len;
	int hl = 0;
	struct stat sb;
	char *text;
	const char *why = NULL;

	snprintf(path, sizeof(path), "%s/%s%d.bin", dir, kind == 'b' ? "bc" : "vm", slot);
	if (stat(path, &sb) < 0)
		return "missing";
	text = slurp(path);
	/* The header ends at its newline (a "\n" in sscanf's format would skip pattern bytes too). */
	if (!text || sscanf(text, "gen=%lu len=%zu", &g, &len) != 2 || !strchr(text, '\n'))
		why = "no header";
	else if ((hl = (int)(strchr(text, '\n') - text + 1)) > 40)
		why = "no header";
	else if ((size_t)sb.st_size != (size_t)hl + len)
		why = "wrong size";
	else
		for (size_t i = 0; i < len && !why; i++)
			if ((unsigned char)text[hl + i] != pattern(g, i))
				why = "wrong bytes";
	free(text);
	return why;
}

struct rec {
	int bc, vm, last_bc, last_vm, state; /* state: 0 ok, 1 attempt, 2 trying */
	long long chunk;
};

static const char *const states[] = { "ok", "attempt", "trying" };

static bool parse_rec(const char *text, struct rec *r)
{
	static const char *const keys[] = { "bc", "vm", "last_bc", "last_vm" };
	int *fields[] = { &r->bc, &r->vm, &r->last_bc, &r->last_vm };
	yajl_val v = yajl_tree_parse(text, NULL, 0);
	bool ok = v && YAJL_IS_OBJECT(v);

	for (int i = 0; ok && i < 4; i++) {
		const char *p[] = { keys[i], NULL };
		yajl_val n = yajl_tree_get(v, p, yajl_t_number);

		ok = n && YAJL_IS_INTEGER(n) && YAJL_GET_INTEGER(n) >= 0 && YAJL_GET_INTEGER(n) < 2;
		if (ok)
			*fields[i] = (int)YAJL_GET_INTEGER(n);
	}
	if (ok) {
		const char *ps[] = { "state", NULL }, *pc[] = { "chunk", NULL };
		yajl_val s = yajl_tree_get(v, ps, yajl_t_string), c = yajl_tree_get(v, pc, yajl_t_number);

		ok = s && c && YAJL_IS_INTEGER(c);
		r->state = -1;
		for (int i = 0; ok && i < 3; i++)
			if (strcmp(s->u.string, states[i]) == 0)
				r->state = i;
		ok = ok && r->state >= 0;
		if (ok)
			r->chunk = YAJL_GET_INTEGER(c);
	}
	yajl_tree_free(v);
	return ok;
}

static bool rec_eq(const struct rec *a, const struct rec *b)
{
	return a->bc == b->bc && a->vm == b->vm && a->last_bc == b->last_bc && a->last_vm == b->last_vm &&
	       a->state == b->state && a->chunk == b->chunk;
}

/* The record after op, per the store's documented semantics (zadm.h). */
static struct rec model(struct rec r, const char *op)
{
	int bc, vm;

	if (sscanf(op, "attempt %d %d", &bc, &vm) == 2) {
		if (r.state != 2) {
			r.last_bc = r.state == 1 ? r.last_bc : r.bc;
			r.last_vm = r.state == 1 ? r.last_vm : r.vm;
		}
		r.bc = bc;
		r.vm = vm;
		r.state = 1;
	} else if (strcmp(op, "boot") == 0 || strcmp(op, "open") == 0) {
		if (r.state == 1) {
			r.state = 2;
		} else if (r.state == 2) {
			r.bc = r.last_bc;
			r.vm = r.last_vm;
			r.state = 0;
		}
	} else if (strcmp(op, "accept") == 0 && r.state == 2) {
		r.last_bc = r.bc;
		r.last_vm = r.vm;
		r.state = 0;
	}
	return r;
}

static char *record_line(const char *dir)
{
	char path[4096], *text;

	snprintf(path, sizeof(path), "%s/record.json", dir);
	text = slurp(path);
	if (text)
		text[strcspn(text, "\n")] = '\0';
	return text;
}

static void log_done(int fd, const char *dir)
{
	char *line = record_line(dir);

	journal(fd, "done %s", line ? line : "none");
	free(line);
}

static int fota_write(const char *dir, const char *log) __attribute__((noreturn));

static int fota_write(const char *dir, const char *log)
{
	int fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	zadm_fota_store *st = NULL;
	unsigned long gen = (unsigned long)getpid() * 1000;
	int r;

	if (fd < 0)
		fail("cannot open %s", log);
	/* Opening is a restart: it boots the store (attempt -> trying, trying -> rolled back). */
	journal(fd, "begin open");
	r = zadm_fota_store_file_new(dir, 2, 0, &st);
	if (r)
		fail("the FOTA store does not open: %s", zadm_strerror(r));
	log_done(fd, dir);
	ready();
	for (;;) {
		char *line = record_line(dir);
		struct rec rec = { 0, 0, 0, 0, 0, 4096 };

		if (line && !parse_rec(line, &rec))
			fail("record.json unreadable while writing: %s", line);
		free(line);
		if (rec.state == 2) {
			journal(fd, "begin accept");
			r = zadm_fota_store_accept(st);
		} else if (rec.state == 1) {
			journal(fd, "begin boot");
			r = zadm_fota_store_boot(st);
		} else {
			int bc = 1 - rec.bc, vm = 1 - rec.vm;

			/* The spare slots only: the running ones (and the fallback, the same in state ok) stay whole. */
			r = write_slot(st, 'b', bc, ++gen);
			if (!r)
				r = write_slot(st, 'v', vm, ++gen);
			if (!r) {
				journal(fd, "begin attempt %d %d", bc, vm);
				r = zadm_fota_store_attempt(st, bc, vm);
			}
		}
		if (r)
			fail("FOTA store operation: %s", zadm_strerror(r));
		log_done(fd, dir);
	}
}

static int fota_check(const char *dir, const char *log)
{
	char last[4096], op[4096], tmp[4096], *line = record_line(dir);
	struct rec old = { 0, 0, 0, 0, 0, 4096 }, now = { 0, 0, 0, 0, 0, 4096 }, next;
	zadm_fota_store *st = NULL;
	bool is_old, is_new;
	int r, slots[4][2];

	journal_tail(log, "done ", last, sizeof(last), op, sizeof(op));
	if (*last && strcmp(last, "none") != 0 && !parse_rec(last, &old))
		fail("journal: a finished record that does not parse: %s", last);
	if (line && !parse_rec(line, &now))
		fail("record.json is not a whole record: '%s'", line);
	next = strncmp(op, "begin ", 6) == 0 ? model(old, op + 6) : old;
	is_old = line ? *last && strcmp(last, "none") && rec_eq(&now, &old) : !*last || !strcmp(last, "none");
	is_new = line && rec_eq(&now, &next) && !rec_eq(&next, &old);
	if (!is_old && !is_new)
		fail("record.json '%s' is neither the last finished record '%s' nor the result of '%s'",
		     line ? line : "(none)", last, op);
	/* Every slot the record names (running and fallback) is whole. */
	slots[0][0] = 'b', slots[0][1] = now.bc;
	slots[1][0] = 'v', slots[1][1] = now.vm;
	slots[2][0] = 'b', slots[2][1] = now.last_bc;
	slots[3][0] = 'v', slots[3][1] = now.last_vm;
	for (int i = 0; i < 4; i++) {
		const char *why = slot_whole(dir, slots[i][0], slots[i][1]);

		if (why)
			fail("the record names %s slot %d, which is not whole (%s)", slots[i][0] == 'b' ? "bytecode" : "VM",
			     slots[i][1], why);
	}
	/* And libzadm itself opens it (on a copy: opening boots). */
	snprintf(tmp, sizeof(tmp), "%s.copy", dir);
	{
		char cmd[3 * 4096];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r '%s' '%s'", tmp, dir, tmp);
		if (system(cmd) != 0)
			fail("cannot copy %s", dir);
	}
	r = zadm_fota_store_file_new(tmp, 2, 0, &st);
	if (r)
		fail("libzadm refuses the record: %s", zadm_strerror(r));
	zadm_fota_store_free(st);
	free(line);
	/* What the file holds now is the baseline of the next check: the operation a killed writer left
	 * undone is not pending any more once the next writer has started. */
	line = record_line(dir);
	append_done(log, "base %s", line ? line : "none");
	free(line);
	snprintf(last, sizeof(last), "%s/.record.json.tmp", dir);
	printf("%s%s\n", is_old ? "old" : "new", access(last, F_OK) == 0 ? " tmp" : "");
	return 0;
}

static int fota_init(const char *dir)
{
	zadm_fota_store *st = NULL;
	int r = zadm_fota_store_file_new(dir, 2, 0, &st);

	if (r)
		fail("the FOTA store does not open: %s", zadm_strerror(r));
	zadm_fota_store_free(st);
	/* The slots that run from the start are installed as files, as a factory would: the store
	 * itself refuses to write a running slot. */
	for (int k = 0; k < 2; k++) {
		size_t len = slot_len(0);
		char path[4096];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/%s0.bin", dir, k ? "vm" : "bc");
		fp = fopen(path, "wb");
		if (!fp)
			fail("cannot write %s", path);
		fprintf(fp, "gen=0 len=%zu\n", len);
		for (size_t i = 0; i < len; i++)
			fputc(pattern(0, i), fp);
		if (fclose(fp) != 0)
			fail("cannot write %s", path);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: crash-writer store-write|store-check|fota-init|fota-write|fota-check DIR LOG\n");
		return 2;
	}
	if (strcmp(argv[1], "store-write") == 0)
		return store_write(argv[2], argv[3]);
	if (strcmp(argv[1], "store-check") == 0)
		return store_check(argv[2], argv[3]);
	if (strcmp(argv[1], "fota-init") == 0)
		return fota_init(argv[2]);
	if (strcmp(argv[1], "fota-write") == 0)
		return fota_write(argv[2], argv[3]);
	if (strcmp(argv[1], "fota-check") == 0)
		return fota_check(argv[2], argv[3]);
	fprintf(stderr, "crash-writer: unknown mode %s\n", argv[1]);
	return 2;
}
