/* SPDX-License-Identifier: Apache-2.0 */
/* suites: the Check suites, one per module of src/; each folder's main.c runs its own
 * in one SRunner. */
#ifndef HG_TEST_SUITES_H
#define HG_TEST_SUITES_H

#include <check.h>

Suite *make_suite_config(void);
Suite *make_suite_encoding(void);
Suite *make_suite_crypto(void);
Suite *make_suite_token(void);
Suite *make_suite_module(void);
Suite *make_suite_fdio(void);
Suite *make_suite_log(void);
Suite *make_suite_totp(void);
Suite *make_suite_session(void);
Suite *make_suite_webhook_request(void);
Suite *make_suite_webhook_batch(void);
Suite *make_suite_webhook_token_table(void);
Suite *make_suite_webhook_token_limits(void);
Suite *make_suite_ratelimit(void);
Suite *make_suite_metrics(void);
Suite *make_suite_pgbin(void);
Suite *make_suite_hosts(void);
Suite *make_suite_redact(void);
Suite *make_suite_http(void);
Suite *make_suite_http_media(void);
Suite *make_suite_http_parse(void);
Suite *make_suite_jsontext(void);
Suite *make_suite_utf8(void);
Suite *make_suite_text(void);
Suite *make_suite_percent(void);
Suite *make_suite_clock(void);
Suite *make_suite_signer(void);
Suite *make_suite_schedule(void);
Suite *make_suite_netpolicy(void);
Suite *make_suite_delivery_post(void);

#endif
