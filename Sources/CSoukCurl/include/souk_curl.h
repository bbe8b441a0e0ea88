#ifndef SOUK_CURL_H
#define SOUK_CURL_H

#include <stddef.h>

/// Sends one message over SMTP with libcurl (STARTTLS when the server offers it for smtp://,
/// TLS from the start for smtps://; credentials from the URL's user:password).
///
/// - url: smtp://[user:pass@]host[:port] or smtps://…
/// - from: the envelope sender (MAIL FROM), e.g. "<store@example.com>"
/// - recipient: the envelope recipient (RCPT TO), e.g. "<buyer@example.com>"
/// - message / length: the whole RFC 5322 message, CRLF line endings
/// - timeout_seconds: for the whole exchange
/// - error / error_size: on failure, a readable reason (curl's error buffer or code text)
///
/// Returns 0 when the server accepted the message, curl's error code otherwise.
int souk_smtp_send(const char *url, const char *from, const char *recipient, const char *message, size_t length,
                   long timeout_seconds, int require_tls, char *error, size_t error_size);

/// Resolves `host` with getaddrinfo (A and AAAA) and writes its addresses, numeric and
/// comma-separated, into `out`. Returns 0, or getaddrinfo's error code (then `out` holds its text).
int souk_resolve(const char *host, char *out, size_t out_size);

/// Sends one HTTP(S) POST with libcurl, for seller webhooks:
/// - only http:// and https://, redirects never followed, no proxy from the environment;
/// - every connection goes to `connect_address` (numeric, IPv6 without brackets) on `port`,
///   whatever host the URL names (CURLOPT_CONNECT_TO with an empty host): the address the caller
///   checked is the one reached, so DNS cannot answer differently between check and connect;
/// - `headers`: `header_count` "Name: value" lines;
/// - at most `timeout_seconds` for the whole exchange;
/// - the first `excerpt_size` bytes of the response body go to `excerpt` (`*excerpt_length` set);
///   the rest is read and dropped, up to a bound after which the transfer ends early.
///
/// Returns 0 when a response arrived (its status in `*status`), curl's error code otherwise,
/// with a readable reason in `error`. `*elapsed_ms` is the time taken either way.
int souk_http_post(const char *url, const char *connect_address, long port, const char *const *headers,
                   size_t header_count, const char *body, size_t body_length, long timeout_seconds, long *status,
                   char *excerpt, size_t excerpt_size, size_t *excerpt_length, long *elapsed_ms, char *error,
                   size_t error_size);

#endif
