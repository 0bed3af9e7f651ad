/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of delivery/signer.c: the Standard Webhooks test vector, several secrets during a
 * rotation, the forms a secret may take, and new secrets. */
#include "suites.h"

#include "delivery/signer.h"
#include "lib/encoding.h"

#include <string.h>

/* The test vector of the Standard Webhooks reference libraries: "sign function works" in
 * standard-webhooks/standard-webhooks libraries/javascript/src/webhook.test.ts, the same as
 * TestWebhookSign in libraries/go/webhook_test.go and test_sign_function in
 * libraries/python/tests/test_webhooks.py. */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define SPEC_MSG_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define SPEC_TS 1614265330
#define SPEC_BODY "{\"test\": 2432232314}"
#define SPEC_SIGNATURE "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/* The same message under a 32-byte key of 0xaa bytes (its secret needs '=' padding), computed
 * apart from this code with
 *   printf '%s' 'msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}' |
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:aaaa...aa -binary | base64 */
#define AA_SECRET "whsec_qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo="
#define AA_SIGNATURE "v1,xkQy/yYrmgyHZ1gXFqYcDjl87uljiOS+OJzcVALI9i0="

static bool sign1(const char *secret, const char *msg_id, int64_t ts, const char *body, size_t len,
		  char *out, size_t outlen)
{
	const char *secrets[] = { secret };
	return signer_sign(msg_id, ts, (const unsigned char *)body, len, secrets, 1, out, outlen);
}

START_TEST(test_spec_vector)
{
	char out[SIGNER_HEADER_MAX(1)];
	ck_assert(sign1(SPEC_SECRET, SPEC_MSG_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), out,
			sizeof(out)));
	ck_assert_str_eq(out, SPEC_SIGNATURE);
	/* The reference libraries take the secret with or without its prefix. */
	ck_assert(sign1("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SPEC_MSG_ID, SPEC_TS, SPEC_BODY,
			strlen(SPEC_BODY), out, sizeof(out)));
	ck_assert_str_eq(out, SPEC_SIGNATURE);
}
END_TEST

START_TEST(test_every_input_counts)
{
	char out[SIGNER_HEADER_MAX(1)];
	ck_assert(sign1(SPEC_SECRET, SPEC_MSG_ID, SPEC_TS + 1, SPEC_BODY, strlen(SPEC_BODY), out,
			sizeof(out)));
	ck_assert_str_ne(out, SPEC_SIGNATURE);
	ck_assert(sign1(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJeK", SPEC_TS, SPEC_BODY,
			strlen(SPEC_BODY), out, sizeof(out)));
	ck_assert_str_ne(out, SPEC_SIGNATURE);
	ck_assert(sign1(SPEC_SECRET, SPEC_MSG_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY) - 1, out,
			sizeof(out)));
	ck_assert_str_ne(out, SPEC_SIGNATURE);
}
END_TEST

/* The body is bytes, not a string: a NUL inside is signed like any other byte. Expected value
 * from openssl dgst over 'msg_x.7.a\0b' with the spec's key. */
START_TEST(test_binary_body)
{
	char out[SIGNER_HEADER_MAX(1)];
	ck_assert(sign1(SPEC_SECRET, "msg_x", 7, "a\0b", 3, out, sizeof(out)));
	ck_assert_str_eq(out, "v1,t4xSeaRMpqGNvJWCsBiIbzN55NSv0HJ8frl6dNnWrak=");
	/* An empty body: 'msg_1_2.0.' */
	ck_assert(sign1(SPEC_SECRET, "msg_1_2", 0, "", 0, out, sizeof(out)));
	ck_assert_str_eq(out, "v1,8nIPLD2PCaYqZPmftfARrKZMx4KB6GN3xqpgrBJ8aYw=");
}
END_TEST

