// pcapng, read natively rather than through libpcap: libpcap 1.10 refuses sections whose
// interfaces have different link types, and the spec wants every interface. Sections
// (SHB), interfaces (IDB) with their own link type and if_tsresol/if_tsoffset, and the
// three packet blocks (EPB, SPB, obsolete PB); every other block is skipped.
#include "codec/byte_order.h"
#include "codec/capture_source.h"
#include "codec/frame_parse.h"
#include "codec/linktype.h"
#include "codec/timestamp.h"

#include <algorithm>
#include <vector>

namespace dgc {
namespace {

constexpr uint32_t kByteOrderMagic = 0x1a2b3c4d;
constexpr uint32_t kIdb = 1, kObsoletePb = 2, kSpb = 3, kEpb = 6;
constexpr uint16_t kOptEnd = 0, kOptTsresol = 9, kOptTsoffset = 14;

struct Interface {
    uint32_t linktype = 0;
    uint32_t snaplen = 0;
    TsResolution res;
    int64_t offset_sec = 0;
};

std::string block_name(uint32_t type) {
    switch (type) {
        case kPcapngShbType: return "SHB";
        case kIdb: return "IDB";
        case kObsoletePb: return "PB";
        case kSpb: return "SPB";
        case kEpb: return "EPB";
        default: return "block type " + std::to_string(type);
    }
}

class PcapngReader final : public CaptureReader {
public:
    explicit PcapngReader(ByteSource src) : src_(std::move(src)) {
        info_.path = src_.name;
        info_.format = "pcapng";
        info_.nanosecond = false;
        info_.modelable = true;
    }

    const CaptureInfo& info() const override { return info_; }

    // Reads blocks up to the first packet so that open() already rejects a bad
    // section header or interface.
    Status prime() {
        auto r = advance_to_packet();
        if (!r.ok()) return r.status();
        return Status::ok();
    }

    // pcapng is not resynchronised: damage ends the records, and the rest is reported skipped.
    Result<bool> next(PacketRecord& out) override {
        src_.release_before(pos_);
        auto r = advance_to_packet();
        if (r.ok() && *r) r = emit_packet(out);
        if (!r.ok() && info_.skipped.empty()) info_.skipped.push_back({pos_, src_.size});
        return r;
    }

private:
    std::string at(size_t pos) const {
        return src_.name + ": " + block_name(cur_type_) + " at byte " + std::to_string(pos);
    }

    // Positions pos_ on the next packet block (true) or the clean end (false).
    Result<bool> advance_to_packet() {
        while (true) {
            if (pos_ == src_.size) {
                finish();
                return false;
            }
            auto hdr = read_block_header();
            if (!hdr.ok()) return hdr.status();
            if (cur_type_ == kEpb || cur_type_ == kSpb || cur_type_ == kObsoletePb) return true;
            Status s = Status::ok();
            if (cur_type_ == kPcapngShbType) {
                s = read_shb();
            } else if (cur_type_ == kIdb) {
                s = read_idb();
            }
            if (!s.is_ok()) return s;
            pos_ += cur_len_;
        }
    }

    void finish() {
        if (info_.interfaces.empty()) info_.modelable = false;
    }

