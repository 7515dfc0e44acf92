/* test-console.c: the serial port and console of libztc, and `ztc device open`, over real ptys. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ztc/console.h"

#include "../common/check-util.h"

#include "termios2.h"

#define WAIT_MS 3000 /* how long any one expected event may take before the test fails */

/* ---- helpers -------------------------------------------------------------------------------------- */

struct pty {
	int master;
	char path[64];
};

static void make_pty(struct pty *p)
{
	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(p->master, 0);
	ck_assert_int_eq(grantpt(p->master), 0);
	ck_assert_int_eq(unlockpt(p->master), 0);
	ck_assert_int_eq(ptsname_r(p->master, p->path, sizeof(p->path)), 0);
}

static void make_pipe(int p[2])
{
	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
}

static void write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		ck_assert_msg(w > 0, "write failed: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

/* Read exactly n bytes, or fail the test after WAIT_MS. */
static void read_exact(int fd, void *buf, size_t n)
{
	long long deadline = now_ms() + WAIT_MS;
	size_t got = 0;

	while (got < n) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = deadline - now_ms();
		ssize_t r;

		ck_assert_msg(left > 0, "timed out after %zu of %zu bytes", got, n);
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		ck_assert_msg(r > 0, "read ended after %zu of %zu bytes: %s", got, n, r ? strerror(errno) : "EOF");
		got += (size_t)r;
	}
}

static void expect_bytes(int fd, const char *want, size_t n)
{
	char *buf = malloc(n + 1);

	read_exact(fd, buf, n);
	buf[n] = '\0';
	ck_assert_msg(memcmp(buf, want, n) == 0, "expected '%.*s', got '%s'", (int)n, want, buf);
	free(buf);
}

/* Read into acc (NUL-terminated, capacity size) until it contains needle; fail after WAIT_MS. */
static void read_until(int fd, char *acc, size_t size, const char *needle)
{
	long long deadline = now_ms() + WAIT_MS;
	size_t len = strlen(acc);

	while (!strstr(acc, needle)) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		long long left = deadline - now_ms();
		ssize_t r;

		ck_assert_msg(left > 0, "timed out waiting for '%s'; got '%s'", needle, acc);
		ck_assert_msg(len + 1 < size, "no '%s' in '%s'", needle, acc);
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(fd, acc + len, size - len - 1);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		ck_assert_msg(r > 0, "stream ended waiting for '%s'; got '%s'", needle, acc);
		len += (size_t)r;
		acc[len] = '\0';
	}
}

/* Everything left on fd until end of file (the writer exited). */
static size_t read_rest(int fd, char *acc, size_t size)
{
	long long deadline = now_ms() + WAIT_MS;
	size_t len = strlen(acc);

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t r;

		ck_assert_msg(now_ms() < deadline, "no end of file; got '%s'", acc);
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		r = read(fd, acc + len, size - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
		acc[len] = '\0';
	}
	return len;
}

/* The exit status of pid, or fail the test (and kill pid) after ms. */
static int wait_exit(pid_t pid, int ms)
{
	long long deadline = now_ms() + ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			ck_abort_msg("process %d did not exit within %d ms", (int)pid, ms);
		}
		usleep(5000);
	}
	ck_assert_msg(WIFEXITED(status), "process ended by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	return WEXITSTATUS(status);
}

static bool alive_after(pid_t pid, int ms)
{
	usleep((useconds_t)ms * 1000);
	return waitpid(pid, NULL, WNOHANG) == 0;
}

/* A child that dies with the test, whatever way the test ends. */
static pid_t fork_child(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		prctl(PR_SET_PDEATHSIG, SIGKILL);
	return pid;
}

static void close_fds(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Run the console on port in a child: it opens the port, says "r" on the ready pipe, runs, and
 * exits with minus the libztc return value. fds listed in others are closed in the child. */
static pid_t spawn_console(const char *port, const ztc_serial_params *sp, const ztc_console_opts *o,
			   int in_fd, int out_fd, const int *others, int nothers)
{
	int ready[2];
	pid_t pid;
	char c;

	make_pipe(ready);
	pid = fork_child();
	if (pid == 0) {
		ztc_serial_params def;
		ztc_ctx *ctx;
		int fd, rc;

		close(ready[0]);
		close_fds(others, nothers);
		if (!sp) {
			ztc_serial_params_init(&def);
			sp = &def;
		}
		if (ztc_ctx_new(&ctx) < 0 || ztc_serial_open(ctx, port, sp, &fd) < 0)
			_exit(100);
		if (write(ready[1], "r", 1) != 1)
			_exit(101);
		close(ready[1]);
		rc = ztc_console_run(ctx, fd, in_fd, out_fd, o);
		if (rc < 0 && rc != ZTC_ERR_GONE)
			fprintf(stderr, "console: %s\n", ztc_ctx_errmsg(ctx));
		_exit(rc < 0 ? -rc : 0);
	}
	close(ready[1]);
	read_exact(ready[0], &c, 1);
	close(ready[0]);
	return pid;
}

/* Run the console with o on a new pty (the board's end in *pty): its output into a pipe whose reading end
 * goes to *out, its input from a pipe whose writing end goes to *in, or none when in is NULL. */
static pid_t start_console(struct pty *pty, const ztc_console_opts *o, int *in, int *out)
{
	int ip[2] = { -1, -1 }, op[2];
	pid_t pid;

	make_pty(pty);
	if (in)
		make_pipe(ip);
	make_pipe(op);
	pid = spawn_console(pty->path, NULL, o, ip[0], op[1], (int[]){ pty->master, ip[1], op[0] }, 3);
	if (in) {
		close(ip[0]);
		*in = ip[1];
	}
	close(op[1]);
	*out = op[0];
	return pid;
}

static void pattern(unsigned char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i + i / 256); /* every byte value, in a changing order */
}

static bool same_termios(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
	       a->c_lflag == b->c_lflag && memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)) == 0;
}

/* Wait until the terminal on the far side of master is in raw mode (the console set it up). */
static void wait_raw(int master)
{
	long long deadline = now_ms() + WAIT_MS;
	struct termios t;

	for (;;) {
		ck_assert_int_eq(tcgetattr(master, &t), 0);
		if (!(t.c_lflag & (ICANON | ECHO | ISIG)))
			return;
		ck_assert_msg(now_ms() < deadline, "the terminal never went raw");
		usleep(5000);
	}
}

static char tmpdir[64];

