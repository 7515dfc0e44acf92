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

void sb_print(const char *type, const char *uid, void (*more)(yajl_gen g, void *arg), void *arg)
{
	yajl_gen g = zj_gen_new();
	struct timespec ts;
	char *line;

	clock_gettime(CLOCK_REALTIME, &ts);
	yajl_gen_map_open(g);
	zj_gen_key(g, "type"), zj_gen_str(g, type);
	zj_gen_key(g, "uid"), zj_gen_str(g, uid);
	zj_gen_key(g, "ts"), zj_gen_int(g, (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	if (more)
		more(g, arg);
	yajl_gen_map_close(g);
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
	      "  -c, --control SOCKET   serve the control interface on this Unix socket\n"
	      "      --ctl SOCKET       client mode: send COMMAND to a running sandbox, print its reply;\n"
	      "                         exit 0 when it says ok, 1 otherwise\n"
	      "  -h, --help             show this help\n"
	      "  -V, --version          show the version\n\n"
	      "Control commands: list | wait UID [SECONDS] | call [-n] UID METHOD [ARGS_JSON_ARRAY] |\n"
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

static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "zadm-sandbox: control socket path too long: %s\n", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "zadm-sandbox: cannot listen on %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void spawn(void *(*fn)(void *), void *arg)
{
	pthread_t th;
	pthread_attr_t at;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, fn, arg))
		sb_log("cannot create a thread: out of resources");
	pthread_attr_destroy(&at);
}

static void accept_device(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct sb_client *c;
	char host[64] = "?", serv[16] = "?";
	int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv, sizeof(serv),
		    NI_NUMERICHOST | NI_NUMERICSERV);
	c = calloc(1, sizeof(*c));
	c->io.fd = fd;
	c->io.max = sb.max_line;
	c->refs = 1;
	c->connected_ms = sb_now_ms();
	pthread_mutex_init(&c->wlock, NULL);
	snprintf(c->peer, sizeof(c->peer), "%s:%s", host, serv);
	pthread_mutex_lock(&sb.lock);
	c->next = sb.clients;
	sb.clients = c;
	pthread_mutex_unlock(&sb.lock);
	spawn(sb_client_main, c);
}

int main(int argc, char **argv)
{
	enum { O_PORTFILE = 256, O_CERT, O_KEY, O_HTBM, O_MAXLINE, O_CTL };
	static const struct option longopts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, O_PORTFILE },
		{ "devices", required_argument, NULL, 'd' },
		{ "tls-cert", required_argument, NULL, O_CERT },
		{ "tls-key", required_argument, NULL, O_KEY },
		{ "htbm", required_argument, NULL, O_HTBM },
		{ "max-line", required_argument, NULL, O_MAXLINE },
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
	if (control && (cfd = listen_unix(control)) < 0)
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
		struct pollfd p[3] = { { quit_pipe[0], POLLIN, 0 }, { lfd, POLLIN, 0 }, { cfd, POLLIN, 0 } };

		if (poll(p, cfd >= 0 ? 3 : 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (p[1].revents)
			accept_device(lfd);
		if (cfd >= 0 && p[2].revents) {
			int fd = accept4(cfd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				spawn(sb_control_main, (void *)(long)fd);
		}
	}
	sb_log("exiting");
	close(lfd);
	if (control)
		unlink(control);
	/* Devices see the connection close; detached threads end with the process. */
	pthread_mutex_lock(&sb.lock);
	for (struct sb_client *c = sb.clients; c; c = c->next)
		shutdown(c->io.fd, SHUT_RDWR);
	pthread_mutex_unlock(&sb.lock);
	fflush(stdout);
	_exit(0);
}
