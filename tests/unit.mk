# tests/unit.mk: Check unit suites of libztc (uid, records, fusion), the hotplug test.