static void make_tmpdir(void)
{
	strcpy(tmpdir, "/tmp/ztc-console-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
	check_rm_tree(tmpdir);
	tmpdir[0] = '\0';
}

/* ---- serial ports ------------------------------------------------------------------------------------ */

/* A Linux pty keeps the speed, stop bits and RTS/CTS it is given, but forces 8 data bits and no
 * parity (drivers/tty/pty.c): those are checked through the refusal below. */
static const struct {
	ztc_serial_params p;
	speed_t speed;
	tcflag_t csize;
} settings[] = {
	{ { 115200, 'n', 8, 1, 0, 0 }, B115200, CS8 }, /* every board */
	{ { 115200, 'n', 8, 1, 1, 0 }, B115200, CS8 }, /* arduino_due: rtscts */
	{ { 9600, 'n', 8, 2, 0, 0 }, B9600, CS8 },
	{ { 230400, 'n', 8, 1, 0, 0 }, B230400, CS8 },
	{ { 921600, 'n', 8, 2, 1, 0 }, B921600, CS8 },
	{ { 4000000, 'n', 8, 1, 0, 0 }, B4000000, CS8 },
	{ { 50, 'n', 8, 1, 0, 1 }, B50, CS8 }, /* dsrdtr: accepted, with a warning */
};

START_TEST(test_settings_seen_on_port)
{
	const ztc_serial_params *p = &settings[_i].p;
	struct termios t;
	struct pty pty;
	ztc_ctx *ctx;
	int fd = -1;

	make_pty(&pty);
	ck_assert_int_eq(ztc_ctx_new(&ctx), 0);
	ck_assert_msg(ztc_serial_open(ctx, pty.path, p, &fd) == 0, "%s", ztc_ctx_errmsg(ctx));
	ck_assert_int_ge(fd, 0);
	/* What the other end of the line sees: the master reports the slave's settings. */
	ck_assert_int_eq(tcgetattr(pty.master, &t), 0);
	ck_assert_uint_eq(cfgetospeed(&t), settings[_i].speed);
	ck_assert_uint_eq(cfgetispeed(&t), settings[_i].speed);
	ck_assert_uint_eq(t.c_cflag & CSIZE, settings[_i].csize);
	ck_assert_int_eq(!!(t.c_cflag & PARENB), p->parity != 'n');
	ck_assert_int_eq(!!(t.c_cflag & PARODD), p->parity == 'o');
	ck_assert_int_eq(!!(t.c_cflag & CSTOPB), p->stopbits == 2);
	ck_assert_int_eq(!!(t.c_cflag & CRTSCTS), p->rtscts);
	ck_assert_uint_eq(t.c_cflag & (CLOCAL | CREAD), CLOCAL | CREAD);
	/* raw: nothing translated, no echo, no signals, no software flow control */
	ck_assert_uint_eq(t.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0);
	ck_assert_uint_eq(t.c_iflag & (ICRNL | INLCR | IGNCR | ISTRIP | IXON | IXOFF | INPCK), 0);
	ck_assert_uint_eq(t.c_oflag & OPOST, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);
	close(pty.master);
	ztc_ctx_free(ctx);
}
END_TEST

/* The port silently keeping another frame format would garble every byte: refused, port released. */
static const struct {
	ztc_serial_params p;
	const char *desc;
} refused[] = {
	{ { 9600, 'e', 7, 1, 0, 0 }, "9600 7E1" },
	{ { 115200, 'o', 8, 1, 0, 0 }, "115200 8O1" },
	{ { 115200, 'n', 5, 2, 1, 0 }, "115200 5N2 RTS/CTS" },
};

START_TEST(test_format_refused)
{
	char want[128];
	ztc_serial_params p;
	struct pty pty;
	ztc_ctx *ctx;
	int fd = -77;

	make_pty(&pty);
	ck_assert_int_eq(ztc_ctx_new(&ctx), 0);
	ck_assert_int_eq(ztc_serial_open(ctx, pty.path, &refused[_i].p, &fd), ZTC_ERR_UNSUPPORTED);
	ck_assert_int_eq(fd, -77);
	snprintf(want, sizeof(want), "%s does not support %s", pty.path, refused[_i].desc);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), want);
	/* not left locked */
	ztc_serial_params_init(&p);
	ck_assert_msg(ztc_serial_open(ctx, pty.path, &p, &fd) == 0, "%s", ztc_ctx_errmsg(ctx));
	close(fd);
	close(pty.master);
	ztc_ctx_free(ctx);
}
END_TEST

START_TEST(test_configure_changes_speed)
{
	ztc_serial_params p;
	struct termios t;
	struct pty pty;
	ztc_ctx *ctx;
	int fd;

	make_pty(&pty);
	ck_assert_int_eq(ztc_ctx_new(&ctx), 0);
	ztc_serial_params_init(&p);
	ck_assert_int_eq(ztc_serial_open(ctx, pty.path, &p, &fd), 0);
	p.baud = 1000000;
	ck_assert_int_eq(ztc_serial_configure(ctx, fd, &p), 0);
	ck_assert_int_eq(tcgetattr(pty.master, &t), 0);
	ck_assert_uint_eq(cfgetospeed(&t), B1000000);
	/* Rates without a B constant go through termios2 (BOTHER): 74880 for the ESP8266's boot messages. */
	for (int k = 0; k < 4; k++) {
		static const int custom[] = { 74880, 250000, 1234, 31250 };

		p.baud = custom[k];
		ck_assert_int_eq(ztc_serial_configure(ctx, fd, &p), 0);
		ck_assert_int_eq(test_tty_ospeed(pty.master), custom[k]);
	}
	p.baud = 1000000;
	ck_assert_int_eq(ztc_serial_configure(ctx, fd, &p), 0);
	ck_assert_int_eq(test_tty_ospeed(pty.master), 1000000);
	p.baud = 4000001;
	ck_assert_int_eq(ztc_serial_configure(ctx, fd, &p), ZTC_ERR_ARG);
	ck_assert_int_eq(tcgetattr(pty.master, &t), 0);
	ck_assert_uint_eq(cfgetospeed(&t), B1000000); /* unchanged by the refused request */
	close(fd);
	close(pty.master);
	ztc_ctx_free(ctx);
}
END_TEST

START_TEST(test_defaults)
{
	ztc_serial_params p;
	ztc_console_opts o;

	memset(&p, 0x55, sizeof(p));
	ztc_serial_params_init(&p);
	ck_assert_int_eq(p.baud, 115200);
	ck_assert_int_eq(p.parity, 'n');
	ck_assert_int_eq(p.databits, 8);
	ck_assert_int_eq(p.stopbits, 1);
	ck_assert_int_eq(p.rtscts, 0);
	ck_assert_int_eq(p.dsrdtr, 0);
	ztc_console_opts_init(&o);
	ck_assert_int_eq(o.escape, 0x1d);
	ck_assert_int_eq(o.echo, 0);
	ck_assert_int_eq(o.timestamp, 0);
	ck_assert_ptr_null(o.log_path);
	ck_assert_int_eq(o.timeout_ms, 0);
	ck_assert_int_eq(o.handle_signals, 1);
	ck_assert_int_eq(ztc_serial_baud_supported(230400), 1);
	ck_assert_int_eq(ztc_serial_baud_supported(4000000), 1);
	ck_assert_int_eq(ztc_serial_baud_supported(12345), 1);
	ck_assert_int_eq(ztc_serial_baud_supported(50), 1);
	ck_assert_int_eq(ztc_serial_baud_supported(49), 0);
	ck_assert_int_eq(ztc_serial_baud_supported(4000001), 0);
	ck_assert_int_eq(ztc_serial_baud_supported(0), 0);
	ck_assert_int_eq(ztc_serial_baud_supported(-9600), 0);
	ck_assert_str_eq(ztc_strerror(ZTC_ERR_GONE), "device disconnected");
}
END_TEST

