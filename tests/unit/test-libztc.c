/* test-libztc.c: the Check runner of libztc's API, one suite per area: resolvers, alias policy, VM
 * creation and the account's VMs (what fails before or without the backend), known-device store, board
 * database, matching, loader, the flash object (its rules, checked when the database loads) and
 * tools.json. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ztc/ztc.h>

#include "../common/check-util.h"

static ztc_ctx *ctx;
static char tmp[64];
static char home[128];

/* ---- devices, built by hand as discovery would report them ---------------------------------------- */

#define MAXDEV 8
static ztc_usbdev devbuf[MAXDEV];
static char uidbuf[MAXDEV][41];
static ztc_usbdev_list devlist;

static const ztc_usbdev *add_dev(const char *vid, const char *pid, const char *sid, const char *port)
{
	size_t i = devlist.n++;

	ck_assert_uint_lt(i, MAXDEV);
	ck_assert_int_eq(ztc_uid_compute(vid, pid, sid, uidbuf[i]), ZTC_OK);
	devbuf[i] = (ztc_usbdev){ .vid = (char *)vid, .pid = (char *)pid, .sid = (char *)sid, .uid = uidbuf[i],
				  .port = (char *)port };
	devlist.dev = devbuf;
	return &devbuf[i];
}

static void reset_devs(void)
{
	memset(&devlist, 0, sizeof(devlist));
}

/* The Due of tests/data/arduino_due.umockdev (uid df78e458...), the ST-Link of a Nucleo (4fdcb314...). */
static const ztc_usbdev *due(void) { return add_dev("2341", "003D", "75330303035351E0A1C0", "/dev/ttyACM0"); }
static const ztc_usbdev *stlink(void) { return add_dev("0483", "374B", "0671FF485550755187101620", "/dev/ttyACM1"); }

/* A fresh ZTC_HOME, the source tree's database and the built plugins; no backend, no token; no devices. */
static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/ztc-test-libztc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(home, sizeof(home), "%s/home", tmp);
	setenv("ZTC_HOME", home, 1);
	setenv("ZTC_DB_PATH", TOP_SRCDIR "/db", 1);
	setenv("ZTC_PLUGIN_PATH", TOP_BUILDDIR "/plugins", 1);
	setenv("ZTC_BACKEND_URL", "http://127.0.0.1:1/v1", 1);
	unsetenv("ZTC_TOKEN");
	unsetenv("ZTC_DEBUG");
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	reset_devs();
}

static void teardown(void)
{
	ztc_ctx_free(ctx);
	check_rm_tree(tmp);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_text(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void join(const char *const *v, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (; v && *v; v++)
		off += (size_t)snprintf(buf + off, size - off, "%s%s", off ? "," : "", *v);
}

static void expect_candidates(const char *want)
{
	char got[4096];

	join(ztc_ctx_candidates(ctx), got, sizeof(got));
	ck_assert_str_eq(got, want);
}

/* ==== resolvers ======================================================================================= */

static const char *const names[] = { "due", "dup", "custom", "nochip" };

START_TEST(resolve_exact_beats_prefix)
{
	static const char *const n2[] = { "du", "due", "dup" };
	size_t idx = 99;

	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "du", n2, 3, &idx), ZTC_OK);
	ck_assert_uint_eq(idx, 0);
	expect_candidates("");
}
END_TEST

START_TEST(resolve_unique_prefix)
{
	size_t idx = 99;

	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "cu", names, 4, &idx), ZTC_OK);
	ck_assert_uint_eq(idx, 2);
}
END_TEST

START_TEST(resolve_ambiguous)
{
	size_t idx = 99;

	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "du", names, 4, &idx), ZTC_ERR_AMBIGUOUS);
	ck_assert_uint_eq(idx, 99);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "'du' matches several aliases: due, dup");
	expect_candidates("due,dup");
}
END_TEST

START_TEST(resolve_not_found)
{
	size_t idx = 99;

	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "zz", names, 4, &idx), ZTC_ERR_NOT_FOUND);
	ck_assert_uint_eq(idx, 99);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no alias matches 'zz'; candidates: due, dup, custom, nochip");
	expect_candidates("due,dup,custom,nochip");
	/* An empty prefix starts no name. */
	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "", names, 4, &idx), ZTC_ERR_NOT_FOUND);
	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "due", NULL, 0, &idx), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no alias matches 'due' (there are no aliases)");
	expect_candidates("");
	/* A success clears the candidates of the failure before. */
	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "zz", names, 4, &idx), ZTC_ERR_NOT_FOUND);
	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "no", names, 4, &idx), ZTC_OK);
	expect_candidates("");
}
END_TEST

START_TEST(resolve_long_list_stays_one_line)
{
	static char store[200][48];
	const char *many[200];
	size_t idx;

	for (int i = 0; i < 200; i++) {
		snprintf(store[i], sizeof(store[i]), "board-with-a-rather-long-alias-%03d", i);
		many[i] = store[i];
	}
	ck_assert_int_eq(ztc_resolve_prefix(ctx, "alias", "aliases", "board", many, 200, &idx), ZTC_ERR_AMBIGUOUS);
	ck_assert_ptr_null(strchr(ztc_ctx_errmsg(ctx), '\n'));
	ck_assert_ptr_nonnull(strstr(ztc_ctx_errmsg(ctx), " more)"));
	ck_assert_ptr_nonnull(ztc_ctx_candidates(ctx)[199]);
	ck_assert_ptr_null(ztc_ctx_candidates(ctx)[200]);
}
END_TEST

START_TEST(resolve_store_alias)
{
	char path[256];
	const ztc_known *k = (const ztc_known *)0x1;
	ztc_store *s;

	mkdir(home, 0700);
	snprintf(path, sizeof(path), "%s/devices.json", home);
	write_file(path, "{\"devices\": [{\"alias\": \"due\", \"uid\": \"u1\", \"target\": \"arduino_due\"},"
			 " {\"alias\": \"dup\", \"uid\": \"u2\", \"target\": \"arduino_due\"}]}");
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	ck_assert_int_eq(ztc_store_resolve_alias(ctx, s, "du", &k), ZTC_ERR_AMBIGUOUS);
	ck_assert_ptr_eq(k, (const ztc_known *)0x1);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "'du' matches several aliases: due, dup");
	ck_assert_int_eq(ztc_store_resolve_alias(ctx, s, "dup", &k), ZTC_OK);
	ck_assert_str_eq(k->uid, "u2");
	ztc_store_free(s);
}
END_TEST

START_TEST(resolve_device_uid)
{
	const ztc_usbdev *d = NULL, *a, *b;

	a = due();
	b = stlink();
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, "4f", &d), ZTC_OK);
	ck_assert_ptr_eq(d, b);
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, a->uid, &d), ZTC_OK);
	ck_assert_ptr_eq(d, a);
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, "0123", &d), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no connected device uid matches '0123'; candidates: "
			 "df78e45849d9f7d1c9b29def5b9ffb7bf0b74429, 4fdcb314426cd95b56e470797a2538176b9ea771");
}
END_TEST

START_TEST(resolve_device_uid_any_case_and_port)
{
	const ztc_usbdev *d = NULL, *a, *b;

	a = due();
	b = stlink();
	/* uids are hex: a prefix in capitals is the same prefix. */
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, "DF78E4", &d), ZTC_OK);
	ck_assert_ptr_eq(d, a);
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, "4FdC", &d), ZTC_OK);
	ck_assert_ptr_eq(d, b);
	/* A path is a port. */
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, "/dev/ttyACM1", &d), ZTC_OK);
	ck_assert_ptr_eq(d, b);
	expect_candidates("");
	d = NULL;
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, "/dev/ttyUSB7", &d), ZTC_ERR_NOT_FOUND);
	ck_assert_ptr_null(d);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx),
			 "no connected device has the port /dev/ttyUSB7; ports: /dev/ttyACM0, /dev/ttyACM1");
	expect_candidates("/dev/ttyACM0,/dev/ttyACM1");
	reset_devs();
	add_dev("046D", "C31C", "no_sid", NULL);
	ck_assert_int_eq(ztc_usbdev_list_resolve_uid(ctx, &devlist, "/dev/ttyACM0", &d), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no connected device has the port /dev/ttyACM0 (none has a serial port)");
}
END_TEST

