/* vm.c: the `ztc vm` commands: create a VM with the backend, list the stored or the account's, download one. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ztc/backend.h"

#include <yajl/yajl_gen.h>

#define VM_CREATE_USAGE "ztc vm create ALIAS|PORT VERSION RTOS [--feat F]... [--name NAME] [--patch P]"
#define VM_LIST_USAGE "ztc vm list [--remote [--from N]]"
#define VM_DOWNLOAD_USAGE "ztc vm download VMUID"

/* A VM now in the store (vm create, vm download): its uid on stdout, or {"uid", "path"} with -J. */
static void print_stored(struct cli *cli, const char *vmuid, const char *path)
{
	static const char *const keys[] = { "uid", "path" };

	if (cli->json) {
		struct out_records o;
		const char *row[] = { vmuid, path };

		out_init(&o, keys, 2);
		out_add(&o, row);
		out_print(cli, &o, "");
		out_free(&o);
	} else {
		printf("%s\n", vmuid);
		if (!cli->quiet)
			fprintf(stderr, "ztc: VM %s stored as %s\n", vmuid, path);
	}
}

static int cmd_vm_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "feat", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "patch", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name_opt = NULL, *patch = "base", *version, *rtos;
	const char **feats = calloc((size_t)argc + 1, sizeof(*feats));
	char *vmuid = NULL, *path = NULL;
	ztc_vm_create_opts vo = { 0 };
	size_t nfeats = 0;
	int c, rc;

	if (!feats)
		return cli_error("out of memory");
	while ((c = cli_getopt(argc, argv, "h", opts, VM_CREATE_USAGE)) != -1) {
		switch (c) {
		case 'f':
			if (!*optarg) {
				rc = cli_usage_error(VM_CREATE_USAGE, "--feat needs a feature name");
				goto out;
			}
			feats[nfeats++] = optarg;
			break;
		case 'n': name_opt = optarg; break;
		case 'p': patch = optarg; break;
		case 'h':
			printf("Usage: " VM_CREATE_USAGE "\n\n"
			       "Ask the backend for a virtual machine for the registered device ALIAS (or the only\n"
			       "alias starting with ALIAS, or the aliased device on the port PORT), download it into\n"
			       "the VM store and print its uid (-J: {\"uid\", \"path\"}).\n"
			       "  --feat F     a VM feature; repeat for several\n"
			       "  --name NAME  the VM's name (default \"<board name> VERSION\")\n"
			       "  --patch P    the patch level (default \"base\")\n");
			rc = 0;
			goto out;
		default: rc = EXIT_USAGE; goto out;
		}
	}
	if (argc - optind < 3) {
		static const char *const args[] = { "ALIAS", "VERSION", "RTOS" };

		rc = cli_missing(VM_CREATE_USAGE, argc - optind, args, 3);
		goto out;
	}
	if (argc - optind > 3) {
		rc = cli_usage_error(VM_CREATE_USAGE, "unexpected argument '%s'", argv[optind + 3]);
		goto out;
	}
	version = argv[optind + 1];
	rtos = argv[optind + 2];
	if (!*version || !*rtos || (name_opt && !*name_opt) || !*patch) {
		rc = cli_usage_error(VM_CREATE_USAGE, "%s must not be empty",
				     !*version ? "VERSION" : !*rtos ? "RTOS" : !*patch ? "--patch" : "--name");
		goto out;
	}
	vo.name = name_opt;
	vo.patch = patch;
	vo.features = feats;
	vo.nfeatures = nfeats;
	if ((rc = ztc_vm_create(cli->ctx, NULL, NULL, argv[optind], version, rtos, &vo, &vmuid, &path)) < 0) {
		rc = cli_fail(cli, rc);
		goto out;
	}
	print_stored(cli, vmuid, path);
	rc = 0;
out:
	free(path);
	free(vmuid);
	free(feats);
	return rc;
}

static void gen_str(yajl_gen g, const char *s)
{
	if (s)
		yajl_gen_string(g, (const unsigned char *)s, strlen(s));
	else
		yajl_gen_null(g);
}

/* One JSON line per VM of the account, with features as a JSON list (out_records holds strings). */
static void print_remote_json(const ztc_backend_vm_list *l)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	for (size_t i = 0; g && i < l->n; i++) {
		const ztc_backend_vm *v = &l->vm[i];
		const char *const kv[][2] = { { "uid", v->uid }, { "name", v->name }, { "core_dep", v->core_dep },
					      { "version", v->version }, { "dev_type", v->dev_type },
					      { "rtos", v->rtos } };

		yajl_gen_map_open(g);
		for (size_t k = 0; k < sizeof(kv) / sizeof(*kv); k++) {
			gen_str(g, kv[k][0]);
			gen_str(g, kv[k][1]);
		}
		gen_str(g, "features");
		yajl_gen_array_open(g);
		for (size_t f = 0; f < v->nfeatures; f++)
			gen_str(g, v->features[f]);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
		out_json_line(g);
	}
	yajl_gen_free(g);
}