static const struct {
	ztc_serial_params p;
	const char *msg;
} bad_settings[] = {
	{ { 4000001, 'n', 8, 1, 0, 0 }, "unsupported baud rate 4000001: use 50 to 4000000" },
	{ { 49, 'n', 8, 1, 0, 0 }, "unsupported baud rate 49" },
	{ { 0, 'n', 8, 1, 0, 0 }, "unsupported baud rate 0" },
	{ { -115200, 'n', 8, 1, 0, 0 }, "unsupported baud rate -115200" },
	{ { 115200, 'x', 8, 1, 0, 0 }, "unsupported parity 'x'" },
	{ { 115200, 'n', 9, 1, 0, 0 }, "unsupported data bits 9" },
	{ { 115200, 'n', 8, 3, 0, 0 }, "unsupported stop bits 3" },
};

START_TEST(test_bad_settings)
{
	struct termios before, after;
	struct pty pty;
	ztc_ctx *ctx;
	int fd = -77;

	make_pty(&pty);
	ck_assert_int_eq(tcgetattr(pty.master, &before), 0);
	ck_assert_int_eq(ztc_ctx_new(&ctx), 0);
	ck_assert_int_eq(ztc_serial_open(ctx, pty.path, &bad_settings[_i].p, &fd), ZTC_ERR_ARG);
	ck_assert_int_eq(fd, -77);
	ck_assert_msg(strstr(ztc_ctx_errmsg(ctx), bad_settings[_i].msg), "message: %s", ztc_ctx_errmsg(ctx));
	ck_assert_ptr_null(strchr(ztc_ctx_errmsg(ctx), '\n'));
	/* refused before the port was touched */
	ck_assert_int_eq(tcgetattr(pty.master, &after), 0);
	ck_assert(same_termios(&before, &after));
	close(pty.master);
	ztc_ctx_free(ctx);
}
END_TEST

START_TEST(test_missing_port)
{
	ztc_serial_params p;
	ztc_ctx *ctx;
	int fd = -77;

	ztc_serial_params_init(&p);
	ck_assert_int_eq(ztc_ctx_new(&ctx), 0);
	ck_assert_int_eq(ztc_serial_open(ctx, "/dev/ttyZTCnonexistent", &p, &fd), ZTC_ERR_NOT_FOUND);
	ck_assert_int_eq(fd, -77);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx),
			 "serial port /dev/ttyZTCnonexistent not found: is the board connected?");
	ck_assert_int_eq(ztc_serial_open(ctx, "/dev/null", &p, &fd), ZTC_ERR_ARG);
	ck_assert_int_eq(fd, -77);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "/dev/null is not a serial port");
	ck_assert_int_eq(ztc_serial_open(ctx, "", &p, &fd), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_serial_open(ctx, "/dev/null", NULL, &fd), ZTC_ERR_ARG);
	ck_assert_int_eq(fd, -77);
	ztc_ctx_free(ctx);
}
END_TEST

/* The process holding port (through libztc, like another ztc would), and until it is killed. */
static pid_t hold_port(const char *port)
{
	ztc_serial_params p;
	int ready[2];
	pid_t pid;
	char c;

	ztc_serial_params_init(&p);
	make_pipe(ready);
	pid = fork_child();
	if (pid == 0) {
		ztc_ctx *ctx;
		int fd;

		if (ztc_ctx_new(&ctx) < 0 || ztc_serial_open(ctx, port, &p, &fd) < 0)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	read_exact(ready[0], &c, 1);
	close(ready[0]);
	return pid;
}

static void self_comm(char *buf, size_t size)
{
	FILE *f = fopen("/proc/self/comm", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, (int)size, f));
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

START_TEST(test_lock_conflict)
{
	char want[256], comm[64];
	ztc_serial_params p;
	struct pty pty;
	ztc_ctx *ctx;
	int fd = -77;
	long long t0;
	pid_t holder;

	make_pty(&pty);
	ztc_serial_params_init(&p);
	holder = hold_port(pty.path);
	ck_assert_int_eq(ztc_ctx_new(&ctx), 0);
	t0 = now_ms();
	ck_assert_int_eq(ztc_serial_open(ctx, pty.path, &p, &fd), ZTC_ERR_BUSY);
	ck_assert_int_lt(now_ms() - t0, 1000); /* at once, no waiting for the lock */
	ck_assert_int_eq(fd, -77);
	self_comm(comm, sizeof(comm)); /* the holder is a fork of this process: same name */
	snprintf(want, sizeof(want), "%s is in use by process %d (%s): close that program first", pty.path,
		 (int)holder, comm);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), want);
	/* The lock goes with its holder. */
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	ck_assert_msg(ztc_serial_open(ctx, pty.path, &p, &fd) == 0, "%s", ztc_ctx_errmsg(ctx));
	close(fd);
	close(pty.master);
	ztc_ctx_free(ctx);
}
END_TEST

/* A program that keeps the port open without flock (as screen does) is found through /proc/PID/fd. */
START_TEST(test_find_holder_by_fd)
{
	char comm[64] = "", self[64];
	struct pty pty;
	ztc_ctx *ctx;
	int ready[2], pid = -77;
	pid_t holder;

	make_pty(&pty);
	make_pipe(ready);
	holder = fork_child();
	if (holder == 0) {
		int fd = open(pty.path, O_RDWR | O_NOCTTY);

		if (fd < 0 || write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	read_exact(ready[0], comm, 1);
	ck_assert_int_eq(ztc_ctx_new(&ctx), 0);
	ck_assert_int_eq(ztc_serial_find_holder(ctx, pty.path, &pid, comm, sizeof(comm)), 0);
	ck_assert_int_eq(pid, holder);
	self_comm(self, sizeof(self));
	ck_assert_str_eq(comm, self);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	pid = -77;
	ck_assert_int_eq(ztc_serial_find_holder(ctx, pty.path, &pid, NULL, 0), ZTC_ERR_NOT_FOUND);
	ck_assert_int_eq(pid, -77);
	close(pty.master);
	ztc_ctx_free(ctx);
}
END_TEST

/* ---- console loop ----------------------------------------------------------------------------------- */

START_TEST(test_bytes_both_ways)
{
	ztc_console_opts o;
	struct pty pty;
	int in, out;
	pid_t pid;

	ztc_console_opts_init(&o);
	pid = start_console(&pty, &o, &in, &out);
	write_all(pty.master, "hello from the board\r\n", 22);
	expect_bytes(out, "hello from the board\r\n", 22);
	write_all(in, "to the board\n", 13);
	expect_bytes(pty.master, "to the board\n", 13);
	/* after the end of input the board may still talk: no timeout was given, so it keeps going */
	close(in);
	ck_assert(alive_after(pid, 200));
	write_all(pty.master, "still here\n", 11);
	expect_bytes(out, "still here\n", 11);
	close(pty.master);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), -ZTC_ERR_GONE);
	close(out);
}
END_TEST

