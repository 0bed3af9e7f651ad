/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the strict reading of request bodies: jsontext (src/lib/jsontext.c), which every JSON
 * body passes before cJSON sees it, and the webhook body and message checks
 * (src/webhook/request.c). The first byte picks the endpoint's module and the body's content
 * kind; the rest is the body, in a buffer of exactly its length so that any read past it is
 * caught. */
#include "fuzz.h"

#include "lib/jsontext.h"
#include "lib/utf8.h"
#include "webhook/request.h"

#include <stdbool.h>

#include <cjson/cJSON.h>

/* jsontext_check is its two halves, and what it accepts cJSON reads: webhook_check_message
 * and the admin API rely on that. */
static void check_jsontext(const char *body, size_t len)
{
	const char *why = jsontext_check(body, len);
	bool utf8 = utf8_valid((const unsigned char *)body, len);
	bool grammar = jsontext_grammar_valid(body, len);

	FUZZ_CHECK((why == NULL) == (utf8 && grammar));
	FUZZ_CHECK(why == NULL || strcmp(why, utf8 ? JSONTEXT_NOT_JSON : JSONTEXT_NOT_UTF8) == 0);
	if (why == NULL) {
		cJSON *root = cJSON_ParseWithLengthOpts(body, len, NULL, false);
		FUZZ_CHECK(root != NULL);
		cJSON_Delete(root);
	}
}

static void check_body(enum module_kind module, enum webhook_body_kind kind, const char *body,
		       size_t len)
{
	const char *code = NULL;
	char msg[256] = "";
	int status = webhook_check_body(module, kind, body, len, &code, msg, sizeof(msg));

	FUZZ_CHECK(status == 0 || status == 400 || status == 415);
	FUZZ_CHECK(status == 0 || (code != NULL && msg[0] != '\0'));
	FUZZ_CHECK((status == 415) == !webhook_body_kind_accepted(module, kind));
	if (status != 0 || !module_is_message(module))
		return;
	/* An accepted message is a JSON object whose "text" is a non-empty string of at most
	 * WEBHOOK_TEXT_MAX code points. */
	FUZZ_CHECK(jsontext_check(body, len) == NULL);
	cJSON *root = cJSON_ParseWithLengthOpts(body, len, NULL, false);
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(root, "text");
	FUZZ_CHECK(cJSON_IsObject(root) && cJSON_IsString(text) && text->valuestring[0]);
	size_t points = 0;
	for (const char *p = text->valuestring; *p; p++)
		points += ((unsigned char)*p & 0xc0) != 0x80;
	FUZZ_CHECK(points <= WEBHOOK_TEXT_MAX);
	cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	enum module_kind module = (enum module_kind)(data[0] & 3);
	enum webhook_body_kind kind = (enum webhook_body_kind)((data[0] >> 2) & 3);
	size_t len = size - 1;
	char *body = malloc(len ? len : 1);

	FUZZ_CHECK(body != NULL);
	if (len)
		memcpy(body, data + 1, len);
	check_jsontext(body, len);
	check_body(module, kind, body, len);
	free(body);
	return 0;
}
