/* flash-board.c: test driver: discover and match a board (real database and plugins), then run board
 * operations on it through libztc, printing what happened one line each on stdout.
 *
 * flash-board TARGET CLASS OP... where OP is
 *   burn FILE   ztc_firmware_load + ztc_board_burn      -> "burn: ok" | "burn: error N: MESSAGE"
 *   reset       ztc_board_reset                          -> "reset: ok" | ...
 *   chipid      ztc_board_read_chipid                    -> "chipid: ID" | "chipid: error N: MESSAGE"
 *   enter       ztc_board_enter_virtualizable            -> "enter: ok" | ...
 *   speed       the output speed of the board's serial port, as its termios says -> "speed: 1200"
 *   disk        the mount point discovery found          -> "disk: PATH" | "disk: none"
 *   --cli-progress        from here on, progress goes to ztc's own progress output (core/cli/progress.c)
 *   --cli-progress-quiet  the same as with ztc -q
 *   --no-log              from here on, no log lines
 * Progress calls are printed as "progress: PERCENT MSG", logs go to stderr. Exit status: 0 when every
 * operation succeeded, 1 otherwise, 2 on usage errors, 3 when no such board is connected. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <ztc/ztc.h>

#include "cli.h"

static void on_log(void *userdata, int level, const char *msg)
{
	fprintf(stderr, "log %d: %s\n", level, msg);
}

static void on_progress(void *userdata, int percent, const char *msg)
{
	printf("progress: %d %s\n", percent, msg);
}

static int report(ztc_ctx *ctx, const char *op, int rc)
{
	if (rc == ZTC_OK)
		printf("%s: ok\n", op);
	else
		printf("%s: error %d: %s\n", op, rc, ztc_ctx_errmsg(ctx));
	return rc == ZTC_OK ? 0 : 1;
}

static int port_speed(const char *port)
{
	static const struct { speed_t s; int baud; } map[] = {
		{ B1200, 1200 }, { B2400, 2400 }, { B9600, 9600 }, { B38400, 38400 }, { B115200, 115200 },
	};
	struct termios t;
	int fd = open(port, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC), baud = -1;

	if (fd < 0 || tcgetattr(fd, &t) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (cfgetospeed(&t) == map[i].s)
			baud = map[i].baud;
	close(fd);
	return baud;
}

int main(int argc, char **argv)
{
	ztc_ctx *ctx = NULL;
	ztc_db *db = NULL;
	ztc_store *store = NULL;
	ztc_usbdev_list *devs = NULL;
	ztc_match_list *ml = NULL;
	const ztc_match *m = NULL;
	int status = 0;

	if (argc < 4) {
		fprintf(stderr, "usage: flash-board TARGET CLASS OP...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (ztc_ctx_new(&ctx) < 0)
		return 2;
	ztc_ctx_set_log(ctx, on_log, NULL);
	ztc_ctx_set_loglevel(ctx, ZTC_LOG_DBG);
	ztc_ctx_set_progress(ctx, on_progress, NULL);
	if (ztc_discover(ctx, &devs) < 0 || ztc_db_load(ctx, &db) < 0 || ztc_store_load(ctx, &store) < 0 ||
	    ztc_match_devices(ctx, db, store, devs, &ml) < 0) {
		fprintf(stderr, "flash-board: %s\n", ztc_ctx_errmsg(ctx));
		return 2;
	}
	for (size_t i = 0; i < ml->n && !m; i++)
		if (strcmp(ml->m[i].target, argv[1]) == 0 && strcmp(ml->m[i].classname, argv[2]) == 0)
			m = &ml->m[i];
	if (!m) {
		fprintf(stderr, "flash-board: no %s.%s connected; matched:", argv[1], argv[2]);
		for (size_t i = 0; i < ml->n; i++)
			fprintf(stderr, " %s.%s", ml->m[i].target, ml->m[i].classname);
		fputc('\n', stderr);
		return 3;
	}
	for (int i = 3; i < argc; i++) {
		const char *op = argv[i];

		if (strcmp(op, "burn") == 0 && i + 1 < argc) {
			ztc_firmware *fw = NULL;
			int rc = ztc_firmware_load(ctx, argv[++i], &fw);

			if (rc == ZTC_OK)
				rc = ztc_board_burn(ctx, m, fw);
			status |= report(ctx, op, rc);
			ztc_firmware_free(fw);
		} else if (strcmp(op, "reset") == 0) {
			status |= report(ctx, op, ztc_board_reset(ctx, m));
		} else if (strcmp(op, "enter") == 0) {
			status |= report(ctx, op, ztc_board_enter_virtualizable(ctx, m));
		} else if (strcmp(op, "chipid") == 0) {
			char *id = NULL;
			int rc = ztc_board_read_chipid(ctx, m, &id);

			if (rc == ZTC_OK)
				printf("chipid: %s\n", id);
			else
				status |= report(ctx, op, rc);
			free(id);
		} else if (strcmp(op, "speed") == 0) {
			printf("speed: %d\n", m->port ? port_speed(m->port) : -1);
		} else if (strcmp(op, "--cli-progress") == 0 || strcmp(op, "--cli-progress-quiet") == 0) {
			struct cli cli = { .ctx = ctx, .quiet = strcmp(op, "--cli-progress-quiet") == 0 };

			cli_progress_install(&cli);
		} else if (strcmp(op, "--no-log") == 0) {
			ztc_ctx_set_log(ctx, NULL, NULL);
		} else if (strcmp(op, "disk") == 0) {
			printf("disk: %s\n", m->disk ? m->disk : "none");
		} else {
			fprintf(stderr, "flash-board: unknown operation %s\n", op);
			status = 2;
			break;
		}
	}
	ztc_match_list_free(ml);
	ztc_usbdev_list_free(devs);
	ztc_store_free(store);
	ztc_db_free(db);
	ztc_ctx_free(ctx);
	return status;
}
