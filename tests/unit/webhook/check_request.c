/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of webhook/request.c: routing, query strings, content types, message rules
 * and Idempotency-Key (its UTF-8 and JSON rules are lib/jsontext.c's: check_jsontext.c). */
#include "suites.h"

#include "core/crypto.h"
#include "lib/encoding.h"
#include "core/token.h"
#include "webhook/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- routing ---------------------------------------------------------------------------- */

static struct webhook_route route;

static bool parse(const char *path)
{
	return webhook_route_parse(path, &route);
}

START_TEST(test_route_shapes)
{
	ck_assert(parse("/api/v2/channelsbyname/general/message"));
	ck_assert_int_eq(route.module, MODULE_CHANNEL);
	ck_assert(route.name_valid);
	ck_assert(!route.bad_encoding);
	ck_assert_str_eq(route.target, "general");

	ck_assert(parse("/api/v2/bots/deploy_bot2/incoming"));
	ck_assert_int_eq(route.module, MODULE_BOT_INCOMING);
	ck_assert_str_eq(route.target, "deploy_bot2");

	ck_assert(parse("/api/v2/bots/deploybot/message"));
	ck_assert_int_eq(route.module, MODULE_BOT_MESSAGE);
	ck_assert_str_eq(route.target, "deploybot");

	ck_assert(parse("/api/v2/applications/app_0123456789abcdeF/incoming"));
	ck_assert_int_eq(route.module, MODULE_EXTENSION);
	ck_assert(route.name_valid);
	ck_assert_str_eq(route.target, "app_0123456789abcdeF");
}
END_TEST

START_TEST(test_route_case_and_encoding)
{
	ck_assert(parse("/api/v2/channelsbyname/GeNeRaL/message"));
	ck_assert(route.name_valid);
	ck_assert_str_eq(route.target, "general");
	ck_assert(parse("/api/v2/channelsbyname/%47en%65ral_%5f/message"));
	ck_assert(route.name_valid);
	ck_assert_str_eq(route.target, "general__");
	ck_assert(parse("/api/v2/bots/%44eploy/incoming"));
	ck_assert_str_eq(route.target, "deploy");
	/* App ids are base62: case is significant and kept. */
	ck_assert(parse("/api/v2/applications/%61pp_0123456789ABCDEF/incoming"));
	ck_assert(route.name_valid);
	ck_assert_str_eq(route.target, "app_0123456789ABCDEF");
}
END_TEST

START_TEST(test_route_invalid_names)
{
	char longname[128], path[256];
	const char *bad[] = {
		"/api/v2/channelsbyname//message",	   /* empty */
		"/api/v2/channelsbyname/gen-eral/message", /* '-' */
		"/api/v2/channelsbyname/gen%20eral/message",
		"/api/v2/channelsbyname/gen%2Feral/message", /* %2F: still this segment */
		"/api/v2/channelsbyname/caf%C3%A9/message",  /* non-ASCII */
		"/api/v2/bots/b.ot/incoming",
		"/api/v2/bots/%E2%84%AA/message", /* KELVIN SIGN: no Unicode case folding */
		"/api/v2/applications/app_0123/incoming",
		"/api/v2/applications/APP_0123456789abcdef/incoming",
		"/api/v2/applications/app_0123456789abcde_/incoming",
		"/api/v2/applications/app_0123456789abcdef0/incoming",
		"/api/v2/applications/general/incoming",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i]), "%s not routed", bad[i]);
		ck_assert_msg(!route.name_valid, "%s accepted", bad[i]);
		ck_assert_msg(!route.bad_encoding, "%s: bad encoding", bad[i]);
		ck_assert_str_eq(route.target, "");
	}
	memset(longname, 'a', 64);
	longname[64] = '\0';
	snprintf(path, sizeof(path), "/api/v2/bots/%s/incoming", longname);
	ck_assert(parse(path));
	ck_assert(route.name_valid);
	ck_assert_uint_eq(strlen(route.target), 64);
	longname[64] = 'A';
	longname[65] = '\0';
	snprintf(path, sizeof(path), "/api/v2/bots/%s/incoming", longname);
	ck_assert(parse(path));
	ck_assert(!route.name_valid);
}
END_TEST

