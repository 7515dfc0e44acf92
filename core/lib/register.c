/* register.c: `register` and `virtualize`: the flows that flash a board and talk to the backend. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "ztc/backend.h"
#include "ztc/firmware.h"
#include "ztc/register.h"

ZTC_API void ztc_register_opts_init(ztc_register_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->find_tries = 5;
	o->find_interval_ms = 1000;
	o->chipid_lines = 30;
	o->chipid_timeout_ms = 20000;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (ms > 0 && nanosleep(&ts, &ts) < 0)
		;
}

/* One line on stderr (through the progress callback) per phase of a long operation. */
static void phase(ztc_ctx *ctx, const char *msg)
{
	ztc_info(ctx, "%s", msg);
	if (ctx->progress_fn)
		ctx->progress_fn(ctx->progress_data, -1, msg);
}

ZTC_API int ztc_find_alias(ztc_ctx *ctx, const ztc_db *db, const ztc_store *store, const char *alias,
			   ztc_match_list **ret_list, const ztc_match **ret_match)
{
	ztc_usbdev_list *devs = NULL;
	ztc_match_list *ml = NULL;
	int rc;

	rc = ztc_discover(ctx, &devs);
	if (rc == ZTC_OK)
		rc = ztc_match_devices(ctx, db, store, devs, &ml);
	/* The match records keep pointers into the device list: it lives as long as the matches. */
	if (rc < 0) {
		ztc_usbdev_list_free(devs);
		return rc;
	}
	{
		const ztc_match *hit = NULL;
		size_t nhits = 0;

		for (size_t i = 0; i < ml->n; i++)
			if (ml->m[i].alias && strcmp(ml->m[i].alias, alias) == 0 && nhits++ == 0)
				hit = &ml->m[i];
		/* An alias not pinned to a usbpath stands for every twin that shares its uid. */
		if (nhits > 1) {
			ztc_match_list_free(ml);
			ztc_usbdev_list_free(devs);
			return ztc_fail(ctx, ZTC_ERR_AMBIGUOUS,
					"alias '%s' names %zu connected devices that share its uid (same serial number): "
					"pin it to one with 'ztc device alias put UID %s TARGET --port PORT'", alias, nhits,
					alias);
		}
		if (hit) {
			ztc_match_list_attach(ml, devs);
			*ret_list = ml;
			*ret_match = hit;
			return ZTC_OK;
		}
	}
	ztc_match_list_free(ml);
	ztc_usbdev_list_free(devs);
	return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "device '%s' is not connected (see 'ztc device discover --matchdb')",
			alias);
}

/* The registration and the VM flashing need the class named by the target's `virtualizable`. */
static int check_virtualizable(ztc_ctx *ctx, const ztc_match *m, const char *what)
{
	const char *virt = ztc_target_get_str(m->t, "virtualizable");

	if (!virt)
		return ztc_fail(ctx, ZTC_ERR_UNSUPPORTED, "%s (%s) cannot be %s: its board has no virtualizable mode",
				m->alias, m->target, what);
	if (strcmp(m->classname, virt) != 0)
		return ztc_fail(ctx, ZTC_ERR_UNSUPPORTED,
				"%s is in %s mode, but it can be %s only in %s mode: put the board in that mode "
				"(for example its bootloader) and give that identity an alias",
				m->alias, m->classname, what, virt);
	return ZTC_OK;
}

static char *register_vm_path(const ztc_target *t)
{
	return ztc_strdup_printf("%s/register.vm", ztc_target_get_path(t));
}

/* After the registration firmware is flashed the board re-enumerates: look for it by uid, or, for a
 * board with an alter ego, for the one device of its target in the alter-ego class. */
