# man-lint.sh: every man page passes mandoc -Tlint without warnings and documents what README.md's usage and environment list.
set -u
: "${top_srcdir:?run through make check}"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

if ! command -v mandoc >/dev/null 2>&1; then
	echo "SKIP: mandoc not found: install the Debian package mandoc (apt-get install mandoc)"
	exit 77
fi

pages=$(ls "$top_srcdir"/man/*.[1-8] 2>/dev/null)
[ -n "$pages" ] || { echo "FAIL: no man page in $top_srcdir/man" >&2; exit 1; }
for want in ztc.1 ztc-device.1 ztc-vm.1 zadm-sandbox.1 libzadm.3 ztc-plugin.7; do
	[ -f "$top_srcdir/man/$want" ] || fail "man/$want is missing"
done

# Warnings and worse fail. Of the style messages, only "referenced manual not found" is let through:
# it depends on which manuals the machine has installed (and on its mandoc.db), not on the page.
for page in $pages; do
	name=${page##*/}
	out=$(mandoc -T lint -W style "$page" 2>&1 |
		grep -v -e 'STYLE: referenced manual not found' -e 'outdated mandoc.db')
	mandoc -T lint -W warning "$page" >/dev/null 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		fail "$name: mandoc -Tlint (exit status $rc):"
		printf '%s\n' "$out" >&2
	else
		pass "$name lints clean"
	fi
	# The page must also render: an empty rendering means mandoc gave up on it.
	if [ -z "$(mandoc -T utf8 "$page" 2>/dev/null)" ]; then
		fail "$name renders empty"
	fi
done

# The pages agree with README.md: every option of its Usage block is in ztc(1), ztc-device(1) or
# ztc-vm(1), and every variable of its Environment table is in ztc(1).
readme="$top_srcdir/README.md"
if [ -f "$readme" ]; then
	rendered=$(for p in ztc.1 ztc-device.1 ztc-vm.1; do
		[ -f "$top_srcdir/man/$p" ] && mandoc -T ascii "$top_srcdir/man/$p" 2>/dev/null | col -b
	done)
	opts=$(awk '/^## Usage/{u=1} u&&/^```$/{n++; if (n==2) exit; next} u&&n==1' "$readme" |
		grep -o -- '--[a-z_]*' | sort -u)
	[ -n "$opts" ] || fail "no option found in README.md's Usage block"
	for o in $opts; do
		if printf '%s\n' "$rendered" | grep -q -e "$o\\b"; then
			pass "option $o documented"
		else
			fail "option $o of README.md is in no ztc man page"
		fi
	done
	ztc1=$(mandoc -T ascii "$top_srcdir/man/ztc.1" 2>/dev/null | col -b)
	vars=$(awk '/^## Environment/{e=1; next} e&&/^## /{exit} e' "$readme" |
		grep -o '^| `[A-Z_]*`' | tr -d '|` ')
	[ -n "$vars" ] || fail "no variable found in README.md's Environment table"
	for v in $vars; do
		if printf '%s\n' "$ztc1" | grep -q -w -e "$v"; then
			pass "variable $v documented in ztc(1)"
		else
			fail "variable $v of README.md is not in ztc(1)"
		fi
	done
	for cmd in 'discover' 'alias put' 'alias del' 'alias list' 'supported' 'register' 'virtualize' 'open'; do
		printf '%s\n' "$rendered" | grep -q -e "ztc device $cmd" || fail "ztc device $cmd is in no man page"
	done
	for cmd in 'vm create' 'vm list' 'vm download' 'login' 'help'; do
		printf '%s\n' "$rendered" | grep -q -e "ztc $cmd" || fail "ztc $cmd is in no man page"
	done
fi

[ "$failures" -eq 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "all man pages lint clean and agree with README.md"
