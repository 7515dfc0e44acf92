/* test-discover.c: Check suites of libztc discovery: uid, record rules, fusion, on umockdev testbeds. */
#include "config.h"

#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <umockdev.h>

#include "ztc/ztc.h"
#include "umockdev-util.h"
#include "../common/check-util.h"

/* uids from the .expect.json files of tests/data (the Python toolchain's uids of the same boards). */
#define UID_DUE "df78e45849d9f7d1c9b29def5b9ffb7bf0b74429"      /* 2341:003D:75330303035351E0A1C0 */
#define UID_PHOTON "5ae5ef878dd2f9b177a089ac51a038e47c2c5911"   /* 2B04:C006:3C002B000A47343432313031 */
#define UID_CP2102 "e7a4bc050dddcfcc95a52881d92f1d4634052f87"   /* 10C4:EA60:0001 */
#define UID_STLINK "4fdcb314426cd95b56e470797a2538176b9ea771"   /* 0483:374B:0671FF485550755187101620 */
#define UID_KEYBOARD "d624c9720450f7f869baf78cba59805c20ea5aaf" /* 046D:C31C:no_sid */
#define UID_DFU "eb952fb1796d8b1893800fe1773ba4f64337aedc"      /* 2B04:D006:00000000010C */

static UMockdevTestbed *tb;

static void setup(void)
{
	/* ztc_ctx_new reads these; a test sets ZTC_MOUNTINFO before creating its context. */
	unsetenv("ZTC_MOUNTINFO");
	unsetenv("ZTC_DEBUG");
	tb = umockdev_testbed_new();
	ck_assert_ptr_nonnull(tb);
}

static void teardown(void)
{
	g_clear_object(&tb);
}

/* Discover with a fresh context (so ZTC_MOUNTINFO as set now applies); fails the test on error. */
static ztc_usbdev_list *discover(void)
{
	ztc_usbdev_list *list = NULL;
	ztc_ctx *ctx = NULL;
	int rc;

	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	rc = ztc_discover(ctx, &list);
	ck_assert_msg(rc == ZTC_OK, "ztc_discover: %d (%s)", rc, ztc_ctx_errmsg(ctx));
	ck_assert_ptr_nonnull(list);
	ztc_ctx_free(ctx);
	return list;
}

static const ztc_usbdev *find_uid(const ztc_usbdev_list *l, const char *uid)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->dev[i].uid, uid) == 0)
			return &l->dev[i];
	ck_abort_msg("no device with uid %s among %zu", uid, l->n);
	return NULL;
}

/* Write a mountinfo file into the testbed's directory and point ZTC_MOUNTINFO at it. */
static void set_mountinfo(const char *text)
{
	char *root = umockdev_testbed_get_root_dir(tb);
	char *path = g_build_filename(root, "mountinfo", NULL);

	ck_assert(g_file_set_contents(path, text, -1, NULL));
	setenv("ZTC_MOUNTINFO", path, 1);
	g_free(path);
	g_free(root);
}

#define MOUNTINFO_BASE \
	"22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n" \
	"23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n" \
	"24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw\n"
#define MOUNT_SDB(id, where) \
	id " 22 8:16 / " where " rw,nosuid,nodev,relatime shared:70 - vfat /dev/sdb " \
	"rw,uid=1000,gid=1000,fmask=0022,dmask=0022,codepage=437,iocharset=ascii,shortname=mixed,errors=remount-ro\n"

/* A board as udev shows it: a usb device with a node, its interface, and optionally a tty, a disk and
 * a hid node, all carrying the same ids (as udev's usb_id gives them to every child). A NULL field
 * leaves the property out. */
struct board {
	const char *bus;        /* "1-1", its place on the hub */
	const char *vid, *pid;  /* as udev writes them, lower case */
	const char *serial;     /* ID_SERIAL_SHORT / HID_UNIQ */
	const char *usb_desc, *tty_desc, *block_desc; /* ID_SERIAL of each record */
	const char *tty;        /* "ttyACM0" */
	const char *block;      /* "sdb" */
	const char *hid_name;   /* adds a hid node with this HID_NAME */
};

static void props_add(GPtrArray *p, const char *name, const char *value)
{
	if (value) {
		g_ptr_array_add(p, (gpointer)name);
		g_ptr_array_add(p, (gpointer)value);
	}
}

static char *add_node(const char *subsystem, const char *name, const char *parent, GPtrArray *p)
{
	const char *attrs[] = { NULL };
	char *syspath;

	g_ptr_array_add(p, NULL);
	syspath = umockdev_testbed_add_devicev(tb, subsystem, name, parent, (gchar **)attrs, (gchar **)p->pdata);
	ck_assert_ptr_nonnull(syspath);
	g_ptr_array_free(p, TRUE);
	return syspath;
}

static void add_ids(GPtrArray *p, const struct board *b, const char *desc)
{
	props_add(p, "ID_BUS", "usb");
	props_add(p, "ID_VENDOR_ID", b->vid);
	props_add(p, "ID_MODEL_ID", b->pid);
	props_add(p, "ID_SERIAL_SHORT", b->serial);
	props_add(p, "ID_SERIAL", desc);
}

