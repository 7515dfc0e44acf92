/* main.c: zadm-sandbox, a local ADM server to develop and test libzadm devices against. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"

struct sb_server sb = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
	.out_lock = PTHREAD_MUTEX_INITIALIZER,
	.max_line = 65536,
	.login_timeout_s = SB_LOGIN_TIMEOUT_S,
	.max_conns = SB_MAX_CONNS,
};
int sb_quit_fd = -1;
static int quit_pipe[2] = { -1, -1 };

long long sb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sb_log(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&sb.out_lock);
	fputs("zadm-sandbox: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&sb.out_lock);
}

void sb_print(const char *type, const char *uid, int (*more)(yajl_gen g, void *arg), void *arg)
{
	yajl_gen g = zj_gen_new();
	struct timespec ts;
	int e = 0;
	char *line;

	if (!g)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	e |= yajl_gen_map_open(g);
	e |= zj_gen_key(g, "type") | zj_gen_str(g, type);
	e |= zj_gen_key(g, "uid") | zj_gen_str(g, uid);
	e |= zj_gen_key(g, "ts") | zj_gen_int(g, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	if (more)
		e |= more(g, arg);
	/* A string that is not UTF-8 (every input is checked, so this would be a bug): print nothing
	 * rather than a broken line. */
	e |= yajl_gen_map_close(g);
	if (e) {
		yajl_gen_free(g);
		sb_log("%s: %s record not printed: it would not be valid JSON", uid ? uid : "?", type);
		return;
	}
	line = zj_gen_line(g, NULL);
	if (!line)
		return;
	pthread_mutex_lock(&sb.out_lock);
	fputs(line, stdout);
	fflush(stdout);
	pthread_mutex_unlock(&sb.out_lock);
	free(line);
}

static void usage(FILE *fp)
{
	fputs("Usage: zadm-sandbox [OPTION]...\n"
	      "       zadm-sandbox --ctl SOCKET COMMAND [ARG]...\n"
	      "A local ADM server for libzadm devices. Events, notifications and session changes are\n"
	      "printed as JSON Lines on stdout; logs go to stderr.\n\n"
	      "  -b, --bind ADDR        listen address (default 127.0.0.1)\n"
	      "  -p, --port N           TCP port (default 12345; 0 picks a free one)\n"
	      "      --port-file FILE   write the port actually bound to FILE\n"
	      "  -d, --devices FILE     JSON object uid -> token; without it every device is accepted\n"
	      "      --tls-cert FILE    serve TLS with this PEM certificate (needs --tls-key)\n"
	      "      --tls-key FILE     the certificate's PEM private key\n"
	      "      --htbm SECONDS     impose this heartbeat period on every device\n"
	      "      --max-line BYTES   longest line accepted from a device (default 65536)\n"
	      "      --login-timeout SECONDS\n"
	      "                         time a device has for the TLS handshake and its login line\n"
	      "                         together (default 10, 1 .. 3600)\n"
	      "      --max-connections N\n"
	      "                         device connections open at once; more are closed at once\n"
	      "                         (default 512, 1 .. 65536)\n"
	      "  -c, --control SOCKET   serve the control interface on this Unix socket (mode 0600,\n"
	      "                         your uid and root only)\n"
	      "      --ctl SOCKET       client mode: send COMMAND to a running sandbox, print its reply;\n"
	      "                         exit 0 when it says ok, 1 otherwise\n"
	      "  -h, --help             show this help\n"
	      "  -V, --version          show the version\n\n"
	      "Control commands: list | wait UID [SECONDS (0 .. 3600)] | call [-n] UID METHOD [ARGS_JSON_ARRAY] |\n"
	      "  fota UID BCFILE [VMFILE] [bc=N] [vm=N] [chunk=N] [badcrc] [badpart] [timeout=S] |\n"
	      "  terminate UID | kick UID | raw UID TEXT | longline UID BYTES | quit\n", fp);
}

static void on_signal(int sig)
{
	(void)!write(quit_pipe[1], "s", 1);
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v > max || *s == '-')
		return false;
	*ret = v;
	return true;
}