/* A token body of lowercase letters and digits (about one in 26 has such a checksum), so that
 * it survives the lowercasing of names. */
static void lowercase_token_body(char out[TOKEN_LEN - TOKEN_PREFIX_LEN + 1])
{
	char head[TOKEN_PREFIX_LEN + TOKEN_RANDOM_CHARS + 1];
	unsigned char digest[CRYPTO_HASH_LEN];
	srand(7);
	for (;;) {
		memcpy(head, TOKEN_PREFIX, TOKEN_PREFIX_LEN);
		for (int i = 0; i < TOKEN_RANDOM_CHARS; i++)
			head[TOKEN_PREFIX_LEN + i] =
				"abcdefghijklmnopqrstuvwxyz0123456789"[rand() % 36];
		crypto_sha256(head, TOKEN_PREFIX_LEN + TOKEN_RANDOM_CHARS, digest);
		memcpy(out, head + TOKEN_PREFIX_LEN, TOKEN_RANDOM_CHARS);
		ck_assert(base62_encode(digest, 4, out + TOKEN_RANDOM_CHARS, TOKEN_CHECK_CHARS));
		if (strspn(out, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(out))
			return;
	}
}

/* A name that carries a token or an appkey is no name: it would be stored as the target. */
START_TEST(test_route_secret_names)
{
	char body[TOKEN_LEN - TOKEN_PREFIX_LEN + 1], path[256];
	lowercase_token_body(body);
	ck_assert(token_check_body(body));
	snprintf(path, sizeof(path), "/api/v2/channelsbyname/%s/message", body);
	ck_assert(parse(path));
	ck_assert(!route.name_valid);
	ck_assert_str_eq(route.target, "");
	snprintf(path, sizeof(path), "/api/v2/bots/hgt_%s/incoming", body);
	ck_assert(parse(path));
	ck_assert(!route.name_valid);
	ck_assert(parse("/api/v2/bots/hga_0123456789abcdefghij0123456789ab/message"));
	ck_assert(!route.name_valid);
	/* one character off: an ordinary name */
	body[0] = body[0] == 'a' ? 'b' : 'a';
	snprintf(path, sizeof(path), "/api/v2/channelsbyname/%s/message", body);
	ck_assert(parse(path));
	ck_assert(route.name_valid);
}
END_TEST

/* Expect: 100-continue: the body is read only for a call its head does not already refuse. */
START_TEST(test_body_needed)
{
	const char *msg = "/api/v2/channelsbyname/general/message";
	const char *tok = "zapikey=hgt_Hookgate0123456789abcdefXYZ2eun9i";
	const char *json = "application/json";
	ck_assert(webhook_body_needed(true, msg, tok, NULL, json));
	ck_assert(webhook_body_needed(true, "/api/v2/bots/b/incoming", tok, NULL, "text/plain"));
	ck_assert(!webhook_body_needed(false, msg, tok, NULL, json));		     /* 405 */
	ck_assert(!webhook_body_needed(true, msg, NULL, NULL, json));		     /* 401 */
	ck_assert(!webhook_body_needed(true, msg, "zapikey=hgt_short", NULL, json)); /* 401 */
	ck_assert(!webhook_body_needed(true, msg, "zapikey=%zz", NULL, json));	     /* 400 */
	ck_assert(!webhook_body_needed(true, "/api/v2/nowhere", tok, NULL, json)); /* 401 or 404 */
	ck_assert(
		!webhook_body_needed(true, "/api/v2/channelsbyname/a-b/message", tok, NULL, json));
	ck_assert(
		!webhook_body_needed(true, "/api/v2/channelsbyname/%zz/message", tok, NULL, json));
	ck_assert(!webhook_body_needed(true, msg, tok, NULL, "text/plain")); /* 415 */
	ck_assert(!webhook_body_needed(true, msg, tok, NULL, NULL));
}
END_TEST

START_TEST(test_route_not_found)
{
	const char *paths[] = {
		"",
		"/",
		"/healthz",
		"/api/v2/channelsbyname/general/message/",
		"/api/v2/channelsbyname/general/message/extra",
		"/api/v2/channelsbyname/general/incoming",
		"/api/v2/channelsbyname/general",
		"/api/v2/channelsbyname/a/b/message",
		"/api/v2/bots/x/messages",
		"/api/v2/bots/x//incoming",
		"/api/v2/bots/x",
		"/api/v2/applications/app_0123456789abcdef/message",
		"/API/v2/bots/x/incoming",
		"/api/v1/bots/x/incoming",
		"//api/v2/bots/x/incoming",
		"/api/v2/%62ots/x/incoming", /* only the name segment is decoded */
		"/api/v2/bots/x/incoming%2F",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ck_assert_msg(!parse(paths[i]), "%s routed", paths[i]);
		ck_assert_msg(!route.bad_encoding, "%s: bad encoding", paths[i]);
	}
	ck_assert(!webhook_route_parse(NULL, &route));
}
END_TEST

START_TEST(test_route_bad_encoding)
{
	const char *paths[] = {
		"/api/v2/channelsbyname/gen%zzeral/message",
		"/api/v2/channelsbyname/general%/message",
		"/api/v2/channelsbyname/general%4/message",
		"/api/v2/channelsbyname/general/message%",
		"/api/v2/channelsbyname/general%00/message",
		"/api/v2/bots/%00/incoming",
		"/nowhere/%g0",
	};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		ck_assert_msg(!parse(paths[i]), "%s routed", paths[i]);
		ck_assert_msg(route.bad_encoding, "%s: encoding not refused", paths[i]);
	}
}
END_TEST

