/* sim.c: board plugin for ztc_sim, the hardware-free simulated board used by demos and end-to-end tests. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ztc/plugin.h>

/* The simulated flash: $ZTC_SIM_FLASH, else flash.bin in the board's folder. The images are written
 * one after the other, as they come, into a temporary file beside it that replaces it only once it is
 * complete and on disk: a reader (a test, the simulated board) never sees half a firmware. */
static int sim_burn(ztc_board *b, const ztc_image *img, size_t nimg)
{
	const char *env = getenv("ZTC_SIM_FLASH");
	char path[4096], tmp[4200], dir[4096], *slash;
	size_t total = 0, done = 0;
	int fd, dfd, last = -1, e;

	if (env && *env)
		snprintf(path, sizeof(path), "%s", env);
	else
		snprintf(path, sizeof(path), "%s/flash.bin", ztc_board_get_dir(b));
	for (size_t i = 0; i < nimg; i++)
		total += img[i].len;
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return ztc_board_fail(b, ZTC_ERR_IO, "cannot write the simulated flash %s: %s (set ZTC_SIM_FLASH to a "
				      "writable file)", path, strerror(errno));
	ztc_board_log(b, ZTC_LOG_INFO, "writing %zu bytes to the simulated flash %s", total, path);
	for (size_t i = 0; i < nimg; i++) {
		size_t off = 0;

		while (off < img[i].len) {
			size_t chunk = img[i].len - off > 4096 ? 4096 : img[i].len - off;
			ssize_t w = write(fd, img[i].data + off, chunk);
			int pct;

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				goto fail;
			off += (size_t)w;
			done += (size_t)w;
			pct = total ? (int)(done * 100 / total) : 100;
			if (pct != last) {
				last = pct;
				ztc_board_progress(b, pct, "flashing");
			}
		}
	}
	if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	/* The rename is durable only once the directory is flushed too. */
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return ZTC_OK;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return ztc_board_fail(b, ZTC_ERR_IO, "cannot write the simulated flash %s: %s", path, strerror(e));
}

/* No read_chipid: like a real board, the simulated one prints its chip id on its serial port once its
 * registration firmware runs. No reset: there is nothing to reset. */
static const ztc_class_desc classes[] = {
	{ .name = "SimBoard", .burn = sim_burn },
	{ .name = NULL }
};

ZTC_PLUGIN_EXPORT const ztc_plugin_desc ZTC_PLUGIN_SYMBOL = {
	.abi_major = ZTC_PLUGIN_ABI_MAJOR,
	.abi_minor = ZTC_PLUGIN_ABI_MINOR,
	.module = "sim",
	.version = PACKAGE_VERSION,
	.license = "MIT",
	.classes = classes,
};
