/* fota.c: the FOTA state machine of ADM-PROTOCOL.md, run on the worker thread. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>

#include "internal.h"

static zadm_fota_store *store_of(zadm_device *dev)
{
	return dev->opts.fota_store;
}

void zadm_fota_refresh_record(zadm_device *dev)
{
	zadm_fota_store *st = store_of(dev);
	zadm_fota_record rec = { 0 };

	if (!st || st->ops->get_record(st->userdata, &rec))
		rec.valid = 0;
	pthread_mutex_lock(&dev->lock);
	dev->rec = rec;
	pthread_mutex_unlock(&dev->lock);
}

void zadm_fota_accept(zadm_device *dev)
{
	zadm_fota_store *st = store_of(dev);
	int r;

	if (!st)
		return;
	r = st->ops->accept(st->userdata);
	if (r)
		zadm_err(dev, "FOTA: cannot accept the running configuration: %s", zadm_strerror(r));
	zadm_fota_refresh_record(dev);
}

static void send_line(zadm_device *dev, unsigned int gen, char *line, size_t len)
{
	zadm_device_push_internal(dev, line, len, gen);
}

static void fail(zadm_device *dev, unsigned int gen, const char *reason)
{
	size_t len;
	char *line = zadm_proto_ota_ko(reason, &len);

	zadm_log_limited(dev, ZADM_RL_FOTA, ZADM_LOG_WARN, "FOTA failed: %s", reason);
	dev->fota.active = 0;
	send_line(dev, gen, line, len);
}

static void ask(zadm_device *dev, unsigned int gen, const char *key, long long n, int t)
{
	char ts[2] = { (char)t, 0 };
	size_t len;
	char *line = zadm_proto_ota_req(key, n, ts, &len);

	send_line(dev, gen, line, len);
}

static bool veto(zadm_device *dev, int step)
{
	if (!dev->opts.fota_callback)
		return false;
	if (dev->opts.fota_callback(dev->opts.fota_userdata, step) == 0)
		return false;
	zadm_info(dev, "FOTA: stopped by the callback at step %d", step);
	return true;
}

static const char *store_reason(int r)
{
	return r == ZADM_ERR_SLOT ? "Bad slots" : "Storage error";
}

/* A number of the start message as it came: 0 with *ret set when it is an integer within long long,
 * 1 when it is a number no slot or size can be (an integer beyond long long, 1e300), -1 when it is
 * absent, no number, or a fraction. Nothing is converted before the range checks. */
static int start_number(yajl_val v, const char *key, long long *ret)
{
	yajl_val n = zj_get(v, key);

	if (!n || n->type != yajl_t_number)
		return -1;
	if (zj_get_int(v, key, ret))
		return 0;
	if ((n->u.number.flags & YAJL_NUMBER_DOUBLE_VALID) && n->u.number.d == floor(n->u.number.d))
		return 1;
	/* A fraction is a bad request; a number beyond even a double (1e400) has neither flag valid. */
	return n->u.number.flags & YAJL_NUMBER_DOUBLE_VALID ? -1 : 1;
}