START_TEST(resolve_store_device)
{
	ztc_known k1 = { .alias = "due", .uid = "df78e45849d9f7d1c9b29def5b9ffb7bf0b74429", .target = "arduino_due" };
	const ztc_known *k = (const ztc_known *)0x1;
	ztc_store *s;

	due();
	stlink();
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &k1), ZTC_OK);
	ck_assert_int_eq(ztc_store_resolve_device(ctx, s, &devlist, "du", &k), ZTC_OK);
	ck_assert_str_eq(k->alias, "due");
	k = NULL;
	ck_assert_int_eq(ztc_store_resolve_device(ctx, s, &devlist, "/dev/ttyACM0", &k), ZTC_OK);
	ck_assert_str_eq(k->alias, "due");
	k = (const ztc_known *)0x1;
	ck_assert_int_eq(ztc_store_resolve_device(ctx, s, &devlist, "/dev/ttyACM1", &k), ZTC_ERR_NOT_FOUND);
	ck_assert_ptr_eq(k, (const ztc_known *)0x1);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "the device on /dev/ttyACM1 (0483:374B, uid "
			 "4fdcb314426cd95b56e470797a2538176b9ea771) has no alias: give it one with 'ztc device alias "
			 "put /dev/ttyACM1 ALIAS TARGET'");
	ck_assert_int_eq(ztc_store_resolve_device(ctx, s, &devlist, "/dev/ttyS0", &k), ZTC_ERR_NOT_FOUND);
	ck_assert_int_eq(ztc_store_resolve_device(ctx, s, &devlist, "zz", &k), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no alias matches 'zz'; candidates: due");
	ztc_store_free(s);
}
END_TEST

/* Twins (one uid, two boards): a port names one of them, so it resolves to the alias pinned to that
 * twin's usbpath, else to the uid's alias that is not pinned. */
START_TEST(resolve_store_device_twins)
{
	ztc_known pinned = { .alias = "one", .uid = NULL, .target = "silabs_cp210x", .usbpath = "1-1.3" };
	ztc_known loose = { .alias = "any", .uid = NULL, .target = "silabs_cp210x" };
	ztc_usbdev *a, *b;
	const ztc_known *k = NULL;
	ztc_store *s;

	a = (ztc_usbdev *)add_dev("10C4", "EA60", "0001", "/dev/ttyUSB0");
	b = (ztc_usbdev *)add_dev("10C4", "EA60", "0001", "/dev/ttyUSB1");
	a->usbpath = "1-1.2";
	b->usbpath = "1-1.3";
	pinned.uid = loose.uid = a->uid;
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &pinned), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &loose), ZTC_OK);
	ck_assert_int_eq(ztc_store_resolve_device(ctx, s, &devlist, "/dev/ttyUSB1", &k), ZTC_OK);
	ck_assert_str_eq(k->alias, "one");
	k = NULL;
	ck_assert_int_eq(ztc_store_resolve_device(ctx, s, &devlist, "/dev/ttyUSB0", &k), ZTC_OK);
	ck_assert_str_eq(k->alias, "any");
	ztc_store_free(s);
}
END_TEST

static void store_vm(const char *vmuid, const char *target, const char *chip)
{
	char json[512], *path = NULL;

	snprintf(json, sizeof(json), "{\"bin\": \"QUJDRA==\", \"dev_type\": \"%s\", \"on_chip_id\": \"%s\", "
		 "\"version\": \"r2.6.0\", \"hash_features\": \"h0\", \"rtos\": \"chibi2\"}", target, chip);
	ck_assert_int_eq(ztc_vmstore_save(ctx, vmuid, json, strlen(json), &path), ZTC_OK);
	free(path);
}

START_TEST(resolve_vm_uid)
{
	char *uid = (char *)0x1, *path = (char *)0x1;

	store_vm("abc111", "arduino_due", "CHIP1");
	store_vm("abc222", "arduino_due", "CHIP1");
	store_vm("abd333", "arduino_due", "CHIP2");
	ck_assert_int_eq(ztc_vmstore_resolve(ctx, "arduino_due", "CHIP1", "abc", &uid, &path), ZTC_ERR_AMBIGUOUS);
	ck_assert_ptr_eq(uid, (char *)0x1);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "'abc' matches several virtual machines of this board: abc111, abc222");
	/* Only the VMs of that chip id count: abd333 is another board's. */
	ck_assert_int_eq(ztc_vmstore_resolve(ctx, "arduino_due", "CHIP1", "abd", &uid, &path), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no virtual machine of this board matches 'abd'; candidates: abc111, abc222");
	ck_assert_int_eq(ztc_vmstore_resolve(ctx, "arduino_due", "CHIP1", "abc2", &uid, &path), ZTC_OK);
	ck_assert_str_eq(uid, "abc222");
	ck_assert_ptr_nonnull(strstr(path, "/vms/arduino_due/CHIP1/abc222_"));
	free(uid);
	free(path);
	ck_assert_int_eq(ztc_vmstore_resolve(ctx, NULL, NULL, "abd", &uid, NULL), ZTC_OK);
	ck_assert_str_eq(uid, "abd333");
	free(uid);
	ck_assert_int_eq(ztc_vmstore_resolve(ctx, "other", NULL, "a", NULL, NULL), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no virtual machine of this board matches 'a' (there are no virtual "
			 "machines of this board)");
}
END_TEST

static Suite *resolvers_suite(void)
{
	const TTest *tests[] = {
		resolve_exact_beats_prefix, resolve_unique_prefix, resolve_ambiguous, resolve_not_found,
		resolve_long_list_stays_one_line, resolve_store_alias, resolve_device_uid,
		resolve_device_uid_any_case_and_port, resolve_store_device, resolve_store_device_twins, resolve_vm_uid,
		NULL,
	};

	return check_suite("resolvers", check_tcase("resolvers", setup, teardown, tests), NULL);
}

/* ==== alias policy ==================================================================================== */

static ztc_db *db;
static ztc_store *mem;

static void alias_setup(void)
{
	setup();
	ck_assert_int_eq(ztc_db_load(ctx, &db), ZTC_OK);
	ck_assert_int_eq(ztc_store_load(ctx, &mem), ZTC_OK);
}

static void alias_teardown(void)
{
	ztc_store_free(mem);
	ztc_db_free(db);
	teardown();
}

/* Put in the in-memory store; the returned entry must be what the store now holds. */
static int put(const char *uid, const char *alias, const char *target, const ztc_alias_opts *o, ztc_known **ret)
{
	return ztc_alias_put(ctx, mem, db, &devlist, uid, alias, target, o, ret);
}

START_TEST(alias_single_class)
{
	ztc_known *k = NULL;

	due();
	ck_assert_int_eq(put("df78", "due", "arduino_due", NULL, &k), ZTC_OK);
	ck_assert_str_eq(k->alias, "due");
	ck_assert_str_eq(k->uid, "df78e45849d9f7d1c9b29def5b9ffb7bf0b74429");
	ck_assert_str_eq(k->target, "arduino_due");
	ck_assert_str_eq(k->classname, "ArduinoDue");
	ck_assert_ptr_null(k->chipid);
	ztc_known_free(k);
	ck_assert_uint_eq(ztc_store_count(mem), 1);
	ck_assert_str_eq(ztc_store_find_alias(mem, "due")->classname, "ArduinoDue");
}
END_TEST

START_TEST(alias_realias_keeps_registration)
{
	ztc_alias_opts o = { .name = "Bench Due", .chipid = "ABCDEF0123", .remote_id = "r-1" };
	ztc_known *k = NULL;

	due();
	ck_assert_int_eq(put("df", "due", "arduino_due", &o, NULL), ZTC_OK);
	/* Same target: chip id, remote id and name stay; the alias changes; a uid has one alias. */
	ck_assert_int_eq(put("df", "due2", "arduino_due", NULL, &k), ZTC_OK);
	ck_assert_str_eq(k->chipid, "ABCDEF0123");
	ck_assert_str_eq(k->remote_id, "r-1");
	ck_assert_str_eq(k->name, "Bench Due");
	ztc_known_free(k);
	ck_assert_uint_eq(ztc_store_count(mem), 1);
	ck_assert_ptr_null(ztc_store_find_alias(mem, "due"));
	/* Another target drops them. */
	ck_assert_int_eq(put("df", "flip", "flipnclick_sam3x", NULL, &k), ZTC_OK);
	ck_assert_ptr_null(k->chipid);
	ck_assert_ptr_null(k->remote_id);
	ck_assert_ptr_null(k->name);
	ck_assert_str_eq(k->classname, "FlipNClickSAM3X");
	ztc_known_free(k);
}
END_TEST

START_TEST(alias_errors)
{
	ztc_known *k = (ztc_known *)0x1;

	due();
	ck_assert_int_eq(put("df", "my due", "arduino_due", NULL, &k), ZTC_ERR_ARG);
	ck_assert_int_eq(put("df", "-x", "arduino_due", NULL, &k), ZTC_ERR_ARG);
	ck_assert_int_eq(put("df", "x", "no_such_board", NULL, &k), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "unknown target 'no_such_board' (see 'ztc device supported')");
	ck_assert_int_eq(put("0123", "x", "arduino_due", NULL, &k), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx),
			 "no connected device uid matches '0123'; candidates: df78e45849d9f7d1c9b29def5b9ffb7bf0b74429");
	ck_assert_int_eq(put("df", "x", "st_nucleof401re", NULL, &k), ZTC_ERR_ARG);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "device 2341:003D does not match any class of st_nucleof401re "
			 "(see 'ztc device discover --matchdb')");
	ck_assert_int_eq(put("df", "x", "arduino_due", &(ztc_alias_opts){ .classname = "Nope" }, &k), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "target arduino_due has no class 'Nope' (its classes: ArduinoDue)");
	ck_assert_ptr_eq(k, (ztc_known *)0x1);
	ck_assert_uint_eq(ztc_store_count(mem), 0);
	ck_assert_int_eq(ztc_alias_valid("ok-alias"), 1);
	ck_assert_int_eq(ztc_alias_valid(""), 0);
	ck_assert_int_eq(ztc_alias_valid("tab\there"), 0);
}
END_TEST

