#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The man pages (man/*.in, built into man/ by make) against the code: hookgate.conf(5) has an
# entry for every key of the configuration table ("hookgated --describe-config") with its
# default and no entry the table lacks; hookgatectl(1) has one for every command of the
# command tables in src/ctl/; hookgated(8) names every option and signal of "hookgated
# --help", hookgatectl(1) every option of "hookgatectl --help"; and man and groff render each
# page without a warning. Needs no PostgreSQL; skipped without man (Debian: man-db).
. "$HG_SRCDIR/tests/integration/lib.sh"

if ! command -v man >/dev/null 2>&1; then
	printf '1..0 # SKIP man not installed (Debian: man-db)\n'
	exit 0
fi
hg_setup

PAGES=(hookgated.8 hookgatectl.1 hookgate.conf.5)
# ctl_commands FILE...: every hookgatectl command as its words ("channel member add"), from the
# command tables: a table of { "word", fn } rows belongs to the group named by the
# ctl_subcommand() call after it; the table named "commands" (main.c) holds the top-level
# words. A word that is itself a group is not a command of its own.
ctl_commands() {
	awk '
		/struct ctl_command [a-z_]+\[\] = \{/ {
			intable = 1; n = 0; top = ($0 ~ /commands\[\]/)
		}
		intable {
			line = $0
			while (match(line, /\{ *"[a-z0-9-]+"/)) {
				w = substr(line, RSTART, RLENGTH); sub(/^\{ *"/, "", w); sub(/"$/, "", w)
				words[++n] = w; line = substr(line, RSTART + RLENGTH)
			}
			if ($0 ~ /\};/) {
				intable = 0
				if (top) { for (i = 1; i <= n; i++) print "top\t" words[i]; n = 0 }
			}
		}
		/ctl_subcommand\(ctx, "/ {
			g = $0; sub(/.*ctl_subcommand\(ctx, "/, "", g); sub(/".*/, "", g)
			for (i = 1; i <= n; i++) print g "\t" words[i]
			n = 0
		}' "$@" | awk -F '\t' '
		{ group[NR] = $1; word[NR] = $2; isgroup[$1] = 1 }
		END {
			for (i = 1; i <= NR; i++) {
				c = group[i] == "top" ? word[i] : group[i] " " word[i]
				if (!(c in isgroup)) print c
			}
		}' | sort
}

# endpoint_commands: "KIND endpoint" (a table row whose handler passes on to
# ctl_endpoint_main) stands for one command per word of the subs[] array in endpoint.c.
endpoint_commands() {
	local subs cmd sub
	subs=$(grep -oE 'subs\[\] = \{[^}]*\}' "$HG_SRCDIR/src/ctl/endpoint.c" 2>/dev/null |
		grep -oE '"[a-z-]+"' | tr -d '"')
	while IFS= read -r cmd; do
		if [[ $cmd == *" endpoint" && -n $subs ]]; then
			for sub in $subs; do
				printf '%s %s\n' "$cmd" "$sub"
			done
		else
			printf '%s\n' "$cmd"
		fi
	done
}

# render PAGE: the page as plain text, wide enough that no entry's first line wraps.
render() {
	LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$HG_BUILDDIR/man/$1" 2>/dev/null
}

# has_entry PAGE WORDS: a line of the rendered PAGE begins (after its indentation) with WORDS,
# or with a list "A, B, …" that holds WORDS, followed by a blank, a comma, "(" or the line's end.
has_entry() {
	grep -qE "^ +([^ ,]+, )*$(sed 's/[.[\*^$]/\\&/g' <<<"$2")( |,|\(|$)" "$HG_TMP/$1.txt"
}

# The default as the entry writes it: "default X", or "required", or "no default".
default_words() {
	case $1 in
	required) printf 'required' ;;
	-) printf 'no default' ;;
	*) printf 'default %s' "$1" ;;
	esac
}

