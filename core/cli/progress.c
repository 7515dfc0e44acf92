/* progress.c: board operation progress on stderr: a redrawn bar on a terminal, sparse plain lines otherwise. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define BAR_WIDTH 30
#define PLAIN_STEP 10

/* One operation at a time runs in the ztc process, so the drawing state is process-wide. */
static struct {
	bool tty;
	bool open;      /* a bar is drawn and its line not ended */
	int last;       /* last percentage shown (plain lines: printed) */
	char msg[128];  /* message of the last line shown */
} st;

static void end_line(void)
{
	if (st.open) {
		fputc('\n', stderr);
		st.open = false;
	}
}

static void draw(int percent, const char *msg)
{
	char bar[BAR_WIDTH + 1];
	int fill = percent < 0 ? 0 : percent * BAR_WIDTH / 100;

	memset(bar, '#', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(BAR_WIDTH - fill));
	bar[BAR_WIDTH] = '\0';
	/* \033[K clears what a longer previous message left on the line. */
	if (percent < 0)
		fprintf(stderr, "\r[%s]      %s\033[K", bar, msg);
	else
		fprintf(stderr, "\r[%s] %3d%% %s\033[K", bar, percent, msg);
	st.open = true;
	if (percent == 100)
		end_line();
	fflush(stderr);
}

static void on_progress(void *userdata, int percent, const char *msg)
{
	bool same = strncmp(st.msg, msg, sizeof(st.msg) - 1) == 0;

	(void)userdata;
	if (!same)
		st.last = -PLAIN_STEP; /* a new phase counts from its own start */
	if (st.tty) {
		if (same && (percent < 0 || (percent == st.last && (st.open || percent == 100))))
			return;
		snprintf(st.msg, sizeof(st.msg), "%s", msg);
		/* A phase of its own (erasing, writing, verifying) starts a bar of its own: the last one
		 * stays on the screen where it stopped. A message alone is a line, no bar. */
		if (!same)
			end_line();
		if (percent < 0) {
			end_line();
			fprintf(stderr, "%s\n", msg);
			fflush(stderr);
			return;
		}
		st.last = percent;
		draw(percent, msg);
		return;
	}
	if (percent < 0) {
		if (!same)
			fprintf(stderr, "%s\n", msg);
	} else if (!same || percent >= st.last + PLAIN_STEP || (percent == 100 && st.last != 100) ||
		   percent < st.last) {
		fprintf(stderr, "%s: %d%%\n", msg, percent);
		st.last = percent;
	}
	snprintf(st.msg, sizeof(st.msg), "%s", msg);
}

void cli_progress_install(struct cli *cli)
{
	memset(&st, 0, sizeof(st));
	st.last = -PLAIN_STEP;
	if (cli->quiet) {
		ztc_ctx_set_progress(cli->ctx, NULL, NULL);
		return;
	}
	st.tty = isatty(STDERR_FILENO) == 1;
	ztc_ctx_set_progress(cli->ctx, on_progress, cli);
}

void cli_progress_finish(struct cli *cli)
{
	end_line();
}
