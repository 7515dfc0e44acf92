/* fakeboard.c: a test tool that plays the boards: a umockdev testbed whose serial ports talk, and whose
 * devices re-enumerate in another USB identity when a file appears, around a command under test.
 *
 * fakeboard [-d REC.umockdev]... [--talk DEVNODE=LINE]... [--talk-count N] [--serve DEVNODE=COMMAND]...
 *           [--swap WHENFILE=OLD.umockdev:[NEW.umockdev]] [--swap-delay MS] [--timeout S] -- COMMAND [ARGS...]
 *
 * Must run preloaded (umockdev-wrapper). -d adds the devices of a record at start. --talk writes
 * "LINE\r\n" to DEVNODE's emulated port every 20 ms (as a registration firmware prints its chip id).
 * --swap: once WHENFILE exists, the devices of OLD are removed and those of NEW added, with uevents
 * (a board leaving DFU mode after being flashed); without NEW the board is just unplugged; --swap-delay
 * waits between the two (an unplug and a replug). --talk-count: lines written each time a port
 * appears (default: no limit). --serve: once DEVNODE's emulated port exists, run COMMAND (split as a
 * shell would, no shell run) with the port's master side as its stdin and stdout: a simulated
 * bootloader that answers what the command under test sends; it is killed when the board is swapped or
 * unplugged and at the end. Exits with COMMAND's status (124 on timeout). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <umockdev.h>

#define MAXTALK 8
#define MAXSERVE 4

struct serve {
	char *devnode;
	char **argv;
	pid_t pid;
};

struct talk {
	char *devnode;
	char *line;
	int fd;
	long sent;
};

/* The "P: /devices/..." lines name the devices a record adds ("/sys/devices/..."), its "N: " lines
 * their nodes ("/dev/ttyACM0"). */
static char **lines_of(const char *record, const char *tag, const char *prefix, int *n)
{
	FILE *f = fopen(record, "r");
	char buf[4096];
	char **v = NULL;

	*n = 0;
	if (!f)
		return NULL;
	while (fgets(buf, sizeof(buf), f))
		if (strncmp(buf, tag, 3) == 0) {
			buf[strcspn(buf, "\n")] = '\0';
			v = realloc(v, (size_t)(*n + 1) * sizeof(*v));
			v[(*n)++] = g_strdup_printf("%s%s", prefix, buf + 3);
		}
	fclose(f);
	return v;
}

static char **syspaths_of(const char *record, int *n)
{
	return lines_of(record, "P: ", "/sys", n);
}

static void add_record(UMockdevTestbed *tb, const char *rec, gboolean uevent)
{
	GError *err = NULL;
	int n;
	char **paths;

	if (!umockdev_testbed_add_from_file(tb, rec, &err)) {
		fprintf(stderr, "fakeboard: %s: %s\n", rec, err->message);
		exit(99);
	}
	if (!uevent)
		return;
	paths = syspaths_of(rec, &n);
	for (int i = 0; i < n; i++) {
		umockdev_testbed_uevent(tb, paths[i], "add");
		g_free(paths[i]);
	}
	free(paths);
}

static void remove_record(UMockdevTestbed *tb, const char *rec)
{
	int n, nn;
	char **paths = syspaths_of(rec, &n), **nodes = lines_of(rec, "N: ", "/dev/", &nn);

	/* An unplugged port hangs up: close the emulated port's master side. umockdev leaves the node
	 * link behind; remove it so the board can be plugged in again. */
	for (int i = 0; i < nn; i++) {
		int fd = umockdev_testbed_get_dev_fd(tb, nodes[i]);
		char *root = umockdev_testbed_get_root_dir(tb); /* a copy: freed below */
		char *link = g_strdup_printf("%s%s", root, nodes[i]);

		if (fd >= 0)
			close(fd);
		unlink(link);
		g_free(link);
		g_free(root);
		g_free(nodes[i]);
	}
	free(nodes);
	/* Children first, as the kernel removes them. */
	for (int i = n - 1; i >= 0; i--) {
		umockdev_testbed_uevent(tb, paths[i], "remove");
		umockdev_testbed_remove_device(tb, paths[i]);
		g_free(paths[i]);
	}
	free(paths);
}

/* Start the simulator of each port that has appeared and has none running. */
static void serve_ports(UMockdevTestbed *tb, struct serve *sv, int n)
{
	for (int k = 0; k < n; k++) {
		int fd;

		if (sv[k].pid > 0)
			continue;
		fd = umockdev_testbed_get_dev_fd(tb, sv[k].devnode);
		if (fd < 0)
			continue;
		sv[k].pid = fork();
		if (sv[k].pid == 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			execvp(sv[k].argv[0], sv[k].argv);
			fprintf(stderr, "fakeboard: cannot run %s: %s\n", sv[k].argv[0], strerror(errno));
			_exit(127);
		}
	}
}

