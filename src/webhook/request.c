/* SPDX-License-Identifier: Apache-2.0 */
/* webhook_request: see webhook_request.h. Every function here reads caller-owned text only and
 * bounds every copy, so a hostile request can at worst be refused. */
#include "webhook/request.h"
#include "webhook/auth.h"
#include "http/media.h"
#include "lib/jsontext.h"
#include "lib/percent.h"
#include "lib/utf8.h"

#include "core/redact.h"
#include "core/token.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

/* ---- routing ---------------------------------------------------------------------------- */

static void route_set_target(struct webhook_route *out, const char *seg, size_t seglen)
{
	char buf[MODULE_NAME_MAX + 1];
	size_t n;
	/* The whole path was checked already, so this cannot fail. */
	if (percent_decode(seg, seglen, 0, buf, sizeof(buf), &n) != PERCENT_OK)
		return;
	bool ok = n < sizeof(buf) && (out->module == MODULE_EXTENSION ? token_app_id_valid(buf)
								      : module_name_fold(buf, n));
	/* A name that carries a token or an appkey names nothing, and must not be stored. */
	if (ok && !redact_has_secret(buf)) {
		memcpy(out->target, buf, n + 1);
		out->name_valid = true;
	}
}

bool webhook_route_parse(const char *path, struct webhook_route *out)
{
	size_t len, ignored;
	memset(out, 0, sizeof(*out));
	if (path == NULL)
		return false;
	len = strlen(path);
	if (percent_decode(path, len, 0, NULL, 0, &ignored) != PERCENT_OK) {
		out->bad_encoding = true;
		return false;
	}
	for (int m = 0; m < MODULE_COUNT; m++) {
		const char *prefix = module_path_prefix((enum module_kind)m);
		size_t plen = strlen(prefix);
		if (strncmp(path, prefix, plen) != 0)
			continue;
		const char *seg = path + plen;
		const char *slash = strchr(seg, '/');
		if (slash == NULL || strcmp(slash, module_path_suffix((enum module_kind)m)) != 0)
			continue;
		out->module = (enum module_kind)m;
		route_set_target(out, seg, (size_t)(slash - seg));
		return true;
	}
	return false;
}

bool webhook_body_needed(bool post, const char *path, const char *query, const char *authorization,
			 const char *content_type)
{
	struct webhook_route route;
	struct webhook_query q;
	struct webhook_auth auth;
	if (!post || !webhook_route_parse(path, &route) || !route.name_valid)
		return false;
	if (webhook_query_parse(query, &q) != WEBHOOK_QUERY_OK ||
	    !webhook_auth_resolve(&q, authorization, authorization ? 1 : 0, &auth) ||
	    !auth.present || !token_check_format(auth.token, auth.len))
		return false;
	return webhook_body_kind_accepted(route.module, webhook_content_type(content_type));
}

/* ---- query string ----------------------------------------------------------------------- */

static bool query_fail(struct webhook_query *out, enum percent_result r, const char *what)
{
	if (r == PERCENT_NUL)
		out->reason = "NUL character in the query";
	else if (r == PERCENT_CTL)
		out->reason = what;
	else
		out->reason = "bad percent-encoding in the query";
	return false;
}

/* A repeat is refused even with an empty value: two zapikeys are ambiguous whatever they hold,
 * and a proxy and the gateway must never disagree on which one counts. */
static bool query_key(struct webhook_query *out, const char *v, size_t vlen, bool *has, char *buf,
		      size_t *buflen, const char *repeat_reason, const char *ctl_reason)
{
	size_t n;
	if (*has) {
		out->reason = repeat_reason;
		return false;
	}
	enum percent_result r = percent_decode(v, vlen, PERCENT_PLUS_SPACE | PERCENT_REFUSE_CTL,
					       buf, WEBHOOK_QUERY_VALUE_MAX + 1, &n);
	if (r != PERCENT_OK)
		return query_fail(out, r, ctl_reason);
	*has = true;
	if (n > WEBHOOK_QUERY_VALUE_MAX) {
		buf[0] = '\0';
		n = 0;
	}
	*buflen = n;
	return true;
}

static bool name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(name, want, n) == 0;
}

