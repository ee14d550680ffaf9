// A real capture of the shared dev corpus, for the trainer's tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "codec/capture_reader.h"

inline dgc::Capture load_dev_capture(const char* name) {
    auto c = dgc::read_capture(std::string(DGC_SHARED_DATA) + "/pcaps/dev/" + name);
    EXPECT_TRUE(c.ok()) << c.status().message();
    return std::move(*c);
}

// Its first `records` records (ultraloq's week is more than a unit test needs).
inline dgc::Capture load_dev_capture(const char* name, size_t records) {
    dgc::Capture c = load_dev_capture(name);
    c.records.resize(std::min(c.records.size(), records));
    return c;
}
