# tests/fuzz/local.mk: hardening. libFuzzer targets for every parser of untrusted input (tests/fuzz): `make fuzz`
# builds and runs them, FUZZ_SECONDS each (`make -j2 fuzz` runs two at a time); the crash inputs they
# found, replayed in make check. See docs/hardening.md.
#
# The fuzzers are built with clang from the library sources themselves (never the libtool libraries,
# which the configured compiler built without coverage instrumentation), with ASan and UBSan, in
# tests/fuzz/build/. Each run grows tests/fuzz/build/corpus/<target> from the seeds in
# tests/fuzz/corpus/<target>, writes its log to tests/fuzz/build/<target>.log and any crashing input
# to tests/fuzz/build/artifacts/<target>/. `make fuzz-clean` removes it all.

FUZZ_CC = clang
FUZZ_SECONDS = 60
# Extra libFuzzer flags for every run, e.g. FUZZ_FLAGS=-jobs=2 or -max_len=65536.
FUZZ_FLAGS =
FUZZ_ZTC_TARGETS = device-json devices-json firmware backend-reply udev-props board-cache
FUZZ_ZADM_TARGETS = adm-lines fota-record
FUZZ_TARGETS = $(FUZZ_ZTC_TARGETS) $(FUZZ_ZADM_TARGETS)

FUZZ_DIR = tests/fuzz/build
FUZZ_CC_FLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all
FUZZ_LD_FLAGS = -fsanitize=fuzzer,address,undefined

# No installed plugins or board database: each fuzzer points ZTC_DB_PATH where it wants.
FUZZ_ZTC_INCS = -I$(top_builddir) -I$(top_srcdir)/core/include -I$(top_srcdir)/core/lib \
	-I$(top_srcdir)/tests/fuzz -DBUILDING_LIBZTC -DTOP_SRCDIR='"$(abs_top_srcdir)"' \
	-DZTC_PLUGIN_DIR='"/nonexistent/ztc-fuzz/plugins"' -DZTC_BOARD_DB_DIR='"/nonexistent/ztc-fuzz/db"' \
	$(UDEV_CFLAGS) $(YAJL_CFLAGS) $(CURL_CFLAGS) $(GNUTLS_CFLAGS) $(MOUNT_CFLAGS)
FUZZ_ZTC_LINK = $(UDEV_LIBS) $(YAJL_LIBS) $(CURL_LIBS) $(GNUTLS_LIBS) $(MOUNT_LIBS) $(LTDL_LIBS) -pthread -lm
FUZZ_ZADM_INCS = -I$(top_builddir) -I$(top_srcdir)/adm/include -I$(top_srcdir)/adm/lib \
	-I$(top_srcdir)/tests/fuzz -DBUILDING_LIBZADM $(GNUTLS_CFLAGS) $(YAJL_CFLAGS)
FUZZ_ZADM_LINK = $(GNUTLS_LIBS) $(YAJL_LIBS) -pthread -lm

FUZZ_ZTC_OBJS = $(patsubst core/lib/%.c,$(FUZZ_DIR)/ztc/%.o,$(filter %.c,$(core_lib_libztc_la_SOURCES)))
FUZZ_ZADM_OBJS = $(patsubst adm/lib/%.c,$(FUZZ_DIR)/zadm/%.o,$(filter %.c,$(adm_lib_libzadm_la_SOURCES) \
	$(adm_lib_libzadmwire_la_SOURCES)))
FUZZ_ZTC_DEPS = $(top_srcdir)/core/lib/internal.h $(top_srcdir)/core/lib/inline.h \
	$(addprefix $(top_srcdir)/,$(ztcinclude_HEADERS)) config.h
FUZZ_ZADM_DEPS = $(top_srcdir)/adm/lib/internal.h $(top_srcdir)/adm/lib/json.h $(top_srcdir)/adm/lib/wire.h \
	$(top_srcdir)/adm/include/zadm/zadm.h config.h

$(FUZZ_DIR)/ztc/%.o: $(top_srcdir)/core/lib/%.c $(FUZZ_ZTC_DEPS)
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CC_FLAGS) $(FUZZ_ZTC_INCS) -c -o $@ $<

$(FUZZ_DIR)/zadm/%.o: $(top_srcdir)/adm/lib/%.c $(FUZZ_ZADM_DEPS)
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CC_FLAGS) $(FUZZ_ZADM_INCS) -c -o $@ $<

