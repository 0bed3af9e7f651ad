#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The configuration keys as documented (docs/configuration.md, "Every key", and the example
# etc/hookgate.conf) against the table compiled into hookgated, as "hookgated
# --describe-config" prints it: every key documented with its type, default, range and reload
# flag, no documented key that the table lacks, and the example naming every key and no other.
# Needs no PostgreSQL.
. "$HG_SRCDIR/tests/integration/lib.sh"
hg_setup

DOC=$HG_SRCDIR/docs/configuration.md
EXAMPLE=$HG_BUILDDIR/etc/hookgate.conf # made from etc/hookgate.conf.in

# The table as the binary has it: "key<TAB>type<TAB>default<TAB>range<TAB>reload" lines.
describe_rc=0
"$HG_BUILDDIR/hookgated" --describe-config >"$HG_TMP/table" 2>"$HG_TMP/table.err" ||
	describe_rc=$?
mapfile -t KEYS < <(cut -f 1 "$HG_TMP/table")

# doc_rows: the rows of the doc's key table in the same shape. A cell is stripped of blanks and
# backticks; "—" (none) reads as "-"; the meaning column is left out.
doc_rows() {
	awk -F '|' '
		function cell(s) { gsub(/`/, "", s); gsub(/^[ \t]+|[ \t]+$/, "", s);
			return s == "—" ? "-" : s }
		/^\| `[a-z_]+\.[a-z_]+` \|/ {
			printf "%s\t%s\t%s\t%s\t%s\n", cell($2), cell($3), cell($4), cell($5), cell($6)
		}' "$DOC"
}
doc_rows >"$HG_TMP/doc"

# A default the doc writes as "$(datadir)/hookgate/web" stands for the path the build was
# configured with: it matches any absolute path ending in "/hookgate/web".
same_default() {
	local doc=$1 table=$2
	[[ $doc == "$table" ]] && return 0
	[[ $doc =~ ^\$\([a-z]+\)(/.+)$ && $table == /* && $table == *"${BASH_REMATCH[1]}" ]]
}

row_of() { # row_of KEY FILE: the first row of KEY
	awk -F '\t' -v k="$1" '$1 == k { print; exit }' "$2"
}

row_matches() {
	local want=$1 got=$2 wk wt wd wr wl gk gt gd gr gl
	IFS=$'\t' read -r wk wt wd wr wl <<<"$want"
	IFS=$'\t' read -r gk gt gd gr gl <<<"$got"
	[[ $wk == "$gk" && $wt == "$gt" && $wr == "$gr" && $wl == "$gl" ]] && same_default "$gd" "$wd"
}

# example_keys: "section.key" for every "key = …" or "#key = …" line of the example.
example_keys() {
	awk '
		/^\[[a-z_]+\]/ { gsub(/[][]/, ""); section = $0; next }
		/^#?[a-z_]+ *=/ { k = $0; sub(/^#/, "", k); sub(/ *=.*/, "", k); print section "." k }
	' "$EXAMPLE" | sort -u
}

plan $((${#KEYS[@]} + 5))

ok "hookgated --describe-config exits 0" test "$describe_rc" = 0
ok "it prints the table (${#KEYS[@]} keys), five tab-separated fields a line" \
	awk -F '\t' 'NF != 5 { bad = 1 } END { exit bad || NR < 20 }' "$HG_TMP/table"

for key in "${KEYS[@]}"; do
	want=$(row_of "$key" "$HG_TMP/table")
	got=$(row_of "$key" "$HG_TMP/doc")
	if row_matches "$want" "$got"; then
		hg_result 1 "$key: documented as in the table"
	else
		hg_result 0 "$key: documented as in the table (type, default, range, reload)"
		diag "table:  ${want//$'\t'/ | }"
		got=${got//$'\t'/ | }
		diag "doc:    ${got:-(no row in docs/configuration.md)}"
	fi
done

extra=$(cut -f 1 "$HG_TMP/doc" | grep -vxF -f <(printf '%s\n' "${KEYS[@]}") | tr '\n' ' ')
is "$extra" "" "docs/configuration.md documents no key the table lacks"

missing=$(printf '%s\n' "${KEYS[@]}" | grep -vxF -f <(example_keys) | tr '\n' ' ')
is "$missing" "" "etc/hookgate.conf shows every key"
unknown=$(example_keys | grep -vxF -f <(printf '%s\n' "${KEYS[@]}") | tr '\n' ' ')
is "$unknown" "" "etc/hookgate.conf shows no key the table lacks"
