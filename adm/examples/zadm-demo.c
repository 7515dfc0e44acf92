/* zadm-demo.c: a small libzadm device to copy from: RPC echo/add/sleep/fail, periodic events, FOTA. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "zadm/zadm.h"

static volatile sig_atomic_t quit;
static int fota_veto = -1;

static void on_signal(int sig)
{
	quit = sig;
}

static void log_stderr(void *userdata, int level, const char *msg)
{
	static const char *const names[] = { "", "error", "warning", "info", "debug" };

	fprintf(stderr, "zadm-demo: %s: %s\n", names[level >= 0 && level <= 4 ? level : 0], msg);
}

/* echo: the result is the argument array itself. */
static int rpc_echo(void *userdata, const char *args, char **ret_json)
{
	*ret_json = strdup(args);
	return *ret_json ? 0 : -1;
}

/* add: the sum of numeric arguments; an integer when they all are. */
static int rpc_add(void *userdata, const char *args, char **ret_json)
{
	yajl_val v = yajl_tree_parse(args, NULL, 0);
	long long isum = 0;
	double dsum = 0;
	int all_int = 1;
	char buf[64];

	for (size_t i = 0; v && i < v->u.array.len; i++) {
		yajl_val n = v->u.array.values[i];

		if (!YAJL_IS_NUMBER(n)) {
			snprintf(buf, sizeof(buf), "add: argument %zu is not a number", i + 1);
			*ret_json = strdup(buf);
			yajl_tree_free(v);
			return -1;
		}
		if (YAJL_IS_INTEGER(n))
			isum += YAJL_GET_INTEGER(n);
		else
			all_int = 0;
		dsum += YAJL_GET_DOUBLE(n);
	}
	yajl_tree_free(v);
	if (all_int)
		snprintf(buf, sizeof(buf), "%lld", isum);
	else
		snprintf(buf, sizeof(buf), "%.17g", dsum);
	*ret_json = strdup(buf);
	return 0;
}

/* sleep: busy for the given seconds (0 .. 60), then returns them: a slow function, to watch the heartbeat
 * and the calls queued behind it. */
static int rpc_sleep(void *userdata, const char *args, char **ret_json)
{
	yajl_val v = yajl_tree_parse(args, NULL, 0);
	yajl_val n = v && YAJL_IS_ARRAY(v) && v->u.array.len == 1 ? v->u.array.values[0] : NULL;
	double s = n && YAJL_IS_NUMBER(n) ? YAJL_GET_DOUBLE(n) : -1;
	struct timespec ts;

	yajl_tree_free(v);
	if (!(s >= 0 && s <= 60)) {
		*ret_json = strdup("sleep: expected [SECONDS], 0 to 60");
		return -1;
	}
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	*ret_json = strdup(args);
	return 0;
}

static int rpc_fail(void *userdata, const char *args, char **ret_json)
{
	*ret_json = strdup("fail: this method always fails");
	return -1;
}

static int on_fota(void *userdata, int step)
{
	fprintf(stderr, "zadm-demo: FOTA step %d%s\n", step, step == fota_veto ? ": vetoed" : "");
	return step == fota_veto;
}

static void on_restart(void *userdata)
{
	/* A real device would re-execute itself here; exit status 3 lets a supervisor do it. */
	fprintf(stderr, "zadm-demo: restart requested by FOTA, exiting with status 3\n");
	fflush(stderr);
	_exit(3);
}

