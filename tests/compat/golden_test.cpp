// Invariant 6 (archives outlive the software): the golden fixtures of every released format
// version read back byte-identically with this build. Each tests/golden/<version>/ holding a
// SHA256SUMS is one fixture, written by that version's build and never changed afterwards:
//   store/      a dgcfs store whose raw data has expired, so archive/ comes only from models;
//               SHA256SUMS lists every file of its archive/ as "archive/<path>";
//   expand.txt  lines "<output> <file.dgc> [dgcctl expand options]"; SHA256SUMS lists each
//               output as "expand/<output>".
// New format versions add a folder; none is ever removed or regenerated.
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "tests/fs/mounted_volume.h"
#include "tests/shell_quote.h"

namespace dgc::fs::test {
namespace {

struct Fixture {
    fsys::path dir;
    std::map<std::string, std::string> sums;  // "archive/x.pcap" -> hex digest
    struct Expand {
        std::string output, dgc, options;
    };
    std::vector<Expand> expands;
    std::string name() const { return dir.filename().string(); }
};

std::string trim(const std::string& s) {
    size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<Fixture> fixtures() {
    std::vector<Fixture> out;
    const fsys::path root = DGC_GOLDEN_DIR;
    if (!fsys::is_directory(root)) return out;
    for (const auto& e : fsys::directory_iterator(root)) {
        if (!fsys::exists(e.path() / "SHA256SUMS")) continue;
        Fixture f{e.path(), {}, {}};
        std::istringstream sums(slurp(e.path() / "SHA256SUMS"));
        for (std::string line; std::getline(sums, line);) {
            line = trim(line);
            if (line.empty() || line[0] == '#') continue;
            // sha256sum's format: "<64 hex>  <path>" (or " *<path>" in binary mode).
            std::string path = line.size() > 66 ? line.substr(66) : "";
            if (!path.empty() && path[0] == '*') path.erase(0, 1);
            f.sums[path] = line.substr(0, 64);
        }
        std::istringstream ex(fsys::exists(e.path() / "expand.txt") ? slurp(e.path() / "expand.txt") : "");
        for (std::string line; std::getline(ex, line);) {
            line = trim(line);
            if (line.empty() || line[0] == '#') continue;
            std::istringstream ls(line);
            Fixture::Expand x;
            ls >> x.output >> x.dgc;
            std::getline(ls, x.options);
            x.options = trim(x.options);
            f.expands.push_back(x);
        }
        out.push_back(std::move(f));
    }
    std::sort(out.begin(), out.end(), [](const Fixture& a, const Fixture& b) { return a.dir < b.dir; });
    return out;
}

using dgc::testing::shell_quote;

// Hex SHA-256 of a file as sha256sum(1) reads it, or "" when it cannot be read.
std::string sha256_of(const fsys::path& p) {
    FILE* pipe = ::popen(("sha256sum -b -- " + shell_quote(p) + " 2>/dev/null").c_str(), "r");
    if (!pipe) return "";
    char buf[128] = {};
    size_t n = std::fread(buf, 1, sizeof buf - 1, pipe);
    int rc = ::pclose(pipe);
    if (rc != 0 || n < 64) return "";
    return std::string(buf, 64);
}

std::string dgcctl() { return std::string(DGC_BINARY_DIR) + "/tools/dgcctl"; }

// Runs `dgcctl expand` of one fixture entry under `env` ("" or "NAME=value ..."); returns
// the output's digest, or "" with the command's stderr in `err`.
std::string expand_digest(const Fixture& f, const Fixture::Expand& x, const fsys::path& tmp, const std::string& env,
                          std::string* err) {
    const fsys::path out = tmp / x.output, log = tmp / (x.output + ".log");
    fsys::remove(out);
    std::string cmd = "env " + env + " " + shell_quote(dgcctl()) + " expand " + shell_quote(f.dir / x.dgc) + " -o " + shell_quote(out) +
                      (x.options.empty() ? "" : " " + x.options) + " >" + shell_quote(log) + " 2>&1";
    int rc = sh(cmd);
    if (rc != 0) {
        *err = "`" + cmd + "` exited with " + std::to_string(rc) + ":\n" + slurp(log);
        return "";
    }
    std::string d = sha256_of(out);
    if (d.empty()) *err = "cannot read " + out.string();
    return d;
}

fsys::path temp_dir(const std::string& what) {
    fsys::path p = fsys::temp_directory_path() / ("dgcfs-compat-" + what + "-" + std::to_string(::getpid()));
    fsys::remove_all(p);
    fsys::create_directories(p);
    return p;
}

TEST(GoldenCompat, FixturesArePresentAndComplete) {
    auto all = fixtures();
    ASSERT_FALSE(all.empty()) << "no tests/golden/*/SHA256SUMS under " << DGC_GOLDEN_DIR;
    for (const auto& f : all) {
        SCOPED_TRACE(f.name());
        EXPECT_FALSE(f.sums.empty()) << "empty SHA256SUMS";
        std::set<std::string> expand_outputs;
        for (const auto& x : f.expands) {
            EXPECT_TRUE(fsys::exists(f.dir / x.dgc)) << x.dgc << " missing (expand.txt names it)";
            EXPECT_TRUE(f.sums.count("expand/" + x.output)) << "expand/" << x.output << " not in SHA256SUMS";
            expand_outputs.insert("expand/" + x.output);
        }
        bool any_archive = false;
        for (const auto& [path, digest] : f.sums) {
            EXPECT_EQ(digest.find_first_not_of("0123456789abcdef"), std::string::npos) << "bad digest for " << path;
            if (path.rfind("archive/", 0) == 0) any_archive = true;
            else EXPECT_TRUE(expand_outputs.count(path)) << path << " in SHA256SUMS is neither archive/ nor in expand.txt";
        }
        EXPECT_EQ(any_archive, fsys::is_directory(f.dir / "store")) << "store/ and archive/ digests go together";
    }
}

// The fixture store, copied to a temp dir and mounted by this build's dgcfs: archive/ holds
// exactly the files it held when written, each with the same bytes and an exact st_size.
TEST(GoldenCompat, ArchiveOfEveryFixtureStoreReadsBackByteIdentical) {
    auto all = fixtures();
    ASSERT_FALSE(all.empty()) << "no tests/golden/*/SHA256SUMS under " << DGC_GOLDEN_DIR;
    for (const auto& f : all) {
        if (!fsys::is_directory(f.dir / "store")) continue;
        SCOPED_TRACE(f.name());
        MountedVolume v("", "compat-" + f.name());
        fsys::copy(f.dir / "store", v.store(), fsys::copy_options::recursive | fsys::copy_options::overwrite_existing);
        for (const auto& e : fsys::recursive_directory_iterator(v.store()))
            fsys::permissions(e.path(), fsys::perms::owner_write, fsys::perm_options::add);
        v.start();
        if (HasFatalFailure()) return;

        std::map<std::string, std::string> want;
        for (const auto& [path, digest] : f.sums)
            if (path.rfind("archive/", 0) == 0) want[path.substr(8)] = digest;
        auto listed = [&] {
            std::set<std::string> got;
            std::error_code ec;
            for (auto it = fsys::recursive_directory_iterator(v.archive(), ec); !ec && it != fsys::end(it); it.increment(ec))
                if (it->is_regular_file()) got.insert(fsys::relative(it->path(), v.archive()).string());
            return got;
        };
        std::set<std::string> want_names;
        for (const auto& [name, digest] : want) want_names.insert(name);
        wait_until([&] { return listed() == want_names; }, 30);
        EXPECT_EQ(listed(), want_names) << "archive/ file set differs; log:\n" << v.daemon_log();

        for (const auto& [name, digest] : want) {
            const fsys::path p = v.archive() / name;
            if (!fsys::exists(p)) continue;
            const std::string bytes = slurp(p);
            EXPECT_EQ(fsys::file_size(p), bytes.size()) << name << ": st_size differs from the bytes read";
            EXPECT_EQ(sha256_of(p), digest) << "archive/" << name << " (" << bytes.size()
                                            << " bytes) no longer regenerates the bytes " << f.name()
                                            << " wrote; log:\n"
                                            << v.daemon_log();
        }
        // The fixture's raw data expired before it was committed: nothing may come from raw.
        std::error_code ec;
        for (auto it = fsys::recursive_directory_iterator(v.retention(), ec); !ec && it != fsys::end(it); it.increment(ec))
            EXPECT_FALSE(it->is_regular_file()) << "retention/ unexpectedly holds " << it->path();
        v.stop();
    }
}

// Each fixture .dgc expands with this build's dgcctl to the bytes the writing build produced.
TEST(GoldenCompat, EveryFixtureDgcExpandsByteIdentical) {
    auto all = fixtures();
    ASSERT_FALSE(all.empty()) << "no tests/golden/*/SHA256SUMS under " << DGC_GOLDEN_DIR;
    ASSERT_TRUE(fsys::exists(dgcctl())) << dgcctl() << " not built";
    const fsys::path tmp = temp_dir("expand");
    for (const auto& f : all)
        for (const auto& x : f.expands) {
            SCOPED_TRACE(f.name() + ": " + x.dgc + " " + x.options);
            std::string err;
            EXPECT_EQ(expand_digest(f, x, tmp, "", &err), f.sums.at("expand/" + x.output)) << err;
        }
    if (!HasFailure()) fsys::remove_all(tmp);
}

bool cpu_has(const std::string& flag) {
    std::istringstream in(slurp("/proc/cpuinfo"));
    for (std::string line; std::getline(in, line);)
        if (line.rfind("flags", 0) == 0) return (line + " ").find(" " + flag + " ") != std::string::npos;
    return false;
}

// Issue 13 item 2: the same bytes whatever CPU kernels ATen, OpenBLAS and oneDNN dispatch to
// and however many threads they use. libtorch 1.13 does not fall back from a capability the
// CPU lacks (it dies of SIGILL), so ATen's avx2/avx512 run only where the CPU has them; on
// such a CPU the plain run above already uses the best one, so these pin the lower ones too.
// OpenBLAS's Haswell/Zen kernels round differently from its others: model computations pin
// their kernels (trainer/model_api.cpp), and an environment that asks for Haswell must not matter.
TEST(GoldenCompat, ExpandIsIdenticalAcrossCpuKernelsAndThreadCounts) {
    auto all = fixtures();
    ASSERT_FALSE(all.empty()) << "no tests/golden/*/SHA256SUMS under " << DGC_GOLDEN_DIR;
    ASSERT_TRUE(fsys::exists(dgcctl())) << dgcctl() << " not built";
    std::vector<std::string> envs = {"ATEN_CPU_CAPABILITY=default", "OMP_NUM_THREADS=1", "OMP_NUM_THREADS=2",
                                     "OPENBLAS_CORETYPE=Prescott", "OPENBLAS_CORETYPE=Haswell",
                                     "DNNL_MAX_CPU_ISA=SSE41"};
    if (cpu_has("avx2")) envs.push_back("ATEN_CPU_CAPABILITY=avx2");
    if (cpu_has("avx512f")) envs.push_back("ATEN_CPU_CAPABILITY=avx512");
    const fsys::path tmp = temp_dir("variants");
    // Each fixture's whole .dgc under each variant (its --chunks slices regenerate the same
    // chunks, and the plain run above checks them): all four expands of 41 fixtures under 8
    // variants took 23 minutes here, past CI's 15-minute ctest limit.
    for (const auto& env : envs)
        for (const auto& f : all)
            for (const auto& x : f.expands) {
                if (!x.options.empty()) continue;
                SCOPED_TRACE(env + " " + f.name() + ": " + x.dgc + " " + x.options);
                std::string err;
                EXPECT_EQ(expand_digest(f, x, tmp, env, &err), f.sums.at("expand/" + x.output)) << err;
            }
    if (!HasFailure()) fsys::remove_all(tmp);
}

}  // namespace
}  // namespace dgc::fs::test