START_TEST(alias_taken)
{
	due();
	stlink();
	ck_assert_int_eq(put("df", "flip", "arduino_due", NULL, NULL), ZTC_OK);
	ck_assert_int_eq(put("4f", "flip", "st_nucleof401re", NULL, NULL), ZTC_ERR_EXISTS);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "alias 'flip' is already used by device df78e45849d9f7d1c9b29def5b9ffb7bf0b74429");
}
END_TEST

/* A target of its own with two classes matching the same device. */
static void two_class_db(void)
{
	char dir[256], path[300];

	snprintf(dir, sizeof(dir), "%s/db/twoclass", tmp);
	snprintf(path, sizeof(path), "%s/db", tmp);
	mkdir(path, 0700);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/device.json", dir);
	write_file(path, "{\"name\": \"Two Class\", \"target\": \"twoclass\", \"type\": \"board\", \"classes\": ["
			 "{\"class\": \"atmel.ModeA\", \"usb\": [\"2341:003D\"]}, {\"class\": \"atmel.ModeB\", \"usb\": [\"2341:003D\"]}]}");
	snprintf(path, sizeof(path), "%s/db:%s/db", tmp, TOP_SRCDIR);
	setenv("ZTC_DB_PATH", path, 1);
	ztc_ctx_free(ctx);
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	ztc_db_free(db);
	ck_assert_int_eq(ztc_db_load(ctx, &db), ZTC_OK);
}

START_TEST(alias_classname)
{
	ztc_known *k = NULL;

	two_class_db();
	due();
	ck_assert_int_eq(put("df", "two", "twoclass", NULL, &k), ZTC_ERR_AMBIGUOUS);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "--classname is required: several classes of twoclass match this device: "
			 "ModeA, ModeB");
	ck_assert_int_eq(put("df", "two", "twoclass", &(ztc_alias_opts){ .classname = "atmel.ModeB" }, &k), ZTC_OK);
	ck_assert_str_eq(k->classname, "ModeB");
	ztc_known_free(k);
	/* A class that does not match a device some other class matches. */
	ck_assert_int_eq(put("df", "x", "arduino_due", &(ztc_alias_opts){ .classname = "ArduinoDue" }, NULL), ZTC_OK);
}
END_TEST

START_TEST(alias_board_through_probe)
{
	ztc_known *k = NULL;

	stlink();
	due();
	/* The YARM has no USB: a programmer's uid gets its target and its jtag_class. */
	ck_assert_int_eq(put("4f", "yarm", "acme_yarm", NULL, &k), ZTC_OK);
	ck_assert_str_eq(k->target, "acme_yarm");
	ck_assert_str_eq(k->classname, "AcmeYarm");
	ztc_known_free(k);
	/* A board that is no programmer cannot stand in for it. */
	ck_assert_int_eq(put("df", "y2", "acme_yarm", NULL, NULL), ZTC_ERR_ARG);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "device 2341:003D does not match any class of acme_yarm "
			 "(see 'ztc device discover --matchdb')");
}
END_TEST

/* A CP2102 USB-serial adapter (silabs_cp210x and the boards with a CP2102 on them match it). */
static const ztc_usbdev *cp2102(void) { return add_dev("10C4", "EA60", "0001", "/dev/ttyUSB0"); }

START_TEST(alias_programmer_policy)
{
	ztc_known *k = NULL;

	stlink();
	cp2102();
	/* A board with USB of its own and nothing a probe or an adapter programs it with. */
	ck_assert_int_eq(put("4f", "x", "arduino_due", NULL, &k), ZTC_ERR_ARG);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "arduino_due cannot be programmed through device 0483:374B "
			 "(ST-Link V2-1, a probe): it has USB of its own and no jtag data (jtag_capable, jtag_class) "
			 "for a probe; alias the board's own USB device instead (see 'ztc device discover --matchdb')");
	ck_assert_int_eq(put("e7", "x", "arduino_due", NULL, &k), ZTC_ERR_ARG);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "arduino_due cannot be programmed through device 10C4:EA60 "
			 "(Silicon Labs CP210x USB to UART bridge, a USB-serial adapter): it has USB of its own and "
			 "its flash method does not work over a serial bootloader; alias the board's own USB device "
			 "instead (see 'ztc device discover --matchdb')");
	ck_assert_int_eq(put("4f", "x", "arduino_due", &(ztc_alias_opts){ .classname = "ArduinoDue" }, &k),
			 ZTC_ERR_ARG);
	ck_assert_ptr_null(k);
	ck_assert_uint_eq(ztc_store_count(mem), 0);
	/* A jtag-capable board on the probe: its jtag_class. */
	ck_assert_int_eq(put("4f", "xpl", "xplained_d21", NULL, &k), ZTC_OK);
	ck_assert_str_eq(k->classname, "XplainedProSamD21");
	ztc_known_free(k);
	/* J-Link boards have jtag data too. */
	ck_assert_int_eq(put("4f", "nrf", "nordic_pca10040", NULL, NULL), ZTC_OK);
	/* An ESP8266 board flashed over its UART ({port}, no 1200-baud touch) through any adapter. */
	ck_assert_int_eq(put("e7", "wemos", "wemos_d1_mini", NULL, &k), ZTC_OK);
	ck_assert_str_eq(k->target, "wemos_d1_mini");
	ztc_known_free(k);
	/* ...but not through a probe. */
	ck_assert_int_eq(put("4f", "w2", "wemos_d1_mini", NULL, NULL), ZTC_ERR_ARG);
	/* A board without USB of its own goes on either. */
	ck_assert_int_eq(put("e7", "yarm", "acme_yarm", NULL, NULL), ZTC_OK);
}
END_TEST

