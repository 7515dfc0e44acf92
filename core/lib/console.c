/* console.c: the serial console loop: port to output, input to port, terminal kept sane. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "ztc/console.h"

#define OUT_CAP (256 * 1024) /* device output waiting for out_fd */
#define TX_CAP (64 * 1024)   /* input waiting for the port */
#define IN_CHUNK 4096
#define TS_MAX 40            /* the longest time prefix, "[2026-12-07T06:40:00.123+0100] " */
#define DRAIN_MS 2000        /* at the end, how long a blocked output may stall before giving up */
#define OUTPUT_CLOSED (-1000) /* internal: the reader of out_fd went away (EPIPE), a normal end */

/* A byte queue written at the tail and consumed at the head; reset to the start when empty, so in
 * the usual case (each write takes everything) no byte is ever moved. */
struct queue {
	unsigned char *p;
	size_t cap, head, tail;
};

static size_t q_len(const struct queue *q)
{
	return q->tail - q->head;
}

static size_t q_room(struct queue *q)
{
	if (q->head == q->tail)
		q->head = q->tail = 0;
	else if (q->head > 0 && q->cap - q->tail < q->cap / 4) {
		memmove(q->p, q->p + q->head, q->tail - q->head);
		q->tail -= q->head;
		q->head = 0;
	}
	return q->cap - q->tail;
}

static void q_put(struct queue *q, const void *data, size_t n)
{
	memcpy(q->p + q->tail, data, n);
	q->tail += n;
}

static void q_putc(struct queue *q, unsigned char c)
{
	q->p[q->tail++] = c;
}

/* Signals are turned into a byte on a pipe that wakes poll(); the handler touches nothing else.
 * Being process-wide, this is valid for one console at a time. */
static volatile sig_atomic_t got_signal;
static int sig_wfd = -1;
static const int handled_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define NSIG_HANDLED (sizeof(handled_signals) / sizeof(*handled_signals))

static void on_signal(int signo)
{
	int e = errno;
	char c = (char)signo;

	got_signal = signo;
	if (sig_wfd >= 0 && write(sig_wfd, &c, 1) < 0) {
		/* full pipe: got_signal is enough */
	}
	errno = e;
}

struct console {
	ztc_ctx *ctx;
	const ztc_console_opts *o;
	int port, in, out, logfd;
	bool tty, in_open, escape_pending, line_start, out_blocked, quit;
	struct queue outq, txq;
	long long last_activity; /* ms, monotonic: last byte from the device, or end of input */
	long long started, last_line; /* ms, monotonic: for the ms and delta time prefixes */
	int sig_rfd;
	/* what to put back */
	int port_flags;
	bool tty_saved, sigs_saved;
	struct termios saved_tio;
	struct sigaction saved_sa[NSIG_HANDLED], saved_pipe;
	sigset_t saved_mask;
};

static bool signalled(const struct console *c)
{
	return c->o->handle_signals && got_signal;
}

