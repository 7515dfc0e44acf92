/* login.c: `ztc login`: save the backend token in $ZTC_HOME/credentials.json. */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "ztc/backend.h"

#define LOGIN_USAGE "ztc login [--token TOKEN]"

/* The first line of stdin without surrounding white space; NULL on a read error. On a terminal the
 * token is asked for and not echoed, so it does not stay on the screen. */
static char *read_token_line(void)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	char *line = NULL, *s, *e;
	size_t cap = 0;
	ssize_t n;

	if (tty) {
		/* Echo off before the prompt: whatever is typed once the prompt shows is not echoed. */
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		fputs("Token: ", stderr);
		fflush(stderr);
	}
	n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		if (ferror(stdin)) {
			free(line);
			return NULL;
		}
		free(line);
		return strdup(""); /* nothing at all: an empty token */
	}
	for (s = line; isspace((unsigned char)*s); s++)
		;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	memmove(line, s, (size_t)(e - s) + 1);
	return line;
}

/* -J: the result of a login. */
static void print_saved(struct cli *cli)
{
	static const char *const keys[] = { "saved" };
	struct out_records o;
	const char *row[] = { OUT_TRUE };

	out_init(&o, keys, 1);
	out_add(&o, row);
	out_print(cli, &o, "");
	out_free(&o);
}

int cmd_login(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "token", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *token = NULL;
	bool from_arg = false;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "h", opts, LOGIN_USAGE)) != -1) {
		switch (c) {
		case 't':
			/* Take a copy and wipe the argument at once: argv is what /proc/PID/cmdline shows to every
			 * user of the machine (still, stdin is the way that never shows it at all). */
			if (token) {
				explicit_bzero(token, strlen(token));
				free(token);
			}
			token = strdup(optarg);
			explicit_bzero(optarg, strlen(optarg));
			from_arg = true;
			if (!token)
				return cli_error("out of memory");
			break;
		case 'h':
			printf("Usage: " LOGIN_USAGE "\n\n"
			       "Save the backend token in $ZTC_HOME/credentials.json (mode 0600). Without --token,\n"
			       "the token is the first line of standard input: prefer that, as a command line can be\n"
			       "seen by other users (ztc wipes --token from it, but only once it runs).\n"
			       "ZTC_TOKEN overrides the saved token. -J prints {\"saved\": true}.\n");
			rc = 0;
			goto out;
		default: rc = EXIT_USAGE; goto out;
		}
	}
	if (optind < argc) {
		rc = cli_usage_error(LOGIN_USAGE, "unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (!from_arg)
		token = read_token_line();
	if (!token)
		return cli_error("cannot read the token from standard input");
	if (!*token) {
		rc = cli_usage_error(LOGIN_USAGE, "empty token");
		goto out;
	}
	rc = ztc_credentials_save(cli->ctx, token);
	if (rc == ZTC_ERR_ARG)
		rc = cli_usage_error(LOGIN_USAGE, "%s", ztc_ctx_errmsg(cli->ctx));
	else if (rc < 0)
		rc = cli_fail(cli, rc);
	else if (cli->json)
		print_saved(cli);
	else if (!cli->quiet)
		printf("token saved\n");
out:
	if (token) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return rc;
}
