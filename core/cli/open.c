/* open.c: `ztc device open`: a serial console on a board's port. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ztc/register.h"
#include "ztc/console.h"

#define OPEN_USAGE \
	"ztc device open ALIAS|PORT [--echo] [--baud N] [--eol cr|lf|crlf] [--escape CHAR] [--timeout S]\n" \
	"                           [--timestamp[=time|iso|ms|delta]] [--log FILE] [--reconnect]"
/* While waiting for an unplugged board: how often to look for its port, and (when it is found by
 * uid through udev) how often to enumerate even without udev events. */
#define RECONNECT_POLL_MS 200
#define REDISCOVER_MS 1000

/* Where the console goes. */
struct open_target {
	char *port;               /* serial port node */
	char *uid;                /* the board, to find it again by uid after an unplug; NULL: same port */
	char *usbpath;            /* ... and by usbpath, for an alias pinned to one of twins */
	char *alias;              /* the board's whole alias; NULL for a port given by path */
	ztc_serial_params params; /* the board's `connection` */
};

static void target_clear(struct open_target *t)
{
	free(t->port);
	free(t->uid);
	free(t->usbpath);
	free(t->alias);
	memset(t, 0, sizeof(*t));
}

/* ALIAS (or a unique prefix of one) -> the connected board's port, uid and `connection` settings. */
static int resolve_alias(struct cli *cli, const char *prefix, struct open_target *t)
{
	ztc_match_list *ml = NULL;
	const ztc_match *m = NULL;
	ztc_store *store = NULL;
	const ztc_known *k;
	const char *alias;
	ztc_db *db = NULL;
	int rc;

	if (cli_load_known(cli, prefix, &store, &k) != 0)
		return 1;
	alias = k->alias;
	if ((rc = ztc_db_load(cli->ctx, &db)) < 0 || (rc = ztc_find_alias(cli->ctx, db, store, alias, &ml, &m)) < 0) {
		rc = cli_fail(cli, rc);
	} else if (!m->port) {
		rc = cli_error("%s (%s, %s mode) has no serial port", alias, m->target, m->classname);
	} else {
		t->port = strdup(m->port);
		t->uid = strdup(m->uid);
		t->usbpath = k->usbpath ? strdup(k->usbpath) : NULL;
		t->alias = strdup(alias);
		ztc_target_serial_params(m->t, &t->params);
		rc = t->port && t->uid && (t->usbpath || !k->usbpath) && t->alias ? 0 : cli_error("out of memory");
	}
	ztc_match_list_free(ml);
	ztc_db_free(db);
	ztc_store_free(store);
	return rc;
}

static void describe(const ztc_serial_params *p, char *buf, size_t size)
{
	snprintf(buf, size, "%d %d%c%d%s", p->baud, p->databits, p->parity == 'e' ? 'E' : p->parity == 'o' ? 'O' : 'N',
		 p->stopbits, p->rtscts ? " RTS/CTS" : "");
}

static bool parse_seconds(const char *s, int *ret_ms)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v <= 0 || v > INT_MAX / 1000)
		return false;
	*ret_ms = v * 1000 < 1 ? 1 : (int)(v * 1000 + 0.5);
	return true;
}

/* The port of the board with this uid (at this usbpath, unless NULL), if it is connected now. */
static char *port_of_uid(struct cli *cli, const char *uid, const char *usbpath)
{
	ztc_usbdev_list *list;
	char *port = NULL;

	if (ztc_discover(cli->ctx, &list) < 0)
		return NULL;
	for (size_t i = 0; i < list->n; i++)
		if (list->dev[i].uid && strcmp(list->dev[i].uid, uid) == 0 && list->dev[i].port &&
		    (!usbpath || (list->dev[i].usbpath && strcmp(list->dev[i].usbpath, usbpath) == 0)))
			port = strdup(list->dev[i].port);
	ztc_usbdev_list_free(list);
	return port;
}

/* Wait for the board to come back and open its port again. Returns 0 with *ret_fd set once reopened,
 * 1 when SIGINT, SIGTERM or SIGHUP ended the wait, or minus the exit status after printing why not. */
