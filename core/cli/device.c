/* device.c: the `ztc device` commands. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli.h"

#define DISCOVER_USAGE "ztc device discover [--matchdb] [--loop] [--looptime MS]"
/* After a udev event, wait this long for the rest of the burst (a board adds a usb device, its
 * interfaces, a tty and a disk within milliseconds) so one plug prints one new set. */
#define SETTLE_MS 50

static const char *const raw_keys[] = { "vid", "pid", "sid", "uid", "port", "disk", "desc" };

static void print_raw(struct cli *cli, const ztc_usbdev_list *list)
{
	struct out_records o;

	out_init(&o, raw_keys, sizeof(raw_keys) / sizeof(*raw_keys));
	for (size_t i = 0; i < list->n; i++) {
		const ztc_usbdev *d = &list->dev[i];
		const char *row[] = { d->vid, d->pid, d->sid, d->uid, d->port, d->disk, d->desc };

		out_add(&o, row);
	}
	out_print(cli, &o, "No USB devices found.");
	out_free(&o);
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

static int discover_loop(struct cli *cli, int looptime)
{
	ztc_usbdev_list *prev = NULL, *cur = NULL;
	ztc_monitor *mon = NULL;
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

		rc = ztc_discover(cli->ctx, &cur);
		if (rc < 0) {
			rc = cli_fail(cli, rc);
			break;
		}
		if (!prev || !ztc_usbdev_list_equal(prev, cur)) {
			print_raw(cli, cur);
			fputc('\n', stdout);
			fflush(stdout);
		}
		ztc_usbdev_list_free(prev);
		prev = cur;
		cur = NULL;

		n = poll(pfd, 2, mon ? -1 : looptime);
		if (n < 0 && errno != EINTR) {
			rc = cli_error("poll failed: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			rc = 0;
			break;
		}
		if (mon && (pfd[1].revents & POLLIN)) {
			/* Drain the whole burst of events before looking again. */
			do {
				ztc_monitor_drain(mon);
			} while (poll(&pfd[1], 1, SETTLE_MS) > 0 && !(pfd[1].revents & (POLLERR | POLLHUP)));
		}
	}
	ztc_usbdev_list_free(prev);
	ztc_monitor_free(mon);
	close(sfd);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
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
			       "List the USB devices connected now: vid pid sid uid port disk desc.\n"
			       "  --matchdb      match them against the board database\n"
			       "  --loop         print the set again each time it changes (udev events)\n"
			       "  --looptime MS  poll interval if udev events are unavailable (default 2000)\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(DISCOVER_USAGE, "unexpected argument '%s'", argv[optind]);
	if (matchdb)
		return cli_error("--matchdb needs the board database, which this build does not have yet");
	if (loop)
		return discover_loop(cli, looptime);
	rc = ztc_discover(cli->ctx, &list);
	if (rc < 0)
		return cli_fail(cli, rc);
	print_raw(cli, list);
	ztc_usbdev_list_free(list);
	return 0;
}

static const struct cli_cmd device_cmds[] = {
	{ "discover", cmd_discover, "[--matchdb] [--loop] [--looptime MS]",
	  "list connected USB devices, raw or matched against the board database" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_device(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "device", device_cmds, argc, argv);
}