/* ---- query strings ---------------------------------------------------------------------- */

static struct webhook_query q;

static enum webhook_query_result qparse(const char *query)
{
	return webhook_query_parse(query, &q);
}

START_TEST(test_query_basic)
{
	ck_assert_int_eq(qparse(NULL), WEBHOOK_QUERY_OK);
	ck_assert(!q.has_zapikey && !q.has_appkey);
	ck_assert_int_eq(qparse(""), WEBHOOK_QUERY_OK);
	ck_assert(!q.has_zapikey);
	ck_assert_int_eq(qparse("zapikey=hgt_abc"), WEBHOOK_QUERY_OK);
	ck_assert(q.has_zapikey);
	ck_assert_str_eq(q.zapikey, "hgt_abc");
	ck_assert_uint_eq(q.zapikey_len, 7);
	ck_assert(!q.has_appkey);
	ck_assert_int_eq(qparse("appkey=hga_k&zapikey=hgt_t&other=1&&x"), WEBHOOK_QUERY_OK);
	ck_assert_str_eq(q.zapikey, "hgt_t");
	ck_assert(q.has_appkey);
	ck_assert_str_eq(q.appkey, "hga_k");
	ck_assert_uint_eq(q.appkey_len, 5);
	ck_assert_ptr_null(q.reason);
}
END_TEST

START_TEST(test_query_decoding)
{
	ck_assert_int_eq(qparse("zapikey=hgt%5Fa+b%2bc"), WEBHOOK_QUERY_OK);
	ck_assert_str_eq(q.zapikey, "hgt_a b+c");
	/* Encoded names count as the same parameter. */
	ck_assert_int_eq(qparse("zap%69key=x"), WEBHOOK_QUERY_OK);
	ck_assert_str_eq(q.zapikey, "x");
	ck_assert_int_eq(qparse("zap%69key=x&zapikey=y"), WEBHOOK_QUERY_INVALID_REQUEST);
	/* Names are case-sensitive, and near misses are other parameters. */
	ck_assert_int_eq(qparse("ZAPIKEY=x&zapikey2=y&zapike=z"), WEBHOOK_QUERY_OK);
	ck_assert(!q.has_zapikey);
	/* Non-ASCII values are merely malformed tokens, not request errors. */
	ck_assert_int_eq(qparse("zapikey=%C3%A9"), WEBHOOK_QUERY_OK);
	ck_assert_str_eq(q.zapikey, "\xc3\xa9");
}
END_TEST