static int write_all(int fd, const void *data, size_t n)
{
	const char *p = data;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write what out_fd takes now. 1 when the queue is empty, 0 when it is blocked, <0 on failure. */
static int flush_out(struct console *c)
{
	while (q_len(&c->outq) > 0) {
		ssize_t w = write(c->out, c->outq.p + c->outq.head, q_len(&c->outq));

		if (w < 0) {
			if (errno == EINTR) {
				if (signalled(c))
					return 0;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				c->out_blocked = true;
				return 0;
			}
			if (errno == EPIPE)
				return OUTPUT_CLOSED;
			return ztc_fail(c->ctx, ZTC_ERR_IO, "cannot write the console output: %s", strerror(errno));
		}
		c->outq.head += (size_t)w;
	}
	c->out_blocked = false;
	return 1;
}

static int log_bytes(struct console *c, const void *data, size_t n)
{
	if (c->logfd < 0 || n == 0)
		return 0;
	if (write_all(c->logfd, data, n) < 0)
		return ztc_fail(c->ctx, ZTC_ERR_IO, "cannot write the log file %s: %s", c->o->log_path,
				strerror(errno));
	return 0;
}

/* The prefix of a line that starts now, in the format the options ask for; its length. */
static size_t format_time(struct console *c, char buf[TS_MAX + 1])
{
	struct timespec ts;
	struct tm tm;
	long long now = ztc_now_ms(), d;
	char zone[8];
	int n;

	switch (c->o->timestamp) {
	case ZTC_CONSOLE_TS_MS:
		n = snprintf(buf, TS_MAX + 1, "[%8lld] ", now - c->started);
		break;
	case ZTC_CONSOLE_TS_DELTA:
		d = c->last_line ? now - c->last_line : 0;
		n = snprintf(buf, TS_MAX + 1, "[+%4lld.%03lld] ", d / 1000, d % 1000);
		break;
	default:
		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		if (c->o->timestamp == ZTC_CONSOLE_TS_ISO) {
			strftime(zone, sizeof(zone), "%z", &tm);
			n = snprintf(buf, TS_MAX + 1, "[%04d-%02d-%02dT%02d:%02d:%02d.%03d%s] ", tm.tm_year + 1900,
				     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				     (int)(ts.tv_nsec / 1000000), zone);
		} else {
			n = snprintf(buf, TS_MAX + 1, "[%02d:%02d:%02d.%03d] ", tm.tm_hour, tm.tm_min, tm.tm_sec,
				     (int)(ts.tv_nsec / 1000000));
		}
	}
	c->last_line = now;
	return n < 0 ? 0 : (size_t)n > TS_MAX ? TS_MAX : (size_t)n;
}

/* Copy received bytes into the output queue with a time prefix at the start of each line. The caller
 * made room for the worst case, a prefix before every byte. */
static int put_timestamped(struct console *c, const unsigned char *data, size_t n)
{
	size_t start = c->outq.tail, tslen = 0;
	char ts[TS_MAX + 1];

	for (size_t i = 0; i < n; i++) {
		if (c->line_start) {
			/* One time for the lines of a chunk: they arrived together. */
			if (!tslen)
				tslen = format_time(c, ts);
			q_put(&c->outq, ts, tslen);
		}
		q_putc(&c->outq, data[i]);
		c->line_start = data[i] == '\n';
	}
	return log_bytes(c, c->outq.p + start, c->outq.tail - start);
}

/* Read what the port has, as long as the output queue can take it. Returns 0, or ZTC_ERR_GONE when
 * the port hung up, or another error. */
/* After a read or write on the port failed (errno): 1 to try again (interrupted, no signal to act on), 0 to
 * wait for the port (or act on the signal), ZTC_ERR_GONE when it went away (unplugged), else the error. */
static int port_error(struct console *c, const char *what)
{
	if (errno == EINTR)
		return signalled(c) ? 0 : 1;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	if (errno == EIO || errno == ENXIO || errno == ENODEV)
		return ZTC_ERR_GONE;
	return ztc_fail(c->ctx, ZTC_ERR_IO, "cannot %s the serial port: %s", what, strerror(errno));
}

static int read_port(struct console *c)
{
	unsigned char tmp[IN_CHUNK];

	for (;;) {
		size_t room = q_room(&c->outq), want;
		ssize_t n;
		int rc;

		if (c->o->timestamp)
			want = room / (TS_MAX + 1) < sizeof(tmp) ? room / (TS_MAX + 1) : sizeof(tmp);
		else
			want = room;
		if (want == 0)
			return 0;
		n = read(c->port, c->o->timestamp ? tmp : c->outq.p + c->outq.tail, want);
		if (n < 0) {
			rc = port_error(c, "read");
			if (rc == 1)
				continue;
			return rc;
		}
		if (n == 0) /* a hung-up tty reads as end of file */
			return ZTC_ERR_GONE;
		c->last_activity = ztc_now_ms();
		if (c->o->timestamp) {
			rc = put_timestamped(c, tmp, (size_t)n);
		} else {
			rc = log_bytes(c, c->outq.p + c->outq.tail, (size_t)n);
			c->outq.tail += (size_t)n;
		}
		if (rc < 0)
			return rc;
		/* Hand each chunk on at once: this keeps latency low, and the queue only grows while the
		 * output is slower than the port. */
		if (!c->out_blocked) {
			rc = flush_out(c);
			if (rc < 0)
				return rc;
		}
	}
}

static int write_port(struct console *c)
{
	while (q_len(&c->txq) > 0) {
		ssize_t w = write(c->port, c->txq.p + c->txq.head, q_len(&c->txq));
		int rc;

		if (w < 0) {
			rc = port_error(c, "write to");
			if (rc == 1)
				continue;
			return rc;
		}
		c->txq.head += (size_t)w;
	}
	if (!c->in_open)
		c->last_activity = ztc_now_ms(); /* the silence timeout starts once the input has been sent */
	return 0;
}

static void echo_byte(struct console *c, unsigned char b)
{
	if (!c->o->echo)
		return;
	/* Enter gives CR in raw mode: show it as a line break, as a terminal in cooked mode would. */
	if (c->tty && b == '\r') {
		q_put(&c->outq, "\r\n", 2);
		return;
	}
	q_putc(&c->outq, b);
}

static void send_byte(struct console *c, unsigned char b)
{
	q_putc(&c->txq, b);
	echo_byte(c, b);
}

/* A typed or piped byte: a newline (LF, or CR at a terminal, where Enter gives CR) goes out as --eol
 * says. Each byte becomes at most two in each queue (input_budget). */
static void send_input(struct console *c, unsigned char b)
{
	static const char *const eols[] = { [ZTC_CONSOLE_EOL_CR] = "\r", [ZTC_CONSOLE_EOL_LF] = "\n",
					    [ZTC_CONSOLE_EOL_CRLF] = "\r\n" };
	const char *eol;

	if (c->o->eol <= 0 || !(b == '\n' || (c->tty && b == '\r'))) {
		send_byte(c, b);
		return;
	}
	eol = eols[c->o->eol];
	q_put(&c->txq, eol, strlen(eol));
	echo_byte(c, b);
}

static void notice(struct console *c, const char *fmt, ...) ZTC_PRINTF(2, 3);
static void notice(struct console *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->o->notice)
		c->o->notice(c->o->notice_data, msg);
	else
		ztc_info(c->ctx, "%s", msg);
}

