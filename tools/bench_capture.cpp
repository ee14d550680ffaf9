#include "bench_capture.h"

#include <pcap/pcap.h>

#include <algorithm>

#include "codec/flows.h"
#include "codec/frame_parse.h"
#include "codec/record.h"

namespace dgc::tools::bench {
namespace {

// splitmix64's finaliser: the keyed hash must not correlate with flow_key_hash's own bits,
// or the same quarter of flows would drop every hour.
uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct Slot {
    uint32_t trace;
    uint32_t frame;
    int64_t offset_ns;
};

// The traces `which` merged into one hour by offset; stable, so ties keep `which` order,
// then file order.
std::vector<Slot> merged_hour(std::span<const Trace> traces, std::span<const uint32_t> which) {
    std::vector<Slot> hour;
    for (uint32_t t : which)
        for (const Offset& o : first_hour(traces[t])) hour.push_back({t, o.frame, o.offset_ns});
    std::stable_sort(hour.begin(), hour.end(), [](const Slot& a, const Slot& b) { return a.offset_ns < b.offset_ns; });
    return hour;
}

void put_u32(std::string& s, uint32_t v) {
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

std::vector<Offset> first_hour(const Trace& t) {
    if (t.frames.empty()) return {};
    int64_t start = t.frames[0].t_ns;
    for (const Frame& f : t.frames) start = std::min(start, f.t_ns);
    std::vector<Offset> out;
    for (uint32_t i = 0; i < t.frames.size(); ++i)
        if (t.frames[i].t_ns - start < kHourNs) out.push_back({i, t.frames[i].t_ns - start});
    std::stable_sort(out.begin(), out.end(), [](const Offset& a, const Offset& b) { return a.offset_ns < b.offset_ns; });
    return out;
}

bool steady_keeps(uint64_t flow, int hour) {
    return mix(flow ^ mix(0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(hour + 1))) % 4 != 0;
}

std::vector<uint32_t> changing_traces(int hour, uint32_t pool_size) {
    std::vector<uint32_t> out;
    if (pool_size == 0) return out;
    for (uint32_t j = 0; j < 3; ++j) {
        const uint32_t i = static_cast<uint32_t>((static_cast<uint64_t>(hour) + 7 * j) % pool_size);
        if (std::find(out.begin(), out.end(), i) == out.end()) out.push_back(i);
    }
    return out;
}

Result<std::vector<Pick>> build_capture(std::span<const Trace> traces, Variant v, int hours) {
    if (traces.empty()) return Status::invalid("bench capture: no traces");
    for (const Trace& t : traces)
        if (t.linktype != traces[0].linktype)
            return Status::invalid(t.name + ": link type " + std::to_string(t.linktype) + ", but " + traces[0].name +
                                   " has " + std::to_string(traces[0].linktype) + "; one capture has one link type");
    std::vector<uint32_t> all(traces.size());
    for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
    const std::vector<Slot> steady = v == Variant::kSteady ? merged_hour(traces, all) : std::vector<Slot>{};
    std::vector<Pick> out;
    for (int h = 0; h < hours; ++h) {
        const int64_t hour_start = kCaptureStartNs + h * kHourNs;
        if (v == Variant::kSteady) {
            for (const Slot& s : steady)
                if (steady_keeps(traces[s.trace].frames[s.frame].flow, h))
                    out.push_back({s.trace, s.frame, hour_start + s.offset_ns});
        } else {
            const auto which = changing_traces(h, static_cast<uint32_t>(traces.size()));
            for (const Slot& s : merged_hour(traces, which)) out.push_back({s.trace, s.frame, hour_start + s.offset_ns});
        }
    }
    return out;
}

const std::vector<std::string>& steady_trace_names() {
    static const std::vector<std::string> names = {
        "dnscap__dns.pcap",      "nDPI__teams.pcap",           "nDPI__reddit.pcap",         "PcapPlusPlus__tls2.pcap",
        "USTC-TFC2016__Tinba.pcap", "libtrace__isp-fragtest.pcap", "PcapPlusPlus__example.pcap"};
    return names;
}

const std::vector<std::string>& changing_trace_names() {
    static const std::vector<std::string> names = {
        "IoT-Dataset__blink-cam-01.pcap",   "IoT-Dataset__blink-cam-02.pcap",
        "IoT-Dataset__lockly-hub-01.pcap",  "IoT-Dataset__schlage-lock-01.pcap",
        "IoT-Dataset__sifely-hub-01.pcap",  "IoT-Dataset__ultraloq-hub-01.pcap",
        "PcapPlusPlus__example.pcap",       "PcapPlusPlus__tls2.pcap",
        "USTC-TFC2016__Tinba.pcap",         "dnscap__dns.pcap",
        "libtrace__isp-fragtest.pcap",      "nDPI__gnutella.pcap",
        "nDPI__netflix.pcap",               "nDPI__reddit.pcap",
        "nDPI__teams.pcap",                 "nDPI__wechat.pcap",
        "packet-captures__amp.dns.RRSIG.fragmented.pcap", "packet-captures__pkt.TCP.synflood.spoofed.pcap",
        "pcaps__Forensic_challenge_4.pcap", "pcaps__evidence04.pcap"};
    return names;
}

Result<Trace> load_trace(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) return Status::io(path + ": " + err);
    Trace t;
    t.name = path;
    t.linktype = normalize_linktype(static_cast<uint32_t>(pcap_datalink(p)));
    struct pcap_pkthdr* h;
    const u_char* d;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1) {
        PacketRecord r;
        parse_frame(t.linktype, d, h->caplen, r);
        Frame f;
        f.t_ns = int64_t(h->ts.tv_sec) * 1'000'000'000 + h->ts.tv_usec;  // tv_usec holds ns at this precision
        f.wirelen = h->len;
        f.flow = flow_key_hash(flow_key_of(r));
        f.bytes.assign(reinterpret_cast<const char*>(d), h->caplen);
        t.frames.push_back(std::move(f));
    }
    std::string why = rc == -1 ? pcap_geterr(p) : "";
    pcap_close(p);
    if (!why.empty()) return Status::corrupt(path + ": " + why);
    return t;
}

void write_pcap(std::span<const Trace> traces, std::span<const Pick> picks, std::ostream& out) {
    std::string s;
    put_u32(s, 0xa1b2c3d4);
    s += std::string("\x02\x00\x04\x00", 4);  // version 2.4
    put_u32(s, 0);                             // thiszone
    put_u32(s, 0);                             // sigfigs
    put_u32(s, 262144);
    put_u32(s, traces.empty() ? 1 : traces[0].linktype);
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
    for (const Pick& p : picks) {
        const Frame& f = traces[p.trace].frames[p.frame];
        s.clear();
        put_u32(s, static_cast<uint32_t>(p.t_ns / 1'000'000'000));
        put_u32(s, static_cast<uint32_t>(p.t_ns % 1'000'000'000 / 1000));
        put_u32(s, static_cast<uint32_t>(f.bytes.size()));
        put_u32(s, f.wirelen);
        s += f.bytes;
        out.write(s.data(), static_cast<std::streamsize>(s.size()));
    }
}

}  // namespace dgc::tools::bench
