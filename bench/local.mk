# bench/local.mk: benchmarks, built on demand and run by hand, never by make check.

# Benchmark (not part of make check): bench/console/run builds its feeder with
# `make bench/console/ptyfeed`.
EXTRA_PROGRAMS = bench/console/ptyfeed
bench_console_ptyfeed_SOURCES = bench/console/ptyfeed.c
CLEANFILES += bench/console/ptyfeed
EXTRA_DIST += bench/console/run

# ---- bench/adm-load: 200 clients, two sandbox restarts (run by hand: bench/adm-load/run.sh) ----------
EXTRA_PROGRAMS += bench/adm-load/adm-load
bench_adm_load_adm_load_SOURCES = bench/adm-load/adm-load.c
bench_adm_load_adm_load_CPPFLAGS = $(ADM_CPPFLAGS)
bench_adm_load_adm_load_LDADD = adm/lib/libzadm.la $(YAJL_LIBS) $(PTHREAD_LIBS)
CLEANFILES += bench/adm-load/adm-load
EXTRA_DIST += bench/adm-load/run.sh

# bench/discover builds its stat-floor timer with `make bench/statfloor`.
EXTRA_PROGRAMS += bench/statfloor
bench_statfloor_SOURCES = bench/statfloor.c
CLEANFILES += bench/statfloor
EXTRA_DIST += bench/discover