/* 'd' and 'r' of the escape menu. A port without modem lines (a pty) says so. */
static void toggle_line(struct console *c, int bit, const char *name)
{
	int bits;

	if (ioctl(c->port, TIOCMGET, &bits) < 0) {
		notice(c, "cannot read the modem lines of the port (%s): %s is unchanged", strerror(errno), name);
		return;
	}
	bits ^= bit;
	if (ioctl(c->port, TIOCMSET, &bits) < 0) {
		notice(c, "cannot set %s: %s", name, strerror(errno));
		return;
	}
	notice(c, "%s %s", name, (bits & bit) ? "on" : "off");
}

/* The key after the escape byte. */
static void escape_key(struct console *c, unsigned char b)
{
	switch (b) {
	case 'q':
	case 'Q':
		c->quit = true;
		ztc_dbg(c->ctx, "console quit by the escape sequence");
		return;
	case 'b':
	case 'B':
		/* What was typed before the break and the port takes now goes first. */
		if (write_port(c) == 0)
			tcdrain(c->port);
		/* tcsendbreak(fd, 0) as Linux does it: a break of 0.25 to 0.5 s. */
		if (ioctl(c->port, TCSBRK, 0) < 0)
			notice(c, "cannot send a break: %s", strerror(errno));
		else
			notice(c, "break sent");
		return;
	case 'd':
	case 'D':
		toggle_line(c, TIOCM_DTR, "DTR");
		return;
	case 'r':
	case 'R':
		toggle_line(c, TIOCM_RTS, "RTS");
		return;
	case '?':
	case 'h':
	case 'H':
		notice(c, "escape keys: q quit, b send a break, d toggle DTR, r toggle RTS, ? this list; the "
		       "escape key twice sends it once");
		return;
	default:
		/* Escape twice sends it once; escape and any other key sends both, so nothing typed is
		 * ever eaten. */
		if (b != (unsigned char)c->o->escape)
			send_byte(c, (unsigned char)c->o->escape);
		send_input(c, b);
	}
}

