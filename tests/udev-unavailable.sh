# udev-unavailable.sh: without sysfs, discovery fails with one clear line and exit 1 (needs root and
# unshare to hide /sys in a private mount namespace; skipped otherwise).
. "$top_srcdir/tests/lib.sh"
set -e
if ! unshare -m true 2>/dev/null; then
	echo "SKIP: cannot make a mount namespace (needs root and unshare)"
	exit 77
fi
for args in "device discover" "-J device discover" "device discover --matchdb"; do
	capture unshare -m sh -c 'mount -t tmpfs none /sys && exec "$@"' sh "$ZTC" $args
	expect_rc 1 "$args without sysfs"
	expect_err "ztc: udev is unavailable: /sys is not mounted (no /sys/class)" "$args without sysfs"
	expect_one_line "$args without sysfs"
	expect_out "" "$args without sysfs: nothing on stdout"
done
finish
