// `dgcctl info --json` and `dgcctl expire --json` (issue 14): each prints one object that
// parses, carries "schema": 1 and the fields dgcctl(1) documents, and agrees with the
// text output and with what the store really holds.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/fs/mounted_volume.h"

namespace dgc::fs::test {
namespace {

using nlohmann::json;

const std::string kDgcctl = std::string(DGC_BINARY_DIR) + "/tools/dgcctl";

struct Outcome {
    int code = -1;
    std::string out, err;
};

// `dgcctl ARGS`, stdout and stderr apart.
Outcome dgcctl(const std::string& args) {
    const fsys::path base = fsys::temp_directory_path() / ("dgc-cli-json-" + std::to_string(::getpid()));
    const int status = sh(kDgcctl + " " + args + " >'" + base.string() + ".out' 2>'" + base.string() + ".err'");
    Outcome o{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(base.string() + ".out"), slurp(base.string() + ".err")};
    fsys::remove(base.string() + ".out");
    fsys::remove(base.string() + ".err");
    return o;
}

json parse(const Outcome& o) {
    json j = json::parse(o.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON:\n" << o.out << o.err;
    return j;
}

TEST(InfoJson, DescribesEachFileAndNamesTheOnesItCannotRead) {
    const std::string eth = data_path("dev/nDPI__gnutella.pcap"), ng = data_path("dev/nDPI__alexa-app.pcapng"),
                      big = data_path("odd/PcapPlusPlus__microsecs_big_endian.pcap"),
                      hdlc = data_path("odd/PcapPlusPlus__CiscoHDLC.pcap"), missing = "/nonexistent/x.pcap";
    const Outcome o = dgcctl("info --json '" + eth + "' '" + ng + "' '" + big + "' '" + hdlc + "' " + missing);
    EXPECT_EQ(o.code, 1) << "one file could not be read";
    EXPECT_NE(o.err.find("dgcctl info: " + missing + ": cannot open: No such file or directory"), std::string::npos)
        << o.err;
    const json j = parse(o);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["schema"], 1);
    ASSERT_EQ(j["files"].size(), 5u);

    const json& e = j["files"][0];
    EXPECT_EQ(e["path"], eth);
    EXPECT_EQ(e["format"], "pcap");
    EXPECT_EQ(e["big_endian"], false);
    ASSERT_EQ(e["interfaces"].size(), 1u);
    EXPECT_EQ(e["interfaces"][0]["linktype"], 1);
    EXPECT_EQ(e["interfaces"][0]["linktype_name"], "ethernet");
    EXPECT_EQ(e["interfaces"][0]["ticks_per_sec"], 1000000);
    EXPECT_EQ(e["packets"]["total"].get<long>(), pcap_count(eth)) << "libpcap counts the same frames";
    EXPECT_EQ(e["packets"]["ip"].get<uint64_t>() + e["packets"]["nonip"].get<uint64_t>(),
              e["packets"]["total"].get<uint64_t>());
    EXPECT_TRUE(e["packets"]["truncated"].is_number_unsigned());
    EXPECT_LT(e["first_ns"].get<int64_t>(), e["last_ns"].get<int64_t>());
    EXPECT_EQ(e["modelable"], true);
    EXPECT_TRUE(e["not_modelable_reason"].is_null());
    EXPECT_TRUE(e["warning"].is_null());

    EXPECT_EQ(j["files"][1]["format"], "pcapng");
    EXPECT_TRUE(j["files"][1]["big_endian"].is_null()) << "byte order is per section in pcapng";
    EXPECT_EQ(j["files"][2]["big_endian"], true);
    EXPECT_EQ(j["files"][3]["modelable"], false);
    EXPECT_NE(j["files"][3]["not_modelable_reason"].get<std::string>().find("link type not parsed down to IP"),
              std::string::npos)
        << j["files"][3];
    EXPECT_EQ(j["files"][4]["path"], missing);
    EXPECT_NE(j["files"][4]["error"].get<std::string>().find("No such file or directory"), std::string::npos);

    // The text form says the same; '-' reads standard input.
    const Outcome text = dgcctl("info '" + eth + "'");
    EXPECT_EQ(text.code, 0);
    EXPECT_NE(text.out.find("packets:     " + e["packets"]["total"].dump() + " "), std::string::npos) << text.out;
    const Outcome piped = dgcctl("info --json - <'" + eth + "'");
    EXPECT_EQ(piped.code, 0) << piped.err;
    EXPECT_EQ(parse(piped)["files"][0]["packets"], e["packets"]);
}

TEST(ExpireJson, ListsEachDecisionWithItsReasonAndTheBytesItWouldFree) {
    MountedVolume v("", "expire-json");
    v.start();
    v.cp_in("dev/nDPI__gnutella.pcap", "day1.pcap");
    ASSERT_EQ(sh("cp /etc/os-release '" + (v.retention() / "notes.txt").string() + "'"), 0);
    ASSERT_TRUE(v.wait_archived("day1.pcap")) << v.daemon_log();

    // The daemon's own policy keeps raw forever: nothing to do.
    Outcome o = dgcctl("expire --dry-run --json '" + v.mnt().string() + "'");
    ASSERT_EQ(o.code, 0) << o.err;
    json j = parse(o);
    EXPECT_EQ(j["schema"], 1);
    EXPECT_EQ(j["store"], v.store().string());
    EXPECT_EQ(j["policy_file"], v.policy_path().string()) << "the running daemon's policy by default";
    EXPECT_TRUE(j["now_ns"].is_number_integer());
    EXPECT_TRUE(j["decisions"].is_array());
    EXPECT_TRUE(j["decisions"].empty()) << j;
    EXPECT_EQ(j["would_free_bytes"], 0);

    // A stricter policy: the modelled trace may go, the unmodelable one is kept, and the
    // quota it still exceeds is a decision about the volume.
    const fsys::path strict = v.store().parent_path() / "strict.toml";
    std::ofstream(strict) << "[defaults]\nraw_ttl = 0\n[volume]\nraw_quota = 1\n";
    o = dgcctl("expire --dry-run --json --policy '" + strict.string() + "' '" + v.store().string() + "'");
    ASSERT_EQ(o.code, 0) << o.err;
    j = parse(o);
    EXPECT_EQ(j["policy_file"], strict.string());
    ASSERT_EQ(j["decisions"].size(), 3u) << j.dump(2);
    const json& expire = j["decisions"][0];
    const json& keep = j["decisions"][1];
    const json& volume = j["decisions"][2];
    EXPECT_EQ(expire["path"], "day1.pcap");
    EXPECT_EQ(expire["action"], "expire-raw");
    EXPECT_EQ(expire["reason"], "raw TTL 0 s elapsed");
    EXPECT_TRUE(expire["id"].is_number_unsigned());
    EXPECT_GT(expire["raw_bytes"].get<uint64_t>(), 0u);
    EXPECT_EQ(keep["path"], "notes.txt");
    EXPECT_EQ(keep["action"], "keep");
    EXPECT_NE(keep["reason"].get<std::string>().find("raw TTL elapsed but kept: unmodelable"), std::string::npos)
        << keep;
    EXPECT_GT(keep["raw_bytes"].get<uint64_t>(), 0u);
    EXPECT_TRUE(volume["path"].is_null());
    EXPECT_TRUE(volume["id"].is_null());
    EXPECT_EQ(volume["action"], "keep");
    EXPECT_NE(volume["reason"].get<std::string>().find("raw quota still exceeded"), std::string::npos) << volume;
    EXPECT_EQ(j["would_free_bytes"], expire["raw_bytes"]);

    // The text form lists the same decisions; a dry run changed nothing.
    o = dgcctl("expire --dry-run --policy '" + strict.string() + "' '" + v.store().string() + "'");
    EXPECT_EQ(o.code, 0) << o.err;
    EXPECT_NE(o.out.find("expire-raw\tday1.pcap\traw TTL 0 s elapsed\n"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("(3 decisions)"), std::string::npos) << o.out;
    EXPECT_TRUE(fsys::exists(v.retention() / "day1.pcap"));

    o = dgcctl("expire --json '" + v.mnt().string() + "'");
    EXPECT_EQ(o.code, 2) << "expiry itself belongs to the daemon";
    EXPECT_NE(o.err.find("only --dry-run is supported"), std::string::npos) << o.err;
    v.stop();
}

}  // namespace
}  // namespace dgc::fs::test
