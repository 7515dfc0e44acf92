/* device.c: the `ztc device` commands. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../lib/inline.h"
#include "cli.h"

#define DISCOVER_USAGE "ztc device discover [--matchdb] [--loop] [--looptime MS]"

static const char *const raw_keys[] = { "vid", "pid", "sid", "uid", "port", "disk", "desc", "usbpath" };
static const char *const match_keys[] = { "name", "alias", "target", "uid", "chipid", "remote_id",
					   "classname", "port", "disk", "usbpath" };

/* The uid as a table shows it: its shortest unique prefix among uids. */
static const char *short_uid(struct ztc_kept *o, const char *uid, const char *const *uids, size_t n)
{
	return uid ? ztc_kept_add(o, strndup(uid, out_uid_len(uid, uids, n))) : NULL;
}

/* Port order for tables: /dev/ttyACM2 before /dev/ttyACM10, devices without a port last, then uid, then
 * usbpath (twins without a port: 1-1.2 before 1-1.10). */
static int cmp_port_uid(const ztc_usbdev *a, const char *pa, const char *ua, const ztc_usbdev *b, const char *pb,
			const char *ub)
{
	const char *sa = a ? a->usbpath : NULL, *sb = b ? b->usbpath : NULL;
	int c;

	if (!pa != !pb)
		return !pa - !pb;
	if (pa && strverscmp(pa, pb))
		return strverscmp(pa, pb);
	if ((c = strcmp(ua ? ua : "", ub ? ub : "")) != 0)
		return c;
	return strverscmp(sa ? sa : "", sb ? sb : "");
}

static const ztc_usbdev_list *sort_list;

static int cmp_dev_idx(const void *a, const void *b)
{
	const ztc_usbdev *x = &sort_list->dev[*(const size_t *)a], *y = &sort_list->dev[*(const size_t *)b];

	return cmp_port_uid(x, x->port, x->uid, y, y->port, y->uid);
}

/* ID_SERIAL ends with "_<serial number>", which the SID column shows already. */
static char *desc_without_sid(const ztc_usbdev *d)
{
	size_t ld, ls;

	if (!d->desc)
		return NULL;
	ld = strlen(d->desc);
	ls = d->sid ? strlen(d->sid) : 0;
	if (ls && ld > ls + 1 && d->desc[ld - ls - 1] == '_' && strcasecmp(d->desc + ld - ls, d->sid) == 0)
		return strndup(d->desc, ld - ls - 1);
	return strdup(d->desc);
}

static void print_raw(struct cli *cli, const ztc_usbdev_list *list)
{
	static const char *const tkeys[] = { "port", "uid", "vid", "pid", "sid", "disk", "usbpath", "desc" };
	static const struct out_col cols[] = { { "PORT", 0 }, { "UID", 0 }, { "VID", 0 }, { "PID", 0 }, { "SID", 0 },
					       { "DISK", OUT_OPTIONAL }, { "USBPATH", OUT_OPTIONAL },
					       { "DESC", OUT_CUT } };
	struct out_records o;
	struct ztc_kept own_s = { 0 }; /* strings a table borrows until it is printed */
	const char **uids = calloc(list->n + 1, sizeof(*uids));
	size_t *idx = calloc(list->n + 1, sizeof(*idx));

	if (!uids || !idx)
		goto out;
	if (cli->json) {
		out_init(&o, raw_keys, sizeof(raw_keys) / sizeof(*raw_keys));
		for (size_t i = 0; i < list->n; i++) {
			const ztc_usbdev *d = &list->dev[i];
			const char *row[] = { d->vid, d->pid, d->sid, d->uid, d->port, d->disk, d->desc, d->usbpath };

			out_add(&o, row);
		}
		out_print(cli, &o, "");
		out_free(&o);
		goto out;
	}
	for (size_t i = 0; i < list->n; i++) {
		uids[i] = list->dev[i].uid;
		idx[i] = i;
	}
	sort_list = list;
	qsort(idx, list->n, sizeof(*idx), cmp_dev_idx);
	out_init(&o, tkeys, sizeof(tkeys) / sizeof(*tkeys));
	for (size_t i = 0; i < list->n; i++) {
		const ztc_usbdev *d = &list->dev[idx[i]];
		const char *row[] = { d->port, short_uid(&own_s, d->uid, uids, list->n), d->vid, d->pid, d->sid,
				      d->disk, d->usbpath, ztc_kept_add(&own_s, desc_without_sid(d)) };

		out_add(&o, row);
	}
	if (o.n == 0)
		printf("No USB devices found.\n");
	else
		out_table(&o, cols, out_width());
	fflush(stdout);
	out_free(&o);
out:
	ztc_kept_free(&own_s);
	free(uids);
	free(idx);
}

