// Classic libpcap files: 24-byte header, then 16-byte record headers (24 in the
// Kuznetzov "modified" variant) each followed by caplen bytes of frame.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <optional>

#include "codec/byte_order.h"
#include "codec/capture_source.h"
#include "codec/frame_parse.h"
#include "codec/linktype.h"
#include "codec/pcap_resync.h"
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
        : src_(std::move(src)), info_(std::move(info)) {
        layout_.big_endian = info_.big_endian;
        layout_.nanosecond = info_.nanosecond;
        layout_.header_bytes = record_header;
        layout_.snaplen = info_.snaplen;
        layout_.max_caplen = std::max(kMaxCaplen, info_.snaplen);  // a file whose snaplen says more is believed
    }

    const CaptureInfo& info() const override { return info_; }

    Result<bool> next(PacketRecord& out) override {
        src_.release_before(pos_);
        while (pos_ < src_.size) {
            const Damage d = damage_at(pos_);
            if (d == Damage::kNone) {
                const PcapRecordHeader h = load_record_header(src_.data + pos_, layout_);
                const uint8_t* frame = src_.data + pos_ + layout_.header_bytes;
                pos_ += layout_.header_bytes + h.caplen;
                prev_ns_ = record_time_ns(h, layout_);
                account_frame(info_, info_.linktype, *prev_ns_, frame, h.caplen, h.wirelen, out);
                return true;
            }
            // Past damage, records resume where headers chain again (pcapfix's rule); the
            // bytes between are skipped and reported, never dropped silently.
            const std::string damage = describe(d, pos_);
            const size_t from = pos_;
            const auto resume = find_resync(src_.data, src_.size, pos_ + 1, layout_);
            pos_ = resume.value_or(src_.size);
            info_.skipped.push_back({from, pos_});
            if (!resume) return Status::corrupt(damage);
            note_resync(damage, from);
        }
        return false;
    }

private:
    enum class Damage { kNone, kHeaderCut, kUnreadable, kPastEnd, kNoChain };

    // Whether the record at `pos` is read, without building a string (it runs per record).
    // A header that is merely odd (a clock jump, caplen above the snaplen) is read when the
    // records after it chain, so every file read whole before resynchronisation existed
    // reads the same now, except for all-zero record headers, taken for a zero-filled block.
    Damage damage_at(size_t pos) const {
        const size_t left = src_.size - pos;
        if (left < layout_.header_bytes) return Damage::kHeaderCut;
        const PcapRecordHeader h = load_record_header(src_.data + pos, layout_);
        if (unreadable_header(h, layout_)) return Damage::kUnreadable;
        if (left - layout_.header_bytes < h.caplen) return Damage::kPastEnd;
        if (header_fault(h, layout_, prev_ns_) == HeaderFault::kNone ||
            chain_holds(chain_at(src_.data, src_.size, pos, layout_, kResyncChain, false), kResyncChain))
            return Damage::kNone;
        return Damage::kNoChain;
    }

    // The message for damage_at(pos) != kNone: file, record, byte offset and reason.
    std::string describe(Damage d, size_t pos) const {
        const size_t left = src_.size - pos;
        const std::string index = std::to_string(info_.packets);
        if (d == Damage::kHeaderCut) {
            return src_.name + ": file ends mid-record at byte " + std::to_string(pos) + " (record " + index +
                   "): record header has " + std::to_string(left) + " of " +
                   std::to_string(layout_.header_bytes) + " bytes";
        }
        const PcapRecordHeader h = load_record_header(src_.data + pos, layout_);
        if (d == Damage::kPastEnd) {
            return src_.name + ": file ends mid-record at byte " + std::to_string(src_.size) + " (record " + index +
                   " at byte " + std::to_string(pos) + "): caplen " + std::to_string(h.caplen) + " but only " +
                   std::to_string(left - layout_.header_bytes) + " bytes left";
        }
        const std::string where = src_.name + ": record " + index + " at byte " + std::to_string(pos) + ": ";
        if (d == Damage::kUnreadable) {
            return where + "caplen " + std::to_string(h.caplen) + " exceeds the maximum " +
                   std::to_string(layout_.max_caplen) + " (corrupt record header)";
        }
        return where + implausible_header(h, layout_, prev_ns_) +
               " and the records after it do not chain (corrupt record header)";
    }

    void note_resync(const std::string& damage, size_t from) {
        ++resyncs_;
        if (resyncs_ == 1) {
            first_damage_ = damage + "; skipped " + std::to_string(pos_ - from) + " bytes to byte " +
                            std::to_string(pos_) + ", where records chain again";
        }
        info_.warning = first_damage_;
        if (resyncs_ > 1)
            info_.warning += " (" + std::to_string(resyncs_) + " damaged ranges, " +
                             std::to_string(skipped_bytes(info_.skipped)) + " bytes skipped in all)";
    }

    ByteSource src_;
    CaptureInfo info_;
    PcapRecordLayout layout_;
    size_t pos_ = kFileHeader;
    std::optional<int64_t> prev_ns_;
    size_t resyncs_ = 0;
    std::string first_damage_;
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
