# packaging/local.mk: ztc's man pages, udev rules generated from the board database, bash completion, the
# example plugin kit, make installcheck, distcheck settings, and their tests.

dist_man_MANS += man/ztc.1 man/ztc-device.1 man/ztc-vm.1

# udev rules: one uaccess / ModemManager-ignore rule per USB id of the built-in database, generated
# with sed and grep (udev/gen-rules.sh) so that no built program runs at build time.
BOARD_DB_JSON = $(BOARD_DB_TARGETS:%=$(srcdir)/db/%/device.json)
udev/60-ztc.rules: $(srcdir)/udev/gen-rules.sh $(BOARD_DB_JSON)
	$(AM_V_GEN)$(MKDIR_P) udev && \
	$(SHELL) $(srcdir)/udev/gen-rules.sh $(BOARD_DB_JSON) >$@.$$$$.tmp && mv $@.$$$$.tmp $@
if INSTALL_UDEV_RULES
udevrules_DATA = udev/60-ztc.rules
else
noinst_DATA = udev/60-ztc.rules
endif
CLEANFILES += udev/60-ztc.rules udev/60-ztc.rules.*.tmp
EXTRA_DIST += udev/gen-rules.sh

# Bash completion, installed under the command's name so bash-completion loads it on demand.
EXTRA_DIST += completion/ztc.bash
install-data-local: install-ztc-completion
uninstall-local: uninstall-ztc-completion
install-ztc-completion:
if INSTALL_BASH_COMPLETION
	$(MKDIR_P) '$(DESTDIR)$(bashcompletiondir)'
	$(INSTALL_DATA) $(srcdir)/completion/ztc.bash '$(DESTDIR)$(bashcompletiondir)/ztc'
endif
uninstall-ztc-completion:
if INSTALL_BASH_COMPLETION
	rm -f '$(DESTDIR)$(bashcompletiondir)/ztc'
endif
.PHONY: install-ztc-completion uninstall-ztc-completion

# The vendor kit: the plugin of ztc-plugin(7) with its board folder and a makefile, installed as docs.
pluginexampledir = $(docdir)/examples/plugin
dist_pluginexample_DATA = examples/plugin/acme.c examples/plugin/device.json examples/plugin/Makefile

# make installcheck: build the example plugin against the installed libztc.pc, as a vendor would,
# and see the installed ztc list it and libztc resolve it (DESTDIR installs included).
EXTRA_DIST += packaging/installcheck.sh
installcheck-local:
	DESTDIR='$(DESTDIR)' bindir='$(bindir)' libdir='$(libdir)' pkgconfigdir='$(pkgconfigdir)' \
	plugindir='$(plugindir)' boarddbdir='$(boarddbdir)' mandir='$(mandir)' \
	udevrulesdir='$(udevrulesdir)' bashcompletiondir='$(bashcompletiondir)' \
	plugin_abi='$(ZTC_PLUGIN_ABI)' version='$(PACKAGE_VERSION)' \
	PKG_CONFIG='$(PKG_CONFIG)' CC='$(CC)' srcdir='$(srcdir)' \
	$(SHELL) $(srcdir)/packaging/installcheck.sh

# distcheck installs under its own prefix: never into the system's udev and completion dirs.
AM_DISTCHECK_CONFIGURE_FLAGS = --with-udevrulesdir='$${libdir}/udev/rules.d' \
	--with-bashcompletiondir='$${datadir}/bash-completion/completions'

# A directory named core/ in the build tree makes autoconf's exit trap fail at 'rm -f core' before it
# removes confdefs.h, which then survives into distcleancheck.
DISTCLEANFILES = confdefs.h

TESTS += tests/man-lint.sh tests/udev-rules.sh tests/completion.sh
EXTRA_DIST += tests/man-lint.sh tests/udev-rules.sh tests/completion.sh