static void usage(FILE *fp)
{
	fputs("Usage: zadm-demo --uid UID --token TOKEN --address HOST [OPTION]...\n"
	      "A sample ADM device: RPC methods echo, add, sleep and fail; an event {\"n\": counter} every\n"
	      "interval.\n\n"
	      "      --uid UID            device uid\n"
	      "      --token TOKEN        device token\n"
	      "      --address HOST       ADM server host name or address\n"
	      "      --port N             server port (default 12345)\n"
	      "      --tls                use TLS with the system trust store\n"
	      "      --tls-ca FILE        use TLS, trusting the CA certificates in FILE\n"
	      "      --server-name NAME   TLS: verify the certificate against NAME, not the address\n"
	      "      --insecure           use TLS without verifying the certificate (tests only)\n"
	      "      --heartbeat S        heartbeat period in seconds (default 60)\n"
	      "      --platform NAME      the login's platform (default empty)\n"
	      "      --vmuid UID          the login's vmuid (default empty)\n"
	      "      --event-interval S   send an event every S seconds, 0 for none (default 5)\n"
	      "      --fota-dir DIR       enable FOTA with slots and record in DIR\n"
	      "      --fota-veto STEP     refuse the update at callback step 0, 1 or 2\n"
	      "      --restart-exit       after an update exit with status 3 instead of restarting in-process\n"
	      "      --notify TEXT        send a notification titled zadm-demo once at start\n"
	      "      --low-res            one thread fewer\n"
	      "      --reconnect-ms MS    first reconnect delay (default 1000)\n"
	      "      --max-line BYTES     longest line accepted from the server (default 65536)\n"
	      "      --run-for S          exit after S seconds\n"
	      "  -v, --verbose            log informational messages (ZADM_DEBUG=1 logs everything)\n"
	      "  -h, --help               show this help\n", fp);
}

static int num_arg(const char *name, const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < min || v > max) {
		fprintf(stderr, "zadm-demo: --%s: expected a number from %ld to %ld, got '%s'\n", name, min, max, s);
		return -1;
	}
	*ret = v;
	return 0;
}

