/* tool.c: helpers libztc offers plugins: external flashing tools, serial touch, disk copy, image padding. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "ztc/console.h"
#include "ztc/plugin.h"

extern char **environ;

#define TOOL_DEFAULT_TIMEOUT_MS (300 * 1000)
#define TOOL_OUTPUT_MAX (1024 * 1024)
#define TOOL_KILL_GRACE_MS 2000

static bool is_exec_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

ZTC_API int ztc_tool_find(ztc_board *b, const char *tool, char **ret_path)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL;

	if (ztc_str_empty(tool) || !ret_path)
		return ztc_board_fail(b, ZTC_ERR_ARG, "no tool named");
	if (strchr(tool, '/')) {
		if (!is_exec_file(tool))
			return ztc_board_fail(b, ZTC_ERR_TOOL, "%s is not an executable file", tool);
		*ret_path = strdup(tool);
		return *ret_path ? ZTC_OK : ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
	}
	/* An unset PATH means the libc default; an empty one, nothing. */
	copy = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!copy)
		return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		char *cand = ztc_strdup_printf("%s/%s", *d ? d : ".", tool);

		if (cand && is_exec_file(cand)) {
			free(copy);
			*ret_path = cand;
			return ZTC_OK;
		}
		free(cand);
	}
	free(copy);
	return ztc_tool_fail_missing(b, tool);
}

/* The last percentage in a piece of tool output: "43%", "[ 43%]", "(43 %)"; -1 when none. */
static int find_percent(const char *s, size_t len)
{
	int found = -1;

	for (size_t i = 0; i < len; i++) {
		size_t j = i, k;
		int v = 0;

		if (s[i] < '0' || s[i] > '9' || (i > 0 && ((s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '.')))
			continue;
		while (j < len && s[j] >= '0' && s[j] <= '9' && j - i < 4)
			v = v * 10 + (s[j++] - '0');
		if (j < len && s[j] >= '0' && s[j] <= '9')
			continue;
		k = j;
		while (k < len && s[k] == ' ')
			k++;
		if (k < len && s[k] == '%' && v <= 100)
			found = v;
	}
	return found;
}

/* The phase a tool's output line starts, by its first word ("Erase flash", "** Programming Started **",
 * dfu-util's "Download  [===  ] 43%", esptool's "Writing at 0x1000... (43 %)", edbg's "Verification...");
 * NULL when it names none. */
static const char *phase_of(const char *line)
{
	static const struct {
		const char *word, *phase;
	} words[] = {
		{ "erase", "erasing" }, { "erasing", "erasing" },
		{ "write", "writing" }, { "writing", "writing" }, { "download", "writing" }, { "program", "writing" },
		{ "programming", "writing" },
		{ "verify", "verifying" }, { "verifying", "verifying" }, { "verified", "verifying" },
		{ "verification", "verifying" },
		{ "read", "reading" }, { "reading", "reading" }, { "upload", "reading" },
	};
	char word[16];
	size_t n = 0;

	while (*line && !((*line >= 'a' && *line <= 'z') || (*line >= 'A' && *line <= 'Z')))
		line++;
	while (n < sizeof(word) - 1 && ((*line >= 'a' && *line <= 'z') || (*line >= 'A' && *line <= 'Z')))
		word[n++] = (char)(*line++ | 0x20);
	word[n] = '\0';
	if ((*line >= 'a' && *line <= 'z') || (*line >= 'A' && *line <= 'Z'))
		return NULL; /* longer than any word of the table */
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (strcmp(word, words[i].word) == 0)
			return words[i].phase;
	return NULL;
}

struct capture {
	ztc_board *b;
	const char *tool;
	const char *msg;
	struct ztc_buf out; /* the last TOOL_OUTPUT_MAX bytes of the output */
	char line[1024];
	size_t llen;
	int last_pct;
	const char *phase; /* the phase the output last named, NULL before any */
	int pass;          /* 1, then 2, 3... each time the percentages start again within a phase */
	char label[96];    /* what the progress says: the phase (or msg) and the pass after the first */
};

#define PASS_DROP 50 /* a percentage this much below the last one starts a new pass */

static void set_label(struct capture *c)
{
	const char *what = c->phase ? c->phase : c->msg;

	if (c->pass > 1)
		snprintf(c->label, sizeof(c->label), "%s (%d)", what, c->pass);
	else
		snprintf(c->label, sizeof(c->label), "%s", what);
}

static void line_done(struct capture *c)
{
	const char *phase;
	int pct;

	c->line[c->llen] = '\0';
	if (c->llen) {
		ztc_board_log(c->b, ZTC_LOG_INFO, "%s: %s", c->tool, c->line);
		/* Each phase (erase, write, verify; dfu-util's two passes) gets a label of its own, so that
		 * the progress never runs from 0 to 100% twice under one name. */
		if ((phase = phase_of(c->line)) && phase != c->phase) {
			c->phase = phase;
			c->pass = 1;
			c->last_pct = -1;
			set_label(c);
			ztc_board_progress(c->b, -1, c->label);
		}
		pct = find_percent(c->line, c->llen);
		if (pct >= 0 && c->last_pct >= 0 && pct + PASS_DROP <= c->last_pct) {
			c->pass++;
			set_label(c);
		}
		if (pct >= 0 && pct != c->last_pct) {
			c->last_pct = pct;
			ztc_board_progress(c->b, pct, c->label);
		}
	}
	c->llen = 0;
}

static void capture_add(struct capture *c, const char *buf, size_t n)
{
	/* Keep the tail: a tool's verdict and its error are at the end. */
	if (n > TOOL_OUTPUT_MAX) {
		buf += n - TOOL_OUTPUT_MAX;
		n = TOOL_OUTPUT_MAX;
	}
	if (c->out.len + n > TOOL_OUTPUT_MAX) {
		size_t drop = c->out.len + n - TOOL_OUTPUT_MAX;

		memmove(c->out.data, c->out.data + drop, c->out.len - drop);
		c->out.len -= drop;
	}
	/* Out of memory: the log still gets the lines. */
	ztc_buf_append(&c->out, buf, n);
}

static void capture_feed(struct capture *c, const char *buf, size_t n)
{
	capture_add(c, buf, n);
	/* Progress bars redraw with '\r': each redraw is a line of its own here. */
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || buf[i] == '\r') {
			line_done(c);
		} else if (c->llen < sizeof(c->line) - 1) {
			c->line[c->llen++] = buf[i];
		}
	}
}

