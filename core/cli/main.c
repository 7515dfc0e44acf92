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
/* Room for a command's long options, their hyphenated twins and the global options. */
#define MAX_OPTS 64
#define MAX_OPT_NAME 32

/* The one command line of the process: the global options set it wherever they appear. */
static struct cli *current;
/* The log level before any -v or -q: the library's default, or debug with ZTC_DEBUG. */
static int default_loglevel = ZTC_LOG_WARN;

static void print_help(void)
{
	printf("Usage: " MAIN_USAGE "\n"
	       "       ztc help [GROUP [COMMAND]]\n"
	       "\n"
	       "Discover, register and flash microcontroller boards (Zerynth device layer).\n"
	       "\n"
	       "Options (before or after GROUP and COMMAND, as in 'ztc device discover -J'):\n"
	       "  -J, --json     print records as JSON Lines (one object per line) on stdout\n"
	       "  -v, --verbose  more messages on stderr (twice for debug messages)\n"
	       "  -q, --quiet    only errors on stderr, no progress\n"
	       "      --version  print the version and exit\n"
	       "  -h, --help     print this help and exit\n"
	       "\n"
	       "Groups:\n"
	       "  device         discover, alias, register, virtualize, open, supported\n"
	       "  vm             create, list, download: virtual machines from the backend\n"
	       "  login          save the backend token\n"
	       "  help           this help, or a group's or command's ('ztc help device alias put')\n"
	       "\n"
	       "Run 'ztc GROUP --help' for the commands of a group. Options spelt with '_' (--skip_burn)\n"
	       "are also taken with '-' (--skip-burn). Exit status: 0 success, 1 failure, 2 usage error.\n");
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

int cli_missing(const char *usage, int given, const char *const *names, int n)
{
	char list[256];
	size_t off = 0;

	list[0] = '\0';
	for (int i = given; i < n && off < sizeof(list); i++)
		off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
					i == given ? "" : i + 1 == n ? " and " : ", ", names[i]);
	return cli_usage_error(usage, "missing %s", list);
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

/* Optimal string alignment distance (edits, with a swap of two neighbours as one), capped: words
 * longer than the buffers are too far apart to suggest anything. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[MAX_OPT_NAME + 1][MAX_OPT_NAME + 1];

	if (la > MAX_OPT_NAME || lb > MAX_OPT_NAME)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

const char *cli_suggest(const char *word, const char *const *names, size_t n)
{
	size_t len = strlen(word), best = (size_t)-1, limit = len / 3 > 1 ? len / 3 : 1, nprefix = 0;
	const char *found = NULL, *prefixed = NULL;

	if (!len)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(word, names[i]);

		if (strncmp(names[i], word, len) == 0) {
			nprefix++;
			prefixed = names[i];
		}
		if (d < best) {
			best = d;
			found = names[i];
		}
	}
	if (best <= limit)
		return found;
	/* "disc": the start of one name only. */
	return nprefix == 1 ? prefixed : NULL;
}

/* The usage error of an unknown word (what: "command 'device discovr'"), with the closest name. */
static int unknown(const char *usage, const char *what, const char *word, const char *const *names, size_t n,
		   const char *prefix)
{
	const char *s = cli_suggest(word, names, n);

	if (s)
		return cli_usage_error(usage, "unknown %s; did you mean '%s%s'?", what, prefix, s);
	return cli_usage_error(usage, "unknown %s", what);
}

/* The log level -q and -v ask for, else the default, set on ctx (the command's, or one of its own that a
 * command's thread logs through: cli_ctx_new). */
static void loglevel_to(const struct cli *cli, ztc_ctx *ctx)
{
	if (!ctx)
		return;
	if (cli->quiet)
		ztc_ctx_set_loglevel(ctx, ZTC_LOG_ERR);
	else if (cli->verbose)
		ztc_ctx_set_loglevel(ctx, cli->verbose > 1 ? ZTC_LOG_DBG : ZTC_LOG_INFO);
	else
		ztc_ctx_set_loglevel(ctx, default_loglevel);
}

static void apply_loglevel(struct cli *cli)
{
	loglevel_to(cli, cli->ctx);
}

static void set_global(struct cli *cli, int c)
{
	if (c == 'J')
		cli->json = true;
	else if (c == 'v')
		cli->verbose++;
	else if (c == 'q')
		cli->quiet = true;
	apply_loglevel(cli);
}