START_TEST(test_padded_secret)
{
	char out[SIGNER_HEADER_MAX(1)];
	ck_assert(sign1(AA_SECRET, SPEC_MSG_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY), out,
			sizeof(out)));
	ck_assert_str_eq(out, AA_SIGNATURE);
	/* The same key without its padding. */
	ck_assert(sign1("whsec_qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo", SPEC_MSG_ID, SPEC_TS,
			SPEC_BODY, strlen(SPEC_BODY), out, sizeof(out)));
	ck_assert_str_eq(out, AA_SIGNATURE);
}
END_TEST

/* During a rotation both secrets sign, in the order given, one space between. */
START_TEST(test_two_secrets)
{
	const char *secrets[] = { AA_SECRET, SPEC_SECRET };
	char out[SIGNER_HEADER_MAX(2)];
	ck_assert(signer_sign(SPEC_MSG_ID, SPEC_TS, (const unsigned char *)SPEC_BODY,
			      strlen(SPEC_BODY), secrets, 2, out, sizeof(out)));
	ck_assert_str_eq(out, AA_SIGNATURE " " SPEC_SIGNATURE);
	/* Exactly the room it needs (the NUL included), and one byte less. */
	ck_assert(signer_sign(SPEC_MSG_ID, SPEC_TS, (const unsigned char *)SPEC_BODY,
			      strlen(SPEC_BODY), secrets, 2, out, strlen(out) + 1));
	ck_assert(!signer_sign(SPEC_MSG_ID, SPEC_TS, (const unsigned char *)SPEC_BODY,
			       strlen(SPEC_BODY), secrets, 2, out, 2 * 44 + 6));
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_bad_secrets)
{
	static const char *const bad[] = {
		"whsec_",					       /* no key */
		"",						       /* nothing */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",	       /* not base64 */
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw=",	       /* padding where none fits */
		"whsec_qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqo==", /* too much padding */
		"whsec_MfKQ9r8G KYqrTwjUPD8ILPZIo2LaLaSw",	       /* a space inside */
	};
	char out[SIGNER_HEADER_MAX(1)];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!sign1(bad[i], SPEC_MSG_ID, SPEC_TS, SPEC_BODY, strlen(SPEC_BODY),
				     out, sizeof(out)),
			      "accepted secret %zu", i);
		ck_assert_str_eq(out, "");
	}
	const char *none[] = { NULL };
	ck_assert(!signer_sign(SPEC_MSG_ID, SPEC_TS, (const unsigned char *)"", 0, none, 0, out,
			       sizeof(out)));
}
END_TEST

/* A new secret is whsec_ + padded base64 of 32 bytes, signs, and differs each time. */
START_TEST(test_secret_new)
{
	char a[SIGNER_SECRET_MAX], b[SIGNER_SECRET_MAX], out[SIGNER_HEADER_MAX(1)];
	unsigned char key[64];
	ck_assert(signer_secret_new(a, sizeof(a)));
	ck_assert(signer_secret_new(b, sizeof(b)));
	ck_assert_uint_eq(strlen(a), SIGNER_SECRET_MAX - 1);
	ck_assert(strncmp(a, "whsec_", 6) == 0);
	ck_assert_int_eq(a[strlen(a) - 1], '=');
	ck_assert_uint_eq(base64_decode(a + 6, strlen(a) - 7, key, sizeof(key)),
			  SIGNER_SECRET_BYTES);
	ck_assert_str_ne(a, b);
	ck_assert(sign1(a, "msg_1_1", 1, "{}", 2, out, sizeof(out)));
	ck_assert(!signer_secret_new(a, SIGNER_SECRET_MAX - 1));
	ck_assert_str_eq(a, "");
}
END_TEST

Suite *make_suite_signer(void)
{
	Suite *s = suite_create("signer");
	TCase *tc = tcase_create("signer");
	tcase_add_test(tc, test_spec_vector);
	tcase_add_test(tc, test_every_input_counts);
	tcase_add_test(tc, test_binary_body);
	tcase_add_test(tc, test_padded_secret);
	tcase_add_test(tc, test_two_secrets);
	tcase_add_test(tc, test_bad_secrets);
	tcase_add_test(tc, test_secret_new);
	suite_add_tcase(s, tc);
	return s;
}
