/* flash-disk.c: the flash object's method "disk": the image copied to the board's mass-storage disk. */
#include "config.h"

#include <stdlib.h>

#include "flash.h"

int flash_method_disk(struct flash_run *r, const ztc_image *img, size_t nimg)
{
	unsigned char *buf;
	size_t len;
	int rc;

	/* Check the disk before preparing anything: the common failure is a board whose disk is not mounted. */
	if (ztc_str_empty(ztc_board_get_str(r->b, "disk")))
		return ztc_board_fail(r->b, ZTC_ERR_NOT_FOUND, "no mass-storage disk mounted for %s", r->name);
	rc = flash_prepare_single(r, img, nimg, &buf, &len);
	/* The file name was checked when the database loaded: not empty, no '/'. */
	if (rc == ZTC_OK) {
		rc = ztc_board_copy_to_disk(r->b, ztc_json_get_str(r->flash, "file"), buf, len);
		free(buf);
	}
	if (rc < 0)
		return rc;
	flash_wait_after(r, len);
	return ZTC_OK;
}
