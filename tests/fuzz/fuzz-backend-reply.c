/* fuzz-backend-reply.c: libFuzzer target for backend replies: what every call does with the HTTP
 * status and body (ztc_backend_parse_reply), then what the VM download (`data` located in the raw
 * bytes, the .vm saved into the VM store and listed back) and the VM list (data.list) do with it.
 * Input: one byte choosing the HTTP status, then the body. */
#include "config.h"

#include <yajl/yajl_tree.h>

#include "fuzz-common.h"
#include "internal.h"

#define TOKEN "s3cr3tT0k3nFuzz"

static ztc_ctx *ctx;
static ztc_backend *be;
static const char *home;
static char vms[300];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	home = fuzz_scratch("backend-reply");
	snprintf(vms, sizeof(vms), "%s/vms", home);
	setenv("ZTC_HOME", home, 1);
	setenv("ZTC_TOKEN", TOKEN, 1);
	setenv("ZTC_BACKEND_URL", "http://127.0.0.1:9/v1", 1);
	if (ztc_ctx_new(&ctx) != ZTC_OK || ztc_backend_new(ctx, &be) != ZTC_OK)
		abort();
	return 0;
}

static const long codes[16] = { 200, 201, 204, 299, 300, 301, 400, 401, 403, 404, 500, 502, 0, 100, 199, 999 };

/* The VM store with this .vm saved: it must be listed back under its own name; then the store goes. */
static void save_and_list(const char *json, size_t len)
{
	ztc_vm_list *l = NULL;
	char *path = NULL;
	size_t found = 0;

	if (ztc_vmstore_save(ctx, "fuzzvm", json, len, &path) != ZTC_OK) {
		/* A save refused late (a file name too long) may leave its folders: start afresh. */
		fuzz_rm_tree(vms);
		return;
	}
	FUZZ_CHECK(strncmp(path, home, strlen(home)) == 0 && strncmp(path + strlen(home), "/vms/", 5) == 0);
	FUZZ_CHECK(strstr(path, "/../") == NULL && strstr(path, "/./") == NULL);
	FUZZ_CHECK(ztc_vmstore_list(ctx, NULL, NULL, &l) == ZTC_OK);
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->vm[i].path, path) == 0 && strcmp(l->vm[i].vmuid, "fuzzvm") == 0)
			found++;
	FUZZ_CHECK(found == 1);
	ztc_vm_list_free(l);
	fuzz_rm_tree(vms);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *k_data[] = { "data", NULL };
	yajl_val root = NULL;
	long code;
	char *body;
	int rc;

	if (size < 1)
		return 0;
	code = codes[data[0] & 15];
	data++;
	size--;
	/* curl hands the body over NUL-terminated; an empty body is no buffer at all. */
	body = size ? fuzz_cstr(data, size) : NULL;
	rc = ztc_backend_parse_reply(be, "GET", "http://127.0.0.1:9/v1/vms/x", "the VM download", code, body,
				     &root);
	/* No error line ever quotes the token, even when the backend echoes it. */
	FUZZ_CHECK(strstr(ztc_ctx_errmsg(ctx), TOKEN) == NULL);
	if (rc != ZTC_OK) {
		FUZZ_CHECK(rc == ZTC_ERR_BACKEND);
		FUZZ_CHECK(strchr(ztc_ctx_errmsg(ctx), '\n') == NULL);
		free(body);
		return 0;
	}
	FUZZ_CHECK(code >= 200 && code < 300 && YAJL_IS_OBJECT(root));
	if (yajl_tree_get(root, k_data, yajl_t_object)) {
		size_t start, end;

		if (ztc_backend_data_span((const char *)data, size, &start, &end)) {
			char *span;
			yajl_val again;

			FUZZ_CHECK(start < end && end <= size && data[start] == '{' && data[end - 1] == '}');
			span = fuzz_cstr(data + start, end - start);
			again = ztc_json_parse(span, NULL, 0);
			FUZZ_CHECK(again && YAJL_IS_OBJECT(again));
			yajl_tree_free(again);
			save_and_list(span, end - start);
			free(span);
		}
	}
	{
		ztc_backend_vm_list *l = NULL;

		if (ztc_backend_vm_list_parse(be, root, "the VM list", &l) == ZTC_OK) {
			for (size_t i = 0; i < l->n; i++)
				for (size_t f = 0; f < l->vm[i].nfeatures; f++)
					FUZZ_CHECK(l->vm[i].features[f] != NULL);
			ztc_backend_vm_list_free(l);
		} else {
			FUZZ_CHECK(l == NULL);
		}
	}
	yajl_tree_free(root);
	free(body);
	return 0;
}
