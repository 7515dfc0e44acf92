/* test-hotplug.c: `ztc -J device discover --loop` on a umockdev testbed prints a new set per plug. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <umockdev.h>

#include "umockdev-util.h"
#include "../common/check-util.h"

/* How long ztc may take to print a set: at most ~500 ms (a plug that is never bound); the margin is for
 * loaded machines. */
#define SET_TIMEOUT_MS 5000

#define DUE_SYSPATH "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1"
#define DUE_INTF DUE_SYSPATH "/1-1:1.0"
#define DUE_TTY DUE_INTF "/tty/ttyACM0"
#define DUE_JSON \
	"{\"vid\":\"2341\",\"pid\":\"003D\",\"sid\":\"75330303035351E0A1C0\"," \
	"\"uid\":\"df78e45849d9f7d1c9b29def5b9ffb7bf0b74429\",\"port\":\"/dev/ttyACM0\",\"disk\":null," \
	"\"desc\":\"Arduino__www.arduino.cc__Arduino_Due_Prog._Port_75330303035351E0A1C0\",\"usbpath\":\"1-1\"}"
/* The set of the Due alone. */
static const char *const due[] = { DUE_JSON };

/* tests/data/photon.umockdev moved to the hub's second port, so it can sit beside the Due. */
#define PHOTON_SYSPATH "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"
static const char photon_record[] =
	"P: /devices/pci0000:00/0000:00:14.0/usb1/1-2\n"
	"N: bus/usb/001/003\n"
	"E: DEVNAME=/dev/bus/usb/001/003\n"
	"E: DEVTYPE=usb_device\n"
	"E: DRIVER=usb\n"
	"E: SUBSYSTEM=usb\n"
	"E: ID_BUS=usb\n"
	"E: ID_VENDOR_ID=2b04\n"
	"E: ID_MODEL_ID=c006\n"
	"E: ID_SERIAL=Particle_Photon_3C002B000A47343432313031\n"
	"E: ID_SERIAL_SHORT=3C002B000A47343432313031\n"
	"A: idVendor=2b04\n"
	"A: idProduct=c006\n"
	"\n"
	"P: /devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0\n"
	"E: DEVTYPE=usb_interface\n"
	"E: DRIVER=cdc_acm\n"
	"E: INTERFACE=2/2/1\n"
	"E: SUBSYSTEM=usb\n"
	"\n"
	"P: /devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/tty/ttyACM1\n"
	"N: ttyACM1\n"
	"E: DEVNAME=/dev/ttyACM1\n"
	"E: SUBSYSTEM=tty\n"
	"E: ID_BUS=usb\n"
	"E: ID_VENDOR_ID=2b04\n"
	"E: ID_MODEL_ID=c006\n"
	"E: ID_SERIAL=Particle_Photon_3C002B000A47343432313031\n"
	"E: ID_SERIAL_SHORT=3C002B000A47343432313031\n";
#define PHOTON_JSON \
	"{\"vid\":\"2B04\",\"pid\":\"C006\",\"sid\":\"3C002B000A47343432313031\"," \
	"\"uid\":\"5ae5ef878dd2f9b177a089ac51a038e47c2c5911\",\"port\":\"/dev/ttyACM1\",\"disk\":null," \
	"\"desc\":\"Particle_Photon_3C002B000A47343432313031\",\"usbpath\":\"1-2\"}"

static UMockdevTestbed *tb;

/* The ztc under test and what it printed so far. */
static pid_t ztc_pid = -1;
static int ztc_out = -1;
static char outbuf[65536];
static size_t outlen;
static bool out_eof;

static void setup(void)
{
	unsetenv("ZTC_MOUNTINFO");
	unsetenv("ZTC_DEBUG");
	tb = umockdev_testbed_new();
	ck_assert_ptr_nonnull(tb);
	ztc_pid = -1;
	ztc_out = -1;
	outlen = 0;
	out_eof = false;
}

static void teardown(void)
{
	if (ztc_pid > 0) {
		kill(ztc_pid, SIGKILL);
		waitpid(ztc_pid, NULL, 0);
	}
	if (ztc_out >= 0)
		close(ztc_out);
	g_clear_object(&tb);
}

