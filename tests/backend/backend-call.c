/* backend-call.c: a test tool that calls the libztc backend and VM store API once and prints the result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ztc/ztc.h"

static int usage(void)
{
	fputs("usage: backend-call register NAME CHIPID TYPE CATEGORY|-\n"
	      "       backend-call create NAME DEVUID VERSION RTOS PATCH|- [FEATURE...]\n"
	      "       backend-call download VMUID          (the data object on stdout, as received)\n"
	      "       backend-call list FROM               (uid|name|core_dep|version|dev_type|rtos|features)\n"
	      "       backend-call save VMUID FILE          (ztc_vmstore_save of FILE's bytes; prints the path)\n"
	      "       backend-call stored TARGET|- CHIPID|- (vmuid|version|rtos|hash_features|target|chipid|path)\n",
	      stderr);
	return 2;
}

static const char *opt(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

static int failed(ztc_ctx *ctx, int rc)
{
	fprintf(stderr, "backend-call: %s (%s)\n", ztc_ctx_errmsg(ctx), ztc_strerror(rc));
	return 1;
}

static char *slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) && fread(buf, 1, (size_t)n, f) == (size_t)n)
		*ret_len = (size_t)n;
	else {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int run(ztc_ctx *ctx, int argc, char **argv)
{
	ztc_backend *be = NULL;
	char *s = NULL;
	size_t len = 0;
	int rc;

	if (argc >= 2 && strcmp(argv[1], "save") == 0) {
		char *text;

		if (argc != 4)
			return usage();
		if (!(text = slurp(argv[3], &len))) {
			perror(argv[3]);
			return 1;
		}
		rc = ztc_vmstore_save(ctx, argv[2], text, len, &s);
		free(text);
		if (rc < 0)
			return failed(ctx, rc);
		printf("%s\n", s);
		free(s);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "stored") == 0) {
		ztc_vm_list *l;

		if (argc != 4)
			return usage();
		if ((rc = ztc_vmstore_list(ctx, opt(argv[2]), opt(argv[3]), &l)) < 0)
			return failed(ctx, rc);
		for (size_t i = 0; i < l->n; i++)
			printf("%s|%s|%s|%s|%s|%s|%s\n", l->vm[i].vmuid, l->vm[i].version, l->vm[i].rtos,
			       l->vm[i].hash_features, l->vm[i].target, l->vm[i].chipid, l->vm[i].path);
		ztc_vm_list_free(l);
		return 0;
	}
	if ((rc = ztc_backend_new(ctx, &be)) < 0)
		return failed(ctx, rc);
	if (argc == 6 && strcmp(argv[1], "register") == 0) {
		rc = ztc_backend_register_device(be, argv[2], argv[3], argv[4], opt(argv[5]), &s);
		if (rc == 0)
			printf("%s\n", s);
	} else if (argc >= 7 && strcmp(argv[1], "create") == 0) {
		rc = ztc_backend_create_vm(be, argv[2], argv[3], argv[4], argv[5], (const char *const *)argv + 7,
					   (size_t)(argc - 7), opt(argv[6]), &s);
		if (rc == 0)
			printf("%s\n", s);
	} else if (argc == 3 && strcmp(argv[1], "download") == 0) {
		rc = ztc_backend_download_vm(be, argv[2], &s, &len);
		if (rc == 0 && (strlen(s) != len || fwrite(s, 1, len, stdout) != len))
			rc = ZTC_ERR_IO;
	} else if (argc == 3 && strcmp(argv[1], "list") == 0) {
		ztc_backend_vm_list *l;

		rc = ztc_backend_list_vms(be, atoi(argv[2]), &l);
		for (size_t i = 0; rc == 0 && i < l->n; i++) {
			const ztc_backend_vm *v = &l->vm[i];

			printf("%s|%s|%s|%s|%s|%s|", v->uid, v->name, v->core_dep, v->version, v->dev_type, v->rtos);
			for (size_t f = 0; f < v->nfeatures; f++)
				printf("%s%s", f ? "," : "", v->features[f]);
			putchar('\n');
		}
		if (rc == 0)
			ztc_backend_vm_list_free(l);
	} else {
		ztc_backend_free(be);
		return usage();
	}
	free(s);
	ztc_backend_free(be);
	return rc < 0 ? failed(ctx, rc) : 0;
}

int main(int argc, char **argv)
{
	ztc_ctx *ctx;
	int rc;

	if (argc < 2)
		return usage();
	if (ztc_ctx_new(&ctx) < 0)
		return 1;
	rc = run(ctx, argc, argv);
	ztc_ctx_free(ctx);
	return rc;
}
