// A thin, non-variadic face over libvips for Swift (which cannot call C's variadic functions).
//
// libvips is opened with dlopen on the first picture, not linked: it brings about a hundred
// libraries (glib, cairo, librsvg, OpenEXR, HDF5…) that would otherwise be mapped into every
// store, about 10 MB resident, whether or not it ever receives an image; and the binary still
// starts on a machine without libvips, where only picture uploads fail, with the reason in the log.
// The header still gives every function its type: each pointer below is `__typeof__` the real one.
#include "souk_image.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <vips/vips.h>

#define SOUK_VIPS_LIBRARY "libvips.so.42"

static struct {
    __typeof__(vips_version) *version;
    __typeof__(vips_init) *init;
    __typeof__(vips_cache_set_max) *cache_set_max;
    __typeof__(vips_concurrency_set) *concurrency_set;
    __typeof__(vips_error_buffer) *error_buffer;
    __typeof__(vips_error_clear) *error_clear;
    __typeof__(vips_foreign_find_load_buffer) *foreign_find_load_buffer;
    __typeof__(vips_image_new_from_buffer) *image_new_from_buffer;
    __typeof__(vips_image_get_width) *image_get_width;
    __typeof__(vips_image_get_height) *image_get_height;
    __typeof__(vips_thumbnail_buffer) *thumbnail_buffer;
    __typeof__(vips_copy) *copy;
    __typeof__(vips_image_get_fields) *image_get_fields;
    __typeof__(vips_image_remove) *image_remove;
    __typeof__(vips_webpsave_buffer) *webpsave_buffer;
    __typeof__(g_object_unref) *g_object_unref;
    __typeof__(g_strfreev) *g_strfreev;
    __typeof__(g_free) *g_free;
} vips;

static pthread_once_t started = PTHREAD_ONCE_INIT;
static char start_error[512];