int main(int argc, char **argv)
{
	enum { O_UID = 256, O_TOKEN, O_ADDRESS, O_PORT, O_TLS, O_CA, O_NAME, O_INSECURE, O_HB, O_EVI, O_FOTA,
	       O_VETO, O_REXIT, O_NOTIFY, O_LOWRES, O_RECONN, O_MAXLINE, O_RUNFOR, O_PLATFORM, O_VMUID };
	static const struct option longopts[] = {
		{ "uid", required_argument, NULL, O_UID },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "address", required_argument, NULL, O_ADDRESS },
		{ "port", required_argument, NULL, O_PORT },
		{ "tls", no_argument, NULL, O_TLS },
		{ "tls-ca", required_argument, NULL, O_CA },
		{ "server-name", required_argument, NULL, O_NAME },
		{ "insecure", no_argument, NULL, O_INSECURE },
		{ "heartbeat", required_argument, NULL, O_HB },
		{ "platform", required_argument, NULL, O_PLATFORM },
		{ "vmuid", required_argument, NULL, O_VMUID },
		{ "event-interval", required_argument, NULL, O_EVI },
		{ "fota-dir", required_argument, NULL, O_FOTA },
		{ "fota-veto", required_argument, NULL, O_VETO },
		{ "restart-exit", no_argument, NULL, O_REXIT },
		{ "notify", required_argument, NULL, O_NOTIFY },
		{ "low-res", no_argument, NULL, O_LOWRES },
		{ "reconnect-ms", required_argument, NULL, O_RECONN },
		{ "max-line", required_argument, NULL, O_MAXLINE },
		{ "run-for", required_argument, NULL, O_RUNFOR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const zadm_rpc rpc[] = {
		{ "echo", rpc_echo, NULL },
		{ "add", rpc_add, NULL },
		{ "sleep", rpc_sleep, NULL },
		{ "fail", rpc_fail, NULL },
	};
	const char *uid = NULL, *token = NULL, *fota_dir = NULL, *notify = NULL;
	long n, event_interval = 5, run_for = 0;
	zadm_fota_store *store = NULL;
	zadm_device *dev = NULL;
	zadm_options o;
	unsigned long counter = 0;
	time_t start = time(NULL), next_event;
	int opt, r;

	zadm_options_init(&o);
	o.rpc = rpc;
	o.n_rpc = sizeof(rpc) / sizeof(rpc[0]);
	o.log = log_stderr;
	while ((opt = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (opt) {
		case O_UID: uid = optarg; break;
		case O_TOKEN: token = optarg; break;
		case O_ADDRESS: o.address = optarg; break;
		case O_PORT:
			if (num_arg("port", optarg, 1, 65535, &n))
				return 2;
			o.port = (unsigned int)n;
			break;
		case O_TLS: o.tls.enable = 1; break;
		case O_CA: o.tls.enable = 1; o.tls.ca_file = optarg; break;
		case O_NAME: o.tls.server_name = optarg; break;
		case O_INSECURE: o.tls.enable = 1; o.tls.insecure = 1; break;
		case O_HB:
			if (num_arg("heartbeat", optarg, 1, 86400, &n))
				return 2;
			o.heartbeat = (unsigned int)n;
			break;
		case O_PLATFORM: o.platform = optarg; break;
		case O_VMUID: o.vmuid = optarg; break;
		case O_EVI:
			if (num_arg("event-interval", optarg, 0, 86400, &event_interval))
				return 2;
			break;
		case O_FOTA: fota_dir = optarg; break;
		case O_VETO:
			if (num_arg("fota-veto", optarg, 0, 2, &n))
				return 2;
			fota_veto = (int)n;
			break;
		case O_REXIT: o.restart = on_restart; break;
		case O_NOTIFY: notify = optarg; break;
		case O_LOWRES: o.low_res = 1; break;
		case O_RECONN:
			if (num_arg("reconnect-ms", optarg, 1, 3600000, &n))
				return 2;
			o.reconnect_min_ms = (unsigned int)n;
			if (o.reconnect_max_ms < o.reconnect_min_ms)
				o.reconnect_max_ms = o.reconnect_min_ms;
			break;
		case O_MAXLINE:
			if (num_arg("max-line", optarg, 64, 1L << 30, &n))
				return 2;
			o.max_line = (size_t)n;
			break;
		case O_RUNFOR:
			if (num_arg("run-for", optarg, 1, 1L << 30, &run_for))
				return 2;
			break;
		case 'v': o.loglevel = ZADM_LOG_INFO; break;
		case 'h': usage(stdout); return 0;
		default:
			fputs("Try 'zadm-demo --help'.\n", stderr);
			return 2;
		}
	}
	if (optind < argc || !uid || !token || !o.address) {
		fprintf(stderr, "zadm-demo: %s (try --help)\n",
			optind < argc ? "unexpected argument" : "--uid, --token and --address are required");
		return 2;
	}
	if (fota_dir) {
		r = zadm_fota_store_file_new(fota_dir, 0, 0, &store);
		if (r) {
			fprintf(stderr, "zadm-demo: cannot open the FOTA store in %s: %s\n", fota_dir, zadm_strerror(r));
			return 1;
		}
		o.fota_store = store;
		o.fota_callback = on_fota;
	}
	r = zadm_device_new(uid, token, &o, &dev);
	if (!r)
		r = zadm_device_start(dev);
	if (r) {
		fprintf(stderr, "zadm-demo: cannot start the device: %s\n", zadm_strerror(r));
		zadm_device_free(dev);
		zadm_fota_store_free(store);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (notify && (r = zadm_device_send_notification(dev, "zadm-demo", notify)))
		fprintf(stderr, "zadm-demo: notification not queued: %s\n", zadm_strerror(r));
	next_event = start + event_interval;
	while (!quit && (!run_for || time(NULL) - start < run_for)) {
		struct timespec ts = { 0, 100 * 1000000L };

		nanosleep(&ts, NULL);
		if (event_interval && time(NULL) >= next_event) {
			char ev[64];

			next_event += event_interval;
			snprintf(ev, sizeof(ev), "{\"n\":%lu}", ++counter);
			r = zadm_device_send_event(dev, ev);
			if (r)
				fprintf(stderr, "zadm-demo: event %lu not queued: %s\n", counter, zadm_strerror(r));
		}
	}
	zadm_device_free(dev);
	zadm_fota_store_free(store);
	return 0;
}
