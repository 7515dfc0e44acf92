/* mounts.c: where a mass-storage node is mounted, from the mount table through libmount. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libmount.h>

#include "internal.h"

struct libmnt_table *ztc_mounts_load(ztc_ctx *ctx)
{
	const char *path = ctx->mountinfo ? ctx->mountinfo : "/proc/self/mountinfo";
	struct libmnt_table *tb = mnt_new_table_from_file(path);

	if (!tb)
		ztc_warn(ctx, "cannot read the mount table %s; mass-storage disks are shown unmounted", path);
	return tb;
}

char *ztc_mounts_find(struct libmnt_table *tb, const char *devnode)
{
	struct libmnt_fs *fs;

	if (!tb || !devnode)
		return NULL;
	/* The newest mount of the node wins. */
	fs = mnt_table_find_srcpath(tb, devnode, MNT_ITER_BACKWARD);
	return fs && mnt_fs_get_target(fs) ? strdup(mnt_fs_get_target(fs)) : NULL;
}
