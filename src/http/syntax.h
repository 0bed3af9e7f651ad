/* SPDX-License-Identifier: Apache-2.0 */
/* http_syntax: the pieces of HTTP's grammar (RFC 9110 section 5.6) that more than one parser needs:
 * token characters (methods, header names, media types and their parameters) and optional white
 * space. They live in http/ because only HTTP text is read by these rules. */
#ifndef HG_HTTP_SYNTAX_H
#define HG_HTTP_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>

/* tchar: ALPHA, DIGIT and !#$%&'*+-.^_`|~ (never NUL). */
bool http_tchar(unsigned char c);
/* The length of the run of tchars at p (0 when p does not start with one). */
size_t http_token_len(const char *p);
/* p moved past OWS (spaces and horizontal tabs). */
const char *http_skip_ows(const char *p);

#endif