START_TEST(test_query_empty_and_long)
{
	char query[512];
	ck_assert_int_eq(qparse("zapikey="), WEBHOOK_QUERY_OK);
	ck_assert(q.has_zapikey);
	ck_assert_uint_eq(q.zapikey_len, 0);
	ck_assert_int_eq(qparse("zapikey"), WEBHOOK_QUERY_OK);
	ck_assert(q.has_zapikey);
	ck_assert_str_eq(q.zapikey, "");
	ck_assert_int_eq(qparse("zapikey=a=b"), WEBHOOK_QUERY_OK);
	ck_assert_str_eq(q.zapikey, "a=b");

	strcpy(query, "zapikey=");
	memset(query + 8, 'k', 128);
	query[8 + 128] = '\0';
	ck_assert_int_eq(qparse(query), WEBHOOK_QUERY_OK);
	ck_assert_uint_eq(q.zapikey_len, 128);
	ck_assert_uint_eq(strlen(q.zapikey), 128);
	memset(query + 8, 'k', 300);
	query[8 + 300] = '\0';
	ck_assert_int_eq(qparse(query), WEBHOOK_QUERY_OK);
	ck_assert(q.has_zapikey);
	ck_assert_uint_eq(q.zapikey_len, 0);
	ck_assert_str_eq(q.zapikey, "");
	/* A long unknown parameter name is just unknown. */
	memset(query, 'n', 300);
	strcpy(query + 300, "=1&zapikey=t");
	ck_assert_int_eq(qparse(query), WEBHOOK_QUERY_OK);
	ck_assert_str_eq(q.zapikey, "t");
}
END_TEST

START_TEST(test_query_errors)
{
	const char *bad[] = {
		"zapikey=%zzhgt",
		"zapikey=hgt%",
		"zapikey=hgt%4",
		"zapikey=hgt%00",
		"other=%00",
		"other=%x1",
		"%00=1",
		"na%me=1",
		"zapikey=a&zapikey=b",
		"zapikey=&zapikey=",
		"zapikey&zapikey=a",
		"appkey=a&appkey=a",
		"zapikey=a%0Ab",
		"zapikey=%7F",
		"appkey=%09",
		"zapikey=a%1fb",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(qparse(bad[i]) == WEBHOOK_QUERY_INVALID_REQUEST, "%s accepted",
			      bad[i]);
		ck_assert_ptr_nonnull(q.reason);
	}
	ck_assert_int_eq(qparse("zapikey=a&zapikey=b"), WEBHOOK_QUERY_INVALID_REQUEST);
	ck_assert_str_eq(q.reason, "zapikey given more than once");
	ck_assert_int_eq(qparse("zapikey=hgt_x%00"), WEBHOOK_QUERY_INVALID_REQUEST);
	ck_assert_str_eq(q.reason, "NUL character in the query");
	ck_assert(strstr(q.reason, "hgt_x") == NULL);
	ck_assert_int_eq(qparse("x=%G1&zapikey=t"), WEBHOOK_QUERY_INVALID_REQUEST);
	ck_assert_str_eq(q.reason, "bad percent-encoding in the query");
	ck_assert_int_eq(qparse("appkey=a%0d"), WEBHOOK_QUERY_INVALID_REQUEST);
	ck_assert_str_eq(q.reason, "control character in appkey");
	/* Control characters elsewhere are not our business. */
	ck_assert_int_eq(qparse("note=a%0Ab&zapikey=t"), WEBHOOK_QUERY_OK);
}
END_TEST

/* ---- content types ---------------------------------------------------------------------- */

START_TEST(test_content_types)
{
	ck_assert_int_eq(webhook_content_type("application/json"), WEBHOOK_BODY_JSON);
	ck_assert_int_eq(webhook_content_type("Application/JSON"), WEBHOOK_BODY_JSON);
	ck_assert_int_eq(webhook_content_type("application/json; charset=utf-8"),
			 WEBHOOK_BODY_JSON);
	ck_assert_int_eq(webhook_content_type("application/json;charset=\"UTF-8\""),
			 WEBHOOK_BODY_JSON);
	ck_assert_int_eq(webhook_content_type("  application/json ; foo=bar ; charset=Utf-8 "),
			 WEBHOOK_BODY_JSON);
	ck_assert_int_eq(webhook_content_type("application/json;"), WEBHOOK_BODY_JSON);
	ck_assert_int_eq(webhook_content_type("application/x-www-form-urlencoded"),
			 WEBHOOK_BODY_FORM);
	ck_assert_int_eq(webhook_content_type("text/plain"), WEBHOOK_BODY_TEXT);
	ck_assert_int_eq(webhook_content_type("TEXT/Plain; charset=utf-8"), WEBHOOK_BODY_TEXT);
	ck_assert_int_eq(webhook_content_type("text/plain; format=\"a;b\\\"c\""),
			 WEBHOOK_BODY_TEXT);
}
END_TEST