/* Stop the tool's whole process group (it may have started children of its own) and reap it. */
static int kill_and_reap(pid_t pid)
{
	long long deadline = ztc_now_ms() + TOOL_KILL_GRACE_MS;
	int st = 0;

	kill(-pid, SIGTERM);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (ztc_now_ms() >= deadline) {
			kill(-pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			break;
		}
		poll(NULL, 0, 20);
	}
	return st;
}

static int spawn(ztc_board *b, const char *path, const char *const *argv, int outfd, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, outfd, 1);
	posix_spawn_file_actions_adddup2(&fa, outfd, 2);
	/* A process group of its own, so a timeout stops its children too; default signal handling and an
	 * empty mask, whatever the caller (a console that blocks signals) set up. */
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(ret_pid, path, &fa, &at, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0)
		return ztc_board_fail(b, ZTC_ERR_TOOL, "cannot run %s: %s", path, strerror(rc));
	return ZTC_OK;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

ZTC_API int ztc_tool_run(ztc_board *b, const char *const *argv, int timeout_ms, const char *progress_msg,
			 int *ret_status, char **ret_output)
{
	struct capture c = { 0 };
	char *path = NULL, buf[4096];
	int pfd[2], rc, st = 0;
	bool timed_out = false;
	long long deadline;
	pid_t pid;

	if (!b || !argv || !argv[0] || !ret_status)
		return ztc_board_fail(b, ZTC_ERR_ARG, "no tool to run");
	rc = ztc_tool_find(b, argv[0], &path);
	if (rc < 0)
		return rc;
	if (timeout_ms <= 0)
		timeout_ms = TOOL_DEFAULT_TIMEOUT_MS;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(path);
		return ztc_board_fail(b, ZTC_ERR_IO, "cannot run %s: %s", argv[0], strerror(errno));
	}
	{
		/* The command line, as a user would type it, for -v. */
		char cmd[2048];
		size_t l = 0;

		for (size_t i = 0; argv[i] && l < sizeof(cmd); i++)
			l += (size_t)snprintf(cmd + l, sizeof(cmd) - l, "%s%s", i ? " " : "", argv[i]);
		ztc_board_log(b, ZTC_LOG_INFO, "running %s", cmd);
	}
	rc = spawn(b, path, argv, pfd[1], &pid);
	close(pfd[1]);
	free(path);
	if (rc < 0) {
		close(pfd[0]);
		return rc;
	}
	c.b = b;
	c.tool = base_name(argv[0]);
	c.msg = progress_msg ? progress_msg : c.tool;
	c.last_pct = -1;
	c.pass = 1;
	set_label(&c);
	deadline = ztc_now_ms() + timeout_ms;
	for (;;) {
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		long long left = deadline - ztc_now_ms();
		ssize_t r;

		if (left <= 0) {
			timed_out = true;
			break;
		}
		rc = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0)
			continue;
		r = read(pfd[0], buf, sizeof(buf));
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0)
			break; /* every writer closed: the tool (and its children) are done with the output */
		capture_feed(&c, buf, (size_t)r);
	}
	close(pfd[0]);
	line_done(&c);
	if (!timed_out) {
		/* The output ended; the tool may still be exiting (or lingering without output). */
		for (;;) {
			pid_t w = waitpid(pid, &st, WNOHANG);

			if (w == pid)
				break;
			if (w < 0 && errno != EINTR) {
				st = 0;
				break;
			}
			if (ztc_now_ms() >= deadline) {
				timed_out = true;
				break;
			}
			poll(NULL, 0, 10);
		}
	}
	if (timed_out) {
		kill_and_reap(pid);
		ztc_buf_free(&c.out);
		return ztc_board_fail(b, ZTC_ERR_TIMEOUT, "%s did not finish within %d s: stopped", c.tool,
				      (timeout_ms + 999) / 1000);
	}
	*ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
	ztc_board_log(b, ZTC_LOG_DBG, "%s exited with status %d", c.tool, *ret_status);
	if (ret_output)
		*ret_output = c.out.data ? c.out.data : strdup("");
	else
		ztc_buf_free(&c.out);
	return ZTC_OK;
}