static bool query_param(const char *p, size_t len, struct webhook_query *out)
{
	const char *eq = memchr(p, '=', len);
	size_t nlen = eq != NULL ? (size_t)(eq - p) : len;
	const char *v = eq != NULL ? eq + 1 : p + len;
	size_t vlen = len - (size_t)(v - p);
	char name[16];
	size_t n;

	enum percent_result r = percent_decode(p, nlen, PERCENT_PLUS_SPACE, name, sizeof(name), &n);
	if (r != PERCENT_OK)
		return query_fail(out, r, NULL);
	if (name_is(name, n, "zapikey"))
		return query_key(out, v, vlen, &out->has_zapikey, out->zapikey, &out->zapikey_len,
				 "zapikey given more than once", "control character in zapikey");
	if (name_is(name, n, "appkey"))
		return query_key(out, v, vlen, &out->has_appkey, out->appkey, &out->appkey_len,
				 "appkey given more than once", "control character in appkey");
	r = percent_decode(v, vlen, PERCENT_PLUS_SPACE, NULL, 0, &n);
	return r == PERCENT_OK || query_fail(out, r, NULL);
}

enum webhook_query_result webhook_query_parse(const char *query, struct webhook_query *out)
{
	memset(out, 0, sizeof(*out));
	if (query == NULL)
		return WEBHOOK_QUERY_OK;
	for (const char *p = query;; p++) {
		size_t seglen = strcspn(p, "&");
		if (seglen > 0 && !query_param(p, seglen, out))
			return WEBHOOK_QUERY_INVALID_REQUEST;
		p += seglen;
		if (*p == '\0')
			break;
	}
	return WEBHOOK_QUERY_OK;
}

/* ---- content types ---------------------------------------------------------------------- */

enum webhook_body_kind webhook_content_type(const char *header)
{
	static const struct {
		const char *type;
		enum webhook_body_kind kind;
	} types[] = {
		{ "application/json", WEBHOOK_BODY_JSON },
		{ "application/x-www-form-urlencoded", WEBHOOK_BODY_FORM },
		{ "text/plain", WEBHOOK_BODY_TEXT },
	};
	const char *params;
	if (header == NULL)
		return WEBHOOK_BODY_OTHER;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (http_media_type_is(header, types[i].type, &params))
			return http_media_params_utf8(params) ? types[i].kind : WEBHOOK_BODY_OTHER;
	}
	return WEBHOOK_BODY_OTHER;
}

bool webhook_body_kind_accepted(enum module_kind module, enum webhook_body_kind kind)
{
	if (module_is_message(module))
		return kind == WEBHOOK_BODY_JSON;
	return kind == WEBHOOK_BODY_JSON || kind == WEBHOOK_BODY_FORM || kind == WEBHOOK_BODY_TEXT;
}

/* ---- message bodies --------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int body_error(char *msg, size_t msglen,
							    const char *fmt, ...)
{
	if (msglen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return 400;
}

/* Fields of a sub-object ("bot", "card") that must be strings when present; other keys are
 * left alone, as Cliq does. */
static int check_string_fields(const cJSON *obj, const char *where, const char *const *fields,
			       char *msg, size_t msglen)
{
	if (!cJSON_IsObject(obj))
		return body_error(msg, msglen, "%s must be an object", where);
	for (const cJSON *it = obj->child; it != NULL; it = it->next) {
		for (const char *const *f = fields; *f != NULL; f++) {
			if (strcmp(it->string, *f) == 0 && !cJSON_IsString(it))
				return body_error(msg, msglen, "%s.%s must be a string", where, *f);
		}
	}
	return 0;
}

static int check_text(const cJSON *text, char *msg, size_t msglen)
{
	if (!cJSON_IsString(text))
		return body_error(msg, msglen, "text must be a string");
	if (text->valuestring[0] == '\0')
		return body_error(msg, msglen, "text must not be empty");
	if (utf8_count(text->valuestring) > WEBHOOK_TEXT_MAX)
		return body_error(msg, msglen, "text must be at most %d characters",
				  WEBHOOK_TEXT_MAX);
	return 0;
}

static int check_array(const cJSON *arr, const char *where, int max, char *msg, size_t msglen)
{
	if (!cJSON_IsArray(arr))
		return body_error(msg, msglen, "%s must be an array", where);
	if (cJSON_GetArraySize(arr) > max)
		return body_error(msg, msglen, "%s must have at most %d items", where, max);
	return 0;
}