static void on_start(zadm_device *dev, unsigned int gen, yajl_val v)
{
	zadm_fota_store *st = store_of(dev);
	struct zadm_fota_state *f = &dev->fota;
	long long chunk, bcsize, vmsize = 0, bc, vm = -1;
	zadm_fota_record rec = { 0 };
	int r, rb, rs, rv = 0, rvs = 0;

	f->active = 0;
	rs = start_number(v, "bcsize", &bcsize);
	rb = start_number(v, "bc", &bc);
	if (zj_get(v, "vmsize"))
		rvs = start_number(v, "vmsize", &vmsize);
	if (start_number(v, "chunk", &chunk) || chunk <= 0 || chunk > 1 << 24 || rs < 0 || (!rs && bcsize <= 0) ||
	    rb < 0 || rvs < 0) {
		fail(dev, gen, "Bad request");
		return;
	}
	/* "V <= 0 means bytecode only"; a VM size no store can hold is a bad slot, not bytecode only. */
	if (rvs || vmsize > 0) {
		rv = start_number(v, "vm", &vm);
		if (rv < 0) {
			fail(dev, gen, "Bad request");
			return;
		}
	}
	r = st->ops->get_record(st->userdata, &rec);
	if (r || !rec.valid) {
		fail(dev, gen, "not ready");
		return;
	}
	/* Every number is checked as it came, before it is converted: a slot of 2^32 plus the running one
	 * must not become the running one. */
	if (rs || rb || rv || rvs || zadm_fota_store_check(st, &rec, ZADM_SLOT_BC, bc, bcsize) ||
	    (vmsize > 0 && zadm_fota_store_check(st, &rec, ZADM_SLOT_VM, vm, vmsize))) {
		fail(dev, gen, "Bad slots");
		return;
	}
	zadm_info(dev, "FOTA: update announced: bytecode %lld bytes to slot %lld%s", bcsize, bc,
		  vmsize > 0 ? ", with a VM" : " (bytecode only)");
	if (veto(dev, 0)) {
		fail(dev, gen, "stopped by callback");
		return;
	}
	r = st->ops->erase(st->userdata, ZADM_SLOT_BC, (int)bc, (size_t)bcsize);
	if (!r && vmsize > 0)
		r = st->ops->erase(st->userdata, ZADM_SLOT_VM, (int)vm, (size_t)vmsize);
	if (r) {
		fail(dev, gen, store_reason(r));
		return;
	}
	f->chunk = (unsigned int)chunk;
	f->bcsize = bcsize;
	f->vmsize = vmsize > 0 ? vmsize : 0;
	f->bc = (int)bc;
	f->vm = vmsize > 0 ? (int)vm : rec.vm;
	f->active = ZADM_SLOT_BC;
	f->block = 0;
	f->received = 0;
	ask(dev, gen, "b", 0, 'b');
}

static int part_of(yajl_val v)
{
	const char *t = zj_get_str(v, "t");

	return t && strcmp(t, "v") == 0 ? ZADM_SLOT_VM : ZADM_SLOT_BC;
}

static void on_block(zadm_device *dev, unsigned int gen, yajl_val v)
{
	zadm_fota_store *st = store_of(dev);
	struct zadm_fota_state *f = &dev->fota;
	const char *b64 = zj_get_str(v, "bin");
	int t = part_of(v), r;
	gnutls_datum_t in, out = { NULL, 0 };
	long long size, offset;

	if (!f->active) {
		fail(dev, gen, "no update in progress");
		return;
	}
	if (t == ZADM_SLOT_VM && f->vmsize <= 0) {
		fail(dev, gen, "BC only ota");
		return;
	}
	if (t != f->active || !b64) {
		fail(dev, gen, "Unexpected block");
		return;
	}
	in.data = (unsigned char *)b64;
	in.size = (unsigned int)strlen(b64);
	if (gnutls_base64_decode2(&in, &out) < 0) {
		fail(dev, gen, "Bad block");
		return;
	}
	size = t == ZADM_SLOT_BC ? f->bcsize : f->vmsize;
	offset = (long long)f->chunk * f->block;
	/* offset < size here (blocks are asked for only while bytes are missing): no overflow. */
	if (out.size == 0 || out.size > f->chunk || (long long)out.size > size - offset) {
		gnutls_free(out.data);
		fail(dev, gen, "Bad size");
		return;
	}
	r = st->ops->write(st->userdata, t, t == ZADM_SLOT_BC ? f->bc : f->vm, (size_t)offset, out.data,
			   out.size);
	gnutls_free(out.data);
	if (r) {
		fail(dev, gen, store_reason(r));
		return;
	}
	f->received = offset + out.size;
	if (f->received < size)
		ask(dev, gen, "b", ++f->block, t);
	else
		ask(dev, gen, "c", 0, t);
}

