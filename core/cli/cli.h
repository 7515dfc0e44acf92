/* cli.h: what the files of the ztc command share: global options, output and error helpers. */
#ifndef ZTC_CLI_H
#define ZTC_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "ztc/ztc.h"

#define EXIT_USAGE 2

struct cli {
	ztc_ctx *ctx;
	bool json;
	bool quiet;
	int verbose;
};

/* A command: argv[0] is the command name; returns the process exit status. */
typedef int (*cli_cmd_fn)(struct cli *cli, int argc, char **argv);

struct cli_cmd {
	const char *name;
	cli_cmd_fn fn;
	const char *usage;   /* arguments after "ztc GROUP NAME" */
	const char *summary; /* one line for --help */
};

/* Run the command of `cmds` named by argv[0] (argv[0] is the group's first argument). */
int cli_dispatch(struct cli *cli, const char *group, const struct cli_cmd *cmds, int argc, char **argv);
/* Print "ztc: <message>" and a usage line on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "ztc: <what libztc said failed>" on stderr; returns 1. */
/* A libztc context logging to stderr at the level of -q/-v, for another thread of the command. */
int cli_ctx_new(const struct cli *cli, ztc_ctx **ret_ctx);
int cli_fail(struct cli *cli, int err);
/* Print "ztc: <message>" on stderr; returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Load the known-device store and find the entry whose alias is (or uniquely starts with) prefix
 * (ztc_store_resolve_alias). On success *ret_store owns *ret_known and is freed by the caller; on
 * failure the error line is printed and 1 returned. */
int cli_load_known(struct cli *cli, const char *prefix, ztc_store **ret_store, const ztc_known **ret_known);
/* Parse a positive decimal integer that fits an int; false on anything else. */
bool cli_parse_positive(const char *s, int *ret);
/* getopt_long over argv with our own messages: returns the option, -1 at the end, or '?' after
 * printing the usage error (the caller then returns EXIT_USAGE). */
struct option;
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	       const char *usage);

/* Records printed as an aligned table, or as JSON Lines with -J (output.c). Cells are borrowed. */
struct out_records {
	const char *const *keys;
	size_t ncols;
	size_t n, cap;
	const char **cells; /* n * ncols, NULL prints as JSON null or "-" */
};
void out_init(struct out_records *o, const char *const *keys, size_t ncols);
int out_add(struct out_records *o, const char *const *row);
/* empty_msg is the one line printed instead of an empty table (nothing is printed with -J). */
void out_print(const struct cli *cli, const struct out_records *o, const char *empty_msg);
void out_free(struct out_records *o);

/* Progress of board operations (progress.c): install draws a bar on stderr when it is a terminal
 * ("\r[#####     ]  43% msg"), else plain lines ("flashing: 43%") at most every 10%, nothing with -q.
 * finish ends a bar left unfinished (call it before printing an error after a failed operation). */
void cli_progress_install(struct cli *cli);
void cli_progress_finish(struct cli *cli);

/* Command groups. */
int cmd_device(struct cli *cli, int argc, char **argv);
int cmd_register(struct cli *cli, int argc, char **argv);
int cmd_virtualize(struct cli *cli, int argc, char **argv);
int cmd_vm(struct cli *cli, int argc, char **argv);
/* `ztc login`: argv[0] is "login" (login.c). */
int cmd_login(struct cli *cli, int argc, char **argv);
/* `ztc device open` (open.c). */
int cmd_open(struct cli *cli, int argc, char **argv);

#endif