START_TEST(test_content_types_other)
{
	const char *other[] = {
		"",
		"application",
		"application/",
		"application/jsonx",
		"application/json5",
		"application/vnd.api+json",
		"image/png",
		"text/html",
		"text/plain; charset=iso-8859-1",
		"text/plain; charset=utf-16",
		"application/json; charset=\"latin1\"",
		"application/json; charset",
		"application/json; charset=",
		"application/json charset=utf-8",
		"application/json; =utf-8",
		"application/json; charset=\"utf-8",
		"application/json; charset=utf-8-but-very-long-indeed",
		"multipart/form-data; boundary=x",
	};
	ck_assert_int_eq(webhook_content_type(NULL), WEBHOOK_BODY_OTHER);
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
		ck_assert_msg(webhook_content_type(other[i]) == WEBHOOK_BODY_OTHER, "%s accepted",
			      other[i]);
}
END_TEST

START_TEST(test_body_kind_accepted)
{
	enum module_kind msg[] = { MODULE_CHANNEL, MODULE_BOT_MESSAGE };
	enum module_kind inc[] = { MODULE_BOT_INCOMING, MODULE_EXTENSION };
	for (int i = 0; i < 2; i++) {
		ck_assert(webhook_body_kind_accepted(msg[i], WEBHOOK_BODY_JSON));
		ck_assert(!webhook_body_kind_accepted(msg[i], WEBHOOK_BODY_FORM));
		ck_assert(!webhook_body_kind_accepted(msg[i], WEBHOOK_BODY_TEXT));
		ck_assert(!webhook_body_kind_accepted(msg[i], WEBHOOK_BODY_OTHER));
		ck_assert(webhook_body_kind_accepted(inc[i], WEBHOOK_BODY_JSON));
		ck_assert(webhook_body_kind_accepted(inc[i], WEBHOOK_BODY_FORM));
		ck_assert(webhook_body_kind_accepted(inc[i], WEBHOOK_BODY_TEXT));
		ck_assert(!webhook_body_kind_accepted(inc[i], WEBHOOK_BODY_OTHER));
	}
}
END_TEST

/* ---- message bodies --------------------------------------------------------------------- */

static const char *code;
static char msg[256];

static int check_msg(const char *body)
{
	code = NULL;
	msg[0] = '\0';
	return webhook_check_message(body, strlen(body), &code, msg, sizeof(msg));
}

static void assert_invalid_message(const char *body, const char *want)
{
	ck_assert_msg(check_msg(body) == 400, "%s accepted", body);
	ck_assert_str_eq(code, "invalid_message");
	ck_assert_str_eq(msg, want);
}

static void assert_invalid_json(const char *body, size_t len)
{
	code = NULL;
	ck_assert_int_eq(webhook_check_message(body, len, &code, msg, sizeof(msg)), 400);
	ck_assert_str_eq(code, "invalid_json");
}

#define BAD_JSON(lit) assert_invalid_json(lit, sizeof(lit) - 1)

