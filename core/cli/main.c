/* main.c: the ztc command: global options, command groups, and the shared CLI helpers. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"

#define MAIN_USAGE "ztc [-J|--json] [-v|--verbose] [-q|--quiet] [--version] [-h|--help] GROUP COMMAND [ARGS]"

static void print_help(void)
{
	printf("Usage: " MAIN_USAGE "\n"
	       "\n"
	       "Discover, register and flash microcontroller boards (Zerynth device layer).\n"
	       "\n"
	       "Options:\n"
	       "  -J, --json     print records as JSON Lines (one object per line) on stdout\n"
	       "  -v, --verbose  more messages on stderr (twice for debug messages)\n"
	       "  -q, --quiet    only errors on stderr, no progress\n"
	       "      --version  print the version and exit\n"
	       "  -h, --help     print this help and exit\n"
	       "\n"
	       "Groups:\n"
	       "  device         discover, alias, register, virtualize, open, supported\n"
	       "  vm             create, list: virtual machines from the backend\n"
	       "  login          save the backend token\n"
	       "\n"
	       "Run 'ztc GROUP --help' for the commands of a group. Exit status: 0 success, 1 failure,\n"
	       "2 usage error.\n");
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fputs("ztc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: %s\n", usage);
	return EXIT_USAGE;
}

int cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ztc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_fail(struct cli *cli, int err)
{
	const char *msg = ztc_ctx_errmsg(cli->ctx);

	return cli_error("%s", *msg ? msg : ztc_strerror(err));
}

bool cli_parse_positive(const char *s, int *ret)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > INT_MAX)
		return false;
	*ret = (int)v;
	return true;
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	       const char *usage)
{
	char spec[64];
	bool posix = shortopts[0] == '+';
	int c;

	/* A leading ':' (after '+') makes getopt report a missing value as ':' and stay silent. */
	snprintf(spec, sizeof(spec), "%s:%s", posix ? "+" : "", shortopts + posix);
	opterr = 0;
	c = getopt_long(argc, argv, spec, longopts, NULL);
	if (c == ':') {
		if (optopt && argv[optind - 1][1] != '-')
			cli_usage_error(usage, "option '-%c' needs a value", optopt);
		else
			cli_usage_error(usage, "option '%s' needs a value", argv[optind - 1]);
		return '?';
	}
	if (c == '?') {
		if (optopt)
			cli_usage_error(usage, "unknown option '-%c'", optopt);
		else
			cli_usage_error(usage, "unknown option '%s'", argv[optind - 1]);
	}
	return c;
}

int cli_dispatch(struct cli *cli, const char *group, const struct cli_cmd *cmds, int argc, char **argv)
{
	char usage[256];

	snprintf(usage, sizeof(usage), "ztc %s COMMAND [ARGS] (see 'ztc %s --help')", group, group);
	if (argc < 1)
		return cli_usage_error(usage, "missing command after '%s'", group);
	if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
		printf("Usage: ztc %s COMMAND [ARGS]\n\nCommands:\n", group);
		for (const struct cli_cmd *c = cmds; c->name; c++)
			printf("  ztc %s %s %s\n      %s\n", group, c->name, c->usage, c->summary);
		printf("\nRun 'ztc %s COMMAND --help' for the options of one command.\n", group);
		return 0;
	}
	for (const struct cli_cmd *c = cmds; c->name; c++)
		if (strcmp(c->name, argv[0]) == 0)
			return c->fn(cli, argc, argv);
	return cli_usage_error(usage, "unknown command '%s %s'", group, argv[0]);
}

/* Before anything else: ztc can hold the backend token (ZTC_TOKEN in its environment, `login --token`
 * in its argv, credentials.json read by every backend command), so it never leaves a core dump, and
 * other processes of the user cannot ptrace it or read its memory through /proc. Set-user-ID or
 * set-group-ID is refused: ZTC_HOME, ZTC_PLUGIN_PATH and the rest come from the calling user, who would
 * then load code and write files as another. Returns an exit status, or -1 to go on. */
static int harden_process(void)
{
	struct rlimit none = { 0, 0 };

	if (getuid() != geteuid() || getgid() != getegid())
		return cli_error("refusing to run with a real user or group id (uid %u, gid %u) other than the "
				 "effective one (uid %u, gid %u): run ztc as one user, not set-user-ID",
				 (unsigned int)getuid(), (unsigned int)getgid(), (unsigned int)geteuid(),
				 (unsigned int)getegid());
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || setrlimit(RLIMIT_CORE, &none) < 0)
		return cli_error("cannot disable core dumps: %s", strerror(errno));
	return -1;
}

static void log_to_stderr(void *userdata, int level, const char *msg)
{
	static const char *const prefix[] = { "", "error: ", "warning: ", "", "debug: " };

	(void)userdata;
	fprintf(stderr, "ztc: %s%s\n", level >= 0 && level <= ZTC_LOG_DBG ? prefix[level] : "", msg);
}

int cli_ctx_new(const struct cli *cli, ztc_ctx **ret_ctx)
{
	ztc_ctx *ctx;
	int rc = ztc_ctx_new(&ctx);

	if (rc < 0)
		return rc;
	ztc_ctx_set_log(ctx, log_to_stderr, NULL);
	if (cli->quiet)
		ztc_ctx_set_loglevel(ctx, ZTC_LOG_ERR);
	else if (cli->verbose)
		ztc_ctx_set_loglevel(ctx, cli->verbose > 1 ? ZTC_LOG_DBG : ZTC_LOG_INFO);
	*ret_ctx = ctx;
	return ZTC_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { 0 };
	int c, rc;

	if ((rc = harden_process()) >= 0)
		return rc;
	/* '+': stop at the group name; each command parses its own options. */
	while ((c = cli_getopt(argc, argv, "+JvqVh", opts, MAIN_USAGE)) != -1) {
		switch (c) {
		case 'J': cli.json = true; break;
		case 'v': cli.verbose++; break;
		case 'q': cli.quiet = true; break;
		case 'V': printf("ztc %s\n", PACKAGE_VERSION); return 0;
		case 'h': print_help(); return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return cli_usage_error(MAIN_USAGE, "missing command group");

	rc = cli_ctx_new(&cli, &cli.ctx);
	if (rc < 0)
		return cli_error("cannot start: %s", ztc_strerror(rc));

	argc -= optind;
	argv += optind;
	optind = 0; /* a fresh getopt scan for the command */
	if (strcmp(argv[0], "device") == 0)
		rc = cmd_device(&cli, argc - 1, argv + 1);
	else if (strcmp(argv[0], "vm") == 0)
		rc = cmd_vm(&cli, argc - 1, argv + 1);
	else if (strcmp(argv[0], "login") == 0)
		rc = cmd_login(&cli, argc, argv);
	else
		rc = cli_usage_error(MAIN_USAGE, "unknown command group '%s'", argv[0]);
	ztc_ctx_free(cli.ctx);
	return rc;
}
