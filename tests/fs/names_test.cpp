#include "fs/names.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>

namespace dgc::fs {
namespace {

TEST(Names, ComponentAndPathLimits) {
    EXPECT_EQ(name_error(""), 0);
    EXPECT_EQ(name_error("a/b/c.pcap"), 0);
    EXPECT_EQ(name_error(std::string(255, 'x')), 0);
    EXPECT_EQ(name_error(std::string(256, 'x')), -ENAMETOOLONG);
    EXPECT_EQ(name_error("d/" + std::string(256, 'x') + "/f"), -ENAMETOOLONG);
    std::string deep;
    while (deep.size() + 2 <= kMaxPathBytes) deep += "d/";
    deep += "fx";  // 512 bytes
    EXPECT_EQ(name_error(deep.substr(0, kMaxPathBytes)), 0);
    EXPECT_EQ(name_error(deep), -ENAMETOOLONG);
}

TEST(Names, Utf8) {
    EXPECT_EQ(name_error("caf\xC3\xA9/\xE2\x82\xAC.pcap"), 0);
    EXPECT_EQ(name_error("bad\xFF.pcap"), -EILSEQ);
    EXPECT_EQ(name_error("trunc\xC3"), -EILSEQ);
    EXPECT_EQ(name_error("overlong\xC0\xAF"), -EILSEQ);
    EXPECT_EQ(name_error("surrogate\xED\xA0\x80"), -EILSEQ);
    EXPECT_TRUE(valid_utf8("\xF0\x9F\x93\xA6"));
    EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
}

TEST(Names, PrintableEscapesWhatCouldForgeALogLine) {
    EXPECT_EQ(printable("a.pcap"), "a.pcap");
    EXPECT_EQ(printable("two\nlines"), "two\\nlines");
    EXPECT_EQ(printable("tab\there\\"), "tab\\there\\\\");
    EXPECT_EQ(printable("bad\xFF"), "bad\\xFF");
    EXPECT_EQ(printable("esc\x1B[31m"), "esc\\x1B[31m");
    EXPECT_EQ(printable("caf\xC3\xA9"), "caf\xC3\xA9");
}

}  // namespace
}  // namespace dgc::fs
