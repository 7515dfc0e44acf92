/* zadm-bench.c: libzadm throughput and latency against a running zadm-sandbox on loopback.
 *
 * Usage: zadm-bench PORT CONTROL-SOCKET EVENTS CALLS [CLIENTS]
 * Output (parsed by run.sh):
 *   sent: N in T s: R msg/s              (the last zadm_device_send_event() accepted)
 *   events: N in T s: R events/s         (until the sandbox counted all N; its "list" command)
 *   rpc: C calls: p50 X ms, p99 Y ms     (control socket "call", so that hop is included)
 *   heap: K KiB per connected client     (mallinfo2 before and after CLIENTS more devices, 50)
 * EVENTS or CALLS 0 skips that part, CLIENTS 0 the heap part (run.sh runs it so under massif). */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "zadm/zadm.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int rpc_echo(void *ud, const char *args, char **ret)
{
	*ret = strdup(args);
	return 0;
}

/* One control command over the sandbox's Unix socket; the reply line into buf. */
static int ctl(int fd, const char *cmd, char *buf, size_t len)
{
	size_t n = 0;

	if (write(fd, cmd, strlen(cmd)) < 0)
		return -1;
	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, 1);

		if (r <= 0)
			return -1;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return 0;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static const zadm_rpc rpc[] = { { "echo", rpc_echo, NULL } };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int port, nevents, ncalls, nclients = 50, fd;
	zadm_device *dev;
	zadm_options o;
	double t0, t1, *lat;
	char buf[65536];

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: zadm-bench PORT CONTROL-SOCKET EVENTS CALLS [CLIENTS]\n");
		return 2;
	}
	port = atoi(argv[1]);
	nevents = atoi(argv[3]);
	ncalls = atoi(argv[4]);
	if (argc == 6)
		nclients = atoi(argv[5]);
	if (nevents < 0 || ncalls < 0 || nclients < 0) {
		fprintf(stderr, "zadm-bench: negative count\n");
		return 2;
	}
	zadm_options_init(&o);
	o.ip = "127.0.0.1";
	o.port = (unsigned int)port;
	o.rpc = rpc;
	o.n_rpc = 1;
	o.send_queue_max = 1024;
	if (zadm_device_new("bench", "t", &o, &dev) || zadm_device_start(dev))
		return 1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[2]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || ctl(fd, "wait bench 5\n", buf, sizeof(buf)))
		return 1;

	/* Events: as fast as the bounded queue takes them, until the server has counted them all. */
	t0 = now_s();
	for (int i = 0; i < nevents; i++) {
		char ev[64];

		snprintf(ev, sizeof(ev), "{\"n\":%d}", i);
		while (zadm_device_send_event(dev, ev) == ZADM_ERR_QUEUE_FULL)
			usleep(50);
	}
	if (nevents > 0) {
		double ts = now_s();

		printf("sent: %d in %.3f s: %.0f msg/s\n", nevents, ts - t0, nevents / (ts - t0));
	}
	for (double deadline = now_s() + 60;;) {
		char *p;

		if (ctl(fd, "list\n", buf, sizeof(buf)))
			return 1;
		p = strstr(buf, "\"events\":");
		if (p && atoi(p + 9) >= nevents)
			break;
		if (now_s() > deadline) {
			fprintf(stderr, "zadm-bench: the sandbox counted %d of %d events in 60 s\n",
				p ? atoi(p + 9) : 0, nevents);
			return 3;
		}
		usleep(1000);
	}
	t1 = now_s();
	if (nevents > 0)
		printf("events: %d in %.3f s: %.0f events/s\n", nevents, t1 - t0, nevents / (t1 - t0));

	/* RPC round trips, as the sandbox's control client sees them (control socket hop included). */
	lat = calloc((size_t)ncalls + 1, sizeof(*lat));
	for (int i = 0; i < ncalls; i++) {
		t0 = now_s();
		ctl(fd, "call bench echo [1]\n", buf, sizeof(buf));
		lat[i] = now_s() - t0;
	}
	qsort(lat, (size_t)ncalls, sizeof(*lat), cmp_d);
	if (ncalls > 0)
		printf("rpc: %d calls: p50 %.3f ms, p99 %.3f ms\n", ncalls, lat[ncalls / 2] * 1e3,
		       lat[ncalls * 99 / 100] * 1e3);
	free(lat);

	/* Heap per connected client: nclients more devices, logged in, idle. */
	if (nclients > 0) {
		const int N = nclients;
		zadm_device **devs = calloc((size_t)N, sizeof(*devs));
		size_t before = mallinfo2().uordblks, after;

		for (int i = 0; i < N; i++) {
			char uid[32], cmd[64];

			snprintf(uid, sizeof(uid), "heap%d", i);
			if (zadm_device_new(uid, "t", &o, &devs[i]) || zadm_device_start(devs[i]))
				return 1;
			snprintf(cmd, sizeof(cmd), "wait %s 5\n", uid);
			if (ctl(fd, cmd, buf, sizeof(buf)) || !strstr(buf, "\"ok\":true")) {
				fprintf(stderr, "zadm-bench: %s not logged in: %s\n", uid, buf);
				return 1;
			}
		}
		after = mallinfo2().uordblks;
		printf("heap: %.1f KiB per connected client (malloc, thread stacks excluded)\n",
		       (double)(after - before) / N / 1024);
		for (int i = 0; i < N; i++)
			zadm_device_free(devs[i]);
		free(devs);
	}
	close(fd);
	zadm_device_free(dev);
	return 0;
}
