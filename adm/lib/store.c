/* store.c: FOTA storage: the generic store over caller functions and the file-backed store. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

ZADM_API int zadm_fota_store_new(const zadm_fota_store_ops *ops, void *userdata,
				  zadm_fota_store **ret_store)
{
	zadm_fota_store *st;

	if (!ops || !ops->get_record || !ops->erase || !ops->write || !ops->read || !ops->attempt ||
	    !ops->accept || !ops->boot || !ret_store)
		return ZADM_ERR_ARG;
	st = calloc(1, sizeof(*st));
	if (!st)
		return ZADM_ERR_NOMEM;
	st->ops = ops;
	st->userdata = userdata;
	st->nslots = 2;
	st->max_size = ZADM_FOTA_SLOT_SIZE_DEFAULT;
	*ret_store = st;
	return ZADM_OK;
}

ZADM_API int zadm_fota_store_set_limits(zadm_fota_store *store, int nslots, size_t max_slot_size)
{
	if (!store || nslots < 1 || nslots > ZADM_FOTA_SLOTS_MAX || max_slot_size == 0)
		return ZADM_ERR_ARG;
	store->nslots = nslots;
	store->max_size = max_slot_size;
	return ZADM_OK;
}

int zadm_fota_store_check(const zadm_fota_store *st, const zadm_fota_record *running, int kind, long long slot,
			  long long size)
{
	if (kind != ZADM_SLOT_BC && kind != ZADM_SLOT_VM)
		return ZADM_ERR_SLOT;
	if (slot < 0 || slot >= st->nslots || size < 0 || (unsigned long long)size > st->max_size)
		return ZADM_ERR_SLOT;
	if (running && running->valid && slot == (kind == ZADM_SLOT_BC ? running->bc : running->vm))
		return ZADM_ERR_SLOT;
	if (st->is_protected && st->is_protected(st->userdata, kind, (int)slot))
		return ZADM_ERR_SLOT;
	return ZADM_OK;
}

ZADM_API void zadm_fota_store_free(zadm_fota_store *store)
{
	if (!store)
		return;
	if (store->ops->free)
		store->ops->free(store->userdata);
	free(store);
}

ZADM_API int zadm_fota_store_get_record(zadm_fota_store *store, zadm_fota_record *ret_rec)
{
	if (!store || !ret_rec)
		return ZADM_ERR_ARG;
	return store->ops->get_record(store->userdata, ret_rec);
}

ZADM_API int zadm_fota_store_attempt(zadm_fota_store *store, int bc, int vm)
{
	return store ? store->ops->attempt(store->userdata, bc, vm) : ZADM_ERR_ARG;
}

ZADM_API int zadm_fota_store_accept(zadm_fota_store *store)
{
	return store ? store->ops->accept(store->userdata) : ZADM_ERR_ARG;
}

ZADM_API int zadm_fota_store_boot(zadm_fota_store *store)
{
	return store ? store->ops->boot(store->userdata) : ZADM_ERR_ARG;
}

/* ---- the file-backed store ---- */

/* ok: cur is accepted. attempt: cur is recorded, last still runs until the next boot.
 * trying: cur runs since the last boot and was not accepted yet; the next boot rolls back to last. */
enum { FS_OK, FS_ATTEMPT, FS_TRYING };
static const char *const state_names[] = { "ok", "attempt", "trying" };

struct file_store {
	char *dir;
	int nslots;
	size_t max_size;
	int bc, vm, last_bc, last_vm, state;
	unsigned int chunk;
};

static int slot_path(struct file_store *fs, int kind, int slot, char *buf, size_t len)
{
	if ((kind != ZADM_SLOT_BC && kind != ZADM_SLOT_VM) || slot < 0 || slot >= fs->nslots)
		return ZADM_ERR_SLOT;
	snprintf(buf, len, "%s/%s%d.bin", fs->dir, kind == ZADM_SLOT_BC ? "bc" : "vm", slot);
	return ZADM_OK;
}