START_TEST(test_binary_untouched)
{
	enum { N = 256 * 64 };
	unsigned char *data = malloc(N), *got = malloc(N);
	ztc_console_opts o;
	struct pty pty;
	int in, out;
	pid_t pid;

	pattern(data, N);
	ztc_console_opts_init(&o);
	pid = start_console(&pty, &o, &in, &out);
	/* board to output: CR, LF, XON, XOFF, NUL, 0xff, Ctrl-] ... all as sent */
	write_all(pty.master, data, N);
	read_exact(out, got, N);
	ck_assert(memcmp(data, got, N) == 0);
	/* input to board: the escape byte is data when the input is not a terminal */
	write_all(in, data, N);
	read_exact(pty.master, got, N);
	ck_assert(memcmp(data, got, N) == 0);
	close(in);
	close(pty.master);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), -ZTC_ERR_GONE);
	close(out);
	free(data);
	free(got);
}
END_TEST

/* The output stalls (a non-blocking pipe nobody reads): the console must hold back, not drop. */
START_TEST(test_slow_output_loses_nothing)
{
	enum { N = 4 * 1024 * 1024 };
	unsigned char *data = malloc(N), *got = malloc(N);
	size_t sent = 0, recvd = 0;
	ztc_console_opts o;
	long long deadline;
	struct pty pty;
	int out[2];
	pid_t pid;

	pattern(data, N);
	make_pty(&pty);
	make_pipe(out);
	ck_assert_int_eq(fcntl(out[1], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(fcntl(pty.master, F_SETFL, O_NONBLOCK), 0);
	ztc_console_opts_init(&o);
	pid = spawn_console(pty.path, NULL, &o, -1, out[1], (int[]){ pty.master, out[0] }, 2);
	close(out[1]);
	/* fill everything: pipe, console queue, pty */
	deadline = now_ms() + 500;
	while (now_ms() < deadline && sent < N) {
		ssize_t w = write(pty.master, data + sent, N - sent);

		if (w > 0)
			sent += (size_t)w;
		else
			usleep(1000);
	}
	ck_assert_msg(sent < N, "the writer was never held back");
	deadline = now_ms() + 10000;
	while (recvd < N) {
		struct pollfd pfd[2] = { { out[0], POLLIN, 0 }, { pty.master, sent < N ? POLLOUT : 0, 0 } };
		ssize_t r;

		ck_assert_msg(now_ms() < deadline, "stuck at %zu received, %zu sent", recvd, sent);
		poll(pfd, 2, 100);
		if (pfd[1].revents & POLLOUT) {
			ssize_t w = write(pty.master, data + sent, N - sent);

			if (w > 0)
				sent += (size_t)w;
		}
		/* read slowly, in small bites, so the output keeps blocking the console */
		r = read(out[0], got + recvd, recvd + 3000 <= N ? 3000 : N - recvd);
		if (r > 0)
			recvd += (size_t)r;
	}
	ck_assert(memcmp(data, got, N) == 0);
	close(pty.master);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), -ZTC_ERR_GONE);
	close(out[0]);
	free(data);
	free(got);
}
END_TEST

START_TEST(test_echo_not_a_terminal)
{
	ztc_console_opts o;
	struct pty pty;
	int in, out;
	pid_t pid;

	ztc_console_opts_init(&o);
	o.echo = 1;
	pid = start_console(&pty, &o, &in, &out);
	write_all(in, "ls\r", 3);
	expect_bytes(pty.master, "ls\r", 3);
	expect_bytes(out, "ls\r", 3); /* as typed: not a terminal, no CR mapping */
	write_all(pty.master, "ok\n", 3);
	expect_bytes(out, "ok\n", 3);
	close(in);
	close(pty.master);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), -ZTC_ERR_GONE);
	close(out);
}
END_TEST

/* A new terminal for the console's input (term), and its settings before the console runs (*orig): the
 * descriptor of its user's end. */
static int open_terminal(struct pty *term, struct termios *orig)
{
	int tfd;

	make_pty(term);
	tfd = open(term->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(tfd, 0);
	ck_assert_int_eq(tcgetattr(term->master, orig), 0);
	return tfd;
}

/* Input from a terminal: raw mode while running, escape sequence, echo, and the terminal restored. */
START_TEST(test_terminal_escape_echo_restore)
{
	struct termios orig, during, after;
	ztc_console_opts o;
	struct pty port, term;
	int tfd, out[2];
	char c;
	pid_t pid;

	make_pty(&port);
	tfd = open_terminal(&term, &orig);
	ck_assert_uint_ne(orig.c_lflag & ICANON, 0);
	make_pipe(out);
	ztc_console_opts_init(&o);
	o.echo = 1;
	pid = spawn_console(port.path, NULL, &o, tfd, out[1], (int[]){ port.master, term.master, out[0] }, 3);
	close(out[1]);
	wait_raw(term.master);
	ck_assert_int_eq(tcgetattr(term.master, &during), 0);
	ck_assert_uint_eq(during.c_oflag, orig.c_oflag); /* output processing kept */
	ck_assert_uint_eq(during.c_iflag & (ICRNL | IXON), 0);

	write_all(term.master, "ab\r", 3);
	expect_bytes(port.master, "ab\r", 3);
	expect_bytes(out[0], "ab\r\n", 4); /* Enter shown as a line break */
	write_all(term.master, "\x03", 1); /* Ctrl-C is for the board, not a signal */
	expect_bytes(port.master, "\x03", 1);
	write_all(term.master, "\x1d\x1d", 2); /* escape twice: one escape sent */
	expect_bytes(port.master, "\x1d", 1);
	write_all(term.master, "\x1dx", 2); /* escape and another key: both sent */
	expect_bytes(port.master, "\x1dx", 2);
	expect_bytes(out[0], "\x03\x1d\x1dx", 4);
	write_all(term.master, "\x1d", 1);
	ck_assert(alive_after(pid, 100)); /* a lone escape waits for the next key */
	write_all(term.master, "q", 1);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	ck_assert_int_eq(tcgetattr(term.master, &after), 0);
	ck_assert(same_termios(&orig, &after));
	/* nothing of the escape sequence went to the board */
	ck_assert_int_eq(fcntl(port.master, F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_lt(read(port.master, &c, 1), 1);
	close(tfd);
	close(term.master);
	close(port.master);
	close(out[0]);
}
END_TEST

START_TEST(test_terminal_restored_on_unplug)
{
	struct termios orig, after;
	ztc_console_opts o;
	struct pty port, term;
	int tfd, out[2];
	pid_t pid;

	make_pty(&port);
	tfd = open_terminal(&term, &orig);
	make_pipe(out);
	ztc_console_opts_init(&o);
	pid = spawn_console(port.path, NULL, &o, tfd, out[1], (int[]){ port.master, term.master, out[0] }, 3);
	close(out[1]);
	wait_raw(term.master);
	close(port.master);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), -ZTC_ERR_GONE);
	ck_assert_int_eq(tcgetattr(term.master, &after), 0);
	ck_assert(same_termios(&orig, &after));
	close(tfd);
	close(term.master);
	close(out[0]);
}
END_TEST

START_TEST(test_unplug)
{
	char buf[256] = "";
	ztc_console_opts o;
	struct pty pty;
	int out;
	pid_t pid;

	ztc_console_opts_init(&o);
	pid = start_console(&pty, &o, NULL, &out);
	write_all(pty.master, "booting\n", 8);
	read_until(out, buf, sizeof(buf), "booting\n");
	close(pty.master);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), -ZTC_ERR_GONE);
	close(out);
}
END_TEST