/* One row of the --matchdb table: a connected device (on one port) and its candidate targets. */
struct match_row {
	const ztc_match *first;
	char *targets; /* "a, b, c" */
	size_t n;
	bool twin;     /* another row is another device with the same uid */
};

static int cmp_row(const void *a, const void *b)
{
	const ztc_match *x = ((const struct match_row *)a)->first, *y = ((const struct match_row *)b)->first;

	return cmp_port_uid(x->dev, x->port, x->uid, y->dev, y->port, y->uid);
}

static bool same_device(const ztc_match *a, const ztc_match *b)
{
	bool same_port = (!a->port && !b->port) || (a->port && b->port && strcmp(a->port, b->port) == 0);

	return same_port && (a->dev || b->dev ? a->dev == b->dev : strcmp(a->uid, b->uid) == 0);
}

static void print_match_table(const ztc_match_list *ml)
{
	static const char *const tkeys[] = { "port", "uid", "alias", "disk", "usbpath", "name", "target" };
	static const struct out_col cols[] = { { "PORT", 0 }, { "UID", 0 }, { "ALIAS", 0 }, { "DISK", OUT_OPTIONAL },
					       { "USBPATH", OUT_OPTIONAL }, { "NAME", OUT_CUT },
					       { "TARGET", OUT_WRAP } };
	struct match_row *rows = calloc(ml->n + 1, sizeof(*rows));
	const char **uids = calloc(ml->n + 1, sizeof(*uids));
	struct ztc_kept own_s = { 0 }; /* strings a table borrows until it is printed */
	const char *example = NULL, *example_port = NULL;
	bool any_twin = false;
	struct out_records o;
	size_t nrows = 0;

	if (!rows || !uids)
		goto out;
	for (size_t i = 0; i < ml->n; i++) {
		const ztc_match *m = &ml->m[i];
		size_t r;
		char *t;

		uids[i] = m->uid;
		for (r = 0; r < nrows && !same_device(rows[r].first, m); r++)
			;
		if (r == nrows)
			rows[nrows++].first = m;
		if (!rows[r].targets)
			t = strdup(m->target);
		else if (asprintf(&t, "%s, %s", rows[r].targets, m->target) < 0)
			t = NULL;
		if (!t)
			continue; /* out of memory: the row shows the targets it has */
		free(rows[r].targets);
		rows[r].targets = t;
		rows[r].n++;
	}
	qsort(rows, nrows, sizeof(*rows), cmp_row);
	/* Twins: other devices with the uid (not the other identity of a has_double_dev board, which is the
	 * same device on another port). */
	for (size_t r = 0; r < nrows; r++)
		for (size_t k = 0; k < nrows; k++)
			if (k != r && rows[k].first->dev != rows[r].first->dev &&
			    strcmp(rows[k].first->uid, rows[r].first->uid) == 0)
				rows[r].twin = any_twin = true;
	out_init(&o, tkeys, sizeof(tkeys) / sizeof(*tkeys));
	for (size_t r = 0; r < nrows; r++) {
		const ztc_match *m = rows[r].first;
		const char *uid = short_uid(&own_s, m->uid, uids, ml->n);
		char many[32];
		/* The usbpath tells twins apart (and is what --usbpath takes): shown when twins are here,
		 * else the room goes to the targets. */
		const char *row[] = { m->port, uid, m->alias, m->disk, any_twin && m->dev ? m->dev->usbpath : NULL,
				      m->name, rows[r].targets };

		if (rows[r].n > 1) {
			snprintf(many, sizeof(many), "one of %zu", rows[r].n);
			row[5] = ztc_kept_add(&own_s, strdup(many));
		}
		/* A twin's uid names two devices: its port is the example then. */
		if (!m->alias && !example && !rows[r].twin)
			example = uid;
		else if (!m->alias && !example_port && rows[r].twin && m->port)
			example_port = m->port;
		out_add(&o, row);
	}
	out_table(&o, cols, out_width());
	if (example)
		printf("Pin one target on a device: ztc device alias put UID ALIAS TARGET (UID: %s, or its port)\n",
		       example);
	else if (example_port)
		printf("Pin one target on a device: ztc device alias put PORT ALIAS TARGET (PORT: %s)\n", example_port);
	out_free(&o);
out:
	for (size_t r = 0; rows && r < nrows; r++)
		free(rows[r].targets);
	ztc_kept_free(&own_s);
	free(rows);
	free(uids);
}