    // Type and total length of the block at pos_, both length fields checked.
    Result<bool> read_block_header() {
        const size_t left = src_.size - pos_;
        const uint8_t* b = src_.data + pos_;
        if (left < 8) {
            return Status::corrupt(src_.name + ": file ends mid-block at byte " + std::to_string(src_.size) +
                                   " (block at byte " + std::to_string(pos_) + ", record " +
                                   std::to_string(info_.packets) + "): " + std::to_string(left) +
                                   " bytes, a block header needs 8");
        }
        cur_type_ = load32(b, be_);
        if (cur_type_ == kPcapngShbType) {
            // A new section may switch byte order; its magic says which.
            if (left < 12) return Status::corrupt(at(pos_) + ": section header cut short");
            const uint32_t bom = load_le32(b + 8);
            if (bom == kByteOrderMagic) {
                be_ = false;
            } else if (bom == __builtin_bswap32(kByteOrderMagic)) {
                be_ = true;
            } else {
                return Status::corrupt(at(pos_) + ": bad byte-order magic 0x" + to_hex(bom));
            }
        } else if (!seen_shb_) {
            return Status::corrupt(src_.name + ": first block at byte 0 is not a section header");
        }
        const uint32_t len = load32(b + 4, be_);
        if (len < 12 || len % 4 != 0) {
            return Status::corrupt(at(pos_) + " (record " + std::to_string(info_.packets) +
                                   "): invalid block length " + std::to_string(len));
        }
        if (len > left) {
            return Status::corrupt(src_.name + ": file ends mid-block at byte " + std::to_string(src_.size) +
                                   " (" + block_name(cur_type_) + " at byte " + std::to_string(pos_) +
                                   ", record " + std::to_string(info_.packets) + "): block length " +
                                   std::to_string(len) + " but only " + std::to_string(left) + " bytes left");
        }
        const uint32_t trailer = load32(b + len - 4, be_);
        if (trailer != len) {
            return Status::corrupt(at(pos_) + " (record " + std::to_string(info_.packets) + "): trailing length " +
                                   std::to_string(trailer) + " differs from leading length " +
                                   std::to_string(len));
        }
        cur_len_ = len;
        return true;
    }

    static std::string to_hex(uint32_t v) {
        static const char* d = "0123456789abcdef";
        std::string s(8, '0');
        for (int i = 7; i >= 0; --i, v >>= 4) s[i] = d[v & 15];
        return s;
    }

    // Options from `off` to the end of the block body; calls f(code, value, len) for each.
    template <typename F>
    Status walk_options(size_t off, F&& f) {
        const uint8_t* b = src_.data + pos_;
        const size_t end = cur_len_ - 4;
        while (off + 4 <= end) {
            const uint16_t code = load16(b + off, be_);
            const uint16_t olen = load16(b + off + 2, be_);
            if (code == kOptEnd) break;
            const size_t padded = (olen + 3u) & ~size_t{3};
            if (off + 4 + padded > end) {
                return Status::corrupt(at(pos_) + ": option " + std::to_string(code) + " of length " +
                                       std::to_string(olen) + " at byte " + std::to_string(pos_ + off) +
                                       " runs past the block end");
            }
            Status s = f(code, b + off + 4, olen);
            if (!s.is_ok()) return s;
            off += 4 + padded;
        }
        return Status::ok();
    }

    Status read_shb() {
        if (cur_len_ < 28) return Status::corrupt(at(pos_) + ": section header block length " + std::to_string(cur_len_) + " < 28");
        const uint8_t* b = src_.data + pos_;
        const uint16_t vmaj = load16(b + 12, be_);
        const uint16_t vmin = load16(b + 14, be_);
        // 1.2 was written by early tools for what is 1.0; libpcap reads both.
        if (!(vmaj == 1 && (vmin == 0 || vmin == 2))) {
            return Status::unsupported(at(pos_) + ": unsupported pcapng version " + std::to_string(vmaj) + "." +
                                       std::to_string(vmin) + " at byte " + std::to_string(pos_ + 12) +
                                       " (expected 1.0)");
        }
        Status s = walk_options(24, [](uint16_t, const uint8_t*, uint16_t) { return Status::ok(); });
        if (!s.is_ok()) return s;
        seen_shb_ = true;
        section_base_ = ifaces_.size();  // interface ids restart in every section
        return Status::ok();
    }