/* Same in-process, to see the error detail. */
START_TEST(test_unplug_message)
{
	ztc_serial_params p;
	ztc_console_opts o;
	struct pty pty;
	ztc_ctx *ctx;
	int fd, null = open("/dev/null", O_WRONLY | O_CLOEXEC);

	make_pty(&pty);
	ztc_serial_params_init(&p);
	ztc_console_opts_init(&o);
	ck_assert_int_eq(ztc_ctx_new(&ctx), 0);
	ck_assert_int_eq(ztc_serial_open(ctx, pty.path, &p, &fd), 0);
	close(pty.master);
	ck_assert_int_eq(ztc_console_run(ctx, fd, -1, null, &o), ZTC_ERR_GONE);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "the serial port hung up: the board was disconnected");
	close(fd);
	close(null);
	ztc_ctx_free(ctx);
}
END_TEST

static void check_stamped(const char *text, const char *const *lines, int n)
{
	char re[512] = "^";
	regex_t rx;

	for (int i = 0; i < n; i++) {
		strcat(re, "\\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}\\] ");
		strcat(re, lines[i]);
		strcat(re, "\n");
	}
	strcat(re, "$");
	ck_assert_int_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	ck_assert_msg(regexec(&rx, text, 0, NULL, 0) == 0, "'%s' does not match %s", text, re);
	regfree(&rx);
}

START_TEST(test_timestamp_and_log)
{
	static const char *const lines[] = { "one", "two", "", "three" };
	char out_text[512] = "", log_text[512], path[128];
	ztc_console_opts o;
	struct pty pty;
	int out, lfd;
	ssize_t n;
	pid_t pid;

	make_tmpdir();
	snprintf(path, sizeof(path), "%s/console.log", tmpdir);
	lfd = open(path, O_WRONLY | O_CREAT, 0644);
	write_all(lfd, "earlier\n", 8);
	close(lfd);
	ztc_console_opts_init(&o);
	o.timestamp = 1;
	o.log_path = path;
	pid = start_console(&pty, &o, NULL, &out);
	write_all(pty.master, "one\ntw", 6);
	read_until(out, out_text, sizeof(out_text), "tw");
	/* the rest of a line arrives later: no second stamp in the middle of it */
	write_all(pty.master, "o\n\nthree\n", 9);
	read_until(out, out_text, sizeof(out_text), "three\n");
	close(pty.master);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), -ZTC_ERR_GONE);
	read_rest(out, out_text, sizeof(out_text));
	check_stamped(out_text, lines, 4);
	lfd = open(path, O_RDONLY);
	n = read(lfd, log_text, sizeof(log_text) - 1);
	ck_assert_int_gt(n, 0);
	log_text[n] = '\0';
	close(lfd);
	ck_assert_int_eq(strncmp(log_text, "earlier\n", 8), 0); /* appended */
	ck_assert_str_eq(log_text + 8, out_text);
	close(out);
	remove_tmpdir();
}
END_TEST

START_TEST(test_log_binary_without_timestamp)
{
	enum { N = 256 * 16 };
	unsigned char data[N], got[N + 1];
	char path[128];
	ztc_console_opts o;
	struct pty pty;
	int out, lfd;
	pid_t pid;

	pattern(data, N);
	make_tmpdir();
	snprintf(path, sizeof(path), "%s/binary.log", tmpdir);
	ztc_console_opts_init(&o);
	o.log_path = path;
	pid = start_console(&pty, &o, NULL, &out);
	write_all(pty.master, data, N);
	read_exact(out, got, N);
	close(pty.master);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), -ZTC_ERR_GONE);
	lfd = open(path, O_RDONLY);
	ck_assert_int_eq(read(lfd, got, N + 1), N);
	ck_assert(memcmp(data, got, N) == 0);
	close(lfd);
	close(out);
	remove_tmpdir();
}
END_TEST

START_TEST(test_log_unwritable)
{
	ztc_serial_params p;
	ztc_console_opts o;
	struct pty pty;
	ztc_ctx *ctx;
	int fd;

	make_pty(&pty);
	ztc_serial_params_init(&p);
	ztc_console_opts_init(&o);
	o.log_path = "/nonexistent-ztc-dir/console.log";
	ck_assert_int_eq(ztc_ctx_new(&ctx), 0);
	ck_assert_int_eq(ztc_serial_open(ctx, pty.path, &p, &fd), 0);
	ck_assert_int_eq(ztc_console_run(ctx, fd, -1, STDERR_FILENO, &o), ZTC_ERR_IO);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx),
			 "cannot open the log file /nonexistent-ztc-dir/console.log: No such file or directory");
	ck_assert_int_eq(ztc_console_run(ctx, -1, -1, STDERR_FILENO, &o), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_console_run(ctx, fd, -1, fd, &o), ZTC_ERR_ARG);
	close(fd);
	close(pty.master);
	ztc_ctx_free(ctx);
}
END_TEST

/* Input not a terminal: sent until EOF, then the board's output until timeout_ms of silence. */
START_TEST(test_eof_then_timeout)
{
	char buf[256] = "";
	ztc_console_opts o;
	struct pty pty;
	int in[2], out[2];
	long long t_last;
	pid_t pid;

	make_pty(&pty);
	make_pipe(in);
	make_pipe(out);
	write_all(in[1], "ping\n", 5);
	close(in[1]);
	ztc_console_opts_init(&o);
	o.timeout_ms = 500;
	pid = spawn_console(pty.path, NULL, &o, in[0], out[1], (int[]){ pty.master, out[0] }, 2);
	close(in[0]);
	close(out[1]);
	expect_bytes(pty.master, "ping\n", 5);
	/* the board answers after a while, each line resetting the silence clock */
	for (int i = 0; i < 3; i++) {
		usleep(300 * 1000);
		ck_assert(waitpid(pid, NULL, WNOHANG) == 0);
		write_all(pty.master, "pong\n", 5);
	}
	t_last = now_ms();
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	ck_assert_int_ge(now_ms() - t_last, 450);
	ck_assert_int_lt(now_ms() - t_last, 2000);
	read_rest(out[0], buf, sizeof(buf));
	ck_assert_str_eq(buf, "pong\npong\npong\n");
	close(pty.master);
	close(out[0]);
}
END_TEST

/* ---- the ztc command -------------------------------------------------------------------------------- */

/* Run ztc ARGS. term: when set, ztc runs in a new session with term as its controlling terminal and
 * its stdin, stdout and stderr; otherwise in_fd, out_fd, err_fd (-1 for /dev/null). */