/* How much input may be read now: each byte can become two in the output queue (echo of CR), and an
 * escape held from the previous read adds one byte to each queue. */
static size_t half_less_one(size_t room)
{
	return room > 2 ? (room - 1) / 2 : 0;
}

static size_t input_budget(struct console *c)
{
	size_t n = half_less_one(q_room(&c->txq));

	if (c->o->echo) {
		size_t o = half_less_one(q_room(&c->outq));

		if (o < n)
			n = o;
	}
	return n < IN_CHUNK ? n : IN_CHUNK;
}

static int read_input(struct console *c)
{
	unsigned char buf[IN_CHUNK];
	size_t want = input_budget(c);
	ssize_t n;

	if (want == 0)
		return 0;
	n = read(c->in, buf, want);
	if (n < 0) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EIO)
			return ztc_fail(c->ctx, ZTC_ERR_IO, "cannot read the console input: %s", strerror(errno));
		n = 0; /* EIO: the terminal hung up, which ends the input as end of file does */
	}
	if (n == 0) {
		c->in_open = false;
		c->last_activity = ztc_now_ms();
		/* With a terminal, end of input means the terminal went away: nobody is watching. */
		if (c->tty)
			c->quit = true;
		ztc_dbg(c->ctx, "console input ended");
		return 0;
	}
	if (!c->tty || c->o->escape < 0) {
		for (ssize_t i = 0; i < n; i++)
			send_input(c, buf[i]);
		return 0;
	}
	for (ssize_t i = 0; i < n && !c->quit; i++) {
		unsigned char b = buf[i];

		if (c->escape_pending) {
			c->escape_pending = false;
			escape_key(c, b);
		} else if (b == (unsigned char)c->o->escape) {
			c->escape_pending = true;
		} else {
			send_input(c, b);
		}
	}
	return 0;
}

static int setup_signals(struct console *c)
{
	struct sigaction sa, ign;
	sigset_t unblock;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return ztc_fail(c->ctx, ZTC_ERR_IO, "cannot create a pipe: %s", strerror(errno));
	c->sig_rfd = p[0];
	sig_wfd = p[1];
	got_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a write blocked on a stalled output must return so the signal is seen. */
	sa.sa_flags = 0;
	for (size_t i = 0; i < NSIG_HANDLED; i++)
		sigaction(handled_signals[i], &sa, &c->saved_sa[i]);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGPIPE, &ign, &c->saved_pipe);
	/* A caller may keep these signals blocked outside the console, so that none is lost between two
	 * consoles: one already pending is delivered here, to on_signal, and ends this console at once. */
	sigemptyset(&unblock);
	for (size_t i = 0; i < NSIG_HANDLED; i++)
		sigaddset(&unblock, handled_signals[i]);
	pthread_sigmask(SIG_UNBLOCK, &unblock, &c->saved_mask);
	c->sigs_saved = true;
	return 0;
}

static void restore_signals(struct console *c)
{
	if (c->sigs_saved) {
		pthread_sigmask(SIG_SETMASK, &c->saved_mask, NULL);
		for (size_t i = 0; i < NSIG_HANDLED; i++)
			sigaction(handled_signals[i], &c->saved_sa[i], NULL);
		sigaction(SIGPIPE, &c->saved_pipe, NULL);
		c->sigs_saved = false;
	}
	if (c->sig_rfd >= 0) {
		close(c->sig_rfd);
		c->sig_rfd = -1;
	}
	if (sig_wfd >= 0) {
		close(sig_wfd);
		sig_wfd = -1;
	}
}

static int setup_tty(struct console *c)
{
	struct termios raw;

	if (tcgetattr(c->in, &c->saved_tio) < 0)
		return ztc_fail(c->ctx, ZTC_ERR_IO, "cannot read the terminal settings: %s", strerror(errno));
	raw = c->saved_tio;
	cfmakeraw(&raw);
	/* Raw input (keys such as Ctrl-C go to the board) but the output processing the terminal had,
	 * so a board printing bare "\n" still starts each line at the left margin. */
	raw.c_oflag = c->saved_tio.c_oflag;
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(c->in, TCSANOW, &raw) < 0)
		return ztc_fail(c->ctx, ZTC_ERR_IO, "cannot set the terminal to raw mode: %s", strerror(errno));
	c->tty_saved = true;
	return 0;
}

