/* fuzz-firmware.c: libFuzzer target for .vm / register.vm files (ztc_firmware_parse, as
 * ztc_firmware_load uses it on the bytes of a file). */
#include "config.h"

#include "fuzz-common.h"
#include "internal.h"

static ztc_ctx *ctx;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("ZTC_HOME", fuzz_scratch("firmware"), 1);
	if (ztc_ctx_new(&ctx) != ZTC_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ztc_firmware *fw = NULL;
	int rc = ztc_firmware_parse(ctx, "fuzz.vm", (const char *)data, size, &fw);

	if (rc != ZTC_OK) {
		const char *msg = ztc_ctx_errmsg(ctx);

		/* Every refusal is a parse error with one line naming the file. */
		FUZZ_CHECK(rc == ZTC_ERR_PARSE || rc == ZTC_ERR_NOMEM);
		FUZZ_CHECK(fw == NULL);
		FUZZ_CHECK(strncmp(msg, "fuzz.vm: ", 9) == 0 || rc == ZTC_ERR_NOMEM);
		FUZZ_CHECK(strchr(msg, '\n') == NULL);
		return 0;
	}
	FUZZ_CHECK(ztc_firmware_image_count(fw) >= 1);
	for (size_t i = 0; i < ztc_firmware_image_count(fw); i++) {
		const ztc_image *img = ztc_firmware_image(fw, i);
		unsigned int sum = 0;

		FUZZ_CHECK(img && img->data && img->len > 0);
		/* Reads every decoded byte: ASan checks the length against the allocation. */
		for (size_t k = 0; k < img->len; k++)
			sum += img->data[k];
		(void)sum;
		FUZZ_CHECK(!img->loc || (img->loc[0] == '0' && (img->loc[1] == 'x' || img->loc[1] == 'X')));
	}
	FUZZ_CHECK(ztc_firmware_image(fw, ztc_firmware_image_count(fw)) == NULL);
	(void)ztc_firmware_get_str(fw, "dev_type");
	(void)ztc_firmware_get_str(fw, "on_chip_id");
	(void)ztc_firmware_get_int(fw, "size", -1);
	(void)ztc_firmware_get_int(fw, "vmstore", -1);
	ztc_firmware_free(fw);
	return 0;
}