static int wait_reconnect(struct cli *cli, struct open_target *t, const sigset_t *sigs, int *ret_fd)
{
	ztc_monitor *mon = NULL;
	long long last_scan = 0;
	bool busy_told = false;
	int sfd, rc = -1;

	/* The signals are blocked (see run()): one sent since the console ended is pending, and read here. */
	sfd = signalfd(-1, sigs, SFD_CLOEXEC);
	if (sfd < 0)
		return -cli_error("cannot watch for signals: %s", strerror(errno));
	if (!cli->quiet)
		fprintf(stderr, "ztc: %s: the board was disconnected; waiting for it to come back "
			"(Ctrl-C quits)\n", t->port);
	if (t->uid && ztc_monitor_new(cli->ctx, &mon) < 0)
		mon = NULL; /* polling alone still finds it */
	for (;;) {
		struct pollfd pfd[2] = { { sfd, POLLIN, 0 }, { mon ? ztc_monitor_get_fd(mon) : -1, POLLIN, 0 } };
		struct timespec ts;
		long long now;
		int fd, err;

		if (poll(pfd, 2, RECONNECT_POLL_MS) < 0 && errno != EINTR) {
			rc = -cli_error("poll failed: %s", strerror(errno));
			break;
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			/* Consumed, or it would strike again once the mask is put back. */
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				si.ssi_signo = 0;
			rc = 1;
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		if (t->uid) {
			char *port;

			if (!(pfd[1].revents & POLLIN) && now - last_scan < REDISCOVER_MS)
				continue;
			if (mon)
				ztc_monitor_drain(mon);
			last_scan = now;
			port = port_of_uid(cli, t->uid, t->usbpath);
			if (!port)
				continue;
			free(t->port);
			t->port = port;
		}
		err = ztc_serial_open(cli->ctx, t->port, &t->params, &fd);
		if (err == ZTC_OK) {
			*ret_fd = fd;
			rc = 0;
			break;
		}
		if (err == ZTC_ERR_BUSY) {
			if (!busy_told && !cli->quiet)
				fprintf(stderr, "ztc: %s; still waiting\n", ztc_ctx_errmsg(cli->ctx));
			busy_told = true;
		} else if (err == ZTC_ERR_ARG || err == ZTC_ERR_UNSUPPORTED) {
			rc = -cli_fail(cli, err);
			break;
		}
		/* Not there yet, or there but not yet usable (udev still setting its permissions): retry. */
	}
	ztc_monitor_free(mon);
	close(sfd);
	return rc;
}

/* --escape: a letter or one of @[\\]^_ means Ctrl-that key (as picocom's -e), "^X" likewise, "none"
 * disables the menu. The escape byte, or -1 for none; -2 for a bad spelling. */
static int parse_escape(const char *s)
{
	unsigned char ch;

	if (strcmp(s, "none") == 0)
		return -1;
	if (s[0] == '^' && s[1] && !s[2])
		s++;
	else if (!s[0] || s[1])
		return -2;
	ch = (unsigned char)toupper((unsigned char)s[0]);
	if (ch < '@' || ch > '_')
		return -2;
	return ch - '@';
}

/* The escape key as the user types it: "Ctrl-]". */
static void escape_name(int esc, char *buf, size_t size)
{
	snprintf(buf, size, "Ctrl-%c", (char)(esc + '@'));
}

/* The escape menu's answers, in raw mode too (output processing is left on: \n starts a line). */
static void on_notice(void *userdata, const char *msg)
{
	(void)userdata;
	fprintf(stderr, "ztc: %s\n", msg);
}

static int session(struct cli *cli, struct open_target *t, const ztc_console_opts *opts, bool reconnect,
		   bool tty, const sigset_t *sigs)
{
	char desc[64];
	int fd, rc;

	rc = ztc_serial_open(cli->ctx, t->port, &t->params, &fd);
	if (rc < 0)
		return cli_fail(cli, rc);
	describe(&t->params, desc, sizeof(desc));
	if (!cli->quiet) {
		char esc[16];

		escape_name(opts->escape, esc, sizeof(esc));
		if (tty && opts->escape >= 0)
			fprintf(stderr, "ztc: connected to %s (%s); %s then ? lists the keys, type %s then q to "
				"quit\n", t->port, desc, esc, esc);
		else
			fprintf(stderr, "ztc: connected to %s (%s)\n", t->port, desc);
	}
	for (;;) {
		rc = ztc_console_run(cli->ctx, fd, STDIN_FILENO, STDOUT_FILENO, opts);
		close(fd);
		if (rc != ZTC_ERR_GONE)
			break;
		if (!reconnect)
			return cli_error("%s: the board was disconnected", t->port);
		rc = wait_reconnect(cli, t, sigs, &fd);
		if (rc == 1)
			return 0;
		if (rc < 0)
			return -rc;
		if (!cli->quiet)
			fprintf(stderr, "ztc: reconnected to %s\n", t->port);
	}
	if (rc < 0)
		return cli_fail(cli, rc);
	return 0;
}

static int run(struct cli *cli, struct open_target *t, const ztc_console_opts *opts, bool reconnect)
{
	bool tty = isatty(STDIN_FILENO);
	sigset_t sigs, old;
	int rc;

	/* Blocked for the whole session: the console unblocks them while it runs, and in between (an
	 * unplugged board, the wait for it) a signal stays pending instead of killing ztc with the
	 * terminal in an unknown state. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	rc = session(cli, t, opts, reconnect, tty, &sigs);
	/* A signal still pending here arrived after the session ended: the default action applies. */
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int cmd_open(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "echo", no_argument, NULL, 'e' },
		{ "baud", required_argument, NULL, 'b' },
		{ "timeout", required_argument, NULL, 't' },
		{ "timestamp", optional_argument, NULL, 'T' },
		{ "eol", required_argument, NULL, 'E' },
		{ "escape", required_argument, NULL, 'x' },
		{ "log", required_argument, NULL, 'l' },
		{ "reconnect", no_argument, NULL, 'r' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct open_target t = { 0 };
	ztc_console_opts copts;
	const char *port = NULL, *alias = NULL;
	bool reconnect = false;
	int baud = 0, c, rc;

	ztc_console_opts_init(&copts);
	while ((c = cli_getopt(argc, argv, "h", opts, OPEN_USAGE)) != -1) {
		switch (c) {
		case 'e': copts.echo = 1; break;
		case 'b':
			if (!cli_parse_positive(optarg, &baud) || !ztc_serial_baud_supported(baud))
				return cli_usage_error(OPEN_USAGE,
						       "--baud needs a rate from 50 to 4000000, not '%s'", optarg);
			break;
		case 't':
			if (!parse_seconds(optarg, &copts.timeout_ms))
				return cli_usage_error(OPEN_USAGE, "--timeout needs a positive number of seconds, not '%s'",
						       optarg);
			break;
		case 'T': {
			static const char *const fmts[] = { [ZTC_CONSOLE_TS_TIME] = "time", [ZTC_CONSOLE_TS_ISO] = "iso",
							    [ZTC_CONSOLE_TS_MS] = "ms", [ZTC_CONSOLE_TS_DELTA] = "delta" };

			copts.timestamp = ZTC_CONSOLE_TS_TIME;
			if (optarg) {
				copts.timestamp = 0;
				for (int k = ZTC_CONSOLE_TS_TIME; k <= ZTC_CONSOLE_TS_DELTA; k++)
					if (strcmp(optarg, fmts[k]) == 0)
						copts.timestamp = k;
				if (!copts.timestamp)
					return cli_usage_error(OPEN_USAGE, "--timestamp takes time, iso, ms or delta, not "
							       "'%s'", optarg);
			}
			break;
		}
		case 'E':
			if (strcmp(optarg, "cr") == 0)
				copts.eol = ZTC_CONSOLE_EOL_CR;
			else if (strcmp(optarg, "lf") == 0)
				copts.eol = ZTC_CONSOLE_EOL_LF;
			else if (strcmp(optarg, "crlf") == 0)
				copts.eol = ZTC_CONSOLE_EOL_CRLF;
			else
				return cli_usage_error(OPEN_USAGE, "--eol takes cr, lf or crlf, not '%s'", optarg);
			break;
		case 'x':
			copts.escape = parse_escape(optarg);
			if (copts.escape == -2)
				return cli_usage_error(OPEN_USAGE, "--escape takes a key X for Ctrl-X (a letter or one of "
						       "@[\\]^_), ^X, or none; not '%s'", optarg);
			break;
		case 'l':
			if (!*optarg)
				return cli_usage_error(OPEN_USAGE, "--log needs a file name");
			copts.log_path = optarg;
			break;
		case 'r': reconnect = true; break;
		case 'p':
			if (!*optarg)
				return cli_usage_error(OPEN_USAGE, "--port needs a device path");
			port = optarg;
			break;
		case 'h':
			printf("Usage: " OPEN_USAGE "\n\n"
			       "Open a serial console on the board's port, with the board's connection settings, or\n"
			       "on any serial PORT given by path (/dev/ttyUSB0) at 115200 8N1 or --baud.\n"
			       "Board output goes to stdout as it arrives; stdin goes to the board.\n"
			       "  --echo          also show what is typed\n"
			       "  --baud N        use this speed (50 to 4000000) instead of the board's\n"
			       "  --eol cr|lf|crlf  send each newline typed or piped as CR, LF or CR LF\n"
			       "  --escape X      Ctrl-X opens the escape menu instead of Ctrl-] (none: no menu)\n"
			       "  --timeout S     stdin not a terminal: once it has ended and been sent, quit after\n"
			       "                  S seconds (decimals allowed) without output from the board\n"
			       "  --timestamp[=F] prefix each received line with the time: time [HH:MM:SS.mmm]\n"
			       "                  (default), iso (date and time), ms (since start), delta (since\n"
			       "                  the previous line)\n"
			       "  --log FILE      append what is received to FILE\n"
			       "  --reconnect     when the board is unplugged, wait for it and reopen\n"
			       "  --port PATH     the same as giving PATH as the argument\n"
			       "When stdin is a terminal it is put in raw mode. The escape key (Ctrl-]) then:\n"
			       "  q quit   b send a break   d toggle DTR   r toggle RTS   ? list the keys\n"
			       "  Ctrl-] again sends one Ctrl-]\n"
			       "-J: once the console is quit, a line of its own after the board's output:\n"
			       "{\"alias\", \"port\", \"closed\": true}. Exit status: 0 quit, 1 failure (port missing\n"
			       "or busy, board unplugged, I/O error), 2 usage error.\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		alias = argv[optind++];
	if (optind < argc)
		return cli_usage_error(OPEN_USAGE, "unexpected argument '%s'", argv[optind]);
	/* A path names a port: any serial port, in the database or not. */
	if (alias && strchr(alias, '/')) {
		if (port)
			return cli_usage_error(OPEN_USAGE, "give either PORT or --port PATH, not both");
		port = alias;
		alias = NULL;
	}
	if (alias && port)
		return cli_usage_error(OPEN_USAGE, "give either ALIAS or --port PATH, not both");
	if (!alias && !port)
		return cli_usage_error(OPEN_USAGE, "missing ALIAS or PORT");
	/* A log that cannot be written fails now, before the board is touched. */
	if (copts.log_path) {
		int lfd = open(copts.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0644);

		if (lfd < 0)
			return cli_error("cannot open the log file %s: %s", copts.log_path, strerror(errno));
		close(lfd);
	}
	copts.notice = on_notice;
	if (port) {
		t.port = strdup(port);
		if (!t.port)
			return cli_error("out of memory");
		ztc_serial_params_init(&t.params);
	} else {
		rc = resolve_alias(cli, alias, &t);
		if (rc != 0) {
			target_clear(&t);
			return rc;
		}
	}
	if (baud)
		t.params.baud = baud;
	rc = run(cli, &t, &copts, reconnect);
	if (rc == 0 && cli->json) {
		/* On a line of its own after whatever the board printed last. */
		static const char *const keys[] = { "alias", "port", "closed" };
		struct out_records o;
		const char *row[] = { t.alias, t.port, OUT_TRUE };

		fputc('\n', stdout);
		out_init(&o, keys, 3);
		out_add(&o, row);
		out_print(cli, &o, "");
		out_free(&o);
	}
	target_clear(&t);
	return rc;
}