static void add_due(void)
{
	char *path = test_srcfile("tests/data/arduino_due.umockdev");
	GError *err = NULL;

	ck_assert_msg(umockdev_testbed_add_from_file(tb, path, &err), "%s: %s", path, err ? err->message : "?");
	g_free(path);
}

/* Start `ztc -J device discover --loop` with our environment: the preload and UMOCKDEV_DIR. With
 * looptime, netlink sockets fail (tests/tools/no-netlink.c preloaded first), so ztc cannot create a
 * udev monitor and polls every looptime ms; its stderr then goes to errfile. */
static void start_ztc_with(const char *looptime, const char *errfile)
{
	const char *ztc = getenv("ZTC");
	int fds[2];

	if (!ztc || !*ztc)
		ztc = ZTC_BUILT;
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	ztc_pid = fork();
	ck_assert_int_ge(ztc_pid, 0);
	if (ztc_pid == 0) {
		/* Never outlive the test, even when an assertion ends it before teardown. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], STDOUT_FILENO);
		if (looptime) {
			const char *old = getenv("LD_PRELOAD");
			char *preload = g_strdup_printf("%s%s%s", NO_NETLINK_SO, old ? ":" : "", old ? old : "");
			int efd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);

			setenv("LD_PRELOAD", preload, 1);
			if (efd >= 0)
				dup2(efd, STDERR_FILENO);
			execl(ztc, ztc, "-J", "device", "discover", "--loop", "--looptime", looptime, (char *)NULL);
		} else {
			execl(ztc, ztc, "-J", "device", "discover", "--loop", (char *)NULL);
		}
		fprintf(stderr, "cannot run %s: %s\n", ztc, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	ztc_out = fds[0];
	fcntl(ztc_out, F_SETFL, O_NONBLOCK);
}

static void start_ztc(void)
{
	start_ztc_with(NULL, NULL);
}

/* Read what ztc printed until the deadline; false on timeout (or end of output). */
static bool fill(long long deadline)
{
	for (;;) {
		struct pollfd pfd = { ztc_out, POLLIN, 0 };
		long long left = deadline - now_ms();
		ssize_t n;

		if (out_eof || left <= 0)
			return false;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		ck_assert_uint_lt(outlen, sizeof(outbuf) - 1);
		n = read(ztc_out, outbuf + outlen, sizeof(outbuf) - 1 - outlen);
		if (n > 0) {
			outlen += (size_t)n;
			return true;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			out_eof = true;
	}
}

/* The next line ztc printed (without its newline, g_free it), or NULL if none came in time. */
static char *next_line(long long deadline)
{
	for (;;) {
		char *nl = memchr(outbuf, '\n', outlen);

		if (nl) {
			size_t len = (size_t)(nl - outbuf);
			char *line = g_strndup(outbuf, len);

			memmove(outbuf, nl + 1, outlen - len - 1);
			outlen -= len + 1;
			return line;
		}
		if (!fill(deadline))
			return NULL;
	}
}

/* Read the next set (JSON Lines up to an empty line) and compare it with the expected lines. */
static void expect_set(const char *what, const char *const *want, size_t nwant)
{
	long long start = now_ms(), deadline = start + SET_TIMEOUT_MS;
	size_t n = 0;
	char *line;

	while ((line = next_line(deadline)) != NULL && *line) {
		ck_assert_msg(n < nwant, "%s: unexpected extra record %s", what, line);
		ck_assert_msg(strcmp(line, want[n]) == 0, "%s: record %zu is\n  %s\nnot\n  %s", what, n, line,
			      want[n]);
		g_free(line);
		n++;
	}
	ck_assert_msg(line != NULL, "%s: %s (%zu of %zu records, pending \"%.*s\")", what,
		      out_eof ? "ztc's output ended" : "no complete set within " G_STRINGIFY(SET_TIMEOUT_MS) " ms",
		      n, nwant, (int)outlen, outbuf);
	g_free(line);
	ck_assert_msg(n == nwant, "%s: %zu records, expected %zu", what, n, nwant);
}

/* Nothing more is printed within ms. */
static void expect_quiet(const char *what, int ms)
{
	ck_assert_msg(!fill(now_ms() + ms), "%s: ztc printed \"%.*s\"", what, (int)outlen, outbuf);
}

/* Send sig and wait (bounded) for ztc to end; it must exit 0 having printed nothing more. */
static void stop_ztc(int sig)
{
	long long deadline = now_ms() + SET_TIMEOUT_MS;
	int status = 0;
	pid_t r;

	ck_assert_int_eq(kill(ztc_pid, sig), 0);
	while ((r = waitpid(ztc_pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
		usleep(10000);
	ck_assert_msg(r == ztc_pid, "ztc did not end within %d ms of signal %d", SET_TIMEOUT_MS, sig);
	ztc_pid = -1;
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ztc ended with status 0x%x after signal %d",
		      (unsigned)status, sig);
	while (fill(now_ms() + 1000))
		;
	ck_assert_msg(out_eof && outlen == 0, "ztc printed \"%.*s\" after its last set", (int)outlen, outbuf);
}

/* Start ztc with the Due plugged: its first set is the Due. */
static void start_ztc_with_due(void)
{
	add_due();
	start_ztc();
	expect_set("at start, the Due", due, 1);
}

/* What the kernel announces when the Due is plugged, before any driver binds: its usb_device, interface
 * and tty added. */
static void due_add_events(void)
{
	umockdev_testbed_uevent(tb, DUE_SYSPATH, "add");
	umockdev_testbed_uevent(tb, DUE_INTF, "add");
	umockdev_testbed_uevent(tb, DUE_TTY, "add");
}

/* A board's usb_device and tty without their USB ids: from then on a rescan sees no board there. */
static void blank_ids(const char *usb, const char *tty)
{
	const char *const nodes[] = { tty, usb };

	for (size_t i = 0; i < 2; i++) {
		umockdev_testbed_set_property(tb, nodes[i], "ID_VENDOR_ID", "");
		umockdev_testbed_set_property(tb, nodes[i], "ID_MODEL_ID", "");
	}
}

/* Unplug, as the kernel does it: uevents child first. umockdev can only send the uevent of a device
 * that still exists, so the ids are blanked first: a rescan that happens between the uevents and the
 * removal already sees no board, whatever the timing. */
static void unplug(const char *usb, const char *intf, const char *tty)
{
	blank_ids(usb, tty);
	umockdev_testbed_uevent(tb, tty, "remove");
	umockdev_testbed_uevent(tb, intf, "remove");
	umockdev_testbed_uevent(tb, usb, "remove");
	umockdev_testbed_remove_device(tb, usb);
}

/* A plug as the kernel announces it: the usb_device, its interface and the tty are added, the interface
 * is bound to its driver, and last the usb_device is bound (after all its interfaces). Exactly one new set
 * is printed, after the final bind: the gaps before it are longer than the 50 ms that ztc used to wait
 * for the end of any burst, and shorter than the fallback for a plug that is never bound. */
START_TEST(hotplug_burst_plug)
{
	start_ztc();
	expect_set("at start, no device", NULL, 0);
	add_due();
	due_add_events();
	expect_quiet("usb_device, interface and tty added, nothing bound yet", 150);
	umockdev_testbed_uevent(tb, DUE_INTF, "bind");
	expect_quiet("interface bound, the usb_device not yet", 100);
	umockdev_testbed_uevent(tb, DUE_SYSPATH, "bind");
	expect_set("usb_device bound: the plug is complete", due, 1);
	expect_quiet("one plug, one set", 700);
	stop_ztc(SIGTERM);
}
END_TEST

/* An unplug: the tty and the interface go (unbind, remove), then the usb_device (unbind, remove): one
 * empty set, after the usb_device's remove. */
START_TEST(hotplug_burst_unplug)
{
	start_ztc_with_due();
	/* As in unplug(): a rescan at any point from here sees no board. */
	blank_ids(DUE_SYSPATH, DUE_TTY);
	umockdev_testbed_uevent(tb, DUE_TTY, "remove");
	umockdev_testbed_uevent(tb, DUE_INTF, "unbind");
	umockdev_testbed_uevent(tb, DUE_INTF, "remove");
	expect_quiet("tty and interface gone, the usb_device not yet", 150);
	umockdev_testbed_uevent(tb, DUE_SYSPATH, "unbind");
	umockdev_testbed_uevent(tb, DUE_SYSPATH, "remove");
	umockdev_testbed_remove_device(tb, DUE_SYSPATH);
	expect_set("usb_device removed: the unplug is complete", NULL, 0);
	expect_quiet("one unplug, one set", 700);
	stop_ztc(SIGTERM);
}
END_TEST

/* Without bind events (kernels before 4.14) a plug still shows, after the fallback timer. */
START_TEST(hotplug_add_remove)
{
	start_ztc();
	expect_set("at start, no device", NULL, 0);
	expect_quiet("nothing changed", 300);

	add_due();
	due_add_events();
	expect_set("Due plugged", due, 1);

	unplug(DUE_SYSPATH, DUE_INTF, DUE_TTY);
	expect_set("Due unplugged", NULL, 0);

	stop_ztc(SIGTERM);
}
END_TEST

START_TEST(hotplug_full_set_each_change)
{
	static const char *const both[] = { PHOTON_JSON, DUE_JSON };
	static const char *const photon[] = { PHOTON_JSON };
	GError *err = NULL;

	start_ztc_with_due();

	ck_assert_msg(umockdev_testbed_add_from_string(tb, photon_record, &err), "%s", err ? err->message : "?");
	umockdev_testbed_uevent(tb, PHOTON_SYSPATH, "add");
	umockdev_testbed_uevent(tb, PHOTON_SYSPATH "/1-2:1.0/tty/ttyACM1", "add");
	expect_set("Photon plugged beside the Due", both, 2);

	unplug(DUE_SYSPATH, DUE_INTF, DUE_TTY);
	expect_set("Due unplugged, Photon stays", photon, 1);

	stop_ztc(SIGINT);
}
END_TEST

START_TEST(hotplug_same_set_not_reprinted)
{
	start_ztc_with_due();
	/* An event that changes nothing the set shows. */
	umockdev_testbed_uevent(tb, DUE_TTY, "change");
	expect_quiet("after a change event that changes nothing", 500);
	/* A change that does show: ztc is still listening. */
	umockdev_testbed_set_property(tb, DUE_TTY, "ID_SERIAL", "Due_renamed");
	umockdev_testbed_uevent(tb, DUE_TTY, "change");
	{
		static const char *const renamed[] = {
			"{\"vid\":\"2341\",\"pid\":\"003D\",\"sid\":\"75330303035351E0A1C0\","
			"\"uid\":\"df78e45849d9f7d1c9b29def5b9ffb7bf0b74429\",\"port\":\"/dev/ttyACM0\",\"disk\":null,"
			"\"desc\":\"Due_renamed\",\"usbpath\":\"1-1\"}"
		};

		expect_set("desc changed", renamed, 1);
	}
	stop_ztc(SIGTERM);
}
END_TEST

START_TEST(hotplug_sigint)
{
	start_ztc();
	expect_set("at start, no device", NULL, 0);
	stop_ztc(SIGINT);
}
END_TEST

/* No udev monitor (netlink denied): ztc says so once and polls every --looptime ms. No uevent is sent
 * here at all, so only polling can see the changes. */
START_TEST(hotplug_poll_fallback)
{
	char *errfile = g_strdup_printf("%s/ztc-poll-%d.err", g_get_tmp_dir(), (int)getpid());
	char *err = NULL;

	start_ztc_with("100", errfile);
	expect_set("at start, no device", NULL, 0);
	add_due();
	expect_set("Due plugged, seen by polling", due, 1);
	expect_quiet("nothing changed between polls", 400);
	umockdev_testbed_remove_device(tb, DUE_SYSPATH);
	expect_set("Due unplugged, seen by polling", NULL, 0);
	stop_ztc(SIGTERM);
	ck_assert(g_file_get_contents(errfile, &err, NULL, NULL));
	ck_assert_msg(strcmp(err, "ztc: warning: cannot create a udev monitor; polling every 100 ms instead\n") == 0,
		      "stderr was \"%s\"", err);
	g_free(err);
	unlink(errfile);
	g_free(errfile);
}
END_TEST

static Suite *hotplug_suite(void)
{
	const TTest *tests[] = {
		hotplug_burst_plug, hotplug_burst_unplug, hotplug_add_remove, hotplug_full_set_each_change,
		hotplug_same_set_not_reprinted, hotplug_sigint, hotplug_poll_fallback, NULL,
	};
	TCase *tc = check_tcase("loop", setup, teardown, tests);

	tcase_set_timeout(tc, 30);
	return check_suite("hotplug", tc, NULL);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_ensure_preloaded(argv);
	return check_run(hotplug_suite(), NULL);
}