/* The warnings libztc logged, one per line. */
static char logged[4096];

static void keep_log(void *userdata, int level, const char *msg)
{
	size_t off = strlen(logged);

	(void)userdata;
	if (level == ZTC_LOG_WARN)
		snprintf(logged + off, sizeof(logged) - off, "%s\n", msg);
}

START_TEST(alias_put_says_replaced)
{
	due();
	logged[0] = '\0';
	ztc_ctx_set_log(ctx, keep_log, NULL);
	ck_assert_int_eq(put("df", "due", "arduino_due", NULL, NULL), ZTC_OK);
	ck_assert_int_eq(put("df", "due", "arduino_due", NULL, NULL), ZTC_OK);
	ck_assert_str_eq(logged, "");
	ck_assert_int_eq(put("df", "due2", "flipnclick_sam3x", NULL, NULL), ZTC_OK);
	ck_assert_str_eq(logged, "due2 replaces due as the alias of device df78e45849d9f7d1c9b29def5b9ffb7bf0b74429\n");
	/* A refused put says nothing of the kind. */
	logged[0] = '\0';
	ck_assert_int_eq(put("df", "x", "no_such_board", NULL, NULL), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(logged, "");
	ztc_ctx_set_log(ctx, NULL, NULL);
}
END_TEST

START_TEST(alias_list_connected_or_not)
{
	ztc_known gone = { .alias = "gone", .uid = "0123456789abcdef0123456789abcdef01234567",
			   .target = "arduino_due" };
	ztc_alias_list *l = NULL;
	const ztc_usbdev *s, *d;

	s = stlink();
	d = due();
	ck_assert_int_eq(ztc_store_put(ctx, mem, &gone), ZTC_OK);
	ck_assert_int_eq(put("4f", "nucleo", "st_nucleof401re", NULL, NULL), ZTC_OK);
	ck_assert_int_eq(put("df", "adue", "arduino_due", NULL, NULL), ZTC_OK);
	ck_assert_int_eq(ztc_alias_list_new(ctx, mem, &devlist, &l), ZTC_OK);
	ck_assert_uint_eq(l->n, 3);
	/* Connected by port (ttyACM0 the Due, ttyACM1 the ST-Link), then the others. */
	ck_assert_str_eq(l->e[0].known->alias, "adue");
	ck_assert_ptr_eq(l->e[0].dev, d);
	ck_assert_str_eq(l->e[1].known->alias, "nucleo");
	ck_assert_ptr_eq(l->e[1].dev, s);
	ck_assert_str_eq(l->e[2].known->alias, "gone");
	ck_assert_ptr_null(l->e[2].dev);
	ztc_alias_list_free(l);
	ztc_alias_list_free(NULL);
	ck_assert_int_eq(ztc_alias_list_new(ctx, mem, NULL, &l), ZTC_ERR_ARG);
}
END_TEST

START_TEST(alias_file_and_del)
{
	char path[256], *deleted = NULL;
	ztc_known *k = NULL;

	due();
	stlink();
	/* store NULL: devices.json is written under its lock. */
	ck_assert_int_eq(ztc_alias_put(ctx, NULL, db, &devlist, "df", "due", "arduino_due", NULL, &k), ZTC_OK);
	ztc_known_free(k);
	ck_assert_int_eq(ztc_alias_put(ctx, NULL, db, &devlist, "4f", "dup", "st_nucleof401re", NULL, NULL), ZTC_OK);
	snprintf(path, sizeof(path), "%s/devices.json", home);
	ck_assert_ptr_nonnull(strstr(read_text(path), "\"alias\": \"due\""));
	ck_assert_int_eq(ztc_alias_del(ctx, NULL, "du", &deleted), ZTC_ERR_AMBIGUOUS);
	ck_assert_ptr_null(deleted);
	expect_candidates("due,dup");
	ck_assert_int_eq(ztc_alias_del(ctx, NULL, "dup", &deleted), ZTC_OK);
	ck_assert_str_eq(deleted, "dup");
	free(deleted);
	ck_assert_ptr_null(strstr(read_text(path), "\"dup\""));
	ck_assert_int_eq(ztc_alias_del(ctx, NULL, "nothere", NULL), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no alias matches 'nothere'; candidates: due");
	/* In memory. */
	ck_assert_int_eq(put("df", "due", "arduino_due", NULL, NULL), ZTC_OK);
	ck_assert_int_eq(ztc_alias_del(ctx, mem, "d", NULL), ZTC_OK);
	ck_assert_uint_eq(ztc_store_count(mem), 0);
}
END_TEST

static Suite *alias_suite(void)
{
	const TTest *tests[] = {
		alias_single_class, alias_realias_keeps_registration, alias_errors, alias_taken, alias_classname,
		alias_board_through_probe, alias_file_and_del, alias_programmer_policy, alias_put_says_replaced,
		alias_list_connected_or_not, NULL,
	};

	return check_suite("alias policy", check_tcase("alias", alias_setup, alias_teardown, tests), NULL);
}

/* ==== VM creation: everything checked before the backend is asked ==================================== */

START_TEST(vm_create_checks)
{
	char *uid = (char *)0x1, *path = (char *)0x1;
	ztc_known nochip = { .alias = "nochip", .uid = "u1", .target = "arduino_due" };
	ztc_known reg = { .alias = "due", .uid = "u2", .target = "arduino_due", .chipid = "C0FFEE", .remote_id = "dev-1" };
	ztc_known vendor = { .alias = "custom", .uid = "u3", .target = "vendor_board", .chipid = "C1", .remote_id = "dev-2" };
	ztc_store *s;

	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &nochip), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &reg), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &vendor), ZTC_OK);
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "zz", "r2.6.0", "chibi2", NULL, &uid, &path), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "no alias matches 'zz'; candidates: custom, due, nochip");
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "no", "r2.6.0", "chibi2", NULL, &uid, &path), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "device nochip is not registered: run 'ztc device register nochip'");
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "due", "", "chibi2", NULL, &uid, &path), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "due", "r2.6.0", "chibi2", &(ztc_vm_create_opts){ .patch = "" },
				       &uid, &path), ZTC_ERR_ARG);
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "cu", "r2.6.0", "chibi2", NULL, &uid, &path), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "the target 'vendor_board' of custom is not in the board database "
			 "(see 'ztc device supported'); name the VM with --name");
	/* No token: refused before any request. */
	ck_assert_int_eq(ztc_vm_create(ctx, s, NULL, "due", "r2.6.0", "chibi2", NULL, &uid, &path), ZTC_ERR_BACKEND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "not logged in: run 'ztc login'");
	ck_assert_ptr_eq(uid, (char *)0x1);
	ck_assert_ptr_eq(path, (char *)0x1);
	ztc_store_free(s);
}
END_TEST