$(FUZZ_ZTC_TARGETS:%=$(FUZZ_DIR)/fuzz-%): $(FUZZ_DIR)/fuzz-%: $(top_srcdir)/tests/fuzz/fuzz-%.c \
		$(top_srcdir)/tests/fuzz/fuzz-common.h $(FUZZ_ZTC_OBJS)
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CC_FLAGS) $(FUZZ_LD_FLAGS) $(FUZZ_ZTC_INCS) -o $@ $< $(FUZZ_ZTC_OBJS) \
		$(FUZZ_ZTC_LINK)

$(FUZZ_ZADM_TARGETS:%=$(FUZZ_DIR)/fuzz-%): $(FUZZ_DIR)/fuzz-%: $(top_srcdir)/tests/fuzz/fuzz-%.c \
		$(top_srcdir)/tests/fuzz/fuzz-common.h $(FUZZ_ZADM_OBJS)
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CC_FLAGS) $(FUZZ_LD_FLAGS) $(FUZZ_ZADM_INCS) -o $@ $< $(FUZZ_ZADM_OBJS) \
		$(FUZZ_ZADM_LINK)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz-%)

# One run per target; the last lines say how many inputs ran, the coverage reached and any crash.
$(FUZZ_TARGETS:%=fuzz-run-%): fuzz-run-%: $(FUZZ_DIR)/fuzz-%
	@$(MKDIR_P) $(FUZZ_DIR)/corpus/$* $(FUZZ_DIR)/artifacts/$*
	@echo "  FUZZ     $* for $(FUZZ_SECONDS) s (log: $(FUZZ_DIR)/$*.log)"
	@dict=-dict=$(top_srcdir)/tests/fuzz/json.dict; \
	if test -f $(top_srcdir)/tests/fuzz/$*.dict; then dict=-dict=$(top_srcdir)/tests/fuzz/$*.dict; fi; \
	start=$$(date +%s); \
	scratch=$$(mktemp -d /dev/shm/ztc-fuzz.XXXXXX 2>/dev/null || mktemp -d); \
	FUZZ_SCRATCH=$$scratch $(FUZZ_DIR)/fuzz-$* -max_total_time=$(FUZZ_SECONDS) -timeout=10 -print_final_stats=1 $$dict \
		-artifact_prefix=$(FUZZ_DIR)/artifacts/$*/ $(FUZZ_FLAGS) \
		$(FUZZ_DIR)/corpus/$* $(top_srcdir)/tests/fuzz/corpus/$* >$(FUZZ_DIR)/$*.log 2>&1; \
	rc=$$?; secs=$$(( $$(date +%s) - start )); rm -rf "$$scratch"; \
	execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/$*.log | tail -n 1); \
	cov=$$(grep -E '^#[0-9]+.*cov: ' $(FUZZ_DIR)/$*.log | tail -n 1 | sed -E 's/.*(cov: [0-9]+ ft: [0-9]+ corp: [^ ]+).*/\1/'); \
	crashes=$$(ls $(FUZZ_DIR)/artifacts/$* | wc -l); \
	echo "fuzz $*: $${execs:-?} executions in $$secs s, $${cov:-no coverage line}, exit $$rc, $$crashes artifact(s) in $(FUZZ_DIR)/artifacts/$*" \
		| tee -a $(FUZZ_DIR)/summary.txt; \
	test $$rc -eq 0

fuzz:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz: $(FUZZ_CC) not found: install the Debian packages clang and libclang-rt-14-dev (or set FUZZ_CC)" >&2; exit 1; }
	@$(MKDIR_P) $(FUZZ_DIR); rm -f $(FUZZ_DIR)/summary.txt
	@$(MAKE) $(AM_MAKEFLAGS) fuzz-build
	@$(MAKE) $(AM_MAKEFLAGS) -k $(FUZZ_TARGETS:%=fuzz-run-%); rc=$$?; \
	echo "make fuzz: $(FUZZ_SECONDS) s per target"; cat $(FUZZ_DIR)/summary.txt; exit $$rc

fuzz-clean:
	rm -rf $(FUZZ_DIR)

.PHONY: fuzz fuzz-build fuzz-clean $(FUZZ_TARGETS:%=fuzz-run-%)

EXTRA_DIST += tests/fuzz/fuzz-common.h $(FUZZ_TARGETS:%=tests/fuzz/fuzz-%.c) \
	tests/fuzz/json.dict tests/fuzz/udev-props.dict tests/fuzz/make-corpus.py tests/fuzz/corpus

