#include "codec/linktype.h"

#include <pcap/pcap.h>

#include <cctype>

#include "codec/record.h"

namespace dgc {

std::string linktype_name(uint32_t linktype) {
    // The link types the codec models get the names operators know; the rest take
    // libpcap's registry name (it takes DLT values, which equal LINKTYPE values except
    // for the remapped ones named here), lower-cased.
    switch (linktype) {
        case 0: return "null";
        case 1: return "ethernet";
        case 12: case 14: case 101: return "raw";
        case 108: return "loop";
        case 113: return "linux-sll";
        case 228: return "ipv4";
        case 229: return "ipv6";
        case 276: return "linux-sll2";
        default: break;
    }
    const char* n = pcap_datalink_val_to_name(static_cast<int>(linktype));
    if (!n) return "linktype " + std::to_string(linktype);
    std::string s = n;
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool linktype_recognised(uint32_t linktype) {
    // LINKTYPE-only values (no same-numbered DLT) and the user-reserved range 147-162.
    if (linktype == 12 || linktype == 14 || (linktype >= 100 && linktype <= 103) || linktype == 228 ||
        linktype == 229 || (linktype >= 147 && linktype <= 162)) {
        return true;
    }
    return pcap_datalink_val_to_name(static_cast<int>(linktype)) != nullptr;
}

bool linktype_modelable(uint32_t linktype) {
    switch (static_cast<LinkType>(linktype)) {
        case LinkType::kNull:
        case LinkType::kEthernet:
        case LinkType::kRaw:
        case LinkType::kLoop:
        case LinkType::kLinuxSll:
        case LinkType::kIpv4:
        case LinkType::kIpv6:
        case LinkType::kLinuxSll2:
            return true;
    }
    return linktype == 12 || linktype == 14;  // DLT_RAW on some platforms
}

}  // namespace dgc
