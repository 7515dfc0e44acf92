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

#include "cli.h"

#define DISCOVER_USAGE "ztc device discover [--matchdb] [--loop] [--looptime MS]"

static const char *const raw_keys[] = { "vid", "pid", "sid", "uid", "port", "disk", "desc", "usbpath" };
static const char *const match_keys[] = { "name", "alias", "target", "uid", "chipid", "remote_id",
					   "classname", "port", "disk", "usbpath" };

static void print_raw(struct cli *cli, const ztc_usbdev_list *list)
{
	struct out_records o;

	out_init(&o, raw_keys, sizeof(raw_keys) / sizeof(*raw_keys));
	for (size_t i = 0; i < list->n; i++) {
		const ztc_usbdev *d = &list->dev[i];
		const char *row[] = { d->vid, d->pid, d->sid, d->uid, d->port, d->disk, d->desc, d->usbpath };

		out_add(&o, row);
	}
	out_print(cli, &o, "No USB devices found.");
	out_free(&o);
}

/* Match the devices against the database and the known-device store, and print the records. */
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
	out_init(&o, match_keys, sizeof(match_keys) / sizeof(*match_keys));
	for (size_t i = 0; i < ml->n; i++) {
		const ztc_match *m = &ml->m[i];
		const char *row[] = { m->name, m->alias, m->target, m->uid, m->chipid, m->remote_id,
				      m->classname, m->port, m->disk, m->dev ? m->dev->usbpath : NULL };

		out_add(&o, row);
	}
	out_print(cli, &o, "No supported boards found.");
	out_free(&o);
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
	"ztc device alias put UID ALIAS TARGET [--name NAME] [--chipid ID] [--remote_id ID] [--classname CLASS] " \
	"[--port PORT | --usbpath PATH]"
#define ALIAS_DEL_USAGE "ztc device alias del ALIAS"
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
			       "Give the connected device whose uid starts with UID the alias ALIAS and the target\n"
			       "TARGET. --classname picks the class when several classes of TARGET match it.\n"
			       "--port or --usbpath picks the device, and pins the alias to its usbpath, when several\n"
			       "connected devices share the uid (the same serial number, or none).\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (argc - optind < 3)
		return cli_usage_error(ALIAS_PUT_USAGE, "missing arguments: UID ALIAS TARGET");
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

static int cmd_alias_del(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *deleted = NULL;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "h", opts, ALIAS_DEL_USAGE)) != -1) {
		if (c == 'h') {
			printf("Usage: " ALIAS_DEL_USAGE "\n\nForget the device with alias ALIAS (or a unique prefix of it).\n");
			return 0;
		}
		return EXIT_USAGE;
	}
	if (argc - optind < 1)
		return cli_usage_error(ALIAS_DEL_USAGE, "missing ALIAS");
	if (argc - optind > 1)
		return cli_usage_error(ALIAS_DEL_USAGE, "unexpected argument '%s'", argv[optind + 1]);
	rc = ztc_alias_del(cli->ctx, NULL, argv[optind], &deleted);
	if (rc < 0)
		return cli_fail(cli, rc);
	if (!cli->quiet && !cli->json)
		printf("alias %s deleted\n", deleted);
	free(deleted);
	return 0;
}

static const struct cli_cmd alias_cmds[] = {
	{ "put", cmd_alias_put,
	  "UID ALIAS TARGET [--name NAME] [--chipid ID] [--remote_id ID] [--classname CLASS] [--port PORT | --usbpath PATH]",
	  "give a connected device an alias and a target" },
	{ "del", cmd_alias_del, "ALIAS", "forget an aliased device" },
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
	{ "alias", cmd_alias, "put|del ...", "give a device an alias and a target, or forget it" },
	{ "register", cmd_register, "ALIAS [--skip_burn]",
	  "flash the registration firmware, read the chip id and register the board" },
	{ "virtualize", cmd_virtualize, "ALIAS VMUID", "flash a stored virtual machine on the board" },
	{ "supported", cmd_supported, "[--type board|jtag|usbtoserial]", "list the devices of the board database" },
	{ "open", cmd_open, "ALIAS [--echo] [--baud N] [--timeout S] [--timestamp] [--log FILE] [--reconnect]",
	  "open a serial console on the board's port" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_device(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "device", device_cmds, argc, argv);
}
