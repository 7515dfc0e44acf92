/* paho-bench.c: the reference side of bench/adm. The Eclipse Paho MQTT C client publishes N QoS 0
 * messages to a broker on 127.0.0.1 (mosquitto, started by run.sh) and a second Paho client, in a
 * child process, subscribes and counts them: events/s end to end, as zadm-bench measures libzadm.
 *
 * Payload: the exact bytes libzadm writes for zadm_device_send_event(dev, "{\"n\":i}"), that is
 * {"cmd":"EVNT","payload":{"n":i}} (without libzadm's '\n' line framing: MQTT frames by length),
 * i from 0 to N-1, on the topic "zadm/bench".
 *
 * Publisher modes: "sync" (MQTTClient, no callbacks: each publish is written by the calling
 * thread, TCP gives the back pressure) or "async" (MQTTAsync: MQTTAsync_sendMessage queues a
 * command that Paho's send thread writes; "sent" is when the last onSuccess fired).
 *
 * Output (parsed by run.sh):
 *   sent: N in T s: R msg/s
 *   events: M of N in T s: R events/s
 * "events" runs from the first publish to the subscriber's receipt of the last message (the times
 * are CLOCK_MONOTONIC, shared by both processes); M < N means the broker dropped QoS 0 messages.
 *
 * Build: cc -O2 -o paho-bench paho-bench.c -lpaho-mqtt3c -lpaho-mqtt3a
 * Usage: paho-bench PORT N [sync|async]
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <MQTTAsync.h>
#include <MQTTClient.h>

#define TOPIC "zadm/bench"
#define IDLE_S 5.0 /* the subscriber gives up after this long without a message */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int payload(char *buf, size_t len, int i)
{
	return snprintf(buf, len, "{\"cmd\":\"EVNT\",\"payload\":{\"n\":%d}}", i);
}

struct result {
	long count;
	double t_last;
};

/* The subscriber: connect, subscribe, say "ready" on wfd, count until n or IDLE_S of silence, then
 * write a struct result on wfd. */
static int subscriber(const char *uri, long n, int wfd)
{
	MQTTClient c;
	MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer;
	struct result res = { 0, 0 };
	double last;
	char ok = 'r';

	co.keepAliveInterval = 60;
	co.cleansession = 1;
	if (MQTTClient_create(&c, uri, "zadm-bench-sub", MQTTCLIENT_PERSISTENCE_NONE, NULL) ||
	    MQTTClient_connect(c, &co) || MQTTClient_subscribe(c, TOPIC, 0)) {
		fprintf(stderr, "paho-bench: subscriber cannot connect or subscribe to %s\n", uri);
		return 1;
	}
	if (write(wfd, &ok, 1) != 1)
		return 1;
	last = now_s();
	while (res.count < n && now_s() - last < IDLE_S) {
		MQTTClient_message *m = NULL;
		char *topic = NULL;
		int tlen = 0, rc = MQTTClient_receive(c, &topic, &tlen, &m, 1000);

		if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) {
			fprintf(stderr, "paho-bench: receive failed (%d)\n", rc);
			break;
		}
		if (m) {
			res.count++;
			last = res.t_last = now_s();
			MQTTClient_freeMessage(&m);
			MQTTClient_free(topic);
		}
	}
	if (write(wfd, &res, sizeof(res)) != sizeof(res))
		return 1;
	MQTTClient_disconnect(c, 1000);
	MQTTClient_destroy(&c);
	return 0;
}

static double publish_sync(const char *uri, long n)
{
	MQTTClient c;
	MQTTClient_connectOptions co = MQTTClient_connectOptions_initializer;
	char buf[96];

	co.keepAliveInterval = 60;
	co.cleansession = 1;
	if (MQTTClient_create(&c, uri, "zadm-bench-pub", MQTTCLIENT_PERSISTENCE_NONE, NULL) ||
	    MQTTClient_connect(c, &co)) {
		fprintf(stderr, "paho-bench: publisher cannot connect to %s\n", uri);
		exit(1);
	}
	for (long i = 0; i < n; i++) {
		int len = payload(buf, sizeof(buf), (int)i), rc;

		if ((rc = MQTTClient_publish(c, TOPIC, len, buf, 0, 0, NULL)) != MQTTCLIENT_SUCCESS) {
			fprintf(stderr, "paho-bench: publish %ld failed (%d)\n", i, rc);
			exit(1);
		}
	}
	{
		double t = now_s();

		MQTTClient_disconnect(c, 10000);
		MQTTClient_destroy(&c);
		return t;
	}
}

