#include "codec/linktype.h"

#include <pcap/pcap.h>

#include "codec/record.h"

namespace dgc {

std::string linktype_name(uint32_t linktype) {
    // libpcap knows the names of every registered DLT; it takes DLT values, which
    // equal LINKTYPE values except for the few remapped ones handled first.
    switch (linktype) {
        case 101: return "raw";
        case 228: return "ipv4";
        case 229: return "ipv6";
        default: break;
    }
    const char* n = pcap_datalink_val_to_name(static_cast<int>(linktype));
    if (n) return n;
    return "linktype " + std::to_string(linktype);
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
