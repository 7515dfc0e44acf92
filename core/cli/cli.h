/* cli.h: what the files of the ztc command share: global options, output and error helpers. */
#ifndef ZTC_CLI_H
#define ZTC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>

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
/* The usage error of a command given `given` of its n positional arguments: names exactly those
 * missing ("missing ALIAS and TARGET"). */
int cli_missing(const char *usage, int given, const char *const *names, int n);
/* The name closest to word (edit distance at most a third of its length, at least 1; or the only
 * name word starts), for "did you mean" suggestions; NULL when none is close. */
const char *cli_suggest(const char *word, const char *const *names, size_t n);
/* A libztc context logging to stderr at the level of -q/-v, for another thread of the command. */
int cli_ctx_new(const struct cli *cli, ztc_ctx **ret_ctx);
/* Print "ztc: <what libztc said failed>" on stderr; returns 1. */
int cli_fail(struct cli *cli, int err);
/* Print "ztc: <message>" on stderr; returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Load the known-device store and find the entry whose alias is (or uniquely starts with) prefix, or
 * of the device connected on the port prefix names (ztc_store_resolve_device). On success *ret_store
 * owns *ret_known and is freed by the caller; on failure the error line is printed and 1 returned. */
int cli_load_known(struct cli *cli, const char *prefix, ztc_store **ret_store, const ztc_known **ret_known);
/* Parse a positive decimal integer that fits an int; false on anything else. */
bool cli_parse_positive(const char *s, int *ret);
/* getopt_long over argv with our own messages: returns the option, -1 at the end, or '?' after
 * printing the usage error (the caller then returns EXIT_USAGE). It also takes the global options
 * (-J, -v, -q: they are never returned) and every long option spelt with '_' also with '-'; an unknown
 * option gets the closest one suggested. */
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
/* Write what the generator g holds as one line on stdout, then make g ready for the next record. */
void out_json_line(yajl_gen g);
/* Cells that print as JSON true / false (and yes / no in tables): compared by address. */
extern const char OUT_TRUE[], OUT_FALSE[];

/* The same records as a table for people, fitted to a width: out_width() is the terminal's when
 * stdout is one, else OUT_WIDTH. A column's flags: OUT_OPTIONAL drops it when every cell is empty;
 * OUT_WRAP (a ", " list) goes on over more lines, OUT_CUT ends in "..." when the row is too wide
 * (wrapped lists shrink first, then cut cells, the rightmost first). Empty cells print as "-". */
#define OUT_WIDTH 100
#define OUT_OPTIONAL 1u
#define OUT_WRAP 2u
#define OUT_CUT 4u
struct out_col {
	const char *header;
	unsigned flags;
};
size_t out_width(void);
void out_table(const struct out_records *o, const struct out_col *cols, size_t width);
/* The shortest prefix of uid that no other uid of uids starts with, at least OUT_UID_MIN digits (a
 * uid equal to uid is a twin's and shares it). */
#define OUT_UID_MIN 8
size_t out_uid_len(const char *uid, const char *const *uids, size_t n);

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