static atomic_long a_done;
static atomic_int a_connected;
static double a_t_last;

static void a_on_connect(void *ctx, MQTTAsync_successData *d)
{
	(void)ctx, (void)d;
	atomic_store(&a_connected, 1);
}

static void a_on_connect_fail(void *ctx, MQTTAsync_failureData *d)
{
	(void)ctx, (void)d;
	atomic_store(&a_connected, -1);
}

static void a_on_sent(void *ctx, MQTTAsync_successData *d)
{
	long n = *(long *)ctx;

	(void)d;
	if (atomic_fetch_add(&a_done, 1) + 1 == n)
		a_t_last = now_s();
}

static double publish_async(const char *uri, long n)
{
	MQTTAsync c;
	MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
	char buf[96];

	co.keepAliveInterval = 60;
	co.cleansession = 1;
	co.onSuccess = a_on_connect;
	co.onFailure = a_on_connect_fail;
	if (MQTTAsync_create(&c, uri, "zadm-bench-pub", MQTTCLIENT_PERSISTENCE_NONE, NULL) ||
	    MQTTAsync_connect(c, &co)) {
		fprintf(stderr, "paho-bench: publisher cannot connect to %s\n", uri);
		exit(1);
	}
	while (atomic_load(&a_connected) == 0)
		usleep(1000);
	if (atomic_load(&a_connected) < 0) {
		fprintf(stderr, "paho-bench: publisher cannot connect to %s\n", uri);
		exit(1);
	}
	for (long i = 0; i < n; i++) {
		MQTTAsync_message m = MQTTAsync_message_initializer;
		MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
		int rc;

		m.payloadlen = payload(buf, sizeof(buf), (int)i);
		m.payload = buf; /* copied by MQTTAsync_sendMessage */
		m.qos = 0;
		ro.onSuccess = a_on_sent;
		ro.context = &n;
		while ((rc = MQTTAsync_sendMessage(c, TOPIC, &m, &ro)) != MQTTASYNC_SUCCESS) {
			if (rc != MQTTASYNC_MAX_BUFFERED_MESSAGES) {
				fprintf(stderr, "paho-bench: publish %ld failed (%d)\n", i, rc);
				exit(1);
			}
			usleep(50);
		}
	}
	while (atomic_load(&a_done) < n)
		usleep(100);
	MQTTAsync_disconnect(c, NULL);
	usleep(100000);
	MQTTAsync_destroy(&c);
	return a_t_last;
}

int main(int argc, char **argv)
{
	int p[2], status;
	long n;
	char uri[64], ready;
	struct result res;
	double t0, t_sent;
	pid_t pid;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "sync") && strcmp(argv[3], "async"))) {
		fprintf(stderr, "usage: paho-bench PORT N [sync|async]\n");
		return 2;
	}
	snprintf(uri, sizeof(uri), "tcp://127.0.0.1:%d", atoi(argv[1]));
	n = atol(argv[2]);
	if (n <= 0 || pipe(p))
		return 2;
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		close(p[0]);
		_exit(subscriber(uri, n, p[1]));
	}
	close(p[1]);
	if (read(p[0], &ready, 1) != 1) {
		waitpid(pid, NULL, 0);
		return 1;
	}
	t0 = now_s();
	t_sent = argc == 4 && !strcmp(argv[3], "async") ? publish_async(uri, n) : publish_sync(uri, n);
	if (read(p[0], &res, sizeof(res)) != sizeof(res)) {
		waitpid(pid, NULL, 0);
		return 1;
	}
	waitpid(pid, &status, 0);
	printf("sent: %ld in %.3f s: %.0f msg/s\n", n, t_sent - t0, n / (t_sent - t0));
	if (res.count > 0)
		printf("events: %ld of %ld in %.3f s: %.0f events/s\n", res.count, n, res.t_last - t0,
		       res.count / (res.t_last - t0));
	else
		printf("events: 0 of %ld\n", n);
	return res.count == n ? 0 : 3;
}
