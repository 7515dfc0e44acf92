/* vmstore.c: the VM store $ZTC_HOME/vms/<target>/<chipid>/<vmuid>_<version>_<hash_features>_<rtos>.vm. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <yajl/yajl_tree.h>

#include "internal.h"
#include "ztc/backend.h"

/* The fields of a .vm that name its file, in file-name order after the folders. */
enum { F_DEV_TYPE, F_ON_CHIP_ID, F_VERSION, F_HASH, F_RTOS, NF };
static const char *const vm_keys[NF] = { "dev_type", "on_chip_id", "version", "hash_features", "rtos" };

/* A part of a path under vms/: these come from the backend, so they must not climb out of the store
 * or hide (no '/', no leading '.', no control characters). */
static bool component_valid(const char *s)
{
	if (ztc_str_empty(s) || *s == '.')
		return false;
	for (; *s; s++)
		if (*s == '/' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

ZTC_API int ztc_vmstore_save(ztc_ctx *ctx, const char *vmuid, const char *json, size_t len, char **ret_path)
{
	const char *val[NF], *k_bin[] = { "bin", NULL };
	char why[256] = "", *text, *dir = NULL, *path = NULL;
	yajl_val root, bin;
	int rc = ZTC_OK;

	if (!ctx || !json)
		return ZTC_ERR_ARG;
	if (!component_valid(vmuid))
		return ztc_fail(ctx, ZTC_ERR_ARG, "cannot store a VM under the uid '%s'", vmuid ? vmuid : "");
	/* ztc_json_parse wants a C string; json need not be one. */
	text = malloc(len + 1);
	if (!text)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	memcpy(text, json, len);
	text[len] = '\0';
	if (strlen(text) != len) {
		free(text);
		return ztc_fail(ctx, ZTC_ERR_PARSE, "cannot store VM %s: it holds a NUL byte", vmuid);
	}
	root = ztc_json_parse(text, why, sizeof(why));
	if (!root || !YAJL_IS_OBJECT(root)) {
		rc = ztc_fail(ctx, ZTC_ERR_PARSE, "cannot store VM %s: %s", vmuid,
			      root ? "it is not a JSON object" : *why ? why : "invalid JSON");
		goto out;
	}
	for (int i = 0; i < NF; i++) {
		val[i] = ztc_json_get_str(root, vm_keys[i]);
		if (ztc_str_empty(val[i])) {
			rc = ztc_fail(ctx, ZTC_ERR_PARSE, "cannot store VM %s: it has no \"%s\" string", vmuid, vm_keys[i]);
			goto out;
		}
		if (!component_valid(val[i])) {
			rc = ztc_fail(ctx, ZTC_ERR_PARSE, "cannot store VM %s: its %s '%s' cannot be part of a file name",
				      vmuid, vm_keys[i], val[i]);
			goto out;
		}
		/* The file name is split at its last three '_': only the vmuid may hold one. */
		if (i >= F_VERSION && strchr(val[i], '_')) {
			rc = ztc_fail(ctx, ZTC_ERR_PARSE, "cannot store VM %s: its %s '%s' holds '_', the VM store's "
				      "file name separator", vmuid, vm_keys[i], val[i]);
			goto out;
		}
	}
	bin = yajl_tree_get(root, k_bin, yajl_t_any);
	if (!bin || !(YAJL_IS_STRING(bin) || YAJL_IS_ARRAY(bin))) {
		rc = ztc_fail(ctx, ZTC_ERR_PARSE, "cannot store VM %s: it has no \"bin\" image", vmuid);
		goto out;
	}
	dir = ztc_strdup_printf("%s/vms/%s/%s", ctx->home, val[F_DEV_TYPE], val[F_ON_CHIP_ID]);
	path = dir ? ztc_strdup_printf("%s/%s_%s_%s_%s.vm", dir, vmuid, val[F_VERSION], val[F_HASH], val[F_RTOS])
		   : NULL;
	if (!path) {
		rc = ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = ztc_home_prepare(ctx);
	if (rc < 0)
		goto out;
	rc = ztc_mkdir_p(dir, 0700);
	if (rc < 0) {
		rc = ztc_fail(ctx, ZTC_ERR_IO, "cannot create %s: %s", dir, strerror(-rc));
		goto out;
	}
	rc = ztc_write_atomic(ctx, path, json, len, 0644);
	if (rc < 0)
		goto out;
	ztc_dbg(ctx, "VM %s stored in %s", vmuid, path);
	ztc_hand_over(ret_path, &path);
out:
	yajl_tree_free(root);
	free(text);
	free(dir);
	free(path);
	return rc;
}

static void stored_vm_clear(ztc_stored_vm *v)
{
	free(v->path);
	free(v->vmuid);
	free(v->version);
	free(v->rtos);
	free(v->hash_features);
	free(v->target);
	free(v->chipid);
}

ZTC_API void ztc_vm_list_free(ztc_vm_list *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->n; i++)
		stored_vm_clear(&list->vm[i]);
	free(list->vm);
	free(list);
}

struct vmlist {
	ztc_vm_list *l;
	size_t cap;
};

/* Split "<vmuid>_<version>_<hash>_<rtos>.vm" at its last three '_'; false when it does not fit. */
static bool split_name(const char *name, char *parts[4])
{
	size_t len = strlen(name);
	char *copy, *us[3];

	if (len < 4 || strcmp(name + len - 3, ".vm") != 0 || *name == '.')
		return false;
	copy = strndup(name, len - 3);
	if (!copy)
		return false;
	for (int i = 0; i < 3; i++) {
		us[i] = strrchr(copy, '_');
		if (!us[i] || us[i] == copy || !us[i][1]) {
			free(copy);
			return false;
		}
		*us[i] = '\0';
	}
	parts[0] = strdup(copy);
	parts[1] = strdup(us[2] + 1);
	parts[2] = strdup(us[1] + 1);
	parts[3] = strdup(us[0] + 1);
	free(copy);
	return true;
}

static int add_vm(struct vmlist *vl, const char *dir, const char *target, const char *chipid, const char *name)
{
	ztc_stored_vm v = { 0 };
	char *parts[4] = { 0 };

	if (!split_name(name, parts))
		return 1;
	v.vmuid = parts[0];
	v.version = parts[1];
	v.hash_features = parts[2];
	v.rtos = parts[3];
	v.path = ztc_strdup_printf("%s/%s", dir, name);
	v.target = strdup(target);
	v.chipid = strdup(chipid);
	if (!v.vmuid || !v.version || !v.hash_features || !v.rtos || !v.path || !v.target || !v.chipid)
		goto nomem;
	if (vl->l->n == vl->cap) {
		size_t cap = vl->cap ? vl->cap * 2 : 16;
		ztc_stored_vm *nv = realloc(vl->l->vm, cap * sizeof(*nv));

		if (!nv)
			goto nomem;
		vl->l->vm = nv;
		vl->cap = cap;
	}
	vl->l->vm[vl->l->n++] = v;
	return 0;
nomem:
	stored_vm_clear(&v);
	return ZTC_ERR_NOMEM;
}

/* The entries of a folder that are folders (dirs true) or regular files, sorted; missing folder: empty. */
static int list_dir(ztc_ctx *ctx, const char *path, bool dirs, char ***ret_names, size_t *ret_n)
{
	struct dirent **ents = NULL;
	char **names;
	size_t k = 0;
	int n;

	n = scandir(path, &ents, NULL, alphasort);
	if (n < 0) {
		if (errno == ENOENT || (errno == ENOTDIR && dirs)) {
			*ret_names = NULL;
			*ret_n = 0;
			return ZTC_OK;
		}
		return ztc_fail(ctx, ZTC_ERR_IO, "cannot read %s: %s", path, strerror(errno));
	}
	names = calloc((size_t)n + 1, sizeof(*names));
	for (int i = 0; i < n; i++) {
		struct stat st;
		char *full = names ? ztc_strdup_printf("%s/%s", path, ents[i]->d_name) : NULL;

		if (full && ents[i]->d_name[0] != '.' && stat(full, &st) == 0 &&
		    (dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)))
			names[k++] = strdup(ents[i]->d_name);
		free(full);
		free(ents[i]);
	}
	free(ents);
	if (!names)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	*ret_names = names;
	*ret_n = k;
	return ZTC_OK;
}

/* list_dir of the folder dir/name, whose path goes to *ret_path (malloc'd) on success. */
static int list_sub(ztc_ctx *ctx, const char *dir, const char *name, bool dirs, char **ret_path, char ***ret_names,
		    size_t *ret_n)
{
	char *path = ztc_strdup_printf("%s/%s", dir, name);
	int rc;

	if (!path)
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	if ((rc = list_dir(ctx, path, dirs, ret_names, ret_n)) < 0) {
		free(path);
		return rc;
	}
	*ret_path = path;
	return ZTC_OK;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

static int cmp_vm(const void *a, const void *b)
{
	const ztc_stored_vm *x = a, *y = b;
	int c;

	if ((c = strcmp(x->target, y->target)) || (c = strcmp(x->chipid, y->chipid)) ||
	    (c = strcmp(x->vmuid, y->vmuid)))
		return c;
	return strcmp(x->version, y->version);
}

ZTC_API int ztc_vmstore_list(ztc_ctx *ctx, const char *target, const char *chipid, ztc_vm_list **ret_list)
{
	struct vmlist vl = { 0 };
	char **targets = NULL, *root = NULL;
	size_t nt = 0;
	int rc;

	if (!ctx || !ret_list)
		return ZTC_ERR_ARG;
	if (!(vl.l = calloc(1, sizeof(*vl.l))))
		return ztc_fail(ctx, ZTC_ERR_NOMEM, "out of memory");
	/* vms/<target>/<chip id>/<file>. Filters compare names, never build paths from them, so a filter
	 * cannot reach outside vms/. */
	rc = list_sub(ctx, ctx->home, "vms", true, &root, &targets, &nt);
	for (size_t t = 0; rc == ZTC_OK && t < nt; t++) {
		char **chips = NULL, *tdir = NULL;
		size_t nc = 0;

		if (target && strcmp(target, targets[t]) != 0)
			continue;
		rc = list_sub(ctx, root, targets[t], true, &tdir, &chips, &nc);
		for (size_t c = 0; rc == ZTC_OK && c < nc; c++) {
			char **files = NULL, *cdir = NULL;
			size_t nf = 0;

			if (chipid && strcmp(chipid, chips[c]) != 0)
				continue;
			rc = list_sub(ctx, tdir, chips[c], false, &cdir, &files, &nf);
			for (size_t f = 0; rc == ZTC_OK && f < nf; f++) {
				int r = add_vm(&vl, cdir, targets[t], chips[c], files[f]);

				if (r < 0)
					rc = ztc_fail(ctx, r, "out of memory");
				else if (r > 0)
					ztc_dbg(ctx, "%s/%s: not a VM store file name, skipped", cdir, files[f]);
			}
			free_names(files, nf);
			free(cdir);
		}
		free_names(chips, nc);
		free(tdir);
	}
	free_names(targets, nt);
	free(root);
	if (rc < 0) {
		ztc_vm_list_free(vl.l);
		return rc;
	}
	if (vl.l->n)
		qsort(vl.l->vm, vl.l->n, sizeof(*vl.l->vm), cmp_vm);
	*ret_list = vl.l;
	return ZTC_OK;
}