/* Adds the board; *ret_intf (if not NULL) gets its interface's syspath (g_free it). */
static void add_board_at(const struct board *b, char **ret_intf)
{
	static int devnum = 2, hidnum = 1;
	char devname[32], ifname[32], hidname[64], *usb, *intf;
	GPtrArray *p;

	snprintf(devname, sizeof(devname), "bus/usb/001/%03d", devnum++);
	p = g_ptr_array_new();
	props_add(p, "DEVTYPE", "usb_device");
	props_add(p, "DEVNAME", devname);
	add_ids(p, b, b->usb_desc);
	usb = add_node("usb", b->bus, NULL, p);

	snprintf(ifname, sizeof(ifname), "%s:1.0", b->bus);
	p = g_ptr_array_new();
	props_add(p, "DEVTYPE", "usb_interface");
	props_add(p, "INTERFACE", "2/2/1");
	intf = add_node("usb", ifname, usb, p);

	if (b->tty) {
		p = g_ptr_array_new();
		props_add(p, "DEVNAME", b->tty);
		add_ids(p, b, b->tty_desc);
		g_free(add_node("tty", b->tty, intf, p));
	}
	if (b->block) {
		p = g_ptr_array_new();
		props_add(p, "DEVNAME", b->block);
		props_add(p, "DEVTYPE", "disk");
		add_ids(p, b, b->block_desc);
		g_free(add_node("block", b->block, intf, p));
	}
	if (b->hid_name) {
		char hid_id[32];

		snprintf(hid_id, sizeof(hid_id), "0003:0000%s:0000%s", b->vid, b->pid);
		snprintf(hidname, sizeof(hidname), "0003:%s:%s.%04X", b->vid, b->pid, hidnum++);
		p = g_ptr_array_new();
		props_add(p, "HID_ID", hid_id);
		props_add(p, "HID_NAME", b->hid_name);
		props_add(p, "HID_UNIQ", b->serial ? b->serial : "");
		g_free(add_node("hid", hidname, intf, p));
	}
	if (ret_intf)
		*ret_intf = intf;
	else
		g_free(intf);
	g_free(usb);
}

static void add_board(const struct board *b)
{
	add_board_at(b, NULL);
}

/* A hid node alone (as udev shows a hid interface whose usb parent is not under our subsystems). */
static void add_hid(const char *name, const char *hid_id, const char *uniq, const char *hid_name)
{
	GPtrArray *p = g_ptr_array_new();

	props_add(p, "DRIVER", "hid-generic");
	props_add(p, "HID_ID", hid_id);
	props_add(p, "HID_NAME", hid_name);
	props_add(p, "HID_UNIQ", uniq);
	g_free(add_node("hid", name, NULL, p));
}

/* Add the devices of a recording in tests/data (as umockdev-record wrote them) to the testbed. */
static void add_recorded(const char *file)
{
	char *path = test_srcfile(file);
	GError *err = NULL;

	ck_assert_msg(umockdev_testbed_add_from_file(tb, path, &err), "%s: %s", path, err ? err->message : "?");
	g_free(path);
}

/* Where a record sits: its place on the USB tree and its serial port. */
static void assert_place(const ztc_usbdev *d, const char *usbpath, const char *port)
{
	ck_assert_pstr_eq(d->usbpath, usbpath);
	ck_assert_pstr_eq(d->port, port);
}

static void assert_dev(const ztc_usbdev *d, const char *vid, const char *pid, const char *sid, const char *uid)
{
	ck_assert_str_eq(d->vid, vid);
	ck_assert_str_eq(d->pid, pid);
	ck_assert_str_eq(d->sid, sid);
	ck_assert_str_eq(d->uid, uid);
}

/* ---- uid ----------------------------------------------------------------------------------------- */

START_TEST(uid_known_boards)
{
	static const struct { const char *vid, *pid, *sid, *uid; } known[] = {
		{ "2341", "003D", "75330303035351E0A1C0", UID_DUE },
		{ "2B04", "C006", "3C002B000A47343432313031", UID_PHOTON },
		{ "2B04", "D006", "00000000010C", UID_DFU },
		{ "10C4", "EA60", "0001", UID_CP2102 },
		{ "0483", "374B", "0671FF485550755187101620", UID_STLINK },
		{ "046D", "C31C", "no_sid", UID_KEYBOARD },
	};
	char uid[41];

	for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++) {
		memset(uid, 'x', sizeof(uid));
		ck_assert_int_eq(ztc_uid_compute(known[i].vid, known[i].pid, known[i].sid, uid), ZTC_OK);
		ck_assert_str_eq(uid, known[i].uid);
	}
	/* The uid hashes the text as given: the caller upper-cases. */
	ck_assert_int_eq(ztc_uid_compute("2341", "003d", "75330303035351E0A1C0", uid), ZTC_OK);
	ck_assert_str_ne(uid, UID_DUE);
}
END_TEST

START_TEST(uid_bad_args)
{
	char uid[41] = "untouched";

	ck_assert_int_eq(ztc_uid_compute(NULL, "003D", "no_sid", uid), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_uid_compute("2341", NULL, "no_sid", uid), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_uid_compute("2341", "003D", NULL, uid), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_uid_compute("2341", "003D", "no_sid", NULL), ZTC_ERR_ARG);
	ck_assert_str_eq(uid, "untouched");
}
END_TEST

