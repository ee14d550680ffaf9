#include "codec/capture_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "codec/byte_order.h"
#include "codec/capture_source.h"
#include "codec/frame_parse.h"
#include "codec/log.h"

namespace dgc {
namespace {

// Files are mapped, not read: a multi-GB capture costs no heap and parsing runs at
// memory speed. Non-regular files (pipes, /dev/stdin) are read into a buffer instead.
Result<ByteSource> load_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        const std::string m = path + ": cannot open: " + std::strerror(e);
        return e == ENOENT ? Status::not_found(m) : Status::io(m);
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        ::close(fd);
        return Status::io(path + ": cannot stat: " + std::strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        ::close(fd);
        return Status::invalid(path + ": is a directory, not a capture file");
    }
    ByteSource src;
    src.name = path;
    if (S_ISREG(st.st_mode) && st.st_size > 0) {
        const size_t size = static_cast<size_t>(st.st_size);
        void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
        ::close(fd);
        if (m == MAP_FAILED) return Status::io(path + ": cannot map: " + std::strerror(errno));
        ::madvise(m, size, MADV_SEQUENTIAL);
        src.data = static_cast<const uint8_t*>(m);
        src.size = size;
        src.owner = std::shared_ptr<const void>(m, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
        src.mapped = true;
        return src;
    }
    auto buf = std::make_shared<std::string>();
    char chunk[65536];
    while (true) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int e = errno;
            ::close(fd);
            return Status::io(path + ": read failed: " + std::strerror(e));
        }
        if (n == 0) break;
        buf->append(chunk, static_cast<size_t>(n));
    }
    ::close(fd);
    src.data = reinterpret_cast<const uint8_t*>(buf->data());
    src.size = buf->size();
    src.owner = std::move(buf);
    return src;
}

bool looks_like_text(const uint8_t* p, size_t n) {
    n = std::min<size_t>(n, 64);
    for (size_t i = 0; i < n; ++i) {
        const uint8_t c = p[i];
        if (!(c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7f))) return false;
    }
    return n > 0;
}

Result<std::unique_ptr<CaptureReader>> open_source(ByteSource src) {
    if (src.size == 0) return Status::invalid(src.name + ": empty file (0 bytes), not a capture");
    if (src.size < 4) {
        return Status::invalid(src.name + ": " + std::to_string(src.size) +
                               " bytes, too short for any capture file header");
    }
    const uint32_t magic = load_le32(src.data);
    if (is_classic_pcap_magic(magic)) return open_classic_pcap(std::move(src));
    if (magic == kPcapngShbType) return open_pcapng(std::move(src));
    char hex[16];
    std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", src.data[0], src.data[1], src.data[2], src.data[3]);
    std::string why = src.name + ": not a pcap or pcapng file: unknown magic " + hex + " at byte 0";
    if (looks_like_text(src.data, src.size)) why += " (the file is text)";
    return Status::invalid(why);
}

}  // namespace

void ByteSource::release_before(size_t offset) {
    constexpr size_t kWindow = 16 << 20;
    if (!mapped || offset < released + kWindow) return;
    const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    const size_t end = std::min(offset, size) / page * page;
    ::madvise(const_cast<uint8_t*>(data) + released, end - released, MADV_DONTNEED);
    released = end;
}

void account_frame(CaptureInfo& info, uint32_t linktype, int64_t t_ns, const uint8_t* frame, uint32_t caplen,
                   uint32_t wirelen, PacketRecord& out) {
    out = PacketRecord{};
    out.t_ns = t_ns;
    out.caplen = caplen;
    out.wirelen = wirelen;
    out.linktype = static_cast<uint16_t>(linktype);
    parse_frame(linktype, frame, caplen, out);
    if (info.packets == 0) {
        info.first_ns = info.last_ns = t_ns;
    } else {
        info.first_ns = std::min(info.first_ns, t_ns);
        info.last_ns = std::max(info.last_ns, t_ns);
    }
    ++info.packets;
    if (out.is_ip()) {
        ++info.ip_packets;
    } else {
        ++info.nonip_packets;
    }
    if (out.present & kTruncated) ++info.truncated_packets;
}

Result<std::unique_ptr<CaptureReader>> CaptureReader::open(const std::string& path) {
    auto src = load_file(path);
    if (!src.ok()) return src.status();
    return open_source(std::move(src).value());
}

Result<std::unique_ptr<CaptureReader>> CaptureReader::open_memory(const std::string& name, std::string bytes) {
    auto buf = std::make_shared<std::string>(std::move(bytes));
    ByteSource src;
    src.name = name;
    src.data = reinterpret_cast<const uint8_t*>(buf->data());
    src.size = buf->size();
    src.owner = std::move(buf);
    return open_source(std::move(src));
}

namespace {
Result<CaptureInfo> drain(Result<std::unique_ptr<CaptureReader>> opened,
                          const std::function<void(const PacketRecord&)>& each) {
    if (!opened.ok()) return opened.status();
    CaptureReader& r = **opened;
    PacketRecord rec;
    while (true) {
        auto more = r.next(rec);
        if (!more.ok()) {
            CaptureInfo info = r.info();
            // Damage resynchronised past earlier has its own words already.
            const std::string& tail = more.status().message();
            info.warning = info.warning.empty() ? tail : info.warning + "; " + tail;
            logger("codec")->debug("{}", info.warning);
            return info;
        }
        if (!*more) break;
        each(rec);
    }
    return r.info();
}

Result<Capture> collect(Result<std::unique_ptr<CaptureReader>> opened) {
    Capture cap;
    auto info = drain(std::move(opened), [&](const PacketRecord& r) { cap.records.push_back(r); });
    if (!info) return info.status();
    cap.info = std::move(info.value());
    return cap;
}
}  // namespace

Result<Capture> read_capture(const std::string& path) { return collect(CaptureReader::open(path)); }

Result<Capture> read_capture_memory(const std::string& name, std::string bytes) {
    return collect(CaptureReader::open_memory(name, std::move(bytes)));
}

Result<CaptureInfo> scan_capture(const std::string& path, const std::function<void(const PacketRecord&)>& each) {
    return drain(CaptureReader::open(path), each);
}

}  // namespace dgc
