// Reads the pixels of a PNG as Chromium's --screenshot writes it (8-bit RGB or RGBA, not
// interlaced) with zlib, for the report's screenshot test. No image library needed.
#pragma once

#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace dgc::test {

struct Image {
    uint32_t width = 0, height = 0;
    std::vector<std::array<uint8_t, 3>> rgb;  // row-major
    std::string error;                        // non-empty when the file could not be read
};

inline uint32_t be32(const std::string& s, size_t at) {
    return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
           uint32_t(uint8_t(s[at + 3]));
}

inline Image read_png(const std::string& path) {
    Image img;
    std::ifstream f(path, std::ios::binary);
    const std::string d((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (d.size() < 8 || d.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return img.error = path + ": not a PNG", img;
    std::string idat;
    int channels = 0;
    for (size_t p = 8; p + 12 <= d.size();) {
        const uint32_t n = be32(d, p);
        const std::string type = d.substr(p + 4, 4);
        if (p + 12 + n > d.size()) return img.error = path + ": truncated chunk", img;
        if (type == "IHDR") {
            img.width = be32(d, p + 8);
            img.height = be32(d, p + 12);
            const int depth = uint8_t(d[p + 16]), color = uint8_t(d[p + 17]), interlace = uint8_t(d[p + 20]);
            if (depth != 8 || (color != 2 && color != 6) || interlace != 0)
                return img.error = path + ": only 8-bit RGB/RGBA, not interlaced", img;
            channels = color == 2 ? 3 : 4;
        } else if (type == "IDAT") {
            idat += d.substr(p + 8, n);
        }
        p += 12 + n;
    }
    if (!channels) return img.error = path + ": no IHDR", img;
    const size_t stride = size_t(img.width) * channels;
    std::vector<uint8_t> raw((stride + 1) * img.height);
    uLongf raw_len = raw.size();
    if (uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK ||
        raw_len != raw.size())
        return img.error = path + ": bad image data", img;
    std::vector<uint8_t> prev(stride, 0), cur(stride);
    img.rgb.reserve(size_t(img.width) * img.height);
    for (uint32_t y = 0; y < img.height; ++y) {
        const uint8_t filter = raw[y * (stride + 1)];
        const uint8_t* in = &raw[y * (stride + 1) + 1];
        for (size_t x = 0; x < stride; ++x) {
            const int a = x >= size_t(channels) ? cur[x - channels] : 0, b = prev[x],
                      c = x >= size_t(channels) ? prev[x - channels] : 0;
            int pred = 0;
            switch (filter) {
                case 1: pred = a; break;
                case 2: pred = b; break;
                case 3: pred = (a + b) / 2; break;
                case 4: {
                    const int pa = std::abs(b - c), pb = std::abs(a - c), pc = std::abs(a + b - 2 * c);
                    pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                    break;
                }
                default: break;
            }
            cur[x] = uint8_t(in[x] + pred);
        }
        for (uint32_t x = 0; x < img.width; ++x)
            img.rgb.push_back({cur[x * channels], cur[x * channels + 1], cur[x * channels + 2]});
        prev.swap(cur);
    }
    return img;
}

}  // namespace dgc::test