/* A global option given as a word of its own between group and command: "-J", "--json", "-vq". */
static bool take_global(struct cli *cli, const char *arg)
{
	if (strcmp(arg, "--json") == 0 || strcmp(arg, "--verbose") == 0 || strcmp(arg, "--quiet") == 0) {
		set_global(cli, arg[2] == 'j' ? 'J' : arg[2]);
		return true;
	}
	if (arg[0] != '-' || !arg[1] || arg[1] == '-' || arg[strspn(arg + 1, "Jvq") + 1] != '\0')
		return false;
	for (const char *p = arg + 1; *p; p++)
		set_global(cli, *p);
	return true;
}

/* "--name" of every long option, for suggestions. */
static size_t option_names(const struct option *all, char names[][MAX_OPT_NAME + 3], const char **ptrs)
{
	size_t n = 0;

	for (const struct option *o = all; o->name; o++) {
		snprintf(names[n], MAX_OPT_NAME + 3, "--%s", o->name);
		ptrs[n] = names[n];
		n++;
	}
	return n;
}

/* The message for an option getopt_long refused (arg as given, "--matchbd" or "--loop=3"). */
static void option_error(const struct option *all, const char *arg, const char *usage)
{
	static char names[MAX_OPTS][MAX_OPT_NAME + 3];
	const char *ptrs[MAX_OPTS], *eq = strchr(arg, '=');
	char word[MAX_OPT_NAME + 3], amb[256];
	size_t n = option_names(all, names, ptrs), len, off = 0, hits = 0;
	int last_val = -1;

	snprintf(word, sizeof(word), "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
	len = strlen(word);
	/* An abbreviation of several options ("--re": --reconnect, --remote_id); twins count once. */
	amb[0] = '\0';
	for (const struct option *o = all; o->name && len > 2; o++)
		if (strncmp(o->name, word + 2, len - 2) == 0 && o->val != last_val && off < sizeof(amb)) {
			off += (size_t)snprintf(amb + off, sizeof(amb) - off, "%s'--%s'", hits ? " or " : "", o->name);
			last_val = o->val;
			hits++;
		}
	if (hits > 1) {
		cli_usage_error(usage, "option '%s' is ambiguous: did you mean %s?", word, amb);
		return;
	}
	{
		char what[MAX_OPT_NAME + 32];

		snprintf(what, sizeof(what), "option '%s'", word);
		unknown(usage, what, word, ptrs, n, "");
	}
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	       const char *usage)
{
	static const struct option globals[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
	};
	static struct option all[MAX_OPTS];
	static char twins[MAX_OPTS][MAX_OPT_NAME + 1];
	char spec[64];
	bool posix = shortopts[0] == '+';
	size_t n = 0;
	int c;

	/* The command's options, each spelt with '_' also with '-', then the global ones. */
	for (const struct option *o = longopts; o->name && n + 2 < MAX_OPTS - 4; o++) {
		all[n++] = *o;
		if (strchr(o->name, '_') && strlen(o->name) <= MAX_OPT_NAME) {
			char *t = twins[n];

			strcpy(t, o->name);
			for (char *p = t; *p; p++)
				if (*p == '_')
					*p = '-';
			all[n] = *o;
			all[n++].name = t;
		}
	}
	for (size_t g = 0; g < sizeof(globals) / sizeof(*globals); g++) {
		bool have = false;

		for (size_t k = 0; k < n; k++)
			have |= strcmp(all[k].name, globals[g].name) == 0;
		if (!have)
			all[n++] = globals[g];
	}
	memset(&all[n], 0, sizeof(all[n]));
	/* A leading ':' (after '+') makes getopt report a missing value as ':' and stay silent. */
	snprintf(spec, sizeof(spec), "%s:%sJvq", posix ? "+" : "", shortopts + posix);
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, spec, all, NULL);
		if ((c == 'J' || c == 'v' || c == 'q') && current) {
			set_global(current, c);
			continue;
		}
		break;
	}
	if (c == ':') {
		if (optopt && argv[optind - 1][1] != '-')
			cli_usage_error(usage, "option '-%c' needs a value", optopt);
		else
			cli_usage_error(usage, "option '%s' needs a value", argv[optind - 1]);
		return '?';
	}
	if (c == '?') {
		const char *arg = argv[optind - 1];

		/* getopt_long sets optopt to the option's value for "--flag=x" on a flag without one. */
		if (optopt && strncmp(arg, "--", 2) == 0) {
			cli_usage_error(usage, "option '%.*s' takes no value", (int)strcspn(arg, "="), arg);
		} else if (optopt) {
			cli_usage_error(usage, "unknown option '-%c'", optopt);
		} else {
			option_error(all, arg, usage);
		}
	}
	return c;
}