/* Match the devices against the database and the known-device store, and print the records: -J one
 * per candidate target, the table one row per device. */
static int print_matched(struct cli *cli, const ztc_db *db, const ztc_usbdev_list *list)
{
	ztc_match_list *ml = NULL;
	ztc_store *store = NULL;
	struct out_records o;
	int rc;

	rc = ztc_store_load(cli->ctx, &store);
	if (rc == ZTC_OK)
		rc = ztc_match_devices(cli->ctx, db, store, list, &ml);
	if (rc < 0) {
		ztc_store_free(store);
		return cli_fail(cli, rc);
	}
	if (!cli->json && ml->n) {
		print_match_table(ml);
	} else {
		out_init(&o, match_keys, sizeof(match_keys) / sizeof(*match_keys));
		for (size_t i = 0; i < ml->n; i++) {
			const ztc_match *m = &ml->m[i];
			const char *row[] = { m->name, m->alias, m->target, m->uid, m->chipid, m->remote_id,
					      m->classname, m->port, m->disk, m->dev ? m->dev->usbpath : NULL };

			out_add(&o, row);
		}
		out_print(cli, &o, "No supported boards found.");
		out_free(&o);
	}
	fflush(stdout);
	ztc_match_list_free(ml);
	ztc_store_free(store);
	return 0;
}

static int print_set(struct cli *cli, const ztc_db *db, const ztc_usbdev_list *list)
{
	if (db)
		return print_matched(cli, db, list);
	print_raw(cli, list);
	return 0;
}

