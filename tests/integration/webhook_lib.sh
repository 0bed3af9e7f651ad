# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# webhook_lib.sh: fixtures shared by the webhook ingest tests (sourced after lib.sh): users,
# a channel, a bot, an extension and tokens, and a helper that posts a call.

json_field() { # json_field JSON KEY: the first "KEY":"value" string
	sed -n "s/.*\"$2\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" <<<"$1" | head -n 1
}

# new_token LOGIN NAME: prints "public_id secret"
new_token() {
	local out
	out=$(hgctl --json token create "$1" --name "$2") || return 1
	printf '%s %s\n' "$(json_field "$out" id)" "$(json_field "$out" secret)"
}

# webhook_fixtures: alice (member of general, owner of deploybot, owner of extension
# ticketing), bob (nothing), carol (subscribed to deploybot); tokens in TOK_* / PUB_*.
webhook_fixtures() {
	local out
	printf 'alice-password\n' | hgctl user add alice >/dev/null || return 1
	printf 'bob-password\n' | hgctl user add bob >/dev/null || return 1
	printf 'carol-password\n' | hgctl user add carol >/dev/null || return 1
	hgctl channel add general >/dev/null && hgctl channel member add general alice >/dev/null &&
		hgctl bot add deploybot --owner alice >/dev/null &&
		hgctl bot subscribe deploybot carol >/dev/null || return 1
	out=$(hgctl --json extension add ticketing --owner alice) || return 1
	SB_APP=$(sed -n 's/.*"sandbox"[^}]*"app_id":"\([^"]*\)".*/\1/p' <<<"$out")
	SB_KEY=$(sed -n 's/.*"sandbox"[^}]*"appkey":"\([^"]*\)".*/\1/p' <<<"$out")
	MP_APP=$(sed -n 's/.*"marketplace"[^}]*"app_id":"\([^"]*\)".*/\1/p' <<<"$out")
	MP_KEY=$(sed -n 's/.*"marketplace"[^}]*"appkey":"\([^"]*\)".*/\1/p' <<<"$out")
	read -r PUB_A TOK_A < <(new_token alice a1) || return 1
	read -r PUB_A2 TOK_A2 < <(new_token alice a2) || return 1
	read -r PUB_B TOK_B < <(new_token bob b1) || return 1
	read -r PUB_C TOK_C < <(new_token carol c1) || return 1
	[[ -n $TOK_A && -n $TOK_B && -n $TOK_C && -n $SB_APP && -n $MP_KEY ]]
}

# post PATH_AND_QUERY BODY [curl args...]: sets HTTP_STATUS HTTP_BODY HTTP_HEADERS HTTP_MS
post() {
	local path=$1 body=$2 ctype=(-H 'Content-Type: application/json')
	shift 2
	[[ "$*" == *"Content-Type:"* ]] && ctype=()
	http_get "http://127.0.0.1:$HG_PORT$path" -X POST --data-binary "$body" "${ctype[@]}" "$@"
}

msg_id() { # the X-Message-Id of the last answer
	sed -n 's/^[Xx]-[Mm]essage-[Ii]d: *\([0-9]*\).*/\1/p' <<<"$HTTP_HEADERS"
}

channel_path() { printf '/api/v2/channelsbyname/%s/message?zapikey=%s' "$1" "$2"; }