static int check_member(const cJSON *it, char *msg, size_t msglen)
{
	static const char *const bot_fields[] = { "name", "image", NULL };
	static const char *const card_fields[] = { "title", "theme", "thumbnail", "icon", NULL };
	if (strcmp(it->string, "text") == 0)
		return check_text(it, msg, msglen);
	if (strcmp(it->string, "bot") == 0)
		return check_string_fields(it, "bot", bot_fields, msg, msglen);
	if (strcmp(it->string, "card") == 0)
		return check_string_fields(it, "card", card_fields, msg, msglen);
	if (strcmp(it->string, "slides") == 0)
		return check_array(it, "slides", WEBHOOK_SLIDES_MAX, msg, msglen);
	if (strcmp(it->string, "buttons") == 0)
		return check_array(it, "buttons", WEBHOOK_BUTTONS_MAX, msg, msglen);
	return 0;
}

/* Keys are compared case-sensitively (cJSON_GetObjectItem would not), and a known key given
 * twice is refused: readers disagree on which copy wins (cJSON the first, PostgreSQL the last). */
static int check_message_object(const cJSON *root, char *msg, size_t msglen)
{
	static const char *const known[] = { "text", "bot", "card", "slides", "buttons" };
	bool seen[sizeof(known) / sizeof(known[0])] = { false };
	if (!cJSON_IsObject(root))
		return body_error(msg, msglen, "the message must be a JSON object");
	for (const cJSON *it = root->child; it != NULL; it = it->next) {
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
			if (strcmp(it->string, known[k]) != 0)
				continue;
			if (seen[k])
				return body_error(msg, msglen, "%s is given more than once",
						  known[k]);
			seen[k] = true;
		}
		int status = check_member(it, msg, msglen);
		if (status != 0)
			return status;
	}
	if (!seen[0])
		return body_error(msg, msglen, "text is required");
	return 0;
}

static int invalid_json(const char **code, char *msg, size_t msglen, const char *why)
{
	*code = "invalid_json";
	return body_error(msg, msglen, "%s", why);
}

/* Encoding and grammar, the invalid_json half of every JSON body's checks. */
static int check_json_text(const char *body, size_t len, const char **code, char *msg,
			   size_t msglen)
{
	const char *why = jsontext_check(body, len);
	return why ? invalid_json(code, msg, msglen, why) : 0;
}

int webhook_check_message(const char *body, size_t len, const char **code, char *msg, size_t msglen)
{
	int status = check_json_text(body, len, code, msg, msglen);
	if (status != 0)
		return status;
	/* The grammar is settled above, so trailing text need not be checked again here, and
	 * require_null_terminated stays off: with it, cJSON 1.7 wants the NUL inside
	 * buffer_length and refuses an exact-length buffer. */
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, NULL, false);
	if (root == NULL)
		return invalid_json(code, msg, msglen, JSONTEXT_NOT_JSON);
	status = check_message_object(root, msg, msglen);
	cJSON_Delete(root);
	if (status != 0)
		*code = "invalid_message";
	return status;
}

int webhook_check_body(enum module_kind module, enum webhook_body_kind kind, const char *body,
		       size_t len, const char **code, char *msg, size_t msglen)
{
	if (!webhook_body_kind_accepted(module, kind)) {
		*code = "unsupported_media_type";
		body_error(msg, msglen, "%s",
			   module_is_message(module)
				   ? "this endpoint takes application/json"
				   : "this endpoint takes application/json, "
				     "application/x-www-form-urlencoded or text/plain (UTF-8)");
		return 415;
	}
	if (module_is_message(module))
		return webhook_check_message(body, len, code, msg, msglen);
	if (kind == WEBHOOK_BODY_JSON)
		return check_json_text(body, len, code, msg, msglen);
	if (!utf8_valid((const unsigned char *)body, len))
		return invalid_json(code, msg, msglen, JSONTEXT_NOT_UTF8);
	return 0;
}

/* ---- Idempotency-Key -------------------------------------------------------------------- */

bool webhook_idempotency_key_valid(const char *key)
{
	if (key == NULL)
		return false;
	size_t len = strnlen(key, WEBHOOK_IDEM_KEY_MAX + 1);
	if (len == 0 || len > WEBHOOK_IDEM_KEY_MAX || key[0] == ' ' || key[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e)
			return false;
	}
	/* The key is stored with the message: it must not be a secret. */
	return !redact_has_secret(key);
}