"$HG_BUILDDIR/hookgated" --describe-config >"$HG_TMP/table" || bail_out "--describe-config failed"
mapfile -t KEYS < <(cut -f 1 "$HG_TMP/table")
mapfile -t COMMANDS < <(ctl_commands "$HG_SRCDIR"/src/ctl/*.c | endpoint_commands)
# Options as "--help" lists them: the long form of each "  -x, --long" or "  --long" line.
mapfile -t D_OPTS < <("$HG_BUILDDIR/hookgated" --help | grep -oE '^  (-[a-zA-Z], )?--[a-z-]+' |
	grep -oE -- '--[a-z-]+$')
mapfile -t D_SIGNALS < <("$HG_BUILDDIR/hookgated" --help | grep -oE '^  SIG[A-Z0-9, SIG]+' |
	grep -oE 'SIG[A-Z0-9]+')
mapfile -t C_OPTS < <("$HG_BUILDDIR/hookgatectl" --help | grep -oE '^  (-[a-zA-Z], )?--[a-z-]+' |
	grep -oE -- '--[a-z-]+$')

for page in "${PAGES[@]}"; do
	render "$page" >"$HG_TMP/$page.txt"
done

plan $((${#PAGES[@]} * 2 + 4 + ${#KEYS[@]} + 1 + ${#COMMANDS[@]} + ${#D_OPTS[@]} + \
	${#D_SIGNALS[@]} + ${#C_OPTS[@]}))

# Rendered wide: the configured paths are words troff cannot break, and make distcheck's are
# long enough (its _inst tree) to overflow 80 columns. The package's page, with /usr paths,
# is checked at lintian's own width by scripts/pkg-check.
for page in "${PAGES[@]}"; do
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=250 man --warnings -l "$HG_BUILDDIR/man/$page" 2>&1 \
		>/dev/null)
	is "$warnings" "" "$page: man --warnings prints no warning"
	warnings=$(groff -man -ww -z "$HG_BUILDDIR/man/$page" 2>&1)
	is "$warnings" "" "$page: groff -ww prints no warning"
done

ok "the table has keys (${#KEYS[@]})" test "${#KEYS[@]}" -ge 20
ok "the command tables were read (${#COMMANDS[@]} commands, channel member add among them)" \
	grep -qx 'channel member add' <(printf '%s\n' "${COMMANDS[@]}")
ok "hookgated --help lists options (${#D_OPTS[@]}) and signals (${#D_SIGNALS[@]})" \
	test "${#D_OPTS[@]}" -ge 5 -a "${#D_SIGNALS[@]}" -ge 4
ok "hookgatectl --help lists options (${#C_OPTS[@]})" test "${#C_OPTS[@]}" -ge 5

for key in "${KEYS[@]}"; do
	dflt=$(awk -F '\t' -v k="$key" '$1 == k { print $3 }' "$HG_TMP/table")
	line=$(grep -E "^ +${key//./\\.} \(" "$HG_TMP/hookgate.conf.5.txt" | head -n 1)
	if [[ -n $line && $line == *"$(default_words "$dflt")"* ]]; then
		hg_result 1 "hookgate.conf(5): $key with its default"
	else
		hg_result 0 "hookgate.conf(5): $key with its default"
		diag "want an entry '$key (…, $(default_words "$dflt")…)'; got: '${line:-no entry}'"
	fi
done
documented=$(grep -oE '^ +[a-z_]+\.[a-z_]+ \(' "$HG_TMP/hookgate.conf.5.txt" |
	grep -oE '[a-z_]+\.[a-z_]+')
extra=$(grep -vxF -f <(printf '%s\n' "${KEYS[@]}") <<<"$documented" | tr '\n' ' ')
is "$extra" "" "hookgate.conf(5) documents no key the table lacks"

for cmd in "${COMMANDS[@]}"; do
	ok "hookgatectl(1): command $cmd" has_entry hookgatectl.1 "$cmd"
done
for opt in "${D_OPTS[@]}"; do
	ok "hookgated(8): option $opt" grep -qF -- "$opt" "$HG_TMP/hookgated.8.txt"
done
for sig in "${D_SIGNALS[@]}"; do
	ok "hookgated(8): signal $sig" has_entry hookgated.8 "$sig"
done
for opt in "${C_OPTS[@]}"; do
	ok "hookgatectl(1): option $opt" grep -qF -- "$opt" "$HG_TMP/hookgatectl.1.txt"
done