START_TEST(test_message_ok)
{
	ck_assert_int_eq(check_msg("{\"text\":\"hello\"}"), 0);
	ck_assert_ptr_null(code);
	ck_assert_int_eq(check_msg(" {\"text\":\" \",\"extra\":[1,{\"z\":null}]} "), 0);
	ck_assert_int_eq(check_msg("{\"text\":\"x\",\"bot\":{\"name\":\"CI\",\"image\":\"u\","
				   "\"other\":1},\"card\":{\"title\":\"t\",\"theme\":\"modern\","
				   "\"thumbnail\":\"a\",\"icon\":\"b\"},\"slides\":[1,2,3,4,5,6,7,"
				   "8,9,10],\"buttons\":[{},{},{},{},{}]}"),
			 0);
	ck_assert_int_eq(check_msg("{\"text\":\"x\",\"bot\":{},\"card\":{},\"slides\":[],"
				   "\"buttons\":[]}"),
			 0);
	/* Key matching is case-sensitive: "Text" is an unknown field, "text" still required. */
	ck_assert_int_eq(check_msg("{\"Text\":1,\"text\":\"x\",\"BOT\":5}"), 0);
	ck_assert_int_eq(check_msg("{\"text\":\"\\u00e9\\ud83d\\ude00\"}"), 0);
}
END_TEST

START_TEST(test_message_rules)
{
	assert_invalid_message("[]", "the message must be a JSON object");
	assert_invalid_message("\"text\"", "the message must be a JSON object");
	assert_invalid_message("null", "the message must be a JSON object");
	assert_invalid_message("{}", "text is required");
	assert_invalid_message("{\"Text\":\"x\"}", "text is required");
	assert_invalid_message("{\"text\":5}", "text must be a string");
	assert_invalid_message("{\"text\":null}", "text must be a string");
	assert_invalid_message("{\"text\":[\"x\"]}", "text must be a string");
	assert_invalid_message("{\"text\":\"\"}", "text must not be empty");
	assert_invalid_message("{\"text\":\"a\",\"text\":\"b\"}", "text is given more than once");
	assert_invalid_message("{\"text\":\"a\",\"bot\":\"b\"}", "bot must be an object");
	assert_invalid_message("{\"text\":\"a\",\"bot\":[]}", "bot must be an object");
	assert_invalid_message("{\"text\":\"a\",\"bot\":{\"name\":1}}",
			       "bot.name must be a string");
	assert_invalid_message("{\"text\":\"a\",\"bot\":{\"image\":null}}",
			       "bot.image must be a string");
	assert_invalid_message("{\"text\":\"a\",\"card\":1}", "card must be an object");
	assert_invalid_message("{\"text\":\"a\",\"card\":{\"title\":{}}}",
			       "card.title must be a string");
	assert_invalid_message("{\"text\":\"a\",\"card\":{\"theme\":true}}",
			       "card.theme must be a string");
	assert_invalid_message("{\"text\":\"a\",\"card\":{\"thumbnail\":[]}}",
			       "card.thumbnail must be a string");
	assert_invalid_message("{\"text\":\"a\",\"card\":{\"icon\":2}}",
			       "card.icon must be a string");
	assert_invalid_message("{\"text\":\"a\",\"slides\":{}}", "slides must be an array");
	assert_invalid_message("{\"text\":\"a\",\"slides\":[1,2,3,4,5,6,7,8,9,10,11]}",
			       "slides must have at most 10 items");
	assert_invalid_message("{\"text\":\"a\",\"buttons\":\"b\"}", "buttons must be an array");
	assert_invalid_message("{\"text\":\"a\",\"buttons\":[1,2,3,4,5,6]}",
			       "buttons must have at most 5 items");
	assert_invalid_message("{\"buttons\":[],\"buttons\":[]}",
			       "buttons is given more than once");
	/* The first failing rule, in document order, is the one reported. */
	assert_invalid_message("{\"bot\":1,\"text\":\"\"}", "bot must be an object");
}
END_TEST

/* A "text" of n code points built from a repeated UTF-8 character of clen bytes. */
static char *text_message(size_t n, const char *ch)
{
	size_t clen = strlen(ch);
	char *body = malloc(n * clen + 16);
	ck_assert_ptr_nonnull(body);
	strcpy(body, "{\"text\":\"");
	size_t at = strlen(body);
	for (size_t i = 0; i < n; i++, at += clen)
		memcpy(body + at, ch, clen);
	strcpy(body + at, "\"}");
	return body;
}