static pid_t spawn_ztc(const char *term, int in_fd, int out_fd, int err_fd, const int *others, int nothers,
		       char **args)
{
	pid_t pid = fork_child();

	if (pid == 0) {
		char *argv[16] = { (char *)"ztc" };
		int null = open("/dev/null", O_RDWR), n = 1;

		close_fds(others, nothers);
		if (term) {
			int t;

			setsid();
			t = open(term, O_RDWR); /* a session leader's first tty: its controlling terminal */
			if (t < 0)
				_exit(120);
			in_fd = out_fd = err_fd = t;
		}
		dup2(in_fd >= 0 ? in_fd : null, 0);
		dup2(out_fd >= 0 ? out_fd : null, 1);
		dup2(err_fd >= 0 ? err_fd : null, 2);
		for (; *args && n < 15; args++)
			argv[n++] = *args;
		argv[n] = NULL;
		setenv("ZTC_HOME", "/nonexistent-ztc-home", 1); /* never the real home */
		execv(ZTC_BIN, argv);
		_exit(127);
	}
	return pid;
}

/* Run ztc ARGS with a new terminal (term; its settings before in *orig unless orig is NULL) as its
 * controlling terminal and its stdin, stdout and stderr; port is the board's end of the serial port. */
static pid_t spawn_ztc_on_terminal(struct pty *term, struct termios *orig, const struct pty *port, char **args)
{
	make_pty(term);
	if (orig)
		ck_assert_int_eq(tcgetattr(term->master, orig), 0);
	return spawn_ztc(term->path, -1, -1, -1, (int[]){ port->master, term->master }, 2, args);
}

/* Run ztc ARGS with stdin in (-1: /dev/null), its stdout and stderr into pipes whose reading ends go to
 * *out and *err; board (the board's end of the serial port) is closed in ztc. */
static pid_t spawn_ztc_piped(int board, int in, int *out, int *err, char **args)
{
	int op[2], ep[2];
	pid_t pid;

	make_pipe(op);
	make_pipe(ep);
	pid = spawn_ztc(NULL, in, op[1], ep[1], (int[]){ board, op[0], ep[0] }, 3, args);
	close(op[1]);
	close(ep[1]);
	*out = op[0];
	*err = ep[0];
	return pid;
}

static const int cli_signals[] = { SIGTERM, SIGINT, SIGHUP };

START_TEST(test_cli_terminal_restored_after_signal)
{
	struct termios orig, after;
	struct pty port, term;
	char text[1024] = "";
	pid_t pid;

	make_pty(&port);
	pid = spawn_ztc_on_terminal(&term, &orig, &port, (char *[]){ "device", "open", "--port", port.path, NULL });
	read_until(term.master, text, sizeof(text), "type Ctrl-] then q to quit\r\n");
	ck_assert_ptr_nonnull(strstr(text, "ztc: connected to "));
	wait_raw(term.master);
	write_all(term.master, "x\x03", 2); /* Ctrl-C typed: data for the board */
	expect_bytes(port.master, "x\x03", 2);
	write_all(port.master, "board\n", 6);
	text[0] = '\0';
	read_until(term.master, text, sizeof(text), "board\r\n"); /* the terminal's own ONLCR, kept */
	kill(pid, cli_signals[_i]);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	ck_assert_int_eq(tcgetattr(term.master, &after), 0);
	ck_assert_msg(same_termios(&orig, &after), "terminal not restored after signal %d", cli_signals[_i]);
	close(term.master);
	close(port.master);
}
END_TEST

START_TEST(test_cli_escape_quits)
{
	struct termios orig, after;
	struct pty port, term;
	char text[1024] = "";
	pid_t pid;

	make_pty(&port);
	pid = spawn_ztc_on_terminal(&term, &orig, &port,
				    (char *[]){ "device", "open", "--port", port.path, "--echo", NULL });
	read_until(term.master, text, sizeof(text), "quit\r\n");
	wait_raw(term.master);
	write_all(term.master, "hi\r", 3);
	expect_bytes(port.master, "hi\r", 3);
	/* --echo shows Enter as CR LF, and the terminal's ONLCR makes that CR CR LF */
	read_until(term.master, text, sizeof(text), "hi\r\r\n");
	write_all(term.master, "\x1dq", 2);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	ck_assert_int_eq(tcgetattr(term.master, &after), 0);
	ck_assert(same_termios(&orig, &after));
	close(term.master);
	close(port.master);
}
END_TEST

START_TEST(test_cli_stdin_eof_then_timeout)
{
	char out_text[256] = "", err_text[512] = "";
	struct pty port;
	int in[2], out, err;
	long long t_last;
	pid_t pid;

	make_pty(&port);
	make_pipe(in);
	write_all(in[1], "AT\r\n", 4);
	close(in[1]);
	pid = spawn_ztc_piped(port.master, in[0], &out, &err,
			      (char *[]){ "device", "open", "--port", port.path, "--timeout", "0.5", NULL });
	close(in[0]);
	expect_bytes(port.master, "AT\r\n", 4);
	write_all(port.master, "OK\r\n", 4);
	t_last = now_ms();
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	ck_assert_int_ge(now_ms() - t_last, 450);
	read_rest(out, out_text, sizeof(out_text));
	ck_assert_str_eq(out_text, "OK\r\n");
	read_rest(err, err_text, sizeof(err_text));
	ck_assert_msg(strncmp(err_text, "ztc: connected to ", 18) == 0, "stderr: %s", err_text);
	ck_assert_ptr_null(strstr(err_text, "Ctrl-]")); /* no escape hint without a terminal */
	close(port.master);
	close(out);
	close(err);
}
END_TEST

/* The escape menu on a terminal: each key does its one thing; the modem lines and the break, which a
 * pty cannot hold, are seen through the modem-lines stand-in (tests/tools/modem-lines.c). */
START_TEST(test_cli_escape_menu)
{
	char text[2048] = "", rec[256] = "", recpath[] = "/tmp/ztc-modem.XXXXXX";
	struct pty port, term;
	pid_t pid;
	int rfd = mkstemp(recpath);

	ck_assert_int_ge(rfd, 0);
	make_pty(&port);
	make_pty(&term);
	setenv("MODEM_RECORD", recpath, 1);
	setenv("LD_PRELOAD", MODEM_LINES_SO, 1);
	pid = spawn_ztc(term.path, -1, -1, -1, (int[]){ port.master, term.master, rfd }, 3,
			(char *[]){ "device", "open", port.path, "--baud", "74880", NULL });
	unsetenv("LD_PRELOAD");
	unsetenv("MODEM_RECORD");
	read_until(term.master, text, sizeof(text), "quit\r\n");
	ck_assert_msg(strstr(text, "(74880 8N1); Ctrl-] then ? lists the keys, type Ctrl-] then q to quit"),
		      "%s", text);
	wait_raw(term.master);
	/* a rate without a B constant, held by the port while the console runs */
	ck_assert_int_eq(test_tty_ospeed(port.master), 74880);
	write_all(term.master, "\x1d?", 2);
	read_until(term.master, text, sizeof(text), "r toggle RTS, ? this list");
	write_all(term.master, "\x1d" "d", 2);
	read_until(term.master, text, sizeof(text), "ztc: DTR off\r\n");
	write_all(term.master, "\x1dr", 2);
	read_until(term.master, text, sizeof(text), "ztc: RTS off\r\n");
	write_all(term.master, "\x1d" "d", 2);
	read_until(term.master, text, sizeof(text), "ztc: DTR on\r\n");
	write_all(term.master, "ab\x1d" "b", 4);
	read_until(term.master, text, sizeof(text), "ztc: break sent\r\n");
	expect_bytes(port.master, "ab", 2);
	/* any other key goes to the board after the escape byte; escape twice sends one */
	write_all(term.master, "\x1dx\x1d\x1d", 4);
	expect_bytes(port.master, "\x1dx\x1d", 3);
	write_all(term.master, "\x1dq", 2);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	read_rest(rfd, rec, sizeof(rec));
	ck_assert_str_eq(rec, "TIOCMSET DTR=0 RTS=1\nTIOCMSET DTR=0 RTS=0\nTIOCMSET DTR=1 RTS=0\nBREAK\n");
	close(rfd);
	unlink(recpath);
	close(term.master);
	close(port.master);
}
END_TEST