/* A signalfd for SIGINT and SIGTERM, so the loop ends cleanly between two prints. */
static int open_signalfd(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, old) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int discover_loop(struct cli *cli, const ztc_db *db, int looptime)
{
	ztc_usbdev_list *prev = NULL, *cur = NULL;
	ztc_monitor *mon = NULL;
	bool rescan = true;
	int wait = -1;
	sigset_t oldmask;
	int sfd, rc;

	sfd = open_signalfd(&oldmask);
	if (sfd < 0)
		return cli_error("cannot watch for signals: %s", strerror(errno));
	/* Subscribe before the first scan so that nothing plugged in between is missed. */
	rc = ztc_monitor_new(cli->ctx, &mon);
	if (rc < 0) {
		if (!cli->quiet)
			fprintf(stderr, "ztc: warning: %s; polling every %d ms instead\n",
				ztc_ctx_errmsg(cli->ctx), looptime);
		mon = NULL;
	}
	for (;;) {
		struct pollfd pfd[2] = { { sfd, POLLIN, 0 }, { mon ? ztc_monitor_get_fd(mon) : -1, POLLIN, 0 } };
		int n;

		if (rescan) {
			/* After events, only the devices they concern are read again. */
			rc = mon && prev ? ztc_monitor_discover(mon, prev, &cur) : ztc_discover(cli->ctx, &cur);
			if (rc < 0) {
				rc = cli_fail(cli, rc);
				break;
			}
			if (!prev || !ztc_usbdev_list_equal(prev, cur)) {
				if (print_set(cli, db, cur) != 0) {
					ztc_usbdev_list_free(cur);
					rc = 1;
					break;
				}
				fputc('\n', stdout);
				fflush(stdout);
			}
			ztc_usbdev_list_free(prev);
			prev = cur;
			cur = NULL;
		}

		n = poll(pfd, 2, mon ? wait : looptime);
		if (n < 0 && errno != EINTR) {
			rc = cli_error("poll failed: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			/* Consume the signal, or it would kill us when the mask is restored. */
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				memset(&si, 0, sizeof(si)); /* nothing more to do: we exit either way */
			rc = 0;
			break;
		}
		/* With the monitor, look again as soon as a plug's or unplug's burst of events is complete
		 * (one plug prints one new set); after a timeout too, which ends a burst that never completes. */
		rescan = !mon || ztc_monitor_settle(mon, &wait) == 1;
	}
	ztc_usbdev_list_free(prev);
	ztc_monitor_free(mon);
	close(sfd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return rc;
}

/* --matchdb: the database is loaded while udev is read. Both mostly wait on the kernel (even cached,
 * a thousand board folders are a thousand stat() calls): in a thread of its own, with a context of its
 * own, the load costs no time on a machine with a spare core. */
struct db_job {
	ztc_ctx *ctx;
	ztc_db *db;
	int rc;
};

static void *load_db(void *userdata)
{
	struct db_job *j = userdata;

	j->rc = ztc_db_load(j->ctx, &j->db);
	return NULL;
}

static int discover_matchdb(struct cli *cli)
{
	struct db_job job = { NULL, NULL, ZTC_OK };
	ztc_usbdev_list *list = NULL;
	bool threaded = false;
	pthread_t th;
	int rc;

	if (cli_ctx_new(cli, &job.ctx) == ZTC_OK)
		threaded = pthread_create(&th, NULL, load_db, &job) == 0;
	if (!threaded)
		job.rc = ztc_db_load(cli->ctx, &job.db); /* its error is then in cli->ctx */
	rc = ztc_discover(cli->ctx, &list);
	if (threaded)
		pthread_join(th, NULL);
	/* The database's error first, as when it was loaded first. */
	if (job.rc < 0)
		rc = threaded ? cli_error("%s", *ztc_ctx_errmsg(job.ctx) ? ztc_ctx_errmsg(job.ctx) : ztc_strerror(job.rc))
			      : cli_fail(cli, job.rc);
	else if (rc < 0)
		rc = cli_fail(cli, rc);
	else
		rc = print_set(cli, job.db, list);
	ztc_usbdev_list_free(list);
	ztc_db_free(job.db);
	ztc_ctx_free(job.ctx);
	return rc;
}

static int cmd_discover(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "matchdb", no_argument, NULL, 'm' },
		{ "loop", no_argument, NULL, 'l' },
		{ "looptime", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool matchdb = false, loop = false;
	int looptime = 2000, c, rc;
	ztc_usbdev_list *list;
	ztc_db *db = NULL;

	while ((c = cli_getopt(argc, argv, "h", opts, DISCOVER_USAGE)) != -1) {
		switch (c) {
		case 'm': matchdb = true; break;
		case 'l': loop = true; break;
		case 't':
			if (!cli_parse_positive(optarg, &looptime))
				return cli_usage_error(DISCOVER_USAGE,
						       "--looptime needs a positive number of milliseconds, not '%s'",
						       optarg);
			break;
		case 'h':
			printf("Usage: " DISCOVER_USAGE "\n\n"
			       "List the USB devices connected now, one per board: vid pid sid uid port disk desc usbpath.\n"
			       "  --matchdb      match them against the board database\n"
			       "  --loop         print the set again each time it changes (udev events)\n"
			       "  --looptime MS  poll interval if udev events are unavailable (default 2000)\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(DISCOVER_USAGE, "unexpected argument '%s'", argv[optind]);
	if (matchdb && !loop)
		return discover_matchdb(cli);
	if (matchdb && (rc = ztc_db_load(cli->ctx, &db)) < 0)
		return cli_fail(cli, rc);
	if (loop) {
		rc = discover_loop(cli, db, looptime);
	} else if ((rc = ztc_discover(cli->ctx, &list)) < 0) {
		rc = cli_fail(cli, rc);
	} else {
		rc = print_set(cli, db, list);
		ztc_usbdev_list_free(list);
	}
	ztc_db_free(db);
	return rc;
}


#define ALIAS_PUT_USAGE \
	"ztc device alias put UID|PORT ALIAS TARGET [--name NAME] [--chipid ID] [--remote_id ID] [--classname CLASS] " \
	"[--port PORT | --usbpath PATH]"
#define ALIAS_DEL_USAGE "ztc device alias del ALIAS [--yes]"
#define ALIAS_LIST_USAGE "ztc device alias list"
#define SUPPORTED_USAGE "ztc device supported [--type board|jtag|usbtoserial]"

static const char *const known_keys[] = { "alias", "uid", "name", "target", "chipid", "remote_id",
					   "classname", "usbpath" };

static void print_known(struct cli *cli, const ztc_known *k)
{
	struct out_records o;
	const char *row[] = { k->alias, k->uid, k->name, k->target, k->chipid, k->remote_id, k->classname,
			      k->usbpath };

	out_init(&o, known_keys, sizeof(known_keys) / sizeof(*known_keys));
	out_add(&o, row);
	out_print(cli, &o, "");
	out_free(&o);
}

static int cmd_alias_put(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "chipid", required_argument, NULL, 'c' },
		{ "remote_id", required_argument, NULL, 'r' },
		{ "classname", required_argument, NULL, 'k' },
		{ "port", required_argument, NULL, 'p' },
		{ "usbpath", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const args[] = { "UID", "ALIAS", "TARGET" };
	ztc_alias_opts ao = { 0 };
	ztc_known *k = NULL;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "h", opts, ALIAS_PUT_USAGE)) != -1) {
		switch (c) {
		case 'n': ao.name = optarg; break;
		case 'c': ao.chipid = optarg; break;
		case 'r': ao.remote_id = optarg; break;
		case 'k': ao.classname = optarg; break;
		case 'p': ao.port = optarg; break;
		case 'u': ao.usbpath = optarg; break;
		case 'h':
			printf("Usage: " ALIAS_PUT_USAGE "\n\n"
			       "Give the connected device whose uid starts with UID (any case), or that is on the\n"
			       "port PORT (/dev/ttyUSB0), the alias ALIAS and the target TARGET. A probe or\n"
			       "USB-serial adapter takes a board that is programmed through it. A device that had\n"
			       "another alias loses it (said on stderr). --classname picks the class when several\n"
			       "classes of TARGET match the device. When several connected devices share the uid\n"
			       "(the same serial number, or none), --port or --usbpath picks one, as PORT in place\n"
			       "of UID does, and pins the alias to its usbpath. -J prints the entry as stored.\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind < 3)
		return cli_missing(ALIAS_PUT_USAGE, argc - optind, args, 3);
	if (argc - optind > 3)
		return cli_usage_error(ALIAS_PUT_USAGE, "unexpected argument '%s'", argv[optind + 3]);
	if (ao.port && ao.usbpath)
		return cli_usage_error(ALIAS_PUT_USAGE, "give --port or --usbpath, not both");
	if (!ztc_alias_valid(argv[optind + 1]))
		return cli_usage_error(ALIAS_PUT_USAGE, "invalid alias '%s': it must be non-empty, without spaces, "
				       "and not start with '-'", argv[optind + 1]);
	rc = ztc_alias_put(cli->ctx, NULL, NULL, NULL, argv[optind], argv[optind + 1], argv[optind + 2], &ao, &k);
	if (rc < 0)
		return cli_fail(cli, rc);
	if (cli->json)
		print_known(cli, k);
	else if (!cli->quiet)
		printf("%s is now the alias of %s%s%s (%s, class %s)\n", k->alias, k->uid, k->usbpath ? " at usbpath " : "",
		       k->usbpath ? k->usbpath : "", k->target, k->classname);
	ztc_known_free(k);
	return 0;
}

/* Delete exactly the alias confirmed, under the store's lock: never another one that came to share its
 * start meanwhile. */
static int del_exact(ztc_ctx *ctx, ztc_store *store, void *userdata)
{
	return ztc_store_del(ctx, store, userdata);
}

/* Ask the person at the terminal to type the alias a prefix stands for; true when they did. */
static bool confirm_alias(const char *prefix, const ztc_known *k)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool ok;

	fprintf(stderr, "ztc: '%s' is the start of alias '%s' (%s, uid %.12s...); type the whole alias to delete "
		"it: ", prefix, k->alias, k->target ? k->target : "no target", k->uid ? k->uid : "");
	fflush(stderr);
	n = getline(&line, &cap, stdin);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	ok = n > 0 && strcmp(line, k->alias) == 0;
	free(line);
	return ok;
}

/* The whole alias deletes at once; a start of one only once the person at the terminal typed the whole
 * alias (no terminal: refused, saying what to do). The error line is printed when false. */
static bool may_delete(const char *typed, const ztc_known *k)
{
	if (strcmp(k->alias, typed) == 0)
		return true;
	if (!isatty(STDIN_FILENO)) {
		cli_error("'%s' is only the start of alias '%s': give the whole alias, or --yes to delete it", typed,
			  k->alias);
		return false;
	}
	if (!confirm_alias(typed, k)) {
		cli_error("not deleted: that is not '%s'", k->alias);
		return false;
	}
	return true;
}

static int cmd_alias_del(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const args[] = { "ALIAS" };
	char *deleted = NULL;
	const ztc_known *k;
	ztc_store *store;
	bool yes = false;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "hy", opts, ALIAS_DEL_USAGE)) != -1) {
		switch (c) {
		case 'y': yes = true; break;
		case 'h':
			printf("Usage: " ALIAS_DEL_USAGE "\n\n"
			       "Forget the device with alias ALIAS. A unique start of an alias deletes it only after\n"
			       "the whole alias is typed at the terminal, or with --yes (-y).\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind < 1)
		return cli_missing(ALIAS_DEL_USAGE, 0, args, 1);
	if (argc - optind > 1)
		return cli_usage_error(ALIAS_DEL_USAGE, "unexpected argument '%s'", argv[optind + 1]);
	if (yes) {
		/* The prefix is resolved under the lock: the alias deleted is the one it names then. */
		rc = ztc_alias_del(cli->ctx, NULL, argv[optind], &deleted);
	} else {
		/* An alias only, as --yes takes it: a port is no name for forgetting a device. */
		if ((rc = ztc_store_load(cli->ctx, &store)) < 0)
			return cli_fail(cli, rc);
		if ((rc = ztc_store_resolve_alias(cli->ctx, store, argv[optind], &k)) < 0) {
			ztc_store_free(store);
			return cli_fail(cli, rc);
		}
		if (!may_delete(argv[optind], k)) {
			ztc_store_free(store);
			return 1;
		}
		deleted = strdup(k->alias);
		ztc_store_free(store);
		if (!deleted)
			return cli_error("out of memory");
		rc = ztc_store_update(cli->ctx, del_exact, deleted);
	}
	if (rc < 0) {
		free(deleted);
		return cli_fail(cli, rc);
	}
	if (cli->json) {
		static const char *const keys[] = { "alias" };
		struct out_records o;
		const char *row[] = { deleted };

		out_init(&o, keys, 1);
		out_add(&o, row);
		out_print(cli, &o, "");
		out_free(&o);
	} else if (!cli->quiet) {
		printf("alias %s deleted\n", deleted);
	}
	free(deleted);
	return 0;
}

static int cmd_alias_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	/* usbpath: the one the alias is pinned to (twins), not the device's. */
	static const char *const keys[] = { "alias", "uid", "target", "name", "chipid", "remote_id", "classname",
					    "usbpath", "connected", "port" };
	static const char *const tkeys[] = { "port", "alias", "uid", "target", "chipid", "remote_id", "usbpath",
					     "connected", "name" };
	static const struct out_col cols[] = { { "PORT", 0 }, { "ALIAS", 0 }, { "UID", 0 }, { "TARGET", 0 },
					       { "CHIPID", OUT_OPTIONAL }, { "REMOTE_ID", OUT_OPTIONAL | OUT_CUT },
					       { "PINNED", OUT_OPTIONAL }, { "CONNECTED", 0 },
					       { "NAME", OUT_OPTIONAL | OUT_CUT } };
	ztc_usbdev_list *devs = NULL;
	struct ztc_kept own_s = { 0 }; /* strings a table borrows until it is printed */
	ztc_alias_list *l = NULL;
	ztc_store *store = NULL;
	const char **uids = NULL;
	struct out_records o;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "h", opts, ALIAS_LIST_USAGE)) != -1) {
		if (c == 'h') {
			printf("Usage: " ALIAS_LIST_USAGE "\n\n"
			       "List every known device: its alias, uid, target, chip id and remote id once\n"
			       "registered, custom name, class, the usbpath it is pinned to (twins), whether it\n"
			       "is connected now and its port then.\n");
			return 0;
		}
		return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(ALIAS_LIST_USAGE, "unexpected argument '%s'", argv[optind]);
	if ((rc = ztc_store_load(cli->ctx, &store)) < 0 || (rc = ztc_discover(cli->ctx, &devs)) < 0 ||
	    (rc = ztc_alias_list_new(cli->ctx, store, devs, &l)) < 0) {
		rc = cli_fail(cli, rc);
		goto out;
	}
	if (!(uids = calloc(l->n + 1, sizeof(*uids)))) {
		rc = cli_error("out of memory");
		goto out;
	}
	for (size_t i = 0; i < l->n; i++)
		uids[i] = l->e[i].known->uid;
	out_init(&o, cli->json ? keys : tkeys, cli->json ? sizeof(keys) / sizeof(*keys) : sizeof(tkeys) / sizeof(*tkeys));
	for (size_t i = 0; i < l->n; i++) {
		const ztc_known *k = l->e[i].known;
		const char *port = l->e[i].dev ? l->e[i].dev->port : NULL, *conn = l->e[i].dev ? OUT_TRUE : OUT_FALSE;

		if (cli->json) {
			const char *row[] = { k->alias, k->uid, k->target, k->name, k->chipid, k->remote_id,
					      k->classname, k->usbpath, conn, port };

			out_add(&o, row);
		} else {
			const char *row[] = { port, k->alias, short_uid(&own_s, k->uid, uids, l->n), k->target,
					      k->chipid, k->remote_id, k->usbpath, conn, k->name };

			out_add(&o, row);
		}
	}
	if (cli->json || o.n == 0)
		out_print(cli, &o, "No known devices: give one an alias with 'ztc device alias put UID ALIAS TARGET'.");
	else
		out_table(&o, cols, out_width());
	fflush(stdout);
	out_free(&o);
	rc = 0;
out:
	free(uids);
	ztc_kept_free(&own_s);
	ztc_alias_list_free(l);
	ztc_usbdev_list_free(devs);
	ztc_store_free(store);
	return rc;
}

static const struct cli_cmd alias_cmds[] = {
	{ "put", cmd_alias_put,
	  "UID|PORT ALIAS TARGET [--name NAME] [--chipid ID] [--remote_id ID] [--classname CLASS] "
	  "[--port PORT | --usbpath PATH]",
	  "give a connected device an alias and a target" },
	{ "del", cmd_alias_del, "ALIAS [--yes]", "forget an aliased device" },
	{ "list", cmd_alias_list, "", "list the known devices, connected or not" },
	{ NULL, NULL, NULL, NULL },
};

static int cmd_alias(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "device alias", alias_cmds, argc - 1, argv + 1);
}