START_TEST(vm_remote_checks)
{
	ztc_backend_vm_list *l = (ztc_backend_vm_list *)0x1;
	char *uid = (char *)0x1, *path = (char *)0x1;

	ck_assert_int_eq(ztc_vm_list_remote(ctx, -1, &l), ZTC_ERR_ARG);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "the first VM to list must be 0 to 10000, not -1");
	ck_assert_int_eq(ztc_vm_list_remote(ctx, ZTC_VM_LIST_REMOTE_MAX + 1, &l), ZTC_ERR_ARG);
	/* No token: refused before any request. */
	ck_assert_int_eq(ztc_vm_list_remote(ctx, 0, &l), ZTC_ERR_BACKEND);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), "not logged in: run 'ztc login'");
	ck_assert_ptr_eq(l, (ztc_backend_vm_list *)0x1);
	ck_assert_int_eq(ztc_vm_download(ctx, "abc", &uid, &path), ZTC_ERR_BACKEND);
	ck_assert_ptr_eq(uid, (char *)0x1);
	ck_assert_ptr_eq(path, (char *)0x1);
	ck_assert_int_eq(ztc_vm_download(ctx, NULL, &uid, &path), ZTC_ERR_ARG);
	/* A backend that does not answer (port 1): a backend error, nothing set, nothing stored. */
	setenv("ZTC_TOKEN", "tok-1", 1);
	setenv("ZTC_BACKEND_TIMEOUT_MS", "200", 1);
	ck_assert_int_eq(ztc_vm_list_remote(ctx, 0, &l), ZTC_ERR_BACKEND);
	ck_assert_ptr_eq(l, (ztc_backend_vm_list *)0x1);
	ck_assert_int_eq(ztc_vm_download(ctx, "abc", &uid, &path), ZTC_ERR_BACKEND);
	ck_assert_ptr_eq(uid, (char *)0x1);
	unsetenv("ZTC_TOKEN");
	unsetenv("ZTC_BACKEND_TIMEOUT_MS");
	ck_assert_int_eq(access(home, F_OK), -1);
}
END_TEST

static Suite *vm_suite(void)
{
	const TTest *tests[] = { vm_create_checks, vm_remote_checks, NULL };

	return check_suite("vm create", check_tcase("checks", setup, teardown, tests), NULL);
}

/* ==== known-device store ============================================================================== */

START_TEST(store_put_find_del_update)
{
	ztc_known a = { .alias = "a", .uid = "ua", .target = "arduino_due" };
	ztc_known b = { .alias = "b", .uid = "ub", .target = "arduino_due", .chipid = "C" };
	ztc_store *s;

	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK); /* no file: empty */
	ck_assert_uint_eq(ztc_store_count(s), 0);
	ck_assert_int_eq(ztc_store_put(ctx, s, &b), ZTC_OK);
	ck_assert_int_eq(ztc_store_put(ctx, s, &a), ZTC_OK);
	ck_assert_str_eq(ztc_store_get(s, 0)->alias, "a"); /* alias order */
	ck_assert_str_eq(ztc_store_find_uid(s, "ub")->chipid, "C");
	ck_assert_int_eq(ztc_store_put(ctx, s, &(ztc_known){ .alias = "b", .uid = "ua", .target = "x" }), ZTC_ERR_EXISTS);
	ck_assert_int_eq(ztc_store_del(ctx, s, "a"), ZTC_OK);
	ck_assert_int_eq(ztc_store_del(ctx, s, "a"), ZTC_ERR_NOT_FOUND);
	ck_assert_uint_eq(ztc_store_count(s), 1);
	ztc_store_free(s);
}
END_TEST

static int add_one(ztc_ctx *c, ztc_store *s, void *userdata)
{
	return ztc_store_put(c, s, userdata);
}

static int refuse(ztc_ctx *c, ztc_store *s, void *userdata)
{
	(void)userdata;
	return ztc_store_del(c, s, "no-such-alias"); /* fails: nothing may be written */
}

START_TEST(store_update_writes_or_not)
{
	ztc_known a = { .alias = "a", .uid = "ua", .target = "arduino_due" };
	char path[256], before[4096];
	ztc_store *s;

	ck_assert_int_eq(ztc_store_update(ctx, add_one, &a), ZTC_OK);
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	ck_assert_str_eq(ztc_store_find_alias(s, "a")->uid, "ua");
	ztc_store_free(s);
	snprintf(path, sizeof(path), "%s/devices.json", home);
	memcpy(before, read_text(path), sizeof(before) - 1);
	before[sizeof(before) - 1] = 0;
	ck_assert_int_eq(ztc_store_update(ctx, refuse, NULL), ZTC_ERR_NOT_FOUND);
	ck_assert_str_eq(read_text(path), before);
	/* A corrupt file is reported, never overwritten. */
	write_file(path, "{\"devices\": [");
	ck_assert_int_eq(ztc_store_update(ctx, add_one, &a), ZTC_ERR_CORRUPT);
	ck_assert_str_eq(read_text(path), "{\"devices\": [");
}
END_TEST

static Suite *store_suite(void)
{
	const TTest *tests[] = { store_put_find_del_update, store_update_writes_or_not, NULL };

	return check_suite("store", check_tcase("store", setup, teardown, tests), NULL);
}

/* ==== board database and matching ===================================================================== */

START_TEST(db_targets_and_classes)
{
	const ztc_target *t;
	ztc_db *d;

	ck_assert_int_eq(ztc_db_load(ctx, &d), ZTC_OK);
	ck_assert_uint_gt(ztc_db_count(d), 40);
	t = ztc_db_find(d, "arduino_due");
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(ztc_target_get_name(t), "Arduino Due");
	ck_assert_str_eq(ztc_target_get_type(t), "board");
	ck_assert_uint_eq(ztc_target_class_count(t), 1);
	ck_assert_str_eq(ztc_target_class_module(t, 0), "atmel");
	ck_assert_int_eq(ztc_target_class_find(t, "atmel.ArduinoDue"), 0);
	ck_assert_int_eq(ztc_target_class_find(t, "ArduinoDue"), 0);
	ck_assert_int_eq(ztc_target_class_find(t, "dfu.ArduinoDue"), -1);
	ck_assert_int_eq(ztc_target_class_matches(t, 0, due()), 1);
	ck_assert_int_eq(ztc_target_class_matches(t, 0, stlink()), 0);
	ck_assert_ptr_null(ztc_db_find(d, "no_such_board"));
	ztc_db_free(d);
}
END_TEST

START_TEST(match_alias_pins_target)
{
	ztc_known pin = { .alias = "flip", .uid = "df78e45849d9f7d1c9b29def5b9ffb7bf0b74429", .target = "flipnclick_sam3x",
			  .classname = "FlipNClickSAM3X" };
	ztc_match_list *ml;
	ztc_store *s;
	ztc_db *d;

	ck_assert_int_eq(ztc_db_load(ctx, &d), ZTC_OK);
	ck_assert_int_eq(ztc_store_load(ctx, &s), ZTC_OK);
	due();
	/* Unknown: once per target whose class matches (the Due and the Flip&Click share 2341:003D). */
	ck_assert_int_eq(ztc_match_devices(ctx, d, s, &devlist, &ml), ZTC_OK);
	ck_assert_uint_eq(ml->n, 2);
	ck_assert_str_eq(ml->m[0].target, "arduino_due");
	ck_assert_str_eq(ml->m[1].target, "flipnclick_sam3x");
	ztc_match_list_free(ml);
	/* Aliased: its stored target only. */
	ck_assert_int_eq(ztc_store_put(ctx, s, &pin), ZTC_OK);
	ck_assert_int_eq(ztc_match_devices(ctx, d, s, &devlist, &ml), ZTC_OK);
	ck_assert_uint_eq(ml->n, 1);
	ck_assert_str_eq(ml->m[0].alias, "flip");
	ck_assert_str_eq(ml->m[0].classname, "FlipNClickSAM3X");
	ck_assert_str_eq(ml->m[0].port, "/dev/ttyACM0");
	ztc_match_list_free(ml);
	ck_assert_uint_eq(ztc_plugin_loaded_count(ctx), 0); /* matching is pure data */
	ztc_store_free(s);
	ztc_db_free(d);
}
END_TEST

static Suite *db_suite(void)
{
	const TTest *tests[] = { db_targets_and_classes, match_alias_pins_target, NULL };

	return check_suite("db and match", check_tcase("db", setup, teardown, tests), NULL);
}

/* ==== loader ========================================================================================== */