    Status read_idb() {
        if (cur_len_ < 20) return Status::corrupt(at(pos_) + ": interface block length " + std::to_string(cur_len_) + " < 20");
        const uint8_t* b = src_.data + pos_;
        Interface ifc;
        const uint32_t raw_lt = load16(b + 8, be_);
        ifc.snaplen = load32(b + 12, be_);
        if (!linktype_recognised(raw_lt)) {
            return Status::unsupported(at(pos_) + ": unknown link type " + std::to_string(raw_lt) +
                                       " (interface " + std::to_string(ifaces_.size() - section_base_) + ")");
        }
        ifc.linktype = normalize_linktype(raw_lt);
        Status s = walk_options(16, [&](uint16_t code, const uint8_t* v, uint16_t len) {
            if (code == kOptTsresol && len >= 1) {
                auto r = decode_tsresol(v[0]);
                if (!r) {
                    return Status::unsupported(at(pos_) + ": if_tsresol 0x" + to_hex(v[0]).substr(6) +
                                               " is finer than a 64-bit counter can hold");
                }
                ifc.res = *r;
            } else if (code == kOptTsoffset && len >= 8) {
                ifc.offset_sec = static_cast<int64_t>(load64(v, be_));
            }
            return Status::ok();
        });
        if (!s.is_ok()) return s;
        ifaces_.push_back(ifc);
        info_.interfaces.push_back({ifc.linktype, ifc.snaplen, ticks_per_second(ifc.res)});
        if (info_.interfaces.size() == 1) {
            info_.linktype = ifc.linktype;
            info_.snaplen = ifc.snaplen;
        }
        if (!linktype_modelable(ifc.linktype)) info_.modelable = false;
        return Status::ok();
    }

    Result<bool> emit_packet(PacketRecord& out) {
        const uint8_t* b = src_.data + pos_;
        const size_t body = cur_len_ - 12;  // between the length fields
        uint32_t if_id = 0, caplen = 0, wirelen = 0;
        uint64_t ticks = 0;
        size_t data_off = 0;
        bool has_ts = true;
        if (cur_type_ == kEpb || cur_type_ == kObsoletePb) {
            if (body < 20) return Status::corrupt(at(pos_) + ": packet block length " + std::to_string(cur_len_) + " too short");
            if (cur_type_ == kEpb) {
                if_id = load32(b + 8, be_);
            } else {
                if_id = load16(b + 8, be_);
            }
            ticks = (static_cast<uint64_t>(load32(b + 12, be_)) << 32) | load32(b + 16, be_);
            caplen = load32(b + 20, be_);
            wirelen = load32(b + 24, be_);
            data_off = 28;
            if (caplen > body - 20) {
                return Status::corrupt(at(pos_) + " (record " + std::to_string(info_.packets) + "): caplen " +
                                       std::to_string(caplen) + " exceeds the block's " +
                                       std::to_string(body - 20) + " data bytes");
            }
        } else {  // SPB: interface 0, no timestamp, caplen from the block length
            if (body < 4) return Status::corrupt(at(pos_) + ": simple packet block too short");
            wirelen = load32(b + 8, be_);
            data_off = 12;
            has_ts = false;
            caplen = static_cast<uint32_t>(std::min<size_t>(wirelen, body - 4));
        }
        if (if_id >= ifaces_.size() - section_base_) {
            return Status::corrupt(at(pos_) + " (record " + std::to_string(info_.packets) + "): interface id " +
                                   std::to_string(if_id) + " but the section declares " +
                                   std::to_string(ifaces_.size() - section_base_) + " interfaces");
        }
        const Interface& ifc = ifaces_[section_base_ + if_id];
        if (cur_type_ == kSpb && ifc.snaplen != 0) caplen = std::min(caplen, ifc.snaplen);
        const int64_t t = has_ts ? pcapng_ts_to_ns(ticks, ifc.res, ifc.offset_sec) : 0;
        account_frame(info_, ifc.linktype, t, b + data_off, caplen, wirelen, out);
        pos_ += cur_len_;
        return true;
    }

    ByteSource src_;
    CaptureInfo info_;
    std::vector<Interface> ifaces_;
    size_t section_base_ = 0;
    size_t pos_ = 0;
    uint32_t cur_type_ = 0;
    uint32_t cur_len_ = 0;
    bool be_ = false;
    bool seen_shb_ = false;
};

}  // namespace

Result<std::unique_ptr<CaptureReader>> open_pcapng(ByteSource src) {
    auto r = std::make_unique<PcapngReader>(std::move(src));
    Status s = r->prime();
    if (!s.is_ok()) return s;
    return std::unique_ptr<CaptureReader>(std::move(r));
}

}  // namespace dgc
