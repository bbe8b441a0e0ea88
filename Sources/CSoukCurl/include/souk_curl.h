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

#endif