static void restore_tty(struct console *c)
{
	if (!c->tty_saved)
		return;
	/* Retried on EINTR: this is the one thing that must happen on every way out. */
	while (tcsetattr(c->in, TCSANOW, &c->saved_tio) < 0 && errno == EINTR)
		;
	c->tty_saved = false;
}

/* Give the output what is left, waiting at most DRAIN_MS for a stalled reader. */
static int drain_out(struct console *c)
{
	long long deadline = ztc_now_ms() + DRAIN_MS;

	for (;;) {
		struct pollfd pfd = { c->out, POLLOUT, 0 };
		int rc = flush_out(c);

		if (rc != 0)
			return rc < 0 ? rc : 0;
		if (signalled(c))
			return 0;
		if (ztc_now_ms() >= deadline) {
			ztc_warn(c->ctx, "console output stalled: %zu bytes not written", q_len(&c->outq));
			return 0;
		}
		poll(&pfd, 1, (int)(deadline - ztc_now_ms()));
	}
}

static int loop(struct console *c)
{
	int rc = 0;

	for (;;) {
		struct pollfd pfd[4];
		bool want_port_in, want_port_out, want_in, want_out;
		int timeout = -1, n;

		if (c->quit)
			return 0;
		if (signalled(c)) {
			ztc_info(c->ctx, "console ended by signal %d", (int)got_signal);
			return 0;
		}
		if (!c->in_open && c->o->timeout_ms > 0 && q_len(&c->txq) == 0) {
			long long left = c->last_activity + c->o->timeout_ms - ztc_now_ms();

			if (left <= 0) {
				ztc_dbg(c->ctx, "console ended after %d ms of silence", c->o->timeout_ms);
				return 0;
			}
			timeout = (int)left;
		}
		want_port_in = q_room(&c->outq) >= (c->o->timestamp ? TS_MAX + 1 : 1);
		want_port_out = q_len(&c->txq) > 0;
		want_in = c->in_open && input_budget(c) > 0;
		want_out = q_len(&c->outq) > 0 && c->out_blocked;

		pfd[0] = (struct pollfd){ c->sig_rfd, POLLIN, 0 };
		pfd[1] = (struct pollfd){ want_port_in || want_port_out ? c->port : -1,
					  (short)((want_port_in ? POLLIN : 0) | (want_port_out ? POLLOUT : 0)), 0 };
		pfd[2] = (struct pollfd){ want_in ? c->in : -1, POLLIN, 0 };
		pfd[3] = (struct pollfd){ want_out ? c->out : -1, POLLOUT, 0 };
		n = poll(pfd, 4, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return ztc_fail(c->ctx, ZTC_ERR_IO, "poll failed: %s", strerror(errno));
		}
		if (pfd[0].revents) {
			char drop[16];

			while (read(c->sig_rfd, drop, sizeof(drop)) > 0)
				;
		}
		if (pfd[3].revents) {
			rc = flush_out(c);
			if (rc < 0)
				return rc;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if (want_port_in) {
				rc = read_port(c);
				if (rc < 0)
					return rc;
			}
			/* Data first: a hang-up only counts once everything before it was read. */
			if ((pfd[1].revents & (POLLHUP | POLLERR)) && !(pfd[1].revents & POLLIN) && want_port_in)
				return ZTC_ERR_GONE;
		}
		if (pfd[1].revents & (POLLOUT | POLLHUP | POLLERR)) {
			if (want_port_out) {
				rc = write_port(c);
				if (rc < 0)
					return rc;
			}
		}
		if (pfd[2].revents) {
			rc = read_input(c);
			if (rc < 0)
				return rc;
			if (q_len(&c->txq) > 0) {
				rc = write_port(c);
				if (rc < 0)
					return rc;
			}
		}
		if (q_len(&c->outq) > 0 && !c->out_blocked) {
			rc = flush_out(c);
			if (rc < 0)
				return rc;
		}
	}
}