static int fs_save(struct file_store *fs)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	yajl_gen g = zj_gen_new();
	size_t len;
	char *text;
	int fd, e = 0, r = ZADM_ERR_IO;

	if (!g)
		return ZADM_ERR_NOMEM;
	e |= yajl_gen_map_open(g);
	e |= zj_gen_key(g, "bc") | zj_gen_int(g, fs->bc);
	e |= zj_gen_key(g, "vm") | zj_gen_int(g, fs->vm);
	e |= zj_gen_key(g, "last_bc") | zj_gen_int(g, fs->last_bc);
	e |= zj_gen_key(g, "last_vm") | zj_gen_int(g, fs->last_vm);
	e |= zj_gen_key(g, "state") | zj_gen_str(g, state_names[fs->state]);
	e |= zj_gen_key(g, "chunk") | zj_gen_int(g, fs->chunk);
	e |= yajl_gen_map_close(g);
	if (e) {
		yajl_gen_free(g);
		return ZADM_ERR_NOMEM;
	}
	text = zj_gen_line(g, &len);
	if (!text)
		return ZADM_ERR_NOMEM;
	snprintf(path, sizeof(path), "%s/record.json", fs->dir);
	snprintf(tmp, sizeof(tmp), "%s/.record.json.tmp", fs->dir);
	/* temp + fsync + rename + fsync(dir): after a crash the record is the old or the new, whole. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, text, len) == (ssize_t)len && fsync(fd) == 0 && close(fd) == 0) {
			fd = -1;
			if (rename(tmp, path) == 0) {
				int dfd = open(fs->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

				if (dfd >= 0) {
					fsync(dfd);
					close(dfd);
				}
				r = ZADM_OK;
			}
		}
		if (fd >= 0)
			close(fd);
		if (r)
			unlink(tmp);
	}
	free(text);
	return r;
}

static bool get_slot(yajl_val v, const char *key, int nslots, int *ret)
{
	long long n;

	if (!zj_get_int(v, key, &n) || n < 0 || n >= nslots)
		return false;
	*ret = (int)n;
	return true;
}

static int fs_load(struct file_store *fs)
{
	char path[PATH_MAX], buf[4096], err[128];
	const char *state;
	long long chunk;
	yajl_val v;
	ssize_t n;
	int fd, r = ZADM_ERR_CORRUPT;

	snprintf(path, sizeof(path), "%s/record.json", fs->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return ZADM_ERR_IO;
		fs->bc = fs->vm = fs->last_bc = fs->last_vm = 0;
		fs->state = FS_OK;
		fs->chunk = 4096;
		return ZADM_OK;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return ZADM_ERR_IO;
	buf[n] = '\0';
	v = zj_parse(buf, err, sizeof(err));
	state = zj_get_str(v, "state");
	if (v && get_slot(v, "bc", fs->nslots, &fs->bc) && get_slot(v, "vm", fs->nslots, &fs->vm) &&
	    get_slot(v, "last_bc", fs->nslots, &fs->last_bc) &&
	    get_slot(v, "last_vm", fs->nslots, &fs->last_vm) && state &&
	    zj_get_int(v, "chunk", &chunk) && chunk > 0 && chunk <= 1 << 24) {
		fs->chunk = (unsigned int)chunk;
		for (int i = 0; i < 3; i++)
			if (strcmp(state, state_names[i]) == 0) {
				fs->state = i;
				r = ZADM_OK;
			}
	}
	yajl_tree_free(v);
	return r;
}

static int fs_get_record(void *ud, zadm_fota_record *ret_rec)
{
	struct file_store *fs = ud;

	ret_rec->valid = 1;
	ret_rec->bc = fs->state == FS_ATTEMPT ? fs->last_bc : fs->bc;
	ret_rec->vm = fs->state == FS_ATTEMPT ? fs->last_vm : fs->vm;
	ret_rec->chunk = fs->chunk;
	return ZADM_OK;
}

/* The slots this store never erases or writes, whoever asks: the one running now, and the one a
 * rollback returns to. A pending attempt is neither (a newer update may replace it before the restart). */
static bool fs_protected(void *ud, int kind, int slot)
{
	struct file_store *fs = ud;
	int run = kind == ZADM_SLOT_BC ? fs->bc : fs->vm, last = kind == ZADM_SLOT_BC ? fs->last_bc : fs->last_vm;

	return slot == last || (fs->state != FS_ATTEMPT && slot == run);
}

static int fs_erase(void *ud, int kind, int slot, size_t size)
{
	struct file_store *fs = ud;
	char path[PATH_MAX];
	int fd, r = slot_path(fs, kind, slot, path, sizeof(path));

	if (r)
		return r;
	if (size > fs->max_size || fs_protected(fs, kind, slot))
		return ZADM_ERR_SLOT;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return ZADM_ERR_IO;
	r = ftruncate(fd, (off_t)size) == 0 ? ZADM_OK : ZADM_ERR_IO;
	close(fd);
	return r;
}

static int fs_write(void *ud, int kind, int slot, size_t offset, const void *buf, size_t len)
{
	struct file_store *fs = ud;
	char path[PATH_MAX];
	const char *p = buf;
	int fd, r = slot_path(fs, kind, slot, path, sizeof(path));

	if (r)
		return r;
	if (offset > fs->max_size || len > fs->max_size - offset || fs_protected(fs, kind, slot))
		return ZADM_ERR_SLOT;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return ZADM_ERR_IO;
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = ZADM_ERR_IO;
			break;
		}
		p += n;
		offset += (size_t)n;
		len -= (size_t)n;
	}
	close(fd);
	return r;
}

