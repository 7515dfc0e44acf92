/* vm.c: the `ztc vm` commands: create a virtual machine with the backend and list the stored ones. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ztc/backend.h"

#define VM_CREATE_USAGE "ztc vm create ALIAS VERSION RTOS [--feat F]... [--name NAME] [--patch P]"
#define VM_LIST_USAGE "ztc vm list"

static int cmd_vm_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "feat", required_argument, NULL, 'f' },
		{ "name", required_argument, NULL, 'n' },
		{ "patch", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "uid", "path" };
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
			       "alias starting with ALIAS), download it into the VM store and print its uid.\n"
			       "  --feat F     a VM feature; repeat for several\n"
			       "  --name NAME  the VM's name (default \"<board name> VERSION\")\n"
			       "  --patch P    the patch level (default \"base\")\n");
			rc = 0;
			goto out;
		default: rc = EXIT_USAGE; goto out;
		}
	}
	if (argc - optind < 3) {
		rc = cli_usage_error(VM_CREATE_USAGE, "missing arguments: ALIAS VERSION RTOS");
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
	rc = 0;
out:
	free(path);
	free(vmuid);
	free(feats);
	return rc;
}

static int cmd_vm_list(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "uid", "target", "chipid", "version", "rtos", "hash_features", "path" };
	struct out_records o;
	ztc_vm_list *l;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "h", opts, VM_LIST_USAGE)) != -1) {
		if (c == 'h') {
			printf("Usage: " VM_LIST_USAGE "\n\n"
			       "List the VMs of the VM store: uid target chipid version rtos hash_features path.\n");
			return 0;
		}
		return EXIT_USAGE;
	}
	if (optind < argc)
		return cli_usage_error(VM_LIST_USAGE, "unexpected argument '%s'", argv[optind]);
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

static const struct cli_cmd vm_cmds[] = {
	{ "create", cmd_vm_create, "ALIAS VERSION RTOS [--feat F]... [--name NAME] [--patch P]",
	  "create a VM for a registered device with the backend and store it" },
	{ "list", cmd_vm_list, "", "list the stored VMs" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_vm(struct cli *cli, int argc, char **argv)
{
	return cli_dispatch(cli, "vm", vm_cmds, argc, argv);
}
