// A thin, non-variadic face over libvips for Swift (which cannot call C's variadic functions).
#include "souk_image.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <vips/vips.h>

static pthread_once_t started = PTHREAD_ONCE_INIT;
static int start_result = 0;

static void start_vips(void) {
    start_result = VIPS_INIT("souk");
    if (start_result == 0) {
        // No operation cache: every image is seen once, and a cache would only hold memory.
        vips_cache_set_max(0);
        vips_concurrency_set(1);
    }
}

static int fail(char *error, size_t error_size, const char *what) {
    const char *detail = vips_error_buffer();
    snprintf(error, error_size, "%s%s%s", what, detail && *detail ? ": " : "", detail ? detail : "");
    // libvips ends its messages with a newline: drop it.
    size_t length = strlen(error);
    while (length > 0 && (error[length - 1] == '\n' || error[length - 1] == ' ')) error[--length] = 0;
    vips_error_clear();
    return -1;
}

static int ready(char *error, size_t error_size) {
    pthread_once(&started, start_vips);
    if (start_result != 0) return fail(error, error_size, "libvips did not start");
    return 0;
}

int souk_image_probe(const void *data, size_t length, souk_image_info *info, char *error, size_t error_size) {
    memset(info, 0, sizeof *info);
    if (ready(error, error_size) != 0) return -1;
    const char *loader = vips_foreign_find_load_buffer(data, length);
    if (loader == NULL) {
        vips_error_clear();
        snprintf(error, error_size, "not an image libvips can read");
        return -1;
    }
    if (strcmp(loader, "VipsForeignLoadJpegBuffer") == 0) strcpy(info->format, "jpeg");
    else if (strcmp(loader, "VipsForeignLoadPngBuffer") == 0) strcpy(info->format, "png");
    else if (strcmp(loader, "VipsForeignLoadWebpBuffer") == 0) strcpy(info->format, "webp");
    else return 0;  // readable, but not a format the store takes: the caller refuses it
    VipsImage *image = vips_image_new_from_buffer(data, length, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (image == NULL) return fail(error, error_size, "the image header is damaged");
    info->width = vips_image_get_width(image);
    info->height = vips_image_get_height(image);
    g_object_unref(image);
    return 0;
}

static uint32_t read_le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void write_le32(unsigned char *p, uint32_t value) {
    p[0] = value & 0xff; p[1] = value >> 8 & 0xff; p[2] = value >> 16 & 0xff; p[3] = value >> 24 & 0xff;
}

// Drops the EXIF and XMP chunks from a WebP file in place (libvips 8.14 writes a fresh EXIF block,
// orientation and resolution, even when told to strip) and clears their flags in VP8X.
// Returns the new length, or 0 if the file is not the RIFF/WEBP it should be.
static size_t strip_webp_metadata(unsigned char *data, size_t length) {
    if (length < 12 || memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WEBP", 4) != 0) return 0;
    size_t read = 12, write = 12;
    while (read + 8 <= length) {
        uint32_t size = read_le32(data + read + 4);
        size_t total = 8 + (size_t)size + (size & 1);
        if (read + total > length) return 0;
        int drop = memcmp(data + read, "EXIF", 4) == 0 || memcmp(data + read, "XMP ", 4) == 0;
        if (!drop) {
            memmove(data + write, data + read, total);
            if (memcmp(data + write, "VP8X", 4) == 0 && size >= 1) data[write + 8] &= (unsigned char)~(0x08 | 0x04);
            write += total;
        }
        read += total;
    }
    write_le32(data + 4, (uint32_t)(write - 8));
    return write;
}

int souk_image_webp(const void *data, size_t length, int width, int quality, void **out, size_t *out_length,
                    char *error, size_t error_size) {
    *out = NULL;
    *out_length = 0;
    if (ready(error, error_size) != 0) return -1;
    VipsImage *thumbnail = NULL;
    // "fail_on=error": a truncated or corrupt image is refused instead of half-grey.
    if (vips_thumbnail_buffer((void *)data, length, &thumbnail, width, "height", 100000, "size", VIPS_SIZE_DOWN,
                              "option_string", "fail_on=error", NULL) != 0)
        return fail(error, error_size, "the image could not be decoded");
    // A private copy whose metadata we may drop: every field but the colour profile goes (EXIF
    // with GPS and the camera, XMP, IPTC, comments); "strip" alone left EXIF in 8.14's WebP.
    VipsImage *bare = NULL;
    if (vips_copy(thumbnail, &bare, NULL) != 0) {
        g_object_unref(thumbnail);
        return fail(error, error_size, "the image could not be copied");
    }
    g_object_unref(thumbnail);
    gchar **fields = vips_image_get_fields(bare);
    for (int i = 0; fields[i] != NULL; i++) {
        const char *name = fields[i];
        if (strcmp(name, "exif-data") == 0 || strncmp(name, "exif-", 5) == 0 || strcmp(name, "xmp-data") == 0 ||
            strcmp(name, "iptc-data") == 0 || strcmp(name, "orientation") == 0 || strncmp(name, "png-comment", 11) == 0 ||
            strcmp(name, "gif-comment") == 0 || strcmp(name, "jpeg-comment") == 0)
            vips_image_remove(bare, name);
    }
    g_strfreev(fields);
    int status = vips_webpsave_buffer(bare, out, out_length, "Q", quality, "strip", TRUE, NULL);
    g_object_unref(bare);
    if (status != 0) return fail(error, error_size, "the image could not be encoded");
    size_t stripped = strip_webp_metadata(*out, *out_length);
    if (stripped == 0) {
        g_free(*out);
        *out = NULL;
        snprintf(error, error_size, "libvips wrote a WebP file that could not be read back");
        return -1;
    }
    *out_length = stripped;
    return 0;
}

void souk_image_free(void *buffer) { g_free(buffer); }
