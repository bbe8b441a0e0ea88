#ifndef SOUK_IMAGE_H
#define SOUK_IMAGE_H

#include <stddef.h>

/// What an image's header says, read without decoding its pixels.
typedef struct {
    int width;
    int height;
    /// "jpeg", "png" or "webp"; empty for anything else.
    char format[8];
} souk_image_info;

/// What either function returns, with the reason in `error`, when libvips is not there to use:
/// not installed, or not the version Souk was built for. It is opened on the first picture.
#define SOUK_IMAGE_UNAVAILABLE (-2)

/// Reads the header of an image held in memory; the format is found from the content, not a name.
/// 0 on success; otherwise -1 (or SOUK_IMAGE_UNAVAILABLE) with a message in `error`.
int souk_image_probe(const void *data, size_t length, souk_image_info *info, char *error, size_t error_size);

/// Decodes, turns upright (EXIF orientation), scales down to at most `width` pixels wide and
/// encodes as WebP at `quality` with every metadata block (EXIF, GPS, XMP, ICC comments) stripped.
/// On success *out is a buffer the caller frees with souk_image_free.
int souk_image_webp(const void *data, size_t length, int width, int quality, void **out, size_t *out_length,
                    char *error, size_t error_size);

void souk_image_free(void *buffer);

#endif
