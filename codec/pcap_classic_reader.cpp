// Classic libpcap files: 24-byte header, then 16-byte record headers (24 in the
// Kuznetzov "modified" variant) each followed by caplen bytes of frame.
#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "codec/byte_order.h"
#include "codec/capture_source.h"
#include "codec/frame_parse.h"
#include "codec/linktype.h"
#include "codec/timestamp.h"

namespace dgc {
namespace {

constexpr uint32_t kMagicUs = 0xa1b2c3d4;
constexpr uint32_t kMagicNs = 0xa1b23c4d;
constexpr uint32_t kMagicModified = 0xa1b2cd34;
constexpr size_t kFileHeader = 24;
// libpcap refuses records above 256 KiB for every link type it models; a larger caplen
// means the record header is garbage. A header snaplen above 256 MiB is garbage too.
constexpr uint32_t kMaxCaplen = 262144;
constexpr uint32_t kMaxSnaplen = 1u << 28;

std::string hex32(uint32_t v) {
    char b[16];
    std::snprintf(b, sizeof b, "0x%08" PRIx32, v);
    return b;
}

class ClassicPcapReader final : public CaptureReader {
public:
    ClassicPcapReader(ByteSource src, CaptureInfo info, size_t record_header)
        : src_(std::move(src)),
          info_(std::move(info)),
          record_header_(record_header),
          max_caplen_(std::max(kMaxCaplen, info_.snaplen)) {}

    const CaptureInfo& info() const override { return info_; }

    Result<bool> next(PacketRecord& out) override {
        const size_t left = src_.size - pos_;
        if (left == 0) return false;
        const uint64_t index = info_.packets;
        if (left < record_header_) {
            return Status::corrupt(src_.name + ": file ends mid-record at byte " + std::to_string(pos_) +
                                   " (record " + std::to_string(index) + "): record header has " +
                                   std::to_string(left) + " of " + std::to_string(record_header_) + " bytes");
        }
        const uint8_t* h = src_.data + pos_;
        const bool be = info_.big_endian;
        const uint32_t sec = load32(h, be);
        const uint32_t frac = load32(h + 4, be);
        const uint32_t caplen = load32(h + 8, be);
        const uint32_t wirelen = load32(h + 12, be);
        if (caplen > max_caplen_) {
            return Status::corrupt(src_.name + ": record " + std::to_string(index) + " at byte " +
                                   std::to_string(pos_) + ": caplen " + std::to_string(caplen) +
                                   " exceeds the maximum " + std::to_string(max_caplen_) +
                                   " (corrupt record header)");
        }
        if (left - record_header_ < caplen) {
            return Status::corrupt(src_.name + ": file ends mid-record at byte " + std::to_string(src_.size) +
                                   " (record " + std::to_string(index) + " at byte " + std::to_string(pos_) +
                                   "): caplen " + std::to_string(caplen) + " but only " +
                                   std::to_string(left - record_header_) + " bytes left");
        }
        const uint8_t* frame = h + record_header_;
        pos_ += record_header_ + caplen;
        account_frame(info_, info_.linktype, pcap_ts_to_ns(sec, frac, info_.nanosecond), frame, caplen, wirelen,
                      out);
        return true;
    }

private:
    ByteSource src_;
    CaptureInfo info_;
    size_t record_header_;
    uint32_t max_caplen_;  // a file whose snaplen says more is believed
    size_t pos_ = kFileHeader;
};

}  // namespace

bool is_classic_pcap_magic(uint32_t m) {
    for (uint32_t k : {kMagicUs, kMagicNs, kMagicModified}) {
        if (m == k || m == __builtin_bswap32(k)) return true;
    }
    return false;
}

Result<std::unique_ptr<CaptureReader>> open_classic_pcap(ByteSource src) {
    const std::string& f = src.name;
    if (src.size < kFileHeader) {
        return Status::corrupt(f + ": pcap file header cut short: " + std::to_string(src.size) +
                               " of 24 bytes (file ends at byte " + std::to_string(src.size) + ")");
    }
    const uint8_t* p = src.data;
    const uint32_t le_magic = load_le32(p);
    CaptureInfo info;
    info.path = f;
    info.format = "pcap";
    info.big_endian = !(le_magic == kMagicUs || le_magic == kMagicNs || le_magic == kMagicModified);
    const uint32_t magic = info.big_endian ? __builtin_bswap32(le_magic) : le_magic;
    info.nanosecond = magic == kMagicNs;
    const bool be = info.big_endian;
    const uint16_t vmaj = load16(p + 4, be);
    const uint16_t vmin = load16(p + 6, be);
    // libpcap reads 2.0-2.4 (older minors differ only in field order it ignores) and 543.0
    // (an old writer's byte-swapped 2.x).
    if (!((vmaj == 2 && vmin <= 4) || (vmaj == 543 && vmin == 0))) {
        return Status::unsupported(f + ": unsupported pcap version " + std::to_string(vmaj) + "." +
                                   std::to_string(vmin) + " at byte 4 (expected 2.4)");
    }
    info.snaplen = load32(p + 16, be);
    if (info.snaplen > kMaxSnaplen) {
        return Status::corrupt(f + ": snaplen " + std::to_string(info.snaplen) + " at byte 16 exceeds " +
                               std::to_string(kMaxSnaplen) + " (corrupt file header)");
    }
    const uint32_t lt_field = load32(p + 20, be);
    // Bits 16-25 are reserved; 26-31 carry the FCS length, which header parsing ignores.
    if ((lt_field & 0x03ff0000u) != 0) {
        return Status::corrupt(f + ": link-type field " + hex32(lt_field) + " at byte 20 has reserved bits set (" +
                               hex32(lt_field & 0x03ff0000u) + ")");
    }
    const uint32_t raw_lt = lt_field & 0xffffu;
    if (!linktype_recognised(raw_lt)) {
        return Status::unsupported(f + ": unknown link type " + std::to_string(raw_lt) + " at byte 20");
    }
    info.linktype = normalize_linktype(raw_lt);
    info.modelable = linktype_modelable(info.linktype);
    info.interfaces.push_back({info.linktype, info.snaplen, info.nanosecond ? 1'000'000'000u : 1'000'000u});
    const size_t record_header = magic == kMagicModified ? 24 : 16;
    return std::unique_ptr<CaptureReader>(
        std::make_unique<ClassicPcapReader>(std::move(src), std::move(info), record_header));
}

}  // namespace dgc