// dlsym on the library's handle also searches its dependencies, where the g_* functions live.
#define SOUK_FIND(handle, field, symbol)                                                       \
    if ((vips.field = (__typeof__(vips.field))dlsym(handle, #symbol)) == NULL) {              \
        snprintf(start_error, sizeof start_error, "%s has no %s", SOUK_VIPS_LIBRARY, #symbol); \
        return;                                                                                \
    }

static void start_vips(void) {
    void *handle = dlopen(SOUK_VIPS_LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        snprintf(start_error, sizeof start_error, "%s could not be loaded (%s); install libvips (apt: libvips42) and restart",
                 SOUK_VIPS_LIBRARY, reason ? reason : "no reason given");
        return;
    }
    SOUK_FIND(handle, version, vips_version)
    SOUK_FIND(handle, init, vips_init)
    SOUK_FIND(handle, cache_set_max, vips_cache_set_max)
    SOUK_FIND(handle, concurrency_set, vips_concurrency_set)
    SOUK_FIND(handle, error_buffer, vips_error_buffer)
    SOUK_FIND(handle, error_clear, vips_error_clear)
    SOUK_FIND(handle, foreign_find_load_buffer, vips_foreign_find_load_buffer)
    SOUK_FIND(handle, image_new_from_buffer, vips_image_new_from_buffer)
    SOUK_FIND(handle, image_get_width, vips_image_get_width)
    SOUK_FIND(handle, image_get_height, vips_image_get_height)
    SOUK_FIND(handle, thumbnail_buffer, vips_thumbnail_buffer)
    SOUK_FIND(handle, copy, vips_copy)
    SOUK_FIND(handle, image_get_fields, vips_image_get_fields)
    SOUK_FIND(handle, image_remove, vips_image_remove)
    SOUK_FIND(handle, webpsave_buffer, vips_webpsave_buffer)
    SOUK_FIND(handle, g_object_unref, g_object_unref)
    SOUK_FIND(handle, g_strfreev, g_strfreev)
    SOUK_FIND(handle, g_free, g_free)
    // What VIPS_INIT checks: the library's ABI is the one these headers describe.
    int abi = vips.version(3) - vips.version(5);
    if (abi != VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE) {
        snprintf(start_error, sizeof start_error, "%s has ABI version %d; Souk was built for %d", SOUK_VIPS_LIBRARY, abi,
                 VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE);
        return;
    }
    if (vips.init("souk") != 0) {
        snprintf(start_error, sizeof start_error, "libvips did not start: %s", vips.error_buffer());
        return;
    }
    // No operation cache: every image is seen once, and a cache would only hold memory.
    vips.cache_set_max(0);
    vips.concurrency_set(1);
}

static int fail(char *error, size_t error_size, const char *what) {
    const char *detail = vips.error_buffer();
    snprintf(error, error_size, "%s%s%s", what, detail && *detail ? ": " : "", detail ? detail : "");
    // libvips ends its messages with a newline: drop it.
    size_t length = strlen(error);
    while (length > 0 && (error[length - 1] == '\n' || error[length - 1] == ' ')) error[--length] = 0;
    vips.error_clear();
    return -1;
}

static int ready(char *error, size_t error_size) {
    pthread_once(&started, start_vips);
    if (start_error[0] == 0) return 0;
    snprintf(error, error_size, "%s", start_error);
    return SOUK_IMAGE_UNAVAILABLE;
}

int souk_image_probe(const void *data, size_t length, souk_image_info *info, char *error, size_t error_size) {
    memset(info, 0, sizeof *info);
    int readiness = ready(error, error_size);
    if (readiness != 0) return readiness;
    const char *loader = vips.foreign_find_load_buffer(data, length);
    if (loader == NULL) {
        vips.error_clear();
        snprintf(error, error_size, "not an image libvips can read");
        return -1;
    }
    if (strcmp(loader, "VipsForeignLoadJpegBuffer") == 0) strcpy(info->format, "jpeg");
    else if (strcmp(loader, "VipsForeignLoadPngBuffer") == 0) strcpy(info->format, "png");
    else if (strcmp(loader, "VipsForeignLoadWebpBuffer") == 0) strcpy(info->format, "webp");
    else return 0;  // readable, but not a format the store takes: the caller refuses it
    VipsImage *image = vips.image_new_from_buffer(data, length, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (image == NULL) return fail(error, error_size, "the image header is damaged");
    info->width = vips.image_get_width(image);
    info->height = vips.image_get_height(image);
    vips.g_object_unref(image);
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
    int readiness = ready(error, error_size);
    if (readiness != 0) return readiness;
    VipsImage *thumbnail = NULL;
    // "fail_on=error": a truncated or corrupt image is refused instead of half-grey.
    if (vips.thumbnail_buffer((void *)data, length, &thumbnail, width, "height", 100000, "size", VIPS_SIZE_DOWN,
                              "option_string", "fail_on=error", NULL) != 0)
        return fail(error, error_size, "the image could not be decoded");
    // A private copy whose metadata we may drop: every field but the colour profile goes (EXIF
    // with GPS and the camera, XMP, IPTC, comments); "strip" alone left EXIF in 8.14's WebP.
    VipsImage *bare = NULL;
    if (vips.copy(thumbnail, &bare, NULL) != 0) {
        vips.g_object_unref(thumbnail);
        return fail(error, error_size, "the image could not be copied");
    }
    vips.g_object_unref(thumbnail);
    gchar **fields = vips.image_get_fields(bare);
    for (int i = 0; fields[i] != NULL; i++) {
        const char *name = fields[i];
        if (strcmp(name, "exif-data") == 0 || strncmp(name, "exif-", 5) == 0 || strcmp(name, "xmp-data") == 0 ||
            strcmp(name, "iptc-data") == 0 || strcmp(name, "orientation") == 0 || strncmp(name, "png-comment", 11) == 0 ||
            strcmp(name, "gif-comment") == 0 || strcmp(name, "jpeg-comment") == 0)
            vips.image_remove(bare, name);
    }
    vips.g_strfreev(fields);
    int status = vips.webpsave_buffer(bare, out, out_length, "Q", quality, "strip", TRUE, NULL);
    vips.g_object_unref(bare);
    if (status != 0) return fail(error, error_size, "the image could not be encoded");
    size_t stripped = strip_webp_metadata(*out, *out_length);
    if (stripped == 0) {
        vips.g_free(*out);
        *out = NULL;
        snprintf(error, error_size, "libvips wrote a WebP file that could not be read back");
        return -1;
    }
    *out_length = stripped;
    return 0;
}

void souk_image_free(void *buffer) { vips.g_free(buffer); }