static void stop_serving(struct serve *sv, int n)
{
	for (int k = 0; k < n; k++)
		if (sv[k].pid > 0) {
			kill(sv[k].pid, SIGTERM);
			waitpid(sv[k].pid, NULL, 0);
			sv[k].pid = 0;
		}
}

int main(int argc, char **argv)
{
	UMockdevTestbed *tb;
	struct talk talks[MAXTALK];
	struct serve serves[MAXSERVE];
	int nserve = 0;
	int ntalk = 0, timeout_s = 60, swap_delay_ms = 0, i, status = 0;
	long talk_count = -1;
	char *swap_when = NULL, *swap_old = NULL, *swap_new = NULL;
	gboolean swapped = FALSE;
	time_t start;
	pid_t pid;

	if (!umockdev_in_mock_environment()) {
		fprintf(stderr, "fakeboard: run me under umockdev-wrapper\n");
		return 99;
	}
	tb = umockdev_testbed_new();
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			add_record(tb, argv[++i], FALSE);
		} else if (strcmp(argv[i], "--talk") == 0 && i + 1 < argc && ntalk < MAXTALK) {
			char *eq = strchr(argv[++i], '=');

			if (!eq)
				return 99;
			*eq = '\0';
			talks[ntalk].devnode = argv[i];
			talks[ntalk].line = g_strdup_printf("%s\r\n", eq + 1);
			talks[ntalk].fd = -1;
			talks[ntalk].sent = 0;
			ntalk++;
		} else if (strcmp(argv[i], "--swap") == 0 && i + 1 < argc) {
			char *eq = strchr(argv[++i], '='), *colon = eq ? strchr(eq, ':') : NULL;

			if (!colon)
				return 99;
			*eq = *colon = '\0';
			swap_when = argv[i];
			swap_old = eq + 1;
			swap_new = colon + 1;
		} else if (strcmp(argv[i], "--serve") == 0 && i + 1 < argc && nserve < MAXSERVE) {
			char *eq = strchr(argv[++i], '=');
			GError *err = NULL;

			if (!eq)
				return 99;
			*eq = '\0';
			serves[nserve].devnode = argv[i];
			serves[nserve].pid = 0;
			if (!g_shell_parse_argv(eq + 1, NULL, &serves[nserve].argv, &err)) {
				fprintf(stderr, "fakeboard: --serve %s: %s\n", argv[i], err->message);
				return 99;
			}
			nserve++;
		} else if (strcmp(argv[i], "--talk-count") == 0 && i + 1 < argc) {
			talk_count = atol(argv[++i]);
		} else if (strcmp(argv[i], "--swap-delay") == 0 && i + 1 < argc) {
			swap_delay_ms = atoi(argv[++i]);
		} else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
			timeout_s = atoi(argv[++i]);
		} else {
			fprintf(stderr, "fakeboard: bad argument %s\n", argv[i]);
			return 99;
		}
	}
	if (i + 1 >= argc) {
		fprintf(stderr, "fakeboard: no command\n");
		return 99;
	}
	pid = fork();
	if (pid == 0) {
		execvp(argv[i + 1], argv + i + 1);
		fprintf(stderr, "fakeboard: cannot run %s: %s\n", argv[i + 1], strerror(errno));
		_exit(127);
	}
	start = time(NULL);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		struct stat st;

		if (w == pid)
			break;
		serve_ports(tb, serves, nserve);
		if (time(NULL) - start > timeout_s) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr, "fakeboard: command timed out after %d s\n", timeout_s);
			stop_serving(serves, nserve);
			return 124;
		}
		if (swap_when && !swapped && stat(swap_when, &st) == 0) {
			stop_serving(serves, nserve);
			remove_record(tb, swap_old);
			usleep((useconds_t)swap_delay_ms * 1000);
			if (*swap_new)
				add_record(tb, swap_new, TRUE);
			swapped = TRUE;
			for (int t = 0; t < ntalk; t++) {
				talks[t].fd = -1; /* the new devices have new ports */
				talks[t].sent = 0;
			}
		}
		for (int t = 0; t < ntalk; t++) {
			if (talks[t].fd < 0)
				talks[t].fd = umockdev_testbed_get_dev_fd(tb, talks[t].devnode);
			if (talks[t].fd < 0 || (talk_count >= 0 && talks[t].sent >= talk_count))
				continue;
			if (write(talks[t].fd, talks[t].line, strlen(talks[t].line)) > 0)
				talks[t].sent++;
			else if (errno != EAGAIN && errno != EIO)
				talks[t].fd = -1;
		}
		usleep(20000);
	}
	for (int t = 0; t < ntalk; t++)
		g_free(talks[t].line);
	stop_serving(serves, nserve);
	/* Freed so that a sanitizer build's leak check does not change the exit status. */
	for (int k = 0; k < nserve; k++)
		g_strfreev(serves[k].argv);
	g_object_unref(tb);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