ZTC_API void ztc_console_opts_init(ztc_console_opts *opts)
{
	if (!opts)
		return;
	memset(opts, 0, sizeof(*opts));
	opts->escape = ZTC_CONSOLE_ESCAPE_DEFAULT;
	opts->handle_signals = 1;
}

ZTC_API int ztc_console_run(ztc_ctx *ctx, int port_fd, int in_fd, int out_fd, const ztc_console_opts *opts)
{
	struct console c;
	ztc_console_opts defaults;
	int rc, end;

	if (!opts) {
		ztc_console_opts_init(&defaults);
		opts = &defaults;
	}
	if (port_fd < 0 || out_fd < 0 || port_fd == in_fd || port_fd == out_fd)
		return ztc_fail(ctx, ZTC_ERR_ARG, "the console needs a port and an output, both distinct");
	if (opts->escape > 255 || opts->timeout_ms < 0 || opts->eol < 0 || opts->eol > ZTC_CONSOLE_EOL_CRLF ||
	    opts->timestamp < 0 || opts->timestamp > ZTC_CONSOLE_TS_DELTA)
		return ztc_fail(ctx, ZTC_ERR_ARG, "bad console options (escape %d, timeout %d ms, eol %d, timestamp "
				"%d)", opts->escape, opts->timeout_ms, opts->eol, opts->timestamp);

	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.o = opts;
	c.port = port_fd;
	c.in = in_fd;
	c.out = out_fd;
	c.logfd = -1;
	c.sig_rfd = -1;
	c.line_start = true;
	c.in_open = in_fd >= 0;
	c.tty = in_fd >= 0 && isatty(in_fd);
	c.last_activity = c.started = ztc_now_ms();
	c.port_flags = -1;
	got_signal = 0;
	c.outq.cap = OUT_CAP;
	c.txq.cap = TX_CAP;
	c.outq.p = malloc(OUT_CAP);
	c.txq.p = malloc(TX_CAP);
	if (!c.outq.p || !c.txq.p) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!ztc_str_empty(opts->log_path)) {
		c.logfd = open(opts->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (c.logfd < 0) {
			rc = ztc_fail(ctx, ZTC_ERR_IO, "cannot open the log file %s: %s", opts->log_path,
				      strerror(errno));
			goto out;
		}
	}
	c.port_flags = fcntl(port_fd, F_GETFL);
	if (c.port_flags < 0 || fcntl(port_fd, F_SETFL, c.port_flags | O_NONBLOCK) < 0) {
		rc = ztc_fail(ctx, ZTC_ERR_ARG, "bad serial port descriptor: %s", strerror(errno));
		c.port_flags = -1;
		goto out;
	}
	/* Signals first, raw mode second: a signal can then never find the terminal raw and unguarded. */
	if (opts->handle_signals) {
		rc = setup_signals(&c);
		if (rc < 0)
			goto out;
	}
	if (c.tty) {
		rc = setup_tty(&c);
		if (rc < 0)
			goto out;
	}
	ztc_dbg(ctx, "console started (input %s)", c.tty ? "a terminal" : in_fd >= 0 ? "not a terminal" : "none");

	rc = loop(&c);
	/* Whatever ended the loop, what was read from the board is shown before returning. */
	end = drain_out(&c);
	if (rc == OUTPUT_CLOSED || end == OUTPUT_CLOSED) {
		ztc_info(ctx, "console output closed by its reader");
		rc = ZTC_OK;
	} else if (rc == 0 && end < 0) {
		rc = end;
	}
	if (rc == ZTC_ERR_GONE)
		rc = ztc_fail(ctx, ZTC_ERR_GONE, "the serial port hung up: the board was disconnected");
out:
	restore_tty(&c);
	if (opts->handle_signals)
		restore_signals(&c);
	if (c.port_flags >= 0)
		fcntl(port_fd, F_SETFL, c.port_flags);
	if (c.logfd >= 0)
		close(c.logfd);
	free(c.outq.p);
	free(c.txq.p);
	return rc;
}
