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