static int find_again(ztc_ctx *ctx, const ztc_db *db, const ztc_store *store, const ztc_match *m,
		      const ztc_register_opts *o, ztc_match_list **ret_list, const ztc_match **ret_found)
{
	const char *alter = ztc_target_get_str(m->t, "has_alter_ego");
	const ztc_known *entry = m->alias ? ztc_store_find_alias(store, m->alias) : NULL;
	char *uid = strdup(m->uid), *target = strdup(m->target);
	/* A pinned twin comes back on its own port: among twins, the one at its usbpath. */
	const char *pin = entry ? entry->usbpath : NULL;
	int rc = ZTC_ERR_NOT_FOUND;

	if (!uid || !target) {
		free(uid);
		free(target);
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	}
	for (int i = 0; i < o->find_tries; i++) {
		ztc_usbdev_list *devs = NULL;
		ztc_match_list *ml = NULL;
		const ztc_match *found = NULL;
		size_t nfound = 0;

		sleep_ms(o->find_interval_ms);
		if ((rc = ztc_discover(ctx, &devs)) < 0 || (rc = ztc_match_devices(ctx, db, store, devs, &ml)) < 0) {
			ztc_usbdev_list_free(devs);
			break;
		}
		for (size_t k = 0; k < ml->n; k++) {
			const ztc_match *r = &ml->m[k];

			if (strcmp(r->target, target) != 0)
				continue;
			if (alter ? strcmp(r->classname, alter) == 0
				  : strcmp(r->uid, uid) == 0 && (!pin || (r->dev && r->dev->usbpath &&
									  strcmp(r->dev->usbpath, pin) == 0))) {
				found = r;
				nfound++;
			}
		}
		if (nfound == 1) {
			ztc_match_list_attach(ml, devs);
			*ret_list = ml;
			*ret_found = found;
			rc = ZTC_OK;
			break;
		}
		ztc_match_list_free(ml);
		ztc_usbdev_list_free(devs);
		if (nfound > 1) {
			rc = ztc_fail(ctx, ZTC_ERR_AMBIGUOUS,
				      "several %s boards in %s mode are connected: keep only the one being registered",
				      target, alter);
			break;
		}
		rc = ztc_fail(ctx, ZTC_ERR_NOT_FOUND,
			      "the board did not come back after the registration firmware was flashed "
			      "(looked for %s %d times, %d ms apart)", alter ? alter : uid, o->find_tries,
			      o->find_interval_ms);
	}
	free(uid);
	free(target);
	return rc;
}

struct store_reg {
	const char *alias;
	const char *alter_uid;    /* NULL without alter ego */
	const char *alter_class;
	const char *target;
	const char *chipid;
	const char *remote_id;
	char alter_alias[256];
};

static int do_store_reg(ztc_ctx *ctx, ztc_store *s, void *userdata)
{
	struct store_reg *r = userdata;
	const ztc_known *k = ztc_store_find_alias(s, r->alias);
	ztc_known nk;
	int rc;

	if (!k)
		return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "alias '%s' was deleted during the registration", r->alias);
	nk = *k;
	nk.chipid = (char *)r->chipid;
	nk.remote_id = (char *)r->remote_id;
	if ((rc = ztc_store_put(ctx, s, &nk)) < 0)
		return rc;
	if (!r->alter_uid)
		return ZTC_OK;
	k = ztc_store_find_uid(s, r->alter_uid);
	if (k && strcmp(k->target, r->target) == 0) {
		nk = *k;
	} else {
		/* The alter ego has no alias yet: give it one derived from the registered alias. */
		memset(&nk, 0, sizeof(nk));
		snprintf(r->alter_alias, sizeof(r->alter_alias), "%s-%s", r->alias, r->alter_class);
		for (char *p = r->alter_alias; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (ztc_store_find_alias(s, r->alter_alias)) {
			ztc_warn(ctx, "alias %s is taken: the alter ego %s keeps no chip id", r->alter_alias, r->alter_uid);
			return ZTC_OK;
		}
		nk.alias = r->alter_alias;
		nk.uid = (char *)r->alter_uid;
		nk.target = (char *)r->target;
		nk.classname = (char *)r->alter_class;
	}
	nk.chipid = (char *)r->chipid;
	nk.remote_id = (char *)r->remote_id;
	return ztc_store_put(ctx, s, &nk);
}

/* A board whose chip id is not read natively needs its registration firmware: say so before anything
 * is touched, and why it is needed (why). */
static int check_register_vm(ztc_ctx *ctx, const ztc_match *m, const char *why)
{
	char *path = register_vm_path(m->t);
	FILE *f;

	if (!path)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	f = fopen(path, "r");
	if (f) {
		fclose(f);
		free(path);
		return ZTC_OK;
	}
	ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "%s: no such firmware file: %s (%s) needs a registration firmware there "
		 "(%s)", path, m->target, m->classname, why);
	free(path);
	return ZTC_ERR_NOT_FOUND;
}

