// The report as a browser shows it: Debian's headless Chromium renders two reports to PNG,
// one whose verdict passes (a trace against itself) and one that fails (against another
// trace), and the verdict banner's colour must fill the top of the page, the other
// verdict's colour must not be there. Skipped, loudly, where chromium is not installed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "codec/capture_reader.h"
#include "codec/fidelity/report_html.h"
#include "png_pixels.h"

namespace dgc::fidelity {
namespace {

constexpr std::array<uint8_t, 3> kPass = {0x1a, 0x7f, 0x37};  // report_html.cpp's kPassColor
constexpr std::array<uint8_t, 3> kFail = {0xb4, 0x23, 0x18};  // kFailColor
constexpr uint32_t kWidth = 1400, kHeight = 900, kTopRows = 320;

std::string find_chromium() {
    const char* path = std::getenv("PATH");
    std::istringstream dirs(path ? path : "/usr/bin");
    for (std::string dir; std::getline(dirs, dir, ':');)
        for (const char* name : {"chromium", "chromium-browser"}) {
            const std::string p = dir + "/" + name;
            if (::access(p.c_str(), X_OK) == 0) return p;
        }
    return "";
}

std::vector<PacketRecord> load(const std::string& name) {
    auto cap = read_capture(std::string(DGC_SHARED_DATA) + "/pcaps/dev/" + name);
    EXPECT_TRUE(cap.ok()) << cap.status().message();
    return cap.ok() ? cap->records : std::vector<PacketRecord>{};
}

// Renders real vs synth to HTML and the HTML to a PNG; returns the PNG's path.
std::string screenshot(const std::string& chromium, const std::vector<PacketRecord>& real,
                       const std::vector<PacketRecord>& synth, const std::string& tag) {
    const TraceProfile rp = profile_trace(real), sp = profile_trace(synth);
    const FidelityReport score = evaluate(rp, sp), fl = floor(real);
    const SemanticSet sem = semantics(real, synth), sem_floor = semantics_floor(real);
    HtmlReportInput in;
    in.title = "screenshot " + tag;
    in.real_label = "real";
    in.synth_label = "synthetic";
    in.real = &rp;
    in.synth = &sp;
    in.score = &score;
    in.floor = &fl;
    in.semantics = &sem;
    in.semantics_floor = &sem_floor;
    in.meta.tool_version = "dgcctl test";
    in.meta.generated_utc = "2026-12-01T00:00:00Z";
    const std::string dir = ::testing::TempDir() + "/dgc_report_shot_" + std::to_string(::getpid()) + "_" + tag;
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/report.html") << render_html_report(in);
    const std::string png = dir + "/report.png";
    // --no-sandbox: the tests run as root on CI; a profile of its own so parallel runs do not share one.
    const std::string cmd = "timeout 180 '" + chromium + "' --headless --no-sandbox --disable-gpu --hide-scrollbars " +
                            "--user-data-dir='" + dir + "/profile' --window-size=" + std::to_string(kWidth) + "," +
                            std::to_string(kHeight) + " --screenshot='" + png + "' 'file://" + dir +
                            "/report.html' > '" + dir + "/chromium.log' 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd << " (see " << dir << "/chromium.log)";
    return png;
}

size_t pixels_of(const test::Image& img, const std::array<uint8_t, 3>& color, uint32_t rows) {
    size_t n = 0;
    for (size_t i = 0; i < size_t(std::min(rows, img.height)) * img.width; ++i) n += img.rgb[i] == color ? 1 : 0;
    return n;
}

TEST(ReportScreenshot, VerdictBannerIsVisible) {
    const std::string chromium = find_chromium();
    if (chromium.empty()) {
        std::cerr << "\n*** skipped: chromium not installed (apt-get install chromium to run this test) ***\n\n";
        GTEST_SKIP() << "skipped: chromium not installed";
    }
    const std::vector<PacketRecord> tinba = load("USTC-TFC2016__Tinba.pcap"), gnutella = load("nDPI__gnutella.pcap");
    ASSERT_FALSE(tinba.empty());
    ASSERT_FALSE(gnutella.empty());
    struct Case {
        std::string tag;
        const std::vector<PacketRecord>& synth;
        std::array<uint8_t, 3> shown, absent;
    };
    for (const Case& c : {Case{"pass", tinba, kPass, kFail}, Case{"fail", gnutella, kFail, kPass}}) {
        const std::string png = screenshot(chromium, tinba, c.synth, c.tag);
        const test::Image img = test::read_png(png);
        ASSERT_EQ(img.error, "") << c.tag;
        ASSERT_EQ(img.width, kWidth);
        // The banner spans the page's width and is ~100 px high: far more than any text.
        EXPECT_GT(pixels_of(img, c.shown, kTopRows), 50'000u) << c.tag;
        EXPECT_LT(pixels_of(img, c.absent, kTopRows), 100u) << c.tag;
        // Kept for a look when something failed; the browser profile alone is megabytes.
        if (!HasFailure()) std::filesystem::remove_all(std::filesystem::path(png).parent_path());
    }
}

}  // namespace
}  // namespace dgc::fidelity