static int fs_read(void *ud, int kind, int slot, size_t offset, void *buf, size_t len, size_t *ret_len)
{
	struct file_store *fs = ud;
	char path[PATH_MAX];
	ssize_t n;
	int fd, r = slot_path(fs, kind, slot, path, sizeof(path));

	if (r)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ZADM_ERR_IO;
	do {
		n = pread(fd, buf, len, (off_t)offset);
	} while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return ZADM_ERR_IO;
	*ret_len = (size_t)n;
	return ZADM_OK;
}

static int sync_slot(struct file_store *fs, int kind, int slot)
{
	char path[PATH_MAX];
	int fd, r = slot_path(fs, kind, slot, path, sizeof(path));

	if (r)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ZADM_ERR_IO;
	r = fsync(fd) == 0 ? ZADM_OK : ZADM_ERR_IO;
	close(fd);
	return r;
}

static int fs_attempt(void *ud, int bc, int vm)
{
	struct file_store *fs = ud;
	struct file_store old = *fs;
	zadm_fota_record run;
	int r;

	if (bc < 0 || bc >= fs->nslots || vm < 0 || vm >= fs->nslots)
		return ZADM_ERR_SLOT;
	fs_get_record(fs, &run);
	/* The slots must be on disk before a record that points at them. A slot still running (the VM
	 * of a bytecode-only update) need not exist as a file. */
	r = sync_slot(fs, ZADM_SLOT_BC, bc);
	if (!r && vm != run.vm)
		r = sync_slot(fs, ZADM_SLOT_VM, vm);
	if (r)
		return r;
	if (fs->state != FS_TRYING) {
		fs->last_bc = run.bc;
		fs->last_vm = run.vm;
	}
	fs->bc = bc;
	fs->vm = vm;
	fs->state = FS_ATTEMPT;
	r = fs_save(fs);
	if (r)
		*fs = old;
	return r;
}

static int fs_accept(void *ud)
{
	struct file_store *fs = ud;
	struct file_store old = *fs;
	int r;

	if (fs->state != FS_TRYING)
		return ZADM_OK;
	fs->last_bc = fs->bc;
	fs->last_vm = fs->vm;
	fs->state = FS_OK;
	r = fs_save(fs);
	if (r)
		*fs = old;
	return r;
}

static int fs_boot(void *ud)
{
	struct file_store *fs = ud;
	struct file_store old = *fs;
	int r;

	if (fs->state == FS_OK)
		return ZADM_OK;
	if (fs->state == FS_ATTEMPT) {
		fs->state = FS_TRYING;
	} else {
		fs->bc = fs->last_bc;
		fs->vm = fs->last_vm;
		fs->state = FS_OK;
	}
	r = fs_save(fs);
	if (r)
		*fs = old;
	return r;
}

static void fs_free(void *ud)
{
	struct file_store *fs = ud;

	free(fs->dir);
	free(fs);
}

static const zadm_fota_store_ops file_ops = {
	.get_record = fs_get_record,
	.erase = fs_erase,
	.write = fs_write,
	.read = fs_read,
	.attempt = fs_attempt,
	.accept = fs_accept,
	.boot = fs_boot,
	.free = fs_free,
};

ZADM_API int zadm_fota_store_file_new(const char *dir, int nslots, size_t max_slot_size,
				       zadm_fota_store **ret_store)
{
	struct file_store *fs;
	zadm_fota_store *st;
	struct stat sb;
	int r;

	if (!dir || !*dir || nslots < 0 || nslots > ZADM_FOTA_SLOTS_MAX || !ret_store)
		return ZADM_ERR_ARG;
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return ZADM_ERR_IO;
	fs = calloc(1, sizeof(*fs));
	if (!fs || !(fs->dir = strdup(dir))) {
		free(fs);
		return ZADM_ERR_NOMEM;
	}
	fs->nslots = nslots ? nslots : 2;
	fs->max_size = max_slot_size ? max_slot_size : ZADM_FOTA_SLOT_SIZE_DEFAULT;
	r = fs_load(fs);
	if (!r)
		r = fs_boot(fs);
	if (!r)
		r = zadm_fota_store_new(&file_ops, fs, &st);
	if (r) {
		fs_free(fs);
		return r;
	}
	st->nslots = fs->nslots;
	st->max_size = fs->max_size;
	st->is_protected = fs_protected;
	*ret_store = st;
	return ZADM_OK;
}
