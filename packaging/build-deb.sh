#!/bin/sh
# build-deb.sh: build the Debian packages (dpkg-buildpackage -us -uc -b) in a temporary copy of the tree, then run lintian on them.
# Usage: packaging/build-deb.sh [OUTDIR]   (default OUTDIR: ${TMPDIR:-/tmp}/ztc-deb)
# Needs the Debian packages debhelper, devscripts and lintian, and the Build-Depends of debian/control
# (dpkg-checkbuilddeps lists any that are missing). DEB_BUILD_PROFILES=nocheck skips make check.
# Exit status: 0 built and no lintian error, 1 otherwise. The source tree is never written to.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${TMPDIR:-/tmp}/ztc-deb}

for tool in dpkg-buildpackage dh lintian; do
	command -v "$tool" >/dev/null 2>&1 || {
		echo "build-deb.sh: $tool not found: install the Debian packages debhelper devscripts lintian" >&2
		exit 1
	}
done
[ -f "$src/debian/control" ] || { echo "build-deb.sh: no debian/control in $src" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ztc-deb-build.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$src/debian/changelog")
tree="$work/ztc-${version%-*}"
mkdir -p "$tree"

# The copy: from git, the tracked files and the new ones not ignored (so uncommitted work is built
# too, but no build output of an in-tree build); without git, everything, then distclean.
if command -v git >/dev/null 2>&1 && git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$src" && git ls-files -z --cached --others --exclude-standard |
		tar --null --ignore-failed-read -T - -cf -) | tar -C "$tree" -xf -
else
	(cd "$src" && tar --exclude=./.git -cf - .) | tar -C "$tree" -xf -
	[ ! -f "$tree/Makefile" ] || make -C "$tree" distclean >/dev/null 2>&1 || true
fi
echo "build-deb.sh: building ztc $version in $tree"

start=$(date +%s)
(cd "$tree" && DEB_BUILD_OPTIONS="parallel=$(nproc 2>/dev/null || echo 1) ${DEB_BUILD_OPTIONS:-}" \
	dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	tail -n 60 "$work/build.log" >&2
	mkdir -p "$out" && cp "$work/build.log" "$out/"
	echo "build-deb.sh: dpkg-buildpackage failed; full log in $out/build.log" >&2
	exit 1
}
echo "build-deb.sh: dpkg-buildpackage -us -uc -b succeeded in $(($(date +%s) - start)) s"

mkdir -p "$out"
changes=$(ls "$work"/*.changes)
cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$work/build.log" "$out/"
ls -l "$out"/*.deb

# Errors fail; warnings and the rest are shown, and counted on the last line.
status=0
lintian --fail-on error --display-level '>=info' "$out/$(basename "$changes")" >"$work/lintian.log" 2>&1 || status=1
cat "$work/lintian.log"
cp "$work/lintian.log" "$out/"
e=$(grep -c '^E: ' "$work/lintian.log" || true)
w=$(grep -c '^W: ' "$work/lintian.log" || true)
i=$(grep -c '^I: ' "$work/lintian.log" || true)
echo "build-deb.sh: lintian: $e error(s), $w warning(s), $i info; packages in $out"
exit $status