/* On a real pty, which has no modem lines, the toggle says so instead of pretending. */
START_TEST(test_cli_escape_no_modem_lines)
{
	char text[2048] = "";
	struct pty port, term;
	pid_t pid;

	make_pty(&port);
	pid = spawn_ztc_on_terminal(&term, NULL, &port,
				    (char *[]){ "device", "open", port.path, "--escape", "x", NULL });
	read_until(term.master, text, sizeof(text), "type Ctrl-X then q to quit\r\n");
	wait_raw(term.master);
	write_all(term.master, "\x18" "d", 2);
	read_until(term.master, text, sizeof(text), "DTR is unchanged\r\n");
	/* Ctrl-] is plain data with --escape x */
	write_all(term.master, "\x1dq", 2);
	expect_bytes(port.master, "\x1dq", 2);
	write_all(term.master, "\x18q", 2);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	close(term.master);
	close(port.master);
}
END_TEST

/* --eol: each newline of a piped input goes out as asked. */
static const struct {
	const char *eol, *sent;
} eols[] = { { "crlf", "a\r\nb\r\n" }, { "cr", "a\rb\r" }, { "lf", "a\nb\n" } };

START_TEST(test_cli_eol)
{
	struct pty port;
	int in[2];
	pid_t pid;

	make_pty(&port);
	make_pipe(in);
	write_all(in[1], "a\nb\n", 4);
	close(in[1]);
	pid = spawn_ztc(NULL, in[0], -1, -1, (int[]){ port.master }, 1,
			(char *[]){ "device", "open", port.path, "--eol", (char *)eols[_i].eol, "--timeout", "0.3",
				    NULL });
	close(in[0]);
	expect_bytes(port.master, eols[_i].sent, strlen(eols[_i].sent));
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	close(port.master);
}
END_TEST

/* --timestamp=FMT: the prefix of each received line. */
static const struct {
	const char *fmt, *re;
} stamps[] = {
	{ "--timestamp", "^\\[[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}\\] one\r\n" },
	{ "--timestamp=time", "^\\[[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}\\] one\r\n" },
	{ "--timestamp=iso", "^\\[20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}[-+][0-9]{4}\\] one\r\n" },
	{ "--timestamp=ms", "^\\[ +[0-9]+\\] one\r\n\\[ +[0-9]*[1-9][0-9]{2}\\] two\r\n" },
	{ "--timestamp=delta", "^\\[\\+ +0\\.000\\] one\r\n\\[\\+ +0\\.[2-9][0-9]{2}\\] two\r\n" },
};

START_TEST(test_cli_timestamp_formats)
{
	char out_text[512] = "", err_text[512] = "";
	struct pty port;
	int out, err;
	regex_t re;
	pid_t pid;

	make_pty(&port);
	pid = spawn_ztc_piped(port.master, -1, &out, &err,
			      (char *[]){ "device", "open", port.path, (char *)stamps[_i].fmt, "--timeout", "0.6",
					  NULL });
	/* The lines go once ztc holds the port (a slow start, under valgrind, would read both at once). */
	read_until(err, err_text, sizeof(err_text), "connected to ");
	usleep(100 * 1000);
	write_all(port.master, "one\r\n", 5);
	usleep(300 * 1000);
	write_all(port.master, "two\r\n", 5);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	read_rest(out, out_text, sizeof(out_text));
	ck_assert_int_eq(regcomp(&re, stamps[_i].re, REG_EXTENDED), 0);
	ck_assert_msg(regexec(&re, out_text, 0, NULL, 0) == 0, "%s: %s", stamps[_i].fmt, out_text);
	regfree(&re);
	close(port.master);
	close(out);
	close(err);
}
END_TEST

/* Run ztc to its end with stdin /dev/null; returns the exit status and what it wrote on stderr. */
static int run_ztc(char **args, char *err_text, size_t size)
{
	int err[2];
	pid_t pid;
	int st;

	make_pipe(err);
	pid = spawn_ztc(NULL, -1, -1, err[1], (int[]){ err[0] }, 1, args);
	close(err[1]);
	err_text[0] = '\0';
	read_rest(err[0], err_text, size);
	close(err[0]);
	st = wait_exit(pid, WAIT_MS);
	return st;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

START_TEST(test_cli_errors)
{
	char err[1024], want[256];
	struct pty port;
	pid_t holder;

	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", "--port", "/dev/ttyZTCnonexistent", NULL },
				 err, sizeof(err)), 1);
	ck_assert_str_eq(err, "ztc: serial port /dev/ttyZTCnonexistent not found: is the board connected?\n");

	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", "--port", "/dev/null", NULL }, err, sizeof(err)), 1);
	ck_assert_str_eq(err, "ztc: /dev/null is not a serial port\n");

	make_pty(&port);
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", "--port", port.path, "--baud", "4000001", NULL },
				 err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "ztc: --baud needs a rate from 50 to 4000000, not '4000001'\n") == err,
		      "%s", err);
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", "--port", port.path, "--baud", "fast", NULL },
				 err, sizeof(err)), 2);
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", "--port", port.path, "--timeout", "0", NULL },
				 err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "ztc: --timeout needs a positive number of seconds, not '0'\n") == err, "%s", err);
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", "--port", port.path, "--timeout", "-1", NULL },
				 err, sizeof(err)), 2);
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", "--port", port.path, "--bogus", NULL }, err,
				 sizeof(err)), 2);
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", port.path, "--eol", "lfcr", NULL }, err,
				 sizeof(err)), 2);
	ck_assert_msg(strstr(err, "ztc: --eol takes cr, lf or crlf, not 'lfcr'\n") == err, "%s", err);
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", port.path, "--escape", "ab", NULL }, err,
				 sizeof(err)), 2);
	ck_assert_msg(strstr(err, "ztc: --escape takes a key X for Ctrl-X") == err, "%s", err);
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", port.path, "--timestamp=utc", NULL }, err,
				 sizeof(err)), 2);
	ck_assert_msg(strstr(err, "ztc: --timestamp takes time, iso, ms or delta, not 'utc'\n") == err, "%s", err);
	/* A log that cannot be opened fails before the port is touched: nothing connected, nothing sent. */
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", port.path, "--log", "/nonexistent-dir/x.log", NULL },
				 err, sizeof(err)), 1);
	ck_assert_str_eq(err, "ztc: cannot open the log file /nonexistent-dir/x.log: No such file or directory\n");
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", NULL }, err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "ztc: missing ALIAS or PORT\n") == err, "%s", err);
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", "myboard", "--port", port.path, NULL }, err,
				 sizeof(err)), 2);
	ck_assert_msg(strstr(err, "ztc: give either ALIAS or --port PATH, not both\n") == err, "%s", err);

	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", "--port", port.path, "--log",
					     "/nonexistent-ztc-dir/x.log", NULL }, err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "ztc: cannot open the log file /nonexistent-ztc-dir/x.log: No such file or "
				  "directory\n"), "%s", err);

	holder = hold_port(port.path);
	ck_assert_int_eq(run_ztc((char *[]){ "device", "open", "--port", port.path, NULL }, err, sizeof(err)), 1);
	snprintf(want, sizeof(want), "ztc: %s is in use by process %d (", port.path, (int)holder);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	ck_assert_int_eq(count_lines(err), 1);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	close(port.master);
}
END_TEST