static int load_devices(const char *path)
{
	char err[256], *text;
	FILE *fp = fopen(path, "r");
	long len;

	if (!fp) {
		fprintf(stderr, "zadm-sandbox: cannot open devices file %s: %s\n", path, strerror(errno));
		return -1;
	}
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
	if (len > 0 && fread(text, 1, (size_t)len, fp) != (size_t)len)
		len = -1;
	fclose(fp);
	sb.devices = len >= 0 ? zj_parse(text, err, sizeof(err)) : NULL;
	free(text);
	if (!sb.devices || sb.devices->type != yajl_t_object) {
		fprintf(stderr, "zadm-sandbox: devices file %s: expected a JSON object uid -> token%s%s\n", path,
			sb.devices ? "" : ": ", sb.devices ? "" : err);
		return -1;
	}
	for (size_t i = 0; i < sb.devices->u.object.len; i++)
		if (sb.devices->u.object.values[i]->type != yajl_t_string) {
			fprintf(stderr, "zadm-sandbox: devices file %s: the token of %s is not a string\n", path,
				sb.devices->u.object.keys[i]);
			return -1;
		}
	return 0;
}

static int listen_tcp(const char *bind_addr, unsigned int port, unsigned int *ret_port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV },
			*res;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char ps[16];
	int fd, one = 1, r;

	snprintf(ps, sizeof(ps), "%u", port);
	r = getaddrinfo(bind_addr, ps, &hints, &res);
	if (r) {
		fprintf(stderr, "zadm-sandbox: cannot resolve %s: %s\n", bind_addr, gai_strerror(r));
		return -1;
	}
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 64) < 0) {
			fprintf(stderr, "zadm-sandbox: cannot listen on %s:%u: %s\n", bind_addr, port, strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*ret_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
							   : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* The control socket, private from the start: bound under umask 0177 (so it is created 0600 whatever
 * the caller's umask), never replacing anything but a stale socket. Its inode goes to *ret_st so that
 * the exit removes it only if it is still ours. */
static int listen_unix(const char *path, struct stat *ret_st)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "zadm-sandbox: control socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	if (lstat(path, &st) == 0) {
		int probe, err;

		if (!S_ISSOCK(st.st_mode)) {
			fprintf(stderr, "zadm-sandbox: %s exists and is not a socket; not removing it\n", path);
			return -1;
		}
		/* A socket somebody answers on is in use; only a refused connection means stale. */
		probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		err = probe < 0 ? errno : connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : errno;
		if (probe >= 0)
			close(probe);
		if (err == 0) {
			fprintf(stderr, "zadm-sandbox: another zadm-sandbox answers on %s; not starting\n", path);
			return -1;
		}
		if (err != ECONNREFUSED) {
			fprintf(stderr, "zadm-sandbox: cannot tell whether %s is in use: %s\n", path, strerror(err));
			return -1;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			fprintf(stderr, "zadm-sandbox: cannot remove the stale socket %s: %s\n", path, strerror(errno));
			return -1;
		}
	} else if (errno != ENOENT) {
		fprintf(stderr, "zadm-sandbox: cannot use %s: %s\n", path, strerror(errno));
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "zadm-sandbox: cannot create the control socket: %s\n", strerror(errno));
		return -1;
	}
	/* Still one thread here: the umask change is seen by nothing else. */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		umask(old);
		fprintf(stderr, "zadm-sandbox: cannot listen on %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (listen(fd, 16) < 0 || lstat(path, ret_st) < 0) {
		fprintf(stderr, "zadm-sandbox: cannot listen on %s: %s\n", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static bool spawn(void *(*fn)(void *), void *arg)
{
	pthread_t th;
	pthread_attr_t at;
	int r;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &at, fn, arg);
	if (r)
		sb_log("cannot create a thread: %s", strerror(r));
	pthread_attr_destroy(&at);
	return r == 0;
}

/* Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): the pending connection stays in
 * the backlog and poll() reports it at once again, so the loop stops polling the listening sockets
 * for a while (100 ms, doubling up to 1 s) instead of spinning, and logs the episode once. */
static struct {
	long long until;    /* listening sockets not polled before this (sb_now_ms), 0: polled */
	unsigned int delay; /* ms */
	unsigned long failed;
	bool capped;        /* the connection limit is reached, logged */
	unsigned long refused;
} acc;

static bool out_of_resources(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static void accept_failed(int err)
{
	unsigned int n;

	acc.delay = acc.delay ? (acc.delay >= 500 ? 1000 : acc.delay * 2) : 100;
	acc.until = sb_now_ms() + acc.delay;
	if (acc.failed++)
		return;
	pthread_mutex_lock(&sb.lock);
	n = sb.nclients + sb.nctl;
	pthread_mutex_unlock(&sb.lock);
	sb_log("cannot accept connections: %s (%u open); pausing, new connections wait", strerror(err), n);
}

static void accept_ok(void)
{
	if (acc.failed)
		sb_log("accepting connections again (%lu attempts failed)", acc.failed);
	acc.failed = 0;
	acc.delay = 0;
	acc.until = 0;
}

static void accept_device(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct sb_client *c;
	char host[64] = "?", serv[16] = "?";
	int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);

	if (fd < 0) {
		if (out_of_resources(errno))
			accept_failed(errno);
		return;
	}
	accept_ok();
	pthread_mutex_lock(&sb.lock);
	if (sb.nclients >= sb.max_conns) {
		pthread_mutex_unlock(&sb.lock);
		/* Closed at once: the device retries later with its backoff, instead of waiting. */
		close(fd);
		acc.refused++;
		if (!acc.capped)
			sb_log("connection limit (%u) reached: new connections are closed at once", sb.max_conns);
		acc.capped = true;
		return;
	}
	pthread_mutex_unlock(&sb.lock);
	if (acc.capped)
		sb_log("below the connection limit again: %lu connections refused at the limit", acc.refused);
	acc.capped = false;
	acc.refused = 0;
	getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->io.fd = fd;
	c->io.max = sb.max_line;
	c->refs = 1;
	c->connected_ms = sb_now_ms();
	pthread_mutex_init(&c->wlock, NULL);
	snprintf(c->peer, sizeof(c->peer), "%s:%s", host, serv);
	pthread_mutex_lock(&sb.lock);
	c->next = sb.clients;
	sb.clients = c;
	sb.nclients++;
	pthread_mutex_unlock(&sb.lock);
	if (!spawn(sb_client_main, c)) {
		pthread_mutex_lock(&sb.lock);
		sb_client_unref_locked(c);
		pthread_mutex_unlock(&sb.lock);
	}
}

/* Refuse a control connection with one reply line (never blocks: the socket buffer is empty). */
static void control_refuse(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void control_refuse(int fd, const char *fmt, ...)
{
	char msg[200], *reply;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply = sb_reply_error("%s", msg);
	if (reply)
		(void)!send(fd, reply, strlen(reply), MSG_DONTWAIT | MSG_NOSIGNAL);
	free(reply);
	close(fd);
}

static void accept_control(int cfd)
{
	bool full;
	int fd = accept4(cfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (out_of_resources(errno))
			accept_failed(errno);
		return;
	}
	accept_ok();
	pthread_mutex_lock(&sb.lock);
	full = sb.nctl >= SB_MAX_CTL;
	if (!full)
		sb.nctl++;
	pthread_mutex_unlock(&sb.lock);
	if (full) {
		control_refuse(fd, "too many control connections (%d)", SB_MAX_CTL);
		return;
	}
	if (!spawn(sb_control_main, (void *)(long)fd)) {
		pthread_mutex_lock(&sb.lock);
		sb.nctl--;
		pthread_mutex_unlock(&sb.lock);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	enum { O_PORTFILE = 256, O_CERT, O_KEY, O_HTBM, O_MAXLINE, O_CTL, O_LOGINTO, O_MAXCONN };
	static const struct option longopts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, O_PORTFILE },
		{ "devices", required_argument, NULL, 'd' },
		{ "tls-cert", required_argument, NULL, O_CERT },
		{ "tls-key", required_argument, NULL, O_KEY },
		{ "htbm", required_argument, NULL, O_HTBM },
		{ "max-line", required_argument, NULL, O_MAXLINE },
		{ "login-timeout", required_argument, NULL, O_LOGINTO },
		{ "max-connections", required_argument, NULL, O_MAXCONN },
		{ "control", required_argument, NULL, 'c' },
		{ "ctl", required_argument, NULL, O_CTL },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bind_addr = "127.0.0.1", *port_file = NULL, *devices = NULL, *cert = NULL, *key = NULL,
		   *control = NULL, *ctl = NULL;
	unsigned long port = 12345, v;
	unsigned int bound = 0;
	struct stat ctl_st;
	int opt, lfd, cfd = -1;

	while ((opt = getopt_long(argc, argv, "+b:p:d:c:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b': bind_addr = optarg; break;
		case 'p':
			if (!parse_uint(optarg, 65535, &port)) {
				fprintf(stderr, "zadm-sandbox: --port: not a port number: %s\n", optarg);
				return 2;
			}
			break;
		case O_PORTFILE: port_file = optarg; break;
		case 'd': devices = optarg; break;
		case O_CERT: cert = optarg; break;
		case O_KEY: key = optarg; break;
		case O_HTBM:
			if (!parse_uint(optarg, 86400, &v) || v == 0) {
				fprintf(stderr, "zadm-sandbox: --htbm: expected seconds (1 .. 86400): %s\n", optarg);
				return 2;
			}
			sb.htbm = (unsigned int)v;
			break;
		case O_MAXLINE:
			if (!parse_uint(optarg, 1UL << 26, &v) || v < 64) {
				fprintf(stderr, "zadm-sandbox: --max-line: expected bytes (64 .. 64 MiB): %s\n", optarg);
				return 2;
			}
			sb.max_line = v;
			break;
		case O_LOGINTO:
			if (!parse_uint(optarg, 3600, &v) || v == 0) {
				fprintf(stderr, "zadm-sandbox: --login-timeout: expected seconds (1 .. 3600): %s\n",
					optarg);
				return 2;
			}
			sb.login_timeout_s = (int)v;
			break;
		case O_MAXCONN:
			if (!parse_uint(optarg, 65536, &v) || v == 0) {
				fprintf(stderr, "zadm-sandbox: --max-connections: expected a count (1 .. 65536): %s\n",
					optarg);
				return 2;
			}
			sb.max_conns = (unsigned int)v;
			break;
		case 'c': control = optarg; break;
		case O_CTL: ctl = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': puts("zadm-sandbox " PACKAGE_VERSION); return 0;
		default:
			fputs("Try 'zadm-sandbox --help'.\n", stderr);
			return 2;
		}
	}
	if (ctl)
		return sb_control_client(ctl, argc - optind, argv + optind);
	if (optind < argc) {
		fprintf(stderr, "zadm-sandbox: unexpected argument %s (try --help)\n", argv[optind]);
		return 2;
	}
	if (!cert != !key) {
		fprintf(stderr, "zadm-sandbox: --tls-cert and --tls-key go together\n");
		return 2;
	}
	if (devices && load_devices(devices))
		return 1;
	if (cert) {
		int r = gnutls_certificate_allocate_credentials(&sb.cred);

		if (r >= 0)
			r = gnutls_certificate_set_x509_key_file(sb.cred, cert, key, GNUTLS_X509_FMT_PEM);
		if (r < 0) {
			fprintf(stderr, "zadm-sandbox: cannot load %s and %s: %s\n", cert, key, gnutls_strerror(r));
			return 1;
		}
	}
	if (pipe(quit_pipe) < 0)
		return 1;
	sb_quit_fd = quit_pipe[1];
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	lfd = listen_tcp(bind_addr, (unsigned int)port, &bound);
	if (lfd < 0)
		return 1;
	if (control && (cfd = listen_unix(control, &ctl_st)) < 0)
		return 1;
	if (port_file) {
		char tmp[PATH_MAX];
		FILE *fp;

		/* Written whole then renamed, so a script polling for the file never reads half of it. */
		snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
		fp = fopen(tmp, "w");
		if (!fp || fprintf(fp, "%u\n", bound) < 0 || fclose(fp) != 0 || rename(tmp, port_file) < 0) {
			fprintf(stderr, "zadm-sandbox: cannot write %s: %s\n", port_file, strerror(errno));
			return 1;
		}
	}
	sb_log("listening on %s:%u (%s)%s%s", bind_addr, bound, sb.cred ? "TLS" : "plain TCP",
	       control ? ", control socket " : "", control ? control : "");
	for (;;) {
		/* While pausing after EMFILE the listening sockets are left out (poll ignores fd -1). */
		long long wait = acc.until ? acc.until - sb_now_ms() : -1;
		bool pause = wait > 0;
		struct pollfd p[3] = { { quit_pipe[0], POLLIN, 0 }, { pause ? -1 : lfd, POLLIN, 0 },
				       { pause ? -1 : cfd, POLLIN, 0 } };

		if (!pause)
			acc.until = 0;
		if (poll(p, cfd >= 0 ? 3 : 2, pause ? (int)wait : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents)
			accept_device(lfd);
		if (cfd >= 0 && p[2].revents)
			accept_control(cfd);
	}
	sb_log("exiting");
	close(lfd);
	if (control) {
		struct stat st;

		/* Only our own socket: the path may have been replaced since. */
		if (lstat(control, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == ctl_st.st_dev &&
		    st.st_ino == ctl_st.st_ino)
			unlink(control);
	}
	/* Devices see the connection close; detached threads end with the process. */
	pthread_mutex_lock(&sb.lock);
	for (struct sb_client *c = sb.clients; c; c = c->next)
		shutdown(c->io.fd, SHUT_RDWR);
	pthread_mutex_unlock(&sb.lock);
	fflush(stdout);
	_exit(0);
}
