// `dgcctl expand OUT.dgc -o SYNTH.pcap [--chunks A..B]`: regenerate chunks into a pcap,
// byte-identical on every run, each chunk exactly the size recorded at compress time.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "command_registry.h"
#include "output_file.h"
#include "progress.h"
#include "trainer/trace_codec.h"

namespace dgc::tools {
namespace {

int run_expand(const std::string& in, const std::string& out, const std::string& chunks) {
    if (auto st = check_writable(out); !st) {
        std::cerr << "dgcctl expand: " << st.message() << "\n";
        return 1;
    }
    auto f = trainer::read_dgc(input_path(in));
    if (!f) {
        std::cerr << "dgcctl expand: " << f.status().message() << "\n";
        return 1;
    }
    auto range = trainer::parse_chunk_range(chunks, f->chunks.size());
    if (!range) {
        std::cerr << "dgcctl expand: " << in << ": " << range.status().message() << "\n";
        return 1;
    }
    Progress shown("expand");
    auto bytes = trainer::expand_dgc(*f, range->first, range->second, [&](size_t done, size_t of) {
        shown.update(double(done) / of, "chunk " + std::to_string(done) + "/" + std::to_string(of));
    });
    shown.finish();
    if (!bytes) {
        std::cerr << "dgcctl expand: " << in << ": " << bytes.status().message() << "\n";
        return 1;
    }
    if (auto st = write_output(out, *bytes); !st) {
        std::cerr << "dgcctl expand: " << st.message() << "\n";
        return 1;
    }
    // With the capture on standard output, the summary goes to standard error.
    std::fprintf(is_stdio(out) ? stderr : stdout, "%s: chunks %zu..%zu, %zu bytes\n", out.c_str(), range->first,
                 range->second, bytes->size());
    return 0;
}

const RegisterCommand kExpand{{61, [](CLI::App& app, int& exit_code) {
    auto* cmd = app.add_subcommand("expand", "Regenerate a synthetic pcap from a .dgc file (deterministic)");
    auto in = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto chunks = std::make_shared<std::string>();
    cmd->add_option("IN", *in, "the .dgc file ('-': standard input)")
        ->required()
        ->check(CLI::ExistingFile | CLI::IsMember({"-"}));
    cmd->add_option("-o,--output", *out, "synthetic pcap to write ('-': standard output)")->required();
    cmd->add_option("--chunks", *chunks, "chunk range A..B (0-based, inclusive; default all)");
    cmd->callback([=, &exit_code] { exit_code = run_expand(*in, *out, *chunks); });
}}};

}  // namespace
}  // namespace dgc::tools