START_TEST(discover_bad_args)
{
	ztc_usbdev_list *list = (ztc_usbdev_list *)&list; /* must stay untouched */
	ztc_ctx *ctx;

	ck_assert_int_eq(ztc_discover(NULL, &list), ZTC_ERR_ARG);
	ck_assert_ptr_eq(list, (ztc_usbdev_list *)&list);
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	ck_assert_int_eq(ztc_discover(ctx, NULL), ZTC_ERR_ARG);
	ztc_ctx_free(ctx);
}
END_TEST

/* ---- record rules ------------------------------------------------------------------------------- */

START_TEST(rec_vid_pid_upper)
{
	ztc_usbdev_list *l;

	add_board(&(struct board){ .bus = "1-1", .vid = "2b04", .pid = "c006",
				   .serial = "3C002B000A47343432313031", .usb_desc = "Particle_Photon" });
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	assert_dev(&l->dev[0], "2B04", "C006", "3C002B000A47343432313031", UID_PHOTON);
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_sid_upper)
{
	ztc_usbdev_list *l;

	add_board(&(struct board){ .bus = "1-1", .vid = "2341", .pid = "003d", .serial = "75330303035351e0a1c0",
				   .tty = "ttyACM0" });
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	assert_dev(&l->dev[0], "2341", "003D", "75330303035351E0A1C0", UID_DUE);
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_no_sid)
{
	ztc_usbdev_list *l;

	add_board(&(struct board){ .bus = "1-1", .vid = "046d", .pid = "c31c", .usb_desc = "Logitech_USB_Keyboard" });
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	assert_dev(&l->dev[0], "046D", "C31C", "no_sid", UID_KEYBOARD);
	ck_assert_str_eq(l->dev[0].desc, "Logitech_USB_Keyboard");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_empty_sid_is_no_sid)
{
	ztc_usbdev_list *l;

	add_board(&(struct board){ .bus = "1-1", .vid = "046d", .pid = "c31c", .serial = "" });
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	assert_dev(&l->dev[0], "046D", "C31C", "no_sid", UID_KEYBOARD);
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_tty_without_vendor_ignored)
{
	ztc_usbdev_list *l;
	char *s;

	/* A motherboard serial port: a tty with a node but no USB ids. */
	s = tb_add(tb, "tty", "ttyS0", NULL, "DEVNAME", "/dev/ttyS0", "ID_PATH", "platform-serial8250",
		   "ID_MM_CANDIDATE", "1", NULL);
	ck_assert_ptr_nonnull(s);
	g_free(s);
	l = discover();
	ck_assert_uint_eq(l->n, 0);
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_usb_interface_ignored)
{
	ztc_usbdev_list *l;
	char *s;

	/* An interface carries the ids too but has no node: only the usb device counts. */
	s = tb_add(tb, "usb", "1-1:1.0", NULL, "DEVTYPE", "usb_interface", "INTERFACE", "2/2/1",
		   "ID_VENDOR_ID", "2341", "ID_MODEL_ID", "003d", "ID_SERIAL_SHORT", "75330303035351E0A1C0", NULL);
	g_free(s);
	l = discover();
	ck_assert_uint_eq(l->n, 0);
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_usb_device_counted)
{
	ztc_usbdev_list *l;
	const ztc_usbdev *d;

	add_board(&(struct board){ .bus = "1-1", .vid = "2b04", .pid = "d006", .serial = "00000000010C",
				   .usb_desc = "Particle_Photon_DFU_Mode_00000000010C" });
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	d = &l->dev[0];
	assert_dev(d, "2B04", "D006", "00000000010C", UID_DFU);
	ck_assert_str_eq(d->desc, "Particle_Photon_DFU_Mode_00000000010C");
	ck_assert_ptr_null(d->port);
	ck_assert_ptr_null(d->disk);
	ck_assert_ptr_null(d->block);
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_tty_port)
{
	ztc_usbdev_list *l;

	add_board(&(struct board){ .bus = "1-3", .vid = "10c4", .pid = "ea60", .serial = "0001", .tty = "ttyUSB0" });
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	assert_dev(&l->dev[0], "10C4", "EA60", "0001", UID_CP2102);
	ck_assert_pstr_eq(l->dev[0].port, "/dev/ttyUSB0");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_hid)
{
	ztc_usbdev_list *l;
	const ztc_usbdev *d;
	char uid[41];

	/* HID_ID is bus:vendor:product with 8-digit fields; the original toolchain took the wrong ones. */
	add_hid("0003:046D:C31C.0001", "0003:0000046D:0000C31C", "ab12cd34", "Logitech USB Keyboard");
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	d = &l->dev[0];
	ck_assert_int_eq(ztc_uid_compute("046D", "C31C", "AB12CD34", uid), ZTC_OK);
	assert_dev(d, "046D", "C31C", "AB12CD34", uid);
	ck_assert_pstr_eq(d->desc, "Logitech USB Keyboard");
	ck_assert_ptr_null(d->port);
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_hid_lower_case_id)
{
	ztc_usbdev_list *l;

	add_hid("0003:046D:C31C.0001", "0003:0000046d:0000c31c", "", "Logitech USB Keyboard");
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	assert_dev(&l->dev[0], "046D", "C31C", "no_sid", UID_KEYBOARD);
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_hid_empty_uniq)
{
	ztc_usbdev_list *l;

	add_hid("0003:046D:C31C.0005", "0003:0000046D:0000C31C", "", "Logitech USB Keyboard");
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	assert_dev(&l->dev[0], "046D", "C31C", "no_sid", UID_KEYBOARD);
	ck_assert_pstr_eq(l->dev[0].desc, "Logitech USB Keyboard");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_hid_bluetooth_ignored)
{
	ztc_usbdev_list *l;

	add_hid("0005:046D:B33D.0002", "0005:0000046D:0000B33D", "f4:73:35:00:11:22", "MX Keys Mini");
	l = discover();
	ck_assert_uint_eq(l->n, 0);
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_hid_malformed_ignored)
{
	static const char *const bad[] = {
		"",                          /* empty */
		"0003:046D",                 /* no product */
		"0003:0000046D:0000C31C:01", /* trailing field */
		"0003:0000046D:0000C31Cx",   /* trailing junk */
		"garbage",
		"0003:0001046D:0000C31C",    /* vendor beyond 16 bits */
		"0003:0000046D:0001C31C",    /* product beyond 16 bits */
	};
	ztc_usbdev_list *l;
	char name[32];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(name, sizeof(name), "0003:046D:C31C.%04zu", i + 1);
		add_hid(name, bad[i], "SERIAL1", "Broken HID");
	}
	add_hid("0003:046D:C31C.0100", NULL, "SERIAL1", "HID without HID_ID");
	l = discover();
	ck_assert_msg(l->n == 0, "%zu records from malformed HID_IDs, first %s:%s", l->n,
		      l->n ? l->dev[0].vid : "", l->n ? l->dev[0].pid : "");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_vid_not_hex4_ignored)
{
	static const char *const bad[][2] = {
		{ "23411", "003d" }, { "234", "003d" }, { "zz41", "003d" }, { "", "003d" },
		{ "2341", "3d" },    { "2341", "003g" }, { "2341", "003d " },
	};
	ztc_usbdev_list *l;
	char bus[16];

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(bus, sizeof(bus), "1-%zu", i + 1);
		add_board(&(struct board){ .bus = bus, .vid = bad[i][0], .pid = bad[i][1], .serial = "0001",
					   .tty = NULL });
	}
	l = discover();
	ck_assert_msg(l->n == 0, "%zu records from bad ids, first %s:%s", l->n, l->n ? l->dev[0].vid : "",
		      l->n ? l->dev[0].pid : "");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(rec_id_usb_fallbacks)
{
	ztc_usbdev_list *l;
	const ztc_usbdev *d;
	char *s;

	/* Some udev versions give a tty only the ID_USB_* names. */
	s = tb_add(tb, "tty", "ttyACM0", NULL, "DEVNAME", "/dev/ttyACM0", "ID_USB_VENDOR_ID", "2341",
		   "ID_USB_MODEL_ID", "003d", "ID_USB_SERIAL_SHORT", "75330303035351e0a1c0", "ID_USB_SERIAL",
		   "Arduino_Due_75330303035351E0A1C0", NULL);
	g_free(s);
	/* When both are there, ID_* wins over ID_USB_*. */
	s = tb_add(tb, "tty", "ttyUSB0", NULL, "DEVNAME", "/dev/ttyUSB0", "ID_VENDOR_ID", "10c4",
		   "ID_USB_VENDOR_ID", "1a86", "ID_MODEL_ID", "ea60", "ID_USB_MODEL_ID", "7523",
		   "ID_SERIAL_SHORT", "0001", "ID_USB_SERIAL_SHORT", "0002", NULL);
	g_free(s);
	l = discover();
	ck_assert_uint_eq(l->n, 2);
	d = find_uid(l, UID_DUE);
	assert_dev(d, "2341", "003D", "75330303035351E0A1C0", UID_DUE);
	ck_assert_pstr_eq(d->port, "/dev/ttyACM0");
	ck_assert_pstr_eq(d->desc, "Arduino_Due_75330303035351E0A1C0");
	d = find_uid(l, UID_CP2102);
	assert_dev(d, "10C4", "EA60", "0001", UID_CP2102);
	ck_assert_pstr_eq(d->port, "/dev/ttyUSB0");
	ztc_usbdev_list_free(l);
}
END_TEST