/* The account's VMs: JSON Lines, or a table. */
static void print_remote(struct cli *cli, const ztc_backend_vm_list *l)
{
	static const char *const keys[] = { "uid", "name", "version", "dev_type", "rtos", "features" };
	static const struct out_col cols[] = { { "UID", 0 }, { "NAME", OUT_CUT }, { "VERSION", 0 }, { "TARGET", 0 },
					       { "RTOS", 0 }, { "FEATURES", OUT_WRAP } };
	char **feats = calloc(l->n + 1, sizeof(*feats));
	struct out_records o;

	if (cli->json) {
		print_remote_json(l);
		goto out;
	}
	if (l->n == 0) {
		printf("No virtual machines on the account.\n");
		goto out;
	}
	out_init(&o, keys, sizeof(keys) / sizeof(*keys));
	for (size_t i = 0; feats && i < l->n; i++) {
		const ztc_backend_vm *v = &l->vm[i];
		size_t need = 1;
		const char *row[] = { v->uid, v->name, v->version, v->dev_type, v->rtos, NULL };

		for (size_t f = 0; f < v->nfeatures; f++)
			need += strlen(v->features[f] ? v->features[f] : "") + 2;
		if ((feats[i] = calloc(1, need)))
			for (size_t f = 0; f < v->nfeatures; f++)
				strcat(strcat(feats[i], f ? ", " : ""), v->features[f] ? v->features[f] : "");
		row[5] = feats[i];
		out_add(&o, row);
	}
	out_table(&o, cols, out_width());
	out_free(&o);
out:
	for (size_t i = 0; feats && i < l->n; i++)
		free(feats[i]);
	free(feats);
	fflush(stdout);
}

static int cmd_vm_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "remote", no_argument, NULL, 'r' },
		{ "from", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "uid", "target", "chipid", "version", "rtos", "hash_features", "path" };
	struct out_records o;
	bool remote = false;
	int c, rc, from = -1;
	ztc_vm_list *l;

	while ((c = cli_getopt(argc, argv, "h", opts, VM_LIST_USAGE)) != -1) {
		switch (c) {
		case 'r': remote = true; break;
		case 'f': {
			char *end;
			long v;

			errno = 0;
			v = *optarg >= '0' && *optarg <= '9' ? strtol(optarg, &end, 10) : -1;
			if (v < 0 || errno || *end || v > ZTC_VM_LIST_REMOTE_MAX)
				return cli_usage_error(VM_LIST_USAGE, "--from needs a number from 0 to %d, not '%s'",
						       ZTC_VM_LIST_REMOTE_MAX, optarg);
			from = (int)v;
			break;
		}
		case 'h':
			printf("Usage: " VM_LIST_USAGE "\n\n"
			       "List the VMs of the VM store: uid target chipid version rtos hash_features path.\n"
			       "  --remote   list the VMs the account owns on the backend instead: uid name core_dep\n"
			       "             version dev_type rtos features\n"
			       "  --from N   with --remote: from the N-th on (0, the first, by default)\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cli_usage_error(VM_LIST_USAGE, "unexpected argument '%s'", argv[optind]);
	if (from >= 0 && !remote)
		return cli_usage_error(VM_LIST_USAGE, "--from lists the account's VMs: it needs --remote");
	if (remote) {
		ztc_backend_vm_list *rl;

		if ((rc = ztc_vm_list_remote(cli->ctx, from < 0 ? 0 : from, &rl)) < 0)
			return cli_fail(cli, rc);
		print_remote(cli, rl);
		ztc_backend_vm_list_free(rl);
		return 0;
	}
	if ((rc = ztc_vmstore_list(cli->ctx, NULL, NULL, &l)) < 0)
		return cli_fail(cli, rc);
	out_init(&o, keys, sizeof(keys) / sizeof(*keys));
	for (size_t i = 0; i < l->n; i++) {
		const ztc_stored_vm *v = &l->vm[i];
		const char *row[] = { v->vmuid, v->target, v->chipid, v->version, v->rtos, v->hash_features, v->path };

		out_add(&o, row);
	}
	out_print(cli, &o, "No virtual machines stored.");
	out_free(&o);
	ztc_vm_list_free(l);
	return 0;
}

static int cmd_vm_download(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const args[] = { "VMUID" };
	char *vmuid = NULL, *path = NULL;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "h", opts, VM_DOWNLOAD_USAGE)) != -1) {
		if (c == 'h') {
			printf("Usage: " VM_DOWNLOAD_USAGE "\n\n"
			       "Download the account's VM VMUID (or the only one whose uid starts with VMUID, as\n"
			       "'ztc vm list --remote' lists them) into the VM store, where 'ztc device virtualize'\n"
			       "finds it, and print its uid (-J: {\"uid\", \"path\"}).\n");
			return 0;
		}
		return EXIT_USAGE;
	}
	if (argc - optind < 1)
		return cli_missing(VM_DOWNLOAD_USAGE, 0, args, 1);
	if (argc - optind > 1)
		return cli_usage_error(VM_DOWNLOAD_USAGE, "unexpected argument '%s'", argv[optind + 1]);
	if ((rc = ztc_vm_download(cli->ctx, argv[optind], &vmuid, &path)) < 0)
		return cli_fail(cli, rc);
	print_stored(cli, vmuid, path);
	free(vmuid);
	free(path);
	return 0;
}

static const struct cli_cmd vm_cmds[] = {
	{ "create", cmd_vm_create, "ALIAS|PORT VERSION RTOS [--feat F]... [--name NAME] [--patch P]",
	  "create a VM for a registered device with the backend and store it" },
	{ "list", cmd_vm_list, "[--remote [--from N]]", "list the stored VMs, or the account's" },
	{ "download", cmd_vm_download, "VMUID", "download one of the account's VMs into the store" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_vm(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "vm", vm_cmds, argc, argv);
}