/* ---- serial ---------------------------------------------------------------------------------------- */

static const char *label(ztc_board *b)
{
	const char *n = ztc_board_get_str(b, "name");

	return n ? n : ztc_board_get_str(b, "target");
}

ZTC_API int ztc_board_touch_serial(ztc_board *b, int baud, long wait_ms)
{
	ztc_ctx *ctx = ztc_board_ctx(b);
	const char *port = ztc_board_get_str(b, "port");
	ztc_serial_params p;
	struct termios t;
	int fd, rc, dtr = TIOCM_DTR;

	if (!ctx)
		return ZTC_ERR_ARG;
	if (!port)
		return ztc_board_fail(b, ZTC_ERR_NOT_FOUND, "%s has no serial port for the %d-baud touch", label(b),
				      baud);
	ztc_serial_params_init(&p);
	p.baud = baud;
	ztc_board_progress(b, -1, baud == 1200 ? "starting the bootloader (1200-baud touch)" : "serial touch");
	rc = ztc_serial_open(ctx, port, &p, &fd);
	if (rc < 0)
		return rc;
	/* Closing with HUPCL drops DTR, which is what the bootloader waits for at this speed. */
	if (tcgetattr(fd, &t) == 0) {
		t.c_cflag |= HUPCL;
		tcsetattr(fd, TCSANOW, &t);
	}
	if (ioctl(fd, TIOCMBIC, &dtr) < 0)
		ztc_board_log(b, ZTC_LOG_DBG, "%s: cannot drop DTR (%s): closing drops it", port, strerror(errno));
	close(fd);
	ztc_board_log(b, ZTC_LOG_INFO, "%d-baud touch on %s", baud, port);
	ztc_board_wait(b, wait_ms);
	return ZTC_OK;
}

/* ---- disks and images ------------------------------------------------------------------------------ */

ZTC_API int ztc_board_copy_to_disk(ztc_board *b, const char *name, const unsigned char *data, size_t len)
{
	const char *disk = ztc_board_get_str(b, "disk");
	char *path;
	size_t done = 0;
	int fd, last = -1;

	if (!b || ztc_str_empty(name) || strchr(name, '/') || (!data && len))
		return ztc_board_fail(b, ZTC_ERR_ARG, "invalid file name for the board's disk");
	if (ztc_str_empty(disk))
		return ztc_board_fail(b, ZTC_ERR_NOT_FOUND, "no mass-storage disk mounted for %s", label(b));
	path = ztc_strdup_printf("%s/%s", disk, name);
	if (!path)
		return ztc_board_fail(b, ZTC_ERR_NOMEM, "out of memory");
	ztc_board_log(b, ZTC_LOG_INFO, "copying %zu bytes to %s", len, path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;

		ztc_board_fail(b, ZTC_ERR_IO, "cannot create %s on the disk of %s: %s", path, label(b), strerror(e));
		free(path);
		return ZTC_ERR_IO;
	}
	while (done < len) {
		size_t chunk = len - done > 65536 ? 65536 : len - done;
		ssize_t w = write(fd, data + done, chunk);
		int pct;

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			close(fd);
			ztc_board_fail(b, ZTC_ERR_IO, "cannot write %s: %s", path, strerror(e));
			free(path);
			return ZTC_ERR_IO;
		}
		done += (size_t)w;
		pct = (int)(done * 100 / len);
		if (pct != last) {
			last = pct;
			ztc_board_progress(b, pct, "copying");
		}
	}
	/* The probe firmware programs the chip from what reaches the disk: flush it before saying done. */
	{
		int e = fsync(fd) < 0 ? errno : 0;

		if (close(fd) < 0 && !e)
			e = errno;
		if (e) {
			ztc_board_fail(b, ZTC_ERR_IO, "cannot write %s: %s", path, strerror(e));
			free(path);
			return ZTC_ERR_IO;
		}
	}
	free(path);
	return ZTC_OK;
}

ZTC_API int ztc_image_pad(const unsigned char *data, size_t len, size_t pad_to, unsigned char **ret_data,
			  size_t *ret_len)
{
	size_t n = len > pad_to ? len : pad_to;
	unsigned char *out;

	if ((!data && len) || !ret_data || !ret_len)
		return ZTC_ERR_ARG;
	out = malloc(n ? n : 1);
	if (!out)
		return ZTC_ERR_NOMEM;
	if (len)
		memcpy(out, data, len);
	memset(out + len, 0, n - len);
	*ret_data = out;
	*ret_len = n;
	return ZTC_OK;
}
