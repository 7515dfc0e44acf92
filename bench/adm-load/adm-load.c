/* adm-load.c: load test of libzadm against zadm-sandbox: CLIENTS devices in this process send events
 * for SECONDS while the sandbox is restarted twice (once with SIGTERM, once with SIGKILL); then every
 * client must have reconnected, no event may be missing from the sandboxes' JSON Lines output except
 * ones sent in the moment a sandbox went down, and the process's RSS must stay flat. Prints a summary;
 * exit 0 when all of that holds. Run by bench/adm-load/run.sh (not part of make check).
 *
 * Usage: adm-load SANDBOX_BIN OUTDIR [CLIENTS [SECONDS]]          (200, 60)
 *
 * Each client sends {"c":CLIENT,"n":SEQ} every 100 ms whatever its connection state (libzadm queues
 * while disconnected; a full queue is retried on the next tick, never counted as sent). A send at time
 * t is "around restart k" when kill_k - 1 s <= t < the moment the client was seen logged in again
 * after that restart; there libzadm may lose the event it was writing when the connection died. Every
 * other event, in particular every one sent after a reconnection, must reach the sandbox. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_tree.h>

#include "zadm/zadm.h"

#define TICK_MS 100
#define RESTARTS 2
#define DOWN_MS 1000 /* the sandbox stays down this long at each restart */

struct client {
	zadm_device *dev;
	char uid[32];
	int connected;            /* as last seen by the driver */
	long long reconnect_ms[RESTARTS]; /* first time seen logged in after restart k, -1: not yet */
	long long *sent_ms;       /* sent_ms[seq]: when send_event(seq) succeeded */
	unsigned char *seen;      /* seen[seq]: in a sandbox's output */
	size_t nsent, cap;
	unsigned long queue_full;
};

static long long t0;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 - t0;
}

/* One number from /proc/self/status, by its sscanf format ("VmRSS: %ld kB"); -1 when absent. */
static long proc_status(const char *fmt)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

static pid_t start_sandbox(const char *bin, const char *outdir, int gen, unsigned int port, const char *portfile)
{
	char out[4096], err[4096], portarg[16];
	pid_t pid;

	snprintf(out, sizeof(out), "%s/sandbox-%d.jsonl", outdir, gen);
	snprintf(err, sizeof(err), "%s/sandbox-%d.log", outdir, gen);
	snprintf(portarg, sizeof(portarg), "%u", port);
	unlink(portfile);
	pid = fork();
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644), e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(o, 1);
		dup2(e, 2);
		execl(bin, bin, "-b", "127.0.0.1", "-p", portarg, "--port-file", portfile, (char *)NULL);
		_exit(127);
	}
	/* Listening once the port file is there. */
	for (int i = 0; i < 500; i++) {
		struct stat sb;

		if (stat(portfile, &sb) == 0 && sb.st_size > 0)
			return pid;
		usleep(10000);
	}
	fprintf(stderr, "adm-load: the sandbox did not start (see %s)\n", err);
	exit(1);
}

static unsigned int read_port(const char *portfile)
{
	FILE *f = fopen(portfile, "r");
	unsigned int port = 0;

	if (!f || fscanf(f, "%u", &port) != 1)
		port = 0;
	if (f)
		fclose(f);
	return port;
}

/* Mark every event of the sandbox's output: {"type":"event","uid":U,"payload":{"c":C,"n":N}}. */
static size_t read_events(const char *path, struct client *cl, int n, size_t *dups)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, count = 0;

	while (f && getline(&line, &cap, f) > 0) {
		const char *kt[] = { "type", NULL }, *kc[] = { "payload", "c", NULL }, *kn[] = { "payload", "n", NULL };
		yajl_val v = yajl_tree_parse(line, NULL, 0), t, c, s;

		t = v ? yajl_tree_get(v, kt, yajl_t_string) : NULL;
		c = v ? yajl_tree_get(v, kc, yajl_t_number) : NULL;
		s = v ? yajl_tree_get(v, kn, yajl_t_number) : NULL;
		if (t && strcmp(t->u.string, "event") == 0 && c && s && YAJL_IS_INTEGER(c) && YAJL_IS_INTEGER(s)) {
			long long ci = YAJL_GET_INTEGER(c), si = YAJL_GET_INTEGER(s);

			if (ci >= 0 && ci < n && si >= 0 && (size_t)si < cl[ci].cap) {
				if (cl[ci].seen[si])
					++*dups;
				cl[ci].seen[si] = 1;
				count++;
			}
		}
		yajl_tree_free(v);
	}
	free(line);
	if (f)
		fclose(f);
	return count;
}

