/* fuzz-udev-props.c: libFuzzer target for udev property values: the raw discovery record built from a
 * device's properties (ztc_make_record, with HID_ID parsing), then matched against the built-in
 * board database. The input is records separated by blank lines, each "KEY=VALUE" lines; SUBSYSTEM
 * (tty, block, usb, hid) and DEVNAME choose the subsystem and node, the rest are udev properties.
 * libudev's two accessors that ztc_make_record calls are replaced here by a property table. */
#include "config.h"

#include <ctype.h>

#include <libmount.h>

#include "fuzz-common.h"
#include "internal.h"

#define MAX_PROPS 32
#define MAX_RECS 8

/* Stands in for libudev's device: make_record only reads properties and the node. */
struct udev_device {
	const char *devnode;
	size_t n;
	const char *key[MAX_PROPS], *val[MAX_PROPS];
};

const char *udev_device_get_property_value(struct udev_device *d, const char *key);
const char *udev_device_get_devnode(struct udev_device *d);

const char *udev_device_get_property_value(struct udev_device *d, const char *key)
{
	for (size_t i = 0; d && key && i < d->n; i++)
		if (strcmp(d->key[i], key) == 0)
			return d->val[i];
	return NULL;
}

const char *udev_device_get_devnode(struct udev_device *d)
{
	return d ? d->devnode : NULL;
}

static ztc_ctx *ctx;
static ztc_db *db;
static struct libmnt_table *mounts;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("ZTC_HOME", fuzz_scratch("udev-props"), 1);
	setenv("ZTC_DB_PATH", TOP_SRCDIR "/db", 1);
	/* A mount table where /dev/sdb is mounted, so block records get a disk. */
	setenv("ZTC_MOUNTINFO", TOP_SRCDIR "/tests/data/nucleo.mountinfo", 1);
	if (ztc_ctx_new(&ctx) != ZTC_OK || ztc_db_load(ctx, &db) != ZTC_OK)
		abort();
	return 0;
}

static bool is_upper_hex4(const char *s)
{
	if (!s || strlen(s) != 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (!isxdigit((unsigned char)s[i]) || islower((unsigned char)s[i]))
			return false;
	return true;
}

static void check_record(const ztc_usbdev *r)
{
	char uid[41];

	FUZZ_CHECK(is_upper_hex4(r->vid) && is_upper_hex4(r->pid));
	FUZZ_CHECK(r->sid && *r->sid);
	/* The serial number upper-cased, or no_sid when there is none. */
	for (const char *p = r->sid; *p && strcmp(r->sid, "no_sid") != 0; p++)
		FUZZ_CHECK(!islower((unsigned char)*p));
	FUZZ_CHECK(ztc_uid_compute(r->vid, r->pid, r->sid, uid) == ZTC_OK && strcmp(uid, r->uid) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const subsystems[] = { "tty", "block", "usb", "hid" };
	char *text = fuzz_cstr(data, size);
	ztc_usbdev recs[MAX_RECS];
	ztc_usbdev_list list = { 0, recs };
	ztc_match_list *ml = NULL;
	struct udev_device dev = { 0 };
	const char *subsystem = "tty";
	char *line = text;

	/* Records end at a blank line (or the end); ztc_make_record runs on each. */
	for (;;) {
		char *nl = line ? strchr(line, '\n') : NULL;
		bool end = !line || (nl ? nl == line : !*line);

		if (nl)
			*nl = '\0';
		if (!end) {
			char *eq = strchr(line, '=');

			if (eq) {
				*eq = '\0';
				if (strcmp(line, "SUBSYSTEM") == 0) {
					subsystem = "tty";
					for (size_t i = 0; i < 4; i++)
						if (strcmp(eq + 1, subsystems[i]) == 0)
							subsystem = subsystems[i];
				} else if (strcmp(line, "DEVNAME") == 0) {
					dev.devnode = eq + 1;
				} else if (dev.n < MAX_PROPS) {
					dev.key[dev.n] = line;
					dev.val[dev.n++] = eq + 1;
				}
			}
		}
		if (end || !nl) {
			if ((dev.n || dev.devnode) && list.n < MAX_RECS &&
			    ztc_make_record(subsystem, &dev, &mounts, ctx, &recs[list.n])) {
				check_record(&recs[list.n]);
				list.n++;
			}
			memset(&dev, 0, sizeof(dev));
			subsystem = "tty";
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	/* The records as discovery hands them on: matched against the board database. */
	if (ztc_match_devices(ctx, db, NULL, &list, &ml) == ZTC_OK) {
		for (size_t i = 0; i < ml->n; i++)
			FUZZ_CHECK(ml->m[i].uid && ml->m[i].target && ml->m[i].classname);
		ztc_match_list_free(ml);
	}
	for (size_t i = 0; i < list.n; i++)
		ztc_usbdev_clear(&recs[i]);
	free(text);
	return 0;
}