START_TEST(loader_caches_by_file)
{
	const ztc_class_desc *c1, *c2;
	ztc_db *d;

	ck_assert_int_eq(ztc_db_load(ctx, &d), ZTC_OK);
	ck_assert_int_eq(ztc_plugin_resolve(ctx, ztc_db_find(d, "arduino_due"), 0, &c1), ZTC_OK);
	ck_assert_str_eq(c1->name, "ArduinoDue");
	ck_assert_int_eq(ztc_plugin_resolve(ctx, ztc_db_find(d, "flipnclick_sam3x"), 0, &c2), ZTC_OK);
	ck_assert_str_eq(c2->name, "FlipNClickSAM3X");
	ck_assert_uint_eq(ztc_plugin_loaded_count(ctx), 1); /* one file, atmel, loaded once */
	ck_assert_int_eq(ztc_plugin_resolve(ctx, ztc_db_find(d, "particle_photon"), 0, &c2), ZTC_OK);
	ck_assert_uint_eq(ztc_plugin_loaded_count(ctx), 2);
	ztc_db_free(d);
}
END_TEST

START_TEST(loader_default_class)
{
	char dir[256], path[300];
	const ztc_class_desc *c;
	ztc_db *d;

	snprintf(path, sizeof(path), "%s/db", tmp);
	mkdir(path, 0700);
	snprintf(dir, sizeof(dir), "%s/db/acme_due_clone", tmp);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/device.json", dir);
	write_file(path, "{\"name\": \"Acme Due Clone\", \"target\": \"acme_due_clone\", \"type\": \"board\", "
			 "\"classes\": [{\"class\": \"atmel.AcmeDueClone\", \"usb\": [\"1209:2DC1\"]}], "
			 "\"flash\": {\"method\": \"tool\", \"tool\": \"bossac\", \"args\": [\"{file}\"]}}");
	snprintf(path, sizeof(path), "%s/db", tmp);
	setenv("ZTC_DB_PATH", path, 1);
	ztc_ctx_free(ctx);
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	ck_assert_int_eq(ztc_db_load(ctx, &d), ZTC_OK);
	ck_assert_int_eq(ztc_plugin_resolve(ctx, ztc_db_find(d, "acme_due_clone"), 0, &c), ZTC_OK);
	ck_assert_str_eq(c->name, "ArduinoDue"); /* atmel's default class */
	ztc_db_free(d);
}
END_TEST

START_TEST(loader_refusals)
{
	const ztc_plugin_desc *pd = (const ztc_plugin_desc *)0x1;
	char path[256];

	snprintf(path, sizeof(path), "%s/junk.so", tmp);
	write_file(path, "not an ELF file");
	ck_assert_int_eq(ztc_plugin_open(ctx, path, &pd), ZTC_ERR_PLUGIN);
	ck_assert_ptr_eq(pd, (const ztc_plugin_desc *)0x1);
	ck_assert_ptr_nonnull(strstr(ztc_ctx_errmsg(ctx), "cannot be loaded"));
	ck_assert_uint_eq(ztc_plugin_loaded_count(ctx), 0);
	ck_assert_int_eq(ztc_plugin_open(ctx, TOP_BUILDDIR "/plugins/esp/esp.la", &pd), ZTC_OK);
	ck_assert_str_eq(pd->module, "esp");
	ck_assert_uint_eq(pd->abi_major, ZTC_PLUGIN_ABI_MAJOR);
	ck_assert_str_eq(pd->default_class, "Esp32DevKitC");
}
END_TEST

static Suite *loader_suite(void)
{
	const TTest *tests[] = { loader_caches_by_file, loader_default_class, loader_refusals, NULL };

	return check_suite("loader", check_tcase("loader", setup, teardown, tests), NULL);
}

/* ==== flash object ==================================================================================== */

/* The warnings libztc logged, one line each. */
static char warnings[64][1024];
static size_t nwarnings;

static void collect(void *userdata, int level, const char *msg)
{
	(void)userdata;
	if (level <= ZTC_LOG_WARN && nwarnings < sizeof(warnings) / sizeof(*warnings))
		snprintf(warnings[nwarnings++], sizeof(*warnings), "%s", msg);
}

/* mkdir that accepts a directory already there (a test calling a helper twice). */
static void mkdir_ok(const char *path)
{
	ck_assert_msg(mkdir(path, 0700) == 0 || errno == EEXIST, "mkdir %s", path);
}

/* dir/target/device.json: a board of class cls (USB 1D6B:0104, the simulated board's) whose flash object
 * is flash (JSON text, NULL for none). */
static void board_dir(const char *dir, const char *target, const char *cls, const char *flash)
{
	char path[512], text[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, target);
	mkdir_ok(path);
	snprintf(path, sizeof(path), "%s/%s/device.json", dir, target);
	snprintf(text, sizeof(text), "{\"name\": \"%s\", \"target\": \"%s\", \"type\": \"board\", \"classes\": "
		 "[{\"class\": \"%s\", \"usb\": [\"1D6B:0104\"]}]%s%s}", target, target, cls, flash ? ", \"flash\": " : "",
		 flash ? flash : "");
	write_file(path, text);
}

/* A fresh context on ZTC_DB_PATH=<tmp>/db:<source db>, logging into warnings; <tmp>/db is made. */
static void vendor_db(char *dir, size_t size)
{
	char path[512];

	snprintf(dir, size, "%s/db", tmp);
	mkdir_ok(dir);
	snprintf(path, sizeof(path), "%s:%s/db", dir, TOP_SRCDIR);
	setenv("ZTC_DB_PATH", path, 1);
	ztc_ctx_free(ctx);
	ck_assert_int_eq(ztc_ctx_new(&ctx), ZTC_OK);
	ztc_ctx_set_log(ctx, collect, NULL);
	nwarnings = 0;
}

static bool warned(const char *want)
{
	for (size_t i = 0; i < nwarnings; i++)
		if (strcmp(warnings[i], want) == 0)
			return true;
	return false;
}

