#include "souk_curl.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct upload {
    const char *data;
    size_t length;
    size_t offset;
};

static size_t read_message(char *buffer, size_t size, size_t count, void *userdata) {
    struct upload *upload = (struct upload *)userdata;
    size_t room = size * count;
    size_t left = upload->length - upload->offset;
    size_t n = left < room ? left : room;
    memcpy(buffer, upload->data + upload->offset, n);
    upload->offset += n;
    return n;
}

static pthread_once_t global_init = PTHREAD_ONCE_INIT;
static void init_curl(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

int souk_smtp_send(const char *url, const char *from, const char *recipient, const char *message, size_t length,
                   long timeout_seconds, int require_tls, char *error, size_t error_size) {
    pthread_once(&global_init, init_curl);
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(error, error_size, "libcurl could not start");
        return CURLE_FAILED_INIT;
    }
    char curl_error[CURL_ERROR_SIZE] = {0};
    struct upload upload = {message, length, 0};
    struct curl_slist *recipients = curl_slist_append(NULL, recipient);
    if (!recipients) {
        snprintf(error, error_size, "out of memory");
        curl_easy_cleanup(curl);
        return CURLE_OUT_OF_MEMORY;
    }

    curl_easy_setopt(curl, CURLOPT_URL, url);
    // Only SMTP: with CURLOPT_UPLOAD, a file:// or http:// URL would write the message elsewhere.
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_message);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)length);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_seconds < 10 ? timeout_seconds : 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    // smtp:// upgrades with STARTTLS when offered (or must, when require_tls); smtps:// is TLS throughout.
    curl_easy_setopt(curl, CURLOPT_USE_SSL, require_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);

    CURLcode result = curl_easy_perform(curl);
    if (result != CURLE_OK) {
        long response = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response);
        if (response > 0) {
            snprintf(error, error_size, "%s (SMTP %ld)", curl_error[0] ? curl_error : curl_easy_strerror(result), response);
        } else {
            snprintf(error, error_size, "%s", curl_error[0] ? curl_error : curl_easy_strerror(result));
        }
    }
    curl_slist_free_all(recipients);
    curl_easy_cleanup(curl);
    return (int)result;
}

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>

int souk_resolve(const char *host, char *out, size_t out_size) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo *results = NULL;
    int code = getaddrinfo(host, NULL, &hints, &results);
    if (out_size > 0) out[0] = '\0';
    if (code != 0) {
        snprintf(out, out_size, "%s", gai_strerror(code));
        return code;
    }
    size_t used = 0;
    for (struct addrinfo *entry = results; entry; entry = entry->ai_next) {
        char text[INET6_ADDRSTRLEN] = {0};
        const void *address = NULL;
        if (entry->ai_family == AF_INET) {
            address = &((struct sockaddr_in *)entry->ai_addr)->sin_addr;
        } else if (entry->ai_family == AF_INET6) {
            address = &((struct sockaddr_in6 *)entry->ai_addr)->sin6_addr;
        } else {
            continue;
        }
        if (!inet_ntop(entry->ai_family, address, text, sizeof text)) continue;
        int written = snprintf(out + used, out_size - used, "%s%s", used ? "," : "", text);
        if (written < 0 || (size_t)written >= out_size - used) break;  // the addresses that fit
        used += (size_t)written;
    }
    freeaddrinfo(results);
    return 0;
}

struct excerpt_sink {
    char *data;
    size_t capacity;
    size_t length;
    size_t seen;
    int stopped;
};

/// Bytes of a response read (and dropped) past the excerpt before the transfer is ended: enough
/// for an ordinary answer to finish cleanly, not a stream a receiver could keep us reading.
#define SOUK_HTTP_READ_BOUND (256 * 1024)

static size_t keep_excerpt(char *buffer, size_t size, size_t count, void *userdata) {
    struct excerpt_sink *sink = (struct excerpt_sink *)userdata;
    size_t n = size * count;
    size_t room = sink->capacity - sink->length;
    size_t take = n < room ? n : room;
    memcpy(sink->data + sink->length, buffer, take);
    sink->length += take;
    sink->seen += n;
    if (sink->seen > SOUK_HTTP_READ_BOUND) {
        sink->stopped = 1;
        return 0;  // ends the transfer with CURLE_WRITE_ERROR; the status is already known
    }
    return n;
}

int souk_http_post(const char *url, const char *connect_address, long port, const char *const *headers,
                   size_t header_count, const char *body, size_t body_length, long timeout_seconds, long *status,
                   char *excerpt, size_t excerpt_size, size_t *excerpt_length, long *elapsed_ms, char *error,
                   size_t error_size) {
    pthread_once(&global_init, init_curl);
    *status = 0;
    *excerpt_length = 0;
    *elapsed_ms = 0;
    if (error_size > 0) error[0] = '\0';
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(error, error_size, "libcurl could not start");
        return CURLE_FAILED_INIT;
    }
    char curl_error[CURL_ERROR_SIZE] = {0};
    struct curl_slist *header_list = NULL;
    for (size_t i = 0; i < header_count; i++) header_list = curl_slist_append(header_list, headers[i]);
    // "::ADDRESS:PORT": any host and port of the URL connect to ADDRESS:PORT.
    char connect_to[INET6_ADDRSTRLEN + 32];
    if (strchr(connect_address, ':')) {
        snprintf(connect_to, sizeof connect_to, "::[%s]:%ld", connect_address, port);
    } else {
        snprintf(connect_to, sizeof connect_to, "::%s:%ld", connect_address, port);
    }
    struct curl_slist *connect_list = curl_slist_append(NULL, connect_to);
    struct excerpt_sink sink = {excerpt, excerpt_size, 0, 0, 0};

    curl_easy_setopt(curl, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    // An http_proxy in the environment would make the proxy, not us, choose the address.
    curl_easy_setopt(curl, CURLOPT_PROXY, "");
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_list);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, keep_excerpt);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_seconds < 5 ? timeout_seconds : 5L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);

    CURLcode result = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    curl_off_t total_us = 0;
    if (curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK) *elapsed_ms = (long)(total_us / 1000);
    *excerpt_length = sink.length;
    if (result == CURLE_WRITE_ERROR && sink.stopped && *status > 0) result = CURLE_OK;
    if (result != CURLE_OK) {
        snprintf(error, error_size, "%s", curl_error[0] ? curl_error : curl_easy_strerror(result));
    }
    curl_slist_free_all(header_list);
    curl_slist_free_all(connect_list);
    curl_easy_cleanup(curl);
    return (int)result;
}