/* The token and the backend are proven with one authenticated request before the board is touched:
 * a wrong token or a backend that is down must not cost the board its firmware. */
static int prove_backend(ztc_ctx *ctx, ztc_backend *be)
{
	ztc_backend_vm_list *vl = NULL;
	int rc;

	phase(ctx, "checking the token with the backend");
	rc = ztc_backend_list_vms(be, 0, &vl);
	ztc_backend_vm_list_free(vl);
	return rc;
}

/* The original flow, for a class without a native reader: flash register.vm (unless skip_burn), find
 * the board again (by uid, or as its alter ego), honour the reset flags and read the chip id from the
 * lines the registration firmware prints. *ret_list owns *ret_found. */
static int register_with_firmware(ztc_ctx *ctx, const ztc_db *db, const ztc_store *store, const char *alias,
				  const ztc_match *m, const ztc_register_opts *opts, ztc_match_list **ret_list,
				  const ztc_match **ret_found, char **ret_chipid)
{
	ztc_firmware *fw = NULL;
	const ztc_match *found;
	char *path = NULL;
	int rc;

	if (!opts->skip_burn) {
		path = register_vm_path(m->t);
		if (!path)
			return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		rc = ztc_firmware_load(ctx, path, &fw);
		if (rc == ZTC_OK) {
			phase(ctx, "flashing the registration firmware");
			ztc_info(ctx, "flashing the registration firmware %s on %s", path, alias);
			rc = ztc_board_burn(ctx, m, fw);
		}
		ztc_firmware_free(fw);
		free(path);
		if (rc < 0)
			return rc;
	}
	if ((rc = find_again(ctx, db, store, m, opts, ret_list, ret_found)) < 0)
		return rc;
	found = *ret_found;
	if (ztc_target_get_int(found->t, "reset_after_register", 0)) {
		ztc_warn(ctx, "Please reset the device!");
		if (!getenv("ZTC_FLASH_NO_SLEEP"))
			sleep_ms((int)ztc_target_get_int(found->t, "reset_time", 3000));
	}
	if (ztc_target_get_int(found->t, "sw_reset_after_register", 0) == 1 &&
	    (rc = ztc_board_reset(ctx, found)) < 0)
		return rc;
	rc = ztc_board_read_chipid(ctx, found, ret_chipid);
	if (rc == ZTC_ERR_UNSUPPORTED) {
		ztc_serial_params params;

		if (!found->port)
			return ztc_fail(ctx, ZTC_ERR_NOT_FOUND, "%s has no serial port to read the chip id from", alias);
		phase(ctx, "reading the chip id from the registration firmware");
		ztc_target_serial_params(found->t, &params);
		rc = ztc_chipid_read_serial(ctx, found->port, &params, opts->chipid_lines, opts->chipid_timeout_ms,
					    ret_chipid);
	}
	return rc;
}

/* A board registered natively stays in the mode it was read in: its alter ego (the other USB identity of
 * the same board) is known only from the store, where exactly one device of that target and class can
 * be it. */
static const ztc_known *stored_alter_ego(ztc_ctx *ctx, const ztc_store *store, const ztc_match *m)
{
	const char *alter = ztc_target_get_str(m->t, "has_alter_ego");
	const ztc_known *found = NULL;
	size_t n = 0;

	if (!alter)
		return NULL;
	for (size_t i = 0; i < ztc_store_count(store); i++) {
		const ztc_known *k = ztc_store_get(store, i);

		if (k->target && k->classname && strcmp(k->target, m->target) == 0 &&
		    strcmp(k->classname, alter) == 0) {
			found = k;
			n++;
		}
	}
	if (n > 1) {
		ztc_warn(ctx, "%zu devices of %s in %s mode have aliases: none of them gets this chip id (register "
			 "each board in its %s mode once)", n, m->target, alter, m->classname);
		return NULL;
	}
	return found;
}