static const struct {
	const char *flash, *why;
} bad_flash[] = {
	{ "[1]", "not an object" },
	{ "{\"version\": 2, \"method\": \"plugin\"}", "version must be 1 (the flash object this ztc reads)" },
	{ "{\"version\": \"1\", \"method\": \"plugin\"}", "version must be 1 (the flash object this ztc reads)" },
	{ "{\"version\": 1}", "no method (tool, disk, probe, unsupported or plugin)" },
	{ "{\"method\": \"copy\\nit\"}", "unknown method \"copy?it\" (tool, disk, probe, unsupported or plugin)" },
	{ "{\"method\": \"tool\"}", "flash has no tool" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"args\": \"{file}\"}", "flash.args must be a list of strings" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"args\": [\"{nope}\"]}", "unknown placeholder {nope} in flash.args" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"args\": [\"{file}\"], \"images\": [{\"part\": 0, \"address\": \"0x0\"}]}",
	  "{file} in flash.args, but there is no single image there (only method tool without an images list has one)" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"args\": [\"{images}\"]}",
	  "{images} in flash.args, but the flash object has no images list" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"script\": [\"{script}\"]}",
	  "{script} in flash.script, but the object has no script" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"ok_when\": \"sometimes\"}",
	  "flash.ok_when must be exit, exit_and_text, exit_or_text or text" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"ok_when\": \"text\"}", "flash.ok_when is text but ok_text is missing" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"timeout_s\": 0}", "timeout_s must be a number of seconds (1 to 86400)" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"pre\": [{\"tool\": \"p\", \"ok_when\": \"exit\"}]}",
	  "pre[0]: a preparation step takes no ok_when" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"pre\": {\"tool\": \"p\"}}", "pre must be a list of command objects" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"touch1200\": \"yes\"}",
	  "touch1200 must be true or false and touch_wait_ms a number of milliseconds" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"images\": []}", "images must be a non-empty list of objects" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"images\": [{\"address\": \"0x0\"}]}", "images[0] needs a part index" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"images\": [{\"part\": 0, \"address\": \"1000\"}]}",
	  "images[0].address \"1000\" is not a hexadecimal address" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"images\": [{\"part\": 0, \"address\": \"0x0\"}, {\"part\": 1, "
	  "\"follows\": 2}]}", "images[1] follows part 2, which no other entry of the list places" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"images\": [{\"part\": 0, \"follows\": 1}, {\"part\": 1, "
	  "\"follows\": 0}]}", "images[0] follows part 1, which no other entry of the list places" },
	{ "{\"method\": \"tool\", \"tool\": \"t\", \"images\": [{\"part\": 1, \"follows\": 0, \"align\": 0}]}",
	  "images[0]: follows must be a part index and align a positive byte count" },
	{ "{\"method\": \"disk\", \"file\": \"x.bin\", \"pad_to\": -1}",
	  "pad_to, pad_if_below, max_size and append_zeros must be byte counts (pad_to and append_zeros at most 67108864)" },
	{ "{\"method\": \"disk\", \"file\": \"x.bin\", \"sleep_ms\": \"6 s\"}",
	  "sleep_ms and sleep_ms_per_mib must be numbers of milliseconds" },
	{ "{\"method\": \"disk\"}", "method disk needs a file name (file) without '/'" },
	{ "{\"method\": \"disk\", \"file\": \"../x.bin\"}", "method disk needs a file name (file) without '/'" },
	{ "{\"method\": \"probe\"}", "method probe needs the name of the probe (probe)" },
	{ "{\"method\": \"unsupported\", \"message\": 3}", "message must be a string" },
	{ "{\"method\": \"plugin\", \"reset\": \"x\"}", "reset is not an object" },
	{ "{\"method\": \"plugin\", \"reset\": {\"method\": \"ioctl\"}}", "reset.method must be serial or tool" },
	{ "{\"method\": \"plugin\", \"reset\": {\"method\": \"serial\", \"baud\": 0}}", "reset.baud must be a baud rate" },
	{ "{\"method\": \"plugin\", \"reset\": {\"method\": \"serial\", \"steps\": {\"dtr\": true}}}",
	  "reset.steps must be a list" },
	{ "{\"method\": \"plugin\", \"reset\": {\"method\": \"serial\", \"steps\": [{\"dtr\": 1}]}}",
	  "reset.steps[0]: dtr and rts must be true (asserted) or false" },
	{ "{\"method\": \"plugin\", \"reset\": {\"method\": \"serial\", \"steps\": [{\"wait\": 1}]}}",
	  "reset.steps[0] is not one of dtr/rts, sleep_ms, close" },
	{ "{\"method\": \"plugin\", \"reset\": {\"method\": \"serial\", \"steps\": [{\"close\": true}, {\"rts\": false}]}}",
	  "reset.steps[1] sets a line after the port was closed" },
	{ "{\"method\": \"plugin\", \"enter_virtualizable\": {\"method\": \"tool\", \"tool\": \"t\", \"args\": [\"{file}\"]}}",
	  "{file} in enter_virtualizable.args, but there is no single image there (only method tool without an images "
	  "list has one)" },
	{ "{\"method\": \"plugin\", \"erase\": {\"method\": \"tool\", \"tool\": \"t\", \"pre\": []}}",
	  "erase.pre: only the flash object itself runs preparation steps" },
};

/* Each bad shape: one warning naming the file and the rule, and the board is listed all the same. */
START_TEST(flash_object_rules)
{
	char dir[256], target[32], want[1024];
	const size_t n = sizeof(bad_flash) / sizeof(*bad_flash);
	ztc_db *d;

	vendor_db(dir, sizeof(dir));
	for (size_t i = 0; i < n; i++) {
		snprintf(target, sizeof(target), "bad%02zu", i);
		board_dir(dir, target, "sim.SimBoard", bad_flash[i].flash);
	}
	board_dir(dir, "good_v1", "sim.SimBoard", "{\"version\": 1, \"method\": \"plugin\"}");
	board_dir(dir, "good_unversioned", "sim.SimBoard", "{\"method\": \"disk\", \"file\": \"x.bin\"}");
	board_dir(dir, "good_none", "sim.SimBoard", NULL);
	ck_assert_int_eq(ztc_db_load(ctx, &d), ZTC_OK);
	for (size_t i = 0; i < n; i++) {
		snprintf(target, sizeof(target), "bad%02zu", i);
		snprintf(want, sizeof(want), "%s/%s/device.json: flash: %s; the board cannot be flashed", dir, target,
			 bad_flash[i].why);
		ck_assert_msg(warned(want), "no warning [%s]; first one: [%s]", want, nwarnings ? warnings[0] : "");
		ck_assert_ptr_nonnull(ztc_db_find(d, target));
	}
	/* Nothing else: the built-in boards and the good ones are quiet. */
	ck_assert_uint_eq(nwarnings, n);
	ck_assert_ptr_nonnull(ztc_db_find(d, "good_v1"));
	ck_assert_ptr_nonnull(ztc_db_find(d, "good_unversioned"));
	ck_assert_ptr_nonnull(ztc_db_find(d, "good_none"));
	ztc_db_free(d);
}
END_TEST

/* The matches of the simulated board's USB id (1D6B:0104) in db, by target. */
static const ztc_match *sim_match(ztc_match_list *ml, const char *target)
{
	for (size_t i = 0; i < ml->n; i++)
		if (strcmp(ml->m[i].target, target) == 0)
			return &ml->m[i];
	ck_abort_msg("%s not matched", target);
	return NULL;
}

static ztc_firmware *small_firmware(void)
{
	static const char vm[] = "{\"bin\": \"aGVsbG8=\"}"; /* "hello" */
	ztc_firmware *fw = NULL;

	ck_assert_int_eq(ztc_firmware_parse(ctx, "test.vm", vm, strlen(vm), &fw), ZTC_OK);
	return fw;
}

/* What a flash test burns with: the database d (the test loads it), an empty store, the matches of the
 * simulated board (1D6B:0104 on /dev/null) and a small firmware. */
struct bench {
	ztc_db *d;
	ztc_store *s;
	ztc_match_list *ml;
	ztc_firmware *fw;
};

static void bench_match(struct bench *b)
{
	ck_assert_int_eq(ztc_store_load(ctx, &b->s), ZTC_OK);
	reset_devs();
	add_dev("1D6B", "0104", "SIM0001", "/dev/null");
	ck_assert_int_eq(ztc_match_devices(ctx, b->d, b->s, &devlist, &b->ml), ZTC_OK);
	b->fw = small_firmware();
}

static void bench_free(struct bench *b)
{
	ztc_firmware_free(b->fw);
	ztc_match_list_free(b->ml);
	ztc_store_free(b->s);
	ztc_db_free(b->d);
}

/* A board whose flash object breaks a rule is matched but refuses to be flashed, whatever its class does
 * (the simulated board's class flashes by itself), and the interpreter refuses its sub-objects too; the
 * other boards still flash. */
START_TEST(flash_object_bad_cannot_flash)
{
	char dir[256], simflash[300], want[512];
	struct bench b;

	vendor_db(dir, sizeof(dir));
	board_dir(dir, "bad_sim", "sim.SimBoard", "{\"method\": \"plugin\", \"reset\": {\"method\": \"ioctl\"}}");
	board_dir(dir, "bad_reset", "spresense.AcmeReset", "{\"method\": \"plugin\", \"reset\": {\"method\": \"ioctl\"}}");
	snprintf(simflash, sizeof(simflash), "%s/simflash", tmp);
	setenv("ZTC_SIM_FLASH", simflash, 1);
	ck_assert_int_eq(ztc_db_load(ctx, &b.d), ZTC_OK);
	ck_assert_uint_eq(nwarnings, 2);
	bench_match(&b);
	snprintf(want, sizeof(want), "%s/bad_sim/device.json: flash: reset.method must be serial or tool", dir);
	ck_assert_int_eq(ztc_board_burn(ctx, sim_match(b.ml, "bad_sim"), b.fw), ZTC_ERR_PARSE);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), want);
	ck_assert_int_eq(access(simflash, F_OK), -1); /* nothing flashed */
	snprintf(want, sizeof(want), "%s/bad_reset/device.json: flash: reset.method must be serial or tool", dir);
	ck_assert_int_eq(ztc_board_reset(ctx, sim_match(b.ml, "bad_reset")), ZTC_ERR_PARSE);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), want);
	ck_assert_int_eq(ztc_board_burn(ctx, sim_match(b.ml, "ztc_sim"), b.fw), ZTC_OK);
	ck_assert_str_eq(read_text(simflash), "hello");
	bench_free(&b);
}
END_TEST