START_TEST(test_message_text_length)
{
	const char *chars[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\\u00e9" };
	for (size_t i = 0; i < sizeof(chars) / sizeof(chars[0]); i++) {
		char *body = text_message(WEBHOOK_TEXT_MAX, chars[i]);
		ck_assert_msg(check_msg(body) == 0, "10000 x %s refused", chars[i]);
		free(body);
		body = text_message(WEBHOOK_TEXT_MAX + 1, chars[i]);
		assert_invalid_message(body, "text must be at most 10000 characters");
		free(body);
	}
}
END_TEST

START_TEST(test_message_invalid_json)
{
	static const char not_terminated[] = { '{', '"', 't', 'e', 'x', 't', '"',
					       ':', '"', 'a', '"', '}', '}' };
	BAD_JSON("");
	BAD_JSON("{\"text\":");
	BAD_JSON("{\"text\":\"\xff\xfe\"}");
	ck_assert(strstr(msg, "UTF-8") != NULL);
	BAD_JSON("{\"text\":\"a\\u0000b\"}");
	BAD_JSON("{\"text\":\"a\0b\"}");
	BAD_JSON("{\"text\":\"a\"}\0");
	BAD_JSON("{\"text\":\"a\"} x");
	BAD_JSON("{\"text\":\"\\ud800\"}");
	BAD_JSON("{\"text\":\"a\",}");
	BAD_JSON("{\"text\":\"a\"}{}");
	/* The exact length, without a NUL after it, is enough; nothing past it is read (a heap
	 * copy of exactly that size lets ASan see any over-read). */
	char *exact = malloc(12);
	ck_assert_ptr_nonnull(exact);
	memcpy(exact, not_terminated, 12);
	ck_assert_int_eq(webhook_check_message(exact, 12, &code, msg, sizeof(msg)), 0);
	ck_assert_int_eq(webhook_check_body(MODULE_EXTENSION, WEBHOOK_BODY_JSON, exact, 12, &code,
					    msg, sizeof(msg)),
			 0);
	free(exact);
	assert_invalid_json(not_terminated, sizeof(not_terminated));
	/* A zero-length message buffer is allowed. */
	ck_assert_int_eq(webhook_check_message("{}", 2, &code, NULL, 0), 400);
	ck_assert_str_eq(code, "invalid_message");
}
END_TEST

static int check_body(enum module_kind m, enum webhook_body_kind k, const char *body, size_t len)
{
	code = NULL;
	return webhook_check_body(m, k, body, len, &code, msg, sizeof(msg));
}

START_TEST(test_check_body)
{
	const enum module_kind inc = MODULE_BOT_INCOMING;
	const enum module_kind ext = MODULE_EXTENSION;
	const enum module_kind chan = MODULE_CHANNEL;

	ck_assert_int_eq(check_body(chan, WEBHOOK_BODY_FORM, "text=x", 6), 415);
	ck_assert_str_eq(code, "unsupported_media_type");
	ck_assert_int_eq(check_body(MODULE_BOT_MESSAGE, WEBHOOK_BODY_TEXT, "x", 1), 415);
	ck_assert_int_eq(check_body(inc, WEBHOOK_BODY_OTHER, "x", 1), 415);
	ck_assert_str_eq(code, "unsupported_media_type");
	ck_assert_int_eq(check_body(chan, WEBHOOK_BODY_JSON, "{\"text\":\"x\"}", 12), 0);
	ck_assert_int_eq(check_body(chan, WEBHOOK_BODY_JSON, "{\"text\":1}", 10), 400);
	ck_assert_str_eq(code, "invalid_message");

	/* Incoming endpoints: any JSON value, strictly. */
	ck_assert_int_eq(check_body(inc, WEBHOOK_BODY_JSON, "42", 2), 0);
	ck_assert_int_eq(check_body(ext, WEBHOOK_BODY_JSON, "[{\"a\":\"\xc3\xa9\"}]", 12), 0);
	ck_assert_int_eq(check_body(inc, WEBHOOK_BODY_JSON, "{\"text\":1}", 10), 0);
	ck_assert_int_eq(check_body(inc, WEBHOOK_BODY_JSON, "", 0), 400);
	ck_assert_str_eq(code, "invalid_json");
	ck_assert_int_eq(check_body(inc, WEBHOOK_BODY_JSON, "{", 1), 400);
	ck_assert_int_eq(check_body(inc, WEBHOOK_BODY_JSON, "\"\\u0000\"", 8), 400);
	ck_assert_int_eq(check_body(ext, WEBHOOK_BODY_JSON, "\"\xed\xa0\x80\"", 5), 400);
	ck_assert_str_eq(code, "invalid_json");

	/* Form and text bodies: stored as received, but UTF-8 without NUL. */
	ck_assert_int_eq(check_body(inc, WEBHOOK_BODY_TEXT, "not { json", 10), 0);
	ck_assert_int_eq(check_body(inc, WEBHOOK_BODY_TEXT, "", 0), 0);
	ck_assert_int_eq(check_body(ext, WEBHOOK_BODY_FORM, "a=%zz&b", 7), 0);
	ck_assert_int_eq(check_body(inc, WEBHOOK_BODY_TEXT, "caf\xc3", 4), 400);
	ck_assert_str_eq(code, "invalid_json");
	ck_assert_int_eq(check_body(ext, WEBHOOK_BODY_FORM, "a=\0", 3), 400);
	ck_assert_str_eq(code, "invalid_json");
}
END_TEST

/* ---- Idempotency-Key -------------------------------------------------------------------- */

START_TEST(test_idempotency_key)
{
	char key[200];
	ck_assert(webhook_idempotency_key_valid("deploy-42"));
	ck_assert(webhook_idempotency_key_valid("a"));
	ck_assert(webhook_idempotency_key_valid("with inner space"));
	ck_assert(webhook_idempotency_key_valid("!~{}\"'\\"));
	ck_assert(!webhook_idempotency_key_valid(NULL));
	ck_assert(!webhook_idempotency_key_valid(""));
	ck_assert(!webhook_idempotency_key_valid(" "));
	ck_assert(!webhook_idempotency_key_valid(" lead"));
	ck_assert(!webhook_idempotency_key_valid("trail "));
	ck_assert(!webhook_idempotency_key_valid("tab\there"));
	ck_assert(!webhook_idempotency_key_valid("del\x7f"));
	ck_assert(!webhook_idempotency_key_valid("caf\xc3\xa9"));
	/* it is stored: not a token or an appkey */
	ck_assert(!webhook_idempotency_key_valid("deploy hgt_Hookgate0123456789abcdefXYZ2eun9i"));
	ck_assert(!webhook_idempotency_key_valid("hga_0123456789abcdefghijABCDEFGHIJ01"));
	memset(key, 'k', 128);
	key[128] = '\0';
	ck_assert(webhook_idempotency_key_valid(key));
	key[128] = 'k';
	key[129] = '\0';
	ck_assert(!webhook_idempotency_key_valid(key));
}
END_TEST

Suite *make_suite_webhook_request(void)
{
	Suite *s = suite_create("webhook_request");
	TCase *tc = tcase_create("route");
	tcase_add_test(tc, test_route_shapes);
	tcase_add_test(tc, test_route_case_and_encoding);
	tcase_add_test(tc, test_route_invalid_names);
	tcase_add_test(tc, test_route_secret_names);
	tcase_add_test(tc, test_body_needed);
	tcase_add_test(tc, test_route_not_found);
	tcase_add_test(tc, test_route_bad_encoding);
	suite_add_tcase(s, tc);

	tc = tcase_create("query");
	tcase_add_test(tc, test_query_basic);
	tcase_add_test(tc, test_query_decoding);
	tcase_add_test(tc, test_query_empty_and_long);
	tcase_add_test(tc, test_query_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("content_type");
	tcase_add_test(tc, test_content_types);
	tcase_add_test(tc, test_content_types_other);
	tcase_add_test(tc, test_body_kind_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("message");
	tcase_add_test(tc, test_message_ok);
	tcase_add_test(tc, test_message_rules);
	tcase_add_test(tc, test_message_text_length);
	tcase_add_test(tc, test_message_invalid_json);
	tcase_add_test(tc, test_check_body);
	tcase_add_test(tc, test_idempotency_key);
	suite_add_tcase(s, tc);
	return s;
}