int cli_dispatch(struct cli *cli, const char *group, const struct cli_cmd *cmds, int argc, char **argv)
{
	const char *names[32];
	char usage[256], what[256];
	size_t n = 0;

	snprintf(usage, sizeof(usage), "ztc %s COMMAND [ARGS] (see 'ztc %s --help')", group, group);
	while (argc > 0 && take_global(cli, argv[0])) {
		argc--;
		argv++;
	}
	if (argc < 1)
		return cli_usage_error(usage, "missing command after '%s'", group);
	if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
		printf("Usage: ztc %s COMMAND [ARGS]\n\nCommands:\n", group);
		for (const struct cli_cmd *c = cmds; c->name; c++)
			printf("  ztc %s %s %s\n      %s\n", group, c->name, c->usage, c->summary);
		printf("\nRun 'ztc %s COMMAND --help' for the options of one command. -J, -v and -q may come\n"
		       "anywhere on the command line.\n", group);
		return 0;
	}
	for (const struct cli_cmd *c = cmds; c->name; c++) {
		if (strcmp(c->name, argv[0]) == 0)
			return c->fn(cli, argc, argv);
		if (n < sizeof(names) / sizeof(*names))
			names[n++] = c->name;
	}
	if (argv[0][0] == '-') {
		static const char *const opts[] = { "--help", "--json", "--verbose", "--quiet" };

		snprintf(what, sizeof(what), "option '%s'", argv[0]);
		return unknown(usage, what, argv[0], opts, 4, "");
	}
	snprintf(what, sizeof(what), "command '%s %s'", group, argv[0]);
	return unknown(usage, what, argv[0], names, n, "");
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
	/* Else the new context's own default, which is default_loglevel (ZTC_DEBUG is read by each). */
	if (cli->quiet || cli->verbose)
		loglevel_to(cli, ctx);
	*ret_ctx = ctx;
	return ZTC_OK;
}

/* A group: argv[0] is its name. */
static int run_group(struct cli *cli, int argc, char **argv)
{
	static const char *const groups[] = { "device", "vm", "login", "help" };
	char what[256];

	if (strcmp(argv[0], "device") == 0)
		return cmd_device(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "vm") == 0)
		return cmd_vm(cli, argc - 1, argv + 1);
	if (strcmp(argv[0], "login") == 0)
		return cmd_login(cli, argc, argv);
	snprintf(what, sizeof(what), "command group '%s'", argv[0]);
	return unknown(MAIN_USAGE, what, argv[0], groups, sizeof(groups) / sizeof(*groups), "");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = { 0 };
	char **help_argv = NULL;
	int c, rc;

	if ((rc = harden_process()) >= 0)
		return rc;
	rc = cli_ctx_new(&cli, &cli.ctx);
	if (rc < 0)
		return cli_error("cannot start: %s", ztc_strerror(rc));
	default_loglevel = ztc_ctx_get_loglevel(cli.ctx);
	current = &cli;

	/* '+': stop at the group name; each command parses its own options. */
	while ((c = cli_getopt(argc, argv, "+Vh", opts, MAIN_USAGE)) != -1) {
		switch (c) {
		case 'V': printf("ztc %s\n", PACKAGE_VERSION); rc = 0; goto out;
		case 'h': print_help(); rc = 0; goto out;
		default: rc = EXIT_USAGE; goto out;
		}
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* a fresh getopt scan for the command */
	if (argc == 0 || (strcmp(argv[0], "help") == 0 && argc == 1)) {
		/* Bare `ztc` (with global options at most) and `ztc help`. */
		print_help();
		rc = 0;
		goto out;
	}
	if (strcmp(argv[0], "help") == 0) {
		/* `ztc help GROUP [COMMAND...]` is `ztc GROUP [COMMAND...] --help`. */
		help_argv = calloc((size_t)argc + 1, sizeof(*help_argv));
		if (!help_argv) {
			rc = cli_error("out of memory");
			goto out;
		}
		memcpy(help_argv, argv + 1, (size_t)(argc - 1) * sizeof(*argv));
		help_argv[argc - 1] = (char *)"--help";
		rc = run_group(&cli, argc, help_argv);
	} else {
		rc = run_group(&cli, argc, argv);
	}
out:
	free(help_argv);
	current = NULL;
	ztc_ctx_free(cli.ctx);
	return rc;
}
