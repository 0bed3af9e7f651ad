#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The licence line: every source file (C under src/, tests/ and bench/, shell scripts, the SQL
# migrations, the dashboard's and the tests' JavaScript, CSS and HTML, the automake and
# autoconf inputs, the man page sources, the bench's Python and Lua) carries
# "SPDX-License-Identifier: Apache-2.0" on its first line, or its second after a "#!" line.
# In a git checkout the files are those git tracks; in a release tarball (make distcheck, no
# .git) those find sees under the same directories. Needs no PostgreSQL.
. "$HG_SRCDIR/tests/integration/lib.sh"

hg_setup

# all_files: every candidate path, relative to the source tree.
all_files() {
	if [[ -e $HG_SRCDIR/.git ]] && command -v git >/dev/null 2>&1; then
		git -C "$HG_SRCDIR" ls-files
		return
	fi
	# A tarball: only the project's own directories (configure's output, build-aux/ and m4/
	# are generated), and none of what an in-tree build writes there is a source file.
	(cd "$HG_SRCDIR" && find src tests bench scripts sql web man .ci Makefile.am configure.ac \
		autogen.sh -type f 2>/dev/null | sort)
}

# wants_spdx PATH: whether PATH is a source file that must carry the line.
wants_spdx() {
	case $1 in
	tests/fuzz/corpus/*) return 1 ;;
	src/*.[ch] | tests/*.[ch] | bench/*.[ch]) return 0 ;;
	*.sh | sql/*.sql | bench/*.py | bench/*.lua) return 0 ;;
	web/*.js | web/*.css | web/*.html | tests/*.js | tests/*.css | tests/*.html) return 0 ;;
	Makefile.am | */include.am | configure.ac | man/*.[0-9].in) return 0 ;;
	scripts/* | bench/* | .ci/*)
		# The extensionless shell scripts, told by their "#!" line.
		[[ $(head -c 64 "$HG_SRCDIR/$1") == '#!'*sh* ]] ;;
	*) return 1 ;;
	esac
}

# has_spdx PATH: the line is first, or second after a "#!" line.
has_spdx() {
	local first second
	{ IFS= read -r first; IFS= read -r second; } <"$HG_SRCDIR/$1"
	[[ $first == '#!'* ]] && first=$second
	[[ $first == *'SPDX-License-Identifier: Apache-2.0'* ]]
}

plan 2
checked=0
missing=()
while IFS= read -r f; do
	[[ -f $HG_SRCDIR/$f ]] && wants_spdx "$f" || continue
	checked=$((checked + 1))
	has_spdx "$f" || missing+=("$f")
done < <(all_files)

# A selection that matched almost nothing would pass the second test vacuously.
ok "the file selection finds the sources ($checked files)" test "$checked" -ge 150
if ! is "${#missing[@]}" 0 "every source file carries SPDX-License-Identifier: Apache-2.0"; then
	diag "without the line: ${missing[*]}"
fi
