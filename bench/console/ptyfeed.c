/* ptyfeed.c: feed a file through the device side of a pty to a console program and time it. */
/*
 * ptyfeed [--stdin null|pipe|tty] [--stop term|wait|KEYS] DATA OUT -- PROGRAM ARGS...
 *
 * Creates a pty, runs PROGRAM with "{}" in ARGS replaced by the pty's slave path, its stdout to OUT
 * and its stdin from /dev/null, from a pipe that stays open, or from a second pty (a terminal, as
 * for a person at the keyboard). Once PROGRAM has put the port in raw
 * mode (and 300 ms more to settle), writes DATA to the master as fast as the pty takes it and watches
 * OUT grow. The time is from the first byte written until OUT holds all but the last TAIL bytes.
 * Then PROGRAM is stopped: SIGTERM (--stop term), left to end by itself (--stop wait), or KEYS
 * (C escapes \xHH allowed) typed on the terminal given as its stdin, e.g. "\x14q" for tio.
 * Prints one line: "bytes=N seconds=S mbps=M exit=E" (MB = 10^6 bytes).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define READY_WAIT_S 10 /* PROGRAM must set up the port within this */
#define STALL_S 5       /* OUT not growing for this long: the rest is lost or held back */
/* The clock stops when OUT is within TAIL bytes of complete: a program writing through stdio holds
 * its last buffer until it exits, which is no measure of its speed. The full content is checked after
 * the program ended. */
#define TAIL (64 * 1024)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "ptyfeed: %s: %s\n", what, strerror(errno));
	exit(2);
}

static long long file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* "\x14q" -> bytes 0x14 'q'. */
static size_t unescape(const char *s, char *out, size_t size)
{
	size_t n = 0;

	while (*s && n < size) {
		unsigned int v;

		if (s[0] == '\\' && s[1] == 'x' && sscanf(s + 2, "%2x", &v) == 1) {
			out[n++] = (char)v;
			s += 4;
		} else {
			out[n++] = *s++;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *stdin_mode = "null", *stop = "term", *data_path, *out_path;
	char slave[64], term_path[64], *buf;
	struct termios t;
	int master, term = -1, in_pipe[2] = { -1, -1 }, status, i = 1;
	long long size, got = 0, last = -1;
	double t0, t1, last_change;
	pid_t pid;
	FILE *f;

	for (; i < argc && strncmp(argv[i], "--", 2) == 0 && argv[i][2]; i += 2) {
		if (i + 1 >= argc)
			break;
		if (strcmp(argv[i], "--stdin") == 0)
			stdin_mode = argv[i + 1];
		else if (strcmp(argv[i], "--stop") == 0)
			stop = argv[i + 1];
		else
			break;
	}
	if (argc - i < 4 || strcmp(argv[i + 2], "--") != 0) {
		fprintf(stderr, "usage: ptyfeed [--stdin null|pipe] [--stop term|wait] DATA OUT -- PROGRAM ARGS...\n");
		return 2;
	}
	data_path = argv[i];
	out_path = argv[i + 1];
	argv += i + 3;

	f = fopen(data_path, "rb");
	if (!f)
		die(data_path);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = malloc((size_t)size);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size)
		die("reading the data");
	fclose(f);

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, slave, sizeof(slave)))
		die("creating a pty");
	if (strcmp(stdin_mode, "pipe") == 0 && pipe(in_pipe) < 0)
		die("pipe");
	if (strcmp(stdin_mode, "tty") == 0) {
		term = posix_openpt(O_RDWR | O_NOCTTY);
		if (term < 0 || grantpt(term) < 0 || unlockpt(term) < 0 || ptsname_r(term, term_path, sizeof(term_path)))
			die("creating a terminal pty");
	}

	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int in = in_pipe[0] >= 0 ? in_pipe[0] : term >= 0 ? open(term_path, O_RDWR | O_NOCTTY)
							   : open("/dev/null", O_RDONLY);

		if (out < 0 || in < 0)
			die(out_path);
		setpgid(0, 0); /* picocom signals its whole process group when it is terminated */
		dup2(in, 0);
		dup2(out, 1);
		close(master);
		if (term >= 0)
			close(term);
		if (in_pipe[1] >= 0)
			close(in_pipe[1]);
		for (char **a = argv; *a; a++)
			if (strcmp(*a, "{}") == 0)
				*a = slave;
		execvp(argv[0], argv);
		die(argv[0]);
	}
	if (in_pipe[0] >= 0)
		close(in_pipe[0]);

	/* The pty starts in cooked mode with echo: PROGRAM is ready once it has made it raw. */
	for (t0 = now_s();; usleep(1000)) {
		if (tcgetattr(master, &t) == 0 && !(t.c_lflag & (ICANON | ECHO)))
			break;
		if (now_s() - t0 > READY_WAIT_S || waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "ptyfeed: %s never set up the port\n", argv[0]);
			kill(pid, SIGKILL);
			return 2;
		}
	}
	usleep(300 * 1000);

	t0 = now_s();
	for (long long off = 0; off < size;) {
		ssize_t w = write(master, buf + off, (size_t)(size - off));

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("writing to the pty");
		}
		off += w;
	}
	t1 = 0;
	for (last_change = now_s();; usleep(200)) {
		got = file_size(out_path);
		if (!t1 && got >= size - TAIL)
			t1 = now_s();
		if (got >= size)
			break;
		if (got != last) {
			last = got;
			last_change = now_s();
		} else if (now_s() - last_change > STALL_S) {
			break;
		}
	}
	if (!t1)
		t1 = now_s();

	if (strcmp(stop, "term") == 0) {
		kill(pid, SIGTERM);
	} else if (strcmp(stop, "wait") != 0) {
		char keys[64];
		size_t n = unescape(stop, keys, sizeof(keys));

		if (term < 0 || write(term, keys, n) != (ssize_t)n)
			fprintf(stderr, "ptyfeed: cannot type the quit keys (use --stdin tty)\n");
	}
	for (double deadline = now_s() + 15; waitpid(pid, &status, WNOHANG) != pid; usleep(10000))
		if (now_s() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
	close(master);
	if (term >= 0)
		close(term);
	got = file_size(out_path);
	printf("bytes=%lld seconds=%.3f mbps=%.1f exit=%d\n", got, t1 - t0,
	       (got < size - TAIL ? got : size - TAIL) / (t1 - t0) / 1e6,
	       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	free(buf);
	return got == size ? 0 : 1;
}