static int slot_md5(zadm_fota_store *st, int kind, int slot, long long size, char hex[33])
{
	unsigned char buf[8192], md[16];
	gnutls_hash_hd_t h;
	size_t off = 0;
	int r = ZADM_OK;

	if (gnutls_hash_init(&h, GNUTLS_DIG_MD5) < 0)
		return ZADM_ERR;
	while (off < (size_t)size) {
		size_t want = (size_t)size - off, got = 0;

		if (want > sizeof(buf))
			want = sizeof(buf);
		r = st->ops->read(st->userdata, kind, slot, off, buf, want, &got);
		if (!r && got == 0)
			r = ZADM_ERR_IO;
		if (r)
			break;
		gnutls_hash(h, buf, got);
		off += got;
	}
	gnutls_hash_deinit(h, md);
	for (int i = 0; i < 16; i++) {
		static const char digits[] = "0123456789abcdef";

		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[32] = '\0';
	return r;
}

static void on_crc(zadm_device *dev, unsigned int gen, yajl_val v)
{
	zadm_fota_store *st = store_of(dev);
	struct zadm_fota_state *f = &dev->fota;
	const char *crc = zj_get_str(v, "crc");
	int t = part_of(v), r;
	long long size = t == ZADM_SLOT_BC ? f->bcsize : f->vmsize;
	char hex[33];

	if (!f->active) {
		fail(dev, gen, "no update in progress");
		return;
	}
	if (t != f->active || f->received < size || !crc) {
		fail(dev, gen, "Unexpected checksum");
		return;
	}
	r = slot_md5(st, t, t == ZADM_SLOT_BC ? f->bc : f->vm, size, hex);
	if (r) {
		fail(dev, gen, "Storage error");
		return;
	}
	if (strcasecmp(hex, crc) != 0) {
		zadm_dbg(dev, "FOTA: %s MD5 is %s, the server says %s", t == ZADM_SLOT_BC ? "bytecode" : "VM",
			 hex, crc);
		fail(dev, gen, "Bad CRC");
		return;
	}
	if (t == ZADM_SLOT_BC && f->vmsize > 0) {
		f->active = ZADM_SLOT_VM;
		f->block = 0;
		f->received = 0;
		ask(dev, gen, "b", 0, 'v');
		return;
	}
	if (veto(dev, 1)) {
		fail(dev, gen, "stopped by callback");
		return;
	}
	r = st->ops->attempt(st->userdata, f->bc, f->vm);
	if (r) {
		fail(dev, gen, "Storage error");
		return;
	}
	f->active = 0;
	zadm_info(dev, "FOTA: bytecode slot %d, VM slot %d recorded as the attempt", f->bc, f->vm);
	if (veto(dev, 2)) {
		fail(dev, gen, "stopped by callback");
		return;
	}
	zadm_info(dev, "FOTA: restarting");
	if (dev->opts.restart)
		dev->opts.restart(dev->opts.restart_userdata);
	/* In-process restart: boot the store before the reader can log in again, so the login already
	 * reports the new slots; then close, as the original does, and reconnect at once. */
	r = st->ops->boot(st->userdata);
	if (r)
		zadm_err(dev, "FOTA: restart: the store cannot boot: %s", zadm_strerror(r));
	zadm_fota_refresh_record(dev);
	zadm_device_drop_session(dev, gen, true);
}

static void on_confirm(zadm_device *dev, unsigned int gen, yajl_val v)
{
	zadm_fota_store *st = store_of(dev);
	zadm_fota_record rec = { 0 };
	long long ok = 0, bc = -1, vm = -1;
	size_t len;

	zj_get_int(v, "ok", &ok);
	zj_get_int(v, "bc", &bc);
	zj_get_int(v, "vm", &vm);
	if (ok == 1 && !st->ops->get_record(st->userdata, &rec) && rec.valid && rec.bc == bc &&
	    rec.vm == vm) {
		zadm_info(dev, "FOTA: the server confirmed bytecode slot %lld, VM slot %lld", bc, vm);
		char *line = zadm_proto_ota_ok(&len);

		send_line(dev, gen, line, len);
		return;
	}
	fail(dev, gen, "not ready");
}

void zadm_fota_run(zadm_device *dev, struct zadm_job *job)
{
	yajl_val v = job->msg;

	if (!zadm_device_session_is(dev, job->gen))
		return;
	if (dev->fota.gen != job->gen) {
		/* A new session: whatever was in progress died with the old one. */
		memset(&dev->fota, 0, sizeof(dev->fota));
		dev->fota.gen = job->gen;
	}
	if (!store_of(dev)) {
		fail(dev, job->gen, "OTA unsupported");
		return;
	}
	if (zj_get(v, "chunk"))
		on_start(dev, job->gen, v);
	else if (zj_get(v, "bin"))
		on_block(dev, job->gen, v);
	else if (zj_get(v, "crc"))
		on_crc(dev, job->gen, v);
	else if (zj_get(v, "ok"))
		on_confirm(dev, job->gen, v);
	else
		zadm_log_limited(dev, ZADM_RL_FOTA, ZADM_LOG_WARN,
				 "FOTA: ignoring an OTA message without chunk, bin, crc or ok");
}