/* The restarts run beside the senders, so a sandbox goes down while events are being written. */
struct restarter {
	const char *bin, *outdir, *portfile;
	unsigned int port;
	int seconds;
	pid_t sb;
	long long kill_ms[RESTARTS], up_ms[RESTARTS];
	int done; /* restarts completed; read by the sender (atomically) */
};

static void *restarter_main(void *arg)
{
	struct restarter *r = arg;

	for (int k = 0; k < RESTARTS; k++) {
		long long at = (long long)(k + 1) * r->seconds * 1000 / 3;

		while (now_ms() < at)
			usleep(1000);
		r->kill_ms[k] = now_ms();
		kill(r->sb, k == 0 ? SIGTERM : SIGKILL);
		waitpid(r->sb, NULL, 0);
		usleep(DOWN_MS * 1000);
		r->sb = start_sandbox(r->bin, r->outdir, k + 2, r->port, r->portfile);
		r->up_ms[k] = now_ms();
		__atomic_store_n(&r->done, k + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *bin, *outdir;
	int n = 200, seconds = 60, ok = 1;
	struct client *cl;
	char portfile[4096];
	unsigned int port;
	pid_t sb;
	long long kill_ms[RESTARTS], next_tick;
	struct restarter rs = { 0 };
	pthread_t rth;
	long rss[4096];
	int nrss = 0, restarts = 0, maxthreads = 0;
	zadm_options o;
	struct rlimit rl;

	if (argc < 3 || argc > 5) {
		fprintf(stderr, "usage: adm-load SANDBOX_BIN OUTDIR [CLIENTS [SECONDS]]\n");
		return 2;
	}
	bin = argv[1];
	outdir = argv[2];
	if (argc > 3)
		n = atoi(argv[3]);
	if (argc > 4)
		seconds = atoi(argv[4]);
	if (n < 1 || seconds < 10) {
		fprintf(stderr, "adm-load: at least 1 client and 10 seconds\n");
		return 2;
	}
	/* Three descriptors per client (socket, wake pipe). */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);
	t0 = 0;
	t0 = now_ms();
	snprintf(portfile, sizeof(portfile), "%s/port", outdir);
	sb = start_sandbox(bin, outdir, 1, 0, portfile);
	port = read_port(portfile);

	cl = calloc((size_t)n, sizeof(*cl));
	zadm_options_init(&o);
	o.ip = "127.0.0.1";
	o.port = port;
	o.heartbeat = 10;
	o.send_queue_max = 256;
	o.reconnect_min_ms = 500;
	o.reconnect_max_ms = 4000;
	o.loglevel = ZADM_LOG_NONE;
	for (int i = 0; i < n; i++) {
		snprintf(cl[i].uid, sizeof(cl[i].uid), "load-%03d", i);
		/* Every slot allocated now, so that our own bookkeeping does not grow the RSS. */
		cl[i].cap = (size_t)seconds * (1000 / TICK_MS) + 64;
		cl[i].sent_ms = calloc(cl[i].cap, sizeof(*cl[i].sent_ms));
		cl[i].seen = calloc(cl[i].cap, 1);
		for (int k = 0; k < RESTARTS; k++)
			cl[i].reconnect_ms[k] = -1;
		if (zadm_device_new(cl[i].uid, "token", &o, &cl[i].dev) || zadm_device_start(cl[i].dev)) {
			fprintf(stderr, "adm-load: cannot start client %d\n", i);
			return 1;
		}
	}
	printf("adm-load: %d clients against zadm-sandbox on 127.0.0.1:%u for %d s, one event per client every "
	       "%d ms, restarts at %d s (SIGTERM) and %d s (SIGKILL), %d ms down each\n",
	       n, port, seconds, TICK_MS, seconds / 3, 2 * seconds / 3, DOWN_MS);
	fflush(stdout);

	rs.bin = bin;
	rs.outdir = outdir;
	rs.portfile = portfile;
	rs.port = port;
	rs.seconds = seconds;
	rs.sb = sb;
	pthread_create(&rth, NULL, restarter_main, &rs);
	next_tick = now_ms();
	while (now_ms() < (long long)seconds * 1000) {
		long long t = now_ms();

		restarts = __atomic_load_n(&rs.done, __ATOMIC_ACQUIRE);
		/* The clients' sends spread over the tick: events are always on their way somewhere. */
		for (int i = 0; i < n; i++) {
			struct client *c = &cl[i];
			long long due = next_tick + (long long)i * TICK_MS / n;
			char ev[64];
			int r;

			if (due > now_ms())
				usleep((useconds_t)(due - now_ms()) * 1000);
			c->connected = zadm_device_is_connected(c->dev);
			if (c->connected && restarts > 0 && c->reconnect_ms[restarts - 1] < 0 &&
			    now_ms() >= rs.up_ms[restarts - 1])
				c->reconnect_ms[restarts - 1] = now_ms();
			if (c->nsent >= c->cap)
				continue;
			snprintf(ev, sizeof(ev), "{\"c\":%d,\"n\":%zu}", i, c->nsent);
			r = zadm_device_send_event(c->dev, ev);
			if (r == ZADM_OK)
				c->sent_ms[c->nsent++] = now_ms();
			else if (r == ZADM_ERR_QUEUE_FULL)
				c->queue_full++;
		}
		if (t / 1000 >= nrss && nrss < (int)(sizeof(rss) / sizeof(*rss))) {
			int th = (int)proc_status("Threads: %ld");

			rss[nrss++] = proc_status("VmRSS: %ld kB");
			if (th > maxthreads)
				maxthreads = th;
		}
		next_tick += TICK_MS;
		if (next_tick > now_ms())
			usleep((useconds_t)(next_tick - now_ms()) * 1000);
	}
	pthread_join(rth, NULL);
	sb = rs.sb;
	memcpy(kill_ms, rs.kill_ms, sizeof(kill_ms));
	restarts = rs.done;
	/* Whoever has not been seen back yet: wait (up to 30 s) for every client to be logged in. */
	for (long long until = now_ms() + 30000; now_ms() < until;) {
		int all = 1;

		for (int i = 0; i < n; i++) {
			if (zadm_device_is_connected(cl[i].dev)) {
				if (cl[i].reconnect_ms[RESTARTS - 1] < 0)
					cl[i].reconnect_ms[RESTARTS - 1] = now_ms();
			} else {
				all = 0;
			}
		}
		if (all)
			break;
		usleep(50000);
	}
	/* Let the queues drain, then stop the clients and the sandbox. */
	sleep(3);
	for (int i = 0; i < n; i++)
		zadm_device_stop(cl[i].dev);
	kill(sb, SIGTERM);
	waitpid(sb, NULL, 0);

	/* Count. */
	{
		size_t got = 0, dups = 0, sent = 0, lost_around = 0, lost_else = 0, lost_after_reconnect = 0,
		       sent_after_reconnect = 0, not_back = 0;
		unsigned long qfull = 0;
		size_t lost_at[RESTARTS] = { 0 };
		long long worst_reconnect[RESTARTS] = { 0 };
		long rss_first, rss_last, rss_max = 0, rss_min = -1;
		int warm = nrss > 10 ? 5 : 0;

		for (int g = 1; g <= RESTARTS + 1; g++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/sandbox-%d.jsonl", outdir, g);
			got += read_events(path, cl, n, &dups);
		}
		for (int i = 0; i < n; i++) {
			struct client *c = &cl[i];

			qfull += c->queue_full;
			for (int k = 0; k < RESTARTS; k++) {
				if (c->reconnect_ms[k] < 0)
					not_back++;
				else if (c->reconnect_ms[k] - kill_ms[k] > worst_reconnect[k])
					worst_reconnect[k] = c->reconnect_ms[k] - kill_ms[k];
			}
			for (size_t s = 0; s < c->nsent; s++) {
				long long ts = c->sent_ms[s];
				int around = 0, after = 0, which = 0;

				for (int k = 0; k < RESTARTS; k++) {
					long long back = c->reconnect_ms[k] < 0 ? 1LL << 60 : c->reconnect_ms[k];

					if (ts >= kill_ms[k] - 1000 && ts < back) {
						around = 1;
						which = k;
					}
					if (ts >= back)
						after = 1;
				}
				sent++;
				sent_after_reconnect += after && !around;
				if (c->seen[s])
					continue;
				if (around) {
					lost_around++;
					lost_at[which]++;
				}
				else
					lost_else++;
				if (after && !around)
					lost_after_reconnect++;
			}
		}
		for (int i = warm; i < nrss; i++) {
			if (rss[i] > rss_max)
				rss_max = rss[i];
			if (rss_min < 0 || rss[i] < rss_min)
				rss_min = rss[i];
		}
		rss_first = nrss > warm ? rss[warm] : -1;
		rss_last = nrss ? rss[nrss - 1] : -1;
		printf("reconnects: restart 1 (SIGTERM): %s, slowest client back after %.1f s; restart 2 (SIGKILL): "
		       "%s, slowest back after %.1f s\n",
		       not_back ? "NOT ALL" : "all clients", worst_reconnect[0] / 1000.0,
		       not_back ? "NOT ALL" : "all clients", worst_reconnect[1] / 1000.0);
		printf("events: %zu sent (%lu queue-full retries), %zu received by the sandboxes (%zu duplicates)\n",
		       sent, qfull, got, dups);
		printf("  sent after a reconnection: %zu, lost: %zu\n", sent_after_reconnect, lost_after_reconnect);
		printf("  lost around a restart (sent from 1 s before the kill until the client was back): %zu "
		       "(restart 1: %zu, restart 2: %zu)\n", lost_around, lost_at[0], lost_at[1]);
		printf("  lost at any other time: %zu\n", lost_else);
		printf("memory: RSS of the client process, sampled every second from %d s: first %ld KiB, last %ld KiB, "
		       "min %ld KiB, max %ld KiB (%+.1f%% first to last); up to %d threads\n",
		       warm, rss_first, rss_last, rss_min, rss_max,
		       rss_first > 0 ? 100.0 * (double)(rss_last - rss_first) / (double)rss_first : 0.0, maxthreads);
		printf("rss samples (KiB):");
		for (int i = 0; i < nrss; i++)
			printf(" %ld", rss[i]);
		printf("\n");
		if (not_back || lost_else || lost_after_reconnect || dups) {
			ok = 0;
			printf("FAIL: %s%s%s\n", not_back ? "not every client reconnected; " : "",
			       lost_else || lost_after_reconnect ? "events lost outside a restart; " : "",
			       dups ? "duplicated events" : "");
		}
		/* Flat: the last sample within 10% (and 8 MiB) of the first after warm-up. */
		if (rss_first > 0 && rss_last - rss_first > rss_first / 10 && rss_last - rss_first > 8192) {
			ok = 0;
			printf("FAIL: the RSS grew from %ld KiB to %ld KiB\n", rss_first, rss_last);
		}
	}
	for (int i = 0; i < n; i++) {
		zadm_device_free(cl[i].dev);
		free(cl[i].sent_ms);
		free(cl[i].seen);
	}
	free(cl);
	printf("adm-load: %s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
