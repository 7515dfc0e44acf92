# core/console.mk: the serial console (ztc device open): sources, tests, benchmark.