# ---- make check: the crash inputs and the seed corpora through the normal build ----------------------
# replay-<target> is the fuzz target's own source with a main() that feeds it files, linked with the
# objects of libztc / libzadm as configure built them (so --enable-sanitizers builds check them with
# ASan and UBSan); internal functions are reachable because nothing goes through the shared library.
FUZZ_REPLAY_ZTC_INCS = $(AM_CPPFLAGS) -I$(top_srcdir)/core/lib -I$(top_srcdir)/tests/fuzz \
	-DTOP_SRCDIR='"$(abs_top_srcdir)"' $(UDEV_CFLAGS) $(YAJL_CFLAGS) $(CURL_CFLAGS) $(GNUTLS_CFLAGS) \
	$(MOUNT_CFLAGS)
FUZZ_REPLAY_ZTC_LINK = $(core_lib_libztc_la_OBJECTS) $(core_lib_libztc_la_LIBADD)
FUZZ_REPLAY_ZADM_INCS = $(ADM_CPPFLAGS) -I$(top_srcdir)/tests/fuzz
FUZZ_REPLAY_ZADM_LINK = $(adm_lib_libzadm_la_OBJECTS) $(adm_lib_libzadm_la_LIBADD)

check_PROGRAMS += tests/fuzz/replay-device-json tests/fuzz/replay-devices-json tests/fuzz/replay-firmware \
	tests/fuzz/replay-backend-reply tests/fuzz/replay-udev-props tests/fuzz/replay-adm-lines \
	tests/fuzz/replay-fota-record tests/fuzz/replay-board-cache
tests_fuzz_replay_device_json_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-device-json.c tests/fuzz/fuzz-common.h
tests_fuzz_replay_device_json_CPPFLAGS = $(FUZZ_REPLAY_ZTC_INCS)
tests_fuzz_replay_device_json_LDADD = $(FUZZ_REPLAY_ZTC_LINK)
tests_fuzz_replay_devices_json_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-devices-json.c tests/fuzz/fuzz-common.h
tests_fuzz_replay_devices_json_CPPFLAGS = $(FUZZ_REPLAY_ZTC_INCS)
tests_fuzz_replay_devices_json_LDADD = $(FUZZ_REPLAY_ZTC_LINK)
tests_fuzz_replay_firmware_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-firmware.c tests/fuzz/fuzz-common.h
tests_fuzz_replay_firmware_CPPFLAGS = $(FUZZ_REPLAY_ZTC_INCS)
tests_fuzz_replay_firmware_LDADD = $(FUZZ_REPLAY_ZTC_LINK)
tests_fuzz_replay_backend_reply_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-backend-reply.c tests/fuzz/fuzz-common.h
tests_fuzz_replay_backend_reply_CPPFLAGS = $(FUZZ_REPLAY_ZTC_INCS)
tests_fuzz_replay_backend_reply_LDADD = $(FUZZ_REPLAY_ZTC_LINK)
tests_fuzz_replay_udev_props_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-udev-props.c tests/fuzz/fuzz-common.h
tests_fuzz_replay_udev_props_CPPFLAGS = $(FUZZ_REPLAY_ZTC_INCS)
tests_fuzz_replay_udev_props_LDADD = $(FUZZ_REPLAY_ZTC_LINK)
tests_fuzz_replay_board_cache_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-board-cache.c tests/fuzz/fuzz-common.h
tests_fuzz_replay_board_cache_CPPFLAGS = $(FUZZ_REPLAY_ZTC_INCS)
tests_fuzz_replay_board_cache_LDADD = $(FUZZ_REPLAY_ZTC_LINK)
tests_fuzz_replay_adm_lines_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-adm-lines.c tests/fuzz/fuzz-common.h
tests_fuzz_replay_adm_lines_CPPFLAGS = $(FUZZ_REPLAY_ZADM_INCS)
tests_fuzz_replay_adm_lines_LDADD = $(FUZZ_REPLAY_ZADM_LINK)
tests_fuzz_replay_fota_record_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz-fota-record.c tests/fuzz/fuzz-common.h
tests_fuzz_replay_fota_record_CPPFLAGS = $(FUZZ_REPLAY_ZADM_INCS)
tests_fuzz_replay_fota_record_LDADD = $(FUZZ_REPLAY_ZADM_LINK)

TESTS += tests/fuzz/regress.sh
EXTRA_DIST += tests/fuzz/regress.sh tests/fuzz/crashes