static int cmd_supported(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "target", "name", "type", "path" };
	const char *type = NULL;
	struct out_records o;
	ztc_db *db;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "h", opts, SUPPORTED_USAGE)) != -1) {
		switch (c) {
		case 't':
			if (strcmp(optarg, "board") && strcmp(optarg, "jtag") && strcmp(optarg, "usbtoserial"))
				return cli_usage_error(SUPPORTED_USAGE, "--type must be board, jtag or usbtoserial, not '%s'",
						       optarg);
			type = optarg;
			break;
		case 'h':
			printf("Usage: " SUPPORTED_USAGE "\n\nList the devices of the board database: target name type path.\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(SUPPORTED_USAGE, "unexpected argument '%s'", argv[optind]);
	if ((rc = ztc_db_load(cli->ctx, &db)) < 0)
		return cli_fail(cli, rc);
	out_init(&o, keys, 4);
	for (size_t i = 0; i < ztc_db_count(db); i++) {
		const ztc_target *t = ztc_db_get(db, i);
		const char *row[] = { ztc_target_get_id(t), ztc_target_get_name(t), ztc_target_get_type(t),
				      ztc_target_get_path(t) };

		if (!type || strcmp(type, row[2]) == 0)
			out_add(&o, row);
	}
	out_print(cli, &o, "No supported devices of that type.");
	out_free(&o);
	ztc_db_free(db);
	return 0;
}

static const struct cli_cmd device_cmds[] = {
	{ "discover", cmd_discover, "[--matchdb] [--loop] [--looptime MS]",
	  "list connected USB devices, raw or matched against the board database" },
	{ "alias", cmd_alias, "put|del|list ...", "give a device an alias and a target, forget it, list them" },
	{ "register", cmd_register, "ALIAS|PORT [--skip_burn]",
	  "flash the registration firmware, read the chip id and register the board" },
	{ "virtualize", cmd_virtualize, "ALIAS|PORT VMUID", "flash a stored virtual machine on the board" },
	{ "supported", cmd_supported, "[--type board|jtag|usbtoserial]", "list the devices of the board database" },
	{ "open", cmd_open, "ALIAS|PORT [--echo] [--baud N] [--eol cr|lf|crlf] [--escape CHAR] [--timeout S] "
	  "[--timestamp[=FMT]] [--log FILE] [--reconnect]",
	  "open a serial console on the board's port" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_device(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "device", device_cmds, argc, argv);
}