/* ---- fusion ------------------------------------------------------------------------------------- */

START_TEST(fuse_one_board)
{
	ztc_usbdev_list *l;
	const ztc_usbdev *d;

	set_mountinfo(MOUNTINFO_BASE MOUNT_SDB("130", "/media/user/NODE_F401RE"));
	add_board(&(struct board){ .bus = "1-4", .vid = "0483", .pid = "374b", .serial = "0671FF485550755187101620",
				   .usb_desc = "STMicroelectronics_STM32_STLink_0671FF485550755187101620",
				   .tty_desc = "STMicroelectronics_STM32_STLink_0671FF485550755187101620",
				   .block_desc = "MBED_microcontroller_0671FF485550755187101620-0:0",
				   .tty = "ttyACM2", .block = "sdb", .hid_name = "STM32 STLink" });
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	d = &l->dev[0];
	assert_dev(d, "0483", "374B", "0671FF485550755187101620", UID_STLINK);
	ck_assert_pstr_eq(d->port, "/dev/ttyACM2");
	ck_assert_pstr_eq(d->block, "/dev/sdb");
	ck_assert_pstr_eq(d->disk, "/media/user/NODE_F401RE");
	ck_assert_pstr_eq(d->desc, "STMicroelectronics_STM32_STLink_0671FF485550755187101620");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(fuse_disk_newest_mount)
{
	ztc_usbdev_list *l;

	/* Mounted twice (the older mount shadowed): the newest mount is where files go. */
	set_mountinfo(MOUNTINFO_BASE MOUNT_SDB("130", "/media/user/OLD") MOUNT_SDB("131", "/mnt/nucleo"));
	add_board(&(struct board){ .bus = "1-4", .vid = "0483", .pid = "374b", .serial = "0671FF485550755187101620",
				   .tty = "ttyACM0", .block = "sdb" });
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	ck_assert_pstr_eq(l->dev[0].disk, "/mnt/nucleo");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(fuse_disk_unmounted)
{
	ztc_usbdev_list *l;

	set_mountinfo(MOUNTINFO_BASE);
	add_board(&(struct board){ .bus = "1-4", .vid = "0483", .pid = "374b", .serial = "0671FF485550755187101620",
				   .tty = "ttyACM0", .block = "sdb" });
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	ck_assert_pstr_eq(l->dev[0].block, "/dev/sdb");
	ck_assert_ptr_null(l->dev[0].disk);
	ck_assert_pstr_eq(l->dev[0].port, "/dev/ttyACM0");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(fuse_first_nonempty_wins)
{
	ztc_usbdev_list *l;
	char uid[4][41];

	/* Four boards, each giving desc to a different set of its records. */
	add_board(&(struct board){ .bus = "1-1", .vid = "2341", .pid = "003d", .serial = "A1", .tty = "ttyACM0",
				   .block = "sda", .hid_name = "hid-1", .usb_desc = "usb-1", .tty_desc = "tty-1",
				   .block_desc = "block-1" });
	add_board(&(struct board){ .bus = "1-2", .vid = "2341", .pid = "003d", .serial = "A2", .tty = "ttyACM1",
				   .block = "sdb", .hid_name = "hid-2", .usb_desc = "usb-2", .block_desc = "block-2" });
	add_board(&(struct board){ .bus = "1-3", .vid = "2341", .pid = "003d", .serial = "A3", .tty = "ttyACM2",
				   .block = "sdc", .hid_name = "hid-3", .usb_desc = "usb-3" });
	add_board(&(struct board){ .bus = "1-5", .vid = "2341", .pid = "003d", .serial = "A4", .tty = "ttyACM3",
				   .hid_name = "hid-4" });
	for (int i = 0; i < 4; i++) {
		char sid[3] = { 'A', (char)('1' + i), 0 };

		ck_assert_int_eq(ztc_uid_compute("2341", "003D", sid, uid[i]), ZTC_OK);
	}
	l = discover();
	ck_assert_uint_eq(l->n, 4);
	ck_assert_pstr_eq(find_uid(l, uid[0])->desc, "tty-1");
	ck_assert_pstr_eq(find_uid(l, uid[1])->desc, "block-2");
	ck_assert_pstr_eq(find_uid(l, uid[2])->desc, "usb-3");
	ck_assert_pstr_eq(find_uid(l, uid[3])->desc, "hid-4");
	ck_assert_pstr_eq(find_uid(l, uid[3])->port, "/dev/ttyACM3");
	ck_assert_pstr_eq(find_uid(l, uid[2])->block, "/dev/sdc");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(fuse_two_boards_two_serials)
{
	ztc_usbdev_list *l;
	const ztc_usbdev *a, *b;
	char uid_b[41];

	add_board(&(struct board){ .bus = "1-1", .vid = "2341", .pid = "003d", .serial = "75330303035351E0A1C0",
				   .tty = "ttyACM0", .usb_desc = "Due_1" });
	add_board(&(struct board){ .bus = "1-2", .vid = "2341", .pid = "003d", .serial = "85736323838351F0B1D2",
				   .tty = "ttyACM1", .usb_desc = "Due_2" });
	ck_assert_int_eq(ztc_uid_compute("2341", "003D", "85736323838351F0B1D2", uid_b), ZTC_OK);
	l = discover();
	ck_assert_uint_eq(l->n, 2);
	a = find_uid(l, UID_DUE);
	b = find_uid(l, uid_b);
	ck_assert_pstr_eq(a->port, "/dev/ttyACM0");
	ck_assert_pstr_eq(a->desc, "Due_1");
	ck_assert_pstr_eq(b->port, "/dev/ttyACM1");
	ck_assert_pstr_eq(b->desc, "Due_2");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(fuse_sorted_by_uid)
{
	/* desk.umockdev, whose bus order (Due, Photon, CP2102, ST-Link, keyboard) is not uid order. */
	static const char *const want[][3] = {
		{ UID_STLINK, "/dev/ttyACM2", "/dev/sdb" },
		{ UID_PHOTON, "/dev/ttyACM1", NULL },
		{ UID_KEYBOARD, NULL, NULL },
		{ UID_DUE, "/dev/ttyACM0", NULL },
		{ UID_CP2102, "/dev/ttyUSB0", NULL },
	};
	ztc_usbdev_list *l;

	add_recorded("tests/data/desk.umockdev");
	l = discover();
	ck_assert_uint_eq(l->n, 5);
	for (size_t i = 0; i < l->n; i++) {
		ck_assert_str_eq(l->dev[i].uid, want[i][0]);
		ck_assert_pstr_eq(l->dev[i].port, want[i][1]);
		ck_assert_pstr_eq(l->dev[i].block, want[i][2]);
		ck_assert_ptr_nonnull(l->dev[i].desc);
	}
	/* The keyboard's usb record comes before its hid record: ID_SERIAL, not HID_NAME. */
	ck_assert_str_eq(l->dev[2].desc, "Logitech_USB_Keyboard");
	ztc_usbdev_list_free(l);
}
END_TEST

START_TEST(list_equal)
{
	ztc_usbdev_list *a, *b, *c;
	char *tty, *intf;

	add_board_at(&(struct board){ .bus = "1-1", .vid = "2341", .pid = "003d", .serial = "75330303035351E0A1C0",
				      .usb_desc = "Due" }, &intf);
	tty = tb_add(tb, "tty", "ttyACM0", intf, "DEVNAME", "/dev/ttyACM0", "ID_VENDOR_ID", "2341",
		     "ID_MODEL_ID", "003d", "ID_SERIAL_SHORT", "75330303035351E0A1C0", "ID_SERIAL", "Due", NULL);
	g_free(intf);
	a = discover();
	b = discover();
	ck_assert_int_eq(ztc_usbdev_list_equal(a, b), 1);
	ck_assert_int_eq(ztc_usbdev_list_equal(a, a), 1);
	ck_assert_int_eq(ztc_usbdev_list_equal(NULL, NULL), 1);
	ck_assert_int_eq(ztc_usbdev_list_equal(a, NULL), 0);
	ck_assert_int_eq(ztc_usbdev_list_equal(NULL, a), 0);

	/* Same uid, another desc: a change worth printing again. */
	umockdev_testbed_set_property(tb, tty, "ID_SERIAL", "Due_renamed");
	c = discover();
	ck_assert_uint_eq(c->n, 1);
	ck_assert_pstr_eq(c->dev[0].desc, "Due_renamed");
	ck_assert_int_eq(ztc_usbdev_list_equal(a, c), 0);
	ztc_usbdev_list_free(c);

	/* One more board. */
	add_board(&(struct board){ .bus = "1-2", .vid = "2b04", .pid = "c006", .serial = "3C002B000A47343432313031" });
	c = discover();
	ck_assert_uint_eq(c->n, 2);
	ck_assert_int_eq(ztc_usbdev_list_equal(a, c), 0);
	ck_assert_int_eq(ztc_usbdev_list_equal(c, a), 0);
	ztc_usbdev_list_free(c);
	ztc_usbdev_list_free(b);
	ztc_usbdev_list_free(a);
	g_free(tty);
}
END_TEST

START_TEST(list_equal_fields)
{
	ztc_usbdev x = { "2341", "003D", "75330303035351E0A1C0", UID_DUE, "/dev/ttyACM0", NULL, "Due", NULL, "1-1" };
	ztc_usbdev y = x;
	ztc_usbdev_list a = { 1, &x }, b = { 1, &y }, empty = { 0, NULL };

	ck_assert_int_eq(ztc_usbdev_list_equal(&a, &b), 1);
	ck_assert_int_eq(ztc_usbdev_list_equal(&empty, &empty), 1);
	ck_assert_int_eq(ztc_usbdev_list_equal(&a, &empty), 0);
	y.port = "/dev/ttyACM1";
	ck_assert_int_eq(ztc_usbdev_list_equal(&a, &b), 0);
	y.port = NULL;
	ck_assert_int_eq(ztc_usbdev_list_equal(&a, &b), 0);
	y = x;
	y.disk = "/media/user/DUE";
	ck_assert_int_eq(ztc_usbdev_list_equal(&a, &b), 0);
	y = x;
	y.block = "/dev/sdb";
	ck_assert_int_eq(ztc_usbdev_list_equal(&a, &b), 0);
	y = x;
	y.uid = UID_PHOTON;
	ck_assert_int_eq(ztc_usbdev_list_equal(&a, &b), 0);
	/* The same board moved to another socket. */
	y = x;
	y.usbpath = "1-2";
	ck_assert_int_eq(ztc_usbdev_list_equal(&a, &b), 0);
	y.usbpath = NULL;
	ck_assert_int_eq(ztc_usbdev_list_equal(&a, &b), 0);
}
END_TEST

/* Two CP2102 boards with the factory serial 0001: one record each, one uid, told apart by usbpath. */
START_TEST(fuse_twins_same_serial)
{
	ztc_usbdev_list *l;

	add_board(&(struct board){ .bus = "1-3", .vid = "10c4", .pid = "ea60", .serial = "0001", .tty = "ttyUSB1",
				   .usb_desc = "CP2102_0001" });
	add_board(&(struct board){ .bus = "1-2", .vid = "10c4", .pid = "ea60", .serial = "0001", .tty = "ttyUSB0",
				   .usb_desc = "CP2102_0001" });
	l = discover();
	ck_assert_uint_eq(l->n, 2);
	/* Sorted by uid, then usbpath. */
	assert_dev(&l->dev[0], "10C4", "EA60", "0001", UID_CP2102);
	assert_dev(&l->dev[1], "10C4", "EA60", "0001", UID_CP2102);
	assert_place(&l->dev[0], "1-2", "/dev/ttyUSB0");
	assert_place(&l->dev[1], "1-3", "/dev/ttyUSB1");
	ztc_usbdev_list_free(l);
}
END_TEST

/* tests/data/ch340_twins.umockdev: two serial-less CH340 adapters, as udev recorded them. */
START_TEST(fuse_twins_no_serial)
{
	ztc_usbdev_list *l;
	char uid[41];

	add_recorded("tests/data/ch340_twins.umockdev");
	ck_assert_int_eq(ztc_uid_compute("1A86", "7523", "no_sid", uid), ZTC_OK);
	l = discover();
	ck_assert_uint_eq(l->n, 2);
	for (size_t i = 0; i < 2; i++)
		assert_dev(&l->dev[i], "1A86", "7523", "no_sid", uid);
	assert_place(&l->dev[0], "1-2", "/dev/ttyUSB0");
	assert_place(&l->dev[1], "1-3", "/dev/ttyUSB1");
	ztc_usbdev_list_free(l);
}
END_TEST

/* tests/data/cp2102_twins.umockdev: behind a hub, the usbpath is the port path through it. */
START_TEST(fuse_twins_behind_hub)
{
	ztc_usbdev_list *l;

	add_recorded("tests/data/cp2102_twins.umockdev");
	l = discover();
	ck_assert_uint_eq(l->n, 3); /* the hub is a USB device too */
	assert_place(&l->dev[0], "1-1", NULL);
	ck_assert_pstr_eq(find_uid(l, UID_CP2102)->usbpath, "1-1.2");
	ck_assert_str_eq(l->dev[1].uid, UID_CP2102);
	ck_assert_pstr_eq(l->dev[1].port, "/dev/ttyUSB0");
	ck_assert_str_eq(l->dev[2].uid, UID_CP2102);
	assert_place(&l->dev[2], "1-1.3", "/dev/ttyUSB1");
	ztc_usbdev_list_free(l);
}
END_TEST

/* A composite device: two serial ports and a disk under one usb_device are one record; the port of the
 * first interface wins, whatever the order the nodes were listed in. */
START_TEST(fuse_composite_first_interface)
{
	ztc_usbdev_list *l;
	char *usb, *if0, *if2;

	usb = tb_add(tb, "usb", "2-1", NULL, "DEVTYPE", "usb_device", "DEVNAME", "bus/usb/002/002", "ID_VENDOR_ID",
		     "0403", "ID_MODEL_ID", "6010", "ID_SERIAL_SHORT", "FT2232", NULL);
	if2 = tb_add(tb, "usb", "2-1:1.1", usb, "DEVTYPE", "usb_interface", NULL);
	if0 = tb_add(tb, "usb", "2-1:1.0", usb, "DEVTYPE", "usb_interface", NULL);
	g_free(tb_add(tb, "tty", "ttyUSB7", if2, "DEVNAME", "/dev/ttyUSB7", "ID_VENDOR_ID", "0403", "ID_MODEL_ID",
		      "6010", "ID_SERIAL_SHORT", "FT2232", NULL));
	g_free(tb_add(tb, "tty", "ttyUSB3", if0, "DEVNAME", "/dev/ttyUSB3", "ID_VENDOR_ID", "0403", "ID_MODEL_ID",
		      "6010", "ID_SERIAL_SHORT", "FT2232", NULL));
	l = discover();
	ck_assert_uint_eq(l->n, 1);
	assert_place(&l->dev[0], "2-1", "/dev/ttyUSB3");
	ztc_usbdev_list_free(l);
	g_free(if0);
	g_free(if2);
	g_free(usb);
}
END_TEST

/* Nodes with USB ids but no usb_device above them (no parent in sysfs) have no usbpath and fuse by uid,
 * never with a board of the same uid that has one. */
START_TEST(fuse_no_usb_parent)
{
	ztc_usbdev_list *l;

	g_free(tb_add(tb, "tty", "ttyACM5", NULL, "DEVNAME", "/dev/ttyACM5", "ID_VENDOR_ID", "2341", "ID_MODEL_ID",
		      "003d", "ID_SERIAL_SHORT", "75330303035351E0A1C0", NULL));
	add_hid("0003:2341:003D.0009", "0003:00002341:0000003D", "75330303035351E0A1C0", "Due HID");
	add_board(&(struct board){ .bus = "1-1", .vid = "2341", .pid = "003d", .serial = "75330303035351E0A1C0",
				   .tty = "ttyACM0" });
	l = discover();
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(l->dev[0].uid, UID_DUE);
	assert_place(&l->dev[0], NULL, "/dev/ttyACM5");
	ck_assert_pstr_eq(l->dev[0].desc, "Due HID");
	assert_place(&l->dev[1], "1-1", "/dev/ttyACM0");
	ztc_usbdev_list_free(l);
}
END_TEST

/* ---- monitor: the set after events, reading only what they concern --------------------------------- */

/* Wait (up to 5 s) until the monitor says the events so far have settled. */
static void settle(ztc_monitor *mon)
{
	for (int i = 0; i < 100; i++) {
		struct pollfd pfd = { ztc_monitor_get_fd(mon), POLLIN, 0 };
		int wait = -1;

		if (ztc_monitor_settle(mon, &wait) == 1)
			return;
		poll(&pfd, 1, wait < 0 || wait > 50 ? 50 : wait);
	}
	ck_abort_msg("the monitor's events did not settle within 5 s");
}

/* Check that what the monitor read (only the devices the events concern) is what a full pass reads. */
static ztc_usbdev_list *step(ztc_ctx *ctx, ztc_monitor *mon, ztc_usbdev_list *prev, size_t want)
{
	ztc_usbdev_list *cur = NULL, *full = discover();

	settle(mon);
	ck_assert_int_eq(ztc_monitor_discover(mon, prev, &cur), ZTC_OK);
	ck_assert_msg(ztc_usbdev_list_equal(cur, full), "%zu records after the events, %zu read in full", cur->n,
		      full->n);
	ck_assert_uint_eq(cur->n, want);
	ztc_usbdev_list_free(full);
	ztc_usbdev_list_free(prev);
	(void)ctx;
	return cur;
}

START_TEST(monitor_partial_reread)
{
	ztc_usbdev_list *l;
	ztc_monitor *mon;
	ztc_ctx *ctx;
	char *tty;

	add_recorded("tests/data/desk.umockdev");
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	ck_assert_int_eq(ztc_monitor_new(ctx, &mon), ZTC_OK);
	l = discover();
	ck_assert_uint_eq(l->n, 5);
	/* A twin of desk's CP2102 (serial 0001) on another port: umockdev sends the add events. */
	add_board(&(struct board){ .bus = "3-2", .vid = "10c4", .pid = "ea60", .serial = "0001", .tty = "ttyUSB5" });
	umockdev_testbed_uevent(tb, "/sys/devices/3-2", "bind");
	l = step(ctx, mon, l, 6);
	/* Its tty renamed (a change event): that device alone is read again. */
	umockdev_testbed_set_property(tb, "/sys/devices/3-2/3-2:1.0/ttyUSB5", "ID_SERIAL", "renamed");
	umockdev_testbed_uevent(tb, "/sys/devices/3-2/3-2:1.0/ttyUSB5", "change");
	l = step(ctx, mon, l, 6);
	/* Unplugged: its records go, the other five stay. */
	umockdev_testbed_set_property(tb, "/sys/devices/3-2", "ID_VENDOR_ID", "");
	umockdev_testbed_set_property(tb, "/sys/devices/3-2/3-2:1.0/ttyUSB5", "ID_VENDOR_ID", "");
	umockdev_testbed_uevent(tb, "/sys/devices/3-2/3-2:1.0/ttyUSB5", "remove");
	umockdev_testbed_uevent(tb, "/sys/devices/3-2", "remove");
	l = step(ctx, mon, l, 5);
	/* A node outside any USB device: everything is read again. */
	tty = tb_add(tb, "tty", "ttyACM9", NULL, "DEVNAME", "/dev/ttyACM9", "ID_VENDOR_ID", "2b04", "ID_MODEL_ID",
		     "c006", "ID_SERIAL_SHORT", "FFFF", NULL);
	l = step(ctx, mon, l, 6);
	ztc_usbdev_list_free(l);
	g_free(tty);
	ztc_monitor_free(mon);
	ztc_ctx_free(ctx);
}
END_TEST

START_TEST(no_devices)
{
	ztc_usbdev_list *l;

	l = discover();
	ck_assert_uint_eq(l->n, 0);
	ztc_usbdev_list_free(l);
}
END_TEST

/* A test case of discover_suite: the tests (NULL-terminated) on a testbed of their own, 20 s each at most. */
static TCase *tcase(const char *name, const TTest *const *tests)
{
	TCase *tc = check_tcase(name, setup, teardown, tests);

	tcase_set_timeout(tc, 20);
	return tc;
}

static Suite *discover_suite(void)
{
	const TTest *uid[] = { uid_known_boards, uid_bad_args, discover_bad_args, NULL };
	const TTest *records[] = {
		rec_vid_pid_upper, rec_sid_upper, rec_no_sid, rec_empty_sid_is_no_sid, rec_tty_without_vendor_ignored,
		rec_usb_interface_ignored, rec_usb_device_counted, rec_tty_port, rec_hid, rec_hid_lower_case_id,
		rec_hid_empty_uniq, rec_hid_bluetooth_ignored, rec_hid_malformed_ignored, rec_vid_not_hex4_ignored,
		rec_id_usb_fallbacks, NULL,
	};
	const TTest *fusion[] = {
		fuse_one_board, fuse_disk_newest_mount, fuse_disk_unmounted, fuse_first_nonempty_wins,
		fuse_two_boards_two_serials, fuse_sorted_by_uid, fuse_twins_same_serial, fuse_twins_no_serial,
		fuse_twins_behind_hub, fuse_composite_first_interface, fuse_no_usb_parent, list_equal,
		list_equal_fields, no_devices, NULL,
	};
	const TTest *monitor[] = { monitor_partial_reread, NULL };

	return check_suite("discover", tcase("uid", uid), tcase("records", records), tcase("fusion", fusion),
			   tcase("monitor", monitor), NULL);
}

int main(int argc, char **argv)
{
	(void)argc;
	test_ensure_preloaded(argv);
	return check_run(discover_suite(), NULL);
}