START_TEST(test_cli_unplug)
{
	char out_text[64] = "", err_text[512] = "", want[128];
	struct pty port;
	int out, err;
	pid_t pid;

	make_pty(&port);
	pid = spawn_ztc_piped(port.master, -1, &out, &err,
			      (char *[]){ "-q", "device", "open", "--port", port.path, NULL });
	/* the console is up once something goes through */
	write_all(port.master, "up\n", 3);
	read_until(out, out_text, sizeof(out_text), "up\n");
	close(port.master);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 1);
	read_rest(err, err_text, sizeof(err_text));
	snprintf(want, sizeof(want), "ztc: %s: the board was disconnected\n", port.path);
	ck_assert_str_eq(err_text, want);
	close(out);
	close(err);
}
END_TEST

/* Run `ztc device open --port LINK --reconnect` with LINK a symlink (as /dev/serial/by-id gives) in a new
 * tmpdir to a new pty (*a); link gets LINK, *out and *err ztc's stdout and stderr as in spawn_ztc_piped. */
static pid_t spawn_ztc_reconnecting(struct pty *a, char *link, size_t size, int *out, int *err)
{
	make_tmpdir();
	snprintf(link, size, "%s/ttyBOARD", tmpdir);
	make_pty(a);
	ck_assert_int_eq(symlink(a->path, link), 0);
	return spawn_ztc_piped(a->master, -1, out, err,
			       (char *[]){ "device", "open", "--port", link, "--reconnect", NULL });
}

/* Unplug the board behind link: the link goes first, as udev removes it, so the pty number, free again,
 * cannot lead ztc to another test's pty. */
static void unplug_link(const char *link, struct pty *a)
{
	ck_assert_int_eq(unlink(link), 0);
	close(a->master);
}

/* --reconnect: the port (a symlink, as /dev/serial/by-id gives) goes away and comes back. */
START_TEST(test_cli_reconnect)
{
	char out_text[256] = "", err_text[1024] = "", link[128], tmp[128];
	struct pty a, b;
	int out, err;
	pid_t pid;

	pid = spawn_ztc_reconnecting(&a, link, sizeof(link), &out, &err);
	snprintf(tmp, sizeof(tmp), "%s/ttyBOARD.new", tmpdir);
	write_all(a.master, "first\n", 6);
	read_until(out, out_text, sizeof(out_text), "first\n");
	unplug_link(link, &a);
	read_until(err, err_text, sizeof(err_text), "waiting for it to come back (Ctrl-C quits)\n");
	ck_assert(alive_after(pid, 300));
	make_pty(&b);
	ck_assert_int_eq(symlink(b.path, tmp), 0);
	ck_assert_int_eq(rename(tmp, link), 0);
	read_until(err, err_text, sizeof(err_text), "reconnected to ");
	write_all(b.master, "second\n", 7);
	read_until(out, out_text, sizeof(out_text), "second\n");
	ck_assert_str_eq(out_text, "first\nsecond\n");
	kill(pid, SIGTERM);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	close(b.master);
	close(out);
	close(err);
	remove_tmpdir();
}
END_TEST

START_TEST(test_cli_signal_while_waiting)
{
	char out_text[64] = "", err_text[1024] = "", link[128];
	struct pty a;
	int out, err;
	pid_t pid;

	pid = spawn_ztc_reconnecting(&a, link, sizeof(link), &out, &err);
	write_all(a.master, "x\n", 2);
	read_until(out, out_text, sizeof(out_text), "x\n");
	unplug_link(link, &a);
	read_until(err, err_text, sizeof(err_text), "waiting for it to come back");
	kill(pid, SIGINT);
	ck_assert_int_eq(wait_exit(pid, WAIT_MS), 0);
	close(out);
	close(err);
	remove_tmpdir();
}
END_TEST

static Suite *console_suite(void)
{
	Suite *s = suite_create("console");
	TCase *tc;

	tc = tcase_create("serial");
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, test_settings_seen_on_port, 0, sizeof(settings) / sizeof(*settings));
	tcase_add_loop_test(tc, test_format_refused, 0, sizeof(refused) / sizeof(*refused));
	tcase_add_test(tc, test_configure_changes_speed);
	tcase_add_test(tc, test_defaults);
	tcase_add_loop_test(tc, test_bad_settings, 0, sizeof(bad_settings) / sizeof(*bad_settings));
	tcase_add_test(tc, test_missing_port);
	tcase_add_test(tc, test_lock_conflict);
	tcase_add_test(tc, test_find_holder_by_fd);
	suite_add_tcase(s, tc);

	tc = tcase_create("loop");
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_bytes_both_ways);
	tcase_add_test(tc, test_binary_untouched);
	tcase_add_test(tc, test_slow_output_loses_nothing);
	tcase_add_test(tc, test_echo_not_a_terminal);
	tcase_add_test(tc, test_terminal_escape_echo_restore);
	tcase_add_test(tc, test_terminal_restored_on_unplug);
	tcase_add_test(tc, test_unplug);
	tcase_add_test(tc, test_unplug_message);
	tcase_add_test(tc, test_timestamp_and_log);
	tcase_add_test(tc, test_log_binary_without_timestamp);
	tcase_add_test(tc, test_log_unwritable);
	tcase_add_test(tc, test_eof_then_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("cli");
	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, test_cli_terminal_restored_after_signal, 0,
			    sizeof(cli_signals) / sizeof(*cli_signals));
	tcase_add_test(tc, test_cli_escape_quits);
	tcase_add_test(tc, test_cli_escape_menu);
	tcase_add_test(tc, test_cli_escape_no_modem_lines);
	tcase_add_loop_test(tc, test_cli_eol, 0, sizeof(eols) / sizeof(*eols));
	tcase_add_loop_test(tc, test_cli_timestamp_formats, 0, sizeof(stamps) / sizeof(*stamps));
	tcase_add_test(tc, test_cli_stdin_eof_then_timeout);
	tcase_add_test(tc, test_cli_errors);
	tcase_add_test(tc, test_cli_unplug);
	tcase_add_test(tc, test_cli_reconnect);
	tcase_add_test(tc, test_cli_signal_while_waiting);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	return check_run(console_suite(), NULL);
}
