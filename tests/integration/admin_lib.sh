# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# admin_lib.sh: helpers shared by the admin API tests (sourced after lib.sh).

admin_url() {
	printf 'http://127.0.0.1:%s\n' "$HG_ADMIN_PORT"
}

# pw LOGIN: the password the tests give LOGIN.
pw() {
	printf 'pass-%s-correct-horse\n' "$1"
}

q() {
	psql -X -q -At -v ON_ERROR_STOP=1 -c "$1" 2>&1
}

# jstr KEY: the first string value of "KEY" in $HTTP_BODY.
jstr() {
	[[ $HTTP_BODY =~ \"$1\":\"([^\"]*)\" ]] && printf '%s\n' "${BASH_REMATCH[1]}"
}

# status_code: "STATUS CODE" of the last answer, e.g. "401 invalid_code".
status_code() {
	printf '%s %s\n' "$HTTP_STATUS" "$(jstr code)"
}

# header NAME: the value of header NAME (any case) of the last answer.
header() {
	local line
	while IFS= read -r line; do
		if [[ ${line,,} == "${1,,}:"* ]]; then
			printf '%s\n' "${line#*: }"
			return 0
		fi
	done <<<"$HTTP_HEADERS"
	return 1
}

# ---- signing in: the session of each test user, by login ------------------------------------
declare -gA CSRF SECRET LAST_STEP

# api_raw WHO METHOD PATH DATA [curl args...]: one call with WHO's cookie jar; DATA (may be
# empty) is sent as application/json. Sets HTTP_STATUS, HTTP_BODY, HTTP_HEADERS.
api_raw() {
	local who=$1 method=$2 path=$3 data=$4
	shift 4
	local args=(-X "$method" -b "$HG_TMP/$who.jar" -c "$HG_TMP/$who.jar")
	[[ -n $data ]] && args+=(-H 'Content-Type: application/json' --data-binary "$data")
	http_get "$(admin_url)$path" "${args[@]}" "$@"
}

# api: the same with WHO's X-CSRF-Token on every non-GET request.
api() {
	local who=$1 method=$2 path=$3 data=$4
	shift 4
	if [[ $method != GET && -n ${CSRF[$who]:-} ]]; then
		set -- -H "X-CSRF-Token: ${CSRF[$who]}" "$@"
	fi
	api_raw "$who" "$method" "$path" "$data" "$@"
}

# ---- TOTP (RFC 6238, SHA-1, 6 digits) in bash + openssl -----------------------------------------
b32hex() {
	printf '%s' "$1" | base32 -d | od -An -v -tx1 | tr -d ' \n'
}

# totp_at BASE32 STEP
totp_at() {
	local key step_hex esc='' i mac off bin
	key=$(b32hex "$1")
	step_hex=$(printf '%016x' "$2")
	for ((i = 0; i < 16; i += 2)); do
		esc+="\\x${step_hex:i:2}"
	done
	mac=$(printf '%b' "$esc" | openssl dgst -sha1 -mac HMAC -macopt "hexkey:$key" |
		awk '{print $NF}')
	off=$((16#${mac:39:1}))
	bin=$((16#${mac:off*2:8} & 0x7fffffff))
	printf '%06d\n' $((bin % 1000000))
}

# code_for WHO: sets CODE to a code of a step later than any this test used for WHO, within
# the server's ±1 step window (waiting for the clock when both are spent).
code_for() {
	local who=$1 now step
	while true; do
		now=$(($(date +%s) / 30))
		step=$((${LAST_STEP[$who]:-0} + 1))
		((step < now)) && step=$now
		((step <= now + 1)) && break
		sleep 1
	done
	LAST_STEP[$who]=$step
	CODE=$(totp_at "${SECRET[$who]}" "$step")
}

# password_step WHO [PASSWORD]: the first login step with a fresh cookie jar.
password_step() {
	local who=$1 pass=${2:-$(pw "$1")}
	rm -f "$HG_TMP/$who.jar"
	CSRF[$who]=
	api_raw "$who" POST /admin/api/login "{\"login\":\"$who\",\"password\":\"$pass\"}"
	if [[ $HTTP_STATUS == 200 && $(jstr next) == enroll ]]; then
		SECRET[$who]=$(jstr secret)
		LAST_STEP[$who]=0
	fi
}

# login WHO: both steps (enrolling when needed); sets CSRF[WHO].
login() {
	local who=$1
	password_step "$who"
	[[ $HTTP_STATUS == 200 ]] || return 1
	code_for "$who"
	api_raw "$who" POST /admin/api/login/totp "{\"code\":\"$CODE\"}"
	[[ $HTTP_STATUS == 200 ]] || return 1
	CSRF[$who]=$(jstr csrf_token)
}

# audit_count LOGIN ACTION: the audit rows of the admin API for LOGIN from 127.0.0.1.
audit_count() {
	q "SELECT count(*) FROM hookgate.audit_log a JOIN hookgate.users u ON u.id = a.user_id
	   WHERE u.login = '$1' AND a.action = '$2' AND a.actor = 'admin-api'
	   AND a.client_addr = '127.0.0.1'"
}