ZTC_API int ztc_device_register(ztc_ctx *ctx, const char *alias, const ztc_register_opts *opts,
				char **ret_chipid, char **ret_remote_id)
{
	ztc_register_opts defaults;
	ztc_db *db = NULL;
	ztc_store *store = NULL;
	ztc_match_list *ml = NULL, *ml2 = NULL;
	const ztc_match *m = NULL, *found = NULL;
	const ztc_known *alter = NULL;
	ztc_backend *be = NULL;
	char *chipid = NULL, *remote_id = NULL;
	const char *name;
	struct store_reg sr = { 0 };
	int native, rc;

	if (!ctx || !alias)
		return ZTC_ERR_ARG;
	if (!opts) {
		ztc_register_opts_init(&defaults);
		opts = &defaults;
	}
	if ((rc = ztc_db_load(ctx, &db)) < 0 || (rc = ztc_store_load(ctx, &store)) < 0)
		goto out;
	if ((rc = ztc_find_alias(ctx, db, store, alias, &ml, &m)) < 0 || (rc = check_virtualizable(ctx, m, "registered")) < 0)
		goto out;
	if ((rc = native = ztc_board_has_native_chipid(ctx, m)) < 0)
		goto out;
	/* Refuse early what would fail only after touching the board. */
	if (!native && !opts->skip_burn && (rc = check_register_vm(ctx, m, "it reads no chip id natively")) < 0)
		goto out;
	if ((rc = ztc_backend_new(ctx, &be)) < 0 || (rc = prove_backend(ctx, be)) < 0)
		goto out;
	if (native) {
		found = m;
		rc = ztc_board_read_chipid(ctx, m, &chipid);
		/* A native reader may decline when the board's data gives it nothing to go on (no address,
		 * no probe): before touching the board, so the original flow can still run. */
		if (rc == ZTC_ERR_UNSUPPORTED) {
			char why[256];

			snprintf(why, sizeof(why), "%s", ztc_ctx_errmsg(ctx));
			ztc_info(ctx, "%s: %s", alias, why);
			native = 0;
			if (!opts->skip_burn && (rc = check_register_vm(ctx, m, why)) < 0)
				goto out;
		} else {
			alter = stored_alter_ego(ctx, store, m);
		}
	}
	if (!native)
		rc = register_with_firmware(ctx, db, store, alias, m, opts, &ml2, &found, &chipid);
	if (rc < 0)
		goto out;
	ztc_info(ctx, "chip id of %s: %s", alias, chipid);
	phase(ctx, "registering the chip id with the backend");
	name = ztc_store_find_alias(store, alias)->name;
	rc = ztc_backend_register_device(be, name ? name : ztc_target_get_name(m->t), chipid, m->target,
					 ztc_target_get_str(m->t, "family_name"), &remote_id);
	if (rc < 0)
		goto out;
	sr.alias = alias;
	sr.target = m->target;
	sr.chipid = chipid;
	sr.remote_id = remote_id;
	if (strcmp(found->uid, m->uid) != 0) {
		sr.alter_uid = found->uid;
		sr.alter_class = found->classname;
	} else if (alter) {
		sr.alter_uid = alter->uid;
		sr.alter_class = alter->classname;
	}
	if ((rc = ztc_store_update(ctx, do_store_reg, &sr)) < 0)
		goto out;
	ztc_hand_over(ret_chipid, &chipid);
	ztc_hand_over(ret_remote_id, &remote_id);
out:
	free(chipid);
	free(remote_id);
	ztc_backend_free(be);
	ztc_match_list_free(ml);
	ztc_match_list_free(ml2);
	ztc_store_free(store);
	ztc_db_free(db);
	return rc;
}

ZTC_API int ztc_device_virtualize(ztc_ctx *ctx, const char *alias, const char *vm_path)
{
	ztc_db *db = NULL;
	ztc_store *store = NULL;
	ztc_match_list *ml = NULL;
	const ztc_match *m = NULL;
	ztc_firmware *fw = NULL;
	int rc;

	if (!ctx || !alias || !vm_path)
		return ZTC_ERR_ARG;
	/* Parse the VM first: a bad file is refused before anything is flashed. */
	if ((rc = ztc_firmware_load(ctx, vm_path, &fw)) < 0 || (rc = ztc_db_load(ctx, &db)) < 0 ||
	    (rc = ztc_store_load(ctx, &store)) < 0 || (rc = ztc_find_alias(ctx, db, store, alias, &ml, &m)) < 0 ||
	    (rc = check_virtualizable(ctx, m, "virtualized")) < 0)
		goto out;
	ztc_info(ctx, "flashing %s on %s", vm_path, alias);
	rc = ztc_board_burn(ctx, m, fw);
out:
	ztc_firmware_free(fw);
	ztc_match_list_free(ml);
	ztc_store_free(store);
	ztc_db_free(db);
	return rc;
}
