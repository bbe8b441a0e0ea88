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