/* ztc_flash_default takes tool, disk, unsupported; "probe" belongs to the modules that drive probes. */
START_TEST(flash_object_probe_needs_a_probe_module)
{
	char dir[256], want[512];
	struct bench b;

	vendor_db(dir, sizeof(dir));
	board_dir(dir, "acme_probe", "spresense.AcmeProbe", "{\"version\": 1, \"method\": \"probe\", \"probe\": \"stlink\"}");
	ck_assert_int_eq(ztc_db_load(ctx, &b.d), ZTC_OK);
	ck_assert_uint_eq(nwarnings, 0);
	bench_match(&b);
	snprintf(want, sizeof(want), "%s/acme_probe/device.json: flash method \"probe\": class AcmeProbe flashes no probe "
		 "(its module must take the method itself, see ztc-plugin(7))", dir);
	ck_assert_int_eq(ztc_board_burn(ctx, sim_match(b.ml, "acme_probe"), b.fw), ZTC_ERR_UNSUPPORTED);
	ck_assert_str_eq(ztc_ctx_errmsg(ctx), want);
	bench_free(&b);
}
END_TEST

/* ---- tools.json: where a missing tool comes from ---- */

/* Burn a board of class spresense.* (ztc_flash_default) whose flash runs tool, with PATH empty: the
 * line ztc_tool_find gives. tools_json: written as <tmp>/db/tools.json unless NULL. */
static const char *missing_tool_line(const char *tool, const char *tools_json)
{
	static char line[1024];
	char dir[256], path[512], flash[256];
	struct bench b;

	vendor_db(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/tools.json", dir);
	if (tools_json)
		write_file(path, tools_json);
	else
		unlink(path);
	snprintf(flash, sizeof(flash), "{\"version\": 1, \"method\": \"tool\", \"tool\": \"%s\", \"args\": [\"{file}\"]}",
		 tool);
	board_dir(dir, "acme_tool", "spresense.AcmeTool", flash);
	snprintf(path, sizeof(path), "%s/empty-bin", tmp);
	mkdir_ok(path);
	setenv("PATH", path, 1);
	ck_assert_int_eq(ztc_db_load(ctx, &b.d), ZTC_OK);
	bench_match(&b);
	ck_assert_int_eq(ztc_board_burn(ctx, sim_match(b.ml, "acme_tool"), b.fw), ZTC_ERR_TOOL);
	snprintf(line, sizeof(line), "%s", ztc_ctx_errmsg(ctx));
	bench_free(&b);
	return line;
}

START_TEST(tools_json_builtin)
{
	ck_assert_str_eq(missing_tool_line("bossac", NULL),
			 "bossac not found on PATH: install the Debian package bossa-cli (apt-get install bossa-cli)");
	ck_assert_str_eq(missing_tool_line("esptool", NULL),
			 "esptool not found on PATH: no Debian package provides it; install it with pip (pip install esptool)");
	ck_assert_str_eq(missing_tool_line("acmeflash", NULL), "acmeflash not found on PATH");
	ck_assert_uint_eq(nwarnings, 0);
}
END_TEST

START_TEST(tools_json_vendor_adds_and_overrides)
{
	static const char vendor[] = "{\"version\": 1, \"tools\": {\"acmeflash\": {\"package\": \"acme-flash\"}, "
				     "\"bossac\": {\"origin\": \"use the BOSSA build of the Acme SDK\"}, "
				     "\"brackets\": {\"origin\": \"[[[[[[[[[[ {{{{{{{{{{ \\\" in a string\"}}}";

	ck_assert_str_eq(missing_tool_line("acmeflash", vendor),
			 "acmeflash not found on PATH: install the Debian package acme-flash (apt-get install acme-flash)");
	/* The database's search order: ZTC_DB_PATH's dirs before the installed one. */
	ck_assert_str_eq(missing_tool_line("bossac", vendor),
			 "bossac not found on PATH: no Debian package provides it; use the BOSSA build of the Acme SDK");
	/* Brackets in strings are no nesting. */
	ck_assert_str_eq(missing_tool_line("brackets", vendor),
			 "brackets not found on PATH: no Debian package provides it; [[[[[[[[[[ {{{{{{{{{{ \" in a string");
	/* What the vendor does not list still comes from the built-in tools.json. */
	ck_assert_str_eq(missing_tool_line("esptool", vendor),
			 "esptool not found on PATH: no Debian package provides it; install it with pip (pip install esptool)");
	ck_assert_uint_eq(nwarnings, 0);
}
END_TEST

static const struct {
	const char *json, *why;
} bad_tools[] = {
	{ "{\"tools\": {\"bossac\": {\"origin\": \"x\"}", "invalid JSON: parse error: premature EOF" },
	{ "[]", "not a JSON object" },
	{ "{\"version\": 2, \"tools\": {}}", "version must be 1" },
	{ "{\"tools\": []}", "\"tools\" must be an object of tool names" },
	{ "{\"tools\": {\"bossac\": \"bossa-cli\"}}", "tools.bossac must be an object with either \"package\" or \"origin\"" },
	{ "{\"tools\": {\"bossac\": {\"package\": \"a\", \"origin\": \"b\"}}}",
	  "tools.bossac must be an object with either \"package\" or \"origin\"" },
	{ "{\"tools\": {\"bossac\": {\"package\": \"bossa-cli; rm -rf ~\"}}}",
	  "tools.bossac.package is not a Debian package name" },
	{ "{\"tools\": {\"bossac\": {\"origin\": \"two\\nlines\"}}}",
	  "tools.bossac.origin must be one line of 1 to 400 characters" },
	{ NULL, "invalid JSON: nested deeper than 64 levels" }, /* 200,000 levels, built below */
};

/* A bad vendor tools.json: one warning naming it, and the hints of the other dirs as before. */
START_TEST(tools_json_malformed_is_a_warning)
{
	char want[1024], *deep = calloc(1, 200001);

	ck_assert_ptr_nonnull(deep);
	memset(deep, '[', 200000);
	for (size_t i = 0; i < sizeof(bad_tools) / sizeof(*bad_tools); i++) {
		ck_assert_str_eq(missing_tool_line("bossac", bad_tools[i].json ? bad_tools[i].json : deep),
				 "bossac not found on PATH: install the Debian package bossa-cli (apt-get install bossa-cli)");
		snprintf(want, sizeof(want), "%s/db/tools.json: %s; its tool hints are ignored", tmp, bad_tools[i].why);
		ck_assert_uint_eq(nwarnings, 1);
		ck_assert_str_eq(warnings[0], want);
		teardown();
		setup();
	}
	free(deep);
}
END_TEST

static Suite *flash_object_suite(void)
{
	const TTest *tests[] = {
		flash_object_rules, flash_object_bad_cannot_flash, flash_object_probe_needs_a_probe_module,
		tools_json_builtin, tools_json_vendor_adds_and_overrides, tools_json_malformed_is_a_warning, NULL,
	};

	return check_suite("flash object", check_tcase("flash object", setup, teardown, tests), NULL);
}

int main(void)
{
	return check_run(resolvers_suite(), alias_suite(), vm_suite(), store_suite(), db_suite(), loader_suite(),
			 flash_object_suite(), NULL);
}
